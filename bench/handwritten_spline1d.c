/*
** handwritten_spline1d.c — the seed's spline model written by hand in C, as a
** baseline for densc's generated code: log posterior and gradient of
**   ln n(z) = spline(linspace(-3, 3, 11), v)(z),  Simpson integral on linspace(-3, 3, 1025),
**   prior v ~ normal(0, 10),
** with what a careful programmer would precompute: each point's segment and offset.
** Prints the median time of one value+gradient evaluation (same protocol as
** PROG benchmark) and the objective, for a cross-check.
** Usage: handwritten_spline1d DATA.csv   (one column z, a header line)
*/
#include "spline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { K = 11, NQ = 1025 };

typedef struct {
  size_t n;
  size_t *seg;
  double *u;
  size_t qseg[NQ];
  double qu[NQ], qlw[NQ];
  densrt_spline *s;
} problem;

static double log_posterior(problem *p, const double *v, double *g)
{
  double c[4 * (K - 1)], ca[4 * (K - 1)] = {0};
  densrt_spline_coefs(p->s, v, c);
  double ll = 0;
  for (size_t i = 0; i < p->n; i++) {
    const double *ci = c + 4 * p->seg[i], u = p->u[i];
    ll += ci[0] + ci[1] * u + ci[2] * (u * u) + ci[3] * (u * u * u);
    double *a = ca + 4 * p->seg[i];
    a[0] += 1, a[1] += u, a[2] += u * u, a[3] += u * u * u;
  }
  double S = 0;
  for (size_t q = 0; q < NQ; q++) {
    const double *cq = c + 4 * p->qseg[q], u = p->qu[q];
    double w = exp(p->qlw[q] + cq[0] + cq[1] * u + cq[2] * (u * u) + cq[3] * (u * u * u));
    S += w;
    double *a = ca + 4 * p->qseg[q];
    a[0] -= w, a[1] -= w * u, a[2] -= w * u * u, a[3] -= w * u * u * u;
  }
  ll -= S;
  double lp = 0;
  for (int k = 0; k < K; k++) {
    lp += -0.5 * (v[k] / 10) * (v[k] / 10) - log(10.0) - 0.5 * log(2 * M_PI);
    g[k] = -v[k] / 100;
  }
  densrt_spline_coefs_adjoint(p->s, ca, g);
  return ll + lp;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: %s DATA.csv\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  problem p = {0};
  double t[K];
  for (int k = 0; k < K; k++)
    t[k] = -3 + 6.0 * k / (K - 1);
  t[K - 1] = 3;
  if (densrt_spline_alloc(t, K, DENSRT_SPLINE_NOT_A_KNOT, &p.s))
    return 1;
  char line[256];
  size_t cap = 1 << 17;
  p.seg = malloc(cap * sizeof *p.seg);
  p.u = malloc(cap * sizeof *p.u);
  if (!fgets(line, sizeof line, f))
    return 2;
  while (fgets(line, sizeof line, f)) {
    if (p.n == cap) {
      cap *= 2;
      p.seg = realloc(p.seg, cap * sizeof *p.seg);
      p.u = realloc(p.u, cap * sizeof *p.u);
    }
    p.seg[p.n] = densrt_spline_locate(p.s, strtod(line, NULL), &p.u[p.n]);
    p.n++;
  }
  fclose(f);
  double h = 6.0 / (NQ - 1);
  for (size_t q = 0; q < NQ; q++) {
    double x = q == NQ - 1 ? 3 : -3 + (double)q * h;
    p.qseg[q] = densrt_spline_locate(p.s, x, &p.qu[q]);
    double w = (q == 0 || q == NQ - 1) ? 1 : (q % 2 ? 4 : 2);
    p.qlw[q] = log(w) + log(h / 3);
  }
  double v[K], g[K], sink = 0;
  for (int k = 0; k < K; k++)
    v[k] = -0.5 * t[k] * t[k] / 0.1 + 11.0;   /* a Gaussian-like start: finite everywhere */
  long reps = 0;
  double t0 = now();
  do {
    sink += log_posterior(&p, v, g);
    reps++;
  } while (now() - t0 < 0.05);
  double times[21];
  for (int b = 0; b < 21; b++) {
    t0 = now();
    for (long r = 0; r < reps; r++)
      sink += log_posterior(&p, v, g);
    times[b] = (now() - t0) / (double)reps;
  }
  qsort(times, 21, sizeof *times, cmp);
  printf("{\"median_seconds\": %.6g, \"n\": %zu, \"objective\": %.17g, \"checksum\": %.6g}\n", times[10], p.n,
         -log_posterior(&p, v, g) / (double)p.n, sink);
  densrt_spline_free(p.s);
  return 0;
}
