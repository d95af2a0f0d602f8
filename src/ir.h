/*
** ir.h — the checked intermediate representation.
**
** A model is a set of symbols (data columns, knot sets, parameters) plus
** expression DAGs in LOG space: the log intensity of each term (component),
** the log integral of each term under each integration plan, and the log
** density of each prior statement.  Nodes are hash-consed, so a
** subexpression written twice is computed once, and each node records which
** data columns and which parameters it depends on — the emitter hoists
** parameter-only parts out of the per-point loops from that.  Splines keep
** their structure (knot set, kind, value vector, abscissa): their values are
** linear in the knot values through the runtime's coefficient map.
*/
#ifndef DC_IR_H
#define DC_IR_H

#include "ast.h"
#include "diag.h"
#include "util.h"
#include "layout.h"   /* the limits shared with the runtime */
#include <stdint.h>


/* IR operations: X(name, arity). ORDER matters only for dumps. */
#define DC_IR_OPS(X)                                                  \
  X(CONST, 0)       /* value                                       */ \
  X(DATA, 0)        /* coordinate of data column `index`          */ \
  X(PARAM, 0)       /* parameter `index`, element `elem` (-1: scalar) */ \
  X(PARAM_I, 0)     /* parameter `index`, element i + elem (prior loops) */ \
  X(SPLINE, 1)      /* spline of coefficient set `index` at a[0]    */ \
  X(ADD, 2) X(SUB, 2) X(MUL, 2) X(DIV, 2) X(NEG, 1)                   \
  X(EXP, 1) X(LOG, 1) X(LOG1P, 1) X(SQRT, 1) X(POW, 2)                \
  X(LSE, 2)         /* log(exp(a) + exp(b))                        */ \
  X(LGAMMA, 1)      /* log Gamma(a), a > 0 (priors' shapes)        */ \
  X(LOG_PHIDIFF, 2) /* log(Phi(a1) - Phi(a0)), Phi the standard normal CDF (truncated priors) */ \
  X(NORMAL_LPDF, 3) /* log Normal(a0 | a1, sd a2)                  */ \
  X(LOG_NDIFF, 2)   /* log(Phi((hi-a0)/a1) - Phi((lo-a0)/a1)), window of column `index` */ \
  X(LOG_WIDTH, 0)   /* log(hi - lo) of column `index`              */ \
  /* made by the n-ary log-sum-exp expansion; their derivative is not taken: */ \
  X(MAX, 2)         /* fmax(a, b): the shift of an n-ary log-sum-exp */ \
  X(SHIFT, 1)       /* a, or 0 where a = -inf (all terms zero)       */ \
  /* made by differentiation (deriv.c): */                            \
  X(LSE_W, 3)       /* d LSE(a, b) / da, with a[2] the LSE node       */ \
  X(NDIFF_DMU, 1)   /* d LOG_NDIFF / d mu of the LOG_NDIFF node a[0]  */ \
  X(NDIFF_DSD, 1)   /* d LOG_NDIFF / d sigma of the LOG_NDIFF node a[0] */ \
  X(DIGAMMA, 1)     /* d LGAMMA(a) / da                            */ \
  X(PHIDIFF_DA, 1)  /* d LOG_PHIDIFF / d a0 of the LOG_PHIDIFF node a[0] */ \
  X(PHIDIFF_DB, 1)  /* d LOG_PHIDIFF / d a1 of the LOG_PHIDIFF node a[0] */

typedef enum {
#define X(name, arity) IR_##name,
  DC_IR_OPS(X)
#undef X
  IR__COUNT
} ir_op;

typedef struct ir_node {
  ir_op op;
  int id;                 /* creation order; children have smaller ids */
  struct ir_node *a[3];
  double value;           /* CONST */
  int index;              /* DATA/LOG_WIDTH/LOG_NDIFF: column; PARAM: parameter; SPLINE: coefficient set */
  int elem;               /* PARAM: element or -1; PARAM_I: offset */
  uint32_t dims;          /* data columns this depends on */
  int params;             /* depends on some parameter (which ones: --debug-ir) */
  int loop_i;             /* depends on the prior loop index */
  dc_loc loc;             /* where it was written (first occurrence) */
  struct ir_node *next;   /* hash chain */
} ir_node;

typedef struct {
  char *name;
  dc_loc loc;
  double lo, hi;          /* window; -inf/inf when absent */
  char *method;           /* integration method spec, "auto" by default */
  dc_loc method_loc;
  char *unit;             /* declared unit ("deg"), NULL if none */
} ir_dim;

typedef struct {
  char *name;
  dc_loc loc;
  char *spec;             /* canonical text: "linspace(a, b, n)" or "[t0, t1, ...]" */
  double *t;              /* the default knots, for compile-time checks */
  size_t n;
  int min_knots;          /* largest minimum of the spline kinds using it */
} ir_knots;

typedef enum {   /* the runtime's densrt_size_kind */
#define DENSRT_X(name) IR_SIZE_##name,
  DENSRT_SIZE_KINDS(DENSRT_X)
#undef DENSRT_X
} ir_size_kind;

typedef struct {
  char *name;
  dc_loc loc;
  ir_size_kind size_kind;
  size_t size;            /* FIXED: the length */
  int knots;              /* KNOTS: knot set index */
  double lo, hi;          /* bounds */
} ir_param;

typedef struct {
  int knots;              /* knot set */
  int kind;               /* densrt_spline_kind */
  int param;              /* vector parameter holding the values */
} ir_coefset;

/* One integration plan of a term: the log integrand over the columns in `numeric`. */
typedef struct {
  ir_node *integrand;     /* log of the integrand after analytic columns are done */
  uint32_t numeric;       /* columns integrated by quadrature */
} ir_plan;

typedef struct {
  char *name;             /* component name, or "intensity" */
  dc_loc loc;
  ir_node *logn;          /* log intensity of this term */
  uint32_t analytic;      /* columns done analytically in the `exact` plan */
  ir_plan exact;          /* analytic where possible */
  ir_plan numeric;        /* quadrature over every column the term depends on */
  uint32_t *brk_knots;    /* per column d: DENSRT_BRK_WORDS words from d * DENSRT_BRK_WORDS; bit k: the knots of
                             knot set k are breakpoints of quadrature along d */
} ir_term;

typedef struct {
  dc_loc loc;
  int param;              /* left-hand side parameter */
  int elem;               /* its element (-1: a loop over elements) */
  int start, end;         /* loop: skip `start` first and `end` last elements */
  ir_node *lp;            /* log density of one element */
} ir_prior;

typedef struct dc_ir {
  ir_dim *dims;       size_t n_dims;
  ir_knots *knots;    size_t n_knots;
  ir_param *params;   size_t n_params;
  ir_coefset *cs;     size_t n_cs;
  ir_term *terms;     size_t n_terms;
  ir_prior *priors;   size_t n_priors;
  ir_node *logn;      /* log of the total intensity */
  /* node store */
  ir_node **nodes;    size_t n_nodes, cap_nodes;
  ir_node *hash[1024];
} dc_ir;

void dc_ir_init(dc_ir *ir);
void dc_ir_free(dc_ir *ir);

/* Node constructors; they fold constants and apply log-space identities. */
ir_node *ir_const(dc_ir *ir, double v);
ir_node *ir_leaf(dc_ir *ir, ir_op op, int index, int elem, dc_loc loc);
ir_node *ir_op1(dc_ir *ir, ir_op op, ir_node *a, dc_loc loc);
ir_node *ir_op2(dc_ir *ir, ir_op op, ir_node *a, ir_node *b, dc_loc loc);
ir_node *ir_op3(dc_ir *ir, ir_op op, ir_node *a, ir_node *b, ir_node *c, dc_loc loc);
ir_node *ir_spline(dc_ir *ir, int coefset, ir_node *x, dc_loc loc);
ir_node *ir_logndiff(dc_ir *ir, int dim, ir_node *mu, ir_node *sigma, dc_loc loc);
ir_node *ir_logwidth(dc_ir *ir, int dim);
int ir_coefset_get(dc_ir *ir, int knots, int kind, int param);

/* Expands NORMAL_LPDF into arithmetic so its parts hoist separately, and a sum of
** three or more terms (a tree of LSE) into one n-ary log-sum-exp:
**   mx = SHIFT(MAX(a_1, ..., a_K)),  v = mx + log(sum_i exp(a_i - mx)),
** whose derivative, sum_i exp(a_i - mx) / s * da_i, is linear in K. */
ir_node *ir_expand(dc_ir *ir, ir_node *n);
/* The operands of a sum (a tree of LSE nodes), left to right; n itself if it is no sum. */
void ir_lse_operands(ir_node *n, dc_vec *ops);

const char *ir_op_name(ir_op op);
void ir_node_print(const dc_ir *ir, const ir_node *n, FILE *out);   /* "OP details %a0 %a1" */
void dc_ir_dump(const dc_ir *ir, FILE *out);   /* --debug-ir */

#endif
