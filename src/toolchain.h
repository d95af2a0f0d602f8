/*
** toolchain.h — compiles generated C into a program with the C compiler,
** against the runtime of the build tree (uninstalled) or the installed one.
*/
#ifndef DC_TOOLCHAIN_H
#define DC_TOOLCHAIN_H

/* Compiles c_path into program out_path (written atomically). Returns 0 on success. */
int dc_compile_program(const char *c_path, const char *out_path, const char *extra_cflags, int verbose);

/* The runtime include directory and library actually used (for --print-config). */
void dc_runtime_paths(const char **include_dir, const char **library);

#endif
