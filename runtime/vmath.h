/*
** vmath.h — elementary functions for the generated point loops, inline and branch-free.
**
** Contract: densrt_exp_inline(x) is exp(x) for every double x to within 2 ulp (measured maximum
** relative error 3.3e-16 against long double exp; tests/unit/test_vmath), 0 below
** about -745.13, +inf above about 709.78, NaN for NaN.  It has no branches and no calls,
** so the C compiler vectorises loops that use it (with -fno-trapping-math, which densc
** passes: the clamps are selects).  It does not set errno.
**
** densrt_exp_neg_inline(x), for x <= 0, is the same but 0 for x < ln 2^-1022 = -708.396...
** (the weights of a log-sum-exp, which are added to 1): one scale factor instead of two.
**
** Method: x = k ln2 + r with k = round(x / ln2) (Cody and Waite: ln2 in two parts so that
** k ln2_hi is exact), exp(r) for |r| <= ln2/2 by a polynomial of degree 11 (its
** Chebyshev interpolant, within 1.7e-17), and 2^k as two factors built from their
** exponent bits, so that results near the underflow and overflow limits come out right.
*/
#ifndef DENSRT_VMATH_H
#define DENSRT_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Inlined whatever its size: a call in a loop stops the loop's vectorisation. */
#if defined(__GNUC__)
#define DENSRT_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define DENSRT_ALWAYS_INLINE static inline
#endif

/* e^r for |r| <= ln2/2: the Chebyshev interpolant of degree 11 (scripts/fit-exp.py: within
** 1.7e-17), in Estrin's scheme (fewer dependent steps than Horner's). */
DENSRT_ALWAYS_INLINE double densrt_exp_poly(double r)
{
  const double r2 = r * r, r4 = r2 * r2;
  const double q0 = 1.0 + r, q1 = 0.5000000000000019 + r * 0.1666666666666668;
  const double q2 = 0.0416666666664881 + r * 0.008333333333319601;
  const double q3 = 0.0013888888952314775 + r * 0.00019841269890047113;
  const double q4 = 2.4801485482328494e-05 + r * 2.755724091857897e-06;
  const double q5 = 2.763263963904103e-07 + r * 2.5110037605963777e-08;
  const double e0 = q0 + q1 * r2, e1 = q2 + q3 * r2, e2 = q4 + q5 * r2;
  return e0 + (e1 + e2 * r4) * r4;
}

DENSRT_ALWAYS_INLINE double densrt_exp_inline(double x)
{
  x = x < -746.0 ? -746.0 : x;   /* beyond these exp is 0 or +inf anyway; NaN passes */
  x = x > 710.0 ? 710.0 : x;
  const double round = 0x1.8p52;   /* adding it rounds to an integer ... */
  const double kr = x * 0x1.71547652b82fep0 + round, kd = kr - round;
  int64_t k;   /* ... whose two's complement sits in the low bits of kr */
  memcpy(&k, &kr, sizeof k);
  k = (int64_t)((uint64_t)k << 12) >> 12;
  const double r = (x - kd * 0x1.62e42fefa3800p-1) - kd * 0x1.ef35793c76730p-45;
  const double p = densrt_exp_poly(r);
  /* 2^k = 2^k1 2^k2 with |k1|, |k2| <= 539: each factor a normal double, so that results
     near the underflow and overflow limits come out right */
  const int64_t k1 = k >> 1, k2 = k - k1;   /* >> of a negative: arithmetic in gcc and clang */
  const uint64_t b1 = (uint64_t)(k1 + 1023) << 52, b2 = (uint64_t)(k2 + 1023) << 52;
  double s1, s2;
  memcpy(&s1, &b1, sizeof s1);
  memcpy(&s2, &b2, sizeof s2);
  return p * s1 * s2;
}

/* e^x for x <= 0 or NaN (a log-sum-exp's e^-|a - b|, added to 1), where results below
** 2^-1022 are 0 instead of subnormal: one scale factor, not two.  Otherwise as
** densrt_exp_inline, and equal to it wherever it is at least 2^-1022. */
DENSRT_ALWAYS_INLINE double densrt_exp_neg_inline(double x)
{
  const int tiny = x < -708.39641853226410;   /* ln 2^-1022: 2^k is normal from here up */
  x = tiny ? -708.0 : x;
  const double round = 0x1.8p52;
  const double kr = x * 0x1.71547652b82fep0 + round, kd = kr - round;
  uint64_t k;
  memcpy(&k, &kr, sizeof k);
  const double r = (x - kd * 0x1.62e42fefa3800p-1) - kd * 0x1.ef35793c76730p-45;
  const uint64_t b = (k + 1023) << 52;   /* the exponent field: k + 1023 (mod 2^11) */
  double s;
  memcpy(&s, &b, sizeof s);
  return tiny ? 0.0 : densrt_exp_poly(r) * s;
}

/* The Mills ratio R(x) = Q(x) / phi(x) for x >= 10 (Q = 1 - Phi): x R(x) as a polynomial in
** t = 1/x^2 <= 1/100, a Chebyshev fit (scripts/fit-mills.py) within 4e-19 of it. */
DENSRT_ALWAYS_INLINE double densrt_mills_poly(double t)
{
  double g = -4097419398.7502933;
  g = g * t + 461284292.41008455;
  g = g * t - 31913489.848172955;
  g = g * t + 2004530.219099444;
  g = g * t - 134999.89462951096;
  g = g * t + 10394.449751999706;
  g = g * t - 944.9985096054892;
  g = g * t + 104.99999742313415;
  g = g * t - 14.999999997358032;
  g = g * t + 2.999999999998595;
  g = g * t - 0.9999999999999997;
  g = g * t + 1.0;
  return g;
}

/* R(x) for x >= 10; +inf gives 0. */
DENSRT_ALWAYS_INLINE double densrt_mills_tail(double x)
{
  return densrt_mills_poly(1.0 / (x * x)) / x;
}

/* R(x) for x >= 5 from ix = 1/x: x R(x) as a polynomial in v = 50/x^2 - 1 in [-1, 1] (scripts/
** fit-mills.py wide: within 2.4e-17), times ix; no division.  +inf (ix = 0) gives 0. */
DENSRT_ALWAYS_INLINE double densrt_mills_wide_inv(double ix)
{
  const double v = 50 * (ix * ix) - 1, v2 = v * v, v4 = v2 * v2, v8 = v4 * v4;
  /* Estrin's scheme: 6 dependent steps instead of Horner's 19 */
  const double p0 = 0.9810943073153879 - v * 0.01790483654239182;
  const double p1 = 0.0009179256290405219 - v * 7.385041436921684e-05;
  const double p2 = 7.86849500723414e-06 - v * 1.0236264901500402e-06;
  const double p3 = 1.5508547825677044e-07 - v * 2.6537104204209034e-08;
  const double p4 = 5.019998960190605e-09 - v * 1.0335268619160662e-09;
  const double p5 = 2.2885022627798e-10 - v * 5.3991969533410984e-11;
  const double p6 = 1.3456919453324769e-11 - v * 3.5281542753803255e-12;
  const double p7 = 9.882492104282734e-13 - v * 2.835943554663329e-13;
  const double p8 = 6.675255022715976e-14 - v * 1.978169895528748e-14;
  const double p9 = 1.4377267160713418e-14 - v * 4.836761064285309e-15;
  const double q0 = p0 + v2 * p1, q1 = p2 + v2 * p3, q2 = p4 + v2 * p5, q3 = p6 + v2 * p7, q4 = p8 + v2 * p9;
  const double o0 = q0 + v4 * q1, o1 = q2 + v4 * q3;
  const double g = (o0 + v8 * o1) + (v8 * v8) * q4;
  return g * ix;
}

/* The inline exp where vectors are 4 doubles or wider; with two lanes or none the C
** library's is faster (measured: 3.8 against 2.8 ns an element with SSE2 alone). */
DENSRT_ALWAYS_INLINE double densrt_exp(double x)
{
#if defined(__AVX2__) || defined(__AVX512F__)
  return densrt_exp_inline(x);
#else
  return exp(x);
#endif
}

/* The same choice for x <= 0, the weights of a log-sum-exp. */
DENSRT_ALWAYS_INLINE double densrt_exp_neg(double x)
{
#if defined(__AVX2__) || defined(__AVX512F__)
  return densrt_exp_neg_inline(x);
#else
  return exp(x);
#endif
}

#endif
