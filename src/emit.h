/*
** emit.h — the C back end: one readable C file per model.
**
** The file defines the model's description tables (columns, knot sets,
** parameters, terms) and its log posterior with the exact gradient, in
** forward-mode dual numbers whose directions are resolved at compile time:
** each per-point loop differentiates only with respect to that loop's
** inputs (hoisted parameter-only values and spline values), and the
** results are chained to the parameters once, after the loop.
*/
#ifndef DC_EMIT_H
#define DC_EMIT_H

#include "diag.h"
#include "ir.h"
#include <stdio.h>

typedef struct {
  const char *model_name;    /* identifier-free display name (file stem) */
  const char *source_path;   /* for #line and comments */
  const char *c_name;        /* name of the C file, for #line back-references */
  int line_directives;       /* emit #line */
  const char *version;       /* written into the header ("VERSION" in snapshots) */
} dc_emit_options;

/* Writes the C translation unit. Returns 0 on success. */
int dc_emit(dc_ir *ir, const dc_source *src, const dc_emit_options *opt, FILE *out);

#endif
