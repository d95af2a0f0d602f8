/*
** parse.h — the front end's entry point: .dens source text to AST.
*/
#ifndef DC_PARSE_H
#define DC_PARSE_H

#include "ast.h"
#include "diag.h"

/* State shared by the scanner and the parser. */
typedef struct dc_parse_state {
  dc_diag *diag;
  ast_program *prog;
  int line, col;           /* scanner position */
  dc_loc comment_loc;      /* start of an open block comment */
  int open_block;          /* ast_block_kind being parsed, -1 outside blocks */
  dc_loc open_loc;         /* its keyword */
  int eof_reported;        /* a syntax error at end of file was reported */
} dc_parse_state;

/* Parses src into prog; errors go to diag. Returns the number of errors. */
int dc_parse(const dc_source *src, dc_diag *diag, ast_program *prog);

/* --debug-tokens: one line per token. */
void dc_dump_tokens(const dc_source *src, dc_diag *diag, FILE *out);

#endif
