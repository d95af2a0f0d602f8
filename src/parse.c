/*
** parse.c — runs the flex scanner and bison parser over a source buffer.
*/
#include "parse.h"
#include "parser.h"
#include "lexer.h"

int dc_parse(const dc_source *src, dc_diag *diag, ast_program *prog)
{
  dc_parse_state st = {diag, prog, 1, 1, {0, 0, 0, 0}, -1, {0, 0, 0, 0}, 0};
  yyscan_t scanner;
  int before = diag->n_errors;
  dc_yylex_init_extra(&st, &scanner);
  YY_BUFFER_STATE buf = dc_yy_scan_bytes(src->text, (int)src->len, scanner);
  int rc = yyparse(scanner, &st);
  dc_yy_delete_buffer(buf, scanner);
  dc_yylex_destroy(scanner);
  /* after error recovery the parser may reach the end without saying a block is open */
  if (st.open_block >= 0 && !st.eof_reported)
    dc_diag_error(diag, st.open_loc, "'%s' block is not closed: expected '}' before the end of the file",
                  ast_block_name((ast_block_kind)st.open_block));
  if (rc != 0 && diag->n_errors == before)
    dc_diag_error(diag, (dc_loc){1, 1, 1, 1}, "could not parse the model");
  return diag->n_errors - before;
}

void dc_dump_tokens(const dc_source *src, dc_diag *diag, FILE *out)
{
  ast_program prog = {0};
  dc_parse_state st = {diag, &prog, 1, 1, {0, 0, 0, 0}, -1, {0, 0, 0, 0}, 0};
  yyscan_t scanner;
  dc_yylex_init_extra(&st, &scanner);
  YY_BUFFER_STATE buf = dc_yy_scan_bytes(src->text, (int)src->len, scanner);
  YYSTYPE val;
  YYLTYPE loc;
  int tok;
  while ((tok = dc_yylex(&val, &loc, scanner)) != YYEOF) {
    fprintf(out, "%d:%d-%d ", loc.first_line, loc.first_column, loc.last_column);
    if (tok == IDENT) {
      fprintf(out, "name %s\n", val.str);
      free(val.str);
    } else if (tok == NUMBER) {
      fprintf(out, "number %.17g\n", val.num);
    } else if (tok < 256) {
      fprintf(out, "'%c'\n", tok);
    } else {
      fprintf(out, "token %d\n", tok);
    }
  }
  dc_yy_delete_buffer(buf, scanner);
  dc_yylex_destroy(scanner);
}
