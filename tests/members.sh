#!/bin/sh
# tests/members.sh — members, predict's FITS maps, and catalogues as users have them,
# checked from outside: Python (numpy, scipy, astropy) reads every output and computes the
# expected numbers on its own — GD-1's intensity from bench/gen_catalogue.py's scipy
# splines, the selections of --where on the catalogue's own columns, type-7 quantiles
# with numpy, WCS pixel -> world with astropy.wcs.
. "$top_srcdir/tests/setup.sh"
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() {
  if eval "$2"; then ok; else bad "$1"; sed 's/^/    /' "$TMPD/err" 2>/dev/null | head -20 || true; fi
}
# run PROG ARGS...: in $W; $rc its status, $TMPD/err its stderr
run() { (cd "$W" && "$@") > "$TMPD/out" 2> "$TMPD/err" && rc=0 || rc=$?; }
says() { grep -qF -- "$1" "$TMPD/err"; }
absent() { for f in "$@"; do [ ! -e "$W/$f" ] || return 1; done; }
PY=/usr/bin/python3
# py 'SCRIPT' ARGS...: Python in $W; $prc its status; a failed assertion says why in $TMPD/err
py() { s=$1; shift; (cd "$W" && PYTHONPATH="$top_srcdir/bench" "$PY" -c "$s" "$@") > "$TMPD/out" 2> "$TMPD/err" && prc=0 || prc=$?; }

W=$TMPD/w
mkdir -p "$W"
if ! "$PY" -c 'import numpy, scipy, astropy' 2> /dev/null; then
  echo "SKIP: tests/members.sh: $PY with numpy, scipy and astropy not found"
  echo "0 passed, 0 failed"
  exit 77
fi
GD1DATA="$top_srcdir/data/gd1-gaiadr3-blog.fits"
PARAMS="$top_srcdir/models/gd1-init.json"
"$DENSC" "$top_srcdir/models/gd1.dens" -o "$W/gd1"
SEL="--column phi1=gd1_phi1 --column phi2=gd1_phi2 --where phi2>-7 --outside keep"

# The GD-1 intensity from the scipy splines of bench/gen_catalogue.py (not densc's code).
ORACLE='
import sys, json, numpy as np
from astropy.io import fits
from scipy.stats import norm
import gen_catalogue as g
m = g.Model(g.read_params(sys.argv[1]))
def terms(x, y):
    s = np.exp(m.s_amp(x)) * norm.pdf(y, m.s_track(x), np.exp(m.s_std(x)))
    return s, np.exp(m.s_bkg(x))
'

## 1. members at --params: probabilities against the scipy oracle, ids and columns exact
run ./gd1 members --data "$GD1DATA" $SEL --params "$PARAMS" --out m.csv
check "members --params: exit 0" '[ $rc = 0 ]'
check "members: the selection is said" 'says "3369 rows read, 409 dropped by --where, 1 outside the window kept; 2960 rows used"'
py "$ORACLE"'
t = np.genfromtxt("m.csv", delimiter=",", names=True, dtype=None, encoding=None)
assert t.dtype.names == ("source_id", "phi1", "phi2", "p_stream", "p_background"), t.dtype.names
d = fits.open(sys.argv[2])[1].data
keep = d["gd1_phi2"] > -7
assert len(t) == keep.sum() == 2960, len(t)
ids = np.loadtxt("m.csv", delimiter=",", skiprows=1, usecols=0, dtype=np.int64)
assert (ids == d["source_id"][keep]).all(), "ids"
assert (t["phi1"] == d["gd1_phi1"][keep]).all() and (t["phi2"] == d["gd1_phi2"][keep]).all()
s, b = terms(t["phi1"], t["phi2"])
assert np.abs(t["p_stream"] + t["p_background"] - 1).max() < 1e-15
err = np.abs(t["p_stream"] - s / (s + b)).max()
assert err < 1e-11, err
assert ((t["p_stream"] > 0.5).sum() > 50), (t["p_stream"] > 0.5).sum()
' "$PARAMS" "$GD1DATA"
check "members: p = n_t / n of the scipy oracle, sums to 1, ids exact" '[ $prc = 0 ]'

## 2. the same as a FITS binary table; --threads gives the same numbers
run ./gd1 members --data "$GD1DATA" $SEL --params "$PARAMS" --out m.fits --threads 2
check "members --out .fits: exit 0" '[ $rc = 0 ]'
py '
import numpy as np
from astropy.io import fits
h = fits.open("m.fits")
h.verify("exception")
t = h["MEMBERS"]
assert t.columns.formats == ["K", "D", "D", "D", "D"], t.columns.formats
c = np.genfromtxt("m.csv", delimiter=",", names=True)
ids = np.loadtxt("m.csv", delimiter=",", skiprows=1, usecols=0, dtype=np.int64)
assert (t.data["source_id"] == ids).all()
for k in ("phi1", "phi2", "p_stream", "p_background"):
    assert (t.data[k] == c[k]).all(), k
'
check "members FITS table (K id, D columns) = the CSV, with 2 threads" '[ $prc = 0 ]'

## 3. --where on any column of the file, FITS and CSV alike
run ./gd1 members --data "$GD1DATA" $SEL --where 'phot_g_mean_mag < 20' --where 'ruwe<1.4' --params "$PARAMS" --out w.csv
check "--where on catalogue columns: exit 0" '[ $rc = 0 ]'
py '
import numpy as np
from astropy.io import fits
from astropy.table import Table
d = fits.open(__import__("sys").argv[1])[1].data
keep = (d["gd1_phi2"] > -7) & (d["phot_g_mean_mag"] < 20) & (d["ruwe"] < 1.4)
ids = np.loadtxt("w.csv", delimiter=",", skiprows=1, usecols=0, dtype=np.int64)
assert 100 < len(ids) < 2960 and (ids == d["source_id"][keep]).all(), len(ids)
t = Table.read(__import__("sys").argv[1])
t = t["source_id", "gd1_phi1", "gd1_phi2", "phot_g_mean_mag", "ruwe"]
t.write("gd1.csv", format="ascii.csv", overwrite=True)
t.write("gd1.tsv", format="ascii.tab", overwrite=True)
t.write("gd1.txt", format="ascii.basic", delimiter=" ", overwrite=True)
' "$GD1DATA"
check "--where phot_g_mean_mag, ruwe: the rows astropy selects" '[ $prc = 0 ]'
for f in gd1.csv gd1.tsv gd1.txt; do
  run ./gd1 members --data $f $SEL --where 'phot_g_mean_mag < 20' --where 'ruwe<1.4' --params "$PARAMS" --out w-$f.csv
  check "$f (comma, tab, blank separated): the same result" '[ $rc = 0 ] && cmp -s "$W/w.csv" "$W/w-$f.csv"'
done
run ./gd1 members --data gd1.csv $SEL --where 'nosuch < 1' --params "$PARAMS" --out bad.csv
check "--where on a column the file lacks: exit 2, named, nothing written" \
  '[ $rc = 2 ] && says "no column '"'"'nosuch'"'"'" && absent bad.csv'

## 4. missing values: --nan error (default) names the first row and column; --nan drop counts
py '
lines = open("gd1.csv").read().splitlines()
def setf(i, k, v):
    f = lines[i].split(",")
    f[k] = v
    lines[i] = ",".join(f)
setf(3, 3, "")       # an empty magnitude: not used here
setf(5, 2, "nan")    # file line 6
setf(8, 1, "NA")
open("gaps.csv", "w").write("\n".join(lines) + "\n")
'
run ./gd1 members --data gaps.csv $SEL --params "$PARAMS" --out gaps-out.csv
check "--nan error: exit 2, nothing written" '[ $rc = 2 ] && absent gaps-out.csv'
check "--nan error: first row and column named, with the way on" \
  'says "gaps.csv:6: column '"'"'gd1_phi2'"'"': non-finite value '"'"'nan'"'"' (--nan drop skips such rows)"'
run ./gd1 members --data gaps.csv $SEL --params "$PARAMS" --out gaps-out.csv --nan drop
check "--nan drop: exit 0, 2 rows counted" '[ $rc = 0 ] && says "3369 rows read, 2 with a missing value dropped, "'
py '
import numpy as np
t = np.genfromtxt("gd1.csv", delimiter=",", names=True, dtype=None, encoding=None)
keep = t["gd1_phi2"] > -7
keep[[4, 7]] = False
ids = np.loadtxt("gaps-out.csv", delimiter=",", skiprows=1, usecols=0, dtype=np.int64)
assert (ids == t["source_id"][keep]).all(), (len(ids), keep.sum())
'
check "--nan drop: those rows left out; an empty cell in a column not used is no matter" '[ $prc = 0 ]'
run ./gd1 optimize --data gaps.csv $SEL --nan drop --out /dev/null
check "optimize takes --nan drop too" '[ $rc = 0 ] || [ $rc = 1 ]'
py '
import numpy as np
from astropy.table import Table
t = Table.read("gd1.csv")
t["gd1_phi1"][2] = np.nan
t["ruwe"][4] = np.nan
t.write("gaps.fits", overwrite=True)
'
run ./gd1 members --data gaps.fits $SEL --params "$PARAMS" --out gf.csv
check "FITS NaN: exit 2 naming row 3" '[ $rc = 2 ] && says "gaps.fits: row 3: column '"'"'gd1_phi1'"'"': non-finite value (--nan drop"'
run ./gd1 members --data gaps.fits $SEL --where 'ruwe < 1.4' --params "$PARAMS" --out gf.csv --nan drop
check "FITS --nan drop: a NaN in a --where column counts too" '[ $rc = 0 ] && says ", 2 with a missing value dropped, "'

## 5. identifiers: row numbers without source_id (counted before the selection), text ids
printf 'x,y,name\n' > "$W/rows.csv"
py '
import numpy as np
from astropy.table import Table
t = Table.read("gd1.csv")
with open("rows.csv", "a") as f:
    for i, r in enumerate(t):
        f.write("%r,%r,\"st,%d\"\n" % (float(r["gd1_phi1"]), float(r["gd1_phi2"]), i))
'
run ./gd1 members --data rows.csv --column phi1=x --column phi2=y --where 'phi2 > -7' --outside keep --params "$PARAMS" --out r.fits
check "no source_id: exit 0" '[ $rc = 0 ]'
run ./gd1 members --data rows.csv --column phi1=x --column phi2=y --where 'phi2 > -7' --outside keep --params "$PARAMS" --out n.csv --id name
check "--id a text column: exit 0" '[ $rc = 0 ]'
run ./gd1 members --data rows.csv --column phi1=x --column phi2=y --where 'phi2 > -7' --outside keep --params "$PARAMS" --out n.fits --id name
py '
import numpy as np, csv
from astropy.io import fits
from astropy.table import Table
t = Table.read("gd1.csv")
keep = np.nonzero(np.asarray(t["gd1_phi2"]) > -7)[0]
r = fits.open("r.fits")[1]
assert r.columns.names[0] == "row" and r.columns.formats[0] == "K"
assert (r.data["row"] == keep + 1).all(), "row numbers"
rows = list(csv.reader(open("n.csv")))
assert rows[0][0] == "name" and [x[0] for x in rows[1:]] == ["st,%d" % i for i in keep]
n = fits.open("n.fits")[1]
assert n.columns.formats[0].endswith("A") and list(n.data["name"]) == ["st,%d" % i for i in keep]
assert (n.data["p_stream"] == r.data["p_stream"]).all()
'
check "ids: 1-based row numbers before the selection; text ids quoted in CSV, A in FITS" '[ $prc = 0 ]'

## 6. predict --out .fits: images with a WCS, equal to the CSV; 2-D and 1-D
run ./gd1 predict --params "$PARAMS" --grid phi1=-100:20:61 --grid phi2=-7:5:25 --out p.csv
run ./gd1 predict --params "$PARAMS" --grid phi1=-100:20:61 --grid phi2=-7:5:25 --out p.fits --unit phi1=deg --unit phi2=deg
check "predict .fits: exit 0" '[ $rc = 0 ]'
run ./gd1 predict --params "$PARAMS" --grid phi1=-80:-20:7 --grid phi2=1.5:1.5:1 --out p1.fits
run ./gd1 predict --params "$PARAMS" --grid phi1=-80:-20:7 --grid phi2=1.5:1.5:1 --out p1.csv
py "$ORACLE"'
import warnings
from astropy.wcs import WCS
for base, shape in (("p", (25, 61)), ("p1", (1, 7))):
    c = np.genfromtxt(base + ".csv", delimiter=",", names=True)
    h = fits.open(base + ".fits")
    h.verify("exception")   # the FITS standard, as astropy checks it
    assert [x.name.upper() for x in h[1:]] == ["STREAM", "BACKGROUND", "TOTAL"], [x.name for x in h]
    assert h[0].header["MODEL"] == "gd1"
    for name in ("stream", "background", "total"):
        img = h[name]
        assert img.data.shape == shape, img.data.shape
        with warnings.catch_warnings():
            warnings.simplefilter("error")   # no FITSFixedWarning: the WCS keywords are standard
            w = WCS(img.header)
        # the CSV grid: the last column fastest; the image: phi1 along axis 1 (x)
        x = c["phi1"].reshape(shape[::-1]).T
        y = c["phi2"].reshape(shape[::-1]).T
        v = c[name].reshape(shape[::-1]).T
        assert (img.data == v).all(), name
        j, i = np.mgrid[0:shape[0], 0:shape[1]]
        wx, wy = w.pixel_to_world_values(i, j)
        assert np.abs(wx - x).max() < 1e-12 and np.abs(wy - y).max() < 1e-12, name
    # p: from --unit; p1: the units models/gd1.dens declares
    assert h["total"].header["BUNIT"] == "deg-2" and h["total"].header["CUNIT1"] == "deg", base
    s, b = terms(x, y)
    assert np.abs(h["stream"].data / s - 1).max() < 1e-11
    assert np.abs(h["total"].data / (s + b) - 1).max() < 1e-11
' "$PARAMS"
check "predict FITS: WCS pixel -> world = the grid, values = the CSV = the oracle (2-D and 1-D)" '[ $prc = 0 ]'

## 7. members and predict at the same points: p_t = n_t / n
py '
import numpy as np
c = np.genfromtxt("p.csv", delimiter=",", names=True)
np.savetxt("pts.csv", np.c_[c["phi1"], c["phi2"]], delimiter=",", header="phi1,phi2", comments="", fmt="%.17g")
'
run ./gd1 members --data pts.csv --params "$PARAMS" --out pts-m.csv
py '
import numpy as np
c = np.genfromtxt("p.csv", delimiter=",", names=True)
m = np.genfromtxt("pts-m.csv", delimiter=",", names=True)
assert (m["row"] == np.arange(1, len(c) + 1)).all()
for t in ("stream", "background"):
    assert np.abs(m["p_" + t] - c[t] / c["total"]).max() < 1e-14, t
'
check "members = n_t / n of predict at the same points" '[ $rc = 0 ] && [ $prc = 0 ]'

## 8. draws: a small mixture sampled; posterior mean and 16/84% quantiles against numpy
cat > "$W/mix.dens" <<'EOF'
data { real x in [0, 1]; }
parameters { real<lower=0> a; real<lower=0> b; }
model { component peak = a * normal(x | 0.3, 0.1); component flat = b; intensity = peak + flat; }
EOF
"$DENSC" "$W/mix.dens" -o "$W/mix"
py '
import numpy as np
r = np.random.default_rng(5)
x = np.r_[r.normal(0.3, 0.1, 300), r.uniform(0, 1, 200)]
x = x[(x > 0) & (x < 1)]
np.savetxt("mix.csv", x, header="x", comments="", fmt="%.17g")
'
run ./mix sample --data mix.csv --out mixs --seed 4 --chains 2 --warmup 200 --draws 150 --quiet
check "mix: sampled" '[ $rc = 0 ] || [ $rc = 1 ]'
run ./mix members --data mix.csv --draws mixs_1.csv,mixs_2.csv --out mm.csv
check "members --draws: exit 0" '[ $rc = 0 ]'
run ./mix members --data mix.csv --draws mixs_1.csv --draws mixs_2.csv --out mm.fits --threads 2
run ./mix predict --draws mixs_1.csv,mixs_2.csv --grid x=0:1:11 --out mp.csv
run ./mix predict --draws mixs_1.csv,mixs_2.csv --grid x=0:1:11 --out mp.fits
py '
import numpy as np
from astropy.io import fits
from scipy.stats import norm
def draws(f):   # Stan CSV: comment lines anywhere, then the header and the draws
    rows = [l for l in open(f).read().splitlines() if l and not l.startswith("#")]
    v = np.array([[float(x) for x in l.split(",")] for l in rows[1:]])
    return {k: v[:, i] for i, k in enumerate(rows[0].split(","))}
d1, d2 = draws("mixs_1.csv"), draws("mixs_2.csv")
a, b = np.r_[d1["a"], d2["a"]], np.r_[d1["b"], d2["b"]]
m = np.genfromtxt("mm.csv", delimiter=",", names=True)
assert m.dtype.names == ("row", "x", "p_peak", "p_peak_q16", "p_peak_q84", "p_flat", "p_flat_q16", "p_flat_q84")
peak = a[None, :] * norm.pdf(m["x"][:, None], 0.3, 0.1)
p = peak / (peak + b[None, :])
assert np.abs(m["p_peak"] - p.mean(1)).max() < 1e-12
assert np.abs(m["p_peak_q16"] - np.quantile(p, 0.16, axis=1)).max() < 1e-12
assert np.abs(m["p_flat_q84"] - np.quantile(1 - p, 0.84, axis=1)).max() < 1e-12
f = fits.open("mm.fits")[1].data
for k in m.dtype.names[1:]:
    assert (f[k] == m[k]).all(), k
g = np.genfromtxt("mp.csv", delimiter=",", names=True)
n = a[None, :] * norm.pdf(g["x"][:, None], 0.3, 0.1)
assert np.abs(g["peak_q50"] / np.quantile(n, 0.5, axis=1) - 1).max() < 1e-12
assert np.abs(g["total_q84"] / np.quantile(n + b, 0.84, axis=1) - 1).max() < 1e-12
h = fits.open("mp.fits")
assert [x.name.upper() for x in h[1:]] == ["PEAK", "PEAK_Q16", "PEAK_Q84", "FLAT", "FLAT_Q16", "FLAT_Q84", "TOTAL", "TOTAL_Q16", "TOTAL_Q84"]
assert (h["peak"].data == g["peak_q50"]).all() and (h["total_q16"].data == g["total_q16"]).all()
assert h["peak_q84"].header["QUANTILE"] == 0.84 and h[0].header["NDRAWS"] == len(a)
'
check "draws: mean and quantiles = numpy's, FITS = CSV" '[ $prc = 0 ]'
run ./mix members --data mix.csv --draws mixs_1.csv,mixs_2.csv --thin 3 --component peak --out mt.csv
py '
import numpy as np
from scipy.stats import norm
def draws(f):
    rows = [l for l in open(f).read().splitlines() if l and not l.startswith("#")]
    v = np.array([[float(x) for x in l.split(",")] for l in rows[1:]])
    return {k: v[:, i] for i, k in enumerate(rows[0].split(","))}
d1, d2 = draws("mixs_1.csv"), draws("mixs_2.csv")
a, b = np.r_[d1["a"][::3], d2["a"][::3]], np.r_[d1["b"][::3], d2["b"][::3]]
m = np.genfromtxt("mt.csv", delimiter=",", names=True)
assert m.dtype.names == ("row", "x", "p_peak", "p_peak_q16", "p_peak_q84")
peak = a[None, :] * norm.pdf(m["x"][:, None], 0.3, 0.1)
assert np.abs(m["p_peak"] - (peak / (peak + b[None, :])).mean(1)).max() < 1e-12
'
check "--thin 3 --component peak" '[ $rc = 0 ] && [ $prc = 0 ]'

# one draw: every statistic is its value, in the CSV and the FITS maps alike
py '
rows = [l for l in open("mixs_1.csv").read().splitlines() if l and not l.startswith("#")]
open("one.csv", "w").write(rows[0] + "\n" + rows[1] + "\n")
d = dict(zip(rows[0].split(","), map(float, rows[1].split(","))))
open("one.json", "w").write("{\"a\": %r, \"b\": %r}" % (d["a"], d["b"]))
'
run ./mix predict --draws one.csv --grid x=0:1:5 --out one-d.csv
run ./mix predict --draws one.csv --grid x=0:1:5 --out one-d.fits
run ./mix predict --params one.json --grid x=0:1:5 --out one-p.csv
py '
import numpy as np
from astropy.io import fits
d = np.genfromtxt("one-d.csv", delimiter=",", names=True)
p = np.genfromtxt("one-p.csv", delimiter=",", names=True)
h = fits.open("one-d.fits")
for t in ("peak", "flat", "total"):
    for q in ("q16", "q50", "q84"):
        assert (d[t + "_" + q] == p[t]).all(), (t, q)
    assert (h[t + "_q16"].data == p[t]).all() and (h[t].data == p[t]).all()
'
check "one draw: the quantiles are its value, CSV and FITS" '[ $prc = 0 ]'

# Ctrl-C while predict computes: exit 130 at once, no output, no temporary file
(cd "$W" && exec ./mix predict --draws mixs_1.csv,mixs_2.csv --grid x=0:1:1000000 --out big.csv 2> /dev/null) &
pid=$!
sleep 1
kill -INT $pid
wait $pid && rc=0 || rc=$?
check "predict interrupted while computing: 130, nothing written" \
  '[ $rc = 130 ] && absent big.csv && [ -z "$(ls -A "$W" | grep "big.csv")" ]'

## 9. bad input: a clear message, exit 2, nothing written
bad_case() {   # NAME MESSAGE ARGS...: exit 2, the message, no out.*
  name=$1 msg=$2
  shift 2
  rm -f "$W"/out.*
  run "$@"
  check "$name: exit 2, said, nothing written" '[ $rc = 2 ] && says "$msg" && [ -z "$(ls "$W" | grep "^out\.")" ]'
}
bad_case "unknown component" "no component 'strem' (components: stream, background)" \
  ./gd1 members --data "$GD1DATA" $SEL --params "$PARAMS" --out out.csv --component strem
bad_case "predict unknown component" "no component 'x'" \
  ./gd1 predict --params "$PARAMS" --grid phi1=0:1:3 --grid phi2=0:1:3 --out out.csv --component stream,x
bad_case "grid N = 0" "N from 2 to 1000000" ./gd1 predict --params "$PARAMS" --grid phi1=0:1:0 --grid phi2=0:1:3 --out out.fits
bad_case "grid N = 1, LO != HI" "N from 2 to 1000000" ./gd1 predict --params "$PARAMS" --grid phi1=0:1:1 --grid phi2=0:1:3 --out out.fits
bad_case "grid N = 3, LO = HI" "finite LO < HI" ./gd1 predict --params "$PARAMS" --grid phi1=1:1:3 --grid phi2=0:1:3 --out out.csv
bad_case "grid reversed" "finite LO < HI" ./gd1 predict --params "$PARAMS" --grid phi1=1:0:3 --grid phi2=0:1:3 --out out.csv
bad_case "draws of another model" "(draws of another model" \
  ./gd1 members --data "$GD1DATA" $SEL --draws mixs_1.csv --out out.csv
bad_case "draws with an extra parameter" "column 'peak' is not a parameter of the model" \
  sh -c "sed 's/^lp__,\(.*\)\$/lp__,\1,peak/; /^[-0-9]/s/\$/,1/' mixs_1.csv > extra.csv && ./mix members --data mix.csv --draws extra.csv --out out.csv"
bad_case "--id that does not exist" "no column 'objid'" \
  ./gd1 members --data gd1.csv $SEL --params "$PARAMS" --id objid --out out.csv
bad_case "members .txt" "unknown format '.txt' (members writes .csv or .fits)" \
  ./gd1 members --data "$GD1DATA" $SEL --params "$PARAMS" --out out.txt
bad_case "predict .png" "unknown format '.png' (predict writes .csv or .fits)" \
  ./gd1 predict --params "$PARAMS" --grid phi1=0:1:3 --grid phi2=0:1:3 --out out.png
bad_case "--nan maybe" "--nan: expected 'error' or 'drop'" ./gd1 members --data gd1.csv --nan maybe --params "$PARAMS" --out out.csv
bad_case "members without parameters" "members needs either --draws FILES or --params FILE" \
  ./gd1 members --data gd1.csv --out out.csv
bad_case "--unit of no column" "--unit: the model has no column 'z'" \
  ./gd1 predict --params "$PARAMS" --grid phi1=0:1:3 --grid phi2=0:1:3 --out out.fits --unit z=deg
check "no temporary files left" '[ -z "$(ls -A "$W" | grep "\.tmp")" ]'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
