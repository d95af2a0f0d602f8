/*
** toolchain.h — compiles generated C into a program with the C compiler,
** against the runtime of the build tree (uninstalled) or the installed one;
** and the temporary files of a run, which are ours to remove (also when
** SIGINT, SIGTERM or SIGHUP stops densc).
*/
#ifndef DC_TOOLCHAIN_H
#define DC_TOOLCHAIN_H

#include <stddef.h>

/* Installs the handlers: a signal kills the running C compiler (its whole process
** group), removes our temporary files and exits 128 + the signal's number.  Signals
** ignored when densc started stay ignored. */
void dc_temp_install_handlers(void);

/* A new directory under $TMPDIR (default /tmp), removed on a signal; NULL after a message. */
char *dc_temp_dir(void);

/* A new empty file PATH (which must not exist), removed on a signal; a copy of path to
** hand to dc_temp_remove, or NULL after a message. */
char *dc_temp_file(const char *path);

/* A new temporary file TARGET.tmpXXXXXX beside target, to be renamed over it by
** dc_temp_commit.  Refuses a target that exists and is not a regular file (renaming over a
** device or directory would replace it).  NULL after a message. */
char *dc_temp_beside(const char *target);

/* Writes n bytes to an existing temporary file; 0 or 2 after a message naming what. */
int dc_temp_write(const char *tmp, const char *what, const char *data, size_t n);

/* Renames tmp over target; 0 or 2 after a message.  Frees tmp either way (removing it on failure). */
int dc_temp_commit(char *tmp, const char *target);

/* Removes a temporary file or directory of ours (NULL is fine) and frees the path. */
void dc_temp_remove(char *tmp);

/* Compiles c_path into the existing file out_path (a temporary file).  0 on success,
** 3 when the C compiler cannot be run or fails (a message says which and why). */
int dc_compile_program(const char *c_path, const char *out_path, const char *extra_cflags, int portable, int verbose);

/* The runtime include directory and library actually used (for --print-config). */
void dc_runtime_paths(const char **include_dir, const char **library);

#endif
