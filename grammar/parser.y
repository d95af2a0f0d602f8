/*
** parser.y — grammar of the .dens language; actions only build AST nodes.
**
**   program    -> block*
**   block      -> 'data' '{' data_decl* '}'   | 'knots' '{' knot_decl* '}'
**               | 'parameters' '{' param_decl* '}' | 'model' '{' model_stmt* '}'
**               | 'priors' '{' prior_stmt* '}'
**   data_decl  -> 'real' NAME ['in' '[' expr ',' expr ']'] ['unit' STRING] ';'
**   knot_decl  -> NAME '=' expr ';'
**   param_decl -> 'real' [bounds] NAME ';' | 'vector' '[' expr ']' [bounds] NAME ';'
**   bounds     -> '<' NAME '=' expr [',' NAME '=' expr] '>'
**   model_stmt -> 'component' NAME '=' expr ';' | 'intensity' '=' expr ';'
**               | 'integrate' NAME 'with' expr ';'
**   prior_stmt -> expr '~' expr ';'
*/
%code requires {
#include "ast.h"
#include "parse.h"
typedef void *yyscan_t;
}

%code provides {
int dc_yylex(YYSTYPE *yylval, YYLTYPE *yylloc, yyscan_t scanner);
}

%code {
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

#define LOC(l) ((dc_loc){(l).first_line, (l).first_column, (l).last_line, (l).last_column})
/* Stops at absurd nesting before any stage recurses over it. */
#define CHECK_DEPTH(e, l)                                                                          \
  do {                                                                                             \
    if ((e)->depth > DC_MAX_EXPR_DEPTH) {                                                          \
      dc_diag_error(st->diag, LOC(l), "expression nested too deeply (limit is %d levels)",         \
                    DC_MAX_EXPR_DEPTH);                                                            \
      st->eof_reported = 1;                                                                        \
      /* YYABORT frees neither the new node nor the symbols of its rule, which it owns */          \
      ast_expr_free(e);                                                                            \
      YYABORT;                                                                                     \
    }                                                                                              \
  } while (0)
#define yylex dc_yylex

static void yyerror(YYLTYPE *loc, yyscan_t scanner, dc_parse_state *st, const char *msg);
static void open_block(dc_parse_state *st, ast_block_kind k, YYLTYPE loc);
static void close_block(dc_parse_state *st);
static void set_bound(dc_parse_state *st, ast_decl *d, char *name, ast_expr *value, YYLTYPE loc);
}

%define api.pure full
%define parse.error custom
%locations
%lex-param {yyscan_t scanner}
%parse-param {yyscan_t scanner} {dc_parse_state *st}
%expect 0

%union {
  double num;
  char *str;
  ast_expr *expr;
  ast_decl *decl;
}

%token <num> NUMBER "number"
%token <str> IDENT "name"
%token <str> STRING "string"
%token DATA "'data'" KNOTS "'knots'" PARAMETERS "'parameters'" MODEL "'model'" PRIORS "'priors'"
%token REAL "'real'" VECTOR "'vector'" IN "'in'" UNIT "'unit'"
%token COMPONENT "'component'" INTENSITY "'intensity'" INTEGRATE "'integrate'" WITH "'with'"

%type <expr> expr primary call_args list_items
%type <decl> param_head bounds bound_list

%destructor { free($$); } <str>
%destructor { ast_expr_free($$); } <expr>
%destructor { ast_decl_free($$); } <decl>

%left '+' '-'
%left '*' '/'
%precedence NEG
%right '^'

%%

program
  : %empty
  | program block
  ;

block
  : DATA { open_block(st, BLOCK_DATA, @1); } '{' data_decls '}' { close_block(st); }
  | KNOTS { open_block(st, BLOCK_KNOTS, @1); } '{' knot_decls '}' { close_block(st); }
  | PARAMETERS { open_block(st, BLOCK_PARAMETERS, @1); } '{' param_decls '}' { close_block(st); }
  | MODEL { open_block(st, BLOCK_MODEL, @1); } '{' model_stmts '}' { close_block(st); }
  | PRIORS { open_block(st, BLOCK_PRIORS, @1); } '{' prior_stmts '}' { close_block(st); }
  | error '}' { close_block(st); }
  ;

/* ---- data { real z in [lo, hi]; } ---- */
data_decls
  : %empty
  | data_decls data_decl
  ;

/* the unit is spelled out in each form (no empty rule): a syntax error after the column's
   name then lists 'in', 'unit' and ';' */
data_decl
  : REAL IDENT ';'
      { ast_decl *d = ast_decl_new(DECL_DATA, LOC(@$)); d->name = $2; d->name_loc = LOC(@2);
        ast_program_add(st->prog, d); }
  | REAL IDENT UNIT STRING ';'
      { ast_decl *d = ast_decl_new(DECL_DATA, LOC(@$)); d->name = $2; d->name_loc = LOC(@2);
        d->unit = $4; d->unit_loc = LOC(@4); ast_program_add(st->prog, d); }
  | REAL IDENT IN '[' expr ',' expr ']' ';'
      { ast_decl *d = ast_decl_new(DECL_DATA, LOC(@$)); d->name = $2; d->name_loc = LOC(@2);
        d->lo = $5; d->hi = $7; ast_program_add(st->prog, d); }
  | REAL IDENT IN '[' expr ',' expr ']' UNIT STRING ';'
      { ast_decl *d = ast_decl_new(DECL_DATA, LOC(@$)); d->name = $2; d->name_loc = LOC(@2);
        d->lo = $5; d->hi = $7; d->unit = $10; d->unit_loc = LOC(@10); ast_program_add(st->prog, d); }
  | error ';'
  ;

/* ---- knots { k = linspace(a, b, n); } ---- */
knot_decls
  : %empty
  | knot_decls knot_decl
  ;

knot_decl
  : IDENT '=' expr ';'
      { ast_decl *d = ast_decl_new(DECL_KNOTS, LOC(@$)); d->name = $1; d->name_loc = LOC(@1);
        d->value = $3; ast_program_add(st->prog, d); }
  | error ';'
  ;

/* ---- parameters { real<lower=0> a; vector[k] v; } ---- */
param_decls
  : %empty
  | param_decls param_decl
  ;

param_decl
  : param_head IDENT ';'
      { $1->name = $2; $1->name_loc = LOC(@2); $1->loc = LOC(@$); ast_program_add(st->prog, $1); }
  | error ';'
  ;

param_head
  : REAL bounds                  { $$ = $2; }
  | VECTOR '[' expr ']' bounds   { $$ = $5; $$->is_vector = 1; $$->size = $3; }
  ;

bounds
  : %empty             { $$ = ast_decl_new(DECL_PARAM, LOC(@$)); }
  | '<' bound_list '>' { $$ = $2; }
  ;

bound_list
  : IDENT '=' expr
      { $$ = ast_decl_new(DECL_PARAM, LOC(@$)); set_bound(st, $$, $1, $3, @1); }
  | bound_list ',' IDENT '=' expr
      { $$ = $1; set_bound(st, $$, $3, $5, @3); }
  ;

/* ---- model { component c = ...; intensity = ...; integrate z with auto; } ---- */
model_stmts
  : %empty
  | model_stmts model_stmt
  ;

model_stmt
  : COMPONENT IDENT '=' expr ';'
      { ast_decl *d = ast_decl_new(DECL_COMPONENT, LOC(@$)); d->name = $2; d->name_loc = LOC(@2);
        d->value = $4; ast_program_add(st->prog, d); }
  | INTENSITY '=' expr ';'
      { ast_decl *d = ast_decl_new(DECL_INTENSITY, LOC(@$)); d->name_loc = LOC(@1);
        d->value = $3; ast_program_add(st->prog, d); }
  | INTEGRATE IDENT WITH expr ';'
      { ast_decl *d = ast_decl_new(DECL_INTEGRATE, LOC(@$)); d->name = $2; d->name_loc = LOC(@2);
        d->value = $4; ast_program_add(st->prog, d); }
  | error ';'
  ;

/* ---- priors { x ~ normal(0, 1); } ---- */
prior_stmts
  : %empty
  | prior_stmts prior_stmt
  ;

prior_stmt
  : expr '~' expr ';'
      { ast_decl *d = ast_decl_new(DECL_PRIOR, LOC(@$)); d->lhs = $1; d->value = $3;
        d->name_loc = LOC(@2); ast_program_add(st->prog, d); }
  | error ';'
  ;

/* ---- expressions ---- */
expr
  : expr '+' expr          { $$ = ast_binop(LOC(@$), '+', $1, $3); CHECK_DEPTH($$, @$); }
  | expr '-' expr          { $$ = ast_binop(LOC(@$), '-', $1, $3); CHECK_DEPTH($$, @$); }
  | expr '*' expr          { $$ = ast_binop(LOC(@$), '*', $1, $3); CHECK_DEPTH($$, @$); }
  | expr '/' expr          { $$ = ast_binop(LOC(@$), '/', $1, $3); CHECK_DEPTH($$, @$); }
  | expr '^' expr          { $$ = ast_binop(LOC(@$), '^', $1, $3); CHECK_DEPTH($$, @$); }
  | '-' expr %prec NEG     { $$ = ast_neg(LOC(@$), $2); CHECK_DEPTH($$, @$); }
  | primary
  ;

primary
  : NUMBER                 { $$ = ast_num(LOC(@$), $1); }
  | IDENT                  { $$ = ast_ident(LOC(@$), $1); }
  | IDENT '[' expr ']'     { $$ = ast_index(LOC(@$), LOC(@1), $1, $3); CHECK_DEPTH($$, @$); }
  | IDENT '[' expr ':' expr ']' { $$ = ast_slice(LOC(@$), LOC(@1), $1, $3, $5); CHECK_DEPTH($$, @$); }
  | IDENT '[' expr ':' ']'      { $$ = ast_slice(LOC(@$), LOC(@1), $1, $3, NULL); CHECK_DEPTH($$, @$); }
  | IDENT '[' ':' expr ']'      { $$ = ast_slice(LOC(@$), LOC(@1), $1, NULL, $4); CHECK_DEPTH($$, @$); }
  | IDENT '[' ':' ']'           { $$ = ast_slice(LOC(@$), LOC(@1), $1, NULL, NULL); }
  | IDENT '(' ')'           { $$ = ast_call(LOC(@$), LOC(@1), $1); }
  | IDENT '(' call_args ')' { $$ = $3; $$->name = $1; $$->loc = LOC(@$); $$->name_loc = LOC(@1); CHECK_DEPTH($$, @$); }
  | IDENT '(' expr '|' call_args ')'
      { $$ = ast_call(LOC(@$), LOC(@1), $1); ast_add_arg($$, NULL, $3); $$->bar = 1;
        for (size_t i = 0; i < $5->n_args; i++) { ast_add_arg($$, $5->arg_names[i], $5->args[i]); }
        $5->n_args = 0; ast_expr_free($5); CHECK_DEPTH($$, @$); }
  | '(' expr ')'           { $$ = $2; $$->loc = LOC(@$); $$->depth++; CHECK_DEPTH($$, @$); }
  | '[' list_items ']'     { $$ = $2; $$->loc = LOC(@$); CHECK_DEPTH($$, @$); }
  ;

call_args
  : expr                           { $$ = ast_call(LOC(@$), LOC(@$), NULL); ast_add_arg($$, NULL, $1); }
  | IDENT '=' expr                 { $$ = ast_call(LOC(@$), LOC(@$), NULL); ast_add_arg($$, $1, $3); }
  | call_args ',' expr             { $$ = $1; ast_add_arg($$, NULL, $3); }
  | call_args ',' IDENT '=' expr   { $$ = $1; ast_add_arg($$, $3, $5); }
  ;

list_items
  : expr                   { $$ = ast_list(LOC(@$)); ast_add_arg($$, NULL, $1); }
  | list_items ',' expr    { $$ = $1; ast_add_arg($$, NULL, $3); }
  ;

%%

static void open_block(dc_parse_state *st, ast_block_kind k, YYLTYPE loc)
{
  ast_program *p = st->prog;
  if (p->block_seen[k]) {
    dc_diag_error(st->diag, LOC(loc), "duplicate '%s' block", ast_block_name(k));
    dc_diag_note(st->diag, p->block_loc[k], "the first '%s' block is here", ast_block_name(k));
  } else {
    p->block_seen[k] = 1;
    p->block_loc[k] = LOC(loc);
  }
  st->open_block = (int)k;
  st->open_loc = LOC(loc);
}

static void close_block(dc_parse_state *st)
{
  st->open_block = -1;
}

static void set_bound(dc_parse_state *st, ast_decl *d, char *name, ast_expr *value, YYLTYPE loc)
{
  ast_expr **slot = NULL;
  if (strcmp(name, "lower") == 0)
    slot = &d->lo;
  else if (strcmp(name, "upper") == 0)
    slot = &d->hi;
  if (!slot)
    dc_diag_error(st->diag, LOC(loc), "unknown bound '%s': expected 'lower' or 'upper'", name);
  else if (*slot)
    dc_diag_error(st->diag, LOC(loc), "duplicate '%s' bound", name);
  if (slot && !*slot)
    *slot = value;
  else
    ast_expr_free(value);
  free(name);
}

/* One nesting level holds at most 8 parser stack entries (IDENT '(' expr '|' call_args ','
** IDENT '=' before the inner expr), so a stack this deep is more than DC_MAX_EXPR_DEPTH levels:
** the stack overflow message may then name the same limit as CHECK_DEPTH. */
_Static_assert(YYMAXDEPTH >= 8 * DC_MAX_EXPR_DEPTH + 64, "the parser stack overflows before the nesting limit");

static void yyerror(YYLTYPE *loc, yyscan_t scanner, dc_parse_state *st, const char *msg)
{
  (void)scanner;
  if (strcmp(msg, "memory exhausted") == 0) {
    /* the parser's stack: only nesting beyond the limit gets here (see the assertion) */
    dc_diag_error(st->diag, LOC(*loc), "expression nested too deeply (limit is %d levels)", DC_MAX_EXPR_DEPTH);
    st->eof_reported = 1;
    return;
  }
  dc_diag_error(st->diag, LOC(*loc), "%s", msg);
}

/* Where the token before byte offset `at` ends: the position just after it (1-based line and
** column, as the scanner counts them).  The language has no strings, so skipping blanks and
** comments is all it takes to find tokens. */
static dc_loc after_previous_token(const dc_source *src, size_t at)
{
  size_t last = 0, i = 0;
  int line = 1, last_line = 0;
  size_t line_start = 0, last_line_start = 0;
  while (i < at && i < src->len) {
    char c = src->text[i];
    if (c == '\n') {
      line++;
      line_start = i + 1;
      i++;
    } else if (c == '/' && i + 1 < src->len && src->text[i + 1] == '/') {
      while (i < src->len && src->text[i] != '\n')
        i++;
    } else if (c == '/' && i + 1 < src->len && src->text[i + 1] == '*') {
      for (i += 2; i < src->len && !(src->text[i] == '*' && i + 1 < src->len && src->text[i + 1] == '/'); i++) {
        if (src->text[i] == '\n') {
          line++;
          line_start = i + 1;
        }
      }
      i += 2;
    } else {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') {
        last = i;
        last_line = line;
        last_line_start = line_start;
      }
      i++;
    }
  }
  int col = (int)(last - last_line_start) + 2;
  return (dc_loc){last_line, col, last_line, col};
}

/* "A, B or C"; only ';' of a longer list (where ';' is expected). */
static void put_tokens(dc_buf *b, const yysymbol_kind_t *tokens, int n)
{
  if (n >= 5) {
    dc_buf_puts(b, "';'");
    return;
  }
  for (int i = 0; i < n; i++)
    dc_buf_printf(b, "%s%s", i == 0 ? "" : (i == n - 1 ? " or " : ", "), yysymbol_name(tokens[i]));
}

/* "syntax error: unexpected X, expected A or B" plus Lua's "(to close ...)" at end of file;
** "expected ';' before X" where a statement lacks its ';' at the end of a line (or before a
** token that could follow too much to list), placed where the ';' belongs rather than at
** the next token: "unexpected '}'" on the next line hid what is missing. */
static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, dc_parse_state *st)
{
  (void)scanner;
  yysymbol_kind_t tok = yypcontext_token(ctx);
  if (tok == YYSYMBOL_YYerror)
    return 0;   /* the scanner already said what is wrong */
  const YYLTYPE *at = yypcontext_location(ctx);
  yysymbol_kind_t exp[YYNTOKENS];
  int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
  int semicolon = 0;
  for (int i = 0; i < n; i++)
    semicolon |= strcmp(yysymbol_name(exp[i]), "';'") == 0;
  const dc_source *src = st->diag->src;
  dc_buf b;
  dc_buf_init(&b);
  dc_loc where = {0, 0, 0, 0};
  size_t off = 0;
  if (semicolon && tok != YYSYMBOL_YYEOF && src && at->first_line >= 1 && (size_t)at->first_line <= src->n_lines) {
    off = src->line_start[at->first_line - 1] + (size_t)at->first_column - 1;
    where = after_previous_token(src, off);
  }
  /* on the same line, "unexpected X, expected ';'" at X says it as well, unless the list of
     expected tokens is too long to show */
  if (where.line > 0 && (where.line != at->first_line || n >= 5)) {
    dc_buf_puts(&b, "syntax error: expected ");
    put_tokens(&b, exp, n);
    int len = at->last_column - at->first_column + 1;
    if (at->last_line == at->first_line && len > 0 && len <= 40 && off + (size_t)len <= src->len)
      dc_buf_printf(&b, " before '%.*s'", len, src->text + off);
    else
      dc_buf_printf(&b, " before %s", yysymbol_name(tok));
    if (where.line != at->first_line)
      dc_buf_printf(&b, " on line %d", at->first_line);
  } else {
    dc_buf_printf(&b, "syntax error: unexpected %s",
                  tok == YYSYMBOL_YYEOF ? "end of file" : yysymbol_name(tok));
    if (n > 0 && n < 5) {
      dc_buf_puts(&b, ", expected ");
      put_tokens(&b, exp, n);
    }
    if (tok == YYSYMBOL_YYEOF && st->open_block >= 0)
      dc_buf_printf(&b, " (to close '%s' block at line %d)", ast_block_name((ast_block_kind)st->open_block),
                    st->open_loc.line);
    where = LOC(*at);
  }
  /* recovery skips to the next ';', past a '}' where the ';' was missing: its block then
     looks unclosed at the end of the file, which would be a second, wrong message */
  if (tok == YYSYMBOL_YYEOF || (semicolon && strcmp(yysymbol_name(tok), "'}'") == 0))
    st->eof_reported = 1;
  dc_diag_error(st->diag, where, "%s", b.s);
  dc_buf_free(&b);
  return 0;
}
