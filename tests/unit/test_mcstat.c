/*
** test_mcstat.c — R-hat, ESS, MCSE and quantiles against the posterior R package:
** tests/data/mcstat/reference.csv holds its numbers (reference.R made them with
** Debian's r-cran-posterior) for the draw sets of draws.txt: autocorrelated, odd
** lengths (the FFT padding), antithetic (the ESS cap), shifted chains (R-hat > 1),
** heavy tails, ties, a single chain.
*/
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mcstat.h"

#define DIR TEST_DATA_DIR "/mcstat/"

/* The draws of one set: chains one after another, each of n draws. */
static double *load_set(const char *set, size_t *chains, size_t *n)
{
  FILE *f = fopen(DIR "draws.txt", "r");
  ck_assert_ptr_nonnull(f);
  char *line = NULL;
  size_t cap = 0, k = 0, total = 0;
  double *x = NULL;
  *chains = 0;
  while (getline(&line, &cap, f) > 0) {
    if (line[0] == '#')
      continue;
    char name[64];
    int used = 0, chain;
    if (sscanf(line, "%63s %d%n", name, &chain, &used) != 2 || strcmp(name, set))
      continue;
    size_t m = 0;
    for (char *p = line + used, *e; (strtod(p, &e), e != p); p = e)
      m++;
    x = realloc(x, (total + m) * sizeof *x);
    char *p = line + used, *e;
    for (size_t i = 0; i < m; i++, p = e)
      x[total + i] = strtod(p, &e);
    total += m;
    k = m;
    (*chains)++;
  }
  free(line);
  fclose(f);
  *n = k;
  ck_assert_msg(x && total == *chains * k, "set %s: ragged chains", set);
  return x;
}

static void close_to(double got, double want, double rel, const char *set, const char *what)
{
  ck_assert_msg(fabs(got - want) <= rel * fmax(1e-300, fabs(want)), "%s: %s %.17g, posterior %.17g", set, what, got,
                want);
}

START_TEST(test_against_posterior)
{
  FILE *f = fopen(DIR "reference.csv", "r");
  ck_assert_ptr_nonnull(f);
  char line[4096];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));   /* the header */
  int sets = 0;
  while (fgets(line, sizeof line, f)) {
    char set[64], version[32];
    double r[11];
    int got = sscanf(line, "%63[^,],%31[^,],%lg,%lg,%lg,%lg,%lg,%lg,%lg,%lg,%lg,%lg,%lg", set, version, &r[0], &r[1],
                     &r[2], &r[3], &r[4], &r[5], &r[6], &r[7], &r[8], &r[9], &r[10]);
    ck_assert_int_eq(got, 13);
    size_t chains, n;
    double *x = load_set(set, &chains, &n);
    densrt_mcstat_summary s;
    ck_assert_int_eq(densrt_mcstat_summarize(x, chains, n, &s), DENSRT_OK);
    close_to(s.mean, r[0], 1e-13, set, "mean");
    close_to(s.sd, r[1], 1e-13, set, "sd");
    close_to(s.mcse_mean, r[2], 1e-9, set, "mcse_mean");
    close_to(s.q5, r[3], 1e-13, set, "q5");
    close_to(s.q50, r[4], 1e-13, set, "q50");
    close_to(s.q95, r[5], 1e-13, set, "q95");
    close_to(s.ess_bulk, r[6], 1e-9, set, "ess_bulk");
    close_to(s.ess_tail, r[7], 1e-9, set, "ess_tail");
    close_to(s.rhat, r[8], 1e-12, set, "rhat");
    close_to(densrt_mcstat_ess_basic(x, chains, n, 1), r[9], 1e-9, set, "ess_basic");
    close_to(densrt_mcstat_rhat_basic(x, chains, n, 1), r[10], 1e-12, set, "rhat_basic");
    free(x);
    sets++;
  }
  fclose(f);
  ck_assert_int_eq(sets, 7);
}
END_TEST

/* Far from 0 (a log density of a large data set): the same MCSE and R-hat as near 0 (the
** variance of the chain means was taken as E[x^2] - E[x]^2: 14 times too large at 1e9). */
START_TEST(test_large_offset)
{
  size_t chains, n;
  double *x = load_set("shifted", &chains, &n), *y = malloc(chains * n * sizeof *y);
  for (size_t i = 0; i < chains * n; i++)
    y[i] = x[i] + 1e9;
  densrt_mcstat_summary a, b;
  ck_assert_int_eq(densrt_mcstat_summarize(x, chains, n, &a), DENSRT_OK);
  ck_assert_int_eq(densrt_mcstat_summarize(y, chains, n, &b), DENSRT_OK);
  ck_assert_msg(fabs(b.mcse_mean / a.mcse_mean - 1) < 1e-5, "mcse %g vs %g", b.mcse_mean, a.mcse_mean);
  double ra = densrt_mcstat_rhat_basic(x, chains, n, 1), rb = densrt_mcstat_rhat_basic(y, chains, n, 1);
  ck_assert_msg(fabs(rb - ra) < 1e-6, "rhat_basic %g vs %g", rb, ra);
  free(x);
  free(y);
}
END_TEST

/* Where posterior gives NA: constant draws, a non-finite draw, too few draws. */
START_TEST(test_degenerate)
{
  double x[40];
  for (int i = 0; i < 40; i++)
    x[i] = 3;
  densrt_mcstat_summary s;
  ck_assert_int_eq(densrt_mcstat_summarize(x, 4, 10, &s), DENSRT_OK);
  ck_assert(isnan(s.ess_bulk) && isnan(s.ess_tail) && isnan(s.rhat) && isnan(s.mcse_mean));
  ck_assert(s.mean == 3 && s.q50 == 3);
  for (int i = 0; i < 40; i++)
    x[i] = sin(i);
  x[17] = INFINITY;
  ck_assert_int_eq(densrt_mcstat_summarize(x, 4, 10, &s), DENSRT_OK);
  ck_assert(isnan(s.rhat) && isnan(s.ess_bulk));
  ck_assert(isnan(densrt_mcstat_ess_basic(x, 8, 2, 0)));   /* 2 draws a chain */
}
END_TEST

static int by_value(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Quantiles by selection against R's type 7 on a sorted copy (Hyndman & Fan 1996:
** h = (n - 1) p, x_(floor h) + (h - floor h) (x_(floor h + 1) - x_(floor h))): lengths 1 ..
** 60 and around and beyond the sampled pivots' threshold (600), data with many ties or
** none, sorted and reversed, probabilities including 0 and 1. */
START_TEST(test_quantiles_select)
{
  static const double p[] = {0, 0.001, 0.16, 0.5, 0.5, 0.84, 0.999, 1};
  static const size_t big[] = {599, 600, 601, 602, 1000, 1237, 4000, 4001, 20000};
  enum { NP = sizeof p / sizeof *p };
  unsigned seed = 7;
  double *x = malloc(20000 * sizeof *x), *sorted = malloc(20000 * sizeof *sorted), q[NP];
  for (size_t c = 0; c < 60 + sizeof big / sizeof *big; c++) {
    size_t n = c < 60 ? c + 1 : big[c - 60];
    for (int rep = 0; rep < (n > 5000 ? 4 : 24); rep++) {
      for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned v = seed >> 8;
        switch (rep % 4) {
        case 0: x[i] = (double)(v % 1000003) - 2.5; break;   /* few ties */
        case 1: x[i] = (double)(v % 5); break;                /* mostly ties */
        case 2: x[i] = (double)i * 0.25; break;                /* sorted */
        default: x[i] = -(double)i + (double)(v % 3); break;   /* nearly reversed */
        }
        sorted[i] = x[i];
      }
      qsort(sorted, n, sizeof *sorted, by_value);
      densrt_mcstat_quantiles(x, n, p, NP, q);
      for (int j = 0; j < NP; j++) {
        double h = (double)(n - 1) * p[j];
        size_t lo = (size_t)floor(h);
        double want = lo + 1 < n ? sorted[lo] + (h - floor(h)) * (sorted[lo + 1] - sorted[lo]) : sorted[n - 1];
        ck_assert_msg(q[j] == want, "n %zu rep %d p %g: %.17g, want %.17g", n, rep, p[j], q[j], want);
      }
    }
  }
  free(x);
  free(sorted);
}
END_TEST

int main(void)
{
  Suite *su = suite_create("mcstat");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_against_posterior);
  tcase_add_test(tc, test_degenerate);
  tcase_add_test(tc, test_large_offset);
  tcase_add_test(tc, test_quantiles_select);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
