/*
** spline.c — interpolating splines precomputed as a matrix from knot values
** to per-segment power-basis coefficients.
**
** Cubic kinds are built from the knot slopes s_j: on segment j with
** h = t_{j+1} - t_j and divided difference m = (y_{j+1} - y_j)/h,
**   c0 = y_j, c1 = s_j, c2 = (3m - 2 s_j - s_{j+1})/h, c3 = (s_j + s_{j+1} - 2m)/h^2,
** which makes s and s' continuous.  The slopes solve a tridiagonal system:
** interior rows make s'' continuous, the two end rows carry the boundary
** condition.  For not-a-knot the end row is the jump condition on s''' at
** t_1 combined with the s'' row at t_1 (eliminating s_2), which keeps the
** system tridiagonal but not diagonally dominant, so it is factored once by
** Gaussian elimination with partial pivoting and then solved for every unit
** vector of values: O(K) per column, O(K^2) for all of M.
*/
#include "spline.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/*
** The slopes s_j solve a tridiagonal system A s = b; the matrix depends only on
** the knots, so its elimination (Gaussian, partial pivoting, as LAPACK's gtsv
** does it) is recorded once and replayed on every right-hand side.  Replaying
** the same operations in the same order makes the coefficients identical to
** scipy's CubicSpline, which solves the same system with gtsv.
*/
typedef struct {
  size_t n;
  double *dl, *d, *du;      /* after elimination: second superdiagonal (swapped rows), diagonal, superdiagonal */
  double *fact;             /* elimination multipliers */
  unsigned char *swapped;   /* rows i and i+1 exchanged at step i */
} tridiag;

static void tridiag_factor(tridiag *f)
{
  size_t n = f->n;
  for (size_t i = 0; i + 1 < n; i++) {
    if (fabs(f->d[i]) >= fabs(f->dl[i])) {
      f->swapped[i] = 0;
      f->fact[i] = f->dl[i] / f->d[i];
      f->d[i + 1] = f->d[i + 1] - f->fact[i] * f->du[i];
      f->dl[i] = 0.0;
    } else {
      double fct = f->d[i] / f->dl[i], temp = f->d[i + 1];
      f->swapped[i] = 1;
      f->fact[i] = fct;
      f->d[i] = f->dl[i];
      f->d[i + 1] = f->du[i] - fct * temp;
      if (i + 2 < n) {
        f->dl[i] = f->du[i + 1];
        f->du[i + 1] = -fct * f->dl[i];
      }
      f->du[i] = temp;
    }
  }
}

/* Solves A x = b in place with the recorded elimination. */
static void tridiag_solve(const tridiag *f, double *b)
{
  size_t n = f->n;
  for (size_t i = 0; i + 1 < n; i++) {
    if (!f->swapped[i]) {
      b[i + 1] = b[i + 1] - f->fact[i] * b[i];
    } else {
      double temp = b[i];
      b[i] = b[i + 1];
      b[i + 1] = temp - f->fact[i] * b[i + 1];
    }
  }
  b[n - 1] = b[n - 1] / f->d[n - 1];
  b[n - 2] = (b[n - 2] - f->du[n - 2] * b[n - 1]) / f->d[n - 2];
  for (size_t k = n - 2; k-- > 0;)
    b[k] = (b[k] - f->du[k] * b[k + 1] - f->dl[k] * b[k + 2]) / f->d[k];
}

/* The elimination of a cubic kind, kept with the spline for densrt_spline_coefs. */
typedef struct cubic_solver {
  tridiag f;
  double *h;        /* knot spacings */
  double *work;     /* n: slopes; n-1: divided differences */
} cubic_solver;

static void format_double(char *buf, size_t size, double x)
{
  for (int prec = 6; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, x);
    if (strtod(buf, NULL) == x)
      return;
  }
}


const char *densrt_spline_kind_name(densrt_spline_kind k)
{
  switch (k) {
  case DENSRT_SPLINE_NOT_A_KNOT: return "not_a_knot";
  case DENSRT_SPLINE_NATURAL: return "natural";
  case DENSRT_SPLINE_LINEAR: return "linear";
  }
  return "unknown";
}

/* 1/h when every knot lies within 1e-12 (relative to the knots' scale) of
** the grid t_0 + j h; locate corrects any residual off-by-one. */
static double uniform_inverse_spacing(const double *t, size_t K)
{
  double h = (t[K - 1] - t[0]) / (double)(K - 1);
  double scale = fmax(h, fmax(fabs(t[0]), fabs(t[K - 1])));
  for (size_t j = 1; j + 1 < K; j++)
    if (fabs(t[j] - (t[0] + (double)j * h)) > 1e-12 * scale)
      return 0.0;
  return 1.0 / h;
}

/* Coefficients of every segment from the values, as scipy computes them. */
static void cubic_coefs(const densrt_spline *s, const cubic_solver *cs, const double *y, double *coef,
                        double *scratch)
{
  size_t n = s->K, nseg = n - 1;
  const double *h = cs->h, *t = s->t;
  double *sl = scratch, *m = scratch + n;
  for (size_t j = 0; j < nseg; j++)
    m[j] = (y[j + 1] - y[j]) / h[j];
  if (s->kind == DENSRT_SPLINE_LINEAR) {
    for (size_t j = 0; j < nseg; j++) {
      coef[4 * j] = y[j];
      coef[4 * j + 1] = m[j];
      coef[4 * j + 2] = coef[4 * j + 3] = 0.0;
    }
    return;
  }
  for (size_t i = 1; i + 1 < n; i++)
    sl[i] = 3 * (h[i] * m[i - 1] + h[i - 1] * m[i]);
  if (s->kind == DENSRT_SPLINE_NATURAL) {
    sl[0] = 3 * (y[1] - y[0]);
    sl[n - 1] = 3 * (y[n - 1] - y[n - 2]);
  } else {
    double d = t[2] - t[0];
    sl[0] = ((h[0] + 2 * d) * h[1] * m[0] + h[0] * h[0] * m[1]) / d;
    d = t[n - 1] - t[n - 3];
    sl[n - 1] = (h[n - 2] * h[n - 2] * m[n - 3] + (2 * d + h[n - 2]) * h[n - 3] * m[n - 2]) / d;
  }
  tridiag_solve(&cs->f, sl);
  for (size_t j = 0; j < nseg; j++) {
    double tt = (sl[j] + sl[j + 1] - 2 * m[j]) / h[j];
    coef[4 * j] = y[j];
    coef[4 * j + 1] = sl[j];
    coef[4 * j + 2] = (m[j] - sl[j]) / h[j] - tt;
    coef[4 * j + 3] = tt / h[j];
  }
}

/* Builds the elimination for the kind's slope system (none for linear). */
static int solver_alloc(const densrt_spline *s, cubic_solver **out)
{
  size_t n = s->K;
  cubic_solver *cs = calloc(1, sizeof *cs);
  double *store = malloc(6 * n * sizeof *store);
  unsigned char *swapped = calloc(n, 1);
  if (!cs || !store || !swapped) {
    free(cs), free(store), free(swapped);
    return DENSRT_ENOMEM;
  }
  cs->h = store;
  cs->work = store + n;   /* 2n */
  cs->f = (tridiag){n, store + 3 * n, store + 4 * n, store + 5 * n, NULL, swapped};
  cs->f.fact = malloc(n * sizeof *cs->f.fact);
  if (!cs->f.fact) {
    free(cs), free(store), free(swapped);
    return DENSRT_ENOMEM;
  }
  const double *t = s->t;
  double *h = cs->h;
  for (size_t j = 0; j + 1 < n; j++)
    h[j] = t[j + 1] - t[j];
  tridiag *f = &cs->f;
  if (s->kind != DENSRT_SPLINE_LINEAR) {
    /* interior rows: h_i s_{i-1} + 2 (h_{i-1} + h_i) s_i + h_{i-1} s_{i+1} */
    for (size_t i = 1; i + 1 < n; i++) {
      f->dl[i - 1] = h[i];
      f->d[i] = 2 * (h[i - 1] + h[i]);
      f->du[i] = h[i - 1];
    }
    if (s->kind == DENSRT_SPLINE_NATURAL) {
      f->d[0] = 2 * h[0];
      f->du[0] = h[0];
      f->d[n - 1] = 2 * h[n - 2];
      f->dl[n - 2] = h[n - 2];
    } else {
      /* not-a-knot: third derivative continuous at t_1 and t_{K-2} */
      f->d[0] = h[1];
      f->du[0] = t[2] - t[0];
      f->d[n - 1] = h[n - 3];
      f->dl[n - 2] = t[n - 1] - t[n - 3];
    }
    tridiag_factor(f);
  }
  *out = cs;
  return DENSRT_OK;
}

static void solver_free(cubic_solver *cs)
{
  if (!cs)
    return;
  free(cs->h);
  free(cs->f.fact);
  free(cs->f.swapped);
  free(cs);
}

/* M column by column: the coefficients of the spline through each unit vector. */
static void build_matrix(densrt_spline *s, const cubic_solver *cs)
{
  size_t K = s->K, rows = 4 * (K - 1);
  double *e = calloc(K, sizeof *e), *c = malloc(rows * sizeof *c);
  if (!e || !c) {
    free(e), free(c);
    return;
  }
  for (size_t k = 0; k < K; k++) {
    e[k] = 1.0;
    cubic_coefs(s, cs, e, c, cs->work);
    e[k] = 0.0;
    for (size_t r = 0; r < rows; r++)
      s->M[r * K + k] = c[r];
  }
  free(e), free(c);
}

int densrt_spline_alloc(const double *knots, size_t K, densrt_spline_kind kind, densrt_spline **out)
{
  if (!out)
    DENSRT_ERROR(DENSRT_EINVAL, "densrt_spline_alloc: out is NULL");
  *out = NULL;
  size_t need = densrt_spline_min_knots(kind);
  if (need == 0)
    DENSRT_ERROR(DENSRT_EINVAL, "unknown spline kind %d", (int)kind);
  if (K < need)
    DENSRT_ERROR(DENSRT_EINVAL, "%s needs at least %zu knots, got %zu", densrt_spline_kind_phrase(kind), need, K);
  if (!knots)
    DENSRT_ERROR(DENSRT_EINVAL, "densrt_spline_alloc: knots is NULL");
  for (size_t j = 0; j < K; j++)
    if (!isfinite(knots[j]))
      DENSRT_ERROR(DENSRT_ENONFINITE, "knot %zu is not finite", j + 1);
  for (size_t j = 1; j < K; j++)
    if (!(knots[j] > knots[j - 1])) {
      char a[32], b[32];
      format_double(a, sizeof a, knots[j]);
      format_double(b, sizeof b, knots[j - 1]);
      DENSRT_ERROR(DENSRT_EINVAL, "knots must be strictly increasing: knot %zu (%s) <= knot %zu (%s)",
                   j + 1, a, j, b);
    }
  /* h_j can overflow for finite knots of opposite sign near DBL_MAX */
  for (size_t j = 1; j < K; j++)
    if (!isfinite(knots[j] - knots[j - 1]))
      DENSRT_ERROR(DENSRT_EINVAL, "knot spacing between knot %zu and knot %zu is not finite", j, j + 1);

  size_t rows = 4 * (K - 1);
  if (K > SIZE_MAX / 4 / sizeof(double) || rows > SIZE_MAX / sizeof(double) / K)
    DENSRT_ERROR(DENSRT_ENOMEM, "a spline with %zu knots is too large", K);

  densrt_spline *s = calloc(1, sizeof *s);
  if (!s)
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory allocating a spline with %zu knots", K);
  s->kind = kind;
  s->K = K;
  s->t = malloc(K * sizeof *s->t);
  s->M = calloc(rows * K + 8, sizeof *s->M);   /* 8 zeros after: the adjoint's last block reads them */
  if (!s->t || !s->M) {
    densrt_spline_free(s);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory allocating a spline with %zu knots", K);
  }
  memcpy(s->t, knots, K * sizeof *s->t);
  s->h_inv_uniform = uniform_inverse_spacing(s->t, K);

  if (solver_alloc(s, &s->solver) != DENSRT_OK) {
    densrt_spline_free(s);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory allocating a spline with %zu knots", K);
  }
  build_matrix(s, s->solver);
  *out = s;
  return DENSRT_OK;
}

void densrt_spline_free(densrt_spline *s)
{
  if (!s)
    return;
  free(s->t);
  free(s->M);
  solver_free(s->solver);
  free(s);
}

size_t densrt_spline_locate(const densrt_spline *s, double x, double *u)
{
  const double *t = s->t;
  size_t last = s->K - 2, j;
  if (!(x >= t[0])) { /* also NaN: segment 0, u stays NaN */
    j = 0;
  } else if (x >= t[last + 1]) {
    j = last;
  } else if (s->h_inv_uniform > 0.0) {
    double q = (x - t[0]) * s->h_inv_uniform;
    j = q < (double)last ? (size_t)q : last;
    /* the guess can be one off where rounding straddles a knot */
    while (j > 0 && x < t[j])
      j--;
    while (j < last && x >= t[j + 1])
      j++;
  } else {
    size_t lo = 0, hi = last + 1; /* t[lo] <= x < t[hi] */
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      if (x >= t[mid])
        lo = mid;
      else
        hi = mid;
    }
    j = lo;
  }
  if (u)
    *u = x - t[j];
  return j;
}

void densrt_spline_coefs(const densrt_spline *s, const double *values, double *coef, double *scratch)
{
  /* O(K) through the slope system rather than the O(K^2) product with M */
  cubic_coefs(s, s->solver, values, coef, scratch ? scratch : s->solver->work);
}

void densrt_spline_coefs_adjoint(const densrt_spline *s, const double *coef_adj, double *values_adj)
{
  densrt_spline_coefs_adjoint_inline(s, coef_adj, values_adj);
}

double densrt_spline_eval(const densrt_spline *s, const double *coef, double x, double *slope)
{
  double u;
  size_t j = densrt_spline_locate(s, x, &u);
  const double *c = coef + 4 * j;
  if (slope) /* ascending powers, as scipy's PPoly evaluates derivatives */
    *slope = c[1] + c[2] * u * 2 + c[3] * (u * u) * 3;
  return densrt_spline_seg_eval(coef, j, u);
}

void densrt_spline_weights(const densrt_spline *s, double x, double *w)
{
  double u;
  size_t K = s->K, j = densrt_spline_locate(s, x, &u);
  const double *r0 = s->M + 4 * j * K, *r1 = r0 + K, *r2 = r1 + K, *r3 = r2 + K;
  double u2 = u * u, u3 = u2 * u;
  for (size_t k = 0; k < K; k++)
    w[k] = r0[k] + r1[k] * u + r2[k] * u2 + r3[k] * u3;
}

/* Antiderivative of segment j's cubic, zero at u = 0. */
static double seg_antideriv(const double *coef, size_t j, double u)
{
  const double *c = coef + 4 * j;
  return u * (c[0] + u * (c[1] / 2.0 + u * (c[2] / 3.0 + u * (c[3] / 4.0))));
}

double densrt_spline_integral(const densrt_spline *s, const double *coef, double a, double b)
{
  if (b < a)
    return -densrt_spline_integral(s, coef, b, a);
  double ua, ub;
  size_t ja = densrt_spline_locate(s, a, &ua);
  size_t jb = densrt_spline_locate(s, b, &ub);
  if (ja == jb)
    return seg_antideriv(coef, jb, ub) - seg_antideriv(coef, ja, ua);
  double sum = seg_antideriv(coef, ja, s->t[ja + 1] - s->t[ja]) - seg_antideriv(coef, ja, ua);
  for (size_t j = ja + 1; j < jb; j++)
    sum += seg_antideriv(coef, j, s->t[j + 1] - s->t[j]);
  return sum + seg_antideriv(coef, jb, ub);
}
