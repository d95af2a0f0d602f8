/*
** nuts.c — the multinomial No-U-Turn sampler and Stan's windowed warmup (see nuts.h).
*/
#include "nuts.h"
#include "error.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A point of phase space: position, momentum, log density and its gradient. */
typedef struct {
  double *q, *p, *g;
  double lp;
} point;

struct densrt_nuts {
  size_t n;
  densrt_nuts_fn *fn;
  void *ctx;
  densrt_nuts_options o;
  gsl_rng *rng;
  int status;               /* the first error of fn */
  /* the metric */
  double *inv_metric;       /* n (diagonal) or n x n (dense) */
  gsl_matrix *chol;         /* dense: the Cholesky factor of inv_metric */
  double eps;               /* the step size */
  /* the current point and scratch points of the trajectory */
  point z, z_fwd, z_bck, z_sample, z_propose, z_propose_final, scratch;
  double *pool;             /* the vectors below, in one allocation */
  double *rho, *rho_fwd, *rho_bck, *rho_ext;
  double *p_sharp_fwd_fwd, *p_sharp_fwd_bck, *p_sharp_bck_fwd, *p_sharp_bck_bck;
  double *p_fwd_fwd, *p_fwd_bck, *p_bck_fwd, *p_bck_bck;
  double *tmp;              /* n scratch values */
  double *tree_pool;        /* 6 n per tree level: the recursion's vectors */
  int divergent;
  /* warmup */
  size_t iter;              /* transitions done */
  double mu, s_bar, x_bar;  /* dual averaging */
  size_t counter;
  size_t init_buffer, term_buffer, window, next_window, window_size, window_counter;
  int adapt_metric;
  double *w_mean, *w_m2;    /* Welford: mean and the sum of squares (n, or n x n when dense) */
  size_t w_n;
};

void densrt_nuts_options_default(densrt_nuts_options *o)
{
  memset(o, 0, sizeof *o);
  o->warmup = 1000;
  o->max_depth = 10;
  o->delta = 0.8;
  o->gamma = 0.05;
  o->kappa = 0.75;
  o->t0 = 10;
  o->init_buffer = 75;
  o->term_buffer = 50;
  o->window = 25;
  o->stepsize = 1;
  o->max_delta_h = 1000;
}

/* {====================================================================
** The Hamiltonian
** ===================================================================== */

static void copy_point(const densrt_nuts *s, point *to, const point *from)
{
  memcpy(to->q, from->q, s->n * sizeof *to->q);
  memcpy(to->p, from->p, s->n * sizeof *to->p);
  memcpy(to->g, from->g, s->n * sizeof *to->g);
  to->lp = from->lp;
}

static void evaluate(densrt_nuts *s, point *z)
{
  int st = s->fn(z->q, &z->lp, z->g, s->ctx);
  if (st && !s->status)
    s->status = st;
  if (st || isnan(z->lp))
    z->lp = -INFINITY;
}

/* M^-1 p, the velocity (Stan's dtau_dp). */
static void velocity(const densrt_nuts *s, const double *p, double *out)
{
  size_t n = s->n;
  if (!s->o.dense) {
    for (size_t i = 0; i < n; i++)
      out[i] = s->inv_metric[i] * p[i];
    return;
  }
  for (size_t i = 0; i < n; i++) {
    double v = 0;
    for (size_t j = 0; j < n; j++)
      v += s->inv_metric[i * n + j] * p[j];
    out[i] = v;
  }
}

static double kinetic(densrt_nuts *s, const double *p)
{
  velocity(s, p, s->tmp);
  double k = 0;
  for (size_t i = 0; i < s->n; i++)
    k += p[i] * s->tmp[i];
  return 0.5 * k;
}

static double hamiltonian(densrt_nuts *s, const point *z)
{
  return kinetic(s, z->p) - z->lp;
}

/* p ~ N(0, M): p = z / sqrt(inv_metric) (diagonal), L^-T z with L L' = inv_metric (dense). */
static void sample_momentum(densrt_nuts *s, double *p)
{
  for (size_t i = 0; i < s->n; i++)
    p[i] = gsl_ran_gaussian_ziggurat(s->rng, 1.0);
  if (!s->o.dense) {
    for (size_t i = 0; i < s->n; i++)
      p[i] /= sqrt(s->inv_metric[i]);
    return;
  }
  gsl_vector_view v = gsl_vector_view_array(p, s->n);
  gsl_blas_dtrsv(CblasLower, CblasTrans, CblasNonUnit, s->chol, &v.vector);
}

/* One leapfrog step of size e. */
static void leapfrog(densrt_nuts *s, point *z, double e)
{
  size_t n = s->n;
  for (size_t i = 0; i < n; i++)
    z->p[i] += 0.5 * e * z->g[i];
  velocity(s, z->p, s->tmp);
  for (size_t i = 0; i < n; i++)
    z->q[i] += e * s->tmp[i];
  evaluate(s, z);
  for (size_t i = 0; i < n; i++)
    z->p[i] += 0.5 * e * z->g[i];
}

/* }==================================================================== */

/* {====================================================================
** The tree
** ===================================================================== */

static double log_sum_exp(double a, double b)
{
  if (a == -INFINITY)
    return b;
  if (b == -INFINITY)
    return a;
  double m = fmax(a, b);
  return m + log(exp(a - m) + exp(b - m));
}

static double dot(size_t n, const double *a, const double *b)
{
  double d = 0;
  for (size_t i = 0; i < n; i++)
    d += a[i] * b[i];
  return d;
}

/* The generalised no-U-turn criterion between two ends of a trajectory of summed momenta rho. */
static int no_u_turn(size_t n, const double *p_sharp_minus, const double *p_sharp_plus, const double *rho)
{
  return dot(n, p_sharp_plus, rho) > 0 && dot(n, p_sharp_minus, rho) > 0;
}

static void add(size_t n, double *to, const double *a, const double *b)
{
  for (size_t i = 0; i < n; i++)
    to[i] = a[i] + b[i];
}

/*
** Builds a subtree of 2^depth leapfrog steps from z in direction sign; its summed momentum
** is added to rho, its end momenta and velocities are returned, its sample is left in
** z_propose, log_sum_weight gains its weights.  Returns 0 when the subtree diverged or
** turned (the whole trajectory then stops).
*/
static int build_tree(densrt_nuts *s, size_t depth, point *z, point *z_propose, double *p_sharp_beg,
                      double *p_sharp_end, double *rho, double *p_beg, double *p_end, double H0, int sign,
                      size_t *n_leapfrog, double *log_sum_weight, double *sum_metro_prob)
{
  size_t n = s->n;
  if (depth == 0) {
    leapfrog(s, z, sign * s->eps);
    ++*n_leapfrog;
    double h = hamiltonian(s, z);
    if (isnan(h))
      h = INFINITY;
    if (h - H0 > s->o.max_delta_h)
      s->divergent = 1;
    *log_sum_weight = log_sum_exp(*log_sum_weight, H0 - h);
    *sum_metro_prob += H0 - h > 0 ? 1 : exp(H0 - h);
    copy_point(s, z_propose, z);
    velocity(s, z->p, p_sharp_beg);
    memcpy(p_sharp_end, p_sharp_beg, n * sizeof *p_sharp_end);
    for (size_t i = 0; i < n; i++)
      rho[i] += z->p[i];
    memcpy(p_beg, z->p, n * sizeof *p_beg);
    memcpy(p_end, z->p, n * sizeof *p_end);
    return !s->divergent;
  }
  /* this level's vectors */
  double *v = s->tree_pool + (depth - 1) * 6 * n;
  double *p_init_end = v, *p_sharp_init_end = v + n, *rho_init = v + 2 * n;
  double *p_final_beg = v + 3 * n, *p_sharp_final_beg = v + 4 * n, *rho_final = v + 5 * n;
  memset(rho_init, 0, n * sizeof *rho_init);
  memset(rho_final, 0, n * sizeof *rho_final);

  double lsw_init = -INFINITY;
  if (!build_tree(s, depth - 1, z, z_propose, p_sharp_beg, p_sharp_init_end, rho_init, p_beg, p_init_end, H0, sign,
                  n_leapfrog, &lsw_init, sum_metro_prob))
    return 0;
  /* the final subtree's sample goes to a point of this level */
  point zf = s->scratch;
  double *extra = s->tree_pool + s->o.max_depth * 6 * n + (depth - 1) * 3 * n;
  zf.q = extra;
  zf.p = extra + n;
  zf.g = extra + 2 * n;
  double lsw_final = -INFINITY;
  if (!build_tree(s, depth - 1, z, &zf, p_sharp_final_beg, p_sharp_end, rho_final, p_final_beg, p_end, H0, sign,
                  n_leapfrog, &lsw_final, sum_metro_prob))
    return 0;

  /* multinomial sample from the right subtree */
  double lsw_subtree = log_sum_exp(lsw_init, lsw_final);
  *log_sum_weight = log_sum_exp(*log_sum_weight, lsw_subtree);
  if (lsw_final > lsw_subtree || gsl_rng_uniform(s->rng) < exp(lsw_final - lsw_subtree))
    copy_point(s, z_propose, &zf);

  double *rho_subtree = s->tree_pool + s->o.max_depth * 9 * n + (depth - 1) * 2 * n;
  double *rho_extended = rho_subtree + n;
  add(n, rho_subtree, rho_init, rho_final);
  for (size_t i = 0; i < n; i++)
    rho[i] += rho_subtree[i];
  /* the criterion across the merged subtree, and across the join of the two */
  int persist = no_u_turn(n, p_sharp_beg, p_sharp_end, rho_subtree);
  add(n, rho_extended, rho_init, p_final_beg);
  persist &= no_u_turn(n, p_sharp_beg, p_sharp_final_beg, rho_extended);
  add(n, rho_extended, rho_final, p_init_end);
  persist &= no_u_turn(n, p_sharp_init_end, p_sharp_end, rho_extended);
  return persist;
}

static int transition(densrt_nuts *s, densrt_nuts_draw *d)
{
  size_t n = s->n;
  sample_momentum(s, s->z.p);
  copy_point(s, &s->z_fwd, &s->z);
  copy_point(s, &s->z_bck, &s->z);
  copy_point(s, &s->z_sample, &s->z);
  copy_point(s, &s->z_propose, &s->z);
  memcpy(s->p_fwd_fwd, s->z.p, n * sizeof(double));
  velocity(s, s->z.p, s->p_sharp_fwd_fwd);
  memcpy(s->p_fwd_bck, s->z.p, n * sizeof(double));
  memcpy(s->p_sharp_fwd_bck, s->p_sharp_fwd_fwd, n * sizeof(double));
  memcpy(s->p_bck_fwd, s->z.p, n * sizeof(double));
  memcpy(s->p_sharp_bck_fwd, s->p_sharp_fwd_fwd, n * sizeof(double));
  memcpy(s->p_bck_bck, s->z.p, n * sizeof(double));
  memcpy(s->p_sharp_bck_bck, s->p_sharp_fwd_fwd, n * sizeof(double));
  memcpy(s->rho, s->z.p, n * sizeof(double));

  double log_sum_weight = 0, H0 = hamiltonian(s, &s->z), sum_metro_prob = 0;
  size_t depth = 0, n_leapfrog = 0;
  s->divergent = 0;
  while (depth < s->o.max_depth) {
    memset(s->rho_fwd, 0, n * sizeof(double));
    memset(s->rho_bck, 0, n * sizeof(double));
    double lsw_subtree = -INFINITY;
    int valid;
    if (gsl_rng_uniform(s->rng) > 0.5) {
      /* extend forward */
      memcpy(s->rho_bck, s->rho, n * sizeof(double));
      memcpy(s->p_bck_fwd, s->p_fwd_bck, n * sizeof(double));
      memcpy(s->p_sharp_bck_fwd, s->p_sharp_fwd_bck, n * sizeof(double));
      valid = build_tree(s, depth, &s->z_fwd, &s->z_propose, s->p_sharp_fwd_bck, s->p_sharp_fwd_fwd, s->rho_fwd,
                         s->p_fwd_bck, s->p_fwd_fwd, H0, 1, &n_leapfrog, &lsw_subtree, &sum_metro_prob);
    } else {
      memcpy(s->rho_fwd, s->rho, n * sizeof(double));
      memcpy(s->p_fwd_bck, s->p_bck_fwd, n * sizeof(double));
      memcpy(s->p_sharp_fwd_bck, s->p_sharp_bck_fwd, n * sizeof(double));
      valid = build_tree(s, depth, &s->z_bck, &s->z_propose, s->p_sharp_bck_fwd, s->p_sharp_bck_bck, s->rho_bck,
                         s->p_bck_fwd, s->p_bck_bck, H0, -1, &n_leapfrog, &lsw_subtree, &sum_metro_prob);
    }
    if (!valid)
      break;
    ++depth;
    if (lsw_subtree > log_sum_weight || gsl_rng_uniform(s->rng) < exp(lsw_subtree - log_sum_weight))
      copy_point(s, &s->z_sample, &s->z_propose);
    log_sum_weight = log_sum_exp(log_sum_weight, lsw_subtree);
    add(n, s->rho, s->rho_bck, s->rho_fwd);
    int persist = no_u_turn(n, s->p_sharp_bck_bck, s->p_sharp_fwd_fwd, s->rho);
    add(n, s->rho_ext, s->rho_bck, s->p_fwd_bck);
    persist &= no_u_turn(n, s->p_sharp_bck_bck, s->p_sharp_fwd_bck, s->rho_ext);
    add(n, s->rho_ext, s->rho_fwd, s->p_bck_fwd);
    persist &= no_u_turn(n, s->p_sharp_bck_fwd, s->p_sharp_fwd_fwd, s->rho_ext);
    if (!persist)
      break;
  }
  copy_point(s, &s->z, &s->z_sample);
  d->lp = s->z.lp;
  d->accept_stat = n_leapfrog ? sum_metro_prob / (double)n_leapfrog : 0;
  d->stepsize = s->eps;
  d->treedepth = (int)depth;
  d->n_leapfrog = n_leapfrog;
  d->divergent = s->divergent;
  d->energy = hamiltonian(s, &s->z);
  return s->status;
}

/* }==================================================================== */

/* {====================================================================
** Warmup
** ===================================================================== */

/* Stan's heuristic: double or halve the step size until one leapfrog step's acceptance
** crosses 0.8, from the current point with fresh momenta. */
static int init_stepsize(densrt_nuts *s)
{
  point *z = &s->scratch;
  copy_point(s, z, &s->z);
  sample_momentum(s, z->p);
  double H0 = hamiltonian(s, z);
  leapfrog(s, z, s->eps);
  double h = hamiltonian(s, z);
  if (isnan(h))
    h = INFINITY;
  int direction = H0 - h > log(0.8) ? 1 : -1;
  for (;;) {
    copy_point(s, z, &s->z);
    sample_momentum(s, z->p);
    H0 = hamiltonian(s, z);
    leapfrog(s, z, s->eps);
    h = hamiltonian(s, z);
    if (isnan(h))
      h = INFINITY;
    double delta_h = H0 - h;
    if ((direction == 1) && !(delta_h > log(0.8)))
      break;
    if ((direction == -1) && !(delta_h < log(0.8)))
      break;
    s->eps = direction == 1 ? 2 * s->eps : 0.5 * s->eps;
    if (s->eps > 1e7)
      DENSRT_ERROR(DENSRT_ENONFINITE, "the step size grew beyond 1e7 in its search: the posterior may be improper "
                   "(a parameter nothing constrains)");
    if (s->eps == 0)
      DENSRT_ERROR(DENSRT_ENONFINITE, "the step size fell to 0 in its search: the log density is not smooth or "
                   "not finite near the start");
  }
  return s->status;
}

static void restart_averaging(densrt_nuts *s)
{
  s->counter = 0;
  s->s_bar = 0;
  s->x_bar = 0;
  s->mu = log(10 * s->eps);
}

static void learn_stepsize(densrt_nuts *s, double accept_stat)
{
  ++s->counter;
  if (accept_stat > 1)
    accept_stat = 1;
  double k = (double)s->counter;
  double eta = 1 / (k + s->o.t0);
  s->s_bar = (1 - eta) * s->s_bar + eta * (s->o.delta - accept_stat);
  double x = s->mu - s->s_bar * sqrt(k) / s->o.gamma;
  double x_eta = pow(k, -s->o.kappa);
  s->x_bar = (1 - x_eta) * s->x_bar + x_eta * x;
  s->eps = exp(x);
}

static void welford_restart(densrt_nuts *s)
{
  size_t m = s->o.dense ? s->n * s->n : s->n;
  s->w_n = 0;
  memset(s->w_mean, 0, s->n * sizeof *s->w_mean);
  memset(s->w_m2, 0, m * sizeof *s->w_m2);
}

static void welford_add(densrt_nuts *s, const double *q)
{
  size_t n = s->n;
  s->w_n++;
  for (size_t i = 0; i < n; i++)
    s->tmp[i] = q[i] - s->w_mean[i];
  for (size_t i = 0; i < n; i++)
    s->w_mean[i] += s->tmp[i] / (double)s->w_n;
  if (!s->o.dense) {
    for (size_t i = 0; i < n; i++)
      s->w_m2[i] += s->tmp[i] * (q[i] - s->w_mean[i]);
    return;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      s->w_m2[i * n + j] += s->tmp[i] * (q[j] - s->w_mean[j]);
}

static int in_window(const densrt_nuts *s)
{
  size_t c = s->window_counter, w = s->o.warmup;
  return c >= s->init_buffer && c < w - s->term_buffer && c != w;
}

static int end_of_window(const densrt_nuts *s)
{
  return s->window_counter == s->next_window && s->window_counter != s->o.warmup;
}

static void next_window(densrt_nuts *s)
{
  size_t w = s->o.warmup;
  if (s->next_window == w - s->term_buffer - 1)
    return;
  s->window_size *= 2;
  s->next_window = s->window_counter + s->window_size;
  if (s->next_window != w - s->term_buffer - 1) {
    size_t boundary = s->next_window + 2 * s->window_size;
    if (boundary >= w - s->term_buffer)
      s->next_window = w - s->term_buffer - 1;
  }
}

/* Stan's regularisation: n/(n + 5) cov + 1e-3 * 5/(n + 5) I.  A window of fewer than 2
** draws (warmup 151 makes one) keeps the metric it had. */
static int set_metric(densrt_nuts *s)
{
  size_t n = s->n;
  if (s->w_n < 2)
    return DENSRT_OK;
  double N = (double)s->w_n, a = N / (N + 5), b = 1e-3 * 5 / (N + 5);
  if (!s->o.dense) {
    for (size_t i = 0; i < n; i++) {
      s->inv_metric[i] = a * s->w_m2[i] / (N - 1) + b;
      if (!isfinite(s->inv_metric[i]) || !(s->inv_metric[i] > 0))
        DENSRT_ERROR(DENSRT_ENONFINITE, "the adapted metric is not finite: the draws of warmup were not finite");
    }
    return DENSRT_OK;
  }
  for (size_t i = 0; i < n * n; i++)
    if (!isfinite(a * s->w_m2[i]))
      DENSRT_ERROR(DENSRT_ENONFINITE, "the adapted dense metric is not finite");
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      s->inv_metric[i * n + j] = a * s->w_m2[i * n + j] / (N - 1) + (i == j ? b : 0);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      gsl_matrix_set(s->chol, i, j, s->inv_metric[i * n + j]);
  if (gsl_linalg_cholesky_decomp1(s->chol))   /* with GSL's handler off (nuts.h) */
    DENSRT_ERROR(DENSRT_ENONFINITE, "the adapted dense metric is not positive definite");
  return DENSRT_OK;
}

/* After a warmup transition: the step size always, the metric at the end of a window. */
static int adapt(densrt_nuts *s, double accept_stat)
{
  learn_stepsize(s, accept_stat);
  if (!s->adapt_metric)
    return DENSRT_OK;
  if (in_window(s))
    welford_add(s, s->z.q);
  if (end_of_window(s)) {
    next_window(s);
    int rc = set_metric(s);
    welford_restart(s);
    ++s->window_counter;
    if (rc)
      return rc;
    if ((rc = init_stepsize(s)))
      return rc;
    restart_averaging(s);
    return DENSRT_OK;
  }
  ++s->window_counter;
  return DENSRT_OK;
}

/* }==================================================================== */

densrt_nuts *densrt_nuts_alloc(size_t n, densrt_nuts_fn *fn, void *ctx, const densrt_nuts_options *o, uint64_t seed,
                               unsigned chain)
{
  densrt_nuts *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->n = n;
  s->fn = fn;
  s->ctx = ctx;
  if (o)
    s->o = *o;
  else
    densrt_nuts_options_default(&s->o);
  if (s->o.max_depth < 1)
    s->o.max_depth = 1;
  size_t m = s->o.dense ? n * n : n;
  /* 7 points x 3 n, 14 n of trajectory vectors, per tree level 6 n + 3 n + 2 n */
  size_t total = 7 * 3 * n + 14 * n + s->o.max_depth * 11 * n + 2 * n + 2 * m;
  s->pool = calloc(total + 1, sizeof *s->pool);
  s->rng = gsl_rng_alloc(gsl_rng_mt19937);
  s->chol = s->o.dense && n ? gsl_matrix_alloc(n, n) : NULL;
  if (!s->pool || !s->rng || (s->o.dense && n && !s->chol)) {
    densrt_nuts_free(s);
    return NULL;
  }
  /* one stream per (seed, chain): the chain number mixed into the seed (splitmix64) */
  uint64_t x = seed + 0x9E3779B97F4A7C15u * ((uint64_t)chain + 1);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
  x ^= x >> 31;
  gsl_rng_set(s->rng, (unsigned long)(x & 0xFFFFFFFFu) ? (unsigned long)(x & 0xFFFFFFFFu) : 1);
  double *v = s->pool;
  point *pts[] = {&s->z, &s->z_fwd, &s->z_bck, &s->z_sample, &s->z_propose, &s->z_propose_final, &s->scratch};
  for (size_t i = 0; i < 7; i++) {
    pts[i]->q = v, v += n;
    pts[i]->p = v, v += n;
    pts[i]->g = v, v += n;
  }
  double **vecs[] = {&s->rho, &s->rho_fwd, &s->rho_bck, &s->rho_ext, &s->p_sharp_fwd_fwd, &s->p_sharp_fwd_bck,
                     &s->p_sharp_bck_fwd, &s->p_sharp_bck_bck, &s->p_fwd_fwd, &s->p_fwd_bck, &s->p_bck_fwd,
                     &s->p_bck_bck, &s->tmp, &s->w_mean};
  for (size_t i = 0; i < sizeof vecs / sizeof *vecs; i++)
    *vecs[i] = v, v += n;
  s->tree_pool = v, v += s->o.max_depth * 11 * n;
  s->inv_metric = v, v += m;
  s->w_m2 = v, v += m;
  if (s->o.dense) {
    for (size_t i = 0; i < n; i++)
      s->inv_metric[i * n + i] = 1;
    gsl_matrix_set_identity(s->chol);
  } else {
    for (size_t i = 0; i < n; i++)
      s->inv_metric[i] = 1;
  }
  s->eps = s->o.stepsize > 0 ? s->o.stepsize : 1;
  /* the windows (Stan's windowed_adaptation) */
  size_t w = s->o.warmup;
  s->init_buffer = s->o.init_buffer;
  s->term_buffer = s->o.term_buffer;
  s->window = s->o.window;
  s->adapt_metric = w >= 20;
  if (s->adapt_metric && s->init_buffer + s->window + s->term_buffer > w) {
    s->init_buffer = (size_t)(0.15 * (double)w);
    s->term_buffer = (size_t)(0.1 * (double)w);
    s->window = w - (s->init_buffer + s->term_buffer);
  }
  s->window_size = s->window;
  s->next_window = s->init_buffer + s->window - 1;
  return s;
}

void densrt_nuts_free(densrt_nuts *s)
{
  if (!s)
    return;
  if (s->rng)
    gsl_rng_free(s->rng);
  if (s->chol)
    gsl_matrix_free(s->chol);
  free(s->pool);
  free(s);
}

int densrt_nuts_init(densrt_nuts *s, const double *q0)
{
  memcpy(s->z.q, q0, s->n * sizeof *q0);
  evaluate(s, &s->z);
  if (s->status)
    return s->status;
  int finite = isfinite(s->z.lp);
  for (size_t i = 0; i < s->n && finite; i++)
    finite = isfinite(s->z.g[i]);
  if (!finite)
    DENSRT_ERROR(DENSRT_ENONFINITE, "the log density or its gradient is not finite at the initial point");
  /* as Stan: the averaging aims at 10 times the given step size until the first metric
     update, not at 10 times the one the search below finds */
  restart_averaging(s);
  int rc = init_stepsize(s);
  if (rc)
    return rc;
  return DENSRT_OK;
}

int densrt_nuts_transition(densrt_nuts *s, densrt_nuts_draw *d)
{
  int warm = s->iter < s->o.warmup;
  int rc = transition(s, d);
  d->warmup = warm;
  s->iter++;
  if (rc)
    return rc;
  if (warm) {
    if ((rc = adapt(s, d->accept_stat)))
      return rc;
    if (s->iter == s->o.warmup)
      s->eps = exp(s->x_bar);   /* warmup over: the averaged step size */
  }
  return DENSRT_OK;
}

const double *densrt_nuts_position(const densrt_nuts *s)
{
  return s->z.q;
}

double densrt_nuts_stepsize(const densrt_nuts *s)
{
  return s->eps;
}

const double *densrt_nuts_inv_metric(const densrt_nuts *s)
{
  return s->inv_metric;
}

int densrt_nuts_is_dense(const densrt_nuts *s)
{
  return s->o.dense;
}
