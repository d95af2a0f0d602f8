/*
** fitsout.h — FITS files written by the commands: images with a linear world
** coordinate system (predict's maps) and binary tables (per-row results).
**
** A file is built in memory with cfitsio (an empty primary HDU, then one
** extension per call) and written out whole by densrt_fitsout_write, so it goes
** through the caller's atomically replaced output (io.h) like every other result.
**
** Images are BITPIX = -64.  Axis i (1-based, NAXISi; axis 1 varies fastest) gets
** CTYPEi, CRPIXi = 1, CRVALi (the world value of the first pixel), CDELTi (the step),
** and CUNITi when a unit is given; the image gets EXTNAME and BUNIT.  Tables have
** one row per record; a column is 64-bit floats (D), 64-bit integers (K) or text (A).
*/
#ifndef DENSRT_FITSOUT_H
#define DENSRT_FITSOUT_H

#include <stddef.h>
#include <stdio.h>

typedef struct densrt_fitsout densrt_fitsout;

typedef struct {
  const char *ctype;     /* the axis name */
  const char *cunit;     /* NULL: unknown, no CUNIT */
  double crval, cdelt;   /* the world value at pixel 1, the step */
} densrt_fitsout_axis;

typedef struct {
  const char *name;
  const double *d;         /* D column, or NULL */
  const long long *k;      /* K column, or NULL */
  char *const *text;       /* A column (width: the longest value), or NULL */
} densrt_fitsout_column;

/* A new file with an empty primary HDU; `what` names it in messages. */
int densrt_fitsout_open(densrt_fitsout **f, const char *what);

/* A header card in the current HDU (the primary one before any extension): a string
** (value) or, with value NULL, the number x. */
int densrt_fitsout_key(densrt_fitsout *f, const char *key, const char *value, double x, const char *comment);

/* An image extension of naxis axes (len[i] pixels along axis i), data in FITS order
** (axis 1 fastest). */
int densrt_fitsout_image(densrt_fitsout *f, const char *extname, size_t naxis, const size_t *len,
                         const densrt_fitsout_axis *axes, const char *bunit, const double *data);

/* A binary table extension of n_rows rows. */
int densrt_fitsout_table(densrt_fitsout *f, const char *extname, size_t n_rows, size_t n_cols,
                         const densrt_fitsout_column *cols);

/* Writes the whole file to out (checksums not added). */
int densrt_fitsout_write(densrt_fitsout *f, FILE *out);

void densrt_fitsout_free(densrt_fitsout *f);

#endif
