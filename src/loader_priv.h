/*
 * loader_priv.h - what the loader's files (loader.c, loader_channels.c,
 * loader_steps.c) share: the state of one load and the helpers that check a
 * node and report into the diagnostics.  Not a public API.
 *
 * Every helper that finds a problem reports it at the offending node and
 * returns -1 (or NULL); the caller goes on with the next key, so that one
 * pass reports every problem of the file.
 */
#ifndef CRISISRUN_LOADER_PRIV_H
#define CRISISRUN_LOADER_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "crisisrun/diag.h"
#include "crisisrun/loader.h"
#include "crisisrun/model.h"
#include "crisisrun/util.h"
#include "crisisrun/yamltree.h"

/* Problems reported for one file before the loader stops adding more. */
#define LOADER_MAX_DIAGS 200

/* Name -> index, for step ids and channel names (open addressing). */
struct nameidx {
    const char **keys; /* not owned */
    size_t *vals;
    size_t cap, n;
};

struct ld {
    const char *file; /* the name diagnostics carry */
    const char *dir;  /* base of relative paths */
    struct ytree *t;
    struct diag *d;
    size_t ndiag; /* problems reported by this load */
    const struct loader_options *opt;
    struct playbook *pb;
    struct nameidx steps, channels;
    /* Per step: the nodes cross-checks report at once all steps are read. */
    const struct ynode **after_node, **escalate_node;
};

void ld_error(struct ld *l, const struct ynode *n, const char *fmt, ...) CR_PRINTF(3, 4);
void ld_error_at(struct ld *l, const char *file, int line, int col, const char *fmt, ...)
    CR_PRINTF(5, 6);

/* Returns the index stored for key, or -1. */
long nameidx_get(const struct nameidx *ix, const char *key);
/* Stores key -> val unless key is there; returns the existing index, or -1 when added. */
long nameidx_put(struct nameidx *ix, const char *key, size_t val);
void nameidx_release(struct nameidx *ix);

/*
 * Checks mapping m against the keys it may hold (NULL-terminated): every
 * key must be a string, known (else a did-you-mean) and appear once.
 * Returns -1 after reporting if m is not a mapping (named `what`).
 */
int ld_check_keys(struct ld *l, const struct ynode *m, const char *what,
                  const char *const *known);
/* The value of key in mapping m (the first one), or NULL. */
const struct ynode *ld_get(const struct ynode *m, const char *key);
/* The key node itself, for problems that concern the key. */
const struct ynode *ld_get_key(const struct ynode *m, const char *key);
/*
 * Checks that each key of mapping m is a string that appears once; each
 * duplicate is reported as "duplicate NOUN 'K' (first at line N)", compared
 * case-insensitively when nocase.  A pair to ignore (a duplicate, a key
 * that is not a string) is marked 1 in skip[], which has one entry a pair.
 */
void ld_check_dups(struct ld *l, const struct ynode *m, const char *noun, int nocase,
                   char *skip);

/*
 * The text of scalar n with ${...} expanded: a new string, or NULL after
 * reporting that n is not a string or that a substitution failed.
 */
char *ld_text(struct ld *l, const struct ynode *n, const char *what);
/*
 * Reports n when text, which people will read (a message, the title, a
 * var a message may show), holds one of the secrets of the channels read
 * so far: a channel's `url` (webhook URLs carry their secret), a header
 * value or a signing secret, as written or from ${env:...}.  It would go
 * to every audience of the message, and `plan` would print it.  Nothing
 * is quoted.  urls_file endpoints are not searched (there may be 100,000),
 * nor values shorter than 8 bytes, which could match anywhere.
 */
void ld_check_public_text(struct ld *l, const struct ynode *n, const char *what,
                          const char *text);
/* A duration (>= min_ms); 0, or -1 after reporting. */
int ld_duration(struct ld *l, const struct ynode *n, const char *what, int64_t min_ms,
                int64_t *ms);
/* An integer in [lo, hi]; 0, or -1 after reporting. */
int ld_int(struct ld *l, const struct ynode *n, const char *what, long lo, long hi,
           long *out);
/* 1 when s is an identifier: letters, digits, '_' and '-' (and '.' if dots). */
int ld_is_ident(const char *s, int dots);
/* A status name into *st; 0, or -1 after reporting (with a did-you-mean). */
int ld_status(struct ld *l, const struct ynode *n, const char *s, enum run_status *st);

/* A list of channel names (notify), resolved to indices. 0 or -1. */
int ld_channel_list(struct ld *l, const struct ynode *n, const char *what, size_t **out,
                    size_t *nout);

/* Compiles a template at node n (text already expanded); NULL after reporting. */
struct template *ld_template(struct ld *l, const struct ynode *n, const char *text,
                             unsigned allow);

/* loader_channels.c: the `channels` mapping. */
void ld_channels(struct ld *l, const struct ynode *m);
/* loader_steps.c: the `steps` list, then the checks across steps. */
void ld_steps(struct ld *l, const struct ynode *seq);

#endif
