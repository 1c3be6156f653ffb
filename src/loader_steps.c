/*
 * loader_steps.c - the `steps` list of a playbook: ids, the one timing of
 * each step (at, after, every, on), status, notify, message and ack, then
 * the checks that need every step at once: escalation targets and cycles of
 * `after` references.
 *
 * Ids are read in a first pass, so a step may refer to one defined below it.
 */
#include "loader_priv.h"

#include <stdlib.h>
#include <string.h>

#include "crisisrun/suggest.h"
#include "crisisrun/template.h"

static const char *const timing_keys[] = {"at", "after", "every", "on"};

/* How messages name step i: "'declare'", or "#3" when it has no usable id. */
static char *step_label(struct ld *l, size_t i)
{
    const char *id = l->pb->steps[i].id;
    return id ? xasprintf("'%s'", id) : xasprintf("#%zu", i + 1);
}

/* Resolves a reference to a step; the index, or -1 after reporting. */
static long step_ref(struct ld *l, const struct ynode *n, const char *what)
{
    char *id = ld_text(l, n, what);
    if (!id)
        return -1;
    long i = nameidx_get(&l->steps, id);
    if (i < 0) {
        struct suggest sg = SUGGEST_INIT;
        for (size_t k = 0; k < l->pb->nsteps; k++)
            if (l->pb->steps[k].id)
                suggest_add(&sg, l->pb->steps[k].id);
        const char *best = suggest_best(&sg, id);
        if (best)
            ld_error(l, n, "unknown step '%s' (did you mean '%s'?)", id, best);
        else
            ld_error(l, n, "unknown step '%s'", id);
        suggest_release(&sg);
    }
    free(id);
    return i;
}

static void read_until(struct ld *l, struct step *s, const struct ynode *n)
{
    static const char *const keys[] = {"count", NULL};
    if (n->kind == YNODE_SCALAR && !ynode_is_null(n)) {
        char *v = ld_text(l, n, "until");
        if (v && ld_status(l, n, v, &s->until_status) == 0)
            s->until = UNTIL_STATUS;
        free(v);
    } else if (n->kind == YNODE_MAPPING) {
        if (ld_check_keys(l, n, "until", keys) < 0)
            return;
        const struct ynode *c = ld_get(n, "count");
        long count;
        if (!c)
            ld_error(l, n, "missing required key 'count'");
        else if (ld_int(l, c, "count", 1, 1000000, &count) == 0)
            s->until = UNTIL_COUNT, s->until_count = (int)count;
    } else {
        ld_error(l, n, "'until' must be a status or {count: N}");
    }
}

static void read_on(struct ld *l, struct step *s, const struct ynode *n)
{
    static const char *const events[] = {"acknowledged", "resolved", "escalation",
                                         "manual"};
    static const enum on_event ev[] = {ON_ACKNOWLEDGED, ON_RESOLVED, ON_ESCALATION,
                                       ON_MANUAL};
    char *v = ld_text(l, n, "on");
    if (!v)
        return;
    if (!strncmp(v, "status:", 7)) {
        const char *name = v + 7;
        while (*name == ' ')
            name++;
        if (ld_status(l, n, name, &s->on_status) == 0)
            s->on = ON_STATUS;
        free(v);
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(events); i++) {
        if (!strcmp(v, events[i])) {
            s->on = ev[i];
            free(v);
            return;
        }
    }
    struct suggest sg = SUGGEST_INIT;
    for (size_t i = 0; i < ARRAY_SIZE(events); i++)
        suggest_add(&sg, events[i]);
    const char *best = suggest_best(&sg, v);
    if (best)
        ld_error(l, n, "unknown event '%s' for 'on' (did you mean '%s'?)", v, best);
    else
        ld_error(l, n,
                 "unknown event '%s' for 'on' (use acknowledged, resolved, status:NAME, "
                 "escalation or manual)",
                 v);
    suggest_release(&sg);
    free(v);
}

/* Finds the timing keys; returns the first, reporting each one after it. */
static const struct ynode *read_timing_key(struct ld *l, size_t i, const struct ynode *m)
{
    const struct ynode *first = NULL;
    for (size_t p = 0; p + 1 < m->nv; p += 2) {
        const struct ynode *k = m->v[p];
        size_t t = 0;
        while (t < ARRAY_SIZE(timing_keys) &&
               (k->kind != YNODE_SCALAR || strcmp(k->str, timing_keys[t])))
            t++;
        if (t == ARRAY_SIZE(timing_keys) || ld_get_key(m, k->str) != k)
            continue; /* not timing, or a duplicate key (reported) */
        if (!first) {
            first = k;
        } else {
            char *label = step_label(l, i);
            ld_error(l, k,
                     "step %s has both '%s' and '%s': a step has exactly one timing",
                     label, first->str, k->str);
            free(label);
        }
    }
    if (!first) {
        char *label = step_label(l, i);
        ld_error(l, m, "step %s has no timing (add 'at', 'after', 'every' or 'on')",
                 label);
        free(label);
    }
    return first;
}

/* `delay` needs `after`; `from` and `until` need `every`. */
static void check_timing_options(struct ld *l, size_t i, const struct ynode *m)
{
    static const char *const opts[][3] = {
        {"delay", "after", ""},
        {"from", "every", ""},
        {"until", "every", " (only a recurring step stops)"},
    };
    for (size_t k = 0; k < ARRAY_SIZE(opts); k++) {
        const struct ynode *key = ld_get_key(m, opts[k][0]);
        if (key && !ld_get(m, opts[k][1])) {
            char *label = step_label(l, i);
            ld_error(l, key, "step %s has '%s' but no '%s'%s", label, opts[k][0],
                     opts[k][1], opts[k][2]);
            free(label);
        }
    }
}

static void read_timing(struct ld *l, size_t i, const struct ynode *m)
{
    struct step *s = &l->pb->steps[i];
    const struct ynode *key = read_timing_key(l, i, m), *v;
    check_timing_options(l, i, m);
    if (!key)
        return;
    v = ld_get(m, key->str);
    if (!strcmp(key->str, "at")) {
        s->timing = TIMING_AT;
        ld_duration(l, v, "at", 0, &s->at_ms);
    } else if (!strcmp(key->str, "after")) {
        s->timing = TIMING_AFTER;
        long a = step_ref(l, v, "after");
        if (a >= 0) {
            s->after = (size_t)a;
            l->after_node[i] = v;
        }
        if ((v = ld_get(m, "delay")))
            ld_duration(l, v, "delay", 0, &s->delay_ms);
    } else if (!strcmp(key->str, "every")) {
        s->timing = TIMING_EVERY;
        if (ld_duration(l, v, "every", 1000, &s->every_ms) == 0)
            s->from_ms = s->every_ms;
        if ((v = ld_get(m, "from")))
            ld_duration(l, v, "from", 0, &s->from_ms);
        if ((v = ld_get(m, "until")))
            read_until(l, s, v);
    } else {
        s->timing = TIMING_ON;
        read_on(l, s, v);
    }
}

static void read_ack(struct ld *l, size_t i, const struct ynode *m)
{
    static const char *const keys[] = {"within", "escalate", NULL};
    struct step *s = &l->pb->steps[i];
    if (ld_check_keys(l, m, "ack", keys) < 0)
        return;
    s->has_ack = 1;
    const struct ynode *within = ld_get(m, "within"), *esc = ld_get(m, "escalate");
    if (!within)
        ld_error(l, m, "missing required key 'within'");
    else
        ld_duration(l, within, "within", 1, &s->ack_within_ms);
    if (!esc) {
        ld_error(l, m, "missing required key 'escalate'");
    } else {
        long e = step_ref(l, esc, "escalate");
        if (e >= 0) {
            s->ack_escalate = (size_t)e;
            l->escalate_node[i] = esc;
        }
    }
}

static void read_step(struct ld *l, size_t i, const struct ynode *m)
{
    static const char *const keys[] = {"id",      "at",    "after", "delay",  "every",
                                       "from",    "until", "on",    "status", "notify",
                                       "message", "ack",   NULL};
    struct step *s = &l->pb->steps[i];
    if (ld_check_keys(l, m, "step", keys) < 0)
        return;
    read_timing(l, i, m);
    const struct ynode *v;
    if ((v = ld_get(m, "status"))) {
        char *st = ld_text(l, v, "status");
        if (st && ld_status(l, v, st, &s->status) == 0)
            s->sets_status = 1;
        free(st);
    }
    const struct ynode *notify = ld_get(m, "notify");
    if (notify)
        ld_channel_list(l, notify, "notify", &s->notify, &s->nnotify);
    if ((v = ld_get(m, "message"))) {
        s->message_src = ld_text(l, v, "message");
        ld_check_public_text(l, v, "the message", s->message_src);
        unsigned allow =
            s->timing == TIMING_ON && s->on == ON_ESCALATION ? TEMPLATE_ALLOW_TRIGGER : 0;
        if (s->message_src)
            s->message = ld_template(l, v, s->message_src, allow);
    } else if (notify && notify->kind == YNODE_SEQUENCE && notify->nv) {
        char *label = step_label(l, i);
        ld_error(l, m, "step %s notifies channels but has no 'message'", label);
        free(label);
    }
    if ((v = ld_get(m, "ack")))
        read_ack(l, i, v);
}

/* An escalation target must be a step that runs `on: escalation`. */
static void check_escalations(struct ld *l)
{
    struct playbook *pb = l->pb;
    for (size_t i = 0; i < pb->nsteps; i++) {
        if (!l->escalate_node[i])
            continue;
        const struct step *t = &pb->steps[pb->steps[i].ack_escalate];
        if (t->timing != TIMING_ON || t->on != ON_ESCALATION)
            ld_error(l, l->escalate_node[i],
                     "step '%s' is not an escalation step (give it 'on: escalation')",
                     t->id);
    }
}

/*
 * `after` references form a graph where each step has at most one edge, so
 * a walk from each step either ends or runs into a cycle; marking the walk
 * that reached a step finds each cycle once, in linear time.
 */
static void check_after_cycles(struct ld *l)
{
    struct playbook *pb = l->pb;
    size_t *walk = xcalloc(pb->nsteps, sizeof(*walk)); /* 0 = not visited */
    for (size_t start = 0; start < pb->nsteps; start++) {
        size_t i = start;
        while (l->after_node[i] && !walk[i]) {
            walk[i] = start + 1;
            i = pb->steps[i].after;
        }
        if (!l->after_node[i] || walk[i] != start + 1)
            continue;
        /* i is on a new cycle: name it from its first step in file order. */
        size_t first = i;
        for (size_t j = pb->steps[i].after; j != i; j = pb->steps[j].after)
            if (j < first)
                first = j;
        struct strbuf sb = STRBUF_INIT;
        size_t j = first, shown = 0;
        do {
            strbuf_addf(&sb, "%s -> ", pb->steps[j].id);
            j = pb->steps[j].after;
        } while (j != first && ++shown < 8);
        strbuf_addstr(&sb, j == first ? pb->steps[first].id : "...");
        ld_error(l, l->after_node[first],
                 "'after' references form a cycle, so these steps never run: %s",
                 strbuf_str(&sb));
        strbuf_release(&sb);
    }
    free(walk);
}

void ld_steps(struct ld *l, const struct ynode *seq)
{
    struct playbook *pb = l->pb;
    if (seq->kind != YNODE_SEQUENCE) {
        ld_error(l, seq, "'steps' must be a list");
        return;
    }
    if (!seq->nv) {
        ld_error(l, seq, "'steps' must have at least one step");
        return;
    }
    pb->nsteps = seq->nv;
    pb->steps = xcalloc(pb->nsteps, sizeof(*pb->steps));
    l->after_node = xcalloc(pb->nsteps, sizeof(*l->after_node));
    l->escalate_node = xcalloc(pb->nsteps, sizeof(*l->escalate_node));
    for (size_t i = 0; i < seq->nv; i++) {
        const struct ynode *m = seq->v[i], *idn = ld_get(m, "id");
        struct step *s = &pb->steps[i];
        s->pos.line = m->line;
        s->pos.col = m->col;
        if (m->kind != YNODE_MAPPING) {
            ld_error(l, m,
                     "a step must be a mapping with 'id', a timing, 'notify' and "
                     "'message'");
            continue;
        }
        if (!idn) {
            ld_error(l, m, "missing required key 'id'");
            continue;
        }
        if (!(s->id = ld_text(l, idn, "id")))
            continue;
        if (!ld_is_ident(s->id, 1))
            ld_error(l, idn,
                     "invalid step id '%s' (use letters, digits, '_', '-' and '.')",
                     s->id);
        long first = nameidx_put(&l->steps, s->id, i);
        if (first >= 0)
            ld_error(l, idn, "duplicate step id '%s' (first at line %d)", s->id,
                     pb->steps[first].pos.line);
    }
    for (size_t i = 0; i < seq->nv; i++)
        if (seq->v[i]->kind == YNODE_MAPPING)
            read_step(l, i, seq->v[i]);
    check_escalations(l);
    check_after_cycles(l);
}
