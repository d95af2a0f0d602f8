/*
** sema.c — resolves names, checks shapes and contexts, lowers to the IR.
*/
#include "sema.h"
#include "error.h"
#include "spec.h"
#include "spline.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* {====================================================================
** Symbols and built-ins
** ===================================================================== */

typedef enum { SYM_NONE, SYM_DATA, SYM_KNOTS, SYM_PARAM, SYM_COMPONENT } sym_kind;

typedef enum {
#define DC_BUILTIN(name, lo, hi, kind) BI_##name,
#include "builtins.def"
#undef DC_BUILTIN
  BI__COUNT
} builtin_id;

typedef enum { FN, DENSITY, PRIOR, SPLINE, KNOTSPEC } builtin_kind;

static const struct {
  const char *name;
  int min_args, max_args;
  builtin_kind kind;
} builtins[BI__COUNT] = {
#define DC_BUILTIN(name, lo, hi, kind) {#name, lo, hi, kind},
#include "builtins.def"
#undef DC_BUILTIN
};

static int builtin_find(const char *name)
{
  for (int i = 0; i < BI__COUNT; i++)
    if (strcmp(builtins[i].name, name) == 0)
      return i;
  return -1;
}


/* The prior families: their arguments, which must be positive, the location of a
** symmetric family (a bound there halves it whatever the scale), and the support,
** (lo, inf).  uniform's support is its arguments. */
static const struct {
  int bi;
  const char *arg[3];
  unsigned positive;       /* bit i: argument i must be > 0 */
  int location;            /* argument index, or -1 */
  double lo;
} prior_families[] = {
  {BI_normal, {"mu", "sigma"}, 2, 0, -INFINITY},
  {BI_student_t, {"nu", "mu", "sigma"}, 1 | 4, 1, -INFINITY},
  {BI_cauchy, {"mu", "sigma"}, 2, 0, -INFINITY},
  {BI_exponential, {"rate"}, 1, -1, 0},
  {BI_lognormal, {"mu", "sigma"}, 2, -1, 0},
  {BI_gamma, {"alpha", "beta"}, 1 | 2, -1, 0},
  {BI_uniform, {"lo", "hi"}, 0, -1, -INFINITY},
};

static int prior_family(int bi)
{
  for (int f = 0; f < (int)(sizeof prior_families / sizeof *prior_families); f++)
    if (prior_families[f].bi == bi)
      return f;
  return -1;
}

static int family_n_args(int f)
{
  int n = 0;
  while (n < 3 && prior_families[f].arg[n])
    n++;
  return n;
}

/* "mu, sigma" */
static const char *family_args_text(int f, char *buf, size_t size)
{
  buf[0] = 0;
  for (int i = 0; i < family_n_args(f); i++)
    snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", prior_families[f].arg[i]);
  return buf;
}


typedef struct {
  const char *name;
  sym_kind kind;
  int index;               /* into ir->dims/knots/params or the component table */
  dc_loc loc;
} symbol;

typedef struct {
  const ast_decl *decl;
  int state;               /* 0: not lowered, 1: lowering (cycle guard), 2: done */
  ir_node *logn;
  int used;                /* referenced from the intensity or another used component */
} component;

typedef struct {
  const ast_program *prog;
  dc_diag *diag;
  dc_ir *ir;
  symbol *syms;
  size_t n_syms;
  component *comps;
  size_t n_comps;
  /* prior loop context: the left-hand vector (or -1) and its slice offsets */
  int loop_param, loop_start, loop_end;
  int in_prior;
  int lowering_intensity;  /* lowering the intensity, not an unused component */
} sema;

static const symbol *lookup(const sema *s, const char *name)
{
  for (size_t i = 0; i < s->n_syms; i++)
    if (strcmp(s->syms[i].name, name) == 0)
      return &s->syms[i];
  return NULL;
}

static const char *sym_kind_text(sym_kind k)
{
  switch (k) {
  case SYM_DATA: return "data column";
  case SYM_KNOTS: return "knot set";
  case SYM_PARAM: return "parameter";
  case SYM_COMPONENT: return "component";
  default: return "name";
  }
}

static int declare(sema *s, const char *name, dc_loc loc, sym_kind kind, int index)
{
  const symbol *old = lookup(s, name);
  if (old) {
    dc_diag_error(s->diag, loc, "'%s' is already declared", name);
    dc_diag_note(s->diag, old->loc, "previous declaration of '%s' (a %s)", name, sym_kind_text(old->kind));
    return 0;
  }
  if (builtin_find(name) >= 0 && builtins[builtin_find(name)].kind != PRIOR) {
    dc_diag_error(s->diag, loc, "'%s' is a built-in function and cannot be redeclared", name);
    return 0;
  }
  s->syms = dc_xrealloc(s->syms, (s->n_syms + 1) * sizeof *s->syms);
  s->syms[s->n_syms++] = (symbol){name, kind, index, loc};
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Constant expressions (windows, bounds, knots, method arguments)
** ===================================================================== */

static int const_eval(sema *s, const ast_expr *e, double *out, const char *what)
{
  double a, b;
  switch (e->kind) {
  case AST_NUM:
    *out = e->num;
    return 1;
  case AST_NEG:
    if (!const_eval(s, e->lhs, &a, what))
      return 0;
    *out = -a;
    return 1;
  case AST_BINOP:
    if (!const_eval(s, e->lhs, &a, what) || !const_eval(s, e->rhs, &b, what))
      return 0;
    switch (e->op) {
    case '+': *out = a + b; break;
    case '-': *out = a - b; break;
    case '*': *out = a * b; break;
    case '/': *out = a / b; break;
    default: *out = pow(a, b); break;
    }
    break;
  case AST_CALL: {
    int bi = builtin_find(e->name);
    if (bi < 0 || builtins[bi].kind != FN || e->n_args != (size_t)builtins[bi].min_args) {
      dc_diag_error(s->diag, e->loc, "%s must be a constant number", what);
      return 0;
    }
    if (!const_eval(s, e->args[0], &a, what))
      return 0;
    if (e->n_args > 1 && !const_eval(s, e->args[1], &b, what))
      return 0;
    switch (bi) {
    case BI_exp: *out = exp(a); break;
    case BI_log: *out = log(a); break;
    case BI_log1p: *out = log1p(a); break;
    case BI_sqrt: *out = sqrt(a); break;
    case BI_pow: *out = pow(a, b); break;
    default: *out = fmax(a, b) + log1p(exp(-fabs(a - b))); break;
    }
    break;
  }
  default:
    dc_diag_error(s->diag, e->loc, "%s must be a constant number", what);
    return 0;
  }
  if (!isfinite(*out)) {
    dc_diag_error(s->diag, e->loc, "%s is not a finite number", what);
    return 0;
  }
  return 1;
}

static int const_int(sema *s, const ast_expr *e, long lo, long *out, const char *what)
{
  double v;
  if (!const_eval(s, e, &v, what))
    return 0;
  if (v != floor(v) || v < (double)lo || v > 1e9) {
    dc_diag_error(s->diag, e->loc, "%s must be an integer >= %ld", what, lo);
    return 0;
  }
  *out = (long)v;
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Declarations
** ===================================================================== */

static void check_data(sema *s, const ast_decl *d)
{
  dc_ir *ir = s->ir;
  if (ir->n_dims == DENSRT_MAX_DIMS) {
    dc_diag_error(s->diag, d->name_loc, "too many data columns (limit is %d)", DENSRT_MAX_DIMS);
    return;
  }
  ir_dim dim = {dc_xstrdup(d->name), d->name_loc, -INFINITY, INFINITY, dc_xstrdup("auto"), d->name_loc, NULL};
  if (d->unit) {
    /* a unit is printed in axis labels and 'info': short, one line of printable text */
    size_t len = strlen(d->unit);
    int bad = 0;
    for (const unsigned char *p = (const unsigned char *)d->unit; *p; p++)
      bad |= *p < 0x20 || *p == 0x7f;
    if (!len || len > DENSRT_MAX_UNIT || bad)
      dc_diag_error(s->diag, d->unit_loc, "a unit is 1 to %d printable characters", DENSRT_MAX_UNIT);
    else
      dim.unit = dc_xstrdup(d->unit);
  }
  if (d->lo) {
    double lo, hi;
    int ok = const_eval(s, d->lo, &lo, "a window bound");
    ok &= const_eval(s, d->hi, &hi, "a window bound");
    if (ok && !(lo < hi)) {
      dc_diag_error(s->diag, d->lo->loc, "empty window: the lower bound must be below the upper bound");
      ok = 0;
    }
    if (ok) {
      dim.lo = lo;
      dim.hi = hi;
    }
  }
  if (declare(s, d->name, d->name_loc, SYM_DATA, (int)ir->n_dims)) {
    ir->dims = dc_xrealloc(ir->dims, (ir->n_dims + 1) * sizeof *ir->dims);
    ir->dims[ir->n_dims++] = dim;
  } else {
    free(dim.name);
    free(dim.method);
    free(dim.unit);
  }
}

static void check_knots(sema *s, const ast_decl *d)
{
  const ast_expr *v = d->value;
  double *t = NULL;
  long n = 0;
  dc_buf spec;
  dc_buf_init(&spec);
  char num[40];
  if (v->kind == AST_CALL && strcmp(v->name, "linspace") == 0) {
    double a, b;
    if (v->n_args != 3 || v->bar) {
      dc_diag_error(s->diag, v->loc, "linspace() takes 3 arguments (start, stop, count), got %zu", v->n_args);
      goto fail;
    }
    int ok = const_eval(s, v->args[0], &a, "linspace start");
    ok &= const_eval(s, v->args[1], &b, "linspace stop");
    ok &= const_int(s, v->args[2], 2, &n, "the number of knots");
    if (!ok)
      goto fail;
    if (n > DENSRT_MAX_KNOTS) {
      dc_diag_error(s->diag, v->args[2]->loc, "too many knots: %ld (limit is %d)", n, DENSRT_MAX_KNOTS);
      goto fail;
    }
    t = dc_xmalloc((size_t)n * sizeof *t);
    densrt_spec_linspace(a, b, (size_t)n, t);   /* the runtime's rule, so --set gives the same knots */
    dc_buf_puts(&spec, "linspace(");
    dc_format_double(num, sizeof num, a);
    dc_buf_printf(&spec, "%s, ", num);
    dc_format_double(num, sizeof num, b);
    dc_buf_printf(&spec, "%s, %ld)", num, n);
  } else if (v->kind == AST_LIST) {
    n = (long)v->n_args;
    t = dc_xmalloc((size_t)n * sizeof *t);
    dc_buf_puts(&spec, "[");
    for (long i = 0; i < n; i++) {
      if (!const_eval(s, v->args[i], &t[i], "a knot"))
        goto fail;
      dc_format_double(num, sizeof num, t[i]);
      dc_buf_printf(&spec, "%s%s", i ? ", " : "", num);
    }
    dc_buf_puts(&spec, "]");
    if (n < 2) {
      dc_diag_error(s->diag, v->loc, "a knot set needs at least 2 knots, got %ld", n);
      goto fail;
    }
  } else {
    dc_diag_error(s->diag, v->loc, "a knot set is linspace(start, stop, count) or a list [t1, t2, ...]");
    goto fail;
  }
  if (n > DENSRT_MAX_KNOTS) {
    /* the spline's coefficient map is a dense (4K x K) matrix */
    dc_diag_error(s->diag, v->loc, "too many knots: %ld (limit is %d)", n, DENSRT_MAX_KNOTS);
    goto fail;
  }
  for (long i = 1; i < n; i++) {
    if (!(t[i] > t[i - 1])) {
      dc_diag_error(s->diag, v->kind == AST_LIST ? v->args[i]->loc : v->loc,
                    "knots must be strictly increasing: knot %ld (%g) is not above knot %ld (%g)", i + 1, t[i],
                    i, t[i - 1]);
      goto fail;
    }
  }
  if (declare(s, d->name, d->name_loc, SYM_KNOTS, (int)s->ir->n_knots)) {
    dc_ir *ir = s->ir;
    ir->knots = dc_xrealloc(ir->knots, (ir->n_knots + 1) * sizeof *ir->knots);
    ir->knots[ir->n_knots++] = (ir_knots){dc_xstrdup(d->name), d->loc, dc_buf_take(&spec), t, (size_t)n, 2};
    return;
  }
fail:
  free(t);
  dc_buf_free(&spec);
}

static void check_param(sema *s, const ast_decl *d)
{
  dc_ir *ir = s->ir;
  ir_param p = {dc_xstrdup(d->name), d->name_loc, IR_SIZE_SCALAR, 1, -1, -INFINITY, INFINITY};
  int ok = 1;
  if (d->is_vector) {
    if (d->size->kind == AST_IDENT) {
      const symbol *k = lookup(s, d->size->name);
      if (!k || k->kind != SYM_KNOTS) {
        dc_diag_error(s->diag, d->size->loc, "'%s' is not a knot set%s", d->size->name,
                      k ? "" : " (knot sets must be declared before use)");
        ok = 0;
      } else {
        p.size_kind = IR_SIZE_KNOTS;
        p.knots = k->index;
      }
    } else {
      long n;
      ok = const_int(s, d->size, 1, &n, "a vector size");
      p.size_kind = IR_SIZE_FIXED;
      p.size = (size_t)n;
    }
  }
  if (d->lo)
    ok &= const_eval(s, d->lo, &p.lo, "a lower bound");
  if (d->hi)
    ok &= const_eval(s, d->hi, &p.hi, "an upper bound");
  if (ok && d->lo && d->hi && !(p.lo < p.hi)) {
    dc_diag_error(s->diag, d->lo->loc, "the lower bound must be below the upper bound");
    ok = 0;
  }
  if (ok && declare(s, d->name, d->name_loc, SYM_PARAM, (int)ir->n_params)) {
    ir->params = dc_xrealloc(ir->params, (ir->n_params + 1) * sizeof *ir->params);
    ir->params[ir->n_params++] = p;
  } else {
    free(p.name);
  }
}

/* Canonical text of an integration method, or NULL after reporting an error.  The names
** are checked here, where their locations are known; the values by the runtime's own rule
** (densrt_spec_method), so a model and --integrate accept the same methods. */
static char *check_method(sema *s, const ast_expr *m)
{
  dc_buf b;
  dc_buf_init(&b);
  if (m->kind == AST_IDENT && (strcmp(m->name, "auto") == 0 || strcmp(m->name, "analytic") == 0))
    return dc_xstrdup(m->name);
  if (m->kind == AST_CALL && (strcmp(m->name, "gauss_legendre") == 0 || strcmp(m->name, "simpson") == 0)) {
    int gl = m->name[0] == 'g';
    dc_buf_printf(&b, "%s(", m->name);
    for (size_t i = 0; i < m->n_args; i++) {
      const char *an = m->arg_names[i];
      const char *ok_names = gl ? "order, subdiv" : "points, step";
      if (!an || m->bar) {
        dc_diag_error(s->diag, m->args[i]->loc, "name the argument: %s(%s = ...)", m->name,
                      gl ? "order" : "points");
        goto fail;
      }
      int known = gl ? (!strcmp(an, "order") || !strcmp(an, "subdiv"))
                     : (!strcmp(an, "points") || !strcmp(an, "step"));
      if (!known) {
        dc_diag_error(s->diag, m->args[i]->loc, "unknown argument '%s' of %s(): expected %s", an, m->name,
                      ok_names);
        goto fail;
      }
      double v;
      char num[40];
      if (!const_eval(s, m->args[i], &v, "an integration setting"))
        goto fail;
      dc_format_double(num, sizeof num, v);
      dc_buf_printf(&b, "%s%s = %s", i ? ", " : "", an, num);
    }
    dc_buf_puts(&b, ")");
    densrt_method parsed;
    if (densrt_spec_method(b.s, &parsed) != 0) {
      dc_diag_error(s->diag, m->loc, "%s", densrt_error_message());
      goto fail;
    }
    return dc_buf_take(&b);
  }
  dc_diag_error(s->diag, m->loc,
                "unknown integration method: expected auto, analytic, gauss_legendre(order = N), "
                "simpson(points = N) or simpson(step = h)");
fail:
  dc_buf_free(&b);
  return NULL;
}

/* }==================================================================== */

/* {====================================================================
** Expressions
** ===================================================================== */

static ir_node *lower_val(sema *s, const ast_expr *e);
static ir_node *lower_log(sema *s, const ast_expr *e);
static ir_node *component_log(sema *s, int c, dc_loc use);

static int same_size(const dc_ir *ir, int p, int q)
{
  const ir_param *a = &ir->params[p], *b = &ir->params[q];
  if (a->size_kind != b->size_kind)
    return 0;
  return a->size_kind == IR_SIZE_KNOTS ? a->knots == b->knots : a->size == b->size;
}

static size_t default_size(const dc_ir *ir, int p)
{
  const ir_param *a = &ir->params[p];
  return a->size_kind == IR_SIZE_KNOTS ? ir->knots[a->knots].n : a->size;
}

/* Stands in for an erroneous expression; 1 is positive and finite, so no follow-on errors. */
static ir_node *error_node(sema *s)
{
  return ir_const(s->ir, 1.0);
}

/* Element i of a vector (slice) in a prior loop; its length must match the loop's. */
static ir_node *loop_element(sema *s, const ast_expr *e, int p, int start, int end)
{
  const dc_ir *ir = s->ir;
  int q = s->loop_param;
  long n_p = (long)default_size(ir, p) - start - end, n_q = (long)default_size(ir, q) - s->loop_start - s->loop_end;
  if (!same_size(ir, q, p) || start + end != s->loop_start + s->loop_end) {
    if (ir->params[p].size_kind == IR_SIZE_FIXED && ir->params[q].size_kind == IR_SIZE_FIXED && n_p == n_q)
      return ir_leaf(s->ir, IR_PARAM_I, p, start, e->loc);
    dc_diag_error(s->diag, e->loc, "'%s' has %ld elements here but the left of '~' has %ld", e->name, n_p, n_q);
    return error_node(s);
  }
  return ir_leaf(s->ir, IR_PARAM_I, p, start, e->loc);
}

/* A slice bound: a constant, or 'end' plus or minus a constant. */
static int slice_bound(sema *s, const ast_expr *e, long *c, int *uses_end)
{
  if (e->kind == AST_IDENT && strcmp(e->name, "end") == 0) {
    *c = 0;
    *uses_end = 1;
    return 1;
  }
  if (e->kind == AST_BINOP && (e->op == '+' || e->op == '-') && e->lhs->kind == AST_IDENT &&
      strcmp(e->lhs->name, "end") == 0) {
    long v;
    if (!const_int(s, e->rhs, 0, &v, "the offset from 'end'"))
      return 0;
    *c = e->op == '+' ? v : -v;
    *uses_end = 1;
    return 1;
  }
  *uses_end = 0;
  return const_int(s, e, 1, c, "a slice bound");
}

/* v[a:b] -> (parameter, elements skipped at the start, elements skipped at the end). */
static int slice_offsets(sema *s, const ast_expr *e, int *param, int *start, int *end)
{
  const symbol *y = lookup(s, e->name);
  if (!y || y->kind != SYM_PARAM || s->ir->params[y->index].size_kind == IR_SIZE_SCALAR) {
    dc_diag_error(s->diag, e->name_loc, y ? "'%s' is not a vector parameter" : "'%s' is not declared", e->name);
    return 0;
  }
  const ir_param *p = &s->ir->params[y->index];
  long a = 1, b = 0;
  int a_end = 0, b_end = 1;
  if (e->lhs && !slice_bound(s, e->lhs, &a, &a_end))
    return 0;
  if (e->rhs && !slice_bound(s, e->rhs, &b, &b_end))
    return 0;
  if (a_end) {
    dc_diag_error(s->diag, e->lhs->loc, "the start of a slice must be a constant");
    return 0;
  }
  long n = (long)default_size(s->ir, y->index);
  if (!b_end) {
    if (p->size_kind != IR_SIZE_FIXED) {
      dc_diag_error(s->diag, e->rhs->loc, "'%s' is sized by a knot set: end the slice with 'end' or 'end - k'", e->name);
      return 0;
    }
    b = b - n;   /* as an offset from the end */
  }
  if (b > 0) {
    dc_diag_error(s->diag, e->rhs->loc, "the slice ends after the last element of '%s'", e->name);
    return 0;
  }
  if (a - 1 + (-b) >= n) {
    dc_diag_error(s->diag, e->loc, "the slice of '%s' is empty", e->name);
    return 0;
  }
  *param = y->index;
  *start = (int)(a - 1);
  *end = (int)-b;
  return 1;
}

static ir_node *lower_slice(sema *s, const ast_expr *e)
{
  int p, a, b;
  if (!s->in_prior || s->loop_param < 0) {
    dc_diag_error(s->diag, e->loc, "slices are only allowed in priors on vectors");
    return error_node(s);
  }
  if (!slice_offsets(s, e, &p, &a, &b))
    return error_node(s);
  return loop_element(s, e, p, a, b);
}

static ir_node *lower_ident(sema *s, const ast_expr *e)
{
  const symbol *y = lookup(s, e->name);
  if (!y) {
    dc_diag_error(s->diag, e->loc, "'%s' is not declared", e->name);
    return error_node(s);
  }
  switch (y->kind) {
  case SYM_DATA:
    if (s->in_prior) {
      dc_diag_error(s->diag, e->loc, "data column '%s' cannot appear in a prior", e->name);
      return error_node(s);
    }
    return ir_leaf(s->ir, IR_DATA, y->index, 0, e->loc);
  case SYM_PARAM: {
    const ir_param *p = &s->ir->params[y->index];
    if (p->size_kind == IR_SIZE_SCALAR)
      return ir_leaf(s->ir, IR_PARAM, y->index, -1, e->loc);
    if (s->loop_param >= 0)
      return loop_element(s, e, y->index, 0, 0);
    dc_diag_error(s->diag, e->loc, "'%s' is a vector: index it (%s[1]) or pass it to spline()", e->name, e->name);
    return error_node(s);
  }
  case SYM_KNOTS:
    dc_diag_error(s->diag, e->loc, "knot set '%s' can only be the first argument of a spline", e->name);
    return error_node(s);
  case SYM_COMPONENT:
    if (s->in_prior) {
      dc_diag_error(s->diag, e->loc, "component '%s' cannot appear in a prior", e->name);
      return error_node(s);
    }
    return ir_op1(s->ir, IR_EXP, component_log(s, y->index, e->loc), e->loc);
  default:
    return error_node(s);
  }
}

static ir_node *lower_index(sema *s, const ast_expr *e)
{
  const symbol *y = lookup(s, e->name);
  if (!y || y->kind != SYM_PARAM || s->ir->params[y->index].size_kind == IR_SIZE_SCALAR) {
    dc_diag_error(s->diag, e->name_loc, y ? "'%s' is not a vector parameter" : "'%s' is not declared", e->name);
    return error_node(s);
  }
  long i;
  if (!const_int(s, e->lhs, 1, &i, "an index"))
    return error_node(s);
  size_t n = default_size(s->ir, y->index);
  if ((size_t)i > n) {
    dc_diag_error(s->diag, e->lhs->loc, "index %ld is out of range: '%s' has %zu elements", i, e->name, n);
    return error_node(s);
  }
  return ir_leaf(s->ir, IR_PARAM, y->index, (int)i - 1, e->loc);
}

static ir_node *lower_spline(sema *s, const ast_expr *e, int bi)
{
  densrt_spline_kind kind = bi == BI_spline ? DENSRT_SPLINE_NOT_A_KNOT
                           : bi == BI_natural_spline ? DENSRT_SPLINE_NATURAL : DENSRT_SPLINE_LINEAR;
  int min_knots = (int)densrt_spline_min_knots(kind);
  const ast_expr *ka = e->args[0], *va = e->args[1];
  if (s->in_prior) {
    dc_diag_error(s->diag, e->loc, "splines cannot appear in priors");
    return error_node(s);
  }
  const symbol *k = ka->kind == AST_IDENT ? lookup(s, ka->name) : NULL;
  if (!k || k->kind != SYM_KNOTS) {
    dc_diag_error(s->diag, ka->loc, "the first argument of %s() must be a knot set", e->name);
    return error_node(s);
  }
  const symbol *v = va->kind == AST_IDENT ? lookup(s, va->name) : NULL;
  if (!v || v->kind != SYM_PARAM || s->ir->params[v->index].size_kind == IR_SIZE_SCALAR) {
    dc_diag_error(s->diag, va->loc, "the second argument of %s() must be a vector parameter", e->name);
    return error_node(s);
  }
  const ir_param *p = &s->ir->params[v->index];
  ir_knots *ks = &s->ir->knots[k->index];
  if (p->size_kind != IR_SIZE_KNOTS || p->knots != k->index) {
    dc_diag_error(s->diag, va->loc, "'%s' must be declared vector[%s] to hold the values at the knots of '%s'",
                  va->name, ka->name, ka->name);
    return error_node(s);
  }
  if ((int)ks->n < min_knots) {
    dc_diag_error(s->diag, ka->loc, "%s needs at least %d knots; '%s' has %zu", densrt_spline_kind_phrase(kind),
                  min_knots, ka->name, ks->n);
    return error_node(s);
  }
  if (min_knots > ks->min_knots)
    ks->min_knots = min_knots;
  int before = s->diag->n_errors;
  ir_node *x = lower_val(s, e->args[2]);
  if (s->diag->n_errors > before)
    return error_node(s);
  if (x->params || x->loop_i) {
    dc_diag_error(s->diag, e->args[2]->loc, "the spline abscissa cannot depend on parameters");
    return error_node(s);
  }
  if (!x->dims) {
    dc_diag_error(s->diag, e->args[2]->loc, "the spline abscissa must depend on a data column");
    return error_node(s);
  }
  int cs = ir_coefset_get(s->ir, k->index, kind, v->index);
  return ir_spline(s->ir, cs, x, e->loc);
}

/* Checks a call's form; returns the builtin or -1 after an error. */
static int check_call(sema *s, const ast_expr *e)
{
  int bi = builtin_find(e->name);
  if (bi >= 0 && builtins[bi].kind == PRIOR) {
    char args[64];
    dc_diag_error(s->diag, e->name_loc, "%s() is only a prior: write 'x ~ %s(%s)' in the priors block", e->name,
                  e->name, family_args_text(prior_family(bi), args, sizeof args));
    return -1;
  }
  if (bi < 0) {
    const symbol *y = lookup(s, e->name);
    if (y)
      dc_diag_error(s->diag, e->name_loc, "'%s' is a %s, not a function", e->name, sym_kind_text(y->kind));
    else
      dc_diag_error(s->diag, e->name_loc, "unknown function '%s'", e->name);
    return -1;
  }
  if (builtins[bi].kind == KNOTSPEC) {
    dc_diag_error(s->diag, e->name_loc, "%s() is only allowed in the knots block", e->name);
    return -1;
  }
  for (size_t i = 0; i < e->n_args; i++)
    if (e->arg_names[i]) {
      dc_diag_error(s->diag, e->args[i]->loc, "%s() takes no named arguments", e->name);
      return -1;
    }
  if (builtins[bi].kind == DENSITY && !e->bar) {
    dc_diag_error(s->diag, e->loc, "write the density as %s(x | mu, sigma)", e->name);
    return -1;
  }
  if (builtins[bi].kind != DENSITY && e->bar) {
    dc_diag_error(s->diag, e->loc, "'|' is only used in densities such as normal(x | mu, sigma)");
    return -1;
  }
  size_t n = e->n_args;
  if (n < (size_t)builtins[bi].min_args || n > (size_t)builtins[bi].max_args) {
    dc_diag_error(s->diag, e->loc, "%s() takes %d argument%s, got %zu", e->name, builtins[bi].min_args,
                  builtins[bi].min_args == 1 ? "" : "s", n);
    return -1;
  }
  return bi;
}

static ir_node *lower_call_val(sema *s, const ast_expr *e)
{
  int bi = check_call(s, e);
  if (bi < 0)
    return error_node(s);
  if (builtins[bi].kind == SPLINE)
    return lower_spline(s, e, bi);
  if (builtins[bi].kind == DENSITY) {
    if (s->in_prior) {
      dc_diag_error(s->diag, e->loc, "in priors write 'x ~ %s(mu, sigma)'", e->name);
      return error_node(s);
    }
    return ir_op1(s->ir, IR_EXP, lower_log(s, e), e->loc);
  }
  ir_node *a = lower_val(s, e->args[0]);
  switch (bi) {
  case BI_exp: return ir_op1(s->ir, IR_EXP, a, e->loc);
  case BI_log: return ir_op1(s->ir, IR_LOG, a, e->loc);
  case BI_log1p: return ir_op1(s->ir, IR_LOG1P, a, e->loc);
  case BI_sqrt: return ir_op1(s->ir, IR_SQRT, a, e->loc);
  case BI_pow: return ir_op2(s->ir, IR_POW, a, lower_val(s, e->args[1]), e->loc);
  default: return ir_op2(s->ir, IR_LSE, a, lower_val(s, e->args[1]), e->loc);
  }
}

static ir_node *lower_val(sema *s, const ast_expr *e)
{
  switch (e->kind) {
  case AST_NUM:
    return ir_const(s->ir, e->num);
  case AST_IDENT:
    return lower_ident(s, e);
  case AST_INDEX:
    return lower_index(s, e);
  case AST_SLICE:
    return lower_slice(s, e);
  case AST_NEG:
    return ir_op1(s->ir, IR_NEG, lower_val(s, e->lhs), e->loc);
  case AST_BINOP: {
    ir_node *a = lower_val(s, e->lhs);
    ir_node *b = lower_val(s, e->rhs);
    ir_op op = e->op == '+' ? IR_ADD : e->op == '-' ? IR_SUB : e->op == '*' ? IR_MUL : e->op == '/' ? IR_DIV : IR_POW;
    return ir_op2(s->ir, op, a, b, e->loc);
  }
  case AST_CALL:
    return lower_call_val(s, e);
  case AST_LIST:
    dc_diag_error(s->diag, e->loc, "lists are only allowed in the knots block");
    return error_node(s);
  }
  return error_node(s);
}

/* Whether the log of e may be taken factor by factor (log ab = log a + log b): e is built
** only of positive constants, exp, normal, components, and products, quotients, sums,
** powers and square roots of such.  A data column, a parameter or a spline may be
** negative where the intensity is not (x * x), so their factors are multiplied out
** first and the log taken of the product. */
static int log_splits(sema *s, const ast_expr *e)
{
  switch (e->kind) {
  case AST_NUM:
    return e->num > 0;
  case AST_IDENT: {
    const symbol *y = lookup(s, e->name);
    return y && y->kind == SYM_COMPONENT;
  }
  case AST_BINOP:
    return e->op != '-' && log_splits(s, e->lhs) && (e->op == '^' || log_splits(s, e->rhs));
  case AST_CALL: {
    int bi = builtin_find(e->name);
    return bi == BI_exp || bi == BI_normal || (bi == BI_sqrt && e->n_args == 1 && log_splits(s, e->args[0]));
  }
  default:
    return 0;
  }
}

/* The factors of a product or quotient, in source order; inverse marks divisors. */
static void product_factors(const ast_expr *e, int inverse, const ast_expr ***f, int **inv, size_t *n)
{
  if (e->kind == AST_BINOP && (e->op == '*' || e->op == '/')) {
    product_factors(e->lhs, inverse, f, inv, n);
    product_factors(e->rhs, e->op == '/' ? !inverse : inverse, f, inv, n);
    return;
  }
  *f = dc_xrealloc(*f, (*n + 1) * sizeof **f);
  *inv = dc_xrealloc(*inv, (*n + 1) * sizeof **inv);
  (*f)[*n] = e;
  (*inv)[(*n)++] = inverse;
}

/* log of a product: factors that split go to log space, the others are multiplied out. */
static ir_node *lower_log_product(sema *s, const ast_expr *e)
{
  dc_ir *ir = s->ir;
  const ast_expr **f = NULL;
  int *inv = NULL;
  size_t n = 0;
  product_factors(e, 0, &f, &inv, &n);
  ir_node *sum = NULL, *lin = NULL;
  for (size_t i = 0; i < n; i++) {
    if (log_splits(s, f[i])) {
      ir_node *l = lower_log(s, f[i]);
      sum = !sum ? (inv[i] ? ir_op1(ir, IR_NEG, l, f[i]->loc) : l)
                 : ir_op2(ir, inv[i] ? IR_SUB : IR_ADD, sum, l, f[i]->loc);
    } else {
      ir_node *v = lower_val(s, f[i]);
      lin = !lin ? (inv[i] ? ir_op2(ir, IR_DIV, ir_const(ir, 1), v, f[i]->loc) : v)
                 : ir_op2(ir, inv[i] ? IR_DIV : IR_MUL, lin, v, f[i]->loc);
    }
  }
  free(f);
  free(inv);
  if (lin) {
    if (lin->op == IR_CONST && !(lin->value > 0)) {
      dc_diag_error(s->diag, e->loc, "an intensity factor must be positive (got %g)", lin->value);
      return error_node(s);
    }
    ir_node *l = ir_op1(ir, IR_LOG, lin, e->loc);
    sum = sum ? ir_op2(ir, IR_ADD, sum, l, e->loc) : l;
  }
  return sum;
}

/* log of an intensity expression, without ever forming exp() of a log. */
static ir_node *lower_log(sema *s, const ast_expr *e)
{
  dc_ir *ir = s->ir;
  switch (e->kind) {
  case AST_NUM:
    if (!(e->num > 0)) {
      dc_diag_error(s->diag, e->loc, "an intensity factor must be positive (got %g)", e->num);
      return error_node(s);
    }
    return ir_const(ir, log(e->num));
  case AST_IDENT: {
    const symbol *y = lookup(s, e->name);
    if (y && y->kind == SYM_COMPONENT)
      return component_log(s, y->index, e->loc);
    break;
  }
  case AST_BINOP:
    if ((e->op == '*' || e->op == '/') && !log_splits(s, e))
      return lower_log_product(s, e);
    if (e->op == '*' || e->op == '/' || (e->op == '+' && log_splits(s, e))) {
      /* operands in source order, so errors come out in that order */
      ir_node *a = lower_log(s, e->lhs);
      ir_node *b = lower_log(s, e->rhs);
      return ir_op2(ir, e->op == '*' ? IR_ADD : e->op == '/' ? IR_SUB : IR_LSE, a, b, e->loc);
    }
    if (e->op == '^' && log_splits(s, e->lhs)) {
      ir_node *a = lower_log(s, e->lhs);
      return ir_op2(ir, IR_MUL, lower_val(s, e->rhs), a, e->loc);
    }
    break;
  case AST_CALL: {
    int bi = builtin_find(e->name);
    if (bi == BI_exp || (bi == BI_sqrt && log_splits(s, e)) || bi == BI_normal) {
      if (check_call(s, e) < 0)
        return error_node(s);
      if (bi == BI_exp)
        return lower_val(s, e->args[0]);
      if (bi == BI_sqrt)
        return ir_op2(ir, IR_MUL, ir_const(ir, 0.5), lower_log(s, e->args[0]), e->loc);
      ir_node *x = lower_val(s, e->args[0]);
      ir_node *mu = lower_val(s, e->args[1]);
      return ir_op3(ir, IR_NORMAL_LPDF, x, mu, lower_val(s, e->args[2]), e->loc);
    }
    break;
  }
  default:
    break;
  }
  ir_node *v = lower_val(s, e);
  if (v->op == IR_CONST && !(v->value > 0)) {
    dc_diag_error(s->diag, e->loc, "an intensity factor must be positive (got %g)", v->value);
    return error_node(s);
  }
  return ir_op1(ir, IR_LOG, v, e->loc);
}

static ir_node *component_log(sema *s, int c, dc_loc use)
{
  component *comp = &s->comps[c];
  comp->used |= s->lowering_intensity;
  if (comp->state == 1) {
    dc_diag_error(s->diag, use, "component '%s' is defined in terms of itself", comp->decl->name);
    return error_node(s);
  }
  if (comp->state == 0) {
    comp->state = 1;
    comp->logn = lower_log(s, comp->decl->value);
    comp->state = 2;
  }
  return comp->logn;
}

/* }==================================================================== */

/* {====================================================================
** The model: terms of the intensity, integration methods, priors
** ===================================================================== */

static void add_term(sema *s, const char *name, ir_node *logn, dc_loc loc)
{
  dc_ir *ir = s->ir;
  ir->terms = dc_xrealloc(ir->terms, (ir->n_terms + 1) * sizeof *ir->terms);
  ir_term *t = &ir->terms[ir->n_terms++];
  memset(t, 0, sizeof *t);
  t->name = dc_xstrdup(name);
  t->loc = loc;
  t->logn = logn;
}

/* A top-level sum splits into terms; a component summand keeps its name. */
static void collect_terms(sema *s, const ast_expr *e, int *unnamed)
{
  if (e->kind == AST_BINOP && e->op == '+') {
    collect_terms(s, e->lhs, unnamed);
    collect_terms(s, e->rhs, unnamed);
    return;
  }
  if (e->kind == AST_IDENT) {
    const symbol *y = lookup(s, e->name);
    if (y && y->kind == SYM_COMPONENT) {
      const ast_expr *body = s->comps[y->index].decl->value;
      if (body->kind == AST_BINOP && body->op == '+' && s->comps[y->index].state != 1) {
        /* expanding into terms computes no log of the whole: a use elsewhere (2 * c) still
           lowers it, so the state goes back to what it was */
        int state = s->comps[y->index].state;
        s->comps[y->index].state = 1;
        collect_terms(s, body, unnamed);
        s->comps[y->index].state = state;
        return;
      }
      /* the term's location is the component's definition */
      add_term(s, e->name, component_log(s, y->index, e->loc), s->comps[y->index].decl->loc);
      return;
    }
  }
  char name[32];
  snprintf(name, sizeof name, "term%d", ++*unnamed);
  add_term(s, name, lower_log(s, e), e->loc);
}

/* P(a < Z < b) for a standard normal Z, from the tail away from the mean (no cancellation). */
static double normal_mass(double a, double b)
{
  if (a > 0)
    return 0.5 * erfc(a / M_SQRT2) - 0.5 * erfc(b / M_SQRT2);
  if (b < 0)
    return 0.5 * erfc(-b / M_SQRT2) - 0.5 * erfc(-a / M_SQRT2);
  return 1 - 0.5 * erfc(-a / M_SQRT2) - 0.5 * erfc(b / M_SQRT2);
}

/* The probability the family with constant arguments v puts on (lo, hi), or NaN where
** densc has no closed form (student_t, gamma: their CDFs are incomplete beta and gamma
** functions). */
static double family_mass(int bi, const double *v, double lo, double hi)
{
  switch (bi) {
  case BI_normal: return normal_mass((lo - v[0]) / v[1], (hi - v[0]) / v[1]);
  case BI_cauchy: return (atan((hi - v[0]) / v[1]) - atan((lo - v[0]) / v[1])) / M_PI;
  case BI_lognormal: return normal_mass((log(lo) - v[0]) / v[1], (log(hi) - v[0]) / v[1]);
  case BI_exponential: return exp(-v[0] * lo) - exp(-v[0] * hi);
  default: return NAN;
  }
}

/* The log density of the family at x (Stan's normalisation: all constants included). */
static ir_node *family_lpdf(dc_ir *ir, int bi, ir_node *x, ir_node *const *a, dc_loc l)
{
#define ADD(p, q) ir_op2(ir, IR_ADD, p, q, l)
#define SUB(p, q) ir_op2(ir, IR_SUB, p, q, l)
#define MUL(p, q) ir_op2(ir, IR_MUL, p, q, l)
#define DIV(p, q) ir_op2(ir, IR_DIV, p, q, l)
#define LOG(p) ir_op1(ir, IR_LOG, p, l)
#define C(v) ir_const(ir, v)
  switch (bi) {
  case BI_normal: return ir_op3(ir, IR_NORMAL_LPDF, x, a[0], a[1], l);
  case BI_lognormal: {
    ir_node *lx = LOG(x);
    return SUB(ir_op3(ir, IR_NORMAL_LPDF, lx, a[0], a[1], l), lx);
  }
  case BI_cauchy: {   /* -log(pi sigma) - log(1 + z^2) */
    ir_node *z = DIV(SUB(x, a[0]), a[1]);
    return SUB(ir_op1(ir, IR_NEG, ir_op1(ir, IR_LOG1P, MUL(z, z), l), l), ADD(LOG(a[1]), C(log(M_PI))));
  }
  case BI_student_t: {   /* lgamma((nu+1)/2) - lgamma(nu/2) - log(sqrt(nu pi) sigma) - (nu+1)/2 log(1 + z^2/nu) */
    ir_node *nu = a[0], *z = DIV(SUB(x, a[1]), a[2]), *h = MUL(C(0.5), ADD(nu, C(1)));
    ir_node *c = SUB(SUB(ir_op1(ir, IR_LGAMMA, h, l), ir_op1(ir, IR_LGAMMA, MUL(C(0.5), nu), l)),
                     MUL(C(0.5), LOG(MUL(C(M_PI), nu))));
    return SUB(SUB(c, LOG(a[2])), MUL(h, ir_op1(ir, IR_LOG1P, DIV(MUL(z, z), nu), l)));
  }
  case BI_exponential: return SUB(LOG(a[0]), MUL(a[0], x));
  case BI_gamma:   /* alpha log beta - lgamma(alpha) + (alpha - 1) log x - beta x */
    return SUB(ADD(SUB(MUL(a[0], LOG(a[1])), ir_op1(ir, IR_LGAMMA, a[0], l)), MUL(SUB(a[0], C(1)), LOG(x))),
               MUL(a[1], x));
  default:   /* uniform: the bounds are checked constants */
    return C(-log(a[1]->value - a[0]->value));
  }
#undef ADD
#undef SUB
#undef MUL
#undef DIV
#undef LOG
#undef C
}

static void bounds_text(const ir_param *p, char *buf, size_t size)
{
  char lo[40], hi[40];
  dc_format_double(lo, sizeof lo, p->lo);
  dc_format_double(hi, sizeof hi, p->hi);
  if (p->lo == -INFINITY && p->hi == INFINITY)
    snprintf(buf, size, "no bounds");
  else if (p->hi == INFINITY)
    snprintf(buf, size, "<lower=%s>", lo);
  else if (p->lo == -INFINITY)
    snprintf(buf, size, "<upper=%s>", hi);
  else
    snprintf(buf, size, "<lower=%s, upper=%s>", lo, hi);
}

/*
** The log of the probability the prior puts inside the parameter's bounds: the prior of
** a bounded parameter is its family truncated to the bounds, so this is subtracted.  It
** is 0 where the bounds hold the support, log 1/2 where a symmetric family is cut at its
** (constant) location whatever its scale (half-normal, half-cauchy, half-t), a constant
** from constant arguments, and otherwise an expression of the arguments: a difference of
** normal CDFs (normal, lognormal), -rate lo (exponential without an upper bound).
** NULL after an error.
*/
static int truncation(sema *s, const ast_decl *d, int f, const ir_param *p, ir_node *const *a, ir_node **log_mass)
{
  dc_ir *ir = s->ir;
  const ast_expr *rhs = d->value;
  int bi = prior_families[f].bi, n = family_n_args(f), loc = prior_families[f].location;
  double lo = fmax(p->lo, prior_families[f].lo), hi = p->hi;
  *log_mass = NULL;
  if (bi == BI_uniform || (lo == prior_families[f].lo && hi == INFINITY))
    return 1;
  if (loc >= 0 && a[loc]->op == IR_CONST &&
      ((lo == a[loc]->value && hi == INFINITY) || (hi == a[loc]->value && lo == -INFINITY))) {
    *log_mass = ir_const(ir, -M_LN2);
    return 1;
  }
  double v[3];
  int constant = 1;
  for (int i = 0; i < n; i++) {
    constant &= a[i]->op == IR_CONST;
    v[i] = a[i]->value;
  }
  char b[120];
  bounds_text(p, b, sizeof b);
  if (constant && !isnan(family_mass(bi, v, lo, hi))) {
    double m = family_mass(bi, v, lo, hi);
    if (!(m > 0)) {
      dc_diag_error(s->diag, rhs->loc, "the %s() prior puts no probability inside the bounds of '%s' (%s)", rhs->name,
                    p->name, b);
      return 0;
    }
    *log_mass = ir_const(ir, log(m));
    return 1;
  }
  if (bi == BI_normal || bi == BI_lognormal) {   /* log(Phi(zb) - Phi(za)) */
    double l = bi == BI_lognormal ? log(lo) : lo, h = bi == BI_lognormal ? log(hi) : hi;
    ir_node *za = isinf(l) ? ir_const(ir, l)
                : ir_op2(ir, IR_DIV, ir_op2(ir, IR_SUB, ir_const(ir, l), a[0], d->loc), a[1], d->loc);
    ir_node *zb = isinf(h) ? ir_const(ir, h)
                : ir_op2(ir, IR_DIV, ir_op2(ir, IR_SUB, ir_const(ir, h), a[0], d->loc), a[1], d->loc);
    *log_mass = ir_op2(ir, IR_LOG_PHIDIFF, za, zb, d->loc);
    return 1;
  }
  if (bi == BI_exponential && hi == INFINITY) {   /* log P(X > lo) = -rate lo */
    *log_mass = ir_op2(ir, IR_MUL, ir_const(ir, -lo), a[0], d->loc);
    return 1;
  }
  if (constant)
    dc_diag_error(s->diag, rhs->loc, "the bounds of '%s' (%s) cut the %s() prior: a truncated %s() is only supported "
                  "%s", p->name, b, rhs->name, rhs->name,
                  loc >= 0 ? "with one bound at its location (a half-distribution)" : "on <lower=0>");
  else
    dc_diag_error(s->diag, rhs->loc, "the bounds of '%s' (%s) cut the %s() prior, whose normalising constant would "
                  "then depend on parameters: supported for normal and lognormal (and exponential without an upper "
                  "bound); use constant arguments%s", p->name, b, rhs->name,
                  loc >= 0 ? ", or a bound at a constant location (a half-distribution)" : "");
  return 0;
}

/* Constant arguments in their domains, and the parameter's bounds against the support. */
static int check_prior_args(sema *s, const ast_decl *d, int f, const ir_param *p, ir_node *const *a)
{
  const ast_expr *rhs = d->value;
  int ok = 1;
  for (int i = 0; i < family_n_args(f); i++) {
    const char *name = prior_families[f].arg[i];
    if (a[i]->op == IR_CONST) {
      double v = a[i]->value;
      if (!isfinite(v) || ((prior_families[f].positive >> i & 1) && !(v > 0))) {
        dc_diag_error(s->diag, rhs->args[i]->loc, "%s of %s() must be %s (got %g)", name, rhs->name,
                      prior_families[f].positive >> i & 1 ? "positive and finite" : "finite", v);
        ok = 0;
      }
    } else if (prior_families[f].bi == BI_uniform) {
      dc_diag_error(s->diag, rhs->args[i]->loc, "the bounds of uniform() must be constants");
      ok = 0;
    } else if ((prior_families[f].positive >> i & 1) && (a[i]->op == IR_PARAM || a[i]->op == IR_PARAM_I) &&
               !(s->ir->params[a[i]->index].lo >= 0)) {
      dc_diag_warning(s->diag, rhs->args[i]->loc,
                      "%s of %s() must be positive, but '%s' is not declared with <lower=0> (a negative value "
                      "makes the prior NaN, reported at run time)", name, rhs->name, s->ir->params[a[i]->index].name);
    }
  }
  if (!ok)
    return 0;
  char b[120];
  bounds_text(p, b, sizeof b);
  if (prior_families[f].bi == BI_uniform) {
    if (!(a[0]->value < a[1]->value)) {
      dc_diag_error(s->diag, rhs->loc, "uniform(lo, hi) needs lo < hi (got %g, %g)", a[0]->value, a[1]->value);
      return 0;
    }
    if (p->lo != a[0]->value || p->hi != a[1]->value) {
      char lo[40], hi[40];
      dc_format_double(lo, sizeof lo, a[0]->value);
      dc_format_double(hi, sizeof hi, a[1]->value);
      dc_diag_error(s->diag, rhs->loc, "uniform(%s, %s) needs '%s' declared with <lower=%s, upper=%s> (it has %s)",
                    lo, hi, p->name, lo, hi, b);
      return 0;
    }
  } else if (prior_families[f].lo == 0 && !(p->lo >= 0)) {
    dc_diag_error(s->diag, rhs->loc, "%s() is a distribution on x > 0: declare '%s' with <lower=0> (it has %s)",
                  rhs->name, p->name, b);
    return 0;
  }
  return 1;
}

static void check_prior(sema *s, const ast_decl *d)
{
  dc_ir *ir = s->ir;
  const ast_expr *lhs = d->lhs, *rhs = d->value;
  const symbol *y = (lhs->kind == AST_IDENT || lhs->kind == AST_INDEX || lhs->kind == AST_SLICE)
                      ? lookup(s, lhs->name) : NULL;
  if (!y || y->kind != SYM_PARAM) {
    dc_diag_error(s->diag, lhs->loc, "the left of '~' must be a parameter, an element or a slice");
    return;
  }
  int f = rhs->kind == AST_CALL && builtin_find(rhs->name) >= 0 ? prior_family(builtin_find(rhs->name)) : -1;
  if (f < 0) {
    dc_diag_error(s->diag, rhs->loc, "the right of '~' must be a distribution: normal, student_t, cauchy, "
                  "exponential, lognormal, gamma or uniform");
    return;
  }
  char args[64];
  family_args_text(f, args, sizeof args);
  if (rhs->bar) {
    dc_diag_error(s->diag, rhs->loc, "in priors write '%s ~ %s(%s)', without '|'", lhs->name, rhs->name, args);
    return;
  }
  int n = family_n_args(f);
  if (rhs->n_args != (size_t)n) {
    dc_diag_error(s->diag, rhs->loc, "%s() in a prior takes %d argument%s (%s), got %zu", rhs->name, n,
                  n == 1 ? "" : "s", args, rhs->n_args);
    return;
  }
  for (size_t i = 0; i < rhs->n_args; i++)
    if (rhs->arg_names[i]) {
      dc_diag_error(s->diag, rhs->args[i]->loc, "%s() takes no named arguments", rhs->name);
      return;
    }
  int start = 0, end = 0, p = y->index;
  if (lhs->kind == AST_SLICE && !slice_offsets(s, lhs, &p, &start, &end))
    return;
  s->in_prior = 1;
  int vector = ir->params[y->index].size_kind != IR_SIZE_SCALAR && lhs->kind != AST_INDEX;
  s->loop_param = vector ? y->index : -1;
  s->loop_start = start;
  s->loop_end = end;
  int before = s->diag->n_errors;
  ir_node *x = lhs->kind == AST_INDEX ? lower_index(s, lhs)
             : vector ? ir_leaf(ir, IR_PARAM_I, p, start, lhs->loc) : lower_ident(s, lhs);
  ir_node *a[3] = {NULL, NULL, NULL};
  for (int i = 0; i < n; i++)
    a[i] = lower_val(s, rhs->args[i]);
  s->in_prior = 0;
  s->loop_param = -1;
  if (s->diag->n_errors > before || !check_prior_args(s, d, f, &ir->params[y->index], a))
    return;
  ir_node *lp = family_lpdf(ir, prior_families[f].bi, x, a, d->loc);
  ir_node *log_mass;
  if (!truncation(s, d, f, &ir->params[y->index], a, &log_mass))
    return;
  if (log_mass)
    lp = ir_op2(ir, IR_SUB, lp, log_mass, d->loc);
  ir->priors = dc_xrealloc(ir->priors, (ir->n_priors + 1) * sizeof *ir->priors);
  ir->priors[ir->n_priors++] = (ir_prior){d->loc, y->index, vector ? -1 : (x->op == IR_PARAM ? x->elem : -1),
                                          start, end, lp};
}

/* Declared but never used: harmless, but usually a mistake (an unused parameter never moves). */
static void warn_unused(sema *s)
{
  dc_ir *ir = s->ir;
  char *used_params = dc_xcalloc(ir->n_params + 1, 1), *used_knots = dc_xcalloc(ir->n_knots + 1, 1);
  for (size_t i = 0; i < ir->n_nodes; i++) {
    const ir_node *n = ir->nodes[i];
    if (n->op == IR_PARAM || n->op == IR_PARAM_I)
      used_params[n->index] = 1;
    if (n->op == IR_SPLINE)
      used_params[ir->cs[n->index].param] = 1;
  }
  for (size_t c = 0; c < ir->n_cs; c++)
    used_knots[ir->cs[c].knots] = 1;
  for (size_t p = 0; p < ir->n_params; p++)
    if (!used_params[p])
      dc_diag_warning(s->diag, ir->params[p].loc, "parameter '%s' is not used", ir->params[p].name);
  for (size_t k = 0; k < ir->n_knots; k++) {
    int sizes = 0;
    for (size_t p = 0; p < ir->n_params; p++)
      sizes |= ir->params[p].size_kind == IR_SIZE_KNOTS && ir->params[p].knots == (int)k;
    if (!used_knots[k] && !sizes)
      dc_diag_warning(s->diag, ir->knots[k].loc, "knot set '%s' is not used", ir->knots[k].name);
  }
  free(used_params);
  free(used_knots);
  for (size_t c = 0; c < s->n_comps; c++) {
    const char *name = s->comps[c].decl->name;
    int in_terms = 0;
    for (size_t t = 0; t < ir->n_terms; t++)
      in_terms |= strcmp(ir->terms[t].name, name) == 0;
    if (!in_terms && !s->comps[c].used)
      dc_diag_warning(s->diag, s->comps[c].decl->name_loc, "component '%s' is not part of the intensity", name);
  }
}

int dc_sema(const ast_program *prog, dc_diag *diag, dc_ir *ir)
{
  int before = diag->n_errors;
  sema s = {prog, diag, ir, NULL, 0, NULL, 0, -1, 0, 0, 0, 0};
  const ast_decl *intensity = NULL;

  /* Declarations first, in order: sizes refer to earlier knot sets. */
  for (size_t i = 0; i < prog->n_decls; i++) {
    const ast_decl *d = prog->decls[i];
    switch (d->kind) {
    case DECL_DATA: check_data(&s, d); break;
    case DECL_KNOTS: check_knots(&s, d); break;
    case DECL_PARAM: check_param(&s, d); break;
    case DECL_COMPONENT:
      if (declare(&s, d->name, d->name_loc, SYM_COMPONENT, (int)s.n_comps)) {
        s.comps = dc_xrealloc(s.comps, (s.n_comps + 1) * sizeof *s.comps);
        s.comps[s.n_comps++] = (component){d, 0, NULL, 0};
      }
      break;
    case DECL_INTENSITY:
      if (intensity) {
        dc_diag_error(diag, d->name_loc, "'intensity' is defined twice");
        dc_diag_note(diag, intensity->name_loc, "first defined here");
      } else {
        intensity = d;
      }
      break;
    default:
      break;
    }
  }

  for (size_t i = 0; i < prog->n_decls; i++) {
    const ast_decl *d = prog->decls[i];
    if (d->kind == DECL_INTEGRATE) {
      const symbol *y = lookup(&s, d->name);
      if (!y || y->kind != SYM_DATA) {
        dc_diag_error(diag, d->name_loc, "'%s' is not a data column", d->name);
        continue;
      }
      ir_dim *dim = &ir->dims[y->index];
      if (dim->method_loc.line != dim->loc.line || dim->method_loc.col != dim->loc.col) {
        dc_diag_error(diag, d->loc, "the integration of '%s' is already set", d->name);
        dc_diag_note(diag, dim->method_loc, "set here first");
        continue;
      }
      char *m = check_method(&s, d->value);
      if (m) {
        free(dim->method);
        dim->method = m;
        dim->method_loc = d->loc;
      }
    } else if (d->kind == DECL_PRIOR) {
      check_prior(&s, d);
    }
  }

  if (!prog->block_seen[BLOCK_DATA] && diag->n_errors == before)
    dc_diag_error(diag, (dc_loc){1, 1, 1, 1}, "the model has no 'data' block (declare the columns: data { real x; })");
  if (!intensity) {
    if (diag->n_errors == before)
      dc_diag_error(diag, prog->block_seen[BLOCK_MODEL] ? prog->block_loc[BLOCK_MODEL] : (dc_loc){1, 1, 1, 1},
                    "the model does not define 'intensity' (model { intensity = ...; })");
  } else {
    int unnamed = 0;
    s.lowering_intensity = 1;
    collect_terms(&s, intensity->value, &unnamed);
    s.lowering_intensity = 0;
    ir->logn = ir->terms[0].logn;
    for (size_t t = 1; t < ir->n_terms; t++)
      ir->logn = ir_op2(ir, IR_LSE, ir->logn, ir->terms[t].logn, intensity->loc);
  }
  for (size_t c = 0; c < s.n_comps; c++)
    if (s.comps[c].state == 0)
      component_log(&s, (int)c, s.comps[c].decl->name_loc);

  if (diag->n_errors == before)
    warn_unused(&s);
  free(s.syms);
  free(s.comps);
  return diag->n_errors - before;
}

/* }==================================================================== */
