/*
 * model.h - the in-memory playbook, as the loader builds it.
 *
 * A `struct playbook` is produced by loader_load() (loader.h) and owns every
 * string and array it points to; playbook_free() releases it all.  By the
 * time a playbook exists it is valid: every cross-reference is resolved to
 * an index, every template compiled, every ${env:..}/${file:..} expanded.
 *
 * Secrets: channel URLs, header values and signing secrets are held in the
 * clear here because the HTTP client needs them.  Anything that displays a
 * channel uses url_redact() (util.h) and never prints headers or secrets.
 */
#ifndef CRISISRUN_MODEL_H
#define CRISISRUN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "crisisrun/urllist.h"

struct template;

/* A 1-based source position in the playbook, for later diagnostics. */
struct src_pos {
    int line;
    int col;
};

struct kv {
    char *key;
    char *value;
};

enum channel_type {
    CHANNEL_SLACK,
    CHANNEL_TEAMS,
    CHANNEL_DISCORD,
    CHANNEL_MATTERMOST,
    CHANNEL_GOOGLECHAT,
    CHANNEL_WEBHOOK,
    CHANNEL_TYPE_COUNT
};

enum audience {
    AUDIENCE_INTERNAL,
    AUDIENCE_EXTERNAL,
};

/* The public status of a run, in lifecycle order. */
enum run_status {
    STATUS_INVESTIGATING,
    STATUS_IDENTIFIED,
    STATUS_MONITORING,
    STATUS_RESOLVED,
    STATUS_COUNT
};

struct channel {
    char *name;
    struct src_pos pos;
    enum channel_type type;
    /* Endpoints: one for `url`, every listed line for `urls_file`, read
     * with url_list_get(); urls.n of them. */
    struct url_list urls;
    char *urls_file; /* resolved path when the channel uses urls_file, else NULL */
    struct kv *headers; /* extra request headers (values may be secret) */
    size_t nheaders;
    char *secret; /* Standard Webhooks secret ("whsec_..."), or NULL */
    /* Rate limit: at most rate_count messages per rate_per_ms; the loader
     * fills in the type's default when `rate` is absent (webhook: none, 0). */
    int rate_count;
    int64_t rate_per_ms;
    int64_t timeout_ms;       /* total request timeout; default 10s */
    int retry_attempts;       /* total attempts including the first; default 5 */
    int64_t retry_backoff_ms; /* first backoff; default 1s, doubling, capped */
    enum audience audience;
};

enum timing_kind {
    TIMING_AT,    /* at: offset from start */
    TIMING_AFTER, /* after: STEP, delay: D */
    TIMING_EVERY, /* every: D, from: D, until: status|{count: N} */
    TIMING_ON,    /* on: event */
};

enum on_event {
    ON_ACKNOWLEDGED, /* the run was acknowledged */
    ON_RESOLVED,     /* the run was resolved */
    ON_STATUS,       /* the status became on_status */
    ON_ESCALATION,   /* another step's ack deadline passed */
    ON_MANUAL,       /* `crisisrun trigger RUN STEP` */
};

enum until_kind {
    UNTIL_NONE,   /* recurring until the run ends */
    UNTIL_STATUS, /* stops once the status reaches until_status (or later) */
    UNTIL_COUNT,  /* stops after until_count occurrences */
};

struct step {
    char *id;
    struct src_pos pos;
    enum timing_kind timing;
    int64_t at_ms;       /* TIMING_AT */
    size_t after;        /* TIMING_AFTER: index of the step in playbook.steps */
    int64_t delay_ms;    /* TIMING_AFTER: 0 when absent */
    int64_t every_ms;    /* TIMING_EVERY */
    int64_t from_ms;     /* TIMING_EVERY: first occurrence; default every_ms */
    enum until_kind until;
    enum run_status until_status;
    int until_count;
    enum on_event on;         /* TIMING_ON */
    enum run_status on_status; /* TIMING_ON with ON_STATUS */
    int sets_status;          /* 1 when the step has `status:` */
    enum run_status status;   /* the status the step moves the run to */
    size_t *notify;           /* channel indices; may be empty (status-only step) */
    size_t nnotify;
    char *message_src;        /* the template as written */
    struct template *message; /* compiled; NULL only when the step has no message */
    int has_ack;              /* `ack:` present */
    int64_t ack_within_ms;
    size_t ack_escalate; /* index of the escalation step */
};

struct question {
    char *id;
    char *text;
    int scale; /* 2..10 for a rating question; 0 for type: text */
};

struct feedback_cfg {
    int present;
    int64_t window_ms; /* default 72h */
    size_t *notify;
    size_t nnotify;
    char *message_src;
    struct template *message;
    struct question *questions;
    size_t nquestions;
};

/* Targets; -1 when the playbook does not set one. */
struct targets {
    int64_t acknowledge_ms;
    int64_t first_update_ms;
    int64_t update_interval_ms;
    int64_t resolve_ms;
};

struct playbook {
    char *path; /* as given */
    char *dir;  /* directory of the playbook: base of relative paths */
    int version;
    char *name;
    char *title;    /* defaults to name */
    char *severity; /* may be NULL */
    struct kv *vars; /* after --var overrides */
    size_t nvars;
    struct targets targets;
    struct channel *channels;
    size_t nchannels;
    struct kv *roles;
    size_t nroles;
    struct step *steps;
    size_t nsteps;
    struct feedback_cfg feedback;
};

void playbook_free(struct playbook *pb);

/* Name tables: "slack", "teams", ... ; "investigating", ... */
const char *channel_type_name(enum channel_type t);
int channel_type_from_name(const char *s); /* -1 if unknown */
const char *run_status_name(enum run_status s);
int run_status_from_name(const char *s); /* -1 if unknown */
/* The statuses for a message that refuses another (in enum order). */
#define RUN_STATUS_LIST "investigating, identified, monitoring or resolved"
const char *on_event_name(enum on_event e);

/* Lookups by name; return the index or -1. */
long playbook_find_step(const struct playbook *pb, const char *id);
long playbook_find_channel(const struct playbook *pb, const char *name);
const char *kv_get(const struct kv *v, size_t n, const char *key);

#endif
