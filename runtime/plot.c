/*
** plot.c — rasterises model and data into an RGB canvas and writes a PNG.
*/
#include "plot.h"
#include "error.h"
#include "io.h"

#include <float.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int w, h;
  unsigned char *px;   /* RGB rows */
} canvas;

typedef struct {
  int x0, y0, x1, y1;          /* plot area in pixels (y0 top) */
  double xlo, xhi, ylo, yhi;   /* data range */
} frame;

/* Pixel positions are computed in double; a canvas is at most 10000 pixels, so
** a position is clamped to +-PX_FAR (far off the canvas) before it becomes an
** int: data or curves far outside the frame, even infinite, stay defined. */
#define PX_FAR 1e6

static int to_px(double v)
{
  if (isnan(v))
    return -(int)PX_FAR;     /* off the canvas: nothing is drawn */
  return (int)fmin(PX_FAR, fmax(-PX_FAR, v));
}

static void put(canvas *c, int x, int y, const unsigned char rgb[3])
{
  if (x < 0 || y < 0 || x >= c->w || y >= c->h)
    return;
  memcpy(c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x), rgb, 3);
}

/* Filled rectangle, clipped to the canvas first (corners may be +-PX_FAR). */
static void rect(canvas *c, int x0, int y0, int x1, int y1, const unsigned char rgb[3])
{
  x0 = x0 < 0 ? 0 : x0;
  y0 = y0 < 0 ? 0 : y0;
  x1 = x1 >= c->w ? c->w - 1 : x1;
  y1 = y1 >= c->h ? c->h - 1 : y1;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++)
      put(c, x, y, rgb);
}

/* Clips the segment a-b to [lo, hi] in both coordinates (Liang-Barsky); 0 when
** nothing is left or a coordinate is not finite. */
static int clip(double *xa, double *ya, double *xb, double *yb, double lo, double hi_x, double hi_y)
{
  if (!isfinite(*xa) || !isfinite(*ya) || !isfinite(*xb) || !isfinite(*yb))
    return 0;
  double dx = *xb - *xa, dy = *yb - *ya, t0 = 0, t1 = 1;
  const double p[4] = { -dx, dx, -dy, dy }, q[4] = { *xa - lo, hi_x - *xa, *ya - lo, hi_y - *ya };
  for (int i = 0; i < 4; i++) {
    if (p[i] == 0) {
      if (q[i] < 0)
        return 0;
      continue;
    }
    double r = q[i] / p[i];
    if (p[i] < 0)
      t0 = fmax(t0, r);
    else
      t1 = fmin(t1, r);
  }
  if (t0 > t1)
    return 0;
  double xa0 = *xa, ya0 = *ya;
  *xa = xa0 + t0 * dx;
  *ya = ya0 + t0 * dy;
  *xb = xa0 + t1 * dx;
  *yb = ya0 + t1 * dy;
  return 1;
}

/* Thick line by stepping along the longer axis, clipped to the canvas (plus a
** margin for the thickness) so the number of steps stays that of the canvas. */
static void line(canvas *c, double xa, double ya, double xb, double yb, int thick, const unsigned char rgb[3])
{
  if (!clip(&xa, &ya, &xb, &yb, -thick, c->w + thick, c->h + thick))
    return;
  double n = fmax(fabs(xb - xa), fabs(yb - ya));
  int steps = (int)n + 1;
  for (int i = 0; i <= steps; i++) {
    double t = (double)i / steps;
    int x = to_px(round(xa + t * (xb - xa))), y = to_px(round(ya + t * (yb - ya)));
    rect(c, x - thick / 2, y - thick / 2, x + (thick - 1) / 2, y + (thick - 1) / 2, rgb);
  }
}

static double px_x(const frame *f, double x)
{
  return f->x0 + (x - f->xlo) / (f->xhi - f->xlo) * (f->x1 - f->x0);
}

static double px_y(const frame *f, double y)
{
  return f->y1 - (y - f->ylo) / (f->yhi - f->ylo) * (f->y1 - f->y0);
}

/* A 5x7 bitmap font for tick labels: digits, '-', '.', 'e', '+'. Rows are 5-bit masks. */
static const struct {
  char ch;
  unsigned char rows[7];
} glyphs[] = {
  {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},   {'2', {14, 17, 1, 2, 4, 8, 31}},
  {'3', {31, 2, 4, 2, 1, 17, 14}},     {'4', {2, 6, 10, 18, 31, 2, 2}},  {'5', {31, 16, 30, 1, 1, 17, 14}},
  {'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},    {'8', {14, 17, 17, 14, 17, 17, 14}},
  {'9', {14, 17, 17, 15, 1, 2, 12}},   {'-', {0, 0, 0, 31, 0, 0, 0}},    {'.', {0, 0, 0, 0, 0, 12, 12}},
  {'e', {0, 0, 14, 17, 31, 16, 14}},   {'+', {0, 4, 4, 31, 4, 4, 0}},
};

/* Draws text with its reference point at (x, y): align 0 centre-top, 1 right-middle. Scale 2. */
static void text(canvas *c, int x, int y, const char *s, int align)
{
  static const unsigned char black[3] = {0, 0, 0};
  int n = (int)strlen(s), w = n * 12 - 2;
  int x0 = align == 0 ? x - w / 2 : x - w, y0 = align == 0 ? y : y - 7;
  for (int i = 0; i < n; i++)
    for (size_t g = 0; g < sizeof glyphs / sizeof *glyphs; g++)
      if (glyphs[g].ch == s[i])
        for (int r = 0; r < 7; r++)
          for (int b = 0; b < 5; b++)
            if (glyphs[g].rows[r] & (16 >> b))
              rect(c, x0 + i * 12 + 2 * b, y0 + 2 * r, x0 + i * 12 + 2 * b + 1, y0 + 2 * r + 1, black);
}

static void tick_label(char *buf, size_t len, double t, double step)
{
  if (fabs(t) < 1e-9 * step)
    t = 0;
  snprintf(buf, len, "%g", t);
}

/* Axes with labelled tick marks at "nice" steps. */
static double nice_step(double range)
{
  double raw = range / 6, p = pow(10, floor(log10(raw))), r = raw / p;
  return p * (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10);
}

/* The ticks k * s, k from *k0 to *k0 + *n - 1, in [lo, hi]; none when the
** range cannot be ticked (a step below the resolution of its numbers). */
static double ticks(double lo, double hi, double *k0, int *n)
{
  double s = nice_step(hi - lo), first = ceil(lo / s), last = floor(hi / s + 1e-9);
  *k0 = first;
  *n = isfinite(s) && s > 0 && isfinite(first) && isfinite(last) && last >= first && last - first <= 50
         ? (int)(last - first) + 1 : 0;
  return s;
}

static void axes(canvas *c, const frame *f)
{
  static const unsigned char black[3] = {0, 0, 0};
  line(c, f->x0, f->y1, f->x1, f->y1, 2, black);
  line(c, f->x0, f->y0, f->x0, f->y1, 2, black);
  char buf[32];
  double k0;
  int n;
  double s = ticks(f->xlo, f->xhi, &k0, &n);
  for (int i = 0; i < n; i++) {
    double t = (k0 + i) * s;
    line(c, px_x(f, t), f->y1, px_x(f, t), f->y1 + 8, 2, black);
    tick_label(buf, sizeof buf, t, s);
    text(c, to_px(round(px_x(f, t))), f->y1 + 14, buf, 0);
  }
  s = ticks(f->ylo, f->yhi, &k0, &n);
  for (int i = 0; i < n; i++) {
    double t = (k0 + i) * s;
    line(c, f->x0 - 8, px_y(f, t), f->x0, px_y(f, t), 2, black);
    tick_label(buf, sizeof buf, t, s);
    text(c, f->x0 - 14, to_px(round(px_y(f, t))), buf, 1);
  }
}

/* A perceptually ordered dark-blue -> green -> yellow map. */
static void colormap(double t, unsigned char rgb[3])
{
  static const double stops[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = fmin(1, fmax(0, t)) * 4;
  int i = (int)fmin(3, floor(t));
  double u = t - i;
  for (int k = 0; k < 3; k++)
    rgb[k] = (unsigned char)lround(stops[i][k] + u * (stops[i + 1][k] - stops[i][k]));
}

/* Range of a column: its window, or the data's range where the window is
** unbounded.  Pixels are computed from it in double, so it must be finite with
** a finite, positive width: a window such as [-1e308, 1e308] is refused. */
static int column_range(const densrt_model *m, size_t d, double *lo, double *hi)
{
  double a = m->lo[d], b = m->hi[d];
  if (!isfinite(a) || !isfinite(b)) {
    double dmin = INFINITY, dmax = -INFINITY;
    for (size_t i = 0; i < m->n; i++) {
      dmin = fmin(dmin, m->x[d][i]);
      dmax = fmax(dmax, m->x[d][i]);
    }
    double pad = 0.1 * dmax - 0.1 * dmin;     /* a tenth of the width, which may overflow */
    if (!(pad > 0))
      pad = dmax != 0 ? 0.1 * fabs(dmax) : 1;
    if (!isfinite(a))
      a = fmax(-DBL_MAX, dmin - pad);
    if (!isfinite(b))
      b = fmin(DBL_MAX, dmax + pad);
  }
  *lo = a;
  *hi = b;
  const char *name = m->def->dims[d].name;
  if (!isfinite(a) || !isfinite(b))
    DENSRT_ERROR(DENSRT_EDOM, "plot: column '%s': nothing to draw (the window is unbounded and there are no data)",
                 name);
  if (!(b > a) || !isfinite(b - a))
    DENSRT_ERROR(DENSRT_EDOM, "plot: column '%s': cannot draw the range [%s, %s]: its width %s", name,
                 densrt_io_shortest(a).s, densrt_io_shortest(b).s, b > a ? "overflows a double" : "is 0");
  return DENSRT_OK;
}

static int plot_1d(densrt_model *m, const double *theta, canvas *c, frame *f)
{
  size_t nt = m->def->n_terms, npts = (size_t)(f->x1 - f->x0 + 1), nbins = 60;
  if (column_range(m, 0, &f->xlo, &f->xhi))
    return DENSRT_EDOM;
  double *x = malloc(npts * sizeof *x), *lt = malloc(npts * nt * sizeof *lt), *hist = calloc(nbins, sizeof *hist);
  if (!x || !lt || !hist) {
    free(x);
    free(lt);
    free(hist);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < npts; i++)
    x[i] = f->xlo + (f->xhi - f->xlo) * (double)i / (double)(npts - 1);
  const double *cols[1] = {x};
  m->def->log_terms(m, m->own, theta, npts, cols, lt);
  double bw = (f->xhi - f->xlo) / (double)nbins, ymax = 0;
  for (size_t i = 0; i < m->n; i++) {
    double b = floor((m->x[0][i] - f->xlo) / bw);
    if (b >= 0 && b < (double)nbins)
      hist[(size_t)b] += 1 / bw;
  }
  for (size_t b = 0; b < nbins; b++)
    ymax = fmax(ymax, hist[b]);
  for (size_t i = 0; i < npts; i++) {
    double tot = 0;
    for (size_t t = 0; t < nt; t++)
      tot += exp(lt[t * npts + i]);
    if (isfinite(tot))
      ymax = fmax(ymax, tot);
  }
  f->ylo = 0;
  f->yhi = ymax > 0 ? 1.1 * ymax : 1;
  if (!isfinite(f->yhi)) {
    free(x);
    free(lt);
    free(hist);
    DENSRT_ERROR(DENSRT_EDOM, "plot: column '%s': the histogram of the data overflows a double (the range [%s, %s] "
                 "is too narrow to draw)", m->def->dims[0].name, densrt_io_shortest(f->xlo).s,
                 densrt_io_shortest(f->xhi).s);
  }
  static const unsigned char grey[3] = {200, 200, 200}, total[3] = {20, 20, 20};
  static const unsigned char term_rgb[4][3] = {{31, 119, 180}, {214, 39, 40}, {44, 160, 44}, {148, 103, 189}};
  for (size_t b = 0; b < nbins; b++)
    rect(c, to_px(px_x(f, f->xlo + (double)b * bw)) + 1, to_px(px_y(f, hist[b])),
         to_px(px_x(f, f->xlo + (double)(b + 1) * bw)) - 1, f->y1, grey);
  for (size_t t = 0; nt > 1 && t < nt; t++)
    for (size_t i = 1; i < npts; i++)
      line(c, px_x(f, x[i - 1]), px_y(f, exp(lt[t * npts + i - 1])), px_x(f, x[i]), px_y(f, exp(lt[t * npts + i])), 2,
           term_rgb[t % 4]);
  double prev = 0;
  for (size_t i = 0; i < npts; i++) {
    double tot = 0;
    for (size_t t = 0; t < nt; t++)
      tot += exp(lt[t * npts + i]);
    if (i)
      line(c, px_x(f, x[i - 1]), px_y(f, fmin(prev, f->yhi)), px_x(f, x[i]), px_y(f, fmin(tot, f->yhi)), 3, total);
    prev = tot;
  }
  free(x);
  free(lt);
  free(hist);
  return DENSRT_OK;
}

static int plot_2d(densrt_model *m, const double *theta, canvas *c, frame *f)
{
  size_t nt = m->def->n_terms, w = (size_t)(f->x1 - f->x0 + 1), h = (size_t)(f->y1 - f->y0 + 1), n = w * h;
  if (column_range(m, 0, &f->xlo, &f->xhi) || column_range(m, 1, &f->ylo, &f->yhi))
    return DENSRT_EDOM;
  double *gx = malloc(n * sizeof *gx), *gy = malloc(n * sizeof *gy), *lt = malloc(n * nt * sizeof *lt);
  if (!gx || !gy || !lt) {
    free(gx);
    free(gy);
    free(lt);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  for (size_t r = 0; r < h; r++)
    for (size_t q = 0; q < w; q++) {
      gx[r * w + q] = f->xlo + (f->xhi - f->xlo) * ((double)q + 0.5) / (double)w;
      gy[r * w + q] = f->yhi - (f->yhi - f->ylo) * ((double)r + 0.5) / (double)h;
    }
  const double *cols[2] = {gx, gy};
  m->def->log_terms(m, m->own, theta, n, cols, lt);
  /* log10 of the total, shown over the top 4 decades */
  double top = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    double s = -INFINITY;
    for (size_t t = 0; t < nt; t++) {
      double a = lt[t * n + i], mx = fmax(s, a);
      s = mx == -INFINITY ? mx : mx + log1p(exp(-fabs(s - a)));
    }
    lt[i] = s / log(10);   /* overwrite term 0 with the total */
    if (isfinite(lt[i]))
      top = fmax(top, lt[i]);
  }
  for (size_t r = 0; r < h; r++)
    for (size_t q = 0; q < w; q++) {
      unsigned char rgb[3];
      colormap((lt[r * w + q] - (top - 4)) / 4, rgb);
      put(c, f->x0 + (int)q, f->y0 + (int)r, rgb);
    }
  static const unsigned char dot[3] = {255, 255, 255};
  for (size_t i = 0; i < m->n; i++) {
    int x = to_px(px_x(f, m->x[0][i])), y = to_px(px_y(f, m->x[1][i]));
    rect(c, x, y, x + 1, y + 1, dot);
  }
  free(gx);
  free(gy);
  free(lt);
  return DENSRT_OK;
}

static int write_png(const canvas *c, FILE *fp)
{
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    DENSRT_ERROR(DENSRT_EIO, "cannot write the PNG image");
  }
  png_init_io(png, fp);
  png_set_IHDR(png, info, (png_uint_32)c->w, (png_uint_32)c->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < c->h; y++)
    png_write_row(png, c->px + 3 * (size_t)y * (size_t)c->w);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return DENSRT_OK;
}

int densrt_plot_png(densrt_model *m, const double *theta, const char *path, int width, int height)
{
  if (width < 100 || height < 100 || width > 10000 || height > 10000)
    DENSRT_ERROR(DENSRT_EINVAL, "the figure size must be between 100 and 10000 pixels");
  if (m->def->n_dims > 2)
    DENSRT_ERROR(DENSRT_EINVAL, "plot supports models with one or two data columns");
  canvas c = {width, height, malloc((size_t)width * (size_t)height * 3)};
  if (!c.px)
    DENSRT_ERROR(DENSRT_ENOMEM, "out of memory");
  memset(c.px, 255, (size_t)width * (size_t)height * 3);
  frame f = {100, 30, width - 40, height - 50, 0, 1, 0, 1};
  int rc = m->def->n_dims == 1 ? plot_1d(m, theta, &c, &f) : plot_2d(m, theta, &c, &f);
  if (!rc)
    axes(&c, &f);
  densrt_io_out out;
  if (!rc && !(rc = densrt_io_out_open(&out, path))) {
    rc = write_png(&c, out.f);
    if (rc)
      densrt_io_out_abort(&out);
    else
      rc = densrt_io_out_commit(&out);
  }
  free(c.px);
  return rc;
}
