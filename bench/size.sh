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

# statements of the loop over the data rows (data_kernel's)
loop_statements() {
  awk '/for \(size_t i = i0; i < i1; i\+\+\) \{/ && !done { inside = 1; depth = 0 }
       inside { n += gsub(/;/, ";"); depth += gsub(/\{/, "{") - gsub(/\}/, "}");
                if (depth == 0) { inside = 0; done = 1 } }
       END { print n - 2 }' "$1"   # the loop header's two semicolons
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
