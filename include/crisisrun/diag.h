/*
 * diag.h - diagnostics collected while checking a playbook.
 *
 * The loader keeps going after a problem so that a user sees every problem
 * of a file in one pass.  Each diagnostic carries the file, a 1-based line
 * and column (0 when unknown) and a lowercase message without a full stop.
 * Printing is the caller's choice: `validate` prints them all, tests compare
 * them one by one.
 */
#ifndef CRISISRUN_DIAG_H
#define CRISISRUN_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include "crisisrun/util.h"

struct diag_entry {
    char *file; /* owned */
    int line;   /* 1-based, 0 if unknown */
    int col;    /* 1-based, 0 if unknown */
    char *msg;  /* owned */
};

struct diag {
    struct diag_entry *v;
    size_t n, alloc;
};
#define DIAG_INIT {NULL, 0, 0}

/* Records an error at file:line:col. */
void diag_add(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
    CR_PRINTF(5, 6);
/* Sorts entries by file order of insertion, then line, then column (stable). */
void diag_sort(struct diag *d);
/* Prints every entry as "FILE:LINE:COL: error: MESSAGE\n". */
void diag_print(const struct diag *d, FILE *out);
/* Formats one entry the way diag_print does (new string, no newline). */
char *diag_format(const struct diag_entry *e);
void diag_release(struct diag *d);

#endif
