/*
** tests/shared.h — Check tests that read the reference data of ../shared (configure
** --with-shared=DIR; SHARED_DIR) are not run when it is absent: each says so on a
** "SKIP: <test>: ..." line (scripts/test.sh lists them) and the others still run.
*/
#ifndef TESTS_SHARED_H
#define TESTS_SHARED_H

#include <stdio.h>
#include <unistd.h>

/* 1 if `path` can be read; otherwise prints the SKIP line of `test` and returns 0. */
static inline int shared_have(const char *test, const char *path)
{
  if (access(path, R_OK) == 0)
    return 1;
  printf("SKIP: %s: ../shared not found (configure --with-shared=DIR): cannot read %s\n", test, path);
  fflush(stdout);   /* before Check's own lines, which forked tests also write */
  return 0;
}

/* tcase_add_test for a test that reads `path` of the shared data: skipped without it.
   A macro because the type of a test changed across Check versions. */
#define shared_add_test(tc, test, path)       \
  do {                                        \
    if (shared_have(#test, (path)))           \
      tcase_add_test((tc), test);             \
  } while (0)

#endif
