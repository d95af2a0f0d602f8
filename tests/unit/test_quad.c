/* test_quad.c — Check suite for quadrature rules, log-space integrals and log normal-CDF differences */
#include <check.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "quad.h"
#include "vmath.h"
#include "dual.h"

#define LOG_SQRT_2PI 0.91893853320467274178032973640562

/* The test program links only libdensrt and Check, so reference integrals
   come from this independent adaptive Simpson (Richardson-corrected) in long
   double rather than from GSL. */
typedef long double ld_fn(long double x);

static long double asimp(ld_fn *f, long double a, long double b, long double fa, long double fm, long double fb,
                         long double whole, long double tol, int depth)
{
  long double m = 0.5L * (a + b), lm = 0.5L * (a + m), rm = 0.5L * (m + b);
  long double flm = f(lm), frm = f(rm);
  long double left = (m - a) / 6.0L * (fa + 4.0L * flm + fm), right = (b - m) / 6.0L * (fm + 4.0L * frm + fb);
  long double d = left + right - whole;
  /* tol may fall below long double rounding; then rounding level suffices */
  if (depth <= 0 || fabsl(d) <= 15.0L * tol || fabsl(d) <= 64.0L * LDBL_EPSILON * fabsl(left + right))
    return left + right + d / 15.0L;
  return asimp(f, a, m, fa, flm, fm, left, 0.5L * tol, depth - 1) +
         asimp(f, m, b, fm, frm, fb, right, 0.5L * tol, depth - 1);
}

/* int_a^b f to ~1e-17 relative */
static long double ref_integral(ld_fn *f, long double a, long double b)
{
  long double crude = 0.0L, h = (b - a) / 64.0L, s = 0.0L;
  for (int i = 0; i < 64; i++) {
    long double x0 = a + i * h;
    crude += h / 6.0L * (f(x0) + 4.0L * f(x0 + 0.5L * h) + f(x0 + h));
  }
  for (int i = 0; i < 64; i++) {
    long double x0 = a + i * h, x1 = (i == 63) ? b : x0 + h, fm = f(0.5L * (x0 + x1));
    long double fa = f(x0), fb = f(x1);
    s += asimp(f, x0, x1, fa, fm, fb, (x1 - x0) / 6.0L * (fa + 4.0L * fm + fb), 1e-18L * fabsl(crude) / 64.0L, 30);
  }
  return s;
}

static long double npdf_l(long double x)
{
  return expl(-0.5L * x * x) / sqrtl(2.0L * 3.14159265358979323846264338327950288L);
}

static double rel_diff(double x, double ref)
{
  if (x == ref)
    return 0.0;
  return fabs(x - ref) / fmax(fabs(ref), 1e-300);
}

/* sum_q w_q f(x_q) with w_q = exp(lw_q): plain linear-space quadrature */
static double rule_sum(const densrt_quad_rule *r, double (*f)(double, const void *), const void *ctx)
{
  double s = 0.0;
  for (size_t q = 0; q < r->n; q++)
    s += exp(r->lw[q]) * f(r->x[q], ctx);
  return s;
}

/* ---- Gauss-Legendre ---- */

typedef struct { double mid, half; unsigned k; } mono_ctx;

/* ((x - mid)/half)^k, whose integral over [mid-half, mid+half] is known */
static double mono(double x, const void *vc)
{
  const mono_ctx *c = vc;
  return pow((x - c->mid) / c->half, (double)c->k);
}

static double mono_exact(const mono_ctx *c)
{
  return (c->k % 2) ? 0.0 : 2.0 * c->half / (double)(c->k + 1);
}

START_TEST(test_gl_exact_degree)
{
  static const size_t orders[] = {1, 2, 3, 5, 8, 13, 20, 64, 200, 1024};
  for (size_t io = 0; io < sizeof orders / sizeof orders[0]; io++) {
    size_t n = orders[io];
    densrt_quad_rule r;
    mono_ctx c = {1.5, 2.5, 0};
    ck_assert_int_eq(densrt_quad_rule_gl(-1.0, 4.0, NULL, 0, n, 1, &r), DENSRT_OK);
    ck_assert_uint_eq(r.n, n);
    /* every degree up to 2n-1 exactly (checking all is slow for 1024) */
    for (unsigned k = 0; k <= 2 * n - 1; k += (n > 64 ? 97 : 1)) {
      c.k = k;
      double got = rule_sum(&r, mono, &c), ref = mono_exact(&c);
      ck_assert_msg(fabs(got - ref) <= 1e-13 * 2.0 * c.half, "order %zu degree %u: %.17g vs %.17g", n, k, got, ref);
    }
    c.k = (unsigned)(2 * n - 2);
    ck_assert(fabs(rule_sum(&r, mono, &c) - mono_exact(&c)) <= 1e-13 * 5.0);
    c.k = (unsigned)(2 * n - 1);
    ck_assert(fabs(rule_sum(&r, mono, &c) - mono_exact(&c)) <= 1e-13 * 5.0);
    /* degree 2n is not integrated exactly: the rule is genuinely of order n */
    if (n <= 8) {
      c.k = (unsigned)(2 * n);
      ck_assert_msg(fabs(rule_sum(&r, mono, &c) - mono_exact(&c)) > 1e-6, "order %zu exact at degree 2n", n);
    }
    for (size_t q = 1; q < r.n; q++)
      ck_assert(r.x[q] > r.x[q - 1]);
    densrt_quad_rule_free(&r);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_ptr_null(r.x);
    ck_assert_ptr_null(r.lw);
  }
}
END_TEST

/* kinks at 3 and 7; cubic on each side, so exact with pieces and order 2 */
static double kinked(double x, const void *unused)
{
  (void)unused;
  return fabs(x - 3.0) + pow(fabs(x - 7.0), 3.0);
}

START_TEST(test_gl_breakpoints)
{
  const double brk[] = {7.0, 3.0, 3.0, -1.0, 12.0, 0.0, 10.0, NAN, 7.0, INFINITY};
  const double sorted[] = {3.0, 7.0};
  /* exact: int_0^10 |x-3| = 4.5 + 24.5; int_0^10 |x-7|^3 = 7^4/4 + 3^4/4 */
  const double ref = 29.0 + (2401.0 + 81.0) / 4.0;
  densrt_quad_rule r, r2;

  ck_assert_int_eq(densrt_quad_rule_gl(0.0, 10.0, brk, sizeof brk / sizeof brk[0], 2, 3, &r), DENSRT_OK);
  ck_assert_uint_eq(r.n, 3 * 3 * 2);
  ck_assert_msg(fabs(rule_sum(&r, kinked, NULL) - ref) < 1e-12 * ref, "got %.17g", rule_sum(&r, kinked, NULL));
  for (size_t q = 0; q < r.n; q++) {
    ck_assert(r.x[q] > 0.0 && r.x[q] < 10.0);
    ck_assert(r.x[q] != 3.0 && r.x[q] != 7.0);
    if (q > 0)
      ck_assert(r.x[q] > r.x[q - 1]);
  }
  /* nodes 0..5 in [0,3], 6..11 in [3,7], 12..17 in [7,10] */
  ck_assert(r.x[5] < 3.0 && r.x[6] > 3.0 && r.x[11] < 7.0 && r.x[12] > 7.0);

  /* same rule as the clean, sorted list */
  ck_assert_int_eq(densrt_quad_rule_gl(0.0, 10.0, sorted, 2, 2, 3, &r2), DENSRT_OK);
  ck_assert_uint_eq(r2.n, r.n);
  ck_assert(memcmp(r.x, r2.x, r.n * sizeof(double)) == 0);
  ck_assert(memcmp(r.lw, r2.lw, r.n * sizeof(double)) == 0);
  densrt_quad_rule_free(&r2);

  /* without the breakpoints the kinks cost accuracy */
  ck_assert_int_eq(densrt_quad_rule_gl(0.0, 10.0, NULL, 0, 2, 3, &r2), DENSRT_OK);
  ck_assert_uint_eq(r2.n, 6);
  ck_assert(fabs(rule_sum(&r2, kinked, NULL) - ref) > 1e-3);
  densrt_quad_rule_free(&r2);

  /* only outside values: one piece */
  {
    const double outside[] = {-5.0, 0.0, 10.0, 11.0};
    ck_assert_int_eq(densrt_quad_rule_gl(0.0, 10.0, outside, 4, 5, 1, &r2), DENSRT_OK);
    ck_assert_uint_eq(r2.n, 5);
    densrt_quad_rule_free(&r2);
  }
  densrt_quad_rule_free(&r);
  densrt_quad_rule_free(NULL);
}
END_TEST

START_TEST(test_gl_invalid)
{
  densrt_quad_rule r = {7, (double *)&r, (double *)&r};
  ck_assert_int_eq(densrt_quad_rule_gl(0.0, 1.0, NULL, 0, 0, 1, &r), DENSRT_EINVAL);
  ck_assert_uint_eq(r.n, 0);
  ck_assert_ptr_null(r.x);
  ck_assert_int_eq(densrt_quad_rule_gl(0.0, 1.0, NULL, 0, 1025, 1, &r), DENSRT_EINVAL);
  ck_assert_int_eq(densrt_quad_rule_gl(0.0, 1.0, NULL, 0, 4, 0, &r), DENSRT_EINVAL);
  ck_assert_int_eq(densrt_quad_rule_gl(1.0, 1.0, NULL, 0, 4, 1, &r), DENSRT_EINVAL);
  ck_assert_int_eq(densrt_quad_rule_gl(2.0, 1.0, NULL, 0, 4, 1, &r), DENSRT_EINVAL);
  ck_assert_int_eq(densrt_quad_rule_gl(-INFINITY, 1.0, NULL, 0, 4, 1, &r), DENSRT_EINVAL);
  ck_assert_int_eq(densrt_quad_rule_gl(0.0, NAN, NULL, 0, 4, 1, &r), DENSRT_EINVAL);
  ck_assert_int_eq(densrt_quad_rule_gl(0.0, 1.0, NULL, 3, 4, 1, &r), DENSRT_EINVAL);
  ck_assert_uint_eq(r.n, 0);
}
END_TEST

/* ---- log-space sums ---- */

static double smooth_g(double x, void *unused)
{
  (void)unused;
  return sin(x) - 0.5 * x * x;
}

typedef struct { double shift; } shift_ctx;

static double shifted_g(double x, void *vc)
{
  return ((shift_ctx *)vc)->shift + smooth_g(x, NULL);
}

static long double smooth_g_exp(long double x)
{
  return expl(sinl(x) - 0.5L * x * x);
}

START_TEST(test_log_space_no_overflow)
{
  const double shifts[] = {700.0, -700.0, 1000.0, -1000.0, 0.0};
  double lref = (double)logl(ref_integral(smooth_g_exp, -6.0L, 6.0L));
  densrt_quad_rule r;
  double *f;
  ck_assert_int_eq(densrt_quad_rule_gl(-6.0, 6.0, NULL, 0, 20, 4, &r), DENSRT_OK);
  f = malloc(r.n * sizeof(double));
  ck_assert_ptr_nonnull(f);
  for (size_t is = 0; is < sizeof shifts / sizeof shifts[0]; is++) {
    shift_ctx c = {shifts[is]};
    double lI, err;
    for (size_t q = 0; q < r.n; q++)
      f[q] = shifted_g(r.x[q], &c);
    lI = densrt_quad_logsumexp(r.lw, f, r.n);
    ck_assert(isfinite(lI));
    ck_assert_msg(fabs((lI - c.shift) - lref) < 1e-12, "shift %g: %.17g vs %.17g", c.shift, lI - c.shift, lref);
    ck_assert_int_eq(densrt_quad_log_integrate(shifted_g, &c, -6.0, 6.0, NULL, 0, 16, 4, &lI, &err), DENSRT_OK);
    ck_assert(isfinite(lI) && isfinite(err));
    ck_assert_msg(fabs((lI - c.shift) - lref) < 1e-12, "shift %g: %.17g vs %.17g", c.shift, lI - c.shift, lref);
    ck_assert(err < 1e-12);
  }
  free(f);
  densrt_quad_rule_free(&r);
}
END_TEST

START_TEST(test_logsumexp_edges)
{
  const double lw[] = {0.0, 0.0, 0.0};
  double f[] = {-INFINITY, -INFINITY, -INFINITY};
  ck_assert(densrt_quad_logsumexp(lw, f, 3) == -INFINITY);
  ck_assert(densrt_quad_logsumexp(lw, f, 0) == -INFINITY);
  f[1] = NAN;
  ck_assert(isnan(densrt_quad_logsumexp(lw, f, 3)));
  f[1] = 5.0;
  ck_assert(densrt_quad_logsumexp(lw, f, 3) == 5.0);
  f[0] = 5.0;
  f[2] = 5.0;
  ck_assert(fabs(densrt_quad_logsumexp(lw, f, 3) - (5.0 + log(3.0))) < 1e-15 * 7.0);
  /* a term 800 below the largest adds nothing and overflows nothing */
  f[0] = 1e308;
  f[1] = 1e308;
  f[2] = -1e308;
  ck_assert(fabs(densrt_quad_logsumexp(lw, f, 3) - (1e308 + log(2.0))) <= 1e292);
  f[0] = INFINITY;
  ck_assert(densrt_quad_logsumexp(lw, f, 3) == INFINITY);
  f[1] = NAN;
  ck_assert(isnan(densrt_quad_logsumexp(lw, f, 3)));
}
END_TEST

/* ---- Simpson ---- */

static double cubic(double x, const void *unused)
{
  (void)unused;
  return ((x - 2.0) * x + 1.0) * x - 5.0;
}

static double cubic_integral(double a, double b)
{
  double Fb = ((0.25 * b - 2.0 / 3.0) * b + 0.5) * b * b - 5.0 * b;
  double Fa = ((0.25 * a - 2.0 / 3.0) * a + 0.5) * a * a - 5.0 * a;
  return Fb - Fa;
}

START_TEST(test_simpson_points)
{
  densrt_quad_rule r;
  double step;
  ck_assert_int_eq(densrt_quad_rule_simpson_points(-2.0, 3.0, 1024, &r), DENSRT_EINVAL);
  ck_assert_str_eq(densrt_error_message(), "Simpson's rule needs an odd number of points >= 3 (got 1024)");
  ck_assert_int_eq(densrt_quad_rule_simpson_points(-2.0, 3.0, 1, &r), DENSRT_EINVAL);
  ck_assert_str_eq(densrt_error_message(), "Simpson's rule needs an odd number of points >= 3 (got 1)");
  ck_assert_int_eq(densrt_quad_rule_simpson_points(3.0, -2.0, 11, &r), DENSRT_EINVAL);

  ck_assert_int_eq(densrt_quad_rule_simpson_points(-2.0, 3.0, 1025, &r), DENSRT_OK);
  ck_assert_uint_eq(r.n, 1025);
  step = (3.0 - -2.0) / 1024.0;
  for (size_t i = 0; i + 1 < r.n; i++)
    ck_assert(r.x[i] == (double)i * step + -2.0);
  ck_assert(r.x[r.n - 1] == 3.0);
  {
    double ldx3 = log((r.x[1] - r.x[0]) / 3.0);
    ck_assert(r.lw[0] == ldx3 && r.lw[r.n - 1] == ldx3);
    ck_assert(r.lw[1] == log(4.0) + ldx3 && r.lw[2] == log(2.0) + ldx3);
    ck_assert(r.lw[r.n - 2] == log(4.0) + ldx3 && r.lw[r.n - 3] == log(2.0) + ldx3);
  }
  ck_assert(fabs(rule_sum(&r, cubic, NULL) - cubic_integral(-2.0, 3.0)) < 1e-12);
  densrt_quad_rule_free(&r);

  /* the smallest rule, 1-4-1, is exact for cubics too */
  ck_assert_int_eq(densrt_quad_rule_simpson_points(0.5, 1.75, 3, &r), DENSRT_OK);
  ck_assert_uint_eq(r.n, 3);
  ck_assert(fabs(rule_sum(&r, cubic, NULL) - cubic_integral(0.5, 1.75)) < 1e-13);
  densrt_quad_rule_free(&r);
}
END_TEST

START_TEST(test_simpson_step)
{
  densrt_quad_rule r;
  double delta;
  const char *p;

  ck_assert_int_eq(densrt_quad_rule_simpson_step(-100.0, 20.0, 0.1, &r), DENSRT_OK);
  ck_assert_uint_eq(r.n, 1201);
  delta = (-100.0 + 0.1) - -100.0;
  ck_assert(r.x[0] == -100.0);
  ck_assert(r.x[1] == -100.0 + 0.1);
  ck_assert(r.x[1] - r.x[0] == delta);
  for (size_t i = 2; i < r.n; i++)
    ck_assert(r.x[i] == -100.0 + (double)i * delta);
  ck_assert(fabs(r.x[r.n - 1] - 20.0) < 1e-9);
  ck_assert(r.lw[0] == log(delta / 3.0));
  ck_assert(fabs(rule_sum(&r, cubic, NULL) - cubic_integral(-100.0, r.x[r.n - 1])) <
            1e-9 * fabs(cubic_integral(-100.0, 20.0)));
  densrt_quad_rule_free(&r);

  ck_assert_int_eq(densrt_quad_rule_simpson_step(-7.0, 5.0, 0.1, &r), DENSRT_OK);
  ck_assert_uint_eq(r.n, 121);
  ck_assert(fabs(r.x[120] - 5.0) < 1e-12);
  densrt_quad_rule_free(&r);

  /* arange(0, 0.901, 0.1) has 10 points */
  ck_assert_int_eq(densrt_quad_rule_simpson_step(0.0, 0.9, 0.1, &r), DENSRT_EINVAL);
  ck_assert_uint_eq(r.n, 0);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), "odd number of points"));
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), "has 10;"));
  p = strstr(densrt_error_message(), "try step ");
  ck_assert_ptr_nonnull(p);
  {
    double h = strtod(p + strlen("try step "), NULL);
    ck_assert(h > 0.0 && h < 0.1);
    ck_assert_int_eq(densrt_quad_rule_simpson_step(0.0, 0.9, h, &r), DENSRT_OK);
    ck_assert(r.n % 2 == 1);
    ck_assert(fabs(r.x[r.n - 1] - 0.9) < 1e-12);
    densrt_quad_rule_free(&r);
  }
  ck_assert_int_eq(densrt_quad_rule_simpson_step(0.0, 0.9, 0.0, &r), DENSRT_EINVAL);
  ck_assert_int_eq(densrt_quad_rule_simpson_step(0.0, 0.9, -0.1, &r), DENSRT_EINVAL);
  ck_assert_int_eq(densrt_quad_rule_simpson_step(0.0, 0.9, 5.0, &r), DENSRT_EINVAL); /* 1 point */
}
END_TEST

/* ---- adaptive-order check ---- */

static double log_gauss(double x, void *unused)
{
  (void)unused;
  return -0.5 * x * x;
}

static long double log_gauss_exp(long double x)
{
  return expl(-0.5L * x * x);
}

static double log_kink(double x, void *unused)
{
  (void)unused;
  return -fabs(x - 0.3);
}

static double log_nan(double x, void *unused)
{
  (void)unused;
  return x > 0.5 ? NAN : 0.0;
}

static double log_zero(double x, void *unused)
{
  (void)unused;
  (void)x;
  return -INFINITY;
}

START_TEST(test_log_integrate)
{
  double lI, err;
  const double brk = 0.3;
  double ref = (double)logl(ref_integral(log_gauss_exp, -5.0L, 5.0L));
  ck_assert_int_eq(densrt_quad_log_integrate(log_gauss, NULL, -5.0, 5.0, NULL, 0, 16, 4, &lI, &err), DENSRT_OK);
  ck_assert_msg(fabs(lI - ref) < 1e-14, "%.17g vs %.17g", lI, ref);
  ck_assert(err < 1e-13);

  /* a kink inside a piece: the two orders disagree visibly */
  ref = log(2.0 - exp(-1.3) - exp(-0.7));
  ck_assert_int_eq(densrt_quad_log_integrate(log_kink, NULL, -1.0, 1.0, NULL, 0, 8, 1, &lI, &err), DENSRT_OK);
  ck_assert_msg(err > 1e-4, "kink not flagged: rel_err %g", err);
  ck_assert(fabs(lI - ref) > 1e-6);
  /* a breakpoint on the kink makes it smooth again */
  ck_assert_int_eq(densrt_quad_log_integrate(log_kink, NULL, -1.0, 1.0, &brk, 1, 8, 1, &lI, &err), DENSRT_OK);
  ck_assert(err < 1e-13);
  ck_assert(fabs(lI - ref) < 1e-12);

  ck_assert_int_eq(densrt_quad_log_integrate(log_zero, NULL, -1.0, 1.0, NULL, 0, 4, 1, &lI, &err), DENSRT_OK);
  ck_assert(lI == -INFINITY && err == 0.0);

  ck_assert_int_eq(densrt_quad_log_integrate(log_nan, NULL, -1.0, 1.0, NULL, 0, 4, 1, &lI, &err), DENSRT_ENONFINITE);
  ck_assert_int_eq(densrt_quad_log_integrate(log_gauss, NULL, -1.0, 1.0, NULL, 0, 0, 1, &lI, &err), DENSRT_EINVAL);
  /* the top public order still works, 2*order being internal */
  ck_assert_int_eq(densrt_quad_log_integrate(log_gauss, NULL, -1.0, 1.0, NULL, 0, 1024, 1, &lI, &err), DENSRT_OK);
  ck_assert(err < 1e-13);
}
END_TEST

/* ---- log(Phi(b) - Phi(a)) ---- */

static double npdf(double x, void *unused)
{
  (void)unused;
  return exp(-0.5 * x * x - LOG_SQRT_2PI);
}

static double lnd(double a, double b)
{
  return densrt_quad_log_normal_diff(a, b, NULL, NULL);
}

START_TEST(test_lnd_vs_integral)
{
  static const double ab[][2] = {{-3.0, -1.0}, {-1.0, 2.0}, {0.5, 4.0}, {-6.0, -5.0}, {5.0, 6.0}, {-2.0, -1.999},
                                 {1e-3, 2e-3}, {-8.0, -7.0}, {-0.2, 0.1}, {-10.0, 10.0}, {2.5, 3.5}, {-1.5, 1.4}};
  for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++) {
    double a = ab[i][0], b = ab[i][1];
    double ref = (double)logl(ref_integral(npdf_l, a, b));
    double L = lnd(a, b);
    /* absolute in the log = relative in the probability */
    ck_assert_msg(fabs(L - ref) < 2e-13, "[%g, %g]: %.17g vs %.17g", a, b, L, ref);
  }
}
END_TEST

/* Phi(x) for x <= -30 from the Mills-ratio asymptotic series:
   log Phi(x) = log phi(x) - log|x| + log(1 - 1/x^2 + 3/x^4 - 15/x^6 + ...) */
static double mills_series(double x)
{
  double t = 1.0, s = 1.0, x2 = x * x;
  for (int k = 1; k <= 12; k++) {
    t *= -(2.0 * k - 1.0) / x2;
    s += t;
  }
  return s;
}

static double log_Phi_asym(double x)
{
  return -0.5 * x * x - LOG_SQRT_2PI - log(-x) + log(mills_series(x));
}

START_TEST(test_lnd_deep_tails)
{
  static const double xs[] = {-30.0, -35.5, -38.0, -40.0, -100.0, -1e4};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
    double x = xs[i], ref = log_Phi_asym(x), da, db, L;
    L = densrt_quad_log_normal_diff(-INFINITY, x, &da, &db);
    ck_assert_msg(rel_diff(L, ref) < 1e-15, "lower %g: %.17g vs %.17g", x, L, ref);
    ck_assert(da == 0.0);
    /* d/db log Phi(b) = phi(b)/Phi(b) */
    ck_assert(rel_diff(db, -x / mills_series(x)) < 1e-14);
    /* mirror: log Q(-x) */
    L = densrt_quad_log_normal_diff(-x, INFINITY, &da, &db);
    ck_assert_msg(rel_diff(L, ref) < 1e-15, "upper %g: %.17g vs %.17g", -x, L, ref);
    ck_assert(db == 0.0 && da < 0.0);
    /* a finite interval in the tail: Phi(x) - Phi(x - 1) = Phi(x) (1 - Phi(x-1)/Phi(x)) */
    if (x > -1e3) {
      double r = exp(log_Phi_asym(x - 1.0) - ref);
      double ref2 = ref + log1p(-r);
      ck_assert_msg(rel_diff(lnd(x - 1.0, x), ref2) < 1e-14, "[%g, %g]", x - 1.0, x);
      ck_assert_msg(rel_diff(lnd(-x, 1.0 - x), ref2) < 1e-14, "[%g, %g]", -x, 1.0 - x);
    }
  }
}
END_TEST

/* log Phi(-x) for 10 <= x < 30, where the Mills ratio is a polynomial in 1/x^2: against
** 60-digit values (Laplace's continued fraction of 2000 terms in Python's decimal). */
START_TEST(test_lnd_mills_polynomial)
{
  static const double ref[][3] = {   /* x, log Phi(-x), phi(x) / Phi(-x) = 1 / R(x) */
    {10, -53.23128515051247, 10.098093233962512},     {10.5, -58.404187061073245, 10.593583926132379},
    {12.25, -78.46227082737593, 12.330579239953757},  {15, -116.1313848457117, 15.066086827167823},
    {17.75, -161.32972322293122, 17.805985943505306}, {20, -203.91715537109727, 20.04975306852785},
    {25, -316.63940800802027, 25.039873012057562},    {29.5, -439.42947460915025, 29.533820844167984},
  };
  for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
    double da, db, L = densrt_quad_log_normal_diff(-INFINITY, -ref[i][0], &da, &db);
    ck_assert_msg(rel_diff(L, ref[i][1]) < 4e-16, "log Phi(-%g): %.17g vs %.17g", ref[i][0], L, ref[i][1]);
    ck_assert_msg(rel_diff(db, ref[i][2]) < 6e-16, "1/R(%g): %.17g vs %.17g", ref[i][0], db, ref[i][2]);
  }
}
END_TEST

/* The wide Mills polynomial (the CDF lanes, x >= 5) against R(x) from Laplace's continued
** fraction in 60-digit decimals (3000 terms). */
START_TEST(test_mills_wide)
{
  static const double ref[][2] = {
    {5, 0.19280810471531576},     {5.25, 0.18420767730797019}, {6, 0.16237766089686745},
    {7.5, 0.13107935580449176},   {9, 0.10978728257830829},    {9.999, 0.099038311451227379},
    {10, 0.099028596471731928},   {13, 0.076475761016248506},  {20, 0.049875925981836787},
    {40, 0.024984404205720571},
  };
  for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
    double r = densrt_mills_wide_inv(1.0 / ref[i][0]);
    ck_assert_msg(rel_diff(r, ref[i][1]) < 4e-16, "R(%g): %.17g vs %.17g", ref[i][0], r, ref[i][1]);
  }
  ck_assert(densrt_mills_wide_inv(0.0) == 0.0);
}
END_TEST

START_TEST(test_lnd_identities)
{
  static const double pts[] = {-45.0, -38.0, -20.0, -7.5, -3.0, -1.0, -0.3, -1e-7, 0.0,
                               2e-8,  0.4,   1.0,   2.0,  6.0,  12.0, 37.0, 41.0};
  const size_t np = sizeof pts / sizeof pts[0];
  for (size_t i = 0; i < np; i++)
    for (size_t j = i + 1; j < np; j++) {
      double a = pts[i], b = pts[j], da, db, ma, mb;
      double L = densrt_quad_log_normal_diff(a, b, &da, &db);
      double Lm = densrt_quad_log_normal_diff(-b, -a, &ma, &mb);
      /* symmetry Phi(b)-Phi(a) = Phi(-a)-Phi(-b) */
      ck_assert_msg(rel_diff(L, Lm) < 1e-14 || fabs(L - Lm) < 1e-300, "[%g, %g]", a, b);
      ck_assert(rel_diff(da, -mb) < 1e-13 && rel_diff(db, -ma) < 1e-13);
      ck_assert(da <= 0.0 && db >= 0.0);
      /* partials are -phi(a)/D and phi(b)/D */
      if (L > -600.0) {
        ck_assert_msg(rel_diff(db * exp(L), npdf(b, NULL)) < 1e-12, "[%g, %g] db", a, b);
        ck_assert_msg(rel_diff(-da * exp(L), npdf(a, NULL)) < 1e-12, "[%g, %g] da", a, b);
      }
      /* additivity over [a,m], [m,b], also deep and narrow */
      for (size_t k = i + 1; k < j; k++) {
        double m = pts[k];
        double s = exp(lnd(a, m) - L) + exp(lnd(m, b) - L);
        ck_assert_msg(fabs(s - 1.0) < 2e-14, "[%g, %g, %g]: %.17g", a, m, b, s);
      }
    }
}
END_TEST

START_TEST(test_lnd_narrow)
{
  static const double mids[] = {0.0, -1.0, 2.5, -5.0, 30.0, -40.0, 1e-9};
  static const double widths[] = {1e-8, 1e-12, 1e-4};
  for (size_t i = 0; i < sizeof mids / sizeof mids[0]; i++)
    for (size_t j = 0; j < sizeof widths / sizeof widths[0]; j++) {
      double a = mids[i] - 0.5 * widths[j], b = mids[i] + 0.5 * widths[j];
      double w = b - a, m = a + 0.5 * w, h = 0.5 * w;
      /* D = w phi(m) (1 + (m^2-1) h^2/6 + (m^4 - 6 m^2 + 3) h^4/120 + ...) */
      double corr = (m * m - 1.0) * h * h / 6.0 + (m * m * m * m - 6.0 * m * m + 3.0) * h * h * h * h / 120.0;
      double ref = log(w) - 0.5 * m * m - LOG_SQRT_2PI + log1p(corr);
      double da, db, L = densrt_quad_log_normal_diff(a, b, &da, &db);
      ck_assert_msg(rel_diff(L, ref) < 1e-14, "[%.17g, %.17g]: %.17g vs %.17g", a, b, L, ref);
      ck_assert(rel_diff(db, npdf(b, NULL) / exp(ref)) < 1e-12 || L < -600.0);
      ck_assert(rel_diff(da, -npdf(a, NULL) / exp(ref)) < 1e-12 || L < -600.0);
    }
}
END_TEST

START_TEST(test_lnd_finite_differences)
{
  static const double ab[][2] = {{-3.0, -1.0}, {-1.0, 2.0}, {0.5, 4.0}, {-40.0, -38.0}, {38.0, 39.0},
                                 {-2.0, -1.999}, {0.0, 1e-3}, {-30.0, -29.999}, {-5.0, 30.0}, {-0.9, 1.1},
                                 {-1.01, 0.99}, {-1.0 / 1.3 - 0.77, -1.0 / 1.3 + 0.77}};
  for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++) {
    double a = ab[i][0], b = ab[i][1], da, db;
    double s = 1e-4 * fmin(1.0, b - a);
    densrt_quad_log_normal_diff(a, b, &da, &db);
    double fda = (lnd(a + s, b) - lnd(a - s, b)) / (2.0 * s);
    double fdb = (lnd(a, b + s) - lnd(a, b - s)) / (2.0 * s);
    /* in a deep tail one partial is negligible next to the other and
       below the differences' resolution, so scale by both */
    double scale = fabs(da) + fabs(db);
    ck_assert_msg(fabs(da - fda) < 1e-6 * scale, "[%g, %g] da %.17g fd %.17g", a, b, da, fda);
    ck_assert_msg(fabs(db - fdb) < 1e-6 * scale, "[%g, %g] db %.17g fd %.17g", a, b, db, fdb);
  }
}
END_TEST

/* Phi(x) and Q(x) = 1 - Phi(x), the smaller one integrated directly */
static void ref_Phi_Q(double x, double *Phi, double *Q)
{
  if (x <= 0.0) {
    long double p = ref_integral(npdf_l, (long double)x - 40.0L, x);
    *Phi = (double)p;
    *Q = (double)(1.0L - p);
  } else {
    long double q = ref_integral(npdf_l, x, (long double)x + 40.0L);
    *Q = (double)q;
    *Phi = (double)(1.0L - q);
  }
}

START_TEST(test_lnd_limits)
{
  static const double xs[] = {-6.0, -2.0, -0.5, 0.0, 0.5, 2.0, 6.0, 9.0};
  double da, db;
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
    double x = xs[i];
    double Phi, Q;
    ref_Phi_Q(x, &Phi, &Q);
    double L = densrt_quad_log_normal_diff(-INFINITY, x, &da, &db);
    ck_assert_msg(fabs(L - log(Phi)) < 1e-14 * fmax(1.0, fabs(L)) || rel_diff(L, log1p(-Q)) < 1e-13, "%g", x);
    ck_assert(da == 0.0 && rel_diff(db, npdf(x, NULL) / Phi) < 1e-13);
    L = densrt_quad_log_normal_diff(x, INFINITY, &da, &db);
    ck_assert(fabs(L - log(Q)) < 1e-14 * fmax(1.0, fabs(L)) || rel_diff(L, log1p(-Phi)) < 1e-13);
    ck_assert(db == 0.0 && rel_diff(da, -npdf(x, NULL) / Q) < 1e-13);
    /* a far-away finite end point is the same as an infinite one */
    ck_assert(rel_diff(lnd(-60.0, x), lnd(-INFINITY, x)) < 1e-15);
    ck_assert(rel_diff(lnd(x, 60.0), lnd(x, INFINITY)) < 1e-15);
  }
  ck_assert(lnd(-INFINITY, INFINITY) == 0.0);
  densrt_quad_log_normal_diff(-INFINITY, INFINITY, &da, &db);
  ck_assert(da == 0.0 && db == 0.0);
  /* upper-tail of log Phi: tiny and negative, not rounded to 0 */
  {
    double Phi, Q;
    ref_Phi_Q(8.0, &Phi, &Q);
    ck_assert(rel_diff(lnd(-INFINITY, 8.0), log1p(-Q)) < 1e-14);
  }

  /* empty and invalid */
  da = db = 1.0;
  ck_assert(densrt_quad_log_normal_diff(1.0, 1.0, &da, &db) == -INFINITY);
  ck_assert(da == 0.0 && db == 0.0);
  ck_assert(lnd(2.0, 1.0) == -INFINITY);
  ck_assert(lnd(INFINITY, INFINITY) == -INFINITY);
  ck_assert(isnan(densrt_quad_log_normal_diff(NAN, 1.0, &da, &db)) && isnan(da) && isnan(db));
  ck_assert(isnan(lnd(0.0, NAN)));
  /* huge arguments stay finite or -inf, never NaN */
  ck_assert(isfinite(lnd(-1e10, -1e10 + 1e-3)));
  ck_assert(lnd(-1e300, 0.0) == log(0.5));
  ck_assert(!isnan(lnd(-1e300, -1e299)));
}
END_TEST

/* The generated loops' inline exp against long double exp: within 2 ulp everywhere it is
** normal, right at the under- and overflow limits, NaN through. */
START_TEST(test_inline_exp)
{
  uint64_t st = 88172645463325252u;
  double worst = 0, at = 0;
  for (long i = 0; i < 4000000; i++) {
    st ^= st << 13;
    st ^= st >> 7;
    st ^= st << 17;
    double u = (double)(st >> 11) * 0x1p-53;
    double x = i % 3 == 0 ? -745 + 1454.7 * u : i % 3 == 1 ? -40 + 80 * u : -0.5 + u;
    long double ref = expl((long double)x);
    if (ref < (long double)DBL_MIN || ref > (long double)DBL_MAX)
      continue;
    double e = (double)fabsl(((long double)densrt_exp_inline(x) - ref) / ref);
    if (e > worst) {
      worst = e;
      at = x;
    }
  }
  ck_assert_msg(worst <= 2 * DBL_EPSILON, "relative error %g at %.17g", worst, at);
  /* at the multiples of ln 2 and half way between (the ends of the reduction interval) */
  for (int k = -2040; k <= 2046; k++) {
    double x = k * 0.5 * 0.69314718055994530942;
    long double ref = expl((long double)x);
    ck_assert_msg(fabsl(((long double)densrt_exp_inline(x) - ref) / ref) <= 2 * DBL_EPSILON, "at %.17g", x);
  }
  ck_assert(densrt_exp_inline(0.0) == 1.0);
  ck_assert(densrt_exp_inline(709.78) == exp(709.78) || fabs(densrt_exp_inline(709.78) / exp(709.78) - 1) < 4e-16);
  ck_assert(densrt_exp_inline(709.79) == INFINITY);
  ck_assert(densrt_exp_inline(INFINITY) == INFINITY);
  ck_assert(densrt_exp_inline(1e308) == INFINITY);
  ck_assert(densrt_exp_inline(-745.2) == 0.0);
  ck_assert(densrt_exp_inline(-INFINITY) == 0.0);
  ck_assert(isnan(densrt_exp_inline(NAN)));
  /* subnormal results: within one unit of the smallest subnormal */
  for (double x = -744.4; x > -745.1; x -= 0.05)
    ck_assert(fabs(densrt_exp_inline(x) - exp(x)) <= 0x1p-1074);
  ck_assert(fabs(densrt_exp_inline(-708.5) / exp(-708.5) - 1) < 4e-16);
}
END_TEST

/* The log-sum-exp weights' exp: equal to densrt_exp_inline down to 2^-1022, 0 below it, NaN
** through. */
START_TEST(test_exp_neg)
{
  uint64_t st = 9876543210123u;
  for (long i = 0; i < 2000000; i++) {
    st ^= st << 13;
    st ^= st >> 7;
    st ^= st << 17;
    double u = (double)(st >> 11) * 0x1p-53;
    double x = i % 2 ? -760 * u : -40 * u;
    double want = densrt_exp_inline(x), got = densrt_exp_neg_inline(x);
    if (x >= -708.39641853226410)   /* ln 2^-1022 */
      ck_assert_msg(got == want, "at %.17g: %.17g, not %.17g", x, got, want);
    else
      ck_assert_msg(got == 0.0, "at %.17g: %g, not 0", x, got);
  }
  for (int k = -1023; k <= 0; k++) {   /* the multiples of ln 2 */
    double x = k * 0.69314718055994530942, want = densrt_exp_inline(x);
    ck_assert_msg(densrt_exp_neg_inline(x) == (x >= -708.39641853226410 ? want : 0.0), "at %.17g", x);
  }
  ck_assert(densrt_exp_neg_inline(0.0) == 1.0);
  ck_assert(densrt_exp_neg_inline(-0.0) == 1.0);
  ck_assert(densrt_exp_neg_inline(-708.39) == densrt_exp_inline(-708.39));
  ck_assert(densrt_exp_neg_inline(-708.39) >= DBL_MIN);
  ck_assert(densrt_exp_neg_inline(-708.4) == 0.0);
  ck_assert(densrt_exp_neg_inline(-INFINITY) == 0.0);
  ck_assert(isnan(densrt_exp_neg_inline(NAN)));
}
END_TEST

/* The lanes' standardised window ends: r / s within an ulp of the division, and an
** infinite end (a column's unbounded window) infinite, not NaN (which sent every lane of
** such a window to the scalar fallback). */
START_TEST(test_ndiff_end)
{
  static const double sds[] = {1e-3, 0.3, 1.0, 2.5, 7e4};
  for (size_t i = 0; i < sizeof sds / sizeof *sds; i++) {
    const double s = sds[i], is = 1.0 / s;
    ck_assert_msg(densrt_ndiff_end(-INFINITY, s, is) == -INFINITY, "-inf / %g", s);
    ck_assert_msg(densrt_ndiff_end(INFINITY, s, is) == INFINITY, "+inf / %g", s);
  }
  ck_assert(isnan(densrt_ndiff_end(NAN, 1.0, 1.0)));
  uint64_t st = 424242;
  for (int i = 0; i < 100000; i++) {
    st = st * 6364136223846793005u + 1442695040888963407u;
    const double u1 = (double)(st >> 11) * 0x1p-53;
    st = st * 6364136223846793005u + 1442695040888963407u;
    const double u2 = (double)(st >> 11) * 0x1p-53;
    const double r = (u1 - 0.5) * 200, s = exp(-6 + 10 * u2), q = r / s, got = densrt_ndiff_end(r, s, 1.0 / s);
    ck_assert_msg(fabs(got - q) <= DBL_EPSILON * fabs(q), "%.17g / %.17g: %.17g, not %.17g", r, s, got, q);
  }
}
END_TEST

typedef void lanes_fn(double lo, double hi, const double *mu, const double *sd, double *v, double *d_mu, double *d_sd);
void quad_fma_lanes(double lo, double hi, const double *mu, const double *sd, double *v, double *d_mu, double *d_sd);
extern long quad_fma_fallbacks;

/* This program's own build of densrt_log_ndiff_lanes (any x86-64: the scalar function). */
static void plain_lanes(double lo, double hi, const double *mu, const double *sd, double *v, double *d_mu,
                        double *d_sd)
{
  densrt_log_ndiff_lanes(lo, hi, mu, sd, v, d_mu, d_sd);
}

/* lanes() against densrt_log_ndiff, far in the tails (the branch-free formula where the
** build has FMA) and near (its fallback), with infinite window ends.  With fallbacks, the
** count of lanes that took the scalar function: exactly the near ones. */
static void compare_lanes(lanes_fn *lanes, long *fallbacks)
{
  if (fallbacks)
    *fallbacks = 0;
  static const double win[][2] = {{-7, 5}, {-INFINITY, 5}, {-7, INFINITY}, {0, 1}};
  uint64_t st = 12345;
  int far = 0, near = 0;
  for (size_t w = 0; w < sizeof win / sizeof win[0]; w++)
    for (int rep = 0; rep < 2000; rep++) {
      double mu[DENSRT_LANES], sd[DENSRT_LANES], v[DENSRT_LANES], dm[DENSRT_LANES], ds[DENSRT_LANES];
      for (int l = 0; l < DENSRT_LANES; l++) {
        st = st * 6364136223846793005u + 1442695040888963407u;
        double u1 = (double)(st >> 11) * 0x1p-53;
        st = st * 6364136223846793005u + 1442695040888963407u;
        double u2 = (double)(st >> 11) * 0x1p-53;
        mu[l] = -3 + 6 * u1;
        sd[l] = exp(-4 + 5 * u2);   /* 0.018 .. 2.7: both regimes */
      }
      lanes(win[w][0], win[w][1], mu, sd, v, dm, ds);
      for (int l = 0; l < DENSRT_LANES; l++) {
        double rm, rs, rv = densrt_log_ndiff(win[w][0], win[w][1], mu[l], sd[l], &rm, &rs);
        double a = (win[w][0] - mu[l]) / sd[l], b = (win[w][1] - mu[l]) / sd[l];
        if (a <= -5 && b >= 5)
          far++;
        else
          near++;
        /* a tail phi(a) changes by a^2 times a relative change of a: an ulp of a (1/sd taken
           once, not a division per end) is worth 2 eps a^2 in the far lanes */
        double cond = 2 * DBL_EPSILON * fmax(isinf(a) ? 0 : a * a, isinf(b) ? 0 : b * b);
        ck_assert_msg(v[l] == rv || fabs(v[l] - rv) <= (1e-15 + cond) * fabs(rv) + 1e-300,
                      "value at mu %g sd %g: %.17g vs %.17g", mu[l], sd[l], v[l], rv);
        ck_assert_msg(dm[l] == rm || fabs(dm[l] - rm) <= (4e-15 + cond) * fabs(rm) + 1e-300,
                      "d_mu at mu %g sd %g: %.17g vs %.17g", mu[l], sd[l], dm[l], rm);
        ck_assert_msg(ds[l] == rs || fabs(ds[l] - rs) <= (4e-15 + cond) * fabs(rs) + 1e-300,
                      "d_sd at mu %g sd %g: %.17g vs %.17g", mu[l], sd[l], ds[l], rs);
      }
    }
  ck_assert(far > 1000 && near > 1000);
  if (fallbacks)
    ck_assert_msg(*fallbacks == near, "%ld lanes took the scalar function, %d are near", *fallbacks, near);
}

/* A width that underflowed to 0 with the mean inside the window: all the mass, and no
** change with the mean or the width (0, not 0/0). */
START_TEST(test_log_ndiff_zero_width)
{
  double dm, ds;
  double v = densrt_log_ndiff(-3, -1, -2, 0.0, &dm, &ds);
  ck_assert_msg(v == 0 && dm == 0 && ds == 0, "%g %g %g", v, dm, ds);
  double mu[DENSRT_LANES], sd[DENSRT_LANES], lv[DENSRT_LANES], ldm[DENSRT_LANES], lds[DENSRT_LANES];
  for (int l = 0; l < DENSRT_LANES; l++)
    mu[l] = -2.5 + 0.1 * l, sd[l] = l % 2 ? 0.0 : 0.01;
  __builtin_cpu_init();
  int fma_here = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  for (int pass = 0; pass < 1 + fma_here; pass++) {   /* this build's lanes, and the AVX2+FMA ones */
    (pass ? quad_fma_lanes : plain_lanes)(-3, -1, mu, sd, lv, ldm, lds);
    for (int l = 0; l < DENSRT_LANES; l++)
      ck_assert_msg(isfinite(lv[l]) && isfinite(ldm[l]) && isfinite(lds[l]), "pass %d lane %d: %g %g %g", pass, l, lv[l],
                    ldm[l], lds[l]);
  }
}
END_TEST

START_TEST(test_log_ndiff_lanes)
{
  compare_lanes(plain_lanes, NULL);
}
END_TEST

START_TEST(test_log_ndiff_lanes_fma)
{
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    printf("SKIP: test_quad: no AVX2 and FMA here, the vector path of densrt_log_ndiff_lanes is not tested\n");
    return;
  }
  compare_lanes(quad_fma_lanes, &quad_fma_fallbacks);
}
END_TEST

static Suite *quad_suite(void)
{
  Suite *s = suite_create("quad");
  TCase *tc = tcase_create("rules");
  tcase_add_test(tc, test_gl_exact_degree);
  tcase_add_test(tc, test_gl_breakpoints);
  tcase_add_test(tc, test_gl_invalid);
  tcase_add_test(tc, test_log_space_no_overflow);
  tcase_add_test(tc, test_logsumexp_edges);
  tcase_add_test(tc, test_simpson_points);
  tcase_add_test(tc, test_simpson_step);
  tcase_add_test(tc, test_log_integrate);
  suite_add_tcase(s, tc);
  tc = tcase_create("log_normal_diff");
  tcase_add_test(tc, test_lnd_vs_integral);
  tcase_add_test(tc, test_lnd_deep_tails);
  tcase_add_test(tc, test_lnd_mills_polynomial);
  tcase_add_test(tc, test_mills_wide);
  tcase_add_test(tc, test_lnd_identities);
  tcase_add_test(tc, test_lnd_narrow);
  tcase_add_test(tc, test_lnd_finite_differences);
  tcase_add_test(tc, test_lnd_limits);
  tcase_add_test(tc, test_log_ndiff_zero_width);
  suite_add_tcase(s, tc);
  tc = tcase_create("inline_exp");
  tcase_add_test(tc, test_inline_exp);
  tcase_add_test(tc, test_exp_neg);
  tcase_add_test(tc, test_ndiff_end);
  tcase_add_test(tc, test_log_ndiff_lanes);
  tcase_add_test(tc, test_log_ndiff_lanes_fma);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(quad_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
