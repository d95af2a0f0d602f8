/*
** emit.c — the C printer: description tables, and each kernel of kernel.c as
** a C function or block.  Every value and derivative is an IR node printed as
** one `const double v<id>` statement; nothing is differentiated here.
*/
#include "emit.h"
#include "layout.h"
#include "spline.h"
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
  const dc_kernels *ks;
  const dc_source *src;
  const dc_emit_options *opt;
  dc_buf out;
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
** Statements
** ===================================================================== */

typedef struct {
  emitter *e;
  const dc_kernel *k;
  const char *ind;        /* indentation */
  char *printed;          /* per node id: its statement is in scope */
  int line;               /* the source line of the last #line */
  const ir_node *e_only;  /* a binary LSE whose exponential alone is needed (its value is summed
                             as a product) */
  const ir_node *skip[2]; /* nodes whose statements are not needed */
  int lanes;              /* the body of a run kernel's lane loop: splines from the run's cubics,
                             exp inline (densrt_exp) so that the loop vectorises */
  int node_lanes;         /* the body of a quadrature kernel's lane loop: splines at the segments
                             found before it, normal CDF differences from the lanes' arrays */
} printer;

static void pr_init(printer *p, emitter *e, const dc_kernel *k, const char *ind)
{
  p->e = e;
  p->k = k;
  p->ind = ind;
  p->printed = dc_xcalloc(e->ir->n_nodes + 1, 1);
  p->line = 0;
  p->e_only = p->skip[0] = p->skip[1] = NULL;
  p->lanes = p->node_lanes = 0;
}

static void pr_free(printer *p)
{
  free(p->printed);
}

/* A node as an operand: a literal, a column's coordinate, or its variable. */
static void ref(dc_buf *b, const ir_node *n)
{
  if (n->op == IR_CONST)
    put_double(b, n->value);
  else if (n->op == IR_DATA)
    dc_buf_printf(b, "x%d", n->index);
  else
    dc_buf_printf(b, "v%d", n->id);
}

static char *text(const ir_node *n)
{
  dc_buf b;
  dc_buf_init(&b);
  ref(&b, n);
  return dc_buf_take(&b);
}

/* #line before a statement written on another line of the source than the last. */
static void stmt_line(printer *p, dc_loc loc)
{
  if (!p->e->opt->line_directives || loc.line < 1 || loc.line == p->line)
    return;
  p->line = loc.line;
  line_to_source(p->e, loc);
}

/* After statements with #line to the source, back to the C file. */
static void end_lines(printer *p)
{
  if (p->line)
    line_to_c(p->e);
  p->line = 0;
}

/* The index of a spline's node locations in a rule (densrt_points: seg and u). */
static int node_loc(const dc_ir *ir, const ir_node *sp)
{
  return sp->index * (int)ir->n_dims + sp->a[0]->index;
}

/* A spline value at a point: where the data rows were located (slot), or located here. */
static void print_spline_input(printer *p, const ir_node *sp)
{
  dc_buf *o = &p->e->out;
  const char *in = p->ind;
  int id = sp->id;
  if (p->node_lanes) {   /* located when the rule was made, its cubic gathered for the chunk */
    dc_buf_printf(o, "%sconst double v%d = densrt_spline_cubic(c%d[0][k], c%d[1][k], c%d[2][k], c%d[3][k], r->u[%d][q]);\n",
                  in, id, id, id, id, id, node_loc(p->e->ir, sp));
    return;
  }
  if (p->lanes) {   /* the run's segment j, left knot t and cubic c were set before the loop */
    dc_buf_printf(o, "%sconst double u%d = x%d - t%d;\n", in, id, sp->a[0]->index, id);
    dc_buf_printf(o, "%sconst double v%d = densrt_spline_seg_eval(c%d, 0, u%d);\n", in, id, id, id);
    return;
  }
  if (p->k->kind == DC_K_DATA || p->k->kind == DC_K_DATA_GROUP) {
    int s = dc_kernels_slot(p->e->ks, p->e->ir, sp);
    dc_buf_printf(o, "%sconst size_t j%d = m->pseg[%d][i];\n", in, id, s);
    dc_buf_printf(o, "%sconst double u%d = m->pu[%d][i];\n", in, id, s);
  } else {
    char *X = text(sp->a[0]);
    dc_buf_printf(o, "%sdouble u%d;\n", in, id);
    dc_buf_printf(o, "%sconst size_t j%d = densrt_spline_locate(m->spline[%d], %s, &u%d);\n", in, id, sp->index, X,
                  id);
    free(X);
  }
  dc_buf_printf(o, "%sconst double v%d = densrt_spline_seg_eval(w->coef[%d], j%d, u%d);\n", in, id, sp->index, id, id);
}

static void print_stmt(printer *p, const ir_node *n)
{
  dc_buf *o = &p->e->out;
  const ir_node *a = n->a[0], *b = n->a[1];
  char *A = a ? text(a) : NULL, *B = b ? text(b) : NULL;
  int id = n->id;
  const char *in = p->ind, *EXP = p->lanes || p->node_lanes ? "densrt_exp" : "exp";
  const char *EXPNEG = p->lanes || p->node_lanes ? "densrt_exp_neg" : "exp";   /* of -|a - b| */
  stmt_line(p, n->loc);
  switch (n->op) {
  case IR_SPLINE: print_spline_input(p, n); break;
  case IR_ADD: dc_buf_printf(o, "%sconst double v%d = %s + %s;\n", in, id, A, B); break;
  case IR_SUB: dc_buf_printf(o, "%sconst double v%d = %s - %s;\n", in, id, A, B); break;
  case IR_MUL: dc_buf_printf(o, "%sconst double v%d = %s * %s;\n", in, id, A, B); break;
  case IR_DIV: dc_buf_printf(o, "%sconst double v%d = %s / %s;\n", in, id, A, B); break;
  case IR_NEG: dc_buf_printf(o, "%sconst double v%d = -%s;\n", in, id, A); break;
  case IR_EXP: dc_buf_printf(o, "%sconst double v%d = %s(%s);\n", in, id, EXP, A); break;
  case IR_LOG: dc_buf_printf(o, "%sconst double v%d = log(%s);\n", in, id, A); break;
  case IR_LOG1P: dc_buf_printf(o, "%sconst double v%d = log1p(%s);\n", in, id, A); break;
  case IR_SQRT: dc_buf_printf(o, "%sconst double v%d = sqrt(%s);\n", in, id, A); break;
  case IR_LGAMMA: dc_buf_printf(o, "%sconst double v%d = densrt_special_lgamma(%s);\n", in, id, A); break;
  case IR_DIGAMMA: dc_buf_printf(o, "%sconst double v%d = densrt_special_digamma(%s);\n", in, id, A); break;
  case IR_MAX: dc_buf_printf(o, "%sconst double v%d = fmax(%s, %s);\n", in, id, A, B); break;   /* branch-free */
  case IR_SHIFT:   /* every term zero: log(0) = -inf; +inf or NaN shows through */
    dc_buf_printf(o, "%sconst double v%d = %s == -INFINITY ? 0 : %s;\n", in, id, A, A);
    break;
  case IR_POW:
    if (b->op == IR_CONST && b->value == 2)
      dc_buf_printf(o, "%sconst double v%d = %s * %s;\n", in, id, A, A);
    else
      dc_buf_printf(o, "%sconst double v%d = pow(%s, %s);\n", in, id, A, B);
    break;
  case IR_LSE:   /* log(e^a + e^b) = max + log1p(e^-|a-b|) */
    dc_buf_printf(o, "%sconst double e%d = %s(-fabs(%s - %s));\n", in, id, EXPNEG, A, B);
    if (n != p->e_only)
      dc_buf_printf(o, "%sconst double v%d = (%s > %s ? %s : %s) + log1p(e%d);\n", in, id, A, B, A, B, id);
    break;
  case IR_LSE_W: {   /* the weight of a in LSE(a, b): 1 / (1 + e^(b-a)) from the LSE's e */
    int L = n->a[2]->id;
    if (!p->printed[L]) {
      L = id;
      dc_buf_printf(o, "%sconst double e%d = %s(-fabs(%s - %s));\n", in, id, EXPNEG, A, B);
    }
    if (p->lanes)   /* both sides are computed (a vector select): one division */
      dc_buf_printf(o, "%sconst double r%d = 1 / (1 + e%d);\n%sconst double v%d = %s >= %s ? r%d : e%d * r%d;\n", in, id,
                    L, in, id, A, B, id, L, id);
    else
      dc_buf_printf(o, "%sconst double v%d = %s >= %s ? 1 / (1 + e%d) : e%d / (1 + e%d);\n", in, id, A, B, L, L, L);
    break;
  }
  case IR_LOG_NDIFF:
    if (p->node_lanes) {   /* densrt_log_ndiff_lanes filled the arrays */
      dc_buf_printf(o, "%sconst double v%d = nv%d[k], dmu%d = ndmu%d[k], dsd%d = ndsd%d[k];\n", in, id, id, id, id, id,
                    id);
      break;
    }
    dc_buf_printf(o, "%sdouble dmu%d, dsd%d;\n", in, id, id);
    dc_buf_printf(o, "%sconst double v%d = densrt_log_ndiff(m->lo[%d], m->hi[%d], %s, %s, &dmu%d, &dsd%d);\n", in,
                  id, n->index, n->index, A, B, id, id);
    break;
  case IR_LOG_PHIDIFF:
    dc_buf_printf(o, "%sdouble da%d, db%d;\n", in, id, id);
    dc_buf_printf(o, "%sconst double v%d = densrt_quad_log_normal_diff(%s, %s, &da%d, &db%d);\n", in, id, A, B, id, id);
    break;
  case IR_NDIFF_DMU: case IR_NDIFF_DSD: case IR_PHIDIFF_DA: case IR_PHIDIFF_DB:   /* set by their node a */
    if (!p->printed[a->id]) {
      fprintf(stderr, "densc: internal error: %%%d needs %%%d in scope\n", id, a->id);
      exit(3);
    }
    dc_buf_printf(o, "%sconst double v%d = %s%d;\n", in, id,
                  n->op == IR_NDIFF_DMU ? "dmu" : n->op == IR_NDIFF_DSD ? "dsd" : n->op == IR_PHIDIFF_DA ? "da" : "db",
                  a->id);
    break;
  case IR_LOG_WIDTH:
    dc_buf_printf(o, "%sconst double v%d = log(m->hi[%d] - m->lo[%d]);\n", in, id, n->index, n->index);
    break;
  default:
    fprintf(stderr, "densc: internal error: cannot emit %s\n", ir_op_name(n->op));
    exit(3);
  }
  p->printed[id] = 1;
  free(A);
  free(B);
}

static void print_stmts(printer *p)
{
  for (size_t i = 0; i < p->k->n_stmt; i++)
    if (p->k->stmt[i] != p->skip[0] && p->k->stmt[i] != p->skip[1])
      print_stmt(p, p->k->stmt[i]);
}

/* Is n's value used by a statement of k other than `besides`, or by a derivative?  (An
** LSE_W refers to its LSE node only for the exponential.) */
static int value_used(const dc_kernel *k, const ir_node *n, const ir_node *besides)
{
  for (size_t i = 0; i < k->n_stmt; i++) {
    const ir_node *s = k->stmt[i];
    if (s == besides)
      continue;
    for (int j = 0; j < 3; j++)
      if (s->a[j] == n && !(s->op == IR_LSE_W && j == 2))
        return 1;
  }
  for (size_t i = 0; k->d && i < k->n_out * k->n_in; i++)
    if (k->d[i] == n)
      return 1;
  return 0;
}

/*
** The data sum of a log-sum-exp, max + log(f) with f >= 1, as the sum of the maxima plus
** the log of the product of the f: one log a few hundred rows instead of one a row (the
** product is taken into the sum before it could overflow).  Sets max and f (caller frees)
** and what the printer may leave out; 0 when the root is not such a sum.
*/
static int log_product_form(printer *p, const ir_node *root, char **max, char **f)
{
  const dc_kernel *k = p->k;
  if (root->op == IR_LSE && !value_used(k, root, NULL)) {
    char *A = text(root->a[0]), *B = text(root->a[1]);
    dc_buf b;
    dc_buf_init(&b);
    dc_buf_printf(&b, "(%s > %s ? %s : %s)", A, B, A, B);
    *max = dc_buf_take(&b);
    dc_buf_printf(&b, "(1 + e%d)", root->id);
    *f = dc_buf_take(&b);
    free(A);
    free(B);
    p->e_only = root;
    return 1;
  }
  if (root->op == IR_ADD && root->a[1]->op == IR_LOG && !value_used(k, root, NULL) &&
      !value_used(k, root->a[1], root) && root->a[0]->op == IR_SHIFT) {
    *max = text(root->a[0]);
    *f = text(root->a[1]->a[0]);
    p->skip[0] = root;   /* neither the sum nor its log has another use */
    p->skip[1] = root->a[1];
    return 1;
  }
  return 0;
}

/* A data group's first pass: the values alone. */
static void print_value_stmts(printer *p)
{
  for (size_t i = 0; i < p->k->n_vstmt; i++)
    print_stmt(p, p->k->vstmt[i]);
}

/* The coordinates `dims` at point `idx` of `from` ("m->xs", "r->x", "x"). */
static void print_columns_of(printer *p, const char *from, const char *idx, uint32_t dims)
{
  for (int d = 0; d < DENSRT_MAX_DIMS; d++)
    if (dims & (1u << d))
      dc_buf_printf(&p->e->out, "%sconst double x%d = %s[%d][%s];\n", p->ind, d, from, d, idx);
}

/* Every coordinate the kernel reads. */
static void print_columns(printer *p, const char *from, const char *idx)
{
  print_columns_of(p, from, idx, p->k->dims);
}

/* The columns n reads itself (a quadrature node's spline reads its offset from the rule). */
static uint32_t dims_read(const ir_node *n, int node_lanes)
{
  uint32_t dims = n->op == IR_DATA ? 1u << n->index : 0;
  for (int j = 0; j < 3 && !(node_lanes && n->op == IR_SPLINE); j++)
    if (n->a[j] && n->a[j]->op == IR_DATA)
      dims |= 1u << n->a[j]->index;
  return dims;
}

/* }==================================================================== */

/* {====================================================================
** Point kernels: log n at the data rows, log integrands at quadrature nodes
** ===================================================================== */

/* A point's derivative ga with respect to a spline value at offset u from its segment's
** left knot, into the segment's coefficient adjoints ca[0..3] (the cubic's powers of u). */
static const char CUBIC_ADJOINT[] = "ca[0] += ga; ca[1] += ga * u; ca[2] += ga * u * u; ca[3] += ga * u * u * u;";

/* Adds weight times each derivative of output r into its input's adjoint (-= with minus);
** a spline input scatters into its segment's coefficient adjoints. */
static void accumulate(printer *p, size_t r, const char *weight, int minus)
{
  dc_buf *o = &p->e->out;
  const dc_kernel *k = p->k;
  const char *body = p->ind;
  for (size_t j = 0; j < k->n_in; j++) {
    const ir_node *l = k->in[j], *d = k->d[r * k->n_in + j];
    if (!d)
      continue;
    char *D = text(d);
    if (l->op == IR_SPLINE) {
      dc_buf_printf(o, "%s{\n%s  double *ca = w->coef_adj[%d] + 4 * j%d;\n", body, body, l->index, l->id);
      dc_buf_printf(o, "%s  const double ga = %s%s%s;\n", body, minus ? "-" : "", weight, D);
      dc_buf_printf(o, "%s  const double u = u%d;\n", body, l->id);
      dc_buf_printf(o, "%s  %s\n%s}\n", body, CUBIC_ADJOINT, body);
    } else {
      dc_buf_printf(o, "%sadj%d %s %s%s;\n", body, l->id, minus ? "-=" : "+=", weight, D);
    }
    free(D);
  }
}

/* Has input j a nonzero derivative in some output? */
static int has_adjoint(const dc_kernel *k, size_t j)
{
  for (size_t r = 0; k->d && r < k->n_out; r++)
    if (k->d[r * k->n_in + j])
      return 1;
  return 0;
}

/* The hoisted inputs from hv[] and, with adjoints, their local adjoint sums. */
static void print_hv_inputs(emitter *e, const dc_kernel *k, int adjoints)
{
  for (size_t j = 0; j < k->n_in; j++) {
    const ir_node *h = k->in[j];
    if (h->op == IR_SPLINE)
      continue;
    dc_buf_printf(&e->out, "  const double v%d = hv[%d];\n", h->id, dc_hv_index(e->ks, h));
    if (adjoints && has_adjoint(k, j))
      dc_buf_printf(&e->out, "  double adj%d = 0;\n", h->id);
  }
}

static void print_adjoint_sums(emitter *e, const dc_kernel *k)
{
  for (size_t j = 0; j < k->n_in; j++)
    if (k->in[j]->op != IR_SPLINE && has_adjoint(k, j))
      dc_buf_printf(&e->out, "  adj[%d] += adj%d;\n", dc_hv_index(e->ks, k->in[j]), k->in[j]->id);
}

/*
** A point loop as a function of its own: the hoisted values come in hv[], the adjoints of
** those with parameters go out in adj[], summed in locals over the loop.  Returns ll (data)
** or S (a quadrature sum, log integrand at each node left in w->lv).  m is only read:
** callers with a work each may run kernels at once; the data kernel takes a range of rows.
** Small functions keep the C compiler's register allocation local.
*/
static void print_point_kernel(emitter *e, const dc_kernel *k, const char *name)
{
  dc_buf *o = &e->out;
  int data = k->kind == DC_K_DATA;
  printer p;
  pr_init(&p, e, k, "    ");
  dc_buf_printf(o, "static double %s(const densrt_model *m, densrt_work *w, const double *restrict hv, "
                   "double *restrict adj%s)\n{\n", name ? name : k->name, data ? ", size_t i0, size_t i1" : "");
  print_hv_inputs(e, k, 1);
  char *max = NULL, *f = NULL;
  int product = data && log_product_form(&p, k->out[0], &max, &f);
  if (data) {
    dc_buf_printf(o, "  double ll = 0%s;\n  for (size_t i = i0; i < i1; i++) {\n", product ? ", prod = 1" : "");
    print_columns(&p, "m->xs", "i");
  } else {
    dc_buf_printf(o, "  const densrt_points *r = &m->rule[%d];\n  double S = 0, *lv = w->lv;\n", k->term);
    dc_buf_puts(o, "  for (size_t q = 0; q < r->n; q++) {\n");
    print_columns(&p, "r->x", "q");
  }
  print_stmts(&p);
  end_lines(&p);
  char *R = text(k->out[0]);
  if (product) {
    dc_buf_printf(o, "    ll += %s;\n    prod *= %s;\n", max, f);
    dc_buf_puts(o, "    if (prod > 0x1p900) {   /* into the sum before the product could overflow */\n"
                   "      ll += log(prod);\n      prod = 1;\n    }\n");
  } else if (data) {
    dc_buf_printf(o, "    ll += %s;\n", R);
  } else {
    /* an integral adds w = exp(lw + log f) and subtracts w times the derivatives */
    dc_buf_printf(o, "    lv[q] = %s;\n    const double wq = exp(r->lw[q] + %s);\n    S += wq;\n", R, R);
  }
  free(R);
  if (!data)   /* w d(log w) -> 0 as w -> 0, also where the derivative is infinite */
    dc_buf_puts(o, "    if (wq == 0)\n      continue;\n");
  accumulate(&p, 0, data ? "" : "wq * ", !data);
  dc_buf_puts(o, "  }\n");
  if (product)
    dc_buf_puts(o, "  ll += log(prod);\n");
  free(max);
  free(f);
  print_adjoint_sums(e, k);
  dc_buf_printf(o, "  return %s;\n}\n\n", data ? "ll" : "S");
  pr_free(&p);
}

/* A lane kernel's adjoints of its hoisted inputs: with sum 0 an array of lanes each is
** declared; with sum 1 their lanes are added, in order, into adj[]. */
static void print_lane_adjoints(emitter *e, const dc_kernel *k, int sum)
{
  for (size_t j = 0; j < k->n_in; j++) {
    if (k->in[j]->op == IR_SPLINE || !has_adjoint(k, j))
      continue;
    if (sum)
      dc_buf_printf(&e->out, "  for (size_t l = 0; l < L; l++)\n    adj[%d] += adj%d[l];\n",
                    dc_hv_index(e->ks, k->in[j]), k->in[j]->id);
    else
      dc_buf_printf(&e->out, "  double adj%d[L] = {0};\n", k->in[j]->id);
  }
}

/* Is every spline a kernel reads one of a data column (so that a run of rows or a node
** locates it by the column alone)? */
static int splines_of_columns(const dc_kernel *k)
{
  for (size_t j = 0; j < k->n_in; j++)
    if (k->in[j]->op == IR_SPLINE && k->in[j]->a[0]->op != IR_DATA)
      return 0;
  return 1;
}

/* Can the data kernel run over runs of rows? */
static int run_kernel(const dc_kernel *k)
{
  return k->kind == DC_K_DATA && splines_of_columns(k);
}

/*
** A run kernel's statements in stages, where a row's work chains two or more exponentials.
** An exponential's value is used one stage after it is computed, each stage a short loop
** over a chunk of a run's rows (values that cross to a later stage go through an array of
** the chunk): a loop through dependent exponentials waits on their latency, short loops
** let the processor overlap the rows.
** stage[id] is where statement id is computed, or -1 where it is not a statement here.
*/
enum { RUN_CHUNK = 128 };   /* rows of a chunk: its arrays stay in the first-level cache */

/* Points a chunk takes when `arrays` arrays of doubles hold it: RUN_CHUNK, or fewer (a multiple
** of the lanes) so that they take at most 64 KiB of the stack. */
static int chunk_points(size_t arrays)
{
  size_t n = arrays ? (size_t)65536 / (8 * arrays) / DENSRT_LANES * DENSRT_LANES : RUN_CHUNK;
  return n >= RUN_CHUNK ? RUN_CHUNK : n >= DENSRT_LANES ? (int)n : DENSRT_LANES;
}

typedef struct {
  int last;                 /* the last stage: the sums, the moments and the adjoints */
  int *stage;               /* per node id */
  char *stored;             /* per node id: used in a later stage than its own */
} run_stages;

static int exp_like(const ir_node *n)
{
  return n->op == IR_EXP || n->op == IR_LSE;
}

/* The values the last stage reads besides the derivatives: the sum's operands. */
static size_t final_uses(const printer *p, const ir_node **u)
{
  const ir_node *root = p->k->out[0];
  if (p->e_only == root) {   /* max(a, b) and (1 + e) */
    u[0] = root->a[0], u[1] = root->a[1], u[2] = root;
    return 3;
  }
  if (p->skip[0] == root) {   /* shift + log(f) */
    u[0] = root->a[0], u[1] = root->a[1]->a[0];
    return 2;
  }
  u[0] = root;
  return 1;
}

static void plan_stages(const printer *p, run_stages *rs)
{
  const dc_kernel *k = p->k;
  size_t nn = p->e->ir->n_nodes + 1;
  rs->stage = dc_xcalloc(nn, sizeof *rs->stage);
  rs->stored = dc_xcalloc(nn, 1);
  int *asap = dc_xcalloc(nn, sizeof *asap), *lo = dc_xcalloc(nn, sizeof *lo);
  for (size_t i = 0; i < nn; i++)
    rs->stage[i] = -1;
  rs->last = 0;
  int splittable = 1;
  for (size_t i = 0; i < k->n_stmt; i++) {
    const ir_node *n = k->stmt[i];
    if (n == p->skip[0] || n == p->skip[1])
      continue;
    if (n->op == IR_NDIFF_DMU || n->op == IR_NDIFF_DSD || n->op == IR_PHIDIFF_DA || n->op == IR_PHIDIFF_DB)
      splittable = 0;   /* read variables of their node's statement: kept in one stage */
    int s = 0;
    for (int j = 0; j < 3; j++) {
      const ir_node *a = n->a[j];
      if (a && rs->stage[a->id] >= 0 && asap[a->id] + exp_like(a) > s)
        s = asap[a->id] + exp_like(a);
    }
    asap[n->id] = s;
    rs->stage[n->id] = 0;   /* a statement here */
    if (s > rs->last)
      rs->last = s;
  }
  /* one exponential a row: the arrays cost more than the overlap gains (measured: a normal
     plus a constant on 10^5 rows, 92 us unsplit against 276 us in two stages) */
  if (!splittable || rs->last < 2)
    rs->last = 0;
  /* as late as the uses allow (an exponential as early as it can): fewer values cross */
  for (size_t i = 0; i < nn; i++)
    lo[i] = rs->last;
  const ir_node *fu[3];
  size_t nf = final_uses(p, fu);
  for (size_t i = k->n_stmt; i-- > 0;) {
    const ir_node *n = k->stmt[i];
    if (rs->stage[n->id] < 0 || n == p->skip[0] || n == p->skip[1])
      continue;
    int s = rs->last ? (exp_like(n) ? asap[n->id] : lo[n->id]) : 0;
    rs->stage[n->id] = s;
    for (int j = 0; j < 3; j++)
      if (n->a[j] && s < lo[n->a[j]->id])
        lo[n->a[j]->id] = s;
  }
  /* what crosses: an argument computed in an earlier stage than its use */
  for (size_t i = 0; i < k->n_stmt; i++) {
    const ir_node *n = k->stmt[i];
    if (rs->stage[n->id] < 0)
      continue;
    for (int j = 0; j < 3; j++) {
      const ir_node *a = n->a[j];
      if (a && rs->stage[a->id] >= 0 && rs->stage[a->id] < rs->stage[n->id])
        rs->stored[a->id] = 1;
    }
  }
  for (size_t i = 0; i < nf; i++)
    if (rs->stage[fu[i]->id] >= 0 && rs->stage[fu[i]->id] < rs->last)
      rs->stored[fu[i]->id] = 1;
  for (size_t j = 0; j < k->n_in; j++)
    if (k->d[j] && rs->stage[k->d[j]->id] >= 0 && rs->stage[k->d[j]->id] < rs->last)
      rs->stored[k->d[j]->id] = 1;
  free(asap);
  free(lo);
}

static void free_stages(run_stages *rs)
{
  free(rs->stage);
  free(rs->stored);
}

/* The crossing values' arrays, v (and an LSE's e), declared on o (NULL: only counted).
** Returns their number. */
static size_t stage_arrays(const dc_kernel *k, const run_stages *rs, const printer *p, dc_buf *o)
{
  size_t arrays = 0;
  for (size_t i = 0; i < k->n_stmt; i++) {
    const ir_node *n = k->stmt[i];
    if (!rs->stored[n->id])
      continue;
    if (n->op != IR_LSE || n != p->e_only) {
      if (o)
        dc_buf_printf(o, "  double cv%d[RUN_CHUNK];\n", n->id);
      arrays++;
    }
    if (n->op == IR_LSE) {
      if (o)
        dc_buf_printf(o, "  double ce%d[RUN_CHUNK];\n", n->id);
      arrays++;
    }
  }
  return arrays;
}

/* Does stage s read n: an argument of one of its statements, or (the last stage) an
** operand of the sum or a derivative? */
static int used_in_stage(const printer *p, const run_stages *rs, const ir_node *n, int s)
{
  const dc_kernel *k = p->k;
  for (size_t i = 0; i < k->n_stmt; i++) {
    const ir_node *m = k->stmt[i];
    if (rs->stage[m->id] == s && (m->a[0] == n || m->a[1] == n || m->a[2] == n))
      return 1;
  }
  if (s != rs->last)
    return 0;
  const ir_node *fu[3];
  size_t nf = final_uses(p, fu);
  for (size_t i = 0; i < nf; i++)
    if (fu[i] == n)
      return 1;
  for (size_t j = 0; j < k->n_in; j++)
    if (k->d[j] == n)
      return 1;
  return 0;
}

/* The columns stage s reads: its statements', and in the last stage those of the sum's
** operands and derivatives and of the splines whose offsets the moments need. */
static uint32_t stage_dims(const printer *p, const run_stages *rs, int s)
{
  const dc_kernel *k = p->k;
  uint32_t dims = 0;
  for (size_t i = 0; i < k->n_stmt; i++)
    if (rs->stage[k->stmt[i]->id] == s)
      dims |= dims_read(k->stmt[i], 0);
  if (s != rs->last)
    return dims;
  const ir_node *fu[3];
  size_t nf = final_uses(p, fu);
  for (size_t i = 0; i < nf; i++)
    dims |= dims_read(fu[i], 0);
  for (size_t j = 0; j < k->n_in; j++)
    if (k->d[j]) {
      dims |= dims_read(k->d[j], 0);
      if (k->in[j]->op == IR_SPLINE)
        dims |= dims_read(k->in[j], 0);
    }
  return dims;
}

/* Stage s's statements at row i (chunk position c), lane l: earlier stages' values read
** from the chunk's arrays, its own crossing values stored. */
static void print_stage_stmts(printer *p, const run_stages *rs, int s)
{
  dc_buf *o = &p->e->out;
  const dc_kernel *k = p->k;
  for (size_t i = 0; i < k->n_stmt; i++) {
    const ir_node *n = k->stmt[i];
    if (!rs->stored[n->id] || rs->stage[n->id] >= s || !used_in_stage(p, rs, n, s))
      continue;
    if (n->op != IR_LSE || n != p->e_only)
      dc_buf_printf(o, "%sconst double v%d = cv%d[c];\n", p->ind, n->id, n->id);
    if (n->op == IR_LSE)
      dc_buf_printf(o, "%sconst double e%d = ce%d[c];\n", p->ind, n->id, n->id);
    p->printed[n->id] = 1;
  }
  for (size_t i = 0; i < k->n_stmt; i++) {
    const ir_node *n = k->stmt[i];
    if (rs->stage[n->id] == s)
      print_stmt(p, n);
  }
  end_lines(p);
  for (size_t i = 0; i < k->n_stmt; i++) {
    const ir_node *n = k->stmt[i];
    if (!rs->stored[n->id] || rs->stage[n->id] != s)
      continue;
    if (n->op != IR_LSE || n != p->e_only)
      dc_buf_printf(o, "%scv%d[c] = v%d;\n", p->ind, n->id, n->id);
    if (n->op == IR_LSE)
      dc_buf_printf(o, "%sce%d[c] = e%d;\n", p->ind, n->id, n->id);
  }
}

/* A run kernel's lane loop body at row i, lane l: the statements (of stage `stage` when rs
** is given, else all), the row's log n into the lane's sums, its derivatives into the
** lane's moments and adjoints (the last stage); `masked`: only where mk (the lanes past
** the run's end compute on other rows, and add nothing). */
static void print_lane_body(emitter *e, const dc_kernel *k, int masked, const run_stages *rs, int stage)
{
  dc_buf *o = &e->out;
  printer p;
  pr_init(&p, e, k, "        ");
  p.lanes = 1;
  char *max = NULL, *f = NULL;
  int product = log_product_form(&p, k->out[0], &max, &f);
  if (!rs) {
    print_columns(&p, "m->xs", "i");
    print_stmts(&p);
    end_lines(&p);
  } else {
    print_columns_of(&p, "m->xs", "i", stage_dims(&p, rs, stage));
    print_stage_stmts(&p, rs, stage);
    if (stage < rs->last)
      goto done;
    for (size_t j = 0; j < k->n_in; j++) {   /* a spline's offset, for its moments */
      const ir_node *in = k->in[j];
      if (in->op == IR_SPLINE && k->d[j] && rs->stage[in->id] < stage)
        dc_buf_printf(o, "        const double u%d = x%d - t%d;\n", in->id, in->a[0]->index, in->id);
    }
  }
  const char *mk = masked ? "mk ? " : "", *zero = masked ? " : 0.0" : "";
  if (product) {
    dc_buf_printf(o, "        ll[l] += %s%s%s;\n        prod[l] *= %s%s%s;\n", mk, max, zero, mk, f,
                  masked ? " : 1.0" : "");
  } else {
    char *R = text(k->out[0]);
    dc_buf_printf(o, "        ll[l] += %s%s%s;\n", mk, R, zero);
    free(R);
  }
  for (size_t j = 0; j < k->n_in; j++) {
    const ir_node *in = k->in[j], *d = k->d[j];
    if (!d)
      continue;
    char *D = text(d);
    if (in->op == IR_SPLINE) {
      int id = in->id;
      dc_buf_printf(o, "        {\n          const double ga = %s%s%s, ua = u%d;\n", mk, D, zero, id);
      dc_buf_printf(o, "          g%d[0][l] += ga; g%d[1][l] += ga * ua; g%d[2][l] += ga * ua * ua; "
                       "g%d[3][l] += ga * ua * ua * ua;\n        }\n", id, id, id, id);
    } else {
      dc_buf_printf(o, "        adj%d[l] += %s%s%s;\n", in->id, mk, D, zero);
    }
    free(D);
  }
done:
  free(max);
  free(f);
  pr_free(&p);
}

/*
** The data kernel over runs (densrt_model: rows sorted so that each run's rows share one
** segment of every spline): inside a run each spline is one cubic, its coefficients'
** adjoints four moments of the rows.  The rows go DENSRT_LANES at a time through a loop
** whose lanes have sums of their own, with no call or branch, so that the C compiler
** vectorises it; the lanes are added in their order (the same bits for the same rows).
** A log-sum-exp's sum over the rows is max + log(f) with f >= 1: the maxima summed, the
** f multiplied per lane and taken into the sum before the product could overflow.
*/
static void print_run_data_kernel(emitter *e, const dc_kernel *k, const char *name)
{
  dc_buf *o = &e->out;
  printer q;
  pr_init(&q, e, k, "");
  char *max = NULL, *f = NULL;
  int product = log_product_form(&q, k->out[0], &max, &f);
  run_stages rs;
  plan_stages(&q, &rs);
  free(max);
  free(f);
  dc_buf_printf(o, "static double %s(const densrt_model *m, densrt_work *w, const double *restrict hv, "
                   "double *restrict adj, size_t i0, size_t i1)\n{\n", name ? name : k->name);
  dc_buf_puts(o, "  enum { L = DENSRT_LANES };\n");
  if (rs.last) {
    dc_buf_printf(o, "  enum { RUN_CHUNK = %d };   /* rows a stage's loop takes at a time */\n",
                  chunk_points(stage_arrays(k, &rs, &q, NULL)));
    stage_arrays(k, &rs, &q, o);
  }
  pr_free(&q);
  print_hv_inputs(e, k, 0);
  dc_buf_printf(o, "  double ll[L] = {0}%s;\n", product ? ", prod[L]" : "");
  if (product)
    dc_buf_puts(o, "  size_t nb = 0;   /* blocks since the products were last taken into the sums */\n"
                   "  for (size_t l = 0; l < L; l++)\n    prod[l] = 1;\n");
  print_lane_adjoints(e, k, 0);
  dc_buf_printf(o, "  for (size_t r = densrt_model_run_of(m, i0); r < m->n_runs && m->run_start[r] < i1; r++) {\n"
                   "    const size_t b0 = m->run_start[r] > i0 ? m->run_start[r] : i0;\n"
                   "    const size_t b1 = m->run_start[r + 1] < i1 ? m->run_start[r + 1] : i1;\n");
  for (size_t j = 0; j < k->n_in; j++)
    if (k->in[j]->op == IR_SPLINE) {   /* the run's segments */
      dc_buf_printf(o, "    const uint32_t *seg = m->run_seg + r * %zu;\n", e->ks->n_slot);
      break;
    }
  for (size_t j = 0; j < k->n_in; j++) {
    const ir_node *sp = k->in[j];
    if (sp->op != IR_SPLINE)
      continue;
    int id = sp->id, s = dc_kernels_slot(e->ks, e->ir, sp);
    dc_buf_printf(o, "    const size_t j%d = seg[%d];\n", id, s);
    dc_buf_printf(o, "    const double t%d = m->knots[%d][j%d], *c%d = w->coef[%d] + 4 * j%d;\n", id,
                  e->ir->cs[sp->index].knots, id, id, sp->index, id);
    if (has_adjoint(k, j))
      dc_buf_printf(o, "    double g%d[4][L] = {{0}};\n", id);
  }
  /* each lane's product gains a factor f <= DC_TERM_GROUP = 32 (the terms of an unsplit
     sum) a block: taken into the sum every 64 blocks, before it could pass 32^64 = 2^320 */
  const char *fold = "      if (++nb == 64) {   /* into the sum before the product could overflow */\n"
                     "        for (size_t l = 0; l < L; l++) {\n          ll[l] += log(prod[l]);\n"
                     "          prod[l] = 1;\n        }\n        nb = 0;\n      }\n";
  if (rs.last == 0) {
    dc_buf_puts(o, "    size_t b = b0;\n    for (; b + L <= b1; b += L) {\n      for (size_t l = 0; l < L; l++) {\n"
                   "        const size_t i = b + l;\n");
    print_lane_body(e, k, 0, NULL, 0);
    dc_buf_puts(o, "      }\n");
    if (product)
      dc_buf_puts(o, fold);
    dc_buf_puts(o, "    }\n    if (b < b1) {   /* the run's last rows, and lanes that add nothing (xs is padded) */\n"
                   "      for (size_t l = 0; l < L; l++) {\n        const size_t i = b + l;\n"
                   "        const int mk = i < b1;\n");
    print_lane_body(e, k, 1, NULL, 0);
    dc_buf_puts(o, "      }\n");
    if (product)
      dc_buf_puts(o, fold);
    dc_buf_puts(o, "    }\n");
  } else {
    /* chunks of the run, each stage a loop over the chunk; the last chunk's last block has
       lanes past the run's end (xs is padded), which add nothing */
    dc_buf_puts(o, "    for (size_t b = b0; b < b1; b += RUN_CHUNK) {\n"
                   "      const size_t n = b1 - b < RUN_CHUNK ? b1 - b : RUN_CHUNK;\n");
    for (int s = 0; s <= rs.last; s++) {
      dc_buf_printf(o, "      for (size_t c0 = 0; c0 < n; c0 += L) {   /* stage %d */\n"
                       "      for (size_t l = 0; l < L; l++) {\n"
                       "        const size_t c = c0 + l, i = b + c;\n", s);
      if (s == rs.last)
        dc_buf_puts(o, "        const int mk = c < n;\n");
      print_lane_body(e, k, s == rs.last, &rs, s);
      dc_buf_puts(o, "      }\n");
      if (s == rs.last && product)
        dc_buf_puts(o, fold);
      dc_buf_puts(o, "      }\n");
    }
    dc_buf_puts(o, "    }\n");
  }
  for (size_t j = 0; j < k->n_in; j++) {
    const ir_node *sp = k->in[j];
    if (sp->op != IR_SPLINE || !has_adjoint(k, j))
      continue;
    dc_buf_printf(o, "    {\n      double *ca = w->coef_adj[%d] + 4 * j%d;\n", sp->index, sp->id);
    dc_buf_printf(o, "      for (size_t p = 0; p < 4; p++)\n        for (size_t l = 0; l < L; l++)\n"
                     "          ca[p] += g%d[p][l];\n    }\n", sp->id);
  }
  dc_buf_puts(o, "  }\n  double sum = 0;\n  for (size_t l = 0; l < L; l++)\n");
  dc_buf_puts(o, product ? "    sum += ll[l] + log(prod[l]);\n" : "    sum += ll[l];\n");
  print_lane_adjoints(e, k, 1);
  dc_buf_puts(o, "  return sum;\n}\n\n");
  free_stages(&rs);
}

/* Can a quadrature kernel take its nodes DENSRT_LANES at a time? */
static int lane_quad_kernel(const dc_kernel *k)
{
  return k->kind == DC_K_QUAD && splines_of_columns(k);
}

/* Marks n and the statements it depends on. */
static void mark_ancestors(const ir_node *n, char *mark)
{
  if (!n || mark[n->id])
    return;
  mark[n->id] = 1;
  for (int j = 0; j < 3; j++)
    mark_ancestors(n->a[j], mark);
}

/* Is n computed in a quadrature kernel's first pass and read back by the second (a value
** alone: an LSE's exponential and a CDF difference's partials are computed again)? */
static int kept_for_pass2(const ir_node *n, const char *mark)
{
  return mark[n->id] && n->op != IR_DATA && n->op != IR_CONST && n->op != IR_LSE && n->op != IR_LSE_W &&
         n->op != IR_LOG_NDIFF && n->op != IR_LOG_PHIDIFF;
}

/*
** A quadrature kernel over blocks of DENSRT_LANES nodes: the nodes' spline segments found
** first; then, where the integrand has normal CDF differences, their arguments (pass 1),
** all lanes' differences at once (densrt_log_ndiff_lanes: vectorised where both window
** ends are far in the tails), and the integrand with its derivatives (pass 2), each lane
** with sums of its own — these loops have no call or branch, so they vectorise; last, each
** node's derivatives into the coefficient adjoints of its segments.  The lanes past the
** last node repeat it and add nothing.
*/
static void print_lane_quad_kernel(emitter *e, const dc_kernel *k)
{
  dc_buf *o = &e->out;
  dc_ir *ir = e->ir;
  dc_buf_printf(o, "static double %s(const densrt_model *m, densrt_work *w, const double *restrict hv, "
                   "double *restrict adj)\n{\n", k->name);
  dc_buf_printf(o, "  enum { L = DENSRT_LANES };\n  const densrt_points *r = &m->rule[%d];\n", k->term);
  dc_buf_puts(o, "  double S[L] = {0}, *lv = w->lv;\n");
  print_hv_inputs(e, k, 0);
  print_lane_adjoints(e, k, 0);
  /* the cubics of a chunk of nodes gathered first, in a loop of their own: read right after
     they were written, the lanes' scalar stores would stall the vector loads */
  /* pass 1: what the normal CDF differences need, computed first */
  char *mark = dc_xcalloc(ir->n_nodes + 1, 1);
  int any = 0;
  size_t arrays = 1;   /* of the chunk: lvq, ... */
  for (size_t i = 0; i < k->n_stmt; i++)
    if (k->stmt[i]->op == IR_LOG_NDIFF) {
      any = 1;
      mark_ancestors(k->stmt[i]->a[0], mark);
      mark_ancestors(k->stmt[i]->a[1], mark);
      arrays += 5;   /* ... the CDF differences' arguments and results, ... */
    }
  /* pass 2 reads the columns and pass 1's values that its own statements, the integrand
     and the derivatives read */
  char *used = dc_xcalloc(ir->n_nodes + 1, 1);
  uint32_t dims2 = dims_read(k->out[0], 1);
  used[k->out[0]->id] = 1;
  for (size_t j = 0; j < k->n_in; j++)
    if (k->d[j])
      dims2 |= dims_read(k->d[j], 1), used[k->d[j]->id] = 1;
  for (size_t i = 0; i < k->n_stmt; i++) {
    const ir_node *n = k->stmt[i];
    if (kept_for_pass2(n, mark) || n->op == IR_LOG_NDIFF)   /* (its results come from the lanes' arrays) */
      continue;
    dims2 |= dims_read(n, 1);
    for (int j = 0; j < 3; j++)
      if (n->a[j])
        used[n->a[j]->id] = 1;
  }
  for (size_t i = 0; i < k->n_stmt; i++)   /* ... pass 1's values, ... */
    arrays += kept_for_pass2(k->stmt[i], mark) && used[k->stmt[i]->id];
  for (size_t j = 0; j < k->n_in; j++)
    if (k->in[j]->op == IR_SPLINE)
      arrays += 4 + has_adjoint(k, j);   /* ... the cubics and their adjoints */
  dc_buf_printf(o, "  enum { CHUNK = %d };   /* nodes each loop takes: its arrays stay in the first-level cache */\n"
                   "  double lvq[CHUNK];   /* into lv after the loop: a store through lv could alias what it reads */\n",
                chunk_points(arrays));
  for (size_t j = 0; j < k->n_in; j++)
    if (k->in[j]->op == IR_SPLINE)
      dc_buf_printf(o, "  double c%d[4][CHUNK];\n", k->in[j]->id);
  for (size_t j = 0; j < k->n_in; j++)
    if (k->in[j]->op == IR_SPLINE && has_adjoint(k, j))
      dc_buf_printf(o, "  double ga%d[CHUNK];\n", k->in[j]->id);
  for (size_t i = 0; i < k->n_stmt; i++) {
    const ir_node *n = k->stmt[i];
    if (n->op == IR_LOG_NDIFF)
      dc_buf_printf(o, "  double mu%d[CHUNK], sd%d[CHUNK], nv%d[CHUNK], ndmu%d[CHUNK], ndsd%d[CHUNK];\n", n->id, n->id,
                    n->id, n->id, n->id);
  }
  for (size_t i = 0; i < k->n_stmt; i++)
    if (kept_for_pass2(k->stmt[i], mark) && used[k->stmt[i]->id])
      dc_buf_printf(o, "  double pv%d[CHUNK];\n", k->stmt[i]->id);
  dc_buf_puts(o, "  for (size_t c0 = 0; c0 < r->n; c0 += CHUNK) {\n"
                 "    const size_t nc = r->n - c0 < CHUNK ? (r->n - c0 + L - 1) / L * L : CHUNK;\n"
                 "    for (size_t k = 0; k < nc; k++) {\n");
  for (size_t j = 0; j < k->n_in; j++) {
    const ir_node *sp = k->in[j];
    if (sp->op == IR_SPLINE)
      dc_buf_printf(o, "      {\n        const double *c = w->coef[%d] + 4 * r->seg[%d][c0 + k];\n"
                       "        c%d[0][k] = c[0], c%d[1][k] = c[1], c%d[2][k] = c[2], c%d[3][k] = c[3];\n      }\n",
                    sp->index, node_loc(ir, sp), sp->id, sp->id, sp->id, sp->id);
  }
  dc_buf_puts(o, "    }\n");
  if (any) {   /* pass 1 */
    printer p;
    pr_init(&p, e, k, "      ");
    p.node_lanes = 1;
    dc_buf_puts(o, "    for (size_t q0 = c0; q0 < c0 + nc; q0 += L)   /* pass 1 */\n"
                   "    for (size_t l = 0; l < L; l++) {\n      const size_t q = q0 + l, k = q - c0;\n");
    uint32_t dims = 0;
    for (size_t i = 0; i < k->n_stmt; i++)
      if (mark[k->stmt[i]->id])
        dims |= dims_read(k->stmt[i], 1);
    print_columns_of(&p, "r->x", "q", dims);
    for (size_t i = 0; i < k->n_stmt; i++)
      if (mark[k->stmt[i]->id] && k->stmt[i]->op != IR_DATA && k->stmt[i]->op != IR_CONST)
        print_stmt(&p, k->stmt[i]);
    end_lines(&p);
    for (size_t i = 0; i < k->n_stmt; i++)
      if (kept_for_pass2(k->stmt[i], mark) && used[k->stmt[i]->id])
        dc_buf_printf(o, "      pv%d[k] = v%d;\n", k->stmt[i]->id, k->stmt[i]->id);
    for (size_t i = 0; i < k->n_stmt; i++) {
      const ir_node *n = k->stmt[i];
      if (n->op != IR_LOG_NDIFF)
        continue;
      char *A = text(n->a[0]), *B = text(n->a[1]);
      dc_buf_printf(o, "      mu%d[k] = %s;\n      sd%d[k] = %s;\n", n->id, A, n->id, B);
      free(A);
      free(B);
    }
    dc_buf_puts(o, "    }\n");
    for (size_t i = 0; i < k->n_stmt; i++) {
      const ir_node *n = k->stmt[i];
      if (n->op == IR_LOG_NDIFF)
        dc_buf_printf(o, "    for (size_t k0 = 0; k0 < nc; k0 += L)\n      densrt_log_ndiff_lanes(m->lo[%d], m->hi[%d], "
                         "mu%d + k0, sd%d + k0, nv%d + k0, ndmu%d + k0, ndsd%d + k0);\n",
                      n->index, n->index, n->id, n->id, n->id, n->id, n->id);
    }
    pr_free(&p);
  }
  /* pass 2: the integrand and its derivatives, pass 1's values read back */
  printer p;
  pr_init(&p, e, k, "      ");
  p.node_lanes = 1;
  dc_buf_puts(o, "    for (size_t q0 = c0; q0 < c0 + nc; q0 += L)   /* pass 2 */\n"
                 "    for (size_t l = 0; l < L; l++) {\n      const size_t q = q0 + l, k = q - c0;\n"
                 "      const int mk = q < r->n;\n");
  print_columns_of(&p, "r->x", "q", dims2);
  for (size_t i = 0; i < k->n_stmt; i++) {
    const ir_node *n = k->stmt[i];
    if (kept_for_pass2(n, mark)) {
      if (used[n->id])
        dc_buf_printf(o, "      const double v%d = pv%d[k];\n", n->id, n->id);
      p.printed[n->id] = 1;
    } else {
      print_stmt(&p, n);
    }
  }
  end_lines(&p);
  free(mark);
  free(used);
  char *R = text(k->out[0]);
  /* the weight read whatever mk (a load under a condition does not vectorise; the rule is padded);
     where it is 0 (past the last node, or underflowed) the derivatives add 0: w d(log w) -> 0 as w
     -> 0, where the derivative itself may be infinite (a normal's mass far outside the window) */
  dc_buf_printf(o, "      lvq[k] = %s;\n      const double eq = densrt_exp(r->lw[q] + %s), wq = mk ? eq : 0.0;\n"
                   "      S[l] += wq;\n", R, R);
  free(R);
  for (size_t j = 0; j < k->n_in; j++) {
    const ir_node *in = k->in[j], *d = k->d[j];
    if (!d)
      continue;
    char *D = text(d);
    if (in->op == IR_SPLINE)
      dc_buf_printf(o, "      ga%d[k] = wq != 0 ? -wq * %s : 0.0;\n", in->id, D);
    else
      dc_buf_printf(o, "      adj%d[l] -= wq != 0 ? wq * %s : 0.0;\n", in->id, D);
    free(D);
  }
  dc_buf_puts(o, "    }\n");
  pr_free(&p);
  /* the log integrand, and the coefficient adjoints of each node's segments: where all the
     block's nodes are in one segment (the usual case), its moments at once, the lanes added
     in halves with constant bounds (loops the C compiler turns into vector additions) */
  dc_buf hb;
  dc_buf_init(&hb);
  for (int h = DENSRT_LANES / 2; h > 0; h /= 2)
    dc_buf_printf(&hb, "        for (size_t l = 0; l < %d; l++) {\n"
                       "          m0[l] += m0[l + %d]; m1[l] += m1[l + %d]; m2[l] += m2[l + %d]; m3[l] += m3[l + %d];\n"
                       "        }\n", h, h, h, h, h);
  char *halves = dc_buf_take(&hb);
  dc_buf_puts(o, "    for (size_t k = 0; k < nc && c0 + k < r->n; k++)\n      lv[c0 + k] = lvq[k];\n"
                 "    for (size_t q0 = c0; q0 < c0 + nc; q0 += L) {   /* the coefficient adjoints */\n");
  for (size_t j = 0; j < k->n_in; j++) {
    const ir_node *sp = k->in[j];
    if (sp->op != IR_SPLINE || !has_adjoint(k, j))
      continue;
    int id = sp->id, loc = node_loc(ir, sp);
    dc_buf_printf(o, "    {\n      const uint32_t *sg = r->seg[%d] + q0;\n      const double *uq = r->u[%d] + q0;\n"
                     "      int same = 1;\n      for (size_t l = 1; l < L; l++)\n        same &= sg[l] == sg[0];\n",
                  loc, loc);
    dc_buf_printf(o, "      if (same) {   /* (the lanes past the last node repeat it, with ga 0) */\n"
                     "        double m0[L], m1[L], m2[L], m3[L];   /* the lanes' terms, added in halves */\n"
                     "        for (size_t l = 0; l < L; l++) {\n"
                     "          const double ga = ga%d[q0 - c0 + l], u = uq[l], u2 = u * u;\n"
                     "          m0[l] = ga, m1[l] = ga * u, m2[l] = ga * u2, m3[l] = ga * u2 * u;\n        }\n"
                     "%s"
                     "        double *ca = w->coef_adj[%d] + 4 * sg[0];\n"
                     "        ca[0] += m0[0], ca[1] += m1[0], ca[2] += m2[0], ca[3] += m3[0];\n"
                     "      } else {\n        for (size_t l = 0; l < L && q0 + l < r->n; l++) {\n"
                     "          double *ca = w->coef_adj[%d] + 4 * sg[l];\n"
                     "          const double ga = ga%d[q0 - c0 + l], u = uq[l];\n          %s\n        }\n      }\n    }\n",
                  id, halves, sp->index, sp->index, id, CUBIC_ADJOINT);
  }
  free(halves);
  dc_buf_puts(o, "  }\n  }\n  double sum = 0;\n  for (size_t l = 0; l < L; l++)\n    sum += S[l];\n");
  print_lane_adjoints(e, k, 1);
  dc_buf_puts(o, "  return sum;\n}\n\n");
}

/*
** A sum of many terms, split: each group of terms has two functions over a block of rows
** i0 .. i0 + n, a[t * DC_DATA_BLOCK + r] holding term t at row r: the values first; then,
** after data_kernel has turned them into the weights exp(a_t - max) / sum, the derivatives,
** each term's weighted by its own.  So each function stays small however many terms.
*/
static void print_data_group(emitter *e, const dc_kernel *k)
{
  dc_buf *o = &e->out;
  printer p;
  pr_init(&p, e, k, "    ");
  dc_buf_printf(o, "static void %s_values(const densrt_model *m, densrt_work *w, const double *restrict hv, "
                   "size_t i0, size_t n, double *restrict a)\n{\n", k->name);
  print_hv_inputs(e, k, 0);
  dc_buf_puts(o, "  for (size_t r = 0; r < n; r++) {\n    const size_t i = i0 + r;\n");
  print_columns(&p, "m->xs", "i");
  print_value_stmts(&p);
  end_lines(&p);
  for (size_t t = 0; t < k->n_out; t++) {
    char *R = text(k->out[t]);
    dc_buf_printf(o, "    a[%zu * %d + r] = %s;\n", k->first + t, DC_DATA_BLOCK, R);
    free(R);
  }
  dc_buf_puts(o, "  }\n}\n\n");
  pr_free(&p);

  pr_init(&p, e, k, "    ");
  dc_buf_printf(o, "static void %s_derivs(const densrt_model *m, densrt_work *w, const double *restrict hv, "
                   "double *restrict adj, size_t i0, size_t n, const double *restrict a)\n{\n", k->name);
  print_hv_inputs(e, k, 1);
  dc_buf_puts(o, "  for (size_t r = 0; r < n; r++) {\n    const size_t i = i0 + r;\n");
  print_columns(&p, "m->xs", "i");
  print_stmts(&p);
  end_lines(&p);
  for (size_t t = 0; t < k->n_out; t++) {
    char weight[64];
    dc_buf_printf(o, "    const double wt%zu = a[%zu * %d + r];\n", t, k->first + t, DC_DATA_BLOCK);
    snprintf(weight, sizeof weight, "wt%zu * ", t);
    accumulate(&p, t, weight, 0);
  }
  dc_buf_puts(o, "  }\n");
  print_adjoint_sums(e, k);
  dc_buf_puts(o, "}\n\n");
  pr_free(&p);
}

/* The data kernel of a split sum: blocks of rows, each group's terms, the log-sum-exp of
** every row, each group's weighted derivatives. */
static void print_split_data_kernel(emitter *e)
{
  dc_buf *o = &e->out;
  const dc_kernels *ks = e->ks;
  size_t K = ks->n_sum, B = DC_DATA_BLOCK;
  dc_buf_puts(o, "static double data_kernel(const densrt_model *m, densrt_work *w, const double *restrict hv, "
                 "double *restrict adj, size_t i0, size_t i1)\n{\n");
  dc_buf_printf(o, "  double a[%zu * %zu];   /* term t at row r of the block: a[t * %zu + r] */\n", K, B, B);
  dc_buf_printf(o, "  double ll = 0;\n  for (size_t b0 = i0; b0 < i1; b0 += %zu) {\n", B);
  dc_buf_printf(o, "    const size_t n = i1 - b0 < %zu ? i1 - b0 : %zu;\n", B, B);
  for (size_t i = 0; i < ks->n; i++)
    if (ks->k[i].kind == DC_K_DATA_GROUP)
      dc_buf_printf(o, "    %s_values(m, w, hv, b0, n, a);\n", ks->k[i].name);
  dc_buf_puts(o, "    for (size_t r = 0; r < n; r++) {\n");
  dc_buf_printf(o, "      double mx = a[r];\n      for (size_t t = 1; t < %zu; t++)\n", K);
  dc_buf_printf(o, "        mx = fmax(mx, a[t * %zu + r]);\n", B);
  dc_buf_puts(o, "      if (mx == -INFINITY)   /* every term zero: log(0) = -inf; +inf or NaN shows through */\n"
                 "        mx = 0;\n      double s = 0;\n");
  dc_buf_printf(o, "      for (size_t t = 0; t < %zu; t++) {\n", K);
  dc_buf_printf(o, "        const double et = exp(a[t * %zu + r] - mx);\n        a[t * %zu + r] = et;\n", B, B);
  dc_buf_puts(o, "        s += et;\n      }\n      ll += mx + log(s);\n      const double rs = 1 / s;\n");
  dc_buf_printf(o, "      for (size_t t = 0; t < %zu; t++)\n        a[t * %zu + r] *= rs;\n    }\n", K, B);
  for (size_t i = 0; i < ks->n; i++)
    if (ks->k[i].kind == DC_K_DATA_GROUP)
      dc_buf_printf(o, "    %s_derivs(m, w, hv, adj, b0, n, a);\n", ks->k[i].name);
  dc_buf_puts(o, "  }\n  return ll;\n}\n\n");
}

/* }==================================================================== */

/* {====================================================================
** The log-density function
** ===================================================================== */

static const dc_kernel *find_kernel(const dc_kernels *ks, dc_kernel_kind kind, const char *name)
{
  for (size_t i = 0; i < ks->n; i++)
    if (ks->k[i].kind == kind && (!name || !strcmp(ks->k[i].name, name)))
      return &ks->k[i];
  return NULL;
}

static void param_index(dc_buf *b, const ir_node *p, const char *loop)
{
  if (p->op == IR_PARAM_I)
    dc_buf_printf(b, "m->off[%d] + %s + %d", p->index, loop, p->elem);
  else
    dc_buf_printf(b, "m->off[%d] + %d", p->index, p->elem < 0 ? 0 : p->elem);
}

/* The parameter inputs of a prelude or prior, read from th. */
static void print_params(printer *p, const char *loop)
{
  dc_buf *o = &p->e->out;
  for (size_t j = 0; j < p->k->n_in; j++) {
    const ir_node *n = p->k->in[j];
    const ir_param *q = &p->e->ir->params[n->index];
    dc_buf_printf(o, "%sconst double v%d = th[", p->ind, n->id);
    param_index(o, n, loop);
    dc_buf_puts(o, "];   /* ");
    put_comment_text(o, q->name, strlen(q->name));
    if (n->op == IR_PARAM_I)
      dc_buf_printf(o, "[i%+d]", n->elem);
    else if (n->elem >= 0)
      dc_buf_printf(o, "[%d]", n->elem + 1);
    dc_buf_puts(o, " */\n");
  }
}

/* g[param] += weight * d, for each nonzero derivative d of output r. */
static void print_gradient(printer *p, size_t r, const char *weight, const char *loop)
{
  dc_buf *o = &p->e->out;
  const dc_kernel *k = p->k;
  for (size_t j = 0; j < k->n_in; j++) {
    const ir_node *d = k->d[r * k->n_in + j];
    if (!d)
      continue;
    dc_buf_printf(o, "%sg[", p->ind);
    param_index(o, k->in[j], loop);
    dc_buf_puts(o, "] += ");
    if (weight)
      dc_buf_puts(o, weight);
    if (weight && d->op == IR_CONST && d->value == 1) {
      dc_buf_puts(o, ";\n");
      continue;
    }
    if (weight)
      dc_buf_puts(o, " * ");
    ref(o, d);
    dc_buf_puts(o, ";\n");
  }
}

static void print_prior(emitter *e, const dc_kernel *k)
{
  dc_ir *ir = e->ir;
  dc_buf *o = &e->out;
  const ir_prior *pr = &ir->priors[k->prior];
  int loop = pr->elem < 0 && ir->params[pr->param].size_kind != IR_SIZE_SCALAR;
  printer p;
  pr_init(&p, e, k, "    ");
  source_comment(e, "  ", "prior", pr->loc);
  dc_buf_puts(o, "  {\n    double lpp = 0;\n");
  if (loop && pr->start + pr->end)
    dc_buf_printf(o, "  for (size_t i = 0; i + %d < m->size[%d]; i++) {\n", pr->start + pr->end, pr->param);
  else if (loop)
    dc_buf_printf(o, "  for (size_t i = 0; i < m->size[%d]; i++) {\n", pr->param);
  else
    dc_buf_puts(o, "  {\n");
  print_params(&p, "i");
  print_stmts(&p);
  end_lines(&p);
  char *R = text(k->out[0]);
  dc_buf_printf(o, "    lpp += %s;\n", R);
  free(R);
  print_gradient(&p, 0, NULL, "i");
  dc_buf_printf(o, "  }\n    w->log_prior_part[%d] = lpp;\n    lp += lpp;\n  }\n", k->prior);
  pr_free(&p);
}

/*
** log n is affine in the kernel's inputs with constant coefficients (a log-spline
** intensity): the sum over all rows is c0 N + sum_k c_k sum_i in_k(x_i), and a spline
** value's sum is its coefficients times the moments sum_i u^p of the rows per segment
** (m->pmom, taken when the data were located) — no loop over the rows.  A range of
** rows (threads) goes through data_kernel_rows.
*/
static void print_affine_data_kernel(emitter *e, const dc_kernel *k)
{
  dc_buf *o = &e->out;
  dc_buf_puts(o, "static double data_kernel(const densrt_model *m, densrt_work *w, const double *restrict hv, "
                 "double *restrict adj, size_t i0, size_t i1)\n{\n");
  dc_buf_puts(o, "  if (i0 != 0 || i1 != m->n)\n    return data_kernel_rows(m, w, hv, adj, i0, i1);\n");
  dc_buf_puts(o, "  const double N = (double)m->n;\n  double ll = N * ");
  put_double(o, k->affine_c0);
  dc_buf_puts(o, ";\n");
  for (size_t j = 0; j < k->n_in; j++) {
    const ir_node *l = k->in[j], *d = k->d[j];
    if (!d)
      continue;
    char *D = text(d);
    if (l->op == IR_SPLINE) {
      int s = dc_kernels_slot(e->ks, e->ir, l);
      dc_buf_printf(o, "  {\n    const double *mo = m->pmom[%d], *cf = w->coef[%d];\n    double *ca = w->coef_adj[%d], "
                       "s = 0;\n", s, l->index, l->index);
      dc_buf_printf(o, "    for (size_t q = 0; q < 4 * (m->n_knots[%d] - 1); q++) {\n", e->ir->cs[l->index].knots);
      dc_buf_printf(o, "      s += cf[q] * mo[q];\n      ca[q] += %s * mo[q];\n    }\n    ll += %s * s;\n  }\n", D, D);
    } else {
      int h = dc_hv_index(e->ks, l);
      dc_buf_printf(o, "  ll += %s * N * hv[%d];\n  adj[%d] += %s * N;\n", D, h, h, D);
    }
    free(D);
  }
  dc_buf_puts(o, "  return ll;\n}\n\n");
}

/* A tangent of the prelude kept for the chain rule: its slot in dh[], or -1 (zero, or a
** constant written into the chain rule itself). */
static int needs_slot(const ir_node *d)
{
  return d && d->op != IR_CONST;
}

/* One prelude group: parameter values in, hoisted values out into hv[], their derivatives
** with respect to the parameters into dh[] from slot `dh0` (forward mode). */
static size_t print_prelude(emitter *e, const dc_kernel *k, size_t dh0)
{
  dc_buf *o = &e->out;
  printer p;
  pr_init(&p, e, k, "  ");
  dc_buf_printf(o, "static void %s(const densrt_model *m, const double *th, double *restrict hv, "
                   "double *restrict dh)\n{\n", k->name);
  print_params(&p, "0");
  print_stmts(&p);
  end_lines(&p);
  size_t slot = dh0;
  for (size_t r = 0; r < k->n_out; r++) {
    char *R = text(k->out[r]);
    dc_buf_printf(o, "  hv[%zu] = %s;\n", k->first + r, R);
    free(R);
    for (size_t j = 0; j < k->n_in; j++)
      if (needs_slot(k->d[r * k->n_in + j])) {
        char *D = text(k->d[r * k->n_in + j]);
        dc_buf_printf(o, "  dh[%zu] = %s;\n", slot++, D);
        free(D);
      }
  }
  if (slot == dh0)
    dc_buf_puts(o, "  (void)dh;\n");
  dc_buf_puts(o, "}\n\n");
  pr_free(&p);
  return slot;
}

/* The chain rule of one prelude group: g[param] += adj[hoisted] * d hoisted / d param. */
static size_t print_chain(emitter *e, const dc_kernel *k, size_t dh0)
{
  dc_buf *o = &e->out;
  size_t slot = dh0;
  for (size_t r = 0; r < k->n_out; r++)
    for (size_t j = 0; j < k->n_in; j++) {
      const ir_node *d = k->d[r * k->n_in + j];
      if (!d)
        continue;
      dc_buf_puts(o, "  g[");
      param_index(o, k->in[j], "0");
      dc_buf_printf(o, "] += adj[%zu]", k->first + r);
      if (needs_slot(d))
        dc_buf_printf(o, " * dh[%zu]", slot++);
      else if (d->value != 1) {
        dc_buf_puts(o, " * ");
        put_double(o, d->value);
      }
      dc_buf_puts(o, ";\n");
    }
  return slot;
}

static void print_log_density(emitter *e)
{
  dc_ir *ir = e->ir;
  const dc_kernels *ks = e->ks;
  dc_buf *o = &e->out;

  size_t n_dh = 0;
  dc_buf_puts(o, "/* Parameter-only values, hoisted out of the point loops, and their derivatives. */\n");
  for (size_t i = 0; i < ks->n; i++)
    if (ks->k[i].kind == DC_K_PRELUDE && ks->k[i].d)
      n_dh = print_prelude(e, &ks->k[i], n_dh);
  if (ks->n_sum) {
    dc_buf_printf(o, "/* The sum over the data of log n(x_i): %zu terms in groups. */\n", ks->n_sum);
    for (size_t i = 0; i < ks->n; i++)
      if (ks->k[i].kind == DC_K_DATA_GROUP)
        print_data_group(e, &ks->k[i]);
    print_split_data_kernel(e);
  } else {
    const dc_kernel *dk = find_kernel(ks, DC_K_DATA, NULL);
    dc_buf_puts(o, "/* The sum over the data of log n(x_i). */\n");
    if (run_kernel(dk))
      print_run_data_kernel(e, dk, dk->affine ? "data_kernel_rows" : NULL);
    else
      print_point_kernel(e, dk, dk->affine ? "data_kernel_rows" : NULL);
    if (dk->affine)
      print_affine_data_kernel(e, dk);
  }
  for (size_t i = 0; i < ks->n; i++) {
    const dc_kernel *k = &ks->k[i];
    if (k->kind != DC_K_QUAD)
      continue;
    char what[300];
    snprintf(what, sizeof what, "the quadrature sum of term %d, '%s', %s plan", k->term, ir->terms[k->term].name,
             k->plan == 0 ? "exact" : "numeric");
    source_comment(e, "", what, ir->terms[k->term].loc);
    if (lane_quad_kernel(k))
      print_lane_quad_kernel(e, k);
    else
      print_point_kernel(e, k, NULL);
  }

  dc_buf_puts(o, "/* The log posterior and its gradient (g is overwritten). */\n");
  dc_buf_puts(o, "static double log_density(const densrt_model *m, densrt_work *w, const double *th, double *g)\n{\n");
  dc_buf_puts(o, "  memset(g, 0, m->n_theta * sizeof *g);\n");
  if (ir->n_cs)
    dc_buf_puts(o, "  densrt_model_spline_coefs(m, w, th);\n");

  /* 1. hoisted parameter-only values, forward mode over the parameters */
  dc_buf_printf(o, "\n  /* parameter-only values for the kernels, their derivatives, and their adjoints */\n"
                   "  double hv[%zu], dh[%zu], adj[%zu] = {0};\n", ks->n_hv + 1, n_dh + 1, ks->n_hv + 1);
  for (size_t i = 0; i < ks->n; i++)
    if (ks->k[i].kind == DC_K_PRELUDE && ks->k[i].d)
      dc_buf_printf(o, "  %s(m, th, hv, dh);\n", ks->k[i].name);

  /* 2. the data: on the work's threads, unless the moments give it at once */
  const dc_kernel *dk = find_kernel(ks, DC_K_DATA, NULL);
  if (dk && dk->affine)
    dc_buf_puts(o, "\n  /* sum over the data of log n(x_i) */\n  double ll = data_kernel(m, w, hv, adj, 0, m->n);\n");
  else
    dc_buf_printf(o, "\n  /* sum over the data of log n(x_i), on the work's threads */\n"
                     "  double ll = densrt_model_data_sum(m, w, data_kernel, hv, adj, %zu);\n", ks->n_hv + 1);

  /* 3. minus the integral of each term */
  for (size_t t = 0; t < ir->n_terms; t++) {
    const ir_term *term = &ir->terms[t];
    char what[300];
    dc_buf_puts(o, "\n");
    snprintf(what, sizeof what, "minus the integral of term %zu, '%s'", t, term->name);
    source_comment(e, "  ", what, term->loc);
    dc_buf_printf(o, "  {\n    double logI;\n");
    /* Both plans are the same code when the term has no analytic column. */
    int same = ks->exact[t] == ks->numeric[t];
    for (int plan = same ? 1 : 0; plan < 2; plan++) {
      ir_node *root = plan == 0 ? ks->exact[t] : ks->numeric[t];
      if (!same)
        dc_buf_printf(o, plan == 0 ? "    if (m->plan[%zu] == DENSRT_PLAN_EXACT) {\n" : "    } else {\n", t);
      else
        dc_buf_puts(o, "    {\n");
      if (plan == 0 && !root->dims) {
        /* fully analytic: a hoisted value */
        char R[32];
        snprintf(R, sizeof R, "hv[%d]", dc_hv_index(ks, root));
        if (root->op == IR_CONST) {
          char *C = text(root);
          snprintf(R, sizeof R, "%s", C);
          free(C);
        }
        dc_buf_printf(o, "      const double I = exp(%s);\n      ll -= I;\n", R);
        if (root->params)
          dc_buf_printf(o, "      adj[%d] -= I;\n", dc_hv_index(ks, root));
        dc_buf_printf(o, "      logI = %s;\n", R);
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
  for (size_t i = 0; i < ks->n; i++)
    if (ks->k[i].kind == DC_K_PRIOR)
      print_prior(e, &ks->k[i]);

  /* 5. chain the adjoints to the parameters */
  dc_buf_puts(o, "\n  /* chain rule: hoisted values and spline coefficients to the parameters */\n");
  size_t slot = 0;
  for (size_t i = 0; i < ks->n; i++)
    if (ks->k[i].kind == DC_K_PRELUDE && ks->k[i].d)
      slot = print_chain(e, &ks->k[i], slot);
  if (ir->n_cs)
    dc_buf_puts(o, "  densrt_model_spline_adjoint(m, w, g);\n");
  dc_buf_puts(o, "  (void)dh;\n  w->log_lik = ll;\n  w->log_prior = lp;\n  return ll + lp;\n}\n\n");
}

/* log n_t(x) of the terms of one group at n points, values only: its own prelude, its loop. */
static void print_log_terms_group(emitter *e, const dc_kernel *k, const dc_kernel *pre)
{
  dc_buf *o = &e->out;
  dc_buf_printf(o, "static void %s(const densrt_model *m, densrt_work *w, const double *th, size_t n, "
                   "const double *const *x, double *out)\n{\n", k->name);
  printer p;
  pr_init(&p, e, pre, "  ");
  print_params(&p, "0");
  print_stmts(&p);
  end_lines(&p);
  pr_free(&p);
  pr_init(&p, e, k, "    ");
  dc_buf_puts(o, "  (void)w;\n  for (size_t i = 0; i < n; i++) {\n");
  print_columns(&p, "x", "i");
  print_stmts(&p);
  end_lines(&p);
  for (size_t t = 0; t < k->n_out; t++) {
    char *R = text(k->out[t]);
    dc_buf_printf(o, "    out[%zu * n + i] = %s;\n", k->first + t, R);
    free(R);
  }
  dc_buf_puts(o, "  }\n}\n\n");
  pr_free(&p);
}

/* Per-term log intensity at arbitrary points, values only: maps, membership, plots. */
static void print_log_terms(emitter *e)
{
  dc_ir *ir = e->ir;
  dc_buf *o = &e->out;
  const dc_kernels *ks = e->ks;
  for (size_t i = 0; i < ks->n; i++)
    if (ks->k[i].kind == DC_K_TERMS)
      print_log_terms_group(e, &ks->k[i], &ks->k[i + 1]);   /* formed with its prelude next */
  dc_buf_puts(o, "/* log n_t(x) of every term t at n points x[d][i], values only: out[t * n + i]. */\n");
  dc_buf_puts(o, "static void log_terms(const densrt_model *m, densrt_work *w, const double *th, size_t n, "
                 "const double *const *x, double *out)\n{\n");
  if (ir->n_cs)
    dc_buf_puts(o, "  densrt_model_spline_coefs(m, w, th);\n");
  for (size_t i = 0; i < ks->n; i++)
    if (ks->k[i].kind == DC_K_TERMS)
      dc_buf_printf(o, "  %s(m, w, th, n, x, out);\n", ks->k[i].name);
  dc_buf_puts(o, "}\n\n");
}

/* Fills m->pseg / m->pu for every data row and slot (called by the runtime when data or knots change). */
static void print_locate_data(emitter *e)
{
  dc_buf *o = &e->out;
  const dc_kernel *k = find_kernel(e->ks, DC_K_LOCATE, NULL);
  if (!k)
    return;
  dc_buf_puts(o, "/* the knot set of each slot (a knot set and abscissa of the likelihood) */\n"
                 "static const int slot_knots[] = {");
  for (size_t s = 0; s < e->ks->n_slot; s++)
    dc_buf_printf(o, "%s%d", s ? ", " : "", e->ir->cs[e->ks->slot[s]->index].knots);
  dc_buf_puts(o, "};\n\n");
  dc_buf_puts(o, "/* Each row's spline segment and offset, and the moments of the rows per segment, for every knot "
                 "set and abscissa of the likelihood. */\n");
  dc_buf_puts(o, "static void locate_data(densrt_model *m)\n{\n  for (size_t i = 0; i < m->n; i++) {\n");
  printer p;
  pr_init(&p, e, k, "    ");
  print_columns(&p, "m->x", "i");
  print_stmts(&p);
  end_lines(&p);
  for (size_t s = 0; s < e->ks->n_slot; s++) {
    char *X = text(k->out[s]);
    dc_buf_printf(o, "    m->pseg[%zu][i] = (uint32_t)densrt_spline_locate(m->spline[%d], %s, &m->pu[%zu][i]);\n", s,
                  e->ks->slot[s]->index, X, s);
    dc_buf_printf(o, "    {\n      double *mo = m->pmom[%zu] + 4 * m->pseg[%zu][i];\n      const double u = m->pu[%zu][i];\n"
                     "      mo[0] += 1; mo[1] += u; mo[2] += u * u; mo[3] += u * u * u;\n    }\n", s, s, s);
    free(X);
  }
  dc_buf_puts(o, "  }\n}\n\n");
  pr_free(&p);
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
    dc_buf_puts(o, ", ");
    if (ir->dims[d].unit)
      put_cstring(o, ir->dims[d].unit);
    else
      dc_buf_puts(o, "NULL");
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
    static const char *const kinds[] = {
#define DENSRT_X(name) "DENSRT_SIZE_" #name,
      DENSRT_SIZE_KINDS(DENSRT_X)
#undef DENSRT_X
    };
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
    static const char *const kinds[] = {
#define DENSRT_X(name, min_knots, phrase) "DENSRT_SPLINE_" #name,
      DENSRT_SPLINE_KINDS(DENSRT_X)
#undef DENSRT_X
    };
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
    dc_buf_printf(o, ", %#xu, %#xu, %#xu, term%zu_breakpoints, %d, %d},\n", q->analytic, q->exact.numeric,
                  q->numeric.numeric, t, q->loc.line, q->loc.col);
  }
  dc_buf_puts(o, "};\n\n");
  if (ir->n_priors) {
    dc_buf_puts(o, "/* the prior statements, for messages: parameter, line, column */\n");
    dc_buf_puts(o, "static const densrt_prior_def priors[] = {\n");
    for (size_t p = 0; p < ir->n_priors; p++) {
      dc_buf_puts(o, "  {");
      put_cstring(o, ir->params[ir->priors[p].param].name);
      dc_buf_printf(o, ", %d, %d},\n", ir->priors[p].loc.line, ir->priors[p].loc.col);
    }
    dc_buf_puts(o, "};\n\n");
  }
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
  dc_buf_printf(o, "  .n_priors = %zu, .priors = %s,\n", ir->n_priors, ir->n_priors ? "priors" : "NULL");
  dc_buf_puts(o, "  .log_density = log_density,\n  .log_terms = log_terms,\n");
  if (e->ks->n_slot) {
    dc_buf_printf(o, "  .n_slots = %zu, .locate_data = locate_data, .slot_knots = slot_knots,\n", e->ks->n_slot);
    const dc_kernel *dk = find_kernel(e->ks, DC_K_DATA, NULL);
    if (e->ks->n_sum || !dk || !run_kernel(dk))
      dc_buf_puts(o, "  .row_locations = 1,\n");
  }
  dc_buf_puts(o, "};\n\n");
  dc_buf_puts(o, "int main(int argc, char **argv)\n{\n  return densrt_cli_main(&model, argc, argv);\n}\n");
}

int dc_emit(dc_ir *ir, const dc_kernels *ks, const dc_source *src, const dc_emit_options *opt, FILE *out)
{
  emitter e = {ir, ks, src, opt, {0}};
  dc_buf *o = &e.out;
  dc_buf_init(o);
  dc_buf_printf(o, "/* Code generated by densc %s from ", opt->version);
  put_comment_text(o, opt->source_path, strlen(opt->source_path));
  dc_buf_puts(o, ". DO NOT EDIT.\n**\n** Log posterior of an inhomogeneous Poisson process,\n"
                 "**   ln p = sum_i ln n(x_i) - integral of n over the window + ln prior,\n"
                 "** with its exact gradient: v<N> holds the value of IR node N (densc --debug-grad),\n"
                 "** derivatives included, made by densc's differentiation pass in forward\n"
                 "** (dual-number) or reverse mode per loop.\n*/\n");
  dc_buf_puts(o, "#include <math.h>\n#include <stdint.h>\n#include <string.h>\n#include \"densrt.h\"\n\n");
  emit_tables(&e);
  print_log_density(&e);
  print_log_terms(&e);
  print_locate_data(&e);
  emit_definition(&e);
  int rc = fwrite(o->s, 1, o->len, out) == o->len ? 0 : 1;
  dc_buf_free(o);
  return rc;
}

/* }==================================================================== */
