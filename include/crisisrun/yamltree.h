/*
 * yamltree.h - a bounded YAML document tree, built from libyaml events.
 *
 * The loader (loader.h) checks a playbook against its format by walking this
 * tree.  Building it is where hostile input is stopped: the text must be
 * UTF-8 and at most LOADER_MAX_BYTES long, collections may nest at most
 * LOADER_MAX_DEPTH deep, a document may use at most LOADER_MAX_ALIASES
 * aliases and may stand for at most YTREE_MAX_NODES nodes once its aliases
 * are expanded.  Aliases are not copied: an alias is the anchored node
 * itself, shared, so a "billion laughs" document costs what its text costs
 * and is rejected by counting, never by expanding.
 *
 * An anchor becomes usable when its node is complete, so an alias cannot
 * refer to a node that contains it: the tree is always acyclic.
 */
#ifndef CRISISRUN_YAMLTREE_H
#define CRISISRUN_YAMLTREE_H

#include <stddef.h>
#include <stdint.h>

#include "crisisrun/diag.h"

/* Nodes a document may stand for once aliases are expanded. */
#define YTREE_MAX_NODES 1000000

enum ynode_kind {
    YNODE_SCALAR,
    YNODE_SEQUENCE,
    YNODE_MAPPING,
};

enum ynode_style {
    YSTYLE_PLAIN,
    YSTYLE_SINGLE_QUOTED,
    YSTYLE_DOUBLE_QUOTED,
    YSTYLE_LITERAL,
    YSTYLE_FOLDED,
    YSTYLE_COLLECTION,
};

struct ynode {
    enum ynode_kind kind;
    enum ynode_style style;
    int line, col;         /* 1-based start, as libyaml counts (characters) */
    int end_line, end_col; /* 1-based, just past the node */
    /* Scalars: the value, NUL-terminated (len excludes the NUL). */
    uint32_t len;
    int text; /* scalars: tagged !!str, so never null (ynode_is_null) */
    /*
     * Collections: a sequence's items in order; a mapping's keys and values
     * alternate (v[2i] is a key, v[2i+1] its value), so a mapping has nv/2
     * pairs.  Items may be shared between several parents (aliases).
     */
    uint32_t nv;
    uint32_t weight; /* nodes in the subtree with aliases expanded */
    char *str;
    struct ynode **v;
};

struct ychunk;
struct ytree {
    struct ynode *root; /* NULL for an empty document */
    const char *src;    /* the parsed text (not owned; must outlive the tree) */
    size_t len;
    size_t *lines; /* byte offset of each line start, built on demand */
    size_t nlines;
    /* Nodes, strings and child arrays live in one arena, freed together. */
    struct ychunk *chunks;
    size_t total; /* nodes with aliases expanded */
};
#define YTREE_INIT                                                                       \
    {                                                                                    \
        NULL, NULL, 0, NULL, 0, NULL, 0                                                  \
    }

/*
 * Parses data (len bytes, need not be NUL-terminated) into t.  Problems are
 * added to d under the name `file`.  Returns 0, or -1 when the text could
 * not be turned into a tree (syntax error, a bound exceeded, not UTF-8); the
 * tree may still hold nodes and must be released either way.  Some problems
 * (a NUL character in a value, an unsupported tag) are reported without
 * failing the parse.
 */
int ytree_parse(struct ytree *t, const char *file, const char *data, size_t len,
                struct diag *d);
void ytree_release(struct ytree *t);

/*
 * Finds the source position of byte `offset` of `value`, the (possibly
 * processed) text of scalar n.  `anchor` is a marker the problem starts at
 * ("{{" for templates, "${" for substitutions): the anchors are matched in
 * order between value and source, which holds through quoting, escapes,
 * folding and block indentation.  Falls back to the node's start.
 */
void ytree_locate(struct ytree *t, const struct ynode *n, const char *value,
                  size_t offset, const char *anchor, int *line, int *col);

/* Converts a byte offset of the text into a 1-based line and column. */
void ytree_offset_pos(struct ytree *t, size_t offset, int *line, int *col);

/* 1 for a plain scalar that YAML reads as null: "", "~", "null", "Null", "NULL"
 * (and not tagged !!str). */
int ynode_is_null(const struct ynode *n);

/* Number of pairs of a mapping. */
static inline size_t ynode_npairs(const struct ynode *m)
{
    return m->nv / 2;
}

#endif
