/*
** table_check.h — what fuzz_csv.c and fuzz_fits.c both do with a file: the error
** handler that counts reports, the three fixed requests, and the invariants of the
** table (abort on violation):
**   z in [-3, 3], rows outside the window are an error;
**   x in [-100, 20] and y unbounded, rows outside are dropped;
**   x in [-100, 20], the text column id and the optional text column name, rows with
**   a missing value dropped, rows with y >= 0 filtered out (densrt_io_read_rules).
** On success: the requested columns, every number finite and inside its window, text
** cells present (an absent column only if optional), row numbers increasing; on
** failure: the table empty and an error reported through the handler.
*/
#ifndef TABLE_CHECK_H
#define TABLE_CHECK_H

#include "error.h"
#include "io.h"

#include <math.h>
#include <stdlib.h>

static int n_reported;

static void count_error(const char *message, const char *file, int line, int status)
{
  (void)file;
  (void)line;
  if (!message[0] || status == DENSRT_OK)
    abort();
  n_reported++;
}

static void read_and_check(const char *path, const densrt_io_column *want, size_t n_want, densrt_io_outside policy,
                           const densrt_io_rules *rules)
{
  densrt_io_table t;
  n_reported = 0;
  int st = rules ? densrt_io_read_rules(path, want, n_want, rules, &t) : densrt_io_read(path, want, n_want, policy, &t);
  if (st != DENSRT_OK) {
    if (t.cols || t.n_rows || t.n_cols || n_reported == 0)
      abort();
    return;
  }
  if (t.n_cols != n_want || !t.cols || (policy != DENSRT_IO_OUTSIDE_DROP && t.n_dropped))
    abort();
  if (!t.row || !t.present || (t.sep != 0 && t.sep != ',' && t.sep != '\t' && t.sep != ' '))
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

static void read_requests(const char *path)
{
  static const densrt_io_column one[] = {{"z", -3, 3}};
  static const densrt_io_column two[] = {{"x", -100, 20}, {"y", -INFINITY, INFINITY}};
  static const densrt_io_column three[] = {{"x", -100, 20}, {"id", 0, 0}, {"y", -INFINITY, INFINITY}, {"name", 0, 0}};
  static const unsigned flags[] = {0, DENSRT_IO_TEXT, 0, DENSRT_IO_TEXT | DENSRT_IO_OPTIONAL};
  static const densrt_io_filter below = {2, DENSRT_IO_LT, 0};
  static const densrt_io_rules rules = {&below, 1, DENSRT_IO_OUTSIDE_DROP, DENSRT_IO_MISSING_DROP, flags};
  read_and_check(path, one, 1, DENSRT_IO_OUTSIDE_ERROR, NULL);
  read_and_check(path, two, 2, DENSRT_IO_OUTSIDE_DROP, NULL);
  read_and_check(path, three, 4, DENSRT_IO_OUTSIDE_DROP, &rules);
}

#endif
