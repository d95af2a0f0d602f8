#!/bin/sh
# The whole test suite: install what is needed, build, run make check.
# SANITIZERS=1 builds everything with ASan + UBSan first.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
if [ "${SANITIZERS:-0}" = 1 ]; then
  BUILD_DIR=_build-sanitizers sh scripts/build.sh --enable-sanitizers
  cd _build-sanitizers
else
  sh scripts/build.sh
  cd _build
fi
make -s check -j"$(nproc)" || { cat test-suite.log; exit 1; }
grep -h "^# \(TOTAL\|PASS\|FAIL\|SKIP\|ERROR\)" test-suite.log || true
