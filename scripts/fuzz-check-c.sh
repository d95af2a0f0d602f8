#!/bin/sh
# Accepted models' C must compile: runs densc --print-c on every .dens input of the
# fuzz corpora and compiles what it emits with cc -std=c11 -fsyntax-only.
#
#   sh scripts/fuzz-check-c.sh [FILE-OR-DIR...]
#
# Default inputs: tests/fuzz/corpus/frontend, tests/fuzz/regressions/frontend and
# the fuzzer's grown corpus _fuzz/corpus/frontend (if present).  DENSC is the
# compiler to test (default: _build/densc); CC the C
# compiler (default cc).  A model densc rejects (exit 1) is skipped; a densc crash
# or C that does not compile is a bug: the model, the C and the compiler's
# messages are kept in _fuzz/check-c/failures/.  Exit status 1 if any failed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
DENSC=${DENSC:-_build/densc}
[ -x "$DENSC" ] || { echo "fuzz-check-c.sh: no densc at $DENSC (set DENSC)" >&2; exit 2; }
CC=${CC:-cc}
export DENSC CC top
[ $# -gt 0 ] || set -- tests/fuzz/corpus/frontend tests/fuzz/regressions/frontend _fuzz/corpus/frontend
out=_fuzz/check-c
rm -rf $out
mkdir -p $out/failures $out/results

# one model -> one line in results/: "rejected", "ok" or "FAIL <why>"
cat > $out/one.sh <<'EOF'
f=$1
key=$(printf '%s' "$f" | cksum | cut -d' ' -f1)
res=$top/_fuzz/check-c/results/$key
tmp=$top/_fuzz/check-c/tmp-$key
mkdir -p "$tmp"
if ! cp "$f" "$tmp/model.dens" 2>/dev/null; then
  echo vanished > "$res"    # a running fuzzer replaced it with a smaller input
  rm -rf "$tmp"
  exit 0
fi
rc=0
timeout 20 "$DENSC" --print-c "$tmp/model.dens" > "$tmp/model.c" 2> "$tmp/densc.err" || rc=$?
if [ $rc = 1 ]; then
  echo rejected > "$res"
elif [ $rc != 0 ]; then
  echo "FAIL densc exit $rc: $f" > "$res"
elif ! "$CC" -std=c11 -fsyntax-only -I"$top/runtime" "$tmp/model.c" > "$tmp/cc.err" 2>&1; then
  echo "FAIL C does not compile: $f" > "$res"
else
  echo ok > "$res"
fi
if grep -q FAIL "$res"; then
  mkdir -p "$top/_fuzz/check-c/failures/$key"
  cp "$tmp"/* "$top/_fuzz/check-c/failures/$key/"
  echo "$f" > "$top/_fuzz/check-c/failures/$key/source"
fi
rm -rf "$tmp"
EOF

for a in "$@"; do
  if [ -d "$a" ]; then find "$a" -type f ! -name '.*'; elif [ -e "$a" ]; then echo "$a"; fi
done | sort -u > $out/inputs
xargs -P "$(nproc)" -n 1 sh $out/one.sh < $out/inputs
n=$(wc -l < $out/inputs)
ok=$(cat $out/results/* 2>/dev/null | grep -c '^ok$' || true)
rej=$(cat $out/results/* 2>/dev/null | grep -c '^rejected$' || true)
cat $out/results/* 2>/dev/null | grep '^FAIL' > $out/failures.txt || true
nf=$(wc -l < $out/failures.txt)
gone=$(cat $out/results/* 2>/dev/null | grep -c '^vanished$' || true)
echo "$n models: $ok accepted and their C compiles, $rej rejected, $gone vanished, $nf failures"
[ "$nf" = 0 ] || { cat $out/failures.txt; echo "details: $out/failures/"; exit 1; }
