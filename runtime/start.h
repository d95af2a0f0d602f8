/*
** start.h — the default start of a fit: where optimize (and sample --init-from-map)
** begin when the user gives no --init.
**
** The log posterior of a mixture of components is multimodal: from the structural
** start alone (0; the middle of two bounds; one unit inside one bound) L-BFGS-B can end
** in a worse local optimum (GD-1: a broad "stream" soaking up background).  The default
** start is therefore the best of `starts` fits, on the unconstrained scale of each value
** (x free, log(x - lo) above a lower bound, log(hi - x) below an upper bound,
** logit((x - lo) / (hi - lo)) between two bounds, as Stan's; the structural values are
** at 0 there):
**
**   candidate 0        the structural start (densrt_start_structural);
**   shifts             one declared parameter's values (a whole vector: a spline's
**                      knot values) moved together by -shift from the best point so
**                      far, each parameter in turn, then by +shift: 2 P candidates for
**                      P parameters (a level or width that is wrong everywhere is one
**                      move away, where per-value noise rarely finds it);
**   moves              the structural start moved by uniform(-spread, spread) per
**                      value (Stan's default initialisation around it);
**   hops               the best point so far moved by uniform(-hop, hop) per value
**                      (basin hopping);
**
** in this order, up to `starts` candidates (0: densrt_start_count), the ones left after
** the shifts half moves, half hops.  The random ones come from their own seed (seed, c),
** so the start is reproducible.  Each candidate is fitted by densrt_fit_map with the
** caller's fit options (quiet; ftol and gtol at least DENSRT_START_FTOL and _GTOL); the
** point with the lowest finite objective wins (the earliest on ties).  With starts = 1
** no fit is done and the start is the structural one (the behaviour before multi-start).
**
** Large data (more than 2 screen_rows rows; screen_rows = 0: never): the candidates are
** fitted on a copy of the model holding screen_rows evenly spread rows (row i n /
** screen_rows), and on the full data only the structural start and that race's winner
** are fitted, the better of the two winning.  The result is never worse than a fit
** from the structural start, and costs about two full fits.
**
** Contract: theta receives the winning point, within the bounds; it is a fitted
** optimum when starts > 1 and some fit gave a finite objective, else the structural
** start (the caller's fit then reports why the objective is not finite).  The model's
** 'auto' rules may have been refined by the fits (they only get finer).  An interrupt
** (fit options) stops the search; the best point so far is returned.  Returns DENSRT_OK,
** or an error status with the message recorded (error.h; out of memory, or the thinned
** copy failing to prepare), theta then holding the structural start.
*/
#ifndef DENSRT_START_H
#define DENSRT_START_H

#include <stddef.h>
#include "fit.h"
#include "model.h"

/* the default number of starts is 2 P + 4 for P declared parameters, at most this */
#define DENSRT_START_MAX_AUTO 24
/* half-width of the moves (Stan's uniform(-2, 2)), of the hops, and the shift of a parameter */
#define DENSRT_START_SPREAD 2.0
#define DENSRT_START_HOP 1.0
#define DENSRT_START_SHIFT 1.5
/* the candidates' fits stop at these tolerances at the finest (fit.h) */
#define DENSRT_START_FTOL 1e-9
#define DENSRT_START_GTOL 1e-6
/* rows of the thinned copy the candidates race on when the data have over twice as many */
#define DENSRT_START_SCREEN_ROWS 10000

typedef struct {
  size_t starts;            /* candidates; 0: densrt_start_count */
  double spread;            /* half-width of the moves from the structural start (unconstrained scale) */
  double hop;               /* half-width of the hops from the best point so far */
  double shift;             /* of one parameter's values together */
  unsigned long seed;       /* of the perturbations */
  size_t screen_rows;       /* see "Large data" above; 0: never thin */
  densrt_fit_options fit;   /* for each candidate's fit (made quiet) */
} densrt_start_options;

typedef struct {
  size_t tried;             /* fits done (0 when starts = 1) */
  size_t best;              /* index of the winner (0: the structural start) */
  double f;                 /* its objective (NAN when nothing was fitted) */
  double f_structural;      /* the objective reached from the structural start (NAN: not fitted) */
  size_t evaluations;       /* of all the fits */
  size_t screened;          /* rows of the thinned copy the candidates raced on (0: none) */
} densrt_start_report;

void densrt_start_options_default(densrt_start_options *o);
/* 0 moved inside the bounds: the middle of two finite bounds, one unit inside one. */
void densrt_start_structural(const densrt_model *m, double *theta);
/* The default number of candidates: 2 P + 4 for P declared parameters, at most
** DENSRT_START_MAX_AUTO. */
size_t densrt_start_count(const densrt_model *m);
/* The default start (see the contract above); r may be NULL. */
int densrt_start_find(densrt_model *m, const densrt_start_options *o, double *theta, densrt_start_report *r);

#endif
