/*
 * yamltree.c - libyaml events into a bounded node tree (see yamltree.h).
 *
 * The event API is used rather than libyaml's document loader because the
 * loader copies nothing but also checks nothing: it would expand a billion
 * laughs lazily for whoever walks it, and it links anchors before their node
 * is complete, which makes recursive documents.  Here every bound is checked
 * as the events arrive, so a hostile document is stopped at the event that
 * crosses a bound.
 *
 * Nodes, their strings and their child arrays live in one bump arena and
 * are freed together: with shared (aliased) nodes there is no single owner
 * to free them one by one, and a large playbook is a hundred thousand small
 * objects that malloc would otherwise handle one at a time.  Children are
 * collected on one stack shared by all open collections and copied into
 * the arena, at their exact size, when their collection ends.
 */
#include "crisisrun/yamltree.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "crisisrun/loader.h"
#include "crisisrun/util.h"
#include "crisisrun/utf8.h"

#define CHUNK_SIZE (64u << 10)

struct ychunk {
    struct ychunk *next;
    size_t used, cap;
    _Alignas(max_align_t) char data[];
};

struct anchor {
    char *name;
    struct ynode *node;
};

struct builder {
    struct ytree *t;
    const char *file;
    struct diag *d;
    struct ynode *stack[LOADER_MAX_DEPTH];
    size_t depth;
    struct anchor *anchors;
    size_t nanchors, aanchors;
    /* Anchors of the open collections, registered when each one ends. */
    char *pending[LOADER_MAX_DEPTH];
    /* Children of the open collections; stack[i]'s start at first[i]. */
    struct ynode **kids;
    size_t nkids, akids;
    size_t first[LOADER_MAX_DEPTH];
    size_t naliases;
    int documents;
};

/* Arena memory for size bytes, aligned for any object. */
static void *arena_alloc(struct ytree *t, size_t size)
{
    size = (size + _Alignof(max_align_t) - 1) & ~(size_t)(_Alignof(max_align_t) - 1);
    struct ychunk *c = t->chunks;
    if (c && c->cap - c->used >= size) {
        void *p = c->data + c->used;
        c->used += size;
        return p;
    }
    /* A large request gets a chunk of its own, behind the current one. */
    size_t cap = size > CHUNK_SIZE / 4 ? size : CHUNK_SIZE;
    struct ychunk *n = xmalloc(sizeof(*n) + cap);
    n->used = size;
    n->cap = cap;
    if (c && cap == size) {
        n->next = c->next;
        c->next = n;
    } else {
        n->next = c;
        t->chunks = n;
    }
    return n->data;
}

static struct ynode *node_new(struct ytree *t)
{
    struct ynode *n = arena_alloc(t, sizeof(*n));
    memset(n, 0, sizeof(*n));
    n->weight = 1;
    return n;
}

void ytree_release(struct ytree *t)
{
    struct ychunk *c = t->chunks;
    while (c) {
        struct ychunk *next = c->next;
        free(c);
        c = next;
    }
    free(t->lines);
    memset(t, 0, sizeof(*t));
}

static void build_lines(struct ytree *t)
{
    if (t->lines)
        return;
    size_t alloc = 0;
    ALLOC_GROW(t->lines, 1, alloc);
    t->lines[t->nlines++] = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->src[i] == '\n') {
            ALLOC_GROW(t->lines, t->nlines + 1, alloc);
            t->lines[t->nlines++] = i + 1;
        }
    }
}

void ytree_offset_pos(struct ytree *t, size_t offset, int *line, int *col)
{
    build_lines(t);
    if (offset > t->len)
        offset = t->len;
    size_t lo = 0, hi = t->nlines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->lines[mid] <= offset)
            lo = mid;
        else
            hi = mid;
    }
    int c = 1;
    for (size_t i = t->lines[lo]; i < offset; i++)
        if (!utf8_is_continuation((unsigned char)t->src[i]))
            c++;
    *line = (int)lo + 1;
    *col = c;
}

/* The byte offset of a 1-based line and character column, clamped to the text. */
static size_t pos_offset(struct ytree *t, int line, int col)
{
    build_lines(t);
    if (line < 1)
        return 0;
    if ((size_t)line > t->nlines)
        return t->len;
    size_t i = t->lines[line - 1];
    for (int c = 1; c < col && i < t->len && t->src[i] != '\n'; c++) {
        i++;
        while (i < t->len && utf8_is_continuation((unsigned char)t->src[i]))
            i++;
    }
    return i;
}

static const char *find_mem(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(hay + i, needle, k))
            return hay + i;
    return NULL;
}

void ytree_locate(struct ytree *t, const struct ynode *n, const char *value,
                  size_t offset, const char *anchor, int *line, int *col)
{
    *line = n->line;
    *col = n->col;
    if (n->kind != YNODE_SCALAR || !t->src)
        return;
    size_t vlen = strlen(value);
    if (offset > vlen)
        offset = vlen;
    /* The last anchor at or before offset, and its rank among the anchors. */
    size_t rank = 0, at = 0, alen = strlen(anchor);
    int found = 0;
    for (const char *p = value; (p = strstr(p, anchor)) && (size_t)(p - value) <= offset;
         p += alen) {
        if (found)
            rank++;
        found = 1;
        at = (size_t)(p - value);
    }
    if (!found) {
        /* A single-line scalar maps one to one (past an opening quote). */
        if (n->end_line == n->line && memchr(value, '\n', offset) == NULL)
            *col = n->col + (int)offset +
                   (n->style == YSTYLE_SINGLE_QUOTED || n->style == YSTYLE_DOUBLE_QUOTED);
        return;
    }
    size_t start = pos_offset(t, n->line, n->col),
           end = pos_offset(t, n->end_line, n->end_col);
    const char *p = t->src + start;
    for (size_t i = 0;; i++) {
        if (p >= t->src + end)
            return;
        p = find_mem(p, (size_t)(t->src + end - p), anchor);
        if (!p)
            return;
        if (i == rank)
            break;
        p += alen;
    }
    ytree_offset_pos(t, (size_t)(p - t->src), line, col);
    /* Then move along the line by the characters between anchor and offset. */
    for (size_t i = at; i < offset; i++) {
        if (value[i] == '\n')
            return;
        if (!utf8_is_continuation((unsigned char)value[i]))
            (*col)++;
    }
}

int ynode_is_null(const struct ynode *n)
{
    if (n->kind != YNODE_SCALAR || n->style != YSTYLE_PLAIN || n->text)
        return 0;
    if (n->len > 4)
        return 0;
    return !strcmp(n->str, "") || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
           !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

static void mark_pos(const yaml_mark_t *m, int *line, int *col)
{
    *line = m->line < INT32_MAX ? (int)m->line + 1 : INT32_MAX;
    *col = m->column < INT32_MAX ? (int)m->column + 1 : INT32_MAX;
}

static void fail_at(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
    CR_PRINTF(3, 4);
static void fail_at(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
    int line, col;
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    mark_pos(m, &line, &col);
    diag_add(b->d, b->file, line, col, "%s", msg);
    free(msg);
}

static struct ynode *find_anchor(struct builder *b, const char *name)
{
    /* Latest definition wins: YAML lets a later anchor shadow an earlier one. */
    for (size_t i = b->nanchors; i-- > 0;)
        if (!strcmp(b->anchors[i].name, name))
            return b->anchors[i].node;
    return NULL;
}

static void add_anchor(struct builder *b, char *name, struct ynode *n)
{
    ALLOC_GROW(b->anchors, b->nanchors + 1, b->aanchors);
    b->anchors[b->nanchors].name = name;
    b->anchors[b->nanchors].node = n;
    b->nanchors++;
}

/* Attaches n (new or aliased) to the open collection, or makes it the root. */
static void attach(struct builder *b, struct ynode *n)
{
    if (!b->depth) {
        b->t->root = n;
        return;
    }
    ALLOC_GROW(b->kids, b->nkids + 1, b->akids);
    b->kids[b->nkids++] = n;
    /* Bounded by count_nodes(): a weight never exceeds YTREE_MAX_NODES. */
    b->stack[b->depth - 1]->weight += n->weight;
}

/* Counts `weight` more nodes; -1 after reporting when over the bound. */
static int count_nodes(struct builder *b, size_t weight, const yaml_mark_t *m)
{
    b->t->total += weight;
    if (b->t->total > YTREE_MAX_NODES) {
        int line, col;
        mark_pos(m, &line, &col);
        diag_add(b->d, b->file, line, col,
                 "the document stands for more than %d nodes once aliases are expanded",
                 YTREE_MAX_NODES);
        return -1;
    }
    return 0;
}

static enum ynode_style scalar_style(yaml_scalar_style_t s)
{
    switch (s) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        return YSTYLE_SINGLE_QUOTED;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        return YSTYLE_DOUBLE_QUOTED;
    case YAML_LITERAL_SCALAR_STYLE:
        return YSTYLE_LITERAL;
    case YAML_FOLDED_SCALAR_STYLE:
        return YSTYLE_FOLDED;
    default:
        return YSTYLE_PLAIN;
    }
}

static void set_span(struct ynode *n, const yaml_event_t *ev)
{
    mark_pos(&ev->start_mark, &n->line, &n->col);
    mark_pos(&ev->end_mark, &n->end_line, &n->end_col);
}

/*
 * Reports a tag that asks for a reading crisisrun does not do (!!binary, an
 * application's own !vault): taken as plain text, such a value would be
 * used as something it is not.  The core schema's tags (!!str, !!int, ...)
 * and the non-specific "!" are let through, each on the kind of node it
 * names: each key reads its value as the type it expects anyway.
 * Reported, the node is read on, so that every tag is reported at once.
 * Returns 1 for !!str, whose value is text even where a plain one would
 * be null ("~", "null"), else 0.
 */
static int check_tag(struct builder *b, const yaml_event_t *ev, const yaml_char_t *tag,
                     enum ynode_kind kind)
{
    static const char core[] = "tag:yaml.org,2002:";
    static const struct {
        const char *name;
        enum ynode_kind kind;
    } allowed[] = {
        {"str", YNODE_SCALAR},   {"int", YNODE_SCALAR},  {"float", YNODE_SCALAR},
        {"bool", YNODE_SCALAR},  {"null", YNODE_SCALAR}, {"map", YNODE_MAPPING},
        {"seq", YNODE_SEQUENCE},
    };
    static const char *const kinds[] = {[YNODE_SCALAR] = "a single value",
                                        [YNODE_SEQUENCE] = "a list",
                                        [YNODE_MAPPING] = "a mapping"};
    const char *t = (const char *)tag;
    if (!t || !strcmp(t, "!"))
        return 0;
    int is_core = !strncmp(t, core, strlen(core));
    const char *name = is_core ? t + strlen(core) : t;
    for (size_t i = 0; is_core && i < ARRAY_SIZE(allowed); i++) {
        if (strcmp(name, allowed[i].name))
            continue;
        if (allowed[i].kind == kind)
            return kind == YNODE_SCALAR && !strcmp(name, "str");
        fail_at(b, &ev->start_mark, "YAML tag '!!%s' is on %s (remove the tag)", name,
                kinds[kind]);
        return 0;
    }
    fail_at(b, &ev->start_mark,
            "YAML tag '%s%s' is not supported: crisisrun takes each value as written "
            "(remove the tag)",
            is_core ? "!!" : "", name);
    return 0;
}

static int on_scalar(struct builder *b, yaml_event_t *ev)
{
    int text = check_tag(b, ev, ev->data.scalar.tag, YNODE_SCALAR);
    if (count_nodes(b, 1, &ev->start_mark) < 0)
        return -1;
    struct ynode *n = node_new(b->t);
    n->kind = YNODE_SCALAR;
    n->text = text;
    n->style = scalar_style(ev->data.scalar.style);
    set_span(n, ev);
    /* The text is at most LOADER_MAX_BYTES, and so is any value in it. */
    n->len = (uint32_t)ev->data.scalar.length;
    n->str = arena_alloc(b->t, n->len + 1);
    memcpy(n->str, ev->data.scalar.value, n->len);
    n->str[n->len] = '\0';
    if (memchr(n->str, '\0', n->len)) {
        /* Every value ends up in a C string: a NUL would silently cut it. */
        fail_at(b, &ev->start_mark, "a value must not contain a NUL character");
        n->len = (uint32_t)strlen(n->str);
    }
    if (ev->data.scalar.anchor)
        add_anchor(b, xstrdup((const char *)ev->data.scalar.anchor), n);
    attach(b, n);
    return 0;
}

static int on_start(struct builder *b, yaml_event_t *ev, enum ynode_kind kind,
                    const yaml_char_t *anchor, const yaml_char_t *tag)
{
    if (b->depth == LOADER_MAX_DEPTH) {
        int line, col;
        mark_pos(&ev->start_mark, &line, &col);
        diag_add(b->d, b->file, line, col, "nesting is deeper than %d levels",
                 LOADER_MAX_DEPTH);
        return -1;
    }
    check_tag(b, ev, tag, kind);
    if (count_nodes(b, 1, &ev->start_mark) < 0)
        return -1;
    struct ynode *n = node_new(b->t);
    n->kind = kind;
    n->style = YSTYLE_COLLECTION;
    set_span(n, ev);
    b->pending[b->depth] = anchor ? xstrdup((const char *)anchor) : NULL;
    b->first[b->depth] = b->nkids;
    b->stack[b->depth++] = n;
    return 0;
}

static void on_end(struct builder *b, yaml_event_t *ev)
{
    struct ynode *n = b->stack[--b->depth];
    size_t first = b->first[b->depth];
    n->nv = (uint32_t)(b->nkids - first);
    n->v = arena_alloc(b->t, (n->nv ? n->nv : 1) * sizeof(*n->v));
    /* kids is still NULL when no collection has had a child yet. */
    if (n->nv)
        memcpy(n->v, b->kids + first, n->nv * sizeof(*n->v));
    b->nkids = first;
    mark_pos(&ev->end_mark, &n->end_line, &n->end_col);
    if (b->pending[b->depth])
        add_anchor(b, b->pending[b->depth], n);
    b->pending[b->depth] = NULL;
    attach(b, n);
}

static int on_alias(struct builder *b, yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    if (++b->naliases > LOADER_MAX_ALIASES) {
        int line, col;
        mark_pos(&ev->start_mark, &line, &col);
        diag_add(b->d, b->file, line, col, "more than %d aliases", LOADER_MAX_ALIASES);
        return -1;
    }
    struct ynode *n = find_anchor(b, name);
    if (!n) {
        fail_at(b, &ev->start_mark, "unknown anchor '%s'", name);
        return -1;
    }
    if (count_nodes(b, n->weight, &ev->start_mark) < 0)
        return -1;
    attach(b, n);
    return 0;
}

static void syntax_error(struct builder *b, yaml_parser_t *p)
{
    int line, col;
    if (p->error == YAML_READER_ERROR) {
        ytree_offset_pos(b->t, p->problem_offset, &line, &col);
    } else {
        mark_pos(&p->problem_mark, &line, &col);
    }
    const char *problem = p->problem ? p->problem : "cannot parse";
    /* The context often names the line where the mistake really is. */
    if (p->context && p->error != YAML_READER_ERROR)
        diag_add(b->d, b->file, line, col, "invalid YAML: %s (%s at line %d)", problem,
                 p->context, (int)p->context_mark.line + 1);
    else
        diag_add(b->d, b->file, line, col, "invalid YAML: %s", problem);
}

/* Handles one event: 1 at the end of the stream, 0 to go on, -1 to stop. */
static int on_event(struct builder *b, yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->documents > 1) {
            fail_at(b, &ev->start_mark,
                    "a playbook is one YAML document; this starts another");
            return -1;
        }
        return 0;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, YNODE_SEQUENCE, ev->data.sequence_start.anchor,
                        ev->data.sequence_start.tag);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, YNODE_MAPPING, ev->data.mapping_start.anchor,
                        ev->data.mapping_start.tag);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        on_end(b, ev);
        return 0;
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev);
    default:
        return 0;
    }
}

int ytree_parse(struct ytree *t, const char *file, const char *data, size_t len,
                struct diag *d)
{
    struct builder b;
    memset(&b, 0, sizeof(b));
    b.t = t;
    b.file = file;
    b.d = d;
    /*
     * A UTF-8 byte order mark, which Windows editors write, is allowed by
     * YAML; libyaml, told the encoding, would take it for content.  Left
     * out, so that positions on line 1 are the ones an editor shows.
     */
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
        data += 3;
        len -= 3;
    }
    t->src = data;
    t->len = len;
    if (len > LOADER_MAX_BYTES) {
        diag_add(d, file, 0, 0, "the file is larger than %u bytes", LOADER_MAX_BYTES);
        return -1;
    }
    size_t bad = utf8_check(data, len);
    if (bad < len) {
        int line, col;
        ytree_offset_pos(t, bad, &line, &col);
        diag_add(d, file, line, col, "the file is not UTF-8 text (byte 0x%02x)",
                 (unsigned char)data[bad]);
        return -1;
    }

    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        die("out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
    yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
    int ret = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(&b, &p);
            ret = -1;
            break;
        }
        int r = on_event(&b, &ev);
        yaml_event_delete(&ev);
        if (r) {
            ret = r < 0 ? -1 : 0;
            break;
        }
    }
    yaml_parser_delete(&p);
    for (size_t i = 0; i < b.depth; i++)
        free(b.pending[i]);
    for (size_t i = 0; i < b.nanchors; i++)
        free(b.anchors[i].name);
    free(b.anchors);
    free(b.kids);
    if (ret < 0)
        t->root = NULL;
    return ret;
}
