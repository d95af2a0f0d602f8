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
** The three requests of table_check.h, as fuzz_csv.c.
**
** Invariants: those of table_check.h.
*/
#include "error.h"
#include "io.h"
#include "table_check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

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
  read_requests(path);
  return 0;
}
