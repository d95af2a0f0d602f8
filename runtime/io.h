/*
** io.h — numeric tables from CSV or FITS files, and atomically replaced output files.
**
** densrt_io_read picks the format from the file's first bytes: "SIMPLE  ="
** or a gzip signature means FITS (gzip is unpacked into memory here), a zip
** or compress (.Z) signature is refused, anything else is CSV.
**
** CSV: a header row, then data rows, separated by commas.  Fields may be
** double-quoted ("" inside quotes is a quote; a quoted field ends on its own
** line); whitespace around fields is trimmed; CRLF endings, a UTF-8 BOM, blank
** lines and lines whose first non-blank character is '#' are accepted
** anywhere.  Column names match exactly and must be unique.  Cells of the
** requested columns must be finite numbers (strtod, whole cell).
**
** FITS: the first table HDU holding every requested column (names match
** without regard to case); cells are read as doubles and must be finite and
** not null.
**
** Error messages name the file and, for CSV, the 1-based physical line
** ("PATH:LINE: ..."), for FITS the 1-based row ("PATH: row R: ...").
*/
#ifndef DENSRT_IO_H
#define DENSRT_IO_H

#include <stddef.h>
#include <stdio.h>

/* A requested column: name in the file and the window [lo, hi] (inclusive, ±INFINITY for none). */
typedef struct {
  const char *name;
  double lo, hi;
} densrt_io_column;

/* What to do with a row whose value lies outside a window. */
typedef enum {
  DENSRT_IO_OUTSIDE_ERROR,   /* fail with "... is outside the window ..." */
  DENSRT_IO_OUTSIDE_DROP     /* skip the row and count it in n_dropped */
} densrt_io_outside;

typedef struct {
  size_t n_rows, n_cols;
  double **cols;             /* cols[c][r], columns in request order */
  size_t n_dropped;          /* rows skipped under DENSRT_IO_OUTSIDE_DROP */
} densrt_io_table;

/* Reads the requested columns of path into out.  On error out is left empty
** (cols NULL, n_rows 0).  All rows may be dropped: then n_rows is 0 and the
** call still succeeds, with cols[c] valid pointers. */
int densrt_io_read(const char *path, const densrt_io_column *want, size_t n_want,
                   densrt_io_outside policy, densrt_io_table *out);

/* Frees the columns and empties t.  Safe on an empty or already-freed table. */
void densrt_io_table_free(densrt_io_table *t);

/* An output file written to a temporary beside its destination and renamed
** into place on commit, so readers never see a half-written file. */
typedef struct {
  FILE *f;                   /* write here */
  char *path;                /* destination ("-" for standard output) */
  char *tmp;                 /* temporary file, NULL for standard output */
} densrt_io_out;

/* Creates PATH.tmpXXXXXX (mkstemp) beside path; "-" means standard output.
** An existing device or FIFO (/dev/null, /dev/stdout) is written in place
** with no temporary, since renaming over it would replace it; a directory
** is refused ("PATH: is a directory").
** Error: "PATH: cannot open for writing: strerror". */
int densrt_io_out_open(densrt_io_out *o, const char *path);

/* Flushes, syncs and checks the stream, then renames the temporary over the
** destination.  On any failure the temporary is removed.  Either way o is
** emptied, so a following densrt_io_out_abort does nothing. */
int densrt_io_out_commit(densrt_io_out *o);

/* Closes and removes the temporary (standard output is only flushed); safe to
** call twice, and on an o whose open failed. */
void densrt_io_out_abort(densrt_io_out *o);

#endif
