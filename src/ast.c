/*
** ast.c — constructors, destructors and the --debug-ast dump.
*/
#include "ast.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static ast_expr *new_expr(ast_expr_kind kind, dc_loc loc)
{
  ast_expr *e = dc_xcalloc(1, sizeof *e);
  e->kind = kind;
  e->loc = loc;
  e->depth = 1;
  return e;
}

static void deepen(ast_expr *e, const ast_expr *child)
{
  if (child && child->depth + 1 > e->depth)
    e->depth = child->depth + 1;
}

ast_expr *ast_num(dc_loc loc, double v)
{
  ast_expr *e = new_expr(AST_NUM, loc);
  e->num = v;
  return e;
}

ast_expr *ast_ident(dc_loc loc, char *name)
{
  ast_expr *e = new_expr(AST_IDENT, loc);
  e->name = name;
  e->name_loc = loc;
  return e;
}

ast_expr *ast_binop(dc_loc loc, int op, ast_expr *a, ast_expr *b)
{
  ast_expr *e = new_expr(AST_BINOP, loc);
  e->op = op;
  e->lhs = a;
  e->rhs = b;
  deepen(e, a);
  deepen(e, b);
  return e;
}

ast_expr *ast_neg(dc_loc loc, ast_expr *a)
{
  ast_expr *e = new_expr(AST_NEG, loc);
  e->lhs = a;
  deepen(e, a);
  return e;
}

ast_expr *ast_index(dc_loc loc, dc_loc name_loc, char *name, ast_expr *index)
{
  ast_expr *e = new_expr(AST_INDEX, loc);
  e->name = name;
  e->name_loc = name_loc;
  e->lhs = index;
  deepen(e, index);
  return e;
}

ast_expr *ast_slice(dc_loc loc, dc_loc name_loc, char *name, ast_expr *start, ast_expr *end)
{
  ast_expr *e = new_expr(AST_SLICE, loc);
  e->name = name;
  e->name_loc = name_loc;
  e->lhs = start;
  e->rhs = end;
  deepen(e, start);
  deepen(e, end);
  return e;
}

ast_expr *ast_call(dc_loc loc, dc_loc name_loc, char *name)
{
  ast_expr *e = new_expr(AST_CALL, loc);
  e->name = name;
  e->name_loc = name_loc;
  return e;
}

ast_expr *ast_list(dc_loc loc)
{
  return new_expr(AST_LIST, loc);
}

void ast_add_arg(ast_expr *call, char *arg_name, ast_expr *value)
{
  call->args = dc_xrealloc(call->args, (call->n_args + 1) * sizeof *call->args);
  call->arg_names = dc_xrealloc(call->arg_names, (call->n_args + 1) * sizeof *call->arg_names);
  call->args[call->n_args] = value;
  call->arg_names[call->n_args] = arg_name;
  call->n_args++;
  deepen(call, value);
}

void ast_expr_free(ast_expr *e)
{
  if (!e)
    return;
  free(e->name);
  ast_expr_free(e->lhs);
  ast_expr_free(e->rhs);
  for (size_t i = 0; i < e->n_args; i++) {
    ast_expr_free(e->args[i]);
    free(e->arg_names[i]);
  }
  free(e->args);
  free(e->arg_names);
  free(e);
}

ast_decl *ast_decl_new(ast_decl_kind kind, dc_loc loc)
{
  ast_decl *d = dc_xcalloc(1, sizeof *d);
  d->kind = kind;
  d->loc = loc;
  return d;
}

void ast_decl_free(ast_decl *d)
{
  if (!d)
    return;
  free(d->name);
  ast_expr_free(d->lo);
  ast_expr_free(d->hi);
  ast_expr_free(d->size);
  ast_expr_free(d->value);
  ast_expr_free(d->lhs);
  free(d->unit);
  free(d);
}

void ast_program_add(ast_program *p, ast_decl *d)
{
  if (p->n_decls == p->cap_decls) {
    p->cap_decls = p->cap_decls ? 2 * p->cap_decls : 16;
    p->decls = dc_xrealloc(p->decls, p->cap_decls * sizeof *p->decls);
  }
  p->decls[p->n_decls++] = d;
}

void ast_program_free(ast_program *p)
{
  for (size_t i = 0; i < p->n_decls; i++)
    ast_decl_free(p->decls[i]);
  free(p->decls);
  memset(p, 0, sizeof *p);
}

const char *ast_block_name(ast_block_kind k)
{
  static const char *const names[BLOCK__COUNT] = {"data", "knots", "parameters", "model", "priors"};
  return names[k];
}

void ast_expr_print(const ast_expr *e, FILE *out)
{
  char num[40];
  switch (e->kind) {
  case AST_NUM:
    dc_format_double(num, sizeof num, e->num);
    fputs(num, out);
    break;
  case AST_IDENT:
    fputs(e->name, out);
    break;
  case AST_BINOP:
    fputc('(', out);
    ast_expr_print(e->lhs, out);
    fprintf(out, " %c ", e->op);
    ast_expr_print(e->rhs, out);
    fputc(')', out);
    break;
  case AST_NEG:
    fputs("-", out);
    ast_expr_print(e->lhs, out);
    break;
  case AST_INDEX:
    fprintf(out, "%s[", e->name);
    ast_expr_print(e->lhs, out);
    fputc(']', out);
    break;
  case AST_SLICE:
    fprintf(out, "%s[", e->name);
    if (e->lhs)
      ast_expr_print(e->lhs, out);
    fputc(':', out);
    if (e->rhs)
      ast_expr_print(e->rhs, out);
    fputc(']', out);
    break;
  case AST_CALL:
  case AST_LIST:
    if (e->kind == AST_CALL)
      fprintf(out, "%s(", e->name);
    else
      fputc('[', out);
    for (size_t i = 0; i < e->n_args; i++) {
      if (i)
        fputs((e->bar && i == (size_t)e->bar) ? " | " : ", ", out);
      if (e->arg_names[i])
        fprintf(out, "%s = ", e->arg_names[i]);
      ast_expr_print(e->args[i], out);
    }
    fputc(e->kind == AST_CALL ? ')' : ']', out);
    break;
  }
}

static const char *decl_kind_name(ast_decl_kind k)
{
  static const char *const names[] = {"data", "knots", "param", "component", "intensity", "integrate", "prior"};
  return names[k];
}

void ast_dump(const ast_program *p, FILE *out)
{
  for (size_t i = 0; i < p->n_decls; i++) {
    const ast_decl *d = p->decls[i];
    fprintf(out, "%d:%d %s", d->loc.line, d->loc.col, decl_kind_name(d->kind));
    if (d->name)
      fprintf(out, " %s", d->name);
    if (d->is_vector) {
      fputs(" vector[", out);
      ast_expr_print(d->size, out);
      fputc(']', out);
    }
    if (d->lo) {
      fputs(d->kind == DECL_DATA ? " lo=" : " lower=", out);
      ast_expr_print(d->lo, out);
    }
    if (d->hi) {
      fputs(d->kind == DECL_DATA ? " hi=" : " upper=", out);
      ast_expr_print(d->hi, out);
    }
    if (d->lhs) {
      fputc(' ', out);
      ast_expr_print(d->lhs, out);
      fputs(" ~", out);
    }
    if (d->value) {
      fputc(' ', out);
      ast_expr_print(d->value, out);
    }
    fputc('\n', out);
  }
}
