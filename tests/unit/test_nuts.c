/*
** test_nuts.c — the sampler against posteriors known in closed form: means and
** variances of independent and correlated Gaussians within 4 Monte Carlo standard
** errors over several seeds (diagonal and dense metric), the adapted metric close to
** the true variances, reproducibility from (seed, chain), and the warmup windows.
*/
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "error.h"
#include "mcstat.h"
#include "moments.h"
#include "nuts.h"

/* A Gaussian with mean mu and covariance given by its precision matrix P (n x n). */
typedef struct {
  size_t n;
  const double *mu, *P;
} gauss;

static int gauss_lp(const double *q, double *lp, double *g, void *ctx)
{
  const gauss *G = ctx;
  double f = 0;
  for (size_t i = 0; i < G->n; i++) {
    double s = 0;
    for (size_t j = 0; j < G->n; j++)
      s += G->P[i * G->n + j] * (q[j] - G->mu[j]);
    g[i] = -s;
    f += -0.5 * (q[i] - G->mu[i]) * s;
  }
  *lp = f;
  return 0;
}

/* Draws of `chains` chains (warmup 1000, 1000 draws): x[(k * chains + c) * draws + i] for value k. */
static double *run(const gauss *G, int dense, unsigned long seed, size_t chains, size_t draws, size_t *divergent)
{
  size_t n = G->n;
  double *x = malloc(n * chains * draws * sizeof *x);
  densrt_nuts_options o;
  densrt_nuts_options_default(&o);
  o.dense = dense;
  *divergent = 0;
  for (size_t c = 0; c < chains; c++) {
    densrt_nuts *s = densrt_nuts_alloc(n, gauss_lp, (void *)G, &o, seed, (unsigned)c);
    ck_assert_ptr_nonnull(s);
    double q0[8];
    for (size_t k = 0; k < n; k++)
      q0[k] = 1.5 - (double)k;   /* a start away from the mean */
    ck_assert_int_eq(densrt_nuts_init(s, q0), DENSRT_OK);
    for (size_t it = 0; it < o.warmup + draws; it++) {
      densrt_nuts_draw d;
      ck_assert_int_eq(densrt_nuts_transition(s, &d), DENSRT_OK);
      ck_assert_int_eq(d.warmup, it < o.warmup);
      if (it < o.warmup)
        continue;
      *divergent += d.divergent != 0;
      const double *q = densrt_nuts_position(s);
      for (size_t k = 0; k < n; k++)
        x[(k * chains + c) * draws + (it - o.warmup)] = q[k];
    }
    densrt_nuts_free(s);
  }
  return x;
}

/* Five independent Gaussians of scales 0.01 to 100: the metric has to adapt. */
START_TEST(test_independent)
{
  static const double mu[5] = {1, -2, 0, 3, 10}, sd[5] = {0.01, 0.1, 1, 10, 100};
  double P[25] = {0};
  for (int i = 0; i < 5; i++)
    P[i * 5 + i] = 1 / (sd[i] * sd[i]);
  gauss G = {5, mu, P};
  for (unsigned long seed = 1; seed <= 3; seed++) {
    size_t div;
    double *x = run(&G, 0, seed, 4, 1000, &div);
    ck_assert_uint_eq(div, 0);
    for (int k = 0; k < 5; k++) {
      char what[64];
      snprintf(what, sizeof what, "seed %lu, value %d", seed, k);
      check_moments(x + (size_t)k * 4000, 4, 1000, mu[k], sd[k] * sd[k], 400, what);
    }
    free(x);
  }
}
END_TEST

/* A correlated pair (rho = 0.95), with the diagonal and the dense metric. */
START_TEST(test_correlated)
{
  static const double mu[2] = {0.5, -1};
  const double s1 = 2, s2 = 0.5, r = 0.95, det = s1 * s1 * s2 * s2 * (1 - r * r);
  double P[4] = {s2 * s2 / det, -r * s1 * s2 / det, -r * s1 * s2 / det, s1 * s1 / det};
  gauss G = {2, mu, P};
  for (int dense = 0; dense < 2; dense++)
    for (unsigned long seed = 11; seed <= 12; seed++) {
      size_t div;
      double *x = run(&G, dense, seed, 4, 1000, &div);
      ck_assert_uint_eq(div, 0);
      char what[64];
      snprintf(what, sizeof what, "%s metric, seed %lu, x", dense ? "dense" : "diagonal", seed);
      check_moments(x, 4, 1000, mu[0], s1 * s1, 400, what);
      what[strlen(what) - 1] = 'y';
      check_moments(x + 4000, 4, 1000, mu[1], s2 * s2, 400, what);
      /* the sample correlation (its error is (1 - r^2) / sqrt(ESS), far below the covariance's) */
      double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
      for (size_t i = 0; i < 4000; i++)
        mx += x[i] / 4000, my += x[4000 + i] / 4000;
      for (size_t i = 0; i < 4000; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (x[4000 + i] - my) * (x[4000 + i] - my);
        sxy += (x[i] - mx) * (x[4000 + i] - my);
      }
      double c = sxy / sqrt(sxx * syy);
      ck_assert_msg(fabs(c - r) < 0.01, "%s: correlation %g, truth %g", what, c, r);
      free(x);
    }
}
END_TEST

/* The same seed and chain give the same draws; another chain gives others; the metric
** adapted over warmup is near the true variances. */
START_TEST(test_reproducible)
{
  static const double mu[3] = {0, 0, 0}, P[9] = {1, 0, 0, 0, 1.0 / 25, 0, 0, 0, 100};
  gauss G = {3, mu, P};
  densrt_nuts_options o;
  densrt_nuts_options_default(&o);
  o.warmup = 500;
  double q0[3] = {0.1, 0.2, 0.3}, last[3][3];
  for (int k = 0; k < 3; k++) {
    densrt_nuts *s = densrt_nuts_alloc(3, gauss_lp, &G, &o, 42, k == 2 ? 1 : 0);
    ck_assert_int_eq(densrt_nuts_init(s, q0), DENSRT_OK);
    for (int it = 0; it < 700; it++) {
      densrt_nuts_draw d;
      ck_assert_int_eq(densrt_nuts_transition(s, &d), DENSRT_OK);
    }
    memcpy(last[k], densrt_nuts_position(s), sizeof last[k]);
    const double *im = densrt_nuts_inv_metric(s);
    ck_assert_msg(fabs(im[0] - 1) < 0.35 && fabs(im[1] / 25 - 1) < 0.35 && fabs(im[2] / 0.01 - 1) < 0.35,
                  "inverse metric %g %g %g (truth 1, 25, 0.01)", im[0], im[1], im[2]);
    densrt_nuts_free(s);
  }
  ck_assert(memcmp(last[0], last[1], sizeof last[0]) == 0);
  ck_assert(memcmp(last[0], last[2], sizeof last[0]) != 0);
}
END_TEST

/* A start where the density is not finite is refused. */
static int half_line(const double *q, double *lp, double *g, void *ctx)
{
  (void)ctx;
  *lp = q[0] > 0 ? -q[0] : -INFINITY;
  g[0] = -1;
  return 0;
}

START_TEST(test_bad_start)
{
  densrt_nuts *s = densrt_nuts_alloc(1, half_line, NULL, NULL, 1, 0);
  double q0 = -1;
  ck_assert_int_eq(densrt_nuts_init(s, &q0), DENSRT_ENONFINITE);
  densrt_nuts_free(s);
}
END_TEST

int main(void)
{
  gsl_set_error_handler_off();   /* as nuts.h asks */
  Suite *su = suite_create("nuts");
  TCase *tc = tcase_create("known posteriors");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_independent);
  tcase_add_test(tc, test_correlated);
  tcase_add_test(tc, test_reproducible);
  tcase_add_test(tc, test_bad_start);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
