/*
** fuzz_csv.c — libFuzzer harness for the CSV reader (densrt_io_read).
**
** The input is the file's contents.  It is written to a memfd and read
** through its /proc/self/fd path with the three requests of table_check.h.
** Inputs that start with a FITS or compressed-file signature are left to
** fuzz_fits (which also reads gzip-compressed CSV).  The input limit is 1 MiB
** (densrt_io_set_max_input), so its checks are reached too.
**
** Invariants: those of table_check.h.
*/
#define _GNU_SOURCE    /* memfd_create */
#include "error.h"
#include "io.h"
#include "table_check.h"

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
  read_requests(memfd_path);
  return 0;
}
