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
echo "results: out/gaussian1d-fit.json out/spline1d-fit.json"
