/*
** stancsv.c — Stan's CSV format, written and read (see stancsv.h).
*/
#include "stancsv.h"
#include "error.h"
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const sampler_columns[] = {"lp__", "accept_stat__", "stepsize__", "treedepth__",
                                              "n_leapfrog__", "divergent__", "energy__"};
enum { N_SAMPLER = sizeof sampler_columns / sizeof *sampler_columns };

static void put_number(FILE *f, double x)
{
  char buf[40];
  if (isnan(x))
    fputs("nan", f);
  else if (isinf(x))
    fputs(x > 0 ? "inf" : "-inf", f);
  else
    fputs(densrt_json_format_number(buf, sizeof buf, x), f);
}

static int check(densrt_stancsv *w)
{
  if (ferror(w->f))
    DENSRT_ERROR(DENSRT_EIO, "%s: cannot write: %s", w->path, strerror(errno ? errno : EIO));
  return DENSRT_OK;
}

int densrt_stancsv_open(densrt_stancsv *w, const char *path, const char *header, const char *const *names,
                        size_t n)
{
  memset(w, 0, sizeof *w);
  w->n = n;
  w->path = strdup(path);
  w->tmp = malloc(strlen(path) + 16);
  if (!w->path || !w->tmp) {
    densrt_stancsv_abort(w);
    DENSRT_ERROR(DENSRT_ENOMEM, "%s: out of memory", path);
  }
  sprintf(w->tmp, "%s.tmpXXXXXX", path);
  int fd = mkstemp(w->tmp);
  if (fd < 0) {
    int e = errno;
    free(w->tmp);
    w->tmp = NULL;
    densrt_stancsv_abort(w);
    DENSRT_ERROR(DENSRT_EIO, "%s: cannot open for writing: %s", path, strerror(e));
  }
  mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  w->f = fdopen(fd, "w");
  if (!w->f) {
    close(fd);
    densrt_stancsv_abort(w);
    DENSRT_ERROR(DENSRT_EIO, "%s: cannot open for writing", path);
  }
  for (const char *p = header; p && *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    fprintf(w->f, "# %.*s\n", (int)len, p);
    p += len + (e != NULL);
  }
  for (size_t i = 0; i < N_SAMPLER; i++)
    fprintf(w->f, "%s%s", i ? "," : "", sampler_columns[i]);
  for (size_t i = 0; i < n; i++)
    fprintf(w->f, ",%s", names[i]);
  fputc('\n', w->f);
  fflush(w->f);
  int rc = check(w);
  if (rc)
    densrt_stancsv_abort(w);
  return rc;
}

int densrt_stancsv_adaptation(densrt_stancsv *w, double stepsize, const double *inv_metric, int dense)
{
  fputs("# Adaptation terminated\n# Step size = ", w->f);
  put_number(w->f, stepsize);
  fputs(dense ? "\n# Elements of inverse mass matrix:\n" : "\n# Diagonal elements of inverse mass matrix:\n", w->f);
  size_t rows = dense ? w->n : 1;
  for (size_t r = 0; r < rows; r++) {
    fputs("# ", w->f);
    for (size_t i = 0; i < w->n; i++) {
      if (i)
        fputs(", ", w->f);
      put_number(w->f, inv_metric[r * w->n + i]);
    }
    fputc('\n', w->f);
  }
  fflush(w->f);
  return check(w);
}

int densrt_stancsv_row(densrt_stancsv *w, const densrt_nuts_draw *d, const double *theta)
{
  FILE *f = w->f;
  put_number(f, d->lp);
  fputc(',', f);
  put_number(f, d->accept_stat);
  fputc(',', f);
  put_number(f, d->stepsize);
  fprintf(f, ",%d,%zu,%d,", d->treedepth, d->n_leapfrog, d->divergent ? 1 : 0);
  put_number(f, d->energy);
  for (size_t i = 0; i < w->n; i++) {
    fputc(',', f);
    put_number(f, theta[i]);
  }
  fputc('\n', f);
  fflush(f);   /* rows as they are drawn: a look at the file shows the progress */
  return check(w);
}

int densrt_stancsv_comment(densrt_stancsv *w, const char *text)
{
  fprintf(w->f, "# %s\n", text);
  return check(w);
}

int densrt_stancsv_close(densrt_stancsv *w, double warmup_seconds, double sampling_seconds)
{
  fprintf(w->f, "# \n#  Elapsed Time: %g seconds (Warm-up)\n#                %g seconds (Sampling)\n"
                "#                %g seconds (Total)\n# \n", warmup_seconds, sampling_seconds,
          warmup_seconds + sampling_seconds);
  int rc = check(w);
  if (!rc && (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0))
    rc = DENSRT_FAIL(DENSRT_EIO, "%s: cannot write: %s", w->path, strerror(errno));
  FILE *f = w->f;
  w->f = NULL;
  if (fclose(f) != 0 && !rc)
    rc = DENSRT_FAIL(DENSRT_EIO, "%s: cannot write: %s", w->path, strerror(errno));
  if (!rc && rename(w->tmp, w->path) != 0)
    rc = DENSRT_FAIL(DENSRT_EIO, "%s: cannot rename into place: %s", w->path, strerror(errno));
  if (rc)
    unlink(w->tmp);
  free(w->tmp);
  free(w->path);
  w->tmp = w->path = NULL;
  return rc;
}

void densrt_stancsv_abort(densrt_stancsv *w)
{
  if (w->f)
    fclose(w->f);
  if (w->tmp)
    unlink(w->tmp);
  free(w->tmp);
  free(w->path);
  memset(w, 0, sizeof *w);
}

/* {====================================================================
** Reading
** ===================================================================== */

static void free_names(char **names, size_t n)
{
  for (size_t i = 0; names && i < n; i++)
    free(names[i]);
  free(names);
}

/* Splits a header line at commas into names. */
static int split_names(char *line, char ***names, size_t *n)
{
  size_t cap = 16, k = 0;
  char **v = malloc(cap * sizeof *v);
  if (!v)
    return DENSRT_ENOMEM;
  for (char *p = line;;) {
    char *e = strchr(p, ',');
    if (e)
      *e = '\0';
    if (k == cap) {
      char **nv = realloc(v, 2 * cap * sizeof *v);
      if (!nv) {
        free_names(v, k);
        return DENSRT_ENOMEM;
      }
      v = nv;
      cap *= 2;
    }
    if (!(v[k++] = strdup(p))) {
      free_names(v, k - 1);
      return DENSRT_ENOMEM;
    }
    if (!e)
      break;
    p = e + 1;
  }
  *names = v;
  *n = k;
  return DENSRT_OK;
}

static int read_one(const char *path, densrt_stancsv_set *s, size_t c)
{
  FILE *f = fopen(path, "r");
  if (!f)
    DENSRT_ERROR(DENSRT_EIO, "%s: cannot open: %s", path, strerror(errno));
  char *line = NULL;
  size_t cap = 0, lineno = 0, rows = 0, rcap = 0;
  ssize_t len;
  int st = DENSRT_OK, have_header = 0, save_warmup = 0, adapted = 0;
  double *d = NULL;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = '\0';
    if (len > 0 && line[0] == '#') {
      const char *md = strstr(line, "max_depth = ");
      if (md && c == 0 && !s->max_depth)
        s->max_depth = strtol(md + 12, NULL, 10);
      if (strstr(line, "save_warmup = 1"))
        save_warmup = 1;
      if (strstr(line, "# Adaptation terminated"))
        adapted = 1;
      continue;
    }
    if (have_header && save_warmup && !adapted)
      continue;   /* warmup draws (CmdStan's save_warmup): not draws of the posterior */
    if (len == 0)
      continue;
    if (!have_header) {
      char **names;
      size_t n;
      if ((st = split_names(line, &names, &n))) {
        st = DENSRT_FAIL(st, "%s: out of memory", path);
        break;
      }
      have_header = 1;
      if (c == 0) {
        s->names = names;
        s->n_cols = n;
        continue;
      }
      int same = n == s->n_cols;
      for (size_t i = 0; same && i < n; i++)
        same = strcmp(names[i], s->names[i]) == 0;
      free_names(names, n);
      if (!same) {
        st = DENSRT_FAIL(DENSRT_EFORMAT, "%s:%zu: the columns differ from those of the first file", path, lineno);
        break;
      }
      continue;
    }
    if (rows == rcap) {
      rcap = rcap ? 2 * rcap : 1024;
      double *nd = realloc(d, rcap * s->n_cols * sizeof *nd);
      if (!nd) {
        st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", path);
        break;
      }
      d = nd;
    }
    char *p = line;
    for (size_t k = 0; k < s->n_cols && !st; k++) {
      char *end;
      double v = strtod(p, &end);
      char want = k + 1 < s->n_cols ? ',' : '\0';
      if (end == p || *end != want)
        st = DENSRT_FAIL(DENSRT_EFORMAT, "%s:%zu: column %zu ('%s'): expected a number%s", path, lineno, k + 1,
                         s->names[k], want ? " and a comma" : " at the end of the line");
      d[rows * s->n_cols + k] = v;
      p = end + (want != '\0');
    }
    if (st)
      break;
    rows++;
  }
  free(line);
  fclose(f);
  if (!st && !have_header)
    st = DENSRT_FAIL(DENSRT_EFORMAT, "%s: no column names (not a Stan CSV file?)", path);
  if (!st && s->n_cols < N_SAMPLER)
    st = DENSRT_FAIL(DENSRT_EFORMAT, "%s: fewer columns than Stan's sampler writes", path);
  if (st) {
    free(d);
    return st;
  }
  s->draws[c] = d;
  s->n_draws[c] = rows;
  return DENSRT_OK;
}

int densrt_stancsv_read(const char *const *paths, size_t n, densrt_stancsv_set *out)
{
  memset(out, 0, sizeof *out);
  out->n_draws = calloc(n + 1, sizeof *out->n_draws);
  out->draws = calloc(n + 1, sizeof *out->draws);
  if (!out->n_draws || !out->draws) {
    densrt_stancsv_set_free(out);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  for (size_t c = 0; c < n; c++) {
    int st = read_one(paths[c], out, c);
    out->n_chains = c + (st == 0);
    if (st) {
      densrt_stancsv_set_free(out);
      return st;
    }
  }
  out->n_chains = n;
  return DENSRT_OK;
}

void densrt_stancsv_set_free(densrt_stancsv_set *s)
{
  free_names(s->names, s->n_cols);
  for (size_t c = 0; s->draws && c < s->n_chains; c++)
    free(s->draws[c]);
  free(s->draws);
  free(s->n_draws);
  memset(s, 0, sizeof *s);
}

/* }==================================================================== */
