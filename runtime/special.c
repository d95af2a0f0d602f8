/*
** special.c — log gamma and digamma through GSL's _e forms.  The domain is checked
** here, before GSL could call its error handler (the programs turn it off in
** densrt_cli_main; a library user may not have).
*/
#include "special.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include <math.h>

double densrt_special_lgamma(double x)
{
  gsl_sf_result r;
  if (x > 1e305)
    return INFINITY;   /* the value overflows */
  if (!(x > 0) || gsl_sf_lngamma_e(x, &r) != GSL_SUCCESS)
    return NAN;
  return r.val;
}

double densrt_special_digamma(double x)
{
  gsl_sf_result r;
  if (x == INFINITY)
    return INFINITY;
  if (!(x > 0) || gsl_sf_psi_e(x, &r) != GSL_SUCCESS)
    return NAN;
  return r.val;
}
