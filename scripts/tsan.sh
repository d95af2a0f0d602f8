#!/bin/sh
# ThreadSanitizer over the code that runs in threads, built into _tsan/ (runtime and test
# with -fsanitize=thread; the C of models/gd1.dens from the normal build's densc):
# - tests/e2e/test_threads: GD-1 evaluated from two threads, each with its own work;
# - GD-1's program sampling two chains in two threads (short chains), each chain's data sum
#   on two more threads, and eval with the data sum on two threads.
# No data race may be reported.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/build.sh
mkdir -p _tsan
_build/densc --print-c --no-line-directives models/gd1.dens > _tsan/gd1_gen.c
runtime=$(ls runtime/*.c)
CFLAGS="-std=c11 -D_XOPEN_SOURCE=700 -g -O1 -fsanitize=thread -pthread -Iruntime"
LIBS="$(pkg-config --libs gsl cfitsio zlib plplot) -llbfgsb -lgfortran -lm"
cc $CFLAGS -DSRCDIR="\"$top\"" -DGENERATED_C="\"$top/_tsan/gd1_gen.c\"" \
  $(pkg-config --cflags gsl cfitsio zlib plplot check) tests/e2e/test_threads.c $runtime \
  $(pkg-config --libs check) $LIBS -o _tsan/test_threads
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" CK_FORK=no ./_tsan/test_threads
cc $CFLAGS $(pkg-config --cflags gsl cfitsio zlib plplot) _tsan/gd1_gen.c $runtime $LIBS -o _tsan/gd1
rc=0
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" ./_tsan/gd1 sample --quiet \
  --data data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 --column phi2=gd1_phi2 --where 'phi2 > -7' \
  --outside keep --init models/gd1-init.json --chains 2 --threads 2 --data-threads 2 --warmup 20 --draws 10 \
  --seed 1 --out _tsan/gd1 > /dev/null 2>&1 || rc=$?
# 0, or 1 for the diagnostics of so short chains; 66 is a race
if [ "$rc" -gt 1 ]; then
  echo "tsan: sampling in threads failed (exit $rc)" >&2
  exit 1
fi
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" ./_tsan/gd1 eval --quiet \
  --data data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 --column phi2=gd1_phi2 --where 'phi2 > -7' \
  --outside keep --params models/gd1-init.json --threads 2 --repeat 50 > /dev/null
echo "tsan: 3 passed, 0 failed"
