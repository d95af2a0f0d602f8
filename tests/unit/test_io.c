/* test_io.c — Check suite for CSV/FITS table reading and atomic output files */
#include <check.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "error.h"
#include "io.h"

/* the repository's own copies (data/README.md), so the suite runs without ../shared */
#define GAUSS1D DATA_DIR "/gauss1d.csv"
#define GD1 DATA_DIR "/gd1-gaiadr3-blog.fits"

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
  csv_fails_s("a,z\n1,2\n\n# x\n1,\n", DENSRT_EMISSING, ":5: column 'z': empty cell");
  csv_fails_s("a,z\n1,  \"\"  \n", DENSRT_EMISSING, ":2: column 'z': empty cell");
  csv_fails_s("z\nabc\n", DENSRT_EFORMAT, ":2: column 'z': 'abc' is not a number");
  csv_fails_s("z\n1.5x\n", DENSRT_EFORMAT, ":2: column 'z': '1.5x' is not a number");
  csv_fails_s("z\n1 2\n", DENSRT_EFORMAT, ":2: column 'z': '1 2' is not a number");
  csv_fails_s("z\r\n1\r\nnan\r\n", DENSRT_EMISSING, ":3: column 'z': non-finite value 'nan'");
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

/* Reads text (written to a scratch file) under rules; returns the status. */
static int read_text(const char *text, const densrt_io_column *want, size_t n, const densrt_io_rules *rules,
                     densrt_io_table *t)
{
  char path[512];
  in_dir(path, sizeof path, "rules.csv");
  write_bytes(path, text, strlen(text));
  return densrt_io_read_rules(path, want, n, rules, t);
}

/* The separator comes from the header: comma, tab (empty fields possible), runs of blanks. */
START_TEST(test_separators)
{
  densrt_io_column want[2] = {{"b", -INFINITY, INFINITY}, {"c d", -INFINITY, INFINITY}};
  densrt_io_rules rules = {NULL, 0, DENSRT_IO_OUTSIDE_ERROR, DENSRT_IO_MISSING_ERROR, NULL};
  static const struct {
    const char *text;
    char sep;
  } cases[] = {
    {"a,b,\"c d\"\n1, 2 ,3\n4,5,6\n", ','},
    {"a\tb\t\"c d\"\n1\t 2 \t3\n4\t5\t6\n", '\t'},
    {"  a   b \"c d\"  \n1 2 3\n\t4\t 5  6   \n", ' '},
    {"# comment, with a comma\na b \"c d\"\n1 2 3\n4 5 6\n", ' '},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    densrt_io_table t;
    ck_assert_msg(read_text(cases[i].text, want, 2, &rules, &t) == DENSRT_OK, "%zu: %s", i, densrt_error_message());
    ck_assert_int_eq(t.sep, cases[i].sep);
    ck_assert_uint_eq(t.n_rows, 2);
    ck_assert(t.cols[0][0] == 2 && t.cols[0][1] == 5 && t.cols[1][0] == 3 && t.cols[1][1] == 6);
    densrt_io_table_free(&t);
  }
  densrt_io_table t;
  /* tab-separated: an empty field is a field (a missing value here) */
  ck_assert_int_eq(read_text("a\tb\tc d\n1\t\t3\n", want, 2, &rules, &t), DENSRT_EMISSING);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), ":2: column 'b': empty cell"));
  /* blank-separated: a row with too few fields */
  ck_assert_int_eq(read_text("a b \"c d\"\n1 2\n", want, 2, &rules, &t), DENSRT_EFORMAT);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), ":2: expected 3 fields, found 2"));
}
END_TEST

/* Missing values: an error naming line and column, or dropped and counted before the
** filters and windows; NaN, NA, N/A, null and empty cells; infinities stay errors. */
START_TEST(test_missing_values)
{
  densrt_io_column want[2] = {{"x", 0, 10}, {"y", -INFINITY, INFINITY}};
  densrt_io_filter f = {1, DENSRT_IO_LT, 100};
  densrt_io_rules rules = {&f, 1, DENSRT_IO_OUTSIDE_DROP, DENSRT_IO_MISSING_ERROR, NULL};
  const char *text = "x,y,z\n1,2,3\nNaN,2,3\n2,,3\n3,NA,3\n4,n/a,\n5,NULL,3\n6,500,3\n20,1,3\n7,8,junk\n";
  densrt_io_table t;
  static const char *const errors[] = {":3: column 'x': non-finite value 'NaN'", ":4: column 'y': empty cell",
                                       ":5: column 'y': missing value 'NA'"};
  ck_assert_int_eq(read_text(text, want, 2, &rules, &t), DENSRT_EMISSING);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), errors[0]));
  ck_assert_ptr_null(t.cols);
  rules.missing = DENSRT_IO_MISSING_DROP;
  ck_assert_msg(read_text(text, want, 2, &rules, &t) == DENSRT_OK, "%s", densrt_error_message());
  /* rows 2-6 missing, 7 (y = 500) filtered, 8 (x = 20) outside; 1 and 9 used */
  ck_assert_uint_eq(t.n_rows, 2);
  ck_assert_uint_eq(t.n_missing, 5);
  ck_assert_uint_eq(t.n_filtered, 1);
  ck_assert_uint_eq(t.n_dropped, 1);
  ck_assert(t.cols[0][0] == 1 && t.cols[0][1] == 7 && t.row[0] == 1 && t.row[1] == 9);
  densrt_io_table_free(&t);
  ck_assert_int_eq(read_text("x,y\n1,-inf\n", want, 2, &rules, &t), DENSRT_ENONFINITE);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), ":2: column 'y': non-finite value '-inf'"));
  ck_assert_int_eq(read_text("x,y\n1,2\n3,NAN0\n", want, 2, &rules, &t), DENSRT_EFORMAT);
  for (size_t i = 1; i < 3; i++) {   /* each kind named as the first error */
    rules.missing = DENSRT_IO_MISSING_ERROR;
    const char *from = i == 1 ? "x,y\n2,\n" : "x,y\n3,NA\n";
    ck_assert_int_eq(read_text(from, want, 2, &rules, &t), DENSRT_EMISSING);
    ck_assert_ptr_nonnull(strstr(densrt_error_message(), errors[i] + 2));
  }
}
END_TEST

/* Text columns keep the cell as written; an optional column may be absent. */
START_TEST(test_text_columns)
{
  densrt_io_column want[3] = {{"x", -INFINITY, INFINITY}, {"id", 0, 0}, {"other", 0, 0}};
  static const unsigned flags[3] = {0, DENSRT_IO_TEXT, DENSRT_IO_TEXT | DENSRT_IO_OPTIONAL};
  densrt_io_filter f = {0, DENSRT_IO_GT, 1};
  densrt_io_rules rules = {&f, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_IO_MISSING_DROP, flags};
  densrt_io_table t;
  ck_assert_msg(read_text("id,x\n4295806720538400001,1\n\"a, b\",2\n,nan\n007,3\n", want, 3, &rules, &t) == DENSRT_OK,
                "%s", densrt_error_message());
  ck_assert_uint_eq(t.n_rows, 2);
  ck_assert(t.present[0] && t.present[1] && !t.present[2]);
  ck_assert_ptr_null(t.cols[1]);
  ck_assert_ptr_null(t.text[2]);
  ck_assert_str_eq(t.text[1][0], "a, b");
  ck_assert_str_eq(t.text[1][1], "007");
  ck_assert(t.row[0] == 2 && t.row[1] == 4 && t.n_missing == 1 && t.n_filtered == 1);
  densrt_io_table_free(&t);
  /* a filter on a text column is a caller's error */
  densrt_io_filter g = {1, DENSRT_IO_GT, 1};
  rules.where = &g;
  ck_assert_int_eq(read_text("id,x\n1,1\n", want, 3, &rules, &t), DENSRT_EINVAL);
  /* required text column absent */
  rules.where = NULL;
  rules.n_where = 0;
  ck_assert_int_eq(read_text("x\n1\n", want, 2, &rules, &t), DENSRT_EFORMAT);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), ": no column 'id' (columns: x)"));
  /* the GD-1 catalogue's 64-bit source_id, exactly: the same digits as the CSV gives */
  densrt_io_column gaia[2] = {{"SOURCE_ID", 0, 0}, {"ra", -INFINITY, INFINITY}};
  static const unsigned gflags[2] = {DENSRT_IO_TEXT, 0};
  rules.flags = gflags;
  ck_assert_int_eq(densrt_io_read_rules(DATA_DIR "/gd1-gaiadr3-blog.fits", gaia, 2, &rules, &t), DENSRT_OK);
  ck_assert_uint_eq(t.n_rows, 3369);
  for (size_t r = 0; r < t.n_rows; r++) {   /* whole numbers above 2^53, as no double holds them */
    char *end;
    long long v = strtoll(t.text[0][r], &end, 10);
    ck_assert(!*end && v > 0 && t.row[r] == r + 1);
  }
  densrt_io_table_free(&t);
}
END_TEST

/* The row rule in one place: filters first, then windows, in CSV and FITS alike. */
START_TEST(test_read_where)
{
  char path[512];
  in_dir(path, sizeof path, "where.csv");
  const char *csv = "a,b\n0,5\n1,50\n2,5\n3,-1\n4,5\n";
  write_bytes(path, csv, strlen(csv));
  const char *names[] = {"a", "b"};
  densrt_io_filter f[2];
  ck_assert_int_eq(densrt_io_parse_filter(" a >= 1", names, 2, &f[0]), DENSRT_OK);
  ck_assert_int_eq(densrt_io_parse_filter("a!=4", names, 2, &f[1]), DENSRT_OK);
  ck_assert(f[0].col == 0 && f[0].op == DENSRT_IO_GE && f[0].x == 1 && f[1].op == DENSRT_IO_NE);
  densrt_io_column want[2] = {{"a", -INFINITY, INFINITY}, {"b", 0, 10}};
  densrt_io_table t;
  /* rows 1 and 4 filtered; of 1, 2, 3 the window keeps 2 (b = 50 and -1 are outside) */
  ck_assert_int_eq(densrt_io_read_where(path, want, 2, f, 2, DENSRT_IO_OUTSIDE_DROP, &t), DENSRT_OK);
  ck_assert_uint_eq(t.n_rows, 1);
  ck_assert(t.cols[0][0] == 2 && t.n_filtered == 2 && t.n_dropped == 2 && t.n_kept_outside == 0);
  densrt_io_table_free(&t);
  ck_assert_int_eq(densrt_io_read_where(path, want, 2, f, 2, DENSRT_IO_OUTSIDE_KEEP, &t), DENSRT_OK);
  ck_assert(t.n_rows == 3 && t.n_filtered == 2 && t.n_dropped == 0 && t.n_kept_outside == 2);
  densrt_io_table_free(&t);
  /* a filtered row is not checked against the window: only line 3 (a = 1, b = 50) fails */
  ck_assert_int_eq(densrt_io_read_where(path, want, 2, f, 1, DENSRT_IO_OUTSIDE_ERROR, &t), DENSRT_EDOM);
  ck_assert_ptr_nonnull(strstr(densrt_error_message(), ":3: column 'b': value 50 is outside the window [0, 10]"));
  f[0].op = DENSRT_IO_LT;   /* a < 1 keeps only row 0 */
  ck_assert_int_eq(densrt_io_read_where(path, want, 2, f, 1, DENSRT_IO_OUTSIDE_ERROR, &t), DENSRT_OK);
  ck_assert(t.n_rows == 1 && t.n_filtered == 4);
  densrt_io_table_free(&t);
  static const char *bad[] = {"c > 1", "a >> 1", "a > ", "a > 1x", "a > inf", "a 1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_int_eq(densrt_io_parse_filter(bad[i], names, 2, &f[0]), DENSRT_EINVAL);
    ck_assert_ptr_nonnull(strstr(densrt_error_message(), "expected 'COLUMN OP NUMBER'"));
  }
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

enum { SMALL_GZ = 1, SMALL_BAD_TTYPE = 2, SMALL_TSCAL0 = 4, SMALL_TSCAL0_TZERO = 8 };

/* A small binary table: X (double), n (int32, TNULL -99), label (8 chars);
** optionally preceded by an image HDU and a table without x.  flags: SMALL_GZ
** compresses it, SMALL_BAD_TTYPE writes TTYPE3 as a 70-character unquoted value
** (which overflows a buffer in cfitsio 4.2), SMALL_TSCAL0 scales X by 0,
** SMALL_TSCAL0_TZERO scales n by 0 with an offset of 2.5. */
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
  if (flags & SMALL_TSCAL0)
    card(&m, "TSCAL1  = %20s", "0.0");
  if (flags & SMALL_TSCAL0_TZERO) {
    card(&m, "TSCAL2  = %20s", "0.0E0");
    card(&m, "TZERO2  = %20s", "2.5");
  }
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
  read_fails(path, want, 2, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EMISSING, ": row 3: column 'x': non-finite value");
  read_fails(path, want, 2, DENSRT_IO_OUTSIDE_DROP, DENSRT_EMISSING, ": row 3: column 'x': non-finite value");
  write_small_fits(path, xinf, n, 4, 0, 0);
  read_fails(path, want, 2, DENSRT_IO_OUTSIDE_ERROR, DENSRT_ENONFINITE, ": row 2: column 'x': non-finite value");
  write_small_fits(path, x, nnull, 4, 0, 0);
  read_fails(path, want, 2, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EMISSING, ": row 4: column 'n': null value");

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
             ": compressed with zip, which is not read: unpack it first (plain and gzip-compressed files are read "
             "directly)");
  write_bytes(path, "\37\235\220SIMPLE", 9);
  read_fails(path, &want, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT,
             ": compressed with compress (.Z), which is not read: unpack it first (plain and gzip-compressed files "
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

START_TEST(test_fits_tscal_zero)
{
  char path[512];
  in_dir(path, sizeof path, "tscal.fits");
  static const double x[] = { 0.5, 2, 1 };
  static const int n[] = { 10, 20, 30 };
  densrt_io_column want[] = { { "x", -INFINITY, INFINITY }, { "n", -INFINITY, INFINITY } };
  densrt_io_table t;

  /* cfitsio reads every value of such a column as TZERO: refused, naming file, HDU and column */
  write_small_fits(path, x, n, 3, 0, SMALL_TSCAL0);
  read_fails(path, want, 2, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT,
             ": HDU 2: column 'x': TSCAL1 = 0 (every value would read as 0)");
  write_small_fits(path, x, n, 3, 1, SMALL_TSCAL0_TZERO | SMALL_GZ);
  read_fails(path, want, 2, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT,
             ": HDU 3: column 'n': TSCAL2 = 0 (every value would read as 2.5)");

  /* only the columns read count */
  read_ok(path, want, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 3);
  ck_assert(t.cols[0][1] == 2);
  densrt_io_table_free(&t);
}
END_TEST

/* A primary HDU and a table whose header declares BITPIX, NAXIS1 and NAXIS2 as
** given (written as they are), with one record of data. */
static void write_declared(const char *path, const char *bitpix, const char *naxis1, const char *naxis2)
{
  membuf m = { NULL, 0, NULL };
  m.f = open_memstream(&m.buf, &m.len);
  ck_assert_ptr_nonnull(m.f);
  card(&m, "SIMPLE  = %20s", "T");
  card(&m, "BITPIX  = %20d", 8);
  card(&m, "NAXIS   = %20d", 0);
  end_header(&m);
  card(&m, "XTENSION= 'BINTABLE'");
  card(&m, "BITPIX  = %20s", bitpix);
  card(&m, "NAXIS   = %20d", 2);
  card(&m, "NAXIS1  = %20s", naxis1);
  card(&m, "NAXIS2  = %20s", naxis2);
  card(&m, "PCOUNT  = %20d", 0);
  card(&m, "GCOUNT  = %20d", 1);
  card(&m, "TFIELDS = %20d", 1);
  card(&m, "TTYPE1  = 'x       '");
  card(&m, "TFORM1  = 'D       '");
  end_header(&m);
  put_double(&m, 1);
  pad_block(&m, 0);
  ck_assert_int_eq(fclose(m.f), 0);
  write_bytes(path, m.buf, m.len);
  free(m.buf);
}

START_TEST(test_fits_declared_sizes)
{
  char path[512];
  in_dir(path, sizeof path, "sizes.fits");
  densrt_io_column x = { "x", -INFINITY, INFINITY };

  static const struct {
    const char *bitpix, *naxis1, *naxis2, *suffix;
  } cases[] = {
    /* BITPIX = +-2^63 overflowed in the data-size check (UBSan; found by fuzz_fits) */
    { "-9223372036854775808", "8", "1",
      ": malformed FITS header in HDU 2: BITPIX = -9223372036854775808 (it must be 8, 16, 32, 64, -32 or -64)" },
    { "9223372036854775807", "8", "1",
      ": malformed FITS header in HDU 2: BITPIX = 9223372036854775807 (it must be 8, 16, 32, 64, -32 or -64)" },
    { "'abc'", "8", "1", ": malformed FITS header in HDU 2: BITPIX = 'abc' (it must be 8, 16, 32, 64, -32 or -64)" },
    /* the declared size is printed as it is (it was capped at 2^40), or said to overflow */
    { "8", "8", "1000000000000", ": truncated FITS file: HDU 2 declares 8000000000000 bytes of data, the file has 2880" },
    { "8", "4611686018427387904", "2",
      ": truncated FITS file: HDU 2 declares 2^63 bytes of data or more, the file has 2880" },
    { "8", "9223372036854775807", "9223372036854775807",
      ": truncated FITS file: HDU 2 declares 2^63 bytes of data or more, the file has 2880" },
    { "8", "4611686018427387903", "2",
      ": truncated FITS file: HDU 2 declares 9223372036854775806 bytes of data, the file has 2880" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    write_declared(path, cases[i].bitpix, cases[i].naxis1, cases[i].naxis2);
    read_fails(path, &x, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT, cases[i].suffix);
  }

  /* the same header with honest sizes reads */
  write_declared(path, "8", "8", "1");
  densrt_io_table t;
  read_ok(path, &x, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 1);
  ck_assert(t.cols[0][0] == 1);
  densrt_io_table_free(&t);
}
END_TEST

/* }====================================================== */


/*
** {======================================================
** Formats, messages and limits
** =======================================================
*/

/* gzip (zlib, compressed) of head followed by count copies of unit. */
static void write_gzip_repeat(const char *path, const char *head, const char *unit, size_t count)
{
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  z_stream z;
  memset(&z, 0, sizeof z);
  ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  size_t ulen = strlen(unit), per = ulen ? (1u << 20) / ulen : 0;
  char *block = malloc(per * ulen + 1);
  ck_assert_ptr_nonnull(block);
  for (size_t i = 0; i < per; i++)
    memcpy(block + i * ulen, unit, ulen);
  unsigned char out[1 << 16];
  size_t left = count;
  int first = 1;
  for (;;) {
    size_t k = left < per ? left : per;
    z.next_in = first ? (unsigned char *)head : (unsigned char *)block;
    z.avail_in = first ? (unsigned)strlen(head) : (unsigned)(k * ulen);
    int flush = !first && k == left ? Z_FINISH : Z_NO_FLUSH;
    int r;
    do {
      z.next_out = out;
      z.avail_out = sizeof out;
      r = deflate(&z, flush);
      ck_assert_int_ne(r, Z_STREAM_ERROR);
      fwrite(out, 1, sizeof out - z.avail_out, f);
    } while (z.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
    if (!first)
      left -= k;
    if (flush == Z_FINISH)
      break;
    first = 0;
  }
  deflateEnd(&z);
  free(block);
  ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_gzip_csv)
{
  char path[512], fifo[512];
  in_dir(path, sizeof path, "data.csv.gz");
  static const char text[] = "# made by hand\nx,z\n1,0.25\n2,-1\n";
  write_gzip(path, (const unsigned char *)text, sizeof text - 1);
  densrt_io_column z = { "z", -3, 3 };
  densrt_io_table t;
  read_ok(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, &t);    /* was "FITS error: 1st key not SIMPLE" */
  ck_assert_uint_eq(t.n_rows, 2);
  ck_assert(t.cols[0][0] == 0.25 && t.cols[0][1] == -1);
  densrt_io_table_free(&t);

  /* line numbers are those of the unpacked text; through a pipe too */
  static const char bad[] = "z\n1\n\nabc\n";
  write_gzip(path, (const unsigned char *)bad, sizeof bad - 1);
  read_fails(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT, ":4: column 'z': 'abc' is not a number");
  write_gzip_repeat(path, "z\n", "0.5\n", 100000);
  pid_t child = serve_through_fifo(path, in_dir(fifo, sizeof fifo, "csv.pipe"));
  read_ok(fifo, &z, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  int wst;
  ck_assert_int_eq(waitpid(child, &wst, 0), child);
  ck_assert_uint_eq(t.n_rows, 100000);
  ck_assert(t.cols[0][99999] == 0.5);
  densrt_io_table_free(&t);

  /* a gzip-compressed zip is still refused */
  write_gzip(path, (const unsigned char *)"PK\3\4\24\0\0\0", 8);
  read_fails(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EFORMAT,
             ": compressed with zip, which is not read: unpack it first (plain and gzip-compressed files are read "
             "directly)");
}
END_TEST

START_TEST(test_shortest_numbers)
{
  static const struct {
    double x;
    const char *s;
  } cases[] = {
    { 0, "0" }, { -0.0, "-0" }, { 3, "3" }, { 0.1, "0.1" }, { -3.0000000000000004, "-3.0000000000000004" },
    { 0.30000000000000004, "0.30000000000000004" }, { 1.0 / 3, "0.3333333333333333" }, { 1e300, "1e+300" },
    { 5e-324, "5e-324" }, { 1.7976931348623157e308, "1.7976931348623157e+308" }, { 123456789, "123456789" },
    { INFINITY, "inf" }, { -INFINITY, "-inf" }, { NAN, "nan" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *got = densrt_io_shortest(cases[i].x).s;
    ck_assert_str_eq(got, cases[i].s);
    if (isfinite(cases[i].x))
      ck_assert(strtod(got, NULL) == cases[i].x);
  }

  /* messages print data values and window bounds so that they read back exactly (%g gave "-3 is outside [-3, 3]") */
  csv_fails_s("z\n-3\n-3.0000000000000004\n", DENSRT_EDOM,
              ":3: column 'z': value -3.0000000000000004 is outside the window [-3, 3]");
  char path[512];
  in_dir(path, sizeof path, "w.csv");
  write_bytes(path, "z\n0.1\n0.30000000000000004\n", 27);
  densrt_io_column w = { "z", -0.1, 0.3 };
  read_fails(path, &w, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EDOM,
             ":3: column 'z': value 0.30000000000000004 is outside the window [-0.1, 0.3]");

  /* FITS rows too */
  static const double x[] = { 1.5, 1.5000000000000002 };
  static const int n[] = { 1, 2 };
  in_dir(path, sizeof path, "w.fits");
  write_small_fits(path, x, n, 2, 0, 0);
  densrt_io_column fx = { "x", 0, 1.5 };
  read_fails(path, &fx, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_EDOM,
             ": row 2: column 'x': value 1.5000000000000002 is outside the window [0, 1.5]");
}
END_TEST

START_TEST(test_parse_size)
{
  static const struct {
    const char *text;
    uint64_t bytes;
  } good[] = {
    { "1", 1 }, { "4096", 4096 }, { "4K", 4096 }, { "4KiB", 4096 }, { "512M", (uint64_t)512 << 20 },
    { "8G", (uint64_t)8 << 30 }, { "8GiB", (uint64_t)8 << 30 }, { "16777215T", (uint64_t)16777215 << 40 },
    { "18446744073709551615", UINT64_MAX },
  };
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    uint64_t b = 0;
    ck_assert_msg(densrt_io_parse_size(good[i].text, &b) == DENSRT_OK, "%s", good[i].text);
    ck_assert_msg(b == good[i].bytes, "%s", good[i].text);
  }
  static const char *const bad[] = {
    "", "0", "0K", "-1", "1.5G", "4g", "4 G", "4GB", "4Gi", "G", " 4", "4G ", "18446744073709551616", "16777216T",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    uint64_t b = 7;
    ck_assert_msg(densrt_io_parse_size(bad[i], &b) == DENSRT_EINVAL, "'%s' accepted", bad[i]);
    ck_assert(b == 7);
  }
  ck_assert_int_eq(densrt_io_parse_size(NULL, NULL), DENSRT_EINVAL);
}
END_TEST

/* A CSV file of column z with rows values 0. */
static void write_zero_rows(const char *path, size_t rows)
{
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("z\n", f);
  for (size_t i = 0; i < rows; i++)
    fputs("0\n", f);
  ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_limit_settings)
{
  char path[512], rows[512];
  densrt_io_column z = { "z", -INFINITY, INFINITY };
  densrt_io_table t;
  uint64_t b = 0;

  /* 600000 bytes: a long comment and one row */
  in_dir(path, sizeof path, "600k.csv");
  char *text = malloc(600000);
  ck_assert_ptr_nonnull(text);
  memset(text, '#', 600000);
  memcpy(text + 600000 - 5, "\nz\n1\n", 5);
  write_bytes(path, text, 600000);
  free(text);

  /* the default, then the environment, then the setter */
  unsetenv("DENSRT_MAX_INPUT_BYTES");
  ck_assert_int_eq(densrt_io_max_input(&b), DENSRT_OK);
  ck_assert(b == DENSRT_IO_MAX_INPUT_DEFAULT && b == (uint64_t)8 << 30);
  read_ok(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 1);
  densrt_io_table_free(&t);

  ck_assert_int_eq(setenv("DENSRT_MAX_INPUT_BYTES", "512K", 1), 0);
  ck_assert_int_eq(densrt_io_max_input(&b), DENSRT_OK);
  ck_assert(b == 524288);
  read_fails(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_ENOMEM,
             ": more than 524288 bytes of input (limit 512 KiB; raise it with DENSRT_MAX_INPUT_BYTES)");

  ck_assert_int_eq(setenv("DENSRT_MAX_INPUT_BYTES", "12x", 1), 0);
  ck_assert_int_eq(densrt_io_read(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, &t), DENSRT_EINVAL);
  ck_assert_str_eq(densrt_error_message(),
                   "DENSRT_MAX_INPUT_BYTES: '12x' is not a size in bytes (such as 4294967296, 512M or 4G)");
  ck_assert_ptr_null(t.cols);

  densrt_io_set_max_input(599999, "--max-input-bytes");     /* the setter wins over the environment */
  ck_assert_int_eq(densrt_io_max_input(&b), DENSRT_OK);
  ck_assert(b == 599999);
  read_fails(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_ENOMEM,
             ": more than 599999 bytes of input (limit 599999 bytes; raise it with --max-input-bytes)");
  densrt_io_set_max_input(600000, NULL);
  read_ok(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, &t);     /* exactly the limit is fine */
  densrt_io_table_free(&t);
  unsetenv("DENSRT_MAX_INPUT_BYTES");

  /* the table is bounded too: 300000 rows of 8 bytes do not fit in 1 MiB (the file, 600002 bytes, does) */
  in_dir(rows, sizeof rows, "rows.csv");
  write_zero_rows(rows, 300000);
  densrt_io_set_max_input(1 << 20, NULL);
  read_fails(rows, &z, 1, DENSRT_IO_OUTSIDE_ERROR, DENSRT_ENOMEM,
             ":131074: more than 131072 rows (the limit of 1 MiB holds 131072 rows of 1 column; raise it with "
             "DENSRT_MAX_INPUT_BYTES)");
  /* ... rows dropped by the window take no room */
  densrt_io_column pos = { "z", 1, 2 };
  read_ok(rows, &pos, 1, DENSRT_IO_OUTSIDE_DROP, &t);
  ck_assert_uint_eq(t.n_rows, 0);
  ck_assert_uint_eq(t.n_dropped, 300000);
  densrt_io_table_free(&t);

  /* FITS: the rows are known up front (here 200 rows, read 8 times over: 12800 bytes) */
  in_dir(path, sizeof path, "rows.fits");
  double x[200];
  int n[200];
  for (int i = 0; i < 200; i++) {
    x[i] = i;
    n[i] = i;
  }
  write_small_fits(path, x, n, 200, 0, 0);
  densrt_io_column eight[8];
  for (int i = 0; i < 8; i++)
    eight[i] = (densrt_io_column){ "x", -INFINITY, INFINITY };
  densrt_io_set_max_input(12000, NULL);
  read_fails(path, eight, 8, DENSRT_IO_OUTSIDE_ERROR, DENSRT_ENOMEM,
             ": HDU 2: more than 187 rows (the limit of 12000 bytes holds 187 rows of 8 columns; raise it with "
             "DENSRT_MAX_INPUT_BYTES)");
  densrt_io_set_max_input(12800, NULL);
  read_ok(path, eight, 8, DENSRT_IO_OUTSIDE_ERROR, &t);
  ck_assert_uint_eq(t.n_rows, 200);
  ck_assert(t.cols[7][199] == 199);
  densrt_io_table_free(&t);
  densrt_io_set_max_input(0, NULL);
}
END_TEST

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifndef UNDER_ASAN   /* ASan reserves terabytes: no address-space limit under it */
/* Address space now in use, in bytes (/proc/self/statm). */
static uint64_t address_space(void)
{
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long long pages = 0;
  if (f) {
    if (fscanf(f, "%llu", &pages) != 1)
      pages = 0;
    fclose(f);
  }
  return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}
#endif

/* Reads column z of path in a child process with a limit of limit bytes, as under
** 'ulimit -v' (address space: what is in use plus 256 MiB; not under
** AddressSanitizer, which reserves terabytes) and 'ulimit -f' (256 MiB: the memory
** files holding piped or unpacked input count as files), for 60 s at most.
** Expects status and exactly path + suffix. */
static void read_limited(const char *path, uint64_t limit, int status, const char *suffix)
{
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    close(fds[0]);
    struct rlimit fsize = { 256 << 20, 256 << 20 };
    signal(SIGXFSZ, SIG_IGN);    /* a write past it fails with EFBIG instead */
    if (setrlimit(RLIMIT_FSIZE, &fsize) != 0)
      _exit(3);
#ifndef UNDER_ASAN
    uint64_t as = address_space() + ((uint64_t)256 << 20);
    struct rlimit vm = { (rlim_t)as, (rlim_t)as };
    if (setrlimit(RLIMIT_AS, &vm) != 0)
      _exit(3);
#endif
    alarm(60);
    densrt_io_set_max_input(limit, NULL);
    densrt_io_column z = { "z", -INFINITY, INFINITY };
    densrt_io_table t;
    int st = densrt_io_read(path, &z, 1, DENSRT_IO_OUTSIDE_ERROR, &t);
    dprintf(fds[1], "%d %s", st, densrt_error_message());
    densrt_io_table_free(&t);
    _exit(0);
  }
  close(fds[1]);
  char got[2048];
  size_t len = 0;
  ssize_t k;
  while (len < sizeof got - 1 && (k = read(fds[0], got + len, sizeof got - 1 - len)) > 0)
    len += (size_t)k;
  got[len] = '\0';
  close(fds[0]);
  int wst;
  ck_assert_int_eq(waitpid(child, &wst, 0), child);
  ck_assert_msg(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "%s: the reader died (%s %d)", path,
                WIFSIGNALED(wst) ? "signal" : "exit", WIFSIGNALED(wst) ? WTERMSIG(wst) : WEXITSTATUS(wst));
  char want[1024];
  snprintf(want, sizeof want, "%d %s%s", status, path, suffix);
  ck_assert_str_eq(got, want);
}

/* Forks a writer that sends "z\n" and then "0\n" forever into a new FIFO. */
static pid_t serve_endless_fifo(const char *fifo)
{
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    FILE *out = fopen(fifo, "wb");
    if (!out)
      _exit(1);
    fputs("z\n", out);
    while (fputs("0\n", out) >= 0)
      ;
    _exit(0);    /* SIGPIPE usually ends it first */
  }
  return child;
}

START_TEST(test_endless_inputs)
{
  char path[512], link[512];
  static const char over[] = ": more than 16777216 bytes of input (limit 16 MiB; raise it with DENSRT_MAX_INPUT_BYTES)";
  /* devices that never end, named directly or through a link */
  read_limited("/dev/zero", 16 << 20, DENSRT_ENOMEM, over);
  read_limited("/dev/urandom", 16 << 20, DENSRT_ENOMEM, over);
  in_dir(link, sizeof link, "zero.csv");
  ck_assert_int_eq(symlink("/dev/zero", link), 0);
  read_limited(link, 16 << 20, DENSRT_ENOMEM, over);

  /* a FIFO whose writer never stops */
  in_dir(path, sizeof path, "endless.pipe");
  pid_t writer = serve_endless_fifo(path);
  read_limited(path, 16 << 20, DENSRT_ENOMEM, over);
  kill(writer, SIGKILL);
  ck_assert_int_eq(waitpid(writer, NULL, 0), writer);

  /* a gzip bomb: 150 KB that unpack to 512 MiB of rows */
  in_dir(path, sizeof path, "bomb.csv.gz");
  write_gzip_repeat(path, "z\n", "0\n", (size_t)256 << 20);
  struct stat sb;
  ck_assert_int_eq(stat(path, &sb), 0);
  ck_assert_int_lt(sb.st_size, 1 << 20);
  read_limited(path, 16 << 20, DENSRT_ENOMEM,
               ": more than 16777216 bytes of input once unpacked (limit 16 MiB; raise it with DENSRT_MAX_INPUT_BYTES)");
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

/* Names that are not the file they stand for: a symbolic link is kept (its target is
** replaced), and a name of an open descriptor (/dev/fd/N, /dev/stdout) is written in place
** (found: --out /dev/stdout, standard output on a file, replaced the /dev/stdout link). */
START_TEST(test_out_links)
{
  char target[512], link[512], fdname[64];
  in_dir(target, sizeof target, "target.csv");
  in_dir(link, sizeof link, "link.csv");
  write_bytes(target, "old\n", 4);
  ck_assert_int_eq(symlink("target.csv", link), 0);
  densrt_io_out o;
  ck_assert_int_eq(densrt_io_out_open(&o, link), DENSRT_OK);
  fputs("new\n", o.f);
  ck_assert_int_eq(densrt_io_out_commit(&o), DENSRT_OK);
  struct stat sb;
  ck_assert_int_eq(lstat(link, &sb), 0);
  ck_assert(S_ISLNK(sb.st_mode));
  ck_assert_str_eq(slurp(target), "new\n");
  ck_assert_uint_eq(count_entries(), 2);    /* the link and its target, no temporary */

  /* /dev/fd/N of a file open for writing: the same file, written through the name */
  FILE *f = fopen(target, "w");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fstat(fileno(f), &sb), 0);
  ino_t ino = sb.st_ino;
  snprintf(fdname, sizeof fdname, "/dev/fd/%d", fileno(f));
  ck_assert_int_eq(densrt_io_out_open(&o, fdname), DENSRT_OK);
  ck_assert_ptr_null(o.tmp);
  fputs("through the descriptor\n", o.f);
  ck_assert_int_eq(densrt_io_out_commit(&o), DENSRT_OK);
  fclose(f);
  ck_assert_int_eq(stat(target, &sb), 0);
  ck_assert(sb.st_ino == ino);
  ck_assert_str_eq(slurp(target), "through the descriptor\n");
  ck_assert_uint_eq(count_entries(), 2);
  unlink(link);
  unlink(target);
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


/* The bundled copies in data/ are the reference data of ../shared (when it is there). */
START_TEST(test_bundled_data)
{
  static const char *const names[] = { "gauss1d.csv", "gd1-gaiadr3-blog.fits" };
  DIR *shared = opendir(SHARED_DIR);
  if (!shared) {
    printf("test_bundled_data: skipped: no shared directory %s\n", SHARED_DIR);
    return;
  }
  closedir(shared);
  for (size_t i = 0; i < 2; i++) {
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/%s", DATA_DIR, names[i]);
    snprintf(b, sizeof b, "%s/data/%s", SHARED_DIR, names[i]);
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    ck_assert_msg(fa && fb, "%s or %s is missing", a, b);
    int ca, cb;
    size_t at = 0;
    do {
      ca = fgetc(fa);
      cb = fgetc(fb);
      at++;
    } while (ca == cb && ca != EOF);
    ck_assert_msg(ca == cb, "%s and %s differ at byte %zu", a, b, at);
    fclose(fa);
    fclose(fb);
  }
}
END_TEST

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
  tcase_add_test(tc, test_read_where);
  tcase_add_test(tc, test_separators);
  tcase_add_test(tc, test_missing_values);
  tcase_add_test(tc, test_text_columns);
  tcase_add_test(tc, test_gauss1d);
  tcase_add_test(tc, test_csv_speed);
  tcase_add_test(tc, test_fits_gd1);
  tcase_add_test(tc, test_fits_small);
  tcase_add_test(tc, test_fits_other);
  tcase_add_test(tc, test_fits_tscal_zero);
  tcase_add_test(tc, test_fits_declared_sizes);
  tcase_add_test(tc, test_gzip_csv);
  tcase_add_test(tc, test_shortest_numbers);
  tcase_add_test(tc, test_parse_size);
  tcase_add_test(tc, test_limit_settings);
  tcase_add_test(tc, test_endless_inputs);
  tcase_add_test(tc, test_bundled_data);
  tcase_add_test(tc, test_out_commit);
  tcase_add_test(tc, test_out_abort);
  tcase_add_test(tc, test_out_links);
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
