#!/bin/sh
# tests/refine.sh — 'auto' refinement that runs out of memory part-way.  build_rules replaces
# the terms' rules one after another; when a later term's rule cannot be allocated, the
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

if [ -n "$sanitized" ]; then
  # ASan reserves terabytes of address space: 'ulimit -v' cannot run it
  echo "refine.sh: not run under sanitizers (address-space limits)"
  echo "0 passed, 0 failed"
  exit 0
fi
# the limits (KiB) straddle the steps at which the rules quadruple
for lim in 60000 80000 100000 140000 200000 280000 400000 560000 800000; do
  (ulimit -v $lim && exec "$TMPD/m" eval --data "$TMPD/d.csv" --params "$TMPD/p.json" --quiet) \
    > "$TMPD/out" 2> "$TMPD/err" && rc=0 || rc=$?
  check "eval under ulimit -v $lim ends by itself (exit $rc)" '[ $rc -lt 128 ]'
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
