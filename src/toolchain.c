/*
** toolchain.c — runs $CC (default cc) without a shell, so no model or path
** text is ever interpreted by one, in a process group of its own so that an
** interrupted densc can stop it and everything it started; and keeps the
** list of our temporary files for the signal handler.
*/
#include "toolchain.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

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

/* ---- temporary files ----
** The handler reads this list, so it changes only while the signals are blocked. */
#define MAX_TEMPS 8
static char *temp_path[MAX_TEMPS];
static int temp_is_dir[MAX_TEMPS];
static pid_t child_pid;   /* the running C compiler, leader of its process group; 0: none */
static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_FATAL (sizeof fatal_signals / sizeof *fatal_signals)

static void block_signals(sigset_t *old)
{
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < N_FATAL; i++)
    sigaddset(&set, fatal_signals[i]);
  sigprocmask(SIG_BLOCK, &set, old);
}

static void restore_signals(const sigset_t *old)
{
  sigprocmask(SIG_SETMASK, old, NULL);
}

/* Async-signal-safe: kill, waitpid, nanosleep, unlink, rmdir, _exit only. */
static void on_fatal_signal(int sig)
{
  pid_t pid = child_pid;
  if (pid > 0) {
    kill(-pid, sig);
    /* a compiler that ignores the signal gets 2 s, then SIGKILL */
    struct timespec tick = {0, 50 * 1000 * 1000};
    siginfo_t si;
    for (int i = 0; i < 40; i++) {
      si.si_pid = 0;
      if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == pid)
        break;
      nanosleep(&tick, NULL);
    }
    /* the leader is not reaped yet, so its group id cannot be reused: stragglers such as a
       linker still writing our output die here */
    kill(-pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
  }
  for (int i = MAX_TEMPS - 1; i >= 0; i--) {
    if (temp_path[i]) {
      if (temp_is_dir[i])
        rmdir(temp_path[i]);
      else
        unlink(temp_path[i]);
    }
  }
  _exit(128 + sig);
}

void dc_temp_install_handlers(void)
{
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < N_FATAL; i++)
    sigaddset(&sa.sa_mask, fatal_signals[i]);
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < N_FATAL; i++) {
    /* ignored on entry (a background job of a shell without job control): keep it so */
    if (sigaction(fatal_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
      continue;
    sigaction(fatal_signals[i], &sa, NULL);
  }
}

/* Adds path (taking it) to the list; the caller has blocked the signals. */
static void remember(char *path, int is_dir)
{
  for (int i = 0; i < MAX_TEMPS; i++) {
    if (!temp_path[i]) {
      temp_is_dir[i] = is_dir;
      temp_path[i] = path;
      return;
    }
  }
  /* densc never has more than four at a time */
  fputs("densc: internal error: too many temporary files\n", stderr);
  abort();
}

/* Drops path from the list (the caller has blocked the signals); 1 if it was there. */
static int forget(const char *path)
{
  for (int i = 0; i < MAX_TEMPS; i++) {
    if (temp_path[i] == path) {
      temp_path[i] = NULL;
      return 1;
    }
  }
  return 0;
}

enum { TEMP_DIR, TEMP_NAMED, TEMP_TEMPLATE };

/* Creates path (a directory or file template for mkdtemp/mkstemp, or an exact new file name)
** and lists it, with the signals blocked so that a signal never finds it created but not
** listed.  A descriptor (0 for a directory), or -1 and errno; path is taken when listed. */
static int create_listed(char *path, int how)
{
  sigset_t old;
  block_signals(&old);
  int fd = how == TEMP_DIR     ? (mkdtemp(path) ? 0 : -1)
           : how == TEMP_NAMED ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)
                               : mkstemp(path);
  int err = errno;
  if (fd >= 0)
    remember(path, how == TEMP_DIR);
  restore_signals(&old);
  errno = err;
  return fd;
}

char *dc_temp_dir(void)
{
  const char *base = getenv("TMPDIR");
  if (!base || !*base)
    base = "/tmp";
  dc_buf b;
  dc_buf_init(&b);
  dc_buf_printf(&b, "%s/densc-XXXXXX", base);
  char *dir = dc_buf_take(&b);
  if (create_listed(dir, TEMP_DIR) < 0) {
    fprintf(stderr, "densc: cannot create a temporary directory in %s: %s\n", base, strerror(errno));
    free(dir);
    return NULL;
  }
  return dir;
}

char *dc_temp_file(const char *path)
{
  char *p = dc_xstrdup(path);
  int fd = create_listed(p, TEMP_NAMED);
  if (fd < 0) {
    fprintf(stderr, "densc: cannot create %s: %s\n", p, strerror(errno));
    free(p);
    return NULL;
  }
  close(fd);
  return p;
}

char *dc_temp_beside(const char *target)
{
  struct stat st;
  if (stat(target, &st) == 0 && !S_ISREG(st.st_mode)) {
    fprintf(stderr, "densc: %s exists and is not a regular file\n", target);
    return NULL;
  }
  dc_buf b;
  dc_buf_init(&b);
  dc_buf_printf(&b, "%s.tmpXXXXXX", target);
  char *tmp = dc_buf_take(&b);
  int fd = create_listed(tmp, TEMP_TEMPLATE);
  if (fd < 0) {
    fprintf(stderr, "densc: cannot create %s: %s\n", target, strerror(errno));
    free(tmp);
    return NULL;
  }
  /* mkstemp's 0600 would make a kept file private; give it the mode a new file gets */
  mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  close(fd);
  return tmp;
}

int dc_temp_write(const char *tmp, const char *what, const char *data, size_t n)
{
  FILE *f = fopen(tmp, "wb");
  int ok = f && fwrite(data, 1, n, f) == n;
  int err = errno;
  if (f && fclose(f) != 0 && ok) {
    ok = 0;
    err = errno;
  }
  if (!ok) {
    fprintf(stderr, "densc: cannot write %s: %s\n", what, strerror(err));
    return 2;
  }
  return 0;
}

int dc_temp_commit(char *tmp, const char *target)
{
  sigset_t old;
  block_signals(&old);
  int ok = rename(tmp, target) == 0;
  int err = errno;
  if (ok)
    forget(tmp);
  restore_signals(&old);
  if (!ok) {
    fprintf(stderr, "densc: cannot write %s: %s\n", target, strerror(err));
    dc_temp_remove(tmp);
    return 2;
  }
  free(tmp);
  return 0;
}

void dc_temp_remove(char *tmp)
{
  if (!tmp)
    return;
  sigset_t old;
  block_signals(&old);
  for (int i = 0; i < MAX_TEMPS; i++) {
    if (temp_path[i] == tmp) {
      if (temp_is_dir[i])
        rmdir(tmp);
      else
        unlink(tmp);
    }
  }
  forget(tmp);
  restore_signals(&old);
  free(tmp);
}

/* ---- the C compiler ---- */

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

/* A path as a compiler argument: "./-lfoo", never the option -lfoo. */
static char *path_arg(const char *path)
{
  dc_buf b;
  dc_buf_init(&b);
  dc_buf_printf(&b, "%s%s", path[0] == '-' ? "./" : "", path);
  return dc_buf_take(&b);
}

/* "exit status 1", "killed by signal 9 (Killed)" */
static void describe_status(char *out, size_t n, int status)
{
  if (WIFEXITED(status))
    snprintf(out, n, "exit status %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(out, n, "killed by signal %d: %s", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    snprintf(out, n, "wait status %#x", (unsigned)status);
}

/* Runs argv in a new process group; 0 and its wait status, or an errno when it cannot start. */
static int run_compiler(char **argv, int *status)
{
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t old;
  block_signals(&old);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &old);
  pid_t pid;
  int err = posix_spawnp(&pid, argv[0], NULL, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  if (err == 0)
    child_pid = pid;
  restore_signals(&old);
  if (err)
    return err;
  /* wait without reaping: until child_pid is cleared, the pid cannot be reused */
  siginfo_t si;
  while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
    ;
  block_signals(&old);
  if (waitpid(pid, status, 0) < 0)
    err = errno;
  child_pid = 0;
  restore_signals(&old);
  return err;
}

int dc_compile_program(const char *c_path, const char *out_path, const char *extra_cflags, int portable, int verbose)
{
  locate_runtime();
  if (!exists(library)) {
    fprintf(stderr, "densc: the runtime library %s is missing (build it, or run 'make install')\n", library);
    return 3;
  }
  const char *user_cc = getenv("CC"), *env_cflags = getenv("DENSC_CFLAGS");
  if (user_cc && !*user_cc)
    user_cc = NULL;
  if (env_cflags && !*env_cflags)
    env_cflags = NULL;
  if (extra_cflags && !*extra_cflags)
    extra_cflags = NULL;

  dc_vec argv = {0};
  split_words(&argv, user_cc ? user_cc : "cc");
  if (argv.n == 0) {
    fprintf(stderr, "densc: $CC names no compiler\n");
    dc_vec_free(&argv);
    return 3;
  }
  /* -fno-trapping-math lets the data loops' selects vectorise (it changes no result);
     -ffp-contract=fast lets a product and a sum be one fused multiply-add, rounded once
     (as C allows; -std=c11 alone turns it off), which shortens the loops' dependency
     chains; no reassociation, no -ffast-math.  -march=native: the vector width and fma. */
  const char *fixed[] = {"-std=c11", "-O2", "-fno-trapping-math", "-ffp-contract=fast", "-I"};
  if (!portable)
    dc_vec_push(&argv, dc_xstrdup("-march=native"));
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
    dc_vec_push(&argv, dc_xstrdup(fixed[i]));
  dc_vec_push(&argv, path_arg(include_dir));
  dc_vec_push(&argv, path_arg(c_path));
  dc_vec_push(&argv, dc_xstrdup("-o"));
  dc_vec_push(&argv, path_arg(out_path));
  split_words(&argv, DENSC_SANITIZER_FLAGS);
  split_words(&argv, env_cflags);
  split_words(&argv, extra_cflags);
  dc_vec_push(&argv, path_arg(library));
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
  int status = 0, rc = 0;
  int err = run_compiler((char **)argv.v, &status);
  if (err) {
    fprintf(stderr, "densc: cannot run the C compiler '%s'%s: %s\n", (char *)argv.v[0],
            user_cc ? " (from $CC)" : "", strerror(err));
    rc = 3;
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char how[128];
    describe_status(how, sizeof how, status);
    if (user_cc || env_cflags || extra_cflags) {
      /* most likely the user's compiler or flags, not the generated code */
      fprintf(stderr, "densc: the C compiler failed (%s) with your settings:", how);
      if (user_cc)
        fprintf(stderr, " CC='%s'", user_cc);
      if (env_cflags)
        fprintf(stderr, " DENSC_CFLAGS='%s'", env_cflags);
      if (extra_cflags)
        fprintf(stderr, " --cflags='%s'", extra_cflags);
      fprintf(stderr, "\n  check them; -v shows the whole command (if it fails without them, "
                      "it is a densc bug)\n");
    } else {
      fprintf(stderr, "densc: the C compiler failed on the generated code (%s; this is a densc bug: "
                      "keep the C with --emit-c and report it)\n", how);
    }
    rc = 3;
  }
  for (size_t i = 0; i < argv.n; i++)
    free(argv.v[i]);
  dc_vec_free(&argv);
  return rc;
}
