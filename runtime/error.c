/*
** error.c — status codes and the replaceable error handler.
*/
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_message[1024];
static densrt_error_handler *handler;

int densrt_error(int status, const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_message, sizeof last_message, fmt, ap);
  va_end(ap);
  if (handler)
    handler(last_message, file, line, status);
  return status;
}

const char *densrt_error_message(void)
{
  return last_message;
}

densrt_error_handler *densrt_set_error_handler(densrt_error_handler *h)
{
  densrt_error_handler *old = handler;
  handler = h;
  return old;
}
