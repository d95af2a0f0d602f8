/* quad.h — quadrature rules with log weights, log-space integrals and log normal-CDF differences */
#ifndef DENSRT_QUAD_H
#define DENSRT_QUAD_H

#include <stddef.h>

/* Integrals of intensities exp(f(x)) are evaluated as
   log sum_q exp(lw[q] + f(x[q])), so rules carry LOG weights.
   Builders overwrite *r without freeing it; on failure *r is zeroed. */
typedef struct { size_t n; double *x; double *lw; } densrt_quad_rule;   /* nodes and log weights */

/* Frees the arrays and zeroes the struct (NULL allowed). */
void densrt_quad_rule_free(densrt_quad_rule *r);

/* Piecewise Gauss–Legendre on [lo,hi] (lo < hi, both finite).  Breakpoints
   strictly inside (lo,hi) split the interval (any order; duplicates, NaN and
   values outside are ignored); each piece is cut into `subdiv` equal parts
   (>= 1) with `order` nodes each (1..1024).  Nodes are increasing. */
int densrt_quad_rule_gl(double lo, double hi, const double *brk, size_t n_brk, size_t order, size_t subdiv,
                        densrt_quad_rule *r);

/* Composite Simpson on numpy.linspace(lo, hi, n), n odd >= 3:
   x_i = lo + i*(hi-lo)/(n-1), x_{n-1} = hi; weights (1,4,2,...,2,4,1)*dx/3 with
   dx = x_1 - x_0. */
int densrt_quad_rule_simpson_points(double lo, double hi, size_t n, densrt_quad_rule *r);

/* The same rule on numpy.arange(lo, hi + 1e-3, h): n = ceil((hi + 1e-3 - lo)/h),
   x_0 = lo, x_1 = lo + h, x_i = lo + i*((lo + h) - lo).  Even n is an error
   whose message suggests a step giving an odd count. */
int densrt_quad_rule_simpson_step(double lo, double hi, double h, densrt_quad_rule *r);

/* log sum_q exp(lw[q] + f[q]) without overflow; -INFINITY if every term is
   -inf (or n == 0); NaN if any term is NaN. */
double densrt_quad_logsumexp(const double *lw, const double *f, size_t n);

/* log of the integral of exp(logf) over [lo,hi] by piecewise GL of `order`
   and of 2*order (same pieces): *log_I is the 2*order value and
   *rel_err = |I_lo - I_hi| / I_hi, formed in log space (0 when both are
   zero, +inf when only I_hi is).  DENSRT_ENONFINITE if logf gives NaN or
   +inf at a node. */
typedef double densrt_quad_logfn(double x, void *ctx);
int densrt_quad_log_integrate(densrt_quad_logfn *logf, void *ctx, double lo, double hi, const double *brk,
                              size_t n_brk, size_t order, size_t subdiv, double *log_I, double *rel_err);

/* log(Phi(b) - Phi(a)), Phi the standard normal CDF; a may be -INFINITY and
   b +INFINITY.  Relative accuracy ~1e-15 in the value and in the partials
   *d_a = -phi(a)/(Phi(b)-Phi(a)) and *d_b = phi(b)/(Phi(b)-Phi(a)) (either
   pointer may be NULL), across deep tails, narrow and wide intervals.
   a >= b gives -INFINITY with both partials 0; NaN input gives NaN
   (partials NaN). */
double densrt_quad_log_normal_diff(double a, double b, double *d_a, double *d_b);

#endif
