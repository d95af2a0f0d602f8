/* start.c — the default start: the best of fits from the structural start and seeded
** perturbations of it, screened on a thinned copy of large data (start.h). */
#include "start.h"
#include "error.h"

#include <gsl/gsl_rng.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

void densrt_start_options_default(densrt_start_options *o)
{
  memset(o, 0, sizeof *o);
  o->starts = 0;   /* densrt_start_count */
  o->spread = DENSRT_START_SPREAD;
  o->hop = DENSRT_START_HOP;
  o->shift = DENSRT_START_SHIFT;
  o->seed = 1;
  o->screen_rows = DENSRT_START_SCREEN_ROWS;
  densrt_fit_options_default(&o->fit);
}

void densrt_start_structural(const densrt_model *m, double *theta)
{
  for (size_t p = 0; p < m->def->n_params; p++) {
    const densrt_param_def *q = &m->def->params[p];
    double x = 0;
    if (isfinite(q->lo) && isfinite(q->hi))
      x = 0.5 * (q->lo + q->hi);
    else if (x <= q->lo)
      x = q->lo + 1;
    else if (x >= q->hi)
      x = q->hi - 1;
    for (size_t i = 0; i < m->size[p]; i++)
      theta[m->off[p] + i] = x;
  }
}

/* x moved by d on the unconstrained scale of bounds [lo, hi] (Stan's transforms: log
** for one bound, logit for two); the structural values are at 0 on that scale.  A value
** at a bound stays there. */
static double move(double x, double lo, double hi, double d)
{
  if (isfinite(lo) && isfinite(hi)) {
    double t = (x - lo) / (hi - lo);
    return lo + (hi - lo) / (1 + exp(-(log(t) - log1p(-t) + d)));
  }
  if (isfinite(lo))
    return lo + (x - lo) * exp(d);
  if (isfinite(hi))
    return hi - (hi - x) * exp(d);
  return x + d;
}

size_t densrt_start_count(const densrt_model *m)
{
  size_t n = 2 * m->def->n_params + 4;
  return n < DENSRT_START_MAX_AUTO ? n : DENSRT_START_MAX_AUTO;
}

/* Candidate c of `count` into x (start.h): 0 the structural start x0; then the shifts of
** one parameter from the best point so far, all down, then all up; then moves of x0 by
** uniform(-spread, spread) and hops from the best point by uniform(-hop, hop), half and
** half.  The random ones each from their own seed (seed, c). */
static int candidate(const densrt_model *m, const densrt_start_options *o, const double *x0, const double *best,
                     size_t c, size_t count, double *x)
{
  size_t np = m->def->n_params, shifts = 2 * np;
  if (c == 0) {
    memcpy(x, x0, m->n_theta * sizeof *x);
    return DENSRT_OK;
  }
  if (c <= shifts) {
    size_t p = (c - 1) % np;
    const densrt_param_def *q = &m->def->params[p];
    double d = c <= np ? -o->shift : o->shift;
    memcpy(x, best, m->n_theta * sizeof *x);
    for (size_t i = m->off[p]; i < m->off[p] + m->size[p]; i++)
      x[i] = move(best[i], q->lo, q->hi, d);
    return DENSRT_OK;
  }
  size_t rest = count > shifts + 1 ? count - shifts - 1 : 0;
  size_t jumps = shifts + 1 + (rest - rest / 2);
  const double *from = c < jumps ? x0 : best;
  double spread = c < jumps ? o->spread : o->hop;
  memcpy(x, from, m->n_theta * sizeof *x);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  if (!rng)
    return DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
  gsl_rng_set(rng, (o->seed * 2654435761u + 0x9e3779b9u * c) & 0xffffffffu);
  for (size_t p = 0; p < m->def->n_params; p++) {
    const densrt_param_def *q = &m->def->params[p];
    for (size_t i = m->off[p]; i < m->off[p] + m->size[p]; i++)
      x[i] = move(from[i], q->lo, q->hi, spread * (2 * gsl_rng_uniform(rng) - 1));
  }
  gsl_rng_free(rng);
  return DENSRT_OK;
}

/* Fits x on m (quietly, at the candidates' tolerances); *f gets the objective, NAN when
** the fit could not evaluate it.  Only DENSRT_ENOMEM is an error. */
static int fit_one(densrt_model *m, const densrt_start_options *o, double *x, double *f, densrt_start_report *rep)
{
  densrt_fit_options fo = o->fit;
  fo.quiet = 1;
  /* candidates only need to reach their basin's bottom well enough to be ranked; the
     caller's fit from the winner polishes it to the caller's tolerances */
  fo.ftol = fmax(fo.ftol, DENSRT_START_FTOL);
  fo.gtol = fmax(fo.gtol, DENSRT_START_GTOL);
  /* unscaled: the steepest-descent-like first steps carry candidates farther, into other
     basins (GD-1: the best candidate reaches -0.4175352553 unscaled, -0.4172805279 scaled) */
  fo.unscaled = 1;
  densrt_fit_result fr;
  int st = densrt_fit_map(m, x, &fo, &fr);
  densrt_fit_result_free(&fr);
  rep->tried++;
  rep->evaluations += fr.evaluations;
  *f = st == DENSRT_ENONFINITE || st == DENSRT_EINVAL || !isfinite(fr.f) ? NAN : fr.f;
  return st == DENSRT_ENOMEM ? DENSRT_FAIL(DENSRT_ENOMEM, "%s", fr.message) : DENSRT_OK;
}

static int interrupted(const densrt_start_options *o)
{
  return o->fit.interrupt && *o->fit.interrupt;
}

/* Fits candidates 0 .. count - 1 on m; the best point (lowest finite f, the earliest on ties) goes to best with *f_best and *which,
** unchanged when none is finite. */
static int best_of(densrt_model *m, const densrt_start_options *o, const double *x0, size_t count, double *x,
                   double *best, double *f_best, size_t *which, double *f_structural, densrt_start_report *rep)
{
  for (size_t c = 0; c < count && !interrupted(o); c++) {
    double f;
    int rc = candidate(m, o, x0, best, c, count, x);
    if (rc || (rc = fit_one(m, o, x, &f, rep)))
      return rc;
    if (c == 0 && f_structural)
      *f_structural = f;
    if (f < *f_best || (isnan(*f_best) && !isnan(f))) {
      *f_best = f;
      *which = c;
      memcpy(best, x, m->n_theta * sizeof *best);
    }
  }
  return DENSRT_OK;
}

/* A copy of m (knots, methods, windows) with every (n / k)-th data row, k rows in all,
** prepared. */
static int thinned(const densrt_model *m, size_t k, densrt_model **out)
{
  densrt_model *s;
  int rc = densrt_model_alloc(m->def, &s);
  if (rc)
    return rc;
  const densrt_model_def *def = m->def;
  for (size_t j = 0; j < def->n_knots; j++) {
    double *t = malloc(m->n_knots[j] * sizeof *t);
    if (!t) {
      densrt_model_free(s);
      return DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    }
    memcpy(t, m->knots[j], m->n_knots[j] * sizeof *t);
    free(s->knots[j]);
    s->knots[j] = t;
    s->n_knots[j] = m->n_knots[j];
  }
  double *cols[DENSRT_MAX_DIMS] = {0};
  for (size_t d = 0; d < def->n_dims; d++) {
    s->method[d] = m->method[d];
    s->lo[d] = m->lo[d];
    s->hi[d] = m->hi[d];
    cols[d] = malloc(k * sizeof *cols[d]);
    if (!cols[d]) {
      for (size_t e = 0; e <= d; e++)
        free(cols[e]);
      densrt_model_free(s);
      return DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < k; i++)   /* evenly spread rows: no seed, and sorted files are thinned evenly */
      cols[d][i] = m->x[d][(size_t)((double)i * (double)m->n / (double)k)];
  }
  densrt_model_set_data(s, k, cols);
  if ((rc = densrt_model_prepare(s))) {
    densrt_model_free(s);
    return rc;
  }
  *out = s;
  return DENSRT_OK;
}

int densrt_start_find(densrt_model *m, const densrt_start_options *o, double *theta, densrt_start_report *r)
{
  densrt_start_report rep = {0, 0, NAN, NAN, 0, 0};
  size_t n = m->n_theta;
  densrt_start_structural(m, theta);
  size_t starts = o->starts ? o->starts : densrt_start_count(m);
  int rc = DENSRT_OK;
  double *x0 = NULL;
  densrt_model *s = NULL;
  if (starts <= 1)
    goto done;
  x0 = malloc((3 * n + 1) * sizeof *x0);
  if (!x0) {
    rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    goto done;
  }
  double *x = x0 + n, *best = x0 + 2 * n;
  memcpy(x0, theta, n * sizeof *x0);
  memcpy(best, theta, n * sizeof *best);
  if (o->screen_rows && m->n > 2 * o->screen_rows) {
    /* large data: the candidates race on a thinned copy; on the full data only the
       structural start and the thinned race's winner are fitted */
    rep.screened = o->screen_rows;
    if ((rc = thinned(m, o->screen_rows, &s)))
      goto done;
    double f_sub = NAN;
    size_t which = 0;
    if ((rc = best_of(s, o, x0, starts, x, best, &f_sub, &which, NULL, &rep)))
      goto done;
    double *won = malloc((n + 1) * sizeof *won);
    if (!won) {
      rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
      goto done;
    }
    memcpy(won, best, n * sizeof *won);
    memcpy(best, x0, n * sizeof *best);
    if ((rc = best_of(m, o, x0, 1, x, best, &rep.f, &rep.best, &rep.f_structural, &rep)) == DENSRT_OK &&
        which != 0 && !interrupted(o)) {
      double f;
      memcpy(x, won, n * sizeof *x);
      rc = fit_one(m, o, x, &f, &rep);
      if (rc == DENSRT_OK && (f < rep.f || (isnan(rep.f) && !isnan(f)))) {
        rep.f = f;
        rep.best = which;
        memcpy(best, x, n * sizeof *best);
      }
    }
    free(won);
    if (rc)
      goto done;
  } else if ((rc = best_of(m, o, x0, starts, x, best, &rep.f, &rep.best, &rep.f_structural, &rep))) {
    goto done;
  }
  memcpy(theta, best, n * sizeof *theta);
done:
  if (rc)
    densrt_start_structural(m, theta);
  densrt_model_free(s);
  free(x0);
  if (r)
    *r = rep;
  return rc;
}
