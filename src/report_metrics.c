/*
 * report_metrics.c - computes every figure of the report once, from the
 * journal and the run's metadata (report.h; definitions in docs/report.md).
 *
 * Deliberate choices:
 * - An "update" is a notification of a step occurrence (not the feedback
 *   request).  Its time, for cadence and silence, is its first delivery to
 *   the channel: a message that never arrived informed nobody.
 * - Percentiles are nearest-rank (the value of a real delivery, never an
 *   interpolation between two).
 * - Everything is computed here and stored rounded (shares to 4 decimals,
 *   means to 2), so the JSON, Markdown and HTML renderers print the same
 *   numbers.
 */
#include "crisisrun/report.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/utf8.h"

static const char *const target_names[TARGET_COUNT] = {"acknowledge", "first_update",
                                                        "resolve"};

const char *report_target_name(enum report_target_kind k)
{
    return (unsigned)k < TARGET_COUNT ? target_names[k] : "?";
}

static double round_to(double v, double scale)
{
    return floor(v * scale + 0.5) / scale;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p% of samples <= it. */
static int64_t percentile(const int64_t *sorted, size_t n, unsigned p)
{
    if (!n)
        return -1;
    size_t rank = (p * n + 99) / 100;
    return sorted[rank ? rank - 1 : 0];
}

/* ---- the builder's working state -------------------------------------------- */

struct samples {
    int64_t *v;
    size_t n, alloc;
};

static void samples_add(struct samples *s, int64_t v)
{
    ALLOC_GROW(s->v, s->n + 1, s->alloc);
    s->v[s->n++] = v;
}

struct build {
    struct report *r;
    struct runmeta meta;
    struct journal_run run;
    /* Parallel to r->occurrences: for each, per channel entry, the offset of
     * the first delivery (-1 none). */
    int64_t **first_delivery;
    size_t occ_alloc;
    size_t marks_alloc;
};

static int64_t offset(const struct report *r, int64_t t)
{
    return t - r->started_ms;
}

static struct report_occurrence *find_occurrence(struct build *b, const char *step, int occ)
{
    struct report *r = b->r;
    for (size_t i = r->noccurrences; i-- > 0;)
        if (r->occurrences[i].occurrence == occ && !strcmp(r->occurrences[i].step, step))
            return &r->occurrences[i];
    return NULL;
}

static struct report_occurrence *add_occurrence(struct build *b, const char *step, int occ)
{
    struct report *r = b->r;
    size_t alloc = b->occ_alloc;
    ALLOC_GROW(r->occurrences, r->noccurrences + 1, b->occ_alloc);
    b->first_delivery = xrealloc(b->first_delivery, b->occ_alloc * sizeof(*b->first_delivery));
    for (size_t i = alloc; i < b->occ_alloc; i++)
        b->first_delivery[i] = NULL;
    struct report_occurrence *o = &r->occurrences[r->noccurrences++];
    memset(o, 0, sizeof(*o));
    o->step = xstrdup(step ? step : "");
    o->occurrence = occ;
    o->scheduled_ms = -1;
    o->actual_ms = -1;
    return o;
}

static size_t delivery_index(struct build *b, struct report_occurrence *o, const char *channel)
{
    for (size_t i = 0; i < o->nchannels; i++)
        if (!strcmp(o->channels[i].channel, channel))
            return i;
    size_t oi = (size_t)(o - b->r->occurrences);
    o->channels = xrealloc(o->channels, (o->nchannels + 1) * sizeof(*o->channels));
    b->first_delivery[oi] =
        xrealloc(b->first_delivery[oi], (o->nchannels + 1) * sizeof(**b->first_delivery));
    memset(&o->channels[o->nchannels], 0, sizeof(*o->channels));
    o->channels[o->nchannels].channel = xstrdup(channel);
    b->first_delivery[oi][o->nchannels] = -1;
    return o->nchannels++;
}

static struct report_comm *find_channel(struct report *r, const char *name)
{
    for (size_t i = 0; i < r->nchannels; i++)
        if (!strcmp(r->channels[i].name, name))
            return &r->channels[i];
    return NULL;
}

static void comm_init(struct report_comm *c)
{
    memset(c, 0, sizeof(*c));
    c->first_update_ms = -1;
    c->on_time_share = -1;
    c->longest_silence_ms = -1;
    c->latency_p50_ms = c->latency_p95_ms = -1;
}

static struct report_comm *add_channel(struct report *r, const char *name, const char *type,
                                       enum audience audience, int endpoints)
{
    r->channels = xrealloc(r->channels, (r->nchannels + 1) * sizeof(*r->channels));
    struct report_comm *c = &r->channels[r->nchannels++];
    comm_init(c);
    c->name = xstrdup(name);
    c->type = type ? xstrdup(type) : NULL;
    c->audience = audience;
    c->endpoints = endpoints;
    r->has_audience[audience] = 1;
    return c;
}

static int is_update(const char *step)
{
    return strcmp(step, REPORT_FEEDBACK_STEP) != 0;
}

/* ---- summary, targets, status --------------------------------------------------- */

static void summarize(struct build *b)
{
    struct report *r = b->r;
    struct journal_run *run = &b->run;
    memcpy(r->run_id, run->id, sizeof(r->run_id));
    r->playbook = xstrdup(run->playbook_name);
    r->title = xstrdup(run->title ? run->title : run->playbook_name);
    r->severity = run->severity ? xstrdup(run->severity) : NULL;
    r->acknowledged_by = run->acknowledged_by ? xstrdup(run->acknowledged_by) : NULL;
    r->drill = run->drill;
    r->state = run->state;
    r->status = run->status;
    r->started_ms = run->started_ms;
    r->resolved_ms = run->resolved_ms;
    if (run->resolved_ms)
        r->end_ms = offset(r, run->resolved_ms);
    else if (run->ended_ms)
        r->end_ms = offset(r, run->ended_ms);
    else
        r->end_ms = -1;
    r->duration_ms = r->end_ms;
    r->update_interval_ms = b->meta.targets.update_interval_ms;
    r->feedback = b->meta.feedback;
    r->feedback_window_ms = b->meta.feedback_window_ms;
}

/* met: 1 / 0, or -1 when there is no target or it is not decided yet. */
static void judge(struct build *b, enum report_target_kind k, int64_t target,
                  int64_t actual)
{
    struct report *r = b->r;
    /* What has not happened is missed once the run is resolved.  An
     * interrupted or failed run can be resumed, and its clock runs on
     * while it is down (resume counts that time): there it is missed once
     * the promised time has passed on the run's clock. */
    int over = r->resolved_ms != 0;
    if (!over && r->state != RUN_STATE_RUNNING && target >= 0)
        over = offset(r, journal_run_clock(&b->run, wallclock_ms())) > target;
    struct report_target *t = &r->targets[k];
    t->target_ms = target;
    t->actual_ms = actual;
    if (target < 0)
        t->met = -1;
    else if (actual >= 0)
        t->met = actual <= target;
    else
        t->met = over ? 0 : -1;
}

static void status_periods(struct build *b, const struct journal_event *ev, size_t nev)
{
    struct report *r = b->r;
    size_t alloc = 0;
    ALLOC_GROW(r->periods, 1, alloc);
    r->periods[0] = (struct report_period){STATUS_INVESTIGATING, 0, -1};
    r->nperiods = 1;
    for (size_t i = 0; i < nev; i++) {
        if (ev[i].kind != EV_STATUS_CHANGED || !ev[i].detail_json)
            continue;
        json_t *d = json_loads(ev[i].detail_json, 0, NULL);
        int to = run_status_from_name(json_string_value(json_object_get(d, "to")));
        json_decref(d);
        struct report_period *cur = &r->periods[r->nperiods - 1];
        if (to < 0 || (enum run_status)to == cur->status)
            continue;
        int64_t at = offset(r, ev[i].at_ms);
        cur->end_ms = at;
        ALLOC_GROW(r->periods, r->nperiods + 1, alloc);
        r->periods[r->nperiods++] = (struct report_period){(enum run_status)to, at, -1};
    }
    /* A run that ended unresolved closes its last status at the end. */
    struct report_period *last = &r->periods[r->nperiods - 1];
    if (last->status != STATUS_RESOLVED && r->end_ms >= 0 && r->end_ms >= last->start_ms)
        last->end_ms = r->end_ms;
}

/* ---- step occurrences and deliveries -------------------------------------------- */

static void fired_steps(struct build *b, const struct journal_event *ev, size_t nev)
{
    for (size_t i = 0; i < nev; i++) {
        if (ev[i].kind != EV_STEP_FIRED || !ev[i].step)
            continue;
        struct report_occurrence *o = find_occurrence(b, ev[i].step, ev[i].occurrence);
        if (!o)
            o = add_occurrence(b, ev[i].step, ev[i].occurrence);
        o->fired = 1;
        o->actual_ms = offset(b->r, ev[i].at_ms);
        json_t *d = ev[i].detail_json ? json_loads(ev[i].detail_json, 0, NULL) : NULL;
        json_t *sched = json_object_get(d, "scheduled_offset_ms");
        json_t *actual = json_object_get(d, "actual_offset_ms");
        if (json_is_integer(sched))
            o->scheduled_ms = json_integer_value(sched);
        if (json_is_integer(actual))
            o->actual_ms = json_integer_value(actual);
        o->late = json_is_true(json_object_get(d, "late"));
        json_decref(d);
        if (o->scheduled_ms >= 0 && o->actual_ms > o->scheduled_ms)
            o->late_ms = o->actual_ms - o->scheduled_ms;
    }
}

static void deliveries(struct build *b, const struct journal_notification *nv, size_t n)
{
    struct report *r = b->r;
    for (size_t i = 0; i < n; i++) {
        const struct journal_notification *nt = &nv[i];
        struct report_occurrence *o = find_occurrence(b, nt->step, nt->occurrence);
        if (!o) {
            o = add_occurrence(b, nt->step, nt->occurrence);
            o->actual_ms = offset(r, nt->created_ms);
        }
        size_t di = delivery_index(b, o, nt->channel);
        struct report_delivery *d = &o->channels[di];
        d->endpoints++;
        d->attempts += nt->attempts;
        d->retries += nt->attempts > 1 ? nt->attempts - 1 : 0;
        int64_t at = offset(r, nt->settled_ms ? nt->settled_ms : nt->updated_ms);
        switch (nt->state) {
        case DELIVERY_DELIVERED: {
            d->delivered++;
            int64_t *first = &b->first_delivery[o - r->occurrences][di];
            if (*first < 0 || at < *first)
                *first = at;
            break;
        }
        case DELIVERY_FAILED:
        case DELIVERY_DISABLED:
            d->failed++;
            break;
        default:
            d->pending++;
        }

        ALLOC_GROW(r->marks, r->nmarks + 1, b->marks_alloc);
        struct report_mark *m = &r->marks[r->nmarks++];
        m->channel = xstrdup(nt->channel);
        m->at_ms = nt->settled_ms ? at : offset(r, nt->created_ms);
        m->state = nt->state;
    }
}

/* ---- communication ------------------------------------------------------------- */

/*
 * Whether occurrence o was sent once the crisis was over: it came due after
 * the resolution (a manual step triggered as a post-mortem reminder, an
 * after: step with a delay, a note broadcast during the feedback window).
 * The all-clear comes due at the resolution itself, and a step that
 * resolves the run before it: both are part of the crisis.
 */
static int after_resolution(const struct report *r, const struct report_occurrence *o)
{
    int64_t due = o->scheduled_ms >= 0 ? o->scheduled_ms : o->actual_ms;
    return r->resolved_ms && due > r->end_ms;
}

/* Updates delivered after the resolution, the earliest at first (-1 none). */
struct after {
    int n;
    int64_t first;
};

static void after_add(struct after *a, int64_t t)
{
    a->n++;
    if (a->first < 0 || t < a->first)
        a->first = t;
}

/*
 * Cadence over the sorted delivery offsets t[0..n) of one channel or
 * audience, the updates sent during the crisis.  Those sent after it (a)
 * count as delivered but measure no gap: the time since the all-clear was
 * no silence, and a reminder days later is not a late update.
 */
static void cadence(struct report_comm *c, int64_t *t, size_t n, const struct after *a,
                    int64_t interval, int64_t end)
{
    if (n)
        qsort(t, n, sizeof(*t), cmp_i64);
    int64_t prev = 0, longest = -1;
    c->delivered_updates = (int)n;
    c->gaps = (int)n;
    c->on_time = 0;
    c->first_update_ms = n ? t[0] : -1;
    for (size_t i = 0; i < n; i++) {
        int64_t gap = t[i] > prev ? t[i] - prev : 0;
        if (interval >= 0 && gap <= interval)
            c->on_time++;
        if (gap > longest)
            longest = gap;
        prev = t[i] > prev ? t[i] : prev;
    }
    if (end >= 0 && end - prev > longest)
        longest = end - prev;
    c->longest_silence_ms = longest;
    c->on_time_share = interval >= 0 && n ? round_to((double)c->on_time / (double)n, 1e4) : -1;
    c->delivered_updates += a->n;
    if (a->n && (c->first_update_ms < 0 || a->first < c->first_update_ms))
        c->first_update_ms = a->first;
}

static void latency(struct report_comm *c, struct samples *s)
{
    if (s->n)
        qsort(s->v, s->n, sizeof(*s->v), cmp_i64);
    c->latency_samples = (int)s->n;
    c->latency_p50_ms = percentile(s->v, s->n, 50);
    c->latency_p95_ms = percentile(s->v, s->n, 95);
}

static void count_notification(struct report_comm *c, const struct journal_notification *nt,
                               struct samples *lat)
{
    c->notifications++;
    c->retries += nt->attempts > 1 ? nt->attempts - 1 : 0;
    if (nt->state == DELIVERY_DELIVERED) {
        c->delivered++;
        if (nt->last_latency_ms >= 0)
            samples_add(lat, nt->last_latency_ms);
    } else if (nt->state == DELIVERY_FAILED || nt->state == DELIVERY_DISABLED) {
        c->failed++;
    }
}

static void communication(struct build *b, const struct journal_notification *nv, size_t n)
{
    struct report *r = b->r;
    int64_t interval = b->meta.targets.update_interval_ms;
    for (size_t i = 0; i < b->meta.nchannels; i++) {
        const struct runmeta_channel *mc = &b->meta.channels[i];
        add_channel(r, mc->name, mc->type, mc->audience, mc->endpoints);
    }
    for (size_t i = 0; i < n; i++)
        if (!find_channel(r, nv[i].channel))
            add_channel(r, nv[i].channel, NULL, AUDIENCE_INTERNAL, 0);
    for (int a = 0; a < 2; a++) {
        comm_init(&r->audiences[a]);
        r->audiences[a].name = xstrdup(runmeta_audience_name((enum audience)a));
        r->audiences[a].audience = (enum audience)a;
    }

    /* Delivery counts and latencies: every update notification. */
    struct samples *lat = xcalloc(r->nchannels, sizeof(*lat));
    struct samples alat[2] = {{NULL, 0, 0}, {NULL, 0, 0}};
    for (size_t i = 0; i < n; i++) {
        if (!is_update(nv[i].step))
            continue;
        struct report_comm *c = find_channel(r, nv[i].channel);
        size_t ci = (size_t)(c - r->channels);
        count_notification(c, &nv[i], &lat[ci]);
        count_notification(&r->audiences[c->audience], &nv[i], &alat[c->audience]);
    }

    /* Updates and cadence: per channel, then per audience (an occurrence
     * counts once for an audience, at its earliest delivery there). */
    int64_t *t = xcalloc(r->noccurrences + 1, sizeof(*t));
    for (size_t ci = 0; ci < r->nchannels; ci++) {
        struct report_comm *c = &r->channels[ci];
        size_t nt = 0;
        struct after after = {0, -1};
        for (size_t oi = 0; oi < r->noccurrences; oi++) {
            struct report_occurrence *o = &r->occurrences[oi];
            if (!is_update(o->step))
                continue;
            for (size_t di = 0; di < o->nchannels; di++) {
                if (strcmp(o->channels[di].channel, c->name))
                    continue;
                c->updates++;
                int64_t d = b->first_delivery[oi][di];
                if (d >= 0 && after_resolution(r, o))
                    after_add(&after, d);
                else if (d >= 0)
                    t[nt++] = d;
            }
        }
        cadence(c, t, nt, &after, interval, r->end_ms);
        latency(c, &lat[ci]);
        free(lat[ci].v);
    }
    for (int a = 0; a < 2; a++) {
        struct report_comm *c = &r->audiences[a];
        size_t nt = 0;
        struct after after = {0, -1};
        for (size_t oi = 0; oi < r->noccurrences; oi++) {
            struct report_occurrence *o = &r->occurrences[oi];
            int64_t first = -1;
            int notified = 0;
            if (!is_update(o->step))
                continue;
            for (size_t di = 0; di < o->nchannels; di++) {
                struct report_comm *ch = find_channel(r, o->channels[di].channel);
                if ((int)ch->audience != a)
                    continue;
                notified = 1;
                int64_t d = b->first_delivery[oi][di];
                if (d >= 0 && (first < 0 || d < first))
                    first = d;
            }
            c->updates += notified;
            if (first >= 0 && after_resolution(r, o))
                after_add(&after, first);
            else if (first >= 0)
                t[nt++] = first;
        }
        cadence(c, t, nt, &after, interval, r->end_ms);
        latency(c, &alat[a]);
        free(alat[a].v);
    }
    free(t);
    free(lat);

    /* First update: when every channel that was sent an update had one. */
    int64_t first = -1;
    int any = 0, complete = 1;
    for (size_t ci = 0; ci < r->nchannels; ci++) {
        const struct report_comm *c = &r->channels[ci];
        if (!c->updates)
            continue;
        any = 1;
        if (c->first_update_ms < 0)
            complete = 0;
        else if (c->first_update_ms > first)
            first = c->first_update_ms;
    }
    judge(b, TARGET_FIRST_UPDATE, b->meta.targets.first_update_ms,
          any && complete ? first : -1);
}

/* ---- failures ------------------------------------------------------------------ */

/*
 * What makes two errors the same: the error with each figure that changes
 * from one attempt to the next (the milliseconds a timeout or a connection
 * took, the bytes received) written as N.  Hosts, addresses and ports stay.
 * NULL for none.
 */
static char *error_key(const char *error)
{
    static const char *const units[] = {" ms", " milliseconds", " bytes", " out of "};
    if (!error)
        return NULL;
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "");
    for (const char *p = error; *p;) {
        if (isdigit((unsigned char)*p) &&
            (p == error || (!isalnum((unsigned char)p[-1]) && p[-1] != '.'))) {
            const char *e = p;
            while (isdigit((unsigned char)*e))
                e++;
            size_t k = 0;
            for (; k < ARRAY_SIZE(units); k++) {
                size_t ul = strlen(units[k]);
                if (!strncmp(e, units[k], ul) &&
                    (units[k][ul - 1] == ' ' || !isalnum((unsigned char)e[ul])))
                    break;
            }
            if (k < ARRAY_SIZE(units)) {
                strbuf_addch(&sb, 'N');
                p = e;
                continue;
            }
        }
        strbuf_addch(&sb, *p++);
    }
    return strbuf_detach(&sb, NULL);
}

/* The hash of what makes a failure group: channel, state, status, error_key(). */
static uint64_t failure_hash(const char *channel, enum journal_delivery_state state,
                             int status, const char *key)
{
    uint64_t h = (hash_str(channel) ^ (uint64_t)state) * HASH_PRIME;
    h = (h ^ (uint64_t)(unsigned)status) * HASH_PRIME;
    return key ? hash_add(h, key) : h;
}

static int same_text(const char *a, const char *b)
{
    return a && b ? !strcmp(a, b) : a == b;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Within a channel: the largest group first, then the earliest, then (for
 * an order that does not depend on qsort) by state, status and error. */
static int cmp_failure(const void *a, const void *b)
{
    const struct report_failure *x = a, *y = b;
    if (x->notifications != y->notifications)
        return x->notifications > y->notifications ? -1 : 1;
    if (x->first_ms != y->first_ms)
        return x->first_ms < y->first_ms ? -1 : 1;
    if (x->state != y->state)
        return x->state < y->state ? -1 : 1;
    if (x->http_status != y->http_status)
        return x->http_status < y->http_status ? -1 : 1;
    if (!x->error || !y->error)
        return !!x->error - !!y->error;
    return strcmp(x->error, y->error);
}

/* A group's error_key(), and its endpoints' hashes, to count the distinct
 * ones at the end. */
struct failure_scratch {
    char *key;
    const char **hashes;
    size_t n, alloc;
};

/* The group of a notification, made on first use. */
struct failure_table {
    struct report *r;
    size_t *slot; /* group index + 1; 0 is an empty slot */
    size_t nslots, alloc;
    struct failure_scratch *scratch;
};

static size_t table_probe(const struct failure_table *t, uint64_t h, const char *channel,
                          enum journal_delivery_state state, int status, const char *key)
{
    size_t k = (size_t)h & (t->nslots - 1);
    for (; t->slot[k]; k = (k + 1) & (t->nslots - 1)) {
        const struct report_failure *g = &t->r->failures[t->slot[k] - 1];
        if (g->state == state && g->http_status == status &&
            !strcmp(g->channel, channel) &&
            same_text(t->scratch[t->slot[k] - 1].key, key))
            break;
    }
    return k;
}

static struct report_failure *failure_group(struct failure_table *t,
                                            const struct journal_notification *nt,
                                            int status, const char *error)
{
    struct report *r = t->r;
    /* The error as the report shows it (its URLs redacted, valid UTF-8)
     * decides the group: two that read the same are one. */
    char *shown = NULL;
    if (error) {
        char *red = text_redact_urls(error);
        shown = utf8_clean(red);
        free(red);
    }
    char *key = error_key(shown);
    size_t k = table_probe(t, failure_hash(nt->channel, nt->state, status, key),
                           nt->channel, nt->state, status, key);
    if (t->slot[k]) {
        free(key);
        free(shown);
        return &r->failures[t->slot[k] - 1];
    }
    size_t had = t->alloc;
    ALLOC_GROW(r->failures, r->nfailures + 1, t->alloc);
    if (t->alloc != had) {
        t->scratch = xrealloc(t->scratch, t->alloc * sizeof(*t->scratch));
        memset(t->scratch + had, 0, (t->alloc - had) * sizeof(*t->scratch));
    }
    t->scratch[r->nfailures].key = key;
    r->failures[r->nfailures] = (struct report_failure){
        .channel = xstrdup(nt->channel),
        .state = nt->state,
        .http_status = status,
        .error = shown,
        .first_ms = -1,
    };
    t->slot[k] = ++r->nfailures;
    if (2 * r->nfailures > t->nslots) { /* half full: twice the size */
        free(t->slot);
        t->nslots *= 2;
        t->slot = xcalloc(t->nslots, sizeof(*t->slot));
        for (size_t g = 0; g < r->nfailures; g++) {
            const struct report_failure *x = &r->failures[g];
            const char *xk = t->scratch[g].key;
            t->slot[table_probe(t, failure_hash(x->channel, x->state, x->http_status, xk),
                                x->channel, x->state, x->http_status, xk)] = g + 1;
        }
    }
    return &r->failures[r->nfailures - 1];
}

/*
 * Groups the failed and disabled notifications (struct report_failure).
 * A hash table finds a notification's group, so that thousands of
 * distinct errors cost no more than thousands of equal ones.
 */
static void failures(struct build *b, const struct journal_notification *nv, size_t n)
{
    struct report *r = b->r;
    struct failure_table t = {.r = r, .nslots = 64};
    t.slot = xcalloc(t.nslots, sizeof(*t.slot));
    for (size_t i = 0; i < n; i++) {
        const struct journal_notification *nt = &nv[i];
        if (nt->state != DELIVERY_FAILED && nt->state != DELIVERY_DISABLED)
            continue;
        /* A notification disabled while it waited to retry keeps its last
         * answer (a 503, a timeout); what stopped it is another's 410. */
        int status = nt->last_http_status;
        const char *error = nt->last_error;
        if (nt->state == DELIVERY_DISABLED && status != 410) {
            status = 0;
            error = NULL;
        }
        struct report_failure *f = failure_group(&t, nt, status, error);
        f->notifications++;
        int64_t at = offset(r, nt->settled_ms ? nt->settled_ms : nt->updated_ms);
        if (f->first_ms < 0 || at < f->first_ms)
            f->first_ms = at;
        if (f->nhosts < REPORT_FAILURE_HOSTS) {
            /* The host of the redacted endpoint, "scheme://host[:port]/…". */
            const char *host = strstr(nt->endpoint_redacted, "://");
            host = host ? host + 3 : nt->endpoint_redacted;
            size_t len = strcspn(host, "/");
            int seen = 0;
            for (size_t e = 0; e < f->nhosts && !seen; e++)
                seen = !strncmp(f->hosts[e], host, len) && !f->hosts[e][len];
            if (!seen)
                f->hosts[f->nhosts++] = xstrndup(host, len);
        }
        struct failure_scratch *s = &t.scratch[f - r->failures];
        ALLOC_GROW(s->hashes, s->n + 1, s->alloc);
        s->hashes[s->n++] = nt->endpoint_hash;
    }
    for (size_t g = 0; g < r->nfailures; g++) {
        struct failure_scratch *s = &t.scratch[g];
        qsort(s->hashes, s->n, sizeof(*s->hashes), cmp_str);
        for (size_t e = 0; e < s->n; e++)
            r->failures[g].endpoints += !e || strcmp(s->hashes[e - 1], s->hashes[e]);
        free(s->hashes);
        free(s->key);
    }
    free(t.scratch);
    free(t.slot);

    /* Channels in playbook order (communication() added every channel a
     * notification names), each channel's groups by cmp_failure(). */
    size_t nf = r->nfailures, m = 0;
    struct report_failure *sorted = xcalloc(nf ? nf : 1, sizeof(*sorted));
    char *placed = xcalloc(nf ? nf : 1, 1);
    for (size_t c = 0; c <= r->nchannels; c++) {
        size_t from = m;
        for (size_t g = 0; g < nf; g++)
            if (!placed[g] && (c == r->nchannels ||
                               !strcmp(r->failures[g].channel, r->channels[c].name))) {
                sorted[m++] = r->failures[g];
                placed[g] = 1;
            }
        qsort(sorted + from, m - from, sizeof(*sorted), cmp_failure);
    }
    free(placed);
    free(r->failures);
    r->failures = sorted;
}

const char *report_failure_reason(const struct report_failure *f, char *buf, size_t size)
{
    /* The notification that met the 410 is failed or disabled (the
     * runner's choice); the endpoint's others were never delivered. */
    if (f->http_status == 410)
        return "HTTP 410: the endpoint is gone and was disabled for the rest of the run";
    if (f->state == DELIVERY_DISABLED)
        return "not delivered: the endpoint had answered 410 and was disabled";
    /* A 2xx the provider did not take as confirmation (Slack's 200
     * without "ok"): the error says so, where the status alone reads as
     * a success. */
    if (f->http_status >= 200 && f->http_status < 300 && f->error)
        return f->error;
    if (f->http_status) {
        snprintf(buf, size, "HTTP %d", f->http_status);
        return buf;
    }
    return f->error ? f->error : "no answer was recorded";
}

/* ---- escalations, notes --------------------------------------------------------- */

static void add_escalation(struct report *r, size_t *alloc, const char *step, int occ,
                           const char *escalation, int64_t since, int64_t at, int64_t waited)
{
    ALLOC_GROW(r->escalations, r->nescalations + 1, *alloc);
    struct report_escalation *e = &r->escalations[r->nescalations++];
    e->step = xstrdup(step);
    e->occurrence = occ;
    e->escalation = escalation ? xstrdup(escalation) : NULL;
    e->since_ms = since ? offset(r, since) : -1;
    e->escalated_ms = offset(r, at);
    e->waited_ms = since ? at - since : waited;
}

static void escalations(struct build *b, const struct journal_event *ev, size_t nev,
                        const struct journal_ack_wait *w, size_t nw)
{
    struct report *r = b->r;
    size_t alloc = 0;
    char *used = xcalloc(nw + 1, 1);
    for (size_t i = 0; i < nev; i++) {
        if (ev[i].kind != EV_ESCALATED || !ev[i].step)
            continue;
        json_t *d = ev[i].detail_json ? json_loads(ev[i].detail_json, 0, NULL) : NULL;
        const char *esc = json_string_value(json_object_get(d, "escalation"));
        json_t *w_ms = json_object_get(d, "waited_ms");
        int64_t since = 0, waited = json_is_integer(w_ms) ? json_integer_value(w_ms) : -1;
        for (size_t k = 0; k < nw; k++) {
            if (!used[k] && w[k].occurrence == ev[i].occurrence && !strcmp(w[k].step, ev[i].step)) {
                used[k] = 1;
                since = w[k].since_ms;
                if (!esc)
                    esc = w[k].escalate_step;
                break;
            }
        }
        add_escalation(r, &alloc, ev[i].step, ev[i].occurrence, esc, since, ev[i].at_ms,
                       waited);
        json_decref(d);
    }
    /* Escalations recorded only in the waits (no event). */
    for (size_t k = 0; k < nw; k++)
        if (!used[k] && w[k].escalated_ms)
            add_escalation(r, &alloc, w[k].step, w[k].occurrence, w[k].escalate_step,
                           w[k].since_ms, w[k].escalated_ms, -1);
    free(used);
}

static void notes(struct build *b, const struct journal_note *nv, size_t n)
{
    struct report *r = b->r;
    r->notes = xcalloc(n + 1, sizeof(*r->notes));
    for (size_t i = 0; i < n; i++) {
        struct report_note *note = &r->notes[r->nnotes++];
        note->at_ms = offset(r, nv[i].at_ms);
        note->author = xstrdup(nv[i].author ? nv[i].author : "");
        note->text = xstrdup(nv[i].text ? nv[i].text : "");
        note->action = nv[i].action_item;
        r->nactions += note->action ? 1 : 0;
        json_t *a = nv[i].notify_json ? json_loads(nv[i].notify_json, 0, NULL) : NULL;
        if (json_is_array(a)) {
            note->notify = xcalloc(json_array_size(a) + 1, sizeof(*note->notify));
            size_t k;
            json_t *v;
            json_array_foreach(a, k, v)
                if (json_is_string(v))
                    note->notify[note->nnotify++] = xstrdup(json_string_value(v));
        }
        json_decref(a);
    }
}

/* ---- feedback ------------------------------------------------------------------ */

static void add_comment(struct report_feedback_group *g, size_t *alloc, const struct report *r,
                        const struct journal_feedback *f, const char *question,
                        const char *text)
{
    ALLOC_GROW(g->comments, g->ncomments + 1, *alloc);
    struct report_comment *c = &g->comments[g->ncomments++];
    c->at_ms = offset(r, f->received_ms);
    c->question = question ? xstrdup(question) : NULL;
    c->text = xstrdup(text);
    c->respondent = !f->anonymous && f->respondent ? xstrdup(f->respondent) : NULL;
    c->channel = f->channel ? xstrdup(f->channel) : NULL;
}

static void feedback_group(struct build *b, struct report_feedback_group *g, int audience,
                           const struct journal_feedback *fv, size_t n)
{
    const struct runmeta *m = &b->meta;
    g->questions = xcalloc(m->nquestions + 1, sizeof(*g->questions));
    for (size_t i = 0; i < m->nquestions; i++) {
        if (m->questions[i].scale <= 0)
            continue;
        struct report_question *q = &g->questions[g->nquestions++];
        q->id = xstrdup(m->questions[i].id);
        q->text = xstrdup(m->questions[i].text ? m->questions[i].text : "");
        q->scale = m->questions[i].scale > 10 ? 10 : m->questions[i].scale;
    }
    size_t calloc_ = 0;
    double *sum = xcalloc(g->nquestions + 1, sizeof(*sum));
    for (size_t i = 0; i < n; i++) {
        const struct journal_feedback *f = &fv[i];
        if (audience >= 0 && (int)f->audience != audience)
            continue;
        g->responses++;
        for (size_t k = 0; k < f->nanswers; k++) {
            const struct journal_answer *a = &f->answers[k];
            int rated = 0;
            for (size_t qi = 0; qi < g->nquestions; qi++) {
                struct report_question *q = &g->questions[qi];
                if (strcmp(q->id, a->question_id) || a->rating < 1 || a->rating > q->scale)
                    continue;
                q->answers++;
                q->dist[a->rating]++;
                sum[qi] += a->rating;
                rated = 1;
            }
            if (!rated && a->text && *a->text)
                add_comment(g, &calloc_, b->r, f, a->question_id, a->text);
        }
        if (f->comment && *f->comment)
            add_comment(g, &calloc_, b->r, f, NULL, f->comment);
    }
    for (size_t qi = 0; qi < g->nquestions; qi++) {
        struct report_question *q = &g->questions[qi];
        q->mean = q->top_share = -1;
        if (!q->answers)
            continue;
        q->mean = round_to(sum[qi] / q->answers, 100);
        int top = q->dist[q->scale] + q->dist[q->scale - 1];
        q->top_share = round_to((double)top / q->answers, 1e4);
    }
    free(sum);
}

/* ---- build --------------------------------------------------------------------- */

static void timeline_span(struct report *r)
{
    int64_t span = r->end_ms > 0 ? r->end_ms : 1;
    for (size_t i = 0; i < r->nmarks; i++)
        if (r->marks[i].at_ms > span)
            span = r->marks[i].at_ms;
    for (size_t i = 0; i < r->noccurrences; i++)
        if (r->occurrences[i].actual_ms > span)
            span = r->occurrences[i].actual_ms;
    for (size_t i = 0; i < r->nperiods; i++)
        if (r->periods[i].start_ms > span)
            span = r->periods[i].start_ms;
    r->span_ms = span;
}

/*
 * Time order, stable: occurrences at the same instant keep the journal's
 * order (events by insertion), so a step and the all-clear it caused read
 * in the order they happened.  Insertion sort: the list is already nearly
 * sorted (events come in time order; only notifications without an event
 * are appended).
 */
static void sort_occurrences(struct report *r)
{
    for (size_t i = 1; i < r->noccurrences; i++) {
        struct report_occurrence o = r->occurrences[i];
        size_t k = i;
        for (; k > 0 && r->occurrences[k - 1].actual_ms > o.actual_ms; k--)
            r->occurrences[k] = r->occurrences[k - 1];
        r->occurrences[k] = o;
    }
}

struct report *report_build(struct journal *j, const char *run)
{
    char id[JOURNAL_RUN_ID_LEN + 1];
    struct build b = {0};
    struct journal_event *ev = NULL;
    struct journal_notification *nv = NULL;
    struct journal_ack_wait *w = NULL;
    struct journal_note *nn = NULL;
    struct journal_feedback *fv = NULL;
    size_t nev = 0, nnv = 0, nw = 0, nno = 0, nfv = 0;
    struct report *r = NULL;

    if (journal_run_find(j, run, id) < 0 || journal_run_get(j, id, &b.run) < 0)
        goto out;
    if (runmeta_parse(b.run.meta_json, &b.meta) < 0)
        goto out;
    if (journal_event_list(j, id, &ev, &nev) < 0 ||
        journal_notification_list(j, id, DELIVERY_ALL, &nv, &nnv) < 0 ||
        journal_ack_wait_list(j, id, &w, &nw) < 0 || journal_note_list(j, id, &nn, &nno) < 0 ||
        journal_feedback_list(j, id, &fv, &nfv) < 0)
        goto out;

    r = xcalloc(1, sizeof(*r));
    b.r = r;
    summarize(&b);
    /* An acknowledgement after the resolution (the runner takes one during
     * the feedback window) answered no page: the run was resolved without
     * one, which is a missed target, not a met one. */
    int acked = b.run.acknowledged_ms &&
                (!b.run.resolved_ms || b.run.acknowledged_ms <= b.run.resolved_ms);
    judge(&b, TARGET_ACKNOWLEDGE, b.meta.targets.acknowledge_ms,
          acked ? offset(r, b.run.acknowledged_ms) : -1);
    judge(&b, TARGET_RESOLVE, b.meta.targets.resolve_ms,
          b.run.resolved_ms ? offset(r, b.run.resolved_ms) : -1);
    status_periods(&b, ev, nev);
    fired_steps(&b, ev, nev);
    deliveries(&b, nv, nnv);
    communication(&b, nv, nnv);
    failures(&b, nv, nnv);
    escalations(&b, ev, nev, w, nw);
    notes(&b, nn, nno);
    feedback_group(&b, &r->groups[0], -1, fv, nfv);
    r->groups[0].audience = "all";
    for (int a = 0; a < 2; a++) {
        feedback_group(&b, &r->groups[a + 1], a, fv, nfv);
        r->groups[a + 1].audience = runmeta_audience_name((enum audience)a);
    }
    timeline_span(r);
    /* Time order for the step table; the per-occurrence scratch is done. */
    for (size_t i = 0; i < r->noccurrences; i++)
        free(b.first_delivery[i]);
    free(b.first_delivery);
    b.first_delivery = NULL;
    sort_occurrences(r);
out:
    if (b.first_delivery) {
        for (size_t i = 0; r && i < r->noccurrences; i++)
            free(b.first_delivery[i]);
        free(b.first_delivery);
    }
    journal_event_list_free(ev, nev);
    journal_notification_list_free(nv, nnv);
    journal_ack_wait_list_free(w, nw);
    journal_note_list_free(nn, nno);
    journal_feedback_list_free(fv, nfv);
    runmeta_release(&b.meta);
    journal_run_release(&b.run);
    return r;
}

static void comm_release(struct report_comm *c)
{
    free(c->name);
    free(c->type);
}

void report_free(struct report *r)
{
    if (!r)
        return;
    free(r->playbook);
    free(r->title);
    free(r->severity);
    free(r->acknowledged_by);
    free(r->periods);
    for (size_t i = 0; i < r->noccurrences; i++) {
        for (size_t k = 0; k < r->occurrences[i].nchannels; k++)
            free(r->occurrences[i].channels[k].channel);
        free(r->occurrences[i].channels);
        free(r->occurrences[i].step);
    }
    free(r->occurrences);
    comm_release(&r->audiences[0]);
    comm_release(&r->audiences[1]);
    for (size_t i = 0; i < r->nchannels; i++)
        comm_release(&r->channels[i]);
    free(r->channels);
    for (size_t i = 0; i < r->nescalations; i++) {
        free(r->escalations[i].step);
        free(r->escalations[i].escalation);
    }
    free(r->escalations);
    for (size_t i = 0; i < r->nnotes; i++) {
        free(r->notes[i].author);
        free(r->notes[i].text);
        for (size_t k = 0; k < r->notes[i].nnotify; k++)
            free(r->notes[i].notify[k]);
        free(r->notes[i].notify);
    }
    free(r->notes);
    for (size_t g = 0; g < ARRAY_SIZE(r->groups); g++) {
        for (size_t i = 0; i < r->groups[g].nquestions; i++) {
            free(r->groups[g].questions[i].id);
            free(r->groups[g].questions[i].text);
        }
        free(r->groups[g].questions);
        for (size_t i = 0; i < r->groups[g].ncomments; i++) {
            struct report_comment *c = &r->groups[g].comments[i];
            free(c->question);
            free(c->text);
            free(c->respondent);
            free(c->channel);
        }
        free(r->groups[g].comments);
    }
    for (size_t i = 0; i < r->nmarks; i++)
        free(r->marks[i].channel);
    free(r->marks);
    for (size_t i = 0; i < r->nfailures; i++) {
        free(r->failures[i].channel);
        free(r->failures[i].error);
        for (size_t e = 0; e < r->failures[i].nhosts; e++)
            free(r->failures[i].hosts[e]);
    }
    free(r->failures);
    free(r);
}

int report_audience_shown(const struct report *r, enum audience a)
{
    return (unsigned)a < 2 && r->has_audience[a];
}

int report_group_shown(const struct report *r, size_t group)
{
    return group == 0 || (group < ARRAY_SIZE(r->groups) && r->groups[group].responses > 0);
}
