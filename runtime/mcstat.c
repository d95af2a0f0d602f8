/*
** mcstat.c — R-hat, ESS, MCSE and quantiles of MCMC draws (see mcstat.h).
*/
#include "mcstat.h"
#include "error.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fft_halfcomplex.h>
#include <gsl/gsl_fft_real.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* {====================================================================
** Pieces
** ===================================================================== */

/* Partitions x[lo .. hi) into < a, [a, b], > b (a <= b); [*lt, *gt) gets the middle. */
static void partition3(double *x, size_t lo, size_t hi, double a, double b, size_t *lt, size_t *gt)
{
  size_t l = lo, i = lo, g = hi;
  while (i < g) {   /* [lo, l) < a, [l, i) in [a, b], [g, hi) > b */
    double v = x[i];
    if (v < a) {
      x[i++] = x[l];
      x[l++] = v;
    } else if (v > b) {
      x[i] = x[--g];
      x[g] = v;
    } else {
      i++;
    }
  }
  *lt = l;
  *gt = g;
}

/* Moves the k-th smallest of x[lo .. hi) to x[k], smaller ones before it, larger after.
** Long ranges: two pivots from a sample of 64, ranked just below and above k (Floyd and
** Rivest 1975), leave few elements between them; then a median-of-three pivot.  Returns
** an end e > k + 1 (or hi) such that every element from e on is at least every one before
** it: the (k+1)-th smallest is then the least of x[k+1 .. e). */
static size_t select_kth(double *x, size_t lo, size_t hi, size_t k)
{
  enum { SAMPLE = 64, MARGIN = 6 };
  size_t bound = hi;   /* each range's end has the property; the last one past k + 1 is kept */
  while (hi - lo > 600) {
    size_t n = hi - lo;
    double s[SAMPLE];
    for (size_t i = 0; i < SAMPLE; i++) {   /* evenly spread, insertion-sorted */
      double v = x[lo + (2 * i + 1) * n / (2 * SAMPLE)];
      size_t j = i;
      for (; j > 0 && s[j - 1] > v; j--)
        s[j] = s[j - 1];
      s[j] = v;
    }
    size_t at = (k - lo) * SAMPLE / n;
    double a = s[at > MARGIN ? at - MARGIN : 0], b = s[at + MARGIN < SAMPLE ? at + MARGIN : SAMPLE - 1];
    size_t lt, gt;
    partition3(x, lo, hi, a, b, &lt, &gt);
    if (lt == lo && gt == hi && a != b)
      break;   /* everything between the pivots (ties): no progress this way */
    if (k < lt) {
      hi = lt;
    } else if (k >= gt) {
      lo = gt;
    } else {
      lo = lt;
      hi = gt;
    }
    bound = hi > k + 1 ? hi : bound;
    if (a == b && lo == lt && hi == gt)
      return bound;   /* the middle is all equal */
  }
  while (hi - lo > 1) {
    double a = x[lo], b = x[lo + (hi - lo) / 2], c = x[hi - 1];
    double pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
    size_t lt, gt;
    partition3(x, lo, hi, pivot, pivot, &lt, &gt);
    if (k < lt) {
      hi = lt;
    } else if (k >= gt) {
      lo = gt;
    } else {
      bound = hi > k + 1 ? hi : bound;
      return gt > k + 1 ? gt : bound;
    }
    bound = hi > k + 1 ? hi : bound;
  }
  return bound;
}

void densrt_mcstat_quantiles(double *x, size_t n, const double *p, size_t k, double *q)
{
  size_t from = 0;
  for (size_t j = 0; j < k; j++) {
    if (n == 0) {
      q[j] = NAN;
      continue;
    }
    double h = (double)(n - 1) * p[j], lo = floor(h);
    size_t i = (size_t)lo;
    size_t end = select_kth(x, from, n, i);
    from = i;   /* later (larger) quantiles lie at or after it */
    double v = x[i];
    if (i + 1 < n) {
      double next = x[i + 1];   /* the (i+1)-th smallest: the least of x[i+1 .. end) */
      for (size_t r = i + 2; r < end; r++)
        next = x[r] < next ? x[r] : next;
      v = x[i] + (h - lo) * (next - x[i]);
    }
    q[j] = v;
  }
}

double densrt_mcstat_quantile(const double *x, size_t n, double p)
{
  double *s = malloc((n ? n : 1) * sizeof *s), q = NAN;
  if (!s)
    return NAN;
  memcpy(s, x, n * sizeof *s);
  densrt_mcstat_quantiles(s, n, &p, 1, &q);
  free(s);
  return q;
}

/* posterior's should_return_NA: a non-finite value, or all values (nearly) equal. */
static int degenerate(const double *x, size_t n)
{
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]))
      return 1;
    lo = fmin(lo, x[i]);
    hi = fmax(hi, x[i]);
  }
  return !(fabs(hi - lo) >= 2.220446049250313e-16);
}

/* The split chains: 2 chains of n / 2 draws each (an odd middle draw dropped). */
static double *split(const double *x, size_t chains, size_t n, size_t *half)
{
  size_t h = n / 2;
  double *y = malloc((2 * chains * h + 1) * sizeof *y);
  if (!y)
    return NULL;
  for (size_t c = 0; c < chains; c++) {
    memcpy(y + 2 * c * h, x + c * n, h * sizeof *y);
    memcpy(y + (2 * c + 1) * h, x + c * n + (n - h), h * sizeof *y);
  }
  *half = h;
  return y;
}

/* posterior's next length for its FFT: the next number whose only prime factors are 2, 3, 5. */
static size_t good_size(size_t n)
{
  if (n <= 2)
    return 2;
  for (;; n++) {
    size_t m = n;
    while (m % 2 == 0)
      m /= 2;
    while (m % 3 == 0)
      m /= 3;
    while (m % 5 == 0)
      m /= 5;
    if (m <= 1)
      return n;
  }
}

/* The biased autocovariance sum_t yc_t yc_(t+k) / N at every lag k < N, by FFT over 2M
** points (M >= N with factors 2, 3, 5 only), as posterior computes it. */
static int autocovariance(const double *y, size_t N, double *ac)
{
  size_t M = good_size(N), L = 2 * M;
  double *d = calloc(L, sizeof *d);
  gsl_fft_real_wavetable *rw = gsl_fft_real_wavetable_alloc(L);
  gsl_fft_halfcomplex_wavetable *hw = gsl_fft_halfcomplex_wavetable_alloc(L);
  gsl_fft_real_workspace *ws = gsl_fft_real_workspace_alloc(L);
  int rc = DENSRT_OK;
  if (!d || !rw || !hw || !ws) {
    rc = DENSRT_ENOMEM;
    goto done;
  }
  double mean = 0;
  for (size_t i = 0; i < N; i++)
    mean += y[i];
  mean /= (double)N;
  for (size_t i = 0; i < N; i++)
    d[i] = y[i] - mean;
  gsl_fft_real_transform(d, 1, L, rw, ws);
  /* |F|^2 in the half-complex layout: d[0] real, (re, im) pairs, d[L-1] the Nyquist term */
  d[0] *= d[0];
  for (size_t k = 1; 2 * k < L; k++) {
    d[2 * k - 1] = d[2 * k - 1] * d[2 * k - 1] + d[2 * k] * d[2 * k];
    d[2 * k] = 0;
  }
  d[L - 1] *= d[L - 1];
  gsl_fft_halfcomplex_inverse(d, 1, L, hw, ws);   /* divides by L: the lagged sums */
  for (size_t k = 0; k < N; k++)
    ac[k] = d[k] / (double)N;
done:
  free(d);
  if (rw)
    gsl_fft_real_wavetable_free(rw);
  if (hw)
    gsl_fft_halfcomplex_wavetable_free(hw);
  if (ws)
    gsl_fft_real_workspace_free(ws);
  return rc;
}

/* The sample variance (n - 1) of v, in two passes. */
static double variance(const double *v, size_t n)
{
  double mean = 0, ss = 0;
  for (size_t i = 0; i < n; i++)
    mean += v[i];
  mean /= (double)n;
  for (size_t i = 0; i < n; i++)
    ss += (v[i] - mean) * (v[i] - mean);
  return ss / (double)(n - 1);
}

/* posterior's .ess over m chains of n draws. */
static double ess(const double *x, size_t m, size_t n)
{
  if (n < 3 || degenerate(x, m * n))
    return NAN;
  double *acov = malloc(m * n * sizeof *acov), *rho = calloc(n + 2, sizeof *rho), *mean_ac = calloc(n, sizeof *mean_ac);
  double result = NAN;
  if (!acov || !rho || !mean_ac)
    goto done;
  double *chain_mean = malloc(m * sizeof *chain_mean);
  if (!chain_mean)
    goto done;
  for (size_t c = 0; c < m; c++) {
    if (autocovariance(x + c * n, n, acov + c * n)) {
      free(chain_mean);
      goto done;
    }
    double mu = 0;
    for (size_t i = 0; i < n; i++)
      mu += x[c * n + i];
    chain_mean[c] = mu / (double)n;
  }
  for (size_t k = 0; k < n; k++) {
    double s = 0;
    for (size_t c = 0; c < m; c++)
      s += acov[c * n + k];
    mean_ac[k] = s / (double)m;
  }
  double N = (double)n, mean_var = mean_ac[0] * N / (N - 1), var_plus = mean_var * (N - 1) / N;
  if (m > 1)
    var_plus += variance(chain_mean, m);   /* two passes: no cancellation at large means */
  free(chain_mean);
  /* Geyer's initial positive sequence */
  long t = 0, nl = (long)n;
  double even = 1, odd = 1 - (mean_var - mean_ac[1]) / var_plus;
  rho[0] = even;
  rho[1] = odd;
  while (t < nl - 5 && !isnan(even + odd) && even + odd > 0) {
    t += 2;
    even = 1 - (mean_var - mean_ac[t]) / var_plus;
    odd = 1 - (mean_var - mean_ac[t + 1]) / var_plus;
    if (even + odd >= 0) {
      rho[t] = even;
      rho[t + 1] = odd;
    }
  }
  long max_t = t;
  if (even > 0)   /* used by the improved estimate */
    rho[max_t] = even;
  /* Geyer's initial monotone sequence */
  t = 0;
  while (t <= max_t - 4) {
    t += 2;
    if (rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]) {
      rho[t] = (rho[t - 2] + rho[t - 1]) / 2;
      rho[t + 1] = rho[t];
    }
  }
  double S = (double)(m * n), sum = 0;
  for (long i = 0; i < (max_t > 0 ? max_t : 1); i++)   /* R's rho[1:max_t], which is rho[1] for max_t 0 */
    sum += rho[i];
  double tau = -1 + 2 * sum + rho[max_t];   /* the improved estimate: less variance when antithetic */
  tau = fmax(tau, 1 / log10(S));
  result = S / tau;
done:
  free(acov);
  free(rho);
  free(mean_ac);
  return result;
}

/* posterior's .rhat over m chains of n draws. */
static double rhat(const double *x, size_t m, size_t n)
{
  if (m < 2 || n < 2 || degenerate(x, m * n))
    return NAN;
  double N = (double)n, var_within = 0, *mean = malloc(m * sizeof *mean);
  if (!mean)
    return NAN;
  for (size_t c = 0; c < m; c++) {
    double mu = 0;
    for (size_t i = 0; i < n; i++)
      mu += x[c * n + i];
    mean[c] = mu / N;
    var_within += variance(x + c * n, n);
  }
  var_within /= (double)m;
  double var_between = N * variance(mean, m);
  free(mean);
  return sqrt((var_between / var_within + N - 1) / N);
}

typedef struct {
  double v;
  size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
  const ranked *x = a, *y = b;
  return x->v < y->v ? -1 : x->v > y->v ? 1 : (x->i > y->i) - (x->i < y->i);
}

/* Rank normalisation in place: Phi^-1((rank - 3/8) / (S + 1/4)), ties given their mean rank. */
static int z_scale(double *x, size_t S)
{
  ranked *r = malloc((S ? S : 1) * sizeof *r);
  if (!r)
    return DENSRT_ENOMEM;
  for (size_t i = 0; i < S; i++)
    r[i] = (ranked){x[i], i};
  qsort(r, S, sizeof *r, cmp_ranked);
  for (size_t a = 0; a < S;) {
    size_t b = a;
    while (b + 1 < S && r[b + 1].v == r[a].v)
      b++;
    double rank = 0.5 * (double)(a + b) + 1;   /* the mean of ranks a+1 .. b+1 */
    for (size_t k = a; k <= b; k++)
      x[r[k].i] = gsl_cdf_ugaussian_Pinv((rank - 0.375) / ((double)S + 0.25));
    a = b + 1;
  }
  free(r);
  return DENSRT_OK;
}

/* A statistic of the draws, or of their split chains. */
static double on_chains(double (*stat)(const double *, size_t, size_t), const double *x, size_t chains, size_t n,
                        int do_split)
{
  if (!do_split)
    return stat(x, chains, n);
  size_t h;
  double *y = split(x, chains, n, &h), r = y ? stat(y, 2 * chains, h) : NAN;
  free(y);
  return r;
}

double densrt_mcstat_ess_basic(const double *x, size_t chains, size_t n, int do_split)
{
  return on_chains(ess, x, chains, n, do_split);
}

double densrt_mcstat_rhat_basic(const double *x, size_t chains, size_t n, int do_split)
{
  return on_chains(rhat, x, chains, n, do_split);
}

/* }==================================================================== */

int densrt_mcstat_summarize(const double *x, size_t chains, size_t n, densrt_mcstat_summary *s)
{
  size_t S = chains * n, h = 0;
  double *y = split(x, chains, n, &h), *z = malloc((S ? S : 1) * sizeof *z);
  if (!y || !z) {
    free(y);
    free(z);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  size_t H = 2 * chains * h;   /* draws in the split chains */
  double sum = 0;
  for (size_t i = 0; i < S; i++)
    sum += x[i];
  s->mean = sum / (double)S;
  double ss = 0;
  for (size_t i = 0; i < S; i++)
    ss += (x[i] - s->mean) * (x[i] - s->mean);
  s->sd = S > 1 ? sqrt(ss / (double)(S - 1)) : NAN;
  s->q5 = densrt_mcstat_quantile(x, S, 0.05);
  s->q50 = densrt_mcstat_quantile(x, S, 0.5);
  s->q95 = densrt_mcstat_quantile(x, S, 0.95);
  int bad = degenerate(x, S);
  s->mcse_mean = bad ? NAN : s->sd / sqrt(ess(y, 2 * chains, h));
  /* bulk: the rank-normalised split chains */
  memcpy(z, y, H * sizeof *z);
  if (z_scale(z, H))
    goto oom;
  s->ess_bulk = bad ? NAN : ess(z, 2 * chains, h);
  double rhat_bulk = bad ? NAN : rhat(z, 2 * chains, h);
  /* the folded draws |x - median|, split and rank-normalised */
  for (size_t i = 0; i < H; i++)
    z[i] = fabs(y[i] - s->q50);
  if (z_scale(z, H))
    goto oom;
  double rhat_tail = bad ? NAN : rhat(z, 2 * chains, h);
  s->rhat = isnan(rhat_bulk) || isnan(rhat_tail) ? NAN : fmax(rhat_bulk, rhat_tail);
  /* tail: the indicators of the 5% and 95% quantiles */
  double q[2] = {s->q5, s->q95}, e[2];
  for (int k = 0; k < 2; k++) {
    for (size_t i = 0; i < H; i++)
      z[i] = y[i] <= q[k];
    e[k] = bad ? NAN : ess(z, 2 * chains, h);
  }
  s->ess_tail = isnan(e[0]) || isnan(e[1]) ? NAN : fmin(e[0], e[1]);
  free(y);
  free(z);
  return DENSRT_OK;
oom:
  free(y);
  free(z);
  DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
}
