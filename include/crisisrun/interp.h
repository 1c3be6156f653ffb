/*
 * interp.h - ${env:NAME}, ${env:NAME:-DEFAULT} and ${file:PATH} in
 * playbook values.
 *
 * Secrets stay out of playbooks: a value names where to find them.  The
 * loader expands every scalar value (not keys) once, at load time.
 *   ${env:NAME}          the environment variable; unset is an error
 *   ${env:NAME:-DEFAULT} DEFAULT when NAME is unset or empty (as in sh)
 *   ${file:PATH}         the file's contents, one trailing newline removed;
 *                        PATH is relative to the playbook's directory
 *   $${                  a literal "${"
 */
#ifndef CRISISRUN_INTERP_H
#define CRISISRUN_INTERP_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

/* Largest file ${file:PATH} reads. */
#define INTERP_MAX_FILE (1u << 20)

/* Receives one problem and the byte offset of its "${" in the source. */
typedef void (*interp_report_fn)(void *arg, size_t offset, const char *msg);

/*
 * Expands s.  Returns 1 when something was substituted and 0 when s had
 * nothing to expand, with *out a new string either way; or -1 after passing
 * every problem to report, with *out NULL.
 */
int interp_expand(const char *s, const char *dir, char **out, interp_report_fn report,
                  void *arg);

/*
 * Opens path for reading without waiting for a writer if it is a FIFO
 * (O_NONBLOCK, cleared once open, so a pipe with a writer is read to its
 * end), and fills *st.  Returns the stream, or NULL with *why set to
 * strerror.  The caller decides which kinds of file it takes.
 */
FILE *interp_open_any(const char *path, struct stat *st, const char **why);

/*
 * interp_open_any(), but only a regular file: a FIFO or a device named by
 * a playbook must not block or endlessly feed the loader.  Returns the
 * stream, or NULL with *why describing the failure (strerror, or "not a
 * regular file").
 */
FILE *interp_open(const char *path, const char **why);

/*
 * Resolves path against dir: an absolute path is kept, and a relative one
 * is joined to dir (unchanged when dir is ".").  Returns a new string.
 */
char *interp_path(const char *dir, const char *path);

#endif
