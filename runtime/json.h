/*
** json.h — strict RFC 8259 JSON reader (whole document into a tree) and writer helpers.
**
** The reader rejects everything RFC 8259 does not allow (trailing commas, NaN,
** leading zeros, bad escapes, lone surrogates, invalid UTF-8, trailing text)
** plus duplicate object keys and nesting deeper than 256 levels.  Errors are
** reported through DENSRT_ERROR with the position of the offending character:
** "line L, column C: message" (columns count UTF-8 characters, 1-based).
*/
#ifndef DENSRT_JSON_H
#define DENSRT_JSON_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
  DENSRT_JSON_NULL,
  DENSRT_JSON_BOOL,
  DENSRT_JSON_NUMBER,
  DENSRT_JSON_STRING,
  DENSRT_JSON_ARRAY,
  DENSRT_JSON_OBJECT
} densrt_json_type;

typedef struct densrt_json {
  densrt_json_type type;
  double number;              /* NUMBER; BOOL: 0 or 1 */
  char *string;               /* STRING: NUL-terminated UTF-8, escapes decoded */
  size_t n;                   /* ARRAY / OBJECT: number of elements / members */
  struct densrt_json *items;  /* ARRAY elements or OBJECT member values, in file order */
  char **keys;                /* OBJECT member names, parallel to items */
  int line, col;              /* 1-based position where the value starts */
} densrt_json;

/* Parses len bytes of text (need not be NUL-terminated) into a new tree.
** On failure *out is NULL; message "line L, column C: message".
** Strings containing \u0000 are rejected (the tree holds C strings). */
int densrt_json_parse(const char *text, size_t len, densrt_json **out);

/* Reads and parses a whole file.  Messages: "PATH:L:C: message",
** "PATH: cannot open: strerror" or "PATH: read error: strerror". */
int densrt_json_parse_file(const char *path, densrt_json **out);

/* Frees a tree returned by the parser.  NULL is allowed. */
void densrt_json_free(densrt_json *v);

/* The value of member key, or NULL if absent or obj is not an object. */
const densrt_json *densrt_json_member(const densrt_json *obj, const char *key);

/* Writes s as a quoted JSON string; invalid UTF-8 bytes become \ufffd, NULL writes null. */
void densrt_json_write_string(FILE *f, const char *s);

/* The shortest decimal text that reads back as exactly x ("nan", "inf", "-inf" when not
** finite) in buf (len >= 32), for JSON and for messages alike; returns buf. */
const char *densrt_json_format_number(char *buf, size_t len, double x);
/* Writes the shortest decimal text that reads back as exactly x; non-finite -> null. */
void densrt_json_write_number(FILE *f, double x);

#endif
