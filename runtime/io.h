/*
** io.h — numeric tables from CSV or FITS files, and atomically replaced output files.
**
** densrt_io_read unpacks a gzip file (signature 1f 8b) into memory, then picks
** the format from the first bytes: "SIMPLE  =" means FITS, a zip or compress
** (.Z) signature is refused, anything else is CSV.
**
** Text tables: a header row, then data rows.  The separator is found in the
** header row: a comma if it has one (outside quotes: CSV), else a tab if it has
** one (each tab separates: empty fields are possible), else runs of blanks
** (whitespace-separated, as many astronomical ASCII tables are; leading and
** trailing blanks ignored), else (one column) a comma.  Fields may be
** double-quoted ("" inside quotes is a quote; a quoted field ends on its own
** line); whitespace around fields is trimmed; CRLF endings, a UTF-8 BOM, blank
** lines and lines whose first non-blank character is '#' are accepted
** anywhere.  Column names match exactly and must be unique.  Cells of the
** requested columns must be finite numbers (strtod, whole cell); an empty
** cell, a NaN, "NA", "N/A" or "null" (any case) is a missing value.
**
** FITS: the first table HDU holding every requested column (names match
** without regard to case); cells are read as doubles and must be finite;
** a null (TNULLn) or NaN cell is a missing value.
**
** Text columns (DENSRT_IO_TEXT: identifiers such as Gaia's source_id) are kept
** exactly as written: the CSV cell, or a FITS integer printed in full (64-bit
** ids do not survive a double), a string (trailing blanks removed) or a float in
** the shortest form that reads back.
**
** Error messages name the file and, for CSV, the 1-based physical line
** ("PATH:LINE: ..."), for FITS the 1-based row ("PATH: row R: ...").
*/
#ifndef DENSRT_IO_H
#define DENSRT_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A requested column: name in the file and the window [lo, hi] (inclusive, ±INFINITY for none). */
typedef struct {
  const char *name;
  double lo, hi;
} densrt_io_column;

/* Column flags (densrt_io_rules): kept as text (no window, never missing); optional (a file
** without it is no error: the table's present[c] is 0 and it has no values). */
enum { DENSRT_IO_TEXT = 1, DENSRT_IO_OPTIONAL = 2 };

/* What to do with a row whose value lies outside a window. */
typedef enum {
  DENSRT_IO_OUTSIDE_ERROR,   /* fail with "... is outside the window ..." */
  DENSRT_IO_OUTSIDE_DROP,    /* skip the row and count it in n_dropped */
  DENSRT_IO_OUTSIDE_KEEP     /* keep the row and count it in n_kept_outside */
} densrt_io_outside;

/* A row filter "COLUMN OP NUMBER": the value of requested column `col` compared with x. */
typedef enum { DENSRT_IO_LT, DENSRT_IO_LE, DENSRT_IO_GT, DENSRT_IO_GE, DENSRT_IO_EQ, DENSRT_IO_NE } densrt_io_op;
typedef struct {
  size_t col;
  densrt_io_op op;
  double x;
} densrt_io_filter;

/* What to do with a row with a missing value in a requested numeric column. */
typedef enum {
  DENSRT_IO_MISSING_ERROR,   /* fail (DENSRT_EMISSING) naming the row and column */
  DENSRT_IO_MISSING_DROP     /* skip the row and count it in n_missing */
} densrt_io_missing;

/* Which rows are used: the filters, the window policy and the missing-value policy; and
** each requested column's flags (NULL: every column a number, required). */
typedef struct {
  const densrt_io_filter *where;
  size_t n_where;
  densrt_io_outside outside;
  densrt_io_missing missing;
  const unsigned *flags;
} densrt_io_rules;

typedef struct {
  size_t n_rows, n_cols;
  double **cols;             /* cols[c][r], columns in request order (NULL for text or absent columns) */
  size_t n_dropped;          /* rows outside a window skipped under DENSRT_IO_OUTSIDE_DROP */
  size_t n_filtered;         /* rows a filter left out */
  size_t n_kept_outside;     /* rows outside a window kept under DENSRT_IO_OUTSIDE_KEEP */
  size_t n_missing;          /* rows with a missing value skipped under DENSRT_IO_MISSING_DROP */
  char ***text;              /* text[c][r] of DENSRT_IO_TEXT columns (NULL for the others) */
  size_t *row;               /* each row's 1-based number among the file's data rows (before any selection) */
  unsigned char *present;    /* per requested column: 0 when an optional column is absent */
  char sep;                  /* text tables: the separator found (',', '\t', ' ' for blanks); FITS: 0 */
} densrt_io_table;

/*
** Limits.  Input that never ends (a device such as /dev/zero, a pipe that is
** never closed) or that unpacks to far more than it is (a gzip bomb) must not
** exhaust memory, so each densrt_io_read takes at most a limit of L bytes:
** - the bytes of input read, counted after gzip unpacking (a pipe, a device
**   or a gzip file is held in memory while it is read);
** - the table: rows kept times requested columns times 8 bytes.
** L is, in order: the last densrt_io_set_max_input, the environment variable
** DENSRT_MAX_INPUT_BYTES, or DENSRT_IO_MAX_INPUT_DEFAULT (8 GiB: 10^8 rows of
** 80 bytes, 10^7 of 800).  Beyond it the read fails (DENSRT_ENOMEM):
**   "PATH: more than 8589934592 bytes of input (limit 8 GiB; raise it with HINT)"
**   "PATH:LINE: more than 536870912 rows (the limit of 8 GiB holds 536870912
**    rows of 2 columns; raise it with HINT)"
*/
#define DENSRT_IO_MAX_INPUT_DEFAULT ((uint64_t)8 << 30)

/* Sets L (bytes > 0; 0 goes back to the environment or the default) and the
** words that end the messages above, "raise it with HINT" (NULL: the default
** "DENSRT_MAX_INPUT_BYTES"; the string must outlive every read, e.g. a literal). */
void densrt_io_set_max_input(uint64_t bytes, const char *hint);

/* The limit L now in force.  Fails (DENSRT_EINVAL) when it would come from a
** DENSRT_MAX_INPUT_BYTES that is not a size:
**   "DENSRT_MAX_INPUT_BYTES: 'abc' is not a size in bytes (such as 4294967296, 512M or 4G)" */
int densrt_io_max_input(uint64_t *bytes);

/* Parses a size: decimal digits and an optional binary suffix K, M, G or T
** (also KiB, MiB, GiB, TiB; 4G = 4 * 2^30), at least 1 byte and below 2^64.
** Returns DENSRT_OK, or DENSRT_EINVAL with no message recorded (the caller
** names the option or variable). */
int densrt_io_parse_size(const char *text, uint64_t *bytes);

/* A double printed in the shortest form that reads back as the same double
** ("%.*g", the smallest precision from 1 to 17 that round-trips; "inf", "-inf",
** "nan"), for messages: printf("%s", densrt_io_shortest(x).s). */
typedef struct {
  char s[32];
} densrt_io_number;
densrt_io_number densrt_io_shortest(double x);

/* Reads the requested columns of path into out.  On error out is left empty
** (cols NULL, n_rows 0).  All rows may be dropped: then n_rows is 0 and the
** call still succeeds, with cols[c] valid pointers. */
int densrt_io_read(const char *path, const densrt_io_column *want, size_t n_want,
                   densrt_io_outside policy, densrt_io_table *out);

/* The one rule for which rows are used: the filters first (a row failing one is left out
** and counted in n_filtered), then the windows under `policy`.  Errors name the file and
** line (CSV) or row (FITS) of the first row outside a window. */
int densrt_io_read_where(const char *path, const densrt_io_column *want, size_t n_want,
                         const densrt_io_filter *where, size_t n_where, densrt_io_outside policy,
                         densrt_io_table *out);

/* The same with the missing-value policy too, text and optional columns (DENSRT_IO_TEXT
** columns take no window nor filter).  The order: a row with a missing value first (an
** error, or dropped), then the filters, then the windows. */
int densrt_io_read_rules(const char *path, const densrt_io_column *want, size_t n_want, const densrt_io_rules *rules,
                         densrt_io_table *out);

/* The COLUMN of a filter's text "COLUMN OP NUMBER", into buf (len bytes, NUL-terminated);
** 0 when it is empty or too long. */
int densrt_io_filter_column(const char *text, char *buf, size_t len);

/* Parses "COLUMN OP NUMBER" (OP one of < <= > >= == !=; spaces allowed around OP), COLUMN
** one of names[0 .. n), into f (col: its index).  DENSRT_EINVAL with a message otherwise. */
int densrt_io_parse_filter(const char *text, const char *const *names, size_t n, densrt_io_filter *f);

/* Frees the columns and empties t.  Safe on an empty or already-freed table. */
void densrt_io_table_free(densrt_io_table *t);

/* An output file written to a temporary beside its destination and renamed
** into place on commit, so readers never see a half-written file. */
typedef struct {
  FILE *f;                   /* write here */
  char *path;                /* destination ("-" for standard output) */
  char *tmp;                 /* temporary file, NULL for standard output */
  void *old_mask;            /* the signal mask before open (private: a sigset_t) */
} densrt_io_out;

/* Creates PATH.tmpXXXXXX (mkstemp) beside path; "-" means standard output.
** From open to commit or abort, SIGINT, SIGTERM and SIGHUP are blocked: one that comes
** meanwhile is delivered after the file is complete (or removed), so a program killed by
** it leaves the output whole or absent, never a temporary file.
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
