/*
** util.h — allocation that cannot fail silently, a growable string, and
** a growable array; used by every compiler stage.
*/
#ifndef DC_UTIL_H
#define DC_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

void *dc_xmalloc(size_t n);
void *dc_xcalloc(size_t n, size_t size);
void *dc_xrealloc(void *p, size_t n);
char *dc_xstrdup(const char *s);
char *dc_xstrndup(const char *s, size_t n);

/* Growable NUL-terminated string. */
typedef struct {
  char *s;
  size_t len, cap;
} dc_buf;

void dc_buf_init(dc_buf *b);
void dc_buf_free(dc_buf *b);
void dc_buf_puts(dc_buf *b, const char *s);
void dc_buf_putn(dc_buf *b, const char *s, size_t n);
void dc_buf_printf(dc_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
void dc_buf_vprintf(dc_buf *b, const char *fmt, va_list ap);
char *dc_buf_take(dc_buf *b);   /* hands over the string; the buffer is reset */

/* Growable array of pointers. */
typedef struct {
  void **v;
  size_t n, cap;
} dc_vec;

void dc_vec_push(dc_vec *a, void *p);
void dc_vec_free(dc_vec *a);

/* Shortest decimal text that reads back as the same double ("%.17g" fallback). */
void dc_format_double(char *out, size_t outlen, double x);

/* Reads a whole file of at most max bytes; NULL with errno set on failure (EFBIG when
** it is longer: /dev/zero or an endless pipe must not exhaust memory). */
char *dc_read_file(const char *path, size_t max, size_t *len);

#endif
