/* test_io.c — Check suite for CSV/FITS table reading and atomic output files */
#include <check.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "io.h"

#define GAUSS1D SHARED_DIR "/data/gauss1d.csv"
#define GD1 SHARED_DIR "/data/gd1-gaiadr3-blog.fits"

static char dir[64];       /* scratch directory of the running test */

static void setup(void)
{
  strcpy(dir, "/tmp/test_io.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  char path[512];
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  closedir(d);
  rmdir(dir);
}

/* path of name inside the scratch directory; valid until the next call with the same buf */
static const char *in_dir(char *buf, size_t size, const char *name)
{
  snprintf(buf, size, "%s/%s", dir, name);
  return buf;
}

static void write_bytes(const char *path, const char *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(data, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
}

/* Makes fifo a named pipe and forks a writer that copies src into it. */
static pid_t serve_through_fifo(const char *src, const char *fifo)
{
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    FILE *in = fopen(src, "rb"), *out = fopen(fifo, "wb");
    char buf[4096];
    size_t k;
    while (in && out && (k = fread(buf, 1, sizeof buf, in)) > 0)
      fwrite(buf, 1, k, out);
    _exit(out && fclose(out) == 0 ? 0 : 1);
  }
  return child;
}

static size_t count_entries(void)
{
  size_t n = 0;
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  while ((e = readdir(d)))
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  static char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Reading path must fail with status and exactly path + suffix; out must be left empty. */
static void read_fails(const char *path, const densrt_io_column *want, size_t n_want, densrt_io_outside policy,
                       int status, const char *suffix)
{
  densrt_io_table t = { 7, 7, (double **)&t, 7 };
  char msg[1024];
  int st = densrt_io_read(path, want, n_want, policy, &t);
  snprintf(msg, sizeof msg, "%s%s", path, suffix);
  ck_assert_msg(st == status, "status %d (want %d): %s", st, status, densrt_error_message());
  ck_assert_str_eq(densrt_error_message(), msg);
  ck_assert_ptr_null(t.cols);
  ck_assert_uint_eq(t.n_rows, 0);
}

/* Writes a CSV file into the scratch directory and checks that reading column z fails. */
static void csv_fails(const char *content, size_t len, int status, const char *suffix)
{
  char path[512];
  in_dir(path, sizeof path, "bad.csv");
  write_bytes(path, content, len);
  densrt_io_column z = { "z", -3, 3 };
  read_fails(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, status, suffix);
}

static void csv_fails_s(const char *content, int status, const char *suffix)
{
  csv_fails(content, strlen(content), status, suffix);
}

static void read_ok(const char *path, const densrt_io_column *want, size_t n_want, densrt_io_outside policy,
                    densrt_io_table *t)
{
  int st = densrt_io_read(path, want, n_want, policy, t);
  ck_assert_msg(st == DENSRT_OK, "%s", densrt_error_message());
  ck_assert_uint_eq(t->n_cols, n_want);
  ck_assert_ptr_nonnull(t->cols);
}


/*
** {======================================================
** CSV
** =======================================================
*/

START_TEST(test_csv_layout)
{
  char path[512];
  in_dir(path, sizeof path, "ok.csv");
  static const char text[] =
    "\xef\xbb\xbf# a comment before the header\r\n"
    "\r\n"
    "  a , \"x \"\"q\"\"\",\"b,c\" ,  z\t\r\n"
    "1, 2 , 3,4\r\n"
    "   # comment between rows\n"
    "\n"
    "  \t \n"
    " \"5\" ,6,\"7\",\" 8\"\n"
    "9,10,11,-1.5e-1\n";
  write_bytes(path, text, sizeof text - 1);
  densrt_io_column want[] = {
    { "z", -INFINITY, INFINITY }, { "a", -INFINITY, INFINITY }, { "b,c", 0, 100 },
    { "x \"q\"", -INFINITY, INFINITY }, { "z", -INFINITY, INFINITY },
  };
  densrt_io_table t;
  read_ok(path, want, 5, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 3);
  ck_assert_uint_eq(t.n_dropped, 0);
  static const double z[] = { 4, 8, -0.15 }, a[] = { 1, 5, 9 }, bc[] = { 3, 7, 11 }, q[] = { 2, 6, 10 };
  for (size_t r = 0; r < 3; r++) {
    ck_assert(t.cols[0][r] == z[r]);
    ck_assert(t.cols[1][r] == a[r]);
    ck_assert(t.cols[2][r] == bc[r]);
    ck_assert(t.cols[3][r] == q[r]);
    ck_assert(t.cols[4][r] == z[r]);
  }
  densrt_io_table_free(&t);
  ck_assert_ptr_null(t.cols);
  densrt_io_table_free(&t);    /* twice is fine */

  /* no final newline, a single column, a name that is only a quoted empty string elsewhere */
  write_bytes(path, "z,\"\"\n1,2\n3,4", 12);
  densrt_io_column zc = { "z", -INFINITY, INFINITY };
  read_ok(path, &zc, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 2);
  ck_assert(t.cols[0][1] == 3);
  densrt_io_table_free(&t);
}
END_TEST

START_TEST(test_csv_errors)
{
  char path[512], suffix[512];
  densrt_io_column z = { "z", -3, 3 };

  in_dir(path, sizeof path, "missing.csv");
  read_fails(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EIO, ": cannot open: No such file or directory");

  csv_fails_s("", DENSRT_EFORMAT, ": empty file (no header row)");
  csv_fails_s("# only\n\n   \n# comments\n", DENSRT_EFORMAT, ": empty file (no header row)");
  csv_fails_s("z\n", DENSRT_EFORMAT, ": no data rows");
  csv_fails_s("a,z\n# nothing\n\n", DENSRT_EFORMAT, ": no data rows");
  csv_fails_s("# c\nz,a,z\n1,2,3\n", DENSRT_EFORMAT, ":2: duplicate column name 'z'");
  csv_fails_s("b,a,c,a,b\n1,2,3,4,5\n", DENSRT_EFORMAT, ":1: duplicate column name 'a'");
  csv_fails_s("a,b,c\n1,2,3\n", DENSRT_EFORMAT, ": no column 'z' (columns: a, b, c)");
  csv_fails_s("Z\n1\n", DENSRT_EFORMAT, ": no column 'z' (columns: Z)");

  char header[512] = "";
  for (int i = 1; i <= 25; i++)
    sprintf(header + strlen(header), "%sc%d", i > 1 ? "," : "", i);
  strcat(header, "\n");
  csv_fails_s(header, DENSRT_EFORMAT,
              ": no column 'z' (columns: c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, "
              "c17, c18, c19, c20, ...)");

  csv_fails_s("a,b,z\n1,2,3\n1,2\n", DENSRT_EFORMAT, ":3: expected 3 fields, found 2");
  csv_fails_s("a,b,z\n1,2,3,\n", DENSRT_EFORMAT, ":2: expected 3 fields, found 4");
  csv_fails_s("a,z\n1,2\n\n# x\n1,\n", DENSRT_EFORMAT, ":5: column 'z': empty cell");
  csv_fails_s("a,z\n1,  \"\"  \n", DENSRT_EFORMAT, ":2: column 'z': empty cell");
  csv_fails_s("z\nabc\n", DENSRT_EFORMAT, ":2: column 'z': 'abc' is not a number");
  csv_fails_s("z\n1.5x\n", DENSRT_EFORMAT, ":2: column 'z': '1.5x' is not a number");
  csv_fails_s("z\n1 2\n", DENSRT_EFORMAT, ":2: column 'z': '1 2' is not a number");
  csv_fails_s("z\r\n1\r\nnan\r\n", DENSRT_ENONFINITE, ":3: column 'z': non-finite value 'nan'");
  csv_fails_s("z\n-inf\n", DENSRT_ENONFINITE, ":2: column 'z': non-finite value '-inf'");
  csv_fails_s("z\n1e999\n", DENSRT_ENONFINITE, ":2: column 'z': '1e999' is out of range");
  csv_fails_s("z\n1\n\n3.5\n", DENSRT_EDOM, ":4: column 'z': value 3.5 is outside the window [-3, 3]");
  csv_fails_s("z\n-3\n3\n-3.0001\n", DENSRT_EDOM, ":4: column 'z': value -3.0001 is outside the window [-3, 3]");
  csv_fails("z\n1\n2\0\n", 7, DENSRT_EFORMAT, ":3: binary data (NUL byte) in a text file");
  csv_fails("# \0\nz\n", 6, DENSRT_EFORMAT, ":1: binary data (NUL byte) in a text file");
  csv_fails_s("z\n\"1\n", DENSRT_EFORMAT, ":2: unterminated quoted field");
  csv_fails_s("\"z\n1\n", DENSRT_EFORMAT, ":1: unterminated quoted field");
  csv_fails_s("z\n\"1\"\"\n", DENSRT_EFORMAT, ":2: unterminated quoted field");
  csv_fails_s("z\n\"1\"2\n", DENSRT_EFORMAT, ":2: unexpected text after a quoted field");

  /* errors in columns not requested are not looked at */
  in_dir(path, sizeof path, "other.csv");
  write_bytes(path, "z,junk\n1,abc\n2,\n", 16);
  densrt_io_table t;
  read_ok(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 2);
  densrt_io_table_free(&t);

  /* a directory opens but cannot be read */
  snprintf(suffix, sizeof suffix, ": read error: Is a directory");
  read_fails(dir, &z, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EIO, suffix);
}
END_TEST

START_TEST(test_csv_long_line)
{
  enum { LONG = 10000000 };
  char path[512];
  in_dir(path, sizeof path, "long.csv");
  char *text = malloc(LONG + 64);
  ck_assert_ptr_nonnull(text);
  densrt_io_column z = { "z", -INFINITY, INFINITY };
  densrt_io_table t;

  /* accepted: a value followed by 10^7 blanks */
  size_t n = (size_t)sprintf(text, "z\n0.25");
  memset(text + n, ' ', LONG);
  n += LONG;
  n += (size_t)sprintf(text + n, "\n-1\n");
  write_bytes(path, text, n);
  read_ok(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 2);
  ck_assert(t.cols[0][0] == 0.25 && t.cols[0][1] == -1);
  densrt_io_table_free(&t);

  /* rejected: a 10^7-digit number, quoted in the message only in part */
  n = (size_t)sprintf(text, "z\n");
  memset(text + n, '9', LONG);
  n += LONG;
  text[n++] = '\n';
  write_bytes(path, text, n);
  char suffix[256];
  snprintf(suffix, sizeof suffix, ":2: column 'z': '%.64s...' is out of range", text + 2);
  read_fails(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_ENONFINITE, suffix);

  /* rejected: a header of 10^7 characters without the column */
  memset(text, 'h', LONG);
  n = LONG;
  n += (size_t)sprintf(text + n, "\n1\n");
  write_bytes(path, text, n);
  densrt_io_table u;
  ck_assert_int_eq(densrt_io_read(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, &u), DENSRT_EFORMAT);
  ck_assert_msg(strncmp(densrt_error_message(), path, strlen(path)) == 0, "%s", densrt_error_message());
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), ": no column 'z' (columns: hhhh"));
  ck_assert_ptr_null(u.cols);
  free(text);
}
END_TEST

START_TEST(test_csv_drop)
{
  char path[512];
  in_dir(path, sizeof path, "drop.csv");
  static const char text[] = "x,y\n0,0\n5,1\n1,-9\n2,2\n-1,1\n3,3\n";
  write_bytes(path, text, sizeof text - 1);
  densrt_io_column want[] = { { "y", -2, INFINITY }, { "x", 0, 3 } };
  densrt_io_table t;
  read_ok(path, want, 2, DENSRT_IO_OUTSIDE_DROP, &t);
  ck_assert_uint_eq(t.n_rows, 3);
  ck_assert_uint_eq(t.n_dropped, 3);
  static const double x[] = { 0, 2, 3 }, y[] = { 0, 2, 3 };
  for (size_t r = 0; r < 3; r++) {
    ck_assert(t.cols[0][r] == y[r]);
    ck_assert(t.cols[1][r] == x[r]);
  }
  densrt_io_table_free(&t);

  /* parse errors are still errors under DROP */
  write_bytes(path, "x\n100\nbad\n", 10);
  read_fails(path, &want[1], 1, DENSRT_IO_OUTSIDE_DROP, DENSRT_EFORMAT, ":3: column 'x': 'bad' is not a number");

  /* from a pipe, which cannot be rewound after the format is sniffed */
  char fifo[512];
  write_bytes(path, text, sizeof text - 1);
  pid_t child = serve_through_fifo(path, in_dir(fifo, sizeof fifo, "drop.pipe"));
  read_ok(fifo, want, 2, DENSRT_IO_OUTSIDE_DROP, &t);
  int wst;
  ck_assert_int_eq(waitpid(child, &wst, 0), child);
  ck_assert(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
  ck_assert_uint_eq(t.n_rows, 3);
  ck_assert_uint_eq(t.n_dropped, 3);
  ck_assert(t.cols[1][2] == 3);
  densrt_io_table_free(&t);

  /* every row dropped: success with no rows */
  write_bytes(path, "x\n100\n200\n", 10);
  read_ok(path, &want[1], 1, DENSRT_IO_OUTSIDE_DROP, &t);
  ck_assert_uint_eq(t.n_rows, 0);
  ck_assert_uint_eq(t.n_dropped, 2);
  ck_assert_ptr_nonnull(t.cols[0]);
  densrt_io_table_free(&t);
}
END_TEST

START_TEST(test_gauss1d)
{
  /* the first data value, read independently of the library */
  FILE *f = fopen(GAUSS1D, "r");
  ck_assert_ptr_nonnull(f);
  char line[256];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_str_eq(line, "z\n");
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  fclose(f);
  double first = strtod(line, NULL);

  densrt_io_column z = { "z", -INFINITY, INFINITY };
  densrt_io_table t;
  read_ok(GAUSS1D, &z, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 100000);
  ck_assert(t.cols[0][0] == first);
  double sum = 0;
  for (size_t r = 0; r < t.n_rows; r++)
    sum += t.cols[0][r];
  ck_assert_double_eq_tol(sum / (double)t.n_rows, 0.03, 0.01);   /* Normal(0.03, 0.31) draws */
  densrt_io_table_free(&t);

  densrt_io_column zz = { "zz", -INFINITY, INFINITY };
  read_fails(GAUSS1D, &zz, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT, ": no column 'zz' (columns: z)");
}
END_TEST

START_TEST(test_csv_speed)
{
  enum { ROWS = 1000000 };
  char path[512];
  in_dir(path, sizeof path, "big.csv");
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("id,x,note,y,w\n", f);
  for (int i = 0; i < ROWS; i++)
    fprintf(f, "%d,%.6f,n,%.9g,%d\n", i, i * 1e-3, sin(i) * 1e3, i % 7);
  ck_assert_int_eq(fclose(f), 0);

  densrt_io_column want[] = { { "x", -INFINITY, INFINITY }, { "y", -INFINITY, INFINITY }, { "w", 0, 6 } };
  densrt_io_table t;
  double t0 = now();
  read_ok(path, want, 3, DENSRT_IO_OUTSIDE_ERROR, &t);
  double dt = now() - t0;
  ck_assert_uint_eq(t.n_rows, ROWS);
  ck_assert(t.cols[2][ROWS - 1] == (ROWS - 1) % 7);
  ck_assert_double_eq_tol(t.cols[0][ROWS - 1], (ROWS - 1) * 1e-3, 1e-9);
  densrt_io_table_free(&t);
  /* speed is measured in bench/, never asserted here; the figure is informative */
  printf("reading 10^6 x 3 CSV: %.3f s\n", dt);
}
END_TEST

/* }====================================================== */


/*
** {======================================================
** FITS
** =======================================================
*/

START_TEST(test_fits_gd1)
{
  densrt_io_column want[] = { { "gd1_phi1", -INFINITY, INFINITY }, { "gd1_phi2", -INFINITY, INFINITY } };
  densrt_io_table t, u;
  read_ok(GD1, want, 2, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 3369);

  /* GD-1 stream coordinates, degrees */
  for (size_t r = 0; r < t.n_rows; r++) {
    ck_assert(t.cols[0][r] >= -120 && t.cols[0][r] <= 60);
    ck_assert(t.cols[1][r] >= -20 && t.cols[1][r] <= 20);
  }

  /* names match without regard to case */
  densrt_io_column upper = { "GD1_PHI1", -INFINITY, INFINITY };
  read_ok(GD1, &upper, 1, DENSRT_IO_OUTSIDE_ERROR, &u);
  ck_assert_uint_eq(u.n_rows, 3369);
  ck_assert_int_eq(memcmp(u.cols[0], t.cols[0], 3369 * sizeof(double)), 0);
  densrt_io_table_free(&u);

  /* the seed's cut gd1_phi2 > -7 keeps 2960 stars */
  densrt_io_column cut[] = { { "gd1_phi1", -INFINITY, INFINITY }, { "gd1_phi2", -7, INFINITY } };
  read_ok(GD1, cut, 2, DENSRT_IO_OUTSIDE_DROP, &u);
  ck_assert_uint_eq(u.n_rows, 2960);
  ck_assert_uint_eq(u.n_dropped, 409);
  size_t k = 0;
  for (size_t r = 0; r < t.n_rows; r++)
    if (t.cols[1][r] >= -7) {
      ck_assert(u.cols[0][k] == t.cols[0][r] && u.cols[1][k] == t.cols[1][r]);
      k++;
    }
  ck_assert_uint_eq(k, 2960);
  densrt_io_table_free(&u);
  densrt_io_table_free(&t);

  densrt_io_column nope = { "nope", -INFINITY, INFINITY };
  read_fails(GD1, &nope, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT,
             ": no column 'nope' (columns: source_id, ra, dec, parallax, parallax_error, pmra, pmra_error, pmdec, "
             "pmdec_error, ra_parallax_corr, ra_pmra_corr, ra_pmdec_corr, dec_parallax_corr, dec_pmra_corr, "
             "dec_pmdec_corr, parallax_pmra_corr, parallax_pmdec_corr, pmra_pmdec_corr, phot_g_mean_mag, "
             "phot_g_mean_flux_over_error, ...)");

  densrt_io_column win = { "gd1_phi2", -7, INFINITY };
  densrt_io_table v;
  ck_assert_int_eq(densrt_io_read(GD1, &win, 1, DENSRT_IO_OUTSIDE_ERROR, &v), DENSRT_EDOM);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), ": column 'gd1_phi2': value -"));
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), " is outside the window [-7, inf]"));
  ck_assert_ptr_null(v.cols);
}
END_TEST

/*
** FITS files are written byte by byte here rather than with cfitsio, so the
** reader is checked against the standard instead of against itself (and the
** test needs no cfitsio at link time).
*/

typedef struct {
  char *buf;
  size_t len;
  FILE *f;
} membuf;

/* One 80-column header card. */
static void card(membuf *m, const char *fmt, ...)
{
  char c[81];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(c, sizeof c, fmt, ap);
  va_end(ap);
  for (int i = n; i < 80; i++)
    c[i] = ' ';
  fwrite(c, 1, 80, m->f);
}

/* Pads the stream to a 2880-byte block with fill. */
static void pad_block(membuf *m, int fill)
{
  long pos = ftell(m->f);
  while (pos++ % 2880)
    fputc(fill, m->f);
}

static void end_header(membuf *m)
{
  card(m, "END");
  pad_block(m, ' ');
}

static void put_be(membuf *m, uint64_t v, int bytes)
{
  for (int i = bytes - 1; i >= 0; i--)
    fputc((int)((v >> (8 * i)) & 0xFF), m->f);
}

static void put_double(membuf *m, double x)
{
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  put_be(m, u, 8);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

/* gzip with stored (uncompressed) deflate blocks: valid for any gunzip. */
static void write_gzip(const char *path, const unsigned char *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  static const unsigned char head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
  fwrite(head, 1, sizeof head, f);
  size_t off = 0;
  do {
    size_t n = len - off > 65535 ? 65535 : len - off;
    fputc(off + n == len, f);
    fputc((int)(n & 0xFF), f);
    fputc((int)(n >> 8), f);
    fputc((int)(~n & 0xFF), f);
    fputc((int)((~n >> 8) & 0xFF), f);
    fwrite(data + off, 1, n, f);
    off += n;
  } while (off < len);
  uint32_t crc = crc32_of(data, len), size = (uint32_t)len;
  for (int i = 0; i < 4; i++)
    fputc((int)((crc >> (8 * i)) & 0xFF), f);
  for (int i = 0; i < 4; i++)
    fputc((int)((size >> (8 * i)) & 0xFF), f);
  ck_assert_int_eq(fclose(f), 0);
}

enum { SMALL_GZ = 1, SMALL_BAD_TTYPE = 2 };

/* A small binary table: X (double), n (int32, TNULL -99), label (8 chars);
** optionally preceded by an image HDU and a table without x.  flags: SMALL_GZ
** compresses it, SMALL_BAD_TTYPE writes TTYPE3 as a 70-character unquoted value
** (which overflows a buffer in cfitsio 4.2). */
static void write_small_fits(const char *path, const double *x, const int *n, int rows, int with_others, int flags)
{
  membuf m = { NULL, 0, NULL };
  m.f = open_memstream(&m.buf, &m.len);
  ck_assert_ptr_nonnull(m.f);
  card(&m, "SIMPLE  = %20s", "T");
  card(&m, "BITPIX  = %20d", with_others ? -32 : 8);
  card(&m, "NAXIS   = %20d", with_others ? 2 : 0);
  if (with_others) {
    card(&m, "NAXIS1  = %20d", 2);
    card(&m, "NAXIS2  = %20d", 2);
  }
  card(&m, "EXTEND  = %20s", "T");
  end_header(&m);
  if (with_others) {
    for (int i = 0; i < 4; i++)
      put_be(&m, 0x3F800000u, 4);    /* 1.0f */
    pad_block(&m, 0);

    card(&m, "XTENSION= 'BINTABLE'");
    card(&m, "BITPIX  = %20d", 8);
    card(&m, "NAXIS   = %20d", 2);
    card(&m, "NAXIS1  = %20d", 4);
    card(&m, "NAXIS2  = %20d", 1);
    card(&m, "PCOUNT  = %20d", 0);
    card(&m, "GCOUNT  = %20d", 1);
    card(&m, "TFIELDS = %20d", 1);
    card(&m, "TTYPE1  = 'other   '");
    card(&m, "TFORM1  = '1E      '");
    card(&m, "EXTNAME = 'FIRST   '");
    end_header(&m);
    put_be(&m, 0x40000000u, 4);      /* 2.0f */
    pad_block(&m, 0);
  }
  card(&m, "XTENSION= 'BINTABLE'");
  card(&m, "BITPIX  = %20d", 8);
  card(&m, "NAXIS   = %20d", 2);
  card(&m, "NAXIS1  = %20d", 20);
  card(&m, "NAXIS2  = %20d", rows);
  card(&m, "PCOUNT  = %20d", 0);
  card(&m, "GCOUNT  = %20d", 1);
  card(&m, "TFIELDS = %20d", 3);
  card(&m, "TTYPE1  = 'X       '");
  card(&m, "TFORM1  = 'D       '");
  card(&m, "TTYPE2  = 'n       '");
  card(&m, "TFORM2  = 'J       '");
  card(&m, "TNULL2  = %20d", -99);
  if (flags & SMALL_BAD_TTYPE)
    card(&m, "TTYPE3  = %.70s", "labellabellabellabellabellabellabellabellabellabellabellabellabellabel");
  else
    card(&m, "TTYPE3  = 'label   '");
  card(&m, "TFORM3  = '8A      '");
  card(&m, "EXTNAME = 'DATA    '");
  end_header(&m);
  for (int r = 0; r < rows; r++) {
    put_double(&m, x[r]);
    put_be(&m, (uint32_t)n[r], 4);
    fprintf(m.f, "%-8c", 'a' + r);
  }
  pad_block(&m, 0);
  ck_assert_int_eq(fclose(m.f), 0);
  ck_assert_uint_eq(m.len % 2880, 0);
  if (flags & SMALL_GZ)
    write_gzip(path, (const unsigned char *)m.buf, m.len);
  else
    write_bytes(path, m.buf, m.len);
  free(m.buf);
}

START_TEST(test_fits_small)
{
  char path[512];
  in_dir(path, sizeof path, "small.fits");
  static const double x[] = { 0.5, 2, 1, -1 };
  static const int n[] = { 10, 20, 30, 40 };
  write_small_fits(path, x, n, 4, 0, 0);

  densrt_io_column want[] = { { "n", -INFINITY, INFINITY }, { "x", -INFINITY, INFINITY } };
  densrt_io_table t;
  read_ok(path, want, 2, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 4);
  for (size_t r = 0; r < 4; r++) {
    ck_assert(t.cols[0][r] == n[r]);
    ck_assert(t.cols[1][r] == x[r]);
  }
  densrt_io_table_free(&t);

  densrt_io_column win = { "x", 0, 1.5 };
  read_fails(path, &win, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EDOM,
             ": row 2: column 'x': value 2 is outside the window [0, 1.5]");
  read_ok(path, &win, 1, DENSRT_IO_OUTSIDE_DROP, &t);
  ck_assert_uint_eq(t.n_rows, 2);
  ck_assert_uint_eq(t.n_dropped, 2);
  ck_assert(t.cols[0][0] == 0.5 && t.cols[0][1] == 1);
  densrt_io_table_free(&t);

  densrt_io_column label = { "LABEL", -INFINITY, INFINITY };
  read_fails(path, &label, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT,
             ": column 'LABEL' is not a numeric scalar column");
  densrt_io_column y = { "y", -INFINITY, INFINITY };
  read_fails(path, &y, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT, ": no column 'y' (columns: X, n, label)");

  /* a NaN cell, an infinite cell, a null integer */
  static const double xnan[] = { 0.5, 2, NAN, -1 }, xinf[] = { 0.5, -INFINITY, 1, 1 };
  static const int nnull[] = { 1, 2, 3, -99 };
  write_small_fits(path, xnan, n, 4, 0, 0);
  read_fails(path, want, 2, DENSRT_IO_OUTSIDE_ERROR, DENSRT_ENONFINITE, ": row 3: column 'x': non-finite value");
  read_fails(path, want, 2, DENSRT_IO_OUTSIDE_DROP, DENSRT_ENONFINITE, ": row 3: column 'x': non-finite value");
  write_small_fits(path, xinf, n, 4, 0, 0);
  read_fails(path, want, 2, DENSRT_IO_OUTSIDE_ERROR, DENSRT_ENONFINITE, ": row 2: column 'x': non-finite value");
  write_small_fits(path, x, nnull, 4, 0, 0);
  read_fails(path, want, 2, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT, ": row 4: column 'n': null value");

  /* the first table holding the columns is used; the message lists the first table's names */
  write_small_fits(path, x, n, 4, 1, 0);
  read_ok(path, want, 2, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 4);
  ck_assert(t.cols[1][3] == -1);
  densrt_io_table_free(&t);
  read_fails(path, &y, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT, ": no column 'y' (columns: other)");

  /* no rows */
  write_small_fits(path, x, n, 0, 0, 0);
  read_fails(path, want, 2, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT, ": no data rows");
}
END_TEST

START_TEST(test_fits_other)
{
  char path[512], gz[512];
  static const double x[] = { 0.5, 2, 1 };
  static const int n[] = { 1, 2, 3 };
  densrt_io_column want = { "x", -INFINITY, INFINITY };
  densrt_io_table t;

  /* gzip-compressed FITS */
  in_dir(gz, sizeof gz, "small.fits.gz");
  write_small_fits(gz, x, n, 3, 0, 1);
  FILE *f = fopen(gz, "rb");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fgetc(f), 0x1f);
  fclose(f);
  read_ok(gz, &want, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 3);
  ck_assert(t.cols[0][1] == 2);
  densrt_io_table_free(&t);

  /* cfitsio would take ".Z" anywhere in the name to mean LZW compression */
  char lzw_name[512];
  in_dir(lzw_name, sizeof lzw_name, "a.Zb.fits.gz");
  ck_assert_int_eq(rename(gz, lzw_name), 0);
  read_ok(lzw_name, &want, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 3);
  densrt_io_table_free(&t);

  /* a header card that would overflow cfitsio's buffer is refused, compressed or not */
  static const char bad_card[] = ": malformed FITS header card 'TTYPE3  ' in HDU 2 (an unquoted value of 70 characters)";
  write_small_fits(gz, x, n, 3, 0, SMALL_GZ | SMALL_BAD_TTYPE);
  read_fails(gz, &want, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT, bad_card);
  in_dir(path, sizeof path, "bad-card.fits");
  write_small_fits(path, x, n, 3, 0, SMALL_BAD_TTYPE);
  read_fails(path, &want, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT, bad_card);

  /* a truncated gzip stream */
  write_small_fits(gz, x, n, 3, 0, SMALL_GZ);
  ck_assert_int_eq(truncate(gz, 1000), 0);
  read_fails(gz, &want, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT, ": cannot unpack: unexpected end of file");

  /* a data unit cut short: refused before cfitsio reads past the end; a missing
     final padding is harmless */
  in_dir(path, sizeof path, "cut.fits");
  write_small_fits(path, x, n, 3, 0, 0);
  ck_assert_int_eq(truncate(path, 2 * 2880 + 59), 0);
  read_fails(path, &want, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT,
             ": truncated FITS file: HDU 2 declares 60 bytes of data, the file has 59");
  ck_assert_int_eq(truncate(path, 2 * 2880 + 60), 0);
  read_ok(path, &want, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 3);
  ck_assert(t.cols[0][2] == 1);
  densrt_io_table_free(&t);
  ck_assert_int_eq(truncate(path, 2880 + 1000), 0);
  read_fails(path, &want, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT,
             ": truncated FITS file: the header of HDU 2 has no END card");

  /* zip and compress (.Z) are refused by signature, whatever the name */
  in_dir(path, sizeof path, "t.fits");
  write_bytes(path, "PK\3\4\24\0\0\0\10\0", 10);
  read_fails(path, &want, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT,
             ": compressed with zip, which is not read: unpack it first (plain and gzip-compressed FITS are read "
             "directly)");
  write_bytes(path, "\37\235\220SIMPLE", 9);
  read_fails(path, &want, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT,
             ": compressed with compress (.Z), which is not read: unpack it first (plain and gzip-compressed FITS "
             "are read directly)");

  /* FITS through a pipe (not mappable): read into memory */
  char fifo[512];
  in_dir(fifo, sizeof fifo, "pipe.fits");
  in_dir(path, sizeof path, "plain.fits");
  write_small_fits(path, x, n, 3, 0, 0);
  pid_t child = serve_through_fifo(path, fifo);
  read_ok(fifo, &want, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  int wst;
  ck_assert_int_eq(waitpid(child, &wst, 0), child);
  ck_assert(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
  ck_assert_uint_eq(t.n_rows, 3);
  ck_assert(t.cols[0][2] == 1);
  densrt_io_table_free(&t);

  /* cfitsio's extended file-name syntax is not applied to our paths */
  char odd[512];
  in_dir(path, sizeof path, "plain.fits");
  write_small_fits(path, x, n, 3, 0, 0);
  in_dir(odd, sizeof odd, "odd[1].fits");
  ck_assert_int_eq(rename(path, odd), 0);
  read_ok(odd, &want, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 3);
  densrt_io_table_free(&t);

  /* only an image */
  in_dir(path, sizeof path, "image.fits");
  membuf m = { NULL, 0, NULL };
  m.f = open_memstream(&m.buf, &m.len);
  card(&m, "SIMPLE  = %20s", "T");
  card(&m, "BITPIX  = %20d", 16);
  card(&m, "NAXIS   = %20d", 1);
  card(&m, "NAXIS1  = %20d", 3);
  end_header(&m);
  put_be(&m, 0x000100020003u, 6);
  pad_block(&m, 0);
  fclose(m.f);
  write_bytes(path, m.buf, m.len);
  free(m.buf);
  read_fails(path, &want, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT, ": no table in FITS file");

  /* looks like FITS but is cut short, or is not FITS at all */
  in_dir(path, sizeof path, "broken.fits");
  write_bytes(path, "SIMPLE  = nonsense\n", 19);
  read_fails(path, &want, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT,
             ": truncated FITS file: the header of HDU 1 has no END card");
  m.f = open_memstream(&m.buf, &m.len);
  card(&m, "SIMPLE  = nonsense");
  end_header(&m);
  fclose(m.f);
  write_bytes(path, m.buf, m.len);
  free(m.buf);
  ck_assert_int_eq(densrt_io_read(path, &want, 1, DENSRT_IO_OUTSIDE_ERROR, &t), DENSRT_EIO);
  char prefix[600];
  snprintf(prefix, sizeof prefix, "%s: FITS error: ", path);
  ck_assert_msg(strncmp(densrt_error_message(), prefix, strlen(prefix)) == 0 &&
                  strlen(densrt_error_message()) > strlen(prefix), "%s", densrt_error_message());
  ck_assert_ptr_null(t.cols);
}
END_TEST

/* }====================================================== */


/*
** {======================================================
** Atomic output
** =======================================================
*/

START_TEST(test_out_commit)
{
  char path[512];
  in_dir(path, sizeof path, "out.txt");
  densrt_io_out o;
  ck_assert_int_eq(densrt_io_out_open(&o, path), DENSRT_OK);
  ck_assert_ptr_nonnull(o.f);
  ck_assert_ptr_nonnull(o.tmp);
  ck_assert_int_eq(strncmp(o.tmp, path, strlen(path)), 0);
  ck_assert_int_eq(strncmp(o.tmp + strlen(path), ".tmp", 4), 0);
  fputs("hello\n", o.f);
  ck_assert_int_ne(access(path, F_OK), 0);     /* nothing visible before commit */
  ck_assert_int_eq(access(o.tmp, F_OK), 0);
  ck_assert_int_eq(densrt_io_out_commit(&o), DENSRT_OK);
  ck_assert_ptr_null(o.f);
  ck_assert_str_eq(slurp(path), "hello\n");
  ck_assert_uint_eq(count_entries(), 1);       /* no temporary left */
  struct stat sb;
  ck_assert_int_eq(stat(path, &sb), 0);
  mode_t mask = umask(0);
  umask(mask);
  ck_assert_int_eq(sb.st_mode & 0777, 0666 & ~mask);
  densrt_io_out_abort(&o);                     /* harmless after commit */
  ck_assert_str_eq(slurp(path), "hello\n");

  /* replacing keeps the old file intact until commit, and keeps its mode */
  ck_assert_int_eq(chmod(path, 0640), 0);
  ck_assert_int_eq(densrt_io_out_open(&o, path), DENSRT_OK);
  fputs("second\n", o.f);
  ck_assert_str_eq(slurp(path), "hello\n");
  ck_assert_int_eq(densrt_io_out_commit(&o), DENSRT_OK);
  ck_assert_str_eq(slurp(path), "second\n");
  ck_assert_int_eq(stat(path, &sb), 0);
  ck_assert_int_eq(sb.st_mode & 0777, 0640);
  ck_assert_uint_eq(count_entries(), 1);

  /* committing twice is an error, not a crash */
  ck_assert_int_eq(densrt_io_out_commit(&o), DENSRT_EINVAL);
}
END_TEST

START_TEST(test_out_abort)
{
  char path[512];
  in_dir(path, sizeof path, "aborted.txt");
  densrt_io_out o;
  ck_assert_int_eq(densrt_io_out_open(&o, path), DENSRT_OK);
  fputs("never seen\n", o.f);
  densrt_io_out_abort(&o);
  densrt_io_out_abort(&o);
  ck_assert_int_ne(access(path, F_OK), 0);
  ck_assert_uint_eq(count_entries(), 0);

  /* a failed commit (the destination turned into a non-empty directory) removes the temporary */
  in_dir(path, sizeof path, "sub");
  ck_assert_int_eq(densrt_io_out_open(&o, path), DENSRT_OK);
  fputs("data\n", o.f);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  char inner[600];
  snprintf(inner, sizeof inner, "%s/f", path);
  write_bytes(inner, "x", 1);
  ck_assert_int_eq(densrt_io_out_commit(&o), DENSRT_EIO);
  ck_assert_int_eq(strncmp(densrt_error_message(), path, strlen(path)), 0);
  ck_assert_ptr_null(o.f);
  ck_assert_uint_eq(count_entries(), 1);
  densrt_io_out_abort(&o);

  /* an existing directory is refused at open */
  char msg[700];
  ck_assert_int_eq(densrt_io_out_open(&o, path), DENSRT_EIO);
  snprintf(msg, sizeof msg, "%s: is a directory", path);
  ck_assert_str_eq(densrt_error_message(), msg);
  ck_assert_uint_eq(count_entries(), 1);
  unlink(inner);
  rmdir(path);

  /* a device is written in place, never replaced */
  ck_assert_int_eq(densrt_io_out_open(&o, "/dev/null"), DENSRT_OK);
  ck_assert_ptr_null(o.tmp);
  fputs("discarded\n", o.f);
  ck_assert_int_eq(densrt_io_out_commit(&o), DENSRT_OK);
  struct stat sb;
  ck_assert_int_eq(stat("/dev/null", &sb), 0);
  ck_assert(S_ISCHR(sb.st_mode));
  ck_assert_int_eq(densrt_io_out_open(&o, "/dev/null"), DENSRT_OK);
  densrt_io_out_abort(&o);
  densrt_io_out_abort(&o);
  ck_assert_int_eq(stat("/dev/null", &sb), 0);
  ck_assert(S_ISCHR(sb.st_mode));

  /* standard output needs no temporary */
  ck_assert_int_eq(densrt_io_out_open(&o, "-"), DENSRT_OK);
  ck_assert_ptr_eq(o.f, stdout);
  ck_assert_ptr_null(o.tmp);
  ck_assert_int_eq(densrt_io_out_commit(&o), DENSRT_OK);
  ck_assert_ptr_null(o.f);
}
END_TEST

START_TEST(test_out_bad_dir)
{
  char path[512], msg[700];
  in_dir(path, sizeof path, "no/such/dir/out.txt");
  densrt_io_out o;
  ck_assert_int_eq(densrt_io_out_open(&o, path), DENSRT_EIO);
  snprintf(msg, sizeof msg, "%s: cannot open for writing: No such file or directory", path);
  ck_assert_str_eq(densrt_error_message(), msg);
  ck_assert_ptr_null(o.f);
  ck_assert_ptr_null(o.tmp);
  densrt_io_out_abort(&o);
  ck_assert_uint_eq(count_entries(), 0);
}
END_TEST

/* }====================================================== */


static Suite *io_suite(void)
{
  Suite *s = suite_create("io");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_csv_layout);
  tcase_add_test(tc, test_csv_errors);
  tcase_add_test(tc, test_csv_long_line);
  tcase_add_test(tc, test_csv_drop);
  tcase_add_test(tc, test_gauss1d);
  tcase_add_test(tc, test_csv_speed);
  tcase_add_test(tc, test_fits_gd1);
  tcase_add_test(tc, test_fits_small);
  tcase_add_test(tc, test_fits_other);
  tcase_add_test(tc, test_out_commit);
  tcase_add_test(tc, test_out_abort);
  tcase_add_test(tc, test_out_bad_dir);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(io_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
