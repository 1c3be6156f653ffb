/*
 * message.h - the text of one step occurrence for one channel.
 *
 * `plan` and `run` render messages through this one function, so a plan
 * shows exactly what the run will send: the same variables, the same
 * {{next_update}} rule, the same [DRILL] prefix.
 */
#ifndef CRISISRUN_MESSAGE_H
#define CRISISRUN_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "crisisrun/model.h"
#include "crisisrun/sched.h"
#include "crisisrun/template.h"

/* What a message needs beyond the playbook and the scheduler. */
struct message_env {
    const struct playbook *pb;
    struct sched *sched;
    const char *run_id;
    int64_t start_wall_ms; /* wall clock of offset 0 */
    int drill;
    const char *latest_note;  /* NULL: none yet */
    const char *feedback_url; /* for the feedback request; NULL elsewhere */
    /* The most characters the channel's service shows uncut ("[DRILL] "
     * included), 0 for no limit: longer messages get their values, not
     * the author's words, shortened (template_render_fit). */
    size_t text_max;
};

/*
 * Renders the message of occurrence f for channel ch (SCHED_NO_CHANNEL for
 * none), escaping values with esc.  Returns a new string without trailing
 * newlines and with "[DRILL] " in front in drills, or NULL when the step
 * has no message.  When next_iso is not NULL it receives the ISO 8601 time
 * of {{next_update}} ("" when nothing is scheduled; 40 bytes).
 */
char *message_render(const struct message_env *env, const struct sched_fire *f, size_t ch,
                     enum template_escape esc, char *next_iso);

/*
 * How many characters of message text channel ch's service shows uncut
 * while the run's status is `status` (0: no limit, or ch is
 * SCHED_NO_CHANNEL): message_env.text_max, worked out one way for the run
 * and for `plan`, so that the plan shows the cut the channel gets.
 */
size_t message_text_max(const struct playbook *pb, size_t ch, enum run_status status,
                        int drill);

/* The step id of an occurrence ("feedback.request" for the feedback request). */
const char *message_step_name(const struct playbook *pb, size_t step);
#define MESSAGE_FEEDBACK_STEP "feedback.request"

#endif
