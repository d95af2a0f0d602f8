/*
** fuzz_frontend.c — libFuzzer harness for the .dens front end: scanner,
** parser, checker, IR and C emitter, run as densc runs them.
**
** The input is the model file.  It is handed to dc_source_load through a
** memfd, so embedded NUL bytes reach the scanner as they would from a file.
** Diagnostics and dumps go to /dev/null, the emitted C to a memory stream.
** Invariant checked (abort on violation): an accepted model emits C, with
** no NUL byte in it.  Whether that C compiles is checked outside the
** fuzzer, by scripts/fuzz-check-c.sh.
**
** Built with clang -fsanitize=fuzzer by scripts/fuzz.sh; replayed without
** libFuzzer by tests/fuzz/run-regressions.c in 'make check'.
*/
#define _GNU_SOURCE    /* memfd_create */
#include "ast.h"
#include "diag.h"
#include "emit.h"
#include "ir.h"
#include "parse.h"
#include "plan.h"
#include "sema.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *null_out;
static int memfd = -1;
static char memfd_path[64];

static void setup(void)
{
  null_out = fopen("/dev/null", "w");
  memfd = memfd_create("densc-fuzz-model", 0);
  if (!null_out || memfd < 0) {
    perror("fuzz_frontend: setup");
    abort();
  }
  snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
}

/* Makes the input the whole contents of the memfd. */
static void put_input(const uint8_t *data, size_t size)
{
  if (ftruncate(memfd, 0) != 0 || (size && pwrite(memfd, data, size, 0) != (ssize_t)size)) {
    perror("fuzz_frontend: memfd");
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!null_out)
    setup();
  put_input(data, size);
  dc_source src;
  if (dc_source_load(&src, memfd_path) != 0) {
    perror("fuzz_frontend: dc_source_load");
    abort();
  }
  src.path = "fuzz.dens";

  /* --debug-tokens */
  dc_diag tdiag;
  dc_diag_init(&tdiag, &src, null_out);
  dc_dump_tokens(&src, &tdiag, null_out);

  /* the pipeline of densc --print-c */
  dc_diag diag;
  dc_diag_init(&diag, &src, null_out);
  ast_program prog = {0};
  dc_ir ir;
  dc_ir_init(&ir);
  dc_parse(&src, &diag, &prog);
  ast_dump(&prog, null_out);
  if (diag.n_errors == 0)
    dc_sema(&prog, &diag, &ir);
  if (diag.n_errors == 0)
    dc_plan(&ir, &diag);
  if (diag.n_errors == 0) {
    dc_ir_dump(&ir, null_out);
    dc_plan_dump(&ir, null_out);
    dc_kernels ks;
    dc_kernels_form(&ir, &ks);
    dc_kernels_dump(&ir, &ks, 1, null_out);
    char *c = NULL;
    size_t c_len = 0;
    FILE *out = open_memstream(&c, &c_len);
    if (!out)
      abort();
    dc_emit_options eo = {"fuzz", "fuzz.dens", "model.c", 1, "VERSION"};
    int rc = dc_emit(&ir, &ks, &src, &eo, out);
    if (fclose(out) != 0 || rc != 0 || c_len == 0 || strlen(c) != c_len) {
      fprintf(stderr, "fuzz_frontend: an accepted model emitted no C or a NUL byte (rc %d)\n", rc);
      abort();
    }
    free(c);
    dc_kernels_free(&ks);
  }
  dc_ir_free(&ir);
  ast_program_free(&prog);
  dc_source_free(&src);
  return 0;
}
