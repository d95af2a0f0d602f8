/* test_lbfgsb.c — Check suite for the L-BFGS-B wrapper */
#include <check.h>

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "lbfgsb.h"

/* Evaluation log shared by the objectives below. */
typedef struct {
  size_t calls, nonfinite;
  double fmin;                      /* lowest finite f seen */
  size_t stop_after;                /* raise *flag at this call (0 = never) */
  volatile sig_atomic_t *flag;
} counter;

static void count(counter *c, double f)
{
  c->calls++;
  if (!isfinite(f))
    c->nonfinite++;
  else if (c->calls == 1 || f < c->fmin)
    c->fmin = f;
  if (c->flag && c->stop_after && c->calls == c->stop_after)
    *c->flag = 1;
}

/* n=1: (x-3)^2 */
static double quad1(const double *x, double *g, void *ctx)
{
  double f = (x[0] - 3.0) * (x[0] - 3.0);
  g[0] = 2.0 * (x[0] - 3.0);
  if (ctx)
    count(ctx, f);
  return f;
}

static size_t rosen_n;

/* scipy's rosen: sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 */
static double rosen(const double *x, double *g, void *ctx)
{
  size_t n = rosen_n;
  double f = 0.0;
  memset(g, 0, n * sizeof(double));
  for (size_t i = 0; i + 1 < n; i++) {
    double t = x[i + 1] - x[i] * x[i], u = 1.0 - x[i];
    f += 100.0 * t * t + u * u;
    g[i] += -400.0 * t * x[i] - 2.0 * u;
    g[i + 1] += 200.0 * t;
  }
  if (ctx)
    count(ctx, f);
  return f;
}

static densrt_lbfgsb_options tight(void)
{
  densrt_lbfgsb_options o;
  densrt_lbfgsb_options_default(&o);
  o.factr = 10.0;
  o.pgtol = 1e-12;
  return o;
}

START_TEST(test_abi_n1)
{
  double x = 0.0;
  densrt_lbfgsb_result res;
  counter c = {0};
  ck_assert_int_eq(densrt_lbfgsb_minimize(1, &x, NULL, NULL, quad1, &c, NULL, &res), DENSRT_OK);
  ck_assert_msg(fabs(x - 3.0) < 1e-8, "x = %.17g", x);
  ck_assert(res.f < 1e-15 && res.f == (x - 3.0) * (x - 3.0));
  ck_assert_msg(strncmp(res.message, "CONVERGENCE: ", 13) == 0, "message <%s>", res.message);
  ck_assert(res.message[strlen(res.message) - 1] != ' ');
  ck_assert(res.n_iter >= 1 && res.n_eval >= 2);
  ck_assert_uint_eq(res.n_eval, c.calls);
  ck_assert(res.proj_grad_norm <= 1e-5);

  /* active upper bound */
  {
    const double hi = 2.0, lo = -INFINITY;
    x = -5.0;
    ck_assert_int_eq(densrt_lbfgsb_minimize(1, &x, &lo, &hi, quad1, NULL, NULL, &res), DENSRT_OK);
    ck_assert(x == 2.0);
    ck_assert(res.f == 1.0);
    ck_assert(res.proj_grad_norm == 0.0);
  }
}
END_TEST

START_TEST(test_rosenbrock_2d)
{
  double x[2] = {-1.2, 1.0};
  densrt_lbfgsb_options o = tight();
  densrt_lbfgsb_result res;
  rosen_n = 2;
  ck_assert_int_eq(densrt_lbfgsb_minimize(2, x, NULL, NULL, rosen, NULL, &o, &res), DENSRT_OK);
  ck_assert_msg(fabs(x[0] - 1.0) < 1e-6 && fabs(x[1] - 1.0) < 1e-6, "x = %.10g %.10g (%s)", x[0], x[1],
                res.message);
  ck_assert(res.n_iter > 10);
}
END_TEST

START_TEST(test_rosenbrock_20d)
{
  enum { N = 20 };
  double x[N];
  densrt_lbfgsb_options o = tight();
  densrt_lbfgsb_result res;
  counter c = {0};
  rosen_n = N;
  for (size_t i = 0; i < N; i++)
    x[i] = (i % 2) ? 1.0 : -1.2;
  o.m = 7;
  ck_assert_int_eq(densrt_lbfgsb_minimize(N, x, NULL, NULL, rosen, &c, &o, &res), DENSRT_OK);
  for (size_t i = 0; i < N; i++)
    ck_assert_msg(fabs(x[i] - 1.0) < 1e-6, "x[%zu] = %.10g (%s)", i, x[i], res.message);
  ck_assert(res.f == c.fmin);
  ck_assert_uint_eq(res.n_eval, c.calls);
}
END_TEST

/* sum d_i (x_i - c_i)^2 + 0.5 (x_0 - x_1)^2 on a box; solution worked out by hand below */
static double boxed(const double *x, double *g, void *ctx)
{
  static const double c[4] = {-2.0, 0.5, 3.0, 10.0}, d[4] = {1.0, 2.0, 0.5, 3.0};
  double f = 0.0;
  (void)ctx;
  for (int i = 0; i < 4; i++) {
    f += d[i] * (x[i] - c[i]) * (x[i] - c[i]);
    g[i] = 2.0 * d[i] * (x[i] - c[i]);
  }
  f += 0.5 * (x[0] - x[1]) * (x[0] - x[1]);
  g[0] += x[0] - x[1];
  g[1] -= x[0] - x[1];
  return f;
}

START_TEST(test_bounded_quadratic)
{
  /* x0 at its lower bound -1 (pulled to -2); x1 free: 4(x1 - 0.5) + (x1 + 1) = 0 -> x1 = 0.2;
     x0 then has gradient -2 + (-1 - 0.2) < 0 pushing down, so it stays active;
     x2 at its upper bound 2; x3 interior at 10 */
  const double lo[4] = {-1.0, -1.0, -INFINITY, 0.0}, hi[4] = {1.0, 1.0, 2.0, INFINITY};
  double x[4] = {0.5, -0.5, 0.0, 1.0};
  densrt_lbfgsb_options o = tight();
  densrt_lbfgsb_result res;
  ck_assert_int_eq(densrt_lbfgsb_minimize(4, x, lo, hi, boxed, NULL, &o, &res), DENSRT_OK);
  ck_assert(x[0] == -1.0);
  ck_assert_msg(fabs(x[1] - 0.2) < 1e-9, "x1 = %.17g", x[1]);
  ck_assert(x[2] == 2.0);
  ck_assert_msg(fabs(x[3] - 10.0) < 1e-9, "x3 = %.17g", x[3]);
  ck_assert(fabs(res.f - (1.0 + 2.0 * 0.09 + 0.5 + 0.5 * 1.44)) < 1e-12);
  ck_assert(res.proj_grad_norm < 1e-8);

  /* a fixed variable (lo == hi) stays put */
  {
    const double lo2[4] = {0.25, -1.0, -INFINITY, 0.0}, hi2[4] = {0.25, 1.0, 2.0, INFINITY};
    double x2[4] = {0.25, 0.0, 0.0, 0.0};
    ck_assert_int_eq(densrt_lbfgsb_minimize(4, x2, lo2, hi2, boxed, NULL, &o, &res), DENSRT_OK);
    ck_assert(x2[0] == 0.25);
    /* 4(x1 - 0.5) - (0.25 - x1) = 0 -> x1 = 0.45 */
    ck_assert(fabs(x2[1] - 0.45) < 1e-9);
  }
}
END_TEST

/* pseudo-Huber bowl around (1, 2): nearly flat curvature far out, so the
   quasi-Newton steps overshoot into the region where f is +inf (|x| > 4)
   or NaN (|x| > 6) */
static double walled(const double *x, double *g, void *ctx)
{
  double dx = x[0] - 1.0, dy = x[1] - 2.0, r2 = x[0] * x[0] + x[1] * x[1];
  double s = sqrt(1.0 + dx * dx + dy * dy), f;
  if (r2 > 36.0) {
    f = NAN;
    g[0] = g[1] = NAN;
  } else if (r2 > 16.0) {
    f = INFINITY;
    g[0] = g[1] = 0.0;
  } else {
    f = s;
    g[0] = dx / s;
    g[1] = dy / s;
  }
  count(ctx, f);
  return f;
}

START_TEST(test_nonfinite_region)
{
  double x[2] = {-2.8, -2.8};
  densrt_lbfgsb_options o = tight();
  densrt_lbfgsb_result res;
  counter c = {0};
  int st = densrt_lbfgsb_minimize(2, x, NULL, NULL, walled, &c, &o, &res);
  ck_assert_msg(st == DENSRT_OK, "status %d: %s", st, densrt_error_message());
  ck_assert_msg(c.nonfinite > 0, "the walls were never hit (%zu calls)", c.calls);
  ck_assert_msg(fabs(x[0] - 1.0) < 1e-6 && fabs(x[1] - 2.0) < 1e-6, "x = %g %g", x[0], x[1]);
  ck_assert(isfinite(res.f) && res.f == c.fmin);
}
END_TEST

START_TEST(test_max_iter_and_eval)
{
  double x[2] = {-1.2, 1.0};
  densrt_lbfgsb_options o;
  densrt_lbfgsb_result res;
  counter c = {0};
  double g[2], f0;
  rosen_n = 2;
  f0 = rosen(x, g, NULL);
  densrt_lbfgsb_options_default(&o);
  o.max_iter = 5;
  ck_assert_int_eq(densrt_lbfgsb_minimize(2, x, NULL, NULL, rosen, &c, &o, &res), DENSRT_EMAXITER);
  ck_assert_uint_eq(res.n_iter, 5);
  ck_assert_str_eq(res.message, "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT");
  ck_assert(res.f < f0 && res.f == c.fmin && res.f == rosen(x, g, NULL));
  ck_assert(strlen(densrt_error_message()) > 0);

  x[0] = -1.2;
  x[1] = 1.0;
  densrt_lbfgsb_options_default(&o);
  o.max_eval = 3;
  memset(&c, 0, sizeof c);
  ck_assert_int_eq(densrt_lbfgsb_minimize(2, x, NULL, NULL, rosen, &c, &o, &res), DENSRT_EMAXITER);
  ck_assert_uint_eq(res.n_eval, 3);
  ck_assert_uint_eq(c.calls, 3);
  ck_assert(res.f == c.fmin && res.f == rosen(x, g, NULL));
}
END_TEST

typedef struct { size_t calls, stop_at, last_iter; int ordered; } prog_ctx;

static int progress_cb(size_t iter, double f, const double *x, double pg, void *vc)
{
  prog_ctx *p = vc;
  double g[2];
  p->calls++;
  if (iter != p->last_iter + 1 || !(pg >= 0.0) || rosen(x, g, NULL) != f)
    p->ordered = 0;
  p->last_iter = iter;
  return p->calls >= p->stop_at;
}

START_TEST(test_interrupt)
{
  volatile sig_atomic_t flag = 0;
  double x[2] = {-1.2, 1.0};
  densrt_lbfgsb_options o;
  densrt_lbfgsb_result res;
  counter c = {0};
  double g[2];
  rosen_n = 2;
  c.flag = &flag;
  c.stop_after = 12;
  densrt_lbfgsb_options_default(&o);
  o.interrupt = &flag;
  ck_assert_int_eq(densrt_lbfgsb_minimize(2, x, NULL, NULL, rosen, &c, &o, &res), DENSRT_EINTR);
  ck_assert_uint_eq(c.calls, 12);
  ck_assert_uint_eq(res.n_eval, 12);
  /* the best point evaluated, not the last one */
  ck_assert(res.f == c.fmin && res.f == rosen(x, g, NULL));

  /* an already-raised flag stops before any evaluation */
  memset(&c, 0, sizeof c);
  ck_assert_int_eq(densrt_lbfgsb_minimize(2, x, NULL, NULL, rosen, &c, &o, &res), DENSRT_EINTR);
  ck_assert_uint_eq(c.calls, 0);

  /* progress callback: once per iteration, nonzero stops */
  {
    prog_ctx p = {0, 4, 0, 1};
    x[0] = -1.2;
    x[1] = 1.0;
    densrt_lbfgsb_options_default(&o);
    o.progress = progress_cb;
    o.progress_ctx = &p;
    ck_assert_int_eq(densrt_lbfgsb_minimize(2, x, NULL, NULL, rosen, NULL, &o, &res), DENSRT_EINTR);
    ck_assert_uint_eq(p.calls, 4);
    ck_assert(p.ordered);
    ck_assert_uint_eq(res.n_iter, 4);
    ck_assert(res.f == rosen(x, g, NULL));
  }
}
END_TEST

static double nan_start(const double *x, double *g, void *ctx)
{
  (void)ctx;
  g[0] = 1.0;
  return x[0] == 0.0 ? NAN : x[0] * x[0];
}

static double nan_grad(const double *x, double *g, void *ctx)
{
  (void)ctx;
  g[0] = NAN;
  return x[0];
}

START_TEST(test_nonfinite_start)
{
  double x = 0.0;
  densrt_lbfgsb_result res;
  ck_assert_int_eq(densrt_lbfgsb_minimize(1, &x, NULL, NULL, nan_start, NULL, NULL, &res), DENSRT_ENONFINITE);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), "not finite at the start point"));
  ck_assert(x == 0.0);
  ck_assert(isnan(res.f));
  ck_assert_uint_eq(res.n_eval, 1);
  x = 1.0;
  ck_assert_int_eq(densrt_lbfgsb_minimize(1, &x, NULL, NULL, nan_grad, NULL, NULL, &res), DENSRT_ENONFINITE);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), "gradient"));
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), "start point"));
  ck_assert(x == 1.0);
}
END_TEST

/* the gradient's sign is wrong, so every step goes uphill */
static double lying(const double *x, double *g, void *ctx)
{
  (void)ctx;
  g[0] = -2.0 * (x[0] - 1.0);
  return (x[0] - 1.0) * (x[0] - 1.0);
}

START_TEST(test_abnormal)
{
  double x = 3.0;
  densrt_lbfgsb_result res;
  ck_assert_int_eq(densrt_lbfgsb_minimize(1, &x, NULL, NULL, lying, NULL, NULL, &res), DENSRT_EABNORMAL);
  ck_assert_msg(strncmp(res.message, "ABNORMAL_TERMINATION_IN_LNSRCH", 30) == 0, "<%s>", res.message);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), "ABNORMAL_TERMINATION_IN_LNSRCH"));
  ck_assert(x == 3.0 && res.f == 4.0);
}
END_TEST

START_TEST(test_invalid)
{
  double x[2] = {0.0, 5.0};
  const double lo[2] = {-1.0, -1.0}, hi[2] = {1.0, 1.0}, bad_hi[2] = {1.0, -2.0};
  densrt_lbfgsb_options o;
  densrt_lbfgsb_result res;
  counter c = {0};
  rosen_n = 2;
  ck_assert_int_eq(densrt_lbfgsb_minimize(2, x, lo, hi, rosen, &c, NULL, &res), DENSRT_EINVAL);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), "outside its bounds"));
  ck_assert(x[0] == 0.0 && x[1] == 5.0);
  x[1] = 0.0;
  ck_assert_int_eq(densrt_lbfgsb_minimize(2, x, lo, bad_hi, rosen, &c, NULL, &res), DENSRT_EINVAL);
  ck_assert_int_eq(densrt_lbfgsb_minimize(0, x, NULL, NULL, rosen, &c, NULL, &res), DENSRT_EINVAL);
  x[0] = NAN;
  ck_assert_int_eq(densrt_lbfgsb_minimize(2, x, NULL, NULL, rosen, &c, NULL, &res), DENSRT_EINVAL);
  x[0] = 0.0;
  densrt_lbfgsb_options_default(&o);
  o.m = 0;
  ck_assert_int_eq(densrt_lbfgsb_minimize(2, x, NULL, NULL, rosen, &c, &o, &res), DENSRT_EINVAL);
  ck_assert_uint_eq(c.calls, 0);
  /* lower bound only and upper bound only, given as infinities */
  {
    const double l2[2] = {2.0, -INFINITY}, h2[2] = {INFINITY, 0.5};
    double y[2] = {2.5, 0.0};
    ck_assert_int_eq(densrt_lbfgsb_minimize(2, y, l2, h2, rosen, NULL, NULL, &res), DENSRT_OK);
    /* at y1 = 0.5 the objective wants y0 as small as allowed */
    ck_assert(y[0] == 2.0 && y[1] == 0.5);
  }
  /* res may be NULL */
  x[0] = 0.0;
  x[1] = 0.0;
  ck_assert_int_eq(densrt_lbfgsb_minimize(2, x, NULL, NULL, rosen, NULL, NULL, NULL), DENSRT_OK);
}
END_TEST

static Suite *lbfgsb_suite(void)
{
  Suite *s = suite_create("lbfgsb");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_abi_n1);
  tcase_add_test(tc, test_rosenbrock_2d);
  tcase_add_test(tc, test_rosenbrock_20d);
  tcase_add_test(tc, test_bounded_quadratic);
  tcase_add_test(tc, test_nonfinite_region);
  tcase_add_test(tc, test_max_iter_and_eval);
  tcase_add_test(tc, test_interrupt);
  tcase_add_test(tc, test_nonfinite_start);
  tcase_add_test(tc, test_abnormal);
  tcase_add_test(tc, test_invalid);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(lbfgsb_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
