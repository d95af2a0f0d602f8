/*
** nuts.h — the No-U-Turn sampler with Stan's warmup, on an unconstrained space.
**
** The sampler (Hoffman & Gelman 2014; Betancourt 2017, "A Conceptual Introduction
** to Hamiltonian Monte Carlo"): leapfrog steps of a Euclidean Hamiltonian
**   H(q, p) = -log p(q) + p' M^-1 p / 2,
** a trajectory doubled forward or backward at random until the generalised U-turn
** criterion (checked across the whole trajectory and across the joins of its
** subtrees) stops it or the tree reaches max_depth; the draw is taken from the
** trajectory by multinomial sampling, biased to the newest subtree.  A point whose
** energy exceeds the start's by more than 1000 is a divergence: the trajectory
** stops there.
**
** Warmup (Stan's windowed adaptation): dual averaging of the step size toward the
** target acceptance statistic (delta, default 0.8) all warmup long; a first fast
** interval (init_buffer draws), then slow windows doubling from `window` draws, at
** the end of each the metric (diagonal, or dense) is set to the draws' regularised
** (co)variance, n/(n + 5) var + 1e-3 * 5/(n + 5), and the step size is found and
** its averaging restarted; then a last fast interval (term_buffer).  When warmup
** is too short for these (init + window + term > warmup), they are 15%, 75% and 10%
** of it; under 20 draws the metric is not adapted.
**
** GSL does the dense metric's Cholesky factor: its error handler must be off
** (gsl_set_error_handler_off, as densrt_cli_main does), since a metric that is not
** positive definite is an error the sampler reports, not an abort.
**
** Use: alloc (dimension, log density, options, seed, chain) -> init (start point)
** -> transition, once per draw (warmup first, then sampling) -> free.  A chain's
** draws depend only on its seed and chain number, never on other chains or threads.
*/
#ifndef DENSRT_NUTS_H
#define DENSRT_NUTS_H

#include <stddef.h>
#include <stdint.h>

/* log p(q) up to a constant, and its gradient; non-finite values are allowed (the
** trajectory diverges there).  Nonzero status: an error, reported by transition. */
typedef int densrt_nuts_fn(const double *q, double *lp, double *grad, void *ctx);

typedef struct {
  size_t warmup;          /* warmup iterations (adapting) */
  size_t max_depth;       /* tree depth limit, default 10 */
  double delta;           /* target acceptance statistic, default 0.8 */
  double gamma, kappa, t0;   /* dual averaging, defaults 0.05, 0.75, 10 */
  size_t init_buffer, term_buffer, window;   /* defaults 75, 50, 25 */
  double stepsize;        /* initial step size, default 1 */
  int dense;              /* adapt a dense metric instead of a diagonal one */
  double max_delta_h;     /* divergence threshold, default 1000 */
} densrt_nuts_options;

void densrt_nuts_options_default(densrt_nuts_options *o);

/* One draw and how it was made (the columns Stan writes). */
typedef struct {
  double lp;              /* log density at q */
  double accept_stat;     /* mean Metropolis acceptance over the trajectory */
  double stepsize;
  int treedepth;
  size_t n_leapfrog;
  int divergent;
  double energy;          /* H at the draw */
  int warmup;             /* drawn during warmup */
} densrt_nuts_draw;

typedef struct densrt_nuts densrt_nuts;

/* NULL when out of memory.  seed and chain select the random stream. */
densrt_nuts *densrt_nuts_alloc(size_t n, densrt_nuts_fn *fn, void *ctx, const densrt_nuts_options *o, uint64_t seed,
                               unsigned chain);
void densrt_nuts_free(densrt_nuts *s);

/* The start point: its log density must be finite with a finite gradient
** (DENSRT_ENONFINITE otherwise); finds the first step size as Stan does. */
int densrt_nuts_init(densrt_nuts *s, const double *q0);

/* One iteration: a NUTS transition from the current point, adapting while in warmup.
** *d describes the draw; densrt_nuts_position gives it. */
int densrt_nuts_transition(densrt_nuts *s, densrt_nuts_draw *d);

const double *densrt_nuts_position(const densrt_nuts *s);
double densrt_nuts_stepsize(const densrt_nuts *s);
/* The inverse metric: n values (diagonal) or n x n row-major (dense). */
const double *densrt_nuts_inv_metric(const densrt_nuts *s);
int densrt_nuts_is_dense(const densrt_nuts *s);

#endif
