/*
** spec.h — the small text specifications accepted in models and on the
** command line: knot sets and integration methods.
**
**   knots:   linspace(start, stop, count) | [t1, t2, ...]
**   method:  auto | analytic | gauss_legendre(order = N[, subdiv = M])
**            | simpson(points = N) | simpson(step = h)
*/
#ifndef DENSRT_SPEC_H
#define DENSRT_SPEC_H
#include "layout.h"

#include <stddef.h>

/* the largest Gauss-Legendre order (the nodes come from an eigenproblem of this size) */
#define DENSRT_GL_MAX_ORDER 1024

typedef enum {
  DENSRT_METHOD_AUTO,            /* analytic where possible, else Gauss–Legendre refined to 1e-10 */
  DENSRT_METHOD_ANALYTIC,        /* analytic only (an error where impossible) */
  DENSRT_METHOD_GL,              /* piecewise Gauss–Legendre between breakpoints */
  DENSRT_METHOD_SIMPSON_POINTS,  /* the seed's log-Simpson on linspace(lo, hi, points) */
  DENSRT_METHOD_SIMPSON_STEP     /* the seed's log-Simpson on arange(lo, hi + 1e-3, step) */
} densrt_method_kind;

typedef struct {
  densrt_method_kind kind;
  size_t order, subdiv;   /* GL, and AUTO's current refinement */
  size_t points;          /* SIMPSON_POINTS */
  double step;            /* SIMPSON_STEP */
} densrt_method;

/* The plan rule: a term's exact plan is used where each of its analytic columns has a
** method that allows analytic integration (densc checks models by it too). */
static inline int densrt_method_allows_analytic(densrt_method_kind kind)
{
  return kind == DENSRT_METHOD_AUTO || kind == DENSRT_METHOD_ANALYTIC;
}

/* The spline's values -> coefficients map is a dense 4(K-1) x K matrix, so K is bounded. */

/* numpy.linspace(start, stop, n) into t[0 .. n): start + i step, the last point exactly stop. */
void densrt_spec_linspace(double start, double stop, size_t n, double *t);
/* Knots as numpy.linspace computes them (last point exactly stop). *t is malloc'ed. */
int densrt_spec_knots(const char *spec, double **t, size_t *n);
int densrt_spec_method(const char *spec, densrt_method *m);
/* Canonical text of a method, written into buf. */
const char *densrt_spec_method_text(const densrt_method *m, char *buf, size_t len);

#endif
