/*
** test_deriv.c — the differentiation pass (src/deriv.c): every operation's
** partial derivative, chained in forward and in reverse mode, against central
** finite differences of the expression's value; both modes agree; the n-ary
** log-sum-exp gives derivatives whose size is linear in the number of terms.
** The IR is evaluated here by a small interpreter, independent of the printer.
*/
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>

#include "deriv.h"
#include "dual.h"
#include "ir.h"

enum { NP = 3 };
static const double LO = -1.5, HI = 2.5;   /* the window of column 0 (LOG_NDIFF) */
static const double X0 = 0.7;              /* the value of column 0 (DATA) */

/* The value of n at parameters th (PARAM index p is th[p]). */
static double eval(const ir_node *n, const double *th)
{
  double a = n->a[0] ? eval(n->a[0], th) : 0, b = n->a[1] ? eval(n->a[1], th) : 0, du, ds;
  switch (n->op) {
  case IR_CONST: return n->value;
  case IR_DATA: return X0;
  case IR_PARAM: return th[n->index];
  case IR_ADD: return a + b;
  case IR_SUB: return a - b;
  case IR_MUL: return a * b;
  case IR_DIV: return a / b;
  case IR_NEG: return -a;
  case IR_EXP: return exp(a);
  case IR_LOG: return log(a);
  case IR_LOG1P: return log1p(a);
  case IR_SQRT: return sqrt(a);
  case IR_LGAMMA: return gsl_sf_lngamma(a);
  case IR_DIGAMMA: return gsl_sf_psi(a);
  case IR_POW: return pow(a, b);
  case IR_LSE: return fmax(a, b) + log1p(exp(-fabs(a - b)));
  case IR_MAX: return fmax(a, b);
  case IR_SHIFT: return a == -INFINITY ? 0 : a;
  case IR_LSE_W: return 1 / (1 + exp(b - a));
  case IR_LOG_NDIFF: return densrt_log_ndiff(LO, HI, a, b, &du, &ds);
  case IR_NDIFF_DMU: case IR_NDIFF_DSD:
    densrt_log_ndiff(LO, HI, eval(n->a[0]->a[0], th), eval(n->a[0]->a[1], th), &du, &ds);
    return n->op == IR_NDIFF_DMU ? du : ds;
  case IR_LOG_WIDTH: return log(HI - LO);
  case IR_LOG_PHIDIFF: return densrt_quad_log_normal_diff(a, b, NULL, NULL);
  case IR_PHIDIFF_DA: case IR_PHIDIFF_DB:
    densrt_quad_log_normal_diff(eval(n->a[0]->a[0], th), eval(n->a[0]->a[1], th), &du, &ds);
    return n->op == IR_PHIDIFF_DA ? du : ds;
  default: ck_abort_msg("no evaluation of %s", ir_op_name(n->op)); return NAN;
  }
}

static double eval_or_zero(const ir_node *n, const double *th)
{
  return n ? eval(n, th) : 0;
}

/* Checks d e / d th[p] in both modes against finite differences, and the modes against each other. */
static void check_gradient(dc_ir *ir, ir_node *e, const double *th0, const char *what)
{
  ir_node *leaf[NP], *fwd[NP], *rev[NP];
  for (int p = 0; p < NP; p++)
    leaf[p] = ir_leaf(ir, IR_PARAM, p, -1, (dc_loc){0, 0, 0, 0});
  ck_assert_uint_ne(dc_forward(ir, &e, 1, leaf, NP, fwd, 0), DC_FORWARD_TOO_BIG);
  dc_reverse(ir, e, leaf, NP, rev);
  for (int p = 0; p < NP; p++) {
    double th[NP], h = 1e-5 * fmax(1, fabs(th0[p]));
    memcpy(th, th0, sizeof th);
    th[p] = th0[p] + h;
    double up = eval(e, th);
    th[p] = th0[p] - h;
    double down = eval(e, th);
    double fd = (up - down) / (2 * h), f = eval_or_zero(fwd[p], th0), r = eval_or_zero(rev[p], th0);
    ck_assert_msg(fabs(f - fd) <= 1e-6 * fmax(1, fabs(fd)), "%s: d/dth%d forward %.17g, finite differences %.17g",
                  what, p, f, fd);
    ck_assert_msg(fabs(f - r) <= 1e-13 * fmax(1, fabs(f)), "%s: d/dth%d forward %.17g, reverse %.17g", what, p, f,
                  r);
  }
}

static const dc_loc L = {1, 1, 1, 1};

START_TEST(test_each_operation)
{
  dc_ir ir;
  dc_ir_init(&ir);
  ir_node *a = ir_leaf(&ir, IR_PARAM, 0, -1, L), *b = ir_leaf(&ir, IR_PARAM, 1, -1, L),
          *c = ir_leaf(&ir, IR_PARAM, 2, -1, L), *x = ir_leaf(&ir, IR_DATA, 0, -1, L);
  const double th[NP] = {0.3, 1.7, -0.4};
  struct {
    const char *what;
    ir_node *e;
  } cases[] = {
    {"a + b * c", ir_op2(&ir, IR_ADD, a, ir_op2(&ir, IR_MUL, b, c, L), L)},
    {"a - b / c", ir_op2(&ir, IR_SUB, a, ir_op2(&ir, IR_DIV, b, c, L), L)},
    {"-(a * a) / b", ir_op2(&ir, IR_DIV, ir_op1(&ir, IR_NEG, ir_op2(&ir, IR_MUL, a, a, L), L), b, L)},
    {"exp(a * x) + log(b)", ir_op2(&ir, IR_ADD, ir_op1(&ir, IR_EXP, ir_op2(&ir, IR_MUL, a, x, L), L),
                                   ir_op1(&ir, IR_LOG, b, L), L)},
    {"log1p(b) * sqrt(b + x)", ir_op2(&ir, IR_MUL, ir_op1(&ir, IR_LOG1P, b, L),
                                      ir_op1(&ir, IR_SQRT, ir_op2(&ir, IR_ADD, b, x, L), L), L)},
    {"b ^ 2 + b ^ 3.5", ir_op2(&ir, IR_ADD, ir_op2(&ir, IR_POW, b, ir_const(&ir, 2), L),
                               ir_op2(&ir, IR_POW, b, ir_const(&ir, 3.5), L), L)},
    {"b ^ (a + c)", ir_op2(&ir, IR_POW, b, ir_op2(&ir, IR_ADD, a, c, L), L)},
    {"lse(a, c * x)", ir_op2(&ir, IR_LSE, a, ir_op2(&ir, IR_MUL, c, x, L), L)},
    {"lse(a, a)", ir_op2(&ir, IR_LSE, a, a, L)},
    {"lse(lse(a, b), lse(c, x)) (n-ary)",
     ir_expand(&ir, ir_op2(&ir, IR_LSE, ir_op2(&ir, IR_LSE, a, b, L), ir_op2(&ir, IR_LSE, c, x, L), L))},
    {"log_ndiff(a, exp(c))", ir_logndiff(&ir, 0, a, ir_op1(&ir, IR_EXP, c, L), L)},
    {"lgamma(b) - lgamma(b * exp(a) + 0.5)",
     ir_op2(&ir, IR_SUB, ir_op1(&ir, IR_LGAMMA, b, L),
            ir_op1(&ir, IR_LGAMMA, ir_op2(&ir, IR_ADD, ir_op2(&ir, IR_MUL, b, ir_op1(&ir, IR_EXP, a, L), L),
                                          ir_const(&ir, 0.5), L), L), L)},
    {"log_phidiff((1 - a) / exp(c), (2.5 - a) / exp(c))",
     ir_op2(&ir, IR_LOG_PHIDIFF,
            ir_op2(&ir, IR_DIV, ir_op2(&ir, IR_SUB, ir_const(&ir, 1), a, L), ir_op1(&ir, IR_EXP, c, L), L),
            ir_op2(&ir, IR_DIV, ir_op2(&ir, IR_SUB, ir_const(&ir, 2.5), a, L), ir_op1(&ir, IR_EXP, c, L), L), L)},
    {"log_phidiff(-inf, b - 2)",
     ir_op2(&ir, IR_LOG_PHIDIFF, ir_const(&ir, -INFINITY), ir_op2(&ir, IR_SUB, b, ir_const(&ir, 2), L), L)},
    {"normal(x | a, exp(c)) (expanded)",
     ir_expand(&ir, ir_op3(&ir, IR_NORMAL_LPDF, x, a, ir_op1(&ir, IR_EXP, c, L), L))},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    check_gradient(&ir, cases[i].e, th, cases[i].what);
  dc_ir_free(&ir);
}
END_TEST

/* The constructors' rewrites: a / e^c becomes a e^-c (a multiplication: within an ulp or two
** of the quotient), and signs and power-of-two factors are gathered (the same double, short of
** over- and underflow and the sign of a zero); the derivative pass's chains shrink to what
** they compute. */
START_TEST(test_rewrites)
{
  dc_ir ir;
  dc_ir_init(&ir);
  ir_node *a = ir_leaf(&ir, IR_PARAM, 0, -1, L), *b = ir_leaf(&ir, IR_PARAM, 1, -1, L),
          *c = ir_leaf(&ir, IR_PARAM, 2, -1, L);
  ir_node *q = ir_op2(&ir, IR_DIV, a, ir_op1(&ir, IR_EXP, c, L), L);
  ck_assert_int_eq(q->op, IR_MUL);
  ck_assert_int_eq(q->a[1]->op, IR_EXP);
  ck_assert_int_eq(q->a[1]->a[0]->op, IR_NEG);
  ir_node *inv = ir_op2(&ir, IR_DIV, ir_const(&ir, 1), ir_op1(&ir, IR_EXP, c, L), L);
  ck_assert_ptr_eq(inv, q->a[1]);   /* 1 / e^c is e^-c itself */
  ir_node *ab = ir_op2(&ir, IR_MUL, a, b, L);
  ck_assert_ptr_eq(ir_op2(&ir, IR_ADD, ab, ab, L), ir_op2(&ir, IR_MUL, ir_const(&ir, 2), ab, L));
  /* -0.5 * (a * -b + a * -b) = a b, the derivative pass's pattern */
  ir_node *t = ir_op2(&ir, IR_MUL, a, ir_op1(&ir, IR_NEG, b, L), L);
  ir_node *chain = ir_op2(&ir, IR_MUL, ir_const(&ir, -0.5), ir_op2(&ir, IR_ADD, t, t, L), L);
  ck_assert_ptr_eq(chain, ab);
  ck_assert_ptr_eq(ir_op2(&ir, IR_MUL, ir_op1(&ir, IR_NEG, a, L), ir_op1(&ir, IR_NEG, b, L), L), ab);
  ck_assert_ptr_eq(ir_op2(&ir, IR_SUB, a, ir_op1(&ir, IR_NEG, b, L), L), ir_op2(&ir, IR_ADD, a, b, L));
  ir_node *m3 = ir_op2(&ir, IR_MUL, ir_const(&ir, 3), ab, L);   /* 3 is no power of two: kept */
  ck_assert_ptr_eq(ir_op2(&ir, IR_MUL, ir_const(&ir, 0.1), m3, L)->a[1], m3);
  const double pts[][NP] = {{0.3, 1.7, -0.4}, {-2.5, 1e-3, 3.25}, {1e10, -7.5, 20}};
  for (size_t i = 0; i < sizeof pts / sizeof *pts; i++) {
    const double *th = pts[i];
    double want = th[0] / exp(th[2]), got = eval(q, th);
    ck_assert_msg(fabs(got - want) <= 4e-16 * fabs(want), "a / e^c: %.17g vs %.17g", got, want);
    ck_assert(eval(chain, th) == -0.5 * (th[0] * -th[1] + th[0] * -th[1]));
  }
  check_gradient(&ir, q, pts[0], "a / exp(c) as a exp(-c)");
  check_gradient(&ir, ir_op2(&ir, IR_SUB, ir_op1(&ir, IR_NEG, chain, L), m3, L), pts[0], "gathered signs");
  dc_ir_free(&ir);
}
END_TEST

/* Every n-ary term -inf but one: the shift is that term; all -inf: the sum is -inf. */
START_TEST(test_lse_n_values)
{
  dc_ir ir;
  dc_ir_init(&ir);
  ir_node *a = ir_leaf(&ir, IR_PARAM, 0, -1, L), *b = ir_leaf(&ir, IR_PARAM, 1, -1, L),
          *c = ir_leaf(&ir, IR_PARAM, 2, -1, L);
  ir_node *e = ir_expand(&ir, ir_op2(&ir, IR_LSE, ir_op2(&ir, IR_LSE, a, b, L), c, L));
  double th[NP] = {-INFINITY, 2, -INFINITY};
  ck_assert_double_eq_tol(eval(e, th), 2, 1e-15);
  th[1] = -INFINITY;
  ck_assert(eval(e, th) == -INFINITY);
  th[0] = 700, th[1] = 700, th[2] = 0;   /* no overflow: exp(700) twice is 2 exp(700) */
  ck_assert_double_eq_tol(eval(e, th), 700 + log(2), 1e-12);
  dc_ir_free(&ir);
}
END_TEST

/* Nodes reachable from the derivatives that are not reachable from the value. */
static size_t count(const ir_node *n, char *seen)
{
  if (seen[n->id] || n->op == IR_CONST || n->op == IR_PARAM || n->op == IR_DATA)
    return 0;
  seen[n->id] = 1;
  size_t k = 1;
  for (int i = 0; i < 3; i++)
    if (n->a[i])
      k += count(n->a[i], seen);
  return k;
}

/* A sum of K Gaussians in log space: the reverse derivatives take O(K) nodes (the binary
** chain of log-sum-exps took O(K^2)). */
START_TEST(test_linear_size)
{
  size_t per_term[2];
  static const int Ks[2] = {20, 200};
  for (int j = 0; j < 2; j++) {
    int K = Ks[j];
    dc_ir ir;
    dc_ir_init(&ir);
    ir_node *x = ir_leaf(&ir, IR_DATA, 0, -1, L), *sum = NULL;
    ir_node **leaf = calloc((size_t)K, sizeof *leaf), **d = calloc((size_t)K, sizeof *d);
    for (int i = 0; i < K; i++) {
      leaf[i] = ir_leaf(&ir, IR_PARAM, i, -1, L);
      ir_node *t = ir_op2(&ir, IR_MUL, leaf[i], ir_op2(&ir, IR_SUB, x, ir_const(&ir, i), L), L);
      sum = sum ? ir_op2(&ir, IR_LSE, sum, t, L) : t;
    }
    ir_node *e = ir_expand(&ir, sum);
    dc_reverse(&ir, e, leaf, (size_t)K, d);
    char *seen = calloc(ir.n_nodes + 1, 1);
    count(e, seen);
    size_t n = 0;
    for (int i = 0; i < K; i++) {
      ck_assert_ptr_nonnull(d[i]);
      n += count(d[i], seen);
    }
    per_term[j] = n / (size_t)K;
    ck_assert_msg(n <= 8 * (size_t)K, "K = %d: %zu derivative nodes", K, n);
    free(seen);
    free(leaf);
    free(d);
    dc_ir_free(&ir);
  }
  ck_assert_uint_eq(per_term[0], per_term[1]);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("deriv");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_each_operation);
  tcase_add_test(tc, test_rewrites);
  tcase_add_test(tc, test_lse_n_values);
  tcase_add_test(tc, test_linear_size);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
