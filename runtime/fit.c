/* fit.c — maximum a posteriori fit: L-BFGS-B, the accuracy watch of 'auto'
** integrals, and a verdict from the measured gradient and curvature (fit.h). */
#include "fit.h"
#include "error.h"
#include "lbfgsb.h"

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* iterations between two accuracy checks of 'auto' integrals along the path */
#define WATCH_EVERY 5

void densrt_fit_options_default(densrt_fit_options *o)
{
  memset(o, 0, sizeof *o);
  o->max_iter = 15000;
  o->ftol = 1e-13;
  o->gtol = 1e-9;
  o->tol = 1e-10;
  o->max_rounds = 16;
  o->prog = "densrt";
}

double densrt_fit_objective(densrt_model *m, const double *theta, double *grad)
{
  double N = m->n ? (double)m->n : 1;
  double lp = densrt_model_log_density(m, theta, grad);
  for (size_t i = 0; i < m->n_theta; i++)
    grad[i] = -grad[i] / N;
  return -lp / N;
}

void densrt_fit_bounds(const densrt_model *m, double *lo, double *hi)
{
  for (size_t p = 0; p < m->def->n_params; p++)
    for (size_t i = 0; i < m->size[p]; i++) {
      lo[m->off[p] + i] = m->def->params[p].lo;
      hi[m->off[p] + i] = m->def->params[p].hi;
    }
}

void densrt_fit_result_free(densrt_fit_result *r)
{
  free(r->flat);
  r->flat = NULL;
  r->n_flat = 0;
}

static void say(const densrt_fit_options *o, const char *fmt, ...)
{
  if (o->quiet)
    return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", o->prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void set_message(densrt_fit_result *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
}

typedef struct {
  densrt_model *m;
  const densrt_fit_options *o;
  int watch;              /* some column integrates by 'auto' */
  int needs_refine;       /* the last check failed at x_bad */
  double bad_err;
  size_t base_iter;       /* iterations of earlier rounds */
  double *x_ok, *x_bad;   /* last verified iterate; the iterate that failed the check */
  const double *scale;    /* L-BFGS-B works on y = x / scale (see diagonal_scale) */
  double *xs;             /* scratch: x */
} path_ctx;

static const double *unscaled(const path_ctx *c, const double *y)
{
  for (size_t i = 0; i < c->m->n_theta; i++)
    c->xs[i] = y[i] * c->scale[i];
  return c->xs;
}

static double objective_fn(const double *y, double *g, void *vctx)
{
  path_ctx *c = vctx;
  double f = densrt_fit_objective(c->m, unscaled(c, y), g);
  for (size_t i = 0; i < c->m->n_theta; i++)
    g[i] *= c->scale[i];
  return f;
}

/* Quadrature that is accurate at the start can fail where the optimiser wanders (a sharply
** peaked intensity slipping between nodes); the computed objective is then wrong and
** the optimiser exploits it.  A failed check stops the run at that iterate. */
static int progress_fn(size_t iter, double f, const double *y, double pg, void *vctx)
{
  path_ctx *c = vctx;
  const double *x = unscaled(c, y);
  size_t it = c->base_iter + iter;
  if (it % 25 == 0)
    say(c->o, "iteration %zu: objective %.12g, projected gradient %.3g", it, f, pg);
  if (c->watch && iter % WATCH_EVERY == 0) {
    double rel;
    if (densrt_model_integral_error(c->m, x, &rel) == DENSRT_OK && rel <= fmax(100 * c->o->tol, 1e-8)) {
      memcpy(c->x_ok, x, c->m->n_theta * sizeof *x);
    } else {
      memcpy(c->x_bad, x, c->m->n_theta * sizeof *x);
      c->bad_err = rel;
      c->needs_refine = 1;
      return 1;
    }
  }
  return 0;
}

static double proj_grad_norm(size_t n, const double *x, const double *g, const double *lo, const double *hi)
{
  double norm = 0;
  for (size_t i = 0; i < n; i++) {
    double gi = g[i];
    if (gi < 0)
      gi = fmax(x[i] - hi[i], gi);
    else
      gi = fmin(x[i] - lo[i], gi);
    norm = fmax(norm, fabs(gi));
  }
  return norm;
}

/* {====================================================================
** Curvature: central differences of the exact gradient over the free values
** ===================================================================== */

static int add_flat(densrt_fit_result *r, size_t i)
{
  for (size_t k = 0; k < r->n_flat; k++)
    if (r->flat[k] == i)
      return DENSRT_OK;
  size_t *f = realloc(r->flat, (r->n_flat + 1) * sizeof *f);
  if (!f)
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  r->flat = f;
  r->flat[r->n_flat++] = i;
  return DENSRT_OK;
}

static int cmp_size(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* Measures the curvature of -ln p at x (gradient g of f there) and fills r->decrease,
** r->saddle, r->flat.  *flat_grad is the largest |gradient of f| along a flat direction. */
/* A difference step for value j: central where both sides have room, else one-sided
** into the interior, never onto a bound (where the objective may not be finite). */
static void difference_points(double x, double lo, double hi, double *dn, double *up)
{
  double h = 1e-4 * fmax(1, fabs(x)), below = x - lo, above = hi - x, near = fmin(below, above);
  if (near >= h) {
    *dn = x - h;
    *up = x + h;
    return;
  }
  /* this close to a bound a value varies on the scale of its distance to it (a width
     near 0): a small part of that distance, away from the bound */
  if (near > 0)
    h = fmin(h, 1e-3 * near);
  if (above >= below) {
    *dn = x;
    *up = x + fmin(h, 0.5 * above);
  } else {
    *dn = x - fmin(h, 0.5 * below);
    *up = x;
  }
}

static int curvature(densrt_model *m, const double *x, const double *g, const double *lo, const double *hi,
                     const densrt_fit_options *o, densrt_fit_result *r, double *flat_grad, double *step)
{
  memset(step, 0, (m->n_theta + 1) * sizeof *step);
  size_t n = m->n_theta, nf = 0;
  double N = m->n ? (double)m->n : 1;
  *flat_grad = 0;
  size_t *F = malloc((n + 1) * sizeof *F);
  double *xp = malloc((n + 1) * sizeof *xp), *gp = malloc((n + 1) * sizeof *gp), *gm = malloc((n + 1) * sizeof *gm);
  gsl_matrix *H = NULL, *V = NULL;
  gsl_vector *lam = NULL;
  gsl_eigen_symmv_workspace *ew = NULL;
  int rc = DENSRT_OK;
  if (!F || !xp || !gp || !gm) {
    rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    goto done;
  }
  /* values held at a bound by the gradient are not free */
  for (size_t i = 0; i < n; i++)
    if (!((x[i] <= lo[i] && g[i] > 0) || (x[i] >= hi[i] && g[i] < 0)))
      F[nf++] = i;
  r->free_values = nf;
  if (nf > DENSRT_FIT_MAX_DENSE) {
    r->curvature = 0;   /* 2 nf gradients and nf^3 work: not measured (fit.h) */
    r->decrease = NAN;
    goto done;
  }
  r->curvature = 1;
  r->decrease = 0;
  if (nf == 0)
    goto done;
  H = gsl_matrix_alloc(nf, nf);
  lam = gsl_vector_alloc(nf);
  V = gsl_matrix_alloc(nf, nf);
  ew = gsl_eigen_symmv_alloc(nf);
  if (!H || !lam || !V || !ew) {
    rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    goto done;
  }
  memcpy(xp, x, n * sizeof *xp);
  for (size_t b = 0; b < nf; b++) {
    if (o->interrupt && *o->interrupt) {
      rc = DENSRT_EINTR;
      goto done;
    }
    size_t j = F[b];
    double up, dn;
    difference_points(x[j], lo[j], hi[j], &dn, &up);
    if (up != x[j]) {
      xp[j] = up;
      densrt_fit_objective(m, xp, gp);
      r->evaluations++;
    } else {
      memcpy(gp, g, n * sizeof *gp);
    }
    if (dn != x[j]) {
      xp[j] = dn;
      densrt_fit_objective(m, xp, gm);
      r->evaluations++;
    } else {
      memcpy(gm, g, n * sizeof *gm);
    }
    xp[j] = x[j];
    for (size_t a = 0; a < nf; a++)
      gsl_matrix_set(H, a, b, N * (gp[F[a]] - gm[F[a]]) / (up - dn));
  }
  /* the asymmetry of the difference quotients measures their error */
  double noise = 0;
  for (size_t a = 0; a < nf; a++)
    for (size_t b = 0; b < a; b++) {
      double s = 0.5 * (gsl_matrix_get(H, a, b) + gsl_matrix_get(H, b, a));
      noise = fmax(noise, fabs(gsl_matrix_get(H, a, b) - gsl_matrix_get(H, b, a)));
      gsl_matrix_set(H, a, b, s);
      gsl_matrix_set(H, b, a, s);
    }
  for (size_t a = 0; a < nf * nf; a++)
    if (!isfinite(H->data[a])) {
      r->curvature = 0;
      r->decrease = NAN;
      goto done;
    }
  gsl_eigen_symmv(H, lam, V, ew);
  double lmax = 0;
  for (size_t k = 0; k < nf; k++)
    lmax = fmax(lmax, fabs(gsl_vector_get(lam, k)));
  double neg = fmax(fmax(DENSRT_FIT_FLAT, 10 * noise), 1e-8 * lmax);
  for (size_t k = 0; k < nf; k++) {
    double l = gsl_vector_get(lam, k);
    double vg = 0;   /* gradient of f along the direction */
    for (size_t a = 0; a < nf; a++)
      vg += gsl_matrix_get(V, a, k) * g[F[a]];
    if (l < -neg)
      r->saddle = 1;
    if (fabs(l) <= DENSRT_FIT_FLAT) {
      *flat_grad = fmax(*flat_grad, fabs(vg));
      /* name the values that make up the direction */
      double vmax = 0;
      for (size_t a = 0; a < nf; a++)
        vmax = fmax(vmax, fabs(gsl_matrix_get(V, a, k)));
      for (size_t a = 0; a < nf; a++)
        if (fabs(gsl_matrix_get(V, a, k)) >= 0.5 * vmax && (rc = add_flat(r, F[a])))
          goto done;
    } else if (l > 0) {
      double G = N * vg;   /* in units of ln p */
      r->decrease += 0.5 * G * G / l / N;
      for (size_t a = 0; a < nf; a++)   /* the Newton step along this direction */
        step[F[a]] -= gsl_matrix_get(V, a, k) * G / l;
    }
  }
  if (r->n_flat)
    qsort(r->flat, r->n_flat, sizeof *r->flat, cmp_size);
done:
  gsl_matrix_free(H);
  gsl_matrix_free(V);
  gsl_vector_free(lam);
  if (ew)
    gsl_eigen_symmv_free(ew);
  free(F);
  free(xp);
  free(gp);
  free(gm);
  return rc;
}

/* }==================================================================== */

/* Newton steps on the measured curvature finish what L-BFGS-B leaves along badly scaled
** directions; a step is taken only when it lowers f (backtracking, inside the bounds). */
#define POLISH_STEPS 8

static int polish_step(densrt_model *m, double *x, const double *g, const double *step, const double *lo,
                       const double *hi, double f, double *trial, double *gt, densrt_fit_result *r)
{
  size_t n = m->n_theta;
  for (double t = 1; t >= 1.0 / 64; t /= 2) {
    r->evaluations++;
    double slope = 0;
    for (size_t i = 0; i < n; i++) {
      trial[i] = fmin(fmax(x[i] + t * step[i], lo[i]), hi[i]);
      slope += g[i] * (trial[i] - x[i]);
    }
    double ft = densrt_fit_objective(m, trial, gt);
    if (isfinite(ft) && ft < f && ft <= f + 1e-4 * slope) {   /* Armijo */
      memcpy(x, trial, n * sizeof *x);
      return 1;
    }
  }
  return 0;
}

/* The verdict at x once the optimiser and the integrals are done (see fit.h). */
static int verdict(densrt_model *m, double *x, const double *lo, const double *hi, const densrt_fit_options *o,
                   int lbfgsb_status, densrt_fit_result *r)
{
  size_t n = m->n_theta;
  double *g = malloc((n + 1) * sizeof *g), *step = malloc((n + 1) * sizeof *step);
  double *trial = malloc((n + 1) * sizeof *trial), *gt = malloc((n + 1) * sizeof *gt);
  int rc = DENSRT_OK, stationary = 0;
  if (!g || !step || !trial || !gt) {
    rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    goto done;
  }
  for (int k = 0;; k++) {
    r->f = densrt_fit_objective(m, x, g);
    r->proj_grad = proj_grad_norm(n, x, g, lo, hi);
    r->saddle = 0;
    densrt_fit_result_free(r);
    double flat_grad = 0;
    if ((rc = curvature(m, x, g, lo, hi, o, r, &flat_grad, step)))
      goto done;
    int small_gradient = r->proj_grad <= o->gtol;
    int small_step =
      r->curvature && r->decrease <= o->ftol * fmax(1, fabs(r->f)) && flat_grad <= fmax(o->gtol, 1e-8);
    stationary = (small_gradient || small_step) && !r->saddle;
    /* the iteration limit is the user's: no polish after it */
    if (stationary || r->saddle || k == POLISH_STEPS || !r->curvature || lbfgsb_status == DENSRT_EMAXITER ||
        (o->interrupt && *o->interrupt) || !polish_step(m, x, g, step, lo, hi, r->f, trial, gt, r))
      break;
    r->polish_steps++;
  }
done:
  free(g);
  free(step);
  free(trial);
  free(gt);
  if (rc)
    return rc;
  if (stationary)
    return DENSRT_OK;
  if (r->saddle)
    set_message(r, "stopped at a saddle point (negative curvature along a free direction); start elsewhere (--init)");
  else if (lbfgsb_status == DENSRT_EMAXITER)
    set_message(r, "the iteration limit was reached (projected gradient %.3g, predicted further decrease %.3g); "
                   "raise --max-iter or start closer (--init)", r->proj_grad, r->decrease);
  else
    set_message(r, "stopped where the point is not stationary (projected gradient %.3g, predicted further decrease "
                   "%.3g of the objective): %s; try another start (--init) or a finer integration rule",
                r->proj_grad, r->decrease, r->optimizer_message);
  return lbfgsb_status == DENSRT_EMAXITER ? DENSRT_EMAXITER : DENSRT_EABNORMAL;
}

/* Chooses between the last verified iterate and the one that failed the check, once the
** rules are accurate at the latter: the restart point is the better of the two. */
static void restart_point(densrt_model *m, path_ctx *c, double *x, double *g)
{
  size_t n = m->n_theta;
  double f_ok = densrt_fit_objective(m, c->x_ok, g), f_bad = densrt_fit_objective(m, c->x_bad, g);
  memcpy(x, isfinite(f_bad) && (f_bad < f_ok || !isfinite(f_ok)) ? c->x_bad : c->x_ok, n * sizeof *x);
  memcpy(c->x_ok, x, n * sizeof *x);
}

/*
** The scale of each value, 1 / sqrt of the objective's curvature along it at the start
** (central differences of the exact gradient, 2 per value), relative to the largest; 1
** where the curvature is not positive.  L-BFGS-B works on x / scale: the values of a
** posterior are determined to very different precisions (a sharp stream track, a loose
** knot past the data), and a quasi-Newton method whose first steps are steepest descent
** needs many iterations to learn that (GD-1 from the seed's start: 616 iterations and
** 953 evaluations unscaled, 131 and 436 scaled; 10^6 stars from the truth: 1483 and 1890
** against 22 and 314).  Models of more than DENSRT_FIT_MAX_DENSE values, and fits with
** o->unscaled, are not scaled.
*/
static int diagonal_scale(densrt_model *m, const double *x, const double *lo, const double *hi,
                          const densrt_fit_options *o, densrt_fit_result *r, double *scale)
{
  size_t n = m->n_theta;
  for (size_t i = 0; i < n; i++)
    scale[i] = 1;
  if (n > DENSRT_FIT_MAX_DENSE || o->unscaled)
    return DENSRT_OK;
  double *xp = malloc((n + 1) * sizeof *xp), *gp = malloc((n + 1) * sizeof *gp), *gm = malloc((n + 1) * sizeof *gm);
  if (!xp || !gp || !gm) {
    free(xp), free(gp), free(gm);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  memcpy(xp, x, n * sizeof *xp);
  double biggest = 0;
  for (size_t j = 0; j < n; j++) {
    if (o->interrupt && *o->interrupt)
      break;
    double up, dn;
    difference_points(x[j], lo[j], hi[j], &dn, &up);
    if (up == dn) {
      scale[j] = 0;
      continue;
    }
    xp[j] = up;
    densrt_fit_objective(m, xp, gp);
    xp[j] = dn;
    densrt_fit_objective(m, xp, gm);
    xp[j] = x[j];
    r->evaluations += 2;
    double c = (gp[j] - gm[j]) / (up - dn);
    scale[j] = c > 0 && isfinite(c) ? 1 / sqrt(c) : 0;
    biggest = fmax(biggest, scale[j]);
  }
  for (size_t j = 0; j < n; j++)
    scale[j] = scale[j] > 0 && biggest > 0 ? scale[j] / biggest : 1;
  free(xp), free(gp), free(gm);
  return DENSRT_OK;
}

int densrt_fit_map(densrt_model *m, double *x, const densrt_fit_options *o, densrt_fit_result *r)
{
  size_t n = m->n_theta;
  memset(r, 0, sizeof *r);
  r->decrease = NAN;
  r->integral_rel_err = NAN;
  int watch = 0, changed, rc = DENSRT_OK;
  for (size_t d = 0; d < m->def->n_dims; d++)
    watch |= m->method[d].kind == DENSRT_METHOD_AUTO;
  double *lo = malloc((n + 1) * sizeof *lo), *hi = malloc((n + 1) * sizeof *hi), *g = malloc((n + 1) * sizeof *g);
  double *x_ok = malloc((n + 1) * sizeof *x_ok), *x_bad = malloc((n + 1) * sizeof *x_bad);
  double *scale = malloc((n + 1) * sizeof *scale), *ylo = malloc((n + 1) * sizeof *ylo);
  double *yhi = malloc((n + 1) * sizeof *yhi), *xs = malloc((n + 1) * sizeof *xs);
  if (!lo || !hi || !g || !x_ok || !x_bad || !scale || !ylo || !yhi || !xs) {
    rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    goto done;
  }
  densrt_fit_bounds(m, lo, hi);
  path_ctx ctx = {m, o, watch, 0, 0, 0, x_ok, x_bad, scale, xs};
  densrt_lbfgsb_options opt;
  densrt_lbfgsb_options_default(&opt);
  opt.factr = o->ftol / 2.220446049250313e-16;
  opt.pgtol = o->gtol;
  opt.interrupt = o->interrupt;
  opt.progress = progress_fn;
  opt.progress_ctx = &ctx;

  /* 'auto' integrals accurate at the start */
  if (watch) {
    rc = densrt_model_refine(m, x, o->tol, &changed, &r->integral_rel_err);
    if (rc && rc != DENSRT_ETOL)
      goto done;
    rc = DENSRT_OK;
  }
  memcpy(x_ok, x, n * sizeof *x);
  if ((rc = diagonal_scale(m, x, lo, hi, o, r, scale)))
    goto done;
  for (size_t i = 0; i < n; i++) {
    ylo[i] = lo[i] / scale[i];
    yhi[i] = hi[i] / scale[i];
  }
  int st = DENSRT_OK;
  for (;;) {
    if (n == 0)
      break;   /* nothing to optimise: the verdict below evaluates the one point */
    if (r->iterations >= o->max_iter) {
      st = DENSRT_EMAXITER;
      break;
    }
    opt.max_iter = o->max_iter - r->iterations;
    opt.max_eval = 4 * opt.max_iter;
    densrt_lbfgsb_result res;
    ctx.needs_refine = 0;
    ctx.base_iter = r->iterations;
    for (size_t i = 0; i < n; i++)
      x[i] /= scale[i];
    st = densrt_lbfgsb_minimize(n, x, ylo, yhi, objective_fn, &ctx, &opt, &res);
    for (size_t i = 0; i < n; i++)   /* back from y, inside the bounds whatever the rounding */
      x[i] = fmin(fmax(x[i] * scale[i], lo[i]), hi[i]);
    r->iterations += res.n_iter;
    r->evaluations += res.n_eval;
    snprintf(r->optimizer_message, sizeof r->optimizer_message, "%s", res.message);
    if (ctx.needs_refine) {
      if (r->refinements >= o->max_rounds) {
        memcpy(x, x_ok, n * sizeof *x);
        st = DENSRT_ETOL;
        set_message(r, "the integrals kept losing accuracy along the path after %zu refinements; choose a finer rule "
                       "(--integrate COLUMN=gauss_legendre(order = 64, subdiv = N)) or a start closer to the optimum",
                    r->refinements);
        break;
      }
      /* refine where the check failed, so the rules change */
      rc = densrt_model_refine(m, x_bad, o->tol, &changed, &r->integral_rel_err);
      if (rc && rc != DENSRT_ETOL)
        goto done;
      rc = DENSRT_OK;
      r->refinements++;
      say(o, "the integrals lost accuracy at iteration %zu (estimated relative error %.2g); refined the rules "
             "there and restarting", r->iterations, ctx.bad_err);
      restart_point(m, &ctx, x, g);
      continue;
    }
    if (st == DENSRT_EINTR || st == DENSRT_ENONFINITE || st == DENSRT_EINVAL || st == DENSRT_ENOMEM)
      break;
    /* the integrals at the optimum: estimated for every rule, refined for 'auto' ones */
    rc = densrt_model_refine(m, x, o->tol, &changed, &r->integral_rel_err);
    if (rc == DENSRT_ETOL) {
      st = DENSRT_ETOL;
      set_message(r, "the integrals could not be made accurate to %g at the optimum (%s)", o->tol,
                  densrt_error_message());
      rc = DENSRT_OK;
      break;
    }
    if (rc)
      goto done;
    if (!changed || st == DENSRT_EMAXITER)
      break;
    if (r->refinements >= o->max_rounds) {
      st = DENSRT_ETOL;
      set_message(r, "the integrals still changed at the optimum after %zu refinements", r->refinements);
      break;
    }
    r->refinements++;
    say(o, "refined the integration rules at the optimum (now an estimated relative error of %.2g); continuing",
        r->integral_rel_err);
  }
  if (st == DENSRT_EINTR || st == DENSRT_ENONFINITE || st == DENSRT_EINVAL || st == DENSRT_ENOMEM)
    goto stopped;
  if (n == 0 && watch) {
    rc = densrt_model_refine(m, x, o->tol, &changed, &r->integral_rel_err);
    if (rc == DENSRT_ETOL) {
      st = DENSRT_ETOL;
      set_message(r, "the integrals could not be made accurate to %g (%s)", o->tol, densrt_error_message());
      rc = DENSRT_OK;
    }
    if (rc)
      goto done;
  }
  char why[sizeof r->message];
  snprintf(why, sizeof why, "%s", r->message);
  int v = verdict(m, x, lo, hi, o, st, r);
  if (v == DENSRT_EINTR) {
    st = v;
    goto stopped;
  }
  if (v == DENSRT_ENOMEM) {
    rc = v;
    goto done;
  }
  if (st == DENSRT_ETOL) {   /* the integrals' reason stands, whatever the verdict says */
    snprintf(r->message, sizeof r->message, "%s", why);
    r->status = st;
    goto done;
  }
  r->status = v;
  if (watch && r->polish_steps) {
    /* the Newton steps moved the point: the integrals must still hold there */
    double rel;
    rc = densrt_model_integral_error(m, x, &rel);
    if (rc)
      goto done;
    r->integral_rel_err = rel;
    if (!(rel <= fmax(100 * o->tol, 1e-8))) {
      r->status = DENSRT_ETOL;
      set_message(r, "the integrals lost accuracy where the Newton steps went (estimated relative error %.2g); "
                     "choose a finer rule (--integrate COLUMN=gauss_legendre(order = 64, subdiv = N))", rel);
    }
  }
  goto done;
stopped:
  if (st != DENSRT_EINTR)
    set_message(r, "%s", densrt_error_message());
  else
    set_message(r, "interrupted");
  r->f = densrt_fit_objective(m, x, g);
  r->proj_grad = proj_grad_norm(n, x, g, lo, hi);
  r->integral_rel_err = NAN;   /* not estimated at this point */
  r->status = st;
done:
  if (rc)
    r->status = rc;
  free(lo);
  free(hi);
  free(g);
  free(x_ok);
  free(x_bad);
  free(scale);
  free(ylo);
  free(yhi);
  free(xs);
  return r->status;
}
