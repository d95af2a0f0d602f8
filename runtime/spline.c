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

/* Columns of M solved together, so M's rows are written in short runs. */
enum { BLOCK = 16 };

/* Tridiagonal LU with partial pivoting: row swaps add a second superdiagonal. */
typedef struct {
  size_t n;
  double *dl, *d, *du, *du2; /* multipliers, U diagonal, U superdiagonals */
  unsigned char *swapped;    /* row i swapped with row i+1 at step i */
} tridiag;

static void tridiag_factor(tridiag *f)
{
  size_t n = f->n;
  for (size_t i = 0; i + 1 < n; i++) {
    if (i + 2 < n)
      f->du2[i] = 0.0;
    if (fabs(f->d[i]) >= fabs(f->dl[i])) {
      double l = f->dl[i] / f->d[i];
      f->swapped[i] = 0;
      f->dl[i] = l;
      f->d[i + 1] -= l * f->du[i];
    } else {
      /* row i+1 becomes the pivot row; the old row i is eliminated below it */
      double l = f->d[i] / f->dl[i];
      double old_du = f->du[i];
      f->swapped[i] = 1;
      f->d[i] = f->dl[i];
      f->dl[i] = l;
      f->du[i] = f->d[i + 1];
      f->d[i + 1] = old_du - l * f->d[i + 1];
      if (i + 2 < n) {
        f->du2[i] = f->du[i + 1];
        f->du[i + 1] = -l * f->du[i + 1];
      }
    }
  }
}

/* Solves in place for BLOCK right-hand sides stored as b[i*BLOCK + c]. */
static void tridiag_solve(const tridiag *f, double *b, size_t nrhs)
{
  size_t n = f->n;
  for (size_t i = 0; i + 1 < n; i++) {
    double *bi = b + i * BLOCK, *bn = bi + BLOCK;
    if (f->swapped[i])
      for (size_t c = 0; c < nrhs; c++) {
        double tmp = bi[c];
        bi[c] = bn[c];
        bn[c] = tmp;
      }
    for (size_t c = 0; c < nrhs; c++)
      bn[c] -= f->dl[i] * bi[c];
  }
  for (size_t k = n; k-- > 0;) {
    double *bi = b + k * BLOCK;
    for (size_t c = 0; c < nrhs; c++) {
      double v = bi[c];
      if (k + 1 < n)
        v -= f->du[k] * bi[BLOCK + c];
      if (k + 2 < n)
        v -= f->du2[k] * bi[2 * BLOCK + c];
      bi[c] = v / f->d[k];
    }
  }
}

/* Shortest %g form that reads back as x, so close knots print distinctly. */
static void format_double(char *buf, size_t size, double x)
{
  for (int prec = 6; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, x);
    if (strtod(buf, NULL) == x)
      return;
  }
}

static size_t min_knots(densrt_spline_kind kind)
{
  switch (kind) {
  case DENSRT_SPLINE_NOT_A_KNOT: return 4;
  case DENSRT_SPLINE_NATURAL: return 3;
  case DENSRT_SPLINE_LINEAR: return 2;
  }
  return 0;
}

static const char *kind_phrase(densrt_spline_kind kind)
{
  switch (kind) {
  case DENSRT_SPLINE_NOT_A_KNOT: return "a not-a-knot cubic spline";
  case DENSRT_SPLINE_NATURAL: return "a natural cubic spline";
  case DENSRT_SPLINE_LINEAR: return "a linear spline";
  }
  return "a spline";
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

static void build_linear(densrt_spline *s)
{
  size_t K = s->K;
  for (size_t j = 0; j + 1 < K; j++) {
    double hinv = 1.0 / (s->t[j + 1] - s->t[j]);
    double *row = s->M + 4 * j * K;
    row[j] = 1.0;
    row[K + j] = -hinv;
    row[K + j + 1] = hinv;
  }
}

/* Rewrites c2, c3 of segment `to` (all columns) as the Taylor shift of
** segment `from`'s cubic to t[to]; c0 and c1 (value, solved slope) stay. */
static void shift_segment(densrt_spline *s, size_t from, size_t to)
{
  size_t K = s->K;
  double delta = s->t[to] - s->t[from];
  const double *f2 = s->M + (4 * from + 2) * K, *f3 = f2 + K;
  double *t2 = s->M + (4 * to + 2) * K, *t3 = t2 + K;
  for (size_t k = 0; k < K; k++) {
    t2[k] = f2[k] + 3.0 * f3[k] * delta;
    t3[k] = f3[k];
  }
}

/* Not-a-knot makes segments 0,1 (and K-3,K-2) one cubic.  Its c2, c3 come
** from two slopes a step h apart, with error ~ eps*|slope|/h^2, which the
** extrapolated end pieces amplify by u^3; so take them from the longer
** segment of each pair and shift them to the shorter one. */
static void share_end_cubics(densrt_spline *s, const double *h)
{
  size_t nseg = s->K - 1;
  if (nseg == 3) { /* a single cubic: the longest segment defines it */
    size_t src = h[1] > h[0] ? 1 : 0;
    src = h[2] > h[src] ? 2 : src;
    for (size_t j = 0; j < 3; j++)
      if (j != src)
        shift_segment(s, src, j);
    return;
  }
  if (h[0] < h[1])
    shift_segment(s, 1, 0);
  else if (h[1] < h[0])
    shift_segment(s, 0, 1);
  if (h[nseg - 1] < h[nseg - 2])
    shift_segment(s, nseg - 2, nseg - 1);
  else if (h[nseg - 2] < h[nseg - 1])
    shift_segment(s, nseg - 1, nseg - 2);
}

/* Fills M for the cubic kinds; returns DENSRT_OK or DENSRT_ENOMEM. */
static int build_cubic(densrt_spline *s)
{
  size_t K = s->K, n = K, nseg = K - 1;
  const double *t = s->t;
  int natural = s->kind == DENSRT_SPLINE_NATURAL;
  double *h = malloc(nseg * sizeof *h);
  double *m = malloc(nseg * BLOCK * sizeof *m);
  double *b = malloc(n * BLOCK * sizeof *b);
  double *store = malloc((4 * n) * sizeof *store);
  unsigned char *swapped = malloc(n);
  if (!h || !m || !b || !store || !swapped) {
    free(h), free(m), free(b), free(store), free(swapped);
    return DENSRT_ENOMEM;
  }
  tridiag f = { n, store, store + n, store + 2 * n, store + 3 * n, swapped };

  for (size_t j = 0; j < nseg; j++)
    h[j] = t[j + 1] - t[j];

  /* Row 0 and row n-1 carry the end conditions, scaled like the interior rows. */
  if (natural) {
    f.d[0] = 2.0 * h[0];
    f.du[0] = h[0];
    f.dl[n - 2] = h[n - 2];
    f.d[n - 1] = 2.0 * h[n - 2];
  } else {
    f.d[0] = h[1];
    f.du[0] = h[0] + h[1];
    f.dl[n - 2] = h[n - 3] + h[n - 2];
    f.d[n - 1] = h[n - 3];
  }
  for (size_t i = 1; i + 1 < n; i++) {
    f.dl[i - 1] = h[i];
    f.d[i] = 2.0 * (h[i - 1] + h[i]);
    f.du[i] = h[i - 1];
  }
  tridiag_factor(&f);

  for (size_t k0 = 0; k0 < K; k0 += BLOCK) {
    size_t nc = K - k0 < BLOCK ? K - k0 : BLOCK;

    /* divided differences of the unit vectors e_{k0..k0+nc-1} */
    memset(m, 0, nseg * BLOCK * sizeof *m);
    for (size_t c = 0; c < nc; c++) {
      size_t k = k0 + c;
      if (k >= 1)
        m[(k - 1) * BLOCK + c] = 1.0 / h[k - 1];
      if (k + 1 < K)
        m[k * BLOCK + c] = -1.0 / h[k];
    }

    for (size_t c = 0; c < nc; c++) {
      const double *mc = m + c;
      if (natural) {
        b[c] = 3.0 * h[0] * mc[0];
        b[(n - 1) * BLOCK + c] = 3.0 * h[n - 2] * mc[(n - 2) * BLOCK];
      } else {
        double d0 = h[0] + h[1], d1 = h[n - 3] + h[n - 2];
        b[c] = (mc[0] * h[1] * (3.0 * h[0] + 2.0 * h[1]) + h[0] * h[0] * mc[BLOCK]) / d0;
        b[(n - 1) * BLOCK + c] = (mc[(n - 2) * BLOCK] * h[n - 3] * (3.0 * h[n - 2] + 2.0 * h[n - 3])
                                  + h[n - 2] * h[n - 2] * mc[(n - 3) * BLOCK]) / d1;
      }
      for (size_t i = 1; i + 1 < n; i++)
        b[i * BLOCK + c] = 3.0 * (h[i] * mc[(i - 1) * BLOCK] + h[i - 1] * mc[i * BLOCK]);
    }
    tridiag_solve(&f, b, nc);

    /* b now holds the slopes; turn them into the four coefficients per segment */
    for (size_t j = 0; j < nseg; j++) {
      double *r0 = s->M + 4 * j * K + k0;
      double *r1 = r0 + K, *r2 = r1 + K, *r3 = r2 + K;
      double hinv = 1.0 / h[j];
      for (size_t c = 0; c < nc; c++) {
        double sl = b[j * BLOCK + c], sr = b[(j + 1) * BLOCK + c];
        double mj = m[j * BLOCK + c];
        r0[c] = (k0 + c == j) ? 1.0 : 0.0;
        r1[c] = sl;
        r2[c] = (3.0 * mj - 2.0 * sl - sr) * hinv;
        r3[c] = (sl + sr - 2.0 * mj) * hinv * hinv;
      }
    }
  }
  if (!natural)
    share_end_cubics(s, h);
  free(h), free(m), free(b), free(store), free(swapped);
  return DENSRT_OK;
}

int densrt_spline_alloc(const double *knots, size_t K, densrt_spline_kind kind, densrt_spline **out)
{
  if (!out)
    DENSRT_ERROR(DENSRT_EINVAL, "densrt_spline_alloc: out is NULL");
  *out = NULL;
  size_t need = min_knots(kind);
  if (need == 0)
    DENSRT_ERROR(DENSRT_EINVAL, "unknown spline kind %d", (int)kind);
  if (K < need)
    DENSRT_ERROR(DENSRT_EINVAL, "%s needs at least %zu knots, got %zu", kind_phrase(kind), need, K);
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
  s->M = calloc(rows * K, sizeof *s->M);
  if (!s->t || !s->M) {
    densrt_spline_free(s);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory allocating a spline with %zu knots", K);
  }
  memcpy(s->t, knots, K * sizeof *s->t);
  s->h_inv_uniform = uniform_inverse_spacing(s->t, K);

  if (kind == DENSRT_SPLINE_LINEAR) {
    build_linear(s);
  } else if (build_cubic(s) != DENSRT_OK) {
    densrt_spline_free(s);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory allocating a spline with %zu knots", K);
  }
  *out = s;
  return DENSRT_OK;
}

void densrt_spline_free(densrt_spline *s)
{
  if (!s)
    return;
  free(s->t);
  free(s->M);
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

void densrt_spline_coefs(const densrt_spline *s, const double *values, double *coef)
{
  size_t K = s->K, rows = 4 * (K - 1);
  for (size_t r = 0; r < rows; r++) {
    const double *row = s->M + r * K;
    double acc = 0.0;
    for (size_t k = 0; k < K; k++)
      acc += row[k] * values[k];
    coef[r] = acc;
  }
}

void densrt_spline_coefs_adjoint(const densrt_spline *s, const double *coef_adj, double *values_adj)
{
  size_t K = s->K, rows = 4 * (K - 1);
  for (size_t r = 0; r < rows; r++) {
    double a = coef_adj[r];
    if (a == 0.0) /* adjoints are usually sparse: only segments holding data */
      continue;
    const double *row = s->M + r * K;
    for (size_t k = 0; k < K; k++)
      values_adj[k] += a * row[k];
  }
}

double densrt_spline_eval(const densrt_spline *s, const double *coef, double x, double *slope)
{
  double u;
  size_t j = densrt_spline_locate(s, x, &u);
  const double *c = coef + 4 * j;
  if (slope)
    *slope = c[1] + u * (2.0 * c[2] + u * 3.0 * c[3]);
  return c[0] + u * (c[1] + u * (c[2] + u * c[3]));
}

void densrt_spline_weights(const densrt_spline *s, double x, double *w)
{
  double u;
  size_t K = s->K, j = densrt_spline_locate(s, x, &u);
  const double *r0 = s->M + 4 * j * K, *r1 = r0 + K, *r2 = r1 + K, *r3 = r2 + K;
  for (size_t k = 0; k < K; k++)
    w[k] = r0[k] + u * (r1[k] + u * (r2[k] + u * r3[k]));
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
