#!/bin/sh
# tests/man.sh — the manual pages built from --help (man/densc.1, man/densc-program.1)
# exist, are manual pages, and are current: every option and command that the
# programs' --help lists appears in them.
. "$top_srcdir/tests/setup.sh"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
# plain text of a page: roff's escaped minus and font changes removed
text() { sed 2>/dev/null -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\[,/]//g' "$1"; }
# the option and command words of a --help text
words() {
  grep -o -e '--[a-z][a-z-]*' -e '^  -[a-z]' "$1" | sed 's/^ *//' | sort -u
  sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' "$1"
}
check_page() {   # check_page PAGE PROGRAM
  page=$top_builddir/man/$1
  if [ ! -s "$page" ]; then bad "$page is missing or empty"; return; fi
  ok
  if grep -q '^\.TH ' "$page" && grep -q '^\.SH NAME' "$page"; then ok; else bad "$page: no .TH or NAME"; fi
  "$2" --help > "$TMPD/help"
  text "$page" > "$TMPD/page"
  n=0
  missing=
  for w in $(words "$TMPD/help"); do
    n=$((n + 1))
    grep -q -e "$w" "$TMPD/page" || missing="$missing $w"
  done
  if [ -n "$missing" ]; then bad "$page lacks$missing of $2 --help (stale page?)"
  elif [ $n -lt 5 ]; then bad "$2 --help: only $n options found"
  else ok; fi
}
check_page densc.1 "$DENSC"
check_page densc-program.1 "$top_builddir/man/densc-program"
for c in info eval optimize diagnose benchmark plot; do
  if text "$top_builddir/man/densc-program.1" | grep -q "^$c\b"; then ok; else bad "densc-program.1: no command '$c'"; fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
