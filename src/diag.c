/*
** diag.c — source text and located error messages with a caret line.
*/
#include "diag.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void index_lines(dc_source *src)
{
  size_t cap = 64;
  src->line_start = dc_xmalloc(cap * sizeof *src->line_start);
  src->n_lines = 0;
  src->line_start[src->n_lines++] = 0;
  for (size_t i = 0; i < src->len; i++) {
    if (src->text[i] == '\n' && i + 1 <= src->len) {
      if (src->n_lines == cap) {
        cap *= 2;
        src->line_start = dc_xrealloc(src->line_start, cap * sizeof *src->line_start);
      }
      src->line_start[src->n_lines++] = i + 1;
    }
  }
}

int dc_source_load(dc_source *src, const char *path)
{
  return dc_source_load_max(src, path, DC_MAX_SOURCE_BYTES);
}

int dc_source_load_max(dc_source *src, const char *path, size_t max_bytes)
{
  memset(src, 0, sizeof *src);
  src->path = path;
  errno = 0;
  src->text = dc_read_file(path, max_bytes, &src->len);
  if (!src->text)
    return errno ? errno : EIO;
  index_lines(src);
  return 0;
}

void dc_source_from_string(dc_source *src, const char *path, const char *text)
{
  memset(src, 0, sizeof *src);
  src->path = path;
  src->len = strlen(text);
  src->text = dc_xstrndup(text, src->len);
  index_lines(src);
}

void dc_source_free(dc_source *src)
{
  free(src->text);
  free(src->line_start);
  memset(src, 0, sizeof *src);
}

void dc_diag_init(dc_diag *d, const dc_source *src, FILE *out)
{
  d->src = src;
  d->out = out;
  d->n_errors = 0;
  d->n_warnings = 0;
  d->max_errors = 20;
}

/* Prints the source line with a caret/underline under the span. Tabs are kept so the caret
** lines up; a line longer than SHOW_WIDTH bytes is shown as a window around the column. */
#define SHOW_WIDTH 160

static void show_line(dc_diag *d, dc_loc loc)
{
  const dc_source *s = d->src;
  if (!s || loc.line < 1 || (size_t)loc.line > s->n_lines)
    return;
  size_t b = s->line_start[loc.line - 1], e = b;
  while (e < s->len && s->text[e] != '\n' && s->text[e] != '\r')
    e++;
  int col = loc.col < 1 ? 1 : loc.col;
  int last = (loc.end_line == loc.line && loc.end_col >= col) ? loc.end_col : col;
  size_t from = b;   /* first byte shown */
  const char *pre = "", *post = "";
  if (e - b > SHOW_WIDTH) {
    size_t want = b + (size_t)col - 1;
    from = want > b + SHOW_WIDTH / 2 ? want - SHOW_WIDTH / 2 : b;
    if (from > b)
      pre = "...";
    if (e - from > SHOW_WIDTH) {
      e = from + SHOW_WIDTH;
      post = "...";
    }
  }
  int skip = (int)(from - b);   /* columns hidden on the left */
  fprintf(d->out, "    %s%.*s%s\n    %s", pre, (int)(e - from), s->text + from, post, *pre ? "   " : "");
  int width = (int)(e - from);
  col -= skip;
  last -= skip;
  for (int i = 1; i < col && i <= width; i++)
    fputc(s->text[from + (size_t)i - 1] == '\t' ? '\t' : ' ', d->out);
  if (last > width && width >= col)
    last = width;
  fputc('^', d->out);
  for (int i = col + 1; i <= last; i++)
    fputc('~', d->out);
  fputc('\n', d->out);
}

static void report(dc_diag *d, const char *kind, dc_loc loc, const char *fmt, va_list ap)
{
  fprintf(d->out, "%s:%d:%d: %s: ", d->src ? d->src->path : "densc", loc.line, loc.col, kind);
  vfprintf(d->out, fmt, ap);
  fputc('\n', d->out);
  show_line(d, loc);
}

void dc_diag_error(dc_diag *d, dc_loc loc, const char *fmt, ...)
{
  d->n_errors++;
  if (d->n_errors > d->max_errors) {
    if (d->n_errors == d->max_errors + 1)
      fprintf(d->out, "%s: too many errors; stopping\n", d->src ? d->src->path : "densc");
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  report(d, "error", loc, fmt, ap);
  va_end(ap);
}

void dc_diag_warning(dc_diag *d, dc_loc loc, const char *fmt, ...)
{
  d->n_warnings++;
  if (d->n_errors > d->max_errors)
    return;
  va_list ap;
  va_start(ap, fmt);
  report(d, "warning", loc, fmt, ap);
  va_end(ap);
}

void dc_diag_note(dc_diag *d, dc_loc loc, const char *fmt, ...)
{
  if (d->n_errors > d->max_errors)
    return;
  va_list ap;
  va_start(ap, fmt);
  report(d, "note", loc, fmt, ap);
  va_end(ap);
}
