/*
** test_e2e.c — compiles the example models with the built densc, runs the
** generated programs, and compares with ../shared/reference/seed_values.json;
** also bad data, bad parameter files and bad command lines. Without ../shared the
** tests that compare with its references are skipped (tests/shared.h).
*/
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "json.h"
#include "shared.h"
#include "e2e_util.h"

#define SEED_VALUES SHARED_DIR "/reference/seed_values.json"

static densrt_json *ref;   /* SEED_VALUES; NULL without ../shared (those tests are skipped) */
/* the repository's copy of ../shared/data/gauss1d.csv (the same bytes): the tests
   without reference values run without ../shared */
static const char *gauss_csv = SRCDIR "/data/gauss1d.csv";


/* Writes a parameter file for model `model` from the reference point `point`. */
static void write_params(const char *model, const char *point, const char *path)
{
  const densrt_json *m = e2e_member(ref, model);
  const densrt_json *x = e2e_member(e2e_member(e2e_member(m, "points"), point), "x");
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  if (!strcmp(model, "gaussian1d")) {
    fprintf(f, "{\"ln_N0\": %.17g, \"mean\": %.17g, \"ln_std\": %.17g}\n", x->items[0].number, x->items[1].number,
            x->items[2].number);
  } else {
    fputs("{\"ln_n0\": [", f);
    for (size_t i = 0; i < x->n; i++)
      fprintf(f, "%s%.17g", i ? ", " : "", x->items[i].number);
    fputs("]}\n", f);
  }
  fclose(f);
}

static void check_eval(const char *model, const char *point, const char *extra)
{
  char params[512], out[512];
  snprintf(params, sizeof params, "%s/%s-%s.json", e2e_tmp, model, point);
  snprintf(out, sizeof out, "%s/%s-%s.eval.json", e2e_tmp, model, point);
  write_params(model, point, params);
  int rc = e2e_run("%s/%s eval --data %s --params %s --out %s %s", e2e_tmp, model, gauss_csv, params, out, extra);
  ck_assert_int_eq(rc, 0);
  densrt_json *e = e2e_load(out);
  const densrt_json *p = e2e_member(e2e_member(e2e_member(ref, model), "points"), point);
  double f = e2e_member(e, "objective")->number, fref = e2e_member(p, "objective")->number;
  ck_assert_msg(fabs(f - fref) <= 1e-12 * fabs(fref), "%s %s: objective %.17g, reference %.17g (rel %.3g)", model,
                point, f, fref, fabs(f - fref) / fabs(fref));
  const densrt_json *g = e2e_member(e, "gradient"), *gref = e2e_member(p, "gradient");
  ck_assert_int_eq(g->n, gref->n);
  for (size_t i = 0; i < g->n; i++)
    ck_assert_msg(fabs(g->items[i].number - gref->items[i].number) <= 1e-9, "%s %s: gradient[%zu] %.17g vs %.17g",
                  model, point, i, g->items[i].number, gref->items[i].number);
  densrt_json_free(e);
}

START_TEST(test_gaussian1d_eval)
{
  check_eval("gaussian1d", "seed_init", "");
  check_eval("gaussian1d", "seed_optimum", "");
  /* --repeat: the same result, and the median time of N more evaluations */
  check_eval("gaussian1d", "seed_optimum", "--repeat 5");
  char out[512];
  snprintf(out, sizeof out, "%s/gaussian1d-seed_optimum.eval.json", e2e_tmp);
  densrt_json *e = e2e_load(out);
  double t = e2e_member(e, "seconds_per_eval")->number;
  ck_assert_msg(t > 0 && t < 10 && e2e_member(e, "repeat")->number == 5, "seconds_per_eval %g", t);
  densrt_json_free(e);
  /* --threads: the data rows in ranges on 2 and 3 threads; the same result to rounding, and
     the same bits for the same number of threads */
  check_eval("gaussian1d", "seed_optimum", "--threads 2");
  char a[512], b[512];
  snprintf(a, sizeof a, "%s/g-thr-a.json", e2e_tmp);
  snprintf(b, sizeof b, "%s/g-thr-b.json", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/gaussian1d eval --quiet --data %s --params %s/gaussian1d-seed_optimum.json --threads 3 "
                           "--out %s", e2e_tmp, gauss_csv, e2e_tmp, a), 0);
  ck_assert_int_eq(e2e_run("%s/gaussian1d eval --quiet --data %s --params %s/gaussian1d-seed_optimum.json --threads 3 "
                           "--out %s", e2e_tmp, gauss_csv, e2e_tmp, b), 0);
  ck_assert_int_eq(e2e_run("cmp -s %s %s", a, b), 0);
}
END_TEST

START_TEST(test_spline1d_eval)
{
  check_eval("spline1d", "seed_init_without_jitter", "");
  check_eval("spline1d", "seed_optimum", "");
}
END_TEST

START_TEST(test_gaussian1d_optimize)
{
  char init[512], out[512];
  snprintf(init, sizeof init, "%s/g-init.json", e2e_tmp);
  snprintf(out, sizeof out, "%s/g-fit.json", e2e_tmp);
  write_params("gaussian1d", "seed_init", init);
  ck_assert_int_eq(e2e_run("%s/gaussian1d optimize --quiet --data %s --init %s --out %s", e2e_tmp, gauss_csv, init, out), 0);
  densrt_json *fit = e2e_load(out);
  ck_assert(e2e_member(fit, "objective")->number <= -10.26140957734);
  const densrt_json *pr = e2e_member(fit, "params");
  ck_assert(fabs(e2e_member(pr, "ln_N0")->number - 11.5129243) <= 1e-5);
  ck_assert(fabs(e2e_member(pr, "mean")->number - 0.02868799) <= 1e-5);
  ck_assert(fabs(e2e_member(pr, "ln_std")->number - (-1.16748798)) <= 1e-5);
  ck_assert(e2e_member(fit, "converged")->type == DENSRT_JSON_BOOL && e2e_member(fit, "converged")->number == 1);
  densrt_json_free(fit);
  /* a figure of the fit: a PNG file, nothing when the parameters are bad */
  char png[512];
  snprintf(png, sizeof png, "%s/g.png", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/gaussian1d plot density --quiet --data %s --params %s --out %s", e2e_tmp, gauss_csv, out,
                           png), 0);
  char *img = e2e_slurp(png);
  ck_assert_int_eq(memcmp(img, "\x89PNG\r\n\x1a\n", 8), 0);
  free(img);
  unlink(png);
  ck_assert_int_eq(e2e_run("%s/gaussian1d plot density --quiet --data %s --params %s --out %s 2>/dev/null", e2e_tmp,
                           gauss_csv, init, "/nonexistent/x.png"), 2);
  ck_assert_int_eq(e2e_run("%s/gaussian1d plot density --quiet --data %s --params %s --width 5 --out %s 2>/dev/null",
                           e2e_tmp, gauss_csv, init, png), 2);
  ck_assert(!e2e_exists(png));
  /* the default start (the best of fits from 0 and perturbations of it) reaches the same optimum */
  ck_assert_int_eq(e2e_run("%s/gaussian1d optimize --quiet --data %s --out %s", e2e_tmp, gauss_csv, out), 0);
  fit = e2e_load(out);
  ck_assert(e2e_member(fit, "objective")->number <= -10.26140957734);
  densrt_json_free(fit);
}
END_TEST

START_TEST(test_spline1d_optimize)
{
  char init[512], out[512], out2[512];
  snprintf(init, sizeof init, "%s/s-init.json", e2e_tmp);
  snprintf(out, sizeof out, "%s/s-fit.json", e2e_tmp);
  snprintf(out2, sizeof out2, "%s/s-fit-auto.json", e2e_tmp);
  write_params("spline1d", "seed_init_without_jitter", init);
  ck_assert_int_eq(e2e_run("%s/spline1d optimize --quiet --data %s --init %s --out %s", e2e_tmp, gauss_csv, init, out), 0);
  densrt_json *fit = e2e_load(out);
  double f_simpson = e2e_member(fit, "objective")->number;
  ck_assert(f_simpson <= -10.2608879095);
  /* with 'auto' integration: the integral is accurate to 1e-10 and the optimum
     moves by what Simpson's error explains */
  ck_assert_int_eq(
    e2e_run("%s/spline1d optimize --quiet --data %s --init %s --out %s --integrate z=auto", e2e_tmp, gauss_csv, init, out2),
    0);
  densrt_json *fa = e2e_load(out2);
  double f_auto = e2e_member(fa, "objective")->number;
  ck_assert(e2e_member(fa, "integral_rel_err")->number <= 1e-10);
  ck_assert_msg(fabs(f_auto - f_simpson) < 1e-7, "auto %.17g vs simpson %.17g", f_auto, f_simpson);
  densrt_json_free(fit);
  densrt_json_free(fa);
}
END_TEST

START_TEST(test_gradients_vs_finite_differences)
{
  char params[512];
  snprintf(params, sizeof params, "%s/s-opt.json", e2e_tmp);
  write_params("spline1d", "seed_optimum", params);
  ck_assert_int_eq(e2e_run("%s/spline1d diagnose --quiet --random 4 --data %s --params %s --out %s/d1.json", e2e_tmp,
                       gauss_csv, params, e2e_tmp), 0);
  ck_assert_int_eq(e2e_run("%s/spline1d diagnose --quiet --random 4 --data %s --params %s --integrate z=auto "
                       "--out %s/d2.json", e2e_tmp, gauss_csv, params, e2e_tmp), 0);
  ck_assert_int_eq(e2e_run("%s/gaussian1d diagnose --quiet --random 6 --seed 7 --data %s --out %s/d3.json", e2e_tmp,
                       gauss_csv, e2e_tmp), 0);
  /* the check can fail: an absurd tolerance must be reported */
  ck_assert_int_eq(e2e_run("%s/gaussian1d diagnose --quiet --random 1 --error-tol 0 --data %s --out %s/d4.json "
                       "2>/dev/null", e2e_tmp, gauss_csv, e2e_tmp), 1);
}
END_TEST

START_TEST(test_knots_at_run_time)
{
  ck_assert_int_eq(e2e_run("%s/spline1d info --set 'k=linspace(-3, 3, 15)' > %s/info.txt", e2e_tmp, e2e_tmp), 0);
  char path[512];
  snprintf(path, sizeof path, "%s/info.txt", e2e_tmp);
  char *info = e2e_slurp(path);
  ck_assert_msg(strstr(info, "ln_n0            size 15") != NULL, "%s", info);
  free(info);
  ck_assert_int_eq(e2e_run("%s/spline1d optimize --quiet --data %s --set 'k=[-3, -1, 0, 0.5, 1, 3]' --out %s/k.json",
                       e2e_tmp, gauss_csv, e2e_tmp), 0);
  snprintf(path, sizeof path, "%s/k.json", e2e_tmp);
  densrt_json *fit = e2e_load(path);
  ck_assert_int_eq(e2e_member(e2e_member(fit, "params"), "ln_n0")->n, 6);
  densrt_json_free(fit);
  ck_assert_int_eq(e2e_run("%s/spline1d info --set 'k=[0, 1, 1, 2]' 2>%s/err.txt", e2e_tmp, e2e_tmp), 2);
  ck_assert_int_eq(e2e_run("%s/spline1d info --set 'k=linspace(-3, 3, 20000)' 2>%s/err.txt", e2e_tmp, e2e_tmp), 2);
  ck_assert_int_eq(e2e_run("%s/spline1d info --set 'k=[0, 1, 2]' 2>%s/err.txt", e2e_tmp, e2e_tmp), 2);
  snprintf(path, sizeof path, "%s/err.txt", e2e_tmp);
  info = e2e_slurp(path);
  ck_assert_msg(strstr(info, "knot set 'k' needs at least 4 knots for its splines, got 3") != NULL, "%s", info);
  free(info);
}
END_TEST

/* Expands @D (data file), @P (parameter file) and @T (temp dir) in an expected message. */
static void expand(char *out, size_t len, const char *pattern, const char *data, const char *params)
{
  size_t o = 0;
  for (const char *p = pattern; *p && o + 1 < len; p++) {
    const char *sub = NULL;
    if (p[0] == '@' && (p[1] == 'D' || p[1] == 'P' || p[1] == 'T'))
      sub = p[1] == 'D' ? data : p[1] == 'P' ? params : e2e_tmp;
    if (sub) {
      o += (size_t)snprintf(out + o, len - o, "%s", sub);
      p++;
    } else {
      out[o++] = *p;
    }
  }
  out[o < len ? o : len - 1] = '\0';
}

/* Bad data: exit 2, exactly this message (naming file, line and column), no output file. */
static const struct {
  const char *content;   /* NULL: the file does not exist */
  const char *model;
  const char *expect;    /* the whole of stderr */
} bad_data[] = {
  {NULL, "spline1d", "spline1d: @D: cannot open: No such file or directory\n"},
  {"", "spline1d", "spline1d: @D: empty file (no header row)\n"},
  {"z\n", "spline1d", "spline1d: @D: no data rows\n"},
  {"y\n1\n", "spline1d", "spline1d: @D: no column 'z' (columns: y)\n"},
  {"z\n0.5\nnan\n", "spline1d", "spline1d: @D:3: column 'z': non-finite value 'nan' (--nan drop skips such rows)\n"},
  {"z\n0.5\n-inf\n", "spline1d", "spline1d: @D:3: column 'z': non-finite value '-inf'\n"},
  {"z\n0.5\n1e999\n", "spline1d", "spline1d: @D:3: column 'z': '1e999' is out of range\n"},
  {"z\n0.5\nabc\n", "spline1d", "spline1d: @D:3: column 'z': 'abc' is not a number\n"},
  {"z\n0.5\n\n,\n", "spline1d", "spline1d: @D:4: expected 1 fields, found 2\n"},
  {"z\n0.5\n3.5\n", "spline1d", "spline1d: @D:3: column 'z': value 3.5 is outside the window [-3, 3] "
                                 "(--outside drop or keep to go on)\n"},
  {"z,z\n1,2\n", "spline1d", "spline1d: @D:1: duplicate column name 'z'\n"},
  {"z,w\n1\n", "gaussian1d", "gaussian1d: @D:2: expected 2 fields, found 1\n"},
  {"z\n0.5\n\"0.7\n", "spline1d", "spline1d: @D:3: unterminated quoted field\n"},
  {"z\n0.5\n\001\002\000\003\n", "spline1d", "spline1d: @D:3: binary data (NUL byte) in a text file\n"},
  {"SIMPLE  = garbage that is not FITS", "spline1d", NULL},   /* a FITS error: message from cfitsio */
};

START_TEST(test_bad_data)
{
  char data[512], out[512], err[512], expect[1024];
  snprintf(data, sizeof data, "%s/bad%d.csv", e2e_tmp, _i);
  snprintf(out, sizeof out, "%s/bad%d.out.json", e2e_tmp, _i);
  snprintf(err, sizeof err, "%s/bad%d.err", e2e_tmp, _i);
  unlink(data);
  if (bad_data[_i].content) {
    FILE *f = fopen(data, "w");
    /* the binary case has a NUL inside: write through the terminator */
    size_t n = strlen(bad_data[_i].content);
    if (strchr(bad_data[_i].content, '\001'))
      n = 11;
    fwrite(bad_data[_i].content, 1, n, f);
    fclose(f);
  }
  ck_assert_int_eq(e2e_run("%s/%s optimize --quiet --data %s --out %s 2>%s", e2e_tmp, bad_data[_i].model, data, out, err), 2);
  char *msg = e2e_slurp(err);
  if (bad_data[_i].expect) {
    expand(expect, sizeof expect, bad_data[_i].expect, data, "");
    ck_assert_msg(strcmp(msg, expect) == 0, "case %d:\n got: %s want: %s", _i, msg, expect);
  } else {
    ck_assert_msg(strstr(msg, data) != NULL, "case %d: %s", _i, msg);
  }
  free(msg);
  ck_assert_msg(!e2e_exists(out), "case %d left %s", _i, out);
}
END_TEST

/* A FITS header that crashes cfitsio 4.2 (found by fuzzing) is refused first. */
START_TEST(test_bad_fits_header)
{
  char err[512];
  snprintf(err, sizeof err, "%s/fits.err", e2e_tmp);
  ck_assert_int_eq(e2e_run("%s/spline1d eval --quiet --data %s/tests/fuzz/regressions/fits/cfitsio-ffgtbp-ttype70.fits "
                       "--column z=x --params %s/s-flat.json 2>%s", e2e_tmp, SRCDIR, e2e_tmp, err), 2);
  char *msg = e2e_slurp(err);
  ck_assert_msg(strstr(msg, "cfitsio-ffgtbp-ttype70.fits: malformed FITS header card 'TTYPE3  ' in HDU 2 "
                            "(an unquoted value of 70 characters)"), "%s", msg);
  free(msg);
}
END_TEST

/* A 10^7-character line: read without trouble, reported as out of range. */
START_TEST(test_huge_line)
{
  char data[512], err[512];
  snprintf(data, sizeof data, "%s/huge.csv", e2e_tmp);
  snprintf(err, sizeof err, "%s/huge.err", e2e_tmp);
  FILE *f = fopen(data, "w");
  fputs("z\n", f);
  for (int i = 0; i < 10000000; i++)
    fputc('7', f);
  fputc('\n', f);
  fclose(f);
  ck_assert_int_eq(e2e_run("%s/spline1d eval --quiet --data %s --params %s/s-flat.json 2>%s", e2e_tmp, data, e2e_tmp, err), 2);
  char *msg = e2e_slurp(err);
  ck_assert_msg(strstr(msg, "huge.csv:2: column 'z': '7777") && strstr(msg, "...' is out of range"), "%s", msg);
  free(msg);
}
END_TEST

/* Bad parameter files and command lines: exit 2, exactly this message, no output. */
static const struct {
  const char *json;      /* written to p.json; NULL: no --params */
  const char *args;
  const char *expect;    /* the whole of stderr */
  const char *cmd;       /* NULL: eval */
} bad_cli[] = {
  {"{\"ln_N0\": 1, \"mean\": 0}", "", "gaussian1d: @P: missing parameter 'ln_std'\n", NULL},
  {"{\"ln_N0\": 1, \"mean\": 0, \"ln_std\": 0, \"x\": 1}", "", "gaussian1d: @P:1:43: 'x' is not a parameter of the model\n", NULL},
  {"{\"ln_N0\": [1], \"mean\": 0, \"ln_std\": 0}", "", "gaussian1d: @P:1:11: 'ln_N0' must be a number\n", NULL},
  {"{\"ln_N0\": 1, \"mean\": 0, ", "", NULL, NULL},
  {"[1, 2, 3]", "", "gaussian1d: @P: expected a JSON object of parameter values\n", NULL},
  {NULL, "", "gaussian1d: eval needs --params FILE\n", NULL},
  {NULL, "--bogus", "gaussian1d: unknown option '--bogus' (try 'gaussian1d eval --help')\n", NULL},
  {NULL, "--tol abc", "gaussian1d: --tol: 'abc' is not a number\n", NULL},
  {NULL, "--tol -1", "gaussian1d: --tol: '-1' must be positive\n", NULL},
  {NULL, "--tol 0", "gaussian1d: --tol: '0' must be positive\n", NULL},
  {NULL, "--random -3", "gaussian1d: --random: expected a whole number from 0 to 1000000, got '-3'\n", "diagnose"},
  {NULL, "--max-iter 2.5", "gaussian1d: --max-iter: expected a whole number from 1 to 1000000000, got '2.5'\n",
   "optimize"},
  {NULL, "--params @P --integrate 'z=simpson(points=4)'",
   "gaussian1d: --integrate: method 'simpson(points=4)': Simpson's rule needs an odd number of points (got 4; use 3 "
   "or 5)\n", NULL},
  {NULL, "--params @P --integrate y=auto", "gaussian1d: --integrate: the model has no data column 'y'\n", NULL},
  {NULL, "--params @P --set 'k=linspace(0,1,5)'", "gaussian1d: --set: the model has no knot set 'k'\n", NULL},
  {NULL, "--params @P --column z", "gaussian1d: --column: expected NAME=VALUE, got 'z'\n", NULL},
  {NULL, "--params @P --outside maybe", "gaussian1d: --outside: expected 'error', 'drop' or 'keep', got 'maybe'\n", NULL},
  {NULL, "--params @P --where 'q >> 1'",
   "gaussian1d: --where: expected 'COLUMN OP NUMBER' with a known column and OP one of < <= > >= == !=, got 'q >> 1'\n", NULL},
  {NULL, "--data", "gaussian1d: option '--data' needs a value (try 'gaussian1d eval --help')\n", NULL},
  /* session 3: options per command, numbers, files that must not be overwritten */
  {NULL, "--tol 4.9e-324", "gaussian1d: --tol: 4.9e-324 is finer than double precision can verify (use 1e-14 or more)\n", NULL},
  {NULL, "--tol 1e999", "gaussian1d: --tol: '1e999' is not a finite number\n", NULL},
  {NULL, "--init x.json", "gaussian1d: eval does not take --init (try 'gaussian1d eval --help')\n", NULL},
  {NULL, "--random 3", "gaussian1d: eval does not take --random (try 'gaussian1d eval --help')\n", NULL},
  {NULL, "stray", "gaussian1d: unexpected argument 'stray' (try 'gaussian1d eval --help')\n", NULL},
  {NULL, "--o", "gaussian1d: ambiguous option '--o' (--outside, --out) (try 'gaussian1d eval --help')\n", NULL},
  {NULL, "--params @P --out @D", "gaussian1d: --out @D is the data file; refusing to overwrite it\n", NULL},
  {NULL, "--params @P --out fig.jpg",
   "gaussian1d: --out fig.jpg: cannot tell the format of 'fig.jpg': name the figure FILE.png, FILE.pdf or FILE.svg\n",
   "plot density"},
  {NULL, "", "gaussian1d: unknown command 'evaluate' (try 'gaussian1d --help')\n", "evaluate"},
  {NULL, "", "gaussian1d: plot density needs either --params FILE or --draws FILES\n", "plot density"},
  {NULL, "", "gaussian1d: plot model needs --params FILE\n", "plot model"},
  {NULL, "", "gaussian1d: plot needs a KIND first: data, model, knots, density, track or trace (try 'gaussian1d plot "
   "--help')\n", "plot"},
  {NULL, "", "gaussian1d: plot: unknown kind 'histogram': expected data, model, knots, density, track or trace (try "
   "'gaussian1d plot --help')\n", "plot histogram"},
  {NULL, "--log", "gaussian1d: plot data does not take --log (try 'gaussian1d plot data --help')\n",
   "plot data"},
  {NULL, "--draws x.csv", "gaussian1d: plot trace does not take --data (try 'gaussian1d plot trace --help')\n",
   "plot trace"},
  /* session 3, after review: checked before any work */
  {NULL, "--params @P --out /nonexistent/dir/r.json",
   "gaussian1d: --out /nonexistent/dir/r.json: cannot write in /nonexistent/dir: No such file or directory\n", NULL},
  {NULL, "--params @P --width 20000", "gaussian1d: --width: expected a whole number from 100 to 10000, got '20000'\n",
   "plot density"},
  {NULL, "--params @P --quiet=1", "gaussian1d: option '--quiet' takes no value (try 'gaussian1d eval --help')\n", NULL},
  {NULL, "--params=", "gaussian1d: option '--params' needs a value (try 'gaussian1d eval --help')\n", NULL},
};

START_TEST(test_bad_cli)
{
  char p[512], err[512], out[512], expect[1024];
  snprintf(p, sizeof p, "%s/p.json", e2e_tmp);
  snprintf(err, sizeof err, "%s/cli%d.err", e2e_tmp, _i);
  snprintf(out, sizeof out, "%s/cli%d.json", e2e_tmp, _i);
  if (bad_cli[_i].json) {
    FILE *f = fopen(p, "w");
    fputs(bad_cli[_i].json, f);
    fclose(f);
  }
  char cmd[1024], args[1024];
  expand(cmd, sizeof cmd, bad_cli[_i].cmd ? bad_cli[_i].cmd : "eval", gauss_csv, p);
  expand(args, sizeof args, bad_cli[_i].args, gauss_csv, p);
  ck_assert_int_eq(e2e_run("%s/gaussian1d %s --data %s %s%s --out %s %s 2>%s", e2e_tmp, cmd, gauss_csv,
                       bad_cli[_i].json ? "--params " : "", bad_cli[_i].json ? p : "", out, args, err),
                   2);
  char *msg = e2e_slurp(err);
  if (bad_cli[_i].expect) {
    expand(expect, sizeof expect, bad_cli[_i].expect, gauss_csv, p);
    ck_assert_msg(strcmp(msg, expect) == 0, "case %d:\n got: %s want: %s", _i, msg, expect);
  } else {
    ck_assert_msg(strstr(msg, p) != NULL, "case %d: %s", _i, msg);   /* JSON syntax: position from the parser */
  }
  free(msg);
  ck_assert(!e2e_exists(out));
}
END_TEST

/* densc's own command line and files. */
static const struct {
  const char *args;
  int status;
  const char *expect;
} bad_densc[] = {
  {"", 2, "densc: no model file given (try 'densc --help')\n"},
  {"--bogus", 2, "densc: unknown option '--bogus' (try 'densc --help')\n"},
  {"@T/none.dens", 2, "densc: cannot read @T/none.dens: No such file or directory\n"},
  {"@T/a.dens @T/b.dens", 2, "densc: only one model file can be compiled at a time ('@T/a.dens' and '@T/b.dens')\n"},
  {"-o", 2, "densc: option -o needs a value\n"},
  {SRCDIR "/models/gaussian1d.dens -o /nonexistent/dir/prog", 2,
   "densc: cannot create /nonexistent/dir/prog: No such file or directory\n"},
  {SRCDIR "/models/gaussian1d.dens -o @T", 2, "densc: @T exists and is not a regular file\n"},
};

START_TEST(test_bad_densc)
{
  char args[1024], expect[1024], err[512];
  expand(args, sizeof args, bad_densc[_i].args, "", "");
  expand(expect, sizeof expect, bad_densc[_i].expect, "", "");
  snprintf(err, sizeof err, "%s/densc%d.err", e2e_tmp, _i);
  ck_assert_int_eq(e2e_run("%s %s 2>%s", DENSC, args, err), bad_densc[_i].status);
  char *msg = e2e_slurp(err);
  ck_assert_msg(strcmp(msg, expect) == 0, "case %d:\n got: %s want: %s", _i, msg, expect);
  free(msg);
}
END_TEST

START_TEST(test_unwritable_output)
{
  char p[512];
  snprintf(p, sizeof p, "%s/g-zero.json", e2e_tmp);
  FILE *f = fopen(p, "w");
  ck_assert_ptr_nonnull(f);
  fputs("{\"ln_N0\": 0, \"mean\": 0, \"ln_std\": 0}\n", f);
  fclose(f);
  /* devices are written in place, never replaced by a renamed temporary file */
  ck_assert_int_eq(e2e_run("%s/gaussian1d eval --data %s --params %s --out /dev/null", e2e_tmp, gauss_csv, p), 0);
  struct stat st;
  ck_assert(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
  ck_assert_int_eq(e2e_run("%s %s/models/gaussian1d.dens -o /dev/null 2>/dev/null", DENSC, SRCDIR), 2);
  ck_assert(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
  ck_assert_int_eq(e2e_run("%s/gaussian1d eval --data %s --params %s --out %s 2>/dev/null", e2e_tmp, gauss_csv, p, e2e_tmp), 2);
  ck_assert_int_eq(e2e_run("%s/gaussian1d eval --data %s --params %s --out /nonexistent/dir/x.json 2>/dev/null", e2e_tmp,
                       gauss_csv, p), 2);
}
END_TEST

/* Model names that collide with C keywords and generated names still compile and run. */
START_TEST(test_hostile_names)
{
  char model[512];
  snprintf(model, sizeof model, "%s/names.dens", e2e_tmp);
  FILE *f = fopen(model, "w");
  fputs("// names that are C keywords or names the generated code uses */ #include <stdio.h>\n"
        "data { real int in [-3, 3]; }\n"
        "knots { main = linspace(-3, 3, 5); }\n"
        "parameters { vector[main] g; real m; real th; real v0; real x0; real adj0; real "
        "a_very_long_name_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; }\n"
        "model { component return = exp(spline(main, g, int) + m + th + v0 + x0 + adj0 + "
        "a_very_long_name_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa);\n"
        "        intensity = return; } // trailing backslash \\\n"
        "priors { m ~ normal(0, 1); th ~ normal(0, 1); v0 ~ normal(0, 1); x0 ~ normal(0, 1); adj0 ~ normal(0, 1);\n"
        "         a_very_long_name_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        " ~ normal(0, 1); }\n",
        f);
  fclose(f);
  ck_assert_int_eq(e2e_run("%s %s -o %s/names", DENSC, model, e2e_tmp), 0);
  char data[512];
  snprintf(data, sizeof data, "%s/names.csv", e2e_tmp);
  f = fopen(data, "w");
  fputs("int\n-1\n0\n0.5\n2\n", f);
  fclose(f);
  ck_assert_int_eq(e2e_run("%s/names diagnose --quiet --random 2 --data %s --out %s/names-d.json", e2e_tmp, data, e2e_tmp), 0);
}
END_TEST

/* GD-1: the seed's third model on the real catalogue, exact and Simpson integrals. */
static void check_gd1(const char *point, const char *method)
{
  const densrt_json *p = e2e_member(e2e_member(e2e_member(ref, "gd1"), "points"), point);
  const densrt_json *x = e2e_member(p, "x");
  char params[512], out[512], key[64];
  snprintf(params, sizeof params, "%s/gd1-%s.json", e2e_tmp, point);
  snprintf(out, sizeof out, "%s/gd1-%s-%s.json", e2e_tmp, point, method);
  FILE *f = fopen(params, "w");
  const char *names[] = {"ln_n0", "mean_phi2", "ln_std_phi2", "ln_n0_bkg"};
  const size_t sizes[] = {31, 17, 17, 7};
  size_t k = 0;
  fputc('{', f);
  for (int v = 0; v < 4; v++) {
    fprintf(f, "%s\"%s\": [", v ? ", " : "", names[v]);
    for (size_t i = 0; i < sizes[v]; i++, k++)
      fprintf(f, "%s%.17g", i ? ", " : "", x->items[k].number);
    fputc(']', f);
  }
  fputs("}\n", f);
  fclose(f);
  const char *integrate = !strcmp(method, "simpson")
    ? "--integrate 'phi1=simpson(step=0.1)' --integrate 'phi2=simpson(step=0.1)'" : "";
  ck_assert_int_eq(e2e_run("%s/gd1 eval --quiet --data %s/data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 "
                       "--column phi2=gd1_phi2 --where 'phi2 > -7' --outside keep --params %s --out %s %s",
                       e2e_tmp, SHARED_DIR, params, out, integrate), 0);
  densrt_json *e = e2e_load(out);
  ck_assert_int_eq((int)e2e_member(e, "n")->number, 2960);
  snprintf(key, sizeof key, "objective_%s", method);
  double o = e2e_member(e, "objective")->number, r = e2e_member(p, key)->number;
  ck_assert_msg(fabs(o - r) <= 1e-12 * fabs(r), "gd1 %s %s: objective %.17g vs %.17g", point, method, o, r);
  snprintf(key, sizeof key, "gradient_%s", method);
  const densrt_json *g = e2e_member(e, "gradient"), *gr = e2e_member(p, key);
  ck_assert_int_eq(g->n, 72);
  for (size_t i = 0; i < 72; i++)
    ck_assert_msg(fabs(g->items[i].number - gr->items[i].number) <= 1e-9, "gd1 %s %s: gradient[%zu] %.17g vs %.17g",
                  point, method, i, g->items[i].number, gr->items[i].number);
  densrt_json_free(e);
}

START_TEST(test_gd1_eval)
{
  ck_assert_int_eq(e2e_run("%s %s/models/gd1.dens -o %s/gd1", DENSC, SRCDIR, e2e_tmp), 0);
  check_gd1("seed_init", "exact");
  check_gd1("seed_optimum", "exact");
  check_gd1("seed_init", "simpson");
  check_gd1("seed_optimum", "simpson");

  /* Ctrl-C during optimize: exit 130, the best point so far written as valid JSON */
  char out[512];
  snprintf(out, sizeof out, "%s/gd1-interrupted.json", e2e_tmp);
  int rc = e2e_run("%s/gd1 optimize --quiet --data %s/data/gd1-gaiadr3-blog.fits --column phi1=gd1_phi1 "
               "--column phi2=gd1_phi2 --where 'phi2 > -7' --outside keep --init %s/gd1-seed_init.json "
               "--integrate 'phi1=simpson(step=0.05)' --integrate 'phi2=simpson(step=0.05)' --out %s 2>/dev/null & "
               "p=$!; sleep 1; kill -INT $p; wait $p", e2e_tmp, SHARED_DIR, e2e_tmp, out);
  ck_assert_int_eq(rc, 130);
  densrt_json *fit = e2e_load(out);
  ck_assert(e2e_member(fit, "interrupted")->number == 1);
  ck_assert(e2e_member(fit, "objective")->number < -0.05);   /* better than the start */
  densrt_json_free(fit);
}
END_TEST

/* Numerical faults: steps into overflow and into parameters where the quadrature fails. */
START_TEST(test_optimizer_recovers)
{
  char model[512], data[512], out[512];
  snprintf(model, sizeof model, "%s/ovf.dens", e2e_tmp);
  snprintf(data, sizeof data, "%s/ovf.csv", e2e_tmp);
  snprintf(out, sizeof out, "%s/ovf.json", e2e_tmp);
  FILE *f = fopen(model, "w");
  fputs("data { real z in [0, 100]; }\nparameters { real a; real b; }\nmodel { intensity = exp(b + a * z); }\n", f);
  fclose(f);
  /* z = 100 - Exponential(scale 2): the maximum likelihood a is near 1/2 */
  f = fopen(data, "w");
  fputs("z\n", f);
  unsigned long long s = 99;
  for (int i = 0; i < 5000; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    double u = ((double)(s >> 11) + 0.5) / 9007199254740992.0;
    fprintf(f, "%.17g\n", 100 + 2 * log(u));
  }
  fclose(f);
  ck_assert_int_eq(e2e_run("%s %s -o %s/ovf", DENSC, model, e2e_tmp), 0);
  ck_assert_int_eq(e2e_run("%s/ovf optimize --quiet --data %s --out %s", e2e_tmp, data, out), 0);
  densrt_json *fit = e2e_load(out);
  double a = e2e_member(e2e_member(fit, "params"), "a")->number;
  ck_assert_msg(fabs(a - 0.5) < 0.03, "a = %g", a);
  double I = e2e_member(e2e_member(e2e_member(fit, "integrals"), "term1"), "value")->number;
  ck_assert_msg(fabs(I - 5000) < 1e-3, "integral %.17g", I);   /* = N at the maximum */
  ck_assert(e2e_member(fit, "integral_rel_err")->number <= 1e-10);
  densrt_json_free(fit);
  /* without the check the objective would be unbounded: an explicit coarse rule is the user's choice,
     and the result says how inaccurate it is */
  char err[512];
  snprintf(err, sizeof err, "%s/ovf.err", e2e_tmp);
  e2e_run("%s/ovf optimize --data %s --integrate 'z=gauss_legendre(order=4)' --out %s 2>%s", e2e_tmp, data, out, err);
  fit = e2e_load(out);
  const densrt_json *e = e2e_member(fit, "integral_rel_err");
  ck_assert(e->type == DENSRT_JSON_NULL || e->number > 1e-6);
  densrt_json_free(fit);
  char *msg = e2e_slurp(err);
  ck_assert_msg(strstr(msg, "warning: the integrals are inaccurate at these parameters"), "%s", msg);
  free(msg);
}
END_TEST

/* Intensities below the smallest double: the integral is still right in log space. */
START_TEST(test_tiny_intensity)
{
  char p[512], out[512];
  snprintf(p, sizeof p, "%s/tiny.json", e2e_tmp);
  snprintf(out, sizeof out, "%s/tiny.out.json", e2e_tmp);
  FILE *f = fopen(p, "w");
  fputs("{\"ln_n0\": [-900, -900, -900, -900, -900, -900, -900, -900, -900, -900, -900]}\n", f);
  fclose(f);
  const char *methods[] = {"auto", "'simpson(points=1025)'"};
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(e2e_run("%s/spline1d eval --quiet --data %s --params %s --integrate z=%s --out %s", e2e_tmp, gauss_csv,
                         p, methods[i], out), 0);
    densrt_json *e = e2e_load(out);
    double logI = e2e_member(e2e_member(e2e_member(e, "integrals"), "term1"), "log")->number;
    ck_assert_msg(fabs(logI - (-900 + log(6.0))) < 1e-12 * 900, "%s: log integral %.17g", methods[i], logI);
    densrt_json_free(e);
  }
}
END_TEST

/* Extreme data: 10^6 identical points; points exactly on the window edges and on knots. */
START_TEST(test_extreme_data)
{
  char data[512], out[512];
  snprintf(data, sizeof data, "%s/same.csv", e2e_tmp);
  snprintf(out, sizeof out, "%s/same.json", e2e_tmp);
  FILE *f = fopen(data, "w");
  fputs("z\n", f);
  for (int i = 0; i < 1000000; i++)
    fputs("0.6\n", f);
  fclose(f);
  /* the MAP is a spike the default Simpson rule cannot resolve: whatever the verdict, it
     must agree with the exit status and the reported gradient */
  int rc = e2e_run("%s/spline1d optimize --quiet --data %s --out %s", e2e_tmp, data, out);
  ck_assert(rc == 0 || rc == 1);
  densrt_json *fit = e2e_load(out);
  ck_assert(isfinite(e2e_member(fit, "objective")->number));
  ck_assert_int_eq(e2e_member(fit, "converged")->number, rc == 0);
  if (rc == 0)
    ck_assert(e2e_member(fit, "projected_gradient")->number <= 1e-9 ||
              e2e_member(fit, "predicted_decrease")->number <= 1e-13 * fabs(e2e_member(fit, "objective")->number));
  else
    ck_assert(strlen(e2e_member(fit, "reason")->string) > 0);
  densrt_json_free(fit);
  snprintf(data, sizeof data, "%s/edges.csv", e2e_tmp);
  f = fopen(data, "w");
  fputs("z\n-3\n3\n-2.4\n0\n0.6\n3\n-3\n", f);   /* window edges and knots of linspace(-3, 3, 11) */
  fclose(f);
  ck_assert_int_eq(e2e_run("%s/spline1d optimize --quiet --data %s --integrate z=auto --out %s", e2e_tmp, data, out), 0);
  ck_assert_int_eq(e2e_run("%s/spline1d diagnose --quiet --data %s --random 2 --out %s", e2e_tmp, data, out), 0);
}
END_TEST

/* Writes tmp/NAME.dens and the data tmp/NAME.csv (column x, and y unless ys is NULL),
** compiles tmp/NAME, and names the parameter and output files of the test. */
static void closed_form_setup(const char *name, const char *dens, const double *xs, const double *ys, int n,
                              char *params, char *out)
{
  char model[512], data[512];
  snprintf(model, sizeof model, "%s/%s.dens", e2e_tmp, name);
  snprintf(data, sizeof data, "%s/%s.csv", e2e_tmp, name);
  snprintf(params, 512, "%s/%s.json", e2e_tmp, name);
  snprintf(out, 512, "%s/%s.out.json", e2e_tmp, name);
  FILE *f = fopen(model, "w");
  fputs(dens, f);
  fclose(f);
  f = fopen(data, "w");
  fputs(ys ? "x,y\n" : "x\n", f);
  for (int i = 0; i < n; i++)
    ys ? fprintf(f, "%.17g,%.17g\n", xs[i], ys[i]) : fprintf(f, "%.17g\n", xs[i]);
  fclose(f);
  ck_assert_int_eq(e2e_run("%s %s -o %s/%s 2>/dev/null", DENSC, model, e2e_tmp, name), 0);
}

/* A model whose log posterior has a closed form: a term constant in every column (its
** integral is the window's area), one analytic in x and one numeric in x, both constant
** in y; eval must match the hand-computed objective and gradient. */
START_TEST(test_closed_form)
{
  char params[512], out[512];
  static const double xs[] = { 0.25, 1.1, 1.9 }, ys[] = { -0.5, 0.0, 0.75 };
  closed_form_setup("closed",
                    "data { real x in [0, 2]; real y in [-1, 1]; }\n"
                    "parameters { real a; real b; real c; }\n"
                    "model {\n"
                    "  component s = exp(a) * normal(x | 1, 0.3);\n"
                    "  component bg = exp(b);\n"
                    "  component t = exp(c + x);\n"
                    "  intensity = s + bg + t;\n"
                    "}\n", xs, ys, 3, params, out);
  static const double points[][3] = { { 0.0, 0.0, 0.0 }, { 2.5, -1.0, 0.7 } };
  for (int k = 0; k < 2; k++) {
    double a = points[k][0], b = points[k][1], c = points[k][2];
    FILE *f = fopen(params, "w");
    fprintf(f, "{\"a\": %.17g, \"b\": %.17g, \"c\": %.17g}\n", a, b, c);
    fclose(f);
    /* the integrals: the s term over x by normal CDFs, each times the height 2 in y */
    double Phi = 0.5 * erfc(-(2 - 1) / 0.3 / sqrt(2.0)) - 0.5 * erfc(-(0 - 1) / 0.3 / sqrt(2.0));
    double Is = exp(a) * Phi * 2, Ib = exp(b) * 4, It = exp(c) * (exp(2.0) - 1) * 2;
    double ll = -(Is + Ib + It), ga = -Is, gb = -Ib, gc = -It;
    for (int i = 0; i < 3; i++) {
      double z = (xs[i] - 1) / 0.3;
      double s = exp(a) * exp(-0.5 * z * z) / (0.3 * sqrt(2 * M_PI)), bg = exp(b), t = exp(c + xs[i]);
      double n = s + bg + t;
      ll += log(n);
      ga += s / n, gb += bg / n, gc += t / n;
    }
    const char *methods[] = { "auto", "'gauss_legendre(order=32)'" };
    for (int m = 0; m < 2; m++) {
      ck_assert_int_eq(e2e_run("%s/closed eval --quiet --data %s/closed.csv --params %s --integrate x=%s --out %s", e2e_tmp,
                           e2e_tmp, params, methods[m], out), 0);
      densrt_json *e = e2e_load(out);
      double obj = e2e_member(e, "objective")->number;
      ck_assert_msg(fabs(obj - (-ll / 3)) <= 1e-12 * fabs(ll / 3), "%s at point %d: objective %.17g, expected %.17g",
                    methods[m], k, obj, -ll / 3);
      const densrt_json *g = e2e_member(e, "gradient");
      double want[] = { -ga / 3, -gb / 3, -gc / 3 };
      for (int j = 0; j < 3; j++)
        ck_assert_msg(fabs(g->items[j].number - want[j]) <= 1e-12 * (1 + fabs(want[j])),
                      "%s at point %d: gradient[%d] %.17g, expected %.17g", methods[m], k, j, g->items[j].number,
                      want[j]);
      densrt_json_free(e);
    }
  }
}
END_TEST

/* Factors that change sign where the intensity does not, (x - 2)(x - 3) and x * x on
** [-1, 1]: their log is taken of the product, not factor by factor (which gave NaN). */
START_TEST(test_signed_factors)
{
  char params[512], out[512];
  static const double xs[] = { -0.5, 0.3, 0.9 };
  closed_form_setup("signed",
                    "data { real x in [-1, 1]; }\n"
                    "parameters { real a; real b; }\n"
                    "model { intensity = exp(a) * (x - 2) * (x - 3) + exp(b) * x * x / 2; }\n",
                    xs, NULL, 3, params, out);
  double a = 0.4, b = -0.2;
  FILE *f = fopen(params, "w");
  fprintf(f, "{\"a\": %.17g, \"b\": %.17g}\n", a, b);
  fclose(f);
  ck_assert_int_eq(e2e_run("%s/signed eval --quiet --data %s/signed.csv --params %s --out %s", e2e_tmp, e2e_tmp, params, out), 0);
  /* integrals over [-1, 1]: (x - 2)(x - 3) gives 38/3, x^2/2 gives 1/3 */
  double ll = -(exp(a) * 38 / 3 + exp(b) / 3), ga = -exp(a) * 38 / 3, gb = -exp(b) / 3;
  for (int i = 0; i < 3; i++) {
    double p = exp(a) * (xs[i] - 2) * (xs[i] - 3), q = exp(b) * xs[i] * xs[i] / 2;
    ll += log(p + q);
    ga += p / (p + q), gb += q / (p + q);
  }
  densrt_json *e = e2e_load(out);
  double obj = e2e_member(e, "objective")->number;
  ck_assert_msg(fabs(obj + ll / 3) <= 1e-12 * fabs(ll / 3), "objective %.17g, expected %.17g", obj, -ll / 3);
  const densrt_json *g = e2e_member(e, "gradient");
  ck_assert_msg(fabs(g->items[0].number + ga / 3) <= 1e-12 && fabs(g->items[1].number + gb / 3) <= 1e-12,
                "gradient [%.17g, %.17g], expected [%.17g, %.17g]", g->items[0].number, g->items[1].number, -ga / 3,
                -gb / 3);
  densrt_json_free(e);
}
END_TEST

/* A non-finite log posterior names the .dens line, the component or prior, and the data rows. */
START_TEST(test_nonfinite_located)
{
  char dir[512], err[600];
  snprintf(dir, sizeof dir, "%s/nonfinite", e2e_tmp);
  ck_assert_int_eq(e2e_run("mkdir -p %s && printf 'x\\n0.5\\n0\\n0.2\\n' > %s/d.csv && "
                           "echo '{\"a\": 0, \"b\": 0}' > %s/p.json", dir, dir, dir), 0);
  FILE *f = fopen(strcat(strcpy(err, dir), "/nf.dens"), "w");
  fputs("data { real x in [0, 1]; }\n"
        "parameters { real a; real b; }\n"
        "model {\n"
        "  component lin = exp(a) * x;\n"
        "  component odd = exp(b) * sqrt(x - 0.3);\n"
        "  intensity = lin + odd;\n"
        "}\n"
        "priors { a ~ normal(0, 1); b ~ normal(0, exp(a) - 1); }\n", f);
  fclose(f);
  ck_assert_int_eq(e2e_run("cd %s && %s nf.dens -o nf", dir, DENSC), 0);
  snprintf(err, sizeof err, "%s/err.txt", dir);
  ck_assert_int_eq(e2e_run("cd %s && ./nf eval --quiet --data d.csv --params p.json 2> %s", dir, err), 2);
  char *t = e2e_slurp(err);
  ck_assert_msg(strstr(t, "nf.dens:5:3: the integral of component 'odd' is not a number"), "%s", t);
  ck_assert_msg(strstr(t, "nf.dens:8:28: the prior on 'b' is nan"), "%s", t);
  ck_assert_msg(strstr(t, "nf.dens:5:3: component 'odd' is not a number at data row 2 (x = 0)"), "%s", t);
  ck_assert_msg(strstr(t, "at data row 3 (x = 0.20000000000000001)"), "%s", t);
  ck_assert_msg(!strstr(t, "data row 1 "), "row 1 is finite: %s", t);
  free(t);
  /* every component zero at a row */
  f = fopen(strcat(strcpy(err, dir), "/z.dens"), "w");
  fputs("data { real x in [0, 1]; }\nparameters { real a; }\nmodel { intensity = exp(a) * x + x^2; }\n", f);
  fclose(f);
  snprintf(err, sizeof err, "%s/err2.txt", dir);
  ck_assert_int_eq(e2e_run("cd %s && %s z.dens -o z && echo '{\"a\": 0}' > pz.json && "
                           "./z eval --quiet --data d.csv --params pz.json 2> %s", dir, DENSC, err), 2);
  t = e2e_slurp(err);
  ck_assert_msg(strstr(t, "z.dens: the intensity is zero at data row 2 (x = 0): every component is 0 there"), "%s", t);
  free(t);
}
END_TEST

/* The 2-D mixture of tests/golden: Gaussian stream (analytic in phi2) plus background. */
START_TEST(test_mixture2d)
{
  char data[512];
  snprintf(data, sizeof data, "%s/mix.csv", e2e_tmp);
  FILE *f = fopen(data, "w");
  fputs("phi1,phi2\n", f);
  unsigned long long s = 12345;
  for (int i = 0; i < 2000; i++) {
    double u[3];
    for (int k = 0; k < 3; k++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      u[k] = (double)(s >> 11) / 9007199254740992.0;
    }
    double p1 = -100 + 120 * u[0];
    double p2 = u[1] < 0.3 ? 0.01 * p1 + (u[2] - 0.5) : -7 + 12 * u[2];
    fprintf(f, "%.17g,%.17g\n", p1, p2);
  }
  fclose(f);
  ck_assert_int_eq(e2e_run("%s %s/tests/golden/mixture2d.dens -o %s/mix", DENSC, SRCDIR, e2e_tmp), 0);
  ck_assert_int_eq(e2e_run("%s/mix diagnose --quiet --random 3 --data %s --out %s/mix-d.json", e2e_tmp, data, e2e_tmp), 0);
  ck_assert_int_eq(e2e_run("%s/mix diagnose --quiet --random 1 --data %s --integrate 'phi2=simpson(points=61)' "
                       "--integrate 'phi1=gauss_legendre(order=4, subdiv=2)' --out %s/mix-d2.json", e2e_tmp, data, e2e_tmp), 0);
  ck_assert_int_eq(e2e_run("%s/mix optimize --quiet --data %s --out %s/mix-fit.json", e2e_tmp, data, e2e_tmp), 0);
  char path[512];
  snprintf(path, sizeof path, "%s/mix-fit.json", e2e_tmp);
  densrt_json *fit = e2e_load(path);
  /* at the maximum of a Poisson likelihood with a free amplitude the integral equals N */
  const densrt_json *in = e2e_member(fit, "integrals");
  double total = e2e_member(e2e_member(in, "stream"), "value")->number + e2e_member(e2e_member(in, "background"), "value")->number;
  ck_assert_msg(fabs(total - 2000) < 2, "total integral %g", total);
  densrt_json_free(fit);
}
END_TEST

int main(void)
{
  if (e2e_setup())
    return 99;
  if (access(SEED_VALUES, R_OK) == 0 && densrt_json_parse_file(SEED_VALUES, &ref) != 0) {
    fprintf(stderr, "%s\n", densrt_error_message());   /* there but unreadable: a hard error */
    return 99;
  }
  /* parameters for the bad-input tests of spline1d: any valid values do */
  if (e2e_run("echo '{\"ln_n0\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}' > %s/s-flat.json", e2e_tmp) != 0)
    return 99;

  Suite *s = suite_create("e2e");
  TCase *tc = tcase_create("seed");
  tcase_set_timeout(tc, 120);
  shared_add_test(tc, test_gaussian1d_eval, SEED_VALUES);
  shared_add_test(tc, test_spline1d_eval, SEED_VALUES);
  shared_add_test(tc, test_gaussian1d_optimize, SEED_VALUES);
  shared_add_test(tc, test_spline1d_optimize, SEED_VALUES);
  shared_add_test(tc, test_gradients_vs_finite_differences, SEED_VALUES);
  tcase_add_test(tc, test_knots_at_run_time);
  tcase_add_test(tc, test_mixture2d);
  shared_add_test(tc, test_gd1_eval, SEED_VALUES);
  tcase_add_test(tc, test_optimizer_recovers);
  tcase_add_test(tc, test_extreme_data);
  tcase_add_test(tc, test_tiny_intensity);
  tcase_add_test(tc, test_closed_form);
  tcase_add_test(tc, test_signed_factors);
  tcase_add_test(tc, test_nonfinite_located);
  suite_add_tcase(s, tc);
  TCase *tb = tcase_create("bad input");
  tcase_set_timeout(tb, 120);
  tcase_add_loop_test(tb, test_bad_data, 0, (int)(sizeof bad_data / sizeof *bad_data));
  tcase_add_loop_test(tb, test_bad_cli, 0, (int)(sizeof bad_cli / sizeof *bad_cli));
  tcase_add_loop_test(tb, test_bad_densc, 0, (int)(sizeof bad_densc / sizeof *bad_densc));
  tcase_add_test(tb, test_huge_line);
  tcase_add_test(tb, test_bad_fits_header);
  tcase_add_test(tb, test_unwritable_output);
  tcase_add_test(tb, test_hostile_names);
  suite_add_tcase(s, tb);
  int rc = e2e_finish(s);
  densrt_json_free(ref);
  return rc;
}
