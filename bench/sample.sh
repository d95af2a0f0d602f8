#!/bin/sh
# The sampler's speed on GD-1, one chain in one thread:
#   sh bench/sample.sh [BUILD_DIR] [SEEDS]
# - the sampler's overhead: the share of a chain's time not spent evaluating the log density
#   and its gradient (the files' "densc: N gradient evaluations taking S seconds of T" line);
# - gradient evaluations per second inside the sampler against the same evaluation in a loop
#   (the benchmark command, at the model's initial values);
# - min bulk-ESS over the 72 parameters per second of wall time (warmup included), the
#   figure the NUTS issue compares with a hand-written Stan model (0.63 per second).
# Each seed is one run; medians are printed.  Run it on a quiet machine.  DATA_THREADS=N
# sums each evaluation's data rows on N threads (sample --data-threads).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
seeds=${2:-1 2 3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/densc" "$top/models/gd1.dens" -o "$tmp/gd1"
G="--data $top/data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 --column phi2=gd1_phi2 --where phi2>-7 --outside keep"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for s in $seeds; do
  loop=$("$tmp/gd1" benchmark $G --params "$top/models/gd1-init.json" --threads "${DATA_THREADS:-1}" --quiet |
         sed 's/.*"median_seconds": \([^,]*\),.*/\1/')
  t0=$(date +%s.%N)
  "$tmp/gd1" sample $G --chains 1 --threads 1 --data-threads "${DATA_THREADS:-1}" --seed "$s" --out "$tmp/run$s" \
    --quiet > "$tmp/sum$s.txt" \
    2> "$tmp/err$s.txt" || true
  t1=$(date +%s.%N)
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  set -- $(sed -n 's/^# densc: \([0-9]*\) gradient evaluations taking \([0-9.e+-]*\) seconds of \([0-9.e+-]*\)$/\1 \2 \3/p' \
           "$tmp/run${s}_1.csv")
  n=$1 grad=$2 total=$3
  ess=$(awk 'NR > 1 && $1 != "lp__" { if (min == "" || $8 < min) min = $8 } END { print min }' "$tmp/sum$s.txt")
  echo "$s $loop $n $grad $total $wall $ess" >> "$tmp/runs.txt"
  awk -v s="$s" -v loop="$loop" -v n="$n" -v grad="$grad" -v total="$total" -v wall="$wall" -v ess="$ess" 'BEGIN {
    printf "seed %s: loop %.1f us, in NUTS %.1f us per evaluation (%d in %.2f s of %.2f s), wall %.1f s, min bulk-ESS %s\n",
      s, loop * 1e6, grad / n * 1e6, n, grad, total, wall, ess }'
done
loop=$(awk '{ print $2 }' "$tmp/runs.txt" | median)
inside=$(awk '{ print $4 / $3 }' "$tmp/runs.txt" | median)
overhead=$(awk '{ print ($5 - $4) / $5 * 100 }' "$tmp/runs.txt" | median)
rate=$(awk '{ print $3 / $5 }' "$tmp/runs.txt" | median)
esss=$(awk '{ print $7 / $6 }' "$tmp/runs.txt" | median)
printf '\nmedians over seeds %s (data threads %s):\n' "$seeds" "${DATA_THREADS:-1}"
awk -v loop="$loop" -v inside="$inside" -v rate="$rate" -v overhead="$overhead" -v esss="$esss" 'BEGIN {
  printf "  gradient in a loop            %8.1f us per evaluation (%.0f per second)\n", loop * 1e6, 1 / loop
  printf "  gradient inside NUTS          %8.1f us per evaluation; %.0f evaluations per second of the chain\n",
    inside * 1e6, rate
  printf "  sampler overhead              %8.1f %% of the chain time outside the model\n", overhead
  printf "  min bulk-ESS per second       %8.2f (one chain, wall time with warmup; Stan reference 0.63)\n", esss }'
