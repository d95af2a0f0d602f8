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

#endif
