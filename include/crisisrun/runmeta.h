/*
 * runmeta.h - the facts of a playbook that outlive its run: targets, each
 * channel's type and audience, the steps, and the feedback questions.
 *
 * The journal stores a run's events and deliveries but not the playbook's
 * promises; the report and `feedback add|import` need them long after the
 * playbook file may have changed.  The runner records them once, at run
 * creation, as JSON in runs.meta_json (journal.h):
 *
 *   {"targets": {"acknowledge": MS|null, "first_update": MS|null,
 *                "update_interval": MS|null, "resolve": MS|null},
 *    "channels": [{"name", "type", "audience": "internal"|"external",
 *                  "endpoints": N}],
 *    "steps": [{"id", "timing": "every 30m from 30m until resolved",
 *               "notify": [CHANNEL...]}],
 *    "feedback": null | {"window_ms": MS,
 *                        "questions": [{"id", "text", "scale": N}
 *                                      | {"id", "text", "type": "text"}]}}
 *
 * It never holds a URL, a header or a secret: channels are described by
 * name, type, audience and endpoint count only.
 */
#ifndef CRISISRUN_RUNMETA_H
#define CRISISRUN_RUNMETA_H

#include <stddef.h>
#include <stdint.h>

#include "crisisrun/model.h"

struct runmeta_channel {
    char *name;
    char *type; /* "slack", ...; as recorded, not checked */
    enum audience audience;
    int endpoints;
};

struct runmeta_step {
    char *id;
    char *timing; /* human description; may be NULL */
    char **notify; /* channel names */
    size_t nnotify;
};

struct runmeta_question {
    char *id;
    char *text;
    int scale; /* 2..10 for a rating question; 0 for a text question */
};

/* Every string and array is owned by the struct; runmeta_release() frees. */
struct runmeta {
    struct targets targets; /* -1 where the playbook sets none */
    struct runmeta_channel *channels;
    size_t nchannels;
    struct runmeta_step *steps;
    size_t nsteps;
    int feedback;               /* 1 when the playbook has a feedback section */
    int64_t feedback_window_ms; /* 0 without feedback */
    struct runmeta_question *questions;
    size_t nquestions;
};

/* Builds the JSON above from a loaded playbook (new string, compact). */
char *runmeta_json(const struct playbook *pb);

/*
 * Parses json into *out (zeroed first).  NULL json (a run recorded without
 * metadata) gives an empty runmeta: no targets, channels, steps or
 * feedback.  Returns 0, or -1 after reporting "invalid run metadata: WHY";
 * *out is then empty and needs no release (releasing it is harmless).
 */
int runmeta_parse(const char *json, struct runmeta *out);
void runmeta_release(struct runmeta *m);

/* Lookups by name; NULL when absent.  Point into m. */
const struct runmeta_channel *runmeta_channel(const struct runmeta *m, const char *name);
const struct runmeta_question *runmeta_question(const struct runmeta *m, const char *id);
const struct runmeta_step *runmeta_step(const struct runmeta *m, const char *id);

/* "internal" / "external"; and back (-1 if neither). */
const char *runmeta_audience_name(enum audience a);
int runmeta_audience_from_name(const char *s);

#endif
