#!/usr/bin/python3
"""bench/gen_catalogue.py — synthetic GD-1-like catalogues drawn from models/gd1.dens.

    /usr/bin/python3 bench/gen_catalogue.py --stars N --seed S --out FILE \
        [--params PARAMS.json] [--format csv|fits]

The model (models/gd1.dens), on the window phi1 in [-100, 20], phi2 in [-7, 5]:

    n(phi1, phi2) = exp(S_amp(phi1)) * Normal(phi2 | S_track(phi1), exp(S_std(phi1)))
                  + exp(S_bkg(phi1))

with not-a-knot cubic splines (scipy CubicSpline, bc_type='not-a-knot', extrapolating)
through ln_n0 at linspace(-110, 30, 31), mean_phi2 and ln_std_phi2 at
linspace(-110, 30, 17), ln_n0_bkg at linspace(-120, 40, 7).

Parameters: the seed's optimum (/work/shared/reference/seed_values.json, gd1 /
seed_optimum, order ln_n0, mean_phi2, ln_std_phi2, ln_n0_bkg) unless --params gives a
densc parameter file (JSON object name -> array, or an optimize/eval output with
"params"). The same constant ln(N / expected total) is added to ln_n0 and ln_n0_bkg so
that the expected total count is N (the stream/background ratio is kept); the scaled
true parameters are written to FILE.params.json in densc's parameter format.

The draw is an exact inhomogeneous Poisson process on the window:
  * expected counts: the stream's phi2 integral is analytic (normal CDF differences over
    [-7, 5]), the background's is 12; the phi1 integrals are Gauss-Legendre (order 16,
    4 sub-pieces) on each piece between consecutive breakpoints (the window ends and
    every knot inside), checked against order 24 x 8 sub-pieces;
  * counts: n_stream ~ Poisson(Lambda_stream), n_bkg ~ Poisson(Lambda_bkg);
  * positions, by rejection sampling (no binning, no interpolation of a CDF):
      background: phi1 from exp(S_bkg) on [-100, 20] against a piecewise-constant
        envelope whose value on each of ~4800 cells is the exact maximum of the cubic
        S_bkg on the cell (cell ends and the derivative's real roots inside it);
        phi2 uniform on [-7, 5];
      stream: phi1 from exp(S_amp) against the same kind of envelope, then phi2 from
        Normal(S_track(phi1), exp(S_std(phi1))); the pair is accepted only when phi2
        falls in [-7, 5]. The accepted phi1 then has density proportional to
        exp(S_amp(phi1)) * P([-7, 5] | phi1) and phi2 given phi1 is the normal truncated
        to [-7, 5], as the model says. Proposals are drawn in vectorised batches until
        exactly n_stream (n_bkg) are accepted.
Rows are written in a random order (stream and background mixed).

Output: CSV with the header "phi1,phi2" (numbers in the shortest form that reads back
as the same double), or a FITS binary table (astropy) with float64 columns PHI1, PHI2.
A one-line summary goes to stderr.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.special import ndtr

PHI1 = (-100.0, 20.0)
PHI2 = (-7.0, 5.0)
KNOTS = {
    "ln_n0": np.linspace(-110.0, 30.0, 31),
    "mean_phi2": np.linspace(-110.0, 30.0, 17),
    "ln_std_phi2": np.linspace(-110.0, 30.0, 17),
    "ln_n0_bkg": np.linspace(-120.0, 40.0, 7),
}
ORDER = ("ln_n0", "mean_phi2", "ln_std_phi2", "ln_n0_bkg")
SEED_VALUES = "/work/shared/reference/seed_values.json"


# ---------------------------------------------------------------- parameters
def seed_optimum():
    with open(SEED_VALUES) as f:
        gd1 = json.load(f)["gd1"]
    # the file's description: ln_n0[31], mean_phi2[17], ln_std_phi2[17], ln_n0_bkg[7]
    names = [p.split("[")[0] for p in gd1["params"]]
    if tuple(names) != ORDER:
        raise SystemExit("gen_catalogue: unexpected parameter order in %s: %s" % (SEED_VALUES, names))
    x = np.asarray(gd1["points"]["seed_optimum"]["x"], dtype=float)
    return split_vector(x)


def split_vector(x):
    out, i = {}, 0
    for name in ORDER:
        k = len(KNOTS[name])
        out[name] = np.array(x[i:i + k], dtype=float)
        i += k
    if i != len(x):
        raise SystemExit("gen_catalogue: expected %d values, got %d" % (i, len(x)))
    return out


def read_params(path):
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit("gen_catalogue: %s: %s" % (path, e))
    if isinstance(d, dict) and isinstance(d.get("params"), dict):
        d = d["params"]  # the output of optimize or eval
    out = {}
    for name in ORDER:
        if name not in d:
            raise SystemExit("gen_catalogue: %s: no %r" % (path, name))
        v = np.asarray(d[name], dtype=float).ravel()
        if len(v) != len(KNOTS[name]) or not np.all(np.isfinite(v)):
            raise SystemExit("gen_catalogue: %s: %r needs %d finite values" % (path, name, len(KNOTS[name])))
        out[name] = v
    return out


# ---------------------------------------------------------------- model
class Model:
    def __init__(self, p):
        self.p = p
        sp = lambda name: CubicSpline(KNOTS[name], p[name], bc_type="not-a-knot", extrapolate=True)
        self.s_amp = sp("ln_n0")
        self.s_track = sp("mean_phi2")
        self.s_std = sp("ln_std_phi2")
        self.s_bkg = sp("ln_n0_bkg")

    def p_window(self, x):
        """P(phi2 in [-7, 5] | phi1 = x) for the stream's normal, accurate in both tails."""
        m = self.s_track(x)
        s = np.exp(self.s_std(x))
        a = (PHI2[0] - m) / s
        b = (PHI2[1] - m) / s
        # for a > 0 use the upper tail: Phi(b) - Phi(a) = Phi(-a) - Phi(-b)
        return np.where(a > 0, ndtr(-a) - ndtr(-b), ndtr(b) - ndtr(a))

    def stream_phi1(self, x):
        return np.exp(self.s_amp(x)) * self.p_window(x)

    def bkg_phi1(self, x):
        return np.exp(self.s_bkg(x)) * (PHI2[1] - PHI2[0])


def breakpoints():
    inner = np.concatenate([k[(k > PHI1[0]) & (k < PHI1[1])] for k in KNOTS.values()])
    return np.unique(np.concatenate([PHI1, inner]))


def gl_integral(f, order, subdiv):
    """Gauss-Legendre of the given order on `subdiv` equal sub-pieces of every piece
    between consecutive breakpoints."""
    t, w = np.polynomial.legendre.leggauss(order)
    bp = breakpoints()
    edges = np.unique(np.concatenate(
        [np.linspace(a, b, subdiv + 1) for a, b in zip(bp[:-1], bp[1:])]))
    lo, hi = edges[:-1, None], edges[1:, None]
    x = 0.5 * (hi - lo) * t[None, :] + 0.5 * (hi + lo)
    return float(np.sum(0.5 * (hi - lo) * w[None, :] * f(x)))


def expected_counts(model):
    """(Lambda_stream, Lambda_bkg, relative change against a finer rule)."""
    fs, fb = model.stream_phi1, model.bkg_phi1
    ls, lb = gl_integral(fs, 16, 4), gl_integral(fb, 16, 4)
    ls2, lb2 = gl_integral(fs, 24, 8), gl_integral(fb, 24, 8)
    err = max(abs(ls - ls2) / max(ls2, 1e-300), abs(lb - lb2) / max(lb2, 1e-300))
    return ls2, lb2, err


# ---------------------------------------------------------------- sampling
class ExpCubicEnvelope:
    """Rejection sampler for phi1 with density proportional to exp(S(phi1)) on the
    window, S a cubic spline: a piecewise-constant envelope equal, on each cell, to
    exp(max of S on the cell) (exact: cell ends and the derivative's roots inside)."""

    def __init__(self, spline, cells=4800):
        edges = np.unique(np.concatenate([np.linspace(PHI1[0], PHI1[1], cells + 1), breakpoints()]))
        vmax = np.maximum(spline(edges[:-1]), spline(edges[1:]))
        crit = spline.derivative().roots(extrapolate=False)
        crit = np.real(crit[np.isfinite(crit)])
        crit = crit[(crit > PHI1[0]) & (crit < PHI1[1])]
        if crit.size:
            cell = np.clip(np.searchsorted(edges, crit, side="right") - 1, 0, len(edges) - 2)
            np.maximum.at(vmax, cell, spline(crit))
        # a small margin covers rounding in S and in the roots (it only costs acceptance)
        vmax = vmax + 1e-9 + 1e-12 * np.abs(vmax)
        self.spline, self.edges, self.vmax = spline, edges, vmax
        shift = vmax.max()
        mass = np.diff(edges) * np.exp(vmax - shift)
        self.cdf = np.cumsum(mass) / mass.sum()
        self.cdf[-1] = 1.0
        # expected acceptance: integral of exp(S) / integral of the envelope
        t, w = np.polynomial.legendre.leggauss(8)
        lo, hi = edges[:-1, None], edges[1:, None]
        x = 0.5 * (hi - lo) * t + 0.5 * (hi + lo)
        exact = np.sum(0.5 * (hi - lo) * w * np.exp(spline(x) - shift))
        self.acceptance = float(exact / mass.sum())

    def propose(self, rng, m):
        """m draws from the envelope and the accept mask of the exp(S) rejection step."""
        c = np.searchsorted(self.cdf, rng.random(m), side="right")
        c = np.minimum(c, len(self.vmax) - 1)
        lo = self.edges[c]
        x = lo + (self.edges[c + 1] - lo) * rng.random(m)
        accept = np.log(rng.random(m)) < self.spline(x) - self.vmax[c]
        return x, accept


def draw(rng, n, propose_accepted, rate):
    """Exactly n accepted draws; propose_accepted(m) returns the accepted part of m
    proposals, rate is the expected acceptance (for the batch size only)."""
    out, have, rounds = [], 0, 0
    while have < n:
        need = n - have
        m = int(min(max(need / max(rate, 1e-3) * 1.05 + 64, 1024), 2 ** 24))
        got = propose_accepted(m)
        out.append(got)
        have += len(got[0])
        rounds += 1
        if rounds > 10000:
            raise SystemExit("gen_catalogue: rejection sampling accepts too little (rate %.3g)" % rate)
    return tuple(np.concatenate([g[i] for g in out])[:n] for i in range(len(out[0])))


def sample_background(rng, model, n, env):
    def prop(m):
        x, ok = env.propose(rng, m)
        x = x[ok]
        return x, rng.uniform(PHI2[0], PHI2[1], len(x))
    return draw(rng, n, prop, env.acceptance)


def sample_stream(rng, model, n, env, lam_stream):
    # acceptance: exp(S_amp) step, then the phi2 window
    full = gl_integral(lambda x: np.exp(model.s_amp(x)), 24, 8)
    rate = env.acceptance * (lam_stream / full if full > 0 else 1.0)

    def prop(m):
        x, ok = env.propose(rng, m)
        x = x[ok]
        y = model.s_track(x) + np.exp(model.s_std(x)) * rng.standard_normal(len(x))
        ok = (y >= PHI2[0]) & (y <= PHI2[1])
        return x[ok], y[ok]
    return draw(rng, n, prop, rate)


# ---------------------------------------------------------------- output
def write_csv(path, x, y, chunk=1 << 20):
    with open(path, "w") as f:
        f.write("phi1,phi2\n")
        for i in range(0, len(x), chunk):
            xs, ys = x[i:i + chunk], y[i:i + chunk]
            flat = np.empty(2 * len(xs))
            flat[0::2], flat[1::2] = xs, ys
            # %r is the shortest form that reads back as the same double
            f.write(("%r,%r\n" * len(xs)) % tuple(flat.tolist()))


def write_fits(path, x, y):
    from astropy.io import fits
    cols = [fits.Column(name="PHI1", format="D", array=x),
            fits.Column(name="PHI2", format="D", array=y)]
    hdu = fits.BinTableHDU.from_columns(cols)
    hdu.header["ORIGIN"] = "bench/gen_catalogue.py"
    hdu.writeto(path, overwrite=True)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def atomic(path, writer, *args):
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        writer(tmp, *args)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ---------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description="Synthetic GD-1-like catalogue from models/gd1.dens")
    ap.add_argument("--stars", type=float, required=True, help="expected total number of stars")
    ap.add_argument("--seed", type=int, required=True, help="random seed (numpy PCG64)")
    ap.add_argument("--out", required=True, help="output catalogue")
    ap.add_argument("--params", help="densc parameter file (default: the seed's optimum)")
    ap.add_argument("--format", choices=("csv", "fits"), default=None,
                    help="default: fits if --out ends in .fits/.fit/.fits.gz, else csv")
    a = ap.parse_args(argv)
    if not (a.stars > 0 and math.isfinite(a.stars)):
        ap.error("--stars must be positive")
    fmt = a.format or ("fits" if a.out.lower().endswith((".fits", ".fit", ".fits.gz")) else "csv")
    t0 = time.time()

    p = read_params(a.params) if a.params else seed_optimum()
    ls, lb, _ = expected_counts(Model(p))
    shift = math.log(a.stars / (ls + lb))
    p = dict(p)
    p["ln_n0"] = p["ln_n0"] + shift
    p["ln_n0_bkg"] = p["ln_n0_bkg"] + shift
    model = Model(p)
    ls, lb, qerr = expected_counts(model)

    rng = np.random.default_rng(a.seed)
    ns, nb = int(rng.poisson(ls)), int(rng.poisson(lb))
    env_s = ExpCubicEnvelope(model.s_amp)
    env_b = ExpCubicEnvelope(model.s_bkg)
    xs, ys = sample_stream(rng, model, ns, env_s, ls)
    xb, yb = sample_background(rng, model, nb, env_b)
    x = np.concatenate([xs, xb])
    y = np.concatenate([ys, yb])
    perm = rng.permutation(len(x))
    x, y = np.ascontiguousarray(x[perm]), np.ascontiguousarray(y[perm])
    t1 = time.time()

    atomic(a.out, write_fits if fmt == "fits" else write_csv, x, y)
    truth = {name: [float(v) for v in p[name]] for name in ORDER}
    atomic(a.out + ".params.json", write_json, truth)
    t2 = time.time()

    print("gen_catalogue: seed %d; stream expected %.6f drawn %d; background expected %.6f drawn %d; "
          "total expected %.6f drawn %d; ln-scale shift %+.6f; quadrature rel. change %.1e; "
          "sample %.2f s, write %.2f s (%s)"
          % (a.seed, ls, ns, lb, nb, ls + lb, ns + nb, shift, qerr, t1 - t0, t2 - t1, fmt),
          file=sys.stderr)


if __name__ == "__main__":
    main()
