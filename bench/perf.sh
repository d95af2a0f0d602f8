#!/bin/sh
# The performance issue's table, measured side by side in one run (not part of make check):
#   sh bench/perf.sh [BUILD_DIR]
# - GD-1 value+gradient at the seed optimum, densc on 1 and 2 threads, and the hand-written
#   yardstick of ../shared/limit beside it (built here when ../shared and astropy are there);
# - time per star of GD-1-like catalogues of 10^5, 10^6 and 10^7 stars (bench/gen_catalogue.py,
#   drawn from the model at the seed optimum) on 1 and 2 threads, and memory per star;
# - example 2 (spline1d, 10^5 points) value+gradient with its own Simpson rule and with auto;
# - GD-1 MAP from the seed's initial values, the whole process minus compilation.
# FULL=1 adds the MAP of the 10^7-star catalogue on 2 threads (minutes).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
G="--column phi1=gd1_phi1 --column phi2=gd1_phi2 --where phi2>-7 --outside keep"
med() { sed 's/.*"median_seconds": \([^,]*\),.*/\1/'; }
us() { awk -v x="$1" 'BEGIN { printf "%.1f", x * 1e6 }'; }

"$build/densc" "$top/models/gd1.dens" -o "$tmp/gd1"
"$build/densc" --portable "$top/models/gd1.dens" -o "$tmp/gd1p"
"$build/densc" "$top/models/spline1d.dens" -o "$tmp/spline1d"

# the yardstick and the seed optimum as a parameter file
limit="-"
params="$top/models/gd1-init.json"
if [ -d "$top/../shared/limit" ] && $py -c 'import astropy' 2> /dev/null; then
  (cd "$tmp" && sh "$top/../shared/limit/prepare.sh" lim > /dev/null && sh "$top/../shared/limit/build.sh" lim > /dev/null)
  params="$tmp/lim/work/seed_opt.json"
  limit=$(cd "$tmp/lim" && ./gd1_limit bench 2000 15 | awk '/^value\+gradient/ { print $3 }')
fi
d1=$("$tmp/gd1" benchmark --data "$top/data/gd1-gaiadr3-blog.fits" $G --params "$params" --quiet | med)
d2=$("$tmp/gd1" benchmark --data "$top/data/gd1-gaiadr3-blog.fits" $G --params "$params" --threads 2 --quiet | med)
dp=$("$tmp/gd1p" benchmark --data "$top/data/gd1-gaiadr3-blog.fits" $G --params "$params" --quiet | med)
echo "GD-1 value+gradient (2960 stars, seed optimum)"
printf '  densc, 1 thread          %8s us\n' "$(us "$d1")"
printf '  densc, 2 threads         %8s us\n' "$(us "$d2")"
printf '  densc --portable, 1 thr  %8s us\n' "$(us "$dp")"
printf '  hand-written yardstick   %8s us' "$limit"
[ "$limit" != "-" ] && awk -v a="$d1" -v b="$limit" 'BEGIN { printf "   (densc on 1 thread: %.1fx)", a * 1e6 / b }'
echo

echo "time per star, GD-1-like catalogues (1 thread / 2 threads), memory per star"
base=""
for n in 1000 100000 1000000 10000000; do
  $py "$top/bench/gen_catalogue.py" --stars "$n" --seed 1 --out "$tmp/c$n.fits" 2> /dev/null
  t1=$("$tmp/gd1" benchmark --data "$tmp/c$n.fits" --params "$tmp/c$n.fits.params.json" --batches 5 --quiet | med)
  t2=$("$tmp/gd1" benchmark --data "$tmp/c$n.fits" --params "$tmp/c$n.fits.params.json" --batches 5 --threads 2 \
       --quiet | med)
  rows=$("$tmp/gd1" eval --data "$tmp/c$n.fits" --params "$tmp/c$n.fits.params.json" --quiet | sed -n 's/.*"n": \([0-9]*\),/\1/p')
  /usr/bin/time -f %M -o "$tmp/mem" "$tmp/gd1" eval --data "$tmp/c$n.fits" --params "$tmp/c$n.fits.params.json" \
    --quiet > /dev/null
  kb=$(cat "$tmp/mem")
  [ -z "$base" ] && base=$kb
  awk -v n="$rows" -v t1="$t1" -v t2="$t2" -v kb="$kb" -v base="$base" 'BEGIN {
    if (n > 1000) mem = sprintf("%.0f B per star above 1000 stars", (kb - base) * 1024 / (n - 1000))
    else mem = sprintf("peak %d kB", kb)
    printf "  %9d stars: %7.2f ns / %7.2f ns per star (%.3g s per evaluation); %s\n", n, t1 / n * 1e9,
      t2 / n * 1e9, t1, mem }'
done

awk 'BEGIN { printf "{\"ln_n0\": ["; for (k = 0; k < 11; k++) { t = -3 + 6 * k / 10;
  printf "%s%.17g", k ? ", " : "", -0.5 * t * t / 0.1 + 11 } print "]}" }' > "$tmp/p.json"
s1=$("$tmp/spline1d" benchmark --data "$top/data/gauss1d.csv" --params "$tmp/p.json" --quiet | med)
s2=$("$tmp/spline1d" benchmark --data "$top/data/gauss1d.csv" --params "$tmp/p.json" --integrate z=auto --quiet | med)
echo "example 2 (spline1d, 10^5 points) value+gradient"
printf '  simpson(points = 1025)   %8s us\n  auto                     %8s us\n' "$(us "$s1")" "$(us "$s2")"

# the median of 5 runs: wall time, and CPU time (user + system: what a loaded machine does not inflate)
for k in 1 2 3 4 5; do
  t0=$(date +%s%N)
  /usr/bin/time -f "%U %S" -o "$tmp/t$k" "$tmp/gd1" optimize --data "$top/data/gd1-gaiadr3-blog.fits" $G \
    --init "$top/models/gd1-init.json" --quiet --out "$tmp/fit.json"
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000000 ))" >> "$tmp/walls"
done
wall=$(sort -n "$tmp/walls" | sed -n 3p | awk '{ printf "%.3f", $1 / 1000 }')
cpu=$(cat "$tmp"/t[1-5] | awk '{ print $1 + $2 }' | sort -n | sed -n 3p)
echo "GD-1 MAP from the seed init, whole process: $wall s wall, $cpu s CPU (medians of 5)"
if [ "${FULL:-0}" = 1 ]; then
  t0=$(date +%s.%N)
  "$tmp/gd1" optimize --data "$tmp/c10000000.fits" --threads 2 --quiet --out "$tmp/fit7.json" || true
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "MAP of 10^7 stars on 2 threads: %.1f s\n", b - a }'
fi
