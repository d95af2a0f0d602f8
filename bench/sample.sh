#!/bin/sh
# The sampler's speed on GD-1, one chain in one thread:
#   sh bench/sample.sh [BUILD_DIR] [SEEDS]
# - gradient evaluations per second inside the sampler (the leapfrog steps of the draws
#   over the sampling time in the CSV footer) against the same evaluation in a loop
#   (the benchmark command): the sampler's overhead;
# - min bulk-ESS over the 72 parameters per second of wall time (warmup included), the
#   figure the issue compares with a hand-written Stan model (0.63 per second).
# Each seed is one run; the medians are printed.  Run it on a quiet machine.
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
  loop=$("$tmp/gd1" benchmark $G --params "$top/models/gd1-init.json" --quiet |
         sed 's/.*"median_seconds": \([^,]*\),.*/\1/')
  t0=$(date +%s.%N)
  "$tmp/gd1" sample $G --chains 1 --threads 1 --seed "$s" --out "$tmp/run$s" --quiet > "$tmp/sum$s.txt" 2>&1 || true
  t1=$(date +%s.%N)
  wall=$(echo "$t1 - $t0" | bc -l)
  # leapfrog steps of the draws, and the sampling time of the footer
  steps=$(awk -F, '!/^#/ && !/^lp__/ { s += $5 } END { print s }' "$tmp/run${s}_1.csv")
  samp=$(sed -n 's/^#  *\([0-9.e+-]*\) seconds (Sampling)$/\1/p' "$tmp/run${s}_1.csv")
  ess=$(awk 'NR > 1 && $1 != "lp__" && $1 !~ /__$/ && $8 + 0 == $8 { if (min == "" || $8 < min) min = $8 }
             END { print min }' "$tmp/sum$s.txt")
  echo "$s $loop $steps $samp $wall $ess" >> "$tmp/runs.txt"
  printf 'seed %s: loop %.1f us/eval, sampler %.1f us/eval (%s steps in %.2f s), wall %.1f s, min bulk-ESS %s\n' \
    "$s" "$(echo "$loop * 1000000" | bc -l)" "$(echo "$samp / $steps * 1000000" | bc -l)" "$steps" "$samp" \
    "$wall" "$ess"
done
loop=$(awk '{ print $2 }' "$tmp/runs.txt" | median)
inside=$(awk '{ print $4 / $3 }' "$tmp/runs.txt" | median)
esss=$(awk '{ print $6 / $5 }' "$tmp/runs.txt" | median)
printf '\nmedians over seeds %s:\n' "$seeds"
printf '  gradient in a loop        %8.1f us per evaluation\n' "$(echo "$loop * 1000000" | bc -l)"
printf '  gradient inside NUTS      %8.1f us per evaluation (overhead %.1f%%)\n' \
  "$(echo "$inside * 1000000" | bc -l)" "$(echo "($inside / $loop - 1) * 100" | bc -l)"
printf '  min bulk-ESS per second   %8.2f (one chain, wall time with warmup; Stan reference 0.63)\n' "$esss"
