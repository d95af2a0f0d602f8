/*
** emit.c — writes the generated C: description tables and the log
** posterior with its gradient in compile-time-sparse forward mode.
*/
#include "emit.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* {====================================================================
** Output helpers: C string literals, comments and #line are injection-proof
** ===================================================================== */

/* Writes s as a C string literal; '?' is escaped so no trigraph can form. */
static void put_cstring(dc_buf *b, const char *s)
{
  dc_buf_putn(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\' || *p == '?')
      dc_buf_printf(b, "\\%c", *p);
    else if (*p < 0x20 || *p >= 0x7f)
      dc_buf_printf(b, "\\%03o", *p);
    else
      dc_buf_putn(b, (const char *)p, 1);
  }
  dc_buf_putn(b, "\"", 1);
}

/* Text safe inside a block comment: no "*" "/" pair, no control bytes. */
static void put_comment_text(dc_buf *b, const char *s, size_t n)
{
  for (size_t i = 0; i < n && s[i]; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '*' && i + 1 < n && s[i + 1] == '/')
      dc_buf_puts(b, "* ");
    else if (c == '/' && i + 1 < n && s[i + 1] == '*')
      dc_buf_puts(b, "/ ");
    else if (c == '\t')
      dc_buf_putn(b, " ", 1);
    else if (c < 0x20 || c == 0x7f)
      dc_buf_putn(b, "?", 1);
    else
      dc_buf_putn(b, (const char *)&s[i], 1);
  }
}

static void put_double(dc_buf *b, double x)
{
  char num[40];
  if (isinf(x)) {
    dc_buf_puts(b, x > 0 ? "INFINITY" : "-INFINITY");
    return;
  }
  if (isnan(x)) {
    /* a constant folded to NaN, e.g. (-1)^0.5: "nan" or "-nan" is not C */
    dc_buf_puts(b, "NAN");
    return;
  }
  dc_format_double(num, sizeof num, x);
  if (!strpbrk(num, ".eEn"))
    strcat(num, ".0");
  if (x < 0)
    dc_buf_printf(b, "(%s)", num);
  else
    dc_buf_puts(b, num);
}

static size_t count_lines(const dc_buf *b)
{
  size_t n = 0;
  for (size_t i = 0; i < b->len; i++)
    n += b->s[i] == '\n';
  return n;
}

typedef struct {
  dc_ir *ir;
  const dc_source *src;
  const dc_emit_options *opt;
  dc_buf out;
  dc_vec slots;   /* spline locations precomputed per data row: one per (knot set, abscissa) */
} emitter;

static void line_to_source(emitter *e, dc_loc loc)
{
  if (!e->opt->line_directives || loc.line < 1)
    return;
  dc_buf_printf(&e->out, "#line %d ", loc.line);
  put_cstring(&e->out, e->opt->source_path);
  dc_buf_puts(&e->out, "\n");
}

static void line_to_c(emitter *e)
{
  if (!e->opt->line_directives)
    return;
  dc_buf_printf(&e->out, "#line %zu ", count_lines(&e->out) + 2);
  put_cstring(&e->out, e->opt->c_name);
  dc_buf_puts(&e->out, "\n");
}

/* A comment quoting the source line of loc. */
static void source_comment(emitter *e, const char *indent, const char *what, dc_loc loc)
{
  const dc_source *s = e->src;
  dc_buf_printf(&e->out, "%s/* ", indent);
  put_comment_text(&e->out, what, strlen(what));
  if (s && loc.line >= 1 && (size_t)loc.line <= s->n_lines) {
    size_t b = s->line_start[loc.line - 1], end = b;
    while (end < s->len && s->text[end] != '\n' && s->text[end] != '\r')
      end++;
    while (b < end && (s->text[b] == ' ' || s->text[b] == '\t'))
      b++;
    dc_buf_printf(&e->out, " — line %d: ", loc.line);
    put_comment_text(&e->out, s->text + b, end - b > 160 ? 160 : end - b);
  }
  dc_buf_puts(&e->out, " */\n");
}

/* }==================================================================== */

/* {====================================================================
** Dual-number code for one context (a loop body or the hoisted prelude)
** ===================================================================== */

typedef struct {
  emitter *e;
  const char *ind;         /* indentation */
  const char *dp;          /* derivative prefix */
  ir_node **leaf;          /* the inputs of this context */
  int n_leaf;
  size_t words;            /* 64-bit words per node in mask */
  uint64_t *mask;          /* per node: bit set of the leaves it depends on */
  char *done;              /* per node: value available in this scope */
  int values_only;         /* no derivatives (log_terms, locate_data) */
  int defer;               /* values now, derivatives later by emit_derivs_tree */
  char *ddone;             /* per node: derivatives available in this scope */
  char *is_leaf;           /* per node: an input of this context */
} ctx;

static void ctx_init(ctx *c, emitter *e, const char *ind, const char *dp)
{
  memset(c, 0, sizeof *c);
  c->e = e;
  c->ind = ind;
  c->dp = dp;
  c->words = 1;
  c->mask = dc_xcalloc(e->ir->n_nodes, sizeof *c->mask);
  c->done = dc_xcalloc(e->ir->n_nodes, 1);
  c->ddone = dc_xcalloc(e->ir->n_nodes, 1);
  c->is_leaf = dc_xcalloc(e->ir->n_nodes, 1);
}

static void ctx_free(ctx *c)
{
  free(c->leaf);
  free(c->mask);
  free(c->done);
  free(c->ddone);
  free(c->is_leaf);
}

static uint64_t *mask_of(const ctx *c, const ir_node *n)
{
  return c->mask + (size_t)n->id * c->words;
}

static int has_leaves(const ctx *c, const ir_node *n)
{
  for (size_t w = 0; w < c->words; w++)
    if (mask_of(c, n)[w])
      return 1;
  return 0;
}

/* Does n depend on leaf k? */
static int depends(const ctx *c, const ir_node *n, int k)
{
  return (int)((mask_of(c, n)[k / 64] >> (k % 64)) & 1);
}

static int add_leaf(ctx *c, ir_node *n)
{
  for (int k = 0; k < c->n_leaf; k++)
    if (c->leaf[k] == n)
      return k;
  if ((size_t)c->n_leaf == 64 * c->words) {
    /* more than 64 inputs: twice the words per node, the bit sets copied over */
    size_t n_nodes = c->e->ir->n_nodes, w = c->words;
    uint64_t *m = dc_xcalloc(n_nodes * 2 * w, sizeof *m);
    for (size_t i = 0; i < n_nodes; i++)
      memcpy(m + i * 2 * w, c->mask + i * w, w * sizeof *m);
    free(c->mask);
    c->mask = m;
    c->words = 2 * w;
  }
  c->leaf = dc_xrealloc(c->leaf, ((size_t)c->n_leaf + 1) * sizeof *c->leaf);
  c->leaf[c->n_leaf] = n;
  uint64_t *m = mask_of(c, n);
  memset(m, 0, c->words * sizeof *m);
  m[c->n_leaf / 64] = (uint64_t)1 << (c->n_leaf % 64);
  c->done[n->id] = 1;
  c->is_leaf[n->id] = 1;
  return c->n_leaf++;
}

/* Value of node n as C text. */
static void val(dc_buf *b, const ir_node *n)
{
  if (n->op == IR_CONST)
    put_double(b, n->value);
  else if (n->op == IR_DATA)
    dc_buf_printf(b, "x%d", n->index);
  else
    dc_buf_printf(b, "v%d", n->id);
}

/* Derivative of n w.r.t. leaf k as C text; returns 0 if it is zero. */
static int der(const ctx *c, dc_buf *b, const ir_node *n, int k)
{
  if (!depends(c, n, k))
    return 0;
  if (c->leaf[k] == n)
    dc_buf_puts(b, "1");
  else
    dc_buf_printf(b, "%s%d_%d", c->dp, n->id, k);
  return 1;
}

/* Appends "factor * d(child)" to an accumulating sum; "1" factors vanish. */
static void add_term(const ctx *c, dc_buf *b, int *first, const char *sign, const char *factor, const ir_node *ch,
                     int k)
{
  dc_buf d;
  dc_buf_init(&d);
  if (!der(c, &d, ch, k)) {
    dc_buf_free(&d);
    return;
  }
  int neg = sign[0] == '-';
  if (*first)
    dc_buf_puts(b, neg ? "-" : "");
  else
    dc_buf_puts(b, neg ? " - " : " + ");
  *first = 0;
  int d_is_one = strcmp(d.s, "1") == 0;
  if (factor && d_is_one)
    dc_buf_puts(b, factor);
  else if (factor)
    dc_buf_printf(b, "%s * %s", factor, d.s);
  else
    dc_buf_puts(b, d.s);
  dc_buf_free(&d);
}

static char *text_val(const ir_node *n)
{
  dc_buf b;
  dc_buf_init(&b);
  val(&b, n);
  return dc_buf_take(&b);
}

static void emit_node(ctx *c, ir_node *n);

static void emit_value_line(ctx *c, ir_node *n)
{
  dc_buf *o = &c->e->out;
  ir_node *a = n->a[0], *b = n->a[1];
  char *A = a ? text_val(a) : NULL, *B = b ? text_val(b) : NULL;
  int id = n->id;
  const char *in = c->ind;
  switch (n->op) {
  case IR_ADD: dc_buf_printf(o, "%sconst double v%d = %s + %s;\n", in, id, A, B); break;
  case IR_SUB: dc_buf_printf(o, "%sconst double v%d = %s - %s;\n", in, id, A, B); break;
  case IR_MUL: dc_buf_printf(o, "%sconst double v%d = %s * %s;\n", in, id, A, B); break;
  case IR_DIV: dc_buf_printf(o, "%sconst double v%d = %s / %s;\n", in, id, A, B); break;
  case IR_NEG: dc_buf_printf(o, "%sconst double v%d = -%s;\n", in, id, A); break;
  case IR_EXP: dc_buf_printf(o, "%sconst double v%d = exp(%s);\n", in, id, A); break;
  case IR_LOG: dc_buf_printf(o, "%sconst double v%d = log(%s);\n", in, id, A); break;
  case IR_LOG1P: dc_buf_printf(o, "%sconst double v%d = log1p(%s);\n", in, id, A); break;
  case IR_SQRT: dc_buf_printf(o, "%sconst double v%d = sqrt(%s);\n", in, id, A); break;
  case IR_POW:
    if (b->op == IR_CONST && b->value == 2)
      dc_buf_printf(o, "%sconst double v%d = %s * %s;\n", in, id, A, A);
    else
      dc_buf_printf(o, "%sconst double v%d = pow(%s, %s);\n", in, id, A, B);
    break;
  case IR_LSE:
    /* log(e^a + e^b) = max + log1p(e^-|a-b|); sa, sb are the softmax weights */
    dc_buf_printf(o, "%sconst double e%d = exp(-fabs(%s - %s));\n", in, id, A, B);
    dc_buf_printf(o, "%sconst double v%d = (%s > %s ? %s : %s) + log1p(e%d);\n", in, id, A, B, A, B, id);
    if (has_leaves(c, n) && !c->values_only) {
      dc_buf_printf(o, "%sconst double sa%d = %s >= %s ? 1 / (1 + e%d) : e%d / (1 + e%d);\n", in, id, A, B, id, id,
                    id);
      dc_buf_printf(o, "%sconst double sb%d = 1 - sa%d;\n", in, id, id);
    }
    break;
  case IR_LOG_NDIFF:
    dc_buf_printf(o, "%sdouble dmu%d, dsd%d;\n", in, id, id);
    dc_buf_printf(o, "%sconst double v%d = densrt_log_ndiff(m->lo[%d], m->hi[%d], %s, %s, &dmu%d, &dsd%d);\n", in,
                  id, n->index, n->index, A, B, id, id);
    break;
  case IR_LOG_WIDTH:
    dc_buf_printf(o, "%sconst double v%d = log(m->hi[%d] - m->lo[%d]);\n", in, id, n->index, n->index);
    break;
  default:
    fprintf(stderr, "densc: internal error: cannot emit %s\n", ir_op_name(n->op));
    exit(3);
  }
  free(A);
  free(B);
}

static void emit_derivs(ctx *c, ir_node *n)
{
  dc_buf *o = &c->e->out;
  ir_node *a = n->a[0], *b = n->a[1];
  char *A = a ? text_val(a) : NULL, *B = b ? text_val(b) : NULL;
  char f[128];
  for (int k = 0; k < c->n_leaf; k++) {
    if (!depends(c, n, k))
      continue;
    dc_buf s;
    dc_buf_init(&s);
    int first = 1;
    switch (n->op) {
    case IR_ADD: add_term(c, &s, &first, "+", NULL, a, k); add_term(c, &s, &first, "+", NULL, b, k); break;
    case IR_SUB: add_term(c, &s, &first, "+", NULL, a, k); add_term(c, &s, &first, "-", NULL, b, k); break;
    case IR_NEG: add_term(c, &s, &first, "-", NULL, a, k); break;
    case IR_MUL: add_term(c, &s, &first, "+", B, a, k); add_term(c, &s, &first, "+", A, b, k); break;
    case IR_DIV:
      snprintf(f, sizeof f, "(1 / %s)", B);
      add_term(c, &s, &first, "+", f, a, k);
      snprintf(f, sizeof f, "(v%d / %s)", n->id, B);
      add_term(c, &s, &first, "-", f, b, k);
      break;
    case IR_EXP: snprintf(f, sizeof f, "v%d", n->id); add_term(c, &s, &first, "+", f, a, k); break;
    case IR_LOG: snprintf(f, sizeof f, "(1 / %s)", A); add_term(c, &s, &first, "+", f, a, k); break;
    case IR_LOG1P: snprintf(f, sizeof f, "(1 / (1 + %s))", A); add_term(c, &s, &first, "+", f, a, k); break;
    case IR_SQRT: snprintf(f, sizeof f, "(0.5 / v%d)", n->id); add_term(c, &s, &first, "+", f, a, k); break;
    case IR_POW:
      if (b->op == IR_CONST) {
        snprintf(f, sizeof f, "(%s * pow(%s, %s - 1))", B, A, B);
        if (b->value == 2)
          snprintf(f, sizeof f, "(2 * %s)", A);
        add_term(c, &s, &first, "+", f, a, k);
      } else {
        snprintf(f, sizeof f, "(%s * v%d / %s)", B, n->id, A);
        add_term(c, &s, &first, "+", f, a, k);
        snprintf(f, sizeof f, "(v%d * log(%s))", n->id, A);
        add_term(c, &s, &first, "+", f, b, k);
      }
      break;
    case IR_LSE:         /* sa da + sb db */
    case IR_LOG_NDIFF: { /* dmu dmu/d. + dsd dsd/d. */
      const char *pa = n->op == IR_LSE ? "sa" : "dmu", *pb = n->op == IR_LSE ? "sb" : "dsd";
      snprintf(f, sizeof f, "%s%d", pa, n->id);
      add_term(c, &s, &first, "+", f, a, k);
      snprintf(f, sizeof f, "%s%d", pb, n->id);
      add_term(c, &s, &first, "+", f, b, k);
      break;
    }
    default:
      break;
    }
    dc_buf_printf(o, "%sconst double %s%d_%d = %s;\n", c->ind, c->dp, n->id, k, s.s ? s.s : "0");
    dc_buf_free(&s);
  }
  free(A);
  free(B);
}

/* The operands of a tree of LSE nodes, left to right: log(sum of exp) of them all.  A
** node already available in this context (an input, or computed) is an operand as it is. */
static void lse_operands(const ctx *c, ir_node *n, dc_vec *ops)
{
  for (int i = 0; i < 2; i++) {
    if (n->a[i]->op == IR_LSE && !c->done[n->a[i]->id])
      lse_operands(c, n->a[i], ops);
    else
      dc_vec_push(ops, n->a[i]);
  }
}

/* Is n a sum of three or more terms still to be computed in this context? */
static int is_lse_n(const ctx *c, const ir_node *n)
{
  return n->op == IR_LSE && !c->done[n->id] && ((n->a[0]->op == IR_LSE && !c->done[n->a[0]->id]) ||
                                                (n->a[1]->op == IR_LSE && !c->done[n->a[1]->id]));
}

/*
** A sum of K terms is a tree of binary LSE nodes; differentiated node by node, each
** intermediate node carries the derivatives of every input below it: O(K^2) statements
** per point.  As one n-ary log-sum-exp, each input's derivative is its own operand's
** times that operand's weight: O(K).
**   v = mx + log(s),  s = sum_i exp(a_i - mx),  dv = sum_i (exp(a_i - mx) / s) da_i
*/
static void emit_lse_n(ctx *c, ir_node *n, const dc_vec *ops)
{
  dc_buf *o = &c->e->out;
  const char *in = c->ind;
  int id = n->id;
  uint64_t *m = mask_of(c, n);
  memset(m, 0, c->words * sizeof *m);
  for (size_t i = 0; i < ops->n; i++)
    for (size_t w = 0; !c->values_only && w < c->words; w++)
      m[w] |= mask_of(c, ops->v[i])[w];
  dc_buf_printf(o, "%sdouble mx%d = ", in, id);
  val(o, ops->v[0]);
  dc_buf_puts(o, ";\n");
  for (size_t i = 1; i < ops->n; i++) {
    char *A = text_val(ops->v[i]);
    dc_buf_printf(o, "%smx%d = fmax(mx%d, %s);\n", in, id, id, A);   /* branch-free */
    free(A);
  }
  /* all operands -inf: log(0) = -inf (as the binary form gives); +inf or NaN shows through */
  dc_buf_printf(o, "%sif (mx%d == -INFINITY) mx%d = 0;\n", in, id, id);
  for (size_t i = 0; i < ops->n; i++) {
    char *A = text_val(ops->v[i]);
    dc_buf_printf(o, "%sconst double e%d_%zu = exp(%s - mx%d);\n", in, id, i, A, id);
    free(A);
  }
  dc_buf_printf(o, "%sconst double s%d = ", in, id);
  for (size_t i = 0; i < ops->n; i++)
    dc_buf_printf(o, "%se%d_%zu", i ? " + " : "", id, i);
  dc_buf_printf(o, ";\n%sconst double v%d = mx%d + log(s%d);\n", in, id, id, id);
  if (c->values_only || !has_leaves(c, n))
    return;
  dc_buf_printf(o, "%sconst double r%d = 1 / s%d;\n", in, id, id);
}

static void emit_derivs_tree(ctx *c, ir_node *n);

/* The derivatives of an n-ary LSE node: sum_i (e_i r) da_i. */
static void emit_lse_n_derivs(ctx *c, ir_node *n, const dc_vec *ops)
{
  dc_buf *o = &c->e->out;
  const char *in = c->ind;
  int id = n->id;
  char f[64];
  for (size_t i = 0; i < ops->n; i++)
    emit_derivs_tree(c, ops->v[i]);
  for (int k = 0; k < c->n_leaf; k++) {
    if (!depends(c, n, k))
      continue;
    dc_buf s;
    dc_buf_init(&s);
    int first = 1;
    for (size_t i = 0; i < ops->n; i++) {
      snprintf(f, sizeof f, "(e%d_%zu * r%d)", id, i, id);
      add_term(c, &s, &first, "+", f, ops->v[i], k);
    }
    dc_buf_printf(o, "%sconst double %s%d_%d = %s;\n", in, c->dp, id, k, s.s);
    dc_buf_free(&s);
  }
  c->ddone[n->id] = 1;
}

static void emit_node(ctx *c, ir_node *n)
{
  if (c->done[n->id] || n->op == IR_CONST || n->op == IR_DATA)
    return;
  if (is_lse_n(c, n)) {
    dc_vec ops = {0};
    lse_operands(c, n, &ops);
    for (size_t i = 0; i < ops.n; i++)
      emit_node(c, ops.v[i]);
    emit_lse_n(c, n, &ops);
    if (!c->values_only && has_leaves(c, n))
      emit_lse_n_derivs(c, n, &ops);
    dc_vec_free(&ops);
    c->done[n->id] = 1;
    return;
  }
  for (int i = 0; i < 3; i++)
    if (n->a[i])
      emit_node(c, n->a[i]);
  uint64_t *m = mask_of(c, n);
  memset(m, 0, c->words * sizeof *m);
  for (int i = 0; i < 3; i++)
    for (size_t w = 0; n->a[i] && !c->values_only && w < c->words; w++)
      m[w] |= mask_of(c, n->a[i])[w];
  emit_value_line(c, n);
  if (!c->values_only && !c->defer) {
    emit_derivs(c, n);
    c->ddone[n->id] = 1;
  }
  c->done[n->id] = 1;
}

/* The derivatives of a subtree whose values were emitted with c->defer. */
static void emit_derivs_tree(ctx *c, ir_node *n)
{
  if (c->ddone[n->id] || c->is_leaf[n->id] || n->op == IR_CONST || n->op == IR_DATA || !has_leaves(c, n))
    return;
  for (int i = 0; i < 3; i++)
    if (n->a[i])
      emit_derivs_tree(c, n->a[i]);
  emit_derivs(c, n);
  c->ddone[n->id] = 1;
}

/* }==================================================================== */

/* {====================================================================
** Point loops: log n at data points, log integrands at quadrature nodes
** ===================================================================== */

/* Collects hoisted inputs (dims-free subtrees) and splines of a per-point expression. */
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

static void collect_dims(const ir_node *n, uint32_t *dims)
{
  *dims |= n->dims;
}

/* The data rows are fixed, so each spline's segment and offset at every row is computed once
** (locate_data) and the likelihood loop reads them: one slot per knot set and abscissa. */
static int data_slot(emitter *e, ir_node *sp)
{
  for (size_t k = 0; k < e->slots.n; k++) {
    ir_node *o = e->slots.v[k];
    if (o->a[0] == sp->a[0] && e->ir->cs[o->index].knots == e->ir->cs[sp->index].knots)
      return (int)k;
  }
  dc_vec_push(&e->slots, sp);
  return (int)e->slots.n - 1;
}

static void emit_data_spline_input(ctx *c, ir_node *sp)
{
  dc_buf *o = &c->e->out;
  int k = data_slot(c->e, sp);
  dc_buf_printf(o, "%sconst size_t j%d = m->pseg[%d][i];\n", c->ind, sp->id, k);
  dc_buf_printf(o, "%sconst double u%d = m->pu[%d][i];\n", c->ind, sp->id, k);
  dc_buf_printf(o, "%sconst double v%d = densrt_spline_seg_eval(w->coef[%d], j%d, u%d);\n", c->ind, sp->id,
                sp->index, sp->id, sp->id);
}

/* A spline input of a point loop: locate the segment once, evaluate from the coefficients. */
static void emit_spline_input(ctx *c, ir_node *sp)
{
  dc_buf *o = &c->e->out;
  emit_node(c, sp->a[0]);
  char *X = text_val(sp->a[0]);
  dc_buf_printf(o, "%sdouble u%d;\n", c->ind, sp->id);
  dc_buf_printf(o, "%sconst size_t j%d = densrt_spline_locate(m->spline[%d], %s, &u%d);\n", c->ind, sp->id, sp->index,
                X, sp->id);
  dc_buf_printf(o, "%sconst double v%d = densrt_spline_seg_eval(w->coef[%d], j%d, u%d);\n", c->ind, sp->id,
                sp->index, sp->id, sp->id);
  free(X);
}

/*
** Emits one loop over points; `src` names the point set ("data" or a rule),
** the root's value is combined per point by `accumulate`:
**   LIKELIHOOD: ll += v; adjoints += d
**   INTEGRAL:   wq = exp(lw + v); S += wq; adjoints -= wq * d
*/
typedef enum { ACC_LIKELIHOOD, ACC_INTEGRAL } acc_kind;

/* Adds weight * d(n)/d(leaf) into each leaf's adjoint: += for the likelihood, -= w * for
** an integral; a spline leaf scatters into its segment's coefficient adjoints. */
static void accumulate(ctx *c, const ir_node *n, const char *weight, int integral)
{
  dc_buf *o = &c->e->out;
  const char *body = c->ind;
  for (int k = 0; k < c->n_leaf; k++) {
    ir_node *l = c->leaf[k];
    dc_buf dk;
    dc_buf_init(&dk);
    if (!der(c, &dk, n, k)) {
      dc_buf_free(&dk);
      continue;
    }
    if (l->op == IR_SPLINE) {
      dc_buf_printf(o, "%s{\n%s  double *ca = w->coef_adj[%d] + 4 * j%d;\n", body, body, l->index, l->id);
      dc_buf_printf(o, "%s  const double a = %s%s%s;\n", body, integral ? "-wq * " : "", weight, dk.s);
      dc_buf_printf(o, "%s  const double u = u%d;\n", body, l->id);
      dc_buf_printf(o, "%s  ca[0] += a; ca[1] += a * u; ca[2] += a * u * u; ca[3] += a * u * u * u;\n%s}\n", body,
                    body);
    } else {
      dc_buf_printf(o, "%sadj%d %s %s%s%s;\n", body, l->id, integral ? "-=" : "+=", integral ? "wq * " : "", weight,
                    dk.s);
    }
    dc_buf_free(&dk);
  }
}

/*
** A point loop as a function of its own (a kernel): the hoisted values come in hv[], the
** adjoints of those with parameters go out in adj[] (indices from hv_index), summed in
** locals over the loop.  Returns ll (LIKELIHOOD) or S (INTEGRAL over rule `term`, log
** integrand at each node left in w->lv).  m is only read: callers with a work each may
** run kernels at once; the data kernel takes a range of rows.  Small functions keep the C compiler's
** register allocation local: one function holding every loop grew with the number of
** terms squared.
*/
static void emit_kernel(emitter *e, ir_node *root, acc_kind acc, const char *name, size_t term, const int *hv_index)
{
  dc_buf *o = &e->out;
  const char *in = "  ", *body = "    ";
  ctx c;
  ctx_init(&c, e, body, "d");
  char *seen = dc_xcalloc(e->ir->n_nodes, 1);
  dc_vec hoisted = {0}, splines = {0};
  find_inputs(root, seen, &hoisted, &splines);
  free(seen);
  for (size_t i = 0; i < hoisted.n; i++) {
    ir_node *h = hoisted.v[i];
    if (h->params)
      add_leaf(&c, h);
    else
      c.done[h->id] = 1; /* constant: value from the prelude, no derivative */
  }
  uint32_t dims = 0;
  collect_dims(root, &dims);

  dc_buf_printf(o, "static double %s(const densrt_model *m, densrt_work *w, const double *restrict hv, "
                 "double *restrict adj%s)\n{\n", name, acc == ACC_LIKELIHOOD ? ", size_t i0, size_t i1" : "");
  for (size_t i = 0; i < hoisted.n; i++) {
    ir_node *h = hoisted.v[i];
    dc_buf_printf(o, "  const double v%d = hv[%d];\n", h->id, hv_index[h->id]);
    if (h->params)
      dc_buf_printf(o, "  double adj%d = 0;\n", h->id);
  }
  if (acc == ACC_LIKELIHOOD) {
    dc_buf_puts(o, "  double ll = 0;\n");
    dc_buf_printf(o, "%sfor (size_t i = i0; i < i1; i++) {\n", in);
  } else {
    dc_buf_printf(o, "  const densrt_points *r = &m->rule[%zu];\n  double S = 0, *lv = w->lv;\n", term);
    dc_buf_printf(o, "%sfor (size_t q = 0; q < r->n; q++) {\n", in);
  }
  for (int d = 0; d < DENSRT_MAX_DIMS; d++)
    if (dims & (1u << d))
      dc_buf_printf(o, "%sconst double x%d = %s[%d][%s];\n", body, d, acc == ACC_LIKELIHOOD ? "m->x" : "r->x", d,
                    acc == ACC_LIKELIHOOD ? "i" : "q");
  for (size_t i = 0; i < splines.n; i++) {
    ir_node *sp = splines.v[i];
    if (acc == ACC_LIKELIHOOD)
      emit_data_spline_input(&c, sp);
    else
      emit_spline_input(&c, sp);
    add_leaf(&c, sp);
  }
  /* a sum of three or more terms: values first, then each term's derivatives */
  dc_vec ops = {0};
  if (is_lse_n(&c, root) && c.n_leaf) {
    lse_operands(&c, root, &ops);
    c.defer = 1;
    for (size_t i = 0; i < ops.n; i++)
      emit_node(&c, ops.v[i]);
    c.defer = 0;
    emit_lse_n(&c, root, &ops);
    c.done[root->id] = 1;
  } else {
    emit_node(&c, root);
  }
  char *R = text_val(root);
  /* the likelihood adds log n and its derivatives; an integral adds w = exp(lw + log f)
     and subtracts w times the derivatives */
  int integral = acc == ACC_INTEGRAL;
  if (!integral) {
    dc_buf_printf(o, "%sll += %s;\n", body, R);
  } else {
    dc_buf_printf(o, "%slv[q] = %s;\n", body, R);
    dc_buf_printf(o, "%sconst double wq = exp(r->lw[q] + %s);\n", body, R);
    dc_buf_printf(o, "%sS += wq;\n", body);
  }
  if (ops.n) {
    /* reverse over the sum: each term's derivatives, weighted, right where they are made */
    for (size_t i = 0; i < ops.n; i++) {
      emit_derivs_tree(&c, ops.v[i]);
      char weight[64];
      snprintf(weight, sizeof weight, "e%d_%zu * r%d * ", root->id, i, root->id);
      accumulate(&c, ops.v[i], weight, integral);
    }
  } else {
    accumulate(&c, root, "", integral);
  }
  dc_buf_printf(o, "%s}\n", in);
  for (size_t i = 0; i < hoisted.n; i++) {
    const ir_node *h = hoisted.v[i];
    if (h->params)
      dc_buf_printf(o, "  adj[%d] += adj%d;\n", hv_index[h->id], h->id);
  }
  dc_buf_printf(o, "  return %s;\n}\n\n", acc == ACC_LIKELIHOOD ? "ll" : "S");
  dc_vec_free(&ops);
  free(R);
  dc_vec_free(&hoisted);
  dc_vec_free(&splines);
  ctx_free(&c);
}

/* }==================================================================== */

/* {====================================================================
** The log-density function
** ===================================================================== */

typedef struct {
  ir_node *loglik;            /* expanded log n */
  ir_node **exact, **numeric; /* expanded integrands per term */
  ir_node **prior;            /* expanded prior log densities */
} expanded;

/* Hoisted values with parameter dependence: computed once, chained at the end. */
static void collect_hoisted(emitter *e, const expanded *x, dc_vec *h)
{
  dc_ir *ir = e->ir;
  char *seen = dc_xcalloc(ir->n_nodes, 1);
  dc_vec splines = {0};
  find_inputs(x->loglik, seen, h, &splines);
  for (size_t t = 0; t < ir->n_terms; t++) {
    if (x->exact[t]->dims)
      find_inputs(x->exact[t], seen, h, &splines);
    else if (!seen[x->exact[t]->id]) {
      seen[x->exact[t]->id] = 1;
      dc_vec_push(h, x->exact[t]);
    }
    find_inputs(x->numeric[t], seen, h, &splines);
  }
  free(seen);
  dc_vec_free(&splines);
}

static void find_params(ir_node *n, char *seen, ctx *c)
{
  if (seen[n->id])
    return;
  seen[n->id] = 1;
  if (n->op == IR_PARAM || n->op == IR_PARAM_I) {
    add_leaf(c, n);
    return;
  }
  for (int i = 0; i < 3; i++)
    if (n->a[i])
      find_params(n->a[i], seen, c);
}

static void param_index(dc_buf *b, const ir_node *p, const char *loop)
{
  if (p->op == IR_PARAM_I)
    dc_buf_printf(b, "m->off[%d] + %s + %d", p->index, loop, p->elem);
  else
    dc_buf_printf(b, "m->off[%d] + %d", p->index, p->elem < 0 ? 0 : p->elem);
}

static void emit_param_leaves(ctx *c, const char *loop)
{
  dc_buf *o = &c->e->out;
  for (int k = 0; k < c->n_leaf; k++) {
    const ir_node *p = c->leaf[k];
    const ir_param *q = &c->e->ir->params[p->index];
    dc_buf_printf(o, "%sconst double v%d = th[", c->ind, p->id);
    param_index(o, p, loop);
    dc_buf_puts(o, "];   /* ");
    put_comment_text(o, q->name, strlen(q->name));
    if (p->op == IR_PARAM_I)
      dc_buf_printf(o, "[i%+d]", p->elem);
    else if (p->elem >= 0)
      dc_buf_printf(o, "[%d]", p->elem + 1);
    dc_buf_puts(o, " */\n");
  }
}

/* The prelude: parameter values, then every hoisted value (with parameter derivatives
** unless values_only) in one outer context, which the caller frees. */
static void emit_prelude(emitter *e, ctx *outer, const dc_vec *hoisted, int values_only)
{
  ctx_init(outer, e, "  ", "dp");
  char *seen = dc_xcalloc(e->ir->n_nodes, 1);
  for (size_t i = 0; i < hoisted->n; i++)
    find_params(hoisted->v[i], seen, outer);
  free(seen);
  emit_param_leaves(outer, "0");
  outer->values_only = values_only;
  for (size_t i = 0; i < hoisted->n; i++)
    emit_node(outer, hoisted->v[i]);
}

static void emit_log_density(emitter *e)
{
  dc_ir *ir = e->ir;
  dc_buf *o = &e->out;
  expanded x;
  x.loglik = ir_expand(ir, ir->logn);
  x.exact = dc_xcalloc(ir->n_terms + 1, sizeof *x.exact);
  x.numeric = dc_xcalloc(ir->n_terms + 1, sizeof *x.numeric);
  x.prior = dc_xcalloc(ir->n_priors + 1, sizeof *x.prior);
  for (size_t t = 0; t < ir->n_terms; t++) {
    x.exact[t] = ir_expand(ir, ir->terms[t].exact.integrand);
    x.numeric[t] = ir_expand(ir, ir->terms[t].numeric.integrand);
  }
  for (size_t p = 0; p < ir->n_priors; p++)
    x.prior[p] = ir_expand(ir, ir->priors[p].lp);

  /* the hoisted values: hv[hv_index[id]] in the kernels */
  dc_vec h = {0};
  collect_hoisted(e, &x, &h);
  int *hv_index = dc_xcalloc(ir->n_nodes + 1, sizeof *hv_index);
  for (size_t i = 0; i < h.n; i++)
    hv_index[((ir_node *)h.v[i])->id] = (int)i;

  /* the kernels: the data loop, and the quadrature loop of each term and plan */
  dc_buf_puts(o, "/* The sum over the data of log n(x_i). */\n");
  line_to_source(e, ir->terms[0].loc);
  line_to_c(e);
  emit_kernel(e, x.loglik, ACC_LIKELIHOOD, "data_kernel", 0, hv_index);
  for (size_t t = 0; t < ir->n_terms; t++)
    for (int plan = x.exact[t] == x.numeric[t] ? 1 : 0; plan < 2; plan++) {
      ir_node *root = plan == 0 ? x.exact[t] : x.numeric[t];
      if (plan == 0 && !root->dims)
        continue;   /* fully analytic: no loop (the numeric plan of a constant term has one node) */
      char what[300], name[64];
      snprintf(what, sizeof what, "the quadrature sum of term %zu, '%s', %s plan", t, ir->terms[t].name,
               plan == 0 ? "exact" : "numeric");
      source_comment(e, "", what, ir->terms[t].loc);
      snprintf(name, sizeof name, "term%zu_%s_kernel", t, plan == 0 ? "exact" : "numeric");
      emit_kernel(e, root, ACC_INTEGRAL, name, t, hv_index);
    }

  dc_buf_puts(o, "/* The log posterior and its gradient (g is overwritten). */\n");
  dc_buf_puts(o, "static double log_density(const densrt_model *m, densrt_work *w, const double *th, double *g)\n{\n");
  dc_buf_puts(o, "  memset(g, 0, m->n_theta * sizeof *g);\n");
  if (ir->n_cs)
    dc_buf_puts(o, "  densrt_model_spline_coefs(m, w, th);\n");

  /* 1. hoisted parameter-only values, forward mode over the parameters */
  ctx outer;
  dc_buf_puts(o, "\n  /* parameter-only values, hoisted out of the point loops */\n");
  emit_prelude(e, &outer, &h, 0);
  dc_buf_printf(o, "  /* the hoisted values for the kernels, and their adjoints */\n  const double hv[%zu] = {", h.n + 1);
  for (size_t i = 0; i < h.n; i++)
    dc_buf_printf(o, "%sv%d", i ? ", " : "", ((ir_node *)h.v[i])->id);
  dc_buf_printf(o, "%s};\n  double adj[%zu] = {0};\n", h.n ? "" : "0", h.n + 1);

  /* 2. the data */
  dc_buf_puts(o, "\n  /* sum over the data of log n(x_i) */\n  double ll = data_kernel(m, w, hv, adj, 0, m->n);\n");

  /* 3. minus the integral of each term */
  for (size_t t = 0; t < ir->n_terms; t++) {
    const ir_term *term = &ir->terms[t];
    char what[300];
    dc_buf_puts(o, "\n");
    snprintf(what, sizeof what, "minus the integral of term %zu, '%s'", t, term->name);
    source_comment(e, "  ", what, term->loc);
    dc_buf_printf(o, "  {\n    double logI;\n");
    /* Both plans are the same code when the term has no analytic column. */
    int same = x.exact[t] == x.numeric[t];
    for (int plan = same ? 1 : 0; plan < 2; plan++) {
      ir_node *root = plan == 0 ? x.exact[t] : x.numeric[t];
      if (!same)
        dc_buf_printf(o, plan == 0 ? "    if (m->plan[%zu] == DENSRT_PLAN_EXACT) {\n" : "    } else {\n", t);
      else
        dc_buf_puts(o, "    {\n");
      if (plan == 0 && !root->dims) {
        /* fully analytic: a hoisted value */
        char *R = text_val(root);
        dc_buf_printf(o, "      const double I = exp(%s);\n      ll -= I;\n", R);
        if (root->params)
          dc_buf_printf(o, "      adj[%d] -= I;\n", hv_index[root->id]);
        dc_buf_printf(o, "      logI = %s;\n", R);
        free(R);
        continue;
      }
      dc_buf_printf(o, "      const double S = term%zu_%s_kernel(m, w, hv, adj);\n", t, plan == 0 ? "exact" : "numeric");
      dc_buf_puts(o, "      ll -= S;\n      logI = log(S);\n");
      dc_buf_puts(o, "      if (!(S > 0 && S < INFINITY))   /* under- or overflow: the sum in log space */\n");
      dc_buf_printf(o, "        logI = densrt_quad_logsumexp(m->rule[%zu].lw, w->lv, m->rule[%zu].n);\n", t, t);
    }
    dc_buf_printf(o, "    }\n    w->log_integral[%zu] = logI;\n  }\n", t);
  }

  /* 4. priors */
  dc_buf_puts(o, "\n  /* priors */\n  double lp = 0;\n");
  for (size_t p = 0; p < ir->n_priors; p++) {
    const ir_prior *pr = &ir->priors[p];
    ctx c;
    int loop = pr->elem < 0 && ir->params[pr->param].size_kind != IR_SIZE_SCALAR;
    ctx_init(&c, e, "    ", "d");
    char *pseen = dc_xcalloc(ir->n_nodes, 1);
    find_params(x.prior[p], pseen, &c);
    free(pseen);
    source_comment(e, "  ", "prior", pr->loc);
    line_to_source(e, pr->loc);
    if (loop && pr->start + pr->end)
      dc_buf_printf(o, "  for (size_t i = 0; i + %d < m->size[%d]; i++) {\n", pr->start + pr->end, pr->param);
    else if (loop)
      dc_buf_printf(o, "  for (size_t i = 0; i < m->size[%d]; i++) {\n", pr->param);
    else
      dc_buf_puts(o, "  {\n");
    line_to_c(e);
    emit_param_leaves(&c, "i");
    emit_node(&c, x.prior[p]);
    char *R = text_val(x.prior[p]);
    dc_buf_printf(o, "    lp += %s;\n", R);
    free(R);
    for (int k = 0; k < c.n_leaf; k++) {
      dc_buf dk;
      dc_buf_init(&dk);
      if (der(&c, &dk, x.prior[p], k)) {
        dc_buf_puts(o, "    g[");
        param_index(o, c.leaf[k], "i");
        dc_buf_printf(o, "] += %s;\n", dk.s);
      }
      dc_buf_free(&dk);
    }
    dc_buf_puts(o, "  }\n");
    ctx_free(&c);
  }

  /* 5. chain the adjoints to the parameters */
  dc_buf_puts(o, "\n  /* chain rule: hoisted values and spline coefficients to the parameters */\n");
  for (size_t i = 0; i < h.n; i++) {
    ir_node *n = h.v[i];
    for (int k = 0; k < outer.n_leaf; k++) {
      dc_buf dk;
      dc_buf_init(&dk);
      if (n->params && der(&outer, &dk, n, k)) {
        dc_buf_puts(o, "  g[");
        param_index(o, outer.leaf[k], "0");
        if (strcmp(dk.s, "1") == 0)
          dc_buf_printf(o, "] += adj[%d];\n", hv_index[n->id]);
        else
          dc_buf_printf(o, "] += adj[%d] * %s;\n", hv_index[n->id], dk.s);
      }
      dc_buf_free(&dk);
    }
  }
  if (ir->n_cs)
    dc_buf_puts(o, "  densrt_model_spline_adjoint(m, w, g);\n");
  dc_buf_puts(o, "  w->log_lik = ll;\n  w->log_prior = lp;\n  return ll + lp;\n}\n\n");
  ctx_free(&outer);
  dc_vec_free(&h);
  free(hv_index);
  free(x.exact);
  free(x.numeric);
  free(x.prior);
}

/* Per-term log intensity at arbitrary points, values only: maps, membership, plots. */
static void emit_log_terms(emitter *e)
{
  dc_ir *ir = e->ir;
  dc_buf *o = &e->out;
  ir_node **roots = dc_xcalloc(ir->n_terms + 1, sizeof *roots);
  for (size_t t = 0; t < ir->n_terms; t++)
    roots[t] = ir_expand(ir, ir->terms[t].logn);
  dc_buf_puts(o, "/* log n_t(x) of every term t at n points x[d][i], values only: out[t * n + i]. */\n");
  dc_buf_puts(o, "static void log_terms(const densrt_model *m, densrt_work *w, const double *th, size_t n, "
                 "const double *const *x, double *out)\n{\n");
  if (ir->n_cs)
    dc_buf_puts(o, "  densrt_model_spline_coefs(m, w, th);\n");
  char *seen = dc_xcalloc(ir->n_nodes, 1);
  dc_vec hoisted = {0}, splines = {0};
  for (size_t t = 0; t < ir->n_terms; t++)
    find_inputs(roots[t], seen, &hoisted, &splines);
  free(seen);
  ctx outer;
  emit_prelude(e, &outer, &hoisted, 1);
  ctx c;
  ctx_init(&c, e, "    ", "d");
  c.values_only = 1;
  for (size_t i = 0; i < hoisted.n; i++)
    c.done[((ir_node *)hoisted.v[i])->id] = 1;
  uint32_t dims = 0;
  for (size_t t = 0; t < ir->n_terms; t++)
    dims |= roots[t]->dims;
  dc_buf_puts(o, "  for (size_t i = 0; i < n; i++) {\n");
  for (int d = 0; d < DENSRT_MAX_DIMS; d++)
    if (dims & (1u << d))
      dc_buf_printf(o, "    const double x%d = x[%d][i];\n", d, d);
  for (size_t i = 0; i < splines.n; i++) {
    ir_node *sp = splines.v[i];
    emit_spline_input(&c, sp);
    c.done[sp->id] = 1;
  }
  for (size_t t = 0; t < ir->n_terms; t++) {
    emit_node(&c, roots[t]);
    char *R = text_val(roots[t]);
    dc_buf_printf(o, "    out[%zu * n + i] = %s;\n", t, R);
    free(R);
  }
  dc_buf_puts(o, "  }\n}\n\n");
  ctx_free(&c);
  ctx_free(&outer);
  dc_vec_free(&hoisted);
  dc_vec_free(&splines);
  free(roots);
}

/* Fills m->pseg / m->pu for every data row and slot (called by the runtime when data or knots change). */
static void emit_locate_data(emitter *e)
{
  dc_buf *o = &e->out;
  if (!e->slots.n)
    return;
  dc_buf_puts(o, "/* Each row's spline segment and offset, for every knot set and abscissa of the likelihood. */\n");
  dc_buf_puts(o, "static void locate_data(densrt_model *m)\n{\n  for (size_t i = 0; i < m->n; i++) {\n");
  ctx c;
  ctx_init(&c, e, "    ", "d");
  c.values_only = 1;
  uint32_t dims = 0;
  for (size_t k = 0; k < e->slots.n; k++)
    dims |= ((ir_node *)e->slots.v[k])->a[0]->dims;
  for (int d = 0; d < DENSRT_MAX_DIMS; d++)
    if (dims & (1u << d))
      dc_buf_printf(o, "    const double x%d = m->x[%d][i];\n", d, d);
  for (size_t k = 0; k < e->slots.n; k++) {
    ir_node *sp = e->slots.v[k];
    emit_node(&c, sp->a[0]);
    char *X = text_val(sp->a[0]);
    dc_buf_printf(o, "    m->pseg[%zu][i] = (uint32_t)densrt_spline_locate(m->spline[%d], %s, &m->pu[%zu][i]);\n", k,
                  sp->index, X, k);
    free(X);
  }
  dc_buf_puts(o, "  }\n}\n\n");
  ctx_free(&c);
}

/* }==================================================================== */

/* {====================================================================
** Description tables and the program entry
** ===================================================================== */

static void emit_tables(emitter *e)
{
  dc_ir *ir = e->ir;
  dc_buf *o = &e->out;
  dc_buf_puts(o, "static const densrt_dim_def dims[] = {\n");
  for (size_t d = 0; d < ir->n_dims; d++) {
    dc_buf_puts(o, "  {");
    put_cstring(o, ir->dims[d].name);
    dc_buf_puts(o, ", ");
    put_double(o, ir->dims[d].lo);
    dc_buf_puts(o, ", ");
    put_double(o, ir->dims[d].hi);
    dc_buf_puts(o, ", ");
    put_cstring(o, ir->dims[d].method);
    dc_buf_puts(o, "},\n");
  }
  dc_buf_puts(o, "};\n\n");

  if (ir->n_knots) {
    dc_buf_puts(o, "static const densrt_knots_def knots[] = {\n");
    for (size_t k = 0; k < ir->n_knots; k++) {
      dc_buf_puts(o, "  {");
      put_cstring(o, ir->knots[k].name);
      dc_buf_puts(o, ", ");
      put_cstring(o, ir->knots[k].spec);
      dc_buf_printf(o, ", %d},\n", ir->knots[k].min_knots);
    }
    dc_buf_puts(o, "};\n\n");
  }

  /* largest constant index used per parameter, so resized knot sets are checked */
  size_t *min_size = dc_xcalloc(ir->n_params + 1, sizeof *min_size);
  for (size_t i = 0; i < ir->n_nodes; i++) {
    const ir_node *n = ir->nodes[i];
    if (n->op == IR_PARAM && n->elem >= 0 && (size_t)n->elem + 1 > min_size[n->index])
      min_size[n->index] = (size_t)n->elem + 1;
  }
  dc_buf_puts(o, "static const densrt_param_def params[] = {\n");
  for (size_t p = 0; p < ir->n_params; p++) {
    const ir_param *q = &ir->params[p];
    static const char *const kinds[] = {"DENSRT_SIZE_SCALAR", "DENSRT_SIZE_FIXED", "DENSRT_SIZE_KNOTS"};
    dc_buf_puts(o, "  {");
    put_cstring(o, q->name);
    dc_buf_printf(o, ", %s, %zu, %d, ", kinds[q->size_kind], q->size_kind == IR_SIZE_FIXED ? q->size : 1, q->knots);
    put_double(o, q->lo);
    dc_buf_puts(o, ", ");
    put_double(o, q->hi);
    dc_buf_printf(o, ", %zu},\n", min_size[p]);
  }
  dc_buf_puts(o, "};\n\n");
  free(min_size);

  if (ir->n_cs) {
    static const char *const kinds[] = {"DENSRT_SPLINE_NOT_A_KNOT", "DENSRT_SPLINE_NATURAL", "DENSRT_SPLINE_LINEAR"};
    dc_buf_puts(o, "/* spline coefficient sets: knot set, kind, parameter holding the values */\n");
    dc_buf_puts(o, "static const densrt_coefset_def coefsets[] = {\n");
    for (size_t c = 0; c < ir->n_cs; c++)
      dc_buf_printf(o, "  {%d, %s, %d},\n", ir->cs[c].knots, kinds[ir->cs[c].kind], ir->cs[c].param);
    dc_buf_puts(o, "};\n\n");
  }

  for (size_t t = 0; t < ir->n_terms; t++) {
    dc_buf_printf(o, "static const uint32_t term%zu_breakpoints[] = {", t);
    size_t words = (size_t)ir->n_dims * DENSRT_BRK_WORDS(ir->n_knots);
    for (size_t w = 0; w < words; w++)
      dc_buf_printf(o, "%s%#xu", w ? ", " : "", ir->terms[t].brk_knots[w]);
    dc_buf_puts(o, "};\n");
  }
  dc_buf_puts(o, "static const densrt_term_def terms[] = {\n");
  for (size_t t = 0; t < ir->n_terms; t++) {
    const ir_term *q = &ir->terms[t];
    dc_buf_puts(o, "  {");
    put_cstring(o, q->name);
    dc_buf_printf(o, ", %#xu, %#xu, %#xu, term%zu_breakpoints},\n", q->analytic, q->exact.numeric,
                  q->numeric.numeric, t);
  }
  dc_buf_puts(o, "};\n\n");
}

static void emit_definition(emitter *e)
{
  dc_ir *ir = e->ir;
  dc_buf *o = &e->out;
  dc_buf_puts(o, "static const densrt_model_def model = {\n  .name = ");
  put_cstring(o, e->opt->model_name);
  dc_buf_puts(o, ",\n  .source = ");
  put_cstring(o, e->opt->source_path);
  dc_buf_puts(o, ",\n  .version = ");
  put_cstring(o, e->opt->version);
  dc_buf_printf(o, ",\n  .n_dims = %zu, .dims = dims,\n", ir->n_dims);
  dc_buf_printf(o, "  .n_knots = %zu, .knots = %s,\n", ir->n_knots, ir->n_knots ? "knots" : "NULL");
  dc_buf_printf(o, "  .n_params = %zu, .params = params,\n", ir->n_params);
  dc_buf_printf(o, "  .n_coefsets = %zu, .coefsets = %s,\n", ir->n_cs, ir->n_cs ? "coefsets" : "NULL");
  dc_buf_printf(o, "  .n_terms = %zu, .terms = terms,\n", ir->n_terms);
  dc_buf_puts(o, "  .log_density = log_density,\n  .log_terms = log_terms,\n");
  if (e->slots.n)
    dc_buf_printf(o, "  .n_slots = %zu, .locate_data = locate_data,\n", e->slots.n);
  dc_buf_puts(o, "};\n\n");
  dc_buf_puts(o, "int main(int argc, char **argv)\n{\n  return densrt_cli_main(&model, argc, argv);\n}\n");
}

int dc_emit(dc_ir *ir, const dc_source *src, const dc_emit_options *opt, FILE *out)
{
  emitter e = {ir, src, opt, {0}, {0}};
  dc_buf *o = &e.out;
  dc_buf_init(o);
  dc_buf_printf(o, "/* Code generated by densc %s from ", opt->version);
  put_comment_text(o, opt->source_path, strlen(opt->source_path));
  dc_buf_puts(o, ". DO NOT EDIT.\n**\n** Log posterior of an inhomogeneous Poisson process,\n"
                 "**   ln p = sum_i ln n(x_i) - integral of n over the window + ln prior,\n"
                 "** with its exact gradient in forward-mode dual numbers: v<N> holds a value,\n"
                 "** d<N>_<k> its derivative with respect to input k of the loop it is in,\n"
                 "** dp<N>_<k> with respect to parameter input k.\n*/\n");
  dc_buf_puts(o, "#include <math.h>\n#include <stdint.h>\n#include <string.h>\n#include \"densrt.h\"\n\n");
  emit_tables(&e);
  emit_log_density(&e);
  emit_log_terms(&e);
  emit_locate_data(&e);
  emit_definition(&e);
  int rc = fwrite(o->s, 1, o->len, out) == o->len ? 0 : 1;
  dc_buf_free(o);
  dc_vec_free(&e.slots);
  return rc;
}

/* }==================================================================== */
