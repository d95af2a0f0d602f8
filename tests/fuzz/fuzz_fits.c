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
** Two fixed requests, as in fuzz_csv.c:
**   z in [-3, 3], rows outside the window are an error;
**   x in [-100, 20] and y unbounded, rows outside are dropped.
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

static void read_and_check(const densrt_io_column *want, size_t n_want, densrt_io_outside policy)
{
  densrt_io_table t;
  n_reported = 0;
  int st = densrt_io_read(path, want, n_want, policy, &t);
  if (st != DENSRT_OK) {
    if (t.cols || t.n_rows || t.n_cols || n_reported == 0)
      abort();
    return;
  }
  if (t.n_cols != n_want || !t.cols || (policy != DENSRT_IO_OUTSIDE_DROP && t.n_dropped))
    abort();
  for (size_t c = 0; c < n_want; c++) {
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
  read_and_check(one, 1, DENSRT_IO_OUTSIDE_ERROR);
  read_and_check(two, 2, DENSRT_IO_OUTSIDE_DROP);
  return 0;
}
