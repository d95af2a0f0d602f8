#!/bin/sh
# The main job: install what is needed, build, compile the example models and fit the
# bundled data. Results go to out/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
sh scripts/build.sh
mkdir -p out
for m in gaussian1d spline1d; do
  echo "== $m: compile models/$m.dens and fit data/gauss1d.csv"
  _build/densc "models/$m.dens" -o "out/$m"
  "out/$m" optimize --data data/gauss1d.csv --out "out/$m-fit.json"
done
echo "== gd1: compile models/gd1.dens and fit the GD-1 catalogue (data/gd1-gaiadr3-blog.fits)"
_build/densc models/gd1.dens -o out/gd1
# the default start (the best of 12 fits) reaches the seed's optimum, and beyond, without the seed's
# hand-made start (--init models/gd1-init.json)
out/gd1 optimize --data data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 --column phi2=gd1_phi2 \
  --where 'phi2 > -7' --outside keep --out out/gd1-fit.json
G="--data data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 --column phi2=gd1_phi2 --outside keep --quiet"
out/gd1 plot data $G --where 'phi2 > -7' --out out/gd1-data.png
out/gd1 plot model $G --where 'phi2 > -7' --params out/gd1-fit.json --out out/gd1.png
out/gd1 plot knots --params out/gd1-fit.json --init models/gd1-init.json --out out/gd1-knots.png
out/spline1d plot density --data data/gauss1d.csv --params out/spline1d-fit.json --out out/spline1d.png
# the Bayesian half: NUTS draws (4 chains), their summary, and the posterior band of the seed's
# figure 9 (16-84% of the spline model's density); exit 1 of sample is a diagnostic warning
sampled() {   # sampled NAME STATUS
  [ "$2" = 0 ] || echo "   ($1 sample: exit $2 — a diagnostic warning above; the draws are written)"
}
echo "== spline1d: NUTS draws, summary and posterior band"
rc=0
out/spline1d sample --data data/gauss1d.csv --seed 1 --out out/spline1d-draws --quiet \
  > out/spline1d-summary.txt || rc=$?
sampled spline1d $rc
out/spline1d predict --draws out/spline1d-draws_1.csv,out/spline1d-draws_2.csv,out/spline1d-draws_3.csv \
  --draws out/spline1d-draws_4.csv --grid z=-3:3:121 --out out/spline1d-band.csv
echo "== gd1: NUTS draws and summary (some seconds)"
rc=0
out/gd1 sample --data data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 --column phi2=gd1_phi2 \
  --where 'phi2 > -7' --outside keep --seed 1 --out out/gd1-draws --quiet > out/gd1-summary.txt || rc=$?
sampled gd1 $rc
echo "== gd1: membership of every star, and maps of the intensity"
out/gd1 members $G --where 'phi2 > -7' --params out/gd1-fit.json --out out/gd1-members.csv
out/gd1 members $G --where 'phi2 > -7' --draws "$(ls out/gd1-draws_[1-4].csv | paste -sd, -)" \
  --out out/gd1-members-posterior.fits
out/gd1 predict --quiet --params out/gd1-fit.json --grid phi1=-100:20:481 --grid phi2=-7:5:97 \
  --out out/gd1-map.fits
echo "== figures of the draws"
S=out/spline1d-draws_1.csv,out/spline1d-draws_2.csv,out/spline1d-draws_3.csv,out/spline1d-draws_4.csv
D=out/gd1-draws_1.csv,out/gd1-draws_2.csv,out/gd1-draws_3.csv,out/gd1-draws_4.csv
out/spline1d plot density --quiet --draws $S --log --out out/spline1d-band.png
out/spline1d plot trace --quiet --draws $S --param lp__ --param 'ln_n0[1]' --param 'ln_n0[6]' \
  --out out/spline1d-trace.png
out/gd1 plot track $G --where 'phi2 > -7' --draws $D --component stream --out out/gd1-track.png
out/gd1 plot trace --quiet --draws $D --param lp__ --param 'mean_phi2[9]' --param 'ln_std_phi2[9]' \
  --out out/gd1-trace.png
echo "results: out/gaussian1d-fit.json out/spline1d-fit.json out/gd1-fit.json"
echo "draws:   out/spline1d-draws_N.csv out/gd1-draws_N.csv (Stan CSV), summaries out/*-summary.txt,"
echo "         out/spline1d-band.csv (median and 16/84% of the density on a grid)"
echo "members: out/gd1-members.csv (p_stream, p_background of every star at the fit, with source_id),"
echo "         out/gd1-members-posterior.fits (posterior mean and 16/84% of each, a FITS table)"
echo "maps:    out/gd1-map.fits (each component's intensity and the total on a 481 x 97 grid, FITS images"
echo "         with WCS: ds9, TOPCAT, astropy)"
echo "figures: out/gd1-data.png (the stars), out/gd1.png (data, log intensity of the fit, both),"
echo "         out/gd1-knots.png (knot values, initial and fitted), out/gd1-track.png (the stream's"
echo "         track and width along phi1, 16-84% band), out/gd1-trace.png, out/spline1d.png (the fit"
echo "         over the data's histogram), out/spline1d-band.png (16-84% band, log scale),"
echo "         out/spline1d-trace.png"
echo "densc:   $top/_build/densc (not installed); to run it as 'densc' in this shell:"
echo "           export PATH=$top/_build:\$PATH"
echo "manual:  man $top/_build/man/densc.1  (and densc-program.1: the generated programs)"
