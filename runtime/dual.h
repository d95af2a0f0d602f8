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
  *d_mu = -(da + db) / sd;
  *d_sd = -(ta + tb) / sd;
  return v;
}

/*
** densrt_log_ndiff at DENSRT_LANES points (mu[l], sd[l]) of one window [lo, hi]: where both
** ends are 10 or more standard deviations away (the usual case of a narrow stream in a
** wide window) by a branch-free formula the C compiler vectorises — the two tails
** P = phi(a) R(-a) and Q = phi(b) R(b) are below 2e-23, so log(1 - P - Q) is -(P + Q) to
** the last bit —, elsewhere (and without hardware fma) by densrt_log_ndiff itself.  The
** results agree with it to a few ulp: 1e-15 relative, 1e-300 absolute (tests/unit/test_quad).
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
    const double a = (lo - mu[l]) / sd[l], b = (hi - mu[l]) / sd[l];
    far[l] = a <= -10.0 && b >= 10.0;
    any_near |= !far[l];
    /* phi(x) sqrt(2 pi) = exp(-x^2/2), the rounding of x^2 put back (it grows like x^2 eps) */
    const double pa2 = a * a, pb2 = b * b;
    const double ea = pa2 == INFINITY ? 0.0 : densrt_exp(-0.5 * pa2) * (1.0 - 0.5 * fma(a, a, -pa2));
    const double eb = pb2 == INFINITY ? 0.0 : densrt_exp(-0.5 * pb2) * (1.0 - 0.5 * fma(b, b, -pb2));
    const double pa = ea * (1.0 / 2.50662827463100050241576528481105), pb = eb * (1.0 / 2.50662827463100050241576528481105);
    const double P = pa * densrt_mills_tail(-a), Q = pb * densrt_mills_tail(b);
    const double D = (0.5 - P) + (0.5 - Q);
    const double da = -pa / D, db = pb / D;
    const double ta = a == -INFINITY ? 0.0 : a * da, tb = b == INFINITY ? 0.0 : b * db;
    v[l] = -(P + Q);
    d_mu[l] = -(da + db) / sd[l];
    d_sd[l] = -(ta + tb) / sd[l];
  }
  if (any_near)
    for (int l = 0; l < DENSRT_LANES; l++)
      if (!far[l])
        v[l] = densrt_log_ndiff(lo, hi, mu[l], sd[l], &d_mu[l], &d_sd[l]);
#endif
}

#endif
