/*
 * feedback.c - `crisisrun feedback add RUN ...` and `crisisrun feedback
 * import RUN FILE.csv`: responses gathered outside the form (a call, a
 * survey tool), checked against the run's questions (feedback.h).
 *
 * An import is all or nothing: every row is checked first, every bad row
 * reported with the line its record starts on, and only a clean file is
 * stored, in one transaction.  Half an import would be worse than none: the
 * user could not tell which rows to import again.
 */
#include "crisisrun/feedback.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crisisrun/cmd.h"
#include "crisisrun/csv.h"
#include "crisisrun/duration.h"
#include "crisisrun/suggest.h"
#include "crisisrun/util.h"
#include "crisisrun/yamltree.h"
#include "crisisrun/utf8.h"

static int bad(const char *where, const char *fmt, ...) CR_PRINTF(2, 3);
static int bad(const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    error("%s%s", where, msg);
    free(msg);
    return FEEDBACK_INVALID;
}

/* " (did you mean 'X'?)" or "", from the candidates (new string). */
static char *did_you_mean(struct suggest *sg, const char *word)
{
    const char *best = suggest_best(sg, word);
    char *s = best ? xasprintf(" (did you mean '%s'?)", best) : xstrdup("");
    suggest_release(sg);
    return s;
}

static int unknown_question(const struct runmeta *m, const char *where, const char *id)
{
    struct suggest sg = SUGGEST_INIT;
    for (size_t i = 0; i < m->nquestions; i++)
        suggest_add(&sg, m->questions[i].id);
    char *hint = did_you_mean(&sg, id);
    bad(where, "unknown question '%s'%s", id, hint);
    free(hint);
    return FEEDBACK_INVALID;
}

/* A whole number in 1..scale, spaces around allowed; 0 if not. */
static int parse_rating(const char *s, int scale)
{
    while (*s == ' ')
        s++;
    int v = 0, digits = 0;
    for (; isdigit((unsigned char)*s) && digits < 3; s++, digits++)
        v = v * 10 + (*s - '0');
    while (*s == ' ')
        s++;
    return digits && !*s && v >= 1 && v <= scale ? v : 0;
}

/*
 * Text is stored as the form stores it: UTF-8 without control characters
 * but tab (and, in multiline text, line breaks).  Anything else would reach
 * the report and `show` raw, or be dropped from the JSON report.
 */
static int check_text(const char *where, const char *what, const char *s, int multiline)
{
    size_t len = strlen(s);
    if (utf8_check(s, len) != len)
        return bad(where, "%s is not UTF-8 text", what);
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t' && !(multiline && (c == '\n' || c == '\r'))) ||
            c == 0x7f)
            return bad(where, "%s contains a control character (0x%02x)", what, c);
    }
    return 0;
}

static int check_value(const struct runmeta *m, const struct feedback_value *fv,
                       const char *where, struct journal_answer *out)
{
    const struct runmeta_question *q = runmeta_question(m, fv->question);
    if (!q)
        return unknown_question(m, where, fv->question);
    if (q->scale > 0 && fv->kind == FEEDBACK_TEXT)
        return bad(where, "question '%s' takes a rating from 1 to %d (use --rating %s=N)",
                   q->id, q->scale, q->id);
    if (q->scale == 0 && fv->kind == FEEDBACK_RATING)
        return bad(where, "question '%s' takes a text answer (use --answer %s=TEXT)", q->id,
                   q->id);
    if (q->scale > 0) {
        int v = parse_rating(fv->value, q->scale);
        if (!v)
            return bad(where, "rating for '%s' must be a whole number from 1 to %d, not '%s'",
                       q->id, q->scale, fv->value);
        out->rating = v;
    } else {
        char *what = xasprintf("the answer to '%s'", q->id);
        int ret = check_text(where, what, fv->value, 1);
        free(what);
        if (ret < 0)
            return ret;
        out->text = xstrdup(fv->value);
    }
    out->question_id = xstrdup(q->id);
    return 0;
}

/* Resolves --audience / the audience column into channel and audience. */
static int check_audience(const struct runmeta *m, const char *name, const char *where,
                          struct journal_feedback *out)
{
    out->audience = AUDIENCE_INTERNAL;
    if (!name || !*name)
        return 0;
    const struct runmeta_channel *c = runmeta_channel(m, name);
    if (c) {
        out->channel = xstrdup(c->name);
        out->audience = c->audience;
        return 0;
    }
    int a = runmeta_audience_from_name(name);
    if (a >= 0) {
        out->audience = (enum audience)a;
        return 0;
    }
    struct suggest sg = SUGGEST_INIT;
    for (size_t i = 0; i < m->nchannels; i++)
        suggest_add(&sg, m->channels[i].name);
    suggest_add(&sg, "internal");
    suggest_add(&sg, "external");
    char *hint = did_you_mean(&sg, name);
    bad(where, "unknown channel '%s'%s", name, hint);
    free(hint);
    return FEEDBACK_INVALID;
}

void feedback_release(struct journal_feedback *f)
{
    for (size_t i = 0; i < f->nanswers; i++) {
        free(f->answers[i].question_id);
        free(f->answers[i].text);
    }
    free(f->answers);
    free(f->channel);
    free(f->respondent);
    free(f->comment);
    free(f->source);
    memset(f, 0, sizeof(*f));
}

int feedback_check(const struct runmeta *m, const struct feedback_input *in,
                   int64_t now_ms, int64_t started_ms, const char *where,
                   struct journal_feedback *out)
{
    int ret = 0;
    memset(out, 0, sizeof(*out));
    out->answers = xcalloc(in->nvalues + 1, sizeof(*out->answers));
    for (size_t i = 0; i < in->nvalues; i++) {
        const struct feedback_value *fv = &in->values[i];
        if (!fv->value || !*fv->value)
            continue; /* not answered */
        int dup = 0;
        for (size_t k = 0; k < i; k++)
            dup |= in->values[k].value && *in->values[k].value &&
                   !strcmp(in->values[k].question, fv->question);
        if (dup) {
            ret = bad(where, "question '%s' is answered twice", fv->question);
            continue;
        }
        struct journal_answer a = {0};
        if (check_value(m, fv, where, &a) < 0) {
            ret = FEEDBACK_INVALID;
            continue;
        }
        out->answers[out->nanswers++] = a;
    }
    if (check_audience(m, in->audience, where, out) < 0)
        ret = FEEDBACK_INVALID;
    if (in->comment && check_text(where, "the comment", in->comment, 1) < 0)
        ret = FEEDBACK_INVALID;
    if (!in->anonymous && in->respondent &&
        check_text(where, "the respondent", in->respondent, 0) < 0)
        ret = FEEDBACK_INVALID;
    if (in->has_received && in->received_ms < started_ms) {
        char got[48], start[48];
        ret = bad(where, "received time '%s' is before the run started (%s)",
                  iso8601_format(in->received_ms, got, sizeof(got)),
                  iso8601_format(started_ms, start, sizeof(start)));
    }
    if (ret < 0) {
        feedback_release(out);
        return ret;
    }
    if (!out->nanswers && !(in->comment && *in->comment)) {
        feedback_release(out);
        return 1;
    }
    out->received_ms = in->has_received ? in->received_ms : now_ms;
    out->source = xstrdup(in->source ? in->source : "cli");
    out->anonymous = in->anonymous;
    out->respondent = !in->anonymous && in->respondent && *in->respondent
                          ? xstrdup(in->respondent)
                          : NULL;
    out->comment = in->comment && *in->comment ? xstrdup(in->comment) : NULL;
    return 0;
}

/*
 * Resolves run and reads its metadata; a run without feedback is refused.
 * *now_ms is now on the run's clock, what a response without a received
 * time is stamped with: for a drill, its virtual time, as the form stamps
 * it (the wall clock would put the response minutes before the drill's
 * resolution on its rehearsed timeline).
 */
static int load_run(struct journal *j, const char *run, char *id, struct runmeta *m,
                    int64_t *now_ms, int64_t *started_ms)
{
    struct journal_run r;
    if (journal_run_find(j, run, id) < 0 || journal_run_get(j, id, &r) < 0)
        return -1;
    *now_ms = journal_run_clock(&r, wallclock_ms());
    *started_ms = r.started_ms;
    int ret = runmeta_parse(r.meta_json, m);
    if (!ret && !m->feedback)
        ret = bad("", "run '%s' asks for no feedback (its playbook has no feedback section)",
                  id);
    journal_run_release(&r);
    if (ret < 0)
        runmeta_release(m);
    return ret;
}

int feedback_add(struct journal *j, const char *run, const struct feedback_input *in,
                 int64_t *id_out)
{
    char id[JOURNAL_RUN_ID_LEN + 1];
    struct runmeta m;
    int64_t now, started;
    int ret = load_run(j, run, id, &m, &now, &started);
    if (ret < 0)
        return ret;
    struct journal_feedback f;
    ret = feedback_check(&m, in, now, started, "", &f);
    if (ret == 1)
        ret = bad("", "empty response: give a --rating, an --answer or a --comment");
    else if (ret == 0) {
        ret = journal_feedback_add(j, id, &f, id_out);
        feedback_release(&f);
    }
    runmeta_release(&m);
    return ret;
}

/* ---- import ------------------------------------------------------------------ */

enum column_kind { COL_QUESTION, COL_COMMENT, COL_AUDIENCE, COL_ANONYMOUS, COL_RESPONDENT,
                   COL_RECEIVED };
static const char *const column_names[] = {NULL, "comment", "audience", "anonymous",
                                           "respondent", "received"};

struct column {
    enum column_kind kind;
    char *name;
};

static char *trimmed(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return xstrndup(s, n);
}

static int read_header(const struct runmeta *m, const struct csv_record *rec,
                       const char *path, struct column *cols)
{
    int ret = 0;
    char *where = xasprintf("%s:%d: ", path, rec->line);
    for (size_t i = 0; i < rec->nfields; i++) {
        struct column *c = &cols[i];
        c->name = trimmed(rec->fields[i]);
        c->kind = COL_QUESTION;
        for (size_t k = 1; k < ARRAY_SIZE(column_names); k++)
            if (!strcasecmp(c->name, column_names[k]))
                c->kind = (enum column_kind)k;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(cols[k].name, c->name)) {
                ret = bad(where, "column '%s' appears twice", c->name);
                break;
            }
        if (c->kind != COL_QUESTION || runmeta_question(m, c->name))
            continue;
        struct suggest sg = SUGGEST_INIT;
        for (size_t k = 0; k < m->nquestions; k++)
            suggest_add(&sg, m->questions[k].id);
        for (size_t k = 1; k < ARRAY_SIZE(column_names); k++)
            suggest_add(&sg, column_names[k]);
        char *hint = did_you_mean(&sg, c->name);
        ret = bad(where, "unknown column '%s'%s (columns name question ids, or comment, "
                         "audience, anonymous, respondent, received)",
                  c->name, hint);
        free(hint);
    }
    free(where);
    return ret;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "y"};
    static const char *const no[] = {"", "0", "false", "no", "n"};
    char *t = trimmed(s);
    int ret = -1;
    for (size_t i = 0; ret < 0 && i < ARRAY_SIZE(yes); i++)
        if (!strcasecmp(t, yes[i]))
            *out = 1, ret = 0;
    for (size_t i = 0; ret < 0 && i < ARRAY_SIZE(no); i++)
        if (!strcasecmp(t, no[i]))
            *out = 0, ret = 0;
    free(t);
    return ret;
}

/* Checks one data row into *f.  0, 1 (empty row) or FEEDBACK_INVALID. */
static int read_row(const struct runmeta *m, const struct csv_record *rec,
                    const struct column *cols, size_t ncols, const char *path,
                    int64_t now_ms, int64_t started_ms, struct journal_feedback *f)
{
    if (rec->nfields != ncols)
        return bad("", "%s:%d: expected %zu fields as in the header, found %zu", path,
                   rec->line, ncols, rec->nfields);
    char *where = xasprintf("%s:%d: ", path, rec->line);
    struct feedback_value *values = xcalloc(ncols + 1, sizeof(*values));
    struct feedback_input in = {.values = values, .source = "import"};
    int ret = 0;
    for (size_t i = 0; i < ncols; i++) {
        const char *v = rec->fields[i];
        switch (cols[i].kind) {
        case COL_QUESTION:
            values[in.nvalues++] = (struct feedback_value){cols[i].name, v, FEEDBACK_ANY};
            break;
        case COL_COMMENT:
            in.comment = v;
            break;
        case COL_AUDIENCE:
            in.audience = v;
            break;
        case COL_RESPONDENT:
            in.respondent = v;
            break;
        case COL_ANONYMOUS:
            if (parse_bool(v, &in.anonymous) < 0)
                ret = bad(where, "anonymous must be yes or no, not '%s'", v);
            break;
        case COL_RECEIVED:
            if (!*v)
                break;
            if (iso8601_parse(v, &in.received_ms) < 0)
                ret = bad(where,
                          "invalid received time '%s' (expected UTC ISO 8601, like "
                          "2026-11-26T14:35:00Z)",
                          v);
            else
                in.has_received = 1;
            break;
        }
    }
    /* Check the answers even after a bad cell: report every problem of the row. */
    int checked = feedback_check(m, &in, now_ms, started_ms, where, f);
    free(values);
    free(where);
    if (ret < 0) {
        if (checked == 0)
            feedback_release(f);
        return ret;
    }
    return checked;
}

static void free_responses(struct journal_feedback *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        feedback_release(&v[i]);
    free(v);
}

static int store(struct journal *j, const char *id, struct journal_feedback *v, size_t n)
{
    if (journal_begin(j) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (journal_feedback_add(j, id, &v[i], NULL) < 0) {
            journal_rollback(j);
            return -1;
        }
    }
    return journal_commit(j);
}

int feedback_import_csv(struct journal *j, const char *run, const char *path, long *count,
                        long *skipped)
{
    char id[JOURNAL_RUN_ID_LEN + 1];
    struct runmeta m;
    char *data = NULL;
    size_t len = 0;
    int64_t now, started;
    *count = *skipped = 0;
    if (read_file(path, CSV_MAX_FILE, &data, &len) < 0)
        return -1;
    int ret = load_run(j, run, id, &m, &now, &started);
    if (ret < 0) {
        free(data);
        return ret;
    }

    struct csv_reader rd;
    struct csv_record rec = CSV_RECORD_INIT;
    struct column *cols = NULL;
    size_t ncols = 0, n = 0, alloc = 0;
    struct journal_feedback *responses = NULL;
    csv_reader_init(&rd, path, data, len);
    int rc = csv_read(&rd, &rec);
    if (rc <= 0) {
        ret = rc < 0 ? FEEDBACK_INVALID
                     : bad("", "%s: no header row (expected question ids as column names)",
                           path);
        goto out;
    }
    ncols = rec.nfields;
    cols = xcalloc(ncols, sizeof(*cols));
    if (read_header(&m, &rec, path, cols) < 0) {
        ret = FEEDBACK_INVALID;
        goto out;
    }
    while ((rc = csv_read(&rd, &rec)) > 0) {
        ALLOC_GROW(responses, n + 1, alloc);
        int row = read_row(&m, &rec, cols, ncols, path, now, started, &responses[n]);
        if (row == 0)
            n++;
        else if (row == 1)
            (*skipped)++;
        else
            ret = FEEDBACK_INVALID;
    }
    if (rc < 0)
        ret = FEEDBACK_INVALID;
    if (ret == 0 && store(j, id, responses, n) < 0)
        ret = -1;
    if (ret == 0)
        *count = (long)n;
    else
        *skipped = 0;
out:
    for (size_t i = 0; i < ncols; i++)
        free(cols[i].name);
    free(cols);
    free_responses(responses, n);
    csv_record_release(&rec);
    runmeta_release(&m);
    free(data);
    return ret;
}

/* ---- the command ------------------------------------------------------------- */

static int status_of(int ret)
{
    return ret == FEEDBACK_INVALID ? EXIT_USAGE : ret < 0 ? EXIT_RUNTIME : EXIT_OK;
}

static struct journal *open_journal(struct cmd_ctx *ctx)
{
    char *path = cmd_db_path(ctx);
    struct journal *j = journal_open(path, JOURNAL_WRITE);
    free(path);
    return j;
}

/*
 * The usage of each subcommand, for its usage errors.  cmd.c puts
 * "crisisrun [--db PATH] " before a command's usage (in a usage error and
 * in --help), so a usage is one line that never names crisisrun itself: a
 * second line would not get the prefix.  An error
 * in `feedback add` shows add's usage; cmd_feedback's own (--help, no or an
 * unknown subcommand) names both.  These entries are not in cmd_table[].
 */
static const struct cmd_entry feedback_add_usage = {
    .name = "feedback",
    .usage = "feedback add RUN [--rating Q=N]... [--answer Q=TEXT]... [--comment TEXT] "
             "[--audience CH] [--anonymous | --respondent NAME] [--received TIME]",
};
static const struct cmd_entry feedback_import_usage = {
    .name = "feedback",
    .usage = "feedback import RUN FILE.csv",
};

/* Splits "Q=V" into values[]; Q must not be empty. */
static int add_value(const struct cmd_entry *e, const char *arg, enum feedback_kind kind,
                     struct feedback_value **v, size_t *n, size_t *alloc)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return cmd_usage_error(e, "invalid --%s '%s' (expected QUESTION=%s)",
                               kind == FEEDBACK_RATING ? "rating" : "answer", arg,
                               kind == FEEDBACK_RATING ? "N" : "TEXT");
    ALLOC_GROW(*v, *n + 1, *alloc);
    (*v)[(*n)++] = (struct feedback_value){xstrndup(arg, (size_t)(eq - arg)), eq + 1, kind};
    return 0;
}

static int feedback_add_cmd(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"rating", required_argument, NULL, 'r'},
        {"answer", required_argument, NULL, 'a'},
        {"comment", required_argument, NULL, 'c'},
        {"audience", required_argument, NULL, 'u'},
        {"anonymous", no_argument, NULL, 'n'},
        {"respondent", required_argument, NULL, 'p'},
        {"received", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    struct feedback_value *values = NULL;
    size_t nvalues = 0, alloc = 0;
    struct feedback_input in = {.source = "cli"};
    int c, ret = EXIT_OK;
    optind = 1;
    opterr = 0;
    while (ret == EXIT_OK && (c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
        case 'a':
            if (add_value(&feedback_add_usage, optarg,
                          c == 'r' ? FEEDBACK_RATING : FEEDBACK_TEXT, &values, &nvalues,
                          &alloc) != 0)
                ret = EXIT_USAGE;
            break;
        case 'c':
            in.comment = optarg;
            break;
        case 'u':
            in.audience = optarg;
            break;
        case 'n':
            in.anonymous = 1;
            break;
        case 'p':
            in.respondent = optarg;
            break;
        case 't':
            if (iso8601_parse(optarg, &in.received_ms) < 0)
                ret = cmd_usage_error(
                    &feedback_add_usage,
                    "invalid --received '%s' (expected UTC ISO 8601, like "
                    "2026-11-26T14:35:00Z)",
                    optarg);
            else
                in.has_received = 1;
            break;
        default:
            ret = cmd_option_error(&feedback_add_usage, c, argv);
        }
    }
    if (ret == EXIT_OK && in.anonymous && in.respondent)
        ret = cmd_usage_error(&feedback_add_usage,
                              "--anonymous and --respondent exclude each other");
    if (ret == EXIT_OK && optind >= argc)
        ret = cmd_usage_error(&feedback_add_usage, "no run given");
    if (ret == EXIT_OK && optind + 1 < argc)
        ret = cmd_usage_error(&feedback_add_usage, "unexpected argument '%s'",
                              argv[optind + 1]);
    if (ret == EXIT_OK)
        ret = cmd_check_run(&feedback_add_usage, argv[optind]);
    if (ret == EXIT_OK && !nvalues && !in.comment)
        ret = cmd_usage_error(&feedback_add_usage,
                              "give at least one --rating, --answer or --comment");
    if (ret == EXIT_OK) {
        struct journal *j = open_journal(ctx);
        in.values = values;
        in.nvalues = nvalues;
        int r = j ? feedback_add(j, argv[optind], &in, NULL) : -1;
        journal_close(j);
        if (r == 0)
            printf("recorded 1 response\n");
        ret = status_of(r);
    }
    for (size_t i = 0; i < nvalues; i++)
        free((char *)values[i].question);
    free(values);
    return ret;
}

static int feedback_import_cmd(struct cmd_ctx *ctx, int argc, char **argv)
{
    if (argc > 1 && argv[1][0] == '-' && argv[1][1])
        return cmd_unknown_option(&feedback_import_usage, argv[1]);
    if (argc < 3)
        return cmd_usage_error(&feedback_import_usage,
                               "feedback import needs a run and a CSV file");
    if (argc > 3)
        return cmd_usage_error(&feedback_import_usage, "unexpected argument '%s'",
                               argv[3]);
    if (cmd_check_run(&feedback_import_usage, argv[1]))
        return EXIT_USAGE;
    struct journal *j = open_journal(ctx);
    if (!j)
        return EXIT_RUNTIME;
    long count, skipped;
    int r = feedback_import_csv(j, argv[1], argv[2], &count, &skipped);
    journal_close(j);
    if (r == 0) {
        printf("imported %ld response%s", count, count == 1 ? "" : "s");
        if (skipped)
            printf(" (skipped %ld empty row%s)", skipped, skipped == 1 ? "" : "s");
        printf("\n");
    }
    return status_of(r);
}

static int feedback_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cmd_usage_error(&cmd_feedback, "no subcommand given (add or import)");
    if (!strcmp(argv[1], "add"))
        return feedback_add_cmd(ctx, argc - 1, argv + 1);
    if (!strcmp(argv[1], "import"))
        return feedback_import_cmd(ctx, argc - 1, argv + 1);
    struct suggest sg = SUGGEST_INIT;
    suggest_add(&sg, "add");
    suggest_add(&sg, "import");
    char *hint = did_you_mean(&sg, argv[1]);
    int ret = cmd_usage_error(&cmd_feedback, "unknown subcommand '%s'%s", argv[1], hint);
    free(hint);
    return ret;
}

const struct cmd_entry cmd_feedback = {
    .name = "feedback",
    .usage = "feedback add RUN OPTION... | feedback import RUN FILE.csv",
    .summary = "record feedback responses: one by hand, or a survey export",
    .help =
        "add options (at least one --rating, --answer or --comment):\n"
        "  --rating Q=N        rate question Q (1..its scale); repeat per question\n"
        "  --answer Q=TEXT     answer the text question Q\n"
        "  --comment TEXT      a free comment\n"
        "  --audience CH       the channel the respondent belongs to (its audience is\n"
        "                      recorded), or internal / external; default internal\n"
        "  --anonymous         record no respondent\n"
        "  --respondent NAME   who answered\n"
        "  --received TIME     when (UTC ISO 8601), not before the run started;\n"
        "                      default now on the run's clock (a drill's virtual\n"
        "                      time, as the form records it)\n\n"
        "import: the CSV header names question ids, plus optional columns comment,\n"
        "audience, anonymous (yes/no), respondent and received (ISO 8601; empty is\n"
        "now, as for --received).  An empty answer cell is not answered.  Every bad\n"
        "row is reported as FILE:LINE and then nothing is imported.  Format:\n"
        "docs/report.md.\n"
        "exit status: 0 recorded, 1 when the run or the journal cannot be read or\n"
        "written, 2 on a usage error or an invalid response or file\n",
    .exec = feedback_exec,
};
