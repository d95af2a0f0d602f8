/* lbfgsb.c — drives the reference L-BFGS-B 3.0 Fortran (setulb_) by reverse communication */
#include "lbfgsb.h"

#include "error.h"

#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* gfortran ABI: every argument by reference, INTEGER and LOGICAL are 4-byte
   int, and each CHARACTER argument adds a hidden size_t length at the end. */
/* libgfortran's FLUSH, to empty unit 6 before standard output is restored */
extern void _gfortran_flush_i4(int *unit);

/* L-BFGS-B 3.0 writes some diagnostics ("ascent direction in projection ...") to Fortran
** unit 6, standard output, whatever iprint says; our standard output may carry JSON, so
** during a minimisation it goes to /dev/null. Returns the saved descriptor or -1. */
static int silence_stdout(void)
{
  fflush(stdout);
  int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
  if (saved >= 0 && null >= 0)
    dup2(null, STDOUT_FILENO);
  if (null >= 0)
    close(null);
  return saved;
}

static void restore_stdout(int saved)
{
  int unit = 6;
  _gfortran_flush_i4(&unit);
  if (saved >= 0) {
    dup2(saved, STDOUT_FILENO);
    close(saved);
  }
}

extern void setulb_(int *n, int *m, double *x, double *l, double *u, int *nbd, double *f, double *g, double *factr,
                    double *pgtol, double *wa, int *iwa, char *task, int *iprint, char *csave, int *lsave, int *isave,
                    double *dsave, size_t task_len, size_t csave_len);

#define TASK_LEN 60

void densrt_lbfgsb_options_default(densrt_lbfgsb_options *o)
{
  if (!o)
    return;
  o->m = 20;   /* 10 took 2752 iterations for a 10^7-star GD-1 fit, 20 takes 1525 (40: no fewer) */
  o->factr = 1e7;
  o->pgtol = 1e-5;
  o->max_iter = 15000;
  o->max_eval = 15000;
  o->progress = NULL;
  o->progress_ctx = NULL;
  o->interrupt = NULL;
}

/* Fortran strings are blank-padded, not NUL-terminated. */
static void set_task(char *t, const char *s)
{
  size_t k = strlen(s);
  memset(t, ' ', TASK_LEN);
  memcpy(t, s, k);
  t[TASK_LEN] = '\0';
}

static int task_is(const char *t, const char *prefix)
{
  return strncmp(t, prefix, strlen(prefix)) == 0;
}

static void set_message(densrt_lbfgsb_result *res, const char *t)
{
  size_t k = strnlen(t, TASK_LEN);
  if (k > sizeof res->message - 1)
    k = sizeof res->message - 1;
  while (k > 0 && t[k - 1] == ' ')
    k--;
  memcpy(res->message, t, k);
  res->message[k] = '\0';
}

/* Max-norm of the gradient projected on the box, as L-BFGS-B's projgr. */
static double proj_grad_norm(size_t n, const double *x, const double *g, const double *lo, const double *hi)
{
  double norm = 0.0;
  for (size_t i = 0; i < n; i++) {
    double gi = g[i];
    if (gi < 0.0) {
      if (hi && isfinite(hi[i]))
        gi = fmax(x[i] - hi[i], gi);
    } else {
      if (lo && isfinite(lo[i]))
        gi = fmin(x[i] - lo[i], gi);
    }
    norm = fmax(norm, fabs(gi));
  }
  return norm;
}

static int all_finite(size_t n, const double *v, size_t *bad)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i])) {
      *bad = i;
      return 0;
    }
  return 1;
}

static int check_args(size_t n, const double *x, const double *lo, const double *hi, const densrt_lbfgsb_options *o)
{
  if (n == 0 || n > INT_MAX)
    DENSRT_ERROR(DENSRT_EINVAL, "L-BFGS-B: dimension %zu out of range", n);
  if (o->m == 0 || o->m > INT_MAX)
    DENSRT_ERROR(DENSRT_EINVAL, "L-BFGS-B: memory m = %zu out of range", o->m);
  if (!(o->factr >= 0.0) || !(o->pgtol >= 0.0))
    DENSRT_ERROR(DENSRT_EINVAL, "L-BFGS-B: factr (%g) and pgtol (%g) must be >= 0", o->factr, o->pgtol);
  for (size_t i = 0; i < n; i++) {
    double l = lo ? lo[i] : -INFINITY, u = hi ? hi[i] : INFINITY;
    if (isnan(l) || isnan(u) || l > u || l == INFINITY || u == -INFINITY)
      DENSRT_ERROR(DENSRT_EINVAL, "L-BFGS-B: invalid bounds [%g, %g] for variable %zu", l, u, i);
    if (!isfinite(x[i]))
      DENSRT_ERROR(DENSRT_EINVAL, "L-BFGS-B: start value %g of variable %zu is not finite", x[i], i);
    if (x[i] < l || x[i] > u)
      DENSRT_ERROR(DENSRT_EINVAL, "L-BFGS-B: start value %g of variable %zu is outside its bounds [%g, %g]", x[i],
                   i, l, u);
  }
  return DENSRT_OK;
}

/* Workspace for one run. */
typedef struct {
  double *l, *u, *g, *wa, *xbest, *gbest;
  int *nbd, *iwa;
} work;

static void work_free(work *w)
{
  free(w->l);
  free(w->u);
  free(w->g);
  free(w->wa);
  free(w->xbest);
  free(w->gbest);
  free(w->nbd);
  free(w->iwa);
}

static int work_alloc(work *w, size_t n, size_t m)
{
  size_t nwa;
  memset(w, 0, sizeof *w);
  /* 2mn + 5n + 11m^2 + 8m, indexed by Fortran INTEGER, so keep it below INT_MAX */
  if (m > (size_t)INT_MAX / 16 || n > ((size_t)INT_MAX - 11 * m * m - 8 * m) / (2 * m + 5))
    DENSRT_ERROR(DENSRT_EINVAL, "L-BFGS-B: workspace for n = %zu, m = %zu is too large", n, m);
  nwa = 2 * m * n + 5 * n + 11 * m * m + 8 * m;
  w->l = calloc(n, sizeof(double));
  w->u = calloc(n, sizeof(double));
  w->g = calloc(n, sizeof(double));
  w->xbest = calloc(n, sizeof(double));
  w->gbest = calloc(n, sizeof(double));
  w->wa = calloc(nwa, sizeof(double));
  w->nbd = calloc(n, sizeof(int));
  w->iwa = calloc(3 * n, sizeof(int));
  if (!w->l || !w->u || !w->g || !w->xbest || !w->gbest || !w->wa || !w->nbd || !w->iwa) {
    work_free(w);
    DENSRT_ERROR(DENSRT_ENOMEM, "L-BFGS-B: out of memory for n = %zu, m = %zu", n, m);
  }
  return DENSRT_OK;
}

int densrt_lbfgsb_minimize(size_t n, double *x, const double *lo, const double *hi, densrt_lbfgsb_fn *fn, void *ctx,
                           const densrt_lbfgsb_options *opt, densrt_lbfgsb_result *res)
{
  densrt_lbfgsb_options defaults;
  densrt_lbfgsb_result dummy;
  const densrt_lbfgsb_options *o = opt;
  work w;
  char task[TASK_LEN + 1], csave[TASK_LEN + 1];
  int lsave[4] = {0}, isave[44] = {0};
  double dsave[29] = {0};
  int in, im, iprint = -1;
  double f = NAN, fbest = NAN, factr, pgtol;
  size_t n_eval = 0, n_iter = 0, bad = 0;
  int have_best = 0, status = DENSRT_OK;
  const char *stop = NULL; /* our own reason when we leave the loop */

  if (!res)
    res = &dummy;
  memset(res, 0, sizeof *res);
  res->f = NAN;
  res->proj_grad_norm = NAN;
  if (!o) {
    densrt_lbfgsb_options_default(&defaults);
    o = &defaults;
  }
  if (!x || !fn)
    DENSRT_ERROR(DENSRT_EINVAL, "L-BFGS-B: x and fn must not be NULL");
  status = check_args(n, x, lo, hi, o);
  if (status)
    return status;
  status = work_alloc(&w, n, o->m);
  if (status)
    return status;

  for (size_t i = 0; i < n; i++) {
    int has_l = lo && isfinite(lo[i]), has_u = hi && isfinite(hi[i]);
    w.l[i] = has_l ? lo[i] : 0.0;
    w.u[i] = has_u ? hi[i] : 0.0;
    w.nbd[i] = has_l ? (has_u ? 2 : 1) : (has_u ? 3 : 0);
  }
  in = (int)n;
  im = (int)o->m;
  factr = o->factr;
  pgtol = o->pgtol;
  set_task(task, "START");
  set_task(csave, "");

  int saved_stdout = silence_stdout();
  for (;;) {
    setulb_(&in, &im, x, w.l, w.u, w.nbd, &f, w.g, &factr, &pgtol, w.wa, w.iwa, task, &iprint, csave, lsave, isave,
            dsave, TASK_LEN, TASK_LEN);

    if (task_is(task, "FG")) {
      if (o->interrupt && *o->interrupt) {
        status = DENSRT_EINTR;
        stop = "STOP: INTERRUPTED";
        break;
      }
      if (n_eval >= o->max_eval) {
        status = DENSRT_EMAXITER;
        stop = "STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT";
        break;
      }
      f = fn(x, w.g, ctx);
      n_eval++;
      if (isfinite(f) && all_finite(n, w.g, &bad)) {
        if (!have_best || f < fbest) {
          memcpy(w.xbest, x, n * sizeof(double));
          memcpy(w.gbest, w.g, n * sizeof(double));
          fbest = f;
          have_best = 1;
        }
      } else if (n_eval == 1) {
        status = DENSRT_ENONFINITE;
        stop = "STOP: NON-FINITE START POINT";
        fbest = f;
        break;
      } else {
        /* never hand NaN/inf to the Fortran: a big finite value and a
           descent-consistent gradient make the line search back off */
        f = fbest + 1e10 * (1.0 + fabs(fbest));
        if (!isfinite(f))
          f = 0.5 * DBL_MAX;
        memcpy(w.g, w.gbest, n * sizeof(double));
      }
      continue;
    }

    if (task_is(task, "NEW_X")) {
      n_iter = (size_t)isave[29];
      if (o->progress &&
          o->progress(n_iter, f, x, proj_grad_norm(n, x, w.g, lo, hi), o->progress_ctx) != 0) {
        status = DENSRT_EINTR;
        stop = "STOP: PROGRESS CALLBACK REQUESTED STOP";
        break;
      }
      if (o->interrupt && *o->interrupt) {
        status = DENSRT_EINTR;
        stop = "STOP: INTERRUPTED";
        break;
      }
      if (n_iter >= o->max_iter) {
        status = DENSRT_EMAXITER;
        stop = "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT";
        break;
      }
      continue;
    }

    n_iter = (size_t)isave[29];
    if (task_is(task, "CONV"))
      status = DENSRT_OK;
    else if (task_is(task, "ERROR"))
      status = DENSRT_EINVAL;
    else /* ABNORMAL_TERMINATION_IN_LNSRCH, WARNING: ..., anything unknown */
      status = DENSRT_EABNORMAL;
    break;
  }
  restore_stdout(saved_stdout);

  if (have_best) {
    memcpy(x, w.xbest, n * sizeof(double));
    res->proj_grad_norm = proj_grad_norm(n, w.xbest, w.gbest, lo, hi);
  }
  res->f = fbest;
  res->n_iter = n_iter;
  res->n_eval = n_eval;
  set_message(res, stop ? stop : task);
  work_free(&w);

  switch (status) {
  case DENSRT_OK:
    return DENSRT_OK;
  case DENSRT_ENONFINITE:
    if (!isfinite(fbest))
      DENSRT_ERROR(status, "L-BFGS-B: objective is not finite at the start point (f = %g)", fbest);
    DENSRT_ERROR(status, "L-BFGS-B: gradient component %zu is not finite at the start point", bad);
  case DENSRT_EMAXITER:
    DENSRT_ERROR(status, "L-BFGS-B: %s (%zu iterations, %zu evaluations)", res->message, n_iter, n_eval);
  case DENSRT_EINTR:
    DENSRT_ERROR(status, "L-BFGS-B: interrupted after %zu iterations", n_iter);
  default:
    DENSRT_ERROR(status, "L-BFGS-B: %s", res->message);
  }
}
