/*
 * suggest.h - "did you mean" for misspelt keys, names and variables.
 *
 * Collect the candidates, then ask for the one closest to what the user
 * wrote.  A candidate is offered only when it is close enough to be a
 * plausible typo (an optimal-string-alignment distance of at most 2, and
 * less than half the word), so unrelated words get no suggestion.
 */
#ifndef CRISISRUN_SUGGEST_H
#define CRISISRUN_SUGGEST_H

#include <stddef.h>

#include "crisisrun/util.h"

struct suggest {
    char **names; /* owned */
    size_t n, alloc;
};
#define SUGGEST_INIT {NULL, 0, 0}

void suggest_add(struct suggest *sg, const char *name);
void suggest_add_fmt(struct suggest *sg, const char *fmt, ...) CR_PRINTF(2, 3);
/* The closest candidate to word, or NULL.  Points into sg. */
const char *suggest_best(const struct suggest *sg, const char *word);
/* Distance between a and b (transpositions count as one edit). */
size_t suggest_distance(const char *a, const char *b);
void suggest_release(struct suggest *sg);
/*
 * "no WHAT 'NAME' in this playbook", with " (did you mean 'BEST'?)" when
 * one of sg's candidates is a plausible typo of name: the one wording of
 * a step or channel a run does not have, whether the run itself says it
 * or a command that found the run's process gone.  A new string; sg is
 * released.
 */
char *suggest_not_in_playbook(struct suggest *sg, const char *what, const char *name);

#endif
