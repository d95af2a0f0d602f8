/*
** cli.c — the command line of every generated program:
**   PROG COMMAND [OPTIONS]   (info, eval, optimize, diagnose, benchmark, plot KIND, sample, predict,
**                             members, summary)
** Each command takes only its own options (the table below) and has its own
** --help.  Everything that can be checked without the data is checked before
** the data are read.
**
** Exit status: 0 success, 1 optimisation did not converge or the gradient check
** failed (results are still written), 2 bad input or usage, 128 + N killed by
** signal N (130 for Ctrl-C).  Results are written atomically: complete or not
** at all.
*/
#include "densrt.h"
#include "pool.h"

#include <gsl/gsl_errno.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_NOCONV = 1, EXIT_BAD = 2, EXIT_SIGNAL = 128 };

static const char *prog = "densrt";

/* {====================================================================
** Signals: a result is complete or absent
** ===================================================================== */

/* Outside the fit, a signal ends the program at once: nothing of ours is on disk
** then, since an output is written with the signals blocked from open to commit
** (densrt_io_out_open).  During the fit the first signal asks the optimiser to stop
** and the best point is written; a second one ends the program. */
static volatile sig_atomic_t interrupted, graceful;

/* sample's temporary files while the chains run: a second signal removes them (unlink is
** async-signal-safe) before ending the program; their closing runs with the signals blocked. */
#define MAX_TEMPS 1024
static const char *volatile temps[MAX_TEMPS];
static volatile sig_atomic_t n_temps;

static void on_signal(int sig)
{
  if (graceful && !interrupted) {
    interrupted = sig;
    return;
  }
  for (sig_atomic_t i = 0; i < n_temps; i++)
    if (temps[i])
      unlink(temps[i]);
  _exit(EXIT_SIGNAL + sig);
}

/* Blocks (or restores) SIGINT, SIGTERM and SIGHUP. */
static void block_signals(int block, sigset_t *old)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  if (block)
    sigprocmask(SIG_BLOCK, &set, old);
  else
    sigprocmask(SIG_SETMASK, old, NULL);
}

static const int handled[] = {SIGINT, SIGTERM, SIGHUP};

static void install_signals(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof handled / sizeof *handled; i++)
    sigaction(handled[i], &sa, NULL);
}

/* }==================================================================== */

/* {====================================================================
** Options: one table, each option with the commands that take it
** ===================================================================== */

enum {
  C_INFO = 1 << 0, C_EVAL = 1 << 1, C_OPTIMIZE = 1 << 2, C_DIAGNOSE = 1 << 3, C_BENCHMARK = 1 << 4, C_PLOT = 1 << 5,
  C_SAMPLE = 1 << 6, C_SUMMARY = 1 << 7, C_PREDICT = 1 << 8, C_MEMBERS = 1 << 9,
  C_DATA = C_EVAL | C_OPTIMIZE | C_DIAGNOSE | C_BENCHMARK | C_PLOT | C_SAMPLE | C_MEMBERS,
  C_ALL = C_INFO | C_DATA | C_SUMMARY | C_PREDICT
};

static const struct {
  const char *name;
  unsigned flag;
  const char *summary, *usage, *description;
} commands[] = {
  {"info", C_INFO, "parameters, sizes, data columns, knot sets, integration", "",
   "Describe the model: data columns and windows, knot sets, parameters and bounds, how each term is integrated."},
  {"eval", C_EVAL, "log posterior and gradient at --params (JSON)", " --data FILE --params FILE",
   "Evaluate the log posterior, its parts and its gradient at the parameter values of --params; JSON result."},
  {"optimize", C_OPTIMIZE, "maximum a posteriori fit with L-BFGS-B (JSON)", " --data FILE",
   "Find the maximum a posteriori parameters with L-BFGS-B.  'converged' means the point is stationary: the "
   "projected gradient is below --gtol or a Newton step would gain less than --ftol.  Parameter values nothing "
   "constrains are named in a warning and in \"unconstrained\"."},
  {"diagnose", C_DIAGNOSE, "gradient against finite differences at --params and random points", " --data FILE",
   "Compare the exact gradient with finite differences at --params (or the structural start: 0, moved inside "
   "the bounds) and at --random "
   "points around it; exit 1 when they differ by more than --error-tol."},
  {"benchmark", C_BENCHMARK, "median time of one log posterior + gradient evaluation (JSON)", " --data FILE",
   "Time the log posterior and gradient: the median over --batches batches of about 0.05 s each."},
  {"plot", C_PLOT, "figures: data, model, knots, density, track, trace (PNG, PDF, SVG)", " KIND --out FIG.png",
   "Draw a figure of KIND (below) with PLplot; the format follows --out's extension: .png, .pdf or .svg.  "
   "'plot KIND --help' lists the options of one kind."},
  {"sample", C_SAMPLE, "posterior draws with NUTS: Stan CSV files and a summary", " --data FILE --out PREFIX",
   "Draw from the posterior with the No-U-Turn sampler (Stan's algorithm and warmup): --chains chains in "
   "parallel threads, each writing PREFIX_N.csv in Stan's CSV format as it draws; then a summary of every "
   "parameter (mean, sd, MCSE, quantiles, bulk and tail ESS, R-hat).  Exit 1 when a diagnostic warns "
   "(divergences, R-hat > 1.01, low ESS, saturated trees, low E-BFMI): the draws are written but not to be "
   "trusted as they are.  Interrupted, each file keeps the draws made so far.  Initial values: --init, "
   "--init-from-map, or Stan's default, uniform(-2, 2) on the unconstrained scale (around the structural start: 0, "
   "the middle of two bounds, one unit inside one bound), different for each chain so that R-hat can tell "
   "chains that do not mix."},
  {"predict", C_PREDICT, "intensity of each component on a grid: median and 16/84% band (CSV, FITS images)",
   " --grid COL=LO:HI:N... (--draws FILES | --params FILE)",
   "Evaluate each component's intensity and the total on a grid of points (every column given by --grid; "
   "the grid is their product) for every draw of --draws (Stan CSV files, as sample writes them) and write "
   "the median and the 16% and 84% quantiles at each point, as a CSV table; with --params instead, the "
   "values at those parameters.  --out FILE.fits writes FITS images instead: one image extension per "
   "component and one for the total (EXTNAME the component's name, 'total'), with a linear world coordinate "
   "system along each column (CTYPEi the column, CRPIXi = 1, CRVALi = LO, CDELTi the step); with --draws each "
   "image is the median and NAME_Q16, NAME_Q84 hold the 16% and 84% quantiles."},
  {"members", C_MEMBERS, "membership probability of each component for every data row (CSV or FITS table)",
   " --data FILE (--params FILE | --draws FILES) [--out FILE.csv|FILE.fits]",
   "For every data row used (the same selection as optimize: --column, --where, --outside, --nan), the "
   "probability that it belongs to each component, p_NAME = n_NAME(x) / n(x), at --params, or with --draws the "
   "posterior mean over the draws and its 16% and 84% quantiles (p_NAME_q16, p_NAME_q84).  Each row carries an "
   "identifier (--id COL, default source_id when the file has it, else 'row': the row's 1-based number among the "
   "file's data rows, counted before any selection) and the model's columns as used.  Rows the selection leaves "
   "out are not written: join the result to the catalogue on the identifier.  CSV, or a FITS binary table "
   "(--out FILE.fits)."},
  {"summary", C_SUMMARY, "summary and diagnostics of Stan CSV files", " FILE.csv...",
   "Summarise draws in Stan CSV files (one per chain; ours or CmdStan's): per column mean, sd, MCSE of the "
   "mean, 5/50/95% quantiles, bulk-ESS, tail-ESS and rank-normalised split R-hat (Vehtari et al. 2021), then "
   "warnings; exit 1 when one is given."},
};

enum {
  O_DATA = 256, O_COLUMN, O_OUTSIDE, O_WHERE, O_SET, O_INTEGRATE, O_TOL, O_PARAMS, O_INIT, O_OUT, O_MAX_ITER, O_FTOL,
  O_GTOL, O_RANDOM, O_SEED, O_ERROR_TOL, O_BATCHES, O_WIDTH, O_HEIGHT, O_QUIET, O_HELP, O_VERSION, O_MAX_INPUT,
  O_CHAINS, O_WARMUP, O_DRAWS, O_THREADS, O_MAX_DEPTH, O_DELTA, O_METRIC, O_INIT_MAP, O_GRID, O_DRAWS_FILES,
  O_REPEAT, O_DATA_THREADS, O_PARAM, O_LOG, O_COMPONENT, O_ALONG, O_STARTS, O_START_ROWS, O_NAN, O_ID, O_UNIT,
  O_THIN
};

static const struct {
  const char *name, *arg;
  int id;
  unsigned cmds;
  const char *help;
} option_table[] = {
  {"data", "FILE", O_DATA, C_DATA,
   "data table: a text table with a header row (comma-, tab- or blank-separated, found from the header), or a "
   "FITS table (either may be gzip-compressed); a pipe works too"},
  {"column", "NAME=COL", O_COLUMN, C_DATA, "read model column NAME from file column COL (repeatable)"},
  {"where", "'COL OP X'", O_WHERE, C_DATA,
   "keep only rows where column COL (a model column, or any numeric column of the file) compares to the number "
   "X (OP: < <= > >= == !=); repeatable, applied before the window"},
  {"outside", "error|drop|keep", O_OUTSIDE, C_DATA,
   "rows outside the window: stop (default), drop them, or keep them (they still count in the sum over the data)"},
  {"nan", "error|drop", O_NAN, C_DATA,
   "rows with a missing value (empty cell, NaN, NA, null) in a column used: stop naming the first (default), or "
   "drop them (counted on standard error)"},
  {"max-input-bytes", "SIZE", O_MAX_INPUT, C_DATA,
   "read at most SIZE bytes of data (after unpacking gzip), e.g. 512M or 16G (default 8G, or "
   "$DENSRT_MAX_INPUT_BYTES)"},
  {"set", "KNOTS=SPEC", O_SET, C_ALL, "replace a knot set, e.g. --set k='linspace(-3, 3, 15)'"},
  {"integrate", "COL=M", O_INTEGRATE, C_ALL,
   "integration method of a column: auto, analytic, gauss_legendre(order = N[, subdiv = M]), "
   "simpson(points = N), simpson(step = h)"},
  {"tol", "X", O_TOL, C_EVAL | C_OPTIMIZE | C_SAMPLE,
   "relative accuracy of 'auto' integrals (default 1e-10, at least 1e-14); sample: checked at the initial values"},
  {"params", "FILE", O_PARAMS, C_EVAL | C_DIAGNOSE | C_BENCHMARK | C_PLOT | C_PREDICT | C_MEMBERS,
   "parameter values: a JSON object name -> number or array, or the output of optimize or eval"},
  {"init", "FILE", O_INIT, C_OPTIMIZE | C_SAMPLE | C_PLOT,
   "starting values, as for --params (sample: every chain; plot knots: the initial values drawn beside --params); "
   "without it optimize starts from the default start (--starts)"},
  {"starts", "N", O_STARTS, C_OPTIMIZE | C_SAMPLE,
   "the default start (optimize without --init; sample with --init-from-map): the best of N fits, from 0 "
   "moved inside the bounds, from shifts of one parameter at a time, seeded moves and hops (default: 2 per "
   "parameter declared + 4, at most 24; 1: that point, unfitted)"},
  {"start-rows", "N", O_START_ROWS, C_OPTIMIZE | C_SAMPLE,
   "with more than 2N data rows, the default start's fits race on N evenly spread rows and only the winner and "
   "the fit from 0 run on all rows (default 10000; 0: never)"},
  {"init-from-map", NULL, O_INIT_MAP, C_SAMPLE, "start every chain at the MAP point (optimize first)"},
  {"out", "FILE", O_OUT, C_ALL,
   "write the result to FILE (atomically) instead of standard output; plot: the figure, FILE.png, FILE.pdf or "
   "FILE.svg (required); sample: the prefix PREFIX of PREFIX_1.csv ... (required); predict, members: FILE.csv or "
   "FILE.fits"},
  {"grid", "COL=LO:HI:N", O_GRID, C_PREDICT, "N evenly spaced points from LO to HI along column COL (repeatable; "
   "every column needs one)"},
  {"draws", "FILES", O_DRAWS_FILES, C_PREDICT | C_MEMBERS | C_PLOT,
   "Stan CSV files of draws (comma-separated, or repeat the option), as sample writes them"},
  {"thin", "K", O_THIN, C_PREDICT | C_MEMBERS,
   "use every K-th draw of each chain (the 1st, the K+1-th, ...; default 1: all); the cost is in proportion"},
  {"id", "COL", O_ID, C_MEMBERS,
   "the identifier column written with each row (default: source_id if the file has it, else the row number)"},
  {"component", "NAMES", O_COMPONENT, C_MEMBERS | C_PREDICT | C_PLOT,
   "predict, members: write only these components (comma-separated, or repeat the option; default: all); "
   "plot track: the component (default: the first)"},
  {"unit", "COL=UNIT", O_UNIT, C_PREDICT,
   "the unit of a column (FITS maps: CUNITi, and BUNIT once every column has one), e.g. --unit phi1=deg"},
  {"param", "NAME", O_PARAM, C_PLOT,
   "plot trace: a column of the draws, as sample names it (lp__, mu, b.3; b[3] also works); repeatable"},
  {"log", NULL, O_LOG, C_PLOT, "plot density: a logarithmic intensity axis"},
  {"along", "COL", O_ALONG, C_PLOT, "plot track: the column along which the track runs (default: the first)"},
  {"chains", "N", O_CHAINS, C_SAMPLE, "number of chains (default 4)"},
  {"warmup", "N", O_WARMUP, C_SAMPLE, "warmup iterations per chain, adapting step size and metric (default 1000)"},
  {"draws", "N", O_DRAWS, C_SAMPLE, "draws per chain after warmup (default 1000)"},
  {"threads", "N", O_THREADS, C_SAMPLE | C_EVAL | C_OPTIMIZE | C_BENCHMARK | C_PREDICT | C_MEMBERS,
   "sample: threads running the chains (default: one per core), the draws do not depend on it; eval, optimize, "
   "benchmark: threads summing over the data rows (default 1), the results are the same for the same N; "
   "predict, members: threads sharing the points (default 1), the results do not depend on it"},
  {"data-threads", "N", O_DATA_THREADS, C_SAMPLE,
   "threads summing each chain's data rows (default 1); the draws are the same for the same N"},
  {"max-depth", "N", O_MAX_DEPTH, C_SAMPLE, "largest tree depth: at most 2^N leapfrog steps a draw (default 10)"},
  {"delta", "X", O_DELTA, C_SAMPLE, "target acceptance statistic of the step-size adaptation (default 0.8)"},
  {"metric", "diag|dense", O_METRIC, C_SAMPLE, "the adapted metric: diagonal (default) or dense"},
  {"max-iter", "N", O_MAX_ITER, C_OPTIMIZE, "iteration limit (default 15000)"},
  {"ftol", "X", O_FTOL, C_OPTIMIZE,
   "stop when the relative decrease of the objective is below X; converged when a Newton step would gain less "
   "than X relative (default 1e-13)"},
  {"gtol", "X", O_GTOL, C_OPTIMIZE, "stop when the projected gradient is below X (default 1e-9)"},
  {"random", "N", O_RANDOM, C_DIAGNOSE, "also check N random points around the start (default 5)"},
  {"seed", "S", O_SEED, C_DIAGNOSE | C_SAMPLE,
   "random seed (diagnose: of the random points, default 1; sample: default from the clock, written in the "
   "files), 0 to 4294967295"},
  {"error-tol", "X", O_ERROR_TOL, C_DIAGNOSE,
   "allowed |finite difference - gradient| / max(1, |gradient|) (default 1e-6)"},
  {"batches", "N", O_BATCHES, C_BENCHMARK, "number of timed batches of about 0.05 s (default 21)"},
  {"repeat", "N", O_REPEAT, C_EVAL,
   "also time N more evaluations and add their median, \"seconds_per_eval\", to the result"},
  {"width", "W", O_WIDTH, C_PLOT, "figure width in pixels (PNG) or points (PDF, SVG), 100 to 10000 (default 1000)"},
  {"height", "H", O_HEIGHT, C_PLOT,
   "figure height, 100 to 10000 (default: from the layout, with equal scales on columns of the same unit)"},
  {"quiet", NULL, O_QUIET, C_ALL, "no progress or notes on standard error"},
  {"help", NULL, O_HELP, C_ALL, "this help"},
  {"version", NULL, O_VERSION, C_ALL, "the model's name and the densc version"},
};

#define N_OPTIONS (sizeof option_table / sizeof *option_table)
_Static_assert(N_OPTIONS <= 64, "options.given has a bit per option");
#define N_COMMANDS (sizeof commands / sizeof *commands)

typedef struct {
  const char *cmd;
  unsigned flag;   /* the command's bit */
  const char *data, *params, *init, *out;
  const char **columns;  size_t n_columns;    /* name=COL */
  const char **sets;     size_t n_sets;       /* knots=spec */
  const char **integr;   size_t n_integr;     /* column=method */
  const char **where;    size_t n_where;      /* row filters: COLUMN OP NUMBER */
  int outside;                                /* 0 error, 1 drop, 2 keep */
  int nan_drop;                               /* --nan drop */
  const char *id;                             /* members: --id */
  const char **components; size_t n_components;  /* members, predict: NAMES */
  const char **units;    size_t n_units;      /* predict: COL=UNIT */
  long max_iter, random, seed, width, height, batches;
  long chains, warmup, draws, threads, max_depth, repeat, data_threads, starts, start_rows, thin;
  double ftol, gtol, tol, error_tol, delta;
  int quiet, seed_given, dense, init_map;
  char **files;          size_t n_files;      /* summary: the CSV files */
  const char **grids;    size_t n_grids;      /* predict: COL=LO:HI:N */
  const char **draw_files; size_t n_draw_files;  /* predict, plot: Stan CSV files */
  int kind;                                   /* plot: index in plot_kinds */
  const char **pnames;   size_t n_pnames;     /* plot trace: --param */
  const char *along;                          /* plot track (its component: components[0]) */
  int log_scale;                              /* plot density */
  uint64_t given;                             /* bit k: option_table[k] was given */
} options;

/* The kinds of plot: each takes the options in its list (besides --out, --width, --height,
** --quiet, --help and, where it reads data, the data options) and needs `need`. */
enum { K_DATA = 1, K_PARAMS = 2, K_DRAWS = 4, K_PARAMS_OR_DRAWS = 8, K_PARAM = 16, K_DATA_OPT = 32 };
static const struct {
  const char *name, *summary, *description;
  unsigned need;
  int opts[8];
} plot_kinds[] = {
  {"data", "the data: a scatter of the first two columns, or a histogram of one",
   "The data rows: a scatter of the first two columns (equal scales when both have the same unit), or a histogram "
   "(rows per unit length) when the model has one column.",
   K_DATA, {0}},
  {"model", "data, model and both: three panels over the plane of two columns",
   "Three panels over the window of a model of two columns: the data, the log10 of the total intensity at "
   "--params (colour bar; three decades below the peak at most), and the model with the data over it.  Equal scales "
   "when both columns have the same unit.",
   K_DATA | K_PARAMS, {O_PARAMS}},
  {"knots", "knot values, initial and optimised, of each vector over a knot set",
   "For each vector parameter over a knot set, its values at --params (black) and at --init (grey, when given) "
   "against the knot positions, one panel each.",
   K_PARAMS, {O_PARAMS, O_INIT}},
  {"density", "a 1-D model's intensity with the data's histogram and the 16-84% band",
   "The intensity of a model of one column: at --params (and each component, dashed), or the median and the 16-84% "
   "band of the draws of --draws; with --data, the histogram of the data (rows per unit length) behind it.",
   K_PARAMS_OR_DRAWS | K_DATA_OPT, {O_PARAMS, O_DRAWS_FILES, O_LOG}},
  {"track", "a component's mean and width across one column along the other",
   "For a model of two columns: the track of a component along one column (--along), its intensity-weighted mean "
   "across the other, with mean +- sd dashed, over the data (with --data); and below, its width, the "
   "intensity-weighted sd.  Both are computed from the component's intensity by quadrature across the window (so "
   "for any component), at --params, or the median and the 16-84% band of --draws (at most 400 draws, evenly "
   "spaced).",
   K_PARAMS_OR_DRAWS | K_DATA_OPT, {O_PARAMS, O_DRAWS_FILES, O_COMPONENT, O_ALONG}},
  {"trace", "trace plots of chosen parameters from Stan CSV files",
   "The values of each --param against iteration, one panel each, one colour per chain, from the Stan CSV files "
   "of --draws.",
   K_DRAWS | K_PARAM, {O_DRAWS_FILES, O_PARAM}},
};
#define N_PLOT_KINDS (sizeof plot_kinds / sizeof *plot_kinds)

/* Options every plot kind takes; the data options go with kinds that read data. */
static int plot_takes(int kind, int id)
{
  static const int always[] = {O_OUT, O_WIDTH, O_HEIGHT, O_QUIET, O_HELP, O_VERSION, O_SET, O_INTEGRATE};
  static const int data[] = {O_DATA, O_COLUMN, O_WHERE, O_OUTSIDE, O_MAX_INPUT};
  if (!strcmp(plot_kinds[kind].name, "trace"))
    return id == O_QUIET || id == O_HELP || id == O_VERSION || id == O_OUT || id == O_WIDTH || id == O_HEIGHT ||
           id == O_DRAWS_FILES || id == O_PARAM;
  for (size_t i = 0; i < sizeof always / sizeof *always; i++)
    if (always[i] == id)
      return 1;
  for (size_t i = 0; i < sizeof data / sizeof *data; i++)
    if (data[i] == id)
      return !!(plot_kinds[kind].need & (K_DATA | K_DATA_OPT));
  for (size_t i = 0; plot_kinds[kind].opts[i]; i++)
    if (plot_kinds[kind].opts[i] == id)
      return 1;
  return 0;
}

/* Wraps text at 79 columns; continuation lines are indented by `indent`. */
static void print_wrapped(FILE *f, const char *text, int col, int indent)
{
  const int width = 79;
  const char *p = text;
  while (*p) {
    const char *end = p;
    const char *brk = NULL;
    while (*end && col + (end - p) < width) {
      if (*end == ' ')
        brk = end;
      end++;
    }
    if (*end && brk)
      end = brk;
    fprintf(f, "%.*s\n", (int)(end - p), p);
    p = *end == ' ' ? end + 1 : end;
    if (*p)
      fprintf(f, "%*s", indent, "");
    col = indent;
  }
}

/* The options of the commands in `cmds`; with more than one command, each option that
** not all of them take says which do. */
static void print_options(FILE *f, unsigned cmds, int kind)
{
  for (size_t i = 0; i < N_OPTIONS; i++) {
    if (!(option_table[i].cmds & cmds) || (kind >= 0 && !plot_takes(kind, option_table[i].id)))
      continue;
    char head[64], text[1024];
    snprintf(head, sizeof head, "  --%s%s%s", option_table[i].name, option_table[i].arg ? " " : "",
             option_table[i].arg ? option_table[i].arg : "");
    if (strlen(head) >= 23)
      fprintf(f, "%s\n%24s", head, "");
    else
      fprintf(f, "%-24s", head);
    size_t len = (size_t)snprintf(text, sizeof text, "%s", option_table[i].help), k = 0;
    if ((cmds & (cmds - 1)) && (option_table[i].cmds & cmds) != cmds) {
      if (option_table[i].cmds == C_DATA)
        len += (size_t)snprintf(text + len, sizeof text - len, " [all but info");
      else
        for (size_t c = 0; c < N_COMMANDS; c++)
          if (option_table[i].cmds & commands[c].flag)
            len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", k++ ? ", " : " [", commands[c].name);
      snprintf(text + len, sizeof text - len, "]");
    }
    print_wrapped(f, text, 24, 24);
  }
}

static void usage(const densrt_model_def *def, FILE *f)
{
  fprintf(f, "Usage: %s COMMAND [OPTIONS]\n"
             "Evaluate and fit the density model '%s' (compiled by densc %s from %s).\n\n"
             "Commands:\n",
          prog, def->name, def->version, def->source);
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(f, "  %-22s%s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\n'%s COMMAND --help' lists the options of one command.\n\nOptions:\n", prog);
  print_options(f, C_ALL, -1);
  fputs("\nThe objective is -(log likelihood + log prior) / N, N the number of data rows.\n"
        "Exit status: 0 success, 1 optimisation did not converge or the gradient check\n"
        "failed (the result is still written), 2 bad input or usage, 128+N killed by\n"
        "signal N (130: interrupted; optimize then writes the best point so far).\n",
        f);
}

static void command_usage(const densrt_model_def *def, size_t c, FILE *f)
{
  fprintf(f, "Usage: %s %s%s [OPTIONS]\n", prog, commands[c].name, commands[c].usage);
  print_wrapped(f, commands[c].description, 0, 0);
  if (commands[c].flag == C_PLOT) {
    fputs("\nKinds:\n", f);
    for (size_t k = 0; k < N_PLOT_KINDS; k++) {
      fprintf(f, "  %-22s", plot_kinds[k].name);
      print_wrapped(f, plot_kinds[k].summary, 24, 24);
    }
    fputc('\n', f);
  }
  fprintf(f, "Model '%s' (compiled by densc %s from %s).\n\nOptions:\n", def->name, def->version, def->source);
  print_options(f, commands[c].flag, -1);
}

static void plot_usage(const densrt_model_def *def, int kind, FILE *f)
{
  const char *use[] = {"", " --data FILE", " --params FILE"};
  unsigned need = plot_kinds[kind].need;
  fprintf(f, "Usage: %s plot %s --out FIG.png%s%s%s%s [OPTIONS]\n", prog, plot_kinds[kind].name,
          use[need & K_DATA ? 1 : 0], need & K_PARAMS ? use[2] : "",
          need & K_PARAMS_OR_DRAWS ? " (--params FILE | --draws FILES)" : "",
          need & K_DRAWS ? " --draws FILES --param NAME..." : "");
  print_wrapped(f, plot_kinds[kind].description, 0, 0);
  fprintf(f, "The format follows --out's extension: .png, .pdf or .svg.\n");
  fprintf(f, "Model '%s' (compiled by densc %s from %s).\n\nOptions:\n", def->name, def->version, def->source);
  print_options(f, C_PLOT, kind);
}

static void vsay(const char *fmt, va_list ap)
{
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

/* An error: always said. */
static void fail(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsay(fmt, ap);
  va_end(ap);
}

/* Progress, notes and warnings: not with --quiet. */
static void note(const options *o, const char *fmt, ...)
{
  if (o->quiet)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsay(fmt, ap);
  va_end(ap);
}

static const char *plural(size_t n, const char *one, const char *many)
{
  return n == 1 ? one : many;
}

/* A finite number >= 0 (> 0 when positive is set). */
static int parse_double(const char *opt, const char *s, double *out, int positive)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  /* ERANGE on underflow still gives the nearest double (a subnormal or 0) */
  int range = errno == ERANGE && fabs(v) >= 1.0;
  if (end == s || *end) {
    fail("--%s: '%s' is not a number", opt, s);
    return 0;
  }
  if (range || !isfinite(v)) {
    fail("--%s: '%s' is not a finite number", opt, s);
    return 0;
  }
  if (positive ? !(v > 0) : v < 0) {
    fail("--%s: '%s' %s", opt, s, positive ? "must be positive" : "must not be negative");
    return 0;
  }
  *out = v;
  return 1;
}

static int parse_count(const char *opt, const char *s, long min, long max, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end || errno || v < min || v > max) {
    fail("--%s: expected a whole number from %ld to %ld, got '%s'", opt, min, max, s);
    return 0;
  }
  *out = v;
  return 1;
}

/* One of the words of the NULL-terminated list: *out gets its index. */
static int parse_choice(const char *opt, const char *s, const char *const *words, int *out)
{
  char list[256] = "";
  size_t n = 0;
  while (words[n])
    n++;
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(s, words[i])) {
      *out = (int)i;
      return 1;
    }
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'", i == 0 ? "" : i + 1 == n ? " or " : ", ",
             words[i]);
  }
  fail("--%s: expected %s, got '%s'", opt, list, s);
  return 0;
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

static int same_file(const char *a, const char *b)
{
  struct stat sa, sb;
  return a && b && strcmp(a, "-") && strcmp(b, "-") && stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && S_ISREG(sa.st_mode);
}

/* The result must be writable before any work is done: an existing directory, or a
** missing or unwritable directory to put it in, is said now, not after a long fit. */
static int check_writable(const char *path)
{
  struct stat st;
  if (!path || !strcmp(path, "-"))
    return 0;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    fail("--out %s: is a directory", path);
    return EXIT_BAD;
  }
  const char *slash = strrchr(path, '/');
  char dir[4096];
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? (slash == path ? "/" : path) : ".");
  if (stat(path, &st) != 0 && access(dir, W_OK | X_OK) != 0) {
    fail("--out %s: cannot write in %s: %s", path, dir, strerror(errno));
    return EXIT_BAD;
  }
  return 0;
}

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* The format of a table or map result from --out's extension: 0 CSV (also standard output,
** and a name without an extension such as /dev/stdout), 1 FITS; -1 (said) for another. */
static int out_format(const options *o)
{
  const char *path = o->out ? o->out : "-", *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash + 1 : path, '.');
  if (!strcmp(path, "-") || !dot || dot == (slash ? slash + 1 : path) || ends_with(path, ".csv"))
    return 0;
  if (ends_with(path, ".fits") || ends_with(path, ".fit") || ends_with(path, ".fts"))
    return 1;
  fail("--out %s: unknown format '%s' (%s writes .csv or .fits)", path, dot, o->cmd);
  return -1;
}

/* Checks that need no data: required options, files that must not be overwritten. */
static int check_options(const options *o)
{
  if (o->flag & C_PREDICT) {
    if (!o->n_grids) {
      fail("predict needs --grid COL=LO:HI:N for every column (try '%s predict --help')", prog);
      return EXIT_BAD;
    }
  }
  if (o->flag & (C_PREDICT | C_MEMBERS)) {
    if (!!o->params == !!o->n_draw_files) {
      fail("%s needs either --draws FILES or --params FILE", o->cmd);
      return EXIT_BAD;
    }
    if (out_format(o) < 0)
      return EXIT_BAD;
  }
  if ((o->flag & C_SUMMARY) && !o->n_files) {
    fail("summary needs Stan CSV files (try '%s summary --help')", prog);
    return EXIT_BAD;
  }
  if (o->flag & C_SAMPLE) {
    if (!o->out || !strcmp(o->out, "-")) {
      fail("sample needs --out PREFIX: the draws of chain N go to PREFIX_N.csv");
      return EXIT_BAD;
    }
    if (o->init && o->init_map) {
      fail("give --init or --init-from-map, not both");
      return EXIT_BAD;
    }
    char first[4096];
    for (long c = 1; c <= o->chains; c++) {
      snprintf(first, sizeof first, "%s_%ld.csv", o->out, c);
      if (same_file(first, o->data)) {
        fail("--out %s: %s is the data file; refusing to overwrite it", o->out, first);
        return EXIT_BAD;
      }
    }
    snprintf(first, sizeof first, "%s_1.csv", o->out);
    return check_writable(first);
  }
  if ((o->flag & C_DATA) && !o->data && !(o->flag & C_PLOT)) {
    fail("%s needs --data FILE (try '%s %s --help')", o->cmd, prog, o->cmd);
    return EXIT_BAD;
  }
  if ((o->flag & C_EVAL) && !o->params) {
    fail("%s needs --params FILE", o->cmd);
    return EXIT_BAD;
  }
  if (o->flag & C_PLOT) {
    const char *k = plot_kinds[o->kind].name;
    unsigned need = plot_kinds[o->kind].need;
    for (size_t i = 0; i < N_OPTIONS; i++)
      if ((o->given >> i & 1) && !plot_takes(o->kind, option_table[i].id)) {
        fail("plot %s does not take --%s (try '%s plot %s --help')", k, option_table[i].name, prog, k);
        return EXIT_BAD;
      }
    if ((need & K_DATA) && !o->data) {
      fail("plot %s needs --data FILE (try '%s plot %s --help')", k, prog, k);
      return EXIT_BAD;
    }
    if ((need & K_PARAMS) && !o->params) {
      fail("plot %s needs --params FILE", k);
      return EXIT_BAD;
    }
    if ((need & K_DRAWS) && !o->n_draw_files) {
      fail("plot %s needs --draws FILES", k);
      return EXIT_BAD;
    }
    if ((need & K_PARAM) && !o->n_pnames) {
      fail("plot %s needs --param NAME (repeatable)", k);
      return EXIT_BAD;
    }
    if ((need & K_PARAMS_OR_DRAWS) && !!o->params == !!o->n_draw_files) {
      fail("plot %s needs either --params FILE or --draws FILES", k);
      return EXIT_BAD;
    }
    if (!o->out || !strcmp(o->out, "-")) {
      fail("plot needs --out FIG.png, FIG.pdf or FIG.svg");
      return EXIT_BAD;
    }
    if (densrt_plot_check_format(o->out)) {
      fail("--out %s: %s", o->out, densrt_error_message() + strlen("plot: "));
      return EXIT_BAD;
    }
  }
  if (o->out && (same_file(o->out, o->data))) {
    fail("--out %s is the data file; refusing to overwrite it", o->out);
    return EXIT_BAD;
  }
  return check_writable(o->out);
}

/* getopt_long (over the command's own options) says only '?' for an unknown option, an
** ambiguous abbreviation and a value given to a flag: which one, and whether another
** command takes the option, is told here. */
static void bad_long_option(const char *arg, unsigned flag, const char *cmd)
{
  const char *name = arg + strspn(arg, "-");
  size_t len = strcspn(name, "="), hits = 0;
  char list[512] = "";
  for (size_t i = 0; i < N_OPTIONS; i++) {
    if (!len || strncmp(option_table[i].name, name, len))
      continue;
    if (strlen(option_table[i].name) == len) {   /* the whole name */
      if (!(option_table[i].cmds & flag))
        fail("%s does not take --%s (try '%s %s --help')", cmd, option_table[i].name, prog, cmd);
      else
        fail("option '--%s' takes no value (try '%s %s --help')", option_table[i].name, prog, cmd);
      return;
    }
    if (option_table[i].cmds & flag) {
      size_t used = strlen(list);
      snprintf(list + used, sizeof list - used, "%s--%s", hits++ ? ", " : "", option_table[i].name);
    }
  }
  if (hits > 1)
    fail("ambiguous option '%.*s' (%s) (try '%s %s --help')", (int)(name - arg + len), arg, list, prog, cmd);
  else
    fail("unknown option '%.*s' (try '%s %s --help')", (int)(name - arg + len), arg, prog, cmd);
}

static void print_version(const densrt_model_def *def)
{
  printf("%s (densc) %s\nModel '%s' compiled from %s.\n", def->name, def->version, def->name, def->source);
}

/* getopt_long over the command's options.  Returns 0 to go on, -1 to stop with
** success (help, version), or an exit status. */
static int parse_args(const densrt_model_def *def, int argc, char **argv, options *o)
{
  memset(o, 0, sizeof *o);
  densrt_fit_options fit_defaults;   /* the optimiser's defaults are defined once, in fit.c */
  densrt_fit_options_default(&fit_defaults);
  o->max_iter = (long)fit_defaults.max_iter;
  o->ftol = fit_defaults.ftol;
  o->gtol = fit_defaults.gtol;
  o->tol = fit_defaults.tol;
  o->random = 5;
  o->start_rows = DENSRT_START_SCREEN_ROWS;
  o->seed = 1;
  o->error_tol = 1e-6;
  o->width = 1000;
  o->height = 0;   /* plot: from the layout */
  o->batches = 21;
  o->chains = 4;
  o->warmup = 1000;
  o->draws = 1000;
  o->max_depth = 10;
  o->delta = 0.8;
  if (argc < 2) {
    usage(def, stderr);
    return EXIT_BAD;
  }
  const char *c = argv[1];
  if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) {
    usage(def, stdout);
    return -1;
  }
  if (!strcmp(c, "--version")) {
    print_version(def);
    return -1;
  }
  size_t ci = 0;
  while (ci < N_COMMANDS && strcmp(commands[ci].name, c))
    ci++;
  if (ci == N_COMMANDS) {
    fail("%s '%s' (try '%s --help')", c[0] == '-' ? "expected a command before the options, got" : "unknown command",
         c, prog);
    return EXIT_BAD;
  }
  o->cmd = commands[ci].name;
  o->flag = commands[ci].flag;
  int skip = 0;   /* plot's KIND, right after the command */
  if (o->flag == C_PLOT) {
    const char *k = argc > 2 ? argv[2] : NULL;
    if (k && k[0] != '-') {
      for (o->kind = 0; (size_t)o->kind < N_PLOT_KINDS && strcmp(plot_kinds[o->kind].name, k); o->kind++)
        ;
      if ((size_t)o->kind == N_PLOT_KINDS) {
        fail("plot: unknown kind '%s': expected data, model, knots, density, track or trace (try '%s plot --help')", k,
             prog);
        return EXIT_BAD;
      }
      skip = 1;
    } else {
      o->kind = -1;
    }
  }

  struct option longopts[N_OPTIONS + 1];
  size_t n_long = 0;
  for (size_t i = 0; i < N_OPTIONS; i++)
    if (option_table[i].cmds & o->flag)
      longopts[n_long++] = (struct option){option_table[i].name,
                                           option_table[i].arg ? required_argument : no_argument, NULL,
                                           option_table[i].id};
  longopts[n_long] = (struct option){0, 0, 0, 0};
  int ac = argc - 1 - skip, ch, idx;
  char **av = argv + 1 + skip;
  if (skip)
    av[0] = argv[1];   /* getopt skips av[0]: the command's name, seen as the kind's */
  opterr = 0;
  optind = 1;
  while ((ch = getopt_long(ac, av, ":h", longopts, &idx)) != -1) {
    if (ch == 'h')
      ch = O_HELP;
    if (ch == '?' || ch == ':') {
      const char *bad = av[optind - 1];
      if (ch == ':')
        fail("option '%s' needs a value (try '%s %s --help')", bad, prog, o->cmd);
      else if (optopt && optopt < 256)
        fail("unknown option '-%c' (try '%s %s --help')", optopt, prog, o->cmd);
      else
        bad_long_option(bad, o->flag, o->cmd);
      return EXIT_BAD;
    }
    size_t k = 0;
    while (option_table[k].id != ch)
      k++;
    o->given |= (uint64_t)1 << k;
    const char *name = option_table[k].name, *v = optarg;
    if (v && !*v) {   /* --data= */
      fail("option '--%s' needs a value (try '%s %s --help')", name, prog, o->cmd);
      return EXIT_BAD;
    }
    int ok = 1;
    switch (ch) {
    case O_HELP:
      if (o->flag == C_PLOT && o->kind >= 0)
        plot_usage(def, o->kind, stdout);
      else
        command_usage(def, ci, stdout);
      return -1;
    case O_VERSION: print_version(def); return -1;
    case O_QUIET: o->quiet = 1; break;
    case O_DATA: o->data = v; break;
    case O_PARAMS: o->params = v; break;
    case O_INIT: o->init = v; break;
    case O_OUT: o->out = v; break;
    case O_COLUMN: push(&o->columns, &o->n_columns, v); break;
    case O_SET: push(&o->sets, &o->n_sets, v); break;
    case O_INTEGRATE: push(&o->integr, &o->n_integr, v); break;
    case O_WHERE: push(&o->where, &o->n_where, v); break;
    case O_GRID: push(&o->grids, &o->n_grids, v); break;
    case O_DRAWS_FILES: push(&o->draw_files, &o->n_draw_files, v); break;
    case O_PARAM: push(&o->pnames, &o->n_pnames, v); break;
    case O_LOG: o->log_scale = 1; break;
    case O_ALONG: o->along = v; break;
    case O_COMPONENT: push(&o->components, &o->n_components, v); break;
    case O_UNIT: push(&o->units, &o->n_units, v); break;
    case O_ID: o->id = v; break;
    case O_NAN: ok = parse_choice(name, v, (const char *const[]){"error", "drop", NULL}, &o->nan_drop); break;
    case O_MAX_INPUT: {
      uint64_t bytes;
      if (densrt_io_parse_size(v, &bytes) || bytes == 0) {
        fail("--max-input-bytes: expected a size such as 4294967296, 512M or 4G, got '%s'", v);
        return EXIT_BAD;
      }
      densrt_io_set_max_input(bytes, "--max-input-bytes");
      break;
    }
    case O_OUTSIDE:
      ok = parse_choice(name, v, (const char *const[]){"error", "drop", "keep", NULL}, &o->outside);
      break;
    case O_MAX_ITER: ok = parse_count(name, v, 1, 1000000000L, &o->max_iter); break;
    case O_RANDOM: ok = parse_count(name, v, 0, 1000000L, &o->random); break;
    case O_STARTS: ok = parse_count(name, v, 1, 1000000L, &o->starts); break;
    case O_START_ROWS: ok = parse_count(name, v, 0, 1000000000L, &o->start_rows); break;
    case O_SEED: ok = parse_count(name, v, 0, 4294967295L, &o->seed), o->seed_given = 1; break;
    case O_CHAINS: ok = parse_count(name, v, 1, 1024, &o->chains); break;
    case O_REPEAT: ok = parse_count(name, v, 1, 100000000L, &o->repeat); break;
    case O_THIN: ok = parse_count(name, v, 1, 100000000L, &o->thin); break;
    case O_WARMUP: ok = parse_count(name, v, 0, 100000000L, &o->warmup); break;
    case O_DRAWS: ok = parse_count(name, v, 1, 100000000L, &o->draws); break;
    case O_THREADS: ok = parse_count(name, v, 1, (o->flag & C_SAMPLE) ? 1024 : 64, &o->threads); break;
    case O_DATA_THREADS: ok = parse_count(name, v, 1, 64, &o->data_threads); break;
    case O_MAX_DEPTH: ok = parse_count(name, v, 1, 30, &o->max_depth); break;
    case O_INIT_MAP: o->init_map = 1; break;
    case O_DELTA:
      ok = parse_double(name, v, &o->delta, 1);
      if (ok && !(o->delta < 1)) {
        fail("--delta: the target acceptance must be between 0 and 1, got '%s'", v);
        ok = 0;
      }
      break;
    case O_METRIC: ok = parse_choice(name, v, (const char *const[]){"diag", "dense", NULL}, &o->dense); break;
    case O_BATCHES: ok = parse_count(name, v, 1, 1000000L, &o->batches); break;
    case O_WIDTH: ok = parse_count(name, v, 100, 10000, &o->width); break;
    case O_HEIGHT: ok = parse_count(name, v, 100, 10000, &o->height); break;
    case O_FTOL: ok = parse_double(name, v, &o->ftol, 0); break;
    case O_GTOL: ok = parse_double(name, v, &o->gtol, 0); break;
    case O_ERROR_TOL: ok = parse_double(name, v, &o->error_tol, 0); break;
    case O_TOL:
      ok = parse_double(name, v, &o->tol, 1);
      if (ok && o->tol < 1e-14) {   /* rounding in the estimate itself is about 1e-15 */
        fail("--tol: %s is finer than double precision can verify (use 1e-14 or more)", v);
        ok = 0;
      }
      break;
    }
    if (!ok)
      return EXIT_BAD;
  }
  if (optind < ac && (o->flag & C_SUMMARY)) {
    o->files = av + optind;
    o->n_files = (size_t)(ac - optind);
  } else if (optind < ac) {
    fail("unexpected argument '%s' (try '%s %s --help')", av[optind], prog, o->cmd);
    return EXIT_BAD;
  }
  if (o->flag == C_PLOT && o->kind < 0) {
    fail("plot needs a KIND first: data, model, knots, density, track or trace (try '%s plot --help')", prog);
    return EXIT_BAD;
  }
  return check_options(o);
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

static int has_dim(const densrt_model_def *def, const char *name)
{
  for (size_t d = 0; d < def->n_dims; d++)
    if (!strcmp(def->dims[d].name, name))
      return 1;
  return 0;
}

/* The model with the knot sets and methods of the command line, and its parameter layout. */
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
  for (size_t i = 0; i < o->n_columns; i++) {
    if (!split_pair("--column", o->columns[i], name, sizeof name, &value))
      goto bad;
    if (!has_dim(def, name)) {
      fail("--column: the model has no data column '%s'", name);
      goto bad;
    }
  }
  if (densrt_model_layout(m)) {
    fail("%s", densrt_error_message());
    goto bad;
  }
  *out = m;
  return 0;
bad:
  densrt_model_free(m);
  return EXIT_BAD;
}

/* The columns read besides the model's: those only --where names, and the identifier. */
typedef struct {
  char **extra;            /* file columns named by --where that are not model columns */
  size_t n_extra;
  char **id;               /* members: each used row's identifier (NULL: row numbers) */
  size_t *row;             /* each used row's 1-based number among the file's data rows */
  const char *id_name;     /* the identifier's header: --id, source_id, or row */
} data_rows;

static void data_rows_free(data_rows *r, size_t n_rows)
{
  for (size_t i = 0; i < r->n_extra; i++)
    free(r->extra[i]);
  free(r->extra);
  for (size_t i = 0; r->id && i < n_rows; i++)
    free(r->id[i]);
  free(r->id);
  free(r->row);
  memset(r, 0, sizeof *r);
}

/* The --where filters, checked before any data is read: a filter names a model column, or
** else a column of the file (read as well, r->extra). */
static int parse_filters(const densrt_model_def *def, const options *o, densrt_io_filter *f, data_rows *r)
{
  size_t nd = def->n_dims;
  const char **names = calloc(nd + o->n_where + 1, sizeof *names);
  r->extra = calloc(o->n_where + 1, sizeof *r->extra);
  if (!names || !r->extra) {
    free(names);
    fail("out of memory");
    return 0;
  }
  for (size_t d = 0; d < nd; d++)
    names[d] = def->dims[d].name;
  int ok = 1;
  for (size_t i = 0; i < o->n_where && ok; i++) {
    char col[256];
    if (densrt_io_filter_column(o->where[i], col, sizeof col) && !has_dim(def, col)) {
      size_t k = 0;
      while (k < r->n_extra && strcmp(r->extra[k], col))
        k++;
      if (k == r->n_extra && !(r->extra[r->n_extra++] = strdup(col)))
        ok = 0;
      names[nd + k] = r->extra[k];
    }
  }
  for (size_t i = 0; i < o->n_where && ok; i++)
    if (densrt_io_parse_filter(o->where[i], names, nd + r->n_extra, &f[i])) {
      fail("--where: %s", densrt_error_message());
      ok = 0;
    }
  free(names);
  return ok;
}

/* Reads the data: io drops rows with missing values (--nan drop), applies the filters, then
** the windows (densrt_io_read_rules); the counts are reported in that order.  With ids
** (members), the identifier column and each row's number are kept too. */
static int load_data(densrt_model *m, const options *o, const densrt_io_filter *f, data_rows *ids)
{
  const densrt_model_def *def = m->def;
  size_t nd = def->n_dims, ne = ids->n_extra, n_want = nd + ne + (o->flag == C_MEMBERS);
  densrt_io_column *want = calloc(n_want + 1, sizeof *want);
  unsigned *flags = calloc(n_want + 1, sizeof *flags);
  if (!want || !flags) {
    free(want);
    free(flags);
    fail("out of memory");
    return EXIT_BAD;
  }
  for (size_t d = 0; d < nd; d++)
    want[d] = (densrt_io_column){def->dims[d].name, m->lo[d], m->hi[d]};
  for (size_t k = 0; k < ne; k++)
    want[nd + k] = (densrt_io_column){ids->extra[k], -INFINITY, INFINITY};
  if (o->flag == C_MEMBERS) {   /* Gaia's identifier by default, when the file has it */
    want[nd + ne] = (densrt_io_column){o->id ? o->id : "source_id", 0, 0};
    flags[nd + ne] = DENSRT_IO_TEXT | (o->id ? 0 : DENSRT_IO_OPTIONAL);
  }
  char name[256];
  const char *value;
  for (size_t i = 0; i < o->n_columns; i++) {
    split_pair("--column", o->columns[i], name, sizeof name, &value);   /* checked in check_setup */
    for (size_t d = 0; d < nd; d++)
      if (!strcmp(def->dims[d].name, name))
        want[d].name = value;
  }
  static const densrt_io_outside policy[] = {DENSRT_IO_OUTSIDE_ERROR, DENSRT_IO_OUTSIDE_DROP, DENSRT_IO_OUTSIDE_KEEP};
  densrt_io_rules rules = {f, o->n_where, policy[o->outside],
                           o->nan_drop ? DENSRT_IO_MISSING_DROP : DENSRT_IO_MISSING_ERROR, flags};
  densrt_io_table t;
  int rc = densrt_io_read_rules(o->data, want, n_want, &rules, &t);
  free(want);
  free(flags);
  if (rc) {
    fail("%s%s", densrt_error_message(), rc == DENSRT_EDOM ? " (--outside drop or keep to go on)"
                                         : rc == DENSRT_EMISSING ? " (--nan drop skips such rows)" : "");
    return EXIT_BAD;
  }
  size_t n_outside = t.n_dropped + t.n_kept_outside, n_read = t.n_rows + t.n_dropped + t.n_filtered + t.n_missing;
  if (t.n_filtered || n_outside || t.n_missing) {
    char missing[80] = "", where[64] = "", window[96] = "";
    if (o->nan_drop)
      snprintf(missing, sizeof missing, ", %zu with a missing value dropped", t.n_missing);
    if (o->n_where)
      snprintf(where, sizeof where, ", %zu dropped by --where", t.n_filtered);
    if (n_outside || o->outside)
      snprintf(window, sizeof window, ", %zu outside the window %s", n_outside,
               o->outside == 2 ? "kept" : "dropped");
    note(o, "%s: %zu %s read%s%s%s; %zu %s used", o->data, n_read, plural(n_read, "row", "rows"), missing, where,
         window, t.n_rows, plural(t.n_rows, "row", "rows"));
  }
  if (t.n_rows == 0) {
    fail("%s: no data rows%s", o->data, n_read ? " left after filtering" : "");
    densrt_io_table_free(&t);
    return EXIT_BAD;
  }
  if (o->flag == C_MEMBERS) {
    ids->row = t.row;
    t.row = NULL;
    ids->id_name = "row";
    if (t.present[nd + ne]) {
      ids->id = t.text[nd + ne];
      t.text[nd + ne] = NULL;
      ids->id_name = o->id ? o->id : "source_id";
    }
  }
  densrt_model_set_data(m, t.n_rows, t.cols);
  for (size_t d = 0; d < nd; d++)
    t.cols[d] = NULL;   /* the model's now */
  densrt_io_table_free(&t);
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
        char nm[300];
        fail("%s: %s = %s is outside its bounds [%s, %s]", path, densrt_model_value_name(m, m->off[p] + i, nm, sizeof nm),
             densrt_io_shortest(x).s, densrt_io_shortest(q->lo).s, densrt_io_shortest(q->hi).s);
        goto done;
      }
    }
  }
  rc = 0;
done:
  densrt_json_free(whole);
  return rc;
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

/* How term t is integrated under the current methods: "analytic", "partly analytic", "numeric". */
static const char *integral_kind(const densrt_model *m, size_t t)
{
  if (!densrt_model_nodes(m, t))
    return "analytic";
  return m->plan[t] == DENSRT_PLAN_EXACT && m->def->terms[t].analytic ? "partly analytic" : "numeric";
}

static void write_integrals(FILE *f, const densrt_model *m, double rel_err)
{
  fputs("  \"integrals\": {", f);
  for (size_t t = 0; t < m->def->n_terms; t++) {
    fputs(t ? ",\n    " : "\n    ", f);
    densrt_json_write_string(f, m->def->terms[t].name);
    fputs(": {\"log\": ", f);
    densrt_json_write_number(f, m->own->log_integral[t]);
    fputs(", \"value\": ", f);
    densrt_json_write_number(f, exp(m->own->log_integral[t]));
    fprintf(f, ", \"integral\": \"%s\", \"nodes\": %zu}", integral_kind(m, t), densrt_model_nodes(m, t));
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

/* The result (--out or standard output); signals wait from open to close (io.h), so
** an interrupted program leaves a complete result or none. */
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

static int cmd_info(densrt_model *m, const options *o)
{
  const densrt_model_def *def = m->def;
  densrt_io_out out;
  int rc = open_out(o, &out);
  if (rc)
    return rc;
  FILE *f = out.f;
  char buf[160];
  fprintf(f, "model %s (from %s, densc %s)\n", def->name, def->source, def->version);
  fprintf(f, "data columns:\n");
  for (size_t d = 0; d < def->n_dims; d++)
    fprintf(f, "  %-16s window [%s, %s], integration %s%s%s\n", def->dims[d].name, densrt_io_shortest(m->lo[d]).s,
            densrt_io_shortest(m->hi[d]).s, densrt_spec_method_text(&m->method[d], buf, sizeof buf),
            def->dims[d].unit ? ", unit " : "", def->dims[d].unit ? def->dims[d].unit : "");
  if (def->n_knots)
    fprintf(f, "knot sets:\n");
  for (size_t k = 0; k < def->n_knots; k++)
    fprintf(f, "  %-16s %zu knots in [%s, %s]\n", def->knots[k].name, m->n_knots[k], densrt_io_shortest(m->knots[k][0]).s,
            densrt_io_shortest(m->knots[k][m->n_knots[k] - 1]).s);
  fprintf(f, "parameters (%zu values):\n", m->n_theta);
  for (size_t p = 0; p < def->n_params; p++) {
    const densrt_param_def *q = &def->params[p];
    fprintf(f, "  %-16s size %-4zu bounds [%s, %s]\n", q->name, m->size[p], densrt_io_shortest(q->lo).s, densrt_io_shortest(q->hi).s);
  }
  fprintf(f, "terms:\n");
  for (size_t t = 0; t < def->n_terms; t++)
    fprintf(f, "  %-16s %s integral, %zu quadrature nodes\n", def->terms[t].name, integral_kind(m, t),
            densrt_model_nodes(m, t));
  return close_out(&out);
}

/* Says which part of the log posterior is not finite at theta, with the .dens line of each. */
static void explain_nonfinite(densrt_model *m, const double *theta, const char *where)
{
  char why[2048];
  fail("the log posterior is not finite at the parameters of %s", where);
  if (densrt_model_explain_nonfinite(m, theta, why, sizeof why) == 0)
    return;
  for (const char *line = why; *line;) {
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) : strlen(line);
    fail("  %.*s", (int)n, line);
    line += n + (end != NULL);
  }
}

/* The chosen quadrature is the user's call, but an inaccurate one must not pass silently. */
static void warn_inaccurate(const options *o, double rel_err)
{
  if (rel_err > 1e-6)   /* (NaN: no estimate, said where it failed) */
    note(o, "warning: the integrals are inaccurate at these parameters (estimated relative error %g); "
            "use a finer rule or --integrate COLUMN=auto", rel_err);
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

static int cmd_eval(densrt_model *m, const options *o, double *theta)
{
  size_t n = m->n_theta;
  double *g = calloc(n + 1, sizeof *g);
  if (!g) {
    fail("out of memory");
    return EXIT_BAD;
  }
  int changed, rc, untrusted = 0;   /* the result is written, the exit status says it is not to be trusted */
  double rel_err = NAN;
  if (densrt_model_refine(m, theta, o->tol, &changed, &rel_err)) {
    fail("warning: %s: the integrals are not verified to --tol %g", densrt_error_message(), o->tol);
    untrusted = 1;
  }
  warn_inaccurate(o, rel_err);
  double lp = densrt_model_log_density(m, theta, g);
  double N = (double)m->n;
  if (!isfinite(lp)) {
    explain_nonfinite(m, theta, o->params);
    free(g);
    return EXIT_BAD;
  }
  size_t nonfinite = 0, first = 0;   /* a finite log density whose gradient is not (0/0 somewhere) */
  for (size_t i = n; i-- > 0;)
    if (!isfinite(g[i]))
      nonfinite++, first = i;
  if (nonfinite) {
    char nm[256];
    fail("warning: %zu gradient %s not finite at these parameters (the first: %s)", nonfinite,
         plural(nonfinite, "component is", "components are"), densrt_model_value_name(m, first, nm, sizeof nm));
    untrusted = 1;
  }
  /* --repeat: the median time of N more evaluations at the same point */
  double per_eval = NAN;
  if (o->repeat > 0) {
    double *t = malloc((size_t)o->repeat * sizeof *t), *g2 = calloc(n + 1, sizeof *g2);
    if (!t || !g2) {
      free(t);
      free(g2);
      free(g);
      fail("out of memory");
      return EXIT_BAD;
    }
    for (long r = 0; r < o->repeat; r++) {
      double t0 = now();
      densrt_model_log_density(m, theta, g2);
      t[r] = now() - t0;
    }
    qsort(t, (size_t)o->repeat, sizeof *t, cmp_double);
    per_eval = o->repeat % 2 ? t[o->repeat / 2] : 0.5 * (t[o->repeat / 2 - 1] + t[o->repeat / 2]);
    free(t);
    free(g2);
  }
  densrt_io_out out;
  if ((rc = open_out(o, &out))) {
    free(g);
    return rc;
  }
  FILE *f = out.f;
  fputs("{\n  \"objective\": ", f);
  densrt_json_write_number(f, -lp / N);
  fputs(",\n  \"log_posterior\": ", f);
  densrt_json_write_number(f, lp);
  fputs(",\n  \"log_likelihood\": ", f);
  densrt_json_write_number(f, m->own->log_lik);
  fputs(",\n  \"log_prior\": ", f);
  densrt_json_write_number(f, m->own->log_prior);
  fprintf(f, ",\n  \"n\": %zu,\n  \"gradient\": ", m->n);
  for (size_t i = 0; i < n; i++)
    g[i] = -g[i] / N;
  write_vector(f, g, n);
  fputs(",\n", f);
  write_integrals(f, m, rel_err);
  if (o->repeat > 0) {
    fprintf(f, "  \"seconds_per_eval\": %.6g,\n  \"repeat\": %ld,\n", per_eval, o->repeat);
  }
  write_params(f, m, "params", theta);
  fputs("\n}\n", f);
  free(g);
  rc = close_out(&out);
  return rc ? rc : untrusted ? EXIT_NOCONV : 0;
}

static const char *fit_status_text(int st)
{
  switch (st) {
  case DENSRT_OK: return "converged";
  case DENSRT_EMAXITER: return "iteration limit";
  case DENSRT_ETOL: return "integrals inaccurate";
  case DENSRT_EINTR: return "interrupted";
  default: return "not stationary";
  }
}

static void write_names(FILE *f, const densrt_model *m, const size_t *idx, size_t n)
{
  char nm[300];
  fputc('[', f);
  for (size_t i = 0; i < n; i++) {
    fputs(i ? ", " : "", f);
    densrt_json_write_string(f, densrt_model_value_name(m, idx[i], nm, sizeof nm));
  }
  fputc(']', f);
}

static void warn_unconstrained(const densrt_model *m, const options *o, const densrt_fit_result *r)
{
  if (!r->n_flat || o->quiet)
    return;
  char nm[300];
  fprintf(stderr, "%s: warning: neither data nor priors constrain %s at the optimum to better than a standard "
                  "deviation of %g (curvature of ln p below %g):", prog,
          plural(r->n_flat, "this parameter value", "these parameter values"), 1 / sqrt(DENSRT_FIT_FLAT),
          DENSRT_FIT_FLAT);
  for (size_t i = 0; i < r->n_flat && i < 20; i++)
    fprintf(stderr, " %s", densrt_model_value_name(m, r->flat[i], nm, sizeof nm));
  if (r->n_flat > 20)
    fprintf(stderr, " and %zu more", r->n_flat - 20);
  fprintf(stderr, ";\n%s: their values are arbitrary: add priors, or move knots to where there are data\n", prog);
}

/* The fit options of the command line. */
static void fit_options(const options *o, densrt_fit_options *fo)
{
  densrt_fit_options_default(fo);
  fo->max_iter = (size_t)o->max_iter;
  fo->ftol = o->ftol;
  fo->gtol = o->gtol;
  fo->tol = o->tol;
  fo->quiet = o->quiet;
  fo->prog = prog;
  fo->interrupt = &interrupted;
}

/* The default start (start.h) into theta, with a note of what it found. */
static int default_start(densrt_model *m, const options *o, double *theta)
{
  densrt_start_options so;
  densrt_start_options_default(&so);
  so.starts = (size_t)o->starts;
  so.screen_rows = (size_t)o->start_rows;
  fit_options(o, &so.fit);
  densrt_start_report r;
  if (!so.starts)
    so.starts = m->n_theta ? densrt_start_count(m) : 1;   /* nothing to search without parameters */
  if (so.starts > 1)
    note(o, "default start: fitting from %zu starting points (--starts)", so.starts);
  graceful = 1;
  int st = densrt_start_find(m, &so, theta, &r);
  graceful = 0;
  if (st) {
    fail("the default start: %s", densrt_error_message());
    return EXIT_BAD;
  }
  if (r.screened)
    note(o, "default start: %zu starts raced on %zu evenly spread rows; on all rows start %zu wins, objective "
         "%.10g (from 0: %.10g; %zu evaluations)", so.starts, r.screened, r.best + 1, r.f, r.f_structural,
         r.evaluations);
  else if (r.tried > 1)
    note(o, "default start: the best of %zu fits is start %zu, objective %.10g (from 0: %.10g; %zu evaluations)",
         r.tried, r.best + 1, r.f, r.f_structural, r.evaluations);
  return 0;
}

static int cmd_optimize(densrt_model *m, const options *o, double *x)
{
  size_t n = m->n_theta;
  double *g = calloc(n + 1, sizeof *g);
  if (!g) {
    fail("out of memory");
    return EXIT_BAD;
  }
  densrt_fit_options fo;
  fit_options(o, &fo);
  if (n == 0)
    note(o, "the model has no parameters: the result is its value");
  densrt_fit_result r;
  graceful = 1;
  int st = densrt_fit_map(m, x, &fo, &r);
  graceful = 0;
  int rc = EXIT_BAD;
  if (st == DENSRT_ENONFINITE || st == DENSRT_EINVAL || st == DENSRT_ENOMEM) {
    fail("%s", r.message);
    if (st == DENSRT_ENONFINITE) {
      explain_nonfinite(m, x, o->init ? o->init : "the default start");
    }
    goto done;
  }
  if (st != DENSRT_EINTR)
    warn_inaccurate(o, r.integral_rel_err);
  densrt_fit_objective(m, x, g);
  densrt_io_out out;
  if ((rc = open_out(o, &out)))
    goto done;
  FILE *fo_ = out.f;
  fputs("{\n  \"objective\": ", fo_);
  densrt_json_write_number(fo_, r.f);
  fputs(",\n  \"log_posterior\": ", fo_);
  densrt_json_write_number(fo_, -r.f * (double)m->n);
  fprintf(fo_, ",\n  \"converged\": %s,\n  \"status\": \"%s\",\n  \"interrupted\": %s,\n  \"reason\": ",
          st == DENSRT_OK ? "true" : "false", fit_status_text(st), st == DENSRT_EINTR ? "true" : "false");
  densrt_json_write_string(fo_, r.message);
  fputs(",\n  \"optimizer_message\": ", fo_);
  densrt_json_write_string(fo_, r.optimizer_message);
  fputs(",\n  \"projected_gradient\": ", fo_);
  densrt_json_write_number(fo_, r.proj_grad);
  fputs(",\n  \"predicted_decrease\": ", fo_);
  densrt_json_write_number(fo_, r.decrease);
  fprintf(fo_, ",\n  \"curvature_measured\": %s,\n  \"free_values\": %zu", r.curvature ? "true" : "false",
          r.free_values);
  fputs(",\n  \"unconstrained\": ", fo_);
  write_names(fo_, m, r.flat, r.n_flat);
  fprintf(fo_, ",\n  \"iterations\": %zu,\n  \"evaluations\": %zu,\n  \"refinements\": %zu,\n"
               "  \"newton_steps\": %zu,\n  \"n\": %zu,\n", r.iterations, r.evaluations, r.refinements,
          r.polish_steps, m->n);
  write_integrals(fo_, m, r.integral_rel_err);
  write_params(fo_, m, "params", x);
  fputs(",\n  \"gradient\": ", fo_);
  write_vector(fo_, g, n);
  fputs("\n}\n", fo_);
  if ((rc = close_out(&out)))
    goto done;
  warn_unconstrained(m, o, &r);
  if (!r.curvature && r.free_values > DENSRT_FIT_MAX_DENSE && st != DENSRT_EINTR)
    note(o, "note: the curvature was not measured (%zu free values, more than %d): converged means a projected "
            "gradient below --gtol, and values nothing constrains are not named", r.free_values,
         DENSRT_FIT_MAX_DENSE);
  if (st == DENSRT_OK)
    note(o, "converged after %zu iterations: objective %.15g, projected gradient %.3g", r.iterations, r.f,
         r.proj_grad);
  if (st == DENSRT_EINTR) {
    fail("interrupted after %zu iterations; the best point so far was written", r.iterations);
    rc = EXIT_SIGNAL + interrupted;
  } else if (st != DENSRT_OK) {
    fail("did not converge: %s", r.message);
    rc = EXIT_NOCONV;
  }
done:
  densrt_fit_result_free(&r);
  free(g);
  return rc;
}

/* Central differences with Richardson extrapolation (error O(h^4)); within h of a bound
** (lo, hi), one-sided second-order differences into the interior, never onto the bound. */
static double finite_difference(densrt_model *m, double *x, size_t i, double lo, double hi, double *scratch)
{
  double xi = x[i], h = 1e-4 * fmax(1, fabs(xi)), d[2];
  if (xi - h < lo || xi + h > hi) {
    /* a value this close to a bound varies on the scale of its distance to it (a width
       near 0): the step, away from the bound, is a small part of that distance */
    double s = hi - xi >= xi - lo ? 1 : -1, near = fmin(hi - xi, xi - lo), room = fmax(hi - xi, xi - lo);
    if (near > 0)
      h = fmin(h, near * 1e-4);
    h = fmin(h, room / 4);
    double f0 = densrt_fit_objective(m, x, scratch);
    x[i] = xi + s * h;
    double f1 = densrt_fit_objective(m, x, scratch);
    x[i] = xi + 2 * s * h;
    double f2 = densrt_fit_objective(m, x, scratch);
    x[i] = xi;
    return (-3 * f0 + 4 * f1 - f2) / (2 * s * h);
  }
  for (int k = 0; k < 2; k++, h /= 2) {
    x[i] = xi + h;
    double fp = densrt_fit_objective(m, x, scratch);
    x[i] = xi - h;
    double fm = densrt_fit_objective(m, x, scratch);
    d[k] = (fp - fm) / (2 * h);
  }
  x[i] = xi;
  return (4 * d[1] - d[0]) / 3;
}

/* The checks are computed first and written at the end, so an interrupted run writes nothing. */
static int cmd_diagnose(densrt_model *m, const options *o, const double *x0)
{
  size_t n = m->n_theta, np = (size_t)o->random + 1;
  double *x = calloc(n + 1, sizeof *x), *g = calloc(n + 1, sizeof *g), *scratch = calloc(n + 1, sizeof *scratch);
  double *fx = calloc(np, sizeof *fx), *err = calloc(np, sizeof *err);
  size_t *at = calloc(np, sizeof *at);
  int rc = EXIT_BAD;
  if (!x || !g || !scratch || !fx || !err || !at) {
    fail("out of memory");
    goto done;
  }
  double *lo = calloc(n + 1, sizeof *lo), *hi = calloc(n + 1, sizeof *hi);
  if (!lo || !hi) {
    fail("out of memory");
    free(lo);
    free(hi);
    goto done;
  }
  densrt_fit_bounds(m, lo, hi);
  unsigned long long state = (unsigned long long)o->seed * 0x9E3779B97F4A7C15ull + 1;
  double worst = 0;
  size_t worst_at = 0;
  for (size_t pt = 0; pt < np; pt++) {
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
    for (size_t i = 0; i < n; i++)   /* kept inside the bounds */
      if (x[i] <= lo[i] || x[i] >= hi[i])
        x[i] = x0[i];
    fx[pt] = densrt_fit_objective(m, x, g);
    for (size_t i = 0; i < n; i++) {
      double fd = finite_difference(m, x, i, lo[i], hi[i], scratch);
      double e = fabs(fd - g[i]) / fmax(1, fabs(g[i]));
      if (!(e <= err[pt])) {
        err[pt] = e;
        at[pt] = i;
      }
    }
    if (!(err[pt] <= worst)) {
      worst = err[pt];
      worst_at = at[pt];
    }
  }
  free(lo);
  free(hi);
  densrt_io_out out;
  if ((rc = open_out(o, &out)))
    goto done;
  FILE *f = out.f;
  char nm[300];
  fputs("{\n  \"points\": [", f);
  for (size_t pt = 0; pt < np; pt++) {
    fprintf(f, "%s\n    {\"objective\": ", pt ? "," : "");
    densrt_json_write_number(f, fx[pt]);
    fputs(", \"max_error\": ", f);
    densrt_json_write_number(f, err[pt]);
    fputs(", \"at\": ", f);
    if (n)
      densrt_json_write_string(f, densrt_model_value_name(m, at[pt], nm, sizeof nm));
    else
      fputs("null", f);
    fputc('}', f);
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
    fail("the gradient differs from finite differences by %g at %s (tolerance %g)", worst,
         densrt_model_value_name(m, worst_at, nm, sizeof nm), o->error_tol);
done:
  free(x);
  free(g);
  free(scratch);
  free(fx);
  free(err);
  free(at);
  return rc;
}


/* Median over batches of the time per evaluation; each batch lasts about 0.05 s. */
static int cmd_benchmark(densrt_model *m, const options *o, const double *x)
{
  size_t n = m->n_theta, batches = (size_t)o->batches;
  double *g = calloc(n + 1, sizeof *g), *t = calloc(batches, sizeof *t);
  int rc = EXIT_BAD;
  if (!g || !t) {
    fail("out of memory");
    goto done;
  }
  double sink = 0, t0 = now();
  long reps = 0;
  do {
    sink += densrt_model_log_density(m, x, g);
    reps++;
  } while (now() - t0 < 0.05);
  for (size_t b = 0; b < batches; b++) {
    t0 = now();
    for (long r = 0; r < reps; r++)
      sink += densrt_model_log_density(m, x, g);
    t[b] = (now() - t0) / (double)reps;
  }
  qsort(t, batches, sizeof *t, cmp_double);
  densrt_io_out out;
  if ((rc = open_out(o, &out)))
    goto done;
  fprintf(out.f, "{\"median_seconds\": %.6g, \"min_seconds\": %.6g, \"evaluations_per_batch\": %ld, "
                 "\"batches\": %zu, \"n\": %zu, \"parameters\": %zu, \"checksum\": %.6g}\n",
          t[batches / 2], t[0], reps, batches, m->n, n, sink);
  rc = close_out(&out);
done:
  free(g);
  free(t);
  return rc;
}

/* }==================================================================== */

/* Stan's name of parameter value i: b[3] -> b.3 (caller frees). */
static char *stan_name(const densrt_model *m, size_t i)
{
  char nm[256];
  densrt_model_value_name(m, i, nm, sizeof nm);
  char *br = strchr(nm, '[');
  if (br) {
    *br = '.';
    nm[strlen(nm) - 1] = '\0';
  }
  return strdup(nm);
}

/* {====================================================================
** sample and summary
** ===================================================================== */

/* A column of the draws, chain after chain: x[c * n + i]. */
static double *column(const densrt_stancsv_set *s, size_t k, size_t n)
{
  double *x = malloc((s->n_chains * n + 1) * sizeof *x);
  for (size_t c = 0; x && c < s->n_chains; c++)
    for (size_t i = 0; i < n; i++)
      x[c * n + i] = s->draws[c][i * s->n_cols + k];
  return x;
}

static ssize_t column_index(const densrt_stancsv_set *s, const char *name)
{
  for (size_t k = 0; k < s->n_cols; k++)
    if (!strcmp(s->names[k], name))
      return (ssize_t)k;
  return -1;
}

/* The table of every column but the sampler's (lp__ first), then the warnings on stderr.
** Returns the number of warnings, or -1 on error. */
static int summarize(const densrt_stancsv_set *s, FILE *f, const options *o, long max_depth)
{
  size_t n = s->n_draws[0];
  for (size_t c = 1; c < s->n_chains; c++)
    if (s->n_draws[c] < n)
      n = s->n_draws[c];   /* the chains' common length (an interrupted run may differ) */
  if (n < 4) {
    fail("summary: %zu draws per chain; at least 4 are needed", n);
    return -1;
  }
  fprintf(f, "%-20s %12s %10s %10s %12s %12s %12s %9s %9s %7s\n", "name", "mean", "mcse", "sd", "5%", "50%", "95%",
          "ess_bulk", "ess_tail", "rhat");
  int warnings = 0;
  double worst_rhat = 0, worst_ess = INFINITY;
  const char *worst_rhat_name = "", *worst_ess_name = "";
  for (size_t k = 0; k < s->n_cols; k++) {
    const char *name = s->names[k];
    size_t len = strlen(name);
    if (len > 2 && !strcmp(name + len - 2, "__") && strcmp(name, "lp__"))
      continue;   /* the sampler's own columns */
    double *x = column(s, k, n);
    densrt_mcstat_summary m;
    if (!x || densrt_mcstat_summarize(x, s->n_chains, n, &m)) {
      free(x);
      fail("out of memory");
      return -1;
    }
    free(x);
    fprintf(f, "%-20s %12.6g %10.3g %10.4g %12.6g %12.6g %12.6g %9.0f %9.0f %7.4f\n", name, m.mean, m.mcse_mean,
            m.sd, m.q5, m.q50, m.q95, m.ess_bulk, m.ess_tail, m.rhat);
    if (isnan(m.rhat) || m.rhat > worst_rhat) {
      worst_rhat = isnan(m.rhat) ? INFINITY : m.rhat;
      worst_rhat_name = name;
    }
    double e = fmin(m.ess_bulk, m.ess_tail);
    if (isnan(e) || e < worst_ess) {
      worst_ess = isnan(e) ? 0 : e;
      worst_ess_name = name;
    }
  }
  /* the sampler's diagnostics, over each chain's draws */
  ssize_t kd = column_index(s, "divergent__"), kt = column_index(s, "treedepth__"), ke = column_index(s, "energy__");
  size_t div = 0, sat = 0;
  for (size_t c = 0; c < s->n_chains; c++) {
    double e_mean = 0, num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
      const double *row = s->draws[c] + i * s->n_cols;
      div += kd >= 0 && row[kd] != 0;
      sat += kt >= 0 && max_depth > 0 && row[kt] >= (double)max_depth;
      if (ke >= 0)
        e_mean += row[ke] / (double)n;
    }
    for (size_t i = 0; ke >= 0 && i < n; i++) {
      double e = s->draws[c][i * s->n_cols + ke];
      if (i)
        num += (e - s->draws[c][(i - 1) * s->n_cols + ke]) * (e - s->draws[c][(i - 1) * s->n_cols + ke]);
      den += (e - e_mean) * (e - e_mean);
    }
    if (ke >= 0 && den > 0 && num / den < 0.3) {
      fail("warning: chain %zu has E-BFMI %.3g (below 0.3): the posterior's energy is poorly explored; "
           "reparametrise", c + 1, num / den);
      warnings++;
    }
  }
  size_t total = n * s->n_chains;
  if (div) {
    fail("warning: %zu of %zu draws ended in a divergence: the draws may be biased (raise --delta, or "
         "reparametrise)", div, total);
    warnings++;
  }
  if (sat) {
    fail("warning: %zu of %zu draws reached the largest tree depth %ld (raise --max-depth)", sat, total, max_depth);
    warnings++;
  }
  if (worst_rhat > 1.01) {
    fail("warning: R-hat of %s is %.4g (above 1.01): the chains do not agree; draw longer or look at the model",
         worst_rhat_name, worst_rhat);
    warnings++;
  }
  if (worst_ess < 100.0 * (double)s->n_chains) {
    fail("warning: bulk- or tail-ESS of %s is %.0f, below %.0f (100 per chain): the estimates are not reliable; "
         "draw longer", worst_ess_name, worst_ess, 100.0 * (double)s->n_chains);
    warnings++;
  }
  if (!warnings)
    note(o, "%zu chains of %zu draws: no divergences, R-hat <= 1.01, ESS >= 100 per chain", s->n_chains, n);
  return warnings;
}

static int cmd_summary(const options *o)
{
  densrt_stancsv_set s;
  if (densrt_stancsv_read((const char *const *)o->files, o->n_files, &s)) {
    fail("%s", densrt_error_message());
    return EXIT_BAD;
  }
  long max_depth = s.max_depth;
  densrt_io_out out;
  int rc = open_out(o, &out);
  if (!rc) {
    int w = summarize(&s, out.f, o, max_depth);
    if (w < 0) {
      densrt_io_out_abort(&out);
      rc = EXIT_BAD;
    } else {
      rc = close_out(&out);
      if (!rc && w)
        rc = EXIT_NOCONV;
    }
  }
  densrt_stancsv_set_free(&s);
  return rc;
}

typedef struct {
  densrt_stancsv *w;
  const options *o;
  size_t total;
  pthread_mutex_t lock;
  int tty;                /* stderr is a terminal: one line redrawn, else a line every 10% */
  size_t chains, *done;   /* iterations done per chain */
} sample_out;

/* "sampling: chain 1 45% (warmup)  chain 2 ..." on one redrawn line. */
static void draw_bar(const sample_out *so)
{
  fprintf(stderr, "\r%s:", prog);
  for (size_t c = 0; c < so->chains && c < 16; c++)
    fprintf(stderr, " [%zu] %3zu%%%s", c + 1, so->done[c] * 100 / so->total,
            so->done[c] <= (size_t)so->o->warmup ? "w" : " ");
  if (so->chains > 16)
    fputs(" ...", stderr);
  fflush(stderr);
}

static int sink_adapted(void *ctx, unsigned chain, double stepsize, const double *inv_metric, int dense)
{
  sample_out *so = ctx;
  return densrt_stancsv_adaptation(&so->w[chain], stepsize, inv_metric, dense);
}

static int sink_draw(void *ctx, unsigned chain, size_t iter, const densrt_nuts_draw *d, const double *theta)
{
  sample_out *so = ctx;
  size_t step = so->total / (so->tty ? 100 : 10);
  if (!step)
    step = 1;
  if (!so->o->quiet && ((iter + 1) % step == 0 || iter + 1 == so->total)) {
    pthread_mutex_lock(&so->lock);
    so->done[chain] = iter + 1;
    if (so->tty)
      draw_bar(so);
    else
      note(so->o, "chain %u: iteration %zu / %zu (%s)", chain + 1, iter + 1, so->total, d->warmup ? "warmup" :
           "sampling");
    pthread_mutex_unlock(&so->lock);
  }
  if (d->warmup)
    return 0;   /* as CmdStan by default: warmup draws are not saved */
  return densrt_stancsv_row(&so->w[chain], d, theta);
}

/* The configuration, in CmdStan's layout so that rstan::read_stan_csv finds it. */
static void sample_header(char *h, size_t len, const densrt_model *m, const options *o, const densrt_nuts_options *no,
                          unsigned long seed, size_t chain, const char *path)
{
  snprintf(h, len,
           "model = %s\nmethod = sample (Default)\n  sample\n    num_samples = %ld\n    num_warmup = %ld\n"
           "    save_warmup = 0 (Default)\n    thin = 1 (Default)\n    adapt\n      engaged = 1 (Default)\n"
           "      gamma = %g\n      delta = %g\n      kappa = %g\n      t0 = %g\n      init_buffer = %zu\n"
           "      term_buffer = %zu\n      window = %zu\n    algorithm = hmc (Default)\n      hmc\n"
           "        engine = nuts (Default)\n          nuts\n            max_depth = %zu\n"
           "        metric = %s\n        stepsize = 1 (Default)\n        stepsize_jitter = 0 (Default)\n"
           "id = %zu\ndata\n  file = %s\ninit = %s\nrandom\n  seed = %lu\noutput\n  file = %s\n"
           "densc_version = %s\nmodel_source = %s",
           m->def->name, o->draws, o->warmup, no->gamma, no->delta, no->kappa, no->t0, no->init_buffer,
           no->term_buffer, no->window, no->max_depth, no->dense ? "dense_e" : "diag_e", chain, o->data,
           o->init ? o->init : o->init_map ? "MAP (--init-from-map)" : "2 (Default)", seed, path, m->def->version,
           m->def->source);
}

static int cmd_sample(densrt_model *m, const options *o, double *theta)
{
  size_t n = m->n_theta, chains = (size_t)o->chains;
  unsigned long seed = o->seed_given ? (unsigned long)o->seed : (unsigned long)((unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16)) &
                                                                    0xFFFFFFFFul;
  densrt_sample_options so;
  densrt_sample_options_default(&so);
  so.chains = chains;
  so.draws = (size_t)o->draws;
  so.seed = seed;
  so.threads = (size_t)o->threads;
  so.data_threads = o->data_threads > 1 ? (size_t)o->data_threads : 1;
  so.nuts.warmup = (size_t)o->warmup;
  so.nuts.max_depth = (size_t)o->max_depth;
  so.nuts.delta = o->delta;
  so.nuts.dense = o->dense;
  so.interrupt = &interrupted;
  int rc = EXIT_BAD;
  densrt_stancsv *w = calloc(chains, sizeof *w);
  densrt_sample_chain *ch = calloc(chains, sizeof *ch);
  const double **init = calloc(chains, sizeof *init);
  char **names = calloc(n + 1, sizeof *names);
  if (!w || !ch || !init || !names) {
    fail("out of memory");
    goto done;
  }
  if (o->init_map) {
    densrt_fit_options fo;
    densrt_fit_options_default(&fo);
    fo.tol = o->tol;
    fo.quiet = 1;
    fo.interrupt = &interrupted;
    densrt_fit_result r;
    note(o, "finding the MAP point for the initial values");
    int st = densrt_fit_map(m, theta, &fo, &r);
    densrt_fit_result_free(&r);
    if (st != DENSRT_OK)
      note(o, "warning: the MAP fit did not converge (%s); starting from its best point", r.message);
  }
  if (o->init || o->init_map)
    for (size_t c = 0; c < chains; c++)
      init[c] = theta;
  /* the rules of 'auto' integrals, checked at the initial values (or the default start) */
  int changed, unverified = 0;
  double rel_err = NAN;
  if (densrt_model_refine(m, theta, o->tol, &changed, &rel_err)) {
    fail("warning: %s: the integrals are not verified to --tol %g", densrt_error_message(), o->tol);
    unverified = 1;   /* the draws are made and written; the exit status says so */
  }
  if (o->init || o->init_map) {
    double *g = calloc(n + 1, sizeof *g);
    double lp = g ? densrt_model_log_density(m, theta, g) : NAN;
    free(g);
    if (!isfinite(lp)) {
      explain_nonfinite(m, theta, o->init ? o->init : "the MAP point");
      goto done;
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (!(names[i] = stan_name(m, i))) {
      fail("out of memory");
      goto done;
    }
  }
  size_t opened = 0;
  for (; opened < chains; opened++) {
    char path[4096], header[16384];
    snprintf(path, sizeof path, "%s_%zu.csv", o->out, opened + 1);
    sample_header(header, sizeof header, m, o, &so.nuts, seed, opened + 1, path);
    if (densrt_stancsv_open(&w[opened], path, header, (const char *const *)names, n)) {
      fail("%s", densrt_error_message());
      break;
    }
  }
  if (opened < chains) {
    for (size_t c = 0; c < opened; c++)
      densrt_stancsv_abort(&w[c]);
    goto done;
  }
  size_t *done_its = calloc(chains, sizeof *done_its);
  if (!done_its) {
    fail("out of memory");
    for (size_t c = 0; c < chains; c++)
      densrt_stancsv_abort(&w[c]);
    goto done;
  }
  sample_out out = {w, o, (size_t)(o->warmup + o->draws), PTHREAD_MUTEX_INITIALIZER, isatty(STDERR_FILENO), chains,
                    done_its};
  densrt_sample_sink sink = {sink_adapted, sink_draw, &out};
  note(o, "%zu chains of %ld warmup and %ld draws, seed %lu", chains, o->warmup, o->draws, seed);
  sigset_t old_mask;
  block_signals(1, &old_mask);
  for (size_t c = 0; c < chains && c < MAX_TEMPS; c++)
    temps[c] = w[c].tmp;
  n_temps = (sig_atomic_t)(chains < MAX_TEMPS ? chains : MAX_TEMPS);
  graceful = 1;
  block_signals(0, &old_mask);
  int st = densrt_sample_run(m, init, &so, &sink, ch);
  block_signals(1, &old_mask);   /* the files are closed or removed whole: signals wait */
  graceful = 0;
  n_temps = 0;
  if (out.tty && !o->quiet)
    fputc('\n', stderr);
  free(done_its);
  int interrupted_run = st == DENSRT_EINTR || (st == DENSRT_OK && interrupted);
  if (st && !interrupted_run) {
    fail("%s", densrt_error_message());
    for (size_t c = 0; c < chains; c++)
      densrt_stancsv_abort(&w[c]);   /* no partial files */
    block_signals(0, &old_mask);
    goto done;
  }
  int bad = 0;
  for (size_t c = 0; c < chains; c++) {
    /* where the time went: the model's evaluations, and the rest (the sampler, the output);
       with the signals still blocked until every file is in place */
    char line[256];
    snprintf(line, sizeof line, "densc: %zu gradient evaluations taking %g seconds of %g", ch[c].gradients,
             ch[c].gradient_seconds, ch[c].warmup_seconds + ch[c].sampling_seconds);
    densrt_stancsv_comment(&w[c], line);
  }
  for (size_t c = 0; c < chains; c++)
    if (densrt_stancsv_close(&w[c], ch[c].warmup_seconds, ch[c].sampling_seconds)) {
      fail("%s", densrt_error_message());
      bad = 1;
    }
  block_signals(0, &old_mask);   /* a signal that came meanwhile acts now */
  if (bad)
    goto done;
  if (interrupted_run) {
    fail("interrupted: each chain's file holds the draws made so far");
    rc = EXIT_SIGNAL + (interrupted ? interrupted : SIGINT);
    goto done;
  }
  /* the summary of what was written */
  char **paths = calloc(chains, sizeof *paths);
  for (size_t c = 0; paths && c < chains; c++) {
    paths[c] = malloc(strlen(o->out) + 32);
    if (paths[c])
      sprintf(paths[c], "%s_%zu.csv", o->out, c + 1);
  }
  densrt_stancsv_set set;
  if (!paths || densrt_stancsv_read((const char *const *)paths, chains, &set)) {
    fail("%s", paths ? densrt_error_message() : "out of memory");
  } else {
    int warn = summarize(&set, stdout, o, o->max_depth);
    rc = warn < 0 ? EXIT_BAD : warn || unverified ? EXIT_NOCONV : 0;
    densrt_stancsv_set_free(&set);
  }
  for (size_t c = 0; paths && c < chains; c++)
    free(paths[c]);
  free(paths);
done:
  for (size_t i = 0; names && i < n; i++)
    free(names[i]);
  free(names);
  free(w);
  free(ch);
  free(init);
  return rc;
}


/* The grid of --grid COL=LO:HI:N options: every column, their product (the last fastest). */
typedef struct {
  double lo[DENSRT_MAX_DIMS], hi[DENSRT_MAX_DIMS];
  size_t count[DENSRT_MAX_DIMS];
} grid_spec;

static int make_grid(const densrt_model *m, const options *o, double **x, size_t *n_points, grid_spec *gs)
{
  const densrt_model_def *def = m->def;
  size_t nd = def->n_dims, total = 1;
  double *lo = gs->lo, *hi = gs->hi;
  size_t *count = gs->count;
  memset(gs, 0, sizeof *gs);
  for (size_t i = 0; i < o->n_grids; i++) {
    char name[256], *end;
    const char *v;
    if (!split_pair("--grid", o->grids[i], name, sizeof name, &v))
      return EXIT_BAD;
    size_t d = 0;
    while (d < nd && strcmp(def->dims[d].name, name))
      d++;
    if (d == nd) {
      fail("--grid: the model has no column '%s'", name);
      return EXIT_BAD;
    }
    double a = strtod(v, &end), b = NAN;
    long k = 0;
    if (*end == ':')
      b = strtod(end + 1, &end);
    if (*end == ':')
      k = strtol(end + 1, &end, 10);
    if (*end || !isfinite(a) || !isfinite(b) || a > b || k < 1 || k > 1000000 || (k == 1 && a != b) ||
        (k > 1 && a == b)) {
      fail("--grid %s: expected COL=LO:HI:N with finite LO < HI and N from 2 to 1000000 (or N = 1 and LO = HI "
           "to fix the column)", o->grids[i]);
      return EXIT_BAD;
    }
    if (count[d]) {
      fail("--grid: column '%s' is given twice", name);
      return EXIT_BAD;
    }
    lo[d] = a, hi[d] = b, count[d] = (size_t)k;
  }
  for (size_t d = 0; d < nd; d++) {
    if (!count[d]) {
      fail("--grid: give column '%s' a grid too (COL=LO:HI:N; N = 1 fixes it)", def->dims[d].name);
      return EXIT_BAD;
    }
    total *= count[d];
    if (total > 10000000) {
      fail("--grid: more than 10000000 points");
      return EXIT_BAD;
    }
  }
  /* each column's points as linspace gives knots (one rule: spec.c) */
  double *axis[DENSRT_MAX_DIMS] = {0};
  int ok = 1;
  for (size_t d = 0; d < nd; d++) {
    x[d] = malloc(total * sizeof **x);
    axis[d] = malloc(count[d] * sizeof **axis);
    ok = ok && x[d] && axis[d];
    if (axis[d])
      densrt_spec_linspace(lo[d], hi[d], count[d], axis[d]);
  }
  for (size_t g = 0; ok && g < total; g++) {
    size_t r = g;
    for (size_t d = nd; d-- > 0;) {
      x[d][g] = axis[d][r % count[d]];
      r /= count[d];
    }
  }
  for (size_t d = 0; d < nd; d++)
    free(axis[d]);
  if (!ok) {
    fail("out of memory");
    return EXIT_BAD;
  }
  *n_points = total;
  return 0;
}

/* The Stan CSV files of --draws (comma-separated lists or repeated), read into s; *first
** names the first file for messages (caller frees). */
static int read_draws(const options *o, densrt_stancsv_set *s, char **first)
{
  const char **paths = NULL;
  size_t n_paths = 0;
  char *copy = NULL;
  for (size_t i = 0; i < o->n_draw_files; i++) {
    free(copy);
    copy = strdup(o->draw_files[i]);
    for (char *p = copy; p;) {
      char *comma = strchr(p, ',');
      if (comma)
        *comma = '\0';
      if (*p)
        push(&paths, &n_paths, strdup(p));
      p = comma ? comma + 1 : NULL;
    }
  }
  free(copy);
  int rc = EXIT_BAD;
  *first = NULL;
  if (!n_paths) {
    fail("--draws: no file named");
    free(paths);
    return EXIT_BAD;
  }
  if (densrt_stancsv_read(paths, n_paths, s))
    fail("%s", densrt_error_message());
  else if (!(*first = strdup(paths[0]))) {
    fail("out of memory");
    densrt_stancsv_set_free(s);
  } else
    rc = 0;
  for (size_t i = 0; i < n_paths; i++)
    free((char *)paths[i]);
  free(paths);
  return rc;
}

/* Each draw's theta from the draws' columns, by Stan's names. */
static int draws_thetas(const densrt_model *m, const options *o, double **thetas, size_t *n_draws)
{
  densrt_stancsv_set s;
  char *first;
  size_t n = m->n_theta;
  int rc = read_draws(o, &s, &first);
  if (rc)
    return rc;
  rc = EXIT_BAD;
  size_t *col = calloc(n + 1, sizeof *col), total = 0;
  for (size_t c = 0; c < s.n_chains; c++)
    total += s.n_draws[c];
  *thetas = malloc((total * n + 1) * sizeof **thetas);
  if (!col || !*thetas) {
    fail("out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    char *name = stan_name(m, i);
    ssize_t k = name ? column_index(&s, name) : -1;
    if (k < 0)
      fail("%s: no column '%s' (draws of another model, or other knot sets?)", first, name ? name : "?");
    free(name);
    if (k < 0)
      goto done;
    col[i] = (size_t)k;
  }
  /* every other column must be the sampler's (NAME__): a parameter this model does not
     have means draws of another model */
  for (size_t k = 0; k < s.n_cols; k++) {
    size_t len = strlen(s.names[k]), i = 0;
    while (i < n && col[i] != k)
      i++;
    if (i == n && !(len > 2 && !strcmp(s.names[k] + len - 2, "__"))) {
      fail("%s: column '%s' is not a parameter of the model (draws of another model, or other knot sets?)",
           first, s.names[k]);
      goto done;
    }
  }
  size_t r = 0, thin = o->thin > 1 ? (size_t)o->thin : 1;
  for (size_t c = 0; c < s.n_chains; c++)
    for (size_t j = 0; j < s.n_draws[c]; j += thin, r++)
      for (size_t i = 0; i < n; i++)
        (*thetas)[r * n + i] = s.draws[c][j * s.n_cols + col[i]];
  total = r;
  *n_draws = total;
  rc = total ? 0 : EXIT_BAD;
  if (!total)
    fail("%s: no draws", first);
done:
  free(col);
  free(first);
  densrt_stancsv_set_free(&s);
  return rc;
}

/* Which components --component names (all without it): show[t]; checked before the data. */
static int select_components(const densrt_model_def *def, const options *o, unsigned char *show)
{
  memset(show, o->n_components ? 0 : 1, def->n_terms);
  for (size_t i = 0; i < o->n_components; i++) {
    const char *p = o->components[i];
    while (*p) {
      size_t len = strcspn(p, ",");
      size_t t = 0;
      while (t < def->n_terms && (strlen(def->terms[t].name) != len || strncmp(def->terms[t].name, p, len)))
        t++;
      if (len && t == def->n_terms) {
        char list[512] = "";
        for (size_t k = 0; k < def->n_terms; k++)
          snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "", def->terms[k].name);
        fail("--component: the model has no component '%.*s' (components: %s)", (int)len, p, list);
        return 0;
      }
      if (len)
        show[t] = 1;
      p += len + (p[len] == ',');
    }
  }
  for (size_t t = 0; t < def->n_terms; t++)
    if (show[t])
      return 1;
  fail("--component: no component named");
  return 0;
}

/*
** Points evaluated at every draw, in blocks, on threads: per point and draw the components'
** intensities and the total (predict) or the components' probabilities n_t / n (members),
** then per point the statistics over the draws: the value itself with one draw; else
** predict's 16/50/84 % quantiles or members' mean and 16/84 % quantiles.  Each thread takes
** a contiguous share of the block's points with a work of its own, so the results do not
** depend on the number of threads.
*/
enum { N_STATS = 3, EVAL_TILE = 16 };

typedef struct {
  const densrt_model *m;
  densrt_work **w;           /* one per thread */
  size_t n_threads;
  const double *thetas;      /* n_draws parameter vectors */
  size_t n_draws;
  int probabilities;         /* members */
  size_t nq;                 /* quantities per point: the components (+ the total) */
  const double *x[DENSRT_MAX_DIMS];
  size_t n;                  /* the block's points */
  double *lt;                /* per thread: n_terms x (its points) */
  double *vals;              /* (q, point) -> the n_draws values */
  double *stats;             /* (q, point) -> N_STATS numbers */
  size_t n_nonfinite;        /* per block: points whose total intensity is 0 or not finite (members) */
  size_t *bad;               /* per thread */
} eval_job;

static void eval_share(void *ctx, size_t member)
{
  eval_job *j = ctx;
  const densrt_model *m = j->m;
  size_t nt = m->def->n_terms, nd = m->def->n_dims, n = j->n, D = j->n_draws;
  size_t a = n * member / j->n_threads, b = n * (member + 1) / j->n_threads, k = b - a;
  double *lt = j->lt + (D < EVAL_TILE ? D : EVAL_TILE) * nt * a;
  const double *xs[DENSRT_MAX_DIMS];
  j->bad[member] = 0;
  if (!k)
    return;
  for (size_t d = 0; d < nd; d++)
    xs[d] = j->x[d] + a;
  /* draws in tiles, so that each point's values over the draws are written in runs */
  for (size_t r0 = 0; r0 < D; r0 += EVAL_TILE) {
    size_t nr = D - r0 < EVAL_TILE ? D - r0 : EVAL_TILE;
    for (size_t r = 0; r < nr; r++)
      m->def->log_terms(m, j->w[member], j->thetas + (r0 + r) * m->n_theta, k, xs, lt + r * nt * k);
    for (size_t g = 0; g < k; g++) {
      double *v = j->vals + (a + g) * D + r0;   /* quantity q at v[q * n * D] */
      for (size_t r = 0; r < nr; r++) {
        const double *l = lt + r * nt * k + g;   /* term t at l[t * k] */
        if (!j->probabilities) {
          double total = 0;
          for (size_t t = 0; t < nt; t++) {
            double e = exp(l[t * k]);
            v[t * n * D + r] = e;
            total += e;
          }
          v[nt * n * D + r] = total;
          continue;
        }
        double mx = -INFINITY, sum = 0;
        for (size_t t = 0; t < nt; t++)
          mx = fmax(mx, l[t * k]);
        for (size_t t = 0; t < nt; t++)
          sum += v[t * n * D + r] = exp(l[t * k] - mx);
        for (size_t t = 0; t < nt; t++)   /* NAN where the total is 0 or not finite */
          v[t * n * D + r] = isfinite(mx) ? v[t * n * D + r] / sum : NAN;
      }
    }
  }
  static const double pq[3] = {0.16, 0.5, 0.84}, pm[2] = {0.16, 0.84};
  for (size_t g = a; g < b; g++) {
    for (size_t q = 0; q < j->nq; q++) {
      double *v = j->vals + (q * n + g) * D, *st = j->stats + (q * n + g) * N_STATS;
      if (q == 0 && isnan(v[0]))
        j->bad[member]++;
      if (D == 1) {   /* one draw: its value is every statistic */
        st[0] = st[1] = st[2] = v[0];
      } else if (!j->probabilities) {
        densrt_mcstat_quantiles(v, D, pq, 3, st);
      } else {
        double sum = 0;
        for (size_t r = 0; r < D; r++)
          sum += v[r];
        st[0] = sum / (double)D;
        densrt_mcstat_quantiles(v, D, pm, 2, st + 1);
      }
    }
  }
}

/* The evaluator's threads and buffers for blocks of up to `block` points. */
static int eval_setup(eval_job *j, const densrt_model *m, const options *o, const double *thetas, size_t n_draws,
                      int probabilities, size_t n_points, size_t *block, densrt_pool **pool)
{
  memset(j, 0, sizeof *j);
  j->m = m;
  j->thetas = thetas;
  j->n_draws = n_draws;
  j->probabilities = probabilities;
  j->nq = m->def->n_terms + !probabilities;
  j->n_threads = o->threads > 1 ? (size_t)o->threads : 1;
  /* about 16 MB of values a block: written, then read back for the statistics, while in cache */
  size_t b = 2000000 / (j->nq * n_draws) + 1;
  *block = b < n_points ? b : n_points;
  j->w = calloc(j->n_threads, sizeof *j->w);
  j->bad = calloc(j->n_threads, sizeof *j->bad);
  j->lt = malloc(((n_draws < EVAL_TILE ? n_draws : EVAL_TILE) * m->def->n_terms * *block + 1) * sizeof *j->lt);
  j->vals = malloc((j->nq * *block * n_draws + 1) * sizeof *j->vals);
  j->stats = malloc((j->nq * *block * N_STATS + 1) * sizeof *j->stats);
  int ok = j->w && j->bad && j->lt && j->vals && j->stats;
  for (size_t t = 0; ok && t < j->n_threads; t++)
    ok = densrt_work_alloc(m, &j->w[t]) == 0;
  *pool = NULL;
  if (ok && j->n_threads > 1 && !(*pool = densrt_pool_alloc(j->n_threads))) {
    fail("cannot start %zu threads", j->n_threads);
    return EXIT_BAD;
  }
  if (!ok) {
    fail("out of memory");
    return EXIT_BAD;
  }
  return 0;
}

static void eval_block(eval_job *j, densrt_pool *pool, double *const *x, size_t g0, size_t n)
{
  for (size_t d = 0; d < j->m->def->n_dims; d++)
    j->x[d] = x[d] + g0;
  j->n = n;
  if (pool)
    densrt_pool_run(pool, eval_share, j);
  else
    eval_share(j, 0);
  for (size_t t = 0; t < j->n_threads; t++)
    j->n_nonfinite += j->bad[t];
}

static void eval_free(eval_job *j, densrt_pool *pool)
{
  densrt_pool_free(pool);
  for (size_t t = 0; j->w && t < j->n_threads; t++)
    densrt_work_free(j->w[t]);
  free(j->w);
  free(j->bad);
  free(j->lt);
  free(j->vals);
  free(j->stats);
}

/* The parameter vectors: every draw of --draws, or --params. */
static int eval_thetas(const densrt_model *m, const options *o, double *theta, double **thetas, size_t *n_draws)
{
  if (o->n_draw_files)
    return draws_thetas(m, o, thetas, n_draws);
  *n_draws = 1;
  *thetas = malloc((m->n_theta + 1) * sizeof **thetas);
  if (!*thetas) {
    fail("out of memory");
    return EXIT_BAD;
  }
  memcpy(*thetas, theta, m->n_theta * sizeof *theta);
  return 0;
}

/* A column's unit: --unit COL=UNIT, else the unit the model declares, else NULL. */
static const char *column_unit(const densrt_model_def *def, const options *o, const char *col)
{
  for (size_t i = o->n_units; i-- > 0;) {
    const char *eq = strchr(o->units[i], '=');
    if (eq && (size_t)(eq - o->units[i]) == strlen(col) && !strncmp(o->units[i], col, strlen(col)))
      return eq + 1;
  }
  for (size_t d = 0; d < def->n_dims; d++)
    if (!strcmp(def->dims[d].name, col))
      return def->dims[d].unit;
  return NULL;
}

static int check_units(const densrt_model_def *def, const options *o)
{
  for (size_t i = 0; i < o->n_units; i++) {
    char name[256];
    const char *v;
    if (!split_pair("--unit", o->units[i], name, sizeof name, &v))
      return EXIT_BAD;
    if (!has_dim(def, name)) {
      fail("--unit: the model has no column '%s'", name);
      return EXIT_BAD;
    }
    if (!*v || strchr(v, '\'')) {
      fail("--unit %s: expected a unit such as deg or mag", o->units[i]);
      return EXIT_BAD;
    }
  }
  return 0;
}

/* BUNIT of an intensity: counts per unit of each column ("deg-2", "deg-1 mag-1"), or ""
** when a column has no unit (neither --unit nor declared in the model). */
static void intensity_unit(const densrt_model_def *def, const options *o, char *buf, size_t len)
{
  const char *u[DENSRT_MAX_DIMS];
  size_t nd = def->n_dims, used = 0;
  buf[0] = '\0';
  for (size_t d = 0; d < nd; d++)
    if (!(u[d] = column_unit(def, o, def->dims[d].name)))
      return;
  for (size_t d = 0; d < nd; d++) {
    int power = 0, first = 1;
    for (size_t e = 0; e < nd; e++) {
      if (!strcmp(u[e], u[d])) {
        power++;
        first = first && e >= d;
      }
    }
    if (first)
      used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s-%d", used ? " " : "", u[d], power);
  }
  if (used >= len)
    buf[0] = '\0';
}

/* The primary header of predict's and members' FITS files. */
static int fits_primary(densrt_fitsout *fo, const densrt_model_def *def, size_t n_draws, int draws)
{
  return densrt_fitsout_key(fo, "ORIGIN", "densc", 0, "written by a densc program") ||
         densrt_fitsout_key(fo, "MODEL", def->name, 0, "the model") ||
         densrt_fitsout_key(fo, "NDRAWS", NULL, (double)n_draws, draws ? "draws summarised" : "--params");
}

/* predict --out FILE.fits: images of every shown quantity (and its quantiles). */
static int write_maps(const densrt_model *m, const options *o, FILE *f, const grid_spec *gs, double *const *img,
                      const unsigned char *show, size_t n_draws, int draws)
{
  const densrt_model_def *def = m->def;
  size_t nd = def->n_dims, nt = def->n_terms, len[DENSRT_MAX_DIMS];
  densrt_fitsout_axis axes[DENSRT_MAX_DIMS];
  char bunit[256];
  intensity_unit(def, o, bunit, sizeof bunit);
  for (size_t d = 0; d < nd; d++) {
    len[d] = gs->count[d];
    axes[d] = (densrt_fitsout_axis){def->dims[d].name, column_unit(def, o, def->dims[d].name), gs->lo[d],
                                    gs->count[d] > 1 ? (gs->hi[d] - gs->lo[d]) / (double)(gs->count[d] - 1) : 1};
  }
  densrt_fitsout *fo;
  if (densrt_fitsout_open(&fo, o->out)) {
    fail("%s", densrt_error_message());
    return EXIT_BAD;
  }
  int st = fits_primary(fo, def, n_draws, draws);
  static const char *const suffix[N_STATS] = {"", "_Q16", "_Q84"};
  static const int order[N_STATS] = {1, 0, 2};   /* predict's statistics: q16, q50, q84 */
  for (size_t q = 0; q <= nt && !st; q++) {
    if (q < nt && !show[q])
      continue;
    for (size_t k = 0; k < (draws ? N_STATS : 1) && !st; k++) {
      char name[300];
      snprintf(name, sizeof name, "%s%s", q < nt ? def->terms[q].name : "total", suffix[k]);
      st = densrt_fitsout_image(fo, name, nd, len, axes, bunit, img[q * N_STATS + (draws ? order[k] : 0)]);
      if (!st && draws)
        st = densrt_fitsout_key(fo, "QUANTILE", NULL, k == 0 ? 0.5 : k == 1 ? 0.16 : 0.84,
                                "quantile of the draws' values");
    }
  }
  if (!st)
    st = densrt_fitsout_write(fo, f);
  densrt_fitsout_free(fo);
  if (st) {
    fail("%s", densrt_error_message());
    return EXIT_BAD;
  }
  return 0;
}

static int cmd_predict(densrt_model *m, const options *o, double *theta, const unsigned char *show)
{
  const densrt_model_def *def = m->def;
  size_t nd = def->n_dims, nt = def->n_terms, n_points = 0, n_draws = 1, block = 0;
  size_t n_stats = o->n_draw_files ? N_STATS : 1;
  double *x[DENSRT_MAX_DIMS] = {0}, *thetas = NULL, **img = NULL;
  grid_spec gs;
  eval_job j = {0};
  densrt_pool *pool = NULL;
  int fits = out_format(o) == 1, open = 0;
  densrt_io_out out;
  int rc = check_units(def, o);
  if (!rc)
    rc = make_grid(m, o, x, &n_points, &gs);
  if (!rc)
    rc = eval_thetas(m, o, theta, &thetas, &n_draws);
  if (!rc)
    rc = eval_setup(&j, m, o, thetas, n_draws, 0, n_points, &block, &pool);
  /* every result is computed before the output is opened (signals wait while it is open) */
  if (!rc && !(img = calloc((nt + 1) * N_STATS, sizeof *img))) {
    fail("out of memory");
    rc = EXIT_BAD;
  }
  for (size_t q = 0; !rc && q <= nt; q++)
    for (size_t k = 0; k < n_stats && (q == nt || show[q]); k++)
      if (!(img[q * N_STATS + k] = malloc(n_points * sizeof **img))) {
        fail("out of memory");
        rc = EXIT_BAD;
        break;
      }
  if (rc)
    goto done;
  /* FITS images in pixel order (the first column varies fastest), CSV rows in grid order (the last) */
  size_t stride[DENSRT_MAX_DIMS];
  for (size_t d = 0, s = 1; d < nd; d++) {
    stride[d] = s;
    s *= gs.count[d];
  }
  for (size_t g0 = 0; g0 < n_points; g0 += block) {
    size_t nc = n_points - g0 < block ? n_points - g0 : block;
    eval_block(&j, pool, x, g0, nc);
    for (size_t g = 0; g < nc; g++) {
      size_t r = g0 + g, at = r;
      if (fits) {
        at = 0;
        for (size_t d = nd; d-- > 0;) {
          at += (r % gs.count[d]) * stride[d];
          r /= gs.count[d];
        }
      }
      for (size_t q = 0; q < (nt + 1) * N_STATS; q++)
        if (img[q])
          img[q][at] = j.stats[((q / N_STATS) * nc + g) * N_STATS + q % N_STATS];
    }
  }
  if ((rc = open_out(o, &out)))
    goto done;
  open = 1;
  FILE *f = out.f;
  if (fits) {
    if ((rc = write_maps(m, o, f, &gs, img, show, n_draws, o->n_draw_files > 0)))
      goto done;
  } else {
    for (size_t d = 0; d < nd; d++)
      fprintf(f, "%s%s", d ? "," : "", def->dims[d].name);
    for (size_t t = 0; t <= nt; t++) {
      const char *name = t < nt ? def->terms[t].name : "total";
      if (t < nt && !show[t])
        continue;
      if (o->n_draw_files)
        fprintf(f, ",%s_q16,%s_q50,%s_q84", name, name, name);
      else
        fprintf(f, ",%s", name);
    }
    fputc('\n', f);
    for (size_t g = 0; g < n_points; g++) {
      for (size_t d = 0; d < nd; d++) {
        fputs(d ? "," : "", f);
        densrt_json_write_number(f, x[d][g]);
      }
      for (size_t q = 0; q < (nt + 1) * N_STATS; q++)
        if (img[q]) {
          fputc(',', f);
          densrt_json_write_number(f, img[q][g]);
        }
      fputc('\n', f);
    }
  }
  rc = close_out(&out);
  open = 0;
done:
  if (open)
    densrt_io_out_abort(&out);
  eval_free(&j, pool);
  for (size_t d = 0; d < nd; d++)
    free(x[d]);
  for (size_t i = 0; img && i < (nt + 1) * N_STATS; i++)
    free(img[i]);
  free(img);
  free(thetas);
  return rc;
}

/* A CSV cell: quoted when it holds a comma, a quote or a line break. */
static void write_csv_text(FILE *f, const char *s)
{
  if (!s[strcspn(s, ",\"\r\n")]) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

/* Whether every identifier is a whole number that fits 64 bits (a FITS K column), and them. */
static long long *integer_ids(char *const *id, size_t n)
{
  long long *k = malloc((n + 1) * sizeof *k);
  for (size_t i = 0; k && i < n; i++) {
    char *end;
    errno = 0;
    k[i] = strtoll(id[i], &end, 10);
    if (!id[i][0] || *end || errno) {
      free(k);
      return NULL;
    }
  }
  return k;
}

static int cmd_members(densrt_model *m, const options *o, double *theta, const data_rows *rows,
                       const unsigned char *show)
{
  const densrt_model_def *def = m->def;
  size_t nd = def->n_dims, nt = def->n_terms, n = m->n, n_draws = 1, block = 0;
  double *thetas = NULL, **p = calloc(nt * N_STATS + 1, sizeof *p);
  char (*names)[300] = calloc(nt * N_STATS + 1, sizeof *names);
  densrt_fitsout_column *cols = calloc(1 + nd + nt * N_STATS, sizeof *cols);
  eval_job j = {0};
  densrt_pool *pool = NULL;
  int fits = out_format(o) == 1, open = 0, draws = o->n_draw_files > 0;
  long long *kid = NULL;
  densrt_io_out out;
  int rc = p && names && cols ? eval_thetas(m, o, theta, &thetas, &n_draws) : (fail("out of memory"), EXIT_BAD);
  if (!rc)
    rc = eval_setup(&j, m, o, thetas, n_draws, 1, n, &block, &pool);
  for (size_t q = 0; !rc && q < nt * N_STATS; q++)
    if (!(p[q] = malloc((n + 1) * sizeof **p))) {
      fail("out of memory");
      rc = EXIT_BAD;
    }
  if (rc)
    goto done;
  for (size_t g0 = 0; g0 < n; g0 += block) {
    size_t nc = n - g0 < block ? n - g0 : block;
    eval_block(&j, pool, m->x, g0, nc);
    for (size_t t = 0; t < nt; t++)
      for (size_t k = 0; k < N_STATS; k++)
        for (size_t g = 0; g < nc; g++)
          p[t * N_STATS + k][g0 + g] = j.stats[(t * nc + g) * N_STATS + k];
  }
  if (j.n_nonfinite)
    note(o, "warning: %zu %s where the intensity is 0 or not finite: their probabilities are NaN",
         j.n_nonfinite, plural(j.n_nonfinite, "row", "rows"));
  if ((rc = open_out(o, &out)))
    goto done;
  open = 1;
  /* the columns: identifier, the model's columns, the probabilities */
  size_t n_cols = 1 + nd, n_stats = draws ? N_STATS : 1;
  static const char *const suffix[N_STATS] = {"", "_q16", "_q84"};
  cols[0].name = rows->id_name;
  if (rows->id && !(kid = integer_ids(rows->id, n)))
    cols[0].text = rows->id;
  else
    cols[0].k = kid;
  for (size_t d = 0; d < nd; d++)
    cols[1 + d] = (densrt_fitsout_column){def->dims[d].name, m->x[d], NULL, NULL};
  for (size_t t = 0; t < nt; t++)
    for (size_t k = 0; show[t] && k < n_stats; k++) {
      snprintf(names[t * N_STATS + k], sizeof names[0], "p_%s%s", def->terms[t].name, suffix[k]);
      cols[n_cols++] = (densrt_fitsout_column){names[t * N_STATS + k], p[t * N_STATS + k], NULL, NULL};
    }
  FILE *f = out.f;
  if (fits) {
    long long *rowk = NULL;
    if (!rows->id && (rowk = malloc((n + 1) * sizeof *rowk)))
      for (size_t i = 0; i < n; i++)
        rowk[i] = (long long)rows->row[i];
    if (!rows->id)
      cols[0].k = rowk;
    densrt_fitsout *fo = NULL;
    int st = !rows->id && !rowk ? DENSRT_FAIL(DENSRT_ENOMEM, "out of memory") : densrt_fitsout_open(&fo, o->out);
    if (!st)
      st = fits_primary(fo, def, n_draws, draws) || densrt_fitsout_table(fo, "MEMBERS", n, n_cols, cols) ||
           densrt_fitsout_write(fo, f);
    densrt_fitsout_free(fo);
    free(rowk);
    if (st) {
      fail("%s", densrt_error_message());
      rc = EXIT_BAD;
      goto done;
    }
  } else {
    for (size_t c = 0; c < n_cols; c++) {
      fputs(c ? "," : "", f);
      fputs(cols[c].name, f);
    }
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
      if (rows->id)
        write_csv_text(f, rows->id[i]);   /* as the file wrote it */
      else
        fprintf(f, "%zu", rows->row[i]);
      for (size_t c = 1; c < n_cols; c++) {
        fputc(',', f);
        densrt_json_write_number(f, cols[c].d[i]);
      }
      fputc('\n', f);
    }
  }
  rc = close_out(&out);
  open = 0;
done:
  if (open)
    densrt_io_out_abort(&out);
  eval_free(&j, pool);
  for (size_t q = 0; p && q < nt * N_STATS; q++)
    free(p[q]);
  free(p);
  free(names);
  free(cols);
  free(kid);
  free(thetas);
  return rc;
}

/* }==================================================================== */

/* {====================================================================
** plot
** ===================================================================== */

/* trace: the --param columns of the draws, one array per chain. */
static int plot_trace(const options *o, const densrt_plot_page *pg)
{
  densrt_stancsv_set s;
  char *first;
  int rc = read_draws(o, &s, &first);
  if (rc)
    return rc;
  rc = EXIT_BAD;
  size_t n = o->n_pnames;
  double ***x = calloc(n, sizeof *x);
  if (!x) {
    fail("out of memory");
    goto done;
  }
  for (size_t k = 0; k < n; k++) {
    char name[256];
    snprintf(name, sizeof name, "%s", o->pnames[k]);
    char *br = strchr(name, '[');   /* b[3] -> b.3, as sample names it */
    if (br && name[strlen(name) - 1] == ']') {
      *br = '.';
      name[strlen(name) - 1] = '\0';
    }
    ssize_t col = column_index(&s, name);
    if (col < 0) {
      fail("plot trace: --param %s: %s has no column '%s'", o->pnames[k], first, name);
      goto done;
    }
    if (!(x[k] = calloc(s.n_chains, sizeof *x[k]))) {
      fail("out of memory");
      goto done;
    }
    for (size_t c = 0; c < s.n_chains; c++) {
      if (!(x[k][c] = malloc((s.n_draws[c] + 1) * sizeof *x[k][c]))) {
        fail("out of memory");
        goto done;
      }
      for (size_t i = 0; i < s.n_draws[c]; i++)
        x[k][c][i] = s.draws[c][i * s.n_cols + (size_t)col];
    }
  }
  if (densrt_plot_trace(n, o->pnames, s.n_chains, s.n_draws, (double *const *const *)x, pg))
    fail("%s", densrt_error_message());
  else
    rc = 0;
done:
  for (size_t k = 0; x && k < n; k++) {
    for (size_t c = 0; x[k] && c < s.n_chains; c++)
      free(x[k][c]);
    free(x[k]);
  }
  free(x);
  free(first);
  densrt_stancsv_set_free(&s);
  return rc;
}

/* Index of a name in a table of n entries of `stride` bytes whose first member is the name. */
static int find_name(const char *what, const char *name, const void *table, size_t n, size_t stride)
{
  char list[512] = "";
  for (size_t i = 0; i < n; i++) {
    const char *nm = *(const char *const *)((const char *)table + i * stride);
    if (!strcmp(nm, name))
      return (int)i;
    size_t used = strlen(list);
    snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", nm);
  }
  fail("plot track: no %s '%s' (the model has %s)", what, name, list);
  return -1;
}

/* At most this many draws make a band: evenly spaced over all of them. */
#define PLOT_MAX_DRAWS 400

static int cmd_plot(densrt_model *m, const options *o, double *theta)
{
  densrt_plot_page pg = {o->out, (int)o->width, (int)o->height};
  const char *kind = plot_kinds[o->kind].name;
  double *thetas = NULL, *init = NULL;
  size_t n_draws = 1;
  int rc = 0, st;
  if (o->n_draw_files) {
    if ((rc = draws_thetas(m, o, &thetas, &n_draws)))
      return rc;
    if (n_draws > PLOT_MAX_DRAWS) {
      size_t n = m->n_theta;
      for (size_t r = 0; r < PLOT_MAX_DRAWS; r++)
        memmove(thetas + r * n, thetas + (r * n_draws / PLOT_MAX_DRAWS) * n, n * sizeof *thetas);
      note(o, "plot %s: %d of the %zu draws, evenly spaced", kind, PLOT_MAX_DRAWS, n_draws);
      n_draws = PLOT_MAX_DRAWS;
    }
  }
  const double *th = thetas ? thetas : theta;
  if (!strcmp(kind, "data"))
    st = densrt_plot_data(m, &pg);
  else if (!strcmp(kind, "model"))
    st = densrt_plot_model(m, theta, &pg);
  else if (!strcmp(kind, "knots")) {
    if (o->init) {
      if (!(init = calloc(m->n_theta + 1, sizeof *init))) {
        fail("out of memory");
        return EXIT_BAD;
      }
      if ((rc = read_params(m, o->init, init, 1))) {
        free(init);
        return rc;
      }
    }
    st = densrt_plot_knots(m, init, theta, &pg);
  } else if (!strcmp(kind, "density"))
    st = densrt_plot_density(m, th, n_draws, o->log_scale, &pg);
  else {
    const densrt_model_def *def = m->def;
    int t = 0, along = 0;
    if (def->n_dims != 2) {
      fail("plot track: needs a model of two columns (this one has %zu)", def->n_dims);
      free(thetas);
      return EXIT_BAD;
    }
    if (o->n_components > 1) {
      fail("plot track: one --component (%zu given)", o->n_components);
      free(thetas);
      return EXIT_BAD;
    }
    if ((o->n_components && (t = find_name("component", o->components[0], def->terms, def->n_terms,
                                           sizeof *def->terms)) < 0) ||
        (o->along && (along = find_name("column", o->along, def->dims, def->n_dims, sizeof *def->dims)) < 0)) {
      free(thetas);
      return EXIT_BAD;
    }
    st = densrt_plot_track_figure(m, th, n_draws, (size_t)t, (size_t)along, &pg);
  }
  if (st) {
    fail("%s", densrt_error_message());
    rc = EXIT_BAD;
  }
  free(thetas);
  free(init);
  return rc;
}

/* }==================================================================== */

/* Standard output carries results: a failed write is an error, not a silent loss. */
static int close_stdout(int rc)
{
  int bad = fflush(stdout) != 0 || ferror(stdout);
  int e = errno;
  if (fclose(stdout) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  if (bad) {
    fail("error writing standard output: %s", strerror(e ? e : EIO));
    return rc ? rc : EXIT_BAD;
  }
  return rc;
}

int densrt_cli_main(const densrt_model_def *def, int argc, char **argv)
{
  if (argc > 0 && argv[0]) {
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];
  }
  gsl_set_error_handler_off();   /* GSL reports through status codes; it must never abort */
  install_signals();
  densrt_io_set_max_input(0, "--max-input-bytes or DENSRT_MAX_INPUT_BYTES");
  options o;
  densrt_model *m = NULL;
  densrt_io_filter *f = NULL;
  double *theta = NULL;
  data_rows rows = {0};
  unsigned char *show = NULL;
  int rc = parse_args(def, argc, argv, &o);
  if (rc)
    goto done;
  if (o.flag == C_SUMMARY) {   /* draws only: no model instance */
    rc = cmd_summary(&o);
    goto done;
  }
  if (o.flag == C_PLOT && !strcmp(plot_kinds[o.kind].name, "trace")) {
    rc = plot_trace(&o, &(densrt_plot_page){o.out, (int)o.width, (int)o.height});
    goto done;
  }
  /* everything that needs no data first: knots, methods, columns, filters, parameters */
  if ((rc = setup_model(def, &o, &m)))
    goto done;
  f = calloc(o.n_where + 1, sizeof *f);
  theta = calloc(m->n_theta + 1, sizeof *theta);
  show = calloc(def->n_terms + 1, 1);
  if (!f || !theta || !show) {
    fail("out of memory");
    rc = EXIT_BAD;
    goto done;
  }
  if (!parse_filters(def, &o, f, &rows) || !select_components(def, &o, show)) {
    rc = EXIT_BAD;
    goto done;
  }
  const char *pfile = o.flag & (C_OPTIMIZE | C_SAMPLE) ? o.init : o.params;
  if (pfile) {
    if ((rc = read_params(m, pfile, theta, 1)))
      goto done;
  } else {
    densrt_start_structural(m, theta);
  }
  if ((o.flag & C_DATA) && (o.data || !(o.flag & C_PLOT)) && (rc = load_data(m, &o, f, &rows)))
    goto done;
  if ((rc = prepare(m)))
    goto done;
  if (!(o.flag & (C_SAMPLE | C_PREDICT | C_MEMBERS)) && o.threads > 1 &&
      densrt_work_set_threads(m, m->own, (size_t)o.threads)) {
    fail("%s", densrt_error_message());
    rc = EXIT_BAD;
    goto done;
  }
  /* diagnose checks the gradient where the user's fits begin, at the structural start (a
     fitted optimum would hide bugs away from it and its flat values defeat differences) */
  if (!pfile && (o.flag == C_OPTIMIZE || (o.flag == C_SAMPLE && o.init_map)) &&
      (rc = default_start(m, &o, theta)))
    goto done;
  switch (o.flag) {
  case C_INFO: rc = cmd_info(m, &o); break;
  case C_EVAL: rc = cmd_eval(m, &o, theta); break;
  case C_OPTIMIZE: rc = cmd_optimize(m, &o, theta); break;
  case C_DIAGNOSE: rc = cmd_diagnose(m, &o, theta); break;
  case C_BENCHMARK: rc = cmd_benchmark(m, &o, theta); break;
  case C_SAMPLE: rc = cmd_sample(m, &o, theta); break;
  case C_PREDICT: rc = cmd_predict(m, &o, theta, show); break;
  case C_MEMBERS: rc = cmd_members(m, &o, theta, &rows, show); break;
  default: rc = cmd_plot(m, &o, theta); break;
  }
done:
  data_rows_free(&rows, m ? m->n : 0);
  densrt_model_free(m);
  free(f);
  free(theta);
  free(show);
  free(o.components);
  free(o.units);
  free(o.columns);
  free(o.sets);
  free(o.integr);
  free(o.where);
  free(o.grids);
  free(o.draw_files);
  free(o.pnames);
  return close_stdout(rc < 0 ? 0 : rc);
}
