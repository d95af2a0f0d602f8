/*
** main.c — the densc driver: parse -> check and lower to IR -> emit C ->
** compile.  Each stage can be dumped (--debug-tokens, --debug-ast,
** --debug-ir, --print-c).
**
** Exit status: 0 success, 1 errors in the model, 2 usage or file errors,
** 3 the C compiler failed (a densc bug).
*/
#include "config.h"
#include "ast.h"
#include "diag.h"
#include "emit.h"
#include "ir.h"
#include "parse.h"
#include "sema.h"
#include "toolchain.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  const char *input, *output, *emit_c, *cflags;
  int check_only, print_c, line_directives, verbose;
  int debug_tokens, debug_ast, debug_ir, print_config;
  const char *version;
} options;

static void usage(FILE *f)
{
  fputs("Usage: densc [OPTIONS] MODEL.dens\n"
        "Compile a density model into a program that evaluates and fits it.\n\n"
        "  -o PROG                 the program to write (default: MODEL without .dens)\n"
        "  --emit-c FILE           also write the generated C to FILE\n"
        "  --print-c               write the generated C to standard output; do not compile\n"
        "  --check                 only check the model\n"
        "  --no-line-directives    omit #line directives in the generated C\n"
        "  --cflags FLAGS          extra flags for the C compiler (also $DENSC_CFLAGS)\n"
        "  -v, --verbose           show the C compiler command\n"
        "  --debug-tokens, --debug-ast, --debug-ir\n"
        "                          dump a front-end stage to standard output\n"
        "  --print-config          the runtime include directory and library used\n"
        "  --snapshot-version      write 'VERSION' instead of the version (golden tests)\n"
        "  -h, --help              this help\n"
        "  --version               the version\n\n"
        "The C compiler is $CC (default cc). The program's own --help lists its commands.\n"
        "Exit status: 0 success, 1 errors in the model, 2 usage or file errors,\n"
        "3 the C compiler failed.\n",
        f);
}

static int parse_args(int argc, char **argv, options *o)
{
  memset(o, 0, sizeof *o);
  o->line_directives = 1;
  o->version = PACKAGE_VERSION;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **target = NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "--version")) {
      printf("densc %s\n", PACKAGE_VERSION);
      exit(0);
    } else if (!strcmp(a, "-o")) {
      target = &o->output;
    } else if (!strcmp(a, "--emit-c")) {
      target = &o->emit_c;
    } else if (!strcmp(a, "--cflags")) {
      target = &o->cflags;
    } else if (!strcmp(a, "--print-c")) {
      o->print_c = 1;
    } else if (!strcmp(a, "--check")) {
      o->check_only = 1;
    } else if (!strcmp(a, "--no-line-directives")) {
      o->line_directives = 0;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      o->verbose = 1;
    } else if (!strcmp(a, "--debug-tokens")) {
      o->debug_tokens = 1;
    } else if (!strcmp(a, "--debug-ast")) {
      o->debug_ast = 1;
    } else if (!strcmp(a, "--debug-ir")) {
      o->debug_ir = 1;
    } else if (!strcmp(a, "--print-config")) {
      o->print_config = 1;
    } else if (!strcmp(a, "--snapshot-version")) {
      o->version = "VERSION";
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "densc: unknown option '%s' (try 'densc --help')\n", a);
      return 2;
    } else if (o->input) {
      fprintf(stderr, "densc: only one model file can be compiled at a time ('%s' and '%s')\n", o->input, a);
      return 2;
    } else {
      o->input = a;
    }
    if (target) {
      if (i + 1 >= argc) {
        fprintf(stderr, "densc: option %s needs a value\n", a);
        return 2;
      }
      *target = argv[++i];
    }
  }
  if (o->print_config)
    return 0;
  if (!o->input) {
    fprintf(stderr, "densc: no model file given (try 'densc --help')\n");
    return 2;
  }
  return 0;
}

/* "dir/gd1.dens" -> "gd1" */
static char *stem(const char *path)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (n > 5 && !strcmp(base + n - 5, ".dens"))
    n -= 5;
  return dc_xstrndup(base, n);
}

static int write_c(dc_ir *ir, const dc_source *src, const options *o, const char *path, const char *c_name)
{
  char *name = stem(o->input);
  dc_emit_options eo = {name, o->input, c_name, o->line_directives, o->version};
  int rc = 0;
  if (!path) {
    rc = dc_emit(ir, src, &eo, stdout);
  } else {
    FILE *f = fopen(path, "w");
    if (!f) {
      fprintf(stderr, "densc: cannot write %s: %s\n", path, strerror(errno));
      free(name);
      return 2;
    }
    rc = dc_emit(ir, src, &eo, f);
    if (fclose(f) != 0)
      rc = 1;
    if (rc) {
      fprintf(stderr, "densc: cannot write %s\n", path);
      unlink(path);
      rc = 2;
    }
  }
  free(name);
  return rc;
}

static int compile(dc_ir *ir, const dc_source *src, const options *o)
{
  char *name = stem(o->input);
  char *out = o->output ? dc_xstrdup(o->output) : dc_xstrdup(name);
  char dir[] = "/tmp/densc-XXXXXX";
  int rc = 2;
  if (!mkdtemp(dir)) {
    fprintf(stderr, "densc: cannot create a temporary directory: %s\n", strerror(errno));
    goto done;
  }
  dc_buf c_path;
  dc_buf_init(&c_path);
  dc_buf_printf(&c_path, "%s/model.c", dir);
  const char *c_name = o->emit_c ? o->emit_c : "model.c";
  if ((rc = write_c(ir, src, o, c_path.s, c_name)) == 0) {
    rc = dc_compile_program(c_path.s, out, o->cflags, o->verbose);
    if (o->emit_c && rc == 0) {
      /* keep the C where the user asked, identical to what was compiled */
      rc = write_c(ir, src, o, o->emit_c, c_name);
    }
  }
  unlink(c_path.s);
  rmdir(dir);
  dc_buf_free(&c_path);
done:
  free(name);
  free(out);
  return rc;
}

int main(int argc, char **argv)
{
  options o;
  int rc = parse_args(argc, argv, &o);
  if (rc)
    return rc;
  if (o.print_config) {
    const char *inc, *lib;
    dc_runtime_paths(&inc, &lib);
    printf("include %s\nlibrary %s\n", inc, lib);
    return 0;
  }
  dc_source src;
  if ((rc = dc_source_load(&src, o.input)) != 0) {
    fprintf(stderr, "densc: cannot read %s: %s\n", o.input, strerror(rc));
    return 2;
  }
  dc_diag diag;
  dc_diag_init(&diag, &src, stderr);
  if (o.debug_tokens) {
    dc_dump_tokens(&src, &diag, stdout);
    dc_source_free(&src);
    return diag.n_errors ? 1 : 0;
  }

  ast_program prog = {0};
  dc_ir ir;
  dc_ir_init(&ir);
  dc_parse(&src, &diag, &prog);
  if (o.debug_ast)
    ast_dump(&prog, stdout);
  if (diag.n_errors == 0)
    dc_sema(&prog, &diag, &ir);
  if (diag.n_errors) {
    fprintf(stderr, "%s: %d error%s\n", o.input, diag.n_errors, diag.n_errors == 1 ? "" : "s");
    rc = 1;
  } else if (o.debug_ir) {
    dc_ir_dump(&ir, stdout);
  } else if (o.print_c) {
    rc = write_c(&ir, &src, &o, NULL, "model.c");
  } else if (!o.check_only && !o.debug_ast) {
    rc = compile(&ir, &src, &o);
  }
  dc_ir_free(&ir);
  ast_program_free(&prog);
  dc_source_free(&src);
  return rc;
}
