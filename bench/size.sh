#!/bin/sh
# Size of the generated code against the number of mixture components:
#   sh bench/size.sh [DENSC]
# For K = 6 .. 96 one-dimensional Gaussians (vector parameters), the statements in the
# data loop (per data point), the size of the C, and for 100, 400 and 900 terms the time
# cc takes to compile the program.  DENSC defaults to the build's _build/densc.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
densc=${1:-$top/_build/densc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

model() {   # model K FILE: K Gaussians with vector parameters
  k=$1
  {
    echo "data { real x in [-10, 10]; }"
    echo "parameters { vector[$k] a; vector[$k] mu; vector[$k] ls; }"
    printf "model { intensity = "
    i=1
    while [ $i -le "$k" ]; do
      [ $i -gt 1 ] && printf " + "
      printf "exp(a[%d]) * normal(x | mu[%d], exp(ls[%d]))" $i $i $i
      i=$((i + 1))
    done
    echo "; }"
  } > "$2"
}

# statements per data row: the statements inside the row loops of data_kernel and, when a
# large sum is split into groups of terms, of every data_group_* function (values and
# derivatives passes); the loop headers are not counted
loop_statements() {
  awk '/^static (double|void) (data_kernel|data_group_[0-9]+_(values|derivs))\(/ { infn = 1; depth = 0 }
       infn { opens = gsub(/\{/, "{"); closes = gsub(/\}/, "}")
              if (depth >= 2 && $0 !~ /^ *for \(/ && $0 !~ /^#/) n += gsub(/;/, ";")
              depth += opens - closes
              if (depth == 0 && closes > 0) infn = 0 }
       END { print n }' "$1"
}

printf "%-6s %-22s %-12s\n" K "statements per point" "C bytes"
for k in 6 12 24 48 96; do
  model $k "$tmp/m$k.dens"
  "$densc" --print-c "$tmp/m$k.dens" > "$tmp/m$k.c"
  printf "%-6s %-22s %-12s\n" $k "$(loop_statements "$tmp/m$k.c")" "$(wc -c < "$tmp/m$k.c")"
done
echo
printf "%-6s %-14s %-12s\n" terms "compile (s)" "C bytes"
for k in ${SIZE_TERMS:-100 400 900}; do
  model $k "$tmp/c$k.dens"
  t0=$(date +%s.%N)
  if "$densc" "$tmp/c$k.dens" -o "$tmp/c$k" 2> "$tmp/c$k.err"; then
    t1=$(date +%s.%N)
    "$densc" --print-c "$tmp/c$k.dens" > "$tmp/c$k.c"
    printf "%-6s %-14.2f %-12s\n" $k "$(echo "$t1 - $t0" | bc)" "$(wc -c < "$tmp/c$k.c")"
  else
    printf "%-6s %s\n" $k "failed: $(head -c 200 "$tmp/c$k.err")"
  fi
done
