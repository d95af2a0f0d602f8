/*
** e2e_util.h — helpers of the end-to-end tests: a scratch directory, shell commands,
** files and JSON results.  Failures inside go through Check's assertions.
*/
#ifndef E2E_UTIL_H
#define E2E_UTIL_H

#include <check.h>
#include "json.h"

extern char e2e_tmp[256];   /* scratch directory, removed by e2e_finish */

/* Creates the scratch directory and compiles the example models gaussian1d and spline1d
** into it (DENSC and SRCDIR name the compiler and the sources); nonzero on failure. */
int e2e_setup(void);
/* Runs every test of s, removes the scratch directory; the exit status of the test program. */
int e2e_finish(Suite *s);
/* Writes model text `dens` to the scratch directory as NAME.dens and compiles it to NAME. */
void e2e_compile(const char *name, const char *dens);
/* Runs a shell command line built printf-style; its exit status (128 when killed). */
int e2e_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The whole of a file (at most 64 KiB) as a new string; "" when it cannot be read. */
char *e2e_slurp(const char *path);
int e2e_exists(const char *path);
/* A parsed JSON file; the test fails if it does not parse. */
densrt_json *e2e_load(const char *path);
/* A member that must be there. */
const densrt_json *e2e_member(const densrt_json *o, const char *k);

#endif
