/* test_json.c — Check suite for the strict JSON reader and the writer helpers */
#include <check.h>

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "json.h"
#include "shared.h"

static densrt_json *parse_ok(const char *text)
{
  densrt_json *v = NULL;
  int st = densrt_json_parse(text, strlen(text), &v);
  ck_assert_msg(st == DENSRT_OK, "parse of <%s> failed: %s", text, densrt_error_message());
  ck_assert_ptr_nonnull(v);
  return v;
}

/* Parses text (len bytes) and checks the status and the exact message. */
static void parse_fails_n(const char *text, size_t len, const char *message)
{
  densrt_json *v = (densrt_json *)&v;    /* must come back NULL */
  int st = densrt_json_parse(text, len, &v);
  ck_assert_msg(st != DENSRT_OK, "parse of <%s> unexpectedly succeeded", text);
  ck_assert_ptr_null(v);
  ck_assert_str_eq(densrt_error_message(), message);
}

static void parse_fails(const char *text, const char *message)
{
  parse_fails_n(text, strlen(text), message);
}

/* Writes with the given writer into memory and returns the text (caller frees). */
static char *written_string(const char *s)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ck_assert_ptr_nonnull(f);
  densrt_json_write_string(f, s);
  fclose(f);
  return buf;
}

static char *written_number(double x)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ck_assert_ptr_nonnull(f);
  densrt_json_write_number(f, x);
  fclose(f);
  return buf;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}


START_TEST(test_scalars)
{
  densrt_json *v = parse_ok("null");
  ck_assert_int_eq(v->type, DENSRT_JSON_NULL);
  densrt_json_free(v);

  v = parse_ok(" true ");
  ck_assert_int_eq(v->type, DENSRT_JSON_BOOL);
  ck_assert(v->number == 1);
  ck_assert_int_eq(v->col, 2);
  densrt_json_free(v);

  v = parse_ok("false");
  ck_assert_int_eq(v->type, DENSRT_JSON_BOOL);
  ck_assert(v->number == 0);
  densrt_json_free(v);

  static const struct { const char *text; double x; } nums[] = {
    { "0", 0 }, { "-0", -0.0 }, { "42", 42 }, { "-17", -17 }, { "1.5", 1.5 }, { "1e3", 1000 },
    { "1E+3", 1000 }, { "-2.5e-3", -2.5e-3 }, { "0.1", 0.1 }, { "123456789012345678", 123456789012345678.0 },
    { "1e-400", 0 }, { "1.7976931348623157e308", DBL_MAX },
  };
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    v = parse_ok(nums[i].text);
    ck_assert_int_eq(v->type, DENSRT_JSON_NUMBER);
    ck_assert_msg(v->number == nums[i].x, "%s -> %.17g", nums[i].text, v->number);
    densrt_json_free(v);
  }
  v = parse_ok("-0");
  ck_assert(signbit(v->number));
  densrt_json_free(v);

  v = parse_ok("\"hello\"");
  ck_assert_int_eq(v->type, DENSRT_JSON_STRING);
  ck_assert_str_eq(v->string, "hello");
  densrt_json_free(v);

  v = parse_ok("\"\"");
  ck_assert_str_eq(v->string, "");
  densrt_json_free(v);
}
END_TEST

/* The reader's own conversion of short numbers must agree bit for bit with strtod. */
START_TEST(test_numbers_vs_strtod)
{
  unsigned long seed = 987654321;
  char text[64];
  for (int iter = 0; iter < 200000; iter++) {
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    unsigned long r = seed >> 11;
    int n_digits = 1 + (int)(r % 19), point = (int)((r >> 5) % 21), len = 0;
    if (r & (1UL << 10))
      text[len++] = '-';
    for (int i = 0; i < n_digits; i++) {
      if (i == point && i > 0)
        text[len++] = '.';
      seed = seed * 6364136223846793005UL + 1442695040888963407UL;
      int d = (int)((seed >> 33) % 10);
      text[len++] = (char)('0' + ((i == 0 && (point != 1 || n_digits == 1)) ? (d ? d : 7) : d));
    }
    if (r & (1UL << 11))
      len += sprintf(text + len, "e%d", (int)((r >> 12) % 61) - 30);
    text[len] = '\0';
    if (text[text[0] == '-'] == '0' && isdigit((unsigned char)text[1 + (text[0] == '-')]))
      continue;    /* leading zero, rejected by design */
    densrt_json *v = NULL;
    ck_assert_msg(densrt_json_parse(text, (size_t)len, &v) == DENSRT_OK, "%s: %s", text, densrt_error_message());
    double want = strtod(text, NULL);
    ck_assert_msg(memcmp(&v->number, &want, sizeof want) == 0, "%s -> %.17g, strtod %.17g", text, v->number, want);
    densrt_json_free(v);
  }
}
END_TEST

START_TEST(test_containers)
{
  densrt_json *v = parse_ok("{\n  \"a\": [1, 2, [3]],\n  \"b\": {\"c\": null, \"d\": \"x\"},\n  \"e\": {}, \"f\": []\n}");
  ck_assert_int_eq(v->type, DENSRT_JSON_OBJECT);
  ck_assert_uint_eq(v->n, 4);
  ck_assert_str_eq(v->keys[0], "a");
  ck_assert_str_eq(v->keys[3], "f");
  ck_assert_int_eq(v->line, 1);
  ck_assert_int_eq(v->col, 1);

  const densrt_json *a = densrt_json_member(v, "a");
  ck_assert_ptr_nonnull(a);
  ck_assert_int_eq(a->type, DENSRT_JSON_ARRAY);
  ck_assert_uint_eq(a->n, 3);
  ck_assert(a->items[1].number == 2);
  ck_assert_int_eq(a->line, 2);
  ck_assert_int_eq(a->col, 8);
  ck_assert_int_eq(a->items[1].col, 12);
  ck_assert_int_eq(a->items[2].type, DENSRT_JSON_ARRAY);
  ck_assert(a->items[2].items[0].number == 3);

  const densrt_json *b = densrt_json_member(v, "b");
  ck_assert_int_eq(b->type, DENSRT_JSON_OBJECT);
  ck_assert_int_eq(densrt_json_member(b, "c")->type, DENSRT_JSON_NULL);
  ck_assert_str_eq(densrt_json_member(b, "d")->string, "x");
  ck_assert_int_eq(densrt_json_member(b, "d")->line, 3);
  ck_assert_int_eq(densrt_json_member(b, "d")->col, 25);

  ck_assert_uint_eq(densrt_json_member(v, "e")->n, 0);
  ck_assert_int_eq(densrt_json_member(v, "f")->type, DENSRT_JSON_ARRAY);
  ck_assert_uint_eq(densrt_json_member(v, "f")->n, 0);

  ck_assert_ptr_null(densrt_json_member(v, "zz"));
  ck_assert_ptr_null(densrt_json_member(a, "a"));
  ck_assert_ptr_null(densrt_json_member(NULL, "a"));
  densrt_json_free(v);
  densrt_json_free(NULL);

  /* a large object takes the hashed duplicate-key path */
  char text[4096] = "{";
  for (int i = 0; i < 100; i++)
    sprintf(text + strlen(text), "%s\"k%d\": %d", i ? ", " : "", i, i);
  strcat(text, "}");
  v = parse_ok(text);
  ck_assert_uint_eq(v->n, 100);
  ck_assert(densrt_json_member(v, "k77")->number == 77);
  densrt_json_free(v);
}
END_TEST

START_TEST(test_escapes)
{
  densrt_json *v = parse_ok("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9\\u20AC \\ud83d\\ude00 \xc3\xa9\"");
  ck_assert_str_eq(v->string, "q\" b\\ s/ \b\f\n\r\t \xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xa9");
  densrt_json_free(v);

  v = parse_ok("\"\\u0041\\u007f\\u0080\\u07FF\\u0800\\uFFFF\\uDBFF\\uDFFF\"");
  ck_assert_str_eq(v->string, "A\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf");
  densrt_json_free(v);

  /* raw multi-byte UTF-8 counts as one column each */
  parse_fails("[\"\xc3\xa9\xe2\x82\xac\", x]", "line 1, column 8: invalid literal 'x'");
}
END_TEST

START_TEST(test_rejections)
{
  parse_fails("", "line 1, column 1: unexpected end of input: expected a value");
  parse_fails("  \n ", "line 2, column 2: unexpected end of input: expected a value");
  parse_fails("[1,2,]", "line 1, column 5: trailing comma in array");
  parse_fails("{\"a\": 1,\n }", "line 1, column 8: trailing comma in object");
  parse_fails("[1,,2]", "line 1, column 4: expected a value, found ','");
  parse_fails("[1 2]", "line 1, column 4: expected ',' or ']' after array element");
  parse_fails("[1", "line 1, column 3: unexpected end of input: expected ',' or ']' after array element");
  parse_fails("{\n  \"a\": 1,\n  \"b\": 2 \"c\": 3\n}",
              "line 3, column 10: expected ',' or '}' after object member");
  parse_fails("{\"a\" 1}", "line 1, column 6: expected ':' after object member name");
  parse_fails("{1: 2}", "line 1, column 2: expected a string as object member name");
  parse_fails("{\"a\": 1, }", "line 1, column 8: trailing comma in object");
  parse_fails("NaN", "line 1, column 1: NaN is not a valid JSON number");
  parse_fails("[Infinity]", "line 1, column 2: Infinity is not a valid JSON number");
  parse_fails("[-Infinity]", "line 1, column 3: Infinity is not a valid JSON number");
  parse_fails("[nan]", "line 1, column 2: invalid literal 'nan'");
  parse_fails("tru", "line 1, column 1: invalid literal 'tru'");
  parse_fails("truex", "line 1, column 1: invalid literal 'truex'");
  parse_fails("012", "line 1, column 1: leading zeros are not allowed in numbers");
  parse_fails("[-007]", "line 1, column 2: leading zeros are not allowed in numbers");
  parse_fails("+1", "line 1, column 1: expected a value, found '+'");
  parse_fails(".5", "line 1, column 1: expected a value, found '.'");
  parse_fails("1.", "line 1, column 3: expected a digit after the decimal point");
  parse_fails("1.e5", "line 1, column 3: expected a digit after the decimal point");
  parse_fails("1e", "line 1, column 3: expected a digit in the exponent");
  parse_fails("1e+", "line 1, column 4: expected a digit in the exponent");
  parse_fails("-", "line 1, column 2: expected a digit after '-'");
  parse_fails("0x10", "line 1, column 2: unexpected 'x' after the JSON value");
  parse_fails("1e999", "line 1, column 1: number out of range");
  parse_fails("\"a\\x\"", "line 1, column 3: invalid escape '\\x' in string");
  parse_fails("\"\\'\"", "line 1, column 2: invalid escape '\\'' in string");
  parse_fails("\"\\u12\"", "line 1, column 2: invalid \\u escape: expected 4 hex digits");
  parse_fails("\"\\u12g4\"", "line 1, column 2: invalid \\u escape: expected 4 hex digits");
  parse_fails("\"\\ud800\"", "line 1, column 2: unpaired UTF-16 high surrogate \\uD800 in string");
  parse_fails("\"\\ud800\\u0041\"", "line 1, column 2: unpaired UTF-16 high surrogate \\uD800 in string");
  parse_fails("\"\\udbff\\n\"", "line 1, column 2: unpaired UTF-16 high surrogate \\uDBFF in string");
  parse_fails("\"x\\udc00\"", "line 1, column 3: unpaired UTF-16 low surrogate \\uDC00 in string");
  parse_fails("\"\\u0000\"", "line 1, column 2: \\u0000 (NUL) in strings is not supported");
  parse_fails("\"abc", "line 1, column 1: unterminated string");
  parse_fails("\"abc\\", "line 1, column 1: unterminated string");
  parse_fails("[\"ab\ncd\"]", "line 1, column 2: unterminated string (raw newline inside string)");
  parse_fails("\"a\tb\"", "line 1, column 3: control character U+0009 in string must be escaped");
  parse_fails("\"\xff\"", "line 1, column 2: invalid UTF-8 byte 0xFF in string");
  parse_fails("\"\xc0\xaf\"", "line 1, column 2: invalid UTF-8 byte 0xC0 in string");          /* overlong */
  parse_fails("\"\xed\xa0\x80\"", "line 1, column 2: invalid UTF-8 byte 0xED in string");      /* surrogate */
  parse_fails("\"\xf4\x90\x80\x80\"", "line 1, column 2: invalid UTF-8 byte 0xF4 in string");  /* > U+10FFFF */
  parse_fails("\"\xe2\x82\"", "line 1, column 2: invalid UTF-8 byte 0xE2 in string");          /* truncated */
  parse_fails("1 2", "line 1, column 3: unexpected '2' after the JSON value");
  parse_fails("{} x", "line 1, column 4: unexpected 'x' after the JSON value");
  parse_fails("[1]]", "line 1, column 4: unexpected ']' after the JSON value");
  parse_fails_n("[1]\0", 4, "line 1, column 4: unexpected byte 0x00 after the JSON value");
  parse_fails_n("[1,\0]", 5, "line 1, column 4: expected a value, found byte 0x00");
  parse_fails("{\"a\": 1, \"b\": 2, \"a\": 3}", "line 1, column 18: duplicate object key 'a'");
  parse_fails("{\"\\u0041\": 1, \"A\": 2}", "line 1, column 15: duplicate object key 'A'");

  /* duplicate key past the linear-scan threshold */
  char text[4096] = "{";
  for (int i = 0; i < 40; i++)
    sprintf(text + strlen(text), "\"k%d\": %d, ", i, i);
  strcat(text, "\"k3\": 0}");
  char msg[128];
  snprintf(msg, sizeof msg, "line 1, column %zu: duplicate object key 'k3'", strlen(text) - 7);
  parse_fails(text, msg);

  /* a NUL-terminated prefix: len limits the parse */
  densrt_json *v = NULL;
  ck_assert_int_eq(densrt_json_parse("[1] garbage", 3, &v), DENSRT_OK);
  densrt_json_free(v);
  ck_assert_int_eq(densrt_json_parse(NULL, 0, &v), DENSRT_EFORMAT);
  ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_depth)
{
  enum { DEEP = 100000 };
  char *text = malloc(2 * DEEP + 1);
  ck_assert_ptr_nonnull(text);

  /* exactly 256 levels are fine */
  memset(text, '[', 256);
  memset(text + 256, ']', 256);
  densrt_json *v = NULL;
  ck_assert_int_eq(densrt_json_parse(text, 512, &v), DENSRT_OK);
  densrt_json_free(v);

  memset(text, '[', 257);
  memset(text + 257, ']', 257);
  parse_fails_n(text, 514, "line 1, column 257: nesting deeper than 256 levels");

  /* far deeper input, arrays and objects mixed, must fail cleanly */
  for (size_t i = 0; i < DEEP; i++)
    text[i] = i % 2 ? '[' : '{';
  text[DEEP] = '\0';
  densrt_json *w = NULL;
  ck_assert_int_ne(densrt_json_parse(text, DEEP, &w), DENSRT_OK);
  ck_assert_ptr_null(w);

  for (size_t i = 0; i < DEEP; i++)
    text[i] = '[';
  parse_fails_n(text, DEEP, "line 1, column 257: nesting deeper than 256 levels");
  free(text);
}
END_TEST

/* Random mutations of a valid document must never crash or leak a half tree. */
START_TEST(test_fuzz)
{
  static const char base[] = "{\"a\": [1, -2.5e3, true, false, null, \"s\\u00e9\\n\"], \"b\": {\"c\": [[], {}]}}";
  static const char alphabet[] = "{}[],:\"\\u0123456789eE+-.tfnrl ax\n\xc3\xa9\xff";
  char text[sizeof base + 8];
  unsigned long seed = 12345;
  int ok = 0;
  for (int iter = 0; iter < 20000; iter++) {
    memcpy(text, base, sizeof base);
    size_t len = sizeof base - 1;
    int edits = 1 + iter % 4;
    for (int k = 0; k < edits; k++) {
      seed = seed * 6364136223846793005UL + 1442695040888963407UL;
      size_t pos = (seed >> 33) % len;
      text[pos] = alphabet[(seed >> 17) % (sizeof alphabet - 1)];
    }
    densrt_json *v = NULL;
    if (densrt_json_parse(text, len, &v) == DENSRT_OK) {
      ok++;
      ck_assert_ptr_nonnull(v);
    } else {
      ck_assert_ptr_null(v);
      ck_assert_msg(strncmp(densrt_error_message(), "line ", 5) == 0, "%s", densrt_error_message());
    }
    densrt_json_free(v);
  }
  ck_assert_int_gt(ok, 0);
}
END_TEST

START_TEST(test_file)
{
  char dir[] = "/tmp/test_json.XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256], msg[512];

  snprintf(path, sizeof path, "%s/bad.json", dir);
  FILE *f = fopen(path, "w");
  fputs("{\n  \"a\": [1, 2,]\n}\n", f);
  fclose(f);
  densrt_json *v = (densrt_json *)&v;
  ck_assert_int_eq(densrt_json_parse_file(path, &v), DENSRT_EFORMAT);
  ck_assert_ptr_null(v);
  snprintf(msg, sizeof msg, "%s:2:13: trailing comma in array", path);
  ck_assert_str_eq(densrt_error_message(), msg);

  f = fopen(path, "w");
  fputs("\xef\xbb\xbf{\"ok\": [true]}\n", f);
  fclose(f);
  ck_assert_int_eq(densrt_json_parse_file(path, &v), DENSRT_OK);
  ck_assert(densrt_json_member(v, "ok")->items[0].number == 1);
  densrt_json_free(v);
  unlink(path);

  snprintf(path, sizeof path, "%s/missing.json", dir);
  ck_assert_int_eq(densrt_json_parse_file(path, &v), DENSRT_EIO);
  ck_assert_ptr_null(v);
  snprintf(msg, sizeof msg, "%s: cannot open: No such file or directory", path);
  ck_assert_str_eq(densrt_error_message(), msg);
  rmdir(dir);
}
END_TEST

static int is_number_array(const densrt_json *v, size_t n)
{
  if (!v || v->type != DENSRT_JSON_ARRAY || (n && v->n != n))
    return 0;
  for (size_t i = 0; i < v->n; i++)
    if (v->items[i].type != DENSRT_JSON_NUMBER)
      return 0;
  return 1;
}

START_TEST(test_spline_cases)
{
  densrt_json *v = NULL;
  double t0 = now();
  int st = densrt_json_parse_file(SHARED_DIR "/reference/spline_cases.json", &v);
  double dt = now() - t0;
  ck_assert_msg(st == DENSRT_OK, "%s", densrt_error_message());
  printf("parsing spline_cases.json: %.4f s\n", dt);   /* informative: speed is measured in bench/ */

  ck_assert_int_eq(v->type, DENSRT_JSON_OBJECT);
  ck_assert_int_eq(densrt_json_member(v, "description")->type, DENSRT_JSON_STRING);
  const densrt_json *cases = densrt_json_member(v, "cases");
  ck_assert_ptr_nonnull(cases);
  ck_assert_int_eq(cases->type, DENSRT_JSON_ARRAY);
  ck_assert_uint_eq(cases->n, 40);
  for (size_t i = 0; i < cases->n; i++) {
    const densrt_json *c = &cases->items[i];
    ck_assert_int_eq(c->type, DENSRT_JSON_OBJECT);
    const densrt_json *knots = densrt_json_member(c, "knots");
    ck_assert(is_number_array(knots, 0));
    ck_assert_uint_ge(knots->n, 4);
    ck_assert_uint_le(knots->n, 40);
    ck_assert(is_number_array(densrt_json_member(c, "values"), knots->n));
    const densrt_json *x = densrt_json_member(c, "x");
    ck_assert(is_number_array(x, 0));
    ck_assert(is_number_array(densrt_json_member(c, "y"), x->n));
    ck_assert(is_number_array(densrt_json_member(c, "dy_dx"), x->n));
    const densrt_json *dv = densrt_json_member(c, "dy_dvalues");
    ck_assert_int_eq(dv->type, DENSRT_JSON_ARRAY);
    ck_assert_uint_eq(dv->n, x->n);
    for (size_t j = 0; j < dv->n; j++)
      ck_assert(is_number_array(&dv->items[j], knots->n));
    ck_assert_int_eq(densrt_json_member(c, "integral")->type, DENSRT_JSON_NUMBER);
    ck_assert(isfinite(densrt_json_member(c, "integral")->number));
  }
  densrt_json_free(v);
}
END_TEST

START_TEST(test_write_string)
{
  static const char *const cases[] = {
    "", "plain", "quote \" backslash \\ slash /", "\b\f\n\r\t\x01\x1f\x7f", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *text = written_string(cases[i]);
    densrt_json *v = parse_ok(text);
    ck_assert_int_eq(v->type, DENSRT_JSON_STRING);
    ck_assert_str_eq(v->string, cases[i]);
    densrt_json_free(v);
    free(text);
  }
  char *text = written_string("a\"b\n\x01");
  ck_assert_str_eq(text, "\"a\\\"b\\n\\u0001\"");
  free(text);

  /* invalid UTF-8 is replaced so the output stays valid JSON */
  text = written_string("x\xffy\xc3");
  ck_assert_str_eq(text, "\"x\\ufffdy\\ufffd\"");
  free(text);
  text = written_string(NULL);
  ck_assert_str_eq(text, "null");
  free(text);
}
END_TEST

/* The rule of densrt_json_format_number written out in full: of every precision 1 .. 17
** whose %g text reads back as x, the shortest text (the lowest precision of equal length). */
static void shortest_by_scan(double x, char *out)
{
  char t[40];
  size_t best = 0;
  for (int prec = 1; prec <= 17; prec++) {
    int k = snprintf(t, sizeof t, "%.*g", prec, x);
    if (strtod(t, NULL) == x && (!best || (size_t)k < best)) {
      best = (size_t)k;
      strcpy(out, t);
    }
  }
}

/* The bisection in densrt_json_format_number gives what the full scan gives: random bit
** patterns, short decimals, powers of two and of ten, integers, values near them. */
START_TEST(test_number_bisection)
{
  uint64_t state = 88172645463325252u;
  for (int i = 0; i < 300000; i++) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    double x;
    switch (i % 6) {
    case 0: memcpy(&x, &state, sizeof x); break;
    case 1: x = (double)(state % 100000) / pow(10.0, (double)((state >> 40) % 12)); break;
    case 2: x = ldexp(1.0, (int)(state % 2000) - 1000); break;
    case 3: x = pow(10.0, (double)((int)(state % 600) - 300)); break;
    case 4: x = (double)(state % 1000000007u) * ((state >> 63) ? -1 : 1); break;
    default: x = nextafter(pow(10.0, (double)((int)(state % 40) - 20)), (state >> 62) & 1 ? INFINITY : 0); break;
    }
    if (!isfinite(x))
      continue;
    char want[40], got[40];
    shortest_by_scan(x, want);
    densrt_json_format_number(got, sizeof got, x);
    ck_assert_msg(!strcmp(got, want), "%.17g: %s, the scan gives %s", x, got, want);
  }
}
END_TEST

START_TEST(test_write_number)
{
  static const double xs[] = {
    0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.30000000000000004, 1.0 / 3.0, 2.0 / 3.0, 1e300, -1e-300, 5e-324,
    DBL_MAX, DBL_MIN, 123456789.0, 9007199254740993.0, 1e21, 1e22, 3.14159265358979312, 2.5e-7,
  };
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
    char *text = written_number(xs[i]);
    densrt_json *v = parse_ok(text);
    ck_assert_int_eq(v->type, DENSRT_JSON_NUMBER);
    ck_assert_msg(v->number == xs[i] && signbit(v->number) == signbit(xs[i]), "%.17g -> %s", xs[i], text);
    densrt_json_free(v);
    free(text);
  }
  /* shortest form */
  static const struct { double x; const char *text; } shortest[] = {
    { 0.1, "0.1" }, { 1.0, "1" }, { -0.0, "-0" }, { 0.30000000000000004, "0.30000000000000004" },
    { 1e300, "1e+300" }, { 1.5, "1.5" }, { 100.0, "100" },
  };
  for (size_t i = 0; i < sizeof shortest / sizeof shortest[0]; i++) {
    char *text = written_number(shortest[i].x);
    ck_assert_str_eq(text, shortest[i].text);
    free(text);
  }
  static const double bad[] = { NAN, INFINITY, -INFINITY };
  for (size_t i = 0; i < 3; i++) {
    char *text = written_number(bad[i]);
    ck_assert_str_eq(text, "null");
    free(text);
  }

  /* a whole document written with the helpers reads back */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  fputs("{", f);
  densrt_json_write_string(f, "k\xc3\xa9y");
  fputs(": [", f);
  for (int i = 0; i < 50; i++) {
    if (i)
      fputs(", ", f);
    densrt_json_write_number(f, sin(i + 0.5) * pow(10.0, i % 13 - 6));
  }
  fputs("]}", f);
  fclose(f);
  densrt_json *v = parse_ok(buf);
  const densrt_json *arr = densrt_json_member(v, "k\xc3\xa9y");
  ck_assert_ptr_nonnull(arr);
  ck_assert_uint_eq(arr->n, 50);
  for (int i = 0; i < 50; i++)
    ck_assert(arr->items[i].number == sin(i + 0.5) * pow(10.0, i % 13 - 6));
  densrt_json_free(v);
  free(buf);
}
END_TEST

static Suite *json_suite(void)
{
  Suite *s = suite_create("json");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_scalars);
  tcase_add_test(tc, test_numbers_vs_strtod);
  tcase_add_test(tc, test_containers);
  tcase_add_test(tc, test_escapes);
  tcase_add_test(tc, test_rejections);
  tcase_add_test(tc, test_depth);
  tcase_add_test(tc, test_fuzz);
  tcase_add_test(tc, test_file);
  shared_add_test(tc, test_spline_cases, SHARED_DIR "/reference/spline_cases.json");
  tcase_add_test(tc, test_write_string);
  tcase_add_test(tc, test_write_number);
  tcase_add_test(tc, test_number_bisection);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(json_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
