/* quad.c — quadrature rules with log weights, log-space integrals and log normal-CDF differences */
#include "quad.h"
#include "vmath.h"
#include "spec.h"

#include "error.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <gsl/gsl_integration.h>

/* M_PI and friends are not declared under strict C11 + POSIX. */
#define LOG_SQRT_2PI 0.91893853320467274178032973640562
#define SQRT_2PI 2.50662827463100050241576528481105
#define SQRT1_2 0.70710678118654752440084436210485
#define TWO_OVER_SQRTPI 1.12837916709551257389615890312155
/* sqrt(2) = SQRT2_HI + SQRT2_LO with SQRT2_HI the nearest double */
#define SQRT2_HI 1.4142135623730951
#define SQRT2_LO (-9.667293313452913e-17)

#define GL_MAX_ORDER DENSRT_GL_MAX_ORDER

void densrt_quad_rule_free(densrt_quad_rule *r)
{
  if (!r)
    return;
  free(r->x);
  free(r->lw);
  r->n = 0;
  r->x = NULL;
  r->lw = NULL;
}

static int rule_alloc(densrt_quad_rule *r, size_t n)
{
  r->n = 0;
  r->x = NULL;
  r->lw = NULL;
  if (n == 0 || n > SIZE_MAX / sizeof(double))
    DENSRT_ERROR(DENSRT_EINVAL, "quadrature rule of %zu nodes is not possible", n);
  r->x = malloc(n * sizeof(double));
  r->lw = malloc(n * sizeof(double));
  if (!r->x || !r->lw) {
    densrt_quad_rule_free(r);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory for a quadrature rule of %zu nodes", n);
  }
  r->n = n;
  return DENSRT_OK;
}

static int cmp_double(const void *pa, const void *pb)
{
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

/* Legendre P_n(t) and P_n'(t) by the three-term recurrence. */
static void legendre(size_t n, double t, double *p, double *dp)
{
  double p0 = 1.0, p1 = t;
  for (size_t k = 2; k <= n; k++) {
    double pk = ((double)(2 * k - 1) * t * p1 - (double)(k - 1) * p0) / (double)k;
    p0 = p1;
    p1 = pk;
  }
  *p = (n == 0) ? 1.0 : p1;
  *dp = (n == 0) ? 0.0 : (double)n * (t * p1 - p0) / (t * t - 1.0);
}

/* Gauss-Legendre nodes t and weights w on [-1,1], increasing.  GSL's tables
   are exact for its tabulated orders, but the orders it computes on the fly
   carry ~1e-10 errors, so every node gets Newton steps on P_n and the weight
   2/((1-t^2) P_n'(t)^2). */
static int gl_standard(size_t order, double *t, double *w)
{
  gsl_integration_glfixed_table *tab = gsl_integration_glfixed_table_alloc(order);
  if (!tab)
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory for a Gauss-Legendre table of order %zu", order);
  for (size_t i = 0; i < order; i++) {
    double x, wi, p, dp;
    gsl_integration_glfixed_point(-1.0, 1.0, i, &x, &wi, tab);
    if (order > 1) {
      for (int it = 0; it < 3; it++) {
        double dx;
        legendre(order, x, &p, &dp);
        dx = p / dp;
        x -= dx;
        if (fabs(dx) <= 1e-17)
          break;
      }
      legendre(order, x, &p, &dp);
      wi = 2.0 / ((1.0 - x * x) * dp * dp);
    }
    t[i] = x;
    w[i] = wi;
  }
  gsl_integration_glfixed_table_free(tab);
  return DENSRT_OK;
}

/* The work behind densrt_quad_rule_gl without the public order cap, so the
   error check in log_integrate can use 2*order. */
static int build_gl(double lo, double hi, const double *brk, size_t n_brk, size_t order, size_t subdiv,
                    densrt_quad_rule *r)
{
  double *edges, *t, *w;
  size_t n_in = 0, n_pieces, n_nodes, k = 0;
  int status;

  if (n_brk > SIZE_MAX / sizeof(double) - 2 - 2 * order)
    DENSRT_ERROR(DENSRT_EINVAL, "too many breakpoints (%zu)", n_brk);
  edges = malloc((n_brk + 2 + 2 * order) * sizeof(double));
  if (!edges)
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory for %zu breakpoints", n_brk);
  t = edges + n_brk + 2;
  w = t + order;
  status = gl_standard(order, t, w);
  if (status) {
    free(edges);
    return status;
  }
  edges[n_in++] = lo;
  for (size_t i = 0; i < n_brk; i++)
    if (brk[i] > lo && brk[i] < hi) /* NaN fails both tests */
      edges[n_in++] = brk[i];
  qsort(edges + 1, n_in - 1, sizeof(double), cmp_double);
  {
    size_t u = 1;
    for (size_t i = 1; i < n_in; i++)
      if (edges[i] != edges[u - 1])
        edges[u++] = edges[i];
    n_in = u;
  }
  edges[n_in++] = hi;
  n_pieces = n_in - 1;

  if (subdiv > SIZE_MAX / n_pieces || order > SIZE_MAX / (n_pieces * subdiv)) {
    free(edges);
    DENSRT_ERROR(DENSRT_EINVAL, "quadrature rule too large (%zu pieces x %zu parts x %zu nodes)", n_pieces, subdiv,
                 order);
  }
  n_nodes = n_pieces * subdiv * order;
  status = rule_alloc(r, n_nodes);
  if (status) {
    free(edges);
    return status;
  }
  for (size_t p = 0; p < n_pieces; p++) {
    double p0 = edges[p], width = edges[p + 1] - edges[p];
    for (size_t s = 0; s < subdiv; s++) {
      double a = p0 + width * ((double)s / (double)subdiv);
      /* the last part ends exactly on the piece's edge */
      double b = (s + 1 == subdiv) ? edges[p + 1] : p0 + width * ((double)(s + 1) / (double)subdiv);
      double c = 0.5 * (a + b), h = 0.5 * (b - a), lh = log(h);
      for (size_t i = 0; i < order; i++, k++) {
        r->x[k] = c + h * t[i];
        r->lw[k] = lh + log(w[i]);
      }
    }
  }
  free(edges);
  return DENSRT_OK;
}

static int check_interval(double lo, double hi, densrt_quad_rule *r)
{
  if (!r)
    DENSRT_ERROR(DENSRT_EINVAL, "quadrature rule: output is NULL");
  r->n = 0;
  r->x = NULL;
  r->lw = NULL;
  if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
    DENSRT_ERROR(DENSRT_EINVAL, "quadrature interval [%g, %g] must be finite with lo < hi", lo, hi);
  return DENSRT_OK;
}

int densrt_quad_rule_gl(double lo, double hi, const double *brk, size_t n_brk, size_t order, size_t subdiv,
                        densrt_quad_rule *r)
{
  int status = check_interval(lo, hi, r);
  if (status)
    return status;
  if (order < 1 || order > GL_MAX_ORDER)
    DENSRT_ERROR(DENSRT_EINVAL, "Gauss-Legendre order must be in 1..%d (got %zu)", GL_MAX_ORDER, order);
  if (subdiv < 1)
    DENSRT_ERROR(DENSRT_EINVAL, "Gauss-Legendre subdivisions must be >= 1 (got %zu)", subdiv);
  if (n_brk > 0 && !brk)
    DENSRT_ERROR(DENSRT_EINVAL, "%zu breakpoints given but the array is NULL", n_brk);
  return build_gl(lo, hi, brk, n_brk, order, subdiv, r);
}

/* Simpson weights 1,4,2,...,2,4,1 times dx/3 on nodes already in r->x. */
static void simpson_weights(densrt_quad_rule *r)
{
  double ldx3 = log((r->x[1] - r->x[0]) / 3.0);
  double l4 = log(4.0), l2 = log(2.0);
  size_t n = r->n;
  r->lw[0] = ldx3;
  r->lw[n - 1] = ldx3;
  for (size_t i = 1; i + 1 < n; i++)
    r->lw[i] = ((i & 1) ? l4 : l2) + ldx3;
}

int densrt_quad_rule_simpson_points(double lo, double hi, size_t n, densrt_quad_rule *r)
{
  int status = check_interval(lo, hi, r);
  double step;
  if (status)
    return status;
  if (n < 3 || n % 2 == 0)
    DENSRT_ERROR(DENSRT_EINVAL, "Simpson's rule needs an odd number of points >= 3 (got %zu)", n);
  status = rule_alloc(r, n);
  if (status)
    return status;
  /* numpy.linspace: step = delta/div; y = arange(n)*step + start; y[-1] = stop */
  step = (hi - lo) / (double)(n - 1);
  for (size_t i = 0; i + 1 < n; i++)
    r->x[i] = (double)i * step + lo;
  r->x[n - 1] = hi;
  simpson_weights(r);
  return DENSRT_OK;
}

/* Length of numpy.arange(lo, hi + 1e-3, h); 0 if absurdly large. */
static size_t arange_len(double lo, double hi, double h)
{
  double c = ceil(((hi + 1e-3) - lo) / h);
  if (!(c >= 0) || c > 1e9)
    return 0;
  return (size_t)c;
}

int densrt_quad_rule_simpson_step(double lo, double hi, double h, densrt_quad_rule *r)
{
  int status = check_interval(lo, hi, r);
  size_t n;
  double delta;
  if (status)
    return status;
  if (!isfinite(h) || !(h > 0))
    DENSRT_ERROR(DENSRT_EINVAL, "Simpson step must be finite and > 0 (got %g)", h);
  n = arange_len(lo, hi, h);
  if (n == 0)
    DENSRT_ERROR(DENSRT_EINVAL, "Simpson step %g on [%g, %g] gives too many points", h, lo, hi);
  if (n < 3 || n % 2 == 0) {
    /* suggest the nearest step that covers [lo,hi] with an odd count */
    double sugg = NAN;
    for (size_t target = (n < 3 ? 3 : n + 1); target < n + 8 && target > 1; target += 2) {
      double cand = (hi - lo) / (double)(target - 1);
      size_t nc = arange_len(lo, hi, cand);
      if (nc >= 3 && nc % 2 == 1) {
        sugg = cand;
        break;
      }
    }
    DENSRT_ERROR(DENSRT_EINVAL,
                 "Simpson's rule needs an odd number of points >= 3, but numpy.arange(%g, %g + 1e-3, %g) "
                 "has %zu; try step %.17g",
                 lo, hi, h, n, sugg);
  }
  status = rule_alloc(r, n);
  if (status)
    return status;
  /* numpy's fill: x0 and x1 = start + step are set, then x_i = x0 + i*(x1 - x0) */
  r->x[0] = lo;
  r->x[1] = lo + h;
  delta = r->x[1] - r->x[0];
  for (size_t i = 2; i < n; i++)
    r->x[i] = lo + (double)i * delta;
  simpson_weights(r);
  return DENSRT_OK;
}

double densrt_quad_logsumexp(const double *lw, const double *f, size_t n)
{
  double mx = -INFINITY, s = 0.0;
  size_t imx = 0;
  for (size_t q = 0; q < n; q++) {
    double t = lw[q] + f[q];
    if (isnan(t))
      return NAN;
    if (t > mx) {
      mx = t;
      imx = q;
    }
  }
  if (isinf(mx))
    return mx;
  /* the largest term contributes exactly 1, which log1p absorbs */
  for (size_t q = 0; q < n; q++)
    if (q != imx)
      s += exp(lw[q] + f[q] - mx);
  return mx + log1p(s);
}

/* log integral of exp(logf) on the nodes of r; ENONFINITE on NaN or +inf. */
static int eval_rule(densrt_quad_logfn *logf, void *ctx, const densrt_quad_rule *r, double *buf, double *out)
{
  for (size_t q = 0; q < r->n; q++) {
    buf[q] = logf(r->x[q], ctx);
    if (isnan(buf[q]) || buf[q] == INFINITY)
      DENSRT_ERROR(DENSRT_ENONFINITE, "log-integrand is %g at x = %.17g", buf[q], r->x[q]);
  }
  *out = densrt_quad_logsumexp(r->lw, buf, r->n);
  return DENSRT_OK;
}

int densrt_quad_log_integrate(densrt_quad_logfn *logf, void *ctx, double lo, double hi, const double *brk,
                              size_t n_brk, size_t order, size_t subdiv, double *log_I, double *rel_err)
{
  densrt_quad_rule r1, r2;
  double *buf, l1 = NAN, l2 = NAN;
  int status;

  if (!logf || !log_I || !rel_err)
    DENSRT_ERROR(DENSRT_EINVAL, "log_integrate: NULL argument");
  *log_I = NAN;
  *rel_err = NAN;
  status = densrt_quad_rule_gl(lo, hi, brk, n_brk, order, subdiv, &r1);
  if (status)
    return status;
  status = build_gl(lo, hi, brk, n_brk, 2 * order, subdiv, &r2);
  if (status) {
    densrt_quad_rule_free(&r1);
    return status;
  }
  buf = malloc(r2.n * sizeof(double));
  if (!buf)
    status = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory for %zu integrand values", r2.n);
  if (!status)
    status = eval_rule(logf, ctx, &r1, buf, &l1);
  if (!status)
    status = eval_rule(logf, ctx, &r2, buf, &l2);
  free(buf);
  densrt_quad_rule_free(&r1);
  densrt_quad_rule_free(&r2);
  if (status)
    return status;
  *log_I = l2;
  if (l2 == -INFINITY)
    *rel_err = (l1 == -INFINITY) ? 0.0 : INFINITY;
  else
    *rel_err = fabs(expm1(l1 - l2));
  return DENSRT_OK;
}

/* ---- log(Phi(b) - Phi(a)) ---- */

/* exp(-x^2/2) without the rounding of x*x in the exponent (that error grows
   like x^2 * eps and would cost digits in the tails). */
static double exp_neg_half_sq(double x)
{
  double p = x * x, e;
  if (isinf(p))
    return 0.0;
  e = fma(x, x, -p);
  return exp(-0.5 * p) * (1.0 - 0.5 * e);
}

static double exp_half_sq(double x)
{
  double p = x * x, e = fma(x, x, -p);
  return exp(0.5 * p) * (1.0 + 0.5 * e);
}

/* Mills ratio R(x) = Q(x)/phi(x) for x >= 0, Q = 1 - Phi. */
static double mills(double x)
{
  if (x == INFINITY)
    return 0.0;
  if (x < 10.0) {
    /* erfc at the rounded z = x/sqrt2 plus a first-order fix for the
       rounding, since erfc'/erfc ~ z makes that error grow with x */
    double z = x * SQRT1_2;
    double rz = (fma(-z, SQRT2_HI, x) - z * SQRT2_LO) * SQRT1_2;
    double ec = erfc(z) - rz * TWO_OVER_SQRTPI * exp(-z * z);
    return 0.5 * ec * SQRT_2PI * exp_half_sq(x);
  }
  return densrt_mills_tail(x);   /* a polynomial in 1/x^2 */
}

static void two_sum(double x, double y, double *s, double *err)
{
  double t = x + y, bb = t - x;
  *s = t;
  *err = (x - (t - bb)) + (y - bb);
}

/* exp(-(a^2 - b^2)/2) for |a| > |b|, with the exponent formed almost exactly
   from (a-b)(a+b) so the result keeps full relative accuracy. */
static double exp_neg_half_diff_sq(double a, double b)
{
  double s, se, d, de, p, pe;
  two_sum(a, b, &s, &se);
  two_sum(a, -b, &d, &de);
  p = d * s;
  if (isinf(p))
    return 0.0;
  pe = fma(d, s, -p) + d * se + de * s;
  return exp(-0.5 * p) * (1.0 - 0.5 * pe);
}

/* a < b, a <= 0.  Partials w.r.t. a and b go to *da, *db. */
static double lnd_core(double a, double b, double *da, double *db)
{
  double w = b - a;
  double h = isfinite(w) ? 0.5 * w : 0.5 * b - 0.5 * a, m = a + h;

  if (isfinite(h) && h * fmax(1.0, fabs(m)) <= 1.0) {
    /* Narrow: Phi(m+h) - Phi(m-h) = 2 h phi(m) S with
       S = sum_j u_{2j}/(2j+1), u_n = He_n(m) h^n / n!  (Taylor series of Phi
       about m).  The recurrence He_{n+1} = m He_n - n He_{n-1} becomes
       u_{n+1} = (m h u_n - h^2 u_{n-1})/(n+1); |m h| <= 1 and h <= 1 make it
       decay factorially, and S >= exp(-1.5) so nothing cancels badly. */
    double mh = m * h, h2 = h * h, up = 1.0, u = mh, S = 1.0, den;
    for (int n = 1; n < 200; n++) {
      double un = (mh * u - h2 * up) / (double)(n + 1);
      up = u;
      u = un;
      if ((n + 1) % 2 == 0)
        S += u / (double)(n + 2);
      if (n >= 3 && fabs(u) + fabs(up) <= 1e-18 * S)
        break;
    }
    den = 2.0 * h * S;
    /* phi(b)/phi(m) = exp(-h m - h^2/2), phi(a)/phi(m) = exp(h m - h^2/2) */
    *db = exp(-mh - 0.5 * h2) / den;
    *da = -exp(mh - 0.5 * h2) / den;
    return -0.5 * m * m - LOG_SQRT_2PI + log(den);
  }

  if (b <= 0.0) {
    /* Lower tail: Phi(b) (1 - r), r = Phi(a)/Phi(b) <= 0.2 here, with
       Phi(x) = phi(x) R(-x) so no tail probability underflows. */
    double Rb = mills(-b), Ra, r;
    if (a == -INFINITY) {
      Ra = 0.0;
      r = 0.0;
    } else {
      Ra = mills(-a);
      r = (Ra / Rb) * exp_neg_half_diff_sq(a, b);
    }
    *db = 1.0 / (Rb * (1.0 - r));
    *da = (r == 0.0) ? 0.0 : -r / (Ra * (1.0 - r));
    return -0.5 * b * b - LOG_SQRT_2PI + log(Rb) + log1p(-r);
  }

  /* Straddles 0 and b - a > 2: the difference is >= Phi(2) - 1/2, so
     1 - Phi(a) - Q(b) loses nothing. */
  {
    double pa = exp_neg_half_sq(a) / SQRT_2PI, pb = exp_neg_half_sq(b) / SQRT_2PI;
    double Pa = pa * mills(-a), Qb = pb * mills(b);
    double D = (0.5 - Pa) + (0.5 - Qb);
    *db = pb / D;
    *da = -pa / D;
    return log1p(-(Pa + Qb));
  }
}

double densrt_quad_log_normal_diff(double a, double b, double *d_a, double *d_b)
{
  double L, da, db;
  if (isnan(a) || isnan(b)) {
    L = NAN;
    da = db = NAN;
  } else if (!(a < b)) {
    L = -INFINITY;
    da = db = 0.0;
  } else if (a > 0.0) {
    /* upper tail: Phi(b) - Phi(a) = Phi(-a) - Phi(-b) */
    double g1, g2;
    L = lnd_core(-b, -a, &g1, &g2);
    da = -g2;
    db = -g1;
  } else {
    L = lnd_core(a, b, &da, &db);
  }
  if (d_a)
    *d_a = da;
  if (d_b)
    *d_b = db;
  return L;
}
