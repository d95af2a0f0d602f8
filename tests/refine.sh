#!/bin/sh
# tests/refine.sh — 'auto' refinement that runs out of memory part-way, and what eval says of
# integrals it cannot verify and of gradients that are not finite.
#
# Out of memory part-way: build_rules replaces the terms' rules one after another; when a later term's rule cannot be allocated, the
# earlier terms keep their new, larger rules, and the work's node buffer must follow them
# (it was sized by the largest rule before: the kernels wrote past it, and glibc aborted
# with "free(): invalid next size").  The model: a small and a big 2-D term, and a kink
# that no rule integrates to 1e-10, so the rules grow until memory runs out; eval runs
# under a range of address-space limits, so that at some of them the small term's rule
# was refined and the big one's was not.  Each must end by itself (a warning, exit 0 or 2),
# never on a signal.
. "$top_srcdir/tests/setup.sh"
. "$top_srcdir/tests/checks.sh"

sanitized=$(sed -n 's/^SANITIZER_FLAGS = *//p' "$top_builddir/Makefile")
cat > "$TMPD/m.dens" <<'EOF'
data { real x in [0, 1]; real y in [0, 1]; }
knots { ka = linspace(0, 1, 9); kb = linspace(0, 1, 13); }
parameters { vector[ka] a; vector[ka] b; vector[kb] c; vector[kb] d; real<lower=0> u; }
model {
  component small = exp(spline(ka, a, x) + spline(ka, b, y));
  component big = exp(spline(kb, c, x) + spline(kb, d, y));
  component kink = u * sqrt((x - 0.3137) * (x - 0.3137));
  intensity = small + big + kink;
}
EOF
cat > "$TMPD/p.json" <<'EOF'
{"a": [0, 0.96, 0.52, -0.69, -0.88, 0.22, 1.0, 0.32, -0.86],
 "b": [0, 0.86, -0.87, 0.02, 0.85, -0.88, -0.04, 0.88, -0.84],
 "c": [0, 0.64, 0.99, 0.86, 0.33, -0.35, -0.87, -0.98, -0.63, 0.04, 0.66, 0.99, 0.85],
 "d": [0, 0.95, -0.61, -0.55, 0.97, -0.07, -0.92, 0.67, 0.49, -0.98, 0.13, 0.90, -0.72],
 "u": 1}
EOF
printf 'x,y\n0.5,0.5\n0.25,0.75\n' > "$TMPD/d.csv"
"$DENSC" -o "$TMPD/m" "$TMPD/m.dens" 2> "$TMPD/err"

# the limits (KiB) straddle the steps at which the rules quadruple (not under sanitizers:
# ASan reserves terabytes of address space, 'ulimit -v' cannot run it)
[ -n "$sanitized" ] && echo "refine.sh: the address-space limits are not tried under sanitizers"
for lim in $([ -n "$sanitized" ] || echo 60000 80000 100000 140000 200000 280000 400000 560000 800000); do
  (ulimit -v $lim && exec "$TMPD/m" eval --data "$TMPD/d.csv" --params "$TMPD/p.json" --quiet) \
    > "$TMPD/out" 2> "$TMPD/err" && rc=0 || rc=$?
  check "eval under ulimit -v $lim ends by itself (exit $rc)" '[ $rc -lt 128 ]'
done

## what eval says of integrals it cannot verify, and of a gradient that is not finite
printf 'x,y\n0.2,0.3\n0.7,0.6\n0.5,0.5\n' > "$TMPD/d3.csv"
# a term at e^-5000 of the total with a kink no rule resolves: the accuracy that matters is
# the total's (refined until the term itself converged, it took 3 GB and then gave up)
cat > "$TMPD/tiny.dens" <<'EOF'
data { real x in [0, 1]; real y in [0, 1]; }
knots { k = linspace(0, 1, 5); }
parameters { real b; vector[k] a; vector[k] c; }
model {
  component background = exp(b);
  component tiny = exp(-5000 + spline(k, a, x) + spline(k, c, y)) * sqrt((x - 0.3137) * (x - 0.3137));
  intensity = background + tiny;
}
EOF
echo '{"b": 1, "a": [0, 0.5, 1, 0.2, 0], "c": [0.3, -0.2, 0.1, 0.4, 0]}' > "$TMPD/tiny.json"
"$DENSC" -o "$TMPD/tiny" "$TMPD/tiny.dens" 2> "$TMPD/err"
if [ -n "$sanitized" ]; then
  "$TMPD/tiny" eval --data "$TMPD/d3.csv" --params "$TMPD/tiny.json" > "$TMPD/out" 2> "$TMPD/err" && rc=0 || rc=$?
else
  (ulimit -v 400000 && exec "$TMPD/tiny" eval --data "$TMPD/d3.csv" --params "$TMPD/tiny.json") \
    > "$TMPD/out" 2> "$TMPD/err" && rc=0 || rc=$?
fi
nodes=$(sed -n 's/.*"tiny": {.*"nodes": \([0-9]*\)}.*/\1/p' "$TMPD/out")
check "a term at e^-5000 of the total: converged at once (exit $rc, $nodes nodes)" \
  '[ $rc = 0 ] && [ -n "$nodes" ] && [ "$nodes" -le 4096 ] && grep -q "\"integral_rel_err\": 0," "$TMPD/out"'
# the same kink in a term that matters: refinement stops at the node limit, and says so
sed 's/-5000 + //' "$TMPD/tiny.dens" > "$TMPD/kink.dens"
"$DENSC" -o "$TMPD/kink" "$TMPD/kink.dens" 2> "$TMPD/err"
"$TMPD/kink" eval --data "$TMPD/d3.csv" --params "$TMPD/tiny.json" --quiet > "$TMPD/out" 2> "$TMPD/err" && rc=0 || rc=$?
check "integrals past the node limit: exit 1, said (also with --quiet), no estimate written" \
  '[ $rc = 1 ] && grep -q "would take more than [0-9]* quadrature nodes (1024 MiB" "$TMPD/err" &&
   grep -q "not verified to --tol" "$TMPD/err" && grep -q "\"integral_rel_err\": null" "$TMPD/out"'
# sqrt(u) at u = 0: a finite log density, an infinite derivative
cat > "$TMPD/sq.dens" <<'EOF'
data { real x in [0, 1]; }
parameters { real a; real<lower=0> u; }
model { intensity = exp(a) * (1 + sqrt(u) * x); }
EOF
"$DENSC" -o "$TMPD/sq" "$TMPD/sq.dens" 2> "$TMPD/err"
printf 'x\n0.2\n0.7\n' > "$TMPD/d1.csv"
echo '{"a": 0.5, "u": 0}' > "$TMPD/sq.json"
"$TMPD/sq" eval --data "$TMPD/d1.csv" --params "$TMPD/sq.json" --quiet > "$TMPD/out" 2> "$TMPD/err" && rc=0 || rc=$?
check "a gradient that is not finite: exit 1, the component named" \
  '[ $rc = 1 ] && grep -q "1 gradient component is not finite at these parameters (the first: u)" "$TMPD/err"'
# a normal whose width underflows to 0 where its mean is outside the window: the mass and its
# derivatives vanish there (w d(log w) -> 0), no NaN
cat > "$TMPD/narrow.dens" <<'EOF'
data { real x in [0, 2]; real y in [-3, -1]; }
parameters { real A; real m; real B; }
model { intensity = exp(A) * normal(y | m, exp(B * x)); }
EOF
"$DENSC" -o "$TMPD/narrow" "$TMPD/narrow.dens" 2> "$TMPD/err"
printf 'x,y\n0.001,-2\n' > "$TMPD/d2.csv"
echo '{"A": 0, "m": 0.9, "B": -400}' > "$TMPD/narrow.json"
"$TMPD/narrow" eval --data "$TMPD/d2.csv" --params "$TMPD/narrow.json" --integrate x='gauss_legendre(order = 16)' \
  --quiet > "$TMPD/out" 2> "$TMPD/err" && rc=0 || rc=$?
check "a width that underflows: a finite gradient (exit $rc: the integral is hard, and said to be)" \
  '[ $rc -le 1 ] && grep -q "\"gradient\": \[" "$TMPD/out" && ! grep "\"gradient\"" "$TMPD/out" | grep -q null &&
   ! grep -q "not finite" "$TMPD/err"'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
