/*
** special.h — the special functions generated code calls: the log gamma function and
** its derivative, the digamma function (priors whose shape is a parameter: student_t's
** nu, gamma's alpha).
**
** Contract: defined for x > 0 (where the priors need them); elsewhere, or where GSL
** reports an error, the value is NaN, never an abort, so that a non-finite prior is
** reported by the runtime with the prior's file:line:col.  Thread-safe (no signgam).
*/
#ifndef DENSRT_SPECIAL_H
#define DENSRT_SPECIAL_H

/* log Gamma(x), x > 0 */
double densrt_special_lgamma(double x);
/* psi(x) = d log Gamma(x) / dx, x > 0 */
double densrt_special_digamma(double x);

#endif
