/*
** sema.h — name resolution, checking, and lowering of the AST to the IR.
**
** Every error is reported with its location and checking continues, so one
** run reports as many independent errors as it can.  The model's intensity
** is lowered to LOG space: products become sums, exp() disappears, sums of
** components become log-sum-exp, normal(x | mu, sigma) becomes its log
** density — so large intensities never overflow.
*/
#ifndef DC_SEMA_H
#define DC_SEMA_H

#include "ast.h"
#include "diag.h"
#include "ir.h"

/* Returns the number of errors; on 0, ir holds the checked model. */
int dc_sema(const ast_program *prog, dc_diag *diag, dc_ir *ir);

#endif
