/*
** mcstat.h — convergence diagnostics and summaries of MCMC draws, with the
** definitions of Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021),
** "Rank-normalization, folding, and localization: an improved R-hat", as the
** `posterior` R package computes them (and Stan's summaries print):
**
**   split chains   each chain's first and second halves (an odd middle draw dropped)
**   z-scale        ranks over all draws (ties averaged) -> Phi^-1((r - 3/8) / (S + 1/4))
**   R-hat          max of the split R-hat of the z-scaled draws and of the z-scaled
**                  folded draws |x - median|
**   bulk-ESS       ESS of the z-scaled split chains
**   tail-ESS       min of the ESS of the split indicators x <= q05 and x <= q95
**   ESS            Geyer's initial monotone sequence over the chains' biased
**                  autocovariances, with its antithetic correction and the cap at
**                  S log10 S
**   MCSE of mean   sd / sqrt(ESS of the split chains)
**   quantiles      R's type 7
** Each is NAN where posterior gives NA: fewer than 3 draws per split chain, a
** non-finite draw, or draws all equal.
**
** Draws are given as x[c * n + i]: chain c, draw i, n draws per chain.
*/
#ifndef DENSRT_MCSTAT_H
#define DENSRT_MCSTAT_H

#include <stddef.h>

typedef struct {
  double mean, sd, mcse_mean;
  double q5, q50, q95;
  double ess_bulk, ess_tail, rhat;
} densrt_mcstat_summary;

/* All of the above for one quantity.  DENSRT_ENOMEM, or DENSRT_OK. */
int densrt_mcstat_summarize(const double *x, size_t chains, size_t n, densrt_mcstat_summary *s);

/* The pieces, for tests against the reference implementation. */
double densrt_mcstat_ess_basic(const double *x, size_t chains, size_t n, int split);
double densrt_mcstat_rhat_basic(const double *x, size_t chains, size_t n, int split);
double densrt_mcstat_quantile(const double *x, size_t n, double p);   /* type 7; x need not be sorted */
/* The type-7 quantiles q[j] at the increasing probabilities p[0 .. k) of x[0 .. n), by
** selection (O(n) each, no allocation): x is reordered.  NAN for n = 0. */
void densrt_mcstat_quantiles(double *x, size_t n, const double *p, size_t k, double *q);

#endif
