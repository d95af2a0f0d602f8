/*
** dual.h — small numerical kernels used inline by generated code.
**
** Generated code does its own forward-mode arithmetic (derivative
** directions are fixed at compile time); the functions here are the few
** operations whose value and partial derivatives are best computed together.
*/
#ifndef DENSRT_DUAL_H
#define DENSRT_DUAL_H

#include <math.h>
#include "quad.h"
#include "vmath.h"
#include "layout.h"

/*
** log(Phi((hi - mu)/sd) - Phi((lo - mu)/sd)): the log integral of a normal
** density over [lo, hi], with the partials with respect to mu and sd.
** Infinite window ends contribute nothing to the partials.
*/
static inline double densrt_log_ndiff(double lo, double hi, double mu, double sd, double *d_mu, double *d_sd)
{
  const double a = (lo - mu) / sd, b = (hi - mu) / sd;
  double da, db;
  const double v = densrt_quad_log_normal_diff(a, b, &da, &db);
  const double ta = isinf(a) ? 0 : a * da, tb = isinf(b) ? 0 : b * db;
  da = isinf(a) ? 0 : da;
  db = isinf(b) ? 0 : db;
  /* no change where both ends are infinite, also at sd = 0 (an underflowed width: 0/0) */
  const double s = da + db, t = ta + tb;
  *d_mu = s == 0 ? 0 : -s / sd;
  *d_sd = t == 0 ? 0 : -t / sd;
  return v;
}

/*
** r / s from is = 1/s and one fma correction, within an ulp of the quotient (no division:
** the lanes below take 1/sd once for both window ends); an infinite r, a window's infinite
** end, gives its infinity (the correction alone would be inf - inf = NaN).
*/
static inline double densrt_ndiff_end(double r, double s, double is)
{
  const double q = r * is;
  return fabs(r) == INFINITY ? q : fma(fma(-q, s, r), is, q);
}

/*
** densrt_log_ndiff at DENSRT_LANES points (mu[l], sd[l]) of one window [lo, hi]: where both
** ends are 5 or more standard deviations away (the usual case of a narrow stream in a
** wide window) by a branch-free formula the C compiler vectorises — from the two tails
** P = phi(a) R(-a) and Q = phi(b) R(b), at most 2.9e-7 each, log(1 - P - Q) by log1p's
** series —, elsewhere (and without hardware fma) by densrt_log_ndiff itself.  The
** results agree with it to a few ulp where a and b are the same (1e-15 relative, 1e-300
** absolute), and to 2 eps a^2 where a differs by its last bit (tests/unit/test_quad).
*/
static inline void densrt_log_ndiff_lanes(double lo, double hi, const double *restrict mu, const double *restrict sd,
                                          double *restrict v, double *restrict d_mu, double *restrict d_sd)
{
#if !defined(__FMA__)   /* fma would be a slow library call: the scalar function throughout */
  for (int l = 0; l < DENSRT_LANES; l++)
    v[l] = densrt_log_ndiff(lo, hi, mu[l], sd[l], &d_mu[l], &d_sd[l]);
#else
  int far[DENSRT_LANES], any_near = 0;
  for (int l = 0; l < DENSRT_LANES; l++) {
    /* a = (lo - mu) / sd within an ulp of the division (the tails' relative error grows like
       a^2 times that of a); an infinite end stays infinite, so it is far */
    const double is = 1.0 / sd[l];
    const double a = densrt_ndiff_end(lo - mu[l], sd[l], is), b = densrt_ndiff_end(hi - mu[l], sd[l], is);
    far[l] = a <= -5.0 && b >= 5.0;
    any_near |= !far[l];
    /* phi(x) sqrt(2 pi) = exp(-x^2/2), the rounding of x^2 put back (it grows like x^2 eps) */
    const double pa2 = a * a, pb2 = b * b;
    const double ea = pa2 == INFINITY ? 0.0 : densrt_exp(-0.5 * pa2) * (1.0 - 0.5 * fma(a, a, -pa2));
    const double eb = pb2 == INFINITY ? 0.0 : densrt_exp(-0.5 * pb2) * (1.0 - 0.5 * fma(b, b, -pb2));
    const double pa = ea * (1.0 / 2.50662827463100050241576528481105), pb = eb * (1.0 / 2.50662827463100050241576528481105);
    const double P = pa * densrt_mills_wide_inv(-1.0 / a), Q = pb * densrt_mills_wide_inv(1.0 / b);
    /* s = P + Q <= 2 Q(5) = 5.7e-7: log(1 - s) by four terms of log1p's series (the next is
       below 2e-26 s); 1 - s is 1 exactly where both ends are 10 sd or more away */
    const double ps = P + Q, D = (0.5 - P) + (0.5 - Q), iD = 1.0 / D;
    const double da = -pa * iD, db = pb * iD;
    const double ta = a == -INFINITY ? 0.0 : a * da, tb = b == INFINITY ? 0.0 : b * db;
    v[l] = -(ps + ps * ps * (0.5 + ps * (1.0 / 3.0 + ps * 0.25)));
    const double sm = da + db, st = ta + tb;
    d_mu[l] = sm == 0 ? 0 : -sm * is;   /* (0 also at sd = 0, where is is infinite) */
    d_sd[l] = st == 0 ? 0 : -st * is;
  }
  if (any_near)
    for (int l = 0; l < DENSRT_LANES; l++)
      if (!far[l]) {
#ifdef DENSRT_NDIFF_FALLBACK_HOOK   /* a test counts the lanes that take the scalar function */
        DENSRT_NDIFF_FALLBACK_HOOK;
#endif
        v[l] = densrt_log_ndiff(lo, hi, mu[l], sd[l], &d_mu[l], &d_sd[l]);
      }
#endif
}

#endif
