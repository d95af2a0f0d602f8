/*
** test_plot.c — plot.c: axis labels, the track of a component against the closed form of
** a truncated normal's moments, every figure in every format (signature and size),
** nothing written on errors, ranges near +-1e308, data outside a window left out.
*/
#define _GNU_SOURCE   /* memmem */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"
#include "model.h"
#include "plot.h"

static char tmpdir[256];

static void make_tmpdir(void)
{
  snprintf(tmpdir, sizeof tmpdir, "/tmp/test_plot.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  char p[512];
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') {
      snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
      unlink(p);
    }
  if (d)
    closedir(d);
  rmdir(tmpdir);
}

/* Files in the temporary directory (a figure, or temporaries left behind). */
static size_t count_entries(void)
{
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  size_t n = 0;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "%s not written", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  ck_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* The file is a whole figure of its format: signature, ending, a plausible size. */
static void check_figure(const char *path)
{
  size_t n;
  char *b = slurp(path, &n);
  const char *ext = path + strlen(path) - 4;
  ck_assert_msg(n > 1000, "%s: only %zu bytes", path, n);
  if (!strcmp(ext, ".png")) {
    ck_assert_int_eq(memcmp(b, "\x89PNG\r\n\x1a\n", 8), 0);
    ck_assert_int_eq(memcmp(b + n - 8, "IEND\xae\x42\x60\x82", 8), 0);
  } else if (!strcmp(ext, ".pdf")) {
    ck_assert_int_eq(memcmp(b, "%PDF-", 5), 0);
    ck_assert_msg(strstr(b + n - 32, "%%EOF") != NULL, "%s: no %%%%EOF", path);
  } else {
    ck_assert_msg(strstr(b, "<svg") != NULL && strstr(b, "</svg>") != NULL, "%s: not a whole SVG", path);
  }
  free(b);
}

/* {======================================================
** Labels and formats
** ======================================================= */

START_TEST(test_labels)
{
  static const char *const cases[][3] = {
    {"phi1", "deg", "#gf#d1#u [deg]"},
    {"phi2", NULL, "#gf#d2#u"},
    {"Phi", NULL, "#gF"},
    {"phi_12", "mas", "#gf#d12#u [mas]"},
    {"theta", NULL, "#gh"},
    {"lambda_gal", "deg", "#gl#dgal#u [deg]"},
    {"z", NULL, "z"},
    {"ln_std", NULL, "ln#dstd#u"},
    {"x10", NULL, "x#d10#u"},
    {"phix", NULL, "phix"},
    {"a#b", "#", "a##b [##]"},
    {"mu_alpha", NULL, "#gm#d#ga#u"},
    {"ra", "deg", "ra [deg]"},
  };
  char buf[128];
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    ck_assert_str_eq(densrt_plot_label(cases[i][0], cases[i][1], buf, sizeof buf), cases[i][2]);
  /* truncation keeps a terminated string */
  char small[6];
  densrt_plot_label("phi1", "deg", small, sizeof small);
  ck_assert_uint_lt(strlen(small), sizeof small);
}
END_TEST

START_TEST(test_formats)
{
  ck_assert_int_eq(densrt_plot_check_format("a.png"), 0);
  ck_assert_int_eq(densrt_plot_check_format("dir/a.PDF"), 0);
  ck_assert_int_eq(densrt_plot_check_format("a.svg"), 0);
  static const char *const bad[] = {"a.jpg", "png", ".png", "", "a.png.gz", "-"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_int_eq(densrt_plot_check_format(bad[i]), DENSRT_EINVAL);
    ck_assert_msg(strstr(densrt_error_message(), "FILE.png, FILE.pdf or FILE.svg") != NULL, "%s",
                  densrt_error_message());
  }
}
END_TEST

/* }====================================================== */

/* {======================================================
** A model by hand: columns u, v; term 0 a Gaussian across one column whose mean and sd
** depend on the other, term 1 a flat background
** ======================================================= */

static const densrt_dim_def dims2[2] = {{"phi1", 0, 0, "auto", "deg"}, {"phi2", 0, 0, "auto", "deg"}};
static const densrt_dim_def dims1[1] = {{"z", 0, 0, "auto", NULL}};
static const densrt_term_def terms[3] = {{.name = "stream"}, {.name = "background"}, {.name = "wild"}};
static int swapped;   /* term 0 is a Gaussian in u whose mean and sd depend on v */
static int wild;      /* term 2: +inf, NaN, 700 or -inf in turns */

static double track_mu(double a) { return 0.3 + 0.5 * sin(a); }
static double track_sd(double a) { return 0.05 + 0.1 * a * a; }
static double track_amp(double a) { return a > 2.5 ? 0 : exp(1 + 0.2 * a); }

static void hand_log_terms(const densrt_model *m, densrt_work *w, const double *theta, size_t n,
                           const double *const *x, double *out)
{
  (void)w;
  size_t nt = m->def->n_terms;
  for (size_t i = 0; i < n; i++) {
    if (m->def->n_dims == 1) {
      out[i] = theta[0] - 0.5 * x[0][i] * x[0][i];
    } else {
      double a = x[swapped][i], y = x[!swapped][i], s = track_sd(a), z = (y - track_mu(a)) / s;
      out[i] = log(track_amp(a)) - 0.5 * z * z - log(s * sqrt(2 * M_PI));
    }
    if (nt > 1)
      out[n + i] = theta[0];
    if (nt > 2) {
      static const double v[] = {INFINITY, NAN, 700, -INFINITY};
      out[2 * n + i] = wild ? v[i % 4] : theta[0];
    }
  }
}

typedef struct {
  densrt_model_def def;
  densrt_model m;
  double lo[2], hi[2];
  double *cols[2];
} hand_model;

static void hand_init(hand_model *h, size_t dims, size_t nt, const double *lo, const double *hi, size_t rows,
                      double **x)
{
  memset(h, 0, sizeof *h);
  h->def.name = "hand";
  h->def.n_dims = dims;
  h->def.dims = dims == 1 ? dims1 : dims2;
  h->def.n_terms = nt;
  h->def.terms = terms;
  h->def.log_terms = hand_log_terms;
  for (size_t d = 0; d < dims; d++) {
    h->lo[d] = lo[d];
    h->hi[d] = hi[d];
    h->cols[d] = x ? x[d] : NULL;
  }
  h->m.def = &h->def;
  h->m.n = rows;
  h->m.x = h->cols;
  h->m.lo = h->lo;
  h->m.hi = h->hi;
}

/* The moments of a normal(mu, s) truncated to [a, b]: closed form. */
static void truncated_normal(double mu, double s, double a, double b, double *mean, double *sd, double *z)
{
  double al = (a - mu) / s, be = (b - mu) / s;
  double pa = exp(-0.5 * al * al) / sqrt(2 * M_PI), pb = exp(-0.5 * be * be) / sqrt(2 * M_PI);
  double Z = 0.5 * (erfc(-be / sqrt(2)) - erfc(-al / sqrt(2)));
  *mean = mu + s * (pa - pb) / Z;
  *sd = s * sqrt(1 + (al * pa - be * pb) / Z - ((pa - pb) / Z) * ((pa - pb) / Z));
  *z = Z;
}

START_TEST(test_track_closed_form)
{
  /* the window [-0.4, 0.9] across cuts the Gaussian: the truncated moments, not mu and sd */
  for (swapped = 0; swapped < 2; swapped++) {
    double lo[2] = {-3, -0.4}, hi[2] = {3, 0.9};
    if (swapped) {
      lo[0] = -0.4, hi[0] = 0.9, lo[1] = -3, hi[1] = 3;
    }
    hand_model h;
    hand_init(&h, 2, 2, lo, hi, 0, NULL);
    double theta[1] = {5}, a[9] = {-3, -2.2, -1, -0.3, 0, 0.7, 1.5, 2.4, 3}, mean[9], sd[9], mass[9];
    size_t along = (size_t)swapped;
    ck_assert_int_eq(densrt_plot_track(&h.m, NULL, theta, 0, along, !along, 9, a, mean, sd, mass), 0);
    for (size_t i = 0; i < 9; i++) {
      if (track_amp(a[i]) == 0) {   /* the term vanishes: no track */
        ck_assert(isnan(mean[i]) && isnan(sd[i]) && mass[i] == 0);
        continue;
      }
      double m0, s0, z;
      truncated_normal(track_mu(a[i]), track_sd(a[i]), -0.4, 0.9, &m0, &s0, &z);
      ck_assert_msg(fabs(mean[i] - m0) < 1e-9, "a = %g: mean %.15g, closed form %.15g", a[i], mean[i], m0);
      ck_assert_msg(fabs(sd[i] - s0) < 1e-9, "a = %g: sd %.15g, closed form %.15g", a[i], sd[i], s0);
      ck_assert_msg(fabs(mass[i] - track_amp(a[i]) * z) < 1e-9 * mass[i], "a = %g: mass %.15g, closed form %.15g",
                    a[i], mass[i], track_amp(a[i]) * z);
    }
    /* the flat background: the middle of the window and its sd, (b - a) / sqrt(12) */
    ck_assert_int_eq(densrt_plot_track(&h.m, NULL, theta, 1, along, !along, 9, a, mean, sd, NULL), 0);
    for (size_t i = 0; i < 9; i++) {
      ck_assert(fabs(mean[i] - 0.25) < 1e-12);
      ck_assert(fabs(sd[i] - 1.3 / sqrt(12)) < 1e-12);
    }
  }
  swapped = 0;
  /* a model of one column has no track */
  hand_model h1;
  double lo = -1, hi = 1, a = 0, mean, theta[1] = {0};
  hand_init(&h1, 1, 1, &lo, &hi, 0, NULL);
  ck_assert_int_eq(densrt_plot_track(&h1.m, NULL, theta, 0, 0, 1, 1, &a, &mean, NULL, NULL), DENSRT_EINVAL);
}
END_TEST

/* A NaN or +inf intensity is an error, not a track. */
START_TEST(test_track_nonfinite)
{
  double lo[2] = {-3, -1}, hi[2] = {3, 1}, theta[1] = {0}, a[2] = {0, 1}, mean[2];
  hand_model h;
  hand_init(&h, 2, 3, lo, hi, 0, NULL);
  wild = 1;
  ck_assert_int_eq(densrt_plot_track(&h.m, NULL, theta, 2, 0, 1, 2, a, mean, NULL, NULL), DENSRT_EDOM);
  ck_assert_msg(strstr(densrt_error_message(), "of 'wild'") != NULL, "%s", densrt_error_message());
  wild = 0;
}
END_TEST

/* }====================================================== */

/* {======================================================
** Figures
** ======================================================= */

static void path_in(char *buf, size_t len, const char *name)
{
  snprintf(buf, len, "%s/%s", tmpdir, name);
}

START_TEST(test_every_figure_every_format)
{
  make_tmpdir();
  static const char *const ext[] = {"png", "pdf", "svg"};
  double u[6] = {-50, -20, 0, 10, 15, 19}, v[6] = {0, 1, -1, 2, -3, 4}, *x2[2] = {u, v};
  double z[6] = {-1, -0.5, 0, 0.1, 0.4, 1.2}, *x1[1] = {z};
  double lo2[2] = {-100, -7}, hi2[2] = {20, 5}, lo1 = -3, hi1 = 3;
  hand_model h2, h1;
  hand_init(&h2, 2, 2, lo2, hi2, 6, x2);
  hand_init(&h1, 1, 2, &lo1, &hi1, 6, x1);
  double theta[3] = {-2, -1.5, -2.5};   /* three draws of the one parameter */
  double c0[4] = {1, 2, 3, 2}, c1[3] = {2, 2.5, 1.5}, d0[4] = {-1, 0, 1e3, 2}, d1[3] = {5, 5, 5};
  double *chains0[2] = {c0, c1}, *chains1[2] = {d0, d1};   /* chains of 4 and 3 draws */
  double *const *tr[2] = {chains0, chains1};
  size_t nd[2] = {4, 3};
  const char *labels[2] = {"lp__", "mu.2"};
  for (size_t e = 0; e < 3; e++) {
    char path[512], name[64];
    for (int k = 0; k < 8; k++) {
      static const char *const kinds[] = {"data2", "data1", "model", "density", "density-draws", "track",
                                          "track-draws", "trace"};
      snprintf(name, sizeof name, "%s.%s", kinds[k], ext[e]);
      path_in(path, sizeof path, name);
      densrt_plot_page pg = {path, 800, 0};
      int st;
      switch (k) {
      case 0: st = densrt_plot_data(&h2.m, &pg); break;
      case 1: st = densrt_plot_data(&h1.m, &pg); break;
      case 2: st = densrt_plot_model(&h2.m, theta, &pg); break;
      case 3: st = densrt_plot_density(&h1.m, theta, 1, k & 1, &pg); break;
      case 4: st = densrt_plot_density(&h1.m, theta, 3, 1, &pg); break;
      case 5: st = densrt_plot_track_figure(&h2.m, theta, 1, 0, 0, &pg); break;
      case 6: st = densrt_plot_track_figure(&h2.m, theta, 3, 0, 0, &pg); break;
      default: st = densrt_plot_trace(2, labels, 2, nd, tr, &pg); break;
      }
      ck_assert_msg(st == 0, "%s: %s", name, densrt_error_message());
      check_figure(path);
    }
  }
  ck_assert_uint_eq(count_entries(), 24);   /* the figures and nothing else */
  remove_tmpdir();
}
END_TEST

/* An error writes nothing: no figure, no temporary. */
static void fails(int st, int status, const char *message)
{
  ck_assert_msg(st == status, "status %d (want %d): %s", st, status, densrt_error_message());
  ck_assert_msg(strstr(densrt_error_message(), message) != NULL, "message '%s' lacks '%s'", densrt_error_message(),
                message);
  ck_assert_uint_eq(count_entries(), 0);
}

START_TEST(test_errors_write_nothing)
{
  make_tmpdir();
  char path[512];
  path_in(path, sizeof path, "f.png");
  densrt_plot_page pg = {path, 800, 0};
  double u[2] = {0, 1}, v[2] = {0, 1}, *x2[2] = {u, v}, lo2[2] = {-1, -1}, hi2[2] = {2, 2}, theta[1] = {0};
  hand_model h2, h1;
  hand_init(&h2, 2, 3, lo2, hi2, 2, x2);
  hand_init(&h1, 1, 1, lo2, hi2, 2, x2);
  /* the wrong kind of model */
  fails(densrt_plot_model(&h1.m, theta, &pg), DENSRT_EINVAL, "plot model: draws a model of two columns");
  fails(densrt_plot_density(&h2.m, theta, 1, 0, &pg), DENSRT_EINVAL, "plot density: draws a model of one column");
  fails(densrt_plot_track_figure(&h1.m, theta, 1, 0, 0, &pg), DENSRT_EINVAL, "plot track");
  /* an intensity that is NaN or infinite somewhere */
  wild = 1;
  fails(densrt_plot_model(&h2.m, theta, &pg), DENSRT_EDOM, "is infinite");
  fails(densrt_plot_track_figure(&h2.m, theta, 1, 2, 0, &pg), DENSRT_EDOM, "of 'wild'");
  wild = 0;
  /* no data */
  h2.m.n = 0;
  fails(densrt_plot_data(&h2.m, &pg), DENSRT_EINVAL, "no data rows");
  /* a format we do not write, a size out of range */
  h2.m.n = 2;
  path_in(path, sizeof path, "f.jpg");
  fails(densrt_plot_data(&h2.m, &pg), DENSRT_EINVAL, "FILE.png, FILE.pdf or FILE.svg");
  path_in(path, sizeof path, "f.png");
  pg.width = 50;
  fails(densrt_plot_data(&h2.m, &pg), DENSRT_EINVAL, "each side must be");
  remove_tmpdir();
}
END_TEST

/* Windows and data near +-1e308: the range is refused when its width overflows, drawn
** when it is finite; data far outside are left out, infinite curves clipped. */
START_TEST(test_extreme_ranges)
{
  make_tmpdir();
  char path[512];
  path_in(path, sizeof path, "x.png");
  densrt_plot_page pg = {path, 600, 0};
  double u[6] = {-1e307, 0, 1e307, 1.1e307, 1.2e307, 1.7e308}, *x[1] = {u}, theta[1] = {-1e4};
  double lo = -1e308, hi = 1e308;
  hand_model h;
  hand_init(&h, 1, 1, &lo, &hi, 6, x);
  fails(densrt_plot_density(&h.m, theta, 1, 0, &pg), DENSRT_EDOM,
        "plot: column 'z': cannot draw the range [-1e+308, 1e+308]: its width overflows a double");
  fails(densrt_plot_data(&h.m, &pg), DENSRT_EDOM, "its width overflows a double");
  double far[2] = {-1.7e308, 1.7e308}, *xf[1] = {far};
  hand_init(&h, 1, 1, (double[]){-INFINITY}, (double[]){INFINITY}, 2, xf);
  fails(densrt_plot_data(&h.m, &pg), DENSRT_EDOM,
        "cannot draw the range [-1.7976931348623157e+308, 1.7976931348623157e+308]: its width overflows a double");
  double t[1] = {0}, *xt[1] = {t};
  hand_init(&h, 1, 1, (double[]){0}, (double[]){1e-310}, 1, xt);
  fails(densrt_plot_data(&h.m, &pg), DENSRT_EDOM, "is too small to draw");
  /* near the top of the doubles with a finite width: drawn */
  hand_init(&h, 1, 1, (double[]){1e307}, (double[]){1.7e308}, 6, x);
  ck_assert_msg(densrt_plot_data(&h.m, &pg) == 0, "%s", densrt_error_message());
  check_figure(path);
  unlink(path);
  double v[6] = {-5e307, -2e307, 1.7e308, -1.7e308, 0, 1}, *x2[2] = {u, v};
  hand_model h2;
  hand_init(&h2, 2, 3, (double[]){1e307, -1e308}, (double[]){1.5e308, -1e307}, 6, x2);
  ck_assert_msg(densrt_plot_data(&h2.m, &pg) == 0, "%s", densrt_error_message());
  check_figure(path);
  unlink(path);
  remove_tmpdir();
}
END_TEST

/* Data outside the window are not drawn: an SVG draws each marker as a path, so a
** figure with points far outside has as many paths as one without them, and one with
** points inside has more. */
static size_t svg_paths(hand_model *h, size_t first, size_t rows, double **x)
{
  char path[512];
  path_in(path, sizeof path, "s.svg");
  h->m.n = rows;
  h->cols[0] = x[0] + first;
  h->cols[1] = x[1] + first;
  densrt_plot_page pg = {path, 600, 0};
  ck_assert_msg(densrt_plot_data(&h->m, &pg) == 0, "%s", densrt_error_message());
  size_t n, k = 0;
  char *b = slurp(path, &n);
  for (char *p = b; (p = strstr(p, "<path")); p++)
    k++;
  free(b);
  unlink(path);
  return k;
}

START_TEST(test_outside_not_drawn)
{
  make_tmpdir();
  /* rows 0-4 inside [0, 1]^2, then 5 far outside */
  double u[10] = {0.1, 0.2, 0.3, 0.4, 0.5, 5, -5, 1e300, 0.5, -INFINITY};
  double v[10] = {0.5, 0.4, 0.3, 0.2, 0.1, 0.5, 0.5, 0.5, 7, 0.5}, *x[2] = {u, v};
  hand_model h;
  hand_init(&h, 2, 1, (double[]){0, 0}, (double[]){1, 1}, 10, x);
  size_t none = svg_paths(&h, 5, 5, x), inside = svg_paths(&h, 0, 5, x), all = svg_paths(&h, 0, 10, x);
  ck_assert_msg(inside > none, "5 rows inside: %zu paths, only rows outside: %zu", inside, none);
  ck_assert_uint_eq(all, inside);
  remove_tmpdir();
}
END_TEST

/* The characters a PDF's fonts map to Unicode (their ToUnicode CMaps, in the streams
** cairo deflates): the text the figure draws. */
static void pdf_unicode(const char *path, unsigned *cp, size_t *n, size_t max)
{
  size_t len;
  char *b = slurp(path, &len);
  *n = 0;
  for (char *p = b; (p = memmem(p, len - (size_t)(p - b), "stream", 6)); p += 6) {
    char *start = p + 6;
    if (*start == '\r')
      start++;
    if (*start != '\n')
      continue;
    start++;
    char *end = memmem(start, len - (size_t)(start - b), "endstream", 9);
    if (!end)
      break;
    uLongf cap = 1 << 20;
    unsigned char *out = malloc(cap + 1);
    if (uncompress(out, &cap, (unsigned char *)start, (uLong)(end - start)) == Z_OK) {
      out[cap] = '\0';
      char *bf = strstr((char *)out, "beginbfchar");
      for (char *q = bf; q && (q = strstr(q, "> <")); q += 3) {
        unsigned u;
        if (sscanf(q + 3, "%x>", &u) == 1 && *n < max)
          cp[(*n)++] = u;
      }
    }
    free(out);
    p = end;
  }
  free(b);
}

static int has_cp(const unsigned *cp, size_t n, unsigned u)
{
  for (size_t i = 0; i < n; i++)
    if (cp[i] == u)
      return 1;
  return 0;
}

/* The labels are drawn as text: phi1 [deg] is the letter phi (U+03C6 or U+03D5), a
** subscript 1 and "[deg]"; not the letters p, h, i of the name, nor PLplot's escapes. */
START_TEST(test_pdf_label_text)
{
  make_tmpdir();
  char path[512];
  path_in(path, sizeof path, "l.pdf");
  double u[3] = {-50, 0, 10}, v[3] = {0, 1, -1}, *x[2] = {u, v};
  hand_model h;
  hand_init(&h, 2, 1, (double[]){-100, -7}, (double[]){20, 5}, 3, x);
  densrt_plot_page pg = {path, 800, 0};
  ck_assert_msg(densrt_plot_data(&h.m, &pg) == 0, "%s", densrt_error_message());
  unsigned cp[512];
  size_t n;
  pdf_unicode(path, cp, &n, 512);
  ck_assert_msg(n > 0, "no ToUnicode map in %s", path);
  ck_assert(has_cp(cp, n, 0x3c6) || has_cp(cp, n, 0x3d5));   /* phi */
  ck_assert(has_cp(cp, n, 'd') && has_cp(cp, n, 'e') && has_cp(cp, n, 'g') && has_cp(cp, n, '['));
  ck_assert(has_cp(cp, n, 0x2212));   /* a minus sign on the axes, not a hyphen */
  ck_assert(!has_cp(cp, n, 'p') && !has_cp(cp, n, 'h') && !has_cp(cp, n, '#'));
  remove_tmpdir();
}
END_TEST

/* }====================================================== */

int main(void)
{
  Suite *su = suite_create("plot");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_labels);
  tcase_add_test(tc, test_formats);
  tcase_add_test(tc, test_track_closed_form);
  tcase_add_test(tc, test_track_nonfinite);
  tcase_add_test(tc, test_every_figure_every_format);
  tcase_add_test(tc, test_errors_write_nothing);
  tcase_add_test(tc, test_extreme_ranges);
  tcase_add_test(tc, test_outside_not_drawn);
  tcase_add_test(tc, test_pdf_label_text);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
