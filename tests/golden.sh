#!/bin/sh
# tests/golden.sh — snapshot tests of the compiler's output.
#   models/*.dens, tests/golden/*.dens -> tests/golden/NAME.c (--print-c), NAME.ir (--debug-ir),
#                                         NAME.plan (--debug-plan), NAME.kernels (--debug-kernels)
#                                         and NAME.grad (--debug-grad): one snapshot per stage
#   tests/bad/*.dens                   -> tests/bad/NAME.expected (diagnostics and exit status)
# Refresh after an intended change with:  make update-golden   (then review git diff)
. "$top_srcdir/tests/setup.sh"
cd "$top_srcdir"
fail=0
n=0
check() {   # check EXPECTED-FILE COMMAND...
  expected=$1; shift
  "$@" > "$TMPD/out" 2>&1 && rc=0 || rc=$?
  echo "[exit $rc]" >> "$TMPD/out"
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
    cp "$TMPD/out" "$expected"
  elif ! diff -u "$expected" "$TMPD/out"; then
    echo "FAIL: $* (expected $expected)"
    fail=$((fail + 1))
  fi
  n=$((n + 1))
}
for m in models/*.dens tests/golden/*.dens; do
  name=$(basename "$m" .dens)
  check "tests/golden/$name.c" "$DENSC" --print-c --snapshot-version "$m"
  check "tests/golden/$name.ir" "$DENSC" --debug-ir "$m"
  check "tests/golden/$name.plan" "$DENSC" --debug-plan "$m"
  check "tests/golden/$name.kernels" "$DENSC" --debug-kernels "$m"
  check "tests/golden/$name.grad" "$DENSC" --debug-grad "$m"
done
for m in tests/bad/*.dens; do
  check "tests/bad/$(basename "$m" .dens).expected" "$DENSC" --check "$m"
done
# the counts also on failure: scripts/test.sh adds them up
echo "$((n - fail)) passed, $fail failed"
[ $fail = 0 ]
