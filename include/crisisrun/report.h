/*
 * report.h - the post-crisis report of one run: figures computed once from
 * the journal (report_build), rendered as JSON, Markdown or self-contained
 * HTML (report_render).
 *
 * The struct report below is the single source of truth: the three
 * renderers only format what it holds, so they always show the same
 * figures.  Every metric and its exact definition is in docs/report.md;
 * the short form is next to each member.
 *
 * Times: every *_ms member that is an offset is milliseconds from the
 * run's start; durations are milliseconds.  -1 means "none / unknown".
 * For drills the journal holds virtual times (the rehearsed timeline, not
 * the compressed one), so a drill's report shows virtual timings.
 *
 * Ownership: report_build returns a report owning every string and array
 * it points to; report_free releases it.
 */
#ifndef CRISISRUN_REPORT_H
#define CRISISRUN_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crisisrun/journal.h"
#include "crisisrun/message.h"
#include "crisisrun/runmeta.h"
#include "crisisrun/util.h"

/*
 * The step name the runner gives feedback-request notifications (message.h).
 * They are not status updates: the communication metrics and the
 * first-update target leave them out (the step table still lists them).
 */
#define REPORT_FEEDBACK_STEP MESSAGE_FEEDBACK_STEP

enum report_format { REPORT_MARKDOWN, REPORT_HTML, REPORT_JSON };
/* "md" (or "markdown"), "html", "json"; -1 if unknown. */
int report_format_from_name(const char *s);

enum report_target_kind {
    TARGET_ACKNOWLEDGE,
    TARGET_FIRST_UPDATE,
    TARGET_RESOLVE,
    TARGET_COUNT
};
const char *report_target_name(enum report_target_kind k); /* "acknowledge", ... */

struct report_target {
    int64_t target_ms; /* the playbook's promise; -1 when it sets none */
    int64_t actual_ms; /* -1 when it has not happened */
    int met;           /* 1 met, 0 missed, -1 no target or not decided yet */
};

struct report_period {
    enum run_status status;
    int64_t start_ms; /* offset */
    int64_t end_ms;   /* offset; -1 while open (and for resolved, the last) */
};

/* One channel of one step occurrence. */
struct report_delivery {
    char *channel;
    int endpoints; /* notifications: one per endpoint */
    int delivered, failed, pending; /* failed counts disabled endpoints too */
    int attempts;
    int retries; /* attempts beyond the first of each notification */
};

struct report_occurrence {
    char *step;
    int occurrence;
    int fired;            /* 1 when a step_fired event records it */
    int64_t scheduled_ms; /* offset; -1 when unknown (not a scheduled step) */
    int64_t actual_ms;    /* offset */
    int64_t late_ms;      /* actual - scheduled, 0 when on time or unknown */
    int late;             /* the runner marked it late */
    struct report_delivery *channels;
    size_t nchannels;
};

/* Communication metrics of one channel or one audience (docs/report.md). */
struct report_comm {
    char *name;       /* channel name, or "internal" / "external" */
    char *type;       /* channel type; NULL for an audience */
    enum audience audience;
    int endpoints;    /* channels only: endpoints in the playbook (0 unknown) */
    int updates;      /* step occurrences that notified it */
    int delivered_updates; /* of those, delivered to at least one endpoint */
    int64_t first_update_ms; /* offset of the first delivery; -1 none */
    int gaps;         /* one per delivered update, none after the resolution */
    int on_time;      /* gaps <= update_interval */
    double on_time_share; /* on_time / gaps, 4 decimals; -1 without gaps or target */
    int64_t longest_silence_ms; /* -1 when the run has no end yet and no update */
    int latency_samples;
    int64_t latency_p50_ms, latency_p95_ms; /* nearest rank; -1 without samples */
    int notifications, delivered, failed; /* failed includes disabled */
    int retries;
};

struct report_escalation {
    char *step;           /* the step that waited for acknowledgement */
    int occurrence;
    char *escalation;     /* the escalation step it triggered; may be NULL */
    int64_t since_ms;     /* offset the wait began; -1 unknown */
    int64_t escalated_ms; /* offset */
    int64_t waited_ms;    /* escalated - since; -1 unknown */
};

struct report_note {
    int64_t at_ms; /* offset */
    char *author;
    char *text;
    int action;    /* an action item */
    char **notify; /* channels it was broadcast to */
    size_t nnotify;
};

struct report_question {
    char *id;
    char *text;
    int scale;       /* 2..10 */
    int answers;
    double mean;     /* 2 decimals; -1 without answers */
    int dist[11];    /* dist[v]: answers with rating v, v in 1..scale */
    double top_share; /* ratings >= scale - 1 (4-5 on a scale of 5) / answers,
                         4 decimals; -1 without answers */
};

struct report_comment {
    int64_t at_ms;    /* offset of the response */
    char *question;   /* the text question answered; NULL for the comment */
    char *text;
    char *respondent; /* NULL when anonymous or not given */
    char *channel;    /* may be NULL */
};

struct report_feedback_group {
    const char *audience; /* "all", "internal", "external" (static) */
    int responses;
    struct report_question *questions; /* the rating questions, playbook order */
    size_t nquestions;
    struct report_comment *comments;
    size_t ncomments;
};

/* Hosts a failure group names, at most. */
#define REPORT_FAILURE_HOSTS 3

/*
 * The notifications of one channel that did not get through for the same
 * reason: the same final state, last HTTP status and last error as shown
 * (URLs redacted; errors that differ only in a figure of time or size
 * count as one, shown with the first one's text).  A disabled notification
 * that did not meet the 410 itself has neither status nor error here.
 */
struct report_failure {
    char *channel;
    enum journal_delivery_state state; /* DELIVERY_FAILED or DELIVERY_DISABLED */
    int http_status;                   /* the last answer's; 0 without one */
    char *error; /* the last error, its URLs redacted; may be NULL */
    int notifications;
    int endpoints;                     /* distinct endpoints among them */
    char *hosts[REPORT_FAILURE_HOSTS]; /* of its endpoints, the first distinct ones */
    size_t nhosts;
    int64_t first_ms; /* offset the first of them settled */
};

/* One notification on the HTML timeline. */
struct report_mark {
    char *channel;
    int64_t at_ms; /* offset: settled, else created */
    enum journal_delivery_state state;
};

struct report {
    char run_id[JOURNAL_RUN_ID_LEN + 1];
    char *playbook, *title, *severity; /* severity may be NULL */
    int drill;
    enum journal_run_state state;
    enum run_status status;
    int64_t started_ms;  /* wall clock */
    int64_t resolved_ms; /* wall clock; 0 = not resolved */
    int64_t duration_ms; /* to resolution, else to the end; -1 running */
    char *acknowledged_by;
    int64_t end_ms;      /* offset the metrics end at (resolution, else end); -1 */
    int64_t span_ms;     /* offset of the last thing on the timeline (charts) */

    struct report_target targets[TARGET_COUNT];
    int64_t update_interval_ms; /* the promised cadence; -1 none */

    struct report_period *periods;
    size_t nperiods;
    struct report_occurrence *occurrences;
    size_t noccurrences;
    struct report_comm audiences[2]; /* indexed by enum audience */
    int has_audience[2];             /* the audience has a channel */
    struct report_comm *channels;
    size_t nchannels;
    struct report_escalation *escalations;
    size_t nescalations;
    struct report_note *notes;
    size_t nnotes;
    size_t nactions;
    int feedback;                 /* the playbook asks for feedback */
    int64_t feedback_window_ms;
    struct report_feedback_group groups[3]; /* all, internal, external */
    struct report_mark *marks;
    size_t nmarks;
    struct report_failure *failures; /* by channel (playbook order), then size */
    size_t nfailures;
};

/*
 * Builds the report of run (an id or a unique prefix).  Returns a new
 * report, or NULL after reporting (unknown run, journal or metadata error).
 */
struct report *report_build(struct journal *j, const char *run);
void report_free(struct report *r);

/*
 * Which optional parts every renderer shows, so that all three agree: an
 * audience section when a channel has that audience; a feedback group
 * ("all" always, an audience when it has responses).
 */
int report_audience_shown(const struct report *r, enum audience a);
int report_group_shown(const struct report *r, size_t group);

/*
 * Why f's notifications did not get through, in the words every renderer
 * shows (docs/report.md): "HTTP 503", "HTTP 410: the endpoint is gone...",
 * "not delivered: ..." for a disabled group that did not meet the 410
 * itself, or the error libcurl gave.  Returns a constant, f->error, or buf
 * (which takes "HTTP %d": 16 bytes are enough).
 */
const char *report_failure_reason(const struct report_failure *f, char *buf, size_t size);

/* Renders r into sb in the given format.  Never fails. */
void report_render(const struct report *r, enum report_format fmt, struct strbuf *sb);
void report_render_json(const struct report *r, struct strbuf *sb);
void report_render_markdown(const struct report *r, struct strbuf *sb);
void report_render_html(const struct report *r, struct strbuf *sb);

/*
 * How every renderer writes a figure, so the three formats agree:
 * durations as "2h5m3.25s" / "450ms" / "0s" (negative with '-'), shares as
 * "66.7%", means with two decimals.  Each writes to buf (>= 32 bytes) and
 * returns it.
 */
char *report_fmt_duration(int64_t ms, char *buf, size_t size);
char *report_fmt_share(double share, char *buf, size_t size);
char *report_fmt_mean(double mean, char *buf, size_t size);

#endif
