/*
** kernel.h — kernel formation: the IR of a model as the list of loops the
** generated C runs, each with its inputs, its outputs, the derivatives of
** its outputs with respect to its inputs (IR nodes, from deriv.c) and the
** order of its statements.  The C printer (emit.c) only prints this.
**
**   prelude   parameter-only values, hoisted out of the point loops, and
**             their derivatives with respect to the parameters (forward)
**   data      log n at each data row: ll += log n(x_i); its derivatives with
**             respect to the hoisted values and the spline values at the row
**   quad      the log integrand of one term and plan at each quadrature node
**   prior     the log density of one prior statement (a loop over elements)
**   terms     log n_t(x) of every term at given points, values only
**   locate    the spline abscissas of the data rows, values only
**
**   data group  some terms of a large sum at a block of data rows: their
**             values, then (second pass) their weighted derivatives
**
** A point kernel has one scalar output per point and up to thousands of
** inputs: its derivatives are made in forward mode unless reverse mode gives
** clearly fewer statements; both counts are shown by --debug-grad.
*/
#ifndef DC_KERNEL_H
#define DC_KERNEL_H

#include "ir.h"
#include "util.h"
#include <stdio.h>

typedef enum { DC_K_PRELUDE, DC_K_DATA, DC_K_QUAD, DC_K_PRIOR, DC_K_TERMS, DC_K_LOCATE, DC_K_DATA_GROUP } dc_kernel_kind;

/* Big models are cut into kernels of bounded size, so that the C compiler's time grows
** linearly with the model: prelude groups of at most this many hoisted values, and ... */
#define DC_PRELUDE_GROUP 128
/* ... a sum of more than this many terms split into data groups of as many terms (each
** row's terms first, then the log-sum-exp, then each group's derivatives, weighted), and
** log_terms into groups of as many terms. */
#define DC_TERM_GROUP 32
/* rows per block of a split data kernel */
#define DC_DATA_BLOCK 8
typedef enum { DC_AD_NONE, DC_AD_FORWARD, DC_AD_REVERSE } dc_ad_mode;

typedef struct {
  dc_kernel_kind kind;
  char name[64];            /* the C function (or block) */
  int term, plan;           /* quad: term and plan (0 exact, 1 numeric) */
  int group;                /* prelude, data group, terms: the group's number */
  size_t first;             /* prelude: its first hoisted value; data group, terms: its first term */
  int prior;                /* prior: the prior statement */
  dc_loc loc;
  ir_node **out;            /* values computed: point kernels and prior 1, prelude: the hoisted values */
  size_t n_out;
  ir_node **in;             /* inputs: hoisted values (point kernels), parameters (prelude, prior) and */
  size_t n_in;              /*   spline values at the point */
  char *diff;               /* per input: differentiated with respect to it */
  ir_node **d;              /* d out[r] / d in[k] at [r * n_in + k], NULL: zero; NULL if values only */
  dc_ad_mode mode;
  int tried_forward;        /* point kernels: forward mode was within bounds (else reverse) */
  size_t cost_forward, cost_reverse;   /* derivative statements in each mode */
  ir_node **stmt;           /* the statements: values, then derivatives (spline inputs included) */
  size_t n_stmt;
  ir_node **vstmt;          /* data group: the statements of the values alone */
  size_t n_vstmt;
  int affine;               /* data: log n is c0 + sum_k d[k] in[k] with constant d: the sum over the
                               rows is taken from moments of the rows per spline segment */
  double affine_c0;
  uint32_t dims;            /* the data columns read */
} dc_kernel;

typedef struct {
  dc_kernel *k;
  size_t n;
  ir_node **hv;             /* the hoisted values, in the order of hv[] */
  size_t n_hv;
  int *hv_index;            /* node id -> position in hv (-1: none), over the ids at formation */
  size_t n_ids;
  ir_node **slot;           /* spline locations of the data rows: one per (knot set, abscissa) */
  size_t n_slot;
  ir_node **exact, **numeric;   /* expanded log integrand per term */
  size_t n_sum;             /* the data kernel is split: the number of terms of its sum (0: not split) */
} dc_kernels;

/* Forms the kernels of a planned IR; adds nodes (expansions, derivatives) to it. */
void dc_kernels_form(dc_ir *ir, dc_kernels *ks);
void dc_kernels_free(dc_kernels *ks);

/* The slot of a data kernel's spline input. */
int dc_kernels_slot(const dc_kernels *ks, const dc_ir *ir, const ir_node *spline);

int dc_hv_index(const dc_kernels *ks, const ir_node *n);

/* --debug-kernels (grad 0): inputs, statements, outputs; --debug-grad (grad 1): and the derivatives. */
void dc_kernels_dump(const dc_ir *ir, const dc_kernels *ks, int grad, FILE *out);

#endif
