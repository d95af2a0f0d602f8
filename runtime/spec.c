/*
** spec.c — parses knot-set and integration-method specifications.
*/
#include "spec.h"
#include "error.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *s, *p;
} cursor;

static void skip_ws(cursor *c)
{
  while (isspace((unsigned char)*c->p))
    c->p++;
}

static int accept(cursor *c, char ch)
{
  skip_ws(c);
  if (*c->p != ch)
    return 0;
  c->p++;
  return 1;
}

static int accept_word(cursor *c, const char *w)
{
  skip_ws(c);
  size_t n = strlen(w);
  if (strncmp(c->p, w, n) != 0 || isalnum((unsigned char)c->p[n]) || c->p[n] == '_')
    return 0;
  c->p += n;
  return 1;
}

static int number(cursor *c, double *v)
{
  skip_ws(c);
  char *end;
  *v = strtod(c->p, &end);
  if (end == c->p || !isfinite(*v))
    return 0;
  c->p = end;
  return 1;
}

static int at_end(cursor *c)
{
  skip_ws(c);
  return *c->p == '\0';
}

void densrt_spec_linspace(double start, double stop, size_t n, double *t)
{
  double step = n > 1 ? (stop - start) / (double)(n - 1) : 0;
  for (size_t i = 0; i < n; i++)
    t[i] = start + (double)i * step;
  if (n > 1)
    t[n - 1] = stop;
}

int densrt_spec_knots(const char *spec, double **t, size_t *n)
{
  cursor c = {spec, spec};
  double *v = NULL;
  size_t k = 0;
  *t = NULL;
  *n = 0;
  if (accept_word(&c, "linspace")) {
    double a, b, cnt;
    if (!accept(&c, '(') || !number(&c, &a) || !accept(&c, ',') || !number(&c, &b) || !accept(&c, ',') ||
        !number(&c, &cnt) || !accept(&c, ')') || !at_end(&c))
      goto syntax;
    if (cnt != floor(cnt) || cnt < 2)
      DENSRT_ERROR(DENSRT_EINVAL, "knot set '%s': the count must be an integer >= 2", spec);
    if (cnt > DENSRT_MAX_KNOTS)
      DENSRT_ERROR(DENSRT_EINVAL, "knot set '%s': too many knots (limit is %d)", spec, DENSRT_MAX_KNOTS);
    k = (size_t)cnt;
    v = malloc(k * sizeof *v);
    if (!v)
      DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
    densrt_spec_linspace(a, b, k, v);
  } else if (accept(&c, '[')) {
    size_t cap = 16;
    v = malloc(cap * sizeof *v);
    if (!v)
      DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
    do {
      if (k == cap) {
        double *nv = realloc(v, 2 * cap * sizeof *v);
        if (!nv) {
          free(v);
          DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
        }
        v = nv;
        cap *= 2;
      }
      if (!number(&c, &v[k++]))
        goto syntax;
      if (k > DENSRT_MAX_KNOTS) {
        free(v);
        DENSRT_ERROR(DENSRT_EINVAL, "knot set '%.40s...': too many knots (limit is %d)", spec, DENSRT_MAX_KNOTS);
      }
    } while (accept(&c, ','));
    if (!accept(&c, ']') || !at_end(&c))
      goto syntax;
  } else {
    goto syntax;
  }
  if (k < 2) {
    free(v);
    DENSRT_ERROR(DENSRT_EINVAL, "knot set '%s': at least 2 knots are needed", spec);
  }
  for (size_t i = 1; i < k; i++)
    if (!(v[i] > v[i - 1])) {
      double a = v[i - 1], b = v[i];
      free(v);
      DENSRT_ERROR(DENSRT_EINVAL, "knot set '%s': knots must be strictly increasing (knot %zu = %g, knot %zu = %g)",
                   spec, i, a, i + 1, b);
    }
  *t = v;
  *n = k;
  return DENSRT_OK;
syntax:
  free(v);
  DENSRT_ERROR(DENSRT_EINVAL, "knot set '%s': expected linspace(start, stop, count) or [t1, t2, ...]", spec);
}

/* name = value pairs inside the parentheses of a method */
static int method_args(cursor *c, densrt_method *m, const char *spec)
{
  if (!accept(c, '('))
    return 0;
  int sizes = 0;
  do {
    double v;
    const char *names[] = {"order", "subdiv", "points", "step"};
    int which = -1;
    for (int i = 0; i < 4; i++)
      if (accept_word(c, names[i]))
        which = i;
    if (which < 0 || !accept(c, '=') || !number(c, &v))
      return 0;
    int gl = m->kind == DENSRT_METHOD_GL;
    if ((gl && which >= 2) || (!gl && which < 2))
      return 0;
    if (which == 3) {
      if (!(v > 0))
        return DENSRT_FAIL(DENSRT_EINVAL, "method '%s': the Simpson step must be positive", spec), -1;
      m->kind = DENSRT_METHOD_SIMPSON_STEP;
      m->step = v;
      sizes++;
      continue;
    }
    if (v != floor(v) || v < 1 || v > 1e8)
      return DENSRT_FAIL(DENSRT_EINVAL, "method '%s': %s must be a positive integer", spec, names[which]), -1;
    if (which == 0 && v > DENSRT_GL_MAX_ORDER)
      return DENSRT_FAIL(DENSRT_EINVAL, "method '%s': the Gauss-Legendre order must be at most %d", spec,
                         DENSRT_GL_MAX_ORDER), -1;
    if (which == 0)
      m->order = (size_t)v;
    else if (which == 1)
      m->subdiv = (size_t)v;
    else {
      m->kind = DENSRT_METHOD_SIMPSON_POINTS;
      m->points = (size_t)v;
      sizes++;
      if (m->points < 3)
        return DENSRT_FAIL(DENSRT_EINVAL, "method '%s': Simpson's rule needs an odd number of points >= 3 (got "
                           "%zu)", spec, m->points), -1;
      if (m->points % 2 == 0)
        return DENSRT_FAIL(DENSRT_EINVAL, "method '%s': Simpson's rule needs an odd number of points (got %zu; "
                           "use %zu or %zu)", spec, m->points, m->points - 1, m->points + 1), -1;
    }
  } while (accept(c, ','));
  if (!accept(c, ')') || !at_end(c))
    return 0;
  if (m->kind != DENSRT_METHOD_GL && sizes != 1)
    return DENSRT_FAIL(DENSRT_EINVAL, "method '%s': simpson() takes exactly one of points = N or step = h", spec),
           -1;
  return 1;
}

int densrt_spec_method(const char *spec, densrt_method *m)
{
  cursor c = {spec, spec};
  memset(m, 0, sizeof *m);
  m->order = 8;
  m->subdiv = 1;
  if (accept_word(&c, "auto") && at_end(&c)) {
    m->kind = DENSRT_METHOD_AUTO;
    return DENSRT_OK;
  }
  c.p = spec;
  if (accept_word(&c, "analytic") && at_end(&c)) {
    m->kind = DENSRT_METHOD_ANALYTIC;
    return DENSRT_OK;
  }
  c.p = spec;
  int r = 0;
  if (accept_word(&c, "gauss_legendre")) {
    m->kind = DENSRT_METHOD_GL;
    r = method_args(&c, m, spec);
  } else if (accept_word(&c, "simpson")) {
    m->kind = DENSRT_METHOD_SIMPSON_POINTS;
    r = method_args(&c, m, spec);
  }
  if (r < 0)
    return DENSRT_EINVAL;
  if (r == 0)
    DENSRT_ERROR(DENSRT_EINVAL,
                 "integration method '%s': expected auto, analytic, gauss_legendre(order = N[, subdiv = M]), "
                 "simpson(points = N) or simpson(step = h)",
                 spec);
  return DENSRT_OK;
}

const char *densrt_spec_method_text(const densrt_method *m, char *buf, size_t len)
{
  switch (m->kind) {
  case DENSRT_METHOD_AUTO:
    snprintf(buf, len, "auto (gauss_legendre(order = %zu, subdiv = %zu) where numeric)", m->order, m->subdiv);
    break;
  case DENSRT_METHOD_ANALYTIC: snprintf(buf, len, "analytic"); break;
  case DENSRT_METHOD_GL: snprintf(buf, len, "gauss_legendre(order = %zu, subdiv = %zu)", m->order, m->subdiv); break;
  case DENSRT_METHOD_SIMPSON_POINTS: snprintf(buf, len, "simpson(points = %zu)", m->points); break;
  case DENSRT_METHOD_SIMPSON_STEP: snprintf(buf, len, "simpson(step = %.17g)", m->step); break;
  }
  return buf;
}
