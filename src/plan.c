/*
** plan.c — the integration plans of each term (see plan.h).
*/
#include "plan.h"
#include "spec.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* {====================================================================
** Integration plans
** ===================================================================== */

static void flatten_sum(ir_node *n, dc_vec *out)
{
  if (n->op == IR_ADD) {
    flatten_sum(n->a[0], out);
    flatten_sum(n->a[1], out);
  } else {
    dc_vec_push(out, n);
  }
}

static void find_breakpoints(const dc_ir *ir, ir_node *n, ir_term *t, char *seen)
{
  if (seen[n->id])
    return;
  seen[n->id] = 1;
  if (n->op == IR_SPLINE && n->a[0]->op == IR_DATA) {
    int k = ir->cs[n->index].knots;
    t->brk_knots[(size_t)n->a[0]->index * DENSRT_BRK_WORDS(ir->n_knots) + (size_t)k / 32] |= 1u << (k % 32);
  }
  for (int i = 0; i < 3; i++)
    if (n->a[i])
      find_breakpoints(ir, n->a[i], t, seen);
}

static int contains_spline_in(const ir_node *n, int dim)
{
  if (n->op == IR_SPLINE && (n->dims & (1u << dim)))
    return 1;
  for (int i = 0; i < 3; i++)
    if (n->a[i] && contains_spline_in(n->a[i], dim))
      return 1;
  return 0;
}

static void plan_term(dc_ir *ir, ir_term *t, dc_diag *diag)
{
  dc_vec f = {0};
  flatten_sum(t->logn, &f);
  uint32_t deps = t->logn->dims;
  ir_node *gauss[DENSRT_MAX_DIMS] = {0};

  for (size_t d = 0; d < ir->n_dims; d++) {
    uint32_t bit = 1u << d;
    if (!(deps & bit))
      continue;
    ir_node *only = NULL;
    int count = 0;
    for (size_t i = 0; i < f.n; i++) {
      ir_node *x = f.v[i];
      if (x->dims & bit) {
        only = x;
        count++;
      }
    }
    if (count == 1 && only->op == IR_NORMAL_LPDF && only->a[0]->op == IR_DATA && only->a[0]->index == (int)d &&
        !(only->a[1]->dims & bit) && !(only->a[2]->dims & bit)) {
      gauss[d] = only;
      t->analytic |= bit;
    }
  }

  /* Columns the term does not depend on contribute their window length. */
  ir_node *widths = ir_const(ir, 0);
  for (size_t d = 0; d < ir->n_dims; d++)
    if (!(deps & (1u << d)))
      widths = ir_op2(ir, IR_ADD, widths, ir_logwidth(ir, (int)d), t->loc);

  ir_node *exact = widths;
  for (size_t i = 0; i < f.n; i++) {
    ir_node *x = f.v[i];
    for (size_t d = 0; d < ir->n_dims; d++)
      if (gauss[d] == x) {
        x = ir_logndiff(ir, (int)d, x->a[1], x->a[2], x->loc);
        break;
      }
    exact = ir_op2(ir, IR_ADD, exact, x, t->loc);
  }
  t->exact.integrand = exact;
  t->exact.numeric = exact->dims;
  t->numeric.integrand = ir_op2(ir, IR_ADD, widths, t->logn, t->loc);
  t->numeric.numeric = deps;
  dc_vec_free(&f);

  char *seen = dc_xcalloc(ir->n_nodes, 1);
  free(t->brk_knots);
  t->brk_knots = dc_xcalloc((ir->n_dims + 1) * DENSRT_BRK_WORDS(ir->n_knots), sizeof *t->brk_knots);
  find_breakpoints(ir, t->logn, t, seen);
  free(seen);

  /* Check the plan the default methods select. */
  int use_exact = 1;
  for (size_t d = 0; d < ir->n_dims; d++) {
    densrt_method m;
    if ((t->analytic & (1u << d)) && densrt_spec_method(ir->dims[d].method, &m) == 0 &&
        !densrt_method_allows_analytic(m.kind))
      use_exact = 0;
  }
  uint32_t numeric = use_exact ? t->exact.numeric : t->numeric.numeric;
  for (size_t d = 0; d < ir->n_dims; d++) {
    const ir_dim *dim = &ir->dims[d];
    uint32_t bit = 1u << d;
    int bounded = isfinite(dim->lo) && isfinite(dim->hi);
    if (!strcmp(dim->method, "analytic") && (deps & bit) && !(t->analytic & bit)) {
      dc_diag_error(diag, dim->method_loc,
                    "'%s' cannot be integrated analytically over '%s': it is not a normal(%s | mu, sigma) "
                    "factor times terms free of '%s'",
                    t->name, dim->name, dim->name, dim->name);
      dc_diag_note(diag, t->loc, "'%s' is defined here", t->name);
    } else if (!bounded && !(deps & bit)) {
      dc_diag_error(diag, t->loc,
                    "the integral of '%s' diverges: it does not depend on '%s', whose window is unbounded "
                    "(declare 'real %s in [lo, hi];')",
                    t->name, dim->name, dim->name);
    } else if (!bounded && (numeric & bit)) {
      if (contains_spline_in(t->logn, (int)d))
        dc_diag_error(diag, t->loc,
                      "the integral of '%s' diverges: a spline along '%s' is extrapolated over an unbounded "
                      "window (declare 'real %s in [lo, hi];')",
                      t->name, dim->name, dim->name);
      else
        dc_diag_error(diag, t->loc,
                      "cannot integrate '%s' over the unbounded window of '%s': only normal(%s | mu, sigma) "
                      "factors integrate analytically (declare 'real %s in [lo, hi];')",
                      t->name, dim->name, dim->name, dim->name);
    }
  }
}

int dc_plan(dc_ir *ir, dc_diag *diag)
{
  int before = diag->n_errors;
  for (size_t t = 0; t < ir->n_terms; t++)
    plan_term(ir, &ir->terms[t], diag);
  return diag->n_errors - before;
}

/* }==================================================================== */


/* {====================================================================
** --debug-plan
** ===================================================================== */

static void put_columns(const dc_ir *ir, uint32_t set, FILE *out)
{
  int any = 0;
  for (size_t d = 0; d < ir->n_dims; d++)
    if (set & (1u << d))
      fprintf(out, "%s%s", any++ ? ", " : "", ir->dims[d].name);
  if (!any)
    fputs("none", out);
}

void dc_plan_dump(const dc_ir *ir, FILE *out)
{
  for (size_t t = 0; t < ir->n_terms; t++) {
    const ir_term *q = &ir->terms[t];
    fprintf(out, "term %zu '%s' (line %d): log n = %%%d, depends on ", t, q->name, q->loc.line, q->logn->id);
    put_columns(ir, q->logn->dims, out);
    fputs("\n  exact plan:   analytic in ", out);
    put_columns(ir, q->analytic, out);
    fputs("; width of ", out);
    put_columns(ir, ((1u << ir->n_dims) - 1) & ~q->logn->dims, out);
    fputs("; quadrature over ", out);
    put_columns(ir, q->exact.numeric, out);
    fprintf(out, "; log integrand %%%d\n  numeric plan: quadrature over ", q->exact.integrand->id);
    put_columns(ir, q->numeric.numeric, out);
    fprintf(out, "; log integrand %%%d\n", q->numeric.integrand->id);
    for (size_t d = 0; d < ir->n_dims; d++) {
      const uint32_t *w = q->brk_knots + d * DENSRT_BRK_WORDS(ir->n_knots);
      int any = 0;
      for (size_t k = 0; k < ir->n_knots; k++)
        if ((w[k / 32] >> (k % 32)) & 1) {
          if (!any++)
            fprintf(out, "  quadrature along %s breaks at the knots of %s", ir->dims[d].name, ir->knots[k].name);
          else
            fprintf(out, ", %s", ir->knots[k].name);
        }
      if (any)
        fputc('\n', out);
    }
  }
}

/* }==================================================================== */
