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
out/gd1 optimize --data data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 --column phi2=gd1_phi2 \
  --where 'phi2 > -7' --outside keep --init models/gd1-init.json --out out/gd1-fit.json
out/gd1 plot --data data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 --column phi2=gd1_phi2 \
  --where 'phi2 > -7' --outside keep --params out/gd1-fit.json --out out/gd1.png
out/spline1d plot --data data/gauss1d.csv --params out/spline1d-fit.json --out out/spline1d.png
echo "results: out/gaussian1d-fit.json out/spline1d-fit.json out/gd1-fit.json"
echo "figures: out/gd1.png (log density of the fitted model over phi1-phi2, with the stars)"
echo "         out/spline1d.png (histogram of the data and the fitted intensity)"
echo "densc:   $top/_build/densc (not installed); to run it as 'densc' in this shell:"
echo "           export PATH=$top/_build:\$PATH"
echo "manual:  man $top/_build/man/densc.1  (and densc-program.1: the generated programs)"
