"""Simulation-based calibration (Talts et al. 2018) of densc's sampler: the helper of
scripts/sbc.sh.

  sbc.py simulate DIR R [--seed-base B] [--mu-shift X]
      For r = 1..R draw (a, mu, s) from the prior of tests/sbc/sbc.dens (numpy, seeded
      by B + r), simulate the Poisson process on the window and write DIR/data_r.csv
      (header x); write the true values to DIR/truth.csv.  --mu-shift X simulates the
      data from mu + X (a deliberately wrong setup, to see the check fail).

  sbc.py analyse DIR R [--L 99] [--bins 10] [--alpha 0.001] [--max-failed 0.05]
      Read DIR/out_r_1.csv (Stan CSV) and DIR/rc_r (the sampler's exit status), thin
      the draws to L, rank each true value among them (0..L), test the ranks of each
      parameter for uniformity (chi-square on --bins bins), print histograms and a
      summary.  Exit 1 when a p-value is below --alpha or more than --max-failed of the
      replications failed; else 0.

The prior and the window below must match tests/sbc/sbc.dens.
"""
import argparse
import math
import os
import sys

import numpy as np
from scipy import stats

LO, HI = -3.0, 3.0                      # data { real x in [-3, 3]; }
PRIOR = {                               # name: (mean, sd, lower bound)
    "a": (4.0, 0.5, -math.inf),
    "mu": (0.0, 0.7, -math.inf),
    "s": (1.0, 0.5, 0.0),               # real<lower=0> s: a normal truncated at 0
}
PARAMS = list(PRIOR)


def draw_prior(rng):
    theta = {}
    for name, (m, sd, lower) in PRIOR.items():
        # truncnorm with a = -inf is the plain normal; with a finite lower bound the
        # truncated normal (what the sampler's prior density is on s > 0)
        lo_std = (lower - m) / sd
        theta[name] = float(stats.truncnorm.rvs(lo_std, math.inf, loc=m, scale=sd,
                                                random_state=rng))
    return theta


def simulate_points(rng, a, mu, s):
    """The Poisson process exp(a) * normal(x | mu, s) on [LO, HI]."""
    alpha, beta = (LO - mu) / s, (HI - mu) / s
    # P(LO < x < HI) for x ~ normal(mu, s), stable in either tail
    mass = (stats.norm.cdf(beta) - stats.norm.cdf(alpha) if mu > 0
            else stats.norm.sf(alpha) - stats.norm.sf(beta))
    n = rng.poisson(math.exp(a) * mass)
    if n == 0:
        return np.empty(0)
    x = stats.truncnorm.rvs(alpha, beta, loc=mu, scale=s, size=n, random_state=rng)
    return np.clip(x, LO, HI)           # guard against rounding just past a bound


def cmd_simulate(args):
    with open(os.path.join(args.dir, "truth.csv"), "w") as truth:
        truth.write("r,%s,N\n" % ",".join(PARAMS))
        for r in range(1, args.R + 1):
            rng = np.random.default_rng(args.seed_base + r)
            th = draw_prior(rng)
            x = simulate_points(rng, th["a"], th["mu"] + args.mu_shift, th["s"])
            with open(os.path.join(args.dir, "data_%d.csv" % r), "w") as f:
                f.write("x\n")
                f.writelines("%.17g\n" % v for v in x)
            truth.write("%d,%s,%d\n" % (r, ",".join("%.17g" % th[p] for p in PARAMS),
                                        len(x)))
    return 0


def read_stan_csv(path):
    """The header and the draws (a 2-D array) of a Stan CSV file."""
    with open(path) as f:
        lines = [ln for ln in f if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise ValueError("no header")
    header = lines[0].strip().split(",")
    rows = [[float(v) for v in ln.split(",")] for ln in lines[1:]]
    draws = np.array(rows, dtype=float).reshape(len(rows), len(header))
    return header, draws


def ess(x):
    """Effective sample size of one chain (Geyer's initial monotone sequence)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 4 or np.var(x) == 0:
        return float("nan")
    y = x - x.mean()
    f = np.fft.rfft(y, 2 * n)
    acov = np.fft.irfft(f * np.conj(f))[:n] / n
    rho = acov / acov[0]
    tau, prev, k = -1.0, math.inf, 0
    while k + 1 < n:
        pair = rho[k] + rho[k + 1]
        if pair < 0:
            break
        pair = min(pair, prev)
        tau += 2 * pair
        prev = pair
        k += 2
    return n / max(tau, 1e-12)


def histogram(counts, L, bins, R):
    width = (L + 1) // bins
    expected = R / bins
    lo99, hi99 = stats.binom.ppf([0.005, 0.995], R, 1 / bins)
    scale = min(1.0, 50.0 / max(counts.max(), 1))
    out = []
    for i, c in enumerate(counts):
        mark = " " if lo99 <= c <= hi99 else "!"
        out.append(("    %3d-%-3d %5d %s %s" % (i * width, (i + 1) * width - 1, c, mark,
                                              "#" * int(round(c * scale)))).rstrip())
    out.append("    expected %.1f per bin; 99%% binomial band [%d, %d] "
               "('!' outside)" % (expected, lo99, hi99))
    return "\n".join(out)


def cmd_analyse(args):
    L, bins = args.L, args.bins
    if (L + 1) % bins:
        sys.exit("sbc.py: --bins must divide L + 1 = %d" % (L + 1))
    truth = np.genfromtxt(os.path.join(args.dir, "truth.csv"), delimiter=",",
                          names=True)
    truth = np.atleast_1d(truth)
    ranks = {p: [] for p in PARAMS}
    ess_full = {p: [] for p in PARAMS}
    failed, warned, div_reps, div_total, notes = 0, 0, 0, 0, []
    thin, ndraws = None, None
    for r in range(1, args.R + 1):
        row = truth[truth["r"] == r][0]
        try:
            with open(os.path.join(args.dir, "rc_%d" % r)) as f:
                rc = int(f.read().strip())
        except (OSError, ValueError):
            rc = -1
        path = os.path.join(args.dir, "out_%d_1.csv" % r)
        try:
            if rc not in (0, 1):
                raise ValueError("exit status %d" % rc)
            header, draws = read_stan_csv(path)
            if len(draws) < L:
                raise ValueError("%d draws, fewer than L = %d" % (len(draws), L))
        except (OSError, ValueError) as e:
            failed += 1
            notes.append("  failed replication %d (N = %d): %s" % (r, row["N"], e))
            continue
        warned += rc == 1
        ndiv = int(draws[:, header.index("divergent__")].sum())
        div_total += ndiv
        div_reps += ndiv > 0
        ndraws = len(draws)
        thin = ndraws // L
        kept = draws[thin - 1::thin][:L]
        for p in PARAMS:
            col = header.index(p)
            ranks[p].append(int(np.sum(kept[:, col] < row[p])))
            ess_full[p].append(ess(draws[:, col]))
    ok = args.R - failed
    print("SBC: %d replications, %d completed, %d failed; L = %d thinned draws "
          "(every %s-th), ranks 0..%d in %d bins" %
          (args.R, ok, failed, L, thin, L, bins))
    for n in notes[:10]:
        print(n)
    status = 0
    pvals = {}
    if ok == 0:
        print("SBC: no replication completed")
        return 1
    for p in PARAMS:
        rk = np.array(ranks[p])
        counts = np.bincount(rk // ((L + 1) // bins), minlength=bins)
        chi2, pv = stats.chisquare(counts)
        pvals[p] = pv
        e = np.array(ess_full[p])
        print("\n  %s: chi-square %.2f on %d df, p = %.4g%s;  mean rank %.1f (uniform %.1f); "
              "ESS of the %d draws: median %.0f, min %.0f" %
              (p, chi2, bins - 1, pv, "  FAIL" if pv < args.alpha else "",
               rk.mean(), L / 2, ndraws, np.nanmedian(e), np.nanmin(e)))
        print(histogram(counts, L, bins, ok))
        if pv < args.alpha:
            status = 1
    print("\nSBC: divergences: %d transitions in %d of %d replications; "
          "%d runs exited 1 (a diagnostic warning)" % (div_total, div_reps, ok, warned))
    if failed > args.max_failed * args.R:
        print("SBC: FAIL: %d of %d replications failed (more than %.0f%%)" %
              (failed, args.R, 100 * args.max_failed))
        status = 1
    print("SBC: p-values: %s (fail below %g) -> %s" %
          (", ".join("%s %.4g" % (p, pvals[p]) for p in PARAMS), args.alpha,
           "FAIL" if status else "PASS"))
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("simulate")
    s.add_argument("dir")
    s.add_argument("R", type=int)
    s.add_argument("--seed-base", type=int, default=0)
    s.add_argument("--mu-shift", type=float, default=0.0)
    a = sub.add_parser("analyse")
    a.add_argument("dir")
    a.add_argument("R", type=int)
    a.add_argument("--L", type=int, default=99)
    a.add_argument("--bins", type=int, default=10)
    a.add_argument("--alpha", type=float, default=0.001)
    a.add_argument("--max-failed", type=float, default=0.05)
    args = ap.parse_args()
    return cmd_simulate(args) if args.cmd == "simulate" else cmd_analyse(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:                   # a crash is a setup error (2), not a failed check
        import traceback
        traceback.print_exc()
        sys.exit(2)
