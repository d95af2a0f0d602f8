/*
** fit.h — the maximum a posteriori fit and what it may claim.
**
** The objective is f(theta) = -(ln L + ln prior) / N, N the number of data rows,
** minimised with L-BFGS-B (lbfgsb.h) inside the parameters' bounds.
**
** Integrals by 'auto' quadrature are watched along the path: every few
** iterations the rules are checked at the current iterate; a failed check stops
** the run, the rules are refined AT THE FAILING ITERATE (where they failed, so
** they change), and the run restarts from the better of that iterate and the
** last verified one.  At the end the rules are checked at the optimum, and the
** fit goes on if they had to change.
**
** Contract of the verdict: status DENSRT_OK ("converged") only when
**   - L-BFGS-B stopped by its own tests or its line search could make no more
**     progress (then up to 8 Newton steps on the measured curvature polish the
**     point where they lower f; not after the iteration limit, which is the
**     user's), and
**   - the point is stationary: the projected gradient's max-norm is <= gtol, or
**     the decrease of f that a Newton step predicts (from the curvature measured
**     by finite differences of the exact gradient) is <= ftol * max(1, |f|), and
**   - no direction has negative curvature (a saddle), and
**   - 'auto' integrals are accurate to the requested tolerance at the optimum
**     (checked again where the Newton steps went).
** At the iteration limit no polish is done: converged only if already stationary.
** A signal (*interrupt) is honoured in the curvature and the polish too.
** Anything else is a non-convergence status with a message saying why and what
** to try; x is still the best point found.
**
** The same curvature names the parameter values that nothing (neither data nor
** priors) constrains: free directions whose curvature of -ln p is below
** DENSRT_FIT_FLAT (a Laplace standard deviation above 1000 in the parameter's
** units).
*/
#ifndef DENSRT_FIT_H
#define DENSRT_FIT_H

#include <signal.h>
#include <stddef.h>
#include "model.h"

/* curvature of -ln p below which a direction counts as unconstrained */
#define DENSRT_FIT_FLAT 1e-6
/* the curvature is measured up to this many free parameter values (2 gradients each
   and an eigen-decomposition); beyond it, converged means a projected gradient <= gtol,
   and unconstrained values are not named */
#define DENSRT_FIT_MAX_DENSE 1000

typedef struct {
  size_t max_iter;        /* L-BFGS-B iterations over all rounds */
  double ftol, gtol;      /* see the contract above */
  double tol;             /* relative accuracy of 'auto' integrals */
  size_t max_rounds;      /* restarts after refining the rules; default 16 */
  int quiet;              /* no progress lines */
  const char *prog;       /* prefix of progress lines on stderr */
  volatile sig_atomic_t *interrupt;   /* set by a signal handler: stop, keep the best point */
  int unscaled;           /* L-BFGS-B on the values themselves, not on values / their scale at the
                             start (the default start's candidates: wandering into other basins is
                             what they are for) */
} densrt_fit_options;

typedef struct {
  int status;             /* DENSRT_OK, EMAXITER, ETOL, EABNORMAL, EINTR, ENONFINITE, EINVAL, ENOMEM */
  double f;               /* objective at the returned point */
  double proj_grad;       /* max-norm of the projected gradient there */
  double decrease;        /* predicted further decrease of f (Newton), NAN if not measured */
  int curvature;          /* 1 when the curvature was measured */
  size_t free_values;     /* parameter values not held at a bound */
  int saddle;             /* 1 when a free direction has negative curvature */
  size_t iterations, evaluations, refinements;   /* evaluations: L-BFGS-B's, the curvature's and the polish's */
  size_t polish_steps;    /* Newton steps taken after L-BFGS-B */
  double integral_rel_err;   /* estimated relative error of the integrals at the end (NAN: not estimated) */
  char optimizer_message[64];   /* L-BFGS-B's last stop reason */
  char message[256];      /* why the fit is not converged ("" when it is) */
  size_t n_flat, *flat;   /* flat indices of parameter values nothing constrains (malloc'ed) */
} densrt_fit_result;

void densrt_fit_options_default(densrt_fit_options *o);
/* The objective f and its gradient (grad may not be NULL). */
double densrt_fit_objective(densrt_model *m, const double *theta, double *grad);
/* The bounds of every parameter value. */
void densrt_fit_bounds(const densrt_model *m, double *lo, double *hi);
/* Fits from theta (inside the bounds) and leaves the best point in theta.  The return
   value is r->status; r->flat must be released with densrt_fit_result_free. */
int densrt_fit_map(densrt_model *m, double *theta, const densrt_fit_options *o, densrt_fit_result *r);
void densrt_fit_result_free(densrt_fit_result *r);

#endif
