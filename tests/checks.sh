# tests/checks.sh — sourced by shell tests after setup.sh: counted checks.
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
# check NAME 'CONDITION': counts the test (the condition is evaluated); shows stderr on failure
check() {
  if eval "$2"; then ok; else bad "$1"; sed 's/^/    /' "$TMPD/err" 2>/dev/null || true; fi
}
