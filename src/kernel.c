/*
** kernel.c — forms the kernels of a model (see kernel.h): finds each loop's
** inputs (hoisted parameter-only values, spline values), differentiates its
** outputs with deriv.c and orders its statements.
*/
#include "kernel.h"
#include "deriv.h"

#include <stdlib.h>
#include <string.h>

/* {====================================================================
** Inputs
** ===================================================================== */

/* Collects hoisted inputs (maximal parameter-only subtrees) and splines of a per-point expression. */
static void find_inputs(ir_node *n, char *seen, dc_vec *hoisted, dc_vec *splines)
{
  if (seen[n->id])
    return;
  seen[n->id] = 1;
  if (n->op == IR_CONST || n->op == IR_DATA)
    return;
  if (!n->dims) {
    dc_vec_push(hoisted, n);
    return;
  }
  if (n->op == IR_SPLINE) {
    dc_vec_push(splines, n);
    return;
  }
  for (int i = 0; i < 3; i++)
    if (n->a[i])
      find_inputs(n->a[i], seen, hoisted, splines);
}

static void find_params(ir_node *n, char *seen, dc_vec *params)
{
  if (seen[n->id])
    return;
  seen[n->id] = 1;
  if (n->op == IR_PARAM || n->op == IR_PARAM_I) {
    dc_vec_push(params, n);
    return;
  }
  for (int i = 0; i < 3; i++)
    if (n->a[i])
      find_params(n->a[i], seen, params);
}

int dc_hv_index(const dc_kernels *ks, const ir_node *n)
{
  return (size_t)n->id < ks->n_ids ? ks->hv_index[n->id] : -1;
}

int dc_kernels_slot(const dc_kernels *ks, const dc_ir *ir, const ir_node *sp)
{
  for (size_t k = 0; k < ks->n_slot; k++) {
    const ir_node *o = ks->slot[k];
    if (o->a[0] == sp->a[0] && ir->cs[o->index].knots == ir->cs[sp->index].knots)
      return (int)k;
  }
  return -1;
}

static void add_slot(dc_kernels *ks, const dc_ir *ir, ir_node *sp)
{
  if (dc_kernels_slot(ks, ir, sp) >= 0)
    return;
  ks->slot = dc_xrealloc(ks->slot, (ks->n_slot + 1) * sizeof *ks->slot);
  ks->slot[ks->n_slot++] = sp;
}

/* }==================================================================== */

/* {====================================================================
** Statements: what the outputs (and derivatives) need, in id order
** ===================================================================== */

typedef struct {
  const dc_kernel *k;
  char *is_in, *mark;
} walk;

static void walk_init(walk *w, const dc_ir *ir, const dc_kernel *k)
{
  w->k = k;
  w->is_in = dc_xcalloc(ir->n_nodes + 1, 1);
  w->mark = dc_xcalloc(ir->n_nodes + 1, 1);
  for (size_t i = 0; i < k->n_in; i++)
    w->is_in[k->in[i]->id] = 1;
}

static void walk_free(walk *w)
{
  free(w->is_in);
  free(w->mark);
}

/* Marks n and what it needs with `tag`; stops at inputs, constants and columns.  A spline
** input is a statement of its own, and where the data rows do not locate it, its abscissa
** is computed first. */
static size_t mark(walk *w, ir_node *n, char tag)
{
  if (w->mark[n->id] || n->op == IR_CONST || n->op == IR_DATA)
    return 0;
  if (w->is_in[n->id] && n->op != IR_SPLINE)
    return 0;
  w->mark[n->id] = tag;
  size_t count = 1;
  if (n->op == IR_SPLINE && w->is_in[n->id]) {
    if (w->k->kind != DC_K_DATA && w->k->kind != DC_K_DATA_GROUP)
      count += mark(w, n->a[0], tag);
    return count;
  }
  for (int i = 0; i < 3; i++)
    if (n->a[i])
      count += mark(w, n->a[i], tag);
  return count;
}

/* The derivative statements beyond the values: the cost of a mode. */
static size_t derivative_statements(const dc_ir *ir, const dc_kernel *k, ir_node **d)
{
  walk w;
  walk_init(&w, ir, k);
  for (size_t r = 0; r < k->n_out; r++)
    mark(&w, k->out[r], 1);
  size_t n = 0;
  for (size_t i = 0; i < k->n_out * k->n_in; i++)
    if (d[i])
      n += mark(&w, d[i], 2);
  walk_free(&w);
  return n;
}

/* The statements of k in order; with derivs, its derivatives' too. */
static ir_node **schedule(const dc_ir *ir, const dc_kernel *k, int derivs, size_t *n_stmt)
{
  walk w;
  walk_init(&w, ir, k);
  for (size_t r = 0; r < k->n_out; r++)
    mark(&w, k->out[r], 1);
  for (size_t i = 0; derivs && k->d && i < k->n_out * k->n_in; i++)
    if (k->d[i])
      mark(&w, k->d[i], 1);
  size_t n = 0;
  for (size_t id = 0; id < ir->n_nodes; id++)
    n += w.mark[id] != 0;
  ir_node **s = dc_xcalloc(n + 1, sizeof *s);
  n = 0;
  for (size_t id = 0; id < ir->n_nodes; id++)   /* children have smaller ids: a valid order */
    if (w.mark[id])
      s[n++] = ir->nodes[id];
  walk_free(&w);
  *n_stmt = n;
  return s;
}

/* }==================================================================== */

/* {====================================================================
** Formation
** ===================================================================== */

static dc_kernel *new_kernel(dc_kernels *ks, dc_kernel_kind kind, const char *name, dc_loc loc)
{
  ks->k = dc_xrealloc(ks->k, (ks->n + 1) * sizeof *ks->k);
  dc_kernel *k = &ks->k[ks->n++];
  memset(k, 0, sizeof *k);
  k->kind = kind;
  snprintf(k->name, sizeof k->name, "%s", name);
  k->loc = loc;
  k->prior = k->term = -1;
  return k;
}

static void set_outputs(dc_kernel *k, ir_node *const *out, size_t n)
{
  k->out = dc_xcalloc(n + 1, sizeof *k->out);
  if (n)
    memcpy(k->out, out, n * sizeof *out);
  k->n_out = n;
  for (size_t r = 0; r < n; r++)
    k->dims |= out[r]->dims;
}

static void set_inputs(dc_kernel *k, const dc_vec *a, const dc_vec *b)
{
  k->n_in = a->n + (b ? b->n : 0);
  k->in = dc_xcalloc(k->n_in + 1, sizeof *k->in);
  k->diff = dc_xcalloc(k->n_in + 1, 1);
  for (size_t i = 0; i < k->n_in; i++) {
    k->in[i] = i < a->n ? a->v[i] : b->v[i - a->n];
    k->diff[i] = k->in[i]->params != 0;
  }
}

/* Differentiates a kernel's one output in both modes and keeps forward mode unless reverse
** is more than a quarter smaller.  Forward derivatives are made alongside the values;
** a reverse sweep starts only after the output's value, which lengthens the path each
** point takes to the adjoint scatter: on GD-1's data loop, forward with 16 statements ran
** 4% faster than reverse with 14.  Mixtures (K terms) go reverse: forward grows as K^2. */
static void differentiate_one(dc_ir *ir, dc_kernel *k);

/* Each output of a kernel differentiated on its own (the terms of a data group). */
static void differentiate(dc_ir *ir, dc_kernel *k)
{
  if (k->n_out == 1) {
    differentiate_one(ir, k);
    return;
  }
  ir_node **d = dc_xcalloc(k->n_out * k->n_in + 1, sizeof *d);
  ir_node **out = k->out;
  size_t n_out = k->n_out, fw = 0, rv = 0;
  int tried = 1, any_reverse = 0;
  for (size_t r = 0; r < n_out; r++) {
    k->out = &out[r];
    k->n_out = 1;
    differentiate_one(ir, k);
    memcpy(d + r * k->n_in, k->d, k->n_in * sizeof *d);
    free(k->d);
    fw += k->cost_forward;
    rv += k->cost_reverse;
    tried &= k->tried_forward;
    any_reverse |= k->mode == DC_AD_REVERSE;
  }
  k->out = out;
  k->n_out = n_out;
  k->d = d;
  k->cost_forward = fw;
  k->cost_reverse = rv;
  k->tried_forward = tried;
  k->mode = any_reverse ? DC_AD_REVERSE : DC_AD_FORWARD;
}

static void differentiate_one(dc_ir *ir, dc_kernel *k)
{
  size_t n = k->n_in;
  ir_node **leaves = dc_xcalloc(n + 1, sizeof *leaves), **rev = dc_xcalloc(n + 1, sizeof *rev);
  ir_node **fwdd = dc_xcalloc(n + 1, sizeof *fwdd);
  size_t nl = 0;
  for (size_t i = 0; i < n; i++)
    if (k->diff[i])
      leaves[nl++] = k->in[i];
  ir_node **tmp = dc_xcalloc(nl + 1, sizeof *tmp);
  dc_reverse(ir, k->out[0], leaves, nl, tmp);
  for (size_t i = 0, j = 0; i < n; i++)
    rev[i] = k->diff[i] ? tmp[j++] : NULL;
  k->cost_reverse = derivative_statements(ir, k, rev);
  /* forward is tried while its tangents stay within a few times the reverse sweep's size */
  memset(tmp, 0, (nl + 1) * sizeof *tmp);
  int tried = dc_forward(ir, k->out, 1, leaves, nl, tmp, 4 * k->cost_reverse + 64) != DC_FORWARD_TOO_BIG;
  k->tried_forward = tried;
  if (tried) {
    for (size_t i = 0, j = 0; i < n; i++)
      fwdd[i] = k->diff[i] ? tmp[j++] : NULL;
    k->cost_forward = derivative_statements(ir, k, fwdd);
  }
  if (tried && k->cost_forward <= k->cost_reverse + k->cost_reverse / 4 + 2) {
    k->mode = DC_AD_FORWARD;
    k->d = fwdd;
    free(rev);
  } else {
    k->mode = DC_AD_REVERSE;
    k->d = rev;
    free(fwdd);
  }
  free(tmp);
  free(leaves);
}

/* Is n affine in the kernel's inputs, with constant coefficients?  *c0: its value with
** every input 0. */
static int affine(const ir_node *n, const char *is_in, double *c0)
{
  double a, b;
  if (is_in[n->id]) {
    *c0 = 0;
    return 1;
  }
  switch (n->op) {
  case IR_CONST: *c0 = n->value; return 1;
  case IR_ADD: case IR_SUB:
    if (!affine(n->a[0], is_in, &a) || !affine(n->a[1], is_in, &b))
      return 0;
    *c0 = n->op == IR_ADD ? a + b : a - b;
    return 1;
  case IR_NEG:
    if (!affine(n->a[0], is_in, &a))
      return 0;
    *c0 = -a;
    return 1;
  case IR_MUL:
    if (n->a[0]->op == IR_CONST && affine(n->a[1], is_in, &b)) {
      *c0 = n->a[0]->value * b;
      return 1;
    }
    return 0;
  case IR_DIV:
    if (n->a[1]->op == IR_CONST && affine(n->a[0], is_in, &a)) {
      *c0 = a / n->a[1]->value;
      return 1;
    }
    return 0;
  default: return 0;
  }
}

/* A loop over points (data rows, quadrature nodes, given points) computing roots. */
static dc_kernel *point_kernel(dc_ir *ir, dc_kernels *ks, dc_kernel_kind kind, const char *name, dc_loc loc,
                               ir_node *const *roots, size_t n_roots, int derivs)
{
  dc_kernel *k = new_kernel(ks, kind, name, loc);
  set_outputs(k, roots, n_roots);
  char *seen = dc_xcalloc(ir->n_nodes + 1, 1);
  dc_vec hoisted = {0}, splines = {0};
  for (size_t r = 0; r < n_roots; r++)
    find_inputs(roots[r], seen, &hoisted, &splines);
  free(seen);
  set_inputs(k, &hoisted, &splines);
  if (kind == DC_K_DATA || kind == DC_K_DATA_GROUP)
    for (size_t i = 0; i < splines.n; i++)
      add_slot(ks, ir, splines.v[i]);
  dc_vec_free(&hoisted);
  dc_vec_free(&splines);
  if (derivs)
    differentiate(ir, k);
  if (kind == DC_K_DATA && k->d) {
    char *is_in = dc_xcalloc(ir->n_nodes + 1, 1);
    for (size_t i = 0; i < k->n_in; i++)
      is_in[k->in[i]->id] = 1;
    k->affine = affine(k->out[0], is_in, &k->affine_c0) && k->n_in > 0;
    for (size_t i = 0; k->affine && i < k->n_in; i++)
      k->affine = !k->d[i] || k->d[i]->op == IR_CONST;
    free(is_in);
  }
  return k;
}

/* Parameter values in, the given parameter-only values out, forward mode. */
static dc_kernel *prelude_kernel(dc_ir *ir, dc_kernels *ks, const char *name, ir_node *const *out, size_t n,
                                 int derivs)
{
  dc_kernel *k = new_kernel(ks, DC_K_PRELUDE, name, (dc_loc){0, 0, 0, 0});
  set_outputs(k, out, n);
  char *seen = dc_xcalloc(ir->n_nodes + 1, 1);
  dc_vec params = {0};
  for (size_t r = 0; r < n; r++)
    find_params(out[r], seen, &params);
  free(seen);
  set_inputs(k, &params, NULL);
  dc_vec_free(&params);
  if (derivs) {
    k->d = dc_xcalloc(n * k->n_in + 1, sizeof *k->d);
    k->mode = DC_AD_FORWARD;
    dc_forward(ir, k->out, n, k->in, k->n_in, k->d, 0);
    k->cost_forward = derivative_statements(ir, k, k->d);
  }
  return k;
}

void dc_kernels_form(dc_ir *ir, dc_kernels *ks)
{
  memset(ks, 0, sizeof *ks);
  ir_node *loglik = ir_expand(ir, ir->logn);
  ks->exact = dc_xcalloc(ir->n_terms + 1, sizeof *ks->exact);
  ks->numeric = dc_xcalloc(ir->n_terms + 1, sizeof *ks->numeric);
  for (size_t t = 0; t < ir->n_terms; t++) {
    ks->exact[t] = ir_expand(ir, ir->terms[t].exact.integrand);
    ks->numeric[t] = ir_expand(ir, ir->terms[t].numeric.integrand);
  }

  /* the hoisted values of log_density: the parameter-only parts of every point loop, and
     the fully analytic integrals */
  dc_vec ops = {0};
  ir_lse_operands(ir->logn, &ops);
  if (ops.n > DC_TERM_GROUP) {
    ks->n_sum = ops.n;
    for (size_t i = 0; i < ops.n; i++)
      ops.v[i] = ir_expand(ir, ops.v[i]);
  }
  char *seen = dc_xcalloc(ir->n_nodes + 1, 1);
  dc_vec h = {0}, splines = {0};
  if (ks->n_sum)
    for (size_t i = 0; i < ops.n; i++)
      find_inputs(ops.v[i], seen, &h, &splines);
  else
    find_inputs(loglik, seen, &h, &splines);
  for (size_t t = 0; t < ir->n_terms; t++) {
    if (ks->exact[t]->dims)
      find_inputs(ks->exact[t], seen, &h, &splines);
    else if (!seen[ks->exact[t]->id]) {
      seen[ks->exact[t]->id] = 1;
      dc_vec_push(&h, ks->exact[t]);
    }
    find_inputs(ks->numeric[t], seen, &h, &splines);
  }
  free(seen);
  dc_vec_free(&splines);
  ks->n_hv = h.n;
  ks->hv = (ir_node **)h.v;   /* taken over */
  ks->n_ids = ir->n_nodes;
  ks->hv_index = dc_xmalloc((ks->n_ids + 1) * sizeof *ks->hv_index);
  for (size_t i = 0; i <= ks->n_ids; i++)
    ks->hv_index[i] = -1;
  for (size_t i = 0; i < ks->n_hv; i++)
    ks->hv_index[ks->hv[i]->id] = (int)i;

  for (size_t r0 = 0, g = 0; r0 < ks->n_hv || g == 0; r0 += DC_PRELUDE_GROUP, g++) {
    char name[64];
    size_t n = ks->n_hv - r0 < DC_PRELUDE_GROUP ? ks->n_hv - r0 : DC_PRELUDE_GROUP;
    snprintf(name, sizeof name, "prelude_%zu", g);
    dc_kernel *k = prelude_kernel(ir, ks, name, ks->hv + r0, n, 1);
    k->group = (int)g;
    k->first = r0;
  }
  if (ks->n_sum) {
    /* a large sum: its terms in groups, combined row by row in the data kernel */
    for (size_t t0 = 0, g = 0; t0 < ops.n; t0 += DC_TERM_GROUP, g++) {
      char name[64];
      size_t n = ops.n - t0 < DC_TERM_GROUP ? ops.n - t0 : DC_TERM_GROUP;
      snprintf(name, sizeof name, "data_group_%zu", g);
      dc_kernel *k = point_kernel(ir, ks, DC_K_DATA_GROUP, name, ir->terms[0].loc, (ir_node **)ops.v + t0, n, 1);
      k->group = (int)g;
      k->first = t0;
    }
  } else {
    point_kernel(ir, ks, DC_K_DATA, "data_kernel", ir->terms[0].loc, &loglik, 1, 1);
  }
  dc_vec_free(&ops);
  for (size_t t = 0; t < ir->n_terms; t++)
    for (int plan = ks->exact[t] == ks->numeric[t] ? 1 : 0; plan < 2; plan++) {
      ir_node *root = plan == 0 ? ks->exact[t] : ks->numeric[t];
      if (plan == 0 && !root->dims)
        continue;   /* fully analytic: no loop (the numeric plan of a constant term has one node) */
      char name[64];
      snprintf(name, sizeof name, "term%zu_%s_kernel", t, plan == 0 ? "exact" : "numeric");
      dc_kernel *k = point_kernel(ir, ks, DC_K_QUAD, name, ir->terms[t].loc, &root, 1, 1);
      k->term = (int)t;
      k->plan = plan;
    }
  for (size_t p = 0; p < ir->n_priors; p++) {
    ir_node *lp = ir_expand(ir, ir->priors[p].lp);
    char name[64];
    snprintf(name, sizeof name, "prior%zu", p);
    dc_kernel *k = new_kernel(ks, DC_K_PRIOR, name, ir->priors[p].loc);
    k->prior = (int)p;
    set_outputs(k, &lp, 1);
    char *ps = dc_xcalloc(ir->n_nodes + 1, 1);
    dc_vec params = {0};
    find_params(lp, ps, &params);
    free(ps);
    set_inputs(k, &params, NULL);
    dc_vec_free(&params);
    differentiate(ir, k);
  }

  /* log_terms: groups of terms, each its own prelude (values only) and loop over the points */
  ir_node **roots = dc_xcalloc(ir->n_terms + 1, sizeof *roots);
  for (size_t t = 0; t < ir->n_terms; t++)
    roots[t] = ir_expand(ir, ir->terms[t].logn);
  for (size_t t0 = 0, g = 0; t0 < ir->n_terms; t0 += DC_TERM_GROUP, g++) {
    char name[64];
    size_t n = ir->n_terms - t0 < DC_TERM_GROUP ? ir->n_terms - t0 : DC_TERM_GROUP;
    snprintf(name, sizeof name, "log_terms_%zu", g);
    dc_kernel *tk = point_kernel(ir, ks, DC_K_TERMS, name, ir->terms[t0].loc, roots + t0, n, 0);
    tk->group = (int)g;
    tk->first = t0;
    size_t n_h = 0;
    ir_node **th = dc_xcalloc(tk->n_in + 1, sizeof *th);
    for (size_t i = 0; i < tk->n_in; i++)
      if (tk->in[i]->op != IR_SPLINE)
        th[n_h++] = tk->in[i];
    snprintf(name, sizeof name, "log_terms_%zu_prelude", g);
    dc_kernel *pk = prelude_kernel(ir, ks, name, th, n_h, 0);
    pk->group = (int)g;
    free(th);
  }
  free(roots);

  if (ks->n_slot) {
    ir_node **x = dc_xcalloc(ks->n_slot + 1, sizeof *x);
    for (size_t s = 0; s < ks->n_slot; s++)
      x[s] = ks->slot[s]->a[0];
    dc_kernel *k = new_kernel(ks, DC_K_LOCATE, "locate_data", ir->terms[0].loc);
    set_outputs(k, x, ks->n_slot);
    free(x);
  }

  for (size_t i = 0; i < ks->n; i++) {
    ks->k[i].stmt = schedule(ir, &ks->k[i], 1, &ks->k[i].n_stmt);
    if (ks->k[i].kind == DC_K_DATA_GROUP)
      ks->k[i].vstmt = schedule(ir, &ks->k[i], 0, &ks->k[i].n_vstmt);
  }
}

void dc_kernels_free(dc_kernels *ks)
{
  for (size_t i = 0; i < ks->n; i++) {
    free(ks->k[i].out);
    free(ks->k[i].in);
    free(ks->k[i].diff);
    free(ks->k[i].d);
    free(ks->k[i].stmt);
    free(ks->k[i].vstmt);
  }
  free(ks->k);
  free(ks->hv);
  free(ks->hv_index);
  free(ks->slot);
  free(ks->exact);
  free(ks->numeric);
  memset(ks, 0, sizeof *ks);
}

/* }==================================================================== */

/* {====================================================================
** --debug-kernels, --debug-grad
** ===================================================================== */

static const char *const kind_names[] = {"prelude", "data rows", "quadrature nodes", "prior", "points",
                                         "data rows", "data rows (a group of terms)"};

static void ref(FILE *out, const ir_node *n)
{
  if (!n)
    fputs("0", out);
  else if (n->op == IR_CONST)
    fprintf(out, "%.17g", n->value);
  else
    fprintf(out, "%%%d", n->id);
}

void dc_kernels_dump(const dc_ir *ir, const dc_kernels *ks, int grad, FILE *out)
{
  for (size_t i = 0; i < ks->n; i++) {
    const dc_kernel *k = &ks->k[i];
    fprintf(out, "kernel %s over %s", k->name, kind_names[k->kind]);
    if (k->kind == DC_K_QUAD)
      fprintf(out, " of term '%s', %s plan", ir->terms[k->term].name, k->plan ? "numeric" : "exact");
    if (k->kind == DC_K_PRIOR)
      fprintf(out, " on '%s'", ir->params[ir->priors[k->prior].param].name);
    if (k->loc.line > 0)
      fprintf(out, " (line %d)", k->loc.line);
    fputc('\n', out);
    if (grad && k->affine)
      fprintf(out, "  affine in its inputs: the sum over the rows from moments (c0 = %.17g)\n", k->affine_c0);
    if (grad && k->mode != DC_AD_NONE) {
      fprintf(out, "  %s mode:", k->mode == DC_AD_FORWARD ? "forward" : "reverse");
      if (k->kind == DC_K_PRELUDE || k->tried_forward)
        fprintf(out, " forward %zu", k->cost_forward);
      else
        fputs(" forward (over 4x reverse, not made)", out);
      if (k->kind != DC_K_PRELUDE)
        fprintf(out, " reverse %zu", k->cost_reverse);
      fputs(" derivative statements\n", out);
    }
    for (size_t j = 0; j < k->n_in; j++) {
      const ir_node *n = k->in[j];
      fputs("  in ", out);
      ref(out, n);
      if (n->op == IR_SPLINE)
        fprintf(out, " = spline cs%d at %%%d", n->index, n->a[0]->id);
      else if (k->kind == DC_K_PRELUDE || k->kind == DC_K_PRIOR) {
        fputs(" = ", out);
        ir_node_print(ir, n, out);
      }
      else if (dc_hv_index(ks, n) >= 0)
        fprintf(out, " = hv[%d]", dc_hv_index(ks, n));
      if (grad && k->d)
        fputs(k->diff[j] ? "" : " (constant)", out);
      fputc('\n', out);
    }
    size_t n_stmt;
    ir_node **s = grad ? k->stmt : schedule(ir, k, 0, &n_stmt);
    if (grad)
      n_stmt = k->n_stmt;
    for (size_t j = 0; j < n_stmt; j++) {
      fprintf(out, "  %%%d = ", s[j]->id);
      ir_node_print(ir, s[j], out);
      fputc('\n', out);
    }
    if (!grad)
      free(s);
    for (size_t r = 0; r < k->n_out; r++) {
      fputs("  out ", out);
      ref(out, k->out[r]);
      fputc('\n', out);
      for (size_t j = 0; grad && k->d && j < k->n_in; j++)
        if (k->d[r * k->n_in + j]) {
          fputs("    d/d", out);
          ref(out, k->in[j]);
          fputs(" = ", out);
          ref(out, k->d[r * k->n_in + j]);
          fputc('\n', out);
        }
    }
  }
}

/* }==================================================================== */
