/*
** test_spline.c — checks runtime/spline against scipy reference cases,
** an independent natural spline, mathematical properties and extreme inputs.
*/
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "json.h"
#include "shared.h"
#include "spline.h"

#define CASES_PATH SHARED_DIR "/reference/spline_cases.json"

static const densrt_spline_kind all_kinds[3] = {
  DENSRT_SPLINE_NOT_A_KNOT, DENSRT_SPLINE_NATURAL, DENSRT_SPLINE_LINEAR
};

/* {====== helpers ======} */

/* splitmix64: deterministic and identical on every platform */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
  rng_state = seed;
}

static double rng_uniform(double lo, double hi)
{
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  z ^= z >> 31;
  return lo + (hi - lo) * ((double)(z >> 11) * 0x1.0p-53);
}

static double *dalloc(size_t n)
{
  double *p = calloc(n ? n : 1, sizeof *p);
  ck_assert_ptr_nonnull(p);
  return p;
}

/* Irregular knots: random spacings spanning a factor ~20. */
static double *irregular_knots(size_t K)
{
  double *t = dalloc(K);
  t[0] = rng_uniform(-5.0, 5.0);
  for (size_t j = 1; j < K; j++)
    t[j] = t[j - 1] + exp(rng_uniform(-2.0, 1.0));
  return t;
}

static double *uniform_knots(size_t K, double t0, double h)
{
  double *t = dalloc(K);
  for (size_t j = 0; j < K; j++)
    t[j] = t0 + (double)j * h;
  return t;
}

static double *random_values(size_t K, double amp)
{
  double *y = dalloc(K);
  for (size_t j = 0; j < K; j++)
    y[j] = rng_uniform(-amp, amp);
  return y;
}

static densrt_spline *make_spline(const double *t, size_t K, densrt_spline_kind kind)
{
  densrt_spline *s = NULL;
  int st = densrt_spline_alloc(t, K, kind, &s);
  ck_assert_msg(st == DENSRT_OK, "alloc failed: %s", densrt_error_message());
  ck_assert_ptr_nonnull(s);
  return s;
}

static double *make_coefs(const densrt_spline *s, const double *y)
{
  double *c = dalloc(4 * (s->K - 1));
  densrt_spline_coefs(s, y, c, NULL);
  return c;
}

/* Derivative `order` (0..3) of segment j's cubic at u, and the sum of the
** magnitudes of its terms (the scale its rounding error is relative to). */
static double seg_deriv(const double *coef, size_t j, double u, int order, double *scale)
{
  const double *c = coef + 4 * j;
  double terms[4] = { 0.0, 0.0, 0.0, 0.0 };
  switch (order) {
  case 0: terms[0] = c[0]; terms[1] = c[1] * u; terms[2] = c[2] * u * u; terms[3] = c[3] * u * u * u; break;
  case 1: terms[0] = c[1]; terms[1] = 2.0 * c[2] * u; terms[2] = 3.0 * c[3] * u * u; break;
  case 2: terms[0] = 2.0 * c[2]; terms[1] = 6.0 * c[3] * u; break;
  default: terms[0] = 6.0 * c[3]; break;
  }
  double sum = 0.0, mag = 0.0;
  for (int m = 0; m < 4; m++) {
    sum += terms[m];
    mag += fabs(terms[m]);
  }
  if (scale)
    *scale = mag;
  return sum;
}

static double rel_err(double got, double ref)
{
  return fabs(got - ref) / fmax(1.0, fabs(ref));
}

/* {====== scipy reference cases ======} */

static double *json_doubles(const densrt_json *arr, size_t expect)
{
  ck_assert_ptr_nonnull(arr);
  ck_assert_int_eq(arr->type, DENSRT_JSON_ARRAY);
  ck_assert_uint_eq(arr->n, expect);
  double *v = dalloc(arr->n);
  for (size_t i = 0; i < arr->n; i++) {
    ck_assert_int_eq(arr->items[i].type, DENSRT_JSON_NUMBER);
    v[i] = arr->items[i].number;
  }
  return v;
}

typedef struct {
  double err;
  size_t where; /* case index */
} worst;

static void note(worst *w, double err, size_t c)
{
  if (!(err <= w->err) && !isnan(w->err)) { /* a NaN error stays the worst */
    w->err = err;
    w->where = c;
  }
}

START_TEST(test_reference_cases)
{
  densrt_json *doc = NULL;
  int st = densrt_json_parse_file(CASES_PATH, &doc);
  ck_assert_msg(st == DENSRT_OK, "cannot read %s: %s", CASES_PATH, densrt_error_message());
  const densrt_json *cases = densrt_json_member(doc, "cases");
  ck_assert_ptr_nonnull(cases);
  ck_assert_int_eq(cases->type, DENSRT_JSON_ARRAY);
  ck_assert_uint_eq(cases->n, 40);

  worst wy = { 0, 0 }, wdy = { 0, 0 }, ww = { 0, 0 }, wadj = { 0, 0 }, wint = { 0, 0 };
  size_t npoints = 0, nweights = 0;
  for (size_t ci = 0; ci < cases->n; ci++) {
    const densrt_json *cs = &cases->items[ci];
    const densrt_json *jk = densrt_json_member(cs, "knots");
    ck_assert_ptr_nonnull(jk);
    size_t K = jk->n;
    const densrt_json *jx = densrt_json_member(cs, "x");
    ck_assert_ptr_nonnull(jx);
    size_t n = jx->n;
    double *t = json_doubles(jk, K), *y = json_doubles(densrt_json_member(cs, "values"), K);
    double *x = json_doubles(jx, n), *yr = json_doubles(densrt_json_member(cs, "y"), n);
    double *dyr = json_doubles(densrt_json_member(cs, "dy_dx"), n);
    const densrt_json *jw = densrt_json_member(cs, "dy_dvalues");
    ck_assert_ptr_nonnull(jw);
    ck_assert_uint_eq(jw->n, n);
    const densrt_json *ji = densrt_json_member(cs, "integral");
    ck_assert_ptr_nonnull(ji);
    ck_assert_int_eq(ji->type, DENSRT_JSON_NUMBER);

    densrt_spline *s = make_spline(t, K, DENSRT_SPLINE_NOT_A_KNOT);
    double *c = make_coefs(s, y);
    double *w = dalloc(K), *wa = dalloc(K), *cadj = dalloc(4 * (K - 1));
    for (size_t i = 0; i < n; i++) {
      double slope, v = densrt_spline_eval(s, c, x[i], &slope);
      note(&wy, rel_err(v, yr[i]), ci);
      note(&wdy, rel_err(slope, dyr[i]), ci);
      double *wr = json_doubles(&jw->items[i], K);
      densrt_spline_weights(s, x[i], w);
      double u;
      size_t j = densrt_spline_locate(s, x[i], &u);
      memset(cadj, 0, 4 * (K - 1) * sizeof *cadj);
      cadj[4 * j] = 1.0, cadj[4 * j + 1] = u, cadj[4 * j + 2] = u * u, cadj[4 * j + 3] = u * u * u;
      for (size_t k = 0; k < K; k++)
        wa[k] = 0.0;
      densrt_spline_coefs_adjoint(s, cadj, wa);
      for (size_t k = 0; k < K; k++) {
        note(&ww, fabs(w[k] - wr[k]), ci);
        note(&wadj, fabs(wa[k] - wr[k]), ci);
      }
      nweights += K;
      free(wr);
    }
    npoints += n;
    double integral = densrt_spline_integral(s, c, t[0], t[K - 1]);
    note(&wint, rel_err(integral, ji->number), ci);
    free(t), free(y), free(x), free(yr), free(dyr), free(w), free(wa), free(cadj), free(c);
    densrt_spline_free(s);
  }
  size_t n_cases = cases->n;
  densrt_json_free(doc);

  printf("spline vs scipy 1.10.1 not-a-knot (%zu cases, %zu points, %zu weights):\n", n_cases, npoints,
         nweights);
  printf("  y             worst rel err %.3e (case %zu)\n", wy.err, wy.where);
  printf("  dy/dx         worst rel err %.3e (case %zu)\n", wdy.err, wdy.where);
  printf("  dy/dvalues    worst abs err %.3e (case %zu) via weights\n", ww.err, ww.where);
  printf("  dy/dvalues    worst abs err %.3e (case %zu) via coefs_adjoint\n", wadj.err, wadj.where);
  printf("  integral      worst rel err %.3e (case %zu)\n", wint.err, wint.where);
  fflush(stdout);
  ck_assert_msg(wy.err <= 1e-12, "y error %g in case %zu", wy.err, wy.where);
  ck_assert_msg(wdy.err <= 1e-12, "dy/dx error %g in case %zu", wdy.err, wdy.where);
  ck_assert_msg(ww.err <= 1e-12, "weights error %g in case %zu", ww.err, ww.where);
  ck_assert_msg(wadj.err <= 1e-12, "adjoint error %g in case %zu", wadj.err, wadj.where);
  ck_assert_msg(wint.err <= 1e-12, "integral error %g in case %zu", wint.err, wint.where);
}
END_TEST

/* {====== natural spline vs an independent formulation ======} */

/* Natural cubic spline in the textbook second-derivative ("moment") form,
** solved by plain Thomas elimination (the system is diagonally dominant):
** a different unknown, system and evaluation formula than runtime/spline.c. */
typedef struct {
  size_t K;
  const double *t, *y;
  double *mom;
} moment_spline;

static moment_spline moment_spline_make(const double *t, const double *y, size_t K)
{
  moment_spline ms = { K, t, y, dalloc(K) };
  size_t n = K - 2; /* interior moments */
  double *diag = dalloc(n), *rhs = dalloc(n);
  for (size_t i = 0; i < n; i++) {
    double h0 = t[i + 1] - t[i], h1 = t[i + 2] - t[i + 1];
    diag[i] = 2.0 * (h0 + h1);
    rhs[i] = 6.0 * ((y[i + 2] - y[i + 1]) / h1 - (y[i + 1] - y[i]) / h0);
  }
  for (size_t i = 1; i < n; i++) {
    double sub = t[i + 1] - t[i], l = sub / diag[i - 1];
    diag[i] -= l * sub;
    rhs[i] -= l * rhs[i - 1];
  }
  for (size_t i = n; i-- > 0;) {
    double sup = i + 1 < n ? (t[i + 2] - t[i + 1]) * ms.mom[i + 2] : 0.0;
    ms.mom[i + 1] = (rhs[i] - sup) / diag[i];
  }
  free(diag), free(rhs);
  return ms;
}

static double moment_spline_eval(const moment_spline *ms, double x, double *slope)
{
  size_t j = 0;
  while (j + 2 < ms->K && x >= ms->t[j + 1])
    j++;
  double h = ms->t[j + 1] - ms->t[j], a = ms->t[j + 1] - x, b = x - ms->t[j];
  double m0 = ms->mom[j], m1 = ms->mom[j + 1];
  double p = ms->y[j] / h - m0 * h / 6.0, q = ms->y[j + 1] / h - m1 * h / 6.0;
  *slope = (-m0 * a * a + m1 * b * b) / (2.0 * h) - p + q;
  return (m0 * a * a * a + m1 * b * b * b) / (6.0 * h) + p * a + q * b;
}

static double moment_spline_integral(const moment_spline *ms)
{
  double sum = 0.0;
  for (size_t j = 0; j + 1 < ms->K; j++) {
    double h = ms->t[j + 1] - ms->t[j];
    sum += 0.5 * h * (ms->y[j] + ms->y[j + 1]) - h * h * h * (ms->mom[j] + ms->mom[j + 1]) / 24.0;
  }
  return sum;
}

START_TEST(test_natural_vs_moments)
{
  rng_seed(11);
  double worst_y = 0, worst_dy = 0, worst_int = 0;
  for (size_t K = 3; K <= 30; K += 3) {
    double *t = irregular_knots(K), *y = random_values(K, 3.0);
    densrt_spline *s = make_spline(t, K, DENSRT_SPLINE_NATURAL);
    double *c = make_coefs(s, y);
    moment_spline ms = moment_spline_make(t, y, K);
    double range = t[K - 1] - t[0];
    for (int i = 0; i < 200; i++) {
      double x = rng_uniform(t[0] - 0.2 * range, t[K - 1] + 0.2 * range), slope, rslope;
      double v = densrt_spline_eval(s, c, x, &slope), rv = moment_spline_eval(&ms, x, &rslope);
      worst_y = fmax(worst_y, rel_err(v, rv));
      worst_dy = fmax(worst_dy, rel_err(slope, rslope));
    }
    worst_int = fmax(worst_int, rel_err(densrt_spline_integral(s, c, t[0], t[K - 1]), moment_spline_integral(&ms)));
    densrt_spline_free(s);
    free(t), free(y), free(c), free(ms.mom);
  }
  printf("natural spline vs moment form: y %.3e, dy/dx %.3e, integral %.3e (worst rel err)\n", worst_y,
         worst_dy, worst_int);
  fflush(stdout);
  ck_assert_double_le(worst_y, 1e-12);
  ck_assert_double_le(worst_dy, 1e-12);
  ck_assert_double_le(worst_int, 1e-12);
}
END_TEST

/* {====== properties ======} */

static const size_t sizes[] = { 4, 5, 7, 12, 40 };
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* Every kind, sizes, uniform (i even) and irregular knots. */
#define FOR_EACH_SETUP(kind_i, size_i, unif)                \
  for (int kind_i = 0; kind_i < 3; kind_i++)                \
    for (size_t size_i = 0; size_i < NSIZES; size_i++)      \
      for (int unif = 0; unif < 2; unif++)

START_TEST(test_reproduces_knot_values)
{
  rng_seed(1);
  FOR_EACH_SETUP(ki, si, unif)
  {
    size_t K = sizes[si];
    double *t = unif ? uniform_knots(K, -1.3, 0.37) : irregular_knots(K);
    double *y = random_values(K, 5.0);
    densrt_spline *s = make_spline(t, K, all_kinds[ki]);
    double *c = make_coefs(s, y);
    for (size_t j = 0; j + 1 < K; j++) /* exactly: locate gives u = 0 */
      ck_assert_msg(densrt_spline_eval(s, c, t[j], NULL) == y[j], "%s K=%zu knot %zu",
                    densrt_spline_kind_name(all_kinds[ki]), K, j);
    double scale, v = seg_deriv(c, K - 2, t[K - 1] - t[K - 2], 0, &scale);
    ck_assert_double_eq_tol(densrt_spline_eval(s, c, t[K - 1], NULL), v, 1e-15 * scale);
    ck_assert_double_eq_tol(v, y[K - 1], 1e-14 * scale);
    densrt_spline_free(s);
    free(t), free(y), free(c);
  }
}
END_TEST

START_TEST(test_continuity)
{
  rng_seed(2);
  FOR_EACH_SETUP(ki, si, unif)
  {
    size_t K = sizes[si];
    int cubic = all_kinds[ki] != DENSRT_SPLINE_LINEAR; /* linear is only C0 */
    double *t = unif ? uniform_knots(K, 2.0, 1.1) : irregular_knots(K);
    double *y = random_values(K, 5.0);
    densrt_spline *s = make_spline(t, K, all_kinds[ki]);
    double *c = make_coefs(s, y);
    for (size_t j = 1; j + 1 < K; j++) {
      double h = t[j] - t[j - 1];
      for (int order = 0; order <= (cubic ? 2 : 0); order++) {
        double sl, sr, left = seg_deriv(c, j - 1, h, order, &sl), right = seg_deriv(c, j, 0.0, order, &sr);
        ck_assert_msg(fabs(left - right) <= 1e-13 * fmax(sl, sr) + 1e-300,
                      "%s K=%zu knot %zu derivative %d: %.17g vs %.17g",
                      densrt_spline_kind_name(all_kinds[ki]), K, j, order, left, right);
      }
    }
    densrt_spline_free(s);
    free(t), free(y), free(c);
  }
}
END_TEST

START_TEST(test_end_conditions)
{
  rng_seed(3);
  for (size_t si = 0; si < NSIZES; si++)
    for (int unif = 0; unif < 2; unif++) {
      size_t K = sizes[si];
      double *t = unif ? uniform_knots(K, 0.0, 0.25) : irregular_knots(K);
      double *y = random_values(K, 5.0);
      densrt_spline *nak = make_spline(t, K, DENSRT_SPLINE_NOT_A_KNOT);
      densrt_spline *nat = make_spline(t, K, DENSRT_SPLINE_NATURAL);
      double *c = make_coefs(nak, y), *cn = make_coefs(nat, y);
      /* not-a-knot: one cubic on the first two and on the last two segments */
      double s0 = fabs(c[3]) + fabs(c[7]), s1 = fabs(c[4 * (K - 3) + 3]) + fabs(c[4 * (K - 2) + 3]);
      ck_assert_double_eq_tol(c[3], c[7], 1e-12 * s0);
      ck_assert_double_eq_tol(c[4 * (K - 3) + 3], c[4 * (K - 2) + 3], 1e-12 * s1);
      /* natural: s'' = 0 at both ends */
      double sc, d2 = seg_deriv(cn, 0, 0.0, 2, &sc);
      ck_assert_double_eq_tol(d2, 0.0, 1e-13 * fmax(sc, 1.0));
      d2 = seg_deriv(cn, K - 2, t[K - 1] - t[K - 2], 2, &sc);
      ck_assert_double_eq_tol(d2, 0.0, 1e-13 * sc);
      densrt_spline_free(nak), densrt_spline_free(nat);
      free(t), free(y), free(c), free(cn);
    }
}
END_TEST

static double cubic_poly(double x, double *slope)
{
  const double a = 0.7, b = -1.3, c2 = 0.45, d = -0.21;
  if (slope)
    *slope = b + x * (2.0 * c2 + 3.0 * d * x);
  return a + x * (b + x * (c2 + x * d));
}

START_TEST(test_polynomial_reproduction)
{
  rng_seed(4);
  for (size_t si = 0; si < NSIZES; si++)
    for (int unif = 0; unif < 2; unif++) {
      size_t K = sizes[si];
      double *t = unif ? uniform_knots(K, -2.0, 4.0 / (double)(K - 1)) : irregular_knots(K);
      double *y = dalloc(K), *line = dalloc(K);
      for (size_t j = 0; j < K; j++) {
        y[j] = cubic_poly(t[j], NULL);
        line[j] = 0.3 - 1.7 * t[j];
      }
      densrt_spline *s[3];
      double *cl[3];
      for (int ki = 0; ki < 3; ki++) {
        s[ki] = make_spline(t, K, all_kinds[ki]);
        cl[ki] = make_coefs(s[ki], line);
      }
      double *c = make_coefs(s[0], y);
      double range = t[K - 1] - t[0];
      for (int i = 0; i < 300; i++) {
        double x = rng_uniform(t[0] - 0.5 * range, t[K - 1] + 0.5 * range), slope, dref;
        double ref = cubic_poly(x, &dref), v = densrt_spline_eval(s[0], c, x, &slope);
        double scale = 1.0 + fabs(x) * fabs(x) * fabs(x);
        ck_assert_double_eq_tol(v, ref, 1e-12 * scale);
        ck_assert_double_eq_tol(slope, dref, 1e-12 * scale);
        /* every kind reproduces a straight line, extrapolation included */
        for (int ki = 0; ki < 3; ki++) {
          double lv = densrt_spline_eval(s[ki], cl[ki], x, &slope);
          /* rounding grows with the knot spacing ratio, as in scipy (same arithmetic) */
          ck_assert_double_eq_tol(lv, 0.3 - 1.7 * x, 1e-10 * (1.0 + fabs(x)));
          ck_assert_double_eq_tol(slope, -1.7, 1e-12 * (1.0 + fabs(x)));
        }
      }
      for (int ki = 0; ki < 3; ki++) {
        densrt_spline_free(s[ki]);
        free(cl[ki]);
      }
      free(t), free(y), free(line), free(c);
    }
}
END_TEST

START_TEST(test_linear_kind)
{
  double t[] = { 0.0, 1.0, 3.0, 3.5 }, y[] = { 1.0, 3.0, -1.0, 0.0 };
  densrt_spline *s = make_spline(t, 4, DENSRT_SPLINE_LINEAR);
  double *c = make_coefs(s, y), slope;
  ck_assert_double_eq_tol(densrt_spline_eval(s, c, 0.5, &slope), 2.0, 1e-15);
  ck_assert_double_eq_tol(slope, 2.0, 1e-15);
  ck_assert_double_eq_tol(densrt_spline_eval(s, c, 2.0, &slope), 1.0, 1e-15);
  ck_assert_double_eq_tol(slope, -2.0, 1e-15);
  ck_assert_double_eq_tol(densrt_spline_eval(s, c, -1.0, &slope), -1.0, 1e-15); /* extrapolated */
  ck_assert_double_eq_tol(densrt_spline_eval(s, c, 4.5, &slope), 2.0, 1e-15);
  ck_assert_double_eq_tol(slope, 2.0, 1e-15);
  for (size_t j = 0; j < 3; j++)
    ck_assert(c[4 * j + 2] == 0.0 && c[4 * j + 3] == 0.0);
  /* sum of the trapezoids */
  double expect = 0.5 * (1 + 3) * 1 + 0.5 * (3 - 1) * 2 + 0.5 * (-1 + 0) * 0.5;
  ck_assert_double_eq_tol(densrt_spline_integral(s, c, 0.0, 3.5), expect, 1e-14);
  double w[4];
  densrt_spline_weights(s, 2.5, w);
  ck_assert(w[0] == 0.0);
  ck_assert_double_eq_tol(w[1], 0.25, 1e-15);
  ck_assert_double_eq_tol(w[2], 0.75, 1e-15);
  ck_assert(w[3] == 0.0);
  densrt_spline_free(s);
  free(c);
}
END_TEST

/* Composite 3-point Gauss-Legendre (exact for cubics) over [a, b] split at
** the knots inside it. */
static double gl_integral(const densrt_spline *s, const double *c, double a, double b)
{
  static const double node = 0.7745966692414833770358531, w0 = 8.0 / 9.0, w1 = 5.0 / 9.0;
  double cuts[64];
  size_t nc = 0;
  cuts[nc++] = a;
  for (size_t j = 0; j < s->K && nc < 63; j++)
    if (s->t[j] > a && s->t[j] < b)
      cuts[nc++] = s->t[j];
  cuts[nc++] = b;
  double sum = 0.0;
  for (size_t i = 0; i + 1 < nc; i++) {
    double mid = 0.5 * (cuts[i] + cuts[i + 1]), half = 0.5 * (cuts[i + 1] - cuts[i]);
    /* evaluate on the piece holding the sub-interval, not by locate at its end */
    double ua, xs[3] = { mid - half * node, mid, mid + half * node };
    size_t j = densrt_spline_locate(s, mid, &ua);
    double part = 0.0;
    for (int q = 0; q < 3; q++)
      part += (q == 1 ? w0 : w1) * densrt_spline_seg_eval(c, j, xs[q] - s->t[j]);
    sum += half * part;
  }
  return sum;
}

START_TEST(test_integral_vs_quadrature)
{
  rng_seed(5);
  FOR_EACH_SETUP(ki, si, unif)
  {
    size_t K = sizes[si];
    double *t = unif ? uniform_knots(K, -3.0, 0.5) : irregular_knots(K);
    double *y = random_values(K, 2.0);
    densrt_spline *s = make_spline(t, K, all_kinds[ki]);
    double *c = make_coefs(s, y);
    double range = t[K - 1] - t[0];
    double ends[][2] = { { t[0], t[K - 1] }, { t[0] - 0.3 * range, t[K - 1] + 0.2 * range },
                         { t[1] + 0.1 * (t[2] - t[1]), t[1] + 0.7 * (t[2] - t[1]) },
                         { rng_uniform(t[0], t[K - 1]), rng_uniform(t[0], t[K - 1]) },
                         { t[0] - 2.0 * range, t[0] - range } };
    for (size_t e = 0; e < sizeof ends / sizeof ends[0]; e++) {
      double a = ends[e][0], b = ends[e][1];
      double got = densrt_spline_integral(s, c, a, b);
      double ref = a <= b ? gl_integral(s, c, a, b) : -gl_integral(s, c, b, a);
      ck_assert_msg(fabs(got - ref) <= 1e-12 * fmax(1.0, fabs(ref)), "%s K=%zu [%g,%g]: %.17g vs %.17g",
                    densrt_spline_kind_name(all_kinds[ki]), K, a, b, got, ref);
      ck_assert(densrt_spline_integral(s, c, b, a) == -got);
    }
    ck_assert(densrt_spline_integral(s, c, t[1], t[1]) == 0.0);
    densrt_spline_free(s);
    free(t), free(y), free(c);
  }
}
END_TEST

START_TEST(test_slope_vs_finite_difference)
{
  rng_seed(6);
  FOR_EACH_SETUP(ki, si, unif)
  {
    size_t K = sizes[si];
    double *t = unif ? uniform_knots(K, 1.0, 0.8) : irregular_knots(K);
    double *y = random_values(K, 2.0);
    densrt_spline *s = make_spline(t, K, all_kinds[ki]);
    double *c = make_coefs(s, y);
    for (size_t j = 0; j + 1 < K; j++) {
      double h = t[j + 1] - t[j], step = 1e-6 * h;
      double x = t[j] + rng_uniform(0.1, 0.9) * h, slope;
      densrt_spline_eval(s, c, x, &slope);
      double fd = (densrt_spline_eval(s, c, x + step, NULL) - densrt_spline_eval(s, c, x - step, NULL))
                  / (2.0 * step);
      ck_assert_msg(fabs(slope - fd) <= 1e-7 * fmax(1.0, fabs(slope)) * (1.0 + 1.0 / h), "%s K=%zu seg %zu",
                    densrt_spline_kind_name(all_kinds[ki]), K, j);
    }
    densrt_spline_free(s);
    free(t), free(y), free(c);
  }
}
END_TEST

START_TEST(test_weights_and_adjoint_consistent)
{
  rng_seed(7);
  FOR_EACH_SETUP(ki, si, unif)
  {
    size_t K = sizes[si];
    double *t = unif ? uniform_knots(K, 0.0, 1.0) : irregular_knots(K);
    double *y = random_values(K, 2.0), *w = dalloc(K), *wa = dalloc(K), *ca = dalloc(4 * (K - 1));
    densrt_spline *s = make_spline(t, K, all_kinds[ki]);
    double *c = make_coefs(s, y);
    double range = t[K - 1] - t[0];
    for (int i = 0; i < 50; i++) {
      double x = rng_uniform(t[0] - 0.2 * range, t[K - 1] + 0.2 * range), u;
      size_t j = densrt_spline_locate(s, x, &u);
      densrt_spline_weights(s, x, w);
      memset(ca, 0, 4 * (K - 1) * sizeof *ca);
      ca[4 * j] = 1, ca[4 * j + 1] = u, ca[4 * j + 2] = u * u, ca[4 * j + 3] = u * u * u;
      for (size_t k = 0; k < K; k++)
        wa[k] = 1.0; /* adjoint must add, not overwrite */
      densrt_spline_coefs_adjoint(s, ca, wa);
      double dot = 0.0, mag = 0.0;
      for (size_t k = 0; k < K; k++) {
        ck_assert_double_eq_tol(wa[k] - 1.0, w[k], 1e-13 * (1.0 + fabs(w[k])));
        dot += w[k] * y[k];
        mag += fabs(w[k] * y[k]);
      }
      ck_assert_double_eq_tol(densrt_spline_eval(s, c, x, NULL), dot, 1e-13 * (1.0 + mag));
    }
    densrt_spline_free(s);
    free(t), free(y), free(w), free(wa), free(ca), free(c);
  }
}
END_TEST

/* {====== extreme inputs ======} */

START_TEST(test_large_values)
{
  rng_seed(8);
  for (int ki = 0; ki < 3; ki++) {
    size_t K = 25;
    double *t = irregular_knots(K), *y = dalloc(K), *yu = dalloc(K);
    for (size_t j = 0; j < K; j++) {
      yu[j] = (j % 2 ? 1.0 : -1.0) * rng_uniform(0.5, 1.0);
      y[j] = 700.0 * yu[j];
    }
    densrt_spline *s = make_spline(t, K, all_kinds[ki]);
    double *c = make_coefs(s, y), *cu = make_coefs(s, yu);
    for (size_t j = 0; j + 1 < K; j++)
      ck_assert(densrt_spline_eval(s, c, t[j], NULL) == y[j]);
    double range = t[K - 1] - t[0];
    for (int i = 0; i < 500; i++) {
      double x = rng_uniform(t[0] - 0.1 * range, t[K - 1] + 0.1 * range), slope, slu;
      double v = densrt_spline_eval(s, c, x, &slope), vu = densrt_spline_eval(s, cu, x, &slu);
      ck_assert(isfinite(v) && isfinite(slope));
      /* linearity: scaling the values scales the spline to rounding */
      ck_assert_double_eq_tol(v, 700.0 * vu, 1e-13 * 700.0 * fmax(1.0, fabs(vu)));
      ck_assert_double_eq_tol(slope, 700.0 * slu, 1e-13 * 700.0 * fmax(1.0, fabs(slu)));
    }
    densrt_spline_free(s);
    free(t), free(y), free(yu), free(c), free(cu);
  }
}
END_TEST

START_TEST(test_nearly_coincident_knots)
{
  rng_seed(9);
  double t[] = { 0.0, 0.1, 0.25, 0.4, 0.4 + 1e-9, 0.55, 0.7, 0.85, 1.0 };
  size_t K = sizeof t / sizeof t[0];
  for (int ki = 0; ki < 3; ki++) {
    double *y = random_values(K, 1.0), *ys = dalloc(K);
    for (size_t j = 0; j < K; j++)
      ys[j] = sin(3.0 * t[j]);
    densrt_spline *s = make_spline(t, K, all_kinds[ki]);
    for (size_t r = 0; r < 4 * (K - 1) * K; r++)
      ck_assert(isfinite(s->M[r]));
    double *c = make_coefs(s, y), *cs = make_coefs(s, ys);
    for (size_t j = 0; j + 1 < K; j++) {
      ck_assert(densrt_spline_eval(s, c, t[j], NULL) == y[j]);
      ck_assert(densrt_spline_eval(s, cs, t[j], NULL) == ys[j]);
    }
    /* the right end of every piece lands on the next value: its polynomial
    ** terms are large, so compare relative to their magnitude */
    for (size_t j = 0; j + 1 < K; j++) {
      double sc, v = seg_deriv(c, j, t[j + 1] - t[j], 0, &sc);
      ck_assert_double_eq_tol(v, y[j + 1], 1e-14 * sc + 1e-15);
      v = seg_deriv(cs, j, t[j + 1] - t[j], 0, &sc);
      ck_assert_double_eq_tol(v, ys[j + 1], 1e-14 * sc + 1e-15);
    }
    for (int i = 0; i <= 1000; i++) {
      double x = -0.5 + 2.0 * i / 1000.0, slope;
      double v = densrt_spline_eval(s, c, x, &slope);
      ck_assert(isfinite(v) && isfinite(slope));
      /* smooth data stays close to the function it samples */
      if (x >= 0.0 && x <= 1.0 && all_kinds[ki] != DENSRT_SPLINE_LINEAR)
        ck_assert_double_eq_tol(densrt_spline_eval(s, cs, x, NULL), sin(3.0 * x), 1e-2);
    }
    densrt_spline_free(s);
    free(y), free(ys), free(c), free(cs);
  }
}
END_TEST

START_TEST(test_points_on_knots)
{
  rng_seed(10);
  /* 0.1 spacing: t0 + j h and the O(1) guess disagree by rounding near knots */
  double *tu = uniform_knots(41, -2.0, 0.1), *ti = irregular_knots(41);
  double *ts[2] = { tu, ti };
  for (int k = 0; k < 2; k++)
    for (int ki = 0; ki < 3; ki++) {
      const double *t = ts[k];
      size_t K = 41;
      densrt_spline *s = make_spline(t, K, all_kinds[ki]);
      ck_assert(k == 0 ? s->h_inv_uniform > 0.0 : s->h_inv_uniform == 0.0);
      double *y = random_values(K, 3.0), *c = make_coefs(s, y);
      for (size_t j = 0; j < K; j++) {
        double u;
        size_t seg = densrt_spline_locate(s, t[j], &u);
        if (j + 1 < K) {
          ck_assert_uint_eq(seg, j);
          ck_assert(u == 0.0);
          ck_assert(densrt_spline_eval(s, c, t[j], NULL) == y[j]);
          /* just below a knot belongs to the previous segment */
          if (j > 0)
            ck_assert_uint_eq(densrt_spline_locate(s, nextafter(t[j], -INFINITY), NULL), j - 1);
        } else {
          ck_assert_uint_eq(seg, K - 2);
          ck_assert(u == t[K - 1] - t[K - 2]);
        }
      }
      densrt_spline_free(s);
      free(y), free(c);
    }
  free(tu), free(ti);
}
END_TEST

START_TEST(test_far_extrapolation)
{
  rng_seed(12);
  FOR_EACH_SETUP(ki, si, unif)
  {
    size_t K = sizes[si];
    double *t = unif ? uniform_knots(K, -1.0, 0.3) : irregular_knots(K);
    double *y = random_values(K, 2.0), *yp = dalloc(K);
    for (size_t j = 0; j < K; j++)
      yp[j] = cubic_poly(t[j], NULL);
    densrt_spline *s = make_spline(t, K, all_kinds[ki]);
    double *c = make_coefs(s, y), *cp = make_coefs(s, yp);
    double range = t[K - 1] - t[0];
    double xs[2] = { t[0] - 1e3 * range, t[K - 1] + 1e3 * range };
    size_t segs[2] = { 0, K - 2 };
    for (int e = 0; e < 2; e++) {
      double u, slope, sc;
      ck_assert_uint_eq(densrt_spline_locate(s, xs[e], &u), segs[e]);
      ck_assert(u == xs[e] - t[segs[e]]);
      /* end polynomial summed term by term, independent of the Horner form */
      double direct = seg_deriv(c, segs[e], u, 0, &sc);
      double v = densrt_spline_eval(s, c, xs[e], &slope);
      ck_assert_double_eq_tol(v, direct, 1e-14 * sc);
      double dslope = seg_deriv(c, segs[e], u, 1, &sc);
      ck_assert_double_eq_tol(slope, dslope, 1e-14 * sc);
      /* a reproduced cubic keeps its own values out there */
      if (all_kinds[ki] == DENSRT_SPLINE_NOT_A_KNOT) {
        double x = xs[e], ref = cubic_poly(x, NULL);
        ck_assert_double_eq_tol(densrt_spline_eval(s, cp, x, NULL), ref, 1e-10 * (1.0 + fabs(x * x * x)));
      }
    }
    densrt_spline_free(s);
    free(t), free(y), free(yp), free(c), free(cp);
  }
}
END_TEST

static size_t brute_locate(const double *t, size_t K, double x)
{
  size_t j = 0;
  while (j + 2 < K && x >= t[j + 1])
    j++;
  return j;
}

START_TEST(test_locate_uniform_vs_irregular)
{
  rng_seed(13);
  const double spacings[] = { 0.1, 1.0 / 3.0, 7.3, 1e-3 };
  const double starts[] = { -2.0, 0.3, 1000.0, -1e-2 };
  const size_t Ks[] = { 2, 4, 37, 1000 };
  for (int v = 0; v < 4; v++) {
    size_t K = Ks[v];
    double *t = uniform_knots(K, starts[v], spacings[v]);
    densrt_spline *s = make_spline(t, K, DENSRT_SPLINE_LINEAR);
    ck_assert_msg(s->h_inv_uniform > 0.0, "K=%zu h=%g not detected uniform", K, spacings[v]);
    densrt_spline slow = *s;
    slow.h_inv_uniform = 0.0; /* same knots through the binary search */
    double range = t[K - 1] - t[0];
    for (int i = 0; i < 20000; i++) {
      double x;
      int pick = i % 4;
      if (pick == 0)
        x = rng_uniform(t[0] - 0.1 * range, t[K - 1] + 0.1 * range);
      else {
        size_t j = (size_t)rng_uniform(0.0, (double)K);
        j = j < K ? j : K - 1;
        x = pick == 1 ? t[j] : nextafter(t[j], pick == 2 ? INFINITY : -INFINITY);
      }
      double u1, u2;
      size_t j1 = densrt_spline_locate(s, x, &u1), j2 = densrt_spline_locate(&slow, x, &u2);
      ck_assert_uint_eq(j1, j2);
      ck_assert_uint_eq(j1, brute_locate(t, K, x));
      ck_assert(u1 == u2);
    }
    densrt_spline_free(s);
    free(t);
  }
  /* irregular knots never take the O(1) path */
  double *ti = irregular_knots(30);
  densrt_spline *si = make_spline(ti, 30, DENSRT_SPLINE_NATURAL);
  ck_assert(si->h_inv_uniform == 0.0);
  for (int i = 0; i < 5000; i++) {
    double x = rng_uniform(ti[0] - 1.0, ti[29] + 1.0);
    ck_assert_uint_eq(densrt_spline_locate(si, x, NULL), brute_locate(ti, 30, x));
  }
  densrt_spline_free(si);
  free(ti);
}
END_TEST

START_TEST(test_large_K)
{
  rng_seed(14);
  size_t K = 2000;
  double *t = irregular_knots(K), *y = random_values(K, 1.0);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  densrt_spline *s = make_spline(t, K, DENSRT_SPLINE_NOT_A_KNOT);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double secs = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
  printf("not-a-knot alloc with K=%zu: %.3f s\n", K, secs);
  fflush(stdout);
  double *c = make_coefs(s, y);
  for (size_t j = 0; j + 1 < K; j += 97) {
    double sc, v = seg_deriv(c, j, t[j + 1] - t[j], 0, &sc);
    ck_assert_double_eq_tol(v, y[j + 1], 1e-13 * sc);
  }
  ck_assert_double_eq_tol(c[3], c[7], 1e-12 * (fabs(c[3]) + fabs(c[7])));
  densrt_spline_free(s);
  free(t), free(y), free(c);
}
END_TEST

/* {====== validation ======} */

static void expect_error(const double *t, size_t K, densrt_spline_kind kind, int status, const char *msg)
{
  densrt_spline *s = (densrt_spline *)&s; /* must be reset to NULL */
  int st = densrt_spline_alloc(t, K, kind, &s);
  ck_assert_int_eq(st, status);
  ck_assert_ptr_null(s);
  ck_assert_str_eq(densrt_error_message(), msg);
}

START_TEST(test_validation_messages)
{
  double ok[] = { 0, 1, 2, 3, 4 };
  expect_error(ok, 3, DENSRT_SPLINE_NOT_A_KNOT, DENSRT_EINVAL,
               "a not-a-knot cubic spline needs at least 4 knots, got 3");
  expect_error(ok, 2, DENSRT_SPLINE_NATURAL, DENSRT_EINVAL, "a natural cubic spline needs at least 3 knots, got 2");
  expect_error(ok, 1, DENSRT_SPLINE_LINEAR, DENSRT_EINVAL, "a linear spline needs at least 2 knots, got 1");
  expect_error(ok, 0, DENSRT_SPLINE_LINEAR, DENSRT_EINVAL, "a linear spline needs at least 2 knots, got 0");
  expect_error(ok, 5, (densrt_spline_kind)7, DENSRT_EINVAL, "unknown spline kind 7");

  double nan_knot[] = { 0, 1, NAN, 3 }, inf_knot[] = { -INFINITY, 1, 2, 3 };
  expect_error(nan_knot, 4, DENSRT_SPLINE_NOT_A_KNOT, DENSRT_ENONFINITE, "knot 3 is not finite");
  expect_error(inf_knot, 4, DENSRT_SPLINE_LINEAR, DENSRT_ENONFINITE, "knot 1 is not finite");

  double tie[] = { 0, 1, 1.5, 1.5, 2 }, down[] = { 1, 0.5, 2 }, close[] = { 0, 0.1, 0.1 + 1e-18, 0.30000000000000004 };
  expect_error(tie, 5, DENSRT_SPLINE_NOT_A_KNOT, DENSRT_EINVAL,
               "knots must be strictly increasing: knot 4 (1.5) <= knot 3 (1.5)");
  expect_error(down, 3, DENSRT_SPLINE_NATURAL, DENSRT_EINVAL,
               "knots must be strictly increasing: knot 2 (0.5) <= knot 1 (1)");
  /* 0.1 + 1e-18 rounds to 0.1 (half an ulp of 0.1 is 6.9e-18) */
  expect_error(close, 4, DENSRT_SPLINE_LINEAR, DENSRT_EINVAL,
               "knots must be strictly increasing: knot 3 (0.1) <= knot 2 (0.1)");
  double sub[] = { 0, 0.30000000000000004, 0.3 };
  expect_error(sub, 3, DENSRT_SPLINE_LINEAR, DENSRT_EINVAL,
               "knots must be strictly increasing: knot 3 (0.3) <= knot 2 (0.30000000000000004)");
  double huge[] = { -1e308, 1e308 };
  expect_error(huge, 2, DENSRT_SPLINE_LINEAR, DENSRT_EINVAL,
               "knot spacing between knot 1 and knot 2 is not finite");
  expect_error(NULL, 4, DENSRT_SPLINE_LINEAR, DENSRT_EINVAL, "densrt_spline_alloc: knots is NULL");
  ck_assert_int_eq(densrt_spline_alloc(ok, 4, DENSRT_SPLINE_LINEAR, NULL), DENSRT_EINVAL);

  /* the minimum sizes are accepted */
  densrt_spline *s = NULL;
  ck_assert_int_eq(densrt_spline_alloc(ok, 4, DENSRT_SPLINE_NOT_A_KNOT, &s), DENSRT_OK);
  densrt_spline_free(s);
  ck_assert_int_eq(densrt_spline_alloc(ok, 3, DENSRT_SPLINE_NATURAL, &s), DENSRT_OK);
  densrt_spline_free(s);
  ck_assert_int_eq(densrt_spline_alloc(ok, 2, DENSRT_SPLINE_LINEAR, &s), DENSRT_OK);
  densrt_spline_free(s);
  densrt_spline_free(NULL);
}
END_TEST

START_TEST(test_kind_names)
{
  ck_assert_str_eq(densrt_spline_kind_name(DENSRT_SPLINE_NOT_A_KNOT), "not_a_knot");
  ck_assert_str_eq(densrt_spline_kind_name(DENSRT_SPLINE_NATURAL), "natural");
  ck_assert_str_eq(densrt_spline_kind_name(DENSRT_SPLINE_LINEAR), "linear");
  ck_assert_str_eq(densrt_spline_kind_name((densrt_spline_kind)9), "unknown");
}
END_TEST

static Suite *spline_suite(void)
{
  Suite *s = suite_create("spline");
  TCase *ref = tcase_create("reference");
  tcase_set_timeout(ref, 60);
  shared_add_test(ref, test_reference_cases, CASES_PATH);
  tcase_add_test(ref, test_natural_vs_moments);
  suite_add_tcase(s, ref);

  TCase *prop = tcase_create("properties");
  tcase_add_test(prop, test_reproduces_knot_values);
  tcase_add_test(prop, test_continuity);
  tcase_add_test(prop, test_end_conditions);
  tcase_add_test(prop, test_polynomial_reproduction);
  tcase_add_test(prop, test_linear_kind);
  tcase_add_test(prop, test_integral_vs_quadrature);
  tcase_add_test(prop, test_slope_vs_finite_difference);
  tcase_add_test(prop, test_weights_and_adjoint_consistent);
  suite_add_tcase(s, prop);

  TCase *ext = tcase_create("extreme");
  tcase_set_timeout(ext, 60);
  tcase_add_test(ext, test_large_values);
  tcase_add_test(ext, test_nearly_coincident_knots);
  tcase_add_test(ext, test_points_on_knots);
  tcase_add_test(ext, test_far_extrapolation);
  tcase_add_test(ext, test_locate_uniform_vs_irregular);
  tcase_add_test(ext, test_large_K);
  suite_add_tcase(s, ext);

  TCase *val = tcase_create("validation");
  tcase_add_test(val, test_validation_messages);
  tcase_add_test(val, test_kind_names);
  suite_add_tcase(s, val);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(spline_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
