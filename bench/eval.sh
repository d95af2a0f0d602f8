#!/bin/sh
# bench/eval.sh — value+gradient time of the example models (median over batches).
# Usage: sh bench/eval.sh [BUILD_DIR]   (default _build). Prints one line per case.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=$top/data/gauss1d.csv
for m in gaussian1d spline1d; do
  "$build/densc" "$top/models/$m.dens" -o "$tmp/$m"
done
run() {   # label program args...
  label=$1; shift
  out=$("$@" --quiet)
  med=$(echo "$out" | sed 's/.*"median_seconds": \([^,]*\),.*/\1/')
  printf '%-44s %10.1f us per value+gradient\n' "$label" "$(echo "$med * 1000000" | bc -l)"
}
run "gaussian1d, N=100000 (analytic integral)" "$tmp/gaussian1d" benchmark --data "$data"
run "spline1d,   N=100000, simpson(points=1025)" "$tmp/spline1d" benchmark --data "$data"
run "spline1d,   N=100000, auto (GL 8 x 10)" "$tmp/spline1d" benchmark --data "$data" --integrate z=auto
/usr/bin/time -f "densc models/gaussian1d.dens (compile+link): %e s, %M KB" \
  "$build/densc" "$top/models/gaussian1d.dens" -o "$tmp/g2"
/usr/bin/time -f "densc models/spline1d.dens (compile+link): %e s, %M KB" \
  "$build/densc" "$top/models/spline1d.dens" -o "$tmp/s2"
/usr/bin/time -f "spline1d optimize (simpson): %e s, %M KB max RSS" \
  "$tmp/spline1d" optimize --quiet --data "$data" --out "$tmp/fit.json"
