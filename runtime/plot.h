/*
** plot.h — PNG figures of a fitted model over its data.
**
** One data column: a histogram of the data (counts per unit length) with the
** model intensity of each term and their sum.  Two or more columns: the log10
** of the total intensity over the first two columns' window (other columns
** integrated out is not supported: an error), with the data as dots.
** Axes carry numbered ticks; there are no axis titles or legends yet.
*/
#ifndef DENSRT_PLOT_H
#define DENSRT_PLOT_H

#include "model.h"

/* Writes a width x height PNG to path (atomically). The model's data must be loaded. */
int densrt_plot_png(densrt_model *m, const double *theta, const char *path, int width, int height);

#endif
