/*
 * runmeta.c - a run's playbook facts as JSON, for the journal (runmeta.h).
 *
 * Built at run creation from the loaded playbook and parsed back by the
 * report and the feedback commands.  The parser is strict about types (a
 * wrong type is "invalid run metadata") but ignores unknown keys, so a
 * later crisisrun may add facts without breaking older readers.
 */
#include "crisisrun/runmeta.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/duration.h"
#include "crisisrun/util.h"

static const char *const audience_names[] = {"internal", "external"};

const char *runmeta_audience_name(enum audience a)
{
    return (size_t)a < ARRAY_SIZE(audience_names) ? audience_names[a] : "internal";
}

int runmeta_audience_from_name(const char *s)
{
    for (size_t i = 0; s && i < ARRAY_SIZE(audience_names); i++)
        if (!strcmp(audience_names[i], s))
            return (int)i;
    return -1;
}

/* ---- building ------------------------------------------------------------- */

static json_t *ms_or_null(int64_t ms)
{
    return ms < 0 ? json_null() : json_integer(ms);
}

/* "at 5m", "after declare + 2m", "every 30m from 30m until resolved", "on resolved". */
static char *step_timing(const struct playbook *pb, const struct step *s)
{
    char a[32], b[32];
    switch (s->timing) {
    case TIMING_AT:
        return xasprintf("at %s", duration_format(s->at_ms, a, sizeof(a)));
    case TIMING_AFTER: {
        const char *after = s->after < pb->nsteps ? pb->steps[s->after].id : "?";
        if (!s->delay_ms)
            return xasprintf("after %s", after);
        return xasprintf("after %s + %s", after, duration_format(s->delay_ms, a, sizeof(a)));
    }
    case TIMING_EVERY: {
        struct strbuf sb = STRBUF_INIT;
        strbuf_addf(&sb, "every %s from %s", duration_format(s->every_ms, a, sizeof(a)),
                    duration_format(s->from_ms, b, sizeof(b)));
        if (s->until == UNTIL_STATUS)
            strbuf_addf(&sb, " until %s", run_status_name(s->until_status));
        else if (s->until == UNTIL_COUNT)
            strbuf_addf(&sb, " until %d occurrences", s->until_count);
        return strbuf_detach(&sb, NULL);
    }
    case TIMING_ON:
        if (s->on == ON_STATUS)
            return xasprintf("on status:%s", run_status_name(s->on_status));
        return xasprintf("on %s", on_event_name(s->on));
    }
    return xstrdup("?");
}

char *runmeta_json(const struct playbook *pb)
{
    json_t *root = json_object();
    json_object_set_new(root, "targets",
                        json_pack("{s:o, s:o, s:o, s:o}",
                                  "acknowledge", ms_or_null(pb->targets.acknowledge_ms),
                                  "first_update", ms_or_null(pb->targets.first_update_ms),
                                  "update_interval",
                                  ms_or_null(pb->targets.update_interval_ms),
                                  "resolve", ms_or_null(pb->targets.resolve_ms)));

    json_t *channels = json_array();
    for (size_t i = 0; i < pb->nchannels; i++) {
        const struct channel *c = &pb->channels[i];
        /* Name, type, audience and a count: never a URL, header or secret. */
        json_array_append_new(channels,
                              json_pack("{s:s, s:s, s:s, s:I}", "name", c->name, "type",
                                        channel_type_name(c->type), "audience",
                                        runmeta_audience_name(c->audience), "endpoints",
                                        (json_int_t)c->urls.n));
    }
    json_object_set_new(root, "channels", channels);

    json_t *steps = json_array();
    for (size_t i = 0; i < pb->nsteps; i++) {
        const struct step *s = &pb->steps[i];
        json_t *notify = json_array();
        for (size_t k = 0; k < s->nnotify; k++)
            if (s->notify[k] < pb->nchannels)
                json_array_append_new(notify, json_string(pb->channels[s->notify[k]].name));
        char *timing = step_timing(pb, s);
        json_array_append_new(steps, json_pack("{s:s, s:s, s:o}", "id", s->id, "timing",
                                               timing, "notify", notify));
        free(timing);
    }
    json_object_set_new(root, "steps", steps);

    if (pb->feedback.present) {
        json_t *questions = json_array();
        for (size_t i = 0; i < pb->feedback.nquestions; i++) {
            const struct question *q = &pb->feedback.questions[i];
            json_t *jq = json_pack("{s:s, s:s}", "id", q->id, "text", q->text ? q->text : "");
            if (q->scale > 0)
                json_object_set_new(jq, "scale", json_integer(q->scale));
            else
                json_object_set_new(jq, "type", json_string("text"));
            json_array_append_new(questions, jq);
        }
        json_object_set_new(root, "feedback",
                            json_pack("{s:I, s:o}", "window_ms",
                                      (json_int_t)pb->feedback.window_ms, "questions",
                                      questions));
    } else {
        json_object_set_new(root, "feedback", json_null());
    }
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!s)
        die("out of memory");
    return s;
}

/* ---- parsing ---------------------------------------------------------------- */

/* A string member, or NULL when absent; *bad set when present but not a string. */
static char *get_str(json_t *obj, const char *key, int *bad)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }
    return xstrdup(json_string_value(v));
}

static int get_ms(json_t *obj, const char *key, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    *out = -1;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return error("invalid run metadata: '%s' is not a duration in milliseconds", key);
    *out = json_integer_value(v);
    return 0;
}

static int parse_channels(json_t *arr, struct runmeta *m)
{
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return error("invalid run metadata: 'channels' is not an array");
    m->channels = xcalloc(json_array_size(arr) + 1, sizeof(*m->channels));
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        struct runmeta_channel *c = &m->channels[m->nchannels++];
        int bad = !json_is_object(v);
        c->name = bad ? NULL : get_str(v, "name", &bad);
        c->type = bad ? NULL : get_str(v, "type", &bad);
        char *aud = bad ? NULL : get_str(v, "audience", &bad);
        int a = aud ? runmeta_audience_from_name(aud) : AUDIENCE_INTERNAL;
        free(aud);
        json_t *n = bad ? NULL : json_object_get(v, "endpoints");
        if (n && json_is_integer(n))
            c->endpoints = (int)json_integer_value(n);
        else if (n)
            bad = 1;
        if (bad || !c->name || a < 0)
            return error("invalid run metadata: channel %zu is malformed", i + 1);
        c->audience = (enum audience)a;
    }
    return 0;
}

static int parse_steps(json_t *arr, struct runmeta *m)
{
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return error("invalid run metadata: 'steps' is not an array");
    m->steps = xcalloc(json_array_size(arr) + 1, sizeof(*m->steps));
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        struct runmeta_step *s = &m->steps[m->nsteps++];
        int bad = !json_is_object(v);
        s->id = bad ? NULL : get_str(v, "id", &bad);
        s->timing = bad ? NULL : get_str(v, "timing", &bad);
        json_t *notify = bad ? NULL : json_object_get(v, "notify");
        if (notify && json_is_array(notify)) {
            s->notify = xcalloc(json_array_size(notify) + 1, sizeof(*s->notify));
            size_t k;
            json_t *c;
            json_array_foreach(notify, k, c) {
                if (!json_is_string(c)) {
                    bad = 1;
                    break;
                }
                s->notify[s->nnotify++] = xstrdup(json_string_value(c));
            }
        } else if (notify && !json_is_null(notify)) {
            bad = 1;
        }
        if (bad || !s->id)
            return error("invalid run metadata: step %zu is malformed", i + 1);
    }
    return 0;
}

static int parse_feedback(json_t *fb, struct runmeta *m)
{
    if (!fb || json_is_null(fb))
        return 0;
    if (!json_is_object(fb))
        return error("invalid run metadata: 'feedback' is not an object");
    m->feedback = 1;
    if (get_ms(fb, "window_ms", &m->feedback_window_ms) < 0)
        return -1;
    if (m->feedback_window_ms < 0)
        m->feedback_window_ms = 0;
    json_t *arr = json_object_get(fb, "questions");
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return error("invalid run metadata: 'feedback.questions' is not an array");
    m->questions = xcalloc(json_array_size(arr) + 1, sizeof(*m->questions));
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        struct runmeta_question *q = &m->questions[m->nquestions++];
        int bad = !json_is_object(v);
        q->id = bad ? NULL : get_str(v, "id", &bad);
        q->text = bad ? NULL : get_str(v, "text", &bad);
        json_t *scale = bad ? NULL : json_object_get(v, "scale");
        if (scale) {
            if (!json_is_integer(scale) || json_integer_value(scale) < 2 ||
                json_integer_value(scale) > 10)
                bad = 1;
            else
                q->scale = (int)json_integer_value(scale);
        }
        if (bad || !q->id)
            return error("invalid run metadata: feedback question %zu is malformed", i + 1);
    }
    return 0;
}

int runmeta_parse(const char *json, struct runmeta *out)
{
    memset(out, 0, sizeof(*out));
    out->targets.acknowledge_ms = out->targets.first_update_ms = -1;
    out->targets.update_interval_ms = out->targets.resolve_ms = -1;
    if (!json)
        return 0;
    json_error_t jerr;
    json_t *root = json_loads(json, 0, &jerr);
    if (!root)
        return error("invalid run metadata: %s", jerr.text);
    int ret = 0;
    json_t *targets = json_object_get(root, "targets");
    if (!json_is_object(root)) {
        ret = error("invalid run metadata: not a JSON object");
    } else if (targets && !json_is_null(targets)) {
        if (!json_is_object(targets))
            ret = error("invalid run metadata: 'targets' is not an object");
        else if (get_ms(targets, "acknowledge", &out->targets.acknowledge_ms) < 0 ||
                 get_ms(targets, "first_update", &out->targets.first_update_ms) < 0 ||
                 get_ms(targets, "update_interval", &out->targets.update_interval_ms) < 0 ||
                 get_ms(targets, "resolve", &out->targets.resolve_ms) < 0)
            ret = -1;
    }
    if (!ret && (parse_channels(json_object_get(root, "channels"), out) < 0 ||
                 parse_steps(json_object_get(root, "steps"), out) < 0 ||
                 parse_feedback(json_object_get(root, "feedback"), out) < 0))
        ret = -1;
    json_decref(root);
    if (ret < 0) {
        runmeta_release(out);
        runmeta_parse(NULL, out); /* leave it empty, as documented */
        return -1;
    }
    return 0;
}

void runmeta_release(struct runmeta *m)
{
    for (size_t i = 0; i < m->nchannels; i++) {
        free(m->channels[i].name);
        free(m->channels[i].type);
    }
    free(m->channels);
    for (size_t i = 0; i < m->nsteps; i++) {
        free(m->steps[i].id);
        free(m->steps[i].timing);
        for (size_t k = 0; k < m->steps[i].nnotify; k++)
            free(m->steps[i].notify[k]);
        free(m->steps[i].notify);
    }
    free(m->steps);
    for (size_t i = 0; i < m->nquestions; i++) {
        free(m->questions[i].id);
        free(m->questions[i].text);
    }
    free(m->questions);
    memset(m, 0, sizeof(*m));
}

const struct runmeta_channel *runmeta_channel(const struct runmeta *m, const char *name)
{
    for (size_t i = 0; name && i < m->nchannels; i++)
        if (!strcmp(m->channels[i].name, name))
            return &m->channels[i];
    return NULL;
}

const struct runmeta_question *runmeta_question(const struct runmeta *m, const char *id)
{
    for (size_t i = 0; id && i < m->nquestions; i++)
        if (!strcmp(m->questions[i].id, id))
            return &m->questions[i];
    return NULL;
}

const struct runmeta_step *runmeta_step(const struct runmeta *m, const char *id)
{
    for (size_t i = 0; id && i < m->nsteps; i++)
        if (!strcmp(m->steps[i].id, id))
            return &m->steps[i];
    return NULL;
}
