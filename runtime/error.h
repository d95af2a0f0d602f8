/*
** error.h — status codes and error reporting shared by every densrt module.
**
** Contract: functions that can fail return an int status (DENSRT_OK = 0 on
** success) and hand results back through out-pointers.  On failure they call
** DENSRT_ERROR(reason, status), which records the message (retrievable with
** densrt_error_message) and calls the installed handler; the default handler
** only records — it never aborts — so callers always see the status.
*/
#ifndef DENSRT_ERROR_H
#define DENSRT_ERROR_H

#include <stddef.h>

enum {
  DENSRT_OK = 0,       /* success */
  DENSRT_EINVAL,       /* invalid argument or input */
  DENSRT_ENOMEM,       /* allocation failed */
  DENSRT_EIO,          /* file could not be read or written */
  DENSRT_EFORMAT,      /* malformed file contents */
  DENSRT_EDOM,         /* value outside the allowed domain (window, bounds) */
  DENSRT_ENONFINITE,   /* a NaN or infinity where a finite number is needed */
  DENSRT_EMAXITER,     /* iteration limit reached */
  DENSRT_ETOL,         /* requested tolerance could not be reached */
  DENSRT_EABNORMAL,    /* algorithm stopped abnormally */
  DENSRT_EINTR,        /* interrupted by a signal */
  DENSRT_EMISSING      /* a missing value (empty cell, NaN, null) where a number is needed */
};

/* Handler called on every error; message is already formatted. */
typedef void densrt_error_handler(const char *message, const char *file, int line, int status);

/* Records a formatted message (printf-style) and calls the handler. Returns status. */
int densrt_error(int status, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 4, 5)))
#endif
  ;

/* The last recorded message ("" if none).  Thread-local. */
const char *densrt_error_message(void);

/* Replace the handler (NULL restores the default, which records only). Returns the old one. */
densrt_error_handler *densrt_set_error_handler(densrt_error_handler *h);

/* Report an error and return its status from the current function. */
#define DENSRT_ERROR(status, ...) \
  return densrt_error((status), __FILE__, __LINE__, __VA_ARGS__)

/* Report an error, evaluating to the status (for use in expressions). */
#define DENSRT_FAIL(status, ...) densrt_error((status), __FILE__, __LINE__, __VA_ARGS__)

#endif
