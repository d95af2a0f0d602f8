#!/bin/sh
# Builds the libFuzzer harnesses of tests/fuzz/ into _fuzz/ and runs them.
#
#   sh scripts/fuzz.sh [SECONDS | -runs=N] [HARNESS...]
#
# SECONDS (default 60) is the time per harness; -runs=N runs N inputs per harness
# instead.  HARNESS is frontend, csv, json or fits (default: all four).
# FUZZ_JOBS=2 runs two harnesses at a time (default 1).  Each harness keeps its
# growing corpus in _fuzz/corpus/NAME (seeded from tests/fuzz/corpus/NAME) and
# stops at its first crash, hang (-timeout=10) or out-of-memory, which is saved
# under _fuzz/crashes/; its log is _fuzz/logs/NAME.log.  Every run is appended to
# _fuzz/history.tsv.  Exit status 1 if a harness found something.
#
# Reproduce a crash:       _fuzz/fuzz_NAME _fuzz/crashes/NAME-crash-...
# Minimise it:             _fuzz/fuzz_NAME -minimize_crash=1 -runs=10000 \
#                            -exact_artifact_path=OUT _fuzz/crashes/NAME-crash-...
# then add OUT to tests/fuzz/regressions/NAME/ (replayed by make check).
# Whether accepted models compile: sh scripts/fuzz-check-c.sh.  See docs/reliability.md.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

limit="-max_total_time=60"
case "${1:-}" in
  -runs=*) limit=$1; shift ;;
  ''|*[!0-9]*) ;;
  *) limit="-max_total_time=$1"; shift ;;
esac
harnesses=${*:-frontend csv json fits}
for h in $harnesses; do
  case $h in frontend|csv|json|fits) ;; *) echo "fuzz.sh: unknown harness '$h'" >&2; exit 2 ;; esac
done
jobs=${FUZZ_JOBS:-1}

# ---- the compiler: clang with libFuzzer (Debian: clang, libclang-rt-14-dev) ----
sh scripts/install-deps.sh
missing=
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
CLANG=${CLANG:-clang}
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

# ---- build ----
F=_fuzz
mkdir -p $F/grammar $F/crashes $F/logs $F/corpus
FLAGS="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1 -std=c11 -D_XOPEN_SOURCE=700 -Iruntime"
RUNTIME="runtime/error.c runtime/json.c runtime/io.c runtime/spec.c"
FRONTEND="src/util.c src/diag.c src/ast.c src/parse.c src/sema.c src/ir.c src/plan.c src/kernel.c src/deriv.c src/emit.c runtime/spec.c runtime/error.c"

stale() {   # stale TARGET SOURCE...: TARGET is missing or older than a source
  t=$1; shift
  [ -e "$t" ] || return 0
  for s in "$@"; do [ "$s" -nt "$t" ] && return 0; done
  return 1
}
if stale $F/grammar/parser.c grammar/parser.y; then
  bison -Wall -Werror --defines=$F/grammar/parser.h -o $F/grammar/parser.c grammar/parser.y
fi
if stale $F/grammar/lexer.c grammar/lexer.l $F/grammar/parser.h; then
  flex --header-file=$F/grammar/lexer.h -o $F/grammar/lexer.c grammar/lexer.l
fi
build() {   # build NAME SOURCE... -- LIBS
  name=$1; shift
  srcs=
  while [ "$1" != -- ]; do srcs="$srcs $1"; shift; done
  shift
  # shellcheck disable=SC2086
  if stale $F/fuzz_$name $srcs src/*.h runtime/*.h scripts/fuzz.sh; then
    echo "building $F/fuzz_$name"
    $CLANG $FLAGS -I$F/grammar -Isrc -o $F/fuzz_$name $srcs "$@"
  fi
}
build frontend tests/fuzz/fuzz_frontend.c $FRONTEND $F/grammar/parser.c $F/grammar/lexer.c -- -lm
build csv tests/fuzz/fuzz_csv.c $RUNTIME -- -lcfitsio -lz -lm
build json tests/fuzz/fuzz_json.c $RUNTIME -- -lcfitsio -lz -lm
build fits tests/fuzz/fuzz_fits.c $RUNTIME -- -lcfitsio -lz -lm

# ---- run ----
max_len() {
  case $1 in fits) echo 24000 ;; *) echo 4096 ;; esac
}
run() {   # run NAME: fuzzes, then prints one summary line
  h=$1
  mkdir -p $F/corpus/$h
  dict=
  [ -f tests/fuzz/$h.dict ] && dict=-dict=tests/fuzz/$h.dict
  # cfitsio callocs sizes read from headers and copes with NULL; ASan would abort first
  asan=${ASAN_OPTIONS:-}
  [ $h = fits ] && asan="allocator_may_return_null=1${asan:+:$asan}"
  start=$(date +%s)
  rc=0
  # shellcheck disable=SC2086
  ASAN_OPTIONS=$asan $F/fuzz_$h $F/corpus/$h tests/fuzz/corpus/$h $limit $dict -max_len="$(max_len $h)" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$F/crashes/$h- > $F/logs/$h.log 2>&1 || rc=$?
  secs=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' $F/logs/$h.log | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' $F/logs/$h.log | tail -n 1)
  [ -n "$runs" ] || runs=0
  if [ $rc = 0 ]; then
    result=ok
  else
    art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' $F/logs/$h.log | tail -n 1)
    result="FOUND ${art:-something, see $F/logs/$h.log}"
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$h" "$runs" "$secs" "$result" >> $F/history.tsv
  printf '%-9s %12s executions in %5ss  %s\n' "$h" "$runs" "$secs" "$result" > $F/logs/$h.summary
  [ $rc = 0 ]
}

status=0
running=0
pids=
for h in $harnesses; do
  run "$h" &
  pids="$pids $!"
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then
    for p in $pids; do wait "$p" || status=1; done
    pids=
    running=0
  fi
done
for p in $pids; do wait "$p" || status=1; done
echo "harness     executions       time  result"
for h in $harnesses; do cat $F/logs/$h.summary; done
exit $status
