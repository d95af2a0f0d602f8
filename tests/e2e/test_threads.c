/*
** test_threads.c — GD-1's generated code evaluated from two threads at once, each with
** its own work: every result bit-identical to one thread's.  Built with the generated C
** of models/gd1.dens included (its main renamed); scripts/tsan.sh runs it under
** ThreadSanitizer too.
*/
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define main densc_generated_main
#include GENERATED_C
#undef main

#define REPEAT 1000

static densrt_model *m;
static double theta[2][512], ref_lp[2], *ref_g[2], ref_li[2][8];

/* The catalogue, every row, no window: the rows only need to be the same for all threads. */
static void load(void)
{
  ck_assert_int_eq(densrt_model_alloc(&model, &m), 0);
  densrt_io_column want[2] = {{"gd1_phi1", -INFINITY, INFINITY}, {"gd1_phi2", -INFINITY, INFINITY}};
  densrt_io_table t;
  ck_assert_msg(densrt_io_read(SRCDIR "/data/gd1-gaiadr3-blog.fits", want, 2, DENSRT_IO_OUTSIDE_ERROR, &t) == 0, "%s",
                densrt_error_message());
  densrt_model_set_data(m, t.n_rows, t.cols);
  t.cols[0] = t.cols[1] = NULL;   /* the model's now */
  densrt_io_table_free(&t);
  ck_assert_msg(densrt_model_prepare(m) == 0, "%s", densrt_error_message());
  ck_assert(m->n_theta <= 512 && m->def->n_terms <= 8);
  /* two parameter points: the reference start and a perturbation of it */
  densrt_json *j;
  ck_assert_int_eq(densrt_json_parse_file(SRCDIR "/models/gd1-init.json", &j), 0);
  for (size_t p = 0; p < m->def->n_params; p++) {
    const densrt_json *v = densrt_json_member(j, m->def->params[p].name);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < m->size[p]; i++) {
      double x = v->type == DENSRT_JSON_ARRAY ? v->items[i].number : v->number;
      theta[0][m->off[p] + i] = x;
      theta[1][m->off[p] + i] = x + 0.01 * sin((double)(m->off[p] + i));
    }
  }
  densrt_json_free(j);
}

static int same_bits(const double *a, const double *b, size_t n)
{
  return memcmp(a, b, n * sizeof *a) == 0;
}

typedef struct {
  int mismatches;
} job;

static void *evaluate(void *arg)
{
  job *jb = arg;
  densrt_work *w;
  if (densrt_work_alloc(m, &w)) {
    jb->mismatches = -1;
    return NULL;
  }
  double *g = malloc(m->n_theta * sizeof *g);
  for (int r = 0; r < REPEAT; r++) {
    int k = r % 2;
    double lp = densrt_model_eval(m, w, theta[k], g);
    if (!same_bits(&lp, &ref_lp[k], 1) || !same_bits(g, ref_g[k], m->n_theta) ||
        !same_bits(w->log_integral, ref_li[k], m->def->n_terms))
      jb->mismatches++;
  }
  free(g);
  densrt_work_free(w);
  return NULL;
}

START_TEST(test_two_threads)
{
  load();
  for (int k = 0; k < 2; k++) {
    ref_g[k] = malloc(m->n_theta * sizeof *ref_g[k]);
    ref_lp[k] = densrt_model_log_density(m, theta[k], ref_g[k]);
    ck_assert(isfinite(ref_lp[k]));
    memcpy(ref_li[k], m->own->log_integral, m->def->n_terms * sizeof *ref_li[k]);
  }
  ck_assert(ref_lp[0] != ref_lp[1]);
  pthread_t th[2];
  job jobs[2] = {{0}, {0}};
  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, evaluate, &jobs[i]), 0);
  for (int i = 0; i < 2; i++)
    pthread_join(th[i], NULL);
  ck_assert_msg(jobs[0].mismatches == 0 && jobs[1].mismatches == 0, "mismatches: %d and %d of %d",
                jobs[0].mismatches, jobs[1].mismatches, REPEAT);
  for (int k = 0; k < 2; k++)
    free(ref_g[k]);
  densrt_model_free(m);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("threads");
  TCase *tc = tcase_create("gd1");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_two_threads);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
