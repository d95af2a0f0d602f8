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
# The tests skipped (without ../shared: "SKIP: test: why" from tests/shared.h; a whole
# test program that exited 77), then one closing line over every individual check of
# every suite (Check and shell tests); a test program that failed before it counted its
# checks (a crash, exit 99) counts as one failed check.
find tests -name '*.log' | sort | xargs cat /dev/null | awk '
  function done_program() {
    if (prog != "" && !counted && (res == "FAIL" || res == "ERROR")) fail++
    if (res == "SKIP") { print "SKIP: " prog " (the whole test program)"; skip++ }
    prog = ""; counted = 0; res = ""
  }
  /Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
    line = $0; sub(/.*Checks: /, "", line); split(line, a, /, Failures: |, Errors: /);
    pass += a[1] - a[2] - a[3]; fail += a[2] + a[3]; counted = 1 }
  /^[0-9]+ passed, [0-9]+ failed$/ { pass += $1; fail += $3; counted = 1 }
  /^SKIP: / { print; skip++ }
  # the last line of each log, from the test driver: RESULT NAME (exit status: N)
  /^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS) [^ ]+ \(exit status: [0-9]+\)$/ { res = $1; prog = $2; done_program() }
  END {
    if (skip) printf "skipped: %d (see the SKIP lines above)\n", skip
    printf "checks: %d passed, %d failed\n", pass, fail }'
exit $status
