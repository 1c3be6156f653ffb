/*
 * Unit tests for loader.h: every invalid playbook of tests/data/invalid
 * gives exactly its NAME.expected (from a file and from memory), and the
 * valid ones build the model DESIGN.md describes, defaults included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisisrun/loader.h"
#include "crisisrun/template.h"
#include "crisisrun/util.h"

/* URL i of a list, in a buffer the next call reuses. */
static const char *url_of(const struct url_list *l, size_t i)
{
    static char buf[URL_BUF_SIZE];
    return url_list_get(l, i, buf);
}

static char *data_dir(const char *sub)
{
    const char *base = getenv("CRISISRUN_TEST_DATA");
    assert_non_null(base);
    return xasprintf("%s/%s", base, sub);
}

static void unset_test_env(void)
{
    static const char *const names[] = {
        "CRISISRUN_TEST_UNSET",     "CRISISRUN_TEST_UNSET_TOO",
        "CRISISRUN_TEST_UNSET_URL", "CRISISRUN_TEST_SLACK_URL",
        "CRISISRUN_TEST_TEAMS_URL", "CRISISRUN_TEST_SECRET",
        "CRISISRUN_TEST_REGION",    "CRISISRUN_TEST_COMMANDER",
    };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        unsetenv(names[i]);
}

/* Every diagnostic, sorted, one per line as `validate` prints them. */
static char *format_diags(struct diag *d)
{
    struct strbuf sb = STRBUF_INIT;
    diag_sort(d);
    for (size_t i = 0; i < d->n; i++) {
        char *s = diag_format(&d->v[i]);
        strbuf_addf(&sb, "%s\n", s);
        free(s);
    }
    return strbuf_detach(&sb, NULL);
}

static char *slurp(const char *path)
{
    char *buf;
    size_t len;
    assert_int_equal(read_file(path, 1 << 24, &buf, &len), 0);
    return buf;
}

/* Loads `name` in the current directory; returns its diagnostics. */
static char *diags_of_file(const char *name)
{
    struct diag d = DIAG_INIT;
    struct playbook *pb = loader_load(name, NULL, &d);
    assert_null(pb);
    char *out = format_diags(&d);
    diag_release(&d);
    return out;
}

static char *diags_of_mem(const char *name)
{
    char *data;
    size_t len;
    assert_int_equal(read_file(name, 1 << 24, &data, &len), 0);
    struct diag d = DIAG_INIT;
    struct playbook *pb = loader_load_mem(name, ".", data, len, NULL, &d);
    assert_null(pb);
    char *out = format_diags(&d);
    diag_release(&d);
    free(data);
    return out;
}

static void test_invalid_files(void **state)
{
    (void)state;
    unset_test_env();
    char *dir = data_dir("invalid"), cwd[4096];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    DIR *dh = opendir(".");
    assert_non_null(dh);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dh)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".yaml"))
            continue;
        char *exp_path = xasprintf("%.*s.expected", (int)(n - 5), de->d_name);
        char *expected = slurp(exp_path);
        assert_true(expected[0] != '\0'); /* an invalid file reports something */
        char *got = diags_of_file(de->d_name);
        if (strcmp(got, expected))
            print_error("%s:\n--- expected\n%s--- got\n%s", de->d_name, expected, got);
        assert_string_equal(got, expected);
        free(got);
        got = diags_of_mem(de->d_name);
        assert_string_equal(got, expected);
        free(got);
        free(expected);
        free(exp_path);
        files++;
    }
    closedir(dh);
    assert_true(files >= 30);
    assert_int_equal(chdir(cwd), 0);
    free(dir);
}

static struct playbook *load_valid(const char *name, const struct loader_options *opt)
{
    char *dir = data_dir("valid");
    char *path = xasprintf("%s/%s", dir, name);
    struct diag d = DIAG_INIT;
    struct playbook *pb = loader_load(path, opt, &d);
    if (d.n) {
        char *s = format_diags(&d);
        print_error("%s", s);
        free(s);
    }
    assert_int_equal(d.n, 0);
    assert_non_null(pb);
    assert_string_equal(pb->path, path);
    assert_string_equal(pb->dir, dir);
    diag_release(&d);
    free(path);
    free(dir);
    return pb;
}

static struct playbook *load_string(const char *text, struct diag *d)
{
    char *dir = data_dir("valid");
    struct playbook *pb = loader_load_mem("mem.yaml", dir, text, strlen(text), NULL, d);
    free(dir);
    return pb;
}

static size_t step(const struct playbook *pb, const char *id)
{
    long i = playbook_find_step(pb, id);
    assert_true(i >= 0);
    return (size_t)i;
}

static size_t chan(const struct playbook *pb, const char *name)
{
    long i = playbook_find_channel(pb, name);
    assert_true(i >= 0);
    return (size_t)i;
}

static void test_complete(void **state)
{
    (void)state;
    unset_test_env();
    struct playbook *pb = load_valid("complete.yaml", NULL);
    assert_int_equal(pb->version, 1);
    assert_string_equal(pb->name, "database-outage");
    assert_string_equal(pb->title, "Checkout database outage");
    assert_string_equal(pb->severity, "sev1");
    assert_int_equal(pb->nvars, 2);
    assert_string_equal(kv_get(pb->vars, pb->nvars, "status_url"),
                        "https://status.example.com");
    assert_string_equal(kv_get(pb->roles, pb->nroles, "comms"), "Bob");
    assert_int_equal(pb->targets.acknowledge_ms, 15 * 60000);
    assert_int_equal(pb->targets.first_update_ms, 5 * 60000);
    assert_int_equal(pb->targets.update_interval_ms, 30 * 60000);
    assert_int_equal(pb->targets.resolve_ms, 4 * 3600000);

    assert_int_equal(pb->nchannels, 3);
    const struct channel *oncall = &pb->channels[chan(pb, "oncall")];
    assert_int_equal(oncall->type, CHANNEL_SLACK);
    assert_int_equal(oncall->urls.n, 1);
    assert_string_equal(url_of(&oncall->urls, 0),
                        "https://hooks.slack.example/services/T0/B0/XYZ");
    assert_null(oncall->urls_file);
    assert_int_equal(oncall->rate_count, 1);
    assert_int_equal(oncall->rate_per_ms, 1000);
    assert_int_equal(oncall->timeout_ms, 10000);
    assert_int_equal(oncall->retry_attempts, 5);
    assert_int_equal(oncall->retry_backoff_ms, 1000);
    assert_int_equal(oncall->audience, AUDIENCE_INTERNAL);
    assert_null(oncall->secret);
    assert_int_equal(oncall->pos.line, 14);
    const struct channel *leaders = &pb->channels[chan(pb, "leaders")];
    assert_int_equal(leaders->type, CHANNEL_TEAMS);
    assert_int_equal(leaders->rate_count, 4);
    assert_int_equal(leaders->rate_per_ms, 1000);
    const struct channel *cust = &pb->channels[chan(pb, "customers")];
    assert_int_equal(cust->type, CHANNEL_WEBHOOK);
    assert_int_equal(cust->rate_count, 0);
    assert_int_equal(cust->audience, AUDIENCE_EXTERNAL);
    assert_string_equal(cust->secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert_int_equal(cust->urls.n, 3);
    assert_string_equal(url_of(&cust->urls, 0),
                        "https://subscriber-one.example/hooks/crisis");
    assert_string_equal(url_of(&cust->urls, 1),
                        "https://subscriber-two.example:8443/in?token=abc");
    assert_string_equal(url_of(&cust->urls, 2), "http://127.0.0.1:9/local");
    assert_non_null(strstr(cust->urls_file, "valid/subscribers.txt"));

    assert_int_equal(pb->nsteps, 5);
    const struct step *s = &pb->steps[step(pb, "declare")];
    assert_int_equal(s->timing, TIMING_AT);
    assert_int_equal(s->at_ms, 0);
    assert_true(s->sets_status);
    assert_int_equal(s->status, STATUS_INVESTIGATING);
    assert_int_equal(s->nnotify, 2);
    assert_int_equal(s->notify[0], chan(pb, "oncall"));
    assert_int_equal(s->notify[1], chan(pb, "customers"));
    assert_non_null(s->message);
    assert_true(starts_with(s->message_src, "{{vars.service}} is failing"));
    assert_true(template_uses(s->message, "next_update"));
    assert_int_equal(s->pos.line, 23);
    s = &pb->steps[step(pb, "page-db")];
    assert_int_equal(s->at_ms, 60000);
    assert_true(s->has_ack);
    assert_int_equal(s->ack_within_ms, 600000);
    assert_int_equal(s->ack_escalate, step(pb, "escalate-db"));
    assert_false(s->sets_status);
    s = &pb->steps[step(pb, "escalate-db")];
    assert_int_equal(s->timing, TIMING_ON);
    assert_int_equal(s->on, ON_ESCALATION);
    assert_true(template_uses(s->message, "trigger.step"));
    s = &pb->steps[step(pb, "public-update")];
    assert_int_equal(s->timing, TIMING_EVERY);
    assert_int_equal(s->every_ms, 1800000);
    assert_int_equal(s->from_ms, 1800000);
    assert_int_equal(s->until, UNTIL_STATUS);
    assert_int_equal(s->until_status, STATUS_RESOLVED);
    s = &pb->steps[step(pb, "all-clear")];
    assert_int_equal(s->on, ON_RESOLVED);
    assert_int_equal(s->nnotify, 3);

    assert_true(pb->feedback.present);
    assert_int_equal(pb->feedback.window_ms, 72 * 3600000);
    assert_int_equal(pb->feedback.nnotify, 2);
    assert_non_null(pb->feedback.message);
    assert_true(template_uses(pb->feedback.message, "feedback_url"));
    assert_int_equal(pb->feedback.nquestions, 3);
    assert_string_equal(pb->feedback.questions[0].id, "informed");
    assert_int_equal(pb->feedback.questions[0].scale, 5);
    assert_string_equal(pb->feedback.questions[2].text, "What should we do differently?");
    assert_int_equal(pb->feedback.questions[2].scale, 0);
    playbook_free(pb);
}

static void test_env_values(void **state)
{
    (void)state;
    unset_test_env();
    setenv("CRISISRUN_TEST_SLACK_URL", "https://hooks.slack.example/from-env", 1);
    /* Set but empty: ":-" takes the default, as sh does. */
    setenv("CRISISRUN_TEST_TEAMS_URL", "", 1);
    setenv("CRISISRUN_TEST_SECRET", "whsec_c2VjcmV0IGZyb20gZW52", 1);
    struct playbook *pb = load_valid("complete.yaml", NULL);
    assert_string_equal(url_of(&pb->channels[chan(pb, "oncall")].urls, 0),
                        "https://hooks.slack.example/from-env");
    assert_string_equal(url_of(&pb->channels[chan(pb, "leaders")].urls, 0),
                        "https://teams.example/workflows/abc");
    assert_string_equal(pb->channels[chan(pb, "customers")].secret,
                        "whsec_c2VjcmV0IGZyb20gZW52");
    playbook_free(pb);

    setenv("CRISISRUN_TEST_SECRET", "not-a-secret", 1);
    struct diag d = DIAG_INIT;
    char *path = data_dir("valid/complete.yaml");
    assert_null(loader_load(path, NULL, &d));
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 19);
    assert_string_equal(d.v[0].msg, "'secret' must start with 'whsec_'");
    diag_release(&d);

    free(path);

    /* Set but empty, with no default: said so, not "must start with". */
    static const char empty[] = "crisisrun: 1\nname: e\nchannels:\n"
                                "  c: {type: webhook, url: \"https://h.example/x\","
                                " secret: \"${env:CRISISRUN_TEST_SECRET}\"}\n"
                                "steps:\n  - {id: s, at: 0s, notify: [c], message: m}\n";
    setenv("CRISISRUN_TEST_SECRET", "", 1);
    assert_null(loader_load_mem("empty.yaml", ".", empty, strlen(empty), NULL, &d));
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 4);
    assert_string_equal(
        d.v[0].msg, "'secret' is empty: a signing secret is 'whsec_' followed by base64");
    diag_release(&d);
    unset_test_env();
}

static void test_defaults(void **state)
{
    (void)state;
    struct playbook *pb = load_valid("minimal.yaml", NULL);
    assert_string_equal(pb->title, "minimal");
    assert_null(pb->severity);
    assert_int_equal(pb->nvars, 0);
    assert_int_equal(pb->nchannels, 0);
    assert_int_equal(pb->targets.acknowledge_ms, -1);
    assert_int_equal(pb->targets.first_update_ms, -1);
    assert_int_equal(pb->targets.update_interval_ms, -1);
    assert_int_equal(pb->targets.resolve_ms, -1);
    assert_false(pb->feedback.present);
    assert_int_equal(pb->feedback.window_ms, 72 * 3600000);
    assert_int_equal(pb->nsteps, 1);
    assert_int_equal(pb->steps[0].nnotify, 0);
    assert_null(pb->steps[0].message);
    assert_null(pb->steps[0].message_src);
    assert_false(pb->steps[0].has_ack);
    playbook_free(pb);
}

static void test_every_form(void **state)
{
    (void)state;
    unset_test_env();
    struct playbook *pb = load_valid("every-form.yaml", NULL);
    assert_string_equal(pb->name, "every-form.v2");
    assert_string_equal(kv_get(pb->vars, pb->nvars, "empty"), "");
    assert_string_equal(kv_get(pb->vars, pb->nvars, "count"), "3");
    assert_string_equal(kv_get(pb->vars, pb->nvars, "region"), "eu-west-1");
    assert_string_equal(kv_get(pb->vars, pb->nvars, "literal"),
                        "costs $5 and ${env:NOT_EXPANDED}");
    assert_string_equal(kv_get(pb->roles, pb->nroles, "commander"), "Alice");

    static const struct {
        const char *name;
        enum channel_type type;
        int count;
        int64_t per_ms;
    } rates[] = {
        {"chat", CHANNEL_SLACK, 1, 1000},       {"team", CHANNEL_TEAMS, 2, 60000},
        {"gaming", CHANNEL_DISCORD, 5, 2000},   {"mm", CHANNEL_MATTERMOST, 1, 1000},
        {"gchat", CHANNEL_GOOGLECHAT, 1, 1000}, {"hook", CHANNEL_WEBHOOK, 10, 2000},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rates); i++) {
        const struct channel *c = &pb->channels[chan(pb, rates[i].name)];
        assert_int_equal(c->type, rates[i].type);
        assert_int_equal(c->rate_count, rates[i].count);
        assert_int_equal(c->rate_per_ms, rates[i].per_ms);
    }
    const struct channel *hook = &pb->channels[chan(pb, "hook")];
    assert_string_equal(url_of(&hook->urls, 0), "http://[::1]:8025/inbox");
    assert_int_equal(hook->nheaders, 2);
    assert_string_equal(hook->headers[0].key, "Authorization");
    /* ${file:} is relative to the playbook and loses its trailing newline. */
    assert_string_equal(hook->headers[0].value,
                        "Bearer whsec_dGhpcyBpcyBhIHRlc3Qgc2lnbmluZyBzZWNyZXQ=");
    assert_string_equal(hook->secret, "whsec_dGhpcyBpcyBhIHRlc3Qgc2lnbmluZyBzZWNyZXQ=");
    assert_int_equal(hook->timeout_ms, 30000);
    assert_int_equal(hook->retry_attempts, 3);
    assert_int_equal(hook->retry_backoff_ms, 500);

    const struct step *s = &pb->steps[step(pb, "follow")];
    assert_int_equal(s->timing, TIMING_AFTER);
    assert_int_equal(s->after, step(pb, "start"));
    assert_int_equal(s->delay_ms, 0);
    s = &pb->steps[step(pb, "later")];
    assert_int_equal(s->after, step(pb, "follow"));
    assert_int_equal(s->delay_ms, 90 * 60000);
    assert_int_equal(s->status, STATUS_IDENTIFIED);
    s = &pb->steps[step(pb, "tick")];
    assert_int_equal(s->every_ms, 15 * 60000);
    assert_int_equal(s->from_ms, 15 * 60000);
    assert_int_equal(s->until, UNTIL_NONE);
    s = &pb->steps[step(pb, "ticks")];
    assert_int_equal(s->from_ms, 0);
    assert_int_equal(s->until, UNTIL_COUNT);
    assert_int_equal(s->until_count, 6);
    assert_int_equal(pb->steps[step(pb, "acked")].on, ON_ACKNOWLEDGED);
    s = &pb->steps[step(pb, "monitoring")];
    assert_int_equal(s->on, ON_STATUS);
    assert_int_equal(s->on_status, STATUS_MONITORING);
    s = &pb->steps[step(pb, "manual")];
    assert_int_equal(s->on, ON_MANUAL);
    assert_int_equal(s->status, STATUS_RESOLVED);
    s = &pb->steps[step(pb, "level1")];
    assert_int_equal(s->ack_escalate, step(pb, "level2"));
    assert_int_equal(pb->steps[step(pb, "paged")].ack_escalate, step(pb, "level1"));
    playbook_free(pb);
}

static void test_overrides(void **state)
{
    (void)state;
    struct kv over[] = {{"service", "billing"}, {"extra", "added"}};
    struct loader_options opt = {over, 1};
    struct playbook *pb = load_valid("complete.yaml", &opt);
    assert_int_equal(pb->nvars, 2);
    assert_string_equal(kv_get(pb->vars, pb->nvars, "service"), "billing");
    playbook_free(pb);

    /* A var given only with --var may be used by a template. */
    static const char text[] = "crisisrun: 1\nname: o\nvars: {service: x}\nsteps:\n"
                               "  - {id: s, at: 0s, message: \"{{vars.extra}}\"}\n";
    char *dir = data_dir("valid");
    struct diag d = DIAG_INIT;
    struct loader_options extra = {over + 1, 1};
    pb = loader_load_mem("mem.yaml", dir, text, strlen(text), &extra, &d);
    assert_non_null(pb);
    assert_string_equal(kv_get(pb->vars, pb->nvars, "extra"), "added");
    playbook_free(pb);
    pb = loader_load_mem("mem.yaml", dir, text, strlen(text), NULL, &d);
    assert_null(pb);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].msg, "unknown template variable 'vars.extra'");
    diag_release(&d);

    /* Any other name is a typo: refused, with a suggestion. */
    struct kv typo[] = {{"servce", "billing"}, {"nothing", "x"}};
    struct loader_options bad = {typo, 2};
    pb = loader_load_mem("mem.yaml", dir, text, strlen(text), &bad, &d);
    assert_null(pb);
    assert_int_equal(d.n, 3);
    diag_sort(&d);
    assert_int_equal(d.v[0].line, 0);
    assert_string_equal(d.v[0].msg,
                        "--var 'servce' names no variable of this playbook (did you mean "
                        "'service'?)");
    assert_string_equal(d.v[1].msg, "--var 'nothing' names no variable of this playbook");
    diag_release(&d);
    free(dir);
}

static void test_anchors(void **state)
{
    (void)state;
    struct playbook *pb = load_valid("anchors.yaml", NULL);
    assert_string_equal(url_of(&pb->channels[1].urls, 0),
                        "https://hooks.slack.example/a");
    assert_int_equal(pb->channels[1].timeout_ms, 5000);
    assert_int_equal(pb->steps[1].nnotify, 2);
    assert_string_equal(pb->steps[1].message_src, "update: {{status}}");
    playbook_free(pb);
}

/* One diagnostic expected; checks its position and message. */
static void expect_one(const char *text, int line, int col, const char *msg)
{
    struct diag d = DIAG_INIT;
    assert_null(load_string(text, &d));
    if (d.n != 1 || d.v[0].line != line || d.v[0].col != col || strcmp(d.v[0].msg, msg)) {
        char *s = format_diags(&d);
        print_error("expected mem.yaml:%d:%d: error: %s\ngot:\n%s", line, col, msg, s);
        free(s);
        fail();
    }
    diag_release(&d);
}

static void test_positions(void **state)
{
    (void)state;
    /* Escapes and line folding in a quoted scalar: found by its "{{". */
    expect_one("crisisrun: 1\nname: p\nsteps:\n  - id: s\n    at: 0s\n"
               "    message: \"tab\\there, then\n      next line {{nope}}\"\n",
               7, 19, "unknown template variable 'nope' (did you mean 'now'?)");
    /* The second of two identical variables is the one reported. */
    expect_one("crisisrun: 1\nname: p\nsteps:\n  - id: s\n    at: 0s\n"
               "    message: '{{status}} {{ statu }}'\n",
               6, 29, "unknown template variable 'statu' (did you mean 'status'?)");
    /* A substitution inside a literal block. */
    expect_one(
        "crisisrun: 1\nname: p\nvars:\n  v: |\n    one\n    two "
        "${env:CRISISRUN_TEST_UNSET}\n"
        "steps:\n  - {id: s, at: 0s}\n",
        6, 9,
        "environment variable 'CRISISRUN_TEST_UNSET' is not set (and has no default)");
    /* Multi-byte characters count as one column, as editors count them. */
    expect_one("crisisrun: 1\nname: p\nsteps:\n  - {id: s, at: 0s, message: "
               "\"caf\xc3\xa9 {{x}}\"}\n",
               4, 38, "unknown template variable 'x'");
}

static void test_too_big(void **state)
{
    (void)state;
    size_t len = 5u << 20;
    char *data = xmalloc(len);
    memset(data, '#', len);
    memcpy(data, "crisisrun: 1\n", 13);
    struct diag d = DIAG_INIT;
    assert_null(loader_load_mem("big.yaml", ".", data, len, NULL, &d));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].msg, "the file is larger than 4194304 bytes");
    diag_release(&d);

    char path[] = "/tmp/crisisrun-loader-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    assert_null(loader_load(path, NULL, &d));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].msg, "the file is larger than 4194304 bytes");
    diag_release(&d);
    unlink(path);
    free(data);
}

static void test_too_many_urls(void **state)
{
    (void)state;
    char dir[] = "/tmp/crisisrun-urls-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/many.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i <= LOADER_MAX_URLS; i++)
        fprintf(f, "https://h%d.example/\n", i);
    fclose(f);
    static const char text[] = "crisisrun: 1\nname: many\nchannels:\n"
                               "  all: {type: webhook, urls_file: many.txt}\n"
                               "steps:\n  - {id: s, at: 0s}\n";
    struct diag d = DIAG_INIT;
    assert_null(loader_load_mem("mem.yaml", dir, text, strlen(text), NULL, &d));
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 4);
    assert_string_equal(d.v[0].msg, "urls_file 'many.txt' lists more than 100000 urls");
    diag_release(&d);
    unlink(path);
    rmdir(dir);
    free(path);
}

static void test_diag_cap(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "crisisrun: 1\nname: noisy\nsteps:\n  - {id: s, at: 0s}\n");
    for (int i = 0; i < 1000; i++)
        strbuf_addf(&sb, "junk%d: x\n", i);
    struct diag d = DIAG_INIT;
    assert_null(loader_load_mem("mem.yaml", ".", sb.buf, sb.len, NULL, &d));
    assert_int_equal(d.n, 200);
    assert_string_equal(d.v[199].msg, "too many problems; stopped after 200");
    diag_release(&d);
    strbuf_release(&sb);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct diag d = DIAG_INIT;
    assert_null(loader_load("/nonexistent/playbook.yaml", NULL, &d));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].file, "/nonexistent/playbook.yaml");
    assert_string_equal(d.v[0].msg,
                        "cannot open the playbook: No such file or directory");
    diag_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_files), cmocka_unit_test(test_complete),
        cmocka_unit_test(test_env_values),    cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_form),    cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_anchors),       cmocka_unit_test(test_positions),
        cmocka_unit_test(test_too_big),       cmocka_unit_test(test_too_many_urls),
        cmocka_unit_test(test_diag_cap),      cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
