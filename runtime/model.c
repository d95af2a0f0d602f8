/*
** model.c — the model instance: sizes, splines, integration plans and
** quadrature rules built at run time from the generated tables.
*/
#include "model.h"
#include "error.h"
#include "quad.h"
#include "pool.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEW(p, n) ((p) = calloc((n) ? (n) : 1, sizeof *(p)))

static void free_rule(densrt_points *r)
{
  for (int d = 0; d < DENSRT_MAX_DIMS; d++)
    free(r->x[d]);
  for (size_t k = 0; r->seg && k < r->n_loc; k++) {
    free(r->seg[k]);
    free(r->u[k]);
  }
  free(r->seg);
  free(r->u);
  free(r->lw);
  memset(r, 0, sizeof *r);
}

static int find_knots(const densrt_model *m, const char *name)
{
  for (size_t k = 0; k < m->def->n_knots; k++)
    if (strcmp(m->def->knots[k].name, name) == 0)
      return (int)k;
  return -1;
}

static int find_dim(const densrt_model *m, const char *name)
{
  for (size_t d = 0; d < m->def->n_dims; d++)
    if (strcmp(m->def->dims[d].name, name) == 0)
      return (int)d;
  return -1;
}

int densrt_model_param(const densrt_model *m, const char *name)
{
  for (size_t p = 0; p < m->def->n_params; p++)
    if (strcmp(m->def->params[p].name, name) == 0)
      return (int)p;
  return -1;
}

int densrt_model_alloc(const densrt_model_def *def, densrt_model **out)
{
  densrt_model *m = calloc(1, sizeof *m);
  *out = NULL;
  if (!m)
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  m->def = def;
  size_t nd = def->n_dims, nk = def->n_knots, nc = def->n_coefsets, nt = def->n_terms, np = def->n_params;
  NEW(m->x, nd);
  NEW(m->xs, nd);
  NEW(m->lo, nd);
  NEW(m->hi, nd);
  NEW(m->method, nd);
  NEW(m->knots, nk);
  NEW(m->n_knots, nk);
  NEW(m->spline, nc);
  NEW(m->pseg, def->n_slots);
  NEW(m->pu, def->n_slots);
  NEW(m->pmom, def->n_slots);
  NEW(m->off, np);
  NEW(m->size, np);
  NEW(m->plan, nt);
  NEW(m->rule, nt);
  if (!m->x || !m->xs || !m->lo || !m->hi || !m->method || !m->knots || !m->n_knots || !m->spline || !m->pseg || !m->pu ||
      !m->pmom || !m->off || !m->size || !m->plan || !m->rule) {
    densrt_model_free(m);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  for (size_t d = 0; d < nd; d++) {
    m->lo[d] = def->dims[d].lo;
    m->hi[d] = def->dims[d].hi;
    int rc = densrt_spec_method(def->dims[d].method, &m->method[d]);
    if (rc) {
      densrt_model_free(m);
      return rc;
    }
  }
  for (size_t k = 0; k < nk; k++) {
    int rc = densrt_model_set_knots(m, def->knots[k].name, def->knots[k].spec);
    if (rc) {
      densrt_model_free(m);
      return rc;
    }
  }
  *out = m;
  return DENSRT_OK;
}

static void free_runs(densrt_model *m);

void densrt_model_free(densrt_model *m)
{
  if (!m)
    return;
  const densrt_model_def *def = m->def;
  for (size_t d = 0; m->x && d < def->n_dims; d++)
    free(m->x[d]);
  for (size_t k = 0; m->knots && k < def->n_knots; k++)
    free(m->knots[k]);
  for (size_t c = 0; m->spline && c < def->n_coefsets; c++) {
    densrt_spline_free(m->spline[c]);
  }
  densrt_work_free(m->own);
  for (size_t t = 0; m->rule && t < def->n_terms; t++)
    free_rule(&m->rule[t]);
  for (size_t k = 0; m->pseg && k < def->n_slots; k++) {
    free(m->pseg[k]);
    free(m->pu[k]);
    if (m->pmom)
      free(m->pmom[k]);
  }
  free(m->pseg);
  free(m->pu);
  free(m->pmom);
  free_runs(m);
  free(m->xs);
  free(m->x);
  free(m->lo);
  free(m->hi);
  free(m->method);
  free(m->knots);
  free(m->n_knots);
  free(m->spline);
  free(m->off);
  free(m->size);
  free(m->plan);
  free(m->rule);
  free(m);
}

int densrt_model_set_knots(densrt_model *m, const char *name, const char *spec)
{
  int k = find_knots(m, name);
  if (k < 0)
    DENSRT_ERROR(DENSRT_EINVAL, "the model has no knot set '%s'", name);
  double *t;
  size_t n;
  int rc = densrt_spec_knots(spec, &t, &n);
  if (rc)
    return rc;
  int min = m->def->knots[k].min_knots;
  if (n < (size_t)min) {
    free(t);
    DENSRT_ERROR(DENSRT_EINVAL, "knot set '%s' needs at least %d knots for its splines, got %zu", name, min, n);
  }
  free(m->knots[k]);
  m->knots[k] = t;
  m->n_knots[k] = n;
  return DENSRT_OK;
}

int densrt_model_set_method(densrt_model *m, const char *column, const char *spec)
{
  int d = find_dim(m, column);
  if (d < 0)
    DENSRT_ERROR(DENSRT_EINVAL, "the model has no data column '%s'", column);
  densrt_method meth;
  int rc = densrt_spec_method(spec, &meth);
  if (rc)
    return rc;
  m->method[d] = meth;
  return DENSRT_OK;
}

int densrt_model_set_data(densrt_model *m, size_t n, double **cols)
{
  for (size_t d = 0; d < m->def->n_dims; d++) {
    free(m->x[d]);
    m->x[d] = cols[d];
  }
  m->n = n;
  return DENSRT_OK;
}

/* {====================================================================
** Quadrature rules
** ===================================================================== */

/* One column's rule at refinement level `level` (each level halves the spacing). */
static int column_rule(densrt_model *m, size_t t, size_t d, int level, densrt_quad_rule *r)
{
  const densrt_method *meth = &m->method[d];
  double lo = m->lo[d], hi = m->hi[d];
  const densrt_term_def *term = &m->def->terms[t];
  if (!isfinite(lo) || !isfinite(hi))
    DENSRT_ERROR(DENSRT_EINVAL, "term '%s' must be integrated numerically over '%s', whose window is unbounded",
                 term->name, m->def->dims[d].name);
  size_t scale = (size_t)1 << level;
  switch (meth->kind) {
  case DENSRT_METHOD_ANALYTIC:
    DENSRT_ERROR(DENSRT_EINVAL, "column '%s' is set to analytic integration, but term '%s' is not a normal in it",
                 m->def->dims[d].name, term->name);
  case DENSRT_METHOD_SIMPSON_POINTS:
    return densrt_quad_rule_simpson_points(lo, hi, (meth->points - 1) * scale + 1, r);
  case DENSRT_METHOD_SIMPSON_STEP:
    return densrt_quad_rule_simpson_step(lo, hi, meth->step / (double)scale, r);
  default: {
    /* breakpoints: the knots of the splines along this column */
    const uint32_t *sets = term->brk_knots + d * DENSRT_BRK_WORDS(m->def->n_knots);
    size_t nb = 0;
    for (size_t k = 0; k < m->def->n_knots; k++)
      if (sets[k / 32] & (1u << (k % 32)))
        nb += m->n_knots[k];
    double *brk = malloc((nb ? nb : 1) * sizeof *brk);
    if (!brk)
      DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
    nb = 0;
    for (size_t k = 0; k < m->def->n_knots; k++)
      if (sets[k / 32] & (1u << (k % 32))) {
        memcpy(brk + nb, m->knots[k], m->n_knots[k] * sizeof *brk);
        nb += m->n_knots[k];
      }
    size_t order = meth->order, subdiv = meth->subdiv;
    for (int i = 0; i < level; i++) {
      if (order * 2 <= 64)
        order *= 2;
      else
        subdiv *= 2;
    }
    int rc = densrt_quad_rule_gl(lo, hi, brk, nb, order, subdiv, r);
    free(brk);
    return rc;
  }
  }
}

static uint32_t numeric_columns(const densrt_model *m, size_t t)
{
  const densrt_term_def *term = &m->def->terms[t];
  return m->plan[t] == DENSRT_PLAN_EXACT ? term->exact_numeric : term->numeric;
}

size_t densrt_model_nodes(const densrt_model *m, size_t t)
{
  return numeric_columns(m, t) ? m->rule[t].n : 0;
}

/* Tensor product of the column rules of term t's current plan. */
static int build_rule(densrt_model *m, size_t t, int level, densrt_points *out)
{
  const densrt_term_def *term = &m->def->terms[t];
  uint32_t cols = numeric_columns(m, t);
  densrt_quad_rule r1[DENSRT_MAX_DIMS];
  memset(r1, 0, sizeof r1);
  memset(out, 0, sizeof *out);
  size_t n = 1;   /* with no numeric column: the single node of the empty product, weight 1 */
  int rc = DENSRT_OK, auto_col = 0;
  size_t per_node = 16;   /* bytes: the log weight, the kernels' log integrand, and per column ... */
  for (size_t d = 0; d < m->def->n_dims; d++)
    if (cols & (1u << d))
      per_node += 8 + 12 * m->def->n_coefsets;   /* ... its coordinate, each spline's segment and offset */
  for (size_t d = 0; d < m->def->n_dims; d++)
    if (cols & (1u << d)) {
      rc = column_rule(m, t, d, level, &r1[d]);
      if (rc)
        goto done;
      if (n > ((size_t)1 << 40) / r1[d].n) {
        rc = DENSRT_FAIL(DENSRT_EINVAL, "term '%s': the quadrature grid is too large", term->name);
        goto done;
      }
      n *= r1[d].n;
      auto_col |= m->method[d].kind == DENSRT_METHOD_AUTO;
    }
  if (auto_col && n > DENSRT_MAX_AUTO_BYTES / per_node) {   /* refinement that does not converge stops here */
    rc = DENSRT_FAIL(DENSRT_ETOL, "term '%s': 'auto' integration would take more than %zu quadrature nodes "
                     "(%d MiB; give its columns a rule: --integrate COLUMN=gauss_legendre(order = N, subdiv = M))",
                     term->name, DENSRT_MAX_AUTO_BYTES / per_node, (int)(DENSRT_MAX_AUTO_BYTES >> 20));
    goto done;
  }
  out->n = n;
  /* DENSRT_LANES more nodes, copies of the last: the quadrature kernels' last block of lanes
     reads and writes them (and adds nothing) */
  out->lw = malloc((n + DENSRT_LANES) * sizeof *out->lw);
  if (!out->lw) {
    rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t q = 0; q < n; q++)
    out->lw[q] = 0;
  size_t stride = 1;
  for (size_t d = 0; d < m->def->n_dims; d++) {
    if (!(cols & (1u << d)))
      continue;
    out->x[d] = malloc((n + DENSRT_LANES) * sizeof *out->x[d]);
    if (!out->x[d]) {
      rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
      goto done;
    }
    for (size_t q = 0; q < n; q++) {
      size_t j = (q / stride) % r1[d].n;
      out->x[d][q] = r1[d].x[j];
      out->lw[q] += r1[d].lw[j];
    }
    for (size_t q = n; q < n + DENSRT_LANES; q++)
      out->x[d][q] = out->x[d][n - 1];
    stride *= r1[d].n;
  }
  for (size_t q = n; q < n + DENSRT_LANES; q++)
    out->lw[q] = out->lw[n - 1];
  /* each node's segment on every spline along every column of the rule: found once here,
     not at every evaluation */
  size_t nc = m->def->n_coefsets, nd = m->def->n_dims;
  out->n_loc = nc * nd;
  if (!(out->seg = calloc(out->n_loc + 1, sizeof *out->seg)) || !(out->u = calloc(out->n_loc + 1, sizeof *out->u))) {
    rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t c = 0; c < nc; c++)
    for (size_t d = 0; d < nd; d++) {
      if (!out->x[d])
        continue;
      uint32_t *sg = out->seg[c * nd + d] = malloc((n + DENSRT_LANES) * sizeof *sg);
      double *u = out->u[c * nd + d] = malloc((n + DENSRT_LANES) * sizeof *u);
      if (!sg || !u) {
        rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
        goto done;
      }
      for (size_t q = 0; q < n + DENSRT_LANES; q++)
        sg[q] = (uint32_t)densrt_spline_locate(m->spline[c], out->x[d][q], &u[q]);
    }
done:
  for (size_t d = 0; d < DENSRT_MAX_DIMS; d++)
    densrt_quad_rule_free(&r1[d]);
  if (rc)
    free_rule(out);
  return rc;
}

static int build_rules(densrt_model *m, int level)
{
  int rc = DENSRT_OK;
  for (size_t t = 0; t < m->def->n_terms && !rc; t++) {
    densrt_points r;
    if (!(rc = build_rule(m, t, level, &r))) {
      free_rule(&m->rule[t]);
      m->rule[t] = r;
    }
  }
  /* the largest rule in place, also when a failure (out of memory) left the first terms with
     new rules: the work's node buffer is sized by it, and the kernels fill a rule's nodes */
  size_t biggest = 1;
  for (size_t t = 0; t < m->def->n_terms; t++)
    if (m->rule[t].n > biggest)
      biggest = m->rule[t].n;
  m->biggest_rule = biggest;
  return rc;
}

/* }==================================================================== */

int densrt_model_layout(densrt_model *m)
{
  const densrt_model_def *def = m->def;
  size_t off = 0;
  for (size_t p = 0; p < def->n_params; p++) {
    const densrt_param_def *q = &def->params[p];
    size_t size = q->size_kind == DENSRT_SIZE_KNOTS ? m->n_knots[q->knots] : q->size;
    if (size < q->min_size)
      DENSRT_ERROR(DENSRT_EINVAL, "parameter '%s' has %zu elements, but the model uses element %zu", q->name, size,
                   q->min_size);
    m->off[p] = off;
    m->size[p] = size;
    off += size;
  }
  m->n_theta = off;
  return DENSRT_OK;
}

const char *densrt_model_value_name(const densrt_model *m, size_t i, char *buf, size_t len)
{
  for (size_t p = 0; p < m->def->n_params; p++)
    if (i >= m->off[p] && i < m->off[p] + m->size[p]) {
      if (m->def->params[p].size_kind == DENSRT_SIZE_SCALAR)
        snprintf(buf, len, "%s", m->def->params[p].name);
      else
        snprintf(buf, len, "%s[%zu]", m->def->params[p].name, i - m->off[p] + 1);
      return buf;
    }
  snprintf(buf, len, "#%zu", i + 1);
  return buf;
}

static void free_runs(densrt_model *m)
{
  for (size_t d = 0; m->xs && d < m->def->n_dims; d++) {
    free(m->xs[d]);
    m->xs[d] = NULL;
  }
  free(m->order);
  free(m->run_start);
  free(m->run_seg);
  m->order = NULL;
  m->run_start = NULL;
  m->run_seg = NULL;
  m->n_runs = 0;
}

/* Stable counting sort of the rows by their segment in each slot, last slot first: the
** rows of a run (one segment in every slot) end up consecutive, in their data order. */
static int sort_rows(densrt_model *m)
{
  const densrt_model_def *def = m->def;
  size_t n = m->n, S = def->n_slots;
  free_runs(m);
  if (n > UINT32_MAX)
    DENSRT_ERROR(DENSRT_EINVAL, "%zu data rows: at most %u", n, (unsigned)UINT32_MAX);
  uint32_t *ord = malloc((n ? n : 1) * sizeof *ord), *tmp = S ? malloc((n ? n : 1) * sizeof *tmp) : NULL;
  size_t *count = NULL;
  if (!ord || (S && !tmp))
    goto nomem;
  for (size_t i = 0; i < n; i++)
    ord[i] = (uint32_t)i;
  for (size_t s = S; s-- > 0;) {
    const uint32_t *seg = m->pseg[s];
    size_t K = m->n_knots[def->slot_knots[s]] - 1;
    free(count);
    if (!(count = calloc(K + 1, sizeof *count)))
      goto nomem;
    for (size_t i = 0; i < n; i++)
      count[seg[i] + 1]++;
    for (size_t j = 0; j < K; j++)
      count[j + 1] += count[j];
    for (size_t i = 0; i < n; i++)
      tmp[count[seg[ord[i]]]++] = ord[i];
    uint32_t *t = ord;
    ord = tmp;
    tmp = t;
  }
  free(count);
  free(tmp);
  count = NULL;
  tmp = NULL;
  m->order = ord;
  /* the runs: a new one wherever a slot's segment changes (counted, then recorded) */
  size_t nr = 0;
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) {
      m->run_start = malloc((nr + 1) * sizeof *m->run_start);
      m->run_seg = malloc((nr * S + 1) * sizeof *m->run_seg);
      if (!m->run_start || !m->run_seg)
        goto nomem;
      nr = 0;
    }
    for (size_t i = 0; i < n; i++) {
      int fresh = i == 0;
      for (size_t s = 0; s < S && !fresh; s++)
        fresh = m->pseg[s][ord[i]] != m->pseg[s][ord[i - 1]];
      if (!fresh)
        continue;
      if (pass == 1) {
        m->run_start[nr] = i;
        for (size_t s = 0; s < S; s++)
          m->run_seg[nr * S + s] = m->pseg[s][ord[i]];
      }
      nr++;
    }
  }
  m->run_start[nr] = n;
  m->n_runs = nr;
  /* per-row locations in the sorted order where kernels read them; else freed first, so
     that the sorted columns do not add to the peak */
  for (size_t s = 0; s < S; s++) {
    if (def->row_locations) {
      uint32_t *ps = malloc((n ? n : 1) * sizeof *ps);
      double *pu = malloc((n ? n : 1) * sizeof *pu);
      if (!ps || !pu) {
        free(ps);
        free(pu);
        goto nomem;
      }
      for (size_t i = 0; i < n; i++) {
        ps[i] = m->pseg[s][ord[i]];
        pu[i] = m->pu[s][ord[i]];
      }
      free(m->pseg[s]);
      free(m->pu[s]);
      m->pseg[s] = ps;
      m->pu[s] = pu;
    } else {
      free(m->pseg[s]);
      free(m->pu[s]);
      m->pseg[s] = NULL;
      m->pu[s] = NULL;
    }
  }
  for (size_t d = 0; d < def->n_dims; d++) {
    if (!(m->xs[d] = calloc(n + DENSRT_LANES, sizeof *m->xs[d])))   /* a run's last lanes read past n */
      goto nomem;
    for (size_t i = 0; i < n; i++)
      m->xs[d][i] = m->x[d][ord[i]];
  }
  return DENSRT_OK;
nomem:
  free(count);
  free(tmp);
  if (ord != m->order)
    free(ord);
  free_runs(m);
  DENSRT_ERROR(DENSRT_ENOMEM, "out of memory for %zu data rows", n);
}

size_t densrt_model_run_of(const densrt_model *m, size_t i)
{
  size_t lo = 0, hi = m->n_runs;   /* the first run whose end is after i */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->run_start[mid + 1] <= i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

int densrt_model_prepare(densrt_model *m)
{
  const densrt_model_def *def = m->def;
  int lrc = densrt_model_layout(m);
  if (lrc)
    return lrc;

  for (size_t c = 0; c < def->n_coefsets; c++) {
    const densrt_coefset_def *cs = &def->coefsets[c];
    densrt_spline_free(m->spline[c]);
    m->spline[c] = NULL;
    int rc = densrt_spline_alloc(m->knots[cs->knots], m->n_knots[cs->knots], cs->kind, &m->spline[c]);
    if (rc)
      return densrt_error(rc, __FILE__, __LINE__, "knot set '%s': %s", def->knots[cs->knots].name,
                          densrt_error_message());
  }

  /* where each data row falls on the splines: the data and knots are fixed from here on */
  for (size_t k = 0; k < def->n_slots; k++) {
    free(m->pseg[k]);
    free(m->pu[k]);
    m->pseg[k] = malloc((m->n ? m->n : 1) * sizeof *m->pseg[k]);
    m->pu[k] = malloc((m->n ? m->n : 1) * sizeof *m->pu[k]);
    free(m->pmom[k]);
    m->pmom[k] = calloc(4 * (m->n_knots[def->slot_knots[k]] - 1), sizeof *m->pmom[k]);
    if (!m->pseg[k] || !m->pu[k] || !m->pmom[k])
      DENSRT_ERROR(DENSRT_ENOMEM, "out of memory for %zu data rows", m->n);
  }
  if (def->n_slots)
    def->locate_data(m);
  int src = sort_rows(m);
  if (src)
    return src;

  /* The exact plan needs every analytic column to allow analytic integration. */
  for (size_t t = 0; t < def->n_terms; t++) {
    const densrt_term_def *term = &def->terms[t];
    m->plan[t] = DENSRT_PLAN_EXACT;
    for (size_t d = 0; d < def->n_dims; d++)
      if ((term->analytic & (1u << d)) && !densrt_method_allows_analytic(m->method[d].kind))
        m->plan[t] = DENSRT_PLAN_NUMERIC;
  }
  int rc = build_rules(m, 0);
  if (rc)
    return rc;
  densrt_work_free(m->own);
  m->own = NULL;
  return densrt_work_alloc(m, &m->own);
}

/* {====================================================================
** Work: what an evaluation writes
** ===================================================================== */

int densrt_work_alloc(const densrt_model *m, densrt_work **out)
{
  const densrt_model_def *def = m->def;
  densrt_work *w = calloc(1, sizeof *w);
  *out = NULL;
  if (!w)
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  w->n_coefsets = def->n_coefsets;
  w->n_threads = 1;
  size_t kmax = 2;
  NEW(w->coef, def->n_coefsets);
  NEW(w->coef_adj, def->n_coefsets);
  NEW(w->log_integral, def->n_terms);
  NEW(w->log_prior_part, def->n_priors);
  int ok = w->coef && w->coef_adj && w->log_integral && w->log_prior_part;
  for (size_t c = 0; ok && c < def->n_coefsets; c++) {
    size_t K = m->n_knots[def->coefsets[c].knots];
    if (K > kmax)
      kmax = K;
    size_t nc = 4 * (K - 1);
    NEW(w->coef[c], nc);
    NEW(w->coef_adj[c], nc);
    ok = w->coef[c] && w->coef_adj[c];
  }
  size_t ns = 2 * kmax;
  NEW(w->spline_scratch, ns);
  w->lv_cap = m->biggest_rule ? m->biggest_rule : 1;
  NEW(w->lv, w->lv_cap + DENSRT_LANES);   /* a kernel's last block of lanes writes past the rule */
  if (!ok || !w->spline_scratch || !w->lv) {
    densrt_work_free(w);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  *out = w;
  return DENSRT_OK;
}

static void free_threads(densrt_work *w)
{
  densrt_pool_free(w->pool);
  for (size_t t = 0; w->sub && t + 1 < w->n_threads; t++)
    densrt_work_free(w->sub[t]);
  free(w->sub);
  free(w->adj_buf);
  w->pool = NULL;
  w->sub = NULL;
  w->adj_buf = NULL;
  w->n_threads = 1;
  w->n_adj = 0;
}

int densrt_work_set_threads(const densrt_model *m, densrt_work *w, size_t n)
{
  free_threads(w);
  if (n <= 1)
    return DENSRT_OK;
  w->pool = densrt_pool_alloc(n);
  w->sub = calloc(n, sizeof *w->sub);
  if (!w->pool || !w->sub) {
    free_threads(w);
    DENSRT_ERROR(DENSRT_ENOMEM, "cannot start %zu threads", n);
  }
  w->n_threads = n;
  for (size_t t = 0; t + 1 < n; t++)
    if (densrt_work_alloc(m, &w->sub[t])) {
      free_threads(w);
      DENSRT_ERROR(DENSRT_ENOMEM, "out of memory for %zu threads", n);
    }
  return DENSRT_OK;
}

typedef struct {
  const densrt_model *m;
  densrt_work *w;
  densrt_data_kernel_fn *k;
  const double *hv;
  double *adj;
  double ll[64];
} data_job;

static void run_rows(void *vctx, size_t t)
{
  data_job *j = vctx;
  const densrt_model *m = j->m;
  densrt_work *w = j->w;
  size_t T = w->n_threads, i0 = m->n * t / T, i1 = m->n * (t + 1) / T;
  if (t == 0) {
    j->ll[0] = j->k(m, w, j->hv, j->adj, i0, i1);
    return;
  }
  densrt_work *s = w->sub[t - 1];
  double *adj = w->adj_buf + (t - 1) * w->n_adj;
  for (size_t c = 0; c < m->def->n_coefsets; c++) {
    size_t nc = 4 * (m->n_knots[m->def->coefsets[c].knots] - 1);
    memcpy(s->coef[c], w->coef[c], nc * sizeof *s->coef[c]);
    memset(s->coef_adj[c], 0, nc * sizeof *s->coef_adj[c]);
  }
  memset(adj, 0, w->n_adj * sizeof *adj);
  j->ll[t] = j->k(m, s, j->hv, adj, i0, i1);
}

double densrt_model_data_sum(const densrt_model *m, densrt_work *w, densrt_data_kernel_fn *k, const double *hv,
                             double *adj, size_t n_adj)
{
  size_t T = w->n_threads;
  if (T <= 1 || T > 64 || m->n < 1024 * T)
    return k(m, w, hv, adj, 0, m->n);
  if (w->n_adj < n_adj) {
    double *b = realloc(w->adj_buf, (T - 1) * n_adj * sizeof *b);
    if (!b)
      return k(m, w, hv, adj, 0, m->n);   /* no memory for the split: one thread */
    w->adj_buf = b;
    w->n_adj = n_adj;
  }
  data_job j = {m, w, k, hv, adj, {0}};
  densrt_pool_run(w->pool, run_rows, &j);
  /* the ranges' results in their order: the same for the same number of threads */
  double ll = j.ll[0];
  for (size_t t = 1; t < T; t++) {
    ll += j.ll[t];
    const double *a = w->adj_buf + (t - 1) * w->n_adj;
    for (size_t i = 0; i < n_adj; i++)
      adj[i] += a[i];
    for (size_t c = 0; c < m->def->n_coefsets; c++) {
      size_t nc = 4 * (m->n_knots[m->def->coefsets[c].knots] - 1);
      const double *ca = w->sub[t - 1]->coef_adj[c];
      for (size_t q = 0; q < nc; q++)
        w->coef_adj[c][q] += ca[q];
    }
  }
  return ll;
}

void densrt_work_free(densrt_work *w)
{
  if (!w)
    return;
  free_threads(w);
  for (size_t c = 0; w->coef && c < w->n_coefsets; c++) {
    free(w->coef[c]);
    free(w->coef_adj[c]);
  }
  free(w->coef);
  free(w->coef_adj);
  free(w->spline_scratch);
  free(w->lv);
  free(w->log_integral);
  free(w->log_prior_part);
  free(w);
}

double densrt_model_eval(const densrt_model *m, densrt_work *w, const double *theta, double *grad)
{
  if (w->lv_cap < m->biggest_rule) {   /* the rules were refined since w was made */
    double *lv = realloc(w->lv, (m->biggest_rule + DENSRT_LANES) * sizeof *lv);
    if (!lv) {
      densrt_error(DENSRT_ENOMEM, __FILE__, __LINE__, "out of memory for %zu quadrature nodes", m->biggest_rule);
      return NAN;
    }
    w->lv = lv;
    w->lv_cap = m->biggest_rule;
  }
  return m->def->log_density(m, w, theta, grad);
}

/* }==================================================================== */

double densrt_model_log_density(densrt_model *m, const double *theta, double *grad)
{
  return densrt_model_eval(m, m->own, theta, grad);
}

void densrt_model_spline_coefs(const densrt_model *m, densrt_work *w, const double *theta)
{
  for (size_t c = 0; c < m->def->n_coefsets; c++) {
    const densrt_coefset_def *cs = &m->def->coefsets[c];
    densrt_spline_coefs(m->spline[c], theta + m->off[cs->param], w->coef[c], w->spline_scratch);
    memset(w->coef_adj[c], 0, 4 * (m->n_knots[cs->knots] - 1) * sizeof *w->coef_adj[c]);
  }
}


/* Log integrals of every term at theta with the current rules. */
static int term_integrals(densrt_model *m, const double *theta, double *out)
{
  double *g = malloc((m->n_theta ? m->n_theta : 1) * sizeof *g);
  if (!g)
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  densrt_model_log_density(m, theta, g);
  free(g);
  memcpy(out, m->own->log_integral, m->def->n_terms * sizeof *out);
  return DENSRT_OK;
}

int densrt_model_integral_error(densrt_model *m, const double *theta, double *rel_err)
{
  size_t nt = m->def->n_terms;
  double *a = malloc((nt + 1) * sizeof *a), *b = malloc((nt + 1) * sizeof *b);
  int rc = DENSRT_OK;
  *rel_err = NAN;   /* until there is an estimate */
  if (!a || !b) {
    rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = term_integrals(m, theta, a)) || (rc = build_rules(m, 1)) || (rc = term_integrals(m, theta, b)))
    goto done;
  /* each term's change relative to the total: what -integral in the log posterior sees (a
     term at e^-6000 of the total need not converge by itself) */
  double top = -INFINITY, total = 0;
  for (size_t t = 0; t < nt; t++)
    top = a[t] > top ? a[t] : top;
  for (size_t t = 0; t < nt; t++)
    total += isinf(top) ? 0 : exp(a[t] - top);
  double worst = 0;
  for (size_t t = 0; t < nt; t++) {
    double e = fabs(expm1(b[t] - a[t])) * (isinf(top) ? 1 : exp(a[t] - top) / total);
    if (isinf(a[t]) && a[t] == b[t])
      e = 0;
    if (!(e <= worst))
      worst = isnan(e) ? INFINITY : e;
  }
  *rel_err = worst;
  rc = build_rules(m, 0);
done:
  free(a);
  free(b);
  return rc;
}

int densrt_model_refine(densrt_model *m, const double *theta, double tol, int *changed, double *rel_err)
{
  int have_auto = 0, rc;
  *changed = 0;
  for (size_t d = 0; d < m->def->n_dims; d++)
    have_auto |= m->method[d].kind == DENSRT_METHOD_AUTO;
  for (int round = 0; round < 8; round++) {
    if ((rc = densrt_model_integral_error(m, theta, rel_err)))
      return rc;
    if (*rel_err <= tol || !have_auto)
      return DENSRT_OK;   /* the current rules are accurate to the estimate (or not ours to change) */
    /* not converged: the finer 'auto' rules become the new base */
    for (size_t d = 0; d < m->def->n_dims; d++) {
      densrt_method *me = &m->method[d];
      if (me->kind != DENSRT_METHOD_AUTO)
        continue;
      if (me->order * 2 <= 64)
        me->order *= 2;
      else
        me->subdiv *= 2;
    }
    *changed = 1;
    if ((rc = build_rules(m, 0)))
      return rc;
  }
  DENSRT_ERROR(DENSRT_ETOL, "the integral did not converge to %g (relative change %g after refining)", tol,
               *rel_err);
}

/* {====================================================================
** Where the log posterior is not finite
** ===================================================================== */

typedef struct {
  char *out;
  size_t len, used;
  int lines;
} explain;

static void say(explain *e, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  if (e->used < e->len) {
    int k = vsnprintf(e->out + e->used, e->len - e->used, fmt, ap);
    if (k > 0)
      e->used += (size_t)k < e->len - e->used ? (size_t)k : e->len - e->used - 1;
    if (e->used + 1 < e->len)
      e->out[e->used++] = '\n', e->out[e->used] = 0;
  }
  va_end(ap);
  e->lines++;
}

/* The rows where log n is NaN, +inf or -inf (the intensity zero), from each term's log n
** (log_terms), in blocks; the first few are named with the component at fault. */
static void explain_rows(const densrt_model *m, densrt_work *w, const double *theta, explain *e)
{
  const densrt_model_def *def = m->def;
  enum { BLOCK = 256, SHOWN = 3 };
  double *lt = malloc(BLOCK * def->n_terms * sizeof *lt + 1);
  const double **x = calloc(def->n_dims + 1, sizeof *x);
  if (!lt || !x) {
    free(lt);
    free(x);
    return;
  }
  size_t bad = 0;
  for (size_t i0 = 0; i0 < m->n; i0 += BLOCK) {
    size_t nb = m->n - i0 < BLOCK ? m->n - i0 : BLOCK;
    for (size_t d = 0; d < def->n_dims; d++)
      x[d] = m->x[d] + i0;
    def->log_terms(m, w, theta, nb, x, lt);
    for (size_t i = 0; i < nb; i++) {
      int zero = 1, culprit = -1;
      for (size_t t = 0; t < def->n_terms; t++) {
        double v = lt[t * nb + i];
        if (v != -INFINITY)
          zero = 0;
        if (culprit < 0 && (isnan(v) || v == INFINITY))
          culprit = (int)t;
      }
      if (!zero && culprit < 0)
        continue;
      if (bad++ >= SHOWN)
        continue;
      char at[256];
      size_t k = 0;
      for (size_t d = 0; d < def->n_dims && k < sizeof at; d++)
        k += (size_t)snprintf(at + k, sizeof at - k, "%s%s = %.17g", d ? ", " : "", def->dims[d].name,
                              m->x[d][i0 + i]);
      if (culprit >= 0) {
        const densrt_term_def *t = &def->terms[culprit];
        double v = lt[(size_t)culprit * nb + i];
        say(e, "%s:%d:%d: component '%s' is %s at data row %zu (%s): log n = %g", def->source, t->line, t->column,
            t->name, isnan(v) ? "not a number" : "infinite", i0 + i + 1, at, isnan(v) ? fabs(v) : v);
      } else {
        say(e, "%s: the intensity is zero at data row %zu (%s): every component is 0 there", def->source,
            i0 + i + 1, at);
      }
    }
  }
  if (bad > SHOWN)
    say(e, "%s: and %zu more data rows", def->source, bad - SHOWN);
  free(lt);
  free(x);
}

int densrt_model_explain_nonfinite(densrt_model *m, const double *theta, char *out, size_t len)
{
  const densrt_model_def *def = m->def;
  explain e = {out, len, 0, 0};
  if (len)
    out[0] = 0;
  double *g = calloc(m->n_theta + 1, sizeof *g);
  if (!g)
    return 0;
  densrt_model_log_density(m, theta, g);
  free(g);
  densrt_work *w = m->own;
  for (size_t t = 0; t < def->n_terms; t++) {
    double li = w->log_integral[t];
    if (isnan(li) || exp(li) == INFINITY)
      say(&e, "%s:%d:%d: the integral of component '%s' is %s (log integral %g)", def->source, def->terms[t].line,
          def->terms[t].column, def->terms[t].name, isnan(li) ? "not a number" : "too large for a double",
          isnan(li) ? fabs(li) : li);
  }
  for (size_t p = 0; p < def->n_priors; p++)
    if (!isfinite(w->log_prior_part[p]))
      say(&e, "%s:%d:%d: the prior on '%s' is %g%s", def->source, def->priors[p].line, def->priors[p].column,
          def->priors[p].param, isnan(w->log_prior_part[p]) ? fabs(w->log_prior_part[p]) : w->log_prior_part[p],
          w->log_prior_part[p] == -INFINITY ? " (a value outside the prior's support)" : "");
  if (!isfinite(w->log_lik))
    explain_rows(m, w, theta, &e);
  return e.lines;
}

/* }==================================================================== */
