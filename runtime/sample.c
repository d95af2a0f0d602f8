/*
** sample.c — NUTS chains of a model in threads (see sample.h).
*/
#include "sample.h"
#include "error.h"
#include "fit.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void densrt_sample_options_default(densrt_sample_options *o)
{
  memset(o, 0, sizeof *o);
  o->chains = 4;
  o->draws = 1000;
  o->data_threads = 1;
  densrt_nuts_options_default(&o->nuts);
}

/* {====================================================================
** Transforms
** ===================================================================== */

static double logistic(double u)
{
  return u >= 0 ? 1 / (1 + exp(-u)) : exp(u) / (1 + exp(u));
}

void densrt_sample_constrain(size_t n, const double *lo, const double *hi, const double *u, double *theta)
{
  for (size_t i = 0; i < n; i++) {
    int a = isfinite(lo[i]), b = isfinite(hi[i]);
    if (a && b) {
      double v = lo[i] + (hi[i] - lo[i]) * logistic(u[i]);
      theta[i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;   /* rounding never leaves the box */
    } else if (a) {
      theta[i] = lo[i] + exp(u[i]);
    } else if (b) {
      theta[i] = hi[i] - exp(u[i]);
    } else {
      theta[i] = u[i];
    }
  }
}

int densrt_sample_unconstrain(const densrt_model *m, const double *lo, const double *hi, const double *theta,
                              double *u)
{
  for (size_t i = 0; i < m->n_theta; i++) {
    int a = isfinite(lo[i]), b = isfinite(hi[i]);
    if (!isfinite(theta[i]) || (a && !(theta[i] > lo[i])) || (b && !(theta[i] < hi[i]))) {
      char name[128];
      DENSRT_ERROR(DENSRT_EDOM, "%s = %g is not strictly inside its bounds [%g, %g] (sampling needs an interior "
                   "point)", densrt_model_value_name(m, i, name, sizeof name), theta[i], lo[i], hi[i]);
    }
    if (a && b) {
      double s = (theta[i] - lo[i]) / (hi[i] - lo[i]);
      u[i] = log(s) - log1p(-s);
    } else if (a) {
      u[i] = log(theta[i] - lo[i]);
    } else if (b) {
      u[i] = log(hi[i] - theta[i]);
    } else {
      u[i] = theta[i];
    }
  }
  return DENSRT_OK;
}

/* The log density on the unconstrained scale: ln p(theta(u)) + ln |J|, and its gradient. */
typedef struct {
  const densrt_model *m;
  densrt_work *w;
  const double *lo, *hi;
  double *theta, *g;
  size_t calls;
  double seconds;
} density;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int log_density_u(const double *u, double *lp, double *grad, void *vctx)
{
  density *c = vctx;
  size_t n = c->m->n_theta;
  double t0 = now();
  densrt_sample_constrain(n, c->lo, c->hi, u, c->theta);
  double f = densrt_model_eval(c->m, c->w, c->theta, c->g);
  for (size_t i = 0; i < n; i++) {
    int a = isfinite(c->lo[i]), b = isfinite(c->hi[i]);
    if (a && b) {
      double s = logistic(u[i]), w = c->hi[i] - c->lo[i];
      /* log s + log(1 - s) without cancellation */
      f += log(w) - fabs(u[i]) - 2 * log1p(exp(-fabs(u[i])));
      grad[i] = c->g[i] * w * s * (1 - s) + (1 - 2 * s);
    } else if (a || b) {
      double e = exp(u[i]);
      f += u[i];
      grad[i] = c->g[i] * (a ? e : -e) + 1;
    } else {
      grad[i] = c->g[i];
    }
  }
  *lp = f;
  c->calls++;
  c->seconds += now() - t0;
  return DENSRT_OK;
}

/* }==================================================================== */

/* {====================================================================
** Chains
** ===================================================================== */

typedef struct {
  const densrt_model *m;
  const double *const *init;
  const densrt_sample_options *o;
  const densrt_sample_sink *sink;
  densrt_sample_chain *chains;
  double *lo, *hi;
  pthread_mutex_t lock;
  size_t next;                /* the next chain to run */
  volatile sig_atomic_t stop; /* a chain failed: the others stop (read and written under lock) */
} run;

static int stopped(run *r)
{
  pthread_mutex_lock(&r->lock);
  int s = r->stop;
  pthread_mutex_unlock(&r->lock);
  return s;
}

static void chain_fail(densrt_sample_chain *ch, int status, const char *fmt, const char *detail)
{
  ch->status = status;
  snprintf(ch->message, sizeof ch->message, fmt, detail);
}

/* A chain's own failure (not an interruption) stops every chain. */
static void chain_error(run *r, densrt_sample_chain *ch, int status, const char *detail)
{
  chain_fail(ch, status, "%s", detail);
  pthread_mutex_lock(&r->lock);
  r->stop = 1;
  pthread_mutex_unlock(&r->lock);
}

/* Stan's default start: uniform(-2, 2) on the unconstrained scale, up to 100 tries for a
** finite log density and gradient. */
static int random_init(const run *r, unsigned c, density *dens, double *u, double *g)
{
  size_t n = r->m->n_theta;
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  if (!rng)
    return DENSRT_ENOMEM;
  gsl_rng_set(rng, (unsigned long)((r->o->seed * 2654435761u + 0x5bd1e995u * (c + 1)) & 0xFFFFFFFFu) | 1u);
  for (int attempt = 0; attempt < 100; attempt++) {
    for (size_t i = 0; i < n; i++)
      u[i] = -2 + 4 * gsl_rng_uniform(rng);
    double lp;
    log_density_u(u, &lp, g, dens);
    int ok = isfinite(lp);
    for (size_t i = 0; i < n && ok; i++)
      ok = isfinite(g[i]);
    if (ok) {
      gsl_rng_free(rng);
      return DENSRT_OK;
    }
  }
  gsl_rng_free(rng);
  return DENSRT_ENONFINITE;
}

static void run_chain(run *r, unsigned c)
{
  const densrt_model *m = r->m;
  const densrt_sample_options *o = r->o;
  densrt_sample_chain *ch = &r->chains[c];
  size_t n = m->n_theta;
  densrt_work *w = NULL;
  double *buf = calloc(4 * n + 1, sizeof *buf);
  densrt_nuts *s = NULL;
  if (!buf || densrt_work_alloc(m, &w) || densrt_work_set_threads(m, w, o->data_threads)) {
    chain_error(r, ch, DENSRT_ENOMEM, "out of memory, or the data threads could not start");
    goto done;
  }
  double *u = buf, *theta = buf + n, *g = buf + 2 * n;
  density dens = {m, w, r->lo, r->hi, buf + 3 * n, g, 0, 0};
  if (r->init && r->init[c]) {
    if (densrt_sample_unconstrain(m, r->lo, r->hi, r->init[c], u)) {
      chain_error(r, ch, DENSRT_EDOM, densrt_error_message());
      goto done;
    }
  } else if (random_init(r, c, &dens, u, g)) {
    chain_error(r, ch, DENSRT_ENONFINITE, "the log density is not finite at 100 random initial points "
                                          "(uniform(-2, 2) on the unconstrained scale): give --init");
    goto done;
  }
  s = densrt_nuts_alloc(n, log_density_u, &dens, &o->nuts, o->seed, c);
  if (!s) {
    chain_error(r, ch, DENSRT_ENOMEM, "out of memory");
    goto done;
  }
  int rc = densrt_nuts_init(s, u);
  if (rc) {
    chain_error(r, ch, rc, densrt_error_message());
    goto done;
  }
  /* without warmup the (unadapted) step size and metric come first, as in Stan's files */
  if (o->nuts.warmup == 0 && r->sink->adapted &&
      r->sink->adapted(r->sink->ctx, c, densrt_nuts_stepsize(s), densrt_nuts_inv_metric(s), densrt_nuts_is_dense(s))) {
    chain_error(r, ch, DENSRT_EIO, "the draws could not be written");
    goto done;
  }
  double t0 = now(), t1 = t0;
  size_t total = o->nuts.warmup + o->draws;
  for (size_t it = 0; it < total; it++) {
    if (o->interrupt && *o->interrupt) {
      chain_fail(ch, DENSRT_EINTR, "%s", "interrupted");
      break;
    }
    if (stopped(r)) {
      chain_fail(ch, DENSRT_EINTR, "%s", "stopped: another chain failed");
      break;
    }
    densrt_nuts_draw d;
    if ((rc = densrt_nuts_transition(s, &d))) {
      chain_error(r, ch, rc, densrt_error_message());
      break;
    }
    densrt_sample_constrain(n, r->lo, r->hi, densrt_nuts_position(s), theta);
    ch->iterations = it + 1;
    if (!d.warmup) {
      ch->divergent += d.divergent != 0;
      ch->max_depth_hits += (size_t)d.treedepth >= o->nuts.max_depth;
    }
    if (r->sink->draw && r->sink->draw(r->sink->ctx, c, it, &d, theta)) {
      chain_error(r, ch, DENSRT_EIO, "the draws could not be written");
      break;
    }
    if (it + 1 == o->nuts.warmup) {
      t1 = now();
      ch->warmup_seconds = t1 - t0;
      ch->stepsize = densrt_nuts_stepsize(s);
      if (r->sink->adapted && r->sink->adapted(r->sink->ctx, c, densrt_nuts_stepsize(s), densrt_nuts_inv_metric(s),
                                               densrt_nuts_is_dense(s))) {
        chain_error(r, ch, DENSRT_EIO, "the draws could not be written");
        break;
      }
    }
  }
  ch->sampling_seconds = now() - t1;
  ch->gradients = dens.calls;
  ch->gradient_seconds = dens.seconds;
done:
  densrt_nuts_free(s);
  densrt_work_free(w);
  free(buf);
}

static void *worker(void *arg)
{
  run *r = arg;
  for (;;) {
    pthread_mutex_lock(&r->lock);
    size_t c = r->next++;
    pthread_mutex_unlock(&r->lock);
    if (c >= r->o->chains)
      return NULL;
    if (stopped(r)) {
      chain_fail(&r->chains[c], DENSRT_EINTR, "%s", "not started: another chain failed");
      continue;
    }
    run_chain(r, (unsigned)c);
  }
}

int densrt_sample_run(const densrt_model *m, const double *const *init, const densrt_sample_options *o,
                      const densrt_sample_sink *sink, densrt_sample_chain *chains)
{
  size_t n = m->n_theta;
  run r = {m, init, o, sink, chains, calloc(n + 1, sizeof(double)), calloc(n + 1, sizeof(double)),
           PTHREAD_MUTEX_INITIALIZER, 0, 0};
  memset(chains, 0, o->chains * sizeof *chains);
  if (!r.lo || !r.hi) {
    free(r.lo);
    free(r.hi);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  densrt_fit_bounds(m, r.lo, r.hi);
  size_t threads = o->threads;
  if (threads == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    threads = cores > 0 ? (size_t)cores : 1;
  }
  if (threads > o->chains)
    threads = o->chains;
  pthread_t *t = calloc(threads + 1, sizeof *t);
  size_t started = 0;
  for (size_t i = 1; t && i < threads; i++)
    if (pthread_create(&t[started], NULL, worker, &r) == 0)
      started++;
  worker(&r);   /* this thread works too */
  for (size_t i = 0; i < started; i++)
    pthread_join(t[i], NULL);
  free(t);
  free(r.lo);
  free(r.hi);
  for (int pass = 0; pass < 2; pass++)   /* a chain's own error before an interruption */
    for (size_t c = 0; c < o->chains; c++)
      if (chains[c].status && (pass || chains[c].status != DENSRT_EINTR))
        return densrt_error(chains[c].status, __FILE__, __LINE__, "chain %zu: %s", c + 1, chains[c].message);
  return DENSRT_OK;
}

/* }==================================================================== */
