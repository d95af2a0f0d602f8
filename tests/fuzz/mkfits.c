/*
** mkfits.c — writes the small FITS seed files of tests/fuzz/corpus/fits/
** with cfitsio (not part of the build):
**   cc -std=c11 -o mkfits tests/fuzz/mkfits.c -lcfitsio && ./mkfits tests/fuzz/corpus/fits
** Columns are named x, y and z, as fuzz_fits.c requests them.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fitsio.h>

static void check(int status, const char *what)
{
  if (status) {
    fits_report_error(stderr, status);
    fprintf(stderr, "mkfits: %s\n", what);
    exit(1);
  }
}

static fitsfile *create(const char *dir, const char *name)
{
  char path[1024];
  fitsfile *f;
  int status = 0;
  snprintf(path, sizeof path, "!%s/%s", dir, name);   /* '!' overwrites */
  fits_create_file(&f, path, &status);
  check(status, name);
  return f;
}

int main(int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : ".";
  int status = 0;
  double x[] = {-50, 10, 30, -100.5};
  float y[] = {1.5f, -2, 0, 1e30f};
  int z[] = {0, 1, -2, 3};
  long long k[] = {1, 2, 3, 4};

  /* binary table: x double, y float, z int */
  {
    char *ttype[] = {"x", "y", "z"}, *tform[] = {"D", "E", "J"}, *tunit[] = {"", "", ""};
    fitsfile *f = create(dir, "bintable.fits");
    fits_create_tbl(f, BINARY_TBL, 3, 3, ttype, tform, tunit, "DATA", &status);
    fits_write_col(f, TDOUBLE, 1, 1, 1, 3, x, &status);
    fits_write_col(f, TFLOAT, 2, 1, 1, 3, y, &status);
    fits_write_col(f, TINT, 3, 1, 1, 3, z, &status);
    fits_close_file(f, &status);
    check(status, "bintable");
  }
  /* ASCII table */
  {
    char *ttype[] = {"Z", "X", "Y"}, *tform[] = {"I6", "F12.4", "E14.6"}, *tunit[] = {"", "deg", ""};
    fitsfile *f = create(dir, "ascii.fits");
    fits_create_tbl(f, ASCII_TBL, 4, 3, ttype, tform, tunit, "ASC", &status);
    fits_write_col(f, TINT, 1, 1, 1, 4, z, &status);
    fits_write_col(f, TDOUBLE, 2, 1, 1, 4, x, &status);
    fits_write_col(f, TFLOAT, 3, 1, 1, 4, y, &status);
    fits_close_file(f, &status);
    check(status, "ascii");
  }
  /* nulls: integer column with TNULL, NaN in a float column */
  {
    char *ttype[] = {"z", "x", "y"}, *tform[] = {"J", "D", "E"}, *tunit[] = {"", "", ""};
    double xn[] = {1, NAN, 3};
    int zn[] = {0, -99, 2};
    fitsfile *f = create(dir, "nulls.fits");
    fits_create_tbl(f, BINARY_TBL, 3, 3, ttype, tform, tunit, NULL, &status);
    long tnull = -99;
    fits_update_key(f, TLONG, "TNULL1", &tnull, "null value", &status);
    fits_set_btblnull(f, 1, tnull, &status);
    fits_write_col(f, TINT, 1, 1, 1, 3, zn, &status);
    fits_write_col(f, TDOUBLE, 2, 1, 1, 3, xn, &status);
    fits_write_col(f, TFLOAT, 3, 1, 1, 3, y, &status);
    fits_close_file(f, &status);
    check(status, "nulls");
  }
  /* an image, a table without y, then the table with x and y (scaled, 64-bit, byte, vector) */
  {
    long naxes[2] = {2, 2};
    short img[4] = {1, 2, 3, 4};
    fitsfile *f = create(dir, "multi-hdu.fits");
    fits_create_img(f, SHORT_IMG, 2, naxes, &status);
    fits_write_img(f, TSHORT, 1, 4, img, &status);
    char *t1[] = {"x", "w"}, *f1[] = {"D", "2E"}, *u1[] = {"", ""};
    fits_create_tbl(f, BINARY_TBL, 2, 2, t1, f1, u1, "FIRST", &status);
    fits_write_col(f, TDOUBLE, 1, 1, 1, 2, x, &status);
    char *t2[] = {"X", "y", "z", "v"}, *f2[] = {"I", "K", "B", "2D"}, *u2[] = {"", "", "", ""};
    fits_create_tbl(f, BINARY_TBL, 2, 4, t2, f2, u2, "SECOND", &status);
    double scale = 0.5, zero = -10;
    fits_update_key(f, TDOUBLE, "TSCAL1", &scale, NULL, &status);
    fits_update_key(f, TDOUBLE, "TZERO1", &zero, NULL, &status);
    fits_set_tscale(f, 1, scale, zero, &status);
    fits_write_col(f, TDOUBLE, 1, 1, 1, 2, (double[]){-5, 7}, &status);
    fits_write_col(f, TLONGLONG, 2, 1, 1, 2, k, &status);
    fits_write_col(f, TINT, 3, 1, 1, 2, z, &status);
    fits_write_col(f, TDOUBLE, 4, 1, 1, 4, x, &status);
    fits_close_file(f, &status);
    check(status, "multi-hdu");
  }
  /* no rows */
  {
    char *ttype[] = {"x", "y", "z"}, *tform[] = {"D", "D", "D"}, *tunit[] = {"", "", ""};
    fitsfile *f = create(dir, "empty.fits");
    fits_create_tbl(f, BINARY_TBL, 0, 3, ttype, tform, tunit, NULL, &status);
    fits_close_file(f, &status);
    check(status, "empty");
  }
  /* variable-length array column */
  {
    char *ttype[] = {"x", "y", "z"}, *tform[] = {"1PD", "D", "J"}, *tunit[] = {"", "", ""};
    fitsfile *f = create(dir, "varlen.fits");
    fits_create_tbl(f, BINARY_TBL, 2, 3, ttype, tform, tunit, NULL, &status);
    fits_write_col(f, TDOUBLE, 1, 1, 1, 2, x, &status);
    fits_write_col(f, TDOUBLE, 1, 2, 1, 1, x, &status);
    fits_write_col(f, TDOUBLE, 2, 1, 1, 2, x, &status);
    fits_write_col(f, TINT, 3, 1, 1, 2, z, &status);
    fits_close_file(f, &status);
    check(status, "varlen");
  }
  return 0;
}
