/*
** toolchain.c — runs $CC (default cc) without a shell, so no model or path
** text is ever interpreted by one.
*/
#include "toolchain.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char include_dir[PATH_MAX + 32], library[PATH_MAX + 32];

static int exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

/* Build tree when this executable sits in DENSC_BUILDDIR; the installed runtime otherwise. */
static void locate_runtime(void)
{
  if (include_dir[0])
    return;
  const char *inc = getenv("DENSC_RUNTIME_INCLUDE"), *lib = getenv("DENSC_RUNTIME_LIB");
  if (inc && lib) {
    snprintf(include_dir, sizeof include_dir, "%s", inc);
    snprintf(library, sizeof library, "%s", lib);
    return;
  }
  char exe[PATH_MAX], real_build[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  int in_build = 0;
  if (n > 0 && realpath(DENSC_BUILDDIR, real_build)) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
      *slash = '\0';
    in_build = strcmp(exe, real_build) == 0;
  }
  if (in_build) {
    snprintf(include_dir, sizeof include_dir, "%s/runtime", DENSC_SRCDIR);
    snprintf(library, sizeof library, "%s/.libs/libdensrt.a", DENSC_BUILDDIR);
  } else {
    snprintf(include_dir, sizeof include_dir, "%s", DENSC_INCLUDEDIR);
    snprintf(library, sizeof library, "%s/libdensrt.a", DENSC_LIBDIR);
    if (!exists(library))
      snprintf(library, sizeof library, "%s/libdensrt.so", DENSC_LIBDIR);
  }
}

void dc_runtime_paths(const char **inc, const char **lib)
{
  locate_runtime();
  *inc = include_dir;
  *lib = library;
}

static void split_words(dc_vec *argv, const char *s)
{
  while (s && *s) {
    while (*s == ' ' || *s == '\t')
      s++;
    const char *b = s;
    while (*s && *s != ' ' && *s != '\t')
      s++;
    if (s > b)
      dc_vec_push(argv, dc_xstrndup(b, (size_t)(s - b)));
  }
}

int dc_compile_program(const char *c_path, const char *out_path, const char *extra_cflags, int verbose)
{
  locate_runtime();
  if (!exists(library)) {
    fprintf(stderr, "densc: the runtime library %s is missing (build it, or run 'make install')\n", library);
    return 3;
  }
  struct stat st;
  if (stat(out_path, &st) == 0 && !S_ISREG(st.st_mode)) {
    /* renaming over a device or directory would replace it */
    fprintf(stderr, "densc: %s exists and is not a regular file\n", out_path);
    return 2;
  }
  const char *cc = getenv("CC");
  if (!cc || !*cc)
    cc = "cc";
  char tmp[PATH_MAX + 16];
  if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", out_path) >= (int)sizeof tmp) {
    fprintf(stderr, "densc: output path too long\n");
    return 2;
  }
  int fd = mkstemp(tmp);
  if (fd < 0) {
    fprintf(stderr, "densc: cannot create %s: %s\n", out_path, strerror(errno));
    return 2;
  }
  close(fd);

  dc_vec argv = {0};
  split_words(&argv, cc);
  const char *fixed[] = {"-std=c11", "-O2", "-I", include_dir, c_path, "-o", tmp};
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
    dc_vec_push(&argv, dc_xstrdup(fixed[i]));
  split_words(&argv, DENSC_SANITIZER_FLAGS);
  split_words(&argv, getenv("DENSC_CFLAGS"));
  split_words(&argv, extra_cflags);
  dc_vec_push(&argv, dc_xstrdup(library));
  if (strstr(library, ".so")) {
    char rpath[PATH_MAX + 32];
    snprintf(rpath, sizeof rpath, "-Wl,-rpath,%s", DENSC_LIBDIR);
    dc_vec_push(&argv, dc_xstrdup(rpath));
  }
  split_words(&argv, DENSC_LINK_LIBS);
  dc_vec_push(&argv, NULL);

  if (verbose) {
    for (size_t i = 0; argv.v[i]; i++)
      fprintf(stderr, "%s%s", i ? " " : "", (char *)argv.v[i]);
    fputc('\n', stderr);
  }
  int rc = 3;
  pid_t pid = fork();
  if (pid == 0) {
    execvp(argv.v[0], (char **)argv.v);
    fprintf(stderr, "densc: cannot run the C compiler '%s': %s\n", (char *)argv.v[0], strerror(errno));
    _exit(127);
  }
  int status;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    if (rename(tmp, out_path) == 0)
      rc = 0;
    else
      fprintf(stderr, "densc: cannot write %s: %s\n", out_path, strerror(errno));
  } else {
    fprintf(stderr, "densc: the C compiler failed on the generated code (this is a densc bug; "
                    "keep it with --emit-c and report it)\n");
  }
  if (rc)
    unlink(tmp);
  for (size_t i = 0; i < argv.n; i++)
    free(argv.v[i]);
  dc_vec_free(&argv);
  return rc;
}
