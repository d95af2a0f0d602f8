#!/bin/sh
# The sampler on the seed's examples, as the NUTS issue asks (part of make check-slow):
#   seed example 2 (models/spline1d.dens on data/gauss1d.csv) and GD-1 (models/gd1.dens on
#   the bundled catalogue): 4 chains x (1000 warmup + 1000 draws), seed 1; each must end
#   without a warning (no divergences, R-hat <= 1.01, ESS >= 100 per chain, no saturated
#   trees, E-BFMI >= 0.3) and with bulk-ESS >= 400 on every parameter.
#   DENSC defaults to the build's _build/densc.  About 6 minutes on 2 cores.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
densc=${DENSC:-$top/_build/densc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
run() {   # run NAME MODEL DATA-OPTIONS...
  name=$1 model=$2
  shift 2
  "$densc" "$top/models/$model.dens" -o "$tmp/$model"
  t0=$(date +%s)
  rc=0
  "$tmp/$model" sample --quiet "$@" --seed 1 --out "$tmp/$name" > "$tmp/$name.txt" 2> "$tmp/$name.err" || rc=$?
  t1=$(date +%s)
  worst=$(awk 'NR > 1 { if (min == "" || $8 < min) { min = $8; who = $1 } } END { print min, who }' "$tmp/$name.txt")
  rhat=$(awk 'NR > 1 { if ($10 > max) { max = $10; who = $1 } } END { print max, who }' "$tmp/$name.txt")
  echo "$name: exit $rc, $((t1 - t0)) s; min bulk-ESS $worst; max R-hat $rhat"
  cat "$tmp/$name.err"
  if [ "$rc" != 0 ] || [ "$(echo "$worst" | awk '{ print ($1 >= 400) }')" != 1 ]; then
    echo "FAIL: $name" >&2
    fail=1
  fi
}
run spline1d spline1d --data "$top/data/gauss1d.csv"
run gd1 gd1 --data "$top/data/gd1-gaiadr3-blog.fits" --column phi1=gd1_phi1 --column phi2=gd1_phi2 \
  --where 'phi2 > -7' --outside keep
[ $fail = 0 ] && echo "sample-examples: PASS"
exit $fail
