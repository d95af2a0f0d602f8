#!/bin/sh
# tests/driver.sh — the LOG_DRIVER of make check: Automake's test-driver, then one more
# result per test skipped inside a test program, so that make check shows and counts
# them: each "SKIP: <test>: why" line of the program's log (tests/shared.h) becomes a
# console line and a SKIP in the summary.
#   driver.sh TEST-DRIVER [TEST-DRIVER OPTIONS] -- TEST [ARGS]
driver=$1
shift
log= trs= name= color=no prev=
for a in "$@"; do
  case $prev in
    --log-file) log=$a ;;
    --trs-file) trs=$a ;;
    --test-name) name=$a ;;
    --color-tests) color=$a ;;
  esac
  [ "$a" = -- ] && break
  prev=$a
done
rc=0
${SHELL:-/bin/sh} "$driver" "$@" || rc=$?
if [ -f "$log" ] && [ -f "$trs" ] && grep -q '^SKIP: ' "$log"; then
  blu= std=
  if [ "$color" = yes ]; then blu='\033[1;34m' std='\033[m'; fi
  grep '^SKIP: ' "$log" | while IFS= read -r line; do
    printf "${blu}SKIP${std}: %s: %s\n" "$name" "${line#SKIP: }"
    echo ":test-result: SKIP" >> "$trs"
  done
fi
exit $rc
