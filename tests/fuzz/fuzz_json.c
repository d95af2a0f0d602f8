/*
** fuzz_json.c — libFuzzer harness for the JSON reader (densrt_json_parse)
** and the writer helpers.
**
** The input is the document (not NUL-terminated, so ASan sees over-reads).
** An accepted document is written back with densrt_json_write_string and
** densrt_json_write_number, parsed again, and must give the same tree:
** same types, numbers equal bit for bit (the writer promises the shortest
** text that reads back exactly), same strings and keys.
**
** Invariants checked (abort on violation): the round trip above; on failure
** *out is NULL and an error was reported through the handler.
*/
#include "error.h"
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n_reported;

static void count_error(const char *message, const char *file, int line, int status)
{
  (void)file;
  (void)line;
  if (!message[0] || status == DENSRT_OK)
    abort();
  n_reported++;
}

static void write_value(FILE *f, const densrt_json *v)
{
  switch (v->type) {
  case DENSRT_JSON_NULL:
    fputs("null", f);
    break;
  case DENSRT_JSON_BOOL:
    fputs(v->number != 0 ? "true" : "false", f);
    break;
  case DENSRT_JSON_NUMBER:
    densrt_json_write_number(f, v->number);
    break;
  case DENSRT_JSON_STRING:
    densrt_json_write_string(f, v->string);
    break;
  case DENSRT_JSON_ARRAY:
    fputc('[', f);
    for (size_t i = 0; i < v->n; i++) {
      if (i)
        fputc(',', f);
      write_value(f, &v->items[i]);
    }
    fputc(']', f);
    break;
  case DENSRT_JSON_OBJECT:
    fputc('{', f);
    for (size_t i = 0; i < v->n; i++) {
      if (i)
        fputc(',', f);
      densrt_json_write_string(f, v->keys[i]);
      fputc(':', f);
      write_value(f, &v->items[i]);
    }
    fputc('}', f);
    break;
  }
}

static int same(const densrt_json *a, const densrt_json *b)
{
  if (a->type != b->type || a->n != b->n)
    return 0;
  switch (a->type) {
  case DENSRT_JSON_NULL:
    return 1;
  case DENSRT_JSON_BOOL:
  case DENSRT_JSON_NUMBER:
    return memcmp(&a->number, &b->number, sizeof a->number) == 0;
  case DENSRT_JSON_STRING:
    return a->string && b->string && strcmp(a->string, b->string) == 0;
  case DENSRT_JSON_ARRAY:
  case DENSRT_JSON_OBJECT:
    for (size_t i = 0; i < a->n; i++) {
      if (a->type == DENSRT_JSON_OBJECT && strcmp(a->keys[i], b->keys[i]) != 0)
        return 0;
      if (!same(&a->items[i], &b->items[i]))
        return 0;
    }
    return 1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  densrt_set_error_handler(count_error);
  densrt_json *v = (densrt_json *)1;
  n_reported = 0;
  if (densrt_json_parse((const char *)data, size, &v) != DENSRT_OK) {
    if (v || n_reported == 0)
      abort();
    return 0;
  }
  if (!v)
    abort();
  /* lookups must be safe on any tree */
  densrt_json_member(v, "");
  densrt_json_member(v, "knots");
  if (v->type == DENSRT_JSON_OBJECT && v->n && densrt_json_member(v, v->keys[0]) != &v->items[0])
    abort();

  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f)
    abort();
  write_value(f, v);
  if (fclose(f) != 0)
    abort();
  densrt_json *w = NULL;
  if (densrt_json_parse(text, len, &w) != DENSRT_OK) {
    fprintf(stderr, "fuzz_json: written text does not parse: %s\n%.*s\n", densrt_error_message(),
            len > 400 ? 400 : (int)len, text);
    abort();
  }
  if (!same(v, w)) {
    fprintf(stderr, "fuzz_json: round trip changed the tree:\n%.*s\n", len > 400 ? 400 : (int)len, text);
    abort();
  }
  densrt_json_free(w);
  densrt_json_free(v);
  free(text);
  return 0;
}
