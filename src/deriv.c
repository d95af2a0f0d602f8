/*
** deriv.c — partial derivatives of each IR operation, chained in forward or
** reverse mode (see deriv.h).
*/
#include "deriv.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static ir_node *one(dc_ir *ir)
{
  return ir_const(ir, 1);
}

/* The one table of local derivatives. */
ir_node *dc_partial(dc_ir *ir, ir_node *n, int i)
{
  ir_node *a = n->a[0], *b = n->a[1];
  dc_loc l = n->loc;
  switch (n->op) {
  case IR_ADD: return one(ir);
  case IR_SUB: return i == 0 ? one(ir) : ir_const(ir, -1);
  case IR_NEG: return ir_const(ir, -1);
  case IR_MUL: return i == 0 ? b : a;
  case IR_DIV: {   /* 1/b, -n * (1/b): one division shared by both */
    ir_node *r = ir_op2(ir, IR_DIV, one(ir), b, l);
    return i == 0 ? r : ir_op1(ir, IR_NEG, ir_op2(ir, IR_MUL, n, r, l), l);
  }
  case IR_EXP: return n;
  case IR_LOG: return ir_op2(ir, IR_DIV, one(ir), a, l);
  case IR_LOG1P: return ir_op2(ir, IR_DIV, one(ir), ir_op2(ir, IR_ADD, one(ir), a, l), l);
  case IR_SQRT: return ir_op2(ir, IR_DIV, ir_const(ir, 0.5), n, l);
  case IR_LGAMMA: return ir_op1(ir, IR_DIGAMMA, a, l);
  case IR_POW:
    if (b->op == IR_CONST) {
      if (i == 1)
        return NULL;
      if (b->value == 2)
        return ir_op2(ir, IR_MUL, ir_const(ir, 2), a, l);
      return ir_op2(ir, IR_MUL, b, ir_op2(ir, IR_POW, a, ir_const(ir, b->value - 1), l), l);
    }
    return i == 0 ? ir_op2(ir, IR_DIV, ir_op2(ir, IR_MUL, b, n, l), a, l)   /* b a^b / a */
                  : ir_op2(ir, IR_MUL, n, ir_op1(ir, IR_LOG, a, l), l);     /* a^b log a */
  case IR_LSE: {   /* the softmax weights: w = 1 / (1 + e^(b-a)) and 1 - w */
    ir_node *w = ir_op3(ir, IR_LSE_W, a, b, n, l);
    return i == 0 ? w : ir_op2(ir, IR_SUB, one(ir), w, l);
  }
  case IR_LOG_NDIFF: return ir_op1(ir, i == 0 ? IR_NDIFF_DMU : IR_NDIFF_DSD, n, l);
  case IR_LOG_PHIDIFF: return ir_op1(ir, i == 0 ? IR_PHIDIFF_DA : IR_PHIDIFF_DB, n, l);
  case IR_MAX: case IR_SHIFT: return NULL;
  default:
    fprintf(stderr, "densc: internal error: no derivative of %s\n", ir_op_name(n->op));
    exit(3);
  }
}

static ir_node *mul(dc_ir *ir, ir_node *a, ir_node *b, dc_loc l)
{
  return ir_op2(ir, IR_MUL, a, b, l);
}

static ir_node *add(dc_ir *ir, ir_node *a, ir_node *b, dc_loc l)
{
  return a ? ir_op2(ir, IR_ADD, a, b, l) : b;
}

/* {====================================================================
** Forward mode: a sparse tangent list per node, sorted by leaf
** ===================================================================== */

typedef struct {
  int k;
  ir_node *t;
} tangent;

typedef struct {
  tangent *v;
  int n;
  char done;
} tangents;

typedef struct {
  dc_ir *ir;
  int *leaf;          /* node id -> leaf index + 1 (0: not a leaf) */
  tangents *tl;       /* per node id */
  size_t n_ids;       /* the ids the arrays cover */
  size_t made, limit;
} fwd;

static const tangents *fwd_node(fwd *f, ir_node *n)
{
  tangents *r = &f->tl[n->id];
  if (r->done || (f->limit && f->made > f->limit))
    return r;
  r->done = 1;
  if (f->leaf[n->id]) {
    r->v = dc_xmalloc(sizeof *r->v);
    r->v[0] = (tangent){f->leaf[n->id] - 1, one(f->ir)};
    r->n = 1;
    f->made++;
    return r;
  }
  if (n->op == IR_CONST || n->op == IR_DATA)
    return r;
  for (int i = 0; i < 3 && n->a[i]; i++) {
    const tangents *c = fwd_node(f, n->a[i]);
    if (!c->n)
      continue;
    ir_node *p = dc_partial(f->ir, n, i);
    if (!p)
      continue;
    /* merge the sorted lists: r + p * c */
    tangent *m = dc_xmalloc(((size_t)r->n + (size_t)c->n) * sizeof *m);
    int x = 0, y = 0, z = 0;
    while (x < r->n || y < c->n) {
      if (y == c->n || (x < r->n && r->v[x].k < c->v[y].k))
        m[z++] = r->v[x++];
      else {
        ir_node *t = mul(f->ir, p, c->v[y].t, n->loc);
        if (x < r->n && r->v[x].k == c->v[y].k)
          t = add(f->ir, r->v[x++].t, t, n->loc);
        m[z++] = (tangent){c->v[y++].k, t};
      }
    }
    free(r->v);
    r->v = m;
    r->n = z;
  }
  f->made += (size_t)r->n;
  return r;
}

size_t dc_forward(dc_ir *ir, ir_node *const *roots, size_t n_roots, ir_node *const *leaves, size_t n_leaves,
                  ir_node **out, size_t limit)
{
  fwd f = {ir, NULL, NULL, ir->n_nodes, 0, limit};
  f.leaf = dc_xcalloc(f.n_ids, sizeof *f.leaf);
  f.tl = dc_xcalloc(f.n_ids, sizeof *f.tl);
  for (size_t k = 0; k < n_leaves; k++)
    f.leaf[leaves[k]->id] = (int)k + 1;
  for (size_t r = 0; r < n_roots; r++)
    fwd_node(&f, roots[r]);
  size_t made = f.limit && f.made > f.limit ? DC_FORWARD_TOO_BIG : f.made;
  if (made != DC_FORWARD_TOO_BIG) {
    memset(out, 0, n_roots * n_leaves * sizeof *out);
    for (size_t r = 0; r < n_roots; r++) {
      const tangents *t = &f.tl[roots[r]->id];
      for (int j = 0; j < t->n; j++)
        out[r * n_leaves + (size_t)t->v[j].k] = t->v[j].t;
    }
  }
  for (size_t i = 0; i < f.n_ids; i++)
    free(f.tl[i].v);
  free(f.tl);
  free(f.leaf);
  return made;
}

/* }==================================================================== */

/* {====================================================================
** Reverse mode: adjoints from the root down, in decreasing id (children
** have smaller ids than their parents)
** ===================================================================== */

/* Does n depend on a leaf?  dep: 0 unknown, 1 no, 2 yes. */
static int depends(const ir_node *n, const char *is_leaf, char *dep)
{
  if (dep[n->id])
    return dep[n->id] == 2;
  int d = is_leaf[n->id];
  if (!d && n->op != IR_CONST && n->op != IR_DATA)
    for (int i = 0; i < 3 && n->a[i]; i++)
      if (depends(n->a[i], is_leaf, dep))
        d = 1;
  dep[n->id] = d ? 2 : 1;
  return d;
}

void dc_reverse(dc_ir *ir, ir_node *root, ir_node *const *leaves, size_t n_leaves, ir_node **out)
{
  size_t n_ids = (size_t)root->id + 1;
  char *is_leaf = dc_xcalloc(ir->n_nodes + 1, 1), *dep = dc_xcalloc(ir->n_nodes + 1, 1);
  for (size_t k = 0; k < n_leaves; k++)
    is_leaf[leaves[k]->id] = 1;
  ir_node **adj = dc_xcalloc(n_ids, sizeof *adj);
  if (depends(root, is_leaf, dep))
    adj[root->id] = one(ir);
  for (size_t id = n_ids; id-- > 0;) {
    ir_node *n = ir->nodes[id];
    if (!adj[id] || is_leaf[id])
      continue;
    for (int i = 0; i < 3 && n->a[i]; i++) {
      ir_node *c = n->a[i];
      if (!depends(c, is_leaf, dep))
        continue;
      ir_node *p = dc_partial(ir, n, i);
      if (p)
        adj[c->id] = add(ir, adj[c->id], mul(ir, adj[id], p, n->loc), n->loc);
    }
  }
  for (size_t k = 0; k < n_leaves; k++)
    out[k] = (size_t)leaves[k]->id < n_ids ? adj[leaves[k]->id] : NULL;
  free(adj);
  free(is_leaf);
  free(dep);
}

/* }==================================================================== */
