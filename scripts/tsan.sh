#!/bin/sh
# tests/e2e/test_threads — GD-1's generated code evaluated from two threads, each with its
# own work — built with ThreadSanitizer (runtime and test; the C of models/gd1.dens from
# the normal build's densc) into _tsan/: no data race may be reported.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/build.sh
mkdir -p _tsan
_build/densc --print-c --no-line-directives models/gd1.dens > _tsan/gd1_gen.c
cc -std=c11 -D_XOPEN_SOURCE=700 -g -O1 -fsanitize=thread -pthread -Iruntime \
  -DSRCDIR="\"$top\"" -DGENERATED_C="\"$top/_tsan/gd1_gen.c\"" \
  $(pkg-config --cflags gsl cfitsio zlib libpng check) \
  tests/e2e/test_threads.c runtime/error.c runtime/json.c runtime/io.c runtime/spline.c runtime/quad.c \
  runtime/lbfgsb.c runtime/spec.c runtime/model.c runtime/fit.c runtime/plot.c runtime/cli.c \
  $(pkg-config --libs gsl cfitsio zlib libpng check) -llbfgsb -lgfortran -lm -o _tsan/test_threads
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" CK_FORK=no ./_tsan/test_threads
echo "tsan: 1 passed, 0 failed"
