#!/bin/sh
# tests/priors.sh — the prior families against scipy.stats: each model of tests/priors/
# is compiled, and at each point of tests/priors/reference.txt (written by
# tests/priors/reference.py) eval's log prior and gradient must equal scipy's log
# density and its Richardson-extrapolated differences; diagnose must pass there and at
# random points around (at the first, interior point of each model).  The likelihood depends only on 'a' (no prior), so every other
# gradient entry is the prior's: d log prior = -N * (eval's objective gradient).
. "$top_srcdir/tests/setup.sh"
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
ref="$top_srcdir/tests/priors/reference.txt"
printf 'x\n0.1\n0.5\n' > "$TMPD/d.csv"   # N = 2
for m in "$top_srcdir"/tests/priors/*.dens; do
  name=$(basename "$m" .dens)
  if ! "$DENSC" -o "$TMPD/$name" "$m" 2> "$TMPD/err"; then
    bad "$name: does not compile"; cat "$TMPD/err"; continue
  fi
  grep -q "^$name " "$ref" || { bad "$name: no reference points"; continue; }
  k=0
  grep "^$name " "$ref" | while read -r model params lp grad; do
    k=$((k + 1))
    echo "$params" > "$TMPD/p.json"
    if ! "$TMPD/$name" eval --data "$TMPD/d.csv" --params "$TMPD/p.json" > "$TMPD/out" 2> "$TMPD/err"; then
      echo "bad $name point $k: eval failed: $(cat "$TMPD/err")"; continue
    fi
    got_lp=$(sed -n 's/^  "log_prior": \(.*\),$/\1/p' "$TMPD/out")
    got_g=$(sed -n 's/^  "gradient": \[\(.*\)\],$/\1/p' "$TMPD/out" | tr -d ',')
    # log prior: relative 1e-12; gradient: 1e-7 of max(1, |g|) (the reference's differences)
    echo "$got_lp $lp $got_g | $grad" | awk -v what="$name point $k" '
      function abs(x) { return x < 0 ? -x : x }
      function max1(x) { return abs(x) > 1 ? abs(x) : 1 }
      { bar = 0; for (i = 1; i <= NF; i++) if ($i == "|") bar = i
        if ($1 == "" || bar == 0) { print "bad " what ": no output"; exit }
        if (abs($1 - $2) > 1e-12 * max1($2)) printf "bad %s: log prior %.17g, scipy %.17g\n", what, $1, $2
        n = bar - 4; ne = NF - bar
        if (n != ne) { printf "bad %s: %d gradient entries, reference %d\n", what, n, ne; exit }
        for (i = 1; i <= n; i++) { g = -2 * $(3 + i); r = $(bar + i)
          if (abs(g - r) > 1e-7 * max1(r)) printf "bad %s: gradient %d is %.17g, reference %.17g\n", what, i, g, r }
        print "ok" }'
    # finite differences at the first (interior) point: the others go near bounds and poles
    [ $k = 1 ] || continue
    if ! "$TMPD/$name" diagnose --quiet --data "$TMPD/d.csv" --params "$TMPD/p.json" --random 5 > "$TMPD/diag" 2>&1; then
      echo "bad $name point $k: diagnose: $(tail -n 1 "$TMPD/diag")"
    else
      echo "ok"
    fi
  done > "$TMPD/results"
  while read -r word rest; do
    if [ "$word" = ok ]; then ok; else bad "$rest"; fi
  done < "$TMPD/results"
done
echo "$passed passed, $failed failed"
[ $failed = 0 ]
