/*
** plot.h — figures of data, a model and its draws, drawn with PLplot (cairo devices).
**
** Every figure is written atomically (densrt_io_out): complete or not at all.  The
** format follows the file name's extension: .png (pngcairo), .pdf (pdfcairo), .svg
** (svgcairo).  Axis labels come from the column names (Greek letters and subscripts,
** densrt_plot_label) and the units the model declares.
**
** The figures (kinds of 'PROG plot KIND'):
**   data     the data: a scatter of the first two columns (equal scales when both have the
**            same unit), or a histogram of a single column
**   model    three panels over the first two columns' window: the data, the log10 of the
**            total intensity (colour bar), and both overlaid
**   knots    for each vector parameter over a knot set, its initial and optimised values
**            at the knots
**   density  a 1-D model's intensity (median and 16-84% band over draws) with the data's
**            histogram, counts per unit length
**   track    a component's intensity-weighted mean and sd across one column as functions
**            of the other (densrt_plot_track), with the 16-84% band over draws
**   trace    parameter values against iteration, one colour per chain
**
** A model's figures need a prepared model (densrt_model_prepare); data are drawn when
** loaded (m->n > 0).  theta points to n_draws parameter vectors, one after another;
** with more than one the figure shows the median and the 16% and 84% quantiles.
** Errors: DENSRT_EINVAL (nothing to draw: wrong kind of model, unknown names),
** DENSRT_EDOM (a range that cannot be drawn, values that are not finite), DENSRT_EIO
** (writing); nothing is written then.
*/
#ifndef DENSRT_PLOT_H
#define DENSRT_PLOT_H

#include <stddef.h>
#include "model.h"

/* The figure: file and size.  PNG: pixels; PDF and SVG: points. height 0: chosen from
** the figure's layout (equal scales where the units are the same). */
typedef struct {
  const char *path;
  int width, height;
} densrt_plot_page;

/* 0 when path ends in .png, .pdf or .svg (any case), DENSRT_EINVAL otherwise. */
int densrt_plot_check_format(const char *path);

/* The axis label of a column in PLplot's text escapes: a Greek name becomes the letter
** (phi -> #gf, Phi -> #gF), a trailing number or "_suffix" a subscript (phi1 -> #gf#d1#u),
** then " [unit]"; '#' is doubled.  Truncated to fit len. */
char *densrt_plot_label(const char *name, const char *unit, char *buf, size_t len);

/* The track of term t along column `along` over column `across` (a model of two columns):
** at each a[i], the intensity-weighted mean and sd over `across` within its window,
**   mean = int y n_t(a, y) dy / int n_t dy,  sd^2 = int (y - mean)^2 n_t dy / int n_t dy,
** and mass[i] = int n_t(a, y) dy (any may be NULL but mean), by Gauss-Legendre on panels
** doubled until mean and sd change by less than 1e-9 of the window's width.  Where the
** term vanishes across the whole window, mean and sd are NaN.  Uses w (its log_terms). */
int densrt_plot_track(const densrt_model *m, densrt_work *w, const double *theta, size_t t, size_t along,
                      size_t across, size_t n, const double *a, double *mean, double *sd, double *mass);

int densrt_plot_data(const densrt_model *m, const densrt_plot_page *pg);
int densrt_plot_model(densrt_model *m, const double *theta, const densrt_plot_page *pg);
/* init: the initial values (NULL: only theta). */
int densrt_plot_knots(const densrt_model *m, const double *init, const double *theta, const densrt_plot_page *pg);
int densrt_plot_density(densrt_model *m, const double *theta, size_t n_draws, int log_scale,
                        const densrt_plot_page *pg);
int densrt_plot_track_figure(densrt_model *m, const double *theta, size_t n_draws, size_t t, size_t along,
                             const densrt_plot_page *pg);
/* Traces of n columns: x[k][c] the n_draws[c] values of column k in chain c; labels[k]. */
int densrt_plot_trace(size_t n, const char *const *labels, size_t n_chains, const size_t *n_draws,
                      double *const *const *x, const densrt_plot_page *pg);

#endif
