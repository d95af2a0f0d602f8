/* lbfgsb.h — bound-constrained minimisation with the reference L-BFGS-B 3.0 (liblbfgsb) */
#ifndef DENSRT_LBFGSB_H
#define DENSRT_LBFGSB_H

#include <signal.h>
#include <stddef.h>

/* Returns f(x) and fills grad (length n). */
typedef double densrt_lbfgsb_fn(const double *x, double *grad, void *ctx);
/* Called once per iteration with the new iterate; nonzero stops (DENSRT_EINTR). */
typedef int densrt_lbfgsb_progress(size_t iter, double f, const double *x, double proj_grad_norm, void *ctx);

typedef struct {
  size_t m;          /* memory (corrections), default 20 */
  double factr;      /* stop when (f_k - f_{k+1})/max(|f_k|,|f_{k+1}|,1) <= factr*eps; default 1e7 (scipy's ftol 2.2e-9) */
  double pgtol;      /* stop when the projected gradient's max norm <= pgtol; default 1e-5 */
  size_t max_iter;   /* default 15000 */
  size_t max_eval;   /* default 15000 */
  densrt_lbfgsb_progress *progress; void *progress_ctx;   /* optional, once per iteration */
  volatile sig_atomic_t *interrupt;                        /* optional: when *interrupt != 0, stop with DENSRT_EINTR */
} densrt_lbfgsb_options;

void densrt_lbfgsb_options_default(densrt_lbfgsb_options *o);

typedef struct {
  double f;                 /* value at the returned x */
  size_t n_iter, n_eval;    /* iterations and f/grad evaluations */
  double proj_grad_norm;    /* max-norm of the projected gradient at the returned x */
  char message[64];         /* L-BFGS-B's task text, trimmed (or our STOP: ... reason) */
} densrt_lbfgsb_result;

/* Minimise fn over the box lo <= x <= hi (lo/hi may be NULL = unbounded;
   entries may be -INFINITY/INFINITY).  opt NULL means defaults.  On return x
   holds the best point evaluated (lowest finite f) and res->f its value,
   whatever the status.  Status:
     DENSRT_OK          converged (factr or pgtol test)
     DENSRT_EMAXITER    max_iter iterations or max_eval evaluations used
     DENSRT_EINTR       *interrupt set, or progress returned nonzero
     DENSRT_ENONFINITE  f or grad not finite at the start point
     DENSRT_EABNORMAL   line search failed or another abnormal stop (message carries L-BFGS-B's text)
     DENSRT_EINVAL      n == 0, x0 not finite or outside the box, lo > hi, bad options
     DENSRT_ENOMEM      workspace allocation failed
   A non-finite f or gradient at a later trial point is replaced by a large
   finite value (and the best point's gradient) so the line search backs off. */
int densrt_lbfgsb_minimize(size_t n, double *x, const double *lo, const double *hi, densrt_lbfgsb_fn *fn, void *ctx,
                           const densrt_lbfgsb_options *opt, densrt_lbfgsb_result *res);

#endif
