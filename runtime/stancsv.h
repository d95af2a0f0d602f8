/*
** stancsv.h — draws in Stan's CSV format, as CmdStan writes them, so that
** rstan::read_stan_csv, ArviZ and CmdStan's stansummary read them:
**
**   # comment lines: the configuration (written by the caller, each line "# ...")
**   lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,a,b.1,b.2,...
**   # Adaptation terminated
**   # Step size = 0.81
**   # Diagonal elements of inverse mass matrix:
**   # 1.2, 0.3, ...
**   -7.1,0.93,0.81,2,3,0,8.2,0.12,...        one row per draw, flushed as it is written
**   #
**   #  Elapsed Time: 0.5 seconds (Warm-up)
**   #                0.6 seconds (Sampling)
**   #                1.1 seconds (Total)
**   #
**
** The file is written to a temporary beside it and renamed when closed, so a reader
** never sees a file without its footer.  Numbers are written in the shortest form
** that reads back as the same double.
*/
#ifndef DENSRT_STANCSV_H
#define DENSRT_STANCSV_H

#include <stddef.h>
#include <stdio.h>
#include "nuts.h"

typedef struct {
  FILE *f;
  char *path, *tmp;
  size_t n;               /* parameter values per row */
} densrt_stancsv;

/* Creates PATH's temporary and writes the comment header (lines of `header`, each given
** a "# " prefix) and the column names (names[i]: "a", "b.1", ...). */
int densrt_stancsv_open(densrt_stancsv *w, const char *path, const char *header, const char *const *names,
                        size_t n);
int densrt_stancsv_adaptation(densrt_stancsv *w, double stepsize, const double *inv_metric, int dense);
int densrt_stancsv_row(densrt_stancsv *w, const densrt_nuts_draw *d, const double *theta);
/* A comment line ("# " + text) among the rows. */
int densrt_stancsv_comment(densrt_stancsv *w, const char *text);
/* Writes the timing footer, closes and renames the file into place. */
int densrt_stancsv_close(densrt_stancsv *w, double warmup_seconds, double sampling_seconds);
/* Closes and removes the temporary; safe twice. */
void densrt_stancsv_abort(densrt_stancsv *w);

/* Draws read back: the columns of every file (same names in each), the sampler's
** columns included, warmup rows excluded (CmdStan writes them only with save_warmup). */
typedef struct {
  size_t n_cols;
  char **names;           /* column names */
  size_t n_chains;
  size_t *n_draws;        /* per chain */
  double **draws;         /* per chain: n_draws[c] x n_cols, row-major */
  long max_depth;         /* the "max_depth = N" of the first file's configuration, 0 if none */
} densrt_stancsv_set;

int densrt_stancsv_read(const char *const *paths, size_t n, densrt_stancsv_set *out);
void densrt_stancsv_set_free(densrt_stancsv_set *s);

#endif
