/*
** run-regressions.c — replays saved fuzzer inputs through a harness without
** libFuzzer, so 'make check' (and its sanitizer build) keeps every crash
** that was found and fixed from coming back.
**
** Linked with one harness (tests/fuzz/fuzz_NAME.c).  With no arguments it
** replays every file in REGRESSION_DIR (tests/fuzz/regressions/NAME); the
** arguments, if any, are files or directories to replay instead.  A crash,
** sanitizer report or abort() in the harness fails the test; so does an
** unreadable file.
*/
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef REGRESSION_DIR
#error "REGRESSION_DIR must name the directory of saved inputs"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
    return 1;
  }
  size_t len = 0, cap = 4096;
  uint8_t *data = malloc(cap);
  size_t got;
  while (data && (got = fread(data + len, 1, cap - len, f)) > 0) {
    len += got;
    if (len == cap) {
      uint8_t *d = realloc(data, cap *= 2);
      if (!d)
        free(data);
      data = d;
    }
  }
  int err = !data || ferror(f);
  fclose(f);
  if (err) {
    fprintf(stderr, "%s: cannot read\n", path);
    free(data);
    return 1;
  }
  /* an exact-size copy, so a sanitizer build sees reads past the end */
  uint8_t *exact = malloc(len ? len : 1);
  if (!exact) {
    free(data);
    return 1;
  }
  memcpy(exact, data, len);
  free(data);
  printf("replay %s (%zu bytes)\n", path, len);
  fflush(stdout);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 0;
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the regular files of dir in name order (dot files skipped). */
static int replay_dir(const char *dir, size_t *n_files)
{
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "%s: cannot open: %s\n", dir, strerror(errno));
    return 1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int failed = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn)
        abort();
      names = nn;
    }
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    if (!(names[n] = malloc(len)))
      abort();
    snprintf(names[n], len, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  if (n)
    qsort(names, n, sizeof *names, cmp_names);
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      failed |= replay_file(names[i]);
      ++*n_files;
    }
    free(names[i]);
  }
  free(names);
  return failed;
}

int main(int argc, char **argv)
{
  size_t n_files = 0;
  int failed = 0;
  if (argc < 2) {
    failed = replay_dir(REGRESSION_DIR, &n_files);
  } else {
    for (int i = 1; i < argc; i++) {
      struct stat st;
      if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
        failed |= replay_dir(argv[i], &n_files);
      } else {
        failed |= replay_file(argv[i]);
        n_files++;
      }
    }
  }
  printf("%zu input%s replayed%s\n", n_files, n_files == 1 ? "" : "s", failed ? ", some could not be read" : "");
  return failed ? 1 : 0;
}
