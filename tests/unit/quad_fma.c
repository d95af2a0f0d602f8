/*
** densrt_log_ndiff_lanes as generated programs compile it on a machine with AVX2 and FMA
** (its branch-free path and the inline exp), for test_quad, which calls it only where the
** processor has them (the rest of the test program is compiled for any x86-64).
*/
#pragma GCC target("avx2,fma")
long quad_fma_fallbacks;   /* lanes that took the scalar function */
#define DENSRT_NDIFF_FALLBACK_HOOK (quad_fma_fallbacks++)
#include "dual.h"

void quad_fma_lanes(double lo, double hi, const double *mu, const double *sd, double *v, double *d_mu, double *d_sd);

void quad_fma_lanes(double lo, double hi, const double *mu, const double *sd, double *v, double *d_mu, double *d_sd)
{
#if !defined(__FMA__) || !defined(__AVX2__)
#error "#pragma GCC target did not take: this test needs GCC"
#endif
  densrt_log_ndiff_lanes(lo, hi, mu, sd, v, d_mu, d_sd);
}
