/*
** fuzz_fits.c — libFuzzer harness for the FITS reader (densrt_io_read
** through cfitsio).
**
** The input is the file's contents, written to /dev/shm/densc-fuzz-PID.fits
** for each execution.  Inputs without a FITS, gzip, compress or zip
** signature would go to the CSV reader and are skipped.  gzip is unpacked by
** densc itself (growing its buffer as data comes, whatever the trailer
** claims) and then read as FITS or CSV, as its contents say; compress and zip
** are refused.  The input limit is 1 MiB (densrt_io_set_max_input), so gzip
** bombs and tables of many rows reach the limit's checks quickly.  Inputs are not filtered further:
** the header check that guards cfitsio 4.2.0's TTYPEn overflow (ffgtbp:
** strcpy into ttype[70], an abort under _FORTIFY_SOURCE) is under test too.
** Three fixed requests, as in fuzz_csv.c:
**   z in [-3, 3], rows outside the window are an error;
**   x in [-100, 20] and y unbounded, rows outside are dropped;
**   x, the text column id (of any type) and the optional text column name, rows
**   with a missing value dropped, y >= 0 filtered out (densrt_io_read_rules).
**
** Invariants checked (abort on violation): on success the table has the
** requested columns, every value is finite and inside its window; on failure
** the table is empty and an error was reported through the handler.
*/
#include "error.h"
#include "io.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static int n_reported;

static void count_error(const char *message, const char *file, int line, int status)
{
  (void)file;
  (void)line;
  if (!message[0] || status == DENSRT_OK)
    abort();
  n_reported++;
}

static void remove_file(void)
{
  unlink(path);
}

static void setup(void)
{
  const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(path, sizeof path, "%s/densc-fuzz-%ld.fits", dir, (long)getpid());
  atexit(remove_file);
  densrt_set_error_handler(count_error);
  densrt_io_set_max_input(1 << 20, NULL);
}

static void read_and_check(const densrt_io_column *want, size_t n_want, densrt_io_outside policy,
                           const densrt_io_rules *rules)
{
  densrt_io_table t;
  n_reported = 0;
  int st = rules ? densrt_io_read_rules(path, want, n_want, rules, &t)
                 : densrt_io_read(path, want, n_want, policy, &t);
  if (st != DENSRT_OK) {
    if (t.cols || t.n_rows || t.n_cols || n_reported == 0)
      abort();
    return;
  }
  if (t.n_cols != n_want || !t.cols || (policy != DENSRT_IO_OUTSIDE_DROP && t.n_dropped))
    abort();
  if (!t.row || !t.present)
    abort();
  for (size_t r = 1; r < t.n_rows; r++)   /* row numbers increase */
    if (t.row[r] <= t.row[r - 1])
      abort();
  for (size_t c = 0; c < n_want; c++) {
    unsigned fl = rules && rules->flags ? rules->flags[c] : 0;
    if (fl & DENSRT_IO_TEXT) {   /* text: every cell a string, or an absent optional column */
      if (t.cols[c] || (!t.present[c] && !(fl & DENSRT_IO_OPTIONAL)) || (t.present[c] && !t.text[c]))
        abort();
      for (size_t r = 0; t.present[c] && r < t.n_rows; r++)
        if (!t.text[c][r])
          abort();
      continue;
    }
    if (!t.cols[c])
      abort();
    for (size_t r = 0; r < t.n_rows; r++) {
      double x = t.cols[c][r];
      if (!isfinite(x) || x < want[c].lo || x > want[c].hi)
        abort();
    }
  }
  densrt_io_table_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int zip = size >= 4 && memcmp(data, "PK\3\4", 4) == 0;
  if (!((size >= 9 && memcmp(data, "SIMPLE  =", 9) == 0) || (size >= 2 && data[0] == 0x1F) || zip))
    return 0;
  if (!path[0])
    setup();
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    perror(path);
    abort();
  }
  static const densrt_io_column one[] = {{"z", -3, 3}};
  static const densrt_io_column two[] = {{"x", -100, 20}, {"y", -INFINITY, INFINITY}};
  static const densrt_io_column three[] = {{"x", -100, 20}, {"id", 0, 0}, {"y", -INFINITY, INFINITY}, {"name", 0, 0}};
  static const unsigned flags[] = {0, DENSRT_IO_TEXT, 0, DENSRT_IO_TEXT | DENSRT_IO_OPTIONAL};
  static const densrt_io_filter below = {2, DENSRT_IO_LT, 0};
  static const densrt_io_rules rules = {&below, 1, DENSRT_IO_OUTSIDE_DROP, DENSRT_IO_MISSING_DROP, flags};
  read_and_check(one, 1, DENSRT_IO_OUTSIDE_ERROR, NULL);
  read_and_check(two, 2, DENSRT_IO_OUTSIDE_DROP, NULL);
  read_and_check(three, 4, DENSRT_IO_OUTSIDE_DROP, &rules);
  return 0;
}
