/*
 * message.c - rendering one occurrence's message (see message.h).
 */
#include "crisisrun/message.h"

#include <stdlib.h>
#include <string.h>

#include "crisisrun/duration.h"
#include "crisisrun/provider.h"
#include "crisisrun/util.h"

#define DRILL_PREFIX_CHARS 8 /* "[DRILL] " */

size_t message_text_max(const struct playbook *pb, size_t ch, enum run_status status,
                        int drill)
{
    if (ch == SCHED_NO_CHANNEL)
        return 0;
    const struct provider *p = provider_for(pb->channels[ch].type);
    if (!p->text_max)
        return 0;
    /* What the provider puts beside the text: the headline and status. */
    struct provider_message m = {
        .text = "",
        .title = pb->title,
        .playbook = pb->name,
        .severity = pb->severity ? pb->severity : "",
        .status = status,
        .step = "",
        .run_id = "",
        .notification_id = "",
        .next_update = "",
        .next_update_iso = "",
        .timestamp_iso = "",
        .drill = drill,
    };
    return p->text_max(&m);
}

const char *message_step_name(const struct playbook *pb, size_t step)
{
    return step == SCHED_FEEDBACK ? MESSAGE_FEEDBACK_STEP : pb->steps[step].id;
}

char *message_render(const struct message_env *env, const struct sched_fire *f, size_t ch,
                     enum template_escape esc, char *next_iso)
{
    const struct playbook *pb = env->pb;
    const struct template *t =
        f->step == SCHED_FEEDBACK ? pb->feedback.message : pb->steps[f->step].message;
    if (!t)
        return NULL;
    int64_t now = env->start_wall_ms + f->fired;
    char now_s[64], started_s[64], elapsed_s[32], next_s[64], waited_s[32];
    struct template_ctx c = {
        .pb = pb,
        .run_id = env->run_id,
        .status = run_status_name(f->status),
        .step = message_step_name(pb, f->step),
        .now = walltime_format(now, now, now_s, sizeof(now_s)),
        .started = walltime_format(env->start_wall_ms, now, started_s, sizeof(started_s)),
        .elapsed = duration_format(f->fired, elapsed_s, sizeof(elapsed_s)),
        .next_update = sched_next_update_text(env->sched, ch, f->fired, env->start_wall_ms,
                                              next_s, sizeof(next_s)),
        .latest_note = env->latest_note ? env->latest_note : "",
        .feedback_url = env->feedback_url ? env->feedback_url : "",
        .drill = env->drill,
    };
    if (f->cause == SCHED_CAUSE_ESCALATION) {
        c.trigger_step = message_step_name(pb, f->trigger_step);
        c.trigger_waited = duration_format(f->waited, waited_s, sizeof(waited_s));
    }
    if (next_iso) {
        int64_t next = sched_next_update(env->sched, ch, f->fired);
        if (next >= 0)
            iso8601_format(env->start_wall_ms + next, next_iso, 40);
        else
            next_iso[0] = '\0';
    }
    size_t max = env->text_max;
    if (max && env->drill) /* the prefix below takes its share */
        max = max > DRILL_PREFIX_CHARS ? max - DRILL_PREFIX_CHARS : 1;
    char *msg = template_render_fit(t, &c, esc, max, provider_truncate_text);
    if (env->drill) {
        char *d = xasprintf("[DRILL] %s", msg);
        free(msg);
        msg = d;
    }
    /* A YAML block scalar ends in a newline; the message does not need it. */
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    return msg;
}
