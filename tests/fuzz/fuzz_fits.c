/*
** fuzz_fits.c — libFuzzer harness for the FITS reader (densrt_io_read
** through cfitsio).
**
** The input is the file's contents, written to /dev/shm/densc-fuzz-PID.fits
** for each execution (cfitsio opens files by name).  Inputs without a FITS
** or compressed-file signature would go to the CSV reader and are skipped.
** cfitsio allocates the whole uncompressed size that a gzip trailer (ISIZE)
** or a zip header claims before unpacking, up to 4 GiB (plus 4 GiB when
** ISIZE is below the compressed size, taken as a wrapped size): inputs
** claiming more than 64 MiB, or less than their own size, are skipped
** (those allocations are cfitsio's, not ours).  cfitsio 4.2.0 also overflows
** a buffer by one byte, and _FORTIFY_SOURCE aborts, on a TTYPEn card whose
** unquoted value fills all 70 columns (ffgtbp: strcpy into ttype[70]); such
** inputs are skipped too — see tests/fuzz/known/fits/ and docs/reliability.md.
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

static uint32_t le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A header card that crashes cfitsio 4.2.0 (see above): TTYPEn = an unquoted
** value (after '=' and blanks, up to '/' or the end, trailing blanks cut) of
** 70 characters or more. */
static int cfitsio_ttype_overflow(const uint8_t *data, size_t size)
{
  for (size_t i = 0; i + 80 <= size; i += 80) {
    const uint8_t *card = data + i;
    if (memcmp(card, "TTYPE", 5) != 0)
      continue;
    const uint8_t *v = card + 9, *end = card + 80, *slash = memchr(v, '/', (size_t)(end - v));
    while (v < end && *v == ' ')
      v++;
    if (slash && slash > v)
      end = slash;
    while (end > v && end[-1] == ' ')
      end--;
    if (v < end && *v != '\'' && end - v >= 70)
      return 1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int gzip = size >= 2 && data[0] == 0x1F && data[1] == 0x8B;
  int zip = size >= 4 && memcmp(data, "PK\3\4", 4) == 0;
  if (!((size >= 9 && memcmp(data, "SIMPLE  =", 9) == 0) || (size >= 2 && data[0] == 0x1F) || zip))
    return 0;
  if (gzip && (size < 4 || le32(data + size - 4) > (64u << 20) || le32(data + size - 4) < size))
    return 0;
  if (zip && (size < 26 || le32(data + 22) > (64u << 20) || le32(data + 22) < size))
    return 0;
  if (cfitsio_ttype_overflow(data, size))
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
