/*
** cli.c — the command line of every generated program:
**   PROG info | eval | optimize   (see usage() below)
** Exit status: 0 success, 1 optimisation did not converge (results are
** still written), 2 bad input or usage, 130 interrupted.
*/
#include "densrt.h"

#include <gsl/gsl_errno.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EXIT_NOCONV = 1, EXIT_BAD = 2, EXIT_INTR = 130 };

static const char *prog = "densrt";

/* {====================================================================
** Options
** ===================================================================== */

typedef struct {
  const char *cmd;
  const char *data, *params, *init, *out;
  const char **columns;  size_t n_columns;    /* name=COL */
  const char **sets;     size_t n_sets;       /* knots=spec */
  const char **integr;   size_t n_integr;     /* column=method */
  const char **where;    size_t n_where;      /* row filters: COLUMN OP NUMBER */
  int outside;                                /* 0 error, 1 drop, 2 keep */
  long max_iter;
  double ftol, gtol, tol;
  long random, seed, width, height;
  double error_tol;
  int quiet;
} options;

static void usage(const densrt_model_def *def, FILE *f)
{
  fprintf(f,
          "Usage: %s COMMAND [OPTIONS]\n"
          "Model '%s' compiled by densc %s from %s.\n\n"
          "Commands:\n"
          "  info                 parameters, sizes, data columns, knot sets, integration\n"
          "  eval                 log posterior and gradient at --params (JSON on stdout or --out)\n"
          "  optimize             maximum a posteriori fit with L-BFGS-B\n"
          "  diagnose             gradient against finite differences at --params (or the\n"
          "                       default start) and --random N points around it\n"
          "  benchmark            median time of one log posterior + gradient evaluation\n"
          "  plot                 PNG figure of the model at --params over the data (--out)\n\n"
          "Options:\n"
          "  --data FILE          data table: CSV with a header row, or a FITS table (plain\n"
          "                       or gzip-compressed); a pipe works too\n"
          "  --column NAME=COL    read model column NAME from file column COL (repeatable)\n"
          "  --outside error|drop|keep\n"
          "                       rows outside the window: stop (default), drop them, or keep\n"
          "                       them (they still count in the sum over the data)\n"
          "  --where 'COL OP X'   keep only rows where the model column COL compares to the\n"
          "                       number X (OP: < <= > >= == !=); repeatable, applied first\n"
          "  --params FILE        parameter values: a JSON object name -> number or array,\n"
          "                       or the output of optimize (its \"params\" are used)\n"
          "  --width W, --height H  plot: figure size in pixels (default 1000 x 500)\n"
          "  --init FILE          optimize: starting values (default: 0, moved inside bounds)\n"
          "  --out FILE           write the JSON result to FILE (atomically) instead of stdout\n"
          "  --set KNOTS=SPEC     replace a knot set, e.g. --set k='linspace(-3, 3, 15)'\n"
          "  --integrate COL=M    integration method of a column: auto, analytic,\n"
          "                       gauss_legendre(order = N[, subdiv = M]), simpson(points = N),\n"
          "                       simpson(step = h)\n"
          "  --max-iter N         optimize: iteration limit (default 15000)\n"
          "  --ftol X             optimize: stop when the relative decrease of the objective\n"
          "                       is below X (default 1e-13)\n"
          "  --gtol X             optimize: stop when the projected gradient is below X\n"
          "                       (default 1e-9)\n"
          "  --tol X              relative accuracy of 'auto' integrals (default 1e-10)\n"
          "  --random N           diagnose: also N random points (default 5);\n"
          "                       benchmark: number of timed batches (default 21)\n"
          "  --seed S             diagnose: random seed (default 1)\n"
          "  --error-tol X        diagnose: allowed |fd - gradient| / max(1, |gradient|)\n"
          "                       (default 1e-6)\n"
          "  --quiet              no progress on stderr\n"
          "  -h, --help           this help;  --version   the densc version\n\n"
          "The objective is -(log likelihood + log prior) / N, N the number of data rows.\n"
          "Exit status: 0 success, 1 optimisation did not converge, 2 bad input, 130 interrupted.\n",
          prog, def->name, def->version, def->source);
}

static void fail(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static int parse_double(const char *opt, const char *s, double *out, double lo)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || !isfinite(v) || v < lo) {
    fail("%s: '%s' is not a valid number%s", opt, s, lo > -INFINITY ? " (must not be negative)" : "");
    return 0;
  }
  *out = v;
  return 1;
}

static void push(const char ***list, size_t *n, const char *v)
{
  const char **l = realloc(*list, (*n + 1) * sizeof **list);
  if (!l) {
    fail("out of memory");
    exit(EXIT_BAD);
  }
  l[(*n)++] = v;
  *list = l;
}

/* GNU style: --opt VALUE or --opt=VALUE. Returns 0 to continue, or an exit status. */
static int parse_args(const densrt_model_def *def, int argc, char **argv, options *o)
{
  memset(o, 0, sizeof *o);
  o->max_iter = 15000;
  o->ftol = 1e-13;
  o->gtol = 1e-9;
  o->tol = 1e-10;
  o->random = 5;
  o->seed = 1;
  o->error_tol = 1e-6;
  o->width = 1000;
  o->height = 500;
  if (argc < 2) {
    usage(def, stderr);
    return EXIT_BAD;
  }
  o->cmd = argv[1];
  if (!strcmp(o->cmd, "-h") || !strcmp(o->cmd, "--help") || !strcmp(o->cmd, "help")) {
    usage(def, stdout);
    return -1;
  }
  if (!strcmp(o->cmd, "--version")) {
    printf("%s (densc %s)\n", def->name, def->version);
    return -1;
  }
  if (strcmp(o->cmd, "info") && strcmp(o->cmd, "eval") && strcmp(o->cmd, "optimize") &&
      strcmp(o->cmd, "diagnose") && strcmp(o->cmd, "benchmark") && strcmp(o->cmd, "plot")) {
    fail("unknown command '%s' (try '%s --help')", o->cmd, prog);
    return EXIT_BAD;
  }
  static const char *const with_value[] = {"--data", "--column", "--outside", "--params", "--init", "--out", "--set",
                                           "--integrate", "--max-iter", "--ftol", "--gtol", "--tol",
                                           "--random", "--seed", "--error-tol", "--where",
                                           "--width", "--height"};
  for (int i = 2; i < argc; i++) {
    char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(def, stdout);
      return -1;
    }
    if (!strcmp(a, "--quiet")) {
      o->quiet = 1;
      continue;
    }
    const char *name = NULL, *value = NULL;
    char key[32];
    for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) {
      size_t n = strlen(with_value[k]);
      if (!strncmp(a, with_value[k], n) && (a[n] == '\0' || a[n] == '=')) {
        name = with_value[k];
        if (a[n] == '=')
          value = a + n + 1;
        else if (i + 1 < argc)
          value = argv[++i];
        else {
          fail("option %s needs a value", name);
          return EXIT_BAD;
        }
      }
    }
    if (!name) {
      fail("unknown option '%s' (try '%s --help')", a, prog);
      return EXIT_BAD;
    }
    snprintf(key, sizeof key, "%s", name);
    if (!strcmp(key, "--data")) o->data = value;
    else if (!strcmp(key, "--params")) o->params = value;
    else if (!strcmp(key, "--init")) o->init = value;
    else if (!strcmp(key, "--out")) o->out = value;
    else if (!strcmp(key, "--column")) push(&o->columns, &o->n_columns, value);
    else if (!strcmp(key, "--set")) push(&o->sets, &o->n_sets, value);
    else if (!strcmp(key, "--integrate")) push(&o->integr, &o->n_integr, value);
    else if (!strcmp(key, "--where")) push(&o->where, &o->n_where, value);
    else if (!strcmp(key, "--outside")) {
      if (strcmp(value, "error") && strcmp(value, "drop") && strcmp(value, "keep")) {
        fail("--outside: expected 'error', 'drop' or 'keep', got '%s'", value);
        return EXIT_BAD;
      }
      o->outside = !strcmp(value, "drop") ? 1 : !strcmp(value, "keep") ? 2 : 0;
    } else if (!strcmp(key, "--max-iter") || !strcmp(key, "--random") || !strcmp(key, "--seed") ||
               !strcmp(key, "--width") || !strcmp(key, "--height")) {
      double v;
      long min = strcmp(key, "--max-iter") ? 0 : 1;
      char *end;
      errno = 0;
      v = strtod(value, &end);
      if (end == value || *end || errno || v != floor(v) || v < (double)min || v > 1e9) {
        fail("%s: expected an integer >= %ld, got '%s'", key, min, value);
        return EXIT_BAD;
      }
      if (!strcmp(key, "--max-iter"))
        o->max_iter = (long)v;
      else if (!strcmp(key, "--width"))
        o->width = (long)v;
      else if (!strcmp(key, "--height"))
        o->height = (long)v;
      else if (!strcmp(key, "--random"))
        o->random = (long)v;
      else
        o->seed = (long)v;
    } else {
      double *dst = !strcmp(key, "--ftol") ? &o->ftol : !strcmp(key, "--gtol") ? &o->gtol
                    : !strcmp(key, "--tol") ? &o->tol : &o->error_tol;
      if (!parse_double(key, value, dst, 0))
        return EXIT_BAD;
      if (dst == &o->tol && o->tol == 0) {   /* no refinement can reach it */
        fail("--tol: '%s' is not a valid accuracy (must be positive)", value);
        return EXIT_BAD;
      }
    }
  }
  return 0;
}

/* }==================================================================== */

/* {====================================================================
** Model set-up: knot sets, methods, data
** ===================================================================== */

static int split_pair(const char *opt, const char *arg, char *name, size_t len, const char **value)
{
  const char *eq = strchr(arg, '=');
  if (!eq || eq == arg || (size_t)(eq - arg) >= len) {
    fail("%s: expected NAME=VALUE, got '%s'", opt, arg);
    return 0;
  }
  memcpy(name, arg, (size_t)(eq - arg));
  name[eq - arg] = '\0';
  *value = eq + 1;
  return 1;
}

static int setup_model(const densrt_model_def *def, const options *o, densrt_model **out)
{
  densrt_model *m;
  if (densrt_model_alloc(def, &m)) {
    fail("%s", densrt_error_message());
    return EXIT_BAD;
  }
  char name[256];
  const char *value;
  for (size_t i = 0; i < o->n_sets; i++) {
    if (!split_pair("--set", o->sets[i], name, sizeof name, &value))
      goto bad;
    if (densrt_model_set_knots(m, name, value)) {
      fail("--set: %s", densrt_error_message());
      goto bad;
    }
  }
  for (size_t i = 0; i < o->n_integr; i++) {
    if (!split_pair("--integrate", o->integr[i], name, sizeof name, &value))
      goto bad;
    if (densrt_model_set_method(m, name, value)) {
      fail("--integrate: %s", densrt_error_message());
      goto bad;
    }
  }
  *out = m;
  return 0;
bad:
  densrt_model_free(m);
  return EXIT_BAD;
}

typedef struct {
  size_t dim;
  int op;        /* '<' '>' 'l' (<=) 'g' (>=) '=' '!' */
  double x;
} filter;

static int parse_filter(const densrt_model_def *def, const char *text, filter *f)
{
  const char *p = text;
  while (*p == ' ')
    p++;
  const char *b = p;
  while (*p && *p != ' ' && !strchr("<>=!", *p))
    p++;
  size_t len = (size_t)(p - b);
  f->dim = def->n_dims;
  for (size_t d = 0; d < def->n_dims; d++)
    if (strlen(def->dims[d].name) == len && !strncmp(def->dims[d].name, b, len))
      f->dim = d;
  while (*p == ' ')
    p++;
  static const struct { const char *s; int op; } ops[] = {{"<=", 'l'}, {">=", 'g'}, {"==", '='}, {"!=", '!'},
                                                        {"<", '<'}, {">", '>'}};
  f->op = 0;
  for (size_t i = 0; i < sizeof ops / sizeof *ops && !f->op; i++)
    if (!strncmp(p, ops[i].s, strlen(ops[i].s))) {
      f->op = ops[i].op;
      p += strlen(ops[i].s);
    }
  char *end;
  f->x = strtod(p, &end);
  while (*end == ' ')
    end++;
  if (f->dim == def->n_dims || !f->op || end == p || *end || !isfinite(f->x)) {
    fail("--where: expected 'COLUMN OP NUMBER' with a model column and OP one of < <= > >= == !=, got '%s'", text);
    return 0;
  }
  return 1;
}

static int filter_pass(const filter *f, double v)
{
  switch (f->op) {
  case '<': return v < f->x;
  case '>': return v > f->x;
  case 'l': return v <= f->x;
  case 'g': return v >= f->x;
  case '=': return v == f->x;
  default: return v != f->x;
  }
}

static int load_data(densrt_model *m, const options *o)
{
  const densrt_model_def *def = m->def;
  if (!o->data) {
    fail("%s needs --data FILE", o->cmd);
    return EXIT_BAD;
  }
  densrt_io_column want[DENSRT_MAX_DIMS];
  for (size_t d = 0; d < def->n_dims; d++)
    want[d] = (densrt_io_column){def->dims[d].name, m->lo[d], m->hi[d]};
  char name[256];
  const char *value;
  for (size_t i = 0; i < o->n_columns; i++) {
    if (!split_pair("--column", o->columns[i], name, sizeof name, &value))
      return EXIT_BAD;
    size_t d = 0;
    while (d < def->n_dims && strcmp(def->dims[d].name, name))
      d++;
    if (d == def->n_dims) {
      fail("--column: the model has no data column '%s'", name);
      return EXIT_BAD;
    }
    want[d].name = value;
  }
  /* With filters or kept outliers the windows are applied here, after the filters. */
  int own_windows = o->n_where > 0 || o->outside == 2;
  filter f[16];
  if (o->n_where > 16) {
    fail("--where: at most 16 filters");
    return EXIT_BAD;
  }
  for (size_t i = 0; i < o->n_where; i++)
    if (!parse_filter(def, o->where[i], &f[i]))
      return EXIT_BAD;
  if (own_windows)
    for (size_t d = 0; d < def->n_dims; d++)
      want[d].lo = -INFINITY, want[d].hi = INFINITY;
  densrt_io_table t;
  if (densrt_io_read(o->data, want, def->n_dims, o->outside == 1 ? DENSRT_IO_OUTSIDE_DROP : DENSRT_IO_OUTSIDE_ERROR,
                     &t)) {
    fail("%s", densrt_error_message());
    return EXIT_BAD;
  }
  if (own_windows) {
    size_t kept = 0, outside = 0;
    for (size_t r = 0; r < t.n_rows; r++) {
      int keep = 1;
      for (size_t i = 0; i < o->n_where && keep; i++)
        keep = filter_pass(&f[i], t.cols[f[i].dim][r]);
      if (!keep)
        continue;
      int in = 1;
      for (size_t d = 0; d < def->n_dims; d++) {
        double v = t.cols[d][r];
        if (v < m->lo[d] || v > m->hi[d]) {
          in = 0;
          if (o->outside == 0) {
            fail("%s: row %zu: column '%s': value %g is outside the window [%g, %g]", o->data, r + 1, want[d].name, v,
                 m->lo[d], m->hi[d]);
            densrt_io_table_free(&t);
            return EXIT_BAD;
          }
        }
      }
      if (!in && o->outside == 1)
        continue;
      outside += !in;
      for (size_t d = 0; d < def->n_dims; d++)
        t.cols[d][kept] = t.cols[d][r];
      kept++;
    }
    t.n_dropped += t.n_rows - kept;
    t.n_rows = kept;
    if (outside && !o->quiet)
      fprintf(stderr, "%s: kept %zu rows outside the window\n", prog, outside);
  }
  if (t.n_rows == 0) {
    fail("%s: no data rows%s", o->data, t.n_dropped ? " left after filtering" : "");
    densrt_io_table_free(&t);
    return EXIT_BAD;
  }
  if (t.n_dropped && !o->quiet)
    fprintf(stderr, "%s: dropped %zu rows; %zu remain\n", prog, t.n_dropped, t.n_rows);
  densrt_model_set_data(m, t.n_rows, t.cols);
  free(t.cols);   /* the columns themselves now belong to the model */
  return 0;
}

static int prepare(densrt_model *m)
{
  if (densrt_model_prepare(m)) {
    fail("%s", densrt_error_message());
    return EXIT_BAD;
  }
  return 0;
}

/* }==================================================================== */

/* {====================================================================
** Parameters in JSON
** ===================================================================== */

static int read_params(const densrt_model *m, const char *path, double *theta, int check_bounds)
{
  const densrt_model_def *def = m->def;
  densrt_json *j;
  if (densrt_json_parse_file(path, &j)) {
    fail("%s", densrt_error_message());
    return EXIT_BAD;
  }
  int rc = EXIT_BAD;
  densrt_json *whole = j;
  const densrt_json *inner = densrt_json_member(j, "params");
  if (inner && inner->type == DENSRT_JSON_OBJECT)
    j = (densrt_json *)inner;   /* the output of optimize or eval */
  if (j->type != DENSRT_JSON_OBJECT) {
    fail("%s: expected a JSON object of parameter values", path);
    goto done;
  }
  for (size_t i = 0; i < j->n; i++)
    if (densrt_model_param(m, j->keys[i]) < 0) {
      fail("%s:%d:%d: '%s' is not a parameter of the model", path, j->items[i].line, j->items[i].col, j->keys[i]);
      goto done;
    }
  for (size_t p = 0; p < def->n_params; p++) {
    const densrt_param_def *q = &def->params[p];
    const densrt_json *v = densrt_json_member(j, q->name);
    if (!v) {
      fail("%s: missing parameter '%s'", path, q->name);
      goto done;
    }
    size_t n = m->size[p];
    if (q->size_kind == DENSRT_SIZE_SCALAR) {
      if (v->type != DENSRT_JSON_NUMBER) {
        fail("%s:%d:%d: '%s' must be a number", path, v->line, v->col, q->name);
        goto done;
      }
      theta[m->off[p]] = v->number;
    } else {
      if (v->type != DENSRT_JSON_ARRAY || v->n != n) {
        fail("%s:%d:%d: '%s' must be an array of %zu numbers", path, v->line, v->col, q->name, n);
        goto done;
      }
      for (size_t i = 0; i < n; i++) {
        if (v->items[i].type != DENSRT_JSON_NUMBER) {
          fail("%s:%d:%d: element %zu of '%s' is not a number", path, v->items[i].line, v->items[i].col, i + 1,
               q->name);
          goto done;
        }
        theta[m->off[p] + i] = v->items[i].number;
      }
    }
    for (size_t i = 0; i < n; i++) {
      double x = theta[m->off[p] + i];
      if (check_bounds && (x < q->lo || x > q->hi)) {
        fail("%s: '%s'%s = %g is outside its bounds [%g, %g]", path, q->name, n > 1 ? "[...]" : "", x, q->lo, q->hi);
        goto done;
      }
    }
  }
  rc = 0;
done:
  densrt_json_free(whole);
  return rc;
}

/* Default start: 0 moved inside the bounds. */
static void default_init(const densrt_model *m, double *theta)
{
  for (size_t p = 0; p < m->def->n_params; p++) {
    const densrt_param_def *q = &m->def->params[p];
    double x = 0;
    if (isfinite(q->lo) && isfinite(q->hi))
      x = 0.5 * (q->lo + q->hi);
    else if (x <= q->lo)
      x = q->lo + 1;
    else if (x >= q->hi)
      x = q->hi - 1;
    for (size_t i = 0; i < m->size[p]; i++)
      theta[m->off[p] + i] = x;
  }
}

static void write_vector(FILE *f, const double *v, size_t n)
{
  fputc('[', f);
  for (size_t i = 0; i < n; i++) {
    if (i)
      fputs(", ", f);
    densrt_json_write_number(f, v[i]);
  }
  fputc(']', f);
}

static void write_params(FILE *f, const densrt_model *m, const char *key, const double *theta)
{
  fprintf(f, "  ");
  densrt_json_write_string(f, key);
  fputs(": {", f);
  for (size_t p = 0; p < m->def->n_params; p++) {
    fputs(p ? ",\n    " : "\n    ", f);
    densrt_json_write_string(f, m->def->params[p].name);
    fputs(": ", f);
    if (m->def->params[p].size_kind == DENSRT_SIZE_SCALAR)
      densrt_json_write_number(f, theta[m->off[p]]);
    else
      write_vector(f, theta + m->off[p], m->size[p]);
  }
  fputs("\n  }", f);
}

static void write_integrals(FILE *f, const densrt_model *m, double rel_err)
{
  fputs("  \"integrals\": {", f);
  for (size_t t = 0; t < m->def->n_terms; t++) {
    fputs(t ? ",\n    " : "\n    ", f);
    densrt_json_write_string(f, m->def->terms[t].name);
    fputs(": {\"log\": ", f);
    densrt_json_write_number(f, m->log_integral[t]);
    fputs(", \"value\": ", f);
    densrt_json_write_number(f, exp(m->log_integral[t]));
    fprintf(f, ", \"plan\": \"%s\", \"nodes\": %zu}", m->plan[t] == DENSRT_PLAN_EXACT ? "exact" : "numeric",
            densrt_model_nodes(m, t));
  }
  fputs("\n  },\n  \"integration\": {", f);
  char buf[160];
  for (size_t d = 0; d < m->def->n_dims; d++) {
    fputs(d ? ", " : "", f);
    densrt_json_write_string(f, m->def->dims[d].name);
    fputs(": ", f);
    densrt_json_write_string(f, densrt_spec_method_text(&m->method[d], buf, sizeof buf));
  }
  fputs("},\n  \"integral_rel_err\": ", f);
  densrt_json_write_number(f, rel_err);
  fputs(",\n", f);
}

/* }==================================================================== */

/* {====================================================================
** Commands
** ===================================================================== */

static int cmd_info(densrt_model *m)
{
  const densrt_model_def *def = m->def;
  char buf[160];
  printf("model %s (from %s, densc %s)\n", def->name, def->source, def->version);
  printf("data columns:\n");
  for (size_t d = 0; d < def->n_dims; d++)
    printf("  %-16s window [%g, %g], integration %s\n", def->dims[d].name, m->lo[d], m->hi[d],
           densrt_spec_method_text(&m->method[d], buf, sizeof buf));
  if (def->n_knots)
    printf("knot sets:\n");
  for (size_t k = 0; k < def->n_knots; k++)
    printf("  %-16s %zu knots in [%g, %g]\n", def->knots[k].name, m->n_knots[k], m->knots[k][0],
           m->knots[k][m->n_knots[k] - 1]);
  printf("parameters (%zu values):\n", m->n_theta);
  for (size_t p = 0; p < def->n_params; p++) {
    const densrt_param_def *q = &def->params[p];
    printf("  %-16s size %-4zu bounds [%g, %g]\n", q->name, m->size[p], q->lo, q->hi);
  }
  printf("terms:\n");
  for (size_t t = 0; t < def->n_terms; t++) {
    size_t nodes = densrt_model_nodes(m, t);
    printf("  %-16s %s integral, %zu quadrature nodes\n", def->terms[t].name,
           !nodes ? "analytic"
           : m->plan[t] == DENSRT_PLAN_EXACT && def->terms[t].analytic ? "partly analytic" : "numeric",
           nodes);
  }
  return 0;
}

static int open_out(const options *o, densrt_io_out *out)
{
  if (densrt_io_out_open(out, o->out ? o->out : "-")) {
    fail("%s", densrt_error_message());
    return EXIT_BAD;
  }
  return 0;
}

static int close_out(densrt_io_out *out)
{
  if (densrt_io_out_commit(out)) {
    fail("%s", densrt_error_message());
    return EXIT_BAD;
  }
  return 0;
}

/* Says which part of the log posterior is not finite: a term's integral, the data sum, the priors. */
static void explain_nonfinite(const densrt_model *m, const char *where)
{
  fail("the log posterior is not finite at the parameters of %s", where);
  for (size_t t = 0; t < m->def->n_terms; t++)
    if (isnan(m->log_integral[t]) || exp(m->log_integral[t]) == INFINITY)
      fail("  the integral of component '%s' is %s (log integral %g)", m->def->terms[t].name,
           isnan(m->log_integral[t]) ? "not a number" : "too large for a double", m->log_integral[t]);
  if (!isfinite(m->log_prior))
    fail("  the log prior is %g", m->log_prior);
  if (isnan(m->log_lik) || m->log_lik == INFINITY)
    fail("  the sum of log n over the data is %g (an intensity is negative, zero or undefined at a data row)",
         m->log_lik);
}

/* The chosen quadrature is the user's call, but an inaccurate one must not pass silently. */
static void warn_inaccurate(const options *o, double rel_err)
{
  if (!o->quiet && !(rel_err <= 1e-6))
    fprintf(stderr,
            "%s: warning: the integrals are inaccurate at these parameters (estimated relative error %g); "
            "use a finer rule or --integrate COLUMN=auto\n",
            prog, rel_err);
}

static int cmd_eval(densrt_model *m, const options *o)
{
  if (!o->params) {
    fail("eval needs --params FILE");
    return EXIT_BAD;
  }
  size_t n = m->n_theta;
  double *theta = calloc(n + 1, sizeof *theta), *g = calloc(n + 1, sizeof *g);
  int rc = EXIT_BAD;
  if (!theta || !g) {
    fail("out of memory");
    goto done;
  }
  if ((rc = read_params(m, o->params, theta, 1)))
    goto done;
  int changed;
  double rel_err = NAN;
  if (densrt_model_refine(m, theta, o->tol, &changed, &rel_err) && !o->quiet)
    fprintf(stderr, "%s: warning: %s\n", prog, densrt_error_message());
  warn_inaccurate(o, rel_err);
  double lp = densrt_model_log_density(m, theta, g);
  double N = (double)m->n;
  if (!isfinite(lp)) {
    explain_nonfinite(m, o->params);
    rc = EXIT_BAD;
    goto done;
  }
  densrt_io_out out;
  if ((rc = open_out(o, &out)))
    goto done;
  FILE *f = out.f;
  fputs("{\n  \"objective\": ", f);
  densrt_json_write_number(f, -lp / N);
  fputs(",\n  \"log_posterior\": ", f);
  densrt_json_write_number(f, lp);
  fputs(",\n  \"log_likelihood\": ", f);
  densrt_json_write_number(f, m->log_lik);
  fputs(",\n  \"log_prior\": ", f);
  densrt_json_write_number(f, m->log_prior);
  fprintf(f, ",\n  \"n\": %zu,\n  \"gradient\": ", m->n);
  for (size_t i = 0; i < n; i++)
    g[i] = -g[i] / N;
  write_vector(f, g, n);
  fputs(",\n", f);
  write_integrals(f, m, rel_err);
  write_params(f, m, "params", theta);
  fputs("\n}\n", f);
  rc = close_out(&out);
done:
  free(theta);
  free(g);
  return rc;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
  (void)sig;
  interrupted = 1;
}

typedef struct {
  densrt_model *m;
  double N;
  /* the accuracy watch of 'auto' integrals during optimize */
  int watch, quiet, needs_refine;
  double tol;
  double *x_ok;   /* the last iterate whose integrals were verified */
} objective_ctx;

static double objective(const double *x, double *g, void *vctx)
{
  objective_ctx *c = vctx;
  double lp = densrt_model_log_density(c->m, x, g);
  for (size_t i = 0; i < c->m->n_theta; i++)
    g[i] = -g[i] / c->N;
  return -lp / c->N;
}

/* Quadrature that is accurate at the start can fail where the optimiser wanders (a sharply
** peaked intensity slipping between nodes), and then the computed likelihood is unbounded.
** So every few iterations the integrals are checked; a failed check stops the run, which
** goes back to the last verified point with refined rules. */
#define WATCH_EVERY 5

static int progress(size_t iter, double f, const double *x, double pg, void *vctx)
{
  objective_ctx *c = vctx;
  if (!c->quiet && iter % 25 == 0)
    fprintf(stderr, "%s: iteration %zu: objective %.12g, projected gradient %.3g\n", prog, iter, f, pg);
  if (c->watch && iter % WATCH_EVERY == 0) {
    double rel;
    if (densrt_model_integral_error(c->m, x, &rel) == DENSRT_OK && rel <= fmax(100 * c->tol, 1e-8)) {
      memcpy(c->x_ok, x, c->m->n_theta * sizeof *x);
    } else {
      c->needs_refine = 1;
      return 1;
    }
  }
  return 0;
}

static int cmd_optimize(densrt_model *m, const options *o)
{
  const densrt_model_def *def = m->def;
  size_t n = m->n_theta;
  double *x = calloc(n + 1, sizeof *x), *lo = calloc(n + 1, sizeof *lo), *hi = calloc(n + 1, sizeof *hi);
  double *g = calloc(n + 1, sizeof *g), *x_ok = calloc(n + 1, sizeof *x_ok);
  int rc = EXIT_BAD;
  if (!x || !lo || !hi || !g || !x_ok) {
    fail("out of memory");
    goto done;
  }
  if (o->init) {
    if ((rc = read_params(m, o->init, x, 1)))
      goto done;
  } else {
    default_init(m, x);
  }
  for (size_t p = 0; p < def->n_params; p++)
    for (size_t i = 0; i < m->size[p]; i++) {
      lo[m->off[p] + i] = def->params[p].lo;
      hi[m->off[p] + i] = def->params[p].hi;
    }
  int watch = 0;
  for (size_t d = 0; d < def->n_dims; d++)
    watch |= m->method[d].kind == DENSRT_METHOD_AUTO;
  objective_ctx ctx = {m, (double)m->n, watch, o->quiet, 0, o->tol, x_ok};
  memcpy(x_ok, x, n * sizeof *x);
  densrt_lbfgsb_options opt;
  densrt_lbfgsb_options_default(&opt);
  opt.max_iter = (size_t)o->max_iter;
  opt.max_eval = (size_t)o->max_iter * 4;
  opt.factr = o->ftol / 2.220446049250313e-16;
  opt.pgtol = o->gtol;
  opt.interrupt = &interrupted;
  opt.progress = progress;
  opt.progress_ctx = &ctx;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, &old);

  densrt_lbfgsb_result res;
  memset(&res, 0, sizeof res);
  int status = DENSRT_OK, changed = 1;
  double rel_err = NAN;
  size_t iters = 0, evals = 0;
  /* 'auto' integrals accurate at the start */
  if (watch && densrt_model_refine(m, x, o->tol, &changed, &rel_err) && !o->quiet)
    fprintf(stderr, "%s: warning: %s\n", prog, densrt_error_message());
  changed = 1;
  for (int round = 0; round < 16 && changed; round++) {
    ctx.needs_refine = 0;
    status = densrt_lbfgsb_minimize(n, x, lo, hi, objective, &ctx, &opt, &res);
    iters += res.n_iter;
    evals += res.n_eval;
    if (ctx.needs_refine) {
      /* the integrals went wrong: back to the last verified point, finer rules, again */
      memcpy(x, x_ok, n * sizeof *x);
      if (densrt_model_refine(m, x, o->tol, &changed, &rel_err)) {
        if (!o->quiet)
          fprintf(stderr, "%s: warning: %s\n", prog, densrt_error_message());
        break;
      }
      if (!o->quiet)
        fprintf(stderr, "%s: the integrals lost accuracy; refined the rules and restarted from the last "
                        "verified point\n", prog);
      changed = 1;
      status = DENSRT_OK;
      continue;
    }
    if (status == DENSRT_ENONFINITE || status == DENSRT_EINVAL || status == DENSRT_EINTR)
      break;
    /* 'auto' integrals: check the accuracy at the optimum; refit if the rule had to be refined */
    if (densrt_model_refine(m, x, o->tol, &changed, &rel_err)) {
      if (!o->quiet)
        fprintf(stderr, "%s: warning: %s\n", prog, densrt_error_message());
      break;
    }
    if (changed && !o->quiet)
      fprintf(stderr, "%s: refined the integration rules (relative change %.2g); continuing\n", prog, rel_err);
  }
  sigaction(SIGINT, &old, NULL);
  if (status != DENSRT_ENONFINITE && status != DENSRT_EINVAL && status != DENSRT_EINTR)
    warn_inaccurate(o, rel_err);
  if (status == DENSRT_ENONFINITE || status == DENSRT_EINVAL) {
    fail("%s", densrt_error_message());
    if (status == DENSRT_ENONFINITE) {
      densrt_model_log_density(m, x, g);
      explain_nonfinite(m, o->init ? o->init : "the default start");
    }
    rc = EXIT_BAD;
    goto done;
  }
  double f = objective(x, g, &ctx);
  densrt_io_out out;
  if ((rc = open_out(o, &out)))
    goto done;
  FILE *fo = out.f;
  fputs("{\n  \"objective\": ", fo);
  densrt_json_write_number(fo, f);
  fputs(",\n  \"log_posterior\": ", fo);
  densrt_json_write_number(fo, -f * ctx.N);
  fprintf(fo, ",\n  \"converged\": %s,\n  \"interrupted\": %s,\n  \"message\": ", status == DENSRT_OK ? "true" : "false",
          status == DENSRT_EINTR ? "true" : "false");
  densrt_json_write_string(fo, res.message);
  fprintf(fo, ",\n  \"iterations\": %zu,\n  \"evaluations\": %zu,\n  \"n\": %zu,\n", iters, evals, m->n);
  write_integrals(fo, m, rel_err);
  write_params(fo, m, "params", x);
  fputs(",\n  \"gradient\": ", fo);
  write_vector(fo, g, n);
  fputs("\n}\n", fo);
  if ((rc = close_out(&out)))
    goto done;
  if (!o->quiet)
    fprintf(stderr, "%s: %s after %zu iterations: objective %.15g (%s)\n", prog,
            status == DENSRT_OK ? "converged" : "stopped", iters, f, res.message);
  rc = status == DENSRT_OK ? 0 : status == DENSRT_EINTR ? EXIT_INTR : EXIT_NOCONV;
  if (status == DENSRT_EINTR)
    fail("interrupted; the best point so far was written");
  else if (status != DENSRT_OK)
    fail("did not converge: %s", densrt_error_message());
done:
  free(x);
  free(lo);
  free(hi);
  free(g);
  free(x_ok);
  return rc;
}

/* Central differences with Richardson extrapolation (error O(h^4)). */
static double finite_difference(objective_ctx *c, double *x, size_t i, double *scratch)
{
  double xi = x[i], h = 1e-4 * fmax(1, fabs(xi)), d[2];
  for (int k = 0; k < 2; k++, h /= 2) {
    x[i] = xi + h;
    double fp = objective(x, scratch, c);
    x[i] = xi - h;
    double fm = objective(x, scratch, c);
    d[k] = (fp - fm) / (2 * h);
  }
  x[i] = xi;
  return (4 * d[1] - d[0]) / 3;
}

static int cmd_diagnose(densrt_model *m, const options *o)
{
  size_t n = m->n_theta;
  double *x0 = calloc(n + 1, sizeof *x0), *x = calloc(n + 1, sizeof *x), *g = calloc(n + 1, sizeof *g);
  double *scratch = calloc(n + 1, sizeof *scratch);
  int rc = EXIT_BAD;
  if (!x0 || !x || !g || !scratch) {
    fail("out of memory");
    goto done;
  }
  if (o->params) {
    if ((rc = read_params(m, o->params, x0, 1)))
      goto done;
  } else {
    default_init(m, x0);
  }
  objective_ctx ctx = {.m = m, .N = (double)m->n};
  densrt_io_out out;
  if ((rc = open_out(o, &out)))
    goto done;
  FILE *f = out.f;
  unsigned long long state = (unsigned long long)o->seed * 0x9E3779B97F4A7C15ull + 1;
  double worst = 0;
  fputs("{\n  \"points\": [", f);
  for (long pt = 0; pt <= o->random; pt++) {
    for (size_t i = 0; i < n; i++) {
      double u = 0;
      if (pt > 0) {
        /* xorshift64*: reproducible points in [-1, 1] around the start, kept inside the bounds */
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        u = 2 * ((double)((state * 2685821657736338717ull) >> 11) / 9007199254740992.0) - 1;
      }
      x[i] = x0[i] + u;
    }
    for (size_t p = 0; p < m->def->n_params; p++)
      for (size_t i = 0; i < m->size[p]; i++) {
        double *xi = &x[m->off[p] + i];
        double lo = m->def->params[p].lo, hi = m->def->params[p].hi;
        if (*xi <= lo || *xi >= hi)
          *xi = x0[m->off[p] + i];
      }
    double fx = objective(x, g, &ctx);
    double err = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
      double fd = finite_difference(&ctx, x, i, scratch);
      double e = fabs(fd - g[i]) / fmax(1, fabs(g[i]));
      if (!(e <= err)) {
        err = e;
        at = i;
      }
    }
    if (!(err <= worst))
      worst = err;
    fprintf(f, "%s\n    {\"objective\": ", pt ? "," : "");
    densrt_json_write_number(f, fx);
    fputs(", \"max_error\": ", f);
    densrt_json_write_number(f, err);
    fprintf(f, ", \"at\": %zu}", at);
  }
  fputs("\n  ],\n  \"max_error\": ", f);
  densrt_json_write_number(f, worst);
  fputs(",\n  \"error_tol\": ", f);
  densrt_json_write_number(f, o->error_tol);
  fputs("\n}\n", f);
  if ((rc = close_out(&out)))
    goto done;
  rc = worst <= o->error_tol ? 0 : EXIT_NOCONV;
  if (rc)
    fail("the gradient differs from finite differences by %g (tolerance %g)", worst, o->error_tol);
done:
  free(x0);
  free(x);
  free(g);
  free(scratch);
  return rc;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median over batches of the time per evaluation; each batch lasts about 0.05 s. */
static int cmd_benchmark(densrt_model *m, const options *o)
{
  size_t n = m->n_theta;
  long batches = o->random == 5 ? 21 : (o->random < 1 ? 1 : o->random);
  double *x = calloc(n + 1, sizeof *x), *g = calloc(n + 1, sizeof *g), *t = calloc((size_t)batches, sizeof *t);
  int rc = EXIT_BAD;
  if (!x || !g || !t) {
    fail("out of memory");
    goto done;
  }
  if (o->params) {
    if ((rc = read_params(m, o->params, x, 1)))
      goto done;
  } else {
    default_init(m, x);
  }
  double sink = 0, t0 = now();
  long reps = 0;
  do {
    sink += densrt_model_log_density(m, x, g);
    reps++;
  } while (now() - t0 < 0.05);
  for (long b = 0; b < batches; b++) {
    t0 = now();
    for (long r = 0; r < reps; r++)
      sink += densrt_model_log_density(m, x, g);
    t[b] = (now() - t0) / (double)reps;
  }
  qsort(t, (size_t)batches, sizeof *t, cmp_double);
  printf("{\"median_seconds\": %.6g, \"min_seconds\": %.6g, \"evaluations_per_batch\": %ld, \"batches\": %ld, "
         "\"n\": %zu, \"parameters\": %zu, \"checksum\": %.6g}\n",
         t[batches / 2], t[0], reps, batches, m->n, n, sink);
  rc = 0;
done:
  free(x);
  free(g);
  free(t);
  return rc;
}

static int cmd_plot(densrt_model *m, const options *o)
{
  if (!o->params || !o->out) {
    fail("plot needs --params FILE and --out FIGURE.png");
    return EXIT_BAD;
  }
  double *x = calloc(m->n_theta + 1, sizeof *x);
  if (!x) {
    fail("out of memory");
    return EXIT_BAD;
  }
  int rc = read_params(m, o->params, x, 1);
  if (!rc && densrt_plot_png(m, x, o->out, (int)o->width, (int)o->height)) {
    fail("%s", densrt_error_message());
    rc = EXIT_BAD;
  }
  free(x);
  return rc;
}

/* }==================================================================== */

int densrt_cli_main(const densrt_model_def *def, int argc, char **argv)
{
  if (argc > 0 && argv[0]) {
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];
  }
  gsl_set_error_handler_off();   /* GSL reports through status codes; it must never abort */
  options o;
  int rc = parse_args(def, argc, argv, &o);
  densrt_model *m = NULL;
  if (rc)
    goto done;
  if ((rc = setup_model(def, &o, &m)))
    goto done;
  if (strcmp(o.cmd, "info") != 0 && (rc = load_data(m, &o)))
    goto done;
  if ((rc = prepare(m)))
    goto done;
  if (!strcmp(o.cmd, "info"))
    rc = cmd_info(m);
  else if (!strcmp(o.cmd, "eval"))
    rc = cmd_eval(m, &o);
  else if (!strcmp(o.cmd, "diagnose"))
    rc = cmd_diagnose(m, &o);
  else if (!strcmp(o.cmd, "benchmark"))
    rc = cmd_benchmark(m, &o);
  else if (!strcmp(o.cmd, "plot"))
    rc = cmd_plot(m, &o);
  else
    rc = cmd_optimize(m, &o);
done:
  densrt_model_free(m);
  free(o.columns);
  free(o.sets);
  free(o.integr);
  free(o.where);
  return rc < 0 ? 0 : rc;
}
