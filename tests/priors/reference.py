#!/usr/bin/python3
"""reference.py -- the reference log priors and gradients of tests/priors/*.dens.

Each model's log prior is written here again with scipy.stats (independently of
densc's code): the families in Stan's parameterisations, a prior on a bounded
parameter truncated to the bounds (logpdf - log P(bounds)).  The gradient is a
Richardson-extrapolated central difference of that function.  Output, one line a
point: MODEL, the parameter values as JSON, the log prior, the gradient over every
parameter but 'a' (the likelihood's), in declaration order.

Regenerate: /usr/bin/python3 tests/priors/reference.py > tests/priors/reference.txt
"""
import json
import numpy as np
from scipy import stats

ln2 = np.log(2.0)


def trunc(dist, x, lo, hi):
    """logpdf of dist truncated to (lo, hi); the mass from the tail it is in (a mass
    of 1e-12 as 1 - cdf would keep 4 digits)."""
    if hi == np.inf:
        lm = dist.logsf(lo)
    elif lo == -np.inf:
        lm = dist.logcdf(hi)
    elif dist.cdf(lo) > 0.5:
        lm = np.log(dist.sf(lo) - dist.sf(hi))
    else:
        lm = np.log(dist.cdf(hi) - dist.cdf(lo))
    return dist.logpdf(x) - lm


def normal(p):
    N = stats.norm
    v = p["v"]
    lp = N(1, 2).logpdf(p["m"])
    lp += stats.halfnorm(scale=3).logpdf(p["sd"])
    lp += N(p["m"], p["sd"]).logpdf(v[0])
    lp += sum(N(v[i - 1], p["sd"]).logpdf(v[i]) for i in range(1, 4))
    lp += stats.halfnorm(scale=p["sd"]).logpdf(p["h"])
    lp += trunc(N(0.5, 2), p["tr"], 1, np.inf)
    lp += stats.truncnorm(-1, 2).logpdf(p["tb"])
    lp += sum(N(v[i + 1], 0.5).logpdf(p["w"][i]) for i in range(3))
    lp += trunc(N(p["m"], p["sd"]), p["pt"], 0, np.inf)
    lp += trunc(N(p["m"], 0.5), p["pb"], -1, 2)
    lp += sum(trunc(N(p["w"][i], p["sd"]), p["wp"][i], 0, np.inf) for i in range(3))
    return lp


def student_t(p):
    T = stats.t
    lp = stats.gamma(a=2, scale=1 / 0.1).logpdf(p["nu"])
    lp += stats.expon(scale=1).logpdf(p["s"])
    lp += T(p["nu"], 0.5, p["s"]).logpdf(p["t1"])
    lp += sum(stats.norm(0, 1).logpdf(p["mv"][i]) for i in range(3))
    lp += sum(T(4, p["mv"][i], p["s"]).logpdf(p["tv"][i]) for i in range(3))
    lp += T(3, 0, 2).logpdf(p["ht"]) + ln2
    lp += T(1.5, -1, 0.25).logpdf(p["t2"])
    return lp


def cauchy(p):
    C = stats.cauchy
    cv = p["cv"]
    lp = C(0.5, 1.5).logpdf(p["c1"])
    lp += stats.lognorm(s=1, scale=1).logpdf(p["s"])
    lp += stats.halfcauchy(scale=p["s"]).logpdf(p["hc"])
    lp += C(0, 1).logpdf(cv[0])
    lp += sum(C(cv[i - 1], 2).logpdf(cv[i]) for i in range(1, 3))
    lp += trunc(C(1, 0.5), p["ct"], -2, 3)
    return lp


def exponential(p):
    E = lambda rate: stats.expon(scale=1 / rate)
    lp = E(2).logpdf(p["e1"])
    lp += stats.gamma(a=3, scale=1 / 2).logpdf(p["r"])
    lp += E(p["r"]).logpdf(p["e2"])
    lp += sum(E(0.5).logpdf(p["rv"][i]) for i in range(3))
    lp += sum(E(p["rv"][i]).logpdf(p["ev"][i]) for i in range(3))
    lp += E(2).logpdf(p["et"]) - E(2).logsf(1)
    lp += E(p["r"]).logpdf(p["ept"]) - E(p["r"]).logsf(0.5)
    return lp


def lognormal(p):
    L = lambda mu, s: stats.lognorm(s=s, scale=np.exp(mu))
    lp = L(0.3, 0.8).logpdf(p["l1"])
    lp += stats.norm(0, 1).logpdf(p["mu"])
    lp += stats.gamma(a=2, scale=1 / 2).logpdf(p["s"])
    lp += L(p["mu"], p["s"]).logpdf(p["l2"])
    lp += sum(L(p["mu"], 0.5).logpdf(p["lv"][i]) for i in range(2))
    lp += trunc(L(1, 1), p["lt"], 0, 5)
    lp += trunc(L(p["mu"], p["s"]), p["lpt"], 0, 5)
    return lp


def gamma(p):
    G = lambda a, b: stats.gamma(a=a, scale=1 / b)
    lp = G(2.5, 1.5).logpdf(p["g1"])
    lp += stats.expon(scale=1 / 0.5).logpdf(p["al"])
    lp += stats.lognorm(s=1, scale=1).logpdf(p["be"])
    lp += G(p["al"], p["be"]).logpdf(p["g2"])
    lp += sum(G(2, 1).logpdf(p["bv"][i]) for i in range(3))
    lp += sum(G(0.7, p["bv"][i]).logpdf(p["gv"][i]) for i in range(3))
    return lp


def uniform(p):
    lp = stats.uniform(-1, 3).logpdf(p["u"])
    lp += sum(stats.uniform(0, 1).logpdf(p["uv"][i]) for i in range(3))
    lp += stats.uniform(0.1, 9.9).logpdf(p["sd"])
    lp += stats.norm(p["u"], p["sd"]).logpdf(p["z"])
    return lp


POINTS = {
    "normal": [
        {"m": 0.3, "sd": 1.4, "v": [0.2, -0.5, 1.1, 0.7], "h": 0.9, "tr": 1.6, "tb": -0.4, "w": [0.1, 0.8, 1.3], "pt": 0.8, "pb": 1.2, "wp": [0.3, 1.1, 2.0]},
        {"m": -2.1, "sd": 0.35, "v": [-1.9, -2.2, -1.5, -1.6], "h": 0.05, "tr": 4.2, "tb": 1.9, "w": [-2.5, -1.2, -1.9], "pt": 0.02, "pb": -0.9, "wp": [0.01, 0.2, 0.05]},
        {"m": 5.0, "sd": 7.5, "v": [3.0, 12.0, -4.0, 0.0], "h": 20.0, "tr": 1.0001, "tb": 0.0, "w": [11.0, -3.0, 1.0], "pt": 6.0, "pb": 0.1, "wp": [9.0, 0.5, 4.0]},
    ],
    "student_t": [
        {"nu": 3.5, "s": 1.3, "t1": -0.4, "mv": [0.1, -0.2, 0.4], "tv": [0.3, 1.9, -2.5], "ht": 0.6, "t2": -0.7},
        {"nu": 0.8, "s": 0.2, "t1": 4.0, "mv": [1.5, 0.0, -1.0], "tv": [1.4, 0.3, -1.1], "ht": 7.0, "t2": 3.0},
        {"nu": 40.0, "s": 3.0, "t1": 0.5, "mv": [-0.5, 0.5, 2.0], "tv": [-9.0, 0.5, 2.2], "ht": 0.01, "t2": -1.0},
    ],
    "cauchy": [
        {"c1": 2.5, "s": 0.7, "hc": 1.1, "cv": [0.2, -1.5, 3.0], "ct": 0.3},
        {"c1": -40.0, "s": 3.0, "hc": 0.02, "cv": [5.0, 5.1, -20.0], "ct": 2.9},
        {"c1": 0.5, "s": 0.05, "hc": 10.0, "cv": [-0.3, 0.0, 0.1], "ct": -1.9},
    ],
    "exponential": [
        {"e1": 0.4, "r": 1.7, "e2": 0.9, "rv": [0.5, 2.0, 3.5], "ev": [1.2, 0.1, 0.02], "et": 1.3, "ept": 0.7},
        {"e1": 5.0, "r": 0.2, "e2": 12.0, "rv": [0.01, 0.3, 7.0], "ev": [50.0, 4.0, 0.3], "et": 3.0, "ept": 4.0},
        {"e1": 1e-3, "r": 6.0, "e2": 0.05, "rv": [1.0, 1.0, 1.0], "ev": [1.0, 2.0, 3.0], "et": 1.0001, "ept": 0.5001},
    ],
    "lognormal": [
        {"l1": 1.7, "mu": 0.2, "s": 0.9, "l2": 2.4, "lv": [1.3, 0.6], "lt": 2.1, "lpt": 1.4},
        {"l1": 0.05, "mu": -1.5, "s": 0.3, "l2": 0.2, "lv": [0.1, 0.4], "lt": 4.9, "lpt": 0.3},
        {"l1": 30.0, "mu": 2.0, "s": 2.5, "l2": 0.5, "lv": [9.0, 5.0], "lt": 0.01, "lpt": 4.5},
    ],
    "gamma": [
        {"g1": 2.2, "al": 3.5, "be": 1.3, "g2": 1.8, "bv": [0.8, 2.0, 1.1], "gv": [0.4, 0.05, 2.0]},
        {"g1": 0.1, "al": 0.3, "be": 0.2, "g2": 0.01, "bv": [5.0, 0.1, 2.5], "gv": [0.001, 7.0, 0.2]},
        {"g1": 9.0, "al": 25.0, "be": 8.0, "g2": 3.2, "bv": [1.0, 1.0, 1.0], "gv": [1.0, 1.0, 1.0]},
    ],
    "uniform": [
        {"u": 0.3, "uv": [0.1, 0.5, 0.99], "sd": 1.7, "z": -0.2},
        {"u": -0.95, "uv": [0.001, 0.3, 0.7], "sd": 9.5, "z": 14.0},
        {"u": 1.9, "uv": [0.5, 0.5, 0.5], "sd": 0.12, "z": 1.85},
    ],
}


def flatten(p):
    return [v for x in p.values() for v in (x if isinstance(x, list) else [x])]


def unflatten(p, th):
    q, k = {}, 0
    for name, x in p.items():
        if isinstance(x, list):
            q[name] = list(th[k:k + len(x)])
            k += len(x)
        else:
            q[name] = th[k]
            k += 1
    return q


def gradient(f, p):
    """Central differences, Richardson-extrapolated twice (error O(h^6))."""
    th = np.array(flatten(p), dtype=float)
    g = np.empty_like(th)
    for k in range(len(th)):
        h0 = 1e-3 * max(abs(th[k]), 1e-3) if th[k] != 0 else 1e-4
        d = []
        for h in (h0, h0 / 2, h0 / 4):
            up, dn = th.copy(), th.copy()
            up[k] += h
            dn[k] -= h
            d.append((f(unflatten(p, up)) - f(unflatten(p, dn))) / (2 * h))
        r1 = [(4 * d[1] - d[0]) / 3, (4 * d[2] - d[1]) / 3]
        g[k] = (16 * r1[1] - r1[0]) / 15
    return g


def main():
    for model, points in POINTS.items():
        f = globals()[model]
        for p in points:
            q = dict({"a": 0.5}, **p)
            lp = f(p)
            g = gradient(f, p)
            print(model, json.dumps(q, separators=(",", ":")), repr(float(lp)), " ".join(repr(float(x)) for x in g))


if __name__ == "__main__":
    main()
