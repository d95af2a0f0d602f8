/*
** model.h — the contract between generated code and the runtime.
**
** densc emits, per model, constant description tables (densrt_model_def)
** and one function, log_density(m, theta, grad), that reads everything it
** needs from a densrt_model instance: data columns, windows, spline
** coefficient maps, quadrature rules.  The runtime builds that instance
** from the tables, the data file and the command line (knot sets and
** integration methods can be changed without recompiling), so every size
** is known only at run time.
**
** Conventions: columns ("dims") are indexed in declaration order; theta is
** the flat parameter vector, parameter p occupying theta[off[p] .. off[p] +
** size[p]); the log density returned is ln L + ln prior with
**   ln L = sum_i ln n(x_i) - sum_terms integral of the term over the window.
*/
#ifndef DENSRT_MODEL_H
#define DENSRT_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "spline.h"
#include "spec.h"
#include "layout.h"

typedef struct {
  const char *name;
  double lo, hi;          /* window; -INFINITY/INFINITY when unbounded */
  const char *method;     /* default integration method: "auto", "analytic", "gauss_legendre(order = 8)", "simpson(points = 1025)" */
  const char *unit;       /* declared unit ("deg"), NULL if none; at most DENSRT_MAX_UNIT bytes */
} densrt_dim_def;

typedef struct {
  const char *name;
  const char *spec;       /* default knots: "linspace(a, b, n)" or "[t1, t2, ...]" */
  int min_knots;          /* the spline kinds using it need at least this many */
} densrt_knots_def;

typedef enum {
#define DENSRT_X(name) DENSRT_SIZE_##name,
  DENSRT_SIZE_KINDS(DENSRT_X)
#undef DENSRT_X
} densrt_size_kind;

typedef struct {
  const char *name;
  densrt_size_kind size_kind;
  size_t size;            /* FIXED: the length; SCALAR: 1 */
  int knots;              /* KNOTS: the knot set giving the length */
  double lo, hi;          /* bounds */
  size_t min_size;        /* the model indexes element min_size - 1 */
} densrt_param_def;

typedef struct {
  int knots;              /* knot set */
  densrt_spline_kind kind;
  int param;              /* vector parameter with the values at the knots */
} densrt_coefset_def;

typedef struct {
  const char *name;               /* component name */
  uint32_t analytic;              /* columns integrated analytically in the exact plan */
  uint32_t exact_numeric;         /* columns left to quadrature in the exact plan */
  uint32_t numeric;               /* columns of the all-quadrature plan */
  const uint32_t *brk_knots;      /* per column d: DENSRT_BRK_WORDS(n_knots) words from d * that; bit k:
                                     the knots of knot set k are breakpoints of quadrature along d */
  int line, column;               /* where the component is defined in the .dens source */
} densrt_term_def;

/* A prior statement, for messages: which parameter, and where. */
typedef struct {
  const char *param;
  int line, column;
} densrt_prior_def;

typedef struct densrt_model densrt_model;
typedef struct densrt_work densrt_work;
/* Generated: the log posterior at theta and its gradient; reads m, writes only w and grad. */
typedef double densrt_log_density_fn(const densrt_model *m, densrt_work *w, const double *theta, double *grad);
/* log n_t(x) of every term t at n points x[d][i] (values only), out[t * n + i]. */
typedef void densrt_log_terms_fn(const densrt_model *m, densrt_work *w, const double *theta, size_t n,
                                 const double *const *x, double *out);

typedef struct densrt_model_def {
  const char *name, *source, *version;
  size_t n_dims;      const densrt_dim_def *dims;
  size_t n_knots;     const densrt_knots_def *knots;
  size_t n_params;    const densrt_param_def *params;
  size_t n_coefsets;  const densrt_coefset_def *coefsets;
  size_t n_terms;     const densrt_term_def *terms;
  size_t n_priors;    const densrt_prior_def *priors;
  densrt_log_density_fn *log_density;
  densrt_log_terms_fn *log_terms;
  size_t n_slots;                          /* precomputed spline locations of the data rows */
  void (*locate_data)(densrt_model *m);    /* fills pseg/pu/pmom; NULL when n_slots is 0 */
  const int *slot_knots;                   /* per slot: its knot set (pmom has 4 per segment) */
  int row_locations;                       /* the data kernels read pseg/pu per sorted row; else those are
                                              freed once the rows are sorted into runs */
} densrt_model_def;

/* A point set with log weights: quadrature nodes of one term. */
typedef struct {
  size_t n;
  double *x[DENSRT_MAX_DIMS];   /* x[d][q]; NULL for columns not integrated by quadrature */
  double *lw;                   /* log weights; x and lw have DENSRT_LANES copies of the last node after n */
  uint32_t **seg;               /* seg[c * n_dims + d][q]: node q's segment on coefficient set c's spline
                                   along column d (NULL where d is not a column of the rule) ... */
  double **u;                   /* ... and its offset from the segment's left knot (also padded) */
  size_t n_loc;                 /* n_coefsets * n_dims */
} densrt_points;

enum { DENSRT_PLAN_NUMERIC = 0, DENSRT_PLAN_EXACT = 1 };

struct densrt_model {
  const densrt_model_def *def;
  /* data */
  size_t n;                     /* rows */
  double **x;                   /* x[d][i] */
  double *lo, *hi;              /* windows per column */
  /* knot sets and splines */
  double **knots;               /* per knot set */
  size_t *n_knots;
  densrt_spline **spline;       /* per coefficient set */
  uint32_t **pseg;              /* per slot: each data row's spline segment ... */
  double **pu;                  /* ... and offset from the segment's left knot */
  double **pmom;                /* per slot and segment j: sum over its rows of u^p at [4 j + p] */
  /* The rows as the data kernels read them, sorted so that the rows sharing one segment in
  ** every slot (a run) are consecutive: inside a run each spline is one cubic, so a kernel
  ** sums its adjoints as four moments per run and loops over the rows without a scatter. */
  double **xs;                  /* xs[d][i]: column d of sorted row i; DENSRT_LANES zeros after the last */
  uint32_t *order;              /* sorted row i is data row order[i] */
  size_t n_runs;
  size_t *run_start;            /* run r: sorted rows run_start[r] .. run_start[r + 1] - 1 */
  uint32_t *run_seg;            /* run r's segment in slot s: run_seg[r * n_slots + s] */
  /* parameters */
  size_t n_theta;
  size_t *off, *size;
  /* integration */
  densrt_method *method;        /* per column */
  int *plan;                    /* per term: DENSRT_PLAN_EXACT or DENSRT_PLAN_NUMERIC */
  densrt_points *rule;          /* per term; one node of weight 1 when no column is numeric */
  size_t biggest_rule;          /* nodes of the largest rule */
  densrt_work *own;             /* the work of densrt_model_log_density (one caller at a time) */
};

/*
** Everything an evaluation writes: spline coefficients and their adjoints, scratch, and
** the results.  A prepared model is only read by evaluations, so callers with a work
** each may evaluate it at the same time (refining its rules is not an evaluation).
*/
struct densrt_work {
  size_t n_coefsets;
  double **coef, **coef_adj;    /* per coefficient set: 4(K-1) */
  double *spline_scratch;       /* 2 K of the largest knot set */
  double *lv;                   /* the log integrand at each node of a rule ... */
  size_t lv_cap;                /* ... of up to this many nodes (and DENSRT_LANES more) */
  /* threads over the data rows (densrt_work_set_threads) */
  size_t n_threads;             /* 1: none */
  struct densrt_pool *pool;
  densrt_work **sub;            /* members 1 .. n_threads-1: their coefficient adjoints */
  double *adj_buf;              /* their adjoints of the hoisted values, n_adj each */
  size_t n_adj;
  /* results of the last evaluation */
  double *log_integral;         /* per term */
  double *log_prior_part;       /* per prior statement */
  double log_lik, log_prior;
};

/* Lifecycle: alloc (defaults) -> set knots/methods -> load data -> prepare -> evaluate -> free. */
int  densrt_model_alloc(const densrt_model_def *def, densrt_model **out);
void densrt_model_free(densrt_model *m);
int  densrt_model_set_knots(densrt_model *m, const char *name, const char *spec);   /* "--set k=linspace(...)" */
int  densrt_model_set_method(densrt_model *m, const char *column, const char *spec); /* "--integrate z=simpson(points=1025)" */
int  densrt_model_set_data(densrt_model *m, size_t n, double **cols);  /* takes ownership of cols[d] arrays */
int  densrt_model_prepare(densrt_model *m);   /* sizes, splines, plans, quadrature rules */
/* The first run with rows at or after sorted row i (n_runs when none). */
size_t densrt_model_run_of(const densrt_model *m, size_t i);
/* Only the parameter layout (off, size, n_theta) from the knot sets; prepare does it too. */
int  densrt_model_layout(densrt_model *m);
/* The name of parameter value i as the language writes it: "mu", "ln_n0[3]" (1-based). */
const char *densrt_model_value_name(const densrt_model *m, size_t i, char *buf, size_t len);
/* Log posterior and gradient; non-finite results are returned as they are (callers check).
** The results of the evaluation (log_integral, log_lik, log_prior) are left in m->own. */
double densrt_model_log_density(densrt_model *m, const double *theta, double *grad);
/* A work for m as prepared (densrt_model_eval grows it when the rules grow). */
int  densrt_work_alloc(const densrt_model *m, densrt_work **out);
void densrt_work_free(densrt_work *w);
/* Log posterior and gradient with the caller's work: m is only read.  NAN, with the
** error recorded, only when w cannot grow to m's (refined) rules. */
double densrt_model_eval(const densrt_model *m, densrt_work *w, const double *theta, double *grad);
/* Doubles the order of 'auto' columns until every term's integral changes by < tol (relative).
   *changed tells whether the rules were refined. */
int  densrt_model_refine(densrt_model *m, const double *theta, double tol, int *changed, double *rel_err);
/* The largest change of a term's integral at theta when every quadrature rule is refined
   once (halved spacing), relative to the sum of all terms' integrals (the expected count, whose
   error the log posterior sees); the rules are left as they were.  NAN when it fails. */
int  densrt_model_integral_error(densrt_model *m, const double *theta, double *rel_err);
/* Quadrature nodes of term t's current plan: 0 when it is fully analytic. */
size_t densrt_model_nodes(const densrt_model *m, size_t t);
/* Parameter index of a name, -1 if none. */
int  densrt_model_param(const densrt_model *m, const char *name);
/* Where the log posterior at theta is not finite, one line per cause, each naming the .dens
** line and component (or prior): an integral, a data row's intensity, a prior statement.
** Evaluates at theta with m's own work.  Returns the number of lines written to out. */
int  densrt_model_explain_nonfinite(densrt_model *m, const double *theta, char *out, size_t len);

/* Splits the sum over the data rows of later evaluations with w over n threads (1: none).
** The rows are cut into n contiguous ranges, one a thread, and the partial sums, adjoints
** and spline-coefficient adjoints are added in the order of the ranges: the results do not
** depend on scheduling, and are the same for the same n (not across different n, whose
** sums are grouped differently).  Fewer than 1024 rows a thread are summed in one. */
int  densrt_work_set_threads(const densrt_model *m, densrt_work *w, size_t n);

/* Called by generated code. */
typedef double densrt_data_kernel_fn(const densrt_model *m, densrt_work *w, const double *hv, double *adj, size_t i0,
                                     size_t i1);
/* The sum over all data rows of kernel k, on w's threads; adj (n_adj values) gains the
** adjoints of the hoisted values. */
double densrt_model_data_sum(const densrt_model *m, densrt_work *w, densrt_data_kernel_fn *k, const double *hv,
                             double *adj, size_t n_adj);
void densrt_model_spline_coefs(const densrt_model *m, densrt_work *w, const double *theta);
/* grad += the spline values' adjoints from w's coefficient adjoints (inline: generated code
** compiles it for its machine). */
static inline void densrt_model_spline_adjoint(const densrt_model *m, densrt_work *w, double *grad)
{
  for (size_t c = 0; c < m->def->n_coefsets; c++) {
    const densrt_coefset_def *cs = &m->def->coefsets[c];
    densrt_spline_coefs_adjoint_inline(m->spline[c], w->coef_adj[c], grad + m->off[cs->param]);
  }
}

#endif
