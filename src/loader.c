/*
 * loader.c - reading a playbook and checking it against the format of
 * DESIGN.md (see loader.h).
 *
 * Two stages: yamltree.c turns the text into a bounded node tree, then the
 * walk below checks each key and builds the model at the same time.  The
 * walk never stops at the first problem: each check reports at its node and
 * the walk moves on, so `validate` shows every problem in one pass.  The
 * playbook is returned only when nothing was reported.
 *
 * Order matters in one place: vars and roles (with --var overrides) are
 * read before any template is compiled, and every step id and channel name
 * is known before any reference to one is resolved.
 *
 * This file holds the entry points, the node helpers the other loader_*.c
 * files share, and the top level, vars, roles, targets and feedback.
 */
#include "loader_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "crisisrun/duration.h"
#include "crisisrun/interp.h"
#include "crisisrun/suggest.h"
#include "crisisrun/template.h"

/* ---- reporting ---- */

static void vreport(struct ld *l, const char *file, int line, int col, const char *fmt,
                    va_list ap)
{
    l->ndiag++;
    if (l->ndiag > LOADER_MAX_DIAGS) {
        return;
    } else if (l->ndiag == LOADER_MAX_DIAGS) {
        diag_add(l->d, file, line, col, "too many problems; stopped after %d",
                 LOADER_MAX_DIAGS);
        return;
    }
    char *msg = xvasprintf(fmt, ap);
    diag_add(l->d, file, line, col, "%s", msg);
    free(msg);
}

void ld_error(struct ld *l, const struct ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(l, l->file, n ? n->line : 1, n ? n->col : 1, fmt, ap);
    va_end(ap);
}

void ld_error_at(struct ld *l, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(l, file, line, col, fmt, ap);
    va_end(ap);
}

/* ---- name index ---- */

long nameidx_get(const struct nameidx *ix, const char *key)
{
    if (!ix->cap)
        return -1;
    for (size_t i = (size_t)hash_str(key) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        if (!ix->keys[i])
            return -1;
        if (!strcmp(ix->keys[i], key))
            return (long)ix->vals[i];
    }
}

long nameidx_put(struct nameidx *ix, const char *key, size_t val)
{
    if ((ix->n + 1) * 2 > ix->cap) {
        struct nameidx big = {NULL, NULL, ix->cap ? ix->cap * 2 : 16, 0};
        big.keys = xcalloc(big.cap, sizeof(*big.keys));
        big.vals = xcalloc(big.cap, sizeof(*big.vals));
        for (size_t i = 0; i < ix->cap; i++)
            if (ix->keys[i])
                nameidx_put(&big, ix->keys[i], ix->vals[i]);
        nameidx_release(ix);
        *ix = big;
    }
    size_t i = (size_t)hash_str(key) & (ix->cap - 1);
    for (; ix->keys[i]; i = (i + 1) & (ix->cap - 1))
        if (!strcmp(ix->keys[i], key))
            return (long)ix->vals[i];
    ix->keys[i] = key;
    ix->vals[i] = val;
    ix->n++;
    return -1;
}

void nameidx_release(struct nameidx *ix)
{
    free(ix->keys);
    free(ix->vals);
    memset(ix, 0, sizeof(*ix));
}

/* ---- node helpers ---- */

static const char *kind_name(const struct ynode *n)
{
    return n->kind == YNODE_MAPPING    ? "a mapping"
           : n->kind == YNODE_SEQUENCE ? "a list"
                                       : "";
}

/* Whether k is the scalar key; the first byte is compared inline, which
 * spares most strcmp calls when a step's keys are looked up one by one. */
static int key_is(const struct ynode *k, const char *key)
{
    return k->kind == YNODE_SCALAR && k->str[0] == key[0] && !strcmp(k->str, key);
}

const struct ynode *ld_get_key(const struct ynode *m, const char *key)
{
    if (!m || m->kind != YNODE_MAPPING)
        return NULL;
    for (size_t i = 0; i + 1 < m->nv; i += 2)
        if (key_is(m->v[i], key))
            return m->v[i];
    return NULL;
}

const struct ynode *ld_get(const struct ynode *m, const char *key)
{
    if (!m || m->kind != YNODE_MAPPING)
        return NULL;
    for (size_t i = 0; i + 1 < m->nv; i += 2)
        if (key_is(m->v[i], key))
            return m->v[i + 1];
    return NULL;
}

static int key_equal(const char *a, const char *b, int nocase)
{
    return nocase ? !strcasecmp(a, b) : !strcmp(a, b);
}

void ld_check_dups(struct ld *l, const struct ynode *m, const char *noun, int nocase,
                   char *skip)
{
    size_t n = ynode_npairs(m);
    struct nameidx ix = {NULL, NULL, 0, 0};
    char **lower = NULL;
    /* Small mappings (nearly all) are scanned; large ones use an index. */
    int big = n > 16;
    if (big && nocase)
        lower = xcalloc(n, sizeof(*lower));
    for (size_t i = 0; i < n; i++) {
        const struct ynode *k = m->v[2 * i];
        skip[i] = 0;
        if (k->kind != YNODE_SCALAR) {
            ld_error(l, k, "a key must be a string, not %s", kind_name(k));
            skip[i] = 1;
            continue;
        }
        long first = -1;
        if (big) {
            const char *key = k->str;
            if (nocase) {
                lower[i] = xstrdup(k->str);
                for (char *p = lower[i]; *p; p++)
                    *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
                key = lower[i];
            }
            first = nameidx_put(&ix, key, i);
        } else {
            for (size_t j = 0; j < i && first < 0; j++)
                if (!skip[j] && key_equal(m->v[2 * j]->str, k->str, nocase))
                    first = (long)j;
        }
        if (first >= 0) {
            ld_error(l, k, "duplicate %s '%s' (first at line %d)", noun, k->str,
                     m->v[2 * first]->line);
            skip[i] = 1;
        }
    }
    nameidx_release(&ix);
    if (lower) {
        for (size_t i = 0; i < n; i++)
            free(lower[i]);
        free(lower);
    }
}

int ld_check_keys(struct ld *l, const struct ynode *m, const char *what,
                  const char *const *known)
{
    if (m->kind != YNODE_MAPPING) {
        ld_error(l, m, "'%s' must be a mapping", what);
        return -1;
    }
    size_t n = ynode_npairs(m);
    char small[32], *skip = n <= sizeof(small) ? small : xmalloc(n);
    ld_check_dups(l, m, "key", 0, skip);
    for (size_t i = 0; i < n; i++) {
        const struct ynode *k = m->v[2 * i];
        if (skip[i])
            continue;
        size_t j = 0;
        while (known[j] && !key_is(k, known[j]))
            j++;
        if (known[j])
            continue;
        if (key_is(k, "<<")) {
            /* YAML 1.1's merge key, which libyaml leaves to the application. */
            ld_error(l, k,
                     "merge keys ('<<') are not supported: write the keys out in full");
            continue;
        }
        struct suggest sg = SUGGEST_INIT;
        for (j = 0; known[j]; j++)
            suggest_add(&sg, known[j]);
        const char *best = suggest_best(&sg, k->str);
        if (best)
            ld_error(l, k, "unknown key '%s' (did you mean '%s'?)", k->str, best);
        else
            ld_error(l, k, "unknown key '%s'", k->str);
        suggest_release(&sg);
    }
    if (skip != small)
        free(skip);
    return 0;
}

struct at_node {
    struct ld *l;
    const struct ynode *n;
    const char *value;
    const char *anchor;
};

static void report_at_node(void *arg, size_t offset, const char *msg)
{
    struct at_node *a = arg;
    int line, col;
    ytree_locate(a->l->t, a->n, a->value, offset, a->anchor, &line, &col);
    ld_error_at(a->l, a->l->file, line, col, "%s", msg);
}

char *ld_text(struct ld *l, const struct ynode *n, const char *what)
{
    if (n->kind != YNODE_SCALAR) {
        ld_error(l, n, "'%s' must be a string, not %s", what, kind_name(n));
        return NULL;
    }
    if (ynode_is_null(n)) {
        ld_error(l, n, "'%s' has no value", what);
        return NULL;
    }
    char *out;
    struct at_node a = {l, n, n->str, "${"};
    if (interp_expand(n->str, l->dir, &out, report_at_node, &a) < 0)
        return NULL;
    return out;
}

int ld_duration(struct ld *l, const struct ynode *n, const char *what, int64_t min_ms,
                int64_t *ms)
{
    if (n->kind != YNODE_SCALAR || ynode_is_null(n)) {
        ld_error(l, n, "'%s' must be a duration such as 30m", what);
        return -1;
    }
    char *s = ld_text(l, n, what);
    if (!s)
        return -1;
    const char *why;
    int ret = 0;
    char buf[32];
    if (duration_parse(s, ms, &why) < 0) {
        ld_error(l, n, "invalid duration '%s' for '%s': %s", s, what, why);
        ret = -1;
    } else if (*ms < min_ms) {
        if (min_ms == 1)
            ld_error(l, n, "'%s' must be longer than zero", what);
        else
            ld_error(l, n, "'%s' must be at least %s", what,
                     duration_format(min_ms, buf, sizeof(buf)));
        ret = -1;
    }
    free(s);
    return ret;
}

int ld_int(struct ld *l, const struct ynode *n, const char *what, long lo, long hi,
           long *out)
{
    if (n->kind != YNODE_SCALAR || ynode_is_null(n)) {
        ld_error(l, n, "'%s' must be an integer", what);
        return -1;
    }
    char *s = ld_text(l, n, what);
    if (!s)
        return -1;
    /* A sign is read, so that -1 is told it is out of range, not that
     * it is no integer. */
    const char *p = s + (*s == '+' || *s == '-');
    long v = 0;
    int ok = *p != '\0';
    for (; *p && ok; p++) {
        if (*p < '0' || *p > '9' || v > 100000000)
            ok = 0;
        else
            v = v * 10 + (*p - '0');
    }
    if (*s == '-')
        v = -v;
    free(s);
    if (!ok) {
        ld_error(l, n, "'%s' must be an integer", what);
        return -1;
    }
    if (v < lo || v > hi) {
        ld_error(l, n, "'%s' must be from %ld to %ld", what, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int ld_is_ident(const char *s, int dots)
{
    if (!*s || strlen(s) > 128)
        return 0;
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
            !(*s >= '0' && *s <= '9') && *s != '_' && *s != '-' && !(dots && *s == '.'))
            return 0;
    return 1;
}

int ld_status(struct ld *l, const struct ynode *n, const char *s, enum run_status *st)
{
    int v = run_status_from_name(s);
    if (v >= 0) {
        *st = (enum run_status)v;
        return 0;
    }
    struct suggest sg = SUGGEST_INIT;
    for (int i = 0; i < STATUS_COUNT; i++)
        suggest_add(&sg, run_status_name((enum run_status)i));
    const char *best = suggest_best(&sg, s);
    if (best)
        ld_error(l, n, "unknown status '%s' (did you mean '%s'?)", s, best);
    else
        ld_error(l, n, "unknown status '%s' (use " RUN_STATUS_LIST ")", s);
    suggest_release(&sg);
    return -1;
}

int ld_channel_list(struct ld *l, const struct ynode *n, const char *what, size_t **out,
                    size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (ynode_is_null(n))
        return 0;
    if (n->kind != YNODE_SEQUENCE) {
        ld_error(l, n, "'%s' must be a list of channel names", what);
        return -1;
    }
    int ret = 0;
    *out = xcalloc(n->nv ? n->nv : 1, sizeof(**out));
    for (size_t i = 0; i < n->nv; i++) {
        char *name = ld_text(l, n->v[i], "notify");
        if (!name) {
            ret = -1;
            continue;
        }
        long c = nameidx_get(&l->channels, name);
        if (c < 0) {
            struct suggest sg = SUGGEST_INIT;
            for (size_t k = 0; k < l->pb->nchannels; k++)
                suggest_add(&sg, l->pb->channels[k].name);
            const char *best = suggest_best(&sg, name);
            if (best)
                ld_error(l, n->v[i], "unknown channel '%s' (did you mean '%s'?)", name,
                         best);
            else if (!l->pb->nchannels)
                ld_error(l, n->v[i],
                         "unknown channel '%s' (the playbook has no 'channels')", name);
            else
                ld_error(l, n->v[i], "unknown channel '%s'", name);
            suggest_release(&sg);
            ret = -1;
        } else {
            for (size_t k = 0; k < *nout; k++) {
                if ((*out)[k] == (size_t)c) {
                    ld_error(l, n->v[i], "channel '%s' is listed twice", name);
                    ret = -1;
                }
            }
            (*out)[(*nout)++] = (size_t)c;
        }
        free(name);
    }
    return ret;
}

struct template *ld_template(struct ld *l, const struct ynode *n, const char *text,
                             unsigned allow)
{
    struct at_node a = {l, n, text, "{{"};
    return template_compile(text, l->pb, allow, report_at_node, &a);
}

/* ---- vars, roles, targets ---- */

/* A mapping of names to single values (vars, roles) into *out. */
static void read_kv(struct ld *l, const struct ynode *m, const char *what,
                    struct kv **out, size_t *nout)
{
    if (ynode_is_null(m))
        return;
    if (m->kind != YNODE_MAPPING) {
        ld_error(l, m, "'%s' must be a mapping of names to values", what);
        return;
    }
    size_t n = ynode_npairs(m);
    char *skip = xmalloc(n ? n : 1);
    const char *noun = !strcmp(what, "vars") ? "var" : "role";
    ld_check_dups(l, m, noun, 0, skip);
    *out = xcalloc(n ? n : 1, sizeof(**out));
    for (size_t i = 0; i < n; i++) {
        const struct ynode *k = m->v[2 * i], *v = m->v[2 * i + 1];
        if (skip[i])
            continue;
        if (!ld_is_ident(k->str, 0)) {
            ld_error(l, k, "invalid %s name '%s' (use letters, digits, '_' and '-')",
                     noun, k->str);
            continue;
        }
        if (v->kind != YNODE_SCALAR) {
            ld_error(l, v, "%s '%s' must be a single value, not %s", noun, k->str,
                     kind_name(v));
            continue;
        }
        char *what_k = xasprintf("%s.%s", what, k->str);
        /* An empty value is a value: "" (a var may be meant to be blank). */
        char *val = ynode_is_null(v) ? xstrdup("") : ld_text(l, v, what_k);
        free(what_k);
        if (!val)
            continue;
        (*out)[*nout].key = xstrdup(k->str);
        (*out)[(*nout)++].value = val;
    }
    free(skip);
}

void ld_check_public_text(struct ld *l, const struct ynode *n, const char *what,
                          const char *text)
{
    enum { SHORTEST = 8 };
    const struct playbook *pb = l->pb;
    for (size_t i = 0; text && i < pb->nchannels; i++) {
        const struct channel *c = &pb->channels[i];
        const char *kind = NULL, *url = NULL;
        char buf[URL_BUF_SIZE];
        if (!c->urls_file && c->urls.n == 1)
            url = url_list_get(&c->urls, 0, buf);
        if (url && strlen(url) >= SHORTEST && strstr(text, url))
            kind = "url";
        else if (c->secret && strlen(c->secret) >= SHORTEST && strstr(text, c->secret))
            kind = "signing secret";
        for (size_t h = 0; !kind && h < c->nheaders; h++)
            if (strlen(c->headers[h].value) >= SHORTEST && strstr(text, c->headers[h].value))
                kind = "header value";
        if (kind) {
            ld_error(l, n,
                     "%s holds channel '%s''s %s, a secret: it would go to everyone the "
                     "message reaches (link to something public instead)",
                     what, c->name, kind);
            return;
        }
    }
}

static void apply_overrides(struct playbook *pb, const struct loader_options *opt)
{
    if (!opt || !opt->noverrides)
        return;
    size_t alloc = pb->nvars;
    for (size_t i = 0; i < opt->noverrides; i++) {
        const struct kv *o = &opt->overrides[i];
        size_t j = 0;
        while (j < pb->nvars && strcmp(pb->vars[j].key, o->key))
            j++;
        if (j == pb->nvars) {
            ALLOC_GROW(pb->vars, pb->nvars + 1, alloc);
            pb->vars[pb->nvars++].key = xstrdup(o->key);
        } else {
            free(pb->vars[j].value);
        }
        pb->vars[j].value = xstrdup(o->value);
    }
}

/* 1 when any message template of pb uses vars.KEY. */
static int var_used(const struct playbook *pb, const char *key)
{
    char *name = xasprintf("vars.%s", key);
    int used = template_uses(pb->feedback.message, name);
    for (size_t i = 0; !used && i < pb->nsteps; i++)
        used = template_uses(pb->steps[i].message, name);
    free(name);
    return used;
}

/*
 * A --var naming neither a variable the playbook declares nor one its
 * messages use can only be a typo, and the value the user meant to set
 * would silently not be: refuse it, with a suggestion.  It has no place in
 * the file, so it is reported at line 0.
 */
static void check_overrides(struct ld *l, size_t declared)
{
    const struct playbook *pb = l->pb;
    for (size_t i = 0; l->opt && i < l->opt->noverrides; i++) {
        const char *key = l->opt->overrides[i].key;
        size_t j = 0;
        while (j < declared && strcmp(pb->vars[j].key, key))
            j++;
        if (j < declared || var_used(pb, key))
            continue;
        struct suggest sg = SUGGEST_INIT;
        for (j = 0; j < declared; j++)
            suggest_add(&sg, pb->vars[j].key);
        const char *best = suggest_best(&sg, key);
        if (best)
            ld_error_at(l, l->file, 0, 0,
                        "--var '%s' names no variable of this playbook (did you mean '%s'?)",
                        key, best);
        else
            ld_error_at(l, l->file, 0, 0, "--var '%s' names no variable of this playbook",
                        key);
        suggest_release(&sg);
    }
}

static void read_targets(struct ld *l, const struct ynode *m)
{
    static const char *const keys[] = {"acknowledge", "first_update", "update_interval",
                                       "resolve", NULL};
    struct targets *t = &l->pb->targets;
    int64_t *slots[] = {&t->acknowledge_ms, &t->first_update_ms, &t->update_interval_ms,
                        &t->resolve_ms};
    if (ynode_is_null(m) || ld_check_keys(l, m, "targets", keys) < 0)
        return;
    for (size_t i = 0; keys[i]; i++) {
        const struct ynode *v = ld_get(m, keys[i]);
        int64_t ms;
        if (v && ld_duration(l, v, keys[i], 1, &ms) == 0)
            *slots[i] = ms;
    }
}

/* ---- feedback ---- */

static void read_question(struct ld *l, const struct ynode *m, struct nameidx *ids)
{
    static const char *const keys[] = {"id", "text", "scale", "type", NULL};
    struct feedback_cfg *f = &l->pb->feedback;
    if (ld_check_keys(l, m, "questions", keys) < 0)
        return;
    struct question *q = &f->questions[f->nquestions++];
    const struct ynode *id = ld_get(m, "id"), *text = ld_get(m, "text");
    const struct ynode *scale = ld_get(m, "scale"), *type = ld_get(m, "type");
    if (!id) {
        ld_error(l, m, "missing required key 'id'");
    } else if ((q->id = ld_text(l, id, "id")) != NULL) {
        if (!ld_is_ident(q->id, 0)) {
            ld_error(l, id, "invalid question id '%s' (use letters, digits, '_' and '-')",
                     q->id);
        } else {
            long first = nameidx_put(ids, q->id, (size_t)id->line);
            if (first >= 0)
                ld_error(l, id, "duplicate question id '%s' (first at line %ld)", q->id,
                         first);
        }
    }
    const char *name = q->id ? q->id : "?";
    if (!text)
        ld_error(l, m, "missing required key 'text'");
    else
        q->text = ld_text(l, text, "text");
    int is_text = 0;
    if (type) {
        char *t = ld_text(l, type, "type");
        if (t && !strcmp(t, "text"))
            is_text = 1;
        else if (t && strcmp(t, "rating"))
            ld_error(l, type, "'type' must be rating or text");
        free(t);
    }
    if (is_text && scale) {
        ld_error(l, scale, "question '%s' has both 'scale' and 'type: text'", name);
    } else if (scale) {
        long s;
        if (ld_int(l, scale, "scale", 2, 10, &s) == 0)
            q->scale = (int)s;
    } else if (!is_text) {
        ld_error(l, m, "question '%s' needs 'scale' (2 to 10) or 'type: text'", name);
    }
}

static void read_feedback(struct ld *l, const struct ynode *m)
{
    static const char *const keys[] = {"window", "request", "questions", NULL};
    static const char *const req_keys[] = {"notify", "message", NULL};
    struct feedback_cfg *f = &l->pb->feedback;
    if (ynode_is_null(m) || ld_check_keys(l, m, "feedback", keys) < 0)
        return;
    f->present = 1;
    const struct ynode *v;
    if ((v = ld_get(m, "window")) != NULL)
        ld_duration(l, v, "window", 1, &f->window_ms);
    const struct ynode *req = ld_get(m, "request");
    if (req && ld_check_keys(l, req, "request", req_keys) == 0) {
        if ((v = ld_get(req, "notify")) != NULL)
            ld_channel_list(l, v, "notify", &f->notify, &f->nnotify);
        if ((v = ld_get(req, "message")) != NULL) {
            f->message_src = ld_text(l, v, "message");
            ld_check_public_text(l, v, "the feedback request's message", f->message_src);
            if (f->message_src)
                f->message =
                    ld_template(l, v, f->message_src, TEMPLATE_ALLOW_FEEDBACK_URL);
        } else if (f->nnotify) {
            ld_error(l, req,
                     "the feedback request notifies channels but has no 'message'");
        }
    }
    const struct ynode *qs = ld_get(m, "questions");
    if (!qs) {
        ld_error(l, m, "missing required key 'questions'");
    } else if (qs->kind != YNODE_SEQUENCE) {
        ld_error(l, qs, "'questions' must be a list");
    } else if (!qs->nv) {
        ld_error(l, qs, "'questions' must have at least one question");
    } else {
        struct nameidx ids = {NULL, NULL, 0, 0};
        f->questions = xcalloc(qs->nv, sizeof(*f->questions));
        for (size_t i = 0; i < qs->nv; i++)
            read_question(l, qs->v[i], &ids);
        nameidx_release(&ids);
    }
}

/* ---- top level ---- */

static void read_version(struct ld *l, const struct ynode *root)
{
    const struct ynode *v = ld_get(root, "crisisrun");
    if (!v) {
        ld_error(l, root,
                 "missing required key 'crisisrun' (the format version: crisisrun: 1)");
        return;
    }
    long ver;
    if (ld_int(l, v, "crisisrun", 0, 1000000, &ver) < 0)
        return;
    if (ver != 1)
        ld_error(l, v, "unsupported format version %ld (this crisisrun reads version 1)",
                 ver);
    l->pb->version = (int)ver;
}

static char *read_string(struct ld *l, const struct ynode *root, const char *key,
                         int required)
{
    const struct ynode *v = ld_get(root, key);
    if (!v) {
        if (required)
            ld_error(l, root, "missing required key '%s'", key);
        return NULL;
    }
    return ld_text(l, v, key);
}

static void read_playbook(struct ld *l, const struct ynode *root)
{
    static const char *const keys[] = {"crisisrun", "name",     "title",    "severity",
                                       "vars",      "targets",  "channels", "roles",
                                       "steps",     "feedback", NULL};
    struct playbook *pb = l->pb;
    if (!root) {
        ld_error(l, NULL,
                 "the playbook is empty (it needs 'crisisrun', 'name' and 'steps')");
        return;
    }
    if (root->kind != YNODE_MAPPING) {
        ld_error(l, root,
                 "a playbook must be a mapping of keys such as 'crisisrun', 'name' and "
                 "'steps'");
        return;
    }
    ld_check_keys(l, root, "playbook", keys);
    read_version(l, root);
    pb->name = read_string(l, root, "name", 1);
    if (pb->name && !ld_is_ident(pb->name, 1))
        ld_error(l, ld_get(root, "name"),
                 "invalid name '%s' (use letters, digits, '_', '-' and '.')", pb->name);
    pb->title = read_string(l, root, "title", 0);
    if (!pb->title && pb->name)
        pb->title = xstrdup(pb->name);
    pb->severity = read_string(l, root, "severity", 0);

    const struct ynode *v;
    if ((v = ld_get(root, "vars")) != NULL)
        read_kv(l, v, "vars", &pb->vars, &pb->nvars);
    if ((v = ld_get(root, "roles")) != NULL)
        read_kv(l, v, "roles", &pb->roles, &pb->nroles);
    /* Templates see the overridden values: apply them before any compiles. */
    size_t declared = pb->nvars;
    apply_overrides(pb, l->opt);
    if ((v = ld_get(root, "targets")) != NULL)
        read_targets(l, v);
    if ((v = ld_get(root, "channels")) != NULL)
        ld_channels(l, v);
    if ((v = ld_get(root, "steps")) != NULL)
        ld_steps(l, v);
    else
        ld_error(l, root, "missing required key 'steps'");
    if ((v = ld_get(root, "feedback")) != NULL)
        read_feedback(l, v);
    check_overrides(l, declared);
    /* Messages show the title and the vars: checked now that the
     * channels are known (an override has no place in the file). */
    ld_check_public_text(l, ld_get(root, "title"), "the title", pb->title);
    const struct ynode *vars = ld_get(root, "vars");
    for (size_t i = 0; i < pb->nvars; i++) {
        char *what = xasprintf("var '%s'", pb->vars[i].key);
        ld_check_public_text(l, vars ? ld_get(vars, pb->vars[i].key) : NULL, what,
                             pb->vars[i].value);
        free(what);
    }
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

static struct playbook *load(const char *name, const char *path, const char *dir,
                             const char *data, size_t len,
                             const struct loader_options *opt, struct diag *d)
{
    struct ytree t = YTREE_INIT;
    struct ld l;
    memset(&l, 0, sizeof(l));
    l.file = name;
    l.dir = dir;
    l.t = &t;
    l.d = d;
    l.opt = opt;
    size_t before = d->n;
    struct playbook *pb = xcalloc(1, sizeof(*pb));
    pb->path = xstrdup(path);
    pb->dir = xstrdup(dir);
    pb->targets = (struct targets){-1, -1, -1, -1};
    pb->feedback.window_ms = (int64_t)72 * 3600 * 1000;
    l.pb = pb;
    if (ytree_parse(&t, name, data, len, d) == 0) {
        read_playbook(&l, t.root);
    }
    nameidx_release(&l.steps);
    nameidx_release(&l.channels);
    free(l.after_node);
    free(l.escalate_node);
    ytree_release(&t);
    if (d->n > before) {
        playbook_free(pb);
        return NULL;
    }
    return pb;
}

struct playbook *loader_load_mem(const char *name, const char *dir, const char *data,
                                 size_t len, const struct loader_options *opt,
                                 struct diag *d)
{
    return load(name, name, dir ? dir : ".", data, len, opt, d);
}

struct playbook *loader_load(const char *path, const struct loader_options *opt,
                             struct diag *d)
{
    return loader_load_text(path, opt, d, NULL);
}

struct playbook *loader_load_text(const char *path, const struct loader_options *opt,
                                  struct diag *d, char **text)
{
    if (text)
        *text = NULL;
    /* A playbook may come through a pipe (`<(...)`, /dev/stdin); a FIFO
     * with no writer reads as empty, reported below. */
    struct stat st;
    const char *why;
    FILE *f = interp_open_any(path, &st, &why);
    if (!f) {
        diag_add(d, path, 0, 0, "cannot open the playbook: %s", why);
        return NULL;
    }
    /*
     * Read one byte past the bound, so an oversized file is never read
     * whole; size the buffer from the file when it says, to read it in one go.
     */
    struct strbuf sb = STRBUF_INIT;
    size_t hint = 0;
    if (S_ISREG(st.st_mode) && st.st_size > 0)
        hint =
            (size_t)st.st_size > LOADER_MAX_BYTES ? LOADER_MAX_BYTES : (size_t)st.st_size;
    strbuf_init(&sb, hint + 2);
    size_t n;
    while (sb.len <= LOADER_MAX_BYTES) {
        if (sb.alloc - sb.len < 2)
            strbuf_grow(&sb, 65536);
        n = fread(sb.buf + sb.len, 1, sb.alloc - sb.len - 1, f);
        if (!n)
            break;
        sb.len += n;
        sb.buf[sb.len] = '\0';
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        diag_add(d, path, 0, 0, "cannot read the playbook: %s", strerror(errno));
        strbuf_release(&sb);
        return NULL;
    }
    if (S_ISFIFO(st.st_mode) && !sb.len) {
        diag_add(d, path, 0, 0,
                 "cannot read the playbook: it is a FIFO and nothing was written to it "
                 "(give a regular file, or start the writer first)");
        strbuf_release(&sb);
        return NULL;
    }
    char *dir = dir_of(path);
    struct playbook *pb = load(path, path, dir, strbuf_str(&sb), sb.len, opt, d);
    free(dir);
    if (pb && text)
        *text = strbuf_detach(&sb, NULL);
    strbuf_release(&sb);
    return pb;
}
