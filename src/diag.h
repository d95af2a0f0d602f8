/*
** diag.h — source files, locations and the one diagnostic formatter.
**
** Every message has the form
**   FILE:LINE:COL: error: MESSAGE
**     LINE TEXT
**     ^~~~
** optionally followed by "FILE:LINE:COL: note: ..." lines.  Columns count bytes, 1-based.
*/
#ifndef DC_DIAG_H
#define DC_DIAG_H

#include <stdio.h>

typedef struct dc_source {
  const char *path;     /* as given on the command line */
  char *text;           /* whole file, NUL-terminated */
  size_t len;
  size_t *line_start;   /* byte offset of each line */
  size_t n_lines;
} dc_source;

typedef struct dc_loc {
  int line, col;          /* start, 1-based */
  int end_line, end_col;  /* end (inclusive column) */
} dc_loc;

typedef struct dc_diag {
  const dc_source *src;
  FILE *out;
  int n_errors;
  int n_warnings;
  int max_errors;         /* stop reporting after this many (still counted) */
} dc_diag;

/* A model is at most this long unless densc --max-source-bytes says otherwise. */
#define DC_MAX_SOURCE_BYTES ((size_t)16 << 20)

int  dc_source_load(dc_source *src, const char *path);   /* 0 or errno; DC_MAX_SOURCE_BYTES */
int  dc_source_load_max(dc_source *src, const char *path, size_t max_bytes);   /* EFBIG: longer */
void dc_source_from_string(dc_source *src, const char *path, const char *text);
void dc_source_free(dc_source *src);

void dc_diag_init(dc_diag *d, const dc_source *src, FILE *out);
void dc_diag_error(dc_diag *d, dc_loc loc, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;
void dc_diag_warning(dc_diag *d, dc_loc loc, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;
void dc_diag_note(dc_diag *d, dc_loc loc, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;

#endif
