/*
 * model.c - releasing and naming the playbook model (see model.h).
 */
#include "crisisrun/model.h"

#include <stdlib.h>
#include <string.h>

#include "crisisrun/template.h"
#include "crisisrun/util.h"

static const char *const channel_type_names[CHANNEL_TYPE_COUNT] = {
    "slack", "teams", "discord", "mattermost", "googlechat", "webhook",
};

static const char *const status_names[STATUS_COUNT] = {
    "investigating", "identified", "monitoring", "resolved",
};

static const char *const on_names[] = {
    "acknowledged", "resolved", "status", "escalation", "manual",
};

const char *channel_type_name(enum channel_type t)
{
    return (unsigned)t < CHANNEL_TYPE_COUNT ? channel_type_names[t] : "?";
}

int channel_type_from_name(const char *s)
{
    for (int i = 0; i < CHANNEL_TYPE_COUNT; i++)
        if (!strcmp(s, channel_type_names[i]))
            return i;
    return -1;
}

const char *run_status_name(enum run_status s)
{
    return (unsigned)s < STATUS_COUNT ? status_names[s] : "?";
}

int run_status_from_name(const char *s)
{
    for (int i = 0; i < STATUS_COUNT; i++)
        if (!strcmp(s, status_names[i]))
            return i;
    return -1;
}

const char *on_event_name(enum on_event e)
{
    return (unsigned)e < ARRAY_SIZE(on_names) ? on_names[e] : "?";
}

long playbook_find_step(const struct playbook *pb, const char *id)
{
    for (size_t i = 0; i < pb->nsteps; i++)
        if (pb->steps[i].id && !strcmp(pb->steps[i].id, id))
            return (long)i;
    return -1;
}

long playbook_find_channel(const struct playbook *pb, const char *name)
{
    for (size_t i = 0; i < pb->nchannels; i++)
        if (pb->channels[i].name && !strcmp(pb->channels[i].name, name))
            return (long)i;
    return -1;
}

const char *kv_get(const struct kv *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].key, key))
            return v[i].value;
    return NULL;
}

static void kv_free(struct kv *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].value);
    }
    free(v);
}

void playbook_free(struct playbook *pb)
{
    if (!pb)
        return;
    free(pb->path);
    free(pb->dir);
    free(pb->name);
    free(pb->title);
    free(pb->severity);
    kv_free(pb->vars, pb->nvars);
    kv_free(pb->roles, pb->nroles);
    for (size_t i = 0; i < pb->nchannels; i++) {
        struct channel *c = &pb->channels[i];
        free(c->name);
        url_list_release(&c->urls);
        free(c->urls_file);
        kv_free(c->headers, c->nheaders);
        free_secret(c->secret);
    }
    free(pb->channels);
    for (size_t i = 0; i < pb->nsteps; i++) {
        struct step *s = &pb->steps[i];
        free(s->id);
        free(s->notify);
        free(s->message_src);
        template_free(s->message);
    }
    free(pb->steps);
    free(pb->feedback.notify);
    free(pb->feedback.message_src);
    template_free(pb->feedback.message);
    for (size_t i = 0; i < pb->feedback.nquestions; i++) {
        free(pb->feedback.questions[i].id);
        free(pb->feedback.questions[i].text);
    }
    free(pb->feedback.questions);
    free(pb);
}
