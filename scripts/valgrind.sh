#!/bin/sh
# Runs densc and the generated programs' commands under valgrind (memcheck, leak check);
# any error or leak fails. Usage: sh scripts/valgrind.sh [BUILD_DIR]   (default _build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
vg="valgrind -q --suppressions=$top/scripts/valgrind.supp --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
n=0
check() {   # check EXPECTED-STATUS COMMAND...
  want=$1; shift
  rc=0
  $vg "$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL (status $rc, expected $want): $*"; cat "$tmp/err"; exit 1
  fi
  n=$((n + 1))
}
for m in "$top"/models/*.dens "$top"/tests/golden/*.dens; do
  check 0 "$build/densc" --print-c "$m"
done
for m in "$top"/tests/bad/*.dens; do
  check 1 "$build/densc" --check "$m"
done
# valgrind knows no AVX-512: the programs for AVX2 (the inline exp and vector loops stay)
V3="--portable --cflags=-march=x86-64-v3"
"$build/densc" $V3 "$top/models/spline1d.dens" -o "$tmp/spline1d"
"$build/densc" $V3 "$top/models/gd1.dens" -o "$tmp/gd1"
d="$top/data/gauss1d.csv"
check 1 "$tmp/spline1d" optimize --quiet --data "$d" --max-iter 3 --out "$tmp/fit.json"   # stops early (it converges in 8): exit 1, fit written
check 0 "$tmp/spline1d" eval --quiet --data "$d" --params "$tmp/fit.json" --out "$tmp/e.json"
check 0 "$tmp/spline1d" eval --quiet --data "$d" --params "$tmp/fit.json" --integrate z=auto --out "$tmp/e.json"
check 0 "$tmp/spline1d" diagnose --quiet --random 1 --data "$d" --params "$tmp/fit.json" --out "$tmp/d.json"
check 0 "$tmp/spline1d" plot density --quiet --data "$d" --params "$tmp/fit.json" --out "$tmp/s.png"
check 2 "$tmp/spline1d" eval --quiet --data "$tmp/none.csv" --params "$tmp/fit.json"
G="--data $top/data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 --column phi2=gd1_phi2 --where phi2>-7 --outside keep"
check 0 "$tmp/gd1" eval --quiet $G --params "$top/models/gd1-init.json" --out "$tmp/g.json"
check 0 "$tmp/gd1" plot model --quiet $G --params "$top/models/gd1-init.json" --out "$tmp/g.png"
check 2 "$tmp/gd1" eval --quiet $G --params "$tmp/fit.json"
# gzip-compressed FITS (unpacked by densc), a truncated one, and CSV through a pipe
gzip -c "$top/data/gd1-gaiadr3-blog.fits" > "$tmp/gd1.fits.gz"
head -c 300000 "$tmp/gd1.fits.gz" > "$tmp/cut.fits.gz"
G="--column phi1=gd1_phi1 --column phi2=gd1_phi2 --where phi2>-7 --outside keep --params $top/models/gd1-init.json"
check 0 "$tmp/gd1" eval --quiet --data "$tmp/gd1.fits.gz" $G --out "$tmp/g.json"
check 2 "$tmp/gd1" eval --quiet --data "$tmp/cut.fits.gz" $G --out "$tmp/g.json"
mkfifo "$tmp/pipe.csv"
cat "$d" > "$tmp/pipe.csv" &
check 0 "$tmp/spline1d" eval --quiet --data "$tmp/pipe.csv" --params "$tmp/fit.json" --out "$tmp/e.json"
wait
echo "valgrind: $n passed, 0 failed"
