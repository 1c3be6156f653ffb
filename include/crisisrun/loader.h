/*
 * loader.h - reading and checking a playbook (the format of DESIGN.md).
 *
 * The loader is the only module that includes <yaml.h>.  It reports every
 * problem it finds in one pass into a struct diag, with the position of the
 * offending node, and builds a playbook only when there are none.
 *
 * Hostile input is bounded: files over LOADER_MAX_BYTES, nesting deeper than
 * LOADER_MAX_DEPTH, more than LOADER_MAX_ALIASES aliases, and non-UTF-8 text
 * are rejected with a diagnostic, never a crash or a hang.
 */
#ifndef CRISISRUN_LOADER_H
#define CRISISRUN_LOADER_H

#include <stddef.h>

#include "crisisrun/diag.h"
#include "crisisrun/model.h"

#define LOADER_MAX_BYTES (4u << 20)
#define LOADER_MAX_DEPTH 32
#define LOADER_MAX_ALIASES 64
#define LOADER_MAX_URLS 100000 /* endpoints in one urls_file */

struct loader_options {
    /* --var K=V overrides, applied over the playbook's vars. */
    const struct kv *overrides;
    size_t noverrides;
};

/*
 * Loads and checks the playbook at path.  Returns a playbook (free with
 * playbook_free) or NULL when anything was reported to d.
 */
struct playbook *loader_load(const char *path, const struct loader_options *opt,
                             struct diag *d);

/*
 * loader_load that also hands back, in *text (to free), the bytes it loaded
 * when it returns a playbook (else *text is NULL).  For the journal: a
 * second read could meet other bytes (the file edited meanwhile) or none
 * (a pipe, already drained), and resume would load what was not run.
 */
struct playbook *loader_load_text(const char *path, const struct loader_options *opt,
                                  struct diag *d, char **text);

/*
 * The same from memory: `name` is used in diagnostics and `dir` as the base
 * of relative paths.  Used by the fuzzer and by tests.
 */
struct playbook *loader_load_mem(const char *name, const char *dir, const char *data,
                                 size_t len, const struct loader_options *opt,
                                 struct diag *d);

#endif
