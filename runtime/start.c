/* start.c — the default start: the best of fits from the structural start and seeded
** perturbations of it (start.h). */
#include "start.h"
#include "error.h"

#include <gsl/gsl_rng.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

void densrt_start_options_default(densrt_start_options *o)
{
  memset(o, 0, sizeof *o);
  o->starts = DENSRT_START_STARTS;
  o->spread = DENSRT_START_SPREAD;
  o->seed = 1;
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

/* The structural value x moved by u on the unconstrained scale of bounds [lo, hi]; the
** inverse transforms map the structural values to u = 0. */
static double perturb(double x, double lo, double hi, double u)
{
  if (isfinite(lo) && isfinite(hi))
    return lo + (hi - lo) / (1 + exp(-u));
  if (isfinite(lo))
    return lo + exp(u);
  if (isfinite(hi))
    return hi - exp(u);
  return x + u;
}

int densrt_start_find(densrt_model *m, const densrt_start_options *o, double *theta, densrt_start_report *r)
{
  densrt_start_report rep = {0, 0, NAN, NAN, 0};
  size_t n = m->n_theta;
  densrt_start_structural(m, theta);
  if (o->starts <= 1) {
    if (r)
      *r = rep;
    return DENSRT_OK;
  }
  double *x0 = malloc((3 * n + 1) * sizeof *x0);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  if (!x0 || !rng) {
    free(x0);
    gsl_rng_free(rng);
    if (r)
      *r = rep;
    return DENSRT_ENOMEM;
  }
  double *x = x0 + n, *best = x0 + 2 * n;
  memcpy(x0, theta, n * sizeof *x0);
  memcpy(best, theta, n * sizeof *best);
  gsl_rng_set(rng, o->seed);
  densrt_fit_options fo = o->fit;
  fo.quiet = 1;
  /* candidates only need to reach their basin's bottom well enough to be ranked; the
     caller's fit from the winner polishes it to the caller's tolerances */
  fo.ftol = fmax(fo.ftol, DENSRT_START_FTOL);
  fo.gtol = fmax(fo.gtol, DENSRT_START_GTOL);
  for (size_t c = 0; c < o->starts; c++) {
    if (o->fit.interrupt && *o->fit.interrupt)
      break;
    for (size_t p = 0; p < m->def->n_params; p++) {
      const densrt_param_def *q = &m->def->params[p];
      for (size_t i = m->off[p]; i < m->off[p] + m->size[p]; i++)
        /* candidate 0 draws too, so candidate c is the same whatever the number of starts */
        x[i] = c ? perturb(x0[i], q->lo, q->hi, o->spread * (2 * gsl_rng_uniform(rng) - 1))
                 : (gsl_rng_uniform(rng), x0[i]);
    }
    densrt_fit_result fr;
    int st = densrt_fit_map(m, x, &fo, &fr);
    densrt_fit_result_free(&fr);
    rep.tried++;
    rep.evaluations += fr.evaluations;
    if (st == DENSRT_ENOMEM) {
      free(x0);
      gsl_rng_free(rng);
      if (r)
        *r = rep;
      return DENSRT_ENOMEM;
    }
    if (st == DENSRT_ENONFINITE || st == DENSRT_EINVAL || !isfinite(fr.f))
      continue;
    if (c == 0)
      rep.f_structural = fr.f;
    if (!(fr.f >= rep.f)) {   /* also when rep.f is still NAN */
      rep.f = fr.f;
      rep.best = c;
      memcpy(best, x, n * sizeof *best);
    }
  }
  memcpy(theta, best, n * sizeof *theta);
  free(x0);
  gsl_rng_free(rng);
  if (r)
    *r = rep;
  return DENSRT_OK;
}
