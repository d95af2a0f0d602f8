/*
** test_frontend.c — lexer, parser and checker: every diagnostic, with its
** location, and the structure of accepted models.
*/
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"
#include "ir.h"
#include "parse.h"
#include "plan.h"
#include "sema.h"

/* Runs the front end on src; returns the diagnostics text (caller frees). */
static char *front_end(const char *src_text, int *n_errors, dc_ir *ir_out)
{
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  dc_source src;
  dc_source_from_string(&src, "m.dens", src_text);
  dc_diag diag;
  dc_diag_init(&diag, &src, out);
  ast_program prog = {0};
  dc_ir ir;
  dc_ir_init(&ir);
  dc_parse(&src, &diag, &prog);
  if (diag.n_errors == 0)
    dc_sema(&prog, &diag, &ir);
  if (diag.n_errors == 0)
    dc_plan(&ir, &diag);
  *n_errors = diag.n_errors;
  fclose(out);
  if (ir_out)
    *ir_out = ir;
  else
    dc_ir_free(&ir);
  ast_program_free(&prog);
  dc_source_free(&src);
  return text;
}

#define GOOD_HEAD "data { real z in [-3, 3]; }\n"

/* Each case: a model and a line its diagnostics must contain (the first error). */
static const struct {
  const char *src, *expect;
} bad[] = {
  /* lexer */
  {"data { real z; } @", "m.dens:1:18: error: unexpected character '@'"},
  {"data { real _z; }", "m.dens:1:13: error: names may not start with '_' (reserved for the compiler)"},
  {"data { real z; } /* open", "m.dens:1:18: error: unterminated comment"},
  {"data { real z in [0, 1e999]; }", "m.dens:1:22: error: number '1e999' is out of range"},
  {"data { real z; }\n\x01", "m.dens:2:1: error: unexpected byte 0x01"},
  /* parser */
  {"data { real z }", "m.dens:1:15: error: syntax error: unexpected '}', expected 'in', 'unit' or ';'"},
  {"data { real z;", "m.dens:1:14: error: syntax error: unexpected end of file, expected 'real' or '}' (to close 'data' block at line 1)"},
  {"data { real z; } data { real y; }", "m.dens:1:18: error: duplicate 'data' block"},
  {"data { real z; } parameters { real<lowr=0> a; }", "m.dens:1:36: error: unknown bound 'lowr': expected 'lower' or 'upper'"},
  {"data { real z; } parameters { real<lower=0, lower=1> a; }", "m.dens:1:45: error: duplicate 'lower' bound"},
  {"model { intensity = 1 +; }", "m.dens:1:24: error: syntax error: unexpected ';'"},
  /* checker: declarations */
  {"data { real z; real z; }", "m.dens:1:21: error: 'z' is already declared"},
  {"data { real exp; }", "m.dens:1:13: error: 'exp' is a built-in function and cannot be redeclared"},
  {"data { real z in [1, 0]; }", "m.dens:1:19: error: empty window: the lower bound must be below the upper bound"},
  {"data { real z in [a, 1]; }", "m.dens:1:19: error: a window bound must be a constant number"},
  {"data { real z in [log(0), 1]; }", "m.dens:1:19: error: a window bound is not a finite number"},
  {GOOD_HEAD "knots { k = linspace(0, 1, 1); }", "m.dens:2:28: error: the number of knots must be an integer >= 2"},
  {GOOD_HEAD "knots { k = linspace(0, 1, 20000); }", "m.dens:2:28: error: too many knots: 20000 (limit is 10000)"},
  {GOOD_HEAD "knots { k = linspace(0, 1); }", "m.dens:2:13: error: linspace() takes 3 arguments (start, stop, count), got 2"},
  {GOOD_HEAD "knots { k = [0, 2, 1]; }", "m.dens:2:20: error: knots must be strictly increasing: knot 3 (1) is not above knot 2 (2)"},
  {GOOD_HEAD "knots { k = [0]; }", "m.dens:2:13: error: a knot set needs at least 2 knots, got 1"},
  {GOOD_HEAD "knots { k = 3; }", "m.dens:2:13: error: a knot set is linspace(start, stop, count) or a list [t1, t2, ...]"},
  {GOOD_HEAD "parameters { vector[q] v; }", "m.dens:2:21: error: 'q' is not a knot set (knot sets must be declared before use)"},
  {GOOD_HEAD "parameters { vector[0] v; }", "m.dens:2:21: error: a vector size must be an integer >= 1"},
  {GOOD_HEAD "parameters { real<lower=1, upper=0> a; }", "m.dens:2:25: error: the lower bound must be below the upper bound"},
  /* checker: the model */
  {GOOD_HEAD "parameters { real a; }", "m.dens:1:1: error: the model does not define 'intensity' (model { intensity = ...; })"},
  {"parameters { real a; } model { intensity = exp(a); }", "m.dens:1:1: error: the model has no 'data' block (declare the columns: data { real x; })"},
  {GOOD_HEAD "model { intensity = 1; intensity = 2; }", "m.dens:2:24: error: 'intensity' is defined twice"},
  {GOOD_HEAD "model { intensity = exp(b); }", "m.dens:2:25: error: 'b' is not declared"},
  {GOOD_HEAD "model { intensity = foo(z); }", "m.dens:2:21: error: unknown function 'foo'"},
  {GOOD_HEAD "model { intensity = z(1); }", "m.dens:2:21: error: 'z' is a data column, not a function"},
  {GOOD_HEAD "model { intensity = exp(z, z); }", "m.dens:2:21: error: exp() takes 1 argument, got 2"},
  {GOOD_HEAD "model { intensity = normal(z, 0, 1); }", "m.dens:2:21: error: write the density as normal(x | mu, sigma)"},
  {GOOD_HEAD "model { intensity = exp(z | 1); }", "m.dens:2:21: error: '|' is only used in densities such as normal(x | mu, sigma)"},
  {GOOD_HEAD "model { intensity = exp(x = z); }", "m.dens:2:29: error: exp() takes no named arguments"},
  {GOOD_HEAD "model { intensity = linspace(0, 1, 2); }", "m.dens:2:21: error: linspace() is only allowed in the knots block"},
  {GOOD_HEAD "model { intensity = [1, 2]; }", "m.dens:2:21: error: lists are only allowed in the knots block"},
  {GOOD_HEAD "model { intensity = -1; }", "m.dens:2:21: error: an intensity factor must be positive (got -1)"},
  {GOOD_HEAD "model { component c = c; intensity = c; }", "error: component 'c' is defined in terms of itself"},
  {GOOD_HEAD "parameters { vector[3] v; } model { intensity = exp(v); }", "m.dens:2:53: error: 'v' is a vector: index it (v[1]) or pass it to spline()"},
  {GOOD_HEAD "parameters { vector[3] v; } model { intensity = exp(v[4]); }", "m.dens:2:55: error: index 4 is out of range: 'v' has 3 elements"},
  {GOOD_HEAD "parameters { real a; } model { intensity = exp(a[1]); }", "m.dens:2:48: error: 'a' is not a vector parameter"},
  {GOOD_HEAD "knots { k = linspace(-3, 3, 5); } model { intensity = exp(k); }", "m.dens:2:59: error: knot set 'k' can only be the first argument of a spline"},
  {GOOD_HEAD "knots { k = linspace(-3, 3, 5); } parameters { vector[k] v; } model { intensity = exp(spline(v, v, z)); }", "error: the first argument of spline() must be a knot set"},
  {GOOD_HEAD "knots { k = linspace(-3, 3, 5); } parameters { real a; } model { intensity = exp(spline(k, a, z)); }", "error: the second argument of spline() must be a vector parameter"},
  {GOOD_HEAD "knots { k = linspace(-3, 3, 5); j = linspace(-3, 3, 6); } parameters { vector[j] v; } model { intensity = exp(spline(k, v, z)); }", "error: 'v' must be declared vector[k] to hold the values at the knots of 'k'"},
  {GOOD_HEAD "knots { k = linspace(-3, 3, 3); } parameters { vector[k] v; } model { intensity = exp(spline(k, v, z)); }", "error: a not-a-knot cubic spline needs at least 4 knots; 'k' has 3"},
  {GOOD_HEAD "knots { k = linspace(-3, 3, 5); } parameters { vector[k] v; real a; } model { intensity = exp(spline(k, v, a)); }", "error: the spline abscissa cannot depend on parameters"},
  {GOOD_HEAD "knots { k = linspace(-3, 3, 5); } parameters { vector[k] v; } model { intensity = exp(spline(k, v, 1)); }", "error: the spline abscissa must depend on a data column"},
  {GOOD_HEAD "model { intensity = 1; integrate y with auto; }", "m.dens:2:34: error: 'y' is not a data column"},
  {GOOD_HEAD "model { intensity = 1; integrate z with auto; integrate z with auto; }", "error: the integration of 'z' is already set"},
  {GOOD_HEAD "model { intensity = 1; integrate z with midpoint; }", "error: unknown integration method: expected auto, analytic, gauss_legendre(order = N), simpson(points = N) or simpson(step = h)"},
  {GOOD_HEAD "model { intensity = 1; integrate z with simpson(points = 1024); }", "error: method 'simpson(points = 1024)': Simpson's rule needs an odd number of points (got 1024; use 1023 or 1025)"},
  {GOOD_HEAD "model { intensity = 1; integrate z with simpson(points = 5, step = 0.1); }", "error: method 'simpson(points = 5, step = 0.1)': simpson() takes exactly one of points = N or step = h"},
  {GOOD_HEAD "model { intensity = 1; integrate z with simpson(width = 2); }", "error: unknown argument 'width' of simpson(): expected points, step"},
  {GOOD_HEAD "model { intensity = 1; integrate z with gauss_legendre(8); }", "error: name the argument: gauss_legendre(order = ...)"},
  {GOOD_HEAD "model { intensity = 1; integrate z with gauss_legendre(order = 2000); }", "error: method 'gauss_legendre(order = 2000)': the Gauss-Legendre order must be at most 1024"},
  {GOOD_HEAD "model { intensity = 1; integrate z with simpson(step = -1); }", "error: method 'simpson(step = -1)': the Simpson step must be positive"},
  {GOOD_HEAD "parameters { real a; } model { intensity = exp(a + z); integrate z with analytic; }", "error: 'term1' cannot be integrated analytically over 'z'"},
  {"data { real z; } parameters { real a; } model { intensity = exp(a); }", "error: the integral of 'term1' diverges: it does not depend on 'z', whose window is unbounded"},
  {"data { real z; } knots { k = linspace(-3, 3, 5); } parameters { vector[k] v; } model { intensity = exp(spline(k, v, z)); }", "error: the integral of 'term1' diverges: a spline along 'z' is extrapolated over an unbounded window"},
  {"data { real z; } parameters { real a; } model { intensity = exp(a * z); }", "error: cannot integrate 'term1' over the unbounded window of 'z'"},
  /* checker: priors */
  {GOOD_HEAD "parameters { real a; } model { intensity = exp(a); } priors { z ~ normal(0, 1); }", "error: the left of '~' must be a parameter, an element or a slice"},
  {GOOD_HEAD "parameters { real a; } model { intensity = exp(a); } priors { a ~ exp(1); }", "error: the right of '~' must be a distribution: normal, student_t, cauchy"},
  {GOOD_HEAD "parameters { real a; } model { intensity = exp(a); } priors { a ~ normal(a | 0, 1); }", "error: in priors write 'a ~ normal(mu, sigma)', without '|'"},
  {GOOD_HEAD "parameters { real a; } model { intensity = exp(a); } priors { a ~ normal(0); }", "error: normal() in a prior takes 2 arguments (mu, sigma), got 1"},
  {GOOD_HEAD "parameters { real a; } model { intensity = exp(a); } priors { a ~ normal(z, 1); }", "error: data column 'z' cannot appear in a prior"},
  {GOOD_HEAD "parameters { vector[2] a; vector[3] b; } model { intensity = exp(a[1]); } priors { a ~ normal(b, 1); }", "error: 'b' has 3 elements here but the left of '~' has 2"},
  {GOOD_HEAD "parameters { real a; } model { component c = exp(a); intensity = c; } priors { a ~ normal(c, 1); }", "error: component 'c' cannot appear in a prior"},
  {GOOD_HEAD "parameters { vector[4] v; } model { intensity = exp(v[1]); } priors { v[2:end] ~ normal(v[1:end], 1); }", "error: 'v' has 4 elements here but the left of '~' has 3"},
  {GOOD_HEAD "parameters { vector[4] v; } model { intensity = exp(v[1]); } priors { v[2:5] ~ normal(0, 1); }", "error: the slice ends after the last element of 'v'"},
  {GOOD_HEAD "parameters { vector[4] v; } model { intensity = exp(v[1]); } priors { v[end:end] ~ normal(0, 1); }", "error: the start of a slice must be a constant"},
  {GOOD_HEAD "parameters { vector[4] v; } model { intensity = exp(v[1]); } priors { v[3:2] ~ normal(0, 1); }", "error: the slice of 'v' is empty"},
  {GOOD_HEAD "knots { k = linspace(0, 1, 5); } parameters { vector[k] v; } model { intensity = exp(v[1]); } priors { v[1:4] ~ normal(0, 1); }", "error: 'v' is sized by a knot set: end the slice with 'end' or 'end - k'"},
  {GOOD_HEAD "parameters { vector[4] v; } model { intensity = exp(v[2:3]); }", "error: slices are only allowed in priors on vectors"},
  {GOOD_HEAD "parameters { vector[4] v; } model { intensity = exp(v[1]); } priors { v[2:end - 0.5] ~ normal(0, 1); }", "error: the offset from 'end' must be an integer >= 0"},
  {GOOD_HEAD "parameters { vector[4] v; } model { intensity = exp(v[1]); } priors { v[1:end - 1e57] ~ normal(0, 1); }", "error: the offset from 'end' must be an integer >= 0"},
  {GOOD_HEAD "knots { k = linspace(-3, 3, 5); } parameters { vector[k] v; real a; } model { intensity = exp(a + spline(k, v, z)); } priors { a ~ normal(spline(k, v, z), 1); }", "error: splines cannot appear in priors"},
  {GOOD_HEAD "parameters { real a; } model { intensity = exp(a); } priors { a ~ normal(normal(a | 0, 1), 1); }", "error: in priors write 'x ~ normal(mu, sigma)'"},
};

START_TEST(test_bad_model)
{
  int n;
  char *out = front_end(bad[_i].src, &n, NULL);
  ck_assert_msg(n > 0, "case %d accepted:\n%s", _i, bad[_i].src);
  ck_assert_msg(strstr(out, bad[_i].expect) != NULL, "case %d: expected\n  %s\ngot\n%s", _i, bad[_i].expect, out);
  free(out);
}
END_TEST

/* Absurd nesting is an error, never a stack overflow in a later stage. */
START_TEST(test_nesting_limits)
{
  size_t n = 300000;
  char *src = malloc(n * 4 + 200);
  strcpy(src, "data { real z in [0, 1]; }\nparameters { real a; }\nmodel { intensity = exp(a");
  char *p = src + strlen(src);
  for (size_t i = 0; i < n / 4; i++, p += 4)
    memcpy(p, " + z", 4);
  strcpy(p, "); }\n");
  int errors;
  char *out = front_end(src, &errors, NULL);
  ck_assert_int_eq(errors, 1);
  ck_assert_msg(strstr(out, "m.dens:3:25: error: expression nested too deeply (limit is 1000 levels)"), "%s", out);
  free(out);
  strcpy(src, "data { real z in [0, 1]; }\nparameters { real a; }\nmodel { intensity = exp(");
  p = src + strlen(src);
  memset(p, '(', 20000);
  p[20000] = 'a';
  memset(p + 20001, ')', 20000);
  strcpy(p + 40001, "); }\n");
  out = front_end(src, &errors, NULL);
  ck_assert_int_eq(errors, 1);
  ck_assert_msg(strstr(out, "error: expression nested too deeply (limit is "), "%s", out);
  free(out);
  /* declaration limits are named */
  p = src + sprintf(src, "data {");
  for (int i = 0; i < 33; i++)
    p += sprintf(p, " real c%d in [0, 1];", i);
  sprintf(p, " }\nmodel { intensity = 1; }\n");
  out = front_end(src, &errors, NULL);
  ck_assert_msg(strstr(out, "error: too many data columns (limit is 32)"), "%s", out);
  free(out);
  /* parameter declarations have no limit (it was 64: a 64-bit dependence mask) */
  p = src + sprintf(src, "data { real z in [0, 1]; }\nparameters {");
  for (int i = 0; i < 300; i++)
    p += sprintf(p, " real p%d;", i);
  p += sprintf(p, " }\nmodel { intensity = exp(p0");
  for (int i = 1; i < 300; i++)
    p += sprintf(p, " + p%d", i);
  sprintf(p, "); }\n");
  out = front_end(src, &errors, NULL);
  ck_assert_msg(errors == 0 && !strstr(out, "limit"), "%s", out);
  free(out);
  free(src);
}
END_TEST

START_TEST(test_unused_warnings)
{
  int n;
  char *out = front_end("data { real z in [0, 1]; }\nknots { k = linspace(0, 1, 5); j = [0, 1]; }\n"
                        "parameters { real a; real unused; vector[k] v; }\n"
                        "model { component c = exp(a); component spare = exp(a + z); "
                        "intensity = c * exp(spline(k, v, z)); }\n",
                        &n, NULL);
  ck_assert_int_eq(n, 0);   /* warnings are not errors */
  ck_assert_msg(strstr(out, "m.dens:3:27: warning: parameter 'unused' is not used"), "%s", out);
  ck_assert_msg(strstr(out, "m.dens:2:32: warning: knot set 'j' is not used"), "%s", out);
  ck_assert_msg(strstr(out, "m.dens:4:41: warning: component 'spare' is not part of the intensity"), "%s", out);
  ck_assert(!strstr(out, "'c'") && !strstr(out, "'a'") && !strstr(out, "'k'") && !strstr(out, "'v'"));
  free(out);
}
END_TEST

START_TEST(test_caret_and_source_line)
{
  int n;
  char *out = front_end("data { real z; }\nmodel { intensity = exp(bogus); }\n", &n, NULL);
  ck_assert_str_eq(out, "m.dens:2:25: error: 'bogus' is not declared\n"
                        "    model { intensity = exp(bogus); }\n"
                        "                            ^~~~~\n");
  free(out);
}
END_TEST

START_TEST(test_several_errors_reported)
{
  int n;
  char *out = front_end("data { real z; real z; }\nparameters { vector[0] v; real y; real y; }\n"
                        "model { intensity = exp(q); }\n", &n, NULL);
  ck_assert_int_ge(n, 4);
  free(out);
  /* syntax errors recover at ';' and '}' */
  out = front_end("data { real z; real; }\nparameters { real a b; real c; }\nmodel { intensity = ; }\n", &n, NULL);
  ck_assert_int_eq(n, 3);
  free(out);
}
END_TEST

START_TEST(test_good_models_structure)
{
  int n;
  dc_ir ir;
  char *out = front_end("data { real phi1 in [-100, 20]; real phi2 in [-7, 5]; }\n"
                        "knots { k = linspace(-110, 30, 17); b = [-120, -60, 0, 40]; }\n"
                        "parameters { vector[k] a; vector[k] m; vector[k] s; vector[b] bg; real<lower=0> w; }\n"
                        "model {\n"
                        "  component stream = exp(spline(k, a, phi1)) * normal(phi2 | spline(k, m, phi1), exp(spline(k, s, phi1)));\n"
                        "  component bkg = w * exp(spline(b, bg, phi1));\n"
                        "  intensity = stream + bkg;\n"
                        "}\n"
                        "priors { a ~ normal(0, 5); w ~ normal(1, 1); }\n",
                        &n, &ir);
  ck_assert_msg(n == 0, "%s", out);
  ck_assert_int_eq(ir.n_dims, 2);
  ck_assert_int_eq(ir.n_knots, 2);
  ck_assert_int_eq(ir.n_params, 5);
  ck_assert_int_eq(ir.n_cs, 4);
  ck_assert_int_eq(ir.n_terms, 2);
  ck_assert_str_eq(ir.terms[0].name, "stream");
  ck_assert_str_eq(ir.terms[1].name, "bkg");
  /* the stream is a Gaussian in phi2: analytic there, quadrature in phi1 */
  ck_assert_uint_eq(ir.terms[0].analytic, 2u);
  ck_assert_uint_eq(ir.terms[0].exact.numeric, 1u);
  ck_assert_uint_eq(ir.terms[0].numeric.numeric, 3u);
  /* the background does not depend on phi2: times its window, quadrature in phi1 */
  ck_assert_uint_eq(ir.terms[1].analytic, 0u);
  ck_assert_uint_eq(ir.terms[1].exact.numeric, 1u);
  /* breakpoints along phi1 are the knots of the splines used */
  ck_assert_uint_eq(ir.terms[0].brk_knots[0], 1u);
  ck_assert_uint_eq(ir.terms[1].brk_knots[0], 2u);
  ck_assert_str_eq(ir.knots[0].spec, "linspace(-110, 30, 17)");
  ck_assert_str_eq(ir.knots[1].spec, "[-120, -60, 0, 40]");
  ck_assert(ir.params[4].lo == 0);
  ck_assert_int_eq(ir.n_priors, 2);
  dc_ir_free(&ir);
  free(out);
}
END_TEST

START_TEST(test_log_space_lowering)
{
  int n;
  dc_ir ir;
  char *out = front_end("data { real z; }\nparameters { real a; real m; real s; }\n"
                        "model { intensity = exp(a) * normal(z | m, exp(s)); }\n",
                        &n, &ir);
  ck_assert_msg(n == 0, "%s", out);
  /* log(exp(a) * N) = a + log N: no exp() survives at the top */
  ir_node *l = ir.terms[0].logn;
  ck_assert_int_eq(l->op, IR_ADD);
  ck_assert_int_eq(l->a[0]->op, IR_PARAM);
  ck_assert_int_eq(l->a[1]->op, IR_NORMAL_LPDF);
  /* the analytic integral over the real line: a + log(Phi(inf) - Phi(-inf)) */
  ck_assert_uint_eq(ir.terms[0].analytic, 1u);
  ck_assert_int_eq(ir.terms[0].exact.integrand->a[1]->op, IR_LOG_NDIFF);
  dc_ir_free(&ir);
  free(out);
}
END_TEST

START_TEST(test_hash_consing)
{
  int n;
  dc_ir ir;
  char *out = front_end("data { real z in [0, 1]; }\nparameters { real a; }\n"
                        "model { component c = exp(a * z) * exp(a * z); intensity = c; }\n",
                        &n, &ir);
  ck_assert_msg(n == 0, "%s", out);
  ir_node *l = ir.terms[0].logn;   /* a*z + a*z: one shared node, so that the sum is 2 (a*z) */
  ck_assert_int_eq(l->op, IR_MUL);
  ck_assert_int_eq(l->a[0]->op, IR_CONST);
  ck_assert(l->a[0]->value == 2);
  ck_assert_int_eq(l->a[1]->op, IR_MUL);
  dc_ir_free(&ir);
  free(out);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("frontend");
  TCase *tc = tcase_create("diagnostics");
  tcase_add_loop_test(tc, test_bad_model, 0, (int)(sizeof bad / sizeof *bad));
  tcase_add_test(tc, test_caret_and_source_line);
  tcase_add_test(tc, test_nesting_limits);
  tcase_add_test(tc, test_unused_warnings);
  tcase_add_test(tc, test_several_errors_reported);
  suite_add_tcase(s, tc);
  TCase *tg = tcase_create("structure");
  tcase_add_test(tg, test_good_models_structure);
  tcase_add_test(tg, test_log_space_lowering);
  tcase_add_test(tg, test_hash_consing);
  suite_add_tcase(s, tg);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
