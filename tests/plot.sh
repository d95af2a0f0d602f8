#!/bin/sh
# tests/plot.sh — 'PROG plot KIND' of the generated programs of models/gd1.dens and
# models/spline1d.dens: every kind in PNG, PDF and SVG (signature, ending, size); the
# errors (no kind, an unknown kind, a format we do not write, an unknown parameter,
# component or column, a model of the wrong shape) exit 2 and write nothing, leaving an
# existing file as it was; the units of gd1.dens in 'info'.
. "$top_srcdir/tests/setup.sh"
. "$top_srcdir/tests/checks.sh"
# run PROG ARGS...: $rc is its status, $TMPD/err its stderr
run() { "$@" > "$TMPD/out" 2> "$TMPD/err" && rc=0 || rc=$?; }
says() { grep -qF -- "$1" "$TMPD/err"; }
# figure FILE: a whole PNG, PDF or SVG of more than 2 kB
figure() {
  [ -f "$1" ] && [ "$(wc -c < "$1")" -gt 2000 ] || return 1
  case $1 in
    *.png) [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
           [ "$(tail -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 49454e44ae426082 ] ;;
    *.pdf) [ "$(head -c 5 "$1")" = "%PDF-" ] && tail -c 32 "$1" | grep -q '%%EOF' ;;
    *.svg) head -c 200 "$1" | grep -q '<svg' && tail -c 20 "$1" | grep -q '</svg>' ;;
  esac
}

W=$TMPD/w
mkdir -p "$W"
"$DENSC" "$top_srcdir/models/gd1.dens" -o "$W/gd1"
"$DENSC" "$top_srcdir/models/spline1d.dens" -o "$W/spline1d"
G="--data $top_srcdir/data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 --column phi2=gd1_phi2 --where phi2>-7"
G="$G --outside keep --quiet"
P="--params $top_srcdir/models/gd1-init.json"
S="--data $top_srcdir/data/gauss1d.csv --quiet"
# a few draws of the spline model (their quality does not matter here)
"$W/spline1d" sample $S --seed 1 --chains 2 --warmup 40 --draws 20 --out "$W/s" > /dev/null 2>&1 || true
D="--draws $W/s_1.csv,$W/s_2.csv"
echo '{"ln_n0": [-9, -6, -3, 0, 5, 11, 5, 0, -3, -6, -9]}' > "$W/s.json"

## 1. every kind, every format
for ext in png pdf svg; do
  run "$W/gd1" plot data $G --out "$W/data.$ext"
  check "gd1 data .$ext" '[ $rc = 0 ] && figure "$W/data.$ext"'
  run "$W/gd1" plot model $G $P --out "$W/model.$ext"
  check "gd1 model .$ext" '[ $rc = 0 ] && figure "$W/model.$ext"'
  run "$W/gd1" plot knots $P --init "$top_srcdir/models/gd1-init.json" --out "$W/knots.$ext"
  check "gd1 knots .$ext" '[ $rc = 0 ] && figure "$W/knots.$ext"'
  run "$W/gd1" plot track $G $P --component stream --along phi1 --out "$W/track.$ext"
  check "gd1 track .$ext" '[ $rc = 0 ] && figure "$W/track.$ext"'
  run "$W/spline1d" plot data $S --out "$W/sdata.$ext"
  check "spline1d data .$ext" '[ $rc = 0 ] && figure "$W/sdata.$ext"'
  run "$W/spline1d" plot density $S --params "$W/s.json" --out "$W/density.$ext"
  check "spline1d density .$ext" '[ $rc = 0 ] && figure "$W/density.$ext"'
  run "$W/spline1d" plot density $S $D --log --out "$W/band.$ext"
  check "spline1d density --draws --log .$ext" '[ $rc = 0 ] && figure "$W/band.$ext"'
  run "$W/spline1d" plot trace $D --param lp__ --param 'ln_n0[6]' --param ln_n0.1 --out "$W/trace.$ext"
  check "spline1d trace .$ext" '[ $rc = 0 ] && figure "$W/trace.$ext"'
done
# without the data, density draws the curve alone; knots without --init the optimised values
run "$W/spline1d" plot density --params "$W/s.json" --out "$W/curve.png"
check "density without data" '[ $rc = 0 ] && figure "$W/curve.png"'
run "$W/gd1" plot knots $P --out "$W/k1.png"
check "knots without --init" '[ $rc = 0 ] && figure "$W/k1.png"'
# the figure's height follows the equal scales of phi1 and phi2 (deg): 120 x 12 degrees
run "$W/gd1" plot data $G --width 1000 --out "$W/eq.png"
h=$(od -An -tu1 -j 20 -N 4 "$W/eq.png" | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}')
check "data: the height of equal scales (got $h)" '[ $rc = 0 ] && [ "$h" -gt 150 ] && [ "$h" -lt 220 ]'

## 2. errors: exit 2, nothing written, an existing figure kept
echo keep > "$W/old.png"
bad_plot() {   # bad_plot NAME MESSAGE PROG ARGS...
  name=$1 msg=$2
  shift 2
  run "$@"
  check "$name: exit 2" '[ $rc = 2 ]'
  check "$name: says '$msg'" 'says "$msg"'
  check "$name: old figure kept" '[ "$(cat "$W/old.png")" = keep ]'
}
bad_plot "no kind" "plot needs a KIND first" "$W/gd1" plot $G $P --out "$W/old.png"
bad_plot "unknown kind" "unknown kind 'scatter'" "$W/gd1" plot scatter $G --out "$W/old.png"
bad_plot "no --out" "plot needs --out FIG.png" "$W/gd1" plot data $G
bad_plot "trace: unknown parameter" "has no column 'ln_n0.12'" "$W/spline1d" plot trace $D --param 'ln_n0[12]' \
  --out "$W/old.png"
bad_plot "track: unknown component" "the model has no component 'strem' (components: stream, background)" "$W/gd1" plot track \
  $G $P --component strem --out "$W/old.png"
bad_plot "track: unknown column" "no column 'phi3'" "$W/gd1" plot track $G $P --along phi3 --out "$W/old.png"
bad_plot "density of a 2-D model" "draws a model of one column" "$W/gd1" plot density $G $P --out "$W/old.png"
bad_plot "model of a 1-D model" "draws a model of two columns" "$W/spline1d" plot model $S --params "$W/s.json" \
  --out "$W/old.png"
bad_plot "track of a 1-D model" "needs a model of two columns" "$W/spline1d" plot track $S --params "$W/s.json" \
  --out "$W/old.png"
bad_plot "knots: params of another model" "is not a parameter of the model" "$W/spline1d" plot knots $P \
  --out "$W/old.png"
for f in fig.jpg fig fig.png.gz; do
  run "$W/gd1" plot data $G --out "$W/$f"
  check "format of $f: exit 2" '[ $rc = 2 ] && says "FILE.png, FILE.pdf or FILE.svg" && [ ! -e "$W/$f" ]'
done
check "no temporaries left" '[ -z "$(ls -A "$W" | grep tmp)" ]'

## 3. units in info, and the kinds' help
run "$W/gd1" info
check "info: the units" 'grep -q "phi1 .*unit deg" "$TMPD/out" && grep -q "phi2 .*unit deg" "$TMPD/out"'
run "$W/gd1" plot track --help
check "track --help" '[ $rc = 0 ] && grep -q -- "--component" "$TMPD/out" && ! grep -q -- "--init" "$TMPD/out"'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
