/*
** json.c — strict RFC 8259 JSON reader and writer helpers.
**
** A recursive-descent reader over a byte range.  Recursion is bounded by
** MAX_DEPTH, so hostile input cannot overflow the stack.  Every node is kept
** consistent while it is being built (n counts initialised children), so a
** failure anywhere can hand the partial tree to densrt_json_free.
*/
#include "json.h"
#include "error.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256      /* nesting limit for arrays and objects */
#define SMALL_OBJECT 16    /* up to this many members, duplicate keys are found by linear scan */

typedef struct {
  const char *text, *p, *end;
  int line;                /* line of p (newlines only occur in whitespace) */
  const char *line_start;
  int extra;               /* UTF-8 continuation bytes between line_start and p */
  int depth;
  char *buf;               /* scratch for decoding strings and copying numbers */
  size_t buf_len, buf_cap;
  int status;              /* error details, filled by fail */
  int err_line, err_col;
  char err_msg[512];
} parser;

/* Key lookup table for large objects: open addressing over member indices. */
typedef struct {
  size_t *slot;            /* index + 1, 0 = empty */
  size_t cap;              /* power of two */
} keyset;


/*
** {======================================================
** Positions and errors
** =======================================================
*/

/* Column of q on the current line.  Multi-byte characters can only occur
** inside strings, whose scan counts their extra bytes, so this is O(1). */
static int column_of(const parser *ps, const char *q)
{
  return (int)(q - ps->line_start) + 1 - ps->extra;
}

/* Records an error at position at; only runs on failure, so a full rescan is fine. */
static int fail(parser *ps, const char *at, int status, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 4, 5)))
#endif
  ;

static int fail(parser *ps, const char *at, int status, const char *fmt, ...)
{
  int line = 1, col = 1;
  for (const char *s = ps->text; s < at; s++) {
    if (*s == '\n') {
      line++;
      col = 1;
    } else if (((unsigned char)*s & 0xC0) != 0x80) {
      col++;
    }
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ps->err_msg, sizeof ps->err_msg, fmt, ap);
  va_end(ap);
  ps->err_line = line;
  ps->err_col = col;
  ps->status = status;
  return status;
}

static int fail_nomem(parser *ps)
{
  return fail(ps, ps->p, DENSRT_ENOMEM, "out of memory");
}

/* Describes the byte at q for messages: 'x', byte 0x00, or end of input. */
static const char *describe(const parser *ps, const char *q, char *out, size_t size)
{
  if (q >= ps->end)
    snprintf(out, size, "end of input");
  else if ((unsigned char)*q >= 0x20 && (unsigned char)*q < 0x7F)
    snprintf(out, size, "'%c'", *q);
  else
    snprintf(out, size, "byte 0x%02X", (unsigned char)*q);
  return out;
}

/* "expected X", naming what was found only at end of input (the column says the rest). */
static int expected(parser *ps, const char *what)
{
  if (ps->p >= ps->end)
    return fail(ps, ps->p, DENSRT_EFORMAT, "unexpected end of input: expected %s", what);
  return fail(ps, ps->p, DENSRT_EFORMAT, "expected %s", what);
}

/* }====================================================== */


/*
** {======================================================
** Lexical helpers
** =======================================================
*/

static void skip_ws(parser *ps)
{
  const char *p = ps->p, *end = ps->end;
  while (p < end) {
    char c = *p;
    if (c == ' ' || c == '\t' || c == '\r') {
      p++;
    } else if (c == '\n') {
      p++;
      ps->line++;
      ps->line_start = p;
      ps->extra = 0;
    } else {
      break;
    }
  }
  ps->p = p;
}

static int buf_reserve(parser *ps, size_t extra)
{
  if (ps->buf_len + extra <= ps->buf_cap)
    return 1;
  size_t cap = ps->buf_cap ? ps->buf_cap : 64;
  while (cap < ps->buf_len + extra)
    cap *= 2;
  char *b = realloc(ps->buf, cap);
  if (!b)
    return 0;
  ps->buf = b;
  ps->buf_cap = cap;
  return 1;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid (overlong, surrogate, > U+10FFFF). */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
  unsigned c = s[0];
  size_t k;
  unsigned lo = 0x80, hi = 0xBF;     /* allowed range of the second byte */
  if (c < 0x80) return 1;
  else if (c >= 0xC2 && c <= 0xDF) k = 2;
  else if (c == 0xE0) { k = 3; lo = 0xA0; }
  else if (c == 0xED) { k = 3; hi = 0x9F; }    /* excludes UTF-16 surrogates */
  else if (c >= 0xE1 && c <= 0xEF) k = 3;
  else if (c == 0xF0) { k = 4; lo = 0x90; }
  else if (c >= 0xF1 && c <= 0xF3) k = 4;
  else if (c == 0xF4) { k = 4; hi = 0x8F; }    /* nothing above U+10FFFF */
  else return 0;
  if ((size_t)(end - s) < k)
    return 0;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < k; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  return k;
}

static size_t utf8_encode(unsigned long cp, char *out)
{
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads the 4 hex digits of a \u escape; q points at the backslash. */
static int read_u4(parser *ps, const char *q, unsigned long *cp)
{
  if (ps->end - q < 6)
    return fail(ps, q, DENSRT_EFORMAT, "invalid \\u escape: expected 4 hex digits");
  unsigned long v = 0;
  for (int i = 2; i < 6; i++) {
    int h = hexval(q[i]);
    if (h < 0)
      return fail(ps, q, DENSRT_EFORMAT, "invalid \\u escape: expected 4 hex digits");
    v = v * 16 + (unsigned long)h;
  }
  *cp = v;
  return DENSRT_OK;
}

/* string -> '"' { char | escape } '"'; the decoded text is left in ps->buf. */
static int scan_string(parser *ps)
{
  const char *start = ps->p, *p = ps->p + 1, *end = ps->end;
  ps->buf_len = 0;
  for (;;) {
    const char *q = p;
    while (q < end && (unsigned char)*q >= 0x20 && (unsigned char)*q < 0x80 && *q != '"' && *q != '\\')
      q++;
    if (q > p) {
      if (!buf_reserve(ps, (size_t)(q - p)))
        return fail_nomem(ps);
      memcpy(ps->buf + ps->buf_len, p, (size_t)(q - p));
      ps->buf_len += (size_t)(q - p);
      p = q;
    }
    if (p >= end)
      return fail(ps, start, DENSRT_EFORMAT, "unterminated string");
    unsigned char c = (unsigned char)*p;
    if (!buf_reserve(ps, 4))
      return fail_nomem(ps);
    if (c == '"') {
      ps->p = p + 1;
      ps->buf[ps->buf_len] = '\0';     /* buf_reserve left room */
      return DENSRT_OK;
    }
    if (c < 0x20) {
      if (c == '\n')
        return fail(ps, start, DENSRT_EFORMAT, "unterminated string (raw newline inside string)");
      return fail(ps, p, DENSRT_EFORMAT, "control character U+%04X in string must be escaped", c);
    }
    if (c >= 0x80) {
      size_t k = utf8_len((const unsigned char *)p, (const unsigned char *)end);
      if (k == 0)
        return fail(ps, p, DENSRT_EFORMAT, "invalid UTF-8 byte 0x%02X in string", c);
      memcpy(ps->buf + ps->buf_len, p, k);
      ps->buf_len += k;
      ps->extra += (int)k - 1;
      p += k;
      continue;
    }
    /* escape */
    if (p + 1 >= end)
      return fail(ps, start, DENSRT_EFORMAT, "unterminated string");
    char e = p[1], d = 0;
    switch (e) {
    case '"': d = '"'; break;
    case '\\': d = '\\'; break;
    case '/': d = '/'; break;
    case 'b': d = '\b'; break;
    case 'f': d = '\f'; break;
    case 'n': d = '\n'; break;
    case 'r': d = '\r'; break;
    case 't': d = '\t'; break;
    case 'u': break;
    default:
      if ((unsigned char)e >= 0x20 && (unsigned char)e < 0x7F)
        return fail(ps, p, DENSRT_EFORMAT, "invalid escape '\\%c' in string", e);
      return fail(ps, p, DENSRT_EFORMAT, "invalid escape in string");
    }
    if (d) {
      ps->buf[ps->buf_len++] = d;
      p += 2;
      continue;
    }
    unsigned long cp, lo;
    if (read_u4(ps, p, &cp))
      return ps->status;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
      return fail(ps, p, DENSRT_EFORMAT, "unpaired UTF-16 low surrogate \\u%04lX in string", cp);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      /* a high surrogate must be followed by an escaped low surrogate */
      if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
        return fail(ps, p, DENSRT_EFORMAT, "unpaired UTF-16 high surrogate \\u%04lX in string", cp);
      if (read_u4(ps, p + 6, &lo))
        return ps->status;
      if (lo < 0xDC00 || lo > 0xDFFF)
        return fail(ps, p, DENSRT_EFORMAT, "unpaired UTF-16 high surrogate \\u%04lX in string", cp);
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      p += 6;
    }
    if (cp == 0)
      return fail(ps, p, DENSRT_EFORMAT, "\\u0000 (NUL) in strings is not supported");
    ps->buf_len += utf8_encode(cp, ps->buf + ps->buf_len);
    p += 6;
  }
}

static int parse_string(parser *ps, char **out)
{
  int st = scan_string(ps);
  if (st)
    return st;
  char *s = malloc(ps->buf_len + 1);
  if (!s)
    return fail_nomem(ps);
  memcpy(s, ps->buf, ps->buf_len + 1);
  *out = s;
  return DENSRT_OK;
}

static int is_digit(const char *p, const char *end)
{
  return p < end && *p >= '0' && *p <= '9';
}

static int is_word(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A bare word that is not true/false/null: say why NaN and Infinity are refused. */
static int bad_word(parser *ps, const char *at)
{
  const char *q = at;
  while (q < ps->end && is_word(*q))
    q++;
  int n = (int)(q - at);
  if ((n == 3 && memcmp(at, "NaN", 3) == 0) || (n == 8 && memcmp(at, "Infinity", 8) == 0))
    return fail(ps, at, DENSRT_EFORMAT, "%.*s is not a valid JSON number", n, at);
  if (n > 0)
    return fail(ps, at, DENSRT_EFORMAT, "invalid literal '%.*s%s'", n > 32 ? 32 : n, at, n > 32 ? "..." : "");
  char what[32];
  return fail(ps, at, DENSRT_EFORMAT, "expected a value, found %s", describe(ps, at, what, sizeof what));
}

/* number -> ['-'] ('0' | [1-9][0-9]*) ['.' [0-9]+] [('e'|'E') ['+'|'-'] [0-9]+]
** When the significand fits in 53 bits and |exponent| <= 22 both operands are
** exact, so one multiply or divide rounds correctly (Clinger's fast path);
** the rest go to strtod. */
static int parse_number(parser *ps, double *out)
{
  static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
  const char *start = ps->p, *p = ps->p, *end = ps->end;
  uint64_t m = 0;          /* significant digits, while they fit */
  int digits = 0;          /* significant digits seen (leading zeros excluded) */
  long e10 = 0;            /* decimal exponent adjustment */
  int neg = *p == '-';
  if (neg) {
    p++;
    if (p < end && (*p == 'I' || *p == 'N'))
      return bad_word(ps, p);
    if (!is_digit(p, end))
      return fail(ps, p, DENSRT_EFORMAT, "expected a digit after '-'");
  }
  if (*p == '0') {
    p++;
    if (is_digit(p, end))
      return fail(ps, start, DENSRT_EFORMAT, "leading zeros are not allowed in numbers");
  } else {
    for (; is_digit(p, end); p++, digits++)
      if (digits < 19)
        m = 10 * m + (uint64_t)(*p - '0');
  }
  if (p < end && *p == '.') {
    p++;
    if (!is_digit(p, end))
      return fail(ps, p, DENSRT_EFORMAT, "expected a digit after the decimal point");
    for (; is_digit(p, end); p++) {
      if (digits == 0 && *p == '0') {
        e10--;
        continue;
      }
      if (digits < 19) {
        m = 10 * m + (uint64_t)(*p - '0');
        e10--;
      }
      digits++;
    }
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    int eneg = 0;
    long ev = 0;
    if (p < end && (*p == '+' || *p == '-'))
      eneg = *p++ == '-';
    if (!is_digit(p, end))
      return fail(ps, p, DENSRT_EFORMAT, "expected a digit in the exponent");
    for (; is_digit(p, end); p++)
      if (ev < 100000)
        ev = 10 * ev + (*p - '0');
    e10 += eneg ? -ev : ev;
  }
  if (digits <= 19 && m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
    double x = (double)m;
    x = e10 >= 0 ? x * pow10[e10] : x / pow10[-e10];
    *out = neg ? -x : x;
    ps->p = p;
    return DENSRT_OK;
  }
  /* copy the validated token: the input need not be NUL-terminated */
  size_t n = (size_t)(p - start);
  ps->buf_len = 0;
  if (!buf_reserve(ps, n + 1))
    return fail_nomem(ps);
  memcpy(ps->buf, start, n);
  ps->buf[n] = '\0';
  char *stop;
  double x = strtod(ps->buf, &stop);
  if (stop != ps->buf + n)
    return fail(ps, start, DENSRT_EFORMAT, "cannot convert number '%.*s' (is the C locale in use?)",
                n > 40 ? 40 : (int)n, start);
  if (isinf(x))
    return fail(ps, start, DENSRT_EFORMAT, "number out of range");
  *out = x;
  ps->p = p;
  return DENSRT_OK;
}

/* }====================================================== */


/*
** {======================================================
** Duplicate keys
** =======================================================
*/

static size_t hash_key(const char *s)
{
  uint64_t h = 1469598103934665603ULL;    /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return (size_t)h;
}

/* Inserts member i of keys; returns 1 if its key was already present, -1 on allocation failure. */
static int keyset_add(keyset *ks, char **keys, size_t i)
{
  if (2 * (i + 1) > ks->cap) {
    size_t cap = ks->cap ? 2 * ks->cap : 64;
    size_t *slot = calloc(cap, sizeof *slot);
    if (!slot)
      return -1;
    free(ks->slot);
    ks->slot = slot;
    ks->cap = cap;
    for (size_t j = 0; j < i; j++) {
      size_t h = hash_key(keys[j]) & (cap - 1);
      while (slot[h])
        h = (h + 1) & (cap - 1);
      slot[h] = j + 1;
    }
  }
  size_t h = hash_key(keys[i]) & (ks->cap - 1);
  while (ks->slot[h]) {
    if (strcmp(keys[ks->slot[h] - 1], keys[i]) == 0)
      return 1;
    h = (h + 1) & (ks->cap - 1);
  }
  ks->slot[h] = i + 1;
  return 0;
}

/* }====================================================== */


/*
** {======================================================
** Values
** =======================================================
*/

static int parse_value(parser *ps, densrt_json *v);

/* Makes room for one more child of v (and key, for objects). */
static int grow(parser *ps, densrt_json *v, size_t *cap, int with_keys)
{
  if (v->n < *cap)
    return DENSRT_OK;
  size_t ncap = *cap ? 2 * *cap : 4;
  densrt_json *items = realloc(v->items, ncap * sizeof *items);
  if (!items)
    return fail_nomem(ps);
  v->items = items;
  if (with_keys) {
    char **keys = realloc(v->keys, ncap * sizeof *keys);
    if (!keys)
      return fail_nomem(ps);
    v->keys = keys;
  }
  *cap = ncap;
  return DENSRT_OK;
}

/* array -> '[' [ value { ',' value } ] ']' */
static int parse_array(parser *ps, densrt_json *v)
{
  size_t cap = 0;
  v->type = DENSRT_JSON_ARRAY;
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == ']') {
    ps->p++;
    return DENSRT_OK;
  }
  for (;;) {
    if (grow(ps, v, &cap, 0))
      return ps->status;
    densrt_json *item = &v->items[v->n++];
    memset(item, 0, sizeof *item);
    if (parse_value(ps, item))
      return ps->status;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      const char *comma = ps->p++;
      skip_ws(ps);
      if (ps->p < ps->end && *ps->p == ']')
        return fail(ps, comma, DENSRT_EFORMAT, "trailing comma in array");
      continue;
    }
    if (ps->p < ps->end && *ps->p == ']') {
      ps->p++;
      return DENSRT_OK;
    }
    return expected(ps, "',' or ']' after array element");
  }
}

/* object -> '{' [ member { ',' member } ] '}' ; member -> string ':' value */
static int parse_object(parser *ps, densrt_json *v)
{
  size_t cap = 0;
  keyset ks = { NULL, 0 };
  int st = DENSRT_OK;
  v->type = DENSRT_JSON_OBJECT;
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == '}') {
    ps->p++;
    return DENSRT_OK;
  }
  for (;;) {
    if (ps->p >= ps->end || *ps->p != '"') {
      st = expected(ps, "a string as object member name");
      break;
    }
    const char *key_at = ps->p;
    char *key = NULL;
    if ((st = grow(ps, v, &cap, 1)) || (st = parse_string(ps, &key)))
      break;
    size_t i = v->n++;
    v->keys[i] = key;
    memset(&v->items[i], 0, sizeof v->items[i]);
    int dup = 0;
    if (i < SMALL_OBJECT) {
      for (size_t j = 0; j < i && !dup; j++)
        dup = strcmp(v->keys[j], key) == 0;
    } else {
      if (!ks.slot) {
        for (size_t j = 0; j < i; j++)
          if (keyset_add(&ks, v->keys, j) < 0) {
            dup = -1;
            break;
          }
      }
      if (dup == 0)
        dup = keyset_add(&ks, v->keys, i);
    }
    if (dup < 0) {
      st = fail_nomem(ps);
      break;
    }
    if (dup) {
      st = fail(ps, key_at, DENSRT_EFORMAT, "duplicate object key '%.200s'", key);
      break;
    }
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ':') {
      st = expected(ps, "':' after object member name");
      break;
    }
    ps->p++;
    skip_ws(ps);
    if ((st = parse_value(ps, &v->items[i])))
      break;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      const char *comma = ps->p++;
      skip_ws(ps);
      if (ps->p < ps->end && *ps->p == '}') {
        st = fail(ps, comma, DENSRT_EFORMAT, "trailing comma in object");
        break;
      }
      continue;
    }
    if (ps->p < ps->end && *ps->p == '}') {
      ps->p++;
      break;
    }
    st = expected(ps, "',' or '}' after object member");
    break;
  }
  free(ks.slot);
  return st;
}

/* value -> object | array | string | number | 'true' | 'false' | 'null' */
static int parse_value(parser *ps, densrt_json *v)
{
  const char *p = ps->p;
  v->line = ps->line;
  v->col = column_of(ps, p);
  if (p >= ps->end)
    return expected(ps, "a value");
  switch (*p) {
  case '{':
  case '[': {
    if (ps->depth >= MAX_DEPTH)
      return fail(ps, p, DENSRT_EFORMAT, "nesting deeper than %d levels", MAX_DEPTH);
    ps->depth++;
    int st = *p == '{' ? parse_object(ps, v) : parse_array(ps, v);
    ps->depth--;
    return st;
  }
  case '"':
    v->type = DENSRT_JSON_STRING;
    return parse_string(ps, &v->string);
  case 't':
  case 'f':
  case 'n': {
    static const char *const words[] = { "true", "false", "null" };
    int w = *p == 't' ? 0 : *p == 'f' ? 1 : 2;
    size_t n = strlen(words[w]);
    if ((size_t)(ps->end - p) < n || memcmp(p, words[w], n) != 0 || (p + n < ps->end && is_word(p[n])))
      return bad_word(ps, p);
    v->type = w == 2 ? DENSRT_JSON_NULL : DENSRT_JSON_BOOL;
    v->number = w == 0;
    ps->p = p + n;
    return DENSRT_OK;
  }
  default:
    if (*p == '-' || (*p >= '0' && *p <= '9')) {
      v->type = DENSRT_JSON_NUMBER;
      return parse_number(ps, &v->number);
    }
    return bad_word(ps, p);
  }
}

/* }====================================================== */


/*
** {======================================================
** Public interface
** =======================================================
*/

static void free_children(densrt_json *v)
{
  free(v->string);
  for (size_t i = 0; i < v->n; i++) {
    free_children(&v->items[i]);
    if (v->keys)
      free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
}

void densrt_json_free(densrt_json *v)
{
  if (!v)
    return;
  free_children(v);
  free(v);
}

/* Parses into *out; on failure the details are in ps and *out is NULL. */
static int parse_text(parser *ps, const char *text, size_t len, densrt_json **out)
{
  static const char empty[1] = "";
  if (!text)
    text = empty;
  memset(ps, 0, sizeof *ps);
  ps->text = ps->p = ps->line_start = text;
  ps->end = text + len;
  ps->line = 1;
  *out = NULL;
  densrt_json *root = calloc(1, sizeof *root);
  if (!root) {
    free(ps->buf);
    return fail_nomem(ps);
  }
  /* RFC 8259 lets parsers ignore a byte order mark */
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
    ps->p += 3;
    ps->extra = 2;
  }
  skip_ws(ps);
  int st = parse_value(ps, root);
  if (!st) {
    skip_ws(ps);
    if (ps->p < ps->end) {
      char what[32];
      st = fail(ps, ps->p, DENSRT_EFORMAT, "unexpected %s after the JSON value",
                describe(ps, ps->p, what, sizeof what));
    }
  }
  free(ps->buf);
  ps->buf = NULL;
  if (st) {
    densrt_json_free(root);
    return st;
  }
  *out = root;
  return DENSRT_OK;
}

int densrt_json_parse(const char *text, size_t len, densrt_json **out)
{
  parser ps;
  if (parse_text(&ps, text, len, out))
    DENSRT_ERROR(ps.status, "line %d, column %d: %s", ps.err_line, ps.err_col, ps.err_msg);
  return DENSRT_OK;
}

int densrt_json_parse_file(const char *path, densrt_json **out)
{
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    DENSRT_ERROR(DENSRT_EIO, "%s: cannot open: %s", path, strerror(errno));
  size_t len = 0, cap = 1 << 16;
  char *text = malloc(cap);
  int err = 0;
  while (text) {
    if (len == cap) {
      char *t = realloc(text, cap * 2);
      if (!t) {
        free(text);
        text = NULL;
        break;
      }
      text = t;
      cap *= 2;
    }
    size_t got = fread(text + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f))
        err = errno ? errno : EIO;
      break;
    }
  }
  fclose(f);
  if (!text)
    DENSRT_ERROR(DENSRT_ENOMEM, "%s: out of memory", path);
  if (err) {
    free(text);
    DENSRT_ERROR(DENSRT_EIO, "%s: read error: %s", path, strerror(err));
  }
  parser ps;
  int st = parse_text(&ps, text, len, out);
  free(text);
  if (st)
    DENSRT_ERROR(st, "%s:%d:%d: %s", path, ps.err_line, ps.err_col, ps.err_msg);
  return DENSRT_OK;
}

const densrt_json *densrt_json_member(const densrt_json *obj, const char *key)
{
  if (!obj || obj->type != DENSRT_JSON_OBJECT || !key)
    return NULL;
  for (size_t i = 0; i < obj->n; i++)
    if (strcmp(obj->keys[i], key) == 0)
      return &obj->items[i];
  return NULL;
}

void densrt_json_write_string(FILE *f, const char *s)
{
  if (!s) {
    fputs("null", f);
    return;
  }
  const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
  putc('"', f);
  while (p < end) {
    unsigned c = *p;
    if (c == '"' || c == '\\') {
      putc('\\', f);
      putc((int)c, f);
      p++;
    } else if (c < 0x20) {
      switch (c) {
      case '\b': fputs("\\b", f); break;
      case '\f': fputs("\\f", f); break;
      case '\n': fputs("\\n", f); break;
      case '\r': fputs("\\r", f); break;
      case '\t': fputs("\\t", f); break;
      default: fprintf(f, "\\u%04X", c); break;
      }
      p++;
    } else if (c < 0x80) {
      putc((int)c, f);
      p++;
    } else {
      size_t k = utf8_len(p, end);
      if (k == 0) {
        fputs("\\ufffd", f);     /* keep the output valid JSON */
        p++;
      } else {
        fwrite(p, 1, k, f);
        p += k;
      }
    }
  }
  putc('"', f);
}

const char *densrt_json_format_number(char *buf, size_t len, double x)
{
  if (!isfinite(x)) {
    snprintf(buf, len, "%s", isnan(x) ? "nan" : x > 0 ? "inf" : "-inf");
    return buf;
  }
  /* the shortest text that reads back as x: the fewest digits (5e-324, not
     4.94065645841247e-324), and of equal digits the shorter form (100, not 1e+02) */
  char t[40], fit[40] = "";
  size_t best = 0;
  int from = 1, e2;
  /* The fewest digits that read back, by bisection: more digits are never farther from x,
     so reading back is monotone in the precision -- except at a power of two, where the
     doubles below are twice as dense as above (those take the full scan).  Computed values
     mostly need 15 to 17 digits: 15 is tried first.  Of equal digits the text is then
     final in fixed notation (more digits can only be longer) and in exponent notation
     below 1e-4 (no precision writes it fixed); a larger exponent may turn into a shorter
     fixed form at a higher precision (1e+02 -> 100), so those scan on from there. */
  if (x != 0 && frexp(fabs(x), &e2) != 0.5) {
    int a = 1, b = 17;
    snprintf(t, sizeof t, "%.15g", x);
    if (strtod(t, NULL) == x) {
      b = 15;
      strcpy(fit, t);
    } else {
      a = 16;
    }
    while (a < b) {
      int mid = (a + b) / 2;
      snprintf(t, sizeof t, "%.*g", mid, x);
      if (strtod(t, NULL) == x) {
        b = mid;
        strcpy(fit, t);
      } else {
        a = mid + 1;
      }
    }
    if (!fit[0] || b != a)
      snprintf(fit, sizeof fit, "%.*g", a, x);
    const char *e = strchr(fit, 'e');
    if (!e || e[1] == '-') {
      snprintf(buf, len, "%s", fit);
      return buf;
    }
    from = a;
  }
  for (int prec = from; prec <= 17; prec++) {
    int k = snprintf(t, sizeof t, "%.*g", prec, x);
    if (strtod(t, NULL) == x && (!best || (size_t)k < best)) {
      best = (size_t)k;
      snprintf(buf, len, "%s", t);
    }
  }
  return buf;
}

void densrt_json_write_number(FILE *f, double x)
{
  char buf[40];
  fputs(isfinite(x) ? densrt_json_format_number(buf, sizeof buf, x) : "null", f);
}

/* }====================================================== */
