/*
** test_fit.c — what optimize may claim, and the generated program's command line:
** fits checked against closed forms from several starts (including the default one),
** 'converged' only at stationary points, unconstrained values named, per-command
** options and help, results complete or absent after a signal, write errors reported.
** Needs only the repository (data/gauss1d.csv), not ../shared.
*/
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e_util.h"

static const char *gauss_csv = SRCDIR "/data/gauss1d.csv";

/* Writes tmp/NAME.dens and compiles tmp/NAME. */

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static double number(const densrt_json *o, const char *k)
{
  return e2e_member(o, k)->number;
}

/* {====================================================================
** 'auto' integration along the optimiser's path
** ===================================================================== */

/* The spline1d example with 'auto' integrals (the model file's advice): the old
** refinement went back to the start, refined nothing and reported the start point as
** converged (objective 0.000414).  Every start reaches the optimum −10.26111854. */
START_TEST(test_auto_spline1d)
{
  char init[512], out[512];
  snprintf(init, sizeof init, "%s/s1-init.json", e2e_tmp);
  snprintf(out, sizeof out, "%s/s1-fit.json", e2e_tmp);
  const char *starts[] = {NULL, "{\"ln_n0\": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}",
                          "{\"ln_n0\": [5, -2, 3, 0, 8, 9, 8, 0, 3, -2, 5]}"};
  double best[3];
  for (int s = 0; s < 3; s++) {
    if (starts[s])
      write_file(init, starts[s]);
    ck_assert_int_eq(e2e_run("%s/spline1d optimize --quiet --data %s --integrate z=auto %s%s --out %s", e2e_tmp,
                             gauss_csv, starts[s] ? "--init " : "", starts[s] ? init : "", out), 0);
    densrt_json *fit = e2e_load(out);
    best[s] = number(fit, "objective");
    ck_assert_msg(best[s] <= -10.26111854 && best[s] >= -10.2611186, "start %d: objective %.17g", s, best[s]);
    ck_assert(e2e_member(fit, "converged")->number == 1);
    ck_assert(number(fit, "projected_gradient") <= 1e-6);
    ck_assert(number(fit, "integral_rel_err") <= 1e-10);
    densrt_json_free(fit);
  }
  ck_assert(fabs(best[1] - best[0]) <= 1e-11 && fabs(best[2] - best[0]) <= 1e-11);
}
END_TEST

/* Standard normal CDF */
static double Phi(double z)
{
  return 0.5 * erfc(-z / sqrt(2.0));
}

/* A narrow Gaussian times a plane on the unit square, w = 1e-3, numeric in both columns:
** the old code stopped at its start (or at -9.38) and called it converged.  The optimum
** is known in closed form: for a given mu, ln N0 = ln(N / J(mu)) with
**   J(mu) = (mu + 1.5) (Phi(b) - Phi(a)) + w (phi(a) - phi(b)),  a = -mu/w, b = (1-mu)/w. */
#define NW 400
static double nx[NW], ny[NW];
static const double W = 1e-3;

static double narrow_profile(double mu)
{
  double a = -mu / W, b = (1 - mu) / W;
  double J = (mu + 1.5) * (Phi(b) - Phi(a)) + W * (exp(-0.5 * a * a) - exp(-0.5 * b * b)) / sqrt(2 * M_PI);
  double la = log(NW / J), s = 0;
  for (int i = 0; i < NW; i++) {
    double z = (nx[i] - mu) / W;
    s += la - 0.5 * z * z - log(W * sqrt(2 * M_PI)) + log(nx[i] + ny[i] + 1);
  }
  return -(s - NW) / NW;
}

START_TEST(test_auto_narrow_2d)
{
  e2e_compile("narrow", "data { real x in [0, 1]; real y in [0, 1]; }\n"
                    "parameters { real a; real<lower=0, upper=1> mu; }\n"
                    "model { intensity = exp(a) * normal(x | mu, 0.001) * (x + y + 1); }\n");
  char data[512], init[512], out[512];
  snprintf(data, sizeof data, "%s/narrow.csv", e2e_tmp);
  snprintf(init, sizeof init, "%s/narrow-init.json", e2e_tmp);
  snprintf(out, sizeof out, "%s/narrow-fit.json", e2e_tmp);
  FILE *f = fopen(data, "w");
  fputs("x,y\n", f);
  unsigned long long s = 99;
  for (int i = 0; i < NW; i++) {   /* x ~ N(0.3, w) by Box-Muller, y uniform */
    double u[3];
    for (int k = 0; k < 3; k++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      u[k] = ((double)(s >> 11) + 0.5) / 9007199254740992.0;
    }
    nx[i] = 0.3 + W * sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]);
    ny[i] = u[2];
    fprintf(f, "%.17g,%.17g\n", nx[i], ny[i]);
  }
  fclose(f);
  /* the closed-form optimum by golden-section search over mu */
  double lo = 0.29, hi = 0.31, g = (sqrt(5.0) - 1) / 2;
  for (int it = 0; it < 200; it++) {
    double c = hi - g * (hi - lo), d = lo + g * (hi - lo);
    if (narrow_profile(c) < narrow_profile(d))
      hi = d;
    else
      lo = c;
  }
  double fmin_cf = narrow_profile(0.5 * (lo + hi));
  const char *starts[] = {NULL, "{\"a\": 0, \"mu\": 0.2}", "{\"a\": 5, \"mu\": 0.31}"};
  for (int k = 0; k < 3; k++) {
    if (starts[k])
      write_file(init, starts[k]);
    ck_assert_int_eq(e2e_run("%s/narrow optimize --quiet --data %s --integrate x=auto --integrate y=auto %s%s "
                             "--out %s", e2e_tmp, data, starts[k] ? "--init " : "", starts[k] ? init : "", out), 0);
    densrt_json *fit = e2e_load(out);
    double obj = number(fit, "objective");
    ck_assert_msg(fabs(obj - fmin_cf) <= 1e-9 * fabs(fmin_cf), "start %d: objective %.17g, closed form %.17g", k,
                  obj, fmin_cf);
    ck_assert(e2e_member(fit, "converged")->number == 1);
    densrt_json_free(fit);
  }
}
END_TEST

/* }==================================================================== */

/* {====================================================================
** The verdict
** ===================================================================== */

/* A line search that fails at a stationary point is convergence (the old code exited 1
** with ABNORMAL_TERMINATION_IN_LNSRCH at 4000 identical rows, gradient 2e-9). */
START_TEST(test_line_search_at_optimum)
{
  e2e_compile("lns", "data { real z in [-3, 3]; }\nparameters { real a; }\n"
                 "model { intensity = exp(a) * normal(z | 0, 1); }\n");
  char data[512], out[512];
  snprintf(out, sizeof out, "%s/lns.json", e2e_tmp);
  const int sizes[] = {1000, 4000, 20000};
  for (int k = 0; k < 3; k++) {
    snprintf(data, sizeof data, "%s/lns%d.csv", e2e_tmp, sizes[k]);
    FILE *f = fopen(data, "w");
    fputs("z\n", f);
    for (int i = 0; i < sizes[k]; i++)
      fputs("0.5\n", f);
    fclose(f);
    ck_assert_int_eq(e2e_run("%s/lns optimize --quiet --data %s --out %s", e2e_tmp, data, out), 0);
    densrt_json *fit = e2e_load(out);
    /* closed form: exp(a) (Phi(3) - Phi(-3)) = N; objective = -(ln n(0.5) - 1) */
    double a = log(sizes[k] / (Phi(3) - Phi(-3)));
    double want = -(a - 0.125 - 0.5 * log(2 * M_PI) - 1);
    ck_assert_msg(fabs(number(fit, "objective") - want) <= 1e-12 * fabs(want), "N=%d: %.17g vs %.17g", sizes[k],
                  number(fit, "objective"), want);
    ck_assert(e2e_member(fit, "converged")->number == 1);
    densrt_json_free(fit);
  }
}
END_TEST

/* Stopped away from stationarity is never 'converged': the iteration limit, and L-BFGS-B's
** own relative-reduction test made loose (a Newton polish may still finish the job, in
** which case the point must then be stationary). */
START_TEST(test_not_converged)
{
  char out[512], err[512];
  snprintf(out, sizeof out, "%s/nc.json", e2e_tmp);
  snprintf(err, sizeof err, "%s/nc.err", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/spline1d optimize --data %s --max-iter 3 --out %s 2>%s", e2e_tmp, gauss_csv, out, err),
                   1);
  densrt_json *fit = e2e_load(out);
  ck_assert(e2e_member(fit, "converged")->number == 0);
  ck_assert_str_eq(e2e_member(fit, "status")->string, "iteration limit");
  ck_assert(number(fit, "projected_gradient") > 1e-9);
  densrt_json_free(fit);
  char *msg = e2e_slurp(err);
  ck_assert_msg(strstr(msg, "did not converge: the iteration limit was reached") && strstr(msg, "--max-iter"), "%s",
                msg);
  free(msg);
}
END_TEST

/* A spline without priors whose end knots lie where there are no data: their values
** drift, and the warning names them. */
START_TEST(test_unconstrained_named)
{
  e2e_compile("flat", "data { real z in [-3, 3]; }\nknots { k = linspace(-3, 3, 7); }\n"
                  "parameters { vector[k] v; real<lower=-5, upper=5> b; }\n"
                  "model { intensity = exp(spline(k, v, z)); }\n"
                  "priors { b ~ normal(0, 1); }\n");
  char data[512], out[512], err[512];
  snprintf(data, sizeof data, "%s/flat.csv", e2e_tmp);
  snprintf(out, sizeof out, "%s/flat.json", e2e_tmp);
  snprintf(err, sizeof err, "%s/flat.err", e2e_tmp);
  FILE *f = fopen(data, "w");
  fputs("z\n", f);
  for (int i = 0; i < 500; i++)   /* data only in [-0.5, 0.5] */
    fprintf(f, "%.17g\n", -0.5 + (i + 0.5) / 500);
  fclose(f);
  int rc = e2e_run("%s/flat optimize --data %s --out %s 2>%s", e2e_tmp, data, out, err);
  ck_assert(rc == 0 || rc == 1);
  densrt_json *fit = e2e_load(out);
  const densrt_json *u = e2e_member(fit, "unconstrained");
  int has_first = 0, has_last = 0, has_b = 0;
  for (size_t i = 0; i < u->n; i++) {
    has_first |= !strcmp(u->items[i].string, "v[1]");
    has_last |= !strcmp(u->items[i].string, "v[7]");
    has_b |= !strcmp(u->items[i].string, "b");
  }
  ck_assert_msg(has_first && has_last && !has_b, "unconstrained: %zu names", u->n);
  densrt_json_free(fit);
  char *msg = e2e_slurp(err);
  ck_assert_msg(strstr(msg, "warning: neither data nor priors constrain") && strstr(msg, " v[1]") && strstr(msg, " v[7]"), "%s", msg);
  free(msg);
  /* the example models' fits have no such values */
  snprintf(out, sizeof out, "%s/g1.json", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/gaussian1d optimize --quiet --data %s --out %s", e2e_tmp, gauss_csv, out), 0);
  fit = e2e_load(out);
  ck_assert_int_eq(e2e_member(fit, "unconstrained")->n, 0);
  densrt_json_free(fit);
}
END_TEST

/* A model without parameters: optimize reports its value (it failed with 'L-BFGS-B:
** dimension 0 out of range'). */
START_TEST(test_no_parameters)
{
  e2e_compile("fixed", "data { real x in [0, 2]; }\nmodel { intensity = exp(1 - x); }\n");
  char data[512], out[512];
  snprintf(data, sizeof data, "%s/fixed.csv", e2e_tmp);
  snprintf(out, sizeof out, "%s/fixed.json", e2e_tmp);
  write_file(data, "x\n0.5\n1.5\n");
  ck_assert_int_eq(e2e_run("%s/fixed optimize --quiet --data %s --out %s", e2e_tmp, data, out), 0);
  densrt_json *fit = e2e_load(out);
  double want = -((0.5 + -0.5) - (exp(1.0) - exp(-1.0))) / 2;
  ck_assert_msg(fabs(number(fit, "objective") - want) <= 1e-12, "%.17g vs %.17g", number(fit, "objective"), want);
  ck_assert(e2e_member(fit, "converged")->number == 1);
  densrt_json_free(fit);
}
END_TEST

/* }==================================================================== */

/* {====================================================================
** The command line
** ===================================================================== */

/* Each command has its own --help listing only its options. */
START_TEST(test_command_help)
{
  char out[512];
  snprintf(out, sizeof out, "%s/help.txt", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/gaussian1d plot --help > %s", e2e_tmp, out), 0);
  char *h = e2e_slurp(out);
  ck_assert_msg(strstr(h, "Usage: gaussian1d plot") && strstr(h, "--width") && strstr(h, "  track ") &&
                !strstr(h, "--max-iter"), "%s", h);
  free(h);
  /* a kind's help: its options only */
  ck_assert_int_eq(e2e_run("%s/gaussian1d plot knots --help > %s", e2e_tmp, out), 0);
  h = e2e_slurp(out);
  ck_assert_msg(strstr(h, "Usage: gaussian1d plot knots") && strstr(h, "--init") && !strstr(h, "--draws") &&
                !strstr(h, "--data"), "%s", h);
  free(h);
  ck_assert_int_eq(e2e_run("%s/gaussian1d optimize -h > %s", e2e_tmp, out), 0);
  h = e2e_slurp(out);
  ck_assert_msg(strstr(h, "Usage: gaussian1d optimize") && strstr(h, "--init") && !strstr(h, "--width"), "%s", h);
  free(h);
  ck_assert_int_eq(e2e_run("%s/gaussian1d --version > %s", e2e_tmp, out), 0);
  h = e2e_slurp(out);
  ck_assert_msg(!strncmp(h, "gaussian1d (densc) ", 19), "%s", h);
  free(h);
  /* argument errors come before the data are read: a missing data file is not the complaint */
  snprintf(out, sizeof out, "%s/help.err", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/gaussian1d eval --data /nonexistent.csv 2>%s", e2e_tmp, out), 2);
  h = e2e_slurp(out);
  ck_assert_str_eq(h, "gaussian1d: eval needs --params FILE\n");
  free(h);
}
END_TEST

/* info and benchmark honour --out; a full standard output is an error, not exit 0. */
START_TEST(test_outputs)
{
  char out[512], err[512];
  snprintf(out, sizeof out, "%s/info.txt", e2e_tmp);
  snprintf(err, sizeof err, "%s/info.err", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/spline1d info --out %s > %s.stdout", e2e_tmp, out, out), 0);
  char *t = e2e_slurp(out);
  ck_assert_msg(strstr(t, "model spline1d") && strstr(t, "term1            numeric integral, 1025"), "%s", t);
  free(t);
  char so[600];
  snprintf(so, sizeof so, "%s.stdout", out);
  t = e2e_slurp(so);
  ck_assert_str_eq(t, "");
  free(t);
  snprintf(out, sizeof out, "%s/bench.json", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/gaussian1d benchmark --quiet --batches 1 --data %s --out %s", e2e_tmp, gauss_csv, out),
                   0);
  densrt_json *b = e2e_load(out);
  ck_assert(number(b, "median_seconds") > 0);
  densrt_json_free(b);
  if (access("/dev/full", W_OK) == 0) {
    const char *cmds[] = {"info", "--help", "plot --help", "benchmark --batches 1 --data @D"};
    for (int k = 0; k < 4; k++) {
      char cmd[512];
      snprintf(cmd, sizeof cmd, "%s", cmds[k]);
      char *at = strstr(cmd, "@D");
      if (at)
        snprintf(at, sizeof cmd - (size_t)(at - cmd), "%s", gauss_csv);
      ck_assert_int_eq(e2e_run("%s/gaussian1d %s > /dev/full 2>%s", e2e_tmp, cmd, err), 2);
      t = e2e_slurp(err);
      ck_assert_msg(strstr(t, "error writing standard output: No space left on device"), "%s: %s", cmds[k], t);
      free(t);
    }
  }
  /* eval's JSON names the integral as info does; diagnose names the worst value */
  char params[512];
  snprintf(params, sizeof params, "%s/s0.json", e2e_tmp);
  write_file(params, "{\"ln_n0\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}\n");
  snprintf(out, sizeof out, "%s/eval.json", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/spline1d eval --quiet --data %s --params %s --out %s", e2e_tmp, gauss_csv, params, out),
                   0);
  b = e2e_load(out);
  ck_assert_str_eq(e2e_member(e2e_member(e2e_member(b, "integrals"), "term1"), "integral")->string, "numeric");
  densrt_json_free(b);
  snprintf(out, sizeof out, "%s/diag.json", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/spline1d diagnose --quiet --random 1 --data %s --out %s", e2e_tmp, gauss_csv, out), 0);
  b = e2e_load(out);
  const densrt_json *at = e2e_member(&e2e_member(b, "points")->items[0], "at");
  ck_assert_msg(at->type == DENSRT_JSON_STRING && !strncmp(at->string, "ln_n0[", 6), "at");
  densrt_json_free(b);
}
END_TEST

/* Row counts in the order the filters apply, singular and plural. */
START_TEST(test_row_counts)
{
  char data[512], out[512], err[512];
  snprintf(data, sizeof data, "%s/rows.csv", e2e_tmp);
  snprintf(out, sizeof out, "%s/rows.json", e2e_tmp);
  snprintf(err, sizeof err, "%s/rows.err", e2e_tmp);
  write_file(data, "z\n-2\n-1\n0\n1\n2\n7\n");
  ck_assert_int_eq(e2e_run("%s/spline1d diagnose --random 0 --data %s --where 'z > -1.5' --outside keep "
                           "--out %s 2>%s", e2e_tmp, data, out, err), 0);
  char *t = e2e_slurp(err), want[1024];
  snprintf(want, sizeof want, "spline1d: %s: 6 rows read, 1 dropped by --where, 1 outside the window kept; 5 rows used\n",
           data);
  ck_assert_str_eq(t, want);
  free(t);
  /* one row: singular */
  ck_assert_int_eq(e2e_run("%s/spline1d diagnose --random 0 --data %s --where 'z > 1.5' --outside drop "
                           "--out %s 2>%s", e2e_tmp, data, out, err), 0);
  t = e2e_slurp(err);
  snprintf(want, sizeof want, "spline1d: %s: 6 rows read, 4 dropped by --where, 1 outside the window dropped; 1 row used\n",
           data);
  ck_assert_str_eq(t, want);
  free(t);
}
END_TEST

/* A signal during diagnose leaves neither the result nor a temporary file (the old code
** left DIAG.json.tmpXXXXXX); exit 128 + the signal. */
START_TEST(test_signal_leaves_nothing)
{
  char dir[512], out[600];
  snprintf(dir, sizeof dir, "%s/sig", e2e_tmp);
  mkdir(dir, 0700);
  snprintf(out, sizeof out, "%s/diag.json", dir);
  const int sigs[] = {SIGINT, SIGTERM};
  for (int k = 0; k < 2; k++) {
    pid_t pid = fork();
    if (pid == 0) {
      char prog[512];
      snprintf(prog, sizeof prog, "%s/spline1d", e2e_tmp);
      execl(prog, prog, "diagnose", "--quiet", "--random", "100000", "--data", gauss_csv, "--out", out, (char *)NULL);
      _exit(127);
    }
    struct timespec ts = {0, 400000000};
    nanosleep(&ts, NULL);
    kill(pid, sigs[k]);
    int st;
    waitpid(pid, &st, 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sigs[k], "status %d", st);
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
      files += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(files, 0);
  }
}
END_TEST

/* A width whose optimum lies 2e-5 above its bound 0: the differences step away from the
** bound on the scale of the distance to it (they stepped onto or across it: curvature NaN,
** 'not stationary'; diagnose NaN). */
START_TEST(test_near_bound)
{
  e2e_compile("tiny", "data { real z; }\nparameters { real ln_N; real m; real<lower=0> s; }\n"
                  "model { intensity = exp(ln_N) * normal(z | m, s); }\n");
  char data[512], init[512], out[512];
  snprintf(data, sizeof data, "%s/tiny.csv", e2e_tmp);
  snprintf(init, sizeof init, "%s/tiny-init.json", e2e_tmp);
  snprintf(out, sizeof out, "%s/tiny.json", e2e_tmp);
  FILE *f = fopen(data, "w");
  fputs("z\n", f);
  double sum = 0, sum2 = 0;
  for (int i = 0; i < 200; i++) {   /* deterministic, mean 0.5, sd about 2e-5 */
    double z = 0.5 + 2e-5 * (2.0 * ((i * 37) % 200) / 199.0 - 1) * 1.7;
    fprintf(f, "%.17g\n", z);
    sum += z;
    sum2 += z * z;
  }
  fclose(f);
  write_file(init, "{\"ln_N\": 5, \"m\": 0.5, \"s\": 0.00005}\n");
  ck_assert_int_eq(e2e_run("%s/tiny optimize --quiet --data %s --init %s --out %s", e2e_tmp, data, init, out), 0);
  densrt_json *fit = e2e_load(out);
  ck_assert(e2e_member(fit, "converged")->number == 1);
  /* the MAP width is the data's standard deviation (N in the denominator) */
  double mean = sum / 200, sd = sqrt(sum2 / 200 - mean * mean);
  double got = e2e_member(e2e_member(fit, "params"), "s")->number;
  ck_assert_msg(fabs(got - sd) <= 1e-6 * sd, "s %.17g, closed form %.17g", got, sd);
  densrt_json_free(fit);
  ck_assert_int_eq(e2e_run("%s/tiny diagnose --quiet --data %s --params %s --random 0 --out %s", e2e_tmp, data, init,
                           out), 0);
}
END_TEST

/* The modes of the prior families, found by optimize within the bounds: interior modes
** (gamma (alpha - 1) / beta, lognormal exp(mu - sigma^2), student_t mu) and modes on a
** bound (exponential and half-normal at 0, a normal truncated below its mean at the bound). */
START_TEST(test_prior_modes)
{
  e2e_compile("modes", "data { real x in [0, 1]; }\n"
                  "parameters { real a; real<lower=0> g; real<lower=0> e; real<lower=0> ln; real t;\n"
                  "  real<lower=0> hn; real<lower=1> tr; }\n"
                  "model { intensity = exp(a); }\n"
                  "priors { g ~ gamma(3, 2); e ~ exponential(2); ln ~ lognormal(0.2, 0.5);\n"
                  "  t ~ student_t(3, -1.5, 2); hn ~ normal(0, 2); tr ~ normal(0.5, 2); }\n");
  char data[512], out[512];
  snprintf(data, sizeof data, "%s/modes.csv", e2e_tmp);
  snprintf(out, sizeof out, "%s/modes.json", e2e_tmp);
  write_file(data, "x\n0.1\n0.2\n0.3\n0.4\n0.5\n0.6\n0.7\n0.8\n");
  ck_assert_int_eq(e2e_run("%s/modes optimize --quiet --data %s --out %s", e2e_tmp, data, out), 0);
  densrt_json *fit = e2e_load(out);
  ck_assert(e2e_member(fit, "converged")->number == 1);
  const densrt_json *p = e2e_member(fit, "params");
  const struct {
    const char *name;
    double mode;
  } want[] = {{"a", log(8.0)}, {"g", 1}, {"e", 0}, {"ln", exp(0.2 - 0.25)}, {"t", -1.5}, {"hn", 0}, {"tr", 1}};
  for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
    double got = e2e_member(p, want[k].name)->number;
    ck_assert_msg(fabs(got - want[k].mode) <= 1e-5, "%s: %.17g, mode %.17g", want[k].name, got, want[k].mode);
  }
  densrt_json_free(fit);
}
END_TEST

/* A signal while plot works: exit 130 with nothing left, or the whole figure when the
** signal came while it was written (the signals wait from open to commit); never a
** temporary file. */
START_TEST(test_plot_interrupted)
{
  char dir[512], out[600], params[512];
  snprintf(dir, sizeof dir, "%s/plotsig", e2e_tmp);
  mkdir(dir, 0700);
  snprintf(out, sizeof out, "%s/big.png", dir);
  snprintf(params, sizeof params, "%s/plotsig.json", e2e_tmp);
  write_file(params, "{\"ln_n0\": [0, 1, 2, 3, 4, 5, 4, 3, 2, 1, 0]}\n");
  pid_t pid = fork();
  if (pid == 0) {
    char prog[512];
    snprintf(prog, sizeof prog, "%s/spline1d", e2e_tmp);
    execl(prog, prog, "plot", "density", "--quiet", "--data", gauss_csv, "--params", params, "--width", "10000",
          "--height", "10000", "--out", out, (char *)NULL);
    _exit(127);
  }
  struct timespec ts = {0, 300000000};
  nanosleep(&ts, NULL);
  kill(pid, SIGINT);
  int st;
  waitpid(pid, &st, 0);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %d", st);
  /* nothing but, if the signal came while it was written, the whole figure */
  DIR *d = opendir(dir);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    ck_assert_str_eq(e->d_name, "big.png");
    FILE *f = fopen(out, "rb");
    unsigned char tail[8];
    ck_assert(fseek(f, -8, SEEK_END) == 0 && fread(tail, 1, 8, f) == 8);
    ck_assert_msg(memcmp(tail, "IEND\xae\x42\x60\x82", 8) == 0, "a cut PNG");
    fclose(f);
  }
  closedir(d);
}
END_TEST

/* }==================================================================== */

/* {====================================================================
** Sums of many terms (one n-ary log-sum-exp) and no cap on declarations
** ===================================================================== */

/* K Gaussians with scalar parameters a_i, m_i, l_i (sd e^l_i), a flat background exp(b) and
** exp(c + x), on [0, 2]: the objective and gradient in closed form at a point. */
static void mixture_closed_form(int K, const double *th, const double *xs, int n, double *obj, double *grad)
{
  int P = 3 * K + 2;
  double b = th[3 * K], c = th[3 * K + 1];
  for (int j = 0; j < P; j++)
    grad[j] = 0;
  double ll = -(exp(b) * 2 + exp(c) * (exp(2.0) - 1));
  grad[3 * K] = -exp(b) * 2;
  grad[3 * K + 1] = -exp(c) * (exp(2.0) - 1);
  for (int i = 0; i < K; i++) {
    double a = th[3 * i], m = th[3 * i + 1], sd = exp(th[3 * i + 2]);
    double al = (0 - m) / sd, be = (2 - m) / sd;
    double pa = exp(-0.5 * al * al) / sqrt(2 * M_PI), pb = exp(-0.5 * be * be) / sqrt(2 * M_PI);
    ll -= exp(a) * (Phi(be) - Phi(al));
    grad[3 * i] -= exp(a) * (Phi(be) - Phi(al));
    grad[3 * i + 1] -= exp(a) * (pa - pb) / sd;
    grad[3 * i + 2] -= exp(a) * (al * pa - be * pb);
  }
  for (int r = 0; r < n; r++) {
    double x = xs[r], tot = exp(b) + exp(c + x);
    double *ni = malloc((size_t)K * sizeof *ni);
    for (int i = 0; i < K; i++) {
      double sd = exp(th[3 * i + 2]), z = (x - th[3 * i + 1]) / sd;
      ni[i] = exp(th[3 * i]) * exp(-0.5 * z * z) / (sd * sqrt(2 * M_PI));
      tot += ni[i];
    }
    ll += log(tot);
    for (int i = 0; i < K; i++) {
      double sd = exp(th[3 * i + 2]), z = (x - th[3 * i + 1]) / sd;
      grad[3 * i] += ni[i] / tot;
      grad[3 * i + 1] += ni[i] * z / sd / tot;
      grad[3 * i + 2] += ni[i] * (z * z - 1) / tot;
    }
    grad[3 * K] += exp(b) / tot;
    grad[3 * K + 1] += exp(c + x) / tot;
    free(ni);
  }
  *obj = -ll / n;
  for (int j = 0; j < P; j++)
    grad[j] = -grad[j] / n;
}

/* Writes and compiles a K-component mixture with scalar parameters (3K + 2 declarations). */
static void mixture_model(int K, const char *name)
{
  size_t cap = 200 + (size_t)K * 160;
  char *src = malloc(cap), *p = src;
  p += sprintf(p, "data { real x in [0, 2]; }\nparameters {");
  for (int i = 1; i <= K; i++)
    p += sprintf(p, " real a%d; real m%d; real l%d;", i, i, i);
  p += sprintf(p, " real b; real c; }\nmodel {\n  intensity = exp(b) + exp(c + x)");
  for (int i = 1; i <= K; i++)
    p += sprintf(p, "\n    + exp(a%d) * normal(x | m%d, exp(l%d))", i, i, i);
  sprintf(p, ";\n}\n");
  e2e_compile(name, src);
  free(src);
}

static void check_mixture(int K, const char *name)
{
  static const double xs[] = {0.1, 0.35, 0.5, 0.77, 1.0, 1.3, 1.61, 1.9};
  int n = 8, P = 3 * K + 2;
  char data[512], params[512], out[512];
  snprintf(data, sizeof data, "%s/%s.csv", e2e_tmp, name);
  snprintf(params, sizeof params, "%s/%s-p.json", e2e_tmp, name);
  snprintf(out, sizeof out, "%s/%s-e.json", e2e_tmp, name);
  FILE *f = fopen(data, "w");
  fputs("x\n", f);
  for (int r = 0; r < n; r++)
    fprintf(f, "%.17g\n", xs[r]);
  fclose(f);
  double *th = malloc((size_t)P * sizeof *th), *g = malloc((size_t)P * sizeof *g), obj;
  for (int i = 0; i < K; i++) {
    th[3 * i] = -1 + 0.01 * i;
    th[3 * i + 1] = 2.0 * (i + 0.5) / K;
    th[3 * i + 2] = -1.5 + 0.3 * sin(i);
  }
  th[3 * K] = -0.5;
  th[3 * K + 1] = 0.2;
  f = fopen(params, "w");
  fputc('{', f);
  for (int i = 0; i < K; i++)
    fprintf(f, "%s\"a%d\": %.17g, \"m%d\": %.17g, \"l%d\": %.17g", i ? ", " : "", i + 1, th[3 * i], i + 1,
            th[3 * i + 1], i + 1, th[3 * i + 2]);
  fprintf(f, ", \"b\": %.17g, \"c\": %.17g}\n", th[3 * K], th[3 * K + 1]);
  fclose(f);
  mixture_closed_form(K, th, xs, n, &obj, g);
  ck_assert_int_eq(e2e_run("%s/%s eval --quiet --data %s --params %s --out %s", e2e_tmp, name, data, params, out), 0);
  densrt_json *e = e2e_load(out);
  double got = number(e, "objective");
  ck_assert_msg(fabs(got - obj) <= 1e-12 * fabs(obj), "K=%d: objective %.17g, closed form %.17g", K, got, obj);
  const densrt_json *gr = e2e_member(e, "gradient");
  ck_assert_int_eq(gr->n, P);
  /* the order of the flat vector: a1 m1 l1 a2 ... b c, as declared */
  for (int j = 0; j < P; j++)
    ck_assert_msg(fabs(gr->items[j].number - g[j]) <= 1e-12 * (1 + fabs(g[j])), "K=%d: gradient[%d] %.17g, closed "
                  "form %.17g", K, j, gr->items[j].number, g[j]);
  densrt_json_free(e);
  free(th);
  free(g);
}

/* Five Gaussians plus two more terms: seven terms in one n-ary log-sum-exp. */
START_TEST(test_mixture_closed_form)
{
  mixture_model(5, "mix5");
  check_mixture(5, "mix5");
}
END_TEST

/* 100 Gaussians with scalar parameters: 302 declarations (the limit was 64), 102 terms. */
START_TEST(test_mixture_100)
{
  mixture_model(100, "mix100");
  check_mixture(100, "mix100");
}
END_TEST

/* More than 32 knot sets: the 33rd still gives quadrature breakpoints (they were dropped
** silently: 8 nodes instead of 4 intervals x 8). */
START_TEST(test_many_knot_sets)
{
  char src[4096], *p = src, out[512];
  p += sprintf(p, "data { real x in [0, 1]; }\nknots {");
  for (int k = 0; k < 33; k++)
    p += sprintf(p, " k%d = linspace(0, 1, %d);", k, k < 32 ? 2 : 5);
  sprintf(p, " }\nparameters { vector[k32] v; }\nmodel { intensity = exp(linear_spline(k32, v, x)); }\n");
  e2e_compile("knots33", src);
  snprintf(out, sizeof out, "%s/knots33.txt", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/knots33 info --integrate x=auto --out %s", e2e_tmp, out), 0);
  char *t = e2e_slurp(out);
  ck_assert_msg(strstr(t, "numeric integral, 32 quadrature nodes"), "%s", t);
  free(t);
}
END_TEST

/* A golden model of four terms (a spline among them): the gradient against finite
** differences through the n-ary path, data loop and quadrature. */
START_TEST(test_mixture3_gradient)
{
  char data[512], out[512];
  snprintf(data, sizeof data, "%s/mix3.csv", e2e_tmp);
  snprintf(out, sizeof out, "%s/mix3-d.json", e2e_tmp);
  FILE *f = fopen(data, "w");
  fputs("x\n", f);
  for (int i = 0; i < 300; i++)
    fprintf(f, "%.17g\n", -4.9 + 9.8 * fmod(i * 0.618033988749895, 1.0));
  fclose(f);
  ck_assert_int_eq(e2e_run("%s %s/tests/golden/mixture3.dens -o %s/mix3 2>/dev/null", DENSC, SRCDIR, e2e_tmp), 0);
  ck_assert_int_eq(e2e_run("%s/mix3 diagnose --quiet --random 3 --data %s --out %s", e2e_tmp, data, out), 0);
  ck_assert_int_eq(e2e_run("%s/mix3 diagnose --quiet --random 2 --data %s --integrate 'x=gauss_legendre(order=16)' "
                           "--out %s", e2e_tmp, data, out), 0);
}
END_TEST

/* }==================================================================== */

int main(void)
{
  if (e2e_setup())
    return 99;
  Suite *s = suite_create("fit");
  TCase *tc = tcase_create("optimize");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_auto_spline1d);
  tcase_add_test(tc, test_auto_narrow_2d);
  tcase_add_test(tc, test_line_search_at_optimum);
  tcase_add_test(tc, test_not_converged);
  tcase_add_test(tc, test_unconstrained_named);
  tcase_add_test(tc, test_no_parameters);
  tcase_add_test(tc, test_near_bound);
  tcase_add_test(tc, test_prior_modes);
  suite_add_tcase(s, tc);
  TCase *tl = tcase_create("command line");
  tcase_set_timeout(tl, 120);
  tcase_add_test(tl, test_command_help);
  tcase_add_test(tl, test_outputs);
  tcase_add_test(tl, test_row_counts);
  tcase_add_test(tl, test_signal_leaves_nothing);
  tcase_add_test(tl, test_plot_interrupted);
  suite_add_tcase(s, tl);
  TCase *tm = tcase_create("sums");
  tcase_set_timeout(tm, 300);
  tcase_add_test(tm, test_mixture_closed_form);
  tcase_add_test(tm, test_mixture_100);
  tcase_add_test(tm, test_many_knot_sets);
  tcase_add_test(tm, test_mixture3_gradient);
  suite_add_tcase(s, tm);
  return e2e_finish(s);
}
