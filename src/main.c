/*
** main.c — the densc driver: parse -> check and lower to IR (sema) -> plan
** the integrals -> form the kernels and differentiate them -> print C ->
** compile.  Each stage can be dumped (--debug-tokens, --debug-ast,
** --debug-ir, --debug-plan, --debug-kernels, --debug-grad, --print-c).
**
** Exit status: 0 success; 1 errors in the model; 2 usage or file errors (bad
** options, an unreadable or too long model, an output that would replace the
** model or is not a regular file, a failed write, also on standard output);
** 3 the C compiler could not be run or failed (or densc ran out of memory);
** 128+N stopped by signal N (SIGINT, SIGTERM, SIGHUP: 130, 143, 129), leaving
** no temporary file and no program.  Nothing is written unless all went well.
*/
#include "config.h"
#include "ast.h"
#include "diag.h"
#include "emit.h"
#include "ir.h"
#include "kernel.h"
#include "parse.h"
#include "plan.h"
#include "sema.h"
#include "toolchain.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest --max-source-bytes: the scanner takes the length as an int. */
#define MAX_SOURCE_LIMIT ((size_t)1 << 30)

typedef struct {
  const char *input, *output, *emit_c, *cflags;
  int check_only, print_c, line_directives, verbose, portable;
  int debug_tokens, debug_ast, debug_ir, debug_plan, debug_kernels, debug_grad, print_config;
  size_t max_source_bytes;
  const char *version;
} options;

static void usage(FILE *f)
{
  fprintf(f,
          "Usage: densc [OPTIONS] MODEL.dens\n"
          "Compile a density model into a program that evaluates and fits it.\n"
          "\n"
          "Options:\n"
          "  -o, --output=PROG         the program to write (default: MODEL without .dens,\n"
          "                            in the current directory)\n"
          "      --emit-c=FILE         also write the generated C to FILE\n"
          "      --print-c             write the generated C to standard output; do not compile\n"
          "      --check               only check the model\n"
          "      --no-line-directives  omit #line directives in the generated C\n"
          "      --cflags=FLAGS        extra flags for the C compiler\n"
          "      --portable            a program for any machine of this architecture (without\n"
          "                            -march=native: slower data loops)\n"
          "      --max-source-bytes=N  refuse a model longer than N bytes (default %zu)\n"
          "  -v, --verbose             show the C compiler command\n"
          "      --debug-tokens        write the tokens to standard output\n"
          "      --debug-ast           write the syntax tree to standard output\n"
          "      --debug-ir            write the checked IR to standard output\n"
          "      --debug-plan          write each term's integration plans to standard output\n"
          "      --debug-kernels       write the kernels (point loops, prelude, priors)\n"
          "      --debug-grad          write the kernels with their derivatives\n"
          "      --print-config        the runtime include directory and library used\n"
          "      --snapshot-version    write 'VERSION' instead of the version (golden tests)\n"
          "  -h, --help                display this help and exit\n"
          "      --version             output version information and exit\n"
          "\n"
          "The program and the file of --emit-c are written to a temporary file and renamed,\n"
          "never over the model itself or over anything but a regular file.  The program's\n"
          "own --help lists its commands.\n"
          "\n"
          "Environment:\n"
          "  CC                        the C compiler (default cc)\n"
          "  DENSC_CFLAGS              extra flags for the C compiler, before --cflags\n"
          "  TMPDIR                    where the generated C is compiled (default /tmp)\n"
          "\n"
          "Exit status:\n"
          "  0    success\n"
          "  1    errors in the model\n"
          "  2    usage or file errors, including a failed write on standard output\n"
          "  3    the C compiler could not be run or failed\n"
          "  130  interrupted (128 + the signal's number); nothing is left behind\n",
          DC_MAX_SOURCE_BYTES);
}

enum {
  OPT_EMIT_C = 256, OPT_PRINT_C, OPT_CHECK, OPT_NO_LINE, OPT_CFLAGS, OPT_PORTABLE, OPT_MAX_SOURCE,
  OPT_DEBUG_TOKENS, OPT_DEBUG_AST, OPT_DEBUG_IR, OPT_DEBUG_PLAN, OPT_DEBUG_KERNELS, OPT_DEBUG_GRAD, OPT_PRINT_CONFIG, OPT_SNAPSHOT, OPT_VERSION
};

static const struct option long_options[] = {
  {"output", required_argument, NULL, 'o'},
  {"emit-c", required_argument, NULL, OPT_EMIT_C},
  {"print-c", no_argument, NULL, OPT_PRINT_C},
  {"check", no_argument, NULL, OPT_CHECK},
  {"no-line-directives", no_argument, NULL, OPT_NO_LINE},
  {"cflags", required_argument, NULL, OPT_CFLAGS},
  {"portable", no_argument, NULL, OPT_PORTABLE},
  {"max-source-bytes", required_argument, NULL, OPT_MAX_SOURCE},
  {"verbose", no_argument, NULL, 'v'},
  {"debug-tokens", no_argument, NULL, OPT_DEBUG_TOKENS},
  {"debug-ast", no_argument, NULL, OPT_DEBUG_AST},
  {"debug-ir", no_argument, NULL, OPT_DEBUG_IR},
  {"debug-plan", no_argument, NULL, OPT_DEBUG_PLAN},
  {"debug-kernels", no_argument, NULL, OPT_DEBUG_KERNELS},
  {"debug-grad", no_argument, NULL, OPT_DEBUG_GRAD},
  {"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
  {"snapshot-version", no_argument, NULL, OPT_SNAPSHOT},
  {"help", no_argument, NULL, 'h'},
  {"version", no_argument, NULL, OPT_VERSION},
  {NULL, 0, NULL, 0}
};

/* The option as the user wrote it, for messages: "--emit-c" of "--emit-c=x", or "-o". */
static void option_text(char *out, size_t n, const char *arg, int opt)
{
  if (arg && arg[0] == '-' && arg[1] == '-') {
    size_t len = strcspn(arg, "=");
    snprintf(out, n, "%.*s", (int)(len < 64 ? len : 64), arg);
  } else {
    snprintf(out, n, "-%c", opt > 0 && opt < 256 ? opt : '?');
  }
}

static int parse_size(const char *s, size_t *out)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || *end || errno || v < 1 || v > MAX_SOURCE_LIMIT)
    return -1;
  *out = (size_t)v;
  return 0;
}

static int set_input(options *o, const char *path)
{
  if (o->input) {
    fprintf(stderr, "densc: only one model file can be compiled at a time ('%s' and '%s')\n", o->input, path);
    return 2;
  }
  o->input = path;
  return 0;
}

/* 0: go on; -1: done (--help, --version), exit 0; otherwise the exit status. */
static int parse_args(int argc, char **argv, options *o)
{
  memset(o, 0, sizeof *o);
  o->line_directives = 1;
  o->version = PACKAGE_VERSION;
  o->max_source_bytes = DC_MAX_SOURCE_BYTES;
  opterr = 0;   /* our own messages, with a pointer to --help */
  int c;
  char name[80];
  /* '-': the model comes back as option 1 wherever it is, even with POSIXLY_CORRECT set */
  while ((c = getopt_long(argc, argv, "-:ho:v", long_options, NULL)) != -1) {
    switch (c) {
    case 1:
      if (set_input(o, optarg) != 0)
        return 2;
      break;
    case 'h':
      usage(stdout);
      return -1;
    case OPT_VERSION:
      printf("densc %s\n", PACKAGE_VERSION);
      return -1;
    case 'o':
    case OPT_EMIT_C:
      if (!*optarg) {
        fprintf(stderr, "densc: option %s needs a file name\n", c == 'o' ? "-o" : "--emit-c");
        return 2;
      }
      *(c == 'o' ? &o->output : &o->emit_c) = optarg;
      break;
    case OPT_CFLAGS:
      o->cflags = optarg;
      break;
    case OPT_MAX_SOURCE:
      if (parse_size(optarg, &o->max_source_bytes) != 0) {
        fprintf(stderr, "densc: --max-source-bytes: expected a number of bytes from 1 to %zu, got '%s'\n",
                MAX_SOURCE_LIMIT, optarg);
        return 2;
      }
      break;
    case OPT_PRINT_C: o->print_c = 1; break;
    case OPT_PORTABLE: o->portable = 1; break;
    case OPT_CHECK: o->check_only = 1; break;
    case OPT_NO_LINE: o->line_directives = 0; break;
    case 'v': o->verbose = 1; break;
    case OPT_DEBUG_TOKENS: o->debug_tokens = 1; break;
    case OPT_DEBUG_AST: o->debug_ast = 1; break;
    case OPT_DEBUG_IR: o->debug_ir = 1; break;
    case OPT_DEBUG_PLAN: o->debug_plan = 1; break;
    case OPT_DEBUG_KERNELS: o->debug_kernels = 1; break;
    case OPT_DEBUG_GRAD: o->debug_grad = 1; break;
    case OPT_PRINT_CONFIG: o->print_config = 1; break;
    case OPT_SNAPSHOT: o->version = "VERSION"; break;
    case ':':
      option_text(name, sizeof name, argv[optind - 1], optopt);
      fprintf(stderr, "densc: option %s needs a value\n", name);
      return 2;
    default:
      /* '?': unknown, ambiguous, or a value given to an option that takes none */
      option_text(name, sizeof name, argv[optind - 1], optopt);
      if (optopt >= 256 || (optopt > 0 && strchr(argv[optind - 1], '=')))
        fprintf(stderr, "densc: option %s takes no value (try 'densc --help')\n", name);
      else
        fprintf(stderr, "densc: unknown option '%s' (try 'densc --help')\n", name);
      return 2;
    }
  }
  for (; optind < argc; optind++) {   /* after "--" */
    if (set_input(o, argv[optind]) != 0)
      return 2;
  }
  if (o->print_config)
    return 0;
  if (!o->input) {
    fprintf(stderr, "densc: no model file given (try 'densc --help')\n");
    return 2;
  }
  return 0;
}

/* "dir/gd1.dens" -> "gd1" (also the default name of the program); *named says whether
** the name ended in .dens, without which the stem would be the model's own name. */
static char *stem(const char *path, int *named)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  int dens = n > 5 && !strcmp(base + n - 5, ".dens");
  if (named)
    *named = dens;
  return dc_xstrndup(base, dens ? n - 5 : n);
}

/* Whether a and b name one file: the same inode if both exist, else the same name in the
** same directory (a hard link or a second path to the model must not be written over). */
static int same_file(const char *a, const char *b)
{
  struct stat sa, sb;
  int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
  if (ea || eb)
    return ea && eb && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  const char *na = strrchr(a, '/'), *nb = strrchr(b, '/');
  na = na ? na + 1 : a;
  nb = nb ? nb + 1 : b;
  if (strcmp(na, nb) != 0)
    return 0;
  char *da = na > a ? dc_xstrndup(a, (size_t)(na - a)) : dc_xstrdup(".");
  char *db = nb > b ? dc_xstrndup(b, (size_t)(nb - b)) : dc_xstrdup(".");
  int same = stat(da, &sa) == 0 && stat(db, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  free(da);
  free(db);
  return same;
}

/* The program's path, or NULL after a message when it is missing or would clobber the model. */
static char *program_path(const options *o)
{
  int named = 1;
  char *out = o->output ? dc_xstrdup(o->output) : stem(o->input, &named);
  if (!named) {
    fprintf(stderr, "densc: %s does not end in .dens, so the program needs a name: give it with -o\n",
            o->input);
    free(out);
    return NULL;
  }
  int clash = 1;
  if (same_file(out, o->input))
    fprintf(stderr, "densc: the program %s would replace the model %s; nothing written\n", out, o->input);
  else if (o->emit_c && same_file(o->emit_c, o->input))
    fprintf(stderr, "densc: --emit-c %s would replace the model %s; nothing written\n", o->emit_c, o->input);
  else if (o->emit_c && same_file(o->emit_c, out))
    fprintf(stderr, "densc: -o and --emit-c name the same file %s; nothing written\n", o->emit_c);
  else
    clash = 0;
  if (clash) {
    free(out);
    return NULL;
  }
  return out;
}

/* The generated C, in memory, so that what is kept with --emit-c is what was compiled. */
static int emit_text(dc_ir *ir, const dc_kernels *ks, const dc_source *src, const options *o, const char *c_name,
                     char **text, size_t *len)
{
  char *name = stem(o->input, NULL);
  dc_emit_options eo = {name, o->input, c_name, o->line_directives, o->version};
  *text = NULL;
  *len = 0;
  FILE *f = open_memstream(text, len);
  if (!f) {
    fprintf(stderr, "densc: cannot hold the generated C: %s\n", strerror(errno));
    free(name);
    return 2;
  }
  int rc = dc_emit(ir, ks, src, &eo, f);
  if (fclose(f) != 0 && !rc)
    rc = 2;
  free(name);
  if (rc) {
    fprintf(stderr, "densc: cannot generate the C\n");
    free(*text);
    *text = NULL;
    return 2;
  }
  return 0;
}

/* Every output goes to a temporary file first; the program is renamed into place last, so
** an error anywhere (or a signal) leaves no program and nothing half-written.  The C of
** --emit-c lands once the compiler has run, also when it failed. */
static int compile(dc_ir *ir, const dc_kernels *ks, const dc_source *src, const options *o)
{
  char *out = program_path(o);
  if (!out)
    return 2;
  char *text = NULL, *dir = NULL, *c_path = NULL, *emit_tmp = NULL, *prog_tmp = NULL;
  size_t len;
  int rc = emit_text(ir, ks, src, o, o->emit_c ? o->emit_c : "model.c", &text, &len);
  if (rc)
    goto done;
  rc = 2;
  if (!(dir = dc_temp_dir()))
    goto done;
  dc_buf b;
  dc_buf_init(&b);
  dc_buf_printf(&b, "%s/model.c", dir);
  char *c_name = dc_buf_take(&b);
  c_path = dc_temp_file(c_name);
  free(c_name);
  if (!c_path || dc_temp_write(c_path, c_path, text, len) != 0)
    goto done;
  if (o->emit_c && (!(emit_tmp = dc_temp_beside(o->emit_c)) || dc_temp_write(emit_tmp, o->emit_c, text, len)))
    goto done;
  if (!(prog_tmp = dc_temp_beside(out)))
    goto done;
  rc = dc_compile_program(c_path, prog_tmp, o->cflags, o->portable, o->verbose);
  if (emit_tmp) {
    /* kept also when the compiler fails: the C is what a bug report needs */
    int erc = dc_temp_commit(emit_tmp, o->emit_c);
    emit_tmp = NULL;
    rc = rc ? rc : erc;
  }
  if (rc)
    goto done;
  rc = dc_temp_commit(prog_tmp, out);
  prog_tmp = NULL;
done:
  dc_temp_remove(prog_tmp);
  dc_temp_remove(emit_tmp);
  dc_temp_remove(c_path);
  dc_temp_remove(dir);
  free(text);
  free(out);
  return rc;
}

static int stdout_errno;   /* why a write on standard output failed, if known */

/* A failed write on standard output (a full disk, a closed descriptor) is an error too. */
static int close_stdout(int rc)
{
  int bad = ferror(stdout), err = 0;
  errno = 0;
  if (fflush(stdout) != 0) {
    bad = 1;
    err = errno;
  }
  if (fclose(stdout) != 0 && !err) {
    bad = 1;
    err = errno;
  }
  if (!bad)
    return rc;
  if (!err)
    err = stdout_errno;
  fprintf(stderr, "densc: error writing standard output%s%s\n", err ? ": " : "", err ? strerror(err) : "");
  return rc ? rc : 2;
}

static int run(int argc, char **argv)
{
  options o;
  int rc = parse_args(argc, argv, &o);
  if (rc)
    return rc < 0 ? 0 : rc;
  if (o.print_config) {
    const char *inc, *lib;
    dc_runtime_paths(&inc, &lib);
    printf("include %s\nlibrary %s\n", inc, lib);
    return 0;
  }
  dc_source src;
  if ((rc = dc_source_load_max(&src, o.input, o.max_source_bytes)) != 0) {
    if (rc == EFBIG)
      fprintf(stderr, "densc: %s is longer than %zu bytes, more than a model should be "
                      "(--max-source-bytes=N raises the limit)\n", o.input, o.max_source_bytes);
    else
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
  if (diag.n_errors == 0)
    dc_plan(&ir, &diag);
  dc_kernels ks = {0};
  if (diag.n_errors) {
    fprintf(stderr, "%s: %d error%s\n", o.input, diag.n_errors, diag.n_errors == 1 ? "" : "s");
    rc = 1;
  } else if (o.debug_ir) {
    dc_ir_dump(&ir, stdout);
  } else if (o.debug_plan) {
    dc_plan_dump(&ir, stdout);
  } else if (o.check_only || o.debug_ast) {
    /* checked: nothing more to do */
  } else {
    dc_kernels_form(&ir, &ks);
    if (o.debug_kernels || o.debug_grad) {
      dc_kernels_dump(&ir, &ks, o.debug_grad, stdout);
    } else if (o.print_c) {
      char *name = stem(o.input, NULL);
      dc_emit_options eo = {name, o.input, "model.c", o.line_directives, o.version};
      if (dc_emit(&ir, &ks, &src, &eo, stdout) != 0) {
        stdout_errno = errno;   /* the reason, which a later successful fflush would not give */
        rc = 2;
      }
      free(name);
    } else {
      rc = compile(&ir, &ks, &src, &o);
    }
  }
  dc_kernels_free(&ks);
  dc_ir_free(&ir);
  ast_program_free(&prog);
  dc_source_free(&src);
  return rc;
}

int main(int argc, char **argv)
{
  dc_temp_install_handlers();
  return close_stdout(run(argc, argv));
}
