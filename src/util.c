/*
** util.c — allocation, strings and arrays for the compiler.
*/
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void out_of_memory(void)
{
  fputs("densc: out of memory\n", stderr);
  exit(3);
}

void *dc_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p)
    out_of_memory();
  return p;
}

void *dc_xcalloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    out_of_memory();
  return p;
}

void *dc_xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (!p)
    out_of_memory();
  return p;
}

char *dc_xstrdup(const char *s)
{
  return dc_xstrndup(s, strlen(s));
}

char *dc_xstrndup(const char *s, size_t n)
{
  char *p = dc_xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void dc_buf_init(dc_buf *b)
{
  b->s = NULL;
  b->len = b->cap = 0;
}

void dc_buf_free(dc_buf *b)
{
  free(b->s);
  dc_buf_init(b);
}

static void reserve(dc_buf *b, size_t extra)
{
  if (b->len + extra + 1 <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1)
    cap *= 2;
  b->s = dc_xrealloc(b->s, cap);
  b->cap = cap;
}

void dc_buf_putn(dc_buf *b, const char *s, size_t n)
{
  reserve(b, n);
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void dc_buf_puts(dc_buf *b, const char *s)
{
  dc_buf_putn(b, s, strlen(s));
}

void dc_buf_vprintf(dc_buf *b, const char *fmt, va_list ap)
{
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return;
  reserve(b, (size_t)n);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void dc_buf_printf(dc_buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  dc_buf_vprintf(b, fmt, ap);
  va_end(ap);
}

char *dc_buf_take(dc_buf *b)
{
  char *s = b->s ? b->s : dc_xstrdup("");
  dc_buf_init(b);
  return s;
}

void dc_vec_push(dc_vec *a, void *p)
{
  if (a->n == a->cap) {
    a->cap = a->cap ? 2 * a->cap : 8;
    a->v = dc_xrealloc(a->v, a->cap * sizeof *a->v);
  }
  a->v[a->n++] = p;
}

void dc_vec_free(dc_vec *a)
{
  free(a->v);
  a->v = NULL;
  a->n = a->cap = 0;
}

void dc_format_double(char *out, size_t outlen, double x)
{
  /* integers print as integers: 110, not 1.1e+02 (range first: converting
     a double outside long long's range, or NaN, is undefined) */
  if (x > -1e15 && x < 1e15 && x == (double)(long long)x) {
    snprintf(out, outlen, "%lld", (long long)x);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(out, outlen, "%.*g", prec, x);
    if (strtod(out, NULL) == x)
      break;
  }
}

char *dc_read_file(const char *path, size_t max, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
    fclose(f);
    errno = EFBIG;
    return NULL;
  }
  dc_buf b;
  dc_buf_init(&b);
  char chunk[65536];
  size_t n;
  /* one byte beyond max tells a file of exactly max bytes from a longer one */
  while (b.len <= max && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
    dc_buf_putn(&b, chunk, n);
  int err = ferror(f) ? (errno ? errno : EIO) : b.len > max ? EFBIG : 0;
  fclose(f);
  if (err) {
    dc_buf_free(&b);
    errno = err;
    return NULL;
  }
  if (len)
    *len = b.len;
  return dc_buf_take(&b);
}
