/*
** plan.h — how each term is integrated over the window.
**
** A term's *exact* plan integrates analytically every column where the term
** is a normal(x | mu, sigma) factor times parts free of x (a log difference
** of normal CDFs) and every column it does not depend on (the window's
** width); the rest is left to quadrature.  Its *numeric* plan integrates by
** quadrature over every column it depends on.  The run time chooses between
** them from the integration methods (--integrate).  Quadrature along a column
** breaks at the knots of the splines along it.
*/
#ifndef DC_PLAN_H
#define DC_PLAN_H

#include "diag.h"
#include "ir.h"
#include <stdio.h>

/* Fills each term's plans and breakpoints; reports integrals that diverge or
** that cannot be done as the declared methods ask.  Returns the errors added. */
int dc_plan(dc_ir *ir, dc_diag *diag);

void dc_plan_dump(const dc_ir *ir, FILE *out);   /* --debug-plan */

#endif
