/*
** deriv.h — differentiation as an IR-to-IR transform.
**
** A derivative is an ordinary IR node, built with the same constructors as
** the expression, so hash-consing shares it and constant folding simplifies
** it (d(a + b)/da = 1 vanishes into the product).  One table, dc_partial,
** gives the local partial derivative of every operation; both modes chain it:
**
**   forward  tangents t(n, k) = sum_i partial(n, i) t(a_i, k), from the leaves
**            up: the dual numbers of the design, cheap for few leaves;
**   reverse  adjoints a(c) = sum over parents n of a(n) partial(n, i), from
**            one root down: cheap for one scalar output and many leaves.
**
** The leaves are the nodes differentiated with respect to (a kernel's
** inputs); the walk does not enter them.  A NULL derivative is zero.
*/
#ifndef DC_DERIV_H
#define DC_DERIV_H

#include "ir.h"

/* d n / d n->a[i]; NULL where it is zero or not taken (MAX, SHIFT: a shift that cancels). */
ir_node *dc_partial(dc_ir *ir, ir_node *n, int i);

/* Forward mode: out[r * n_leaves + k] = d roots[r] / d leaves[k].  Returns the number of
** tangents made, or DC_FORWARD_TOO_BIG with out untouched when they would exceed `limit`
** (0: no limit). */
#define DC_FORWARD_TOO_BIG ((size_t)-1)
size_t dc_forward(dc_ir *ir, ir_node *const *roots, size_t n_roots, ir_node *const *leaves, size_t n_leaves,
                  ir_node **out, size_t limit);

/* Reverse mode: out[k] = d root / d leaves[k]. */
void dc_reverse(dc_ir *ir, ir_node *root, ir_node *const *leaves, size_t n_leaves, ir_node **out);

#endif
