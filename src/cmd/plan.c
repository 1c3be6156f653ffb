/*
 * plan.c - `crisisrun plan FILE`: a dry run on a virtual clock.
 *
 * Drives the scheduler the run uses (sched.h) with now = the next pending
 * time, and prints every occurrence up to the horizon with its channels,
 * the status in force and the exact rendered message, {{next_update}}
 * included.  It sends nothing and opens no socket: this file reaches no
 * HTTP, journal or server code, only the loader, the templates and the
 * scheduler.
 *
 * Deliberate choices (docs/plan.md):
 *  - the plan assumes nobody acknowledges, the worst case: escalations are
 *    shown at their deadlines, labelled with the acknowledgement that would
 *    have prevented them, and on: acknowledged steps are not scheduled;
 *  - each notified channel gets its own rendering, because {{next_update}}
 *    is per channel; the message is printed once when they all agree;
 *  - channels are shown through url_redact() only, and a fan-out channel
 *    lists its distinct redacted endpoints, not one line per subscriber.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/cmd.h"
#include "crisisrun/diag.h"
#include "crisisrun/duration.h"
#include "crisisrun/loader.h"
#include "crisisrun/message.h"
#include "crisisrun/model.h"
#include "crisisrun/sched.h"
#include "crisisrun/template.h"
#include "crisisrun/utf8.h"
#include "crisisrun/util.h"

#define PLAN_DEFAULT_HORIZON_MS (4 * 3600 * 1000LL)
#define PLAN_FEEDBACK_URL "(feedback link)"

/* "Only if STEP is not acknowledged by BY" (an escalation, or what follows one). */
struct plan_cond {
    int set;
    size_t step;
    int64_t by;
};

struct plan {
    const struct playbook *pb;
    struct sched *s;
    int64_t start; /* wall clock of offset 0, ms since the epoch */
    int64_t horizon;
    int64_t resolve_at; /* -1: not resolved in this plan */
    int drill;
    int multiday; /* the plan crosses a UTC midnight: rows show the date */
    FILE *out;
    int json;               /* print a JSON array (--json) */
    size_t njson;           /* its elements printed so far */
    int failed;             /* an element could not be printed */
    struct plan_cond *cond; /* per step: the condition of its first occurrence */
    int64_t *first_at;      /* per step: offset of its first occurrence, or -1 */
    size_t count;
    /*
     * Per channel, worked out at its first occurrence and kept: its distinct
     * redacted endpoints and its description.  A urls_file may list 100,000
     * endpoints, and a schedule may notify the channel hundreds of times.
     */
    char ***eps;
    size_t *neps;
    char **desc;
};

/*
 * An exact offset, "+1h0m30s" style but without zero parts: "+1h30s".
 * duration_format() rounds to two units, which is right for {{elapsed}} in a
 * message and wrong for a schedule.
 */
static char *offset_format(int64_t ms, char *buf, size_t size)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    size_t off = (size_t)snprintf(buf, size, ms < 0 ? "-" : "+");
    if (ms < 0)
        ms = -ms;
    if (!ms)
        snprintf(buf + off, size - off, "0s");
    for (size_t i = 0; i < ARRAY_SIZE(units) && ms && off < size; i++) {
        if (ms >= units[i].ms) {
            off += (size_t)snprintf(buf + off, size - off, "%lld%s",
                                    (long long)(ms / units[i].ms), units[i].unit);
            ms %= units[i].ms;
        }
    }
    return buf;
}

/* A row's wall-clock time: "14:41 UTC", with the date on every row of a multi-day plan.
 */
static char *row_time(const struct plan *p, int64_t off, char *buf, size_t size)
{
    return walltime_format(p->start + off, p->multiday ? 0 : p->start, buf, size);
}

static const char *step_name(const struct plan *p, size_t step)
{
    return message_step_name(p->pb, step);
}

/* ---- rendering ----------------------------------------------------------- */

/* The message of an occurrence for one channel (ch may be SCHED_NO_CHANNEL). */
static char *render(struct plan *p, const struct sched_fire *f, size_t ch)
{
    struct message_env env = {
        .pb = p->pb,
        .sched = p->s,
        .run_id = "plan",
        .start_wall_ms = p->start,
        .drill = p->drill,
        .feedback_url = PLAN_FEEDBACK_URL,
        .text_max = message_text_max(p->pb, ch, f->status, p->drill),
    };
    /*
     * A --var need not be UTF-8.  Shown as the services receive it, each
     * bad byte as U+FFFD (docs/run.md); jansson would refuse the raw text
     * and --json would drop the whole occurrence, exiting 0.
     */
    char *raw = message_render(&env, f, ch, TEMPLATE_ESCAPE_NONE, NULL);
    if (!raw)
        return NULL;
    char *clean = utf8_clean(raw);
    free(raw);
    return clean;
}

static int same_message(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The host part of a redacted URL: "https://example.com/…" -> "example.com". */
static char *redacted_host(const char *redacted)
{
    const char *h = strstr(redacted, "://");
    h = h ? h + 3 : redacted;
    return xstrndup(h, strcspn(h, "/"));
}

/* strings_repeats()'s callback for keep_distinct(): v[i] goes. */
static void drop_repeat(void *arg, size_t i, size_t first)
{
    char **v = arg;
    (void)first;
    free(v[i]);
    v[i] = NULL;
}

/*
 * Keeps the first of each string of v[0..n) in order, frees the others;
 * returns how many are left.  Hashed: comparing each with those kept
 * before it took minutes for a urls_file of 100,000 hosts.
 */
static size_t keep_distinct(char **v, size_t n)
{
    strings_repeats(v, n, drop_repeat, v);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i])
            v[kept++] = v[i];
    return kept;
}

/* Distinct redacted endpoints of a channel, in order (caller frees each and the array).
 */
static char **distinct_endpoints(const struct channel *c, size_t *n)
{
    char **v = xcalloc(c->urls.n ? c->urls.n : 1, sizeof(*v)), url[URL_BUF_SIZE];
    for (size_t i = 0; i < c->urls.n; i++)
        v[i] = url_redact(url_list_get(&c->urls, i, url));
    *n = keep_distinct(v, c->urls.n);
    return v;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* "oncall (slack https://hooks.slack.com/…)", "customers (webhook, 3 endpoints on
 * example.com)". */
static void describe_channel(struct strbuf *sb, const struct channel *c, char **eps,
                             size_t n)
{
    strbuf_addf(sb, "%s (%s", c->name, channel_type_name(c->type));
    if (c->urls.n == 1) {
        strbuf_addf(sb, " %s)", eps[0]);
    } else if (!c->urls.n) {
        strbuf_addstr(sb, ", no endpoints)");
    } else {
        char **hosts = xcalloc(n, sizeof(*hosts));
        for (size_t i = 0; i < n; i++)
            hosts[i] = redacted_host(eps[i]);
        size_t nhosts = keep_distinct(hosts, n);
        strbuf_addf(sb, ", %zu endpoints on ", c->urls.n);
        for (size_t i = 0; i < nhosts && i < 3; i++)
            strbuf_addf(sb, "%s%s", i ? ", " : "", hosts[i]);
        if (nhosts > 3)
            strbuf_addf(sb, " and %zu other hosts", nhosts - 3);
        strbuf_addch(sb, ')');
        free_strings(hosts, nhosts);
    }
}

/* Works out channel ch's endpoints and description once (see struct plan). */
static void channel_prepare(struct plan *p, size_t ch)
{
    if (p->desc[ch])
        return;
    const struct channel *c = &p->pb->channels[ch];
    p->eps[ch] = distinct_endpoints(c, &p->neps[ch]);
    struct strbuf sb = STRBUF_INIT;
    describe_channel(&sb, c, p->eps[ch], p->neps[ch]);
    p->desc[ch] = strbuf_detach(&sb, NULL);
}

/* ---- output ------------------------------------------------------------ */

static void print_indented(FILE *out, const char *msg, const char *indent)
{
    if (!msg) {
        fprintf(out, "%s(no message)\n", indent);
        return;
    }
    for (const char *line = msg;;) {
        size_t len = strcspn(line, "\n");
        if (len)
            fprintf(out, "%s%.*s\n", indent, (int)len, line);
        else
            fputc('\n', out);
        if (!line[len])
            break;
        line += len + 1;
    }
}

static void text_occurrence(struct plan *p, const struct sched_fire *f,
                            const size_t *notify, size_t nnotify, char **msgs,
                            const struct plan_cond *cond)
{
    char off[48], wall[64], by[48], bywall[64];
    int recurring = f->step != SCHED_FEEDBACK &&
                    (p->pb->steps[f->step].timing == TIMING_EVERY || f->occurrence > 1);
    struct strbuf line = STRBUF_INIT;
    strbuf_addf(&line, "%-9s %s  %s", offset_format(f->fired, off, sizeof(off)),
                row_time(p, f->fired, wall, sizeof(wall)),
                f->step == SCHED_FEEDBACK ? "feedback request" : step_name(p, f->step));
    if (recurring)
        strbuf_addf(&line, " #%d", f->occurrence);
    strbuf_addf(&line, "  [%s]", run_status_name(f->status));
    if (f->status_changed)
        strbuf_addstr(&line, " (status set)");
    strbuf_addstr(&line, "  -> ");
    if (!nnotify)
        strbuf_addstr(&line, "(no channels)");
    for (size_t i = 0; i < nnotify; i++) {
        if (i)
            strbuf_addstr(&line, ", ");
        strbuf_addstr(&line, p->desc[notify[i]]);
    }
    fprintf(p->out, "%s\n", strbuf_str(&line));
    strbuf_release(&line);

    if (cond->set)
        fprintf(p->out, "    if %s is not acknowledged by %s (%s)\n",
                step_name(p, cond->step), offset_format(cond->by, by, sizeof(by)),
                row_time(p, cond->by, bywall, sizeof(bywall)));
    int agree = 1;
    for (size_t i = 1; i < nnotify; i++)
        agree &= same_message(msgs[0], msgs[i]);
    if (agree) {
        print_indented(p->out, msgs[0], "    ");
    } else {
        for (size_t i = 0; i < nnotify; i++) {
            fprintf(p->out, "    to %s:\n", p->pb->channels[notify[i]].name);
            print_indented(p->out, msgs[i], "      ");
        }
    }
    fputc('\n', p->out);
}

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/*
 * Prints o as the next element of the --json array, laid out as
 * json_dumpf() lays out a whole array.  The array itself is never held:
 * a 100,000-endpoint channel notified every 5 minutes for 4 hours would
 * take hundreds of MB.
 */
static void json_element(struct plan *p, json_t *o)
{
    char *text = json_dumps(o, JSON_INDENT(2));
    if (!text) {
        p->failed = 1;
        return;
    }
    fputs(p->njson++ ? ",\n  " : "[\n  ", p->out);
    /* A string's own line breaks are escaped: every '\n' is the layout's. */
    const char *c = text, *nl;
    for (; (nl = strchr(c, '\n')); c = nl + 1) {
        fwrite(c, 1, (size_t)(nl + 1 - c), p->out);
        fputs("  ", p->out);
    }
    fputs(c, p->out);
    free(text);
}

static void json_occurrence(struct plan *p, const struct sched_fire *f,
                            const size_t *notify, size_t nnotify, char **msgs,
                            const struct plan_cond *cond)
{
    char off[48], iso[48], by[48];
    json_t *chans = json_array();
    for (size_t i = 0; i < nnotify; i++) {
        const struct channel *c = &p->pb->channels[notify[i]];
        json_t *jeps = json_array();
        for (size_t j = 0; j < p->neps[notify[i]]; j++)
            json_array_append_new(jeps, json_string(p->eps[notify[i]][j]));
        json_t *jc = json_pack("{s:s, s:s, s:o, s:I}", "name", c->name, "type",
                               channel_type_name(c->type), "endpoints", jeps, "count",
                               (json_int_t)c->urls.n);
        if (!same_message(msgs[0], msgs[i]))
            json_object_set_new(jc, "message", json_str_or_null(msgs[i]));
        json_array_append_new(chans, jc);
    }
    json_t *jcond = json_null();
    if (cond->set)
        jcond = json_pack("{s:s, s:I, s:s}", "unless_acknowledged",
                          step_name(p, cond->step), "by_ms", (json_int_t)cond->by, "by",
                          offset_format(cond->by, by, sizeof(by)));
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:b, s:o, s:o, s:o}", "offset_ms",
        (json_int_t)f->fired, "offset", offset_format(f->fired, off, sizeof(off)), "time",
        iso8601_format(p->start + f->fired, iso, sizeof(iso)), "kind",
        f->step == SCHED_FEEDBACK ? "feedback" : "step", "step", step_name(p, f->step),
        "occurrence", f->occurrence, "cause", sched_cause_name(f->cause), "status",
        run_status_name(f->status), "status_changed", f->status_changed, "channels",
        chans, "message", json_str_or_null(msgs[0]), "conditional", jcond);
    json_element(p, o);
    json_decref(o);
}

/* One occurrence: work out its condition, render it per channel, print it. */
static void emit(struct plan *p, const struct sched_fire *f)
{
    struct plan_cond cond = {0};
    const size_t *notify;
    size_t nnotify;
    if (f->step == SCHED_FEEDBACK) {
        notify = p->pb->feedback.notify;
        nnotify = p->pb->feedback.nnotify;
    } else {
        const struct step *sp = &p->pb->steps[f->step];
        notify = sp->notify;
        nnotify = sp->nnotify;
        if (f->cause == SCHED_CAUSE_ESCALATION)
            cond = (struct plan_cond){1, f->trigger_step, f->due};
        else if (f->cause == SCHED_CAUSE_AFTER)
            cond = p->cond[sp->after];
        if (p->first_at[f->step] < 0) {
            p->first_at[f->step] = f->fired;
            p->cond[f->step] = cond;
        }
    }
    for (size_t i = 0; i < nnotify; i++)
        channel_prepare(p, notify[i]);
    size_t nmsgs = nnotify ? nnotify : 1;
    char **msgs = xcalloc(nmsgs, sizeof(*msgs));
    for (size_t i = 0; i < nmsgs; i++)
        msgs[i] = render(p, f, nnotify ? notify[i] : SCHED_NO_CHANNEL);
    if (p->json)
        json_occurrence(p, f, notify, nnotify, msgs, &cond);
    else
        text_occurrence(p, f, notify, nnotify, msgs, &cond);
    free_strings(msgs, nmsgs);
    p->count++;
}

/* Why a step has no occurrence in this plan (for the "not scheduled" list). */
static char *unscheduled_reason(const struct plan *p, size_t i)
{
    const struct step *sp = &p->pb->steps[i];
    char a[48], b[48];
    switch (sp->timing) {
    case TIMING_AT:
        return xasprintf("at %s, %s", offset_format(sp->at_ms, a, sizeof(a)),
                         sp->at_ms > p->horizon ? "beyond the horizon"
                                                : "after the resolution");
    case TIMING_EVERY:
        return xasprintf(
            "every %s from %s, %s", offset_format(sp->every_ms, a, sizeof(a)) + 1,
            offset_format(sp->from_ms, b, sizeof(b)),
            sp->from_ms > p->horizon ? "beyond the horizon"
                                     : "stopped before its first occurrence");
    case TIMING_AFTER: {
        const char *pred = p->pb->steps[sp->after].id;
        int64_t pf = p->first_at[sp->after];
        if (pf < 0)
            return xasprintf("after %s, which does not happen in this plan", pred);
        return xasprintf("after %s (%s), %s", pred,
                         offset_format(pf + sp->delay_ms, a, sizeof(a)),
                         pf + sp->delay_ms > p->horizon ? "beyond the horizon"
                                                        : "after the resolution");
    }
    case TIMING_ON:
        switch (sp->on) {
        case ON_ACKNOWLEDGED:
            return xstrdup("on acknowledgement (the plan assumes nobody acknowledges)");
        case ON_MANUAL:
            return xstrdup("on manual trigger");
        case ON_RESOLVED:
            return xstrdup("on resolution (see --resolve-at)");
        case ON_STATUS:
            return xasprintf("when the status becomes %s",
                             run_status_name(sp->on_status));
        case ON_ESCALATION:
            return xstrdup(
                "on escalation (no acknowledgement deadline passes in this plan)");
        }
    }
    return xstrdup("never");
}

static void text_header(const struct plan *p)
{
    const struct playbook *pb = p->pb;
    char iso[48], hz[48], ra[48], rw[64];
    if (pb->title && strcmp(pb->title, pb->name))
        fprintf(p->out, "plan: %s (%s)", pb->title, pb->name);
    else
        fprintf(p->out, "plan: %s", pb->name);
    if (pb->severity)
        fprintf(p->out, ", severity %s", pb->severity);
    fprintf(p->out, "%s\nstart %s, horizon %s\n", p->drill ? ", drill" : "",
            iso8601_format(p->start, iso, sizeof(iso)),
            offset_format(p->horizon, hz, sizeof(hz)) + 1);
    if (p->resolve_at >= 0)
        fprintf(p->out, "the operator resolves at %s (%s)\n",
                offset_format(p->resolve_at, ra, sizeof(ra)),
                row_time(p, p->resolve_at, rw, sizeof(rw)));
    fprintf(p->out,
            "assumes nobody acknowledges: escalations are shown at their deadlines\n\n");
}

static void text_footer(const struct plan *p)
{
    int any = 0;
    for (size_t i = 0; i < p->pb->nsteps; i++) {
        if (sched_fired_count(p->s, i))
            continue;
        if (!any)
            fprintf(p->out, "not scheduled:\n");
        any = 1;
        char *why = unscheduled_reason(p, i);
        fprintf(p->out, "  %-20s %s\n", p->pb->steps[i].id, why);
        free(why);
    }
    if (!p->count && !any)
        fprintf(p->out, "(no steps)\n");
}

/* Runs the virtual clock to the horizon; returns 0 or -1 (output error). */
static int plan_run(struct plan *p)
{
    struct sched_fire f;
    int resolve_pending = p->resolve_at >= 0;
    char ra[48], rw[64];
    p->s = sched_new(p->pb);
    sched_start(p->s);
    if (!p->json)
        text_header(p);
    for (;;) {
        int64_t t = sched_next_time(p->s);
        /* The operator resolves before anything else due at that instant goes out. */
        if (resolve_pending && p->resolve_at <= t) {
            resolve_pending = 0;
            if (!sched_set_status(p->s, STATUS_RESOLVED, p->resolve_at) && !p->json)
                fprintf(p->out,
                        "%-9s %s  -- resolved by the operator: recurring steps stop\n\n",
                        offset_format(p->resolve_at, ra, sizeof(ra)),
                        row_time(p, p->resolve_at, rw, sizeof(rw)));
            continue;
        }
        if (t > p->horizon)
            break;
        while (sched_pop(p->s, t, &f))
            emit(p, &f);
    }
    if (p->json) {
        fputs(p->njson ? "\n]\n" : "[]\n", p->out);
    } else {
        text_footer(p);
    }
    if (p->failed || fflush(p->out) || ferror(p->out))
        return error("cannot write the plan");
    return 0;
}

/* ---- the command ----------------------------------------------------- */

static int parse_offset(const char *opt, const char *arg, int64_t *ms)
{
    const char *why;
    if (duration_parse(arg, ms, &why) < 0)
        return cmd_usage_error(&cmd_plan, "invalid %s '%s': %s", opt, arg, why);
    return 0;
}

static int plan_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"var", required_argument, NULL, 'v'},
        {"horizon", required_argument, NULL, 'H'},
        {"resolve-at", required_argument, NULL, 'r'},
        {"start", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"drill", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    struct kv *vars = NULL;
    size_t nvars = 0, avars = 0;
    struct plan p = {.horizon = PLAN_DEFAULT_HORIZON_MS, .resolve_at = -1, .out = stdout};
    int horizon_given = 0, start_given = 0, json = 0, c, ret = EXIT_USAGE;
    (void)ctx;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            if (cmd_parse_var(&cmd_plan, optarg, &vars, &nvars, &avars) < 0)
                goto out;
            break;
        case 'H':
            if (parse_offset("--horizon", optarg, &p.horizon))
                goto out;
            horizon_given = 1;
            break;
        case 'r':
            if (parse_offset("--resolve-at", optarg, &p.resolve_at))
                goto out;
            break;
        case 's':
            if (iso8601_parse(optarg, &p.start) < 0) {
                cmd_usage_error(&cmd_plan,
                                "invalid --start '%s' (expected UTC ISO 8601, as in "
                                "2026-11-26T14:30:00Z)",
                                optarg);
                goto out;
            }
            start_given = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'd':
            p.drill = 1;
            break;
        default:
            cmd_option_error(&cmd_plan, c, argv);
            goto out;
        }
    }
    if (optind >= argc) {
        cmd_usage_error(&cmd_plan, "no playbook given");
        goto out;
    }
    if (optind + 1 < argc) {
        cmd_usage_error(&cmd_plan, "one playbook at a time ('%s' is extra)",
                        argv[optind + 1]);
        goto out;
    }
    if (p.resolve_at > p.horizon) {
        if (horizon_given) {
            char a[48], b[48];
            cmd_usage_error(&cmd_plan, "--resolve-at %s is beyond the horizon %s",
                            offset_format(p.resolve_at, a, sizeof(a)) + 1,
                            offset_format(p.horizon, b, sizeof(b)) + 1);
            goto out;
        }
        p.horizon =
            p.resolve_at; /* the default horizon stretches to show the resolution */
    }
    if (!start_given)
        p.start = wallclock_ms();
    char day[64];
    p.multiday = strchr(walltime_format(p.start + p.horizon, p.start, day, sizeof(day)),
                        '-') != NULL;

    struct loader_options lo = {vars, nvars};
    struct diag d = DIAG_INIT;
    struct playbook *pb = loader_load(argv[optind], &lo, &d);
    diag_sort(&d);
    diag_print(&d, stderr);
    diag_release(&d);
    if (!pb)
        goto out;
    p.pb = pb;
    p.cond = xcalloc(pb->nsteps + 1, sizeof(*p.cond));
    p.first_at = xmalloc((pb->nsteps + 1) * sizeof(*p.first_at));
    for (size_t i = 0; i < pb->nsteps; i++)
        p.first_at[i] = -1;
    p.eps = xcalloc(pb->nchannels + 1, sizeof(*p.eps));
    p.neps = xcalloc(pb->nchannels + 1, sizeof(*p.neps));
    p.desc = xcalloc(pb->nchannels + 1, sizeof(*p.desc));
    p.json = json;
    ret = plan_run(&p) < 0 ? EXIT_RUNTIME : EXIT_OK;
    sched_free(p.s);
    free(p.cond);
    free(p.first_at);
    for (size_t i = 0; i < pb->nchannels; i++) {
        if (p.desc[i])
            free_strings(p.eps[i], p.neps[i]);
        free(p.desc[i]);
    }
    free(p.eps);
    free(p.neps);
    free(p.desc);
    playbook_free(pb);
out:
    cmd_free_vars(vars, nvars);
    return ret;
}

const struct cmd_entry cmd_plan = {
    .name = "plan",
    .usage =
        "plan [--var K=V]... [--horizon D] [--resolve-at D] [--start TIME] [--drill] "
        "[--json] FILE",
    .summary = "dry run on a virtual clock: every step occurrence and its exact message",
    .help =
        "options:\n"
        "  --var K=V         override a playbook variable (repeatable)\n"
        "  --horizon D       how far to plan (default 4h)\n"
        "  --resolve-at D    resolve the crisis at offset D and show what follows\n"
        "  --start TIME      the run's start, UTC ISO 8601 (default now)\n"
        "  --drill           render messages as a drill run would ([DRILL] prefix)\n"
        "  --json            print a JSON array of occurrences\n\n"
        "The plan assumes nobody acknowledges: escalations appear at their deadlines,\n"
        "labelled with the acknowledgement that would prevent them.  It sends nothing\n"
        "and opens no socket.  See docs/plan.md.\n"
        "exit status: 0 the plan printed; 1 the plan cannot be written; 2 invalid\n"
        "playbook or usage\n",
    .exec = plan_exec,
};
