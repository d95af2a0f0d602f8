/*
** densrt.h — the densc runtime library: everything generated programs use.
**
** Modules (one header each, prefix densrt_<module>_):
**   layout  limits and table layouts shared with densc (no prefix of its own: DENSRT_)
**   error   status codes and the error handler
**   json    JSON reading/writing (parameter files, results)
**   io      data tables from CSV and FITS; atomic output files
**   spline  cubic splines as linear maps of their knot values
**   quad    quadrature rules in log space; normal CDF differences
**   lbfgsb  bound-constrained minimisation (reference L-BFGS-B)
**   spec    knot-set and integration-method specifications
**   model   the model instance generated code evaluates
**   fit     the MAP fit and its convergence verdict
**   pool    a team of threads for one evaluation's data rows
**   nuts    the No-U-Turn sampler and its warmup
**   sample  NUTS chains of a model in threads, bounds as transforms
**   stancsv draws in Stan's CSV format, written and read
**   mcstat  R-hat, ESS, MCSE and quantiles of draws
**   dual    inline kernels for generated code
**   plot    figures (PLplot: PNG, PDF, SVG) of data, model and draws
**   fitsout FITS images with a world coordinate system, and binary tables
**   cli     the generated program's command line
*/
#ifndef DENSRT_H
#define DENSRT_H

#include "error.h"
#include "json.h"
#include "io.h"
#include "spline.h"
#include "quad.h"
#include "special.h"
#include "lbfgsb.h"
#include "spec.h"
#include "model.h"
#include "fit.h"
#include "start.h"
#include "nuts.h"
#include "sample.h"
#include "stancsv.h"
#include "mcstat.h"
#include "plot.h"
#include "fitsout.h"
#include "dual.h"
#include "vmath.h"

/* The generated program's main(): its commands (see cli.c). */
int densrt_cli_main(const densrt_model_def *def, int argc, char **argv);

#endif
