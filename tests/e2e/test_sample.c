/*
** test_sample.c — the sample and summary commands end to end: posteriors known in
** closed form or by quadrature (a lower-bounded and a two-bounded parameter, through
** their transforms), draws that do not depend on the number of threads, Stan CSV
** files that stay whole when interrupted, and bad input refused before any work.
*/
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"
#include "mcstat.h"
#include "moments.h"
#include "stancsv.h"


/* n rows of column x, x_i = (i + 0.5)^2 / n^2 (more points near 0 than 1) */
static void write_data(const char *name, int n)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s.csv", e2e_tmp, name);
  FILE *f = fopen(path, "w");
  fputs("x\n", f);
  for (int i = 0; i < n; i++)
    fprintf(f, "%.17g\n", (i + 0.5) * (i + 0.5) / ((double)n * n));
  fclose(f);
}

/* The chains' draws of one column, read back with the runtime's reader. */
static double *draws_of(const char *prefix, size_t chains, const char *col, size_t *n)
{
  char **paths = calloc(chains, sizeof *paths);
  for (size_t c = 0; c < chains; c++) {
    paths[c] = malloc(600);
    snprintf(paths[c], 600, "%s_%zu.csv", prefix, c + 1);
  }
  densrt_stancsv_set s;
  ck_assert_int_eq(densrt_stancsv_read((const char *const *)paths, chains, &s), 0);
  size_t k = 0;
  while (k < s.n_cols && strcmp(s.names[k], col))
    k++;
  ck_assert_uint_lt(k, s.n_cols);
  *n = s.n_draws[0];
  double *x = malloc(chains * *n * sizeof *x);
  for (size_t c = 0; c < chains; c++) {
    ck_assert_uint_eq(s.n_draws[c], *n);
    for (size_t i = 0; i < *n; i++)
      x[c * *n + i] = s.draws[c][i * s.n_cols + k];
  }
  densrt_stancsv_set_free(&s);
  for (size_t c = 0; c < chains; c++)
    free(paths[c]);
  free(paths);
  return x;
}

/* A constant intensity lam > 0 on [0, 1] and no prior: the posterior is Gamma(N + 1, 1). */
START_TEST(test_lower_bound_gamma)
{
  e2e_compile("gam", "data { real x in [0, 1]; }\nparameters { real<lower=0> lam; }\nmodel { intensity = lam; }\n");
  write_data("gam", 20);
  for (int seed = 1; seed <= 3; seed++) {
    ck_assert_int_eq(e2e_run("cd %s && ./gam sample --quiet --data gam.csv --out gam%d --seed %d > /dev/null", e2e_tmp,
                             seed, seed), 0);
    char prefix[512], what[64];
    snprintf(prefix, sizeof prefix, "%s/gam%d", e2e_tmp, seed);
    snprintf(what, sizeof what, "gamma, seed %d", seed);
    size_t n;
    double *x = draws_of(prefix, 4, "lam", &n);
    ck_assert_uint_eq(n, 1000);
    for (size_t i = 0; i < 4 * n; i++)
      ck_assert(x[i] > 0);
    check_moments(x, 4, n, 21, 21, 0, what);
    free(x);
  }
}
END_TEST

/* A mixing fraction 0 < f < 1 of two densities: its posterior by quadrature. */
START_TEST(test_two_bounds)
{
  e2e_compile("fm", "data { real x in [0, 1]; }\nparameters { real a; real<lower=0, upper=1> f; }\n"
                "model { intensity = exp(a) * (f * 2 * x + (1 - f)); }\npriors { a ~ normal(3, 1); }\n");
  int N = 30;
  write_data("fm", N);
  /* p(f) ~ prod_i (1 + f (2 x_i - 1)) on [0, 1]: Simpson on 20001 points */
  double z = 0, m1 = 0, m2 = 0;
  int K = 20000;
  for (int k = 0; k <= K; k++) {
    double f = (double)k / K, lp = 0;
    for (int i = 0; i < N; i++) {
      double x = (i + 0.5) * (i + 0.5) / ((double)N * N);
      lp += log(1 + f * (2 * x - 1));
    }
    double w = (k == 0 || k == K ? 1 : k % 2 ? 4 : 2) * exp(lp);
    z += w, m1 += w * f, m2 += w * f * f;
  }
  double mean = m1 / z, var = m2 / z - mean * mean;
  for (int seed = 1; seed <= 3; seed++) {
    ck_assert_int_eq(e2e_run("cd %s && ./fm sample --quiet --data fm.csv --out fm%d --seed %d > /dev/null", e2e_tmp,
                             seed, seed), 0);
    char prefix[512], what[64];
    snprintf(prefix, sizeof prefix, "%s/fm%d", e2e_tmp, seed);
    snprintf(what, sizeof what, "fraction, seed %d", seed);
    size_t n;
    double *x = draws_of(prefix, 4, "f", &n);
    for (size_t i = 0; i < 4 * n; i++)
      ck_assert(x[i] > 0 && x[i] < 1);
    check_moments(x, 4, n, mean, var, 0, what);
    free(x);
  }
}
END_TEST

/* Parameters only in the priors: a random walk v1 ~ N(0, 1), v_k ~ N(v_(k-1), 1), so the
** posterior is Gaussian with var(v_k) = k and cov(v_j, v_k) = min(j, k). */
START_TEST(test_prior_only_random_walk)
{
  e2e_compile("rw", "data { real x in [0, 1]; }\nparameters { real a; vector[3] v; }\nmodel { intensity = exp(a); }\n"
                "priors { a ~ normal(2, 1); v[1] ~ normal(0, 1); v[2:end] ~ normal(v[1:end-1], 1); }\n");
  write_data("rw", 10);
  for (int seed = 1; seed <= 2; seed++) {
    ck_assert_int_eq(e2e_run("cd %s && ./rw sample --quiet --data rw.csv --out rw%d --seed %d > /dev/null 2>&1",
                             e2e_tmp, seed, seed), 0);
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s/rw%d", e2e_tmp, seed);
    size_t n;
    double *v[3];
    for (int k = 0; k < 3; k++) {
      char col[8], what[64];
      snprintf(col, sizeof col, "v.%d", k + 1);
      snprintf(what, sizeof what, "random walk, seed %d, v[%d]", seed, k + 1);
      v[k] = draws_of(prefix, 4, col, &n);
      check_moments(v[k], 4, n, 0, k + 1, 0, what);
    }
    /* cov(v1, v3) = 1: the correlation 1 / sqrt(3), sample error ~ 0.02 at these ESS */
    double c = 0, s1 = 0, s3 = 0;
    for (size_t i = 0; i < 4 * n; i++)
      c += v[0][i] * v[2][i], s1 += v[0][i] * v[0][i], s3 += v[2][i] * v[2][i];
    ck_assert_msg(fabs(c / sqrt(s1 * s3) - 1 / sqrt(3.0)) < 0.06, "correlation %g", c / sqrt(s1 * s3));
    for (int k = 0; k < 3; k++)
      free(v[k]);
  }
}
END_TEST

/* Parameters only in the priors, one per family (tests/priors.sh checks the densities
** themselves): the draws against each prior's mean and variance, through sample's
** transforms of the bounds.  A half-normal and a half-cauchy are a normal and a cauchy on
** a parameter with lower bound 0 (the cauchy's median, the scale, by an indicator);
** h is a half-normal whose scale tau ~ gamma(3, 2): E h = E tau sqrt(2/pi), E h^2 = E tau^2.
** pt ~ normal(mu, 1) on pt > 0 is truncated with the constant log Phi(mu), a function of
** mu: then mu's marginal is its prior N(0.5, 1) (without it, N(0.5, 1) Phi(mu), mean 0.91). */
START_TEST(test_prior_families)
{
  e2e_compile("fam", "data { real x in [0, 1]; }\n"
                "parameters { real a; real<lower=0> hn; real<lower=0> hc; real<lower=0> g; real<lower=0> e;\n"
                "  real<lower=0> ln; real<lower=-1, upper=3> u; real t; real<lower=0> tau; real<lower=0> h;\n"
                "  real mu; real<lower=0> pt; }\n"
                "model { intensity = exp(a); }\n"
                "priors { a ~ normal(2, 1); hn ~ normal(0, 2); hc ~ cauchy(0, 1.5); g ~ gamma(3, 2);\n"
                "  e ~ exponential(2); ln ~ lognormal(0.2, 0.5); u ~ uniform(-1, 3); t ~ student_t(10, 1, 2);\n"
                "  tau ~ gamma(3, 2); h ~ normal(0, tau); mu ~ normal(0.5, 1); pt ~ normal(mu, 1); }\n");
  write_data("fam", 10);
  const double pi = 3.14159265358979323846, s2 = exp(0.25) - 1;
  const struct {
    const char *col;
    double mean, var;
  } truth[] = {
    {"hn", 2 * sqrt(2 / pi), 4 * (1 - 2 / pi)},
    {"g", 1.5, 0.75},
    {"e", 0.5, 0.25},
    {"ln", exp(0.2 + 0.125), s2 * exp(0.4 + 0.25)},
    {"u", 1, 16.0 / 12},
    {"t", 1, 4 * 10.0 / 8},
    {"tau", 1.5, 0.75},
    {"h", 1.5 * sqrt(2 / pi), 3 - 1.5 * 1.5 * 2 / pi},
    {"mu", 0.5, 1},
  };
  for (int seed = 1; seed <= 2; seed++) {
    ck_assert_int_eq(e2e_run("cd %s && ./fam sample --quiet --data fam.csv --out fam%d --seed %d > /dev/null 2>&1",
                             e2e_tmp, seed, seed), 0);
    char prefix[512], what[64];
    snprintf(prefix, sizeof prefix, "%s/fam%d", e2e_tmp, seed);
    size_t n;
    for (size_t k = 0; k < sizeof truth / sizeof *truth; k++) {
      snprintf(what, sizeof what, "%s, seed %d", truth[k].col, seed);
      double *x = draws_of(prefix, 4, truth[k].col, &n);
      check_moments(x, 4, n, truth[k].mean, truth[k].var, 100, what);
      free(x);
    }
    double *x = draws_of(prefix, 4, "hc", &n);
    for (size_t i = 0; i < 4 * n; i++)
      x[i] = x[i] < 1.5;   /* P(hc < 1.5) = 1/2 */
    densrt_mcstat_summary m;   /* an indicator's variance is fixed by its mean: the mean alone */
    ck_assert_int_eq(densrt_mcstat_summarize(x, 4, n, &m), 0);
    ck_assert_msg(fabs(m.mean - 0.5) <= 4 * m.mcse_mean && m.ess_bulk > 100, "half-cauchy, seed %d: P(hc < 1.5) %g, "
                  "MCSE %g, ESS %g", seed, m.mean, m.mcse_mean, m.ess_bulk);
    free(x);
  }
}
END_TEST

/* The draws of a seed are the same with one thread or two (all but the timing lines). */
START_TEST(test_threads_do_not_matter)
{
  e2e_compile("thr", "data { real x in [0, 1]; }\nparameters { real<lower=0> lam; real b; }\n"
                 "model { intensity = lam * exp(b * x); }\npriors { b ~ normal(0, 1); }\n");
  write_data("thr", 15);
  /* short chains: the ESS warning may fire (exit 1); the files are written either way */
  for (int t = 1; t <= 2; t++)
    ck_assert_int_le(e2e_run("cd %s && ./thr sample --quiet --data thr.csv --out thr_t%d --seed 5 --chains 3 "
                             "--warmup 200 --draws 200 --threads %d > /dev/null 2>&1", e2e_tmp, t, t), 1);
  for (int c = 1; c <= 3; c++)
    ck_assert_int_eq(e2e_run("cd %s && grep -v '^#' thr_t1_%d.csv > a && grep -v '^#' thr_t2_%d.csv > b && cmp a b",
                             e2e_tmp, c, c), 0);
  /* other chains, other draws */
  ck_assert_int_ne(e2e_run("cd %s && grep -v '^#' thr_t1_1.csv > a && grep -v '^#' thr_t1_2.csv > b && cmp -s a b",
                           e2e_tmp), 0);
  /* the summary command reads them back: rows for lp__, lam and b */
  char out[512];
  snprintf(out, sizeof out, "%s/thr-summary.txt", e2e_tmp);
  int rc = e2e_run("cd %s && ./thr summary thr_t1_1.csv thr_t1_2.csv thr_t1_3.csv --out %s 2> /dev/null", e2e_tmp, out);
  ck_assert_msg(rc == 0 || rc == 1, "summary exit %d", rc);
  char *t = e2e_slurp(out);
  ck_assert_msg(strstr(t, "\nlp__ ") && strstr(t, "\nlam ") && strstr(t, "\nb ") && strstr(t, "ess_bulk"), "%s", t);
  free(t);
}
END_TEST

/* Stan's CSV layout: configuration, header, adaptation, rows, timing. */
START_TEST(test_stan_csv_layout)
{
  e2e_compile("lay", "data { real x in [0, 1]; }\nparameters { vector[2] v; }\n"
                 "model { intensity = exp(v[1] + v[2] * x); }\npriors { v ~ normal(0, 3); }\n");
  write_data("lay", 10);
  ck_assert_int_le(e2e_run("cd %s && ./lay sample --quiet --data lay.csv --out lay --seed 3 --chains 1 --warmup 100 "
                           "--draws 50 > /dev/null 2>&1", e2e_tmp), 1);
  char path[512];
  snprintf(path, sizeof path, "%s/lay_1.csv", e2e_tmp);
  char *t = e2e_slurp(path);
  ck_assert_msg(strstr(t, "# method = sample (Default)\n") && strstr(t, "#     num_samples = 50\n") &&
                strstr(t, "#     num_warmup = 100\n") && strstr(t, "#   seed = 3\n"), "%s", t);
  const char *h = strstr(t, "\nlp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,v.1,v.2\n");
  ck_assert_ptr_nonnull(h);
  const char *a = strstr(h, "# Adaptation terminated\n# Step size = ");
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(strstr(a, "# Diagonal elements of inverse mass matrix:\n# "));
  ck_assert_ptr_nonnull(strstr(a, "#  Elapsed Time: "));
  int rows = 0;
  for (const char *p = strchr(a, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
    rows += p[1] != '#';
  ck_assert_int_eq(rows, 50);
  free(t);
}
END_TEST

/* Ctrl-C: exit 130, and each file is whole (footer) with the draws made so far. */
START_TEST(test_interrupted)
{
  e2e_compile("intr", "data { real x in [0, 1]; }\nparameters { real<lower=0> lam; }\nmodel { intensity = lam; }\n");
  write_data("intr", 20);
  int rc = e2e_run("cd %s && (./intr sample --quiet --data intr.csv --out intr --seed 1 --chains 2 --threads 2 "
                   "--warmup 100 --draws 100000000 > /dev/null & p=$!; sleep 2; kill -INT $p; wait $p)", e2e_tmp);
  ck_assert_int_eq(rc, 130);
  for (int c = 1; c <= 2; c++)   /* the files are long: grep, not slurp */
    ck_assert_int_eq(e2e_run("cd %s && grep -q '^# Adaptation terminated$' intr_%d.csv && "
                             "grep -q '^#  Elapsed Time: ' intr_%d.csv && tail -1 intr_%d.csv | grep -qx '# '", e2e_tmp,
                             c, c, c), 0);
  ck_assert_int_eq(e2e_run("cd %s && ls intr_*.csv.tmp* 2> /dev/null | wc -l | grep -qx 0", e2e_tmp), 0);
  /* the files read back */
  ck_assert_int_le(e2e_run("cd %s && ./intr summary --quiet intr_1.csv intr_2.csv > /dev/null 2>&1", e2e_tmp), 1);
}
END_TEST

/* predict: at --params the intensity itself; over draws, the quantiles of the draws' intensities. */
START_TEST(test_predict)
{
  e2e_compile("pr", "data { real x in [0, 1]; }\nparameters { real<lower=0> lam; real b; }\n"
                "model { component c = lam * exp(b * x); intensity = c; }\npriors { b ~ normal(0, 1); }\n");
  write_data("pr", 25);
  char out[512], params[512];
  snprintf(params, sizeof params, "%s/pr-p.json", e2e_tmp);
  FILE *f = fopen(params, "w");
  fputs("{\"lam\": 3.5, \"b\": -0.7}\n", f);
  fclose(f);
  snprintf(out, sizeof out, "%s/pr-at.csv", e2e_tmp);
  ck_assert_int_eq(e2e_run("cd %s && ./pr predict --params %s --grid x=0:1:5 --out %s", e2e_tmp, params, out), 0);
  f = fopen(out, "r");
  char line[512];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_str_eq(line, "x,c,total\n");
  for (int i = 0; i < 5; i++) {
    double x, c, t;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_int_eq(sscanf(line, "%lg,%lg,%lg", &x, &c, &t), 3);
    ck_assert(fabs(x - 0.25 * i) < 1e-15);
    ck_assert_msg(fabs(c - 3.5 * exp(-0.7 * x)) < 1e-14 * c && c == t, "%s", line);
  }
  fclose(f);
  /* over draws: at x = 0 the intensity is lam, so its quantiles are lam's */
  ck_assert_int_le(e2e_run("cd %s && ./pr sample --quiet --data pr.csv --out prs --seed 2 --chains 2 --warmup 300 "
                           "--draws 301 > /dev/null 2>&1", e2e_tmp), 1);
  snprintf(out, sizeof out, "%s/pr-band.csv", e2e_tmp);
  ck_assert_int_eq(e2e_run("cd %s && ./pr predict --draws prs_1.csv,prs_2.csv --grid x=0:0:1 --out %s", e2e_tmp, out),
                   0);
  char prefix[512];
  snprintf(prefix, sizeof prefix, "%s/prs", e2e_tmp);
  size_t n;
  double *lam = draws_of(prefix, 2, "lam", &n);
  f = fopen(out, "r");
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_str_eq(line, "x,c_q16,c_q50,c_q84,total_q16,total_q50,total_q84\n");
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  double q[7];
  ck_assert_int_eq(sscanf(line, "%lg,%lg,%lg,%lg,%lg,%lg,%lg", &q[0], &q[1], &q[2], &q[3], &q[4], &q[5], &q[6]), 7);
  fclose(f);
  ck_assert(q[1] < q[2] && q[2] < q[3]);
  ck_assert_msg(fabs(q[2] - densrt_mcstat_quantile(lam, 2 * n, 0.5)) <= 1e-12 * q[2], "median %g", q[2]);
  ck_assert_msg(fabs(q[1] - densrt_mcstat_quantile(lam, 2 * n, 0.16)) <= 1e-12 * q[1], "q16 %g", q[1]);
  free(lam);
  /* bad input */
  char err[512];
  snprintf(err, sizeof err, "%s/pr-err.txt", e2e_tmp);
  ck_assert_int_eq(e2e_run("cd %s && ./pr predict --params %s 2> %s", e2e_tmp, params, err), 2);
  char *t = e2e_slurp(err);
  ck_assert_msg(strstr(t, "predict needs --grid COL=LO:HI:N"), "%s", t);
  free(t);
  ck_assert_int_eq(e2e_run("cd %s && ./pr predict --grid x=0:1:0 --params %s 2> %s", e2e_tmp, params, err), 2);
  ck_assert_int_eq(e2e_run("cd %s && ./pr predict --grid x=0:1:3 2> %s", e2e_tmp, err), 2);
  t = e2e_slurp(err);
  ck_assert_msg(strstr(t, "predict needs either --draws FILES or --params FILE"), "%s", t);
  free(t);
}
END_TEST

/* Found by review: a warmup whose last slow window holds one draw (151) kept a NaN metric;
** a second signal left temporary files; predict with an empty --draws list crashed; an
** output prefix naming the data file was not refused. */
START_TEST(test_review_regressions)
{
  e2e_compile("rev", "data { real x in [0, 1]; }\nparameters { real<lower=0> lam; }\nmodel { intensity = lam; }\n");
  write_data("rev", 20);
  ck_assert_int_le(e2e_run("cd %s && ./rev sample --quiet --data rev.csv --out rev151 --seed 1 --chains 1 "
                           "--warmup 151 --draws 200 > /dev/null 2>&1", e2e_tmp), 1);
  ck_assert_int_eq(e2e_run("cd %s && grep -q '^# Step size = [0-9]' rev151_1.csv && ! grep -qi nan rev151_1.csv",
                           e2e_tmp), 0);
  int rc = e2e_run("cd %s && (./rev sample --quiet --data rev.csv --out rev2s --seed 1 --chains 2 --threads 2 "
                   "--warmup 100 --draws 100000000 > /dev/null 2>&1 & p=$!; sleep 1; kill -INT $p; kill -TERM $p; "
                   "wait $p)", e2e_tmp);
  ck_assert_msg(rc == 143 || rc == 130, "exit %d", rc);
  ck_assert_int_eq(e2e_run("cd %s && ls rev2s_*.tmp* 2> /dev/null | wc -l | grep -qx 0", e2e_tmp), 0);
  char err[512];
  snprintf(err, sizeof err, "%s/rev-err.txt", e2e_tmp);
  ck_assert_int_eq(e2e_run("cd %s && ./rev predict --draws , --grid x=0:1:3 2> %s", e2e_tmp, err), 2);
  char *t = e2e_slurp(err);
  ck_assert_msg(strstr(t, "--draws: no file named"), "%s", t);
  free(t);
  ck_assert_int_eq(e2e_run("cd %s && cp rev.csv revd_1.csv && ./rev sample --data revd_1.csv --out revd 2> %s", e2e_tmp,
                           err), 2);
  t = e2e_slurp(err);
  ck_assert_msg(strstr(t, "is the data file; refusing to overwrite it"), "%s", t);
  free(t);
}
END_TEST

/* Bad input: a message naming the problem, exit 2, no files. */
static const struct {
  const char *args, *expect;
} bad[] = {
  {"--chains 0", "--chains: expected a whole number from 1 to 1024, got '0'"},
  {"--draws x", "--draws: expected a whole number from 1 to 100000000, got 'x'"},
  {"--seed -1", "--seed: expected a whole number from 0 to 4294967295, got '-1'"},
  {"--delta 1.5", "--delta: the target acceptance must be between 0 and 1"},
  {"--metric full", "--metric: expected 'diag' or 'dense', got 'full'"},
  {"--max-depth 0", "--max-depth: expected a whole number from 1 to 30"},
  {"--init @I", "lam = -1 is outside its bounds"},
  {"--init @I --init-from-map", "give --init or --init-from-map, not both"},
};

START_TEST(test_bad_input)
{
  static int compiled;
  if (!compiled++) {
    e2e_compile("bad", "data { real x in [0, 1]; }\nparameters { real<lower=0> lam; }\nmodel { intensity = lam; }\n");
    write_data("bad", 5);
  }
  char init[512], err[512], args[1200];
  snprintf(init, sizeof init, "%s/bad-init.json", e2e_tmp);
  FILE *f = fopen(init, "w");
  fputs("{\"lam\": -1}\n", f);
  fclose(f);
  const char *at = strstr(bad[_i].args, "@I");
  if (at)
    snprintf(args, sizeof args, "%.*s%s%s", (int)(at - bad[_i].args), bad[_i].args, init, at + 2);
  else
    snprintf(args, sizeof args, "%s", bad[_i].args);
  snprintf(err, sizeof err, "%s/bad-err.txt", e2e_tmp);
  ck_assert_int_eq(e2e_run("cd %s && rm -f badout_* && ./bad sample --data bad.csv --out badout %s 2> %s", e2e_tmp, args,
                           err), 2);
  char *t = e2e_slurp(err);
  ck_assert_msg(strstr(t, bad[_i].expect), "%s: %s", bad[_i].args, t);
  free(t);
  ck_assert_int_eq(e2e_run("cd %s && ls badout_* 2> /dev/null | wc -l | grep -qx 0", e2e_tmp), 0);
}
END_TEST

START_TEST(test_unwritable_prefix)
{
  e2e_compile("unw", "data { real x in [0, 1]; }\nparameters { real<lower=0> lam; }\nmodel { intensity = lam; }\n");
  write_data("unw", 5);
  char err[512];
  snprintf(err, sizeof err, "%s/unw-err.txt", e2e_tmp);
  ck_assert_int_eq(e2e_run("cd %s && ./unw sample --data unw.csv --out /nonexistent/dir/p 2> %s", e2e_tmp, err), 2);
  char *t = e2e_slurp(err);
  ck_assert_msg(strstr(t, "--out /nonexistent/dir/p_1.csv: cannot write in /nonexistent/dir"), "%s", t);
  free(t);
  ck_assert_int_eq(e2e_run("cd %s && ./unw sample --data unw.csv 2> %s", e2e_tmp, err), 2);
  t = e2e_slurp(err);
  ck_assert_msg(strstr(t, "sample needs --out PREFIX"), "%s", t);
  free(t);
}
END_TEST

int main(void)
{
  if (e2e_setup())
    return EXIT_FAILURE;
  Suite *s = suite_create("sample");
  TCase *tc = tcase_create("posteriors");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_lower_bound_gamma);
  tcase_add_test(tc, test_two_bounds);
  tcase_add_test(tc, test_prior_only_random_walk);
  tcase_add_test(tc, test_prior_families);
  tcase_add_test(tc, test_threads_do_not_matter);
  tcase_add_test(tc, test_stan_csv_layout);
  tcase_add_test(tc, test_interrupted);
  tcase_add_test(tc, test_predict);
  tcase_add_test(tc, test_review_regressions);
  suite_add_tcase(s, tc);
  TCase *tb = tcase_create("bad input");
  tcase_set_timeout(tb, 120);
  tcase_add_loop_test(tb, test_bad_input, 0, (int)(sizeof bad / sizeof *bad));
  tcase_add_test(tb, test_unwritable_prefix);
  suite_add_tcase(s, tb);
  return e2e_finish(s);
}
