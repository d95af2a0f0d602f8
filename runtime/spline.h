/*
** spline.h — interpolating splines as a linear map from knot values to
** per-segment cubic coefficients.
**
** A spline through (t_j, y_j), j = 0..K-1, is linear in the values y, so
** densrt_spline_alloc precomputes once per knot set the matrix M with
** coef = M y.  On segment j (t_j <= x < t_{j+1}), with u = x - t_j,
**   s(x) = coef[4j] + coef[4j+1] u + coef[4j+2] u^2 + coef[4j+3] u^3.
** Points before t_0 use segment 0 and points at or after t_{K-1} use
** segment K-2, so the spline is extrapolated with its end pieces.
**
** M and the coefficients follow scipy.interpolate.CubicSpline's construction
** operation for operation (slopes from the same tridiagonal system, solved by
** the same pivoted elimination), so values match scipy to the last bits even
** where the knots make the problem ill-conditioned.
**
** Kinds:
**   NOT_A_KNOT  cubic, third derivative continuous at t_1 and t_{K-2}
**               (scipy CubicSpline bc_type='not-a-knot'); K >= 4.
**   NATURAL     cubic, second derivative zero at t_0 and t_{K-1}; K >= 3.
**   LINEAR      piecewise linear (coef[4j+2] = coef[4j+3] = 0); K >= 2.
**
** Knot numbers in error messages are 1-based ("knot 1" is knots[0]).
*/
#ifndef DENSRT_SPLINE_H
#define DENSRT_SPLINE_H

#include <stddef.h>

/* The spline kinds, defined once for densc (checks, generated tables) and the runtime:
** X(name, fewest knots, phrase for messages). */
#define DENSRT_SPLINE_KINDS(X)                          \
  X(NOT_A_KNOT, 4, "a not-a-knot cubic spline")         \
  X(NATURAL, 3, "a natural cubic spline")               \
  X(LINEAR, 2, "a linear spline")

typedef enum {
#define DENSRT_X(name, min_knots, phrase) DENSRT_SPLINE_##name,
  DENSRT_SPLINE_KINDS(DENSRT_X)
#undef DENSRT_X
} densrt_spline_kind;

/* The fewest knots a kind takes, and its phrase ("a natural cubic spline"). */
static inline size_t densrt_spline_min_knots(densrt_spline_kind kind)
{
  static const size_t min[] = {
#define DENSRT_X(name, min_knots, phrase) min_knots,
    DENSRT_SPLINE_KINDS(DENSRT_X)
#undef DENSRT_X
  };
  return (size_t)kind < sizeof min / sizeof *min ? min[kind] : 0;
}

static inline const char *densrt_spline_kind_phrase(densrt_spline_kind kind)
{
  static const char *const phrase[] = {
#define DENSRT_X(name, min_knots, phrase) phrase,
    DENSRT_SPLINE_KINDS(DENSRT_X)
#undef DENSRT_X
  };
  return (size_t)kind < sizeof phrase / sizeof *phrase ? phrase[kind] : "a spline";
}

typedef struct densrt_spline {
  densrt_spline_kind kind;
  size_t K;             /* knots */
  double *t;            /* copy of the knots, strictly increasing */
  double *M;            /* row-major (4*(K-1)) x K: coef = M values; 8 zeros after */
  double h_inv_uniform; /* 1/spacing if knots are uniform to 1e-12 relative (O(1) locate), else 0 */
  struct cubic_solver *solver; /* the recorded elimination of the slope system (private) */
} densrt_spline;

/* Validates the knots and builds M.  On failure *out is NULL and the status
** is DENSRT_EINVAL (too few knots, not increasing, bad kind),
** DENSRT_ENONFINITE (a knot is NaN or infinite) or DENSRT_ENOMEM. */
int densrt_spline_alloc(const double *knots, size_t K, densrt_spline_kind kind, densrt_spline **out);

/* Frees s (NULL is allowed). */
void densrt_spline_free(densrt_spline *s);

/* Segment j in [0, K-2] holding x and *u = x - t[j]: x < t[0] gives 0,
** x >= t[K-1] gives K-2, x exactly on knot j < K-1 gives j with *u = 0. */
size_t densrt_spline_locate(const densrt_spline *s, double x, double *u);

/* coef[4(K-1)] = M values.  scratch holds 2K doubles; with it the call only reads s, so
** callers with a scratch each may call at once.  NULL uses a scratch inside s (one caller
** at a time). */
void densrt_spline_coefs(const densrt_spline *s, const double *values, double *coef, double *scratch);

/* values_adj[K] += M^T coef_adj (adds; the caller zeroes). */
void densrt_spline_coefs_adjoint(const densrt_spline *s, const double *coef_adj, double *values_adj);

/* The same, inline: a generated program compiles it for its own machine's vectors.  Eight
** values at a time, their sums in registers through all rows (loops of eight vectorise; the
** last block reads past a row into the next, or into the 8 zeros after M, and keeps what
** is its own). */
static inline void densrt_spline_coefs_adjoint_inline(const densrt_spline *s, const double *coef_adj,
                                                      double *restrict values_adj)
{
  const size_t K = s->K, rows = 4 * (K - 1);
  for (size_t k0 = 0; k0 < K; k0 += 8) {
    const size_t nk = K - k0 < 8 ? K - k0 : 8;
    double acc[8] = {0};
    for (size_t l = 0; l < nk; l++)
      acc[l] = values_adj[k0 + l];
    for (size_t r = 0; r < rows; r++) {
      const double a = coef_adj[r], *restrict row = s->M + r * K + k0;
      for (size_t l = 0; l < 8; l++)
        acc[l] += a * row[l];
    }
    for (size_t l = 0; l < nk; l++)
      values_adj[k0 + l] = acc[l];
  }
}

/* The cubic of segment j at offset u from its left knot, summed in ascending
** powers as scipy's PPoly does: far from the knots the terms cancel, and the
** same order gives the same rounding (in the library; generated programs, built
** with -ffp-contract=fast, fuse the steps and round once less). */
static inline double densrt_spline_cubic(double c0, double c1, double c2, double c3, double u)
{
  const double u2 = u * u;
  return c0 + c1 * u + c2 * u2 + c3 * (u2 * u);
}

static inline double densrt_spline_seg_eval(const double *coef, size_t j, double u)
{
  const double *c = coef + 4 * j;
  return densrt_spline_cubic(c[0], c[1], c[2], c[3], u);
}

/* s(x) from coef; *slope = s'(x) unless slope is NULL. */
double densrt_spline_eval(const densrt_spline *s, const double *coef, double x, double *slope);

/* w[K] = d s(x) / d values (overwrites w). */
void densrt_spline_weights(const densrt_spline *s, double x, double *w);

/* Exact integral from a to b of the (extrapolated) piecewise cubic;
** negative when b < a. */
double densrt_spline_integral(const densrt_spline *s, const double *coef, double a, double b);

/* "not_a_knot", "natural", "linear" ("unknown" otherwise). */
const char *densrt_spline_kind_name(densrt_spline_kind k);

#endif
