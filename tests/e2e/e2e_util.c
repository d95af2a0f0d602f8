/* e2e_util.c — see e2e_util.h */
#include "e2e_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char e2e_tmp[256];

int e2e_setup(void)
{
  snprintf(e2e_tmp, sizeof e2e_tmp, "/tmp/densc-e2e-XXXXXX");
  if (!mkdtemp(e2e_tmp))
    return 1;
  const char *models[] = {"gaussian1d", "spline1d"};
  for (int i = 0; i < 2; i++)
    if (e2e_run("%s %s/models/%s.dens -o %s/%s", DENSC, SRCDIR, models[i], e2e_tmp, models[i]) != 0) {
      fprintf(stderr, "densc failed on %s\n", models[i]);
      return 1;
    }
  return 0;
}

int e2e_finish(Suite *s)
{
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  e2e_run("rm -rf '%s'", e2e_tmp);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int e2e_run(const char *fmt, ...)
{
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

char *e2e_slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return strdup("");
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return strdup(buf);
}

int e2e_exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

densrt_json *e2e_load(const char *path)
{
  densrt_json *j = NULL;
  ck_assert_msg(densrt_json_parse_file(path, &j) == 0, "cannot parse %s", path);
  return j;
}

const densrt_json *e2e_member(const densrt_json *o, const char *k)
{
  const densrt_json *v = densrt_json_member(o, k);
  ck_assert_msg(v != NULL, "missing member '%s'", k);
  return v;
}

void e2e_compile(const char *name, const char *dens)
{
  char model[512];
  snprintf(model, sizeof model, "%s/%s.dens", e2e_tmp, name);
  FILE *f = fopen(model, "w");
  ck_assert_ptr_nonnull(f);
  fputs(dens, f);
  fclose(f);
  ck_assert_int_eq(e2e_run("%s %s -o %s/%s", DENSC, model, e2e_tmp, name), 0);
}
