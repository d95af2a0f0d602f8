#!/bin/sh
# tests/stages.sh — the data kernels' stages against another code path.  The data sum of
# eval (its log-likelihood plus the integrals) must equal the sum of log n over the rows as
# predict computes n, one point at a time through log_terms (no runs, no stages, no chunks):
#   - a model of 30 streams, whose run kernel has so many values crossing between stages
#     that a chunk takes fewer than 128 rows (the arrays kept within 64 KiB of stack);
#   - GD-1 on a grid whose runs are longer than a chunk, on 1 and 2 threads.
# The rows are predict's own grid points (its CSV, with x and y), so both see the same doubles.
. "$top_srcdir/tests/setup.sh"
. "$top_srcdir/tests/checks.sh"

# data_term PROG DATA PARAMS [ARGS...]: eval's log-likelihood plus its integrals
data_term() {
  prog=$1 data=$2 params=$3
  shift 3
  "$prog" eval --data "$data" --params "$params" "$@" --quiet > "$TMPD/e.json" 2> "$TMPD/err"
  awk '/"log_likelihood":/ { gsub(/[",]/, "", $2); s = $2 }
       /"value":/ { v = $0; sub(/.*"value": /, "", v); sub(/,.*/, "", v); s += v }
       END { printf "%.17g\n", s }' "$TMPD/e.json"
}
# log_sum CSV: the sum of log(total) over predict's rows
log_sum() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "total") t = i; next } { s += log($t) }
           END { printf "%.17g\n", s }' "$1"
}
close() { awk -v a="$1" -v b="$2" -v tol="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a
  exit !(a != "" && b != "" && d <= tol * m) }'; }

## 30 streams: a spline amplitude, track and log width each
awk 'BEGIN { K = 30
  print "data { real x in [-10, 10]; real y in [-10, 10]; }\nknots { k = linspace(-10, 10, 6); }\nparameters {"
  for (i = 0; i < K; i++) printf "  vector[k] a%d; vector[k] m%d; vector[k] s%d;\n", i, i, i
  print "}\nmodel {"
  for (i = 0; i < K; i++)
    printf "  component c%d = exp(spline(k, a%d, x)) * normal(y | spline(k, m%d, x), exp(spline(k, s%d, x)));\n", i, i, i, i
  printf "  intensity = c0"; for (i = 1; i < K; i++) printf " + c%d", i; print ";\n}" }' > "$TMPD/many.dens"
"$DENSC" --emit-c "$TMPD/many.c" -o "$TMPD/many" "$TMPD/many.dens" 2> "$TMPD/err"
chunk=$(sed -n 's/.*enum { RUN_CHUNK = \([0-9]*\) }.*/\1/p' "$TMPD/many.c" | head -n 1)
arrays=$(sed -n '/^static double data_kernel/,/^}/p' "$TMPD/many.c" | grep -c 'double c[ve][0-9]*\[RUN_CHUNK\]')
check "30 streams: chunks of fewer than 128 rows ($chunk), a multiple of 8, within 64 KiB ($arrays arrays)" \
  '[ -n "$chunk" ] && [ "$chunk" -lt 128 ] && [ $((chunk % 8)) = 0 ] && [ $((chunk * arrays * 8)) -le 65536 ]'
awk 'BEGIN { srand(7); printf "{"
  for (i = 0; i < 30; i++) for (j = 0; j < 3; j++) {
    printf "%s\"%s%d\": [", (i || j) ? ", " : "", substr("ams", j + 1, 1), i
    for (k = 0; k < 6; k++) printf "%s%.6f", k ? ", " : "", j == 0 ? -2 + 2 * rand() : j == 1 ? -8 + 16 * rand() : -1 + 2 * rand()
    printf "]" }
  print "}" }' > "$TMPD/many.json"
"$TMPD/many" predict --grid x=-10:10:61 --grid y=-10:10:17 --params "$TMPD/many.json" --out "$TMPD/many.csv" \
  2> "$TMPD/err"
a=$(data_term "$TMPD/many" "$TMPD/many.csv" "$TMPD/many.json")
b=$(log_sum "$TMPD/many.csv")
check "30 streams: eval's data sum ($a) is predict's sum of log n ($b) to 1e-11" 'close "$a" "$b" 1e-11'

## GD-1 on a 2000 x 4 grid: runs of about 190 rows, two chunks each
"$DENSC" -o "$TMPD/gd1" "$top_srcdir/models/gd1.dens" 2> "$TMPD/err"
"$TMPD/gd1" predict --grid phi1=-100:20:2000 --grid phi2=-7:5:4 --params "$top_srcdir/models/gd1-init.json" \
  --out "$TMPD/gd1.csv" 2> "$TMPD/err"
b=$(log_sum "$TMPD/gd1.csv")
a=$(data_term "$TMPD/gd1" "$TMPD/gd1.csv" "$top_srcdir/models/gd1-init.json")
check "GD-1, long runs: eval's data sum ($a) is predict's sum of log n ($b) to 1e-11" 'close "$a" "$b" 1e-11'
a2=$(data_term "$TMPD/gd1" "$TMPD/gd1.csv" "$top_srcdir/models/gd1-init.json" --threads 2)
check "GD-1, long runs, 2 threads: the same to 1e-11 ($a2)" 'close "$a2" "$b" 1e-11'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
