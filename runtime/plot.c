/*
** plot.c — figures with PLplot's cairo devices (see plot.h).
**
** PLplot keeps one global plotting stream: a figure is begun and ended within one call,
** one at a time.  PLplot converts world coordinates to integer device coordinates, so
** only finite values inside (or clamped just outside) the axis ranges are handed to it:
** data far outside a window, or infinite, are left out before it sees them.
*/
#include "plot.h"
#include "error.h"
#include "io.h"
#include "mcstat.h"
#include "quad.h"

#include <float.h>
#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* {====================================================================
** Figure set-up: device, page, palette, atomic output
** ===================================================================== */

/* cmap0: fixed colours; chains use CHAIN0 .. CHAIN0 + 9 */
enum { BG, INK, GREY, BLUE, LIGHTBLUE, ORANGE, DOTS, OVERDOTS, LIGHTGREY, RED, CHAIN0, N_COL0 = CHAIN0 + 10 };

static const struct { int r, g, b; double a; } palette[N_COL0] = {
  [BG] = {255, 255, 255, 1}, [INK] = {0, 0, 0, 1}, [GREY] = {150, 150, 150, 1},
  [BLUE] = {31, 119, 180, 1}, [LIGHTBLUE] = {166, 206, 227, 1}, [ORANGE] = {255, 127, 14, 1},
  [DOTS] = {0, 0, 0, 0.3}, [OVERDOTS] = {230, 85, 13, 0.55}, [LIGHTGREY] = {200, 200, 200, 1},
  [RED] = {214, 39, 40, 1},
  /* the ten colours of matplotlib's tab10, one a chain */
  [CHAIN0] = {31, 119, 180, 0.8}, {255, 127, 14, 0.8}, {44, 160, 44, 0.8}, {214, 39, 40, 0.8},
  {148, 103, 189, 0.8}, {140, 86, 75, 0.8}, {227, 119, 194, 0.8}, {127, 127, 127, 0.8},
  {188, 189, 34, 0.8}, {23, 190, 207, 0.8},
};

static const char *const formats[][2] = {{".png", "pngcairo"}, {".pdf", "pdfcairo"}, {".svg", "svgcairo"}};

static const char *device_of(const char *path)
{
  size_t n = path ? strlen(path) : 0;
  for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
    if (n > 4 && !strcasecmp(path + n - 4, formats[i][0]))
      return formats[i][1];
  return NULL;
}

int densrt_plot_check_format(const char *path)
{
  if (!device_of(path))
    DENSRT_ERROR(DENSRT_EINVAL, "plot: cannot tell the format of '%s': name the figure FILE.png, FILE.pdf or FILE.svg",
                 path ? path : "");
  return DENSRT_OK;
}

typedef struct {
  densrt_io_out out;
  char *buf;           /* what PLplot writes, in memory (open_memstream) ... */
  size_t len;          /* ... then copied to out, whose writing is checked */
  int w, h;            /* page, device units (pixels or points) */
} figure;

/* PLplot reports recoverable problems through the abort handler (the figure is then
** not written) and fatal ones through the exit handler, after which it exits: the
** temporary file is removed first. */
static int plot_aborted;
static char plot_abort_msg[256];
static const char *volatile plot_tmp;

static void on_plabort(PLCHAR_VECTOR msg)
{
  if (!plot_aborted)
    snprintf(plot_abort_msg, sizeof plot_abort_msg, "%s", msg ? msg : "");
  plot_aborted = 1;
}

static int on_plexit(PLCHAR_VECTOR msg)
{
  if (plot_tmp)
    unlink(plot_tmp);
  fprintf(stderr, "plot: PLplot failed: %s\n", msg ? msg : "");
  return 2;
}

static double text_scale = 1;   /* of the current figure */

static int fig_begin(figure *f, const densrt_plot_page *pg, int w, int h)
{
  const char *dev = device_of(pg->path);
  if (!dev)
    return densrt_plot_check_format(pg->path);
  if (w < 100 || h < 100 || w > 20000 || h > 20000)
    DENSRT_ERROR(DENSRT_EINVAL, "plot: the figure would be %d x %d; each side must be 100 to 20000", w, h);
  if (densrt_io_out_open(&f->out, pg->path))
    return DENSRT_EIO;
  /* PLplot closes the stream it is given and cairo drops write errors: it writes to
  ** memory, and the figure is copied to the file at the end, where errors are seen */
  f->buf = NULL;
  f->len = 0;
  FILE *pf = open_memstream(&f->buf, &f->len);
  if (!pf) {
    densrt_io_out_abort(&f->out);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  f->w = w;
  f->h = h;
  plot_aborted = 0;
  plot_tmp = f->out.tmp;
  plsabort(on_plabort);
  plsexit(on_plexit);
  plsdev(dev);
  plsfile(pf);
  plspage(0, 0, w, h, 0, 0);
  plscmap0n(N_COL0);
  for (int i = 0; i < N_COL0; i++)
    plscol0a(i, palette[i].r, palette[i].g, palette[i].b, palette[i].a);
  plinit();
  plsfci(PL_FCI_MARK | 0x0001);   /* serif, upright, medium */
  pladv(0);
  /* PLplot's default text and symbol sizes grow with width + height; ours grow with the
  ** width alone, as the margins do (the sizes of a 1000 x 500 page at width 1000) */
  text_scale = (w / 1000.0) * 1500.0 / (w + h);
  plschr(0, text_scale);
  plsmaj(0, text_scale);
  plsmin(0, text_scale);
  plwidth(1);
  return DENSRT_OK;
}

/* Ends the figure (rc: the drawing's status); commits it when the drawing went well and
** PLplot did not complain, else removes it.  Returns the status. */
static int fig_end(figure *f, int rc)
{
  plend();   /* closes the memory stream: buf and len are final */
  plot_tmp = NULL;
  if (!rc && (plot_aborted || !f->buf || !f->len))
    rc = DENSRT_FAIL(DENSRT_EIO, "plot: the figure could not be drawn%s%s", plot_aborted ? ": " : "",
                     plot_aborted ? plot_abort_msg : "");
  if (!rc && fwrite(f->buf, 1, f->len, f->out.f) != f->len)
    rc = DENSRT_FAIL(DENSRT_EIO, "%s: cannot write the figure", f->out.path);
  free(f->buf);
  f->buf = NULL;
  if (!rc)
    return densrt_io_out_commit(&f->out);
  densrt_io_out_abort(&f->out);
  return rc;
}

/* A viewport in device units from the page's top-left corner. */
static void viewport(const figure *f, double x0, double x1, double y0, double y1)
{
  plvpor(x0 / f->w, x1 / f->w, 1 - y1 / f->h, 1 - y0 / f->h);
}

/* A tick step of 1, 2 or 5 times a power of ten giving at most `most` intervals over w. */
static double tick_step(double w, double most)
{
  double raw = w / fmax(most, 1), p = pow(10, floor(log10(raw))), f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* The tick step of an axis [lo, hi] (lo < hi) of `length` device units: about one number
** every `per` units, and at least two numbers on the axis. */
static double axis_tick(double lo, double hi, double length, double per)
{
  double st = tick_step(hi - lo, fmax(2, length / per));
  for (int i = 0; i < 6 && floor(hi / st) - ceil(lo / st) < 1; i++)
    st = tick_step(hi - lo, (hi - lo) / st * 2.2);   /* the next finer of 1, 2, 5 */
  return st;
}

/* Numbers with the decimals their axis's step needs, never in PLplot's (x10^k) form. */
static void number_label(PLINT axis, PLFLT value, char *label, PLINT length, PLPointer data)
{
  const double *step = data;
  double st = step[axis == PL_Y_AXIS];
  int dec = st > 0 && st < 1 ? (int)ceil(-log10(st) - 1e-9) : 0;
  if (fabs(value) < 1e-9 * st)
    value = 0;
  double a = fabs(value);
  if (a != 0 && (a >= 1e7 * st * 10 || a >= 1e9 || a < 1e-4))
    snprintf(label, (size_t)length, "%.*g", dec + (int)ceil(log10(a / st)) + 1, value);
  else
    snprintf(label, (size_t)length, "%.*f", dec > 15 ? 15 : dec, value);
  /* a minus sign (U+2212), not a hyphen */
  size_t n = strlen(label);
  if (label[0] == '-' && n + 3 < (size_t)length) {
    memmove(label + 3, label + 1, n);
    memcpy(label, "\xe2\x88\x92", 3);
  }
}

static double axis_step[2];
static int axis_log;

/* Axes in the journal style: a frame, ticks inside on all four sides, numbers on the
** left and bottom (when numbered), at most about one number every 90 device units
** across and 28 up. */
static void axes(int number_x, int number_y, int log_y)
{
  PLFLT x0, x1, y0, y1, vx0, vx1, vy0, vy1;
  plgvpw(&x0, &x1, &y0, &y1);
  plgvpd(&vx0, &vx1, &vy0, &vy1);
  PLFLT px0, py0;
  PLINT xl, yl, xo, yo;
  plgpage(&px0, &py0, &xl, &yl, &xo, &yo);
  axis_step[0] = axis_tick(fmin(x0, x1), fmax(x0, x1), (vx1 - vx0) * xl, 90 * xl / 1000.0);
  axis_step[1] = axis_tick(fmin(y0, y1), fmax(y0, y1), (vy1 - vy0) * yl, 45 * xl / 1000.0);
  plcol0(INK);
  plwidth(1);
  plslabelfunc(number_label, axis_step);
  plbox(number_x ? "bcinsto" : "bcist", axis_step[0], 0,
        log_y ? (number_y ? "bcinstvl" : "bcistl") : (number_y ? "bcinstvo" : "bcist"), log_y ? 0 : axis_step[1], 0);
  plslabelfunc(NULL, NULL);
  axis_log = log_y;
}

/* Characters of the widest number axes() writes on a y axis [lo, hi] of `height` device
** units (at least 4; a log axis's 10^k counts 4). */
static size_t widest_number(double lo, double hi, double height, int log_y, int page_width)
{
  size_t widest = 4;
  if (log_y || !(hi > lo) || !isfinite(hi - lo))
    return widest;
  double step[2] = {1, axis_tick(lo, hi, height, 45 * page_width / 1000.0)};
  double ends[2] = {ceil(lo / step[1]) * step[1], floor(hi / step[1]) * step[1]};
  for (int i = 0; i < 2; i++) {
    char lab[64];
    number_label(PL_Y_AXIS, ends[i], lab, sizeof lab, step);
    size_t chars = 0;
    for (const char *c = lab; *c; c++)
      chars += ((unsigned char)*c & 0xC0) != 0x80;   /* code points */
    widest = chars > widest ? chars : widest;
  }
  return widest;
}

/* The y axis's title, clear of its widest number. */
static void y_title(const char *text)
{
  PLFLT x0, x1, y0, y1, vx0, vx1, vy0, vy1, px, py;
  PLINT xl, yl, xo, yo;
  plgvpw(&x0, &x1, &y0, &y1);
  plgvpd(&vx0, &vx1, &vy0, &vy1);
  plgpage(&px, &py, &xl, &yl, &xo, &yo);
  size_t widest = widest_number(fmin(y0, y1), fmax(y0, y1), (vy1 - vy0) * yl, axis_log, xl);
  plcol0(INK);
  plmtex("l", 2.4 + 0.95 * (double)widest, 0.5, 0.5, text);
}

/* The left margin for y numbers of `chars` characters and the axis title, at scale s
** (text grows with the page's width). */
static double left_margin(size_t chars, double s)
{
  return s * (55 + 13.5 * (double)chars);
}

/* }==================================================================== */

/* {====================================================================
** Labels
** ===================================================================== */

static const char *const greek[][2] = {
  {"alpha", "a"}, {"beta", "b"}, {"gamma", "g"}, {"delta", "d"}, {"epsilon", "e"}, {"zeta", "z"},
  {"eta", "y"}, {"theta", "h"}, {"iota", "i"}, {"kappa", "k"}, {"lambda", "l"}, {"mu", "m"},
  {"nu", "n"}, {"xi", "c"}, {"omicron", "o"}, {"pi", "p"}, {"rho", "r"}, {"sigma", "s"},
  {"tau", "t"}, {"upsilon", "u"}, {"phi", "f"}, {"chi", "x"}, {"psi", "q"}, {"omega", "w"},
};

/* Appends text to buf with PLplot's escape character doubled. */
static void put_text(char *buf, size_t len, size_t *at, const char *s, size_t n)
{
  for (size_t i = 0; i < n && s[i]; i++) {
    size_t need = s[i] == '#' ? 2 : 1;
    if (*at + need >= len)
      return;
    if (s[i] == '#')
      buf[(*at)++] = '#';
    buf[(*at)++] = s[i];
  }
  buf[*at] = '\0';
}

static void put_raw(char *buf, size_t len, size_t *at, const char *s)
{
  size_t n = strlen(s);
  if (*at + n >= len)
    return;
  memcpy(buf + *at, s, n + 1);
  *at += n;
}

/* A name part: the Greek letter it names ("phi", or capitalised "Phi"), or the text itself. */
static void put_symbol(char *buf, size_t len, size_t *at, const char *s, size_t n)
{
  for (size_t g = 0; g < sizeof greek / sizeof *greek; g++) {
    const char *word = greek[g][0];
    int lower = s[0] == word[0], upper = s[0] == word[0] - 32;
    if (strlen(word) == n && (lower || upper) && !strncmp(s + 1, word + 1, n - 1)) {
      char esc[4] = {'#', 'g', lower ? greek[g][1][0] : (char)(greek[g][1][0] - 32), '\0'};
      put_raw(buf, len, at, esc);
      return;
    }
  }
  put_text(buf, len, at, s, n);
}

char *densrt_plot_label(const char *name, const char *unit, char *buf, size_t len)
{
  size_t at = 0, n = strlen(name), base = n;
  if (!len)
    return buf;
  buf[0] = '\0';
  /* a trailing number, or the text after the last '_', is a subscript */
  const char *us = strrchr(name, '_');
  while (base > 0 && name[base - 1] >= '0' && name[base - 1] <= '9')
    base--;
  size_t sub = n;
  if (base > 0 && base < n)
    sub = base;
  else if (us && us > name && us[1])
    sub = (size_t)(us - name) + 1;
  size_t stem = sub < n && name[sub - 1] == '_' ? sub - 1 : sub;
  put_symbol(buf, len, &at, name, stem);
  if (sub < n) {
    put_raw(buf, len, &at, "#d");
    put_symbol(buf, len, &at, name + sub, n - sub);
    put_raw(buf, len, &at, "#u");
  }
  if (unit) {
    put_raw(buf, len, &at, " [");
    put_text(buf, len, &at, unit, strlen(unit));
    put_raw(buf, len, &at, "]");
  }
  return buf;
}

static char *column_label(const densrt_model *m, size_t d, char *buf, size_t len)
{
  return densrt_plot_label(m->def->dims[d].name, m->def->dims[d].unit, buf, len);
}

/* The same unit on both columns: their scales must be equal. */
static int same_unit(const densrt_model *m, size_t a, size_t b)
{
  const char *ua = m->def->dims[a].unit, *ub = m->def->dims[b].unit;
  return ua && ub && !strcmp(ua, ub);
}

/* }==================================================================== */

/* {====================================================================
** Ranges and data
** ===================================================================== */

/* Range of a column: its window, or the data's range (padded by a twentieth) where the
** window is unbounded; finite with a finite positive width. */
static int column_range(const densrt_model *m, size_t d, double *lo, double *hi)
{
  double a = m->lo[d], b = m->hi[d];
  if (!isfinite(a) || !isfinite(b)) {
    double dmin = INFINITY, dmax = -INFINITY;
    for (size_t i = 0; i < m->n; i++)
      if (isfinite(m->x[d][i])) {
        dmin = fmin(dmin, m->x[d][i]);
        dmax = fmax(dmax, m->x[d][i]);
      }
    if (dmin <= dmax) {
      if (isfinite(a))
        dmin = fmax(dmin, a);
      if (isfinite(b))
        dmax = fmin(dmax, b);
      double pad = 0.05 * dmax - 0.05 * dmin;   /* may overflow */
      if (!(pad > 0))
        pad = dmax != 0 ? 0.05 * fabs(dmax) : 1;
      if (!isfinite(a))
        a = fmax(-DBL_MAX, dmin - pad);
      if (!isfinite(b))
        b = fmin(DBL_MAX, dmax + pad);
    }
  }
  *lo = a;
  *hi = b;
  const char *name = m->def->dims[d].name;
  if (!isfinite(a) || !isfinite(b))
    DENSRT_ERROR(DENSRT_EDOM, "plot: column '%s': nothing to draw (the window is unbounded and there are no data)",
                 name);
  if (!(b > a) || !isfinite(b - a) || (b - a) < 1e-300 || (b - a) < 1e-12 * fmax(fabs(a), fabs(b)))
    DENSRT_ERROR(DENSRT_EDOM, "plot: column '%s': cannot draw the range [%s, %s]: its width %s", name,
                 densrt_io_shortest(a).s, densrt_io_shortest(b).s,
                 !(b > a) ? "is 0" : isfinite(b - a) ? "is too small to draw" : "overflows a double");
  return DENSRT_OK;
}

/* The data rows inside [xlo, xhi] x [ylo, yhi], as markers. */
static int scatter(const densrt_model *m, size_t dx, size_t dy, const double *r, int colour, double size)
{
  size_t n = 0;
  double *x = malloc((m->n + 1) * sizeof *x), *y = malloc((m->n + 1) * sizeof *y);
  if (!x || !y) {
    free(x);
    free(y);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < m->n; i++) {
    double a = m->x[dx][i], b = m->x[dy][i];
    if (a >= r[0] && a <= r[1] && b >= r[2] && b <= r[3]) {
      x[n] = a;
      y[n++] = b;
    }
  }
  plcol0(colour);
  plssym(0, size * text_scale);
  if (n)
    plpoin((PLINT)n, x, y, 17);
  free(x);
  free(y);
  return DENSRT_OK;
}

/* A line through finite points, broken at the others; y clamped to just outside [ylo, yhi]. */
static void curve(size_t n, const double *x, const double *y, double ylo, double yhi)
{
  double pad = 0.1 * (yhi - ylo), *cy = malloc((n + 1) * sizeof *cy);
  if (!cy)
    return;
  for (size_t i = 0; i < n;) {
    while (i < n && !isfinite(y[i]))
      i++;
    size_t j = i;
    while (j < n && isfinite(y[j])) {
      cy[j] = fmin(yhi + pad, fmax(ylo - pad, y[j]));
      j++;
    }
    if (j - i >= 2)
      plline((PLINT)(j - i), x + i, cy + i);
    i = j;
  }
  free(cy);
}

/* The band between lo and hi where both are finite, filled. */
static void band(size_t n, const double *x, const double *lo, const double *hi, double ylo, double yhi)
{
  double pad = 0.1 * (yhi - ylo), *px = malloc((2 * n + 1) * sizeof *px), *py = malloc((2 * n + 1) * sizeof *py);
  if (px && py)
    for (size_t i = 0; i < n;) {
      while (i < n && !(isfinite(lo[i]) && isfinite(hi[i])))
        i++;
      size_t j = i, k = 0;
      while (j < n && isfinite(lo[j]) && isfinite(hi[j]))
        j++;
      for (size_t q = i; q < j; q++, k++) {
        px[k] = x[q];
        py[k] = fmin(yhi + pad, fmax(ylo - pad, lo[q]));
      }
      for (size_t q = j; q-- > i; k++) {
        px[k] = x[q];
        py[k] = fmin(yhi + pad, fmax(ylo - pad, hi[q]));
      }
      if (j - i >= 2)
        plfill((PLINT)k, px, py);
      i = j;
    }
  free(px);
  free(py);
}

/* Per point g of n, the 16%, 50% and 84% quantiles over draws of v[g * n_draws + r];
** one draw: its value.  NaN when any draw is NaN. */
static void quantiles(const double *v, size_t n, size_t n_draws, double *q16, double *q50, double *q84)
{
  for (size_t g = 0; g < n; g++) {
    const double *w = v + g * n_draws;
    int bad = 0;
    for (size_t r = 0; r < n_draws; r++)
      bad |= isnan(w[r]);
    if (bad) {
      q16[g] = q50[g] = q84[g] = NAN;
      continue;
    }
    q16[g] = n_draws > 1 ? densrt_mcstat_quantile(w, n_draws, 0.16) : w[0];
    q50[g] = n_draws > 1 ? densrt_mcstat_quantile(w, n_draws, 0.5) : w[0];
    q84[g] = n_draws > 1 ? densrt_mcstat_quantile(w, n_draws, 0.84) : w[0];
  }
}

/* Histogram of column d on [lo, hi] in nb bins: counts per unit length. */
static int histogram(const densrt_model *m, size_t d, double lo, double hi, size_t nb, double *h)
{
  double bw = (hi - lo) / (double)nb;
  for (size_t b = 0; b < nb; b++)
    h[b] = 0;
  for (size_t i = 0; i < m->n; i++) {
    double b = floor((m->x[d][i] - lo) / bw);
    if (b >= 0 && b < (double)nb)
      h[(size_t)b] += 1;
  }
  for (size_t b = 0; b < nb; b++) {
    h[b] /= bw;
    if (!isfinite(h[b]))
      DENSRT_ERROR(DENSRT_EDOM, "plot: column '%s': the histogram of the data overflows a double (the range [%s, %s] "
                   "is too narrow to draw)", m->def->dims[d].name, densrt_io_shortest(lo).s, densrt_io_shortest(hi).s);
  }
  return DENSRT_OK;
}

static size_t n_bins(size_t n)
{
  size_t nb = (size_t)ceil(2 * cbrt((double)n));   /* Rice's rule */
  return nb < 10 ? 10 : nb > 120 ? 120 : nb;
}

/* A histogram: light grey bars (linear axis) and the outline of their tops; log_y:
** heights as log10, empty bins left out. */
static void draw_histogram(const double *h, size_t nb, double lo, double hi, int log_y, double ymin)
{
  double bw = (hi - lo) / (double)nb;
#define TOP(b) (log_y ? (h[b] > 0 ? log10(h[b]) : NAN) : h[b])
  for (size_t b = 0; b < nb && !log_y; b++) {
    double x[4] = {lo + (double)b * bw, lo + (double)b * bw, lo + (double)(b + 1) * bw, lo + (double)(b + 1) * bw};
    double y[4] = {ymin, h[b], h[b], ymin};
    plcol0(LIGHTGREY);
    if (h[b] > 0)
      plfill(4, x, y);
  }
  plcol0(GREY);
  for (size_t b = 0; b < nb; b++) {
    double top = TOP(b);
    if (!(top > ymin))
      continue;
    double x[2] = {lo + (double)b * bw, lo + (double)(b + 1) * bw}, y[2] = {top, top};
    plline(2, x, y);
    /* the sides: to the neighbour's top, or down to the axis (linear) */
    for (int side = 0; side < 2; side++) {
      size_t nbh = side ? b + 1 : b - 1;
      int has = side ? b + 1 < nb : b > 0;
      double other = has ? TOP(nbh) : NAN;
      if (has && other > ymin) {
        if (side) {
          double vx[2] = {x[1], x[1]}, vy[2] = {top, other};
          plline(2, vx, vy);
        }
      } else if (!log_y) {
        double vx[2] = {x[side], x[side]}, vy[2] = {top, ymin};
        plline(2, vx, vy);
      }
    }
  }
#undef TOP
}

/* }==================================================================== */

/* {====================================================================
** data
** ===================================================================== */

/* Layout of panels stacked over a common x axis: the page width gives the panel width;
** aspect > 0 fixes each panel's height/width, else panel_h is used. */
typedef struct {
  double left, right, top, bottom, gap;   /* margins, device units */
  double pw, ph;                          /* one panel */
} layout;

/* Margins scale with the width, as PLplot's text does (sizes below are for 1000 units);
** the left one fits y numbers of `chars` characters. */
static void stack_layout(layout *l, int width, size_t chars, double aspect, double panel_h, double right)
{
  double s = width / 1000.0;
  l->left = left_margin(chars, s);
  l->right = s * right;
  l->top = s * 20;
  l->bottom = s * 70;
  l->gap = s * 12;
  l->pw = width - l->left - l->right;
  l->ph = aspect > 0 ? l->pw * aspect : panel_h;
}

static int stack_height(const layout *l, size_t panels)
{
  return (int)ceil(l->top + l->bottom + (double)panels * l->ph + (double)(panels - 1) * l->gap);
}

/* Fits the panels into a given height: equal scales are kept by narrowing the panels, or
** by centring them when they need less height. */
static void fit_height(layout *l, int height, size_t panels, double aspect)
{
  double ph = (height - l->top - l->bottom - (double)(panels - 1) * l->gap) / (double)panels;
  if (ph < 20)
    ph = 20;
  if (aspect > 0 && ph < l->pw * aspect)
    l->pw = ph / aspect;
  l->ph = aspect > 0 ? l->pw * aspect : ph;
  l->top += 0.5 * fmax(0, height - stack_height(l, panels));
}

static void panel_viewport(const figure *f, const layout *l, size_t i)
{
  double y0 = l->top + (double)i * (l->ph + l->gap);
  viewport(f, l->left, l->left + l->pw, y0, y0 + l->ph);
}

int densrt_plot_data(const densrt_model *m, const densrt_plot_page *pg)
{
  const densrt_model_def *def = m->def;
  char xl[160], yl[160];
  double r[4];
  if (!m->n)
    DENSRT_ERROR(DENSRT_EINVAL, "plot data: no data rows");
  if (column_range(m, 0, &r[0], &r[1]))
    return DENSRT_EDOM;
  figure f;
  layout l;
  if (def->n_dims >= 2) {
    if (column_range(m, 1, &r[2], &r[3]))
      return DENSRT_EDOM;
    double aspect = same_unit(m, 0, 1) ? (r[3] - r[2]) / (r[1] - r[0]) : 0.3;
    stack_layout(&l, pg->width, 4, fmax(aspect, 0.02), 0, 30);
    size_t chars = widest_number(r[2], r[3], l.ph, 0, pg->width);
    stack_layout(&l, pg->width, chars, fmax(aspect, 0.02), 0, 30);
    if (pg->height)
      fit_height(&l, pg->height, 1, aspect);
    int fst = fig_begin(&f, pg, pg->width, pg->height ? pg->height : stack_height(&l, 1));
    if (fst)
      return fst;
    panel_viewport(&f, &l, 0);
    plwind(r[0], r[1], r[2], r[3]);
    int rc = scatter(m, 0, 1, r, DOTS, 0.6);
    axes(1, 1, 0);
    plmtex("b", 3.2, 0.5, 0.5, column_label(m, 0, xl, sizeof xl));
    y_title(column_label(m, 1, yl, sizeof yl));
    return fig_end(&f, rc);
  }
  size_t nb = n_bins(m->n);
  double *h = malloc(nb * sizeof *h), ymax = 0;
  if (!h)
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  if (histogram(m, 0, r[0], r[1], nb, h)) {
    free(h);
    return DENSRT_EDOM;
  }
  for (size_t b = 0; b < nb; b++)
    ymax = fmax(ymax, h[b]);
  int height = pg->height ? pg->height : (int)(0.6 * pg->width);
  stack_layout(&l, pg->width, 4, 0, 0, 30);
  l.ph = height - l.top - l.bottom;
  size_t chars = widest_number(0, ymax > 0 ? 1.08 * ymax : 1, l.ph, 0, pg->width);
  stack_layout(&l, pg->width, chars, 0, l.ph, 30);
  int fst = fig_begin(&f, pg, pg->width, height);
  if (fst) {
    free(h);
    return fst;
  }
  panel_viewport(&f, &l, 0);
  plwind(r[0], r[1], 0, ymax > 0 ? 1.08 * ymax : 1);
  draw_histogram(h, nb, r[0], r[1], 0, 0);
  axes(1, 1, 0);
  if (def->dims[0].unit)
    snprintf(yl, sizeof yl, "data rows per %s", def->dims[0].unit);
  else
    snprintf(yl, sizeof yl, "data rows per unit length");
  plmtex("b", 3.2, 0.5, 0.5, column_label(m, 0, xl, sizeof xl));
  y_title(yl);
  free(h);
  return fig_end(&f, 0);
}

/* }==================================================================== */

/* {====================================================================
** model: data, log intensity, overlay
** ===================================================================== */

static void blues(void)
{
  /* matplotlib's "Blues" at five stops */
  PLFLT pos[5] = {0, 0.25, 0.5, 0.75, 1};
  PLFLT r[5] = {247 / 255.0, 198 / 255.0, 107 / 255.0, 33 / 255.0, 8 / 255.0};
  PLFLT g[5] = {251 / 255.0, 219 / 255.0, 174 / 255.0, 113 / 255.0, 48 / 255.0};
  PLFLT b[5] = {255 / 255.0, 239 / 255.0, 214 / 255.0, 181 / 255.0, 107 / 255.0};
  plscmap1n(256);
  plscmap1l(1, 5, pos, r, g, b, NULL);
}

/* The image z[i][j] (i along x) over r, values clamped to [zlo, zhi]. */
static void image(PLFLT **z, int nx, int ny, const double *r, double zlo, double zhi)
{
  plimage((PLFLT_MATRIX)z, nx, ny, r[0], r[1], r[2], r[3], zlo, zhi, r[0], r[1], r[2], r[3]);
}

int densrt_plot_model(densrt_model *m, const double *theta, const densrt_plot_page *pg)
{
  const densrt_model_def *def = m->def;
  if (def->n_dims != 2)
    DENSRT_ERROR(DENSRT_EINVAL, "plot model: draws a model of two columns over their plane (this one has %zu); "
                 "use 'plot density' for one column", def->n_dims);
  double r[4];
  if (column_range(m, 0, &r[0], &r[1]) || column_range(m, 1, &r[2], &r[3]))
    return DENSRT_EDOM;
  int equal = same_unit(m, 0, 1);
  double aspect = equal ? (r[3] - r[2]) / (r[1] - r[0]) : 0.3;
  layout l;
  stack_layout(&l, pg->width, 4, fmax(aspect, 0.02), 0, 130);
  size_t chars = widest_number(r[2], r[3], l.ph, 0, pg->width);
  stack_layout(&l, pg->width, chars, fmax(aspect, 0.02), 0, 130);
  if (pg->height)
    fit_height(&l, pg->height, 3, aspect);
  int nx = (int)fmin(800, fmax(100, l.pw)), ny = (int)fmin(800, fmax(40, l.ph));
  size_t np = (size_t)nx * (size_t)ny, nt = def->n_terms;
  double *x = malloc(np * sizeof *x), *y = malloc(np * sizeof *y), *lt = malloc(np * nt * sizeof *lt);
  PLFLT **z = NULL;
  int rc = DENSRT_ENOMEM;
  if (x && y && lt)
    plAlloc2dGrid(&z, nx, ny);
  if (!z)
    goto done;
  for (int i = 0; i < nx; i++)
    for (int j = 0; j < ny; j++) {
      x[(size_t)i * (size_t)ny + (size_t)j] = r[0] + (r[1] - r[0]) * (i + 0.5) / nx;
      y[(size_t)i * (size_t)ny + (size_t)j] = r[2] + (r[3] - r[2]) * (j + 0.5) / ny;
    }
  const double *cols[2] = {x, y};
  def->log_terms(m, m->own, theta, np, cols, lt);
  double zmax = -INFINITY, zmin = INFINITY;
  for (size_t g = 0; g < np; g++) {
    double tot = 0;
    for (size_t t = 0; t < nt; t++)
      tot += exp(lt[t * np + g]);
    double v = log10(tot);
    if (isnan(v) || v == INFINITY) {
      rc = DENSRT_FAIL(DENSRT_EDOM, "plot model: the intensity at (%s, %s) = (%s, %s) is %s", def->dims[0].name,
                       def->dims[1].name, densrt_io_shortest(x[g]).s, densrt_io_shortest(y[g]).s,
                       isnan(v) ? "not a number" : "infinite");
      goto done;
    }
    z[g / (size_t)ny][g % (size_t)ny] = v;
    zmax = fmax(zmax, v);
    zmin = fmin(zmin, v);
  }
  if (zmax == -INFINITY) {
    rc = DENSRT_FAIL(DENSRT_EDOM, "plot model: the intensity is 0 everywhere in the window");
    goto done;
  }
  /* three decades below the peak at most: the background stays visible, not the deep tails */
  double zlo = fmax(zmin, zmax - 3), zhi = zmax > zlo ? zmax : zlo + 1;
  for (int i = 0; i < nx; i++)
    for (int j = 0; j < ny; j++)
      z[i][j] = fmin(zhi, fmax(zlo, z[i][j]));
  figure f;
  if ((rc = fig_begin(&f, pg, pg->width, pg->height ? pg->height : stack_height(&l, 3))))
    goto done;
  blues();
  char xl[160], yl[160], cl[200];
  column_label(m, 0, xl, sizeof xl);
  column_label(m, 1, yl, sizeof yl);
  for (size_t p = 0; p < 3 && !rc; p++) {
    panel_viewport(&f, &l, p);
    plwind(r[0], r[1], r[2], r[3]);
    if (p > 0)
      image(z, nx, ny, r, zlo, zhi);
    if (p != 1)
      rc = scatter(m, 0, 1, r, p ? OVERDOTS : DOTS, p ? 0.45 : 0.6);
    axes(p == 2, 1, 0);
    if (p == 1)   /* one title for the three panels: theirs may be taller than a panel */
      y_title(yl);
  }
  plmtex("b", 3.2, 0.5, 0.5, xl);
  /* the colour bar, beside the model panel */
  double y0 = l.top + l.ph + l.gap;
  double s = pg->width / 1000.0;
  viewport(&f, l.left + l.pw + 15 * s, l.left + l.pw + 30 * s, y0, y0 + l.ph);
  plwind(0, 1, zlo, zhi);
  {
    PLFLT **bar = NULL;
    plAlloc2dGrid(&bar, 2, 256);
    if (bar) {
      for (int j = 0; j < 256; j++)
        bar[0][j] = bar[1][j] = zlo + (zhi - zlo) * j / 255.0;
      double br[4] = {0, 1, zlo, zhi};
      image(bar, 2, 256, br, zlo, zhi);
      plFree2dGrid(bar, 2, 256);
    }
  }
  plcol0(INK);
  plbox("bc", 0, 0, "bcmstv", tick_step(zhi - zlo, l.ph / 22), 0);
  if (equal)
    snprintf(cl, sizeof cl, "log#d10#u n [%s#u-2#d]", def->dims[0].unit);
  else
    snprintf(cl, sizeof cl, "log#d10#u n");
  plmtex("r", 4.2, 0.5, 0.5, cl);
  rc = fig_end(&f, rc);
done:
  if (!x || !y || !lt || !z)
    rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
  free(x);
  free(y);
  free(lt);
  if (z)
    plFree2dGrid(z, nx, ny);
  return rc;
}

/* }==================================================================== */

/* {====================================================================
** knots
** ===================================================================== */

/* The column along which knot set k is a breakpoint of some term's quadrature: the
** column its splines run along (-1 if none is known). */
static int knots_column(const densrt_model_def *def, int k)
{
  size_t words = DENSRT_BRK_WORDS(def->n_knots);
  for (size_t t = 0; t < def->n_terms; t++)
    if (def->terms[t].brk_knots)
      for (size_t d = 0; d < def->n_dims; d++)
        if (def->terms[t].brk_knots[d * words + (size_t)k / 32] >> (k % 32) & 1)
          return (int)d;
  return -1;
}

static void legend2(const char *a, int ca, const char *b, int cb)
{
  PLINT opt[2] = {PL_LEGEND_LINE | PL_LEGEND_SYMBOL, PL_LEGEND_LINE | PL_LEGEND_SYMBOL};
  const char *text[2] = {a, b};
  PLINT tc[2] = {INK, INK}, lc[2] = {ca, cb}, ls[2] = {1, 1}, sc[2] = {ca, cb}, sn[2] = {1, 1};
  PLFLT lw[2] = {1, 1.5}, ss[2] = {0.7 * text_scale, 0.7 * text_scale};
  const char *sym[2] = {"\xe2\x97\x8f", "\xe2\x97\x8f"};   /* U+25CF, a filled circle */
  PLFLT w, h;
  pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           PL_POSITION_TOP | PL_POSITION_LEFT | PL_POSITION_INSIDE, 0.02, 0.03, 0.08, BG, GREY, 1, 0, 0, 2, opt,
           0.8, 0.9, 1.8, 0, tc, text, NULL, NULL, NULL, NULL, lc, ls, lw, sc, ss, sn, sym);
}

/* Markers (filled dots) and a line through them. */
static void dots_line(size_t n, const double *x, const double *y, int colour, double width, double ylo, double yhi)
{
  plcol0(colour);
  plwidth(width);
  curve(n, x, y, ylo, yhi);
  plwidth(1);
  plssym(0, 1.1 * text_scale);
  for (size_t i = 0; i < n; i++)
    if (isfinite(y[i]) && y[i] >= ylo && y[i] <= yhi)
      plpoin(1, &x[i], &y[i], 17);
}

int densrt_plot_knots(const densrt_model *m, const double *init, const double *theta, const densrt_plot_page *pg)
{
  const densrt_model_def *def = m->def;
  size_t idx[64], n = 0;
  for (size_t p = 0; p < def->n_params && n < 64; p++)
    if (def->params[p].size_kind == DENSRT_SIZE_KNOTS)
      idx[n++] = p;
  if (!n)
    DENSRT_ERROR(DENSRT_EINVAL, "plot knots: the model has no vector over a knot set");
  for (size_t i = 0; i < m->n_theta; i++)
    if (!isfinite(theta[i]) || (init && !isfinite(init[i]))) {
      char nm[300];
      DENSRT_ERROR(DENSRT_EDOM, "plot knots: %s is not finite", densrt_model_value_name(m, i, nm, sizeof nm));
    }
  /* each panel's y range, then a margin for the widest numbers */
  double yr[64][2];
  for (size_t i = 0; i < n; i++) {
    const densrt_param_def *q = &def->params[idx[i]];
    const double *v = theta + m->off[idx[i]], *v0 = init ? init + m->off[idx[i]] : NULL;
    double ylo = INFINITY, yhi = -INFINITY;
    for (size_t j = 0; j < m->n_knots[q->knots]; j++) {
      ylo = fmin(ylo, fmin(v[j], v0 ? v0[j] : v[j]));
      yhi = fmax(yhi, fmax(v[j], v0 ? v0[j] : v[j]));
    }
    double pad = 0.08 * (yhi - ylo);
    if (!(pad > 0) || !isfinite(pad))
      pad = fmax(1e-3 * fabs(yhi), 0.5);
    yr[i][0] = ylo - pad;
    yr[i][1] = yhi + pad;
  }
  size_t cols = n > 1 ? 2 : 1, rows = (n + cols - 1) / cols, chars = 4;
  double s = pg->width / 1000.0;
  for (size_t i = 0; i < n; i++) {
    size_t w = widest_number(yr[i][0], yr[i][1], 0.55 * 0.45 * pg->width, 0, pg->width);
    chars = w > chars ? w : chars;
  }
  double left = s * (20 + 13 * (double)chars), right = 20 * s, top = 40 * s, bottom = 65 * s,
         hgap = left - 10 * s, vgap = 85 * s;
  double pw = (pg->width - left - right - (double)(cols - 1) * hgap) / (double)cols;
  double ph = pg->height ? (pg->height - top - bottom - (double)(rows - 1) * vgap) / (double)rows : 0.55 * pw;
  int height = pg->height ? pg->height : (int)ceil(top + bottom + (double)rows * ph + (double)(rows - 1) * vgap);
  if (pw < 40 || ph < 30)
    DENSRT_ERROR(DENSRT_EINVAL, "plot knots: %zu panels do not fit in %d x %d", n, pg->width, height);
  figure f;
  int fst = fig_begin(&f, pg, pg->width, height);
  if (fst)
    return fst;
  for (size_t i = 0; i < n; i++) {
    const densrt_param_def *q = &def->params[idx[i]];
    int k = q->knots;
    const double *t = m->knots[k], *v = theta + m->off[idx[i]], *v0 = init ? init + m->off[idx[i]] : NULL;
    size_t nk = m->n_knots[k];
    double ylo = yr[i][0], yhi = yr[i][1];
    double xpad = 0.05 * (t[nk - 1] - t[0]);
    if (!(xpad > 0))
      xpad = 1;
    size_t row = i / cols, col = i % cols;
    double x0 = left + (double)col * (pw + hgap), y0 = top + (double)row * (ph + vgap);
    viewport(&f, x0, x0 + pw, y0, y0 + ph);
    plwind(t[0] - xpad, t[nk - 1] + xpad, ylo, yhi);
    if (v0)
      dots_line(nk, t, v0, GREY, 1, ylo, yhi);
    dots_line(nk, t, v, INK, 1.5, ylo, yhi);
    axes(1, 1, 0);
    char title[300], xl[160];
    size_t at = 0;
    title[0] = '\0';
    put_text(title, sizeof title, &at, q->name, strlen(q->name));
    plmtex("t", 1.0, 0.5, 0.5, title);
    int d = knots_column(def, k);
    if (row == rows - 1 || (row == rows - 2 && col >= n % cols && n % cols)) {
      if (d >= 0)
        column_label(m, (size_t)d, xl, sizeof xl);
      else {
        at = 0;
        xl[0] = '\0';
        put_text(xl, sizeof xl, &at, def->knots[k].name, strlen(def->knots[k].name));
      }
      plmtex("b", 3.0, 0.5, 0.5, xl);
    }
    if (i == n - 1 && v0)
      legend2("initial", GREY, "optimised", INK);
  }
  return fig_end(&f, 0);
}

/* }==================================================================== */

/* {====================================================================
** density: a 1-D model with its data
** ===================================================================== */

int densrt_plot_density(densrt_model *m, const double *theta, size_t n_draws, int log_scale,
                        const densrt_plot_page *pg)
{
  const densrt_model_def *def = m->def;
  if (def->n_dims != 1)
    DENSRT_ERROR(DENSRT_EINVAL, "plot density: draws a model of one column (this one has %zu); use 'plot model' or "
                 "'plot track'", def->n_dims);
  double lo, hi;
  if (column_range(m, 0, &lo, &hi))
    return DENSRT_EDOM;
  const size_t np = 600, nt = def->n_terms;
  size_t nb = n_bins(m->n);
  int show_terms = n_draws == 1 && nt > 1;
  double *x = malloc(np * sizeof *x), *lt = malloc(np * nt * sizeof *lt), *v = malloc(np * n_draws * sizeof *v);
  double *q = malloc(3 * np * sizeof *q), *h = malloc(nb * sizeof *h), *tv = malloc(np * nt * sizeof *tv);
  int rc = DENSRT_ENOMEM;
  if (!x || !lt || !v || !q || !h || !tv) {
    rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < np; i++)
    x[i] = lo + (hi - lo) * (double)i / (double)(np - 1);
  x[np - 1] = hi;
  const double *cols[1] = {x};
  for (size_t r = 0; r < n_draws; r++) {
    def->log_terms(m, m->own, theta + r * m->n_theta, np, cols, lt);
    for (size_t i = 0; i < np; i++) {
      double tot = 0;
      for (size_t t = 0; t < nt; t++) {
        double e = exp(lt[t * np + i]);
        tot += e;
        if (r == 0)
          tv[t * np + i] = log_scale ? log10(e) : e;
      }
      if (isnan(tot) || tot == INFINITY) {
        rc = DENSRT_FAIL(DENSRT_EDOM, "plot density: the intensity at %s = %s is %s", def->dims[0].name,
                         densrt_io_shortest(x[i]).s, isnan(tot) ? "not a number" : "infinite");
        goto done;
      }
      v[i * n_draws + r] = log_scale ? log10(tot) : tot;
    }
  }
  quantiles(v, np, n_draws, q, q + np, q + 2 * np);
  if ((rc = histogram(m, 0, lo, hi, nb, h)))
    goto done;
  double ymax = -INFINITY, ymin = INFINITY;
  for (size_t i = 0; i < 3 * np; i++)
    if (isfinite(q[i])) {
      ymax = fmax(ymax, q[i]);
      ymin = fmin(ymin, q[i]);
    }
  for (size_t b = 0; b < nb && m->n; b++) {
    double hv = log_scale ? (h[b] > 0 ? log10(h[b]) : NAN) : h[b];
    if (isfinite(hv)) {
      ymax = fmax(ymax, hv);
      ymin = fmin(ymin, hv);
    }
  }
  if (!isfinite(ymax)) {
    rc = DENSRT_FAIL(DENSRT_EDOM, "plot density: the intensity is 0 everywhere in the range");
    goto done;
  }
  if (log_scale) {
    ymin = fmax(ymin, ymax - 12) - 0.3;   /* twelve decades at most */
    ymax += 0.3;
  } else {
    ymin = 0;
    ymax = ymax > 0 ? 1.08 * ymax : 1;
  }
  layout l;
  int height = pg->height ? pg->height : (int)(0.75 * pg->width);
  stack_layout(&l, pg->width, 4, 0, 0, 30);
  double ph = height - l.top - l.bottom;
  stack_layout(&l, pg->width, widest_number(ymin, ymax, ph, log_scale, pg->width), 0, ph, 30);
  figure f;
  if ((rc = fig_begin(&f, pg, pg->width, height)))
    goto done;
  panel_viewport(&f, &l, 0);
  plwind(lo, hi, ymin, ymax);
  if (m->n)
    draw_histogram(h, nb, lo, hi, log_scale, ymin);
  if (n_draws > 1) {
    plcol0(LIGHTBLUE);
    band(np, x, q, q + 2 * np, ymin, ymax);
  }
  if (show_terms) {
    static const int term_colour[] = {ORANGE, RED, GREY};
    pllsty(2);
    for (size_t t = 0; t < nt; t++) {
      plcol0(term_colour[t % 3]);
      curve(np, x, tv + t * np, ymin, ymax);
    }
    pllsty(1);
  }
  plcol0(BLUE);
  plwidth(2);
  curve(np, x, q + np, ymin, ymax);
  plwidth(1);
  axes(1, 1, log_scale);
  char xl[160], yl[300], nm[160];
  column_label(m, 0, xl, sizeof xl);
  densrt_plot_label(def->dims[0].name, NULL, nm, sizeof nm);
  if (def->dims[0].unit)
    snprintf(yl, sizeof yl, "density n(%s) [%s#u-1#d]", nm, def->dims[0].unit);
  else
    snprintf(yl, sizeof yl, "density n(%s)", nm);
  plmtex("b", 3.2, 0.5, 0.5, xl);
  y_title(yl);
  if (show_terms) {
    /* a legend of the components */
    PLINT opt[8], tc[8], lc[8], ls[8];
    PLFLT lw[8];
    const char *text[8];
    size_t k = 0;
    opt[k] = PL_LEGEND_LINE, tc[k] = INK, lc[k] = BLUE, ls[k] = 1, lw[k] = 2, text[k++] = "total";
    static const int term_colour[] = {ORANGE, RED, GREY};
    for (size_t t = 0; t < nt && k < 8; t++)
      opt[k] = PL_LEGEND_LINE, tc[k] = INK, lc[k] = term_colour[t % 3], ls[k] = 2, lw[k] = 1,
      text[k++] = def->terms[t].name;
    PLFLT w, hh;
    pllegend(&w, &hh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_TOP | PL_POSITION_RIGHT |
             PL_POSITION_INSIDE, 0.02, 0.03, 0.08, BG, GREY, 1, 0, 0, (PLINT)k, opt, 0.8, 0.9, 1.8, 0, tc, text,
             NULL, NULL, NULL, NULL, lc, ls, lw, NULL, NULL, NULL, NULL);
  }
  rc = fig_end(&f, 0);
done:
  free(x);
  free(lt);
  free(v);
  free(q);
  free(h);
  free(tv);
  return rc;
}

/* }==================================================================== */

/* {====================================================================
** track: intensity-weighted mean and sd across a column
** ===================================================================== */

/* One pass at a rule: mean, sd and mass at every point. */
static int track_pass(const densrt_model *m, densrt_work *w, const double *theta, size_t t, size_t along,
                      size_t across, size_t n, const double *a, const densrt_quad_rule *rule, double *lv,
                      double *xa, double *mean, double *sd, double *mass)
{
  const densrt_model_def *def = m->def;
  size_t nq = rule->n, nt = def->n_terms;
  const double *cols[2];
  cols[along] = xa;
  cols[across] = rule->x;
  for (size_t i = 0; i < n; i++) {
    for (size_t q = 0; q < nq; q++)
      xa[q] = a[i];
    def->log_terms(m, w, theta, nq, cols, lv);
    const double *l = lv + t * nq;
    double top = -INFINITY;
    for (size_t q = 0; q < nq; q++) {
      double e = rule->lw[q] + l[q];
      if (isnan(e) || e == INFINITY)
        DENSRT_ERROR(DENSRT_EDOM, "plot track: the intensity of '%s' at (%s, %s) = (%s, %s) is %s", def->terms[t].name,
                     def->dims[along].name, def->dims[across].name, densrt_io_shortest(a[i]).s,
                     densrt_io_shortest(rule->x[q]).s, isnan(e) ? "not a number" : "infinite");
      top = fmax(top, e);
    }
    if (top == -INFINITY) {
      mean[i] = NAN;
      if (sd)
        sd[i] = NAN;
      if (mass)
        mass[i] = 0;
      continue;
    }
    double s0 = 0, s1 = 0, s2 = 0;
    for (size_t q = 0; q < nq; q++)
      s0 += exp(rule->lw[q] + l[q] - top);
    for (size_t q = 0; q < nq; q++)
      s1 += exp(rule->lw[q] + l[q] - top) * rule->x[q];
    double mu = s1 / s0;
    for (size_t q = 0; q < nq; q++) {
      double dy = rule->x[q] - mu;
      s2 += exp(rule->lw[q] + l[q] - top) * dy * dy;
    }
    mean[i] = mu;
    if (sd)
      sd[i] = sqrt(s2 / s0);
    if (mass)
      mass[i] = exp(top + log(s0));
    (void)nt;
  }
  return DENSRT_OK;
}

int densrt_plot_track(const densrt_model *m, densrt_work *w, const double *theta, size_t t, size_t along,
                      size_t across, size_t n, const double *a, double *mean, double *sd, double *mass)
{
  const densrt_model_def *def = m->def;
  if (def->n_dims != 2 || along > 1 || across > 1 || along == across || t >= def->n_terms)
    DENSRT_ERROR(DENSRT_EINVAL, "plot track: needs a model of two columns, one along and one across");
  double lo, hi;
  if (column_range(m, across, &lo, &hi))
    return DENSRT_EDOM;
  size_t nt = def->n_terms, subdiv = 32, order = 8;
  double *buf[2][3] = {{0}}, *lv = NULL, *xa = NULL;
  densrt_quad_rule rule = {0};
  int rc = DENSRT_ENOMEM, cur = 0;
  for (int s = 0; s < 2; s++)
    for (int k = 0; k < 3; k++)
      if (!(buf[s][k] = malloc((n + 1) * sizeof(double))))
        goto done;
  for (;; subdiv *= 2) {
    if ((rc = densrt_quad_rule_gl(lo, hi, NULL, 0, order, subdiv, &rule)))
      goto done;
    free(lv);
    free(xa);
    lv = malloc(nt * rule.n * sizeof *lv);
    xa = malloc(rule.n * sizeof *xa);
    if (!lv || !xa) {
      rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
      goto done;
    }
    if ((rc = track_pass(m, w, theta, t, along, across, n, a, &rule, lv, xa, buf[cur][0], buf[cur][1], buf[cur][2])))
      goto done;
    densrt_quad_rule_free(&rule);
    if (subdiv > 32) {
      double worst = 0;
      for (size_t i = 0; i < n; i++)
        if (!isnan(buf[cur][0][i]) || !isnan(buf[!cur][0][i]))
          worst = fmax(worst, fmax(fabs(buf[cur][0][i] - buf[!cur][0][i]), fabs(buf[cur][1][i] - buf[!cur][1][i])));
      if (worst <= 1e-9 * (hi - lo))
        break;
      if (subdiv >= 16384) {
        rc = DENSRT_FAIL(DENSRT_ETOL, "plot track: the mean and sd of '%s' across '%s' did not converge (they change "
                         "by %s with %zu nodes)", def->terms[t].name, def->dims[across].name,
                         densrt_io_shortest(worst).s, order * subdiv);
        goto done;
      }
    }
    cur = !cur;
  }
  memcpy(mean, buf[cur][0], n * sizeof *mean);
  if (sd)
    memcpy(sd, buf[cur][1], n * sizeof *sd);
  if (mass)
    memcpy(mass, buf[cur][2], n * sizeof *mass);
  rc = DENSRT_OK;
done:
  if (rc == DENSRT_ENOMEM)
    DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
  densrt_quad_rule_free(&rule);
  for (int s = 0; s < 2; s++)
    for (int k = 0; k < 3; k++)
      free(buf[s][k]);
  free(lv);
  free(xa);
  return rc;
}

int densrt_plot_track_figure(densrt_model *m, const double *theta, size_t n_draws, size_t t, size_t along,
                             const densrt_plot_page *pg)
{
  const densrt_model_def *def = m->def;
  if (def->n_dims != 2)
    DENSRT_ERROR(DENSRT_EINVAL, "plot track: draws a component across one column of a model of two (this one has "
                 "%zu)", def->n_dims);
  size_t across = !along, np = 240;
  double r[4];
  if (column_range(m, along, &r[0], &r[1]) || column_range(m, across, &r[2], &r[3]))
    return DENSRT_EDOM;
  double *a = malloc(np * sizeof *a), *mv = malloc(np * n_draws * sizeof *mv), *sv = malloc(np * n_draws * sizeof *sv);
  double *mean = malloc(np * sizeof *mean), *sd = malloc(np * sizeof *sd), *q = malloc(6 * np * sizeof *q);
  int rc = DENSRT_ENOMEM;
  if (!a || !mv || !sv || !mean || !sd || !q) {
    rc = DENSRT_FAIL(DENSRT_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < np; i++)
    a[i] = r[0] + (r[1] - r[0]) * (double)i / (double)(np - 1);
  a[np - 1] = r[1];
  for (size_t k = 0; k < n_draws; k++) {
    if ((rc = densrt_plot_track(m, m->own, theta + k * m->n_theta, t, along, across, np, a, mean, sd, NULL)))
      goto done;
    for (size_t i = 0; i < np; i++) {
      mv[i * n_draws + k] = mean[i];
      sv[i * n_draws + k] = sd[i];
    }
  }
  quantiles(mv, np, n_draws, q, q + np, q + 2 * np);
  quantiles(sv, np, n_draws, q + 3 * np, q + 4 * np, q + 5 * np);
  double smax = 0;
  for (size_t i = 3 * np; i < 6 * np; i++)
    if (isfinite(q[i]))
      smax = fmax(smax, q[i]);
  smax = smax > 0 ? 1.1 * smax : 1;
  layout l;
  double aspect = same_unit(m, 0, 1) ? (r[3] - r[2]) / (r[1] - r[0]) : 0.3;
  stack_layout(&l, pg->width, 4, 0, 0, 30);
  for (int pass = 0; pass < 2; pass++) {   /* the margin sizes the panels, whose numbers size the margin */
    l.ph = fmax(aspect * l.pw, 0.18 * l.pw);
    size_t w1 = widest_number(r[2], r[3], l.ph, 0, pg->width);
    size_t w2 = widest_number(0, smax, 0.6 * l.ph, 0, pg->width);
    stack_layout(&l, pg->width, w1 > w2 ? w1 : w2, 0, 0, 30);
  }
  l.ph = fmax(aspect * l.pw, 0.18 * l.pw);
  l.top = 40 * pg->width / 1000.0;   /* the title above */
  double ph2 = 0.6 * l.ph;
  int height = pg->height ? pg->height : (int)ceil(l.top + l.bottom + l.ph + ph2 + l.gap);
  if (pg->height) {
    double avail = height - l.top - l.bottom - l.gap;
    l.ph = avail / 1.6;
    ph2 = 0.6 * l.ph;
  }
  figure f;
  if ((rc = fig_begin(&f, pg, pg->width, height)))
    goto done;
  char xl[160], yl[200], nm[160];
  column_label(m, along, xl, sizeof xl);
  densrt_plot_label(def->dims[across].name, NULL, nm, sizeof nm);
  const char *unit = def->dims[across].unit;
  /* the track over the stars */
  viewport(&f, l.left, l.left + l.pw, l.top, l.top + l.ph);
  plwind(r[0], r[1], r[2], r[3]);
  if (m->n)
    rc = scatter(m, along, across, (double[4]){r[0], r[1], r[2], r[3]}, DOTS, 0.5);
  if (n_draws > 1) {
    plcol0(LIGHTBLUE);
    band(np, a, q, q + 2 * np, r[2], r[3]);
  }
  plcol0(BLUE);
  plwidth(2);
  curve(np, a, q + np, r[2], r[3]);
  plwidth(1);
  pllsty(2);
  for (size_t i = 0; i < np; i++) {
    mean[i] = q[np + i] - q[4 * np + i];
    sd[i] = q[np + i] + q[4 * np + i];
  }
  curve(np, a, mean, r[2], r[3]);
  curve(np, a, sd, r[2], r[3]);
  pllsty(1);
  axes(0, 1, 0);
  snprintf(yl, sizeof yl, "%s%s%s%s", nm, unit ? " [" : "", unit ? unit : "", unit ? "]" : "");
  y_title(yl);
  char title[300];
  size_t at = 0;
  title[0] = '\0';
  put_raw(title, sizeof title, &at, "track of ");
  put_text(title, sizeof title, &at, def->terms[t].name, strlen(def->terms[t].name));
  put_raw(title, sizeof title, &at, ": mean #(2233) sd");
  plmtex("t", 0.8, 0.0, 0.0, title);
  /* the width */
  viewport(&f, l.left, l.left + l.pw, l.top + l.ph + l.gap, l.top + l.ph + l.gap + ph2);
  plwind(r[0], r[1], 0, smax);
  if (n_draws > 1) {
    plcol0(LIGHTBLUE);
    band(np, a, q + 3 * np, q + 5 * np, 0, smax);
  }
  plcol0(BLUE);
  plwidth(2);
  curve(np, a, q + 4 * np, 0, smax);
  plwidth(1);
  axes(1, 1, 0);
  snprintf(yl, sizeof yl, "sd of %s%s%s%s", nm, unit ? " [" : "", unit ? unit : "", unit ? "]" : "");
  y_title(yl);
  plmtex("b", 3.2, 0.5, 0.5, xl);
  rc = fig_end(&f, rc);
done:
  free(a);
  free(mv);
  free(sv);
  free(mean);
  free(sd);
  free(q);
  return rc;
}

/* }==================================================================== */

/* {====================================================================
** trace
** ===================================================================== */

int densrt_plot_trace(size_t n, const char *const *labels, size_t n_chains, const size_t *n_draws,
                      double *const *const *x, const densrt_plot_page *pg)
{
  size_t most = 0;
  for (size_t c = 0; c < n_chains; c++)
    most = n_draws[c] > most ? n_draws[c] : most;
  if (!n || !most)
    DENSRT_ERROR(DENSRT_EINVAL, "plot trace: nothing to draw");
  double *it = malloc(most * sizeof *it), *range = malloc(2 * n * sizeof *range);
  if (!it || !range) {
    free(it);
    free(range);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < n; k++) {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t c = 0; c < n_chains; c++)
      for (size_t i = 0; i < n_draws[c]; i++)
        if (isfinite(x[k][c][i])) {
          lo = fmin(lo, x[k][c][i]);
          hi = fmax(hi, x[k][c][i]);
        }
    if (!(lo <= hi))
      lo = 0, hi = 1;
    double pad = 0.05 * (hi - lo);
    if (!(pad > 0) || !isfinite(pad))
      pad = fmax(1e-6 * fabs(hi), 0.5);
    range[2 * k] = lo - pad;
    range[2 * k + 1] = hi + pad;
  }
  layout l;
  double ph = 160 * pg->width / 1000.0;
  size_t chars = 4;
  for (size_t k = 0; k < n; k++) {
    size_t w = widest_number(range[2 * k], range[2 * k + 1], ph, 0, pg->width);
    chars = w > chars ? w : chars;
  }
  stack_layout(&l, pg->width, chars, 0, ph, 30);
  l.top = 40 * pg->width / 1000.0;
  int height = pg->height ? pg->height : stack_height(&l, n);
  if (pg->height)
    fit_height(&l, pg->height, n, 0);
  for (size_t i = 0; i < most; i++)
    it[i] = (double)(i + 1);
  figure f;
  int fst = fig_begin(&f, pg, pg->width, height);
  if (fst) {
    free(it);
    free(range);
    return fst;
  }
  for (size_t k = 0; k < n; k++) {
    double lo = range[2 * k], hi = range[2 * k + 1];
    panel_viewport(&f, &l, k);
    plwind(0.5, (double)most + 0.5, lo, hi);
    plwidth(0.7);
    for (size_t c = 0; c < n_chains; c++) {
      plcol0(CHAIN0 + (int)(c % 10));
      curve(n_draws[c], it, x[k][c], lo, hi);
    }
    plwidth(1);
    axes(k == n - 1, 1, 0);
    char yl[300];
    size_t at = 0;
    yl[0] = '\0';
    put_text(yl, sizeof yl, &at, labels[k], strlen(labels[k]));
    y_title(yl);
    if (k == 0) {
      /* the chains' colours, above the first panel */
      char txt[32];
      for (size_t c = 0; c < n_chains && c < 10; c++) {
        plcol0(CHAIN0 + (int)c);
        snprintf(txt, sizeof txt, "chain %zu", c + 1);
        plmtex("t", 0.8, (double)c / (double)(n_chains < 10 ? n_chains : 10) + 0.01, 0, txt);
      }
    }
  }
  plcol0(INK);
  plmtex("b", 3.2, 0.5, 0.5, "iteration");
  free(it);
  free(range);
  return fig_end(&f, 0);
}

/* }==================================================================== */
