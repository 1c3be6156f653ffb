/*
 * journal_timeline.c - a run's timeline in the journal: its clock, events,
 * acknowledgement waits and escalations, notes, and feedback (tokens and
 * responses).
 *
 * Events are the ordered story of a run; the other tables hold the state
 * the runner and the report query directly (which step is still waiting
 * for an ack, which notes are action items) so nobody has to replay events
 * to answer a simple question.
 */
#include "journal_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crisisrun/util.h"

/*
 * A drill at speed 1 is on the wall clock already; the speed is checked
 * with > so that a damaged or missing speed (0, NaN) leaves the wall clock
 * rather than stopping or reversing time.
 */
int64_t journal_run_clock(const struct journal_run *r, int64_t wall_ms)
{
    if (!r->drill || !(r->speed > 1))
        return wall_ms;
    return r->started_ms + (int64_t)((double)(wall_ms - r->started_ms) * r->speed);
}

static const char *const event_kind_names[] = {
    "run_started", "step_fired", "status_changed", "acknowledged", "ack_waiting",
    "escalated", "note", "triggered", "resolved", "interrupted", "resumed", "failed",
    "endpoint_disabled", "feedback_requested", "feedback_closed",
};
_Static_assert(ARRAY_SIZE(event_kind_names) == EV_KIND_COUNT, "one name per event kind");

const char *journal_event_kind_name(enum journal_event_kind k)
{
    return (size_t)k < ARRAY_SIZE(event_kind_names) ? event_kind_names[k] : "unknown";
}

int journal_event_kind_from_name(const char *s)
{
    for (size_t i = 0; s && i < ARRAY_SIZE(event_kind_names); i++)
        if (!strcmp(event_kind_names[i], s))
            return (int)i;
    return -1;
}

/* ---- events ------------------------------------------------------------------ */

int journal_event_add(struct journal *j, const char *run_id, const struct journal_event *ev)
{
    static const char sql[] =
        "INSERT INTO events (run_id, at_ms, kind, step, occurrence, detail, actor)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    if ((unsigned)ev->kind >= EV_KIND_COUNT)
        return error("journal '%s': invalid event kind %d", j->path, (int)ev->kind);
    sqlite3_stmt *st = journal_stmt(j, ST_EVENT_INSERT, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ev->at_ms);
    sqlite3_bind_text(st, 3, journal_event_kind_name(ev->kind), -1, SQLITE_STATIC);
    journal_bind_text(st, 4, ev->step);
    sqlite3_bind_int(st, 5, ev->occurrence);
    journal_bind_text(st, 6, ev->detail_json);
    journal_bind_text(st, 7, ev->actor);
    return journal_step_write(j, st, "add an event");
}

int journal_event_list(struct journal *j, const char *run_id, struct journal_event **out,
                       size_t *n)
{
    static const char sql[] =
        "SELECT seq, at_ms, kind, step, occurrence, detail, actor FROM events"
        " WHERE run_id = ?1 ORDER BY at_ms, seq";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = journal_stmt(j, ST_EVENT_LIST, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int k = journal_event_kind_from_name((const char *)sqlite3_column_text(st, 2));
        if (k < 0)
            continue; /* written by a newer crisisrun: not ours to interpret */
        ALLOC_GROW(*out, *n + 1, alloc);
        struct journal_event *e = &(*out)[(*n)++];
        e->seq = sqlite3_column_int64(st, 0);
        e->at_ms = sqlite3_column_int64(st, 1);
        e->kind = (enum journal_event_kind)k;
        e->step = journal_col_str(st, 3);
        e->occurrence = sqlite3_column_int(st, 4);
        e->detail_json = journal_col_str(st, 5);
        e->actor = journal_col_str(st, 6);
    }
    int ret = rc == SQLITE_DONE ? 0 : journal_fail(j, "list events");
    sqlite3_reset(st);
    if (ret < 0) {
        journal_event_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

void journal_event_list_free(struct journal_event *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].step);
        free(v[i].detail_json);
        free(v[i].actor);
    }
    free(v);
}

int journal_step_last_list(struct journal *j, const char *run_id,
                           struct journal_step_last **out, size_t *n)
{
    /* SQLite returns the bare columns of the row holding max(). */
    static const char sql[] =
        "SELECT step, max(occurrence), at_ms FROM events"
        " WHERE run_id = ?1 AND kind = 'step_fired' AND step IS NOT NULL"
        " GROUP BY step ORDER BY step";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = journal_stmt(j, ST_STEP_LAST, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ALLOC_GROW(*out, *n + 1, alloc);
        struct journal_step_last *s = &(*out)[(*n)++];
        s->step = journal_col_str(st, 0);
        s->occurrence = sqlite3_column_int(st, 1);
        s->at_ms = sqlite3_column_int64(st, 2);
    }
    int ret = rc == SQLITE_DONE ? 0 : journal_fail(j, "list fired steps");
    sqlite3_reset(st);
    if (ret < 0) {
        journal_step_last_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

void journal_step_last_list_free(struct journal_step_last *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].step);
    free(v);
}

/* ---- acknowledgement waits ----------------------------------------------------- */

int journal_ack_wait_add(struct journal *j, const char *run_id, const char *step,
                         int occurrence, int64_t since_ms, int64_t deadline_ms,
                         const char *escalate_step)
{
    static const char sql[] =
        "INSERT INTO ack_waits (run_id, step, occurrence, since_ms, deadline_ms,"
        " escalate_step) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        " ON CONFLICT (run_id, step, occurrence) DO NOTHING";
    sqlite3_stmt *st = journal_stmt(j, ST_ACK_INSERT, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, step, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, occurrence);
    sqlite3_bind_int64(st, 4, since_ms);
    sqlite3_bind_int64(st, 5, deadline_ms);
    journal_bind_text(st, 6, escalate_step);
    return journal_step_write(j, st, "add an acknowledgement wait");
}

/*
 * A wait ends once, acknowledged or escalated, as its deadline does in the
 * scheduler.  An escalated wait is no longer waiting: the run-level ack
 * calls this for every step with ack:, and marking such a wait would make
 * show claim the page was answered when it had in fact escalated.
 */
int journal_ack_step(struct journal *j, const char *run_id, const char *step, int64_t at_ms,
                     const char *by)
{
    static const char sql[] =
        "UPDATE ack_waits SET acknowledged_ms = ?3, acknowledged_by = ?4"
        " WHERE run_id = ?1 AND step = ?2 AND acknowledged_ms IS NULL"
        " AND escalated_ms IS NULL";
    sqlite3_stmt *st = journal_stmt(j, ST_ACK_STEP, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, step, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at_ms);
    journal_bind_text(st, 4, by);
    if (journal_step_write(j, st, "acknowledge a step") < 0)
        return -1;
    return sqlite3_changes(j->db) ? 1 : 0;
}

int journal_ack_escalated(struct journal *j, const char *run_id, const char *step,
                          int occurrence, int64_t at_ms)
{
    static const char sql[] =
        "UPDATE ack_waits SET escalated_ms = ?4"
        " WHERE run_id = ?1 AND step = ?2 AND occurrence = ?3 AND escalated_ms IS NULL";
    sqlite3_stmt *st = journal_stmt(j, ST_ACK_ESCALATED, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, step, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, occurrence);
    sqlite3_bind_int64(st, 4, at_ms);
    return journal_step_write(j, st, "record an escalation");
}

int journal_ack_wait_list(struct journal *j, const char *run_id, struct journal_ack_wait **out,
                          size_t *n)
{
    static const char sql[] =
        "SELECT step, occurrence, since_ms, deadline_ms, escalate_step, acknowledged_ms,"
        " acknowledged_by, escalated_ms FROM ack_waits WHERE run_id = ?1"
        " ORDER BY since_ms, step, occurrence";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = journal_stmt(j, ST_ACK_LIST, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ALLOC_GROW(*out, *n + 1, alloc);
        struct journal_ack_wait *w = &(*out)[(*n)++];
        w->step = journal_col_str(st, 0);
        w->occurrence = sqlite3_column_int(st, 1);
        w->since_ms = sqlite3_column_int64(st, 2);
        w->deadline_ms = sqlite3_column_int64(st, 3);
        w->escalate_step = journal_col_str(st, 4);
        w->acknowledged_ms = sqlite3_column_int64(st, 5);
        w->acknowledged_by = journal_col_str(st, 6);
        w->escalated_ms = sqlite3_column_int64(st, 7);
    }
    int ret = rc == SQLITE_DONE ? 0 : journal_fail(j, "list acknowledgement waits");
    sqlite3_reset(st);
    if (ret < 0) {
        journal_ack_wait_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

void journal_ack_wait_list_free(struct journal_ack_wait *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].step);
        free(v[i].escalate_step);
        free(v[i].acknowledged_by);
    }
    free(v);
}

/* ---- notes ------------------------------------------------------------------- */

int journal_note_add(struct journal *j, const char *run_id, const struct journal_note *note,
                     int64_t *id_out)
{
    static const char sql[] =
        "INSERT INTO notes (run_id, at_ms, author, text, action_item, notify)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    if (!note->text || !note->author)
        return error("journal '%s': a note needs an author and a text", j->path);
    sqlite3_stmt *st = journal_stmt(j, ST_NOTE_INSERT, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, note->at_ms);
    sqlite3_bind_text(st, 3, note->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, note->text, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, note->action_item ? 1 : 0);
    journal_bind_text(st, 6, note->notify_json);
    if (journal_step_write(j, st, "add a note") < 0)
        return -1;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(j->db);
    return 0;
}

int journal_note_list(struct journal *j, const char *run_id, struct journal_note **out,
                      size_t *n)
{
    static const char sql[] = "SELECT id, at_ms, author, text, action_item, notify FROM notes"
                              " WHERE run_id = ?1 ORDER BY at_ms, id";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = journal_stmt(j, ST_NOTE_LIST, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ALLOC_GROW(*out, *n + 1, alloc);
        struct journal_note *note = &(*out)[(*n)++];
        note->id = sqlite3_column_int64(st, 0);
        note->at_ms = sqlite3_column_int64(st, 1);
        note->author = journal_col_str(st, 2);
        note->text = journal_col_str(st, 3);
        note->action_item = sqlite3_column_int(st, 4);
        note->notify_json = journal_col_str(st, 5);
    }
    int ret = rc == SQLITE_DONE ? 0 : journal_fail(j, "list notes");
    sqlite3_reset(st);
    if (ret < 0) {
        journal_note_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

void journal_note_list_free(struct journal_note *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].author);
        free(v[i].text);
        free(v[i].notify_json);
    }
    free(v);
}

/* ---- feedback ------------------------------------------------------------------ */

static const char *audience_name(enum audience a)
{
    return a == AUDIENCE_EXTERNAL ? "external" : "internal";
}

static enum audience audience_from(const unsigned char *s)
{
    return s && !strcmp((const char *)s, "external") ? AUDIENCE_EXTERNAL : AUDIENCE_INTERNAL;
}

int journal_feedback_token(struct journal *j, const char *run_id, const char *channel,
                           enum audience audience, int64_t now_ms, char *out)
{
    static const char get_sql[] =
        "SELECT token FROM feedback_tokens WHERE run_id = ?1 AND channel = ?2";
    static const char insert_sql[] =
        "INSERT INTO feedback_tokens (token, run_id, channel, audience, created_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5)";
    if (journal_begin(j) < 0)
        return -1;
    sqlite3_stmt *st = journal_stmt(j, ST_TOKEN_GET, get_sql);
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        journal_col_copy(st, 0, out, JOURNAL_FEEDBACK_TOKEN_LEN + 1);
    else if (rc != SQLITE_DONE)
        journal_fail(j, "read a feedback token");
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return journal_commit(j);
    if (rc != SQLITE_DONE)
        goto fail;
    if (journal_random_hex(j, out, JOURNAL_FEEDBACK_TOKEN_LEN / 2) < 0)
        goto fail;
    st = journal_stmt(j, ST_TOKEN_INSERT, insert_sql);
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, out, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, audience_name(audience), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now_ms);
    if (journal_step_write(j, st, "add a feedback token") < 0)
        goto fail;
    return journal_commit(j);
fail:
    journal_rollback(j);
    out[0] = '\0';
    return -1;
}

int journal_feedback_token_lookup(struct journal *j, const char *token, char *run_out,
                                  char **channel_out, enum audience *audience_out)
{
    static const char sql[] =
        "SELECT run_id, channel, audience FROM feedback_tokens WHERE token = ?1";
    sqlite3_stmt *st = journal_stmt(j, ST_TOKEN_LOOKUP, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        journal_col_copy(st, 0, run_out, JOURNAL_RUN_ID_LEN + 1);
        if (channel_out)
            *channel_out = journal_col_str(st, 1);
        if (audience_out)
            *audience_out = audience_from(sqlite3_column_text(st, 2));
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = journal_fail(j, "look up a feedback token");
    }
    sqlite3_reset(st);
    return ret;
}

int journal_feedback_add(struct journal *j, const char *run_id,
                         const struct journal_feedback *f, int64_t *id_out)
{
    static const char sql[] =
        "INSERT INTO feedback_responses (run_id, received_ms, channel, audience, source,"
        " anonymous, respondent, comment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    static const char answer_sql[] =
        "INSERT INTO feedback_answers (response_id, question_id, rating, text)"
        " VALUES (?1, ?2, ?3, ?4)";
    if (journal_begin(j) < 0)
        return -1;
    sqlite3_stmt *st = journal_stmt(j, ST_FEEDBACK_INSERT, sql);
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, f->received_ms);
    journal_bind_text(st, 3, f->channel);
    sqlite3_bind_text(st, 4, audience_name(f->audience), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, f->source ? f->source : "cli", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, f->anonymous ? 1 : 0);
    journal_bind_text(st, 7, f->anonymous ? NULL : f->respondent);
    journal_bind_text(st, 8, f->comment);
    if (journal_step_write(j, st, "add a feedback response") < 0)
        goto fail;
    int64_t id = sqlite3_last_insert_rowid(j->db);
    for (size_t i = 0; i < f->nanswers; i++) {
        const struct journal_answer *a = &f->answers[i];
        st = journal_stmt(j, ST_ANSWER_INSERT, answer_sql);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, a->question_id, -1, SQLITE_STATIC);
        journal_bind_time(st, 3, a->rating);
        journal_bind_text(st, 4, a->text);
        if (journal_step_write(j, st, "add a feedback answer") < 0)
            goto fail;
    }
    if (journal_commit(j) < 0)
        return -1;
    if (id_out)
        *id_out = id;
    return 0;
fail:
    journal_rollback(j);
    return -1;
}

static int read_answers(struct journal *j, struct journal_feedback *f)
{
    static const char sql[] = "SELECT question_id, rating, text FROM feedback_answers"
                              " WHERE response_id = ?1 ORDER BY rowid";
    sqlite3_stmt *st = journal_stmt(j, ST_ANSWER_LIST, sql);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, f->id);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ALLOC_GROW(f->answers, f->nanswers + 1, alloc);
        struct journal_answer *a = &f->answers[f->nanswers++];
        a->question_id = journal_col_str(st, 0);
        a->rating = sqlite3_column_int(st, 1);
        a->text = journal_col_str(st, 2);
    }
    int ret = rc == SQLITE_DONE ? 0 : journal_fail(j, "list feedback answers");
    sqlite3_reset(st);
    return ret;
}

int journal_feedback_list(struct journal *j, const char *run_id,
                          struct journal_feedback **out, size_t *n)
{
    static const char sql[] =
        "SELECT id, received_ms, channel, audience, source, anonymous, respondent, comment"
        " FROM feedback_responses WHERE run_id = ?1 ORDER BY received_ms, id";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = journal_stmt(j, ST_FEEDBACK_LIST, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ALLOC_GROW(*out, *n + 1, alloc);
        struct journal_feedback *f = &(*out)[(*n)++];
        memset(f, 0, sizeof(*f));
        f->id = sqlite3_column_int64(st, 0);
        f->received_ms = sqlite3_column_int64(st, 1);
        f->channel = journal_col_str(st, 2);
        f->audience = audience_from(sqlite3_column_text(st, 3));
        f->source = journal_col_str(st, 4);
        f->anonymous = sqlite3_column_int(st, 5);
        f->respondent = journal_col_str(st, 6);
        f->comment = journal_col_str(st, 7);
    }
    int ret = rc == SQLITE_DONE ? 0 : journal_fail(j, "list feedback");
    sqlite3_reset(st);
    /* Answers use another statement; the response query is finished. */
    for (size_t i = 0; !ret && i < *n; i++)
        ret = read_answers(j, &(*out)[i]);
    if (ret < 0) {
        journal_feedback_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

void journal_feedback_list_free(struct journal_feedback *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < v[i].nanswers; k++) {
            free(v[i].answers[k].question_id);
            free(v[i].answers[k].text);
        }
        free(v[i].answers);
        free(v[i].channel);
        free(v[i].source);
        free(v[i].respondent);
        free(v[i].comment);
    }
    free(v);
}
