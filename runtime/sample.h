/*
** sample.h — posterior draws of a model: NUTS chains (nuts.h) on the unconstrained
** scale, run in threads, each chain with its own work (model.h), so the model is
** only read.
**
** Bounds become transforms, with their log-Jacobian added to the log density:
**   lower bound a:      theta = a + exp(u)                 log J = u
**   upper bound b:      theta = b - exp(u)                 log J = u
**   both, a < b:        theta = a + (b - a) logistic(u)    log J = log(b - a) + log s + log(1 - s)
** Draws are reported on the constrained scale.
**
** Chain c (0-based) draws its random numbers from the stream (seed, c) alone, so its
** draws are the same whatever the number of threads and the order chains run in.
** Initial points: given per chain (constrained), else Stan's default, uniform(-2, 2)
** on the unconstrained scale, which is around the structural start (start.h: 0, the middle
** of two bounds, one unit inside one bound), different for each chain so that R-hat can
** tell chains that do not mix.
*/
#ifndef DENSRT_SAMPLE_H
#define DENSRT_SAMPLE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "nuts.h"

typedef struct {
  size_t chains;              /* default 4 */
  size_t draws;               /* draws after warmup, default 1000 (nuts.warmup: the warmup) */
  uint64_t seed;
  size_t threads;             /* 0: one per core, at most one per chain */
  size_t data_threads;        /* threads summing each chain's data rows (densrt_work_set_threads); 1: none */
  densrt_nuts_options nuts;
  volatile sig_atomic_t *interrupt;   /* set by a signal: every chain stops after its current draw */
} densrt_sample_options;

void densrt_sample_options_default(densrt_sample_options *o);

/* What a run hands back as it goes, from the chains' threads (one chain's calls come from
** one thread, in order; different chains' calls may come at once).  Nonzero stops the chain. */
typedef struct {
  /* after warmup: the step size and the inverse metric (n values, or n x n when dense) */
  int (*adapted)(void *ctx, unsigned chain, double stepsize, const double *inv_metric, int dense);
  /* each iteration, warmup included (d->warmup): theta on the constrained scale */
  int (*draw)(void *ctx, unsigned chain, size_t iter, const densrt_nuts_draw *d, const double *theta);
  void *ctx;
} densrt_sample_sink;

typedef struct {
  int status;                 /* the chain's: DENSRT_OK, EINTR, ENONFINITE, ... */
  char message[256];
  size_t iterations;          /* iterations done, warmup included */
  size_t divergent, max_depth_hits;   /* after warmup */
  double warmup_seconds, sampling_seconds;
  double stepsize;
  size_t gradients;           /* log density and gradient evaluations, warmup included ... */
  double gradient_seconds;    /* ... and the time spent in them: the rest is the sampler's */
} densrt_sample_chain;

/* The bounds of every parameter value, and theta <-> u. */
void densrt_sample_constrain(size_t n, const double *lo, const double *hi, const double *u, double *theta);
/* DENSRT_EDOM (message naming value i) when theta[i] is not strictly inside its bounds. */
int densrt_sample_unconstrain(const densrt_model *m, const double *lo, const double *hi, const double *theta,
                              double *u);

/* Runs o->chains chains from init[c] (constrained; NULL: Stan's random default) and
** reports to sink; chains[c] says how each ended.  Returns the first chain's error, or
** DENSRT_OK. */
int densrt_sample_run(const densrt_model *m, const double *const *init, const densrt_sample_options *o,
                      const densrt_sample_sink *sink, densrt_sample_chain *chains);

#endif
