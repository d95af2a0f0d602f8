/*
** tests/moments.h — a sampler's draws against a known posterior: the mean and the variance
** within 4 Monte Carlo standard errors of the truth (the variance's MCSE from the ESS of
** the squared deviations), R-hat below 1.01 and bulk-ESS above min_ess.  Draws are
** x[c * n + i], chain c, draw i.
*/
#ifndef TESTS_MOMENTS_H
#define TESTS_MOMENTS_H

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include "mcstat.h"

static inline void check_moments(const double *x, size_t chains, size_t n, double mean, double var, double min_ess,
                                 const char *what)
{
  densrt_mcstat_summary s, t;
  ck_assert_int_eq(densrt_mcstat_summarize(x, chains, n, &s), 0);
  ck_assert_msg(fabs(s.mean - mean) <= 4 * s.mcse_mean, "%s: mean %g, truth %g, MCSE %g", what, s.mean, mean,
                s.mcse_mean);
  size_t S = chains * n;
  double *d2 = malloc(S * sizeof *d2), m2 = 0;
  ck_assert_ptr_nonnull(d2);
  for (size_t i = 0; i < S; i++)
    m2 += (d2[i] = (x[i] - mean) * (x[i] - mean)) / (double)S;
  ck_assert_int_eq(densrt_mcstat_summarize(d2, chains, n, &t), 0);
  ck_assert_msg(fabs(m2 - var) <= 4 * t.mcse_mean, "%s: variance %g, truth %g, MCSE %g", what, m2, var, t.mcse_mean);
  ck_assert_msg(s.rhat < 1.01 && s.ess_bulk > min_ess, "%s: R-hat %g, bulk-ESS %g", what, s.rhat, s.ess_bulk);
  free(d2);
}

#endif
