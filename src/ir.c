/*
** ir.c — IR node store: hash-consed, constant-folded nodes, the expansion
** of normal log densities and n-ary log-sum-exps, and the --debug-ir dump.
*/
#include "ir.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *name;
  int arity;
} op_info[IR__COUNT] = {
#define X(name, arity) {#name, arity},
  DC_IR_OPS(X)
#undef X
};

const char *ir_op_name(ir_op op)
{
  return op_info[op].name;
}

void dc_ir_init(dc_ir *ir)
{
  memset(ir, 0, sizeof *ir);
}

void dc_ir_free(dc_ir *ir)
{
  for (size_t i = 0; i < ir->n_dims; i++) {
    free(ir->dims[i].name);
    free(ir->dims[i].method);
    free(ir->dims[i].unit);
  }
  for (size_t i = 0; i < ir->n_knots; i++) {
    free(ir->knots[i].name);
    free(ir->knots[i].spec);
    free(ir->knots[i].t);
  }
  for (size_t i = 0; i < ir->n_params; i++)
    free(ir->params[i].name);
  for (size_t i = 0; i < ir->n_terms; i++) {
    free(ir->terms[i].name);
    free(ir->terms[i].brk_knots);
  }
  for (size_t i = 0; i < ir->n_nodes; i++)
    free(ir->nodes[i]);
  free(ir->dims);
  free(ir->knots);
  free(ir->params);
  free(ir->cs);
  free(ir->terms);
  free(ir->priors);
  free(ir->nodes);
  memset(ir, 0, sizeof *ir);
}

/* {====================================================================
** Hash-consing
** ===================================================================== */

static unsigned hash_key(ir_op op, ir_node *const a[3], double value, int index, int elem)
{
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  uint64_t h = (uint64_t)op * 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 3; i++)
    h = (h ^ (uint64_t)(a[i] ? a[i]->id + 1 : 0)) * 0x100000001B3u;
  h = (h ^ bits) * 0x100000001B3u;
  h = (h ^ (uint64_t)(uint32_t)index) * 0x100000001B3u;
  h = (h ^ (uint64_t)(uint32_t)elem) * 0x100000001B3u;
  return (unsigned)(h >> 40) % 1024u;
}

static ir_node *intern(dc_ir *ir, ir_op op, ir_node *a0, ir_node *a1, ir_node *a2, double value, int index, int elem,
                       dc_loc loc)
{
  ir_node *a[3] = {a0, a1, a2};
  unsigned h = hash_key(op, a, value, index, elem);
  for (ir_node *n = ir->hash[h]; n; n = n->next) {
    if (n->op == op && n->a[0] == a0 && n->a[1] == a1 && n->a[2] == a2 && n->index == index && n->elem == elem &&
        memcmp(&n->value, &value, sizeof value) == 0)
      return n;
  }
  ir_node *n = dc_xcalloc(1, sizeof *n);
  n->op = op;
  n->id = (int)ir->n_nodes;
  memcpy(n->a, a, sizeof a);
  n->value = value;
  n->index = index;
  n->elem = elem;
  n->loc = loc;
  for (int i = 0; i < 3; i++)
    if (a[i]) {
      n->dims |= a[i]->dims;
      n->params |= a[i]->params;
      n->loop_i |= a[i]->loop_i;
    }
  switch (op) {
  case IR_DATA: n->dims = 1u << index; break;
  case IR_PARAM: n->params = 1; break;
  case IR_PARAM_I: n->params = 1; n->loop_i = 1; break;
  case IR_SPLINE: n->params = 1; break;
  default: break;
  }
  n->next = ir->hash[h];
  ir->hash[h] = n;
  if (ir->n_nodes == ir->cap_nodes) {
    ir->cap_nodes = ir->cap_nodes ? 2 * ir->cap_nodes : 64;
    ir->nodes = dc_xrealloc(ir->nodes, ir->cap_nodes * sizeof *ir->nodes);
  }
  ir->nodes[ir->n_nodes++] = n;
  return n;
}

/* }==================================================================== */

/* {====================================================================
** Constructors with folding
** ===================================================================== */

static const dc_loc noloc = {0, 0, 0, 0};

ir_node *ir_const(dc_ir *ir, double v)
{
  if (v == 0)
    v = 0; /* one zero: -0.0 and 0.0 fold together */
  return intern(ir, IR_CONST, NULL, NULL, NULL, v, 0, 0, noloc);
}

ir_node *ir_leaf(dc_ir *ir, ir_op op, int index, int elem, dc_loc loc)
{
  return intern(ir, op, NULL, NULL, NULL, 0, index, elem, loc);
}

/* A power of two (times which a product is exact, short of over- and underflow)? */
static int pow2(double c)
{
  int e;
  return isfinite(c) && c != 0 && fabs(frexp(c, &e)) == 0.5;
}

static int is_const(const ir_node *n, double v)
{
  return n->op == IR_CONST && n->value == v;
}

static double lse(double a, double b)
{
  double m = fmax(a, b);
  return m == -INFINITY ? m : m + log1p(exp(-fabs(a - b)));
}

ir_node *ir_op1(dc_ir *ir, ir_op op, ir_node *a, dc_loc loc)
{
  if (a->op == IR_CONST) {
    double x = a->value;
    switch (op) {
    case IR_NEG: return ir_const(ir, -x);
    case IR_EXP: return ir_const(ir, exp(x));
    case IR_LOG: if (x > 0) return ir_const(ir, log(x)); break;
    case IR_LOG1P: if (x > -1) return ir_const(ir, log1p(x)); break;
    case IR_SQRT: if (x >= 0) return ir_const(ir, sqrt(x)); break;
    case IR_LGAMMA: if (x > 0) return ir_const(ir, lgamma(x)); break;
    case IR_SHIFT: return ir_const(ir, x == -INFINITY ? 0 : x);
    default: break;
    }
  }
  if (op == IR_LOG && a->op == IR_EXP)
    return a->a[0];
  if (op == IR_NEG && a->op == IR_NEG)
    return a->a[0];
  if (op == IR_NEG && a->op == IR_MUL && a->a[0]->op == IR_CONST)   /* -(c x) = (-c) x */
    return ir_op2(ir, IR_MUL, ir_const(ir, -a->a[0]->value), a->a[1], loc);
  return intern(ir, op, a, NULL, NULL, 0, 0, 0, loc);
}

ir_node *ir_op2(dc_ir *ir, ir_op op, ir_node *a, ir_node *b, dc_loc loc)
{
  if (a->op == IR_CONST && b->op == IR_CONST) {
    double x = a->value, y = b->value;
    switch (op) {
    case IR_ADD: return ir_const(ir, x + y);
    case IR_SUB: return ir_const(ir, x - y);
    case IR_MUL: return ir_const(ir, x * y);
    case IR_DIV: if (y != 0) return ir_const(ir, x / y); break;
    case IR_POW: return ir_const(ir, pow(x, y));
    case IR_LSE: return ir_const(ir, lse(x, y));
    case IR_MAX: return ir_const(ir, fmax(x, y));
    default: break;
    }
  }
  switch (op) {
  case IR_ADD:
    if (is_const(a, 0)) return b;
    if (is_const(b, 0)) return a;
    if (a == b) return ir_op2(ir, IR_MUL, ir_const(ir, 2), a, loc);   /* x + x = 2 x, exactly */
    if (b->op == IR_NEG) return ir_op2(ir, IR_SUB, a, b->a[0], loc);
    if (a->op == IR_NEG) return ir_op2(ir, IR_SUB, b, a->a[0], loc);
    break;
  case IR_SUB:
    if (is_const(b, 0)) return a;
    if (is_const(a, 0)) return ir_op1(ir, IR_NEG, b, loc);
    if (b->op == IR_NEG) return ir_op2(ir, IR_ADD, a, b->a[0], loc);
    if (a->op == IR_NEG) return ir_op1(ir, IR_NEG, ir_op2(ir, IR_ADD, a->a[0], b, loc), loc);   /* -x - y */
    break;
  case IR_MUL:
    if (is_const(a, 1)) return b;
    if (is_const(b, 1)) return a;
    if (is_const(a, -1)) return ir_op1(ir, IR_NEG, b, loc);
    if (b->op == IR_CONST && a->op != IR_CONST) return ir_op2(ir, IR_MUL, b, a, loc); /* constant first */
    /* signs and power-of-two factors gathered: the same double, short of over- and underflow
       in c1 (c2 x) and of the sign of a zero result in -x - y; the derivative pass writes
       chains such as -0.5 * (v * -w + v * -w) */
    if (a->op == IR_CONST && b->op == IR_NEG) return ir_op2(ir, IR_MUL, ir_const(ir, -a->value), b->a[0], loc);
    if (a->op == IR_NEG) return ir_op1(ir, IR_NEG, ir_op2(ir, IR_MUL, a->a[0], b, loc), loc);
    if (b->op == IR_NEG) return ir_op1(ir, IR_NEG, ir_op2(ir, IR_MUL, a, b->a[0], loc), loc);
    if (a->op == IR_CONST && b->op == IR_MUL && b->a[0]->op == IR_CONST &&
        (pow2(a->value) || pow2(b->a[0]->value)))
      return ir_op2(ir, IR_MUL, ir_const(ir, a->value * b->a[0]->value), b->a[1], loc);
    break;
  case IR_DIV:
    if (is_const(b, 1)) return a;
    /* a / e^x = a e^-x: a multiplication instead of a division (whose latency the point
       loops wait on), and the derivative in x is -(a e^-x) without e^x itself */
    if (b->op == IR_EXP) {
      ir_node *r = ir_op1(ir, IR_EXP, ir_op1(ir, IR_NEG, b->a[0], loc), loc);
      return is_const(a, 1) ? r : ir_op2(ir, IR_MUL, a, r, loc);
    }
    break;
  case IR_POW:
    if (is_const(b, 1)) return a;
    break;
  default:
    break;
  }
  return intern(ir, op, a, b, NULL, 0, 0, 0, loc);
}

ir_node *ir_op3(dc_ir *ir, ir_op op, ir_node *a, ir_node *b, ir_node *c, dc_loc loc)
{
  return intern(ir, op, a, b, c, 0, 0, 0, loc);
}

int ir_coefset_get(dc_ir *ir, int knots, int kind, int param)
{
  for (size_t i = 0; i < ir->n_cs; i++)
    if (ir->cs[i].knots == knots && ir->cs[i].kind == kind && ir->cs[i].param == param)
      return (int)i;
  ir->cs = dc_xrealloc(ir->cs, (ir->n_cs + 1) * sizeof *ir->cs);
  ir->cs[ir->n_cs] = (ir_coefset){knots, kind, param};
  return (int)ir->n_cs++;
}

ir_node *ir_spline(dc_ir *ir, int coefset, ir_node *x, dc_loc loc)
{
  return intern(ir, IR_SPLINE, x, NULL, NULL, 0, coefset, 0, loc);
}

ir_node *ir_logndiff(dc_ir *ir, int dim, ir_node *mu, ir_node *sigma, dc_loc loc)
{
  return intern(ir, IR_LOG_NDIFF, mu, sigma, NULL, 0, dim, 0, loc);
}

ir_node *ir_logwidth(dc_ir *ir, int dim)
{
  return intern(ir, IR_LOG_WIDTH, NULL, NULL, NULL, 0, dim, 0, noloc);
}

static ir_node *expand_rec(dc_ir *ir, ir_node *n, ir_node **memo);

void ir_lse_operands(ir_node *n, dc_vec *ops)
{
  if (n->op != IR_LSE) {
    dc_vec_push(ops, n);
    return;
  }
  for (int i = 0; i < 2; i++)
    ir_lse_operands(n->a[i], ops);
}

static ir_node *expand_lse_n(dc_ir *ir, ir_node *n, ir_node **memo)
{
  dc_vec ops = {0};
  ir_lse_operands(n, &ops);
  for (size_t i = 0; i < ops.n; i++)
    ops.v[i] = expand_rec(ir, ops.v[i], memo);
  ir_node *mx = ops.v[0];
  for (size_t i = 1; i < ops.n; i++)
    mx = ir_op2(ir, IR_MAX, mx, ops.v[i], n->loc);   /* branch-free */
  mx = ir_op1(ir, IR_SHIFT, mx, n->loc);
  ir_node *s = NULL;
  for (size_t i = 0; i < ops.n; i++) {
    ir_node *e = ir_op1(ir, IR_EXP, ir_op2(ir, IR_SUB, ops.v[i], mx, n->loc), n->loc);
    s = s ? ir_op2(ir, IR_ADD, s, e, n->loc) : e;
  }
  dc_vec_free(&ops);
  return ir_op2(ir, IR_ADD, mx, ir_op1(ir, IR_LOG, s, n->loc), n->loc);
}

/* Rebuilds n bottom-up; normal log densities become arithmetic so that
** log(sigma) and friends are seen as parameter-only and hoisted. */
static ir_node *expand_rec(dc_ir *ir, ir_node *n, ir_node **memo)
{
  if (memo[n->id])
    return memo[n->id];
  if (n->op == IR_LSE && (n->a[0]->op == IR_LSE || n->a[1]->op == IR_LSE)) {
    ir_node *r = expand_lse_n(ir, n, memo);
    memo[n->id] = r;
    return r;
  }
  ir_node *a[3] = {NULL, NULL, NULL};
  for (int i = 0; i < 3; i++)
    if (n->a[i])
      a[i] = expand_rec(ir, n->a[i], memo);
  ir_node *r;
  switch (n->op) {
  case IR_NORMAL_LPDF: {
    ir_node *z = ir_op2(ir, IR_DIV, ir_op2(ir, IR_SUB, a[0], a[1], n->loc), a[2], n->loc);
    ir_node *q = ir_op2(ir, IR_MUL, ir_const(ir, -0.5), ir_op2(ir, IR_MUL, z, z, n->loc), n->loc);
    ir_node *norm = ir_op2(ir, IR_ADD, ir_op1(ir, IR_LOG, a[2], n->loc), ir_const(ir, 0.91893853320467274178), n->loc);
    r = ir_op2(ir, IR_SUB, q, norm, n->loc);
    break;
  }
  case IR_CONST: case IR_DATA: case IR_PARAM: case IR_PARAM_I: case IR_LOG_WIDTH:
    r = n;
    break;
  case IR_SPLINE: r = ir_spline(ir, n->index, a[0], n->loc); break;
  case IR_LOG_NDIFF: r = ir_logndiff(ir, n->index, a[0], a[1], n->loc); break;
  default:
    if (op_info[n->op].arity == 1)
      r = ir_op1(ir, n->op, a[0], n->loc);
    else if (op_info[n->op].arity == 2)
      r = ir_op2(ir, n->op, a[0], a[1], n->loc);
    else
      r = ir_op3(ir, n->op, a[0], a[1], a[2], n->loc);
    break;
  }
  /* memo may have been outgrown by new nodes; only ids below its size are cached */
  memo[n->id] = r;
  return r;
}

ir_node *ir_expand(dc_ir *ir, ir_node *n)
{
  size_t size = (size_t)n->id + 1;
  ir_node **memo = dc_xcalloc(size, sizeof *memo);
  ir_node *r = expand_rec(ir, n, memo);
  free(memo);
  return r;
}

/* }==================================================================== */

/* {====================================================================
** --debug-ir
** ===================================================================== */

/* The parameters node n depends on, as a bit set of `words` words per node (memoised). */
static const uint64_t *param_set(const dc_ir *ir, const ir_node *n, uint64_t *sets, char *known, size_t words)
{
  uint64_t *set = sets + (size_t)n->id * words;
  if (known[n->id])
    return set;
  known[n->id] = 1;
  int p = n->op == IR_PARAM || n->op == IR_PARAM_I ? n->index : n->op == IR_SPLINE ? ir->cs[n->index].param : -1;
  if (p >= 0)
    set[p / 64] |= (uint64_t)1 << (p % 64);
  for (int i = 0; i < 3; i++)
    if (n->a[i]) {
      const uint64_t *c = param_set(ir, n->a[i], sets, known, words);
      for (size_t w = 0; w < words; w++)
        set[w] |= c[w];
    }
  return set;
}

void ir_node_print(const dc_ir *ir, const ir_node *n, FILE *out)
{
  fputs(ir_op_name(n->op), out);
  switch (n->op) {
  case IR_CONST: fprintf(out, " %.17g", n->value); break;
  case IR_DATA: case IR_LOG_WIDTH: fprintf(out, " %s", ir->dims[n->index].name); break;
  case IR_LOG_NDIFF: fprintf(out, " [%s]", ir->dims[n->index].name); break;
  case IR_PARAM: fprintf(out, n->elem >= 0 ? " %s[%d]" : " %s", ir->params[n->index].name, n->elem + 1); break;
  case IR_PARAM_I: fprintf(out, " %s[i%+d]", ir->params[n->index].name, n->elem); break;
  case IR_SPLINE: fprintf(out, " cs%d", n->index); break;
  default: break;
  }
  for (int i = 0; i < 3; i++)
    if (n->a[i])
      fprintf(out, " %%%d", n->a[i]->id);
}

typedef struct {
  char *done, *known;
  uint64_t *sets;
  size_t words;
} dump_state;

static void dump_node(const dc_ir *ir, const ir_node *n, FILE *out, dump_state *st)
{
  char *done = st->done;
  if (done[n->id])
    return;
  done[n->id] = 1;
  for (int i = 0; i < 3; i++)
    if (n->a[i])
      dump_node(ir, n->a[i], out, st);
  fprintf(out, "  %%%d = ", n->id);
  ir_node_print(ir, n, out);
  fprintf(out, "    ; dims=%#x params=", n->dims);
  const uint64_t *set = param_set(ir, n, st->sets, st->known, st->words);
  int any = 0;
  for (size_t p = 0; p < ir->n_params; p++)
    if ((set[p / 64] >> (p % 64)) & 1)
      fprintf(out, "%s%s", any++ ? "," : "", ir->params[p].name);
  fprintf(out, "%s%s\n", any ? "" : "-", n->loop_i ? " loop" : "");
}

void dc_ir_dump(const dc_ir *ir, FILE *out)
{
  dump_state st = {dc_xcalloc(ir->n_nodes + 1, 1), dc_xcalloc(ir->n_nodes + 1, 1), NULL, ir->n_params / 64 + 1};
  st.sets = dc_xcalloc((ir->n_nodes + 1) * st.words, sizeof *st.sets);
  dump_state *done = &st;
  for (size_t d = 0; d < ir->n_dims; d++)
    fprintf(out, "column %s in [%g, %g] integrate with %s\n", ir->dims[d].name, ir->dims[d].lo, ir->dims[d].hi,
            ir->dims[d].method);
  for (size_t k = 0; k < ir->n_knots; k++)
    fprintf(out, "knots %s = %s\n", ir->knots[k].name, ir->knots[k].spec);
  for (size_t p = 0; p < ir->n_params; p++) {
    const ir_param *q = &ir->params[p];
    fprintf(out, "param %s", q->name);
    if (q->size_kind == IR_SIZE_FIXED)
      fprintf(out, "[%zu]", q->size);
    else if (q->size_kind == IR_SIZE_KNOTS)
      fprintf(out, "[%s]", ir->knots[q->knots].name);
    fprintf(out, " in [%g, %g]\n", q->lo, q->hi);
  }
  for (size_t c = 0; c < ir->n_cs; c++)
    fprintf(out, "cs%zu = coefficients of %s over %s (kind %d)\n", c, ir->params[ir->cs[c].param].name,
            ir->knots[ir->cs[c].knots].name, ir->cs[c].kind);
  for (size_t t = 0; t < ir->n_terms; t++) {
    const ir_term *q = &ir->terms[t];
    fprintf(out, "term %s:\n", q->name);
    dump_node(ir, q->logn, out, done);
    fprintf(out, "  log n = %%%d; analytic columns %#x\n", q->logn->id, q->analytic);
    dump_node(ir, q->exact.integrand, out, done);
    fprintf(out, "  exact plan: log integrand %%%d over columns %#x\n", q->exact.integrand->id, q->exact.numeric);
    dump_node(ir, q->numeric.integrand, out, done);
    fprintf(out, "  numeric plan: log integrand %%%d over columns %#x\n", q->numeric.integrand->id,
            q->numeric.numeric);
  }
  if (ir->logn) {
    fputs("data loop: the log intensity at each row, sum of the terms:\n", out);
    dump_node(ir, ir->logn, out, done);
    fprintf(out, "  sum over the rows of %%%d\n", ir->logn->id);
  }
  for (size_t i = 0; i < ir->n_priors; i++) {
    fprintf(out, "prior on %s:\n", ir->params[ir->priors[i].param].name);
    dump_node(ir, ir->priors[i].lp, out, done);
  }
  free(st.done);
  free(st.known);
  free(st.sets);
}

/* }==================================================================== */
