/*
** fitsout.c — FITS images and binary tables built in memory (see fitsout.h).
*/
#include "fitsout.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

#include <fitsio.h>

struct densrt_fitsout {
  fitsfile *ff;
  void *buf;        /* the memory file (cfitsio grows it with realloc) */
  size_t size;
  char *what;
};

static int fail(densrt_fitsout *f, int status)
{
  char text[FLEN_STATUS];
  fits_get_errstatus(status, text);
  fits_clear_errmsg();
  DENSRT_ERROR(DENSRT_EIO, "%s: FITS error: %s", f->what, text);
}

int densrt_fitsout_open(densrt_fitsout **out, const char *what)
{
  densrt_fitsout *f = calloc(1, sizeof *f);
  *out = NULL;
  if (!f || !(f->what = strdup(what))) {
    free(f);
    DENSRT_ERROR(DENSRT_ENOMEM, "%s: out of memory", what);
  }
  int status = 0;
  f->size = 2880 * 16;
  f->buf = malloc(f->size);
  if (!f->buf) {
    densrt_fitsout_free(f);
    DENSRT_ERROR(DENSRT_ENOMEM, "%s: out of memory", what);
  }
  fits_create_memfile(&f->ff, &f->buf, &f->size, 2880 * 64, realloc, &status);
  if (!status)
    fits_create_img(f->ff, BYTE_IMG, 0, NULL, &status);
  if (status) {
    int st = fail(f, status);
    densrt_fitsout_free(f);
    return st;
  }
  *out = f;
  return DENSRT_OK;
}

int densrt_fitsout_key(densrt_fitsout *f, const char *key, const char *value, double x, const char *comment)
{
  int status = 0;
  if (value)
    fits_update_key_longstr(f->ff, key, value, comment, &status);
  else
    fits_update_key_dbl(f->ff, key, x, -17, comment, &status);   /* -17: %.17G, reads back exactly */
  return status ? fail(f, status) : DENSRT_OK;
}

int densrt_fitsout_image(densrt_fitsout *f, const char *extname, size_t naxis, const size_t *len,
                         const densrt_fitsout_axis *axes, const char *bunit, const double *data)
{
  int status = 0;
  long naxes[999];
  LONGLONG n = 1;
  if (naxis < 1 || naxis > 999)
    DENSRT_ERROR(DENSRT_EINVAL, "%s: an image needs 1 to 999 axes, not %zu", f->what, naxis);
  for (size_t i = 0; i < naxis; i++) {
    naxes[i] = (long)len[i];
    n *= (LONGLONG)len[i];
  }
  fits_create_img(f->ff, DOUBLE_IMG, (int)naxis, naxes, &status);
  fits_update_key_str(f->ff, "EXTNAME", extname, "what the image holds", &status);
  fits_update_key_str(f->ff, "BUNIT", bunit ? bunit : "", "unit of the values", &status);
  for (size_t i = 0; i < naxis && !status; i++) {
    char key[FLEN_KEYWORD];
    int k = (int)i + 1;
    fits_make_keyn("CTYPE", k, key, &status);
    fits_update_key_str(f->ff, key, axes[i].ctype, "the data column along this axis", &status);
    fits_make_keyn("CRPIX", k, key, &status);
    fits_update_key_dbl(f->ff, key, 1.0, -17, "reference pixel: the first", &status);
    fits_make_keyn("CRVAL", k, key, &status);
    fits_update_key_dbl(f->ff, key, axes[i].crval, -17, "value at the reference pixel", &status);
    fits_make_keyn("CDELT", k, key, &status);
    fits_update_key_dbl(f->ff, key, axes[i].cdelt, -17, "step between pixels", &status);
    if (axes[i].cunit) {
      fits_make_keyn("CUNIT", k, key, &status);
      fits_update_key_str(f->ff, key, axes[i].cunit, "unit of the axis", &status);
    }
  }
  if (!status)
    fits_write_img(f->ff, TDOUBLE, 1, n, (void *)data, &status);
  return status ? fail(f, status) : DENSRT_OK;
}

int densrt_fitsout_table(densrt_fitsout *f, const char *extname, size_t n_rows, size_t n_cols,
                         const densrt_fitsout_column *cols)
{
  int status = 0, st = DENSRT_OK;
  char **ttype = calloc(n_cols + 1, sizeof *ttype), **tform = calloc(n_cols + 1, sizeof *tform);
  char (*forms)[32] = calloc(n_cols + 1, sizeof *forms);
  if (!ttype || !tform || !forms) {
    st = DENSRT_FAIL(DENSRT_ENOMEM, "%s: out of memory", f->what);
    goto done;
  }
  for (size_t c = 0; c < n_cols; c++) {
    ttype[c] = (char *)cols[c].name;
    tform[c] = forms[c];
    if (cols[c].text) {
      size_t w = 1;
      for (size_t r = 0; r < n_rows; r++) {
        size_t l = strlen(cols[c].text[r]);
        w = l > w ? l : w;
      }
      snprintf(forms[c], sizeof forms[c], "%zuA", w);
    } else {
      snprintf(forms[c], sizeof forms[c], "%s", cols[c].k ? "1K" : "1D");
    }
  }
  fits_create_tbl(f->ff, BINARY_TBL, (LONGLONG)n_rows, (int)n_cols, ttype, tform, NULL, extname, &status);
  for (size_t c = 0; c < n_cols && !status && n_rows; c++) {
    int k = (int)c + 1;
    if (cols[c].text)
      fits_write_col(f->ff, TSTRING, k, 1, 1, (LONGLONG)n_rows, (void *)cols[c].text, &status);
    else if (cols[c].k)
      fits_write_col(f->ff, TLONGLONG, k, 1, 1, (LONGLONG)n_rows, (void *)cols[c].k, &status);
    else
      fits_write_col(f->ff, TDOUBLE, k, 1, 1, (LONGLONG)n_rows, (void *)cols[c].d, &status);
  }
  if (status)
    st = fail(f, status);
done:
  free(ttype);
  free(tform);
  free(forms);
  return st;
}

int densrt_fitsout_write(densrt_fitsout *f, FILE *out)
{
  int status = 0;
  LONGLONG head = 0, start = 0, end = 0;
  fits_flush_file(f->ff, &status);
  fits_get_hduaddrll(f->ff, &head, &start, &end, &status);   /* the last HDU: end is the file's size */
  if (status)
    return fail(f, status);
  if ((size_t)end > f->size)
    DENSRT_ERROR(DENSRT_EIO, "%s: FITS file of %lld bytes in a buffer of %zu", f->what, (long long)end, f->size);
  if (fwrite(f->buf, 1, (size_t)end, out) != (size_t)end)
    DENSRT_ERROR(DENSRT_EIO, "%s: write error", f->what);
  return DENSRT_OK;
}

void densrt_fitsout_free(densrt_fitsout *f)
{
  if (!f)
    return;
  if (f->ff) {
    int status = 0;
    fits_close_file(f->ff, &status);
    fits_clear_errmsg();
  }
  free(f->buf);
  free(f->what);
  free(f);
}
