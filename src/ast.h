/*
** ast.h — the abstract syntax tree built by the parser.
**
** The tree is exactly what the user wrote, with a location on every node;
** names are resolved and shapes checked later by sema.c, and the tree is
** lowered to the IR (ir.h) after that.
*/
#ifndef DC_AST_H
#define DC_AST_H

#include "diag.h"
#include <stddef.h>

typedef enum {
  AST_NUM,     /* 1.5                     */
  AST_IDENT,   /* x                       */
  AST_CALL,    /* f(a, b) | f(x | a, b) | f(name = a) */
  AST_BINOP,   /* a op b, op in + - * / ^ */
  AST_NEG,     /* -a                      */
  AST_INDEX,   /* v[i]                    */
  AST_SLICE,   /* v[a:b], v[a:], v[:b], v[:]; bounds may use 'end' */
  AST_LIST     /* [a, b, c]               */
} ast_expr_kind;

typedef struct ast_expr {
  ast_expr_kind kind;
  dc_loc loc;
  double num;               /* NUM */
  char *name;               /* IDENT, CALL (function), INDEX (vector) */
  int op;                   /* BINOP */
  struct ast_expr *lhs;     /* BINOP left, NEG operand, INDEX index, SLICE start (or NULL) */
  struct ast_expr *rhs;     /* BINOP right, SLICE end (or NULL) */
  struct ast_expr **args;   /* CALL arguments, LIST items */
  char **arg_names;         /* CALL: name of each argument or NULL (named arguments) */
  size_t n_args;
  int bar;                  /* CALL: arguments before '|' (0: no '|') */
  dc_loc name_loc;          /* CALL/INDEX: the name */
  int depth;                /* levels of nesting below and including this node */
} ast_expr;

/* Deeper expressions are rejected by the parser: every later stage recurses over them. */
#define DC_MAX_EXPR_DEPTH 1000

typedef enum {
  BLOCK_DATA, BLOCK_KNOTS, BLOCK_PARAMETERS, BLOCK_MODEL, BLOCK_PRIORS, BLOCK__COUNT
} ast_block_kind;

typedef enum {
  DECL_DATA,        /* real NAME [in [lo, hi]];                 */
  DECL_KNOTS,       /* NAME = linspace(a, b, n); | NAME = [..]; */
  DECL_PARAM,       /* real<bounds> NAME; | vector[n]<bounds> NAME; */
  DECL_COMPONENT,   /* component NAME = expr;                    */
  DECL_INTENSITY,   /* intensity = expr;                         */
  DECL_INTEGRATE,   /* integrate NAME with method;               */
  DECL_PRIOR        /* lhs ~ dist(args);                         */
} ast_decl_kind;

typedef struct ast_decl {
  ast_decl_kind kind;
  dc_loc loc;            /* whole declaration */
  dc_loc name_loc;
  char *name;            /* DATA, KNOTS, PARAM, COMPONENT, INTEGRATE (column) */
  ast_expr *lo, *hi;     /* DATA window, PARAM bounds (lower, upper); NULL if absent */
  ast_expr *size;        /* PARAM vector size (NUM or IDENT of a knot set) */
  int is_vector;         /* PARAM */
  ast_expr *value;       /* KNOTS spec, COMPONENT/INTENSITY expression, INTEGRATE method, PRIOR distribution */
  ast_expr *lhs;         /* PRIOR left-hand side */
  char *unit;            /* DATA: unit "deg" (NULL if absent) */
  dc_loc unit_loc;
} ast_decl;

typedef struct ast_program {
  ast_decl **decls;
  size_t n_decls, cap_decls;
  dc_loc block_loc[BLOCK__COUNT];   /* first occurrence of each block; line 0 if absent */
  int block_seen[BLOCK__COUNT];
} ast_program;

ast_expr *ast_num(dc_loc loc, double v);
ast_expr *ast_ident(dc_loc loc, char *name);
ast_expr *ast_binop(dc_loc loc, int op, ast_expr *a, ast_expr *b);
ast_expr *ast_neg(dc_loc loc, ast_expr *a);
ast_expr *ast_index(dc_loc loc, dc_loc name_loc, char *name, ast_expr *index);
ast_expr *ast_slice(dc_loc loc, dc_loc name_loc, char *name, ast_expr *start, ast_expr *end);
ast_expr *ast_call(dc_loc loc, dc_loc name_loc, char *name);   /* arguments appended with ast_add_arg */
ast_expr *ast_list(dc_loc loc);
void ast_add_arg(ast_expr *call, char *arg_name, ast_expr *value);
void ast_expr_free(ast_expr *e);

ast_decl *ast_decl_new(ast_decl_kind kind, dc_loc loc);
void ast_decl_free(ast_decl *d);
void ast_program_add(ast_program *p, ast_decl *d);
void ast_program_free(ast_program *p);

const char *ast_block_name(ast_block_kind k);
void ast_dump(const ast_program *p, FILE *out);   /* --debug-ast */
void ast_expr_print(const ast_expr *e, FILE *out); /* source-like text */

#endif
