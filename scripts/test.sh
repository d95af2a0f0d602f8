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
status=0
make -s check -j"$(nproc)" || status=$?
[ $status = 0 ] || cat test-suite.log
grep -h "^# \(TOTAL\|PASS\|FAIL\|SKIP\|ERROR\)" test-suite.log || true
# One closing line over every individual check of every suite (Check and snapshot tests).
find tests -name '*.log' -exec cat {} + | awk '
  /Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
    sub(/.*Checks: /, ""); split($0, a, /, Failures: |, Errors: /);
    pass += a[1] - a[2] - a[3]; fail += a[2] + a[3] }
  /^[0-9]+ passed, [0-9]+ failed$/ { pass += $1; fail += $3 }
  END { printf "checks: %d passed, %d failed\n", pass, fail }'
exit $status
