/*
** emit.h — the C printer: one readable C file per model.
**
** The file defines the model's description tables (columns, knot sets,
** parameters, terms) and prints the kernels of kernel.h: each point loop as
** a function over a range of points, the prelude, priors and chain rule in
** log_density, values only in log_terms and locate_data.  Every statement
** is one IR node; #line points each back at the .dens line it came from.
*/
#ifndef DC_EMIT_H
#define DC_EMIT_H

#include "diag.h"
#include "ir.h"
#include "kernel.h"
#include <stdio.h>

typedef struct {
  const char *model_name;    /* identifier-free display name (file stem) */
  const char *source_path;   /* for #line and comments */
  const char *c_name;        /* name of the C file, for #line back-references */
  int line_directives;       /* emit #line */
  const char *version;       /* written into the header ("VERSION" in snapshots) */
} dc_emit_options;

/* Writes the C translation unit. Returns 0 on success. */
int dc_emit(dc_ir *ir, const dc_kernels *ks, const dc_source *src, const dc_emit_options *opt, FILE *out);

#endif
