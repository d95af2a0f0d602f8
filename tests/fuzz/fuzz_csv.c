/*
** fuzz_csv.c — libFuzzer harness for the CSV reader (densrt_io_read).
**
** The input is the file's contents.  It is written to a memfd and read
** through its /proc/self/fd path with three fixed requests:
**   z in [-3, 3], rows outside the window are an error;
**   x in [-100, 20] and y unbounded, rows outside are dropped;
**   x in [-100, 20], the text column id and the optional text column name, rows with
**   a missing value dropped, rows with y >= 0 filtered out (densrt_io_read_rules).
** Inputs that start with a FITS or compressed-file signature are left to
** fuzz_fits (which also reads gzip-compressed CSV).  The input limit is 1 MiB
** (densrt_io_set_max_input), so its checks are reached too.
**
** Invariants checked (abort on violation): on success the table has the
** requested columns, every value is finite and inside its window; on failure
** the table is empty and an error was reported through the handler.
*/
#define _GNU_SOURCE    /* memfd_create */
#include "error.h"
#include "io.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char memfd_path[64];
static int n_reported;

static void count_error(const char *message, const char *file, int line, int status)
{
  (void)file;
  (void)line;
  if (!message[0] || status == DENSRT_OK)
    abort();
  n_reported++;
}

static void setup(void)
{
  memfd = memfd_create("densc-fuzz-csv", 0);
  if (memfd < 0) {
    perror("fuzz_csv: memfd_create");
    abort();
  }
  snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
  densrt_set_error_handler(count_error);
  densrt_io_set_max_input(1 << 20, NULL);
}

static void read_and_check(const densrt_io_column *want, size_t n_want, densrt_io_outside policy,
                           const densrt_io_rules *rules)
{
  densrt_io_table t;
  n_reported = 0;
  int st = rules ? densrt_io_read_rules(memfd_path, want, n_want, rules, &t)
                 : densrt_io_read(memfd_path, want, n_want, policy, &t);
  if (st != DENSRT_OK) {
    if (t.cols || t.n_rows || t.n_cols || n_reported == 0)
      abort();
    return;
  }
  if (t.n_cols != n_want || !t.cols || (policy != DENSRT_IO_OUTSIDE_DROP && t.n_dropped))
    abort();
  if (!t.row || !t.present || (t.sep != ',' && t.sep != '\t' && t.sep != ' '))
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
  if (t.cols || t.n_rows)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if ((size >= 9 && memcmp(data, "SIMPLE  =", 9) == 0) || (size >= 2 && data[0] == 0x1F)
      || (size >= 4 && memcmp(data, "PK\3\4", 4) == 0))
    return 0;
  if (memfd < 0)
    setup();
  if (ftruncate(memfd, 0) != 0 || (size && pwrite(memfd, data, size, 0) != (ssize_t)size)) {
    perror("fuzz_csv: memfd");
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
