#!/bin/sh
# bench/eval.sh — value+gradient time of the example models (median over batches).
# Usage: sh bench/eval.sh [BUILD_DIR]   (default _build). Prints one line per case.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=$top/data/gauss1d.csv
for m in gaussian1d spline1d gd1; do
  "$build/densc" "$top/models/$m.dens" -o "$tmp/$m"
done
run() {   # label program args...
  label=$1; shift
  out=$("$@" --quiet)
  med=$(echo "$out" | sed 's/.*"median_seconds": \([^,]*\),.*/\1/')
  printf '%-44s %10.1f us per value+gradient\n' "$label" "$(echo "$med * 1000000" | bc -l)"
}
# the same parameters as bench/handwritten_spline1d.c
awk 'BEGIN { printf "{\"ln_n0\": ["; for (k = 0; k < 11; k++) { t = -3 + 6 * k / 10;
  printf "%s%.17g", k ? ", " : "", -0.5 * t * t / 0.1 + 11 } print "]}" }' > "$tmp/p.json"
run "gaussian1d, N=100000 (analytic integral)" "$tmp/gaussian1d" benchmark --data "$data"
run "spline1d,   N=100000, simpson(points=1025)" "$tmp/spline1d" benchmark --data "$data" --params "$tmp/p.json"
run "spline1d,   N=100000, auto (GL 8 x 10)" "$tmp/spline1d" benchmark --data "$data" --params "$tmp/p.json" \
  --integrate z=auto
G="--data $top/data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 --column phi2=gd1_phi2 --where phi2>-7 --outside keep"
run "gd1,        N=2960, 72 parameters, exact" "$tmp/gd1" benchmark $G --params "$top/models/gd1-init.json"
# hand-written C baseline of spline1d (Simpson), same protocol, same parameters
cc -std=c11 -O2 -D_XOPEN_SOURCE=700 -I"$top/runtime" "$top/bench/handwritten_spline1d.c" \
  "$build/.libs/libdensrt.a" $(pkg-config --libs gsl cfitsio zlib plplot) -llbfgsb -lgfortran -lm -o "$tmp/hand"
hand=$("$tmp/hand" "$data")
med=$(echo "$hand" | sed 's/.*"median_seconds": \([^,]*\),.*/\1/')
printf '%-44s %10.1f us per value+gradient\n' "spline1d hand-written C (simpson)" "$(echo "$med * 1000000" | bc -l)"
ours=$("$tmp/spline1d" eval --quiet --data "$data" --params "$tmp/p.json" | sed -n 's/.*"objective": \([^,]*\),/\1/p')
echo "  objectives: generated $ours, hand-written $(echo "$hand" | sed 's/.*"objective": \([^,]*\),.*/\1/')"
/usr/bin/time -f "densc models/gaussian1d.dens (compile+link): %e s, %M KB" \
  "$build/densc" "$top/models/gaussian1d.dens" -o "$tmp/g2"
/usr/bin/time -f "densc models/spline1d.dens (compile+link): %e s, %M KB" \
  "$build/densc" "$top/models/spline1d.dens" -o "$tmp/s2"
/usr/bin/time -f "spline1d optimize (simpson): %e s, %M KB max RSS" \
  "$tmp/spline1d" optimize --quiet --data "$data" --out "$tmp/fit.json"
