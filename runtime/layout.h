/*
** layout.h — limits and table layouts shared by densc and the runtime, defined once:
** the compiler checks a model against them and lays out the tables it emits by them;
** the runtime reads those tables by them.
*/
#ifndef DENSRT_LAYOUT_H
#define DENSRT_LAYOUT_H

/* data columns: a set of columns is a 32-bit mask in the IR and in densrt_term_def */
#define DENSRT_MAX_DIMS 32

/* Rows (data kernels) or nodes (quadrature kernels) a generated loop takes at a time, each
** lane with sums of its own, so that the loop vectorises; data columns and rules are
** padded by as many. */
#define DENSRT_LANES 8
/* knots of one knot set: the map from knot values to spline coefficients is dense */
#define DENSRT_MAX_KNOTS 10000
/* words of a set of knot sets (bit k: knot set k), as in densrt_term_def.brk_knots */
#define DENSRT_BRK_WORDS(n_knots) ((n_knots) / 32 + 1)
/* bytes of a data column's unit ("deg"), printed in axis labels and 'info' */
#define DENSRT_MAX_UNIT 32
/* Bytes an 'auto' rule may take when refinement makes it finer (its nodes' coordinates, weights
** and spline locations: 32 to 100 bytes a node): a term that does not converge stops there
** with an error instead of taking all memory. */
#define DENSRT_MAX_AUTO_BYTES ((size_t)1 << 30)
/* how a parameter's length is given: a scalar, a fixed length, the size of a knot set */
#define DENSRT_SIZE_KINDS(X) X(SCALAR) X(FIXED) X(KNOTS)

#endif
