/*
** io.c — numeric tables from CSV or FITS files, and atomically replaced output files.
**
** CSV rows are read with getline and split in place: quoted fields are
** unescaped inside the line buffer and each wanted cell is NUL-terminated
** there for strtod, so a row costs no allocation.  FITS tables go through
** cfitsio, one whole column at a time.
*/
#define _GNU_SOURCE      /* memfd_create */
#include "io.h"
#include "json.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <fitsio.h>
#include <zlib.h>

#define LIST_NAMES 20      /* columns named in a "no column" message before "..." */
#define SHOW_CELL 64       /* bytes of a bad cell quoted in a message */

/* Growing column storage shared by both readers: numbers, text cells (owned) and each
** row's number in the file. */
enum { COL_NUMBER, COL_TEXT, COL_ABSENT };

typedef struct {
  double **cols;
  char ***text;
  size_t *rowno;
  unsigned char *kind;     /* COL_* per column */
  size_t n_cols, n_rows, cap;
  size_t max;              /* rows allowed by the limit (callers check before pushing) */
} store;

static void store_free(store *s)
{
  for (size_t c = 0; c < s->n_cols; c++) {
    if (s->cols)
      free(s->cols[c]);
    if (s->text && s->text[c]) {
      for (size_t r = 0; r < s->n_rows; r++)
        free(s->text[c][r]);
      free(s->text[c]);
    }
  }
  free(s->cols);
  free(s->text);
  free(s->rowno);
  free(s->kind);
  s->cols = NULL;
  s->text = NULL;
  s->rowno = NULL;
  s->kind = NULL;
  s->n_rows = s->cap = 0;
}

/* kind: per column, COL_*. */
static int store_init(store *s, const unsigned char *kind, size_t n_cols, size_t cap, size_t max)
{
  s->n_cols = n_cols;
  s->n_rows = 0;
  s->max = max;
  s->cap = cap < max ? cap : max;
  if (s->cap == 0)
    s->cap = 1;
  s->cols = calloc(n_cols, sizeof *s->cols);
  s->text = calloc(n_cols, sizeof *s->text);
  s->kind = malloc(n_cols ? n_cols : 1);
  s->rowno = malloc(s->cap * sizeof *s->rowno);
  if (!s->cols || !s->text || !s->kind || !s->rowno)
    return 0;
  memcpy(s->kind, kind, n_cols);
  for (size_t c = 0; c < n_cols; c++)
    if ((kind[c] == COL_NUMBER && !(s->cols[c] = malloc(s->cap * sizeof **s->cols))) ||
        (kind[c] == COL_TEXT && !(s->text[c] = calloc(s->cap, sizeof **s->text))))
      return 0;
  return 1;
}

static int store_grow(store *s)
{
  /* doubling, but never past the limit: the table stays within it */
  size_t cap = s->cap > s->max / 2 ? s->max : 2 * s->cap;
  if (cap <= s->cap)
    cap = s->cap + 1;
  for (size_t c = 0; c < s->n_cols; c++) {
    if (s->cols[c]) {
      double *col = realloc(s->cols[c], cap * sizeof *col);
      if (!col)
        return 0;
      s->cols[c] = col;
    }
    if (s->text[c]) {
      char **col = realloc(s->text[c], cap * sizeof *col);
      if (!col)
        return 0;
      s->text[c] = col;
    }
  }
  size_t *rowno = realloc(s->rowno, cap * sizeof *rowno);
  if (!rowno)
    return 0;
  s->rowno = rowno;
  s->cap = cap;
  return 1;
}

/* Appends a row: the numbers of row[], the text cells of cells[] (taken over), its number. */
static int store_push(store *s, const double *row, char **cells, size_t rowno)
{
  if (s->n_rows == s->cap && !store_grow(s))
    return 0;
  for (size_t c = 0; c < s->n_cols; c++) {
    if (s->cols[c])
      s->cols[c][s->n_rows] = row[c];
    if (s->text[c]) {
      s->text[c][s->n_rows] = cells[c];
      cells[c] = NULL;
    }
  }
  s->rowno[s->n_rows++] = rowno;
  return 1;
}

/* Which rows are used, and how many were not: missing values, the filters, the windows. */
typedef struct {
  const densrt_io_filter *where;
  size_t n_where;
  densrt_io_outside policy;
  densrt_io_missing missing;
  const unsigned *flags;       /* per requested column (NULL: none) */
  const unsigned char *kind;   /* COL_* per requested column, set by the reader */
  size_t n_dropped, n_filtered, n_kept_outside, n_missing;
} selection;

static unsigned col_flags(const selection *sel, size_t c)
{
  return sel->flags ? sel->flags[c] : 0;
}

/* Hands the columns and the counts over to the table. */
static int store_finish(store *s, densrt_io_table *out, const selection *sel)
{
  out->present = malloc(s->n_cols ? s->n_cols : 1);
  if (!out->present)
    return 0;
  for (size_t c = 0; c < s->n_cols; c++)
    out->present[c] = s->kind[c] != COL_ABSENT;
  out->n_rows = s->n_rows;
  out->n_cols = s->n_cols;
  out->cols = s->cols;
  out->text = s->text;
  out->row = s->rowno;
  out->n_dropped = sel->n_dropped;
  out->n_filtered = sel->n_filtered;
  out->n_kept_outside = sel->n_kept_outside;
  out->n_missing = sel->n_missing;
  s->cols = NULL;
  s->text = NULL;
  s->rowno = NULL;
  s->n_rows = 0;
  return 1;
}

/* "a, b, c" or "a, b, ..., t, ..." for messages about missing columns. */
static void list_names(char *buf, size_t size, char *const *names, size_t n)
{
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && i < LIST_NAMES; i++) {
    int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", names[i]);
    if (w < 0 || (size_t)w >= size - len) {
      snprintf(buf + size - 4, 4, "...");
      return;
    }
    len += (size_t)w;
  }
  if (n > LIST_NAMES)
    snprintf(buf + len, size - len, ", ...");
}

static int missing_column(const char *path, const char *name, char *const *names, size_t n)
{
  char list[768];
  list_names(list, sizeof list, names, n);
  DENSRT_ERROR(DENSRT_EFORMAT, "%s: no column '%s' (columns: %s)", path, name, list);
}

static int outside(double x, const densrt_io_column *w)
{
  return x < w->lo || x > w->hi;
}

/* "PATH:LINE: ..." (sep ":") or "PATH: row R: ..." (sep ": row "). */
static int outside_error(const char *path, const char *sep, size_t at, const char *name, double x,
                         const densrt_io_column *w)
{
  DENSRT_ERROR(DENSRT_EDOM, "%s%s%zu: column '%s': value %s is outside the window [%s, %s]", path, sep, at, name,
               densrt_io_shortest(x).s, densrt_io_shortest(w->lo).s, densrt_io_shortest(w->hi).s);
}

static int filter_pass(const densrt_io_filter *f, double v)
{
  switch (f->op) {
  case DENSRT_IO_LT: return v < f->x;
  case DENSRT_IO_LE: return v <= f->x;
  case DENSRT_IO_GT: return v > f->x;
  case DENSRT_IO_GE: return v >= f->x;
  case DENSRT_IO_EQ: return v == f->x;
  default: return v != f->x;
  }
}

/* The row rule (see densrt_io_read_where): *keep tells whether the row is used. */
static int select_row(selection *sel, const double *row, const densrt_io_column *want, size_t n_want,
                      const char *path, const char *sep, size_t at, int *keep)
{
  *keep = 0;
  for (size_t i = 0; i < sel->n_where; i++)
    if (!filter_pass(&sel->where[i], row[sel->where[i].col])) {
      sel->n_filtered++;
      return DENSRT_OK;
    }
  for (size_t c = 0; c < n_want; c++) {
    if (sel->kind[c] != COL_NUMBER || !outside(row[c], &want[c]))
      continue;
    if (sel->policy == DENSRT_IO_OUTSIDE_ERROR)
      return outside_error(path, sep, at, want[c].name, row[c], &want[c]);
    if (sel->policy == DENSRT_IO_OUTSIDE_DROP) {
      sel->n_dropped++;
      return DENSRT_OK;
    }
    sel->n_kept_outside++;
    break;
  }
  *keep = 1;
  return DENSRT_OK;
}

/* The COLUMN of "COLUMN OP NUMBER": [*b, *e) of text, after blanks, up to a blank or an operator. */
static void filter_name(const char *text, const char **b, const char **e)
{
  const char *p = text;
  while (*p == ' ')
    p++;
  *b = p;
  while (*p && *p != ' ' && !strchr("<>=!", *p))
    p++;
  *e = p;
}

int densrt_io_filter_column(const char *text, char *buf, size_t len)
{
  const char *b, *e;
  filter_name(text, &b, &e);
  if (e == b || (size_t)(e - b) >= len)
    return 0;
  memcpy(buf, b, (size_t)(e - b));
  buf[e - b] = '\0';
  return 1;
}

int densrt_io_parse_filter(const char *text, const char *const *names, size_t n, densrt_io_filter *f)
{
  static const struct {
    const char *s;
    densrt_io_op op;
  } ops[] = {{"<=", DENSRT_IO_LE}, {">=", DENSRT_IO_GE}, {"==", DENSRT_IO_EQ}, {"!=", DENSRT_IO_NE},
             {"<", DENSRT_IO_LT}, {">", DENSRT_IO_GT}};
  const char *b, *p;
  filter_name(text, &b, &p);
  size_t len = (size_t)(p - b), col = n;
  for (size_t d = 0; d < n; d++)
    if (strlen(names[d]) == len && !strncmp(names[d], b, len))
      col = d;
  while (*p == ' ')
    p++;
  int found = 0;
  for (size_t i = 0; i < sizeof ops / sizeof *ops && !found; i++)
    if (!strncmp(p, ops[i].s, strlen(ops[i].s))) {
      f->op = ops[i].op;
      p += strlen(ops[i].s);
      found = 1;
    }
  char *end;
  f->x = strtod(p, &end);
  int number = end != p;   /* before the spaces after it are skipped */
  while (*end == ' ')
    end++;
  f->col = col;
  if (col == n || !found || !number || *end || !isfinite(f->x))
    DENSRT_ERROR(DENSRT_EINVAL, "expected 'COLUMN OP NUMBER' with a known column and OP one of < <= > >= == !=, "
                 "got '%s'", text);
  return DENSRT_OK;
}

densrt_io_number densrt_io_shortest(double x)
{
  densrt_io_number n;
  densrt_json_format_number(n.s, sizeof n.s, x);   /* one rule for every number we print */
  return n;
}

/*
** {======================================================
** Limits
** =======================================================
*/

static uint64_t max_input;          /* 0: from the environment or the default */
static const char *max_input_hint;  /* NULL: the environment variable */

typedef struct {
  uint64_t bytes;
  const char *hint;
} limit;

void densrt_io_set_max_input(uint64_t bytes, const char *hint)
{
  max_input = bytes;
  max_input_hint = hint;
}

int densrt_io_parse_size(const char *text, uint64_t *bytes)
{
  static const char units[] = "KMGT";
  const char *p = text;
  uint64_t v = 0;
  if (!p || *p < '0' || *p > '9')
    return DENSRT_EINVAL;
  for (; *p >= '0' && *p <= '9'; p++)
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
      return DENSRT_EINVAL;
  if (*p) {
    const char *u = strchr(units, *p++);
    if (!u)
      return DENSRT_EINVAL;
    if (p[0] == 'i' && p[1] == 'B')
      p += 2;
    int shift = 10 * (int)(u - units + 1);
    if (*p || v > UINT64_MAX >> shift)
      return DENSRT_EINVAL;
    v <<= shift;
  }
  if (v == 0)
    return DENSRT_EINVAL;
  *bytes = v;
  return DENSRT_OK;
}

int densrt_io_max_input(uint64_t *bytes)
{
  const char *env = getenv("DENSRT_MAX_INPUT_BYTES");
  *bytes = DENSRT_IO_MAX_INPUT_DEFAULT;
  if (max_input)
    *bytes = max_input;
  else if (env && *env && densrt_io_parse_size(env, bytes))
    DENSRT_ERROR(DENSRT_EINVAL, "DENSRT_MAX_INPUT_BYTES: '%.64s' is not a size in bytes (such as 4294967296, 512M "
                 "or 4G)", env);
  return DENSRT_OK;
}

/* "8 GiB", "1536 KiB", "1000 bytes": the largest binary unit that divides b. */
static densrt_io_number size_text(uint64_t b)
{
  static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
  int u = 0;
  while (u < 4 && b % 1024 == 0) {
    b /= 1024;
    u++;
  }
  densrt_io_number n;
  snprintf(n.s, sizeof n.s, "%" PRIu64 " %s", b, units[u]);
  return n;
}

static int too_much_input(const char *path, const limit *lim, const char *how)
{
  DENSRT_ERROR(DENSRT_ENOMEM, "%s: more than %" PRIu64 " bytes of input%s (limit %s; raise it with %s)", path,
               lim->bytes, how, size_text(lim->bytes).s, lim->hint);
}

/* The rows of n_cols values that fit in the limit. */
static size_t max_rows(const limit *lim, size_t n_cols)
{
  uint64_t rows = lim->bytes / sizeof(double) / (n_cols ? n_cols : 1);
  return rows > SIZE_MAX ? SIZE_MAX : (size_t)rows;
}

/* "PATH:LINE: ..." (sep ":") or "PATH: HDU N: ..." (sep ": HDU "). */
static int too_many_rows(const char *path, const char *sep, size_t at, const limit *lim, size_t n_cols)
{
  size_t rows = max_rows(lim, n_cols);
  DENSRT_ERROR(DENSRT_ENOMEM, "%s%s%zu: more than %zu rows (the limit of %s holds %zu rows of %zu column%s; raise "
               "it with %s)", path, sep, at, rows, size_text(lim->bytes).s, rows, n_cols, n_cols == 1 ? "" : "s",
               lim->hint);
}

/* }====================================================== */


/*
** {======================================================
** Input
** =======================================================
*/

/*
** Every input is read through one seekable file descriptor: the file itself,
** or, for a pipe (process substitution) or a device, a memory file (memfd)
** holding what came through it.  gzip is unpacked here into another memory
** file (for FITS, cfitsio would allocate whatever size a gzip trailer claims),
** and the format is sniffed from the unpacked bytes.  What is held in memory
** never exceeds the limit.  FITS is mapped and checked (below) before cfitsio
** reads it through its disk driver, which checks every read against the end
** of the file (its memory driver does not).
*/
typedef struct {
  const unsigned char *p;
  size_t n;
} mapping;

static int memfile(const char *path, int *fd)
{
  if ((*fd = memfd_create("densc-input", MFD_CLOEXEC)) < 0)
    DENSRT_ERROR(DENSRT_EIO, "%s: cannot create a memory file: %s", path, strerror(errno));
  return DENSRT_OK;
}

static int write_all(const char *path, int fd, const void *p, size_t n)
{
  for (size_t done = 0; done < n;) {
    ssize_t w = write(fd, (const char *)p + done, n - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w == 0)
      errno = ENOSPC;   /* write(2) made no progress and set no error */
    if (w <= 0)
      DENSRT_ERROR(errno == ENOSPC || errno == ENOMEM ? DENSRT_ENOMEM : DENSRT_EIO,
                   "%s: cannot hold the input in memory: %s", path, strerror(errno));
    done += (size_t)w;
  }
  return DENSRT_OK;
}

/* A memory file with the rest of f, at most lim->bytes of it. */
static int copy_stream(const char *path, FILE *f, const limit *lim, int *fd)
{
  int st = memfile(path, fd);
  char buf[1 << 16];
  size_t got;
  uint64_t total = 0;
  while (!st && (got = fread(buf, 1, sizeof buf, f)) > 0)
    st = (total += got) > lim->bytes ? too_much_input(path, lim, "") : write_all(path, *fd, buf, got);
  if (!st && ferror(f))
    st = DENSRT_FAIL(DENSRT_EIO, "%s: read error: %s", path, strerror(errno));
  if (!st && lseek(*fd, 0, SEEK_SET) != 0)
    st = DENSRT_FAIL(DENSRT_EIO, "%s: %s", path, strerror(errno));
  if (st)
    close(*fd);
  return st;
}

static int map_fd(const char *path, int fd, mapping *m)
{
  struct stat sb;
  m->p = NULL;
  m->n = 0;
  if (fstat(fd, &sb) != 0)
    DENSRT_ERROR(DENSRT_EIO, "%s: %s", path, strerror(errno));
  if (sb.st_size == 0)
    return DENSRT_OK;
  if ((uintmax_t)sb.st_size > SIZE_MAX)
    DENSRT_ERROR(DENSRT_ENOMEM, "%s: too large to map", path);
  void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    DENSRT_ERROR(DENSRT_EIO, "%s: cannot map: %s", path, strerror(errno));
  m->p = p;
  m->n = (size_t)sb.st_size;
  return DENSRT_OK;
}

static void unmap(mapping *m)
{
  if (m->p)
    munmap((void *)m->p, m->n);
  m->p = NULL;
  m->n = 0;
}

/* Unpacks gzip data (one member or several concatenated; trailing bytes that do
** not start a member are ignored, as gzip does) into a new memory file *fd, at
** most lim->bytes of it. */
static int gunzip(const char *path, const mapping *in, const limit *lim, int *fd)
{
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 15 + 16) != Z_OK)
    DENSRT_ERROR(DENSRT_ENOMEM, "%s: out of memory", path);
  int st = memfile(path, fd);
  const size_t chunk = 1u << 30;       /* z_stream counts in unsigned int */
  size_t used = 0;
  uint64_t total = 0;
  unsigned char out[1 << 16];
  while (!st) {
    if (z.avail_in == 0 && used < in->n) {
      z.next_in = (unsigned char *)in->p + used;
      z.avail_in = (unsigned)(in->n - used < chunk ? in->n - used : chunk);
      used += z.avail_in;
    }
    z.next_out = out;
    z.avail_out = sizeof out;
    int r = inflate(&z, Z_NO_FLUSH);
    size_t got = sizeof out - z.avail_out;
    if ((total += got) > lim->bytes)
      st = too_much_input(path, lim, " once unpacked");
    else
      st = write_all(path, *fd, out, got);
    if (st)
      break;
    if (r == Z_STREAM_END) {
      size_t left = z.avail_in + (in->n - used);
      const unsigned char *next = z.avail_in ? z.next_in : in->p + used;
      if (left >= 2 && next[0] == 0x1F && next[1] == 0x8B && inflateReset(&z) == Z_OK)
        continue;
      break;
    }
    if (r == Z_BUF_ERROR && z.avail_in == 0 && used == in->n)
      st = DENSRT_FAIL(DENSRT_EFORMAT, "%s: cannot unpack: unexpected end of file", path);
    else if (r == Z_MEM_ERROR)
      st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory unpacking the file", path);
    else if (r != Z_OK && r != Z_BUF_ERROR)
      st = DENSRT_FAIL(DENSRT_EFORMAT, "%s: cannot unpack: %s", path, z.msg ? z.msg : "invalid compressed data");
  }
  inflateEnd(&z);
  if (st && *fd >= 0)
    close(*fd);
  return st;
}

/* A seekable descriptor *fd with the input's bytes, unpacked if gzip: f's own
** for a regular file, else a memory file of ours (*scratch = 1). */
static int open_input(const char *path, FILE *f, const limit *lim, int *fd, int *scratch)
{
  struct stat sb;
  int st = DENSRT_OK;
  *fd = fileno(f);
  *scratch = 0;
  if (fstat(*fd, &sb) != 0)
    DENSRT_ERROR(DENSRT_EIO, "%s: %s", path, strerror(errno));
  if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > lim->bytes)
    return too_much_input(path, lim, "");
  if (!S_ISREG(sb.st_mode)) {
    /* a pipe or device: it cannot be rewound after the format is sniffed */
    if ((st = copy_stream(path, f, lim, fd))) {
      *fd = -1;
      return st;
    }
    *scratch = 1;
  }
  unsigned char magic[2];
  if (pread(*fd, magic, 2, 0) == 2 && magic[0] == 0x1F && magic[1] == 0x8B) {
    mapping packed;
    int unpacked = -1;
    if (!(st = map_fd(path, *fd, &packed)))
      st = gunzip(path, &packed, lim, &unpacked);
    unmap(&packed);
    if (*scratch)
      close(*fd);
    *fd = st ? -1 : unpacked;   /* gunzip closed it on failure */
    *scratch = 1;
  }
  return st;
}

/* }====================================================== */


/*
** {======================================================
** CSV
** =======================================================
*/

typedef struct {
  const char *path;
  FILE *f;
  char *line;              /* getline buffer */
  size_t line_cap;
  size_t lineno;           /* physical line of the current line */
  const limit *lim;
  uint64_t bytes;          /* read so far */
  size_t n_fields;         /* fields in the header */
  char sep;                /* ',', '\t', or ' ' for runs of blanks (read_header finds it) */
  long *slot_of_field;     /* field -> index into cell_*, or -1 if not wanted */
  size_t *slot_of_want;    /* requested column -> slot (SIZE_MAX: an absent optional column) */
  unsigned char *kind;     /* requested column -> COL_* */
  char **cell_lo, **cell_hi; /* bounds of each wanted cell of the current row */
} csv;

typedef struct {
  const char *name;
  size_t field;
} header_name;

static int is_blank(char c)
{
  return c == ' ' || c == '\t';
}

/* Reads the next line that is not blank or a comment; *end gets its end.
** Returns 1 for a line, 0 at end of file, or a negative status after an error. */
static int next_line(csv *r, char **start, char **end)
{
  for (;;) {
    errno = 0;
    ssize_t n = getline(&r->line, &r->line_cap, r->f);
    if (n < 0) {
      if (ferror(r->f))
        return -DENSRT_FAIL(DENSRT_EIO, "%s: read error: %s", r->path, strerror(errno ? errno : EIO));
      if (errno == ENOMEM)
        return -DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", r->path);
      return 0;
    }
    r->lineno++;
    if ((r->bytes += (uint64_t)n) > r->lim->bytes)
      return -too_much_input(r->path, r->lim, "");
    char *s = r->line, *e = r->line + n;
    if (memchr(s, '\0', (size_t)n))
      return -DENSRT_FAIL(DENSRT_EFORMAT, "%s:%zu: binary data (NUL byte) in a text file", r->path, r->lineno);
    if (r->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
      s += 3;
    if (e > s && e[-1] == '\n')
      e--;
    if (e > s && e[-1] == '\r')
      e--;
    *e = '\0';
    const char *q = s;
    while (q < e && is_blank(*q))
      q++;
    if (q == e || *q == '#')
      continue;
    *start = s;
    *end = e;
    return 1;
  }
}

/* A separator, and a blank around a field: in a tab-separated table a tab is not a blank;
** in a whitespace-separated one every blank separates. */
static int is_sep(const csv *r, char c)
{
  return r->sep == ' ' ? is_blank(c) : c == r->sep;
}

static int is_pad(const csv *r, char c)
{
  return c == ' ' || (c == '\t' && r->sep != '\t');
}

/* field -> pad* ( '"' { char | '""' } '"' | { char except sep } ) pad*
** Leaves *pp at the separator or the end; [*lo, *hi) is the unescaped, trimmed content. */
static int next_field(csv *r, char **pp, char *end, char **lo, char **hi)
{
  char *p = *pp;
  while (p < end && is_pad(r, *p))
    p++;
  if (p < end && *p == '"') {
    char *rd = p + 1, *wr = p + 1;
    *lo = wr;
    for (;;) {
      if (rd >= end)
        DENSRT_ERROR(DENSRT_EFORMAT, "%s:%zu: unterminated quoted field", r->path, r->lineno);
      if (*rd == '"') {
        if (rd + 1 < end && rd[1] == '"') {
          *wr++ = '"';
          rd += 2;
          continue;
        }
        rd++;
        break;
      }
      *wr++ = *rd++;
    }
    *hi = wr;
    while (rd < end && is_pad(r, *rd))
      rd++;
    if (rd < end && !is_sep(r, *rd))
      DENSRT_ERROR(DENSRT_EFORMAT, "%s:%zu: unexpected text after a quoted field", r->path, r->lineno);
    *pp = rd;
    return DENSRT_OK;
  }
  char *q = p;
  if (r->sep == ',') {
    q = memchr(p, ',', (size_t)(end - p));
    if (!q)
      q = end;
  } else {
    while (q < end && !is_sep(r, *q))
      q++;
  }
  *pp = q;
  *lo = p;
  while (q > p && is_pad(r, q[-1]))
    q--;
  *hi = q;
  return DENSRT_OK;
}

/* After a field: steps over its separator (and, between blank-separated fields, the
** blanks after it); 0 when the line has no more fields. */
static int more_fields(const csv *r, char **pp, char *end)
{
  char *p = *pp;
  if (p >= end)
    return 0;
  p++;
  if (r->sep == ' ') {
    while (p < end && is_blank(*p))
      p++;
    if (p == end)
      return 0;
  }
  *pp = p;
  return 1;
}

/* The separator of a header row: a comma outside quotes, else a tab, else blanks between
** names, else (one name) a comma. */
static char find_sep(const char *s, const char *e)
{
  int quoted = 0, comma = 0, tab = 0, seen = 0, gap = 0, blanks = 0;
  for (const char *p = s; p < e; p++) {
    if (*p == '"')
      quoted = !quoted;
    if (quoted)
      continue;
    comma |= *p == ',';
    tab |= *p == '\t';
    if (is_blank(*p)) {
      gap = seen;
    } else {
      blanks |= gap;   /* a name after a blank after a name */
      seen = 1;
    }
  }
  return comma ? ',' : tab ? '\t' : blanks ? ' ' : ',';
}

static int cmp_header(const void *a, const void *b)
{
  const header_name *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  return x->field < y->field ? -1 : x->field > y->field;
}

/* Finds the first name (in file order) that repeats an earlier one, or -1. */
static long first_duplicate(char *const *names, size_t n)
{
  header_name *h = malloc((n ? n : 1) * sizeof *h);
  if (!h)
    return -2;
  for (size_t i = 0; i < n; i++) {
    h[i].name = names[i];
    h[i].field = i;
  }
  qsort(h, n, sizeof *h, cmp_header);
  long best = -1;
  for (size_t i = 1; i < n; i++)
    if (strcmp(h[i].name, h[i - 1].name) == 0 && (best < 0 || h[i].field < (size_t)best))
      best = (long)h[i].field;
  free(h);
  return best;
}

/* Reads the header row and maps the requested columns to fields. */
static int read_header(csv *r, const densrt_io_column *want, size_t n_want, const selection *sel)
{
  char *s, *e;
  int got = next_line(r, &s, &e);
  if (got < 0)
    return -got;
  if (got == 0)
    DENSRT_ERROR(DENSRT_EFORMAT, "%s: empty file (no header row)", r->path);

  char **names = NULL;
  size_t n = 0, cap = 0;
  int st = DENSRT_OK;
  r->sep = find_sep(s, e);
  for (char *p = s;;) {
    char *lo, *hi;
    if ((st = next_field(r, &p, e, &lo, &hi)))
      goto done;
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) {
        st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", r->path);
        goto done;
      }
      names = nn;
    }
    if (!(names[n] = strndup(lo, (size_t)(hi - lo)))) {
      st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", r->path);
      goto done;
    }
    n++;
    if (!more_fields(r, &p, e))
      break;
  }

  long dup = first_duplicate(names, n);
  if (dup == -2) {
    st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", r->path);
    goto done;
  }
  if (dup >= 0) {
    st = DENSRT_FAIL(DENSRT_EFORMAT, "%s:%zu: duplicate column name '%s'", r->path, r->lineno, names[dup]);
    goto done;
  }

  r->n_fields = n;
  r->slot_of_field = malloc(n * sizeof *r->slot_of_field);
  r->slot_of_want = malloc(n_want * sizeof *r->slot_of_want);
  r->cell_lo = malloc(n_want * sizeof *r->cell_lo);
  r->cell_hi = malloc(n_want * sizeof *r->cell_hi);
  r->kind = malloc(n_want);
  if (!r->slot_of_field || !r->slot_of_want || !r->cell_lo || !r->cell_hi || !r->kind) {
    st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", r->path);
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    r->slot_of_field[i] = -1;
  size_t n_slots = 0;
  for (size_t c = 0; c < n_want; c++) {
    size_t i = 0;
    while (i < n && strcmp(names[i], want[c].name) != 0)
      i++;
    r->kind[c] = col_flags(sel, c) & DENSRT_IO_TEXT ? COL_TEXT : COL_NUMBER;
    if (i == n && (col_flags(sel, c) & DENSRT_IO_OPTIONAL)) {
      r->kind[c] = COL_ABSENT;
      r->slot_of_want[c] = SIZE_MAX;
      continue;
    }
    if (i == n) {
      st = missing_column(r->path, want[c].name, names, n);
      goto done;
    }
    if (r->slot_of_field[i] < 0)
      r->slot_of_field[i] = (long)n_slots++;
    r->slot_of_want[c] = (size_t)r->slot_of_field[i];
  }

done:
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return st;
}

/* The words catalogues write for a missing number (besides an empty cell and NaN). */
static int missing_word(const char *lo, const char *hi)
{
  static const char *const words[] = {"NA", "N/A", "null"};
  for (size_t i = 0; i < sizeof words / sizeof *words; i++)
    if ((size_t)(hi - lo) == strlen(words[i]) && !strncasecmp(lo, words[i], (size_t)(hi - lo)))
      return 1;
  return 0;
}

/* Reports a bad cell, quoting at most SHOW_CELL bytes of it. */
static int cell_error(csv *r, int status, const char *name, const char *lo, const char *hi)
{
  size_t n = (size_t)(hi - lo);
  int shown = n > SHOW_CELL ? SHOW_CELL : (int)n;
  const char *more = n > SHOW_CELL ? "..." : "";
  if (status == DENSRT_EMISSING) {
    if (n == 0)
      DENSRT_ERROR(status, "%s:%zu: column '%s': empty cell", r->path, r->lineno, name);
    if (!missing_word(lo, hi))   /* a NaN, written as strtod reads it */
      DENSRT_ERROR(status, "%s:%zu: column '%s': non-finite value '%.*s%s'", r->path, r->lineno, name, shown, lo,
                   more);
    DENSRT_ERROR(status, "%s:%zu: column '%s': missing value '%.*s%s'", r->path, r->lineno, name, shown, lo, more);
  }
  if (status == DENSRT_ENONFINITE) {
    /* "inf" is non-finite; a number too large for a double is out of range */
    int written_infinite = strpbrk(lo, "iI") != NULL;
    if (!written_infinite)
      DENSRT_ERROR(status, "%s:%zu: column '%s': '%.*s%s' is out of range", r->path, r->lineno, name, shown, lo,
                   more);
    DENSRT_ERROR(status, "%s:%zu: column '%s': non-finite value '%.*s%s'", r->path, r->lineno, name, shown, lo,
                 more);
  }
  DENSRT_ERROR(status, "%s:%zu: column '%s': '%.*s%s' is not a number", r->path, r->lineno, name, shown, lo,
               more);
}

/* A numeric cell: DENSRT_OK, or a status (DENSRT_EMISSING for a missing value) with
** nothing reported yet. */
static int parse_cell(char *lo, char *hi, double *x)
{
  char *stop;
  if (lo == hi)
    return DENSRT_EMISSING;
  *hi = '\0';    /* the byte after a cell is a separator, a quote or the end */
  *x = strtod(lo, &stop);
  if (stop != hi)
    return missing_word(lo, hi) ? DENSRT_EMISSING : DENSRT_EFORMAT;
  if (isnan(*x))
    return DENSRT_EMISSING;
  return isfinite(*x) ? DENSRT_OK : DENSRT_ENONFINITE;
}

static int read_rows(csv *r, const densrt_io_column *want, size_t n_want, selection *sel, store *s, double *row)
{
  size_t seen = 0;
  char **cells = calloc(n_want ? n_want : 1, sizeof *cells);
  int st = cells ? DENSRT_OK : DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", r->path);
  while (!st) {
    char *p, *e;
    int got = next_line(r, &p, &e);
    if (got <= 0) {
      st = -got;
      break;
    }
    seen++;
    size_t nf = 0;
    for (;;) {
      char *lo, *hi;
      if ((st = next_field(r, &p, e, &lo, &hi)))
        break;
      if (nf < r->n_fields && r->slot_of_field[nf] >= 0) {
        r->cell_lo[r->slot_of_field[nf]] = lo;
        r->cell_hi[r->slot_of_field[nf]] = hi;
      }
      nf++;
      if (!more_fields(r, &p, e))
        break;
    }
    if (st)
      break;
    if (nf != r->n_fields) {
      st = DENSRT_FAIL(DENSRT_EFORMAT, "%s:%zu: expected %zu fields, found %zu", r->path, r->lineno, r->n_fields,
                       nf);
      break;
    }
    int missing = 0;
    for (size_t c = 0; c < n_want && !st && !missing; c++) {
      row[c] = 0;
      if (r->kind[c] == COL_ABSENT)
        continue;
      char *lo = r->cell_lo[r->slot_of_want[c]], *hi = r->cell_hi[r->slot_of_want[c]];
      if (r->kind[c] == COL_TEXT) {
        free(cells[c]);
        if (!(cells[c] = strndup(lo, (size_t)(hi - lo))))
          st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", r->path);
        continue;
      }
      int bad = parse_cell(lo, hi, &row[c]);
      if (bad == DENSRT_EMISSING && sel->missing == DENSRT_IO_MISSING_DROP)
        missing = 1;
      else if (bad)
        st = cell_error(r, bad, want[c].name, lo, hi);
    }
    if (st)
      break;
    if (missing) {
      sel->n_missing++;
      continue;
    }
    int keep;
    if ((st = select_row(sel, row, want, n_want, r->path, ":", r->lineno, &keep)) || !keep)
      continue;
    if (s->n_rows == s->max)
      st = too_many_rows(r->path, ":", r->lineno, r->lim, n_want);
    else if (!store_push(s, row, cells, seen))
      st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", r->path);
  }
  for (size_t c = 0; cells && c < n_want; c++)
    free(cells[c]);
  free(cells);
  if (!st && seen == 0)
    st = DENSRT_FAIL(DENSRT_EFORMAT, "%s: no data rows", r->path);
  return st;
}

static int read_csv(const char *path, FILE *f, const limit *lim, const densrt_io_column *want, size_t n_want,
                    selection *sel, densrt_io_table *out)
{
  csv r = { 0 };
  store s = { 0 };
  double *row = malloc(n_want * sizeof *row);
  r.path = path;
  r.f = f;
  r.lim = lim;
  int st = row ? read_header(&r, want, n_want, sel) : DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", path);
  sel->kind = r.kind;
  if (!st && !store_init(&s, r.kind, n_want, 1024, max_rows(lim, n_want)))
    st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", path);
  if (!st)
    st = read_rows(&r, want, n_want, sel, &s, row);
  if (!st && !store_finish(&s, out, sel))
    st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", path);
  if (!st)
    out->sep = r.sep;
  store_free(&s);
  free(row);
  free(r.line);
  free(r.slot_of_field);
  free(r.slot_of_want);
  free(r.cell_lo);
  free(r.cell_hi);
  free(r.kind);
  return st;
}

/* }====================================================== */


/*
** {======================================================
** FITS
** =======================================================
*/

static int fits_fail(const char *path, int status)
{
  char text[FLEN_STATUS];
  fits_get_errstatus(status, text);
  fits_clear_errmsg();    /* cfitsio keeps its own message stack; we report only the status */
  DENSRT_ERROR(DENSRT_EIO, "%s: FITS error: %s", path, text);
}

static void free_names(char **names, int n)
{
  for (int i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

/* Column names (TTYPEn) of the current table HDU; missing ones are "". */
static int table_names(fitsfile *ff, char ***out, int *n_out, int *status)
{
  int n = 0;
  *out = NULL;
  *n_out = 0;
  if (fits_get_num_cols(ff, &n, status))
    return *status;
  char **names = calloc(n > 0 ? (size_t)n : 1, sizeof *names);
  if (!names)
    return *status = MEMORY_ALLOCATION;
  for (int i = 0; i < n; i++) {
    char key[FLEN_KEYWORD], value[FLEN_VALUE] = "";
    fits_make_keyn("TTYPE", i + 1, key, status);
    if (fits_read_key(ff, TSTRING, key, value, NULL, status) == KEY_NO_EXIST) {
      *status = 0;
      fits_clear_errmsg();
      value[0] = '\0';
    }
    if (*status || !(names[i] = strdup(value))) {
      free_names(names, i);
      return *status ? *status : (*status = MEMORY_ALLOCATION);
    }
  }
  *out = names;
  *n_out = n;
  return 0;
}

static int is_numeric_type(int typecode)
{
  switch (typecode) {
  case TBYTE: case TSBYTE: case TSHORT: case TUSHORT: case TINT: case TUINT:
  case TLONG: case TULONG: case TLONGLONG: case TFLOAT: case TDOUBLE:
    return 1;
  default:
    return 0;
  }
}

/* Moves to the first table HDU holding every wanted column and fills colnum. */
static int find_table(const char *path, fitsfile *ff, const densrt_io_column *want, size_t n_want, int *colnum,
                      const selection *sel)
{
  int status = 0, n_hdu = 0, found = 0, st = DENSRT_OK;
  char **first = NULL;     /* names in the first table, for the "no column" message */
  int n_first = 0;
  const char *missing = NULL;
  if (fits_get_num_hdus(ff, &n_hdu, &status))
    return fits_fail(path, status);
  for (int h = 1; h <= n_hdu && !found && !st; h++) {
    int type, n = 0;
    char **names;
    if (fits_movabs_hdu(ff, h, &type, &status))
      break;
    if (type != ASCII_TBL && type != BINARY_TBL)
      continue;
    if (table_names(ff, &names, &n, &status))
      break;
    const char *miss = NULL;
    for (size_t c = 0; c < n_want && !st; c++) {
      colnum[c] = 0;
      for (int i = 0; i < n && !st; i++) {
        if (strcasecmp(names[i], want[c].name) != 0)
          continue;
        if (colnum[c])
          st = DENSRT_FAIL(DENSRT_EFORMAT, "%s: HDU %d: duplicate column name '%s'", path, h, names[i]);
        colnum[c] = i + 1;
      }
      if (!colnum[c] && !miss && !(col_flags(sel, c) & DENSRT_IO_OPTIONAL))
        miss = want[c].name;
    }
    found = !miss;
    if (!first) {
      first = names;
      n_first = n;
      missing = miss;
    } else {
      free_names(names, n);
    }
  }
  if (!st) {
    if (status)
      st = fits_fail(path, status);
    else if (!first)
      st = DENSRT_FAIL(DENSRT_EFORMAT, "%s: no table in FITS file", path);
    else if (!found)
      st = missing_column(path, missing, first, (size_t)n_first);
  }
  free_names(first, n_first);
  return st;
}

/* TSCALn = 0 is legal to cfitsio and turns every value of the column into TZEROn:
** refused, as no catalogue means that. */
static int check_scaling(const char *path, fitsfile *ff, const densrt_io_column *want, size_t n_want,
                         const int *colnum, const selection *sel)
{
  int hdu = 0;
  fits_get_hdu_num(ff, &hdu);
  for (size_t c = 0; c < n_want; c++) {
    char key[FLEN_KEYWORD];
    double scale = 1, zero = 0;
    int status = 0;
    if (!colnum[c] || (col_flags(sel, c) & DENSRT_IO_TEXT))
      continue;
    fits_make_keyn("TZERO", colnum[c], key, &status);
    if (fits_read_key(ff, TDOUBLE, key, &zero, NULL, &status))
      zero = 0;
    status = 0;
    fits_make_keyn("TSCAL", colnum[c], key, &status);
    int scaled = fits_read_key(ff, TDOUBLE, key, &scale, NULL, &status) == 0;
    fits_clear_errmsg();    /* missing keys are the usual case */
    if (scaled && scale == 0)
      DENSRT_ERROR(DENSRT_EFORMAT, "%s: HDU %d: column '%s': %s = 0 (every value would read as %s)", path, hdu,
                   want[c].name, key, densrt_io_shortest(zero).s);
  }
  return DENSRT_OK;
}

/*
** Before cfitsio sees a file, its structure is walked here HDU by HDU, card by
** card, skipping each data unit by the size its header declares, for things
** cfitsio gets wrong on its own:
** - cfitsio 4.2 overflows a buffer (an abort under Debian's fortified build)
**   when a table parameter card such as TTYPEn has a long unquoted value;
** - a data unit cut short, or declared larger than any file (2^63 bytes or
**   more), is named here (cfitsio says only "error reading from FITS file");
** - an HDU with a BITPIX that is not one of the six is named here (cfitsio
**   takes the file to end before it: "no table in FITS file").
** Anything else odd (no END card, negative sizes) stops the walk and is left
** for cfitsio to report.
*/
#define FITS_RECORD 2880

static long long card_int(const unsigned char *card)
{
  char buf[72];
  memcpy(buf, card + 10, 70);
  buf[70] = '\0';
  return strtoll(buf, NULL, 10);
}

/* The value of a card as written, without blanks or comment. */
static const char *card_value(const unsigned char *card, int *len)
{
  const char *v = (const char *)card + 10, *stop = (const char *)card + 80;
  while (v < stop && *v == ' ')
    v++;
  const char *e = v;
  while (e < stop && *e != '/')
    e++;
  while (e > v && e[-1] == ' ')
    e--;
  *len = (int)(e - v);
  return v;
}

/* The integer value of a header keyword: its first occurrence counts, as in cfitsio. */
static void card_first(const unsigned char *card, long long *value, int *seen)
{
  if (!*seen)
    *value = card_int(card);
  *seen = 1;
}

static int valid_bitpix(long long b)
{
  return b == 8 || b == 16 || b == 32 || b == 64 || b == -32 || b == -64;
}

/* The data size an HDU header declares, |BITPIX|/8 * GCOUNT * (PCOUNT + NAXIS1 * ... *
** NAXISn), where random groups (NAXIS1 = 0, GROUPS = T) leave NAXIS1 out.  Every
** value comes from the file, so the arithmetic is checked: returns 1 when the size
** is 2^63 bytes or more.  A header cfitsio will refuse anyway (no valid BITPIX,
** negative sizes) declares 0 here and is left for cfitsio to report. */
static int data_size(long long bitpix, long long naxis, const long long *axis, int groups, long long pcount,
                     long long gcount, long long *out)
{
  *out = 0;
  if (!valid_bitpix(bitpix) || naxis <= 0 || naxis > 999 || pcount < 0 || gcount < 0)
    return 0;
  long long prod = 1, size;
  for (long long i = 1; i <= naxis; i++) {
    if (axis[i] < 0)
      return 0;
    if (i == 1 && axis[i] == 0 && groups)
      continue;
    if (__builtin_mul_overflow(prod, axis[i], &prod))
      return 1;
  }
  if (__builtin_add_overflow(pcount, prod, &size) || __builtin_mul_overflow(size, gcount, &size) ||
      __builtin_mul_overflow(size, (bitpix < 0 ? -bitpix : bitpix) / 8, &size))
    return 1;
  *out = size;
  return 0;
}

static int fits_check(const char *path, const unsigned char *p, size_t n)
{
  size_t at = 0;
  for (int hdu = 1; hdu <= 10000; hdu++) {
    long long bitpix = 0, naxis = 0, pcount = 0, gcount = 1, cards = 0, axis[1000] = { 0 };
    int seen[5] = { 0 }, axis_seen[1000] = { 0 }, end = 0, groups = 0;
    size_t start = at;
    const unsigned char *bitpix_card = NULL;
    while (!end) {
      if (n - at < 80) {
        /* a header that starts and does not end (bytes after the last HDU that start none are ignored) */
        if (n - start >= 9 && (!memcmp(p + start, "XTENSION=", 9) || !memcmp(p + start, "SIMPLE  =", 9)))
          DENSRT_ERROR(DENSRT_EFORMAT, "%s: truncated FITS file: the header of HDU %d has no END card", path, hdu);
        return DENSRT_OK;
      }
      const unsigned char *card = p + at;
      at += 80;
      cards++;
      /* the keyword field as cfitsio reads it: a NUL ends a name as a blank does ("END"
         and NULs is an END card; found by fuzzing: the walk went on past it) */
      unsigned char key[10];
      for (int i = 0; i < 10; i++)
        key[i] = card[i] ? card[i] : ' ';
      int k = 0;
      if (!memcmp(key, "END     ", 8))
        end = 1;
      else if (!memcmp(key, "BITPIX  =", 9)) {
        if (!seen[0])
          bitpix_card = card;
        card_first(card, &bitpix, &seen[0]);
      }
      else if (!memcmp(key, "NAXIS   =", 9))
        card_first(card, &naxis, &seen[1]);
      else if (!memcmp(key, "PCOUNT  =", 9))
        card_first(card, &pcount, &seen[2]);
      else if (!memcmp(key, "GCOUNT  =", 9))
        card_first(card, &gcount, &seen[3]);
      else if (!memcmp(key, "GROUPS  =", 9) && !seen[4]++)
        groups = memchr(card + 10, 'T', 20) != NULL;
      else if (!memcmp(key, "NAXIS", 5) && key[5] >= '1' && key[5] <= '9' && key[8] == '=' &&
               sscanf((const char *)card + 5, "%3d", &k) == 1 && k <= 999)
        card_first(card, &axis[k], &axis_seen[k]);
      else if (key[0] == 'T' && key[8] == '=') {
        /* TTYPEn, TFORMn, TUNITn, TDIMn, ...: a value is a quoted string or a short number
           (cfitsio reads one right after the '=' too: "TTYPE1  =AAAA...", found by fuzzing) */
        const unsigned char *v = card + 9, *stop = card + 80;
        while (v < stop && *v == ' ')
          v++;
        size_t len = 0;
        while (v + len < stop && v[len] != ' ' && v[len] != '/')
          len++;
        if (v < stop && *v != '\'' && len > 40)
          DENSRT_ERROR(DENSRT_EFORMAT, "%s: malformed FITS header card '%.8s' in HDU %d (an unquoted value of %zu "
                       "characters)", path, (const char *)card, hdu, len);
      }
    }
    if (bitpix_card && !valid_bitpix(bitpix)) {
      int len = 0;
      const char *v = card_value(bitpix_card, &len);
      DENSRT_ERROR(DENSRT_EFORMAT, "%s: malformed FITS header in HDU %d: BITPIX = %.*s (it must be 8, 16, 32, 64, "
                   "-32 or -64)", path, hdu, len, v);
    }
    long long data = 0, pad = (FITS_RECORD - (cards * 80) % FITS_RECORD) % FITS_RECORD;
    int huge = data_size(bitpix, naxis, axis, groups, pcount, gcount, &data);
    size_t left = n - at > (size_t)pad ? n - at - (size_t)pad : 0;
    if (huge)
      DENSRT_ERROR(DENSRT_EFORMAT, "%s: truncated FITS file: HDU %d declares 2^63 bytes of data or more, the file "
                   "has %zu", path, hdu, left);
    if ((unsigned long long)data > left)
      DENSRT_ERROR(DENSRT_EFORMAT, "%s: truncated FITS file: HDU %d declares %lld bytes of data, the file has %zu",
                   path, hdu, data, left);
    long long skip = pad + (data + FITS_RECORD - 1) / FITS_RECORD * FITS_RECORD;
    if ((unsigned long long)skip >= n - at)
      return DENSRT_OK;   /* the last HDU (its final record may be unpadded) */
    at += (size_t)skip;
  }
  return DENSRT_OK;
}

/* Reads the table from fd (seekable; scratch: a memory file of ours that may be
** extended). */
/* Column c of a FITS table as text, one malloc'ed string a row (see io.h). */
static int read_fits_text(const char *path, fitsfile *ff, int colnum, int typecode, long repeat, long width,
                          size_t nr, char **text)
{
  int status = 0, anynul = 0;
  char buf[64];
  if (typecode == TSTRING) {
    size_t w = (size_t)(width > 0 ? width : 1);
    char *cell = malloc(w + 1);
    if (!cell)
      DENSRT_ERROR(DENSRT_ENOMEM, "%s: out of memory", path);
    for (size_t r = 0; r < nr && !status; r++) {
      char *cells[1] = {cell};
      if (fits_read_col(ff, TSTRING, colnum, (LONGLONG)r + 1, 1, 1, "", cells, &anynul, &status))
        break;
      size_t n = strlen(cell);
      while (n && cell[n - 1] == ' ')
        n--;
      if (!(text[r] = strndup(cell, n))) {
        free(cell);
        DENSRT_ERROR(DENSRT_ENOMEM, "%s: out of memory", path);
      }
    }
    free(cell);
    return status ? fits_fail(path, status) : DENSRT_OK;
  }
  if (repeat != 1)
    DENSRT_ERROR(DENSRT_EFORMAT, "%s: column %d is not a scalar column", path, colnum);
  int integer = typecode != TFLOAT && typecode != TDOUBLE;
  void *v = malloc(nr * (integer ? sizeof(long long) : sizeof(double)));
  char *isnull = malloc(nr);
  int st = v && isnull ? DENSRT_OK : DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", path);
  if (!st && typecode == TULONGLONG)
    fits_read_colnull(ff, TULONGLONG, colnum, 1, 1, (LONGLONG)nr, v, isnull, &anynul, &status);
  else if (!st && integer)
    fits_read_colnull(ff, TLONGLONG, colnum, 1, 1, (LONGLONG)nr, v, isnull, &anynul, &status);
  else if (!st)
    fits_read_colnull(ff, TDOUBLE, colnum, 1, 1, (LONGLONG)nr, v, isnull, &anynul, &status);
  if (!st && status)
    st = fits_fail(path, status);
  for (size_t r = 0; r < nr && !st; r++) {
    if (isnull[r])
      buf[0] = '\0';
    else if (typecode == TULONGLONG)
      snprintf(buf, sizeof buf, "%llu", ((unsigned long long *)v)[r]);
    else if (integer)
      snprintf(buf, sizeof buf, "%lld", ((long long *)v)[r]);
    else
      snprintf(buf, sizeof buf, "%s", densrt_io_shortest(((double *)v)[r]).s);
    if (!(text[r] = strdup(buf)))
      st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", path);
  }
  free(v);
  free(isnull);
  return st;
}

/* Reads the table from fd (seekable; scratch: a memory file of ours that may be
** extended). */
static int read_fits(const char *path, int in_fd, int scratch, const limit *lim, const densrt_io_column *want,
                     size_t n_want, selection *sel, densrt_io_table *out)
{
  fitsfile *ff = NULL;
  int status = 0, st = DENSRT_OK, fd = -1;   /* fd: what cfitsio reads */
  double *row = NULL;                        /* one row's values, for the row rule */
  int *colnum = calloc(n_want, sizeof *colnum);
  char **isnull = calloc(n_want, sizeof *isnull);
  int *is_float = calloc(n_want, sizeof *is_float);
  unsigned char *kind = calloc(n_want ? n_want : 1, 1);
  store s = { 0 };
  mapping raw = { 0 };
  LONGLONG n_rows = 0;
  if (!colnum || !isnull || !is_float || !kind) {
    st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  if ((st = map_fd(path, in_fd, &raw)))
    goto done;
  if ((fd = dup(in_fd)) < 0) {
    st = DENSRT_FAIL(DENSRT_EIO, "%s: %s", path, strerror(errno));
    goto done;
  }
  if ((st = fits_check(path, raw.p, raw.n)))
    goto done;
  if (raw.n % FITS_RECORD) {
    /* cfitsio refuses a last record that lacks its padding: pad (a copy of) the file */
    if (!scratch) {
      close(fd);
      if ((st = memfile(path, &fd)) || (st = write_all(path, fd, raw.p, raw.n)))
        goto done;
    }
    if (ftruncate(fd, (off_t)(raw.n + FITS_RECORD - raw.n % FITS_RECORD)) != 0) {
      st = DENSRT_FAIL(DENSRT_EIO, "%s: cannot pad the last FITS record: %s", path, strerror(errno));
      goto done;
    }
  }
  unmap(&raw);
  /* /dev/fd/N: no file name for cfitsio to interpret (extended syntax, ".Z" meaning LZW) */
  char alias[32];
  snprintf(alias, sizeof alias, "/dev/fd/%d", fd);
  fits_open_diskfile(&ff, alias, READONLY, &status);
  if (status) {
    ff = NULL;
    st = access(alias, R_OK) == 0 ? fits_fail(path, status)
                                  : DENSRT_FAIL(DENSRT_EIO, "%s: cannot reopen as %s: %s", path, alias, strerror(errno));
    goto done;
  }
  if ((st = find_table(path, ff, want, n_want, colnum, sel)) ||
      (st = check_scaling(path, ff, want, n_want, colnum, sel)))
    goto done;
  if (fits_get_num_rowsll(ff, &n_rows, &status)) {
    st = fits_fail(path, status);
    goto done;
  }
  if (n_rows <= 0) {
    st = DENSRT_FAIL(DENSRT_EFORMAT, "%s: no data rows", path);
    goto done;
  }
  if ((uint64_t)n_rows > max_rows(lim, n_want)) {
    int hdu = 0;
    st = too_many_rows(path, ": HDU ", (size_t)fits_get_hdu_num(ff, &hdu), lim, n_want);
    goto done;
  }
  size_t nr = (size_t)n_rows;
  for (size_t c = 0; c < n_want; c++)
    kind[c] = !colnum[c] ? COL_ABSENT : col_flags(sel, c) & DENSRT_IO_TEXT ? COL_TEXT : COL_NUMBER;
  sel->kind = kind;
  if (!store_init(&s, kind, n_want, nr, nr)) {
    st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  s.n_rows = nr;   /* the text cells (NULL until read) are the store's: freed with it */
  for (size_t c = 0; c < n_want; c++) {
    int typecode = 0, anynul = 0;
    long repeat = 0, width = 0;
    if (kind[c] == COL_ABSENT)
      continue;
    if (fits_get_coltype(ff, colnum[c], &typecode, &repeat, &width, &status)) {
      st = fits_fail(path, status);
      goto done;
    }
    if (kind[c] == COL_TEXT) {
      if (typecode != TSTRING && !is_numeric_type(typecode) && typecode != TULONGLONG) {
        st = DENSRT_FAIL(DENSRT_EFORMAT, "%s: column '%s' is neither text nor a number", path, want[c].name);
        goto done;
      }
      if ((st = read_fits_text(path, ff, colnum[c], typecode, repeat, width, nr, s.text[c])))
        goto done;
      continue;
    }
    if (!is_numeric_type(typecode) || repeat != 1) {
      st = DENSRT_FAIL(DENSRT_EFORMAT, "%s: column '%s' is not a numeric scalar column", path, want[c].name);
      goto done;
    }
    is_float[c] = typecode == TFLOAT || typecode == TDOUBLE;
    if (!(isnull[c] = malloc(nr))) {
      st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", path);
      goto done;
    }
    /* floats unchecked (cfitsio would flag an infinity as null too): NaN is looked for below */
    memset(isnull[c], 0, nr);
    if (is_float[c] ? fits_read_col(ff, TDOUBLE, colnum[c], 1, 1, n_rows, NULL, s.cols[c], &anynul, &status)
                    : fits_read_colnull(ff, TDOUBLE, colnum[c], 1, 1, n_rows, s.cols[c], isnull[c], &anynul,
                                        &status)) {
      st = fits_fail(path, status);
      goto done;
    }
  }
  /* row-major checks so the first bad row is the one reported */
  size_t kept = 0;
  row = malloc((n_want ? n_want : 1) * sizeof *row);
  if (!row) {
    st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  for (size_t r = 0; r < nr; r++) {
    int missing = 0;
    for (size_t c = 0; c < n_want && !missing; c++) {
      row[c] = 0;
      if (kind[c] != COL_NUMBER)
        continue;
      double x = s.cols[c][r];
      int null = isnull[c][r] || isnan(x);
      if (null && sel->missing == DENSRT_IO_MISSING_DROP) {
        missing = 1;
        continue;
      }
      if (null && !is_float[c]) {
        st = DENSRT_FAIL(DENSRT_EMISSING, "%s: row %zu: column '%s': null value", path, r + 1, want[c].name);
        goto done;
      }
      if (null || !isfinite(x)) {
        st = DENSRT_FAIL(null ? DENSRT_EMISSING : DENSRT_ENONFINITE, "%s: row %zu: column '%s': non-finite value",
                         path, r + 1, want[c].name);
        goto done;
      }
      row[c] = x;
    }
    int keep = 0;
    if (missing)
      sel->n_missing++;
    else if ((st = select_row(sel, row, want, n_want, path, ": row ", r + 1, &keep)))
      goto done;
    if (keep) {
      for (size_t c = 0; c < n_want; c++) {
        if (s.cols[c])
          s.cols[c][kept] = s.cols[c][r];
        if (s.text[c]) {
          char *t = s.text[c][r];
          s.text[c][r] = NULL;
          s.text[c][kept] = t;
        }
      }
      s.rowno[kept++] = r + 1;
    } else {
      for (size_t c = 0; c < n_want; c++)
        if (s.text[c]) {
          free(s.text[c][r]);
          s.text[c][r] = NULL;
        }
    }
  }
  s.n_rows = kept;
  if (!store_finish(&s, out, sel))
    st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", path);

done:
  free(row);
  if (ff) {
    int close_status = 0;
    fits_close_file(ff, &close_status);
  }
  unmap(&raw);
  if (fd >= 0)
    close(fd);
  fits_clear_errmsg();
  store_free(&s);
  for (size_t c = 0; isnull && c < n_want; c++)
    free(isnull[c]);
  free(isnull);
  free(is_float);
  free(colnum);
  free(kind);
  return st;
}

/* }====================================================== */


/*
** {======================================================
** Public interface
** =======================================================
*/

void densrt_io_table_free(densrt_io_table *t)
{
  if (!t)
    return;
  for (size_t c = 0; c < t->n_cols; c++) {
    if (t->cols)
      free(t->cols[c]);
    if (t->text && t->text[c]) {
      for (size_t r = 0; r < t->n_rows; r++)
        free(t->text[c][r]);
      free(t->text[c]);
    }
  }
  free(t->cols);
  free(t->text);
  free(t->row);
  free(t->present);
  memset(t, 0, sizeof *t);
}

/* The format of the (unpacked) bytes: FITS (1), a compress or zip file (2, refused), or CSV (0). */
static int sniff(const unsigned char *m, size_t n)
{
  if (n >= 9 && memcmp(m, "SIMPLE  =", 9) == 0)
    return 1;
  if ((n >= 2 && m[0] == 0x1F && m[1] == 0x9D) || (n >= 4 && memcmp(m, "PK\3\4", 4) == 0))
    return 2;
  return 0;
}

int densrt_io_read(const char *path, const densrt_io_column *want, size_t n_want, densrt_io_outside policy,
                   densrt_io_table *out)
{
  return densrt_io_read_where(path, want, n_want, NULL, 0, policy, out);
}

int densrt_io_read_where(const char *path, const densrt_io_column *want, size_t n_want,
                         const densrt_io_filter *where, size_t n_where, densrt_io_outside policy,
                         densrt_io_table *out)
{
  densrt_io_rules rules = {where, n_where, policy, DENSRT_IO_MISSING_ERROR, NULL};
  return densrt_io_read_rules(path, want, n_want, &rules, out);
}

int densrt_io_read_rules(const char *path, const densrt_io_column *want, size_t n_want, const densrt_io_rules *rules,
                         densrt_io_table *out)
{
  selection sel = {rules->where, rules->n_where, rules->outside, rules->missing, rules->flags, NULL, 0, 0, 0, 0};
  size_t n_where = rules->n_where;
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < n_where; i++)
    if (rules->where[i].col >= n_want || (rules->flags && (rules->flags[rules->where[i].col] & DENSRT_IO_TEXT)))
      DENSRT_ERROR(DENSRT_EINVAL, "densrt_io_read_rules: filter %zu names column %zu of %zu, not a number",
                   i + 1, rules->where[i].col + 1, n_want);
  if (!path)
    DENSRT_ERROR(DENSRT_EINVAL, "densrt_io_read: no path");
  if (n_want == 0 || !want)
    DENSRT_ERROR(DENSRT_EINVAL, "%s: no columns requested", path);
  for (size_t c = 0; c < n_want; c++)
    if (!want[c].name)
      DENSRT_ERROR(DENSRT_EINVAL, "%s: requested column %zu has no name", path, c + 1);
  limit lim = { 0, max_input_hint ? max_input_hint : "DENSRT_MAX_INPUT_BYTES" };
  if (densrt_io_max_input(&lim.bytes))
    return DENSRT_EINVAL;
  FILE *f = fopen(path, "rb");
  if (!f)
    DENSRT_ERROR(DENSRT_EIO, "%s: cannot open: %s", path, strerror(errno));
  int fd = -1, scratch = 0;
  int st = open_input(path, f, &lim, &fd, &scratch);
  if (!st) {
    unsigned char magic[9];
    ssize_t got = pread(fd, magic, sizeof magic, 0);
    int kind = sniff(magic, got > 0 ? (size_t)got : 0);
    if (kind == 2) {
      st = DENSRT_FAIL(DENSRT_EFORMAT, "%s: compressed with %s, which is not read: unpack it first (plain and "
                       "gzip-compressed files are read directly)", path, magic[0] == 'P' ? "zip" : "compress (.Z)");
    } else if (kind == 1) {
      st = read_fits(path, fd, scratch, &lim, want, n_want, &sel, out);
    } else if (!scratch) {
      rewind(f);
      st = read_csv(path, f, &lim, want, n_want, &sel, out);
    } else {
      FILE *m = fdopen(fd, "rb");
      if (!m) {
        st = DENSRT_FAIL(DENSRT_EIO, "%s: %s", path, strerror(errno));
      } else {
        fd = -1;   /* m owns it */
        rewind(m);
        st = read_csv(path, m, &lim, want, n_want, &sel, out);
        fclose(m);
      }
    }
  }
  if (scratch && fd >= 0)
    close(fd);
  fclose(f);
  if (st)
    memset(out, 0, sizeof *out);
  return st;
}

/* Mode for a new output: the old file's, else what open(2) would give under the umask. */
static mode_t output_mode(const char *path)
{
  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
    return sb.st_mode & 07777;
  mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
}

/* See densrt_io_out_open: the signals that end a program wait while an output is open. */
static void out_block(densrt_io_out *o)
{
  sigset_t set, *old = malloc(sizeof *old);
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  if (old && sigprocmask(SIG_BLOCK, &set, old) == 0)
    o->old_mask = old;
  else
    free(old);   /* not blocked: an interrupted write may leave its temporary file */
}

static void out_unblock(densrt_io_out *o)
{
  if (o->old_mask)
    sigprocmask(SIG_SETMASK, o->old_mask, NULL);
  free(o->old_mask);
  o->old_mask = NULL;
}

/* The descriptor a path names (/dev/stdout 1, /dev/stderr 2, /dev/fd/N, /proc/self/fd/N), or -1. */
static int descriptor_name(const char *path)
{
  const char *digits = !strcmp(path, "/dev/stdout") ? "1" : !strcmp(path, "/dev/stderr") ? "2"
                       : !strncmp(path, "/dev/fd/", 8) ? path + 8 : !strncmp(path, "/proc/self/fd/", 14) ? path + 14
                       : NULL;
  if (!digits || !*digits || strspn(digits, "0123456789") != strlen(digits) || strlen(digits) > 9)
    return -1;
  return atoi(digits);
}

int densrt_io_out_open(densrt_io_out *o, const char *path)
{
  memset(o, 0, sizeof *o);
  if (!path)
    DENSRT_ERROR(DENSRT_EINVAL, "densrt_io_out_open: no path");
  if (!(o->path = strdup(path)))
    DENSRT_ERROR(DENSRT_ENOMEM, "%s: out of memory", path);
  out_block(o);   /* from here every failure goes through densrt_io_out_abort */
  if (strcmp(path, "-") == 0) {
    o->f = stdout;
    return DENSRT_OK;
  }
  /* A device or pipe (/dev/null, a FIFO) is written in place: renaming a temporary file
     over it would replace the device itself.  So is a name of an open descriptor
     (/dev/stdout, /dev/fd/N) whatever it is open on: renaming over it replaced the
     /dev/stdout link itself when standard output was a file (found by --out /dev/stdout),
     and the descriptor would stay on the old file anyway. */
  struct stat st;
  int fd_name = descriptor_name(path);
  if (fd_name >= 0) {   /* through a copy of the descriptor: its file offset is shared, nothing truncated */
    int fd = dup(fd_name);
    if (fd >= 0 && !(o->f = fdopen(fd, "w")))
      close(fd);
    if (o->f)
      return DENSRT_OK;
  }
  int exists = stat(path, &st) == 0;
  if ((exists && !S_ISREG(st.st_mode)) || fd_name >= 0) {
    if (exists && S_ISDIR(st.st_mode)) {
      densrt_io_out_abort(o);
      DENSRT_ERROR(DENSRT_EIO, "%s: is a directory", path);
    }
    if (!(o->f = fopen(path, "w"))) {
      int e = errno;
      densrt_io_out_abort(o);
      DENSRT_ERROR(DENSRT_EIO, "%s: cannot open for writing: %s", path, strerror(e));
    }
    return DENSRT_OK;
  }
  /* a symbolic link stays: the file it names is replaced (the temporary goes beside that) */
  struct stat lst;
  char *real;
  if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && (real = realpath(path, NULL))) {
    free(o->path);
    path = o->path = real;
  }
  size_t n = strlen(path);
  if (!(o->tmp = malloc(n + sizeof ".tmpXXXXXX"))) {
    densrt_io_out_abort(o);
    DENSRT_ERROR(DENSRT_ENOMEM, "%s: out of memory", path);
  }
  memcpy(o->tmp, path, n);
  memcpy(o->tmp + n, ".tmpXXXXXX", sizeof ".tmpXXXXXX");
  int fd = mkstemp(o->tmp);
  if (fd < 0) {
    int e = errno;
    free(o->tmp);
    o->tmp = NULL;      /* nothing was created: keep abort from unlinking the template */
    densrt_io_out_abort(o);
    DENSRT_ERROR(DENSRT_EIO, "%s: cannot open for writing: %s", path, strerror(e));
  }
  (void)fchmod(fd, output_mode(path));    /* mkstemp makes 0600; a failure here is harmless */
  if (!(o->f = fdopen(fd, "w"))) {
    int e = errno;
    close(fd);
    densrt_io_out_abort(o);
    DENSRT_ERROR(DENSRT_EIO, "%s: cannot open for writing: %s", path, strerror(e));
  }
  return DENSRT_OK;
}

/* Makes the rename durable; best effort, as not every file system can sync a directory. */
static void sync_dir(const char *path)
{
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  if (!dir)
    return;
  int fd = open(dir, O_RDONLY);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(dir);
}

int densrt_io_out_commit(densrt_io_out *o)
{
  if (!o || !o->f)
    DENSRT_ERROR(DENSRT_EINVAL, "densrt_io_out_commit: output is not open");
  int e = 0;
  const char *what = "write error";
  errno = 0;
  if (fflush(o->f) != 0)
    e = errno ? errno : EIO;
  else if (ferror(o->f))
    e = EIO;     /* an earlier write failed; its errno is gone */
  if (!o->tmp) {
    int is_stdout = o->f == stdout;
    if (!is_stdout && fclose(o->f) != 0 && !e)
      e = errno ? errno : EIO;
    o->f = NULL;
    char where[512];
    snprintf(where, sizeof where, "%s", is_stdout ? "standard output" : o->path);
    densrt_io_out_abort(o);
    if (e)
      DENSRT_ERROR(DENSRT_EIO, "%s: write error: %s", where, strerror(e));
    return DENSRT_OK;
  }
  if (!e && fsync(fileno(o->f)) != 0 && errno != EINVAL)
    e = errno;
  if (fclose(o->f) != 0 && !e)
    e = errno ? errno : EIO;
  o->f = NULL;
  if (!e && rename(o->tmp, o->path) != 0) {
    e = errno;
    what = "cannot replace the file";
  }
  if (!e)
    sync_dir(o->path);
  else
    unlink(o->tmp);
  char *path = o->path;
  o->path = NULL;
  free(o->tmp);
  o->tmp = NULL;
  int st = e ? DENSRT_FAIL(DENSRT_EIO, "%s: %s: %s", path, what, strerror(e)) : DENSRT_OK;
  free(path);
  out_unblock(o);
  return st;
}

void densrt_io_out_abort(densrt_io_out *o)
{
  if (!o)
    return;
  if (o->f) {
    if (o->f != stdout)
      fclose(o->f);
    else
      fflush(o->f);
  }
  if (o->tmp)
    unlink(o->tmp);
  free(o->path);
  free(o->tmp);
  out_unblock(o);
  memset(o, 0, sizeof *o);
}

/* }====================================================== */
