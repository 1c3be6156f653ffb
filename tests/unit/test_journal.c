/* Unit tests for journal.h: schema and migrations, runs, the runner lock,
 * events, notifications and attempts, batches, and the list/show views. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisisrun/journal.h"
#include "crisisrun/util.h"
#include "journal_internal.h" /* the sqlite3 handle, to simulate a full disk */
#include "sqlite_count.h"

#define SLACK_URL "https://hooks.slack.com/services/T0/B0/SECRET"
#define T0 1764167700000LL /* 2025-11-26T14:35:00Z */

struct fixture {
    char dir[64];
    char *path;
    struct journal *j;
};

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    chmod(p, 0700);
    return remove(p);
}

static void make_tmpdir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/crjournal.XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    make_tmpdir(f->dir, sizeof(f->dir));
    f->path = xasprintf("%s/state/crisisrun.db", f->dir);
    f->j = journal_open(f->path, JOURNAL_CREATE);
    assert_non_null(f->j);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    journal_close(f->j);
    rm_tree(f->dir);
    free(f->path);
    free(f);
    return 0;
}

/* ---- stderr capture: error() reports there ---------------------------------- */

static int saved_stderr = -1;
static char capture_file[64];

static void capture_begin(void)
{
    snprintf(capture_file, sizeof(capture_file), "/tmp/crjournal-err.XXXXXX");
    int fd = mkstemp(capture_file);
    assert_true(fd >= 0);
    fflush(stderr);
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

static char *capture_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    char *s;
    size_t len;
    assert_int_equal(read_file(capture_file, 1 << 20, &s, &len), 0);
    unlink(capture_file);
    return s;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected '%s' in:\n%s", needle, hay);
}

static void assert_not_contains(const char *hay, const char *needle)
{
    if (strstr(hay, needle))
        fail_msg("did not expect '%s' in:\n%s", needle, hay);
}

/* ---- helpers ---------------------------------------------------------------- */

static int user_version(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void exec_on(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void new_run(struct journal *j, struct journal_run *r, int64_t started)
{
    memset(r, 0, sizeof(*r));
    r->playbook_name = "database-outage";
    r->title = "Checkout database outage";
    r->severity = "sev1";
    r->playbook_path = "/srv/playbooks/db.yaml";
    r->playbook_text = "crisisrun: 1\nname: database-outage\n";
    r->vars_json = "{\"service\":\"checkout\"}";
    r->speed = 1;
    r->started_ms = started;
    assert_int_equal(journal_run_create(j, r), 0);
    assert_int_equal(strlen(r->id), JOURNAL_RUN_ID_LEN);
}

static int add_notif(struct journal *j, const char *run, const char *step, int occ,
                     const char *channel, const char *url, int64_t at, char *id)
{
    struct journal_notification_new nn = {
        .run_id = run, .step = step, .occurrence = occ, .channel = channel,
        .endpoint_index = 0, .endpoint_url = url,
        .body = "{\"text\":\"checkout is failing; we are investigating\"}",
        .created_ms = at, .due_ms = at,
    };
    return journal_notification_add(j, &nn, id);
}

static int is_root(void)
{
    return geteuid() == 0;
}

/* ---- open and migrate ----------------------------------------------------------- */

static void test_open_creates_private_files(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    char *dir = xasprintf("%s/state", f->dir);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(dir);
    assert_int_equal(user_version(f->path), JOURNAL_SCHEMA_VERSION);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM pragma_journal_mode"
                                         " WHERE journal_mode = 'wal'"),
                     1);
    assert_string_equal(journal_path(f->j), f->path);
}

static void test_migrates_v0(void **state)
{
    char dir[64];
    (void)state;
    make_tmpdir(dir, sizeof(dir));
    char *path = xasprintf("%s/old.db", dir);
    /* A version-0 database: an SQLite file without our schema. */
    exec_on(path, "CREATE TABLE leftover (x); PRAGMA user_version = 0;");
    assert_int_equal(user_version(path), 0);
    struct journal *j = journal_open(path, JOURNAL_WRITE);
    assert_non_null(j);
    journal_close(j);
    assert_int_equal(user_version(path), JOURNAL_SCHEMA_VERSION);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM sqlite_master WHERE name IN"
                                      " ('runs','events','notifications','attempts',"
                                      "'ack_waits','notes','feedback_tokens',"
                                      "'feedback_responses','feedback_answers')"),
                     9);
    /* Opening again is a no-op. */
    j = journal_open(path, 0);
    assert_non_null(j);
    journal_close(j);
    assert_int_equal(user_version(path), JOURNAL_SCHEMA_VERSION);
    free(path);
    rm_tree(dir);
}

static void test_refuses_newer_schema(void **state)
{
    char dir[64];
    (void)state;
    make_tmpdir(dir, sizeof(dir));
    char *path = xasprintf("%s/new.db", dir);
    exec_on(path, "CREATE TABLE runs (id); PRAGMA user_version = 999;");
    capture_begin();
    struct journal *j = journal_open(path, 0);
    char *err = capture_end();
    assert_null(j);
    assert_contains(err, "was written by a newer crisisrun (schema 999)");
    assert_contains(err, path);
    assert_int_equal(user_version(path), 999);
    free(err);
    free(path);
    rm_tree(dir);
}

static void test_open_errors(void **state)
{
    char dir[64];
    (void)state;
    make_tmpdir(dir, sizeof(dir));

    char *missing = xasprintf("%s/none/crisisrun.db", dir);
    capture_begin();
    struct journal *j = journal_open(missing, 0);
    char *err = capture_end();
    assert_null(j);
    assert_contains(err, "no journal at '");
    assert_contains(err, "(start a run first)");
    free(err);
    struct stat st;
    assert_int_not_equal(stat(missing, &st), 0); /* nothing was created */

    /* Not a database: reported with the path, no crash. */
    char *garbage = xasprintf("%s/garbage.db", dir);
    FILE *fp = fopen(garbage, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an sqlite database\n", fp);
    fclose(fp);
    capture_begin();
    j = journal_open(garbage, JOURNAL_WRITE);
    err = capture_end();
    assert_null(j);
    assert_contains(err, garbage);
    free(err);

    /* A parent that is a file fails even for root. */
    char *under_file = xasprintf("%s/sub/crisisrun.db", garbage);
    capture_begin();
    j = journal_open(under_file, JOURNAL_CREATE);
    err = capture_end();
    assert_null(j);
    assert_contains(err, "cannot create directory");
    free(err);

    free(missing);
    free(garbage);
    free(under_file);
    rm_tree(dir);
}

static void test_open_read_only(void **state)
{
    struct fixture *f = *state;
    /* root ignores file modes, so the chmod below would not block it. */
    if (is_root())
        skip();
    journal_close(f->j);
    f->j = NULL;
    assert_int_equal(chmod(f->path, 0400), 0);
    capture_begin();
    struct journal *j = journal_open(f->path, JOURNAL_WRITE);
    char *err = capture_end();
    assert_null(j);
    assert_contains(err, "is read-only");
    free(err);
    /* A reader with a current schema may still read it. */
    j = journal_open(f->path, 0);
    assert_non_null(j);
    journal_close(j);

    char *dir = xasprintf("%s/locked", f->dir);
    assert_int_equal(mkdir(dir, 0500), 0);
    char *path = xasprintf("%s/deeper/crisisrun.db", dir);
    capture_begin();
    j = journal_open(path, JOURNAL_CREATE);
    err = capture_end();
    assert_null(j);
    assert_contains(err, "cannot create directory");
    free(err);
    free(path);
    free(dir);
}

static void test_full_disk(void **state)
{
    struct fixture *f = *state;
    struct journal_run r;
    new_run(f->j, &r, T0);
    /* max_page_count caps the file: SQLite then fails as on a full disk. */
    assert_int_equal(sqlite3_exec(f->j->db, "PRAGMA max_page_count = 12", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(journal_begin(f->j), 0);
    int ret = 0, i;
    struct journal_notification_new nn = {
        .run_id = r.id, .step = "declare", .occurrence = 1, .channel = "customers",
        .body = "{\"text\":\"checkout is failing\"}", .created_ms = T0, .due_ms = T0,
    };
    assert_int_equal(journal_body_add(f->j, r.id, nn.body, &nn.body_id), 0);
    capture_begin();
    for (i = 0; i < 100000 && ret == 0; i++) {
        char url[64];
        snprintf(url, sizeof(url), "https://s%d.example/", i);
        nn.endpoint_url = url;
        nn.endpoint_index = i;
        ret = journal_notification_add(f->j, &nn, NULL);
    }
    int rb = journal_rollback(f->j);
    char *err = capture_end();
    assert_int_equal(ret, -1);
    assert_int_equal(rb, 0);
    assert_contains(err, "cannot add a notification: database or disk is full");
    assert_contains(err, f->path);
    free(err);
    /* Nothing of the failed batch remains, and the handle still works. */
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM bodies"), 0);
    assert_int_equal(sqlite3_exec(f->j->db, "PRAGMA max_page_count = 1000000", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    assert_int_equal(add_notif(f->j, r.id, "declare", 1, "customers", "https://a/", T0, NULL),
                     0);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/*
 * With automatic checkpoints off (the runner's setting), the WAL grows past
 * SQLite's 1,000 pages without a checkpoint inside any commit, counts its
 * pages, and journal_checkpoint() copies them into the database file.
 */
static void test_manual_checkpoint(void **state)
{
    struct fixture *f = *state;
    struct journal_run r;
    new_run(f->j, &r, T0);
    journal_manual_checkpoints(f->j);
    char *wal = xasprintf("%s-wal", f->path);
    char body[2048];
    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    for (int batch = 0; batch < 12; batch++) {
        assert_int_equal(journal_begin(f->j), 0);
        for (int i = 0; i < 200; i++) {
            char url[64];
            snprintf(url, sizeof(url), "https://s%d.example/", batch * 200 + i);
            struct journal_notification_new nn = {
                .run_id = r.id, .step = "declare", .occurrence = 1, .channel = "customers",
                .endpoint_index = batch * 200 + i, .endpoint_url = url, .body = body,
                .created_ms = T0, .due_ms = T0,
            };
            assert_int_equal(journal_notification_add(f->j, &nn, NULL), 0);
        }
        assert_int_equal(journal_commit(f->j), 0);
    }
    int pending = journal_wal_pending(f->j);
    assert_true(pending > 1000);
    /* Nothing was copied: the database file is still about the schema. */
    off_t db_before = file_size(f->path);
    assert_true(db_before < 512 * 1024);
    assert_true(file_size(wal) > 4 * 1024 * 1024);

    /* It says how many pages it copied: all of them, then none. */
    assert_int_equal(journal_checkpoint(f->j), pending);
    assert_int_equal(journal_wal_pending(f->j), 0);
    assert_int_equal(journal_checkpoint(f->j), 0);
    assert_true(file_size(f->path) > 4 * 1024 * 1024);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), 2400);
    /* The WAL starts over after a complete checkpoint; the count follows. */
    assert_int_equal(journal_begin(f->j), 0);
    struct journal_note note = {.at_ms = T0, .author = "ops", .text = "checkpointed"};
    assert_int_equal(journal_note_add(f->j, r.id, &note, NULL), 0);
    assert_int_equal(journal_commit(f->j), 0);
    assert_true(journal_wal_pending(f->j) < 10);
    free(wal);
}

/* ---- runs --------------------------------------------------------------------- */

static void test_run_create_and_get(void **state)
{
    struct fixture *f = *state;
    struct journal_run r, got;
    new_run(f->j, &r, T0);
    char sha[65];
    journal_sha256_hex(r.playbook_text, strlen(r.playbook_text), sha);
    assert_string_equal(r.playbook_sha256, sha);

    assert_int_equal(journal_run_get(f->j, r.id, &got), 0);
    assert_string_equal(got.id, r.id);
    assert_string_equal(got.playbook_name, "database-outage");
    assert_string_equal(got.title, "Checkout database outage");
    assert_string_equal(got.severity, "sev1");
    assert_string_equal(got.playbook_text, r.playbook_text);
    assert_string_equal(got.playbook_sha256, sha);
    assert_string_equal(got.vars_json, "{\"service\":\"checkout\"}");
    assert_int_equal(got.state, RUN_STATE_RUNNING);
    assert_int_equal(got.status, STATUS_INVESTIGATING);
    assert_int_equal(got.started_ms, T0);
    assert_int_equal(got.resolved_ms, 0);
    journal_run_release(&got);

    /* Creating a run records run_started. */
    struct journal_event *ev;
    size_t n;
    assert_int_equal(journal_event_list(f->j, r.id, &ev, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].kind, EV_RUN_STARTED);
    assert_int_equal(ev[0].at_ms, T0);
    journal_event_list_free(ev, n);
}

static void test_run_find_prefix(void **state)
{
    struct fixture *f = *state;
    struct journal_run runs[17];
    char out[JOURNAL_RUN_ID_LEN + 1];
    /* 17 runs: by pigeonhole two share a first hex digit. */
    for (int i = 0; i < 17; i++)
        new_run(f->j, &runs[i], T0 + i);
    for (int i = 0; i < 17; i++) {
        assert_int_equal(journal_run_find(f->j, runs[i].id, out), 0);
        assert_string_equal(out, runs[i].id);
    }
    /* A unique prefix, in upper case too. */
    struct journal_run extra;
    new_run(f->j, &extra, T0 + 100);
    char prefix[JOURNAL_RUN_ID_LEN + 1];
    int len = 1;
    for (;; len++) {
        int matches = 0;
        for (int i = 0; i < 17; i++)
            matches += !strncmp(runs[i].id, extra.id, (size_t)len);
        if (!matches)
            break;
    }
    snprintf(prefix, sizeof(prefix), "%.*s", len, extra.id);
    assert_int_equal(journal_run_find(f->j, prefix, out), 0);
    assert_string_equal(out, extra.id);
    for (char *p = prefix; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(journal_run_find(f->j, prefix, out), 0);
    assert_string_equal(out, extra.id);

    /* An ambiguous one-digit prefix. */
    int counts[16] = {0};
    const char *hex = "0123456789abcdef";
    for (int i = 0; i < 17; i++)
        counts[strchr(hex, runs[i].id[0]) - hex]++;
    counts[strchr(hex, extra.id[0]) - hex]++;
    int amb = 0;
    while (counts[amb] < 2)
        amb++;
    char p1[2] = {hex[amb], 0};
    char want[64];
    snprintf(want, sizeof(want), "run '%s' is ambiguous (matches %d runs)", p1, counts[amb]);
    capture_begin();
    assert_int_equal(journal_run_find(f->j, p1, out), -1);
    char *err = capture_end();
    assert_contains(err, want);
    free(err);

    capture_begin();
    assert_int_equal(journal_run_find(f->j, "xyz", out), -1);
    assert_int_equal(journal_run_find(f->j, "0123456789abcdef0", out), -1);
    err = capture_end();
    assert_contains(err, "no run 'xyz'");
    assert_contains(err, "no run '0123456789abcdef0'");
    free(err);

    struct journal_run *list;
    size_t n;
    assert_int_equal(journal_run_list(f->j, &list, &n), 0);
    assert_int_equal(n, 18);
    assert_string_equal(list[0].id, extra.id); /* newest first */
    assert_string_equal(list[17].id, runs[0].id);
    assert_null(list[0].playbook_text);
    journal_run_list_free(list, n);
}

static void test_run_state_changes(void **state)
{
    struct fixture *f = *state;
    struct journal_run r, got;
    new_run(f->j, &r, T0);

    assert_int_equal(journal_run_set_acknowledged(f->j, r.id, T0 + 1000, "alice"), 0);
    assert_int_equal(journal_run_set_acknowledged(f->j, r.id, T0 + 2000, "bob"), 1);
    assert_int_equal(journal_run_set_status(f->j, r.id, STATUS_IDENTIFIED, T0 + 3000), 0);
    assert_int_equal(journal_run_set_status(f->j, r.id, STATUS_RESOLVED, T0 + 4000), 0);
    assert_int_equal(journal_run_set_status(f->j, r.id, STATUS_RESOLVED, T0 + 5000), 0);
    assert_int_equal(journal_run_set_state(f->j, r.id, RUN_STATE_INTERRUPTED, T0 + 6000), 0);
    assert_int_equal(journal_run_set_feedback_closes(f->j, r.id, T0 + 7000), 0);
    assert_int_equal(journal_run_get(f->j, r.id, &got), 0);
    assert_int_equal(got.acknowledged_ms, T0 + 1000);
    assert_string_equal(got.acknowledged_by, "alice");
    assert_int_equal(got.status, STATUS_RESOLVED);
    assert_int_equal(got.resolved_ms, T0 + 4000); /* the first time only */
    assert_int_equal(got.state, RUN_STATE_INTERRUPTED);
    assert_int_equal(got.ended_ms, T0 + 6000);
    assert_int_equal(got.feedback_closes_ms, T0 + 7000);
    journal_run_release(&got);

    /* Resumed: running again, no end time. */
    assert_int_equal(journal_run_set_state(f->j, r.id, RUN_STATE_RUNNING, T0 + 8000), 0);
    assert_int_equal(journal_run_get(f->j, r.id, &got), 0);
    assert_int_equal(got.state, RUN_STATE_RUNNING);
    assert_int_equal(got.ended_ms, 0);
    journal_run_release(&got);

    capture_begin();
    int ret = journal_run_set_state(f->j, "000000000000", RUN_STATE_FAILED, T0);
    char *err = capture_end();
    assert_int_equal(ret, -1);
    assert_contains(err, "no run '000000000000'");
    free(err);
}

static void test_run_claim(void **state)
{
    struct fixture *f = *state;
    struct journal_run r, got;
    new_run(f->j, &r, T0);
    /* A second connection, as a second process would have. */
    struct journal *j2 = journal_open(f->path, JOURNAL_WRITE);
    assert_non_null(j2);

    assert_int_equal(journal_run_claim(f->j, r.id, 100, "h", T0, 30000, 0), 1);
    assert_int_equal(journal_run_claim(j2, r.id, 200, "h", T0 + 1000, 30000, 0), 0);
    assert_int_equal(journal_run_claim(f->j, r.id, 100, "h", T0 + 2000, 30000, 0), 1);
    assert_int_equal(journal_run_heartbeat(f->j, r.id, 100, "h", T0 + 10000, 30000), 1);
    /* Not expired yet (renewed to T0 + 40000). */
    assert_int_equal(journal_run_claim(j2, r.id, 200, "h", T0 + 35000, 30000, 0), 0);
    /* Expired: a new process takes over; the old one has lost it. */
    assert_int_equal(journal_run_claim(j2, r.id, 200, "h", T0 + 40001, 30000, 0), 1);
    assert_int_equal(journal_run_heartbeat(f->j, r.id, 100, "h", T0 + 40002, 30000), 0);
    /* The owner is known dead: two resumes race, exactly one wins. */
    assert_int_equal(journal_run_claim(f->j, r.id, 300, "h", T0 + 41000, 30000, 200), 1);
    assert_int_equal(journal_run_claim(j2, r.id, 400, "h", T0 + 41000, 30000, 200), 0);
    /* A dead pid on another host is not ours to judge. */
    assert_int_equal(journal_run_claim(j2, r.id, 500, "other", T0 + 42000, 30000, 300), 0);

    assert_int_equal(journal_run_set_control(f->j, r.id, "127.0.0.1:8080", "tok", NULL), 0);
    assert_int_equal(journal_run_get(j2, r.id, &got), 0);
    assert_int_equal(got.owner_pid, 300);
    assert_string_equal(got.owner_host, "h");
    assert_int_equal(got.lease_until_ms, T0 + 71000);
    assert_string_equal(got.control_addr, "127.0.0.1:8080");
    journal_run_release(&got);

    assert_int_equal(journal_run_release_owner(f->j, r.id, 300, "h"), 0);
    assert_int_equal(journal_run_claim(j2, r.id, 400, "h", T0 + 43000, 30000, 0), 1);
    assert_int_equal(journal_run_get(j2, r.id, &got), 0);
    assert_int_equal(got.owner_pid, 400);
    journal_run_release(&got);
    journal_close(j2);
}

/* ---- events ----------------------------------------------------------------- */

static void test_events_and_last_steps(void **state)
{
    struct fixture *f = *state;
    struct journal_run r;
    new_run(f->j, &r, T0);
    struct journal_event ev = {.at_ms = T0 + 60000, .kind = EV_STEP_FIRED, .step = "update",
                               .occurrence = 1,
                               .detail_json = "{\"scheduled_offset_ms\":60000}"};
    assert_int_equal(journal_event_add(f->j, r.id, &ev), 0);
    ev.at_ms = T0 + 120000;
    ev.occurrence = 2;
    assert_int_equal(journal_event_add(f->j, r.id, &ev), 0);
    ev.step = "declare";
    ev.occurrence = 1;
    ev.at_ms = T0;
    assert_int_equal(journal_event_add(f->j, r.id, &ev), 0);
    struct journal_event st = {.at_ms = T0 + 90000, .kind = EV_STATUS_CHANGED,
                               .detail_json = "{\"from\":\"investigating\",\"to\":\"identified\"}",
                               .actor = "alice"};
    assert_int_equal(journal_event_add(f->j, r.id, &st), 0);

    struct journal_event *v;
    size_t n;
    assert_int_equal(journal_event_list(f->j, r.id, &v, &n), 0);
    assert_int_equal(n, 5);
    /* Time order; insertion order breaks the tie at T0. */
    assert_int_equal(v[0].kind, EV_RUN_STARTED);
    assert_string_equal(v[1].step, "declare");
    assert_int_equal(v[2].at_ms, T0 + 60000);
    assert_int_equal(v[3].kind, EV_STATUS_CHANGED);
    assert_string_equal(v[3].actor, "alice");
    assert_int_equal(v[4].occurrence, 2);
    journal_event_list_free(v, n);

    struct journal_step_last *last;
    assert_int_equal(journal_step_last_list(f->j, r.id, &last, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(last[0].step, "declare");
    assert_int_equal(last[0].occurrence, 1);
    assert_string_equal(last[1].step, "update");
    assert_int_equal(last[1].occurrence, 2);
    assert_int_equal(last[1].at_ms, T0 + 120000);
    journal_step_last_list_free(last, n);

    assert_int_equal(journal_event_kind_from_name("step_fired"), EV_STEP_FIRED);
    assert_int_equal(journal_event_kind_from_name("nope"), -1);
}

/* ---- notifications -------------------------------------------------------------- */

static void nid(int scheme, const char *run, const char *step, int occ, const char *channel,
                int index, const char *url, char *out)
{
    struct journal_notification_new nn = {
        .run_id = run, .id_scheme = scheme, .step = step, .occurrence = occ,
        .channel = channel, .endpoint_index = index, .endpoint_url = url,
    };
    journal_notification_id(&nn, out);
}

static void test_notification_id(void **state)
{
    (void)state;
    char a[JOURNAL_NOTIFICATION_ID_LEN + 1], b[JOURNAL_NOTIFICATION_ID_LEN + 1];
    nid(2, "abc", "declare", 1, "oncall", 7, SLACK_URL, a);
    nid(0, "abc", "declare", 1, "oncall", 7, SLACK_URL, b);
    assert_string_equal(a, b); /* 0 is the current scheme */
    assert_int_equal(strlen(a), JOURNAL_NOTIFICATION_ID_LEN);
    assert_memory_equal(a, "msg_", 4);
    assert_int_equal(strspn(a + 4, "0123456789abcdef"), 32);
    /* SHA-256 of the NUL-separated tuple, the index, SHA-256 of the URL
     * (computed independently, with Python's hashlib). */
    assert_string_equal(a, "msg_" "2919b46bee0db2d9b4f0" "000007" "899d9e");

    /* Each of the six parts changes the id. */
    const char *ids[7];
    char buf[7][JOURNAL_NOTIFICATION_ID_LEN + 1];
    nid(2, "abc", "declare", 1, "oncall", 0, SLACK_URL, buf[0]);
    nid(2, "abd", "declare", 1, "oncall", 0, SLACK_URL, buf[1]);
    nid(2, "abc", "declarE", 1, "oncall", 0, SLACK_URL, buf[2]);
    nid(2, "abc", "declare", 2, "oncall", 0, SLACK_URL, buf[3]);
    nid(2, "abc", "declare", 1, "oncal", 0, SLACK_URL, buf[4]);
    nid(2, "abc", "declare", 1, "oncall", 0, SLACK_URL "2", buf[5]);
    nid(2, "abc", "declare", 1, "oncall", 1, SLACK_URL, buf[6]);
    for (int i = 0; i < 7; i++)
        ids[i] = buf[i];
    for (int i = 0; i < 7; i++)
        for (int k = i + 1; k < 7; k++)
            assert_string_not_equal(ids[i], ids[k]);
    /* Parts are delimited: moving a character across a boundary changes it. */
    nid(2, "abc", "de", 1, "xoncall", 0, SLACK_URL, a);
    nid(2, "abc", "dex", 1, "oncall", 0, SLACK_URL, b);
    assert_string_not_equal(a, b);
    nid(2, "abc", "s", 1, "c", 0, "u", a);
    nid(2, "abc", "s", 11, "c", 0, "u", b);
    assert_string_not_equal(a, b);
    /* One message's ids sort in endpoint order, whatever the URLs: the
     * journal's id index grows at one end during a fan-out. */
    for (int i = 0; i < 300; i++) {
        char url[64];
        snprintf(url, sizeof(url), "https://example.com/hook/%d", 997 * i % 1009);
        nid(2, "abc", "declare", 1, "customers", i, url, b);
        if (i)
            assert_true(strcmp(a, b) < 0);
        memcpy(a, b, sizeof(a));
    }

    /* Scheme 1, for runs begun before journal schema 2: the 24 hex digits
     * the earlier crisisrun derived, so a resume re-sends with them. */
    nid(1, "abc", "declare", 1, "oncall", 7, SLACK_URL, a);
    assert_string_equal(a, "msg_" "dd3bfaa885fc687655259e2c");
    nid(1, "abc", "declare", 1, "oncall", 8, SLACK_URL, b);
    assert_string_equal(a, b); /* the index is not part of it */
}

static void test_notification_lifecycle(void **state)
{
    struct fixture *f = *state;
    struct journal_run r;
    new_run(f->j, &r, T0);
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1], id2[JOURNAL_NOTIFICATION_ID_LEN + 1], want[64];

    assert_int_equal(add_notif(f->j, r.id, "declare", 1, "oncall", SLACK_URL, T0, id), 0);
    nid(0, r.id, "declare", 1, "oncall", 0, SLACK_URL, want);
    assert_string_equal(id, want);
    /* Journaling it again changes nothing. */
    assert_int_equal(add_notif(f->j, r.id, "declare", 1, "oncall", SLACK_URL, T0 + 5, id2),
                     1);
    assert_string_equal(id, id2);
    /* ... not even an orphan body row. */
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM bodies"), 1);

    struct journal_notification *v;
    size_t n;
    assert_int_equal(journal_notification_list(f->j, r.id, DELIVERY_ALL, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].endpoint_redacted, "https://hooks.slack.com/\xe2\x80\xa6");
    char hash[JOURNAL_ENDPOINT_HASH_LEN + 1];
    journal_endpoint_hash(SLACK_URL, hash);
    assert_string_equal(v[0].endpoint_hash, hash);
    assert_int_equal(v[0].state, DELIVERY_PENDING);
    assert_int_equal(v[0].created_ms, T0);
    assert_int_equal(v[0].last_latency_ms, -1);
    assert_non_null(strstr(v[0].body, "investigating"));
    journal_notification_list_free(v, n);
    /* The URL is nowhere in the row. */
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"
                                         " JOIN bodies ON bodies.id = body_id WHERE"
                                         " notifications.id||notifications.run_id||step"
                                         "||channel||endpoint_redacted"
                                         "||endpoint_hash||body LIKE '%SECRET%'"
                                         " OR endpoint_redacted LIKE '%services%'"),
                     0);

    assert_int_equal(journal_notification_set_state(f->j, id, DELIVERY_INFLIGHT, T0 + 10, 0),
                     0);
    struct journal_attempt a = {.number = 1, .started_ms = T0 + 10, .finished_ms = T0 + 60,
                                .http_status = 503, .latency_ms = 50,
                                .outcome = ATTEMPT_RETRY, .error = "HTTP 503"};
    memcpy(a.notification_id, id, sizeof(a.notification_id));
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    assert_int_equal(journal_notification_set_state(f->j, id, DELIVERY_PENDING, T0 + 60,
                                                    T0 + 1060),
                     0);
    a.number = 2;
    a.started_ms = T0 + 1060;
    a.finished_ms = T0 + 1180;
    a.http_status = 200;
    a.latency_ms = 120;
    a.outcome = ATTEMPT_DELIVERED;
    a.error = NULL;
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    assert_int_equal(
        journal_notification_set_state(f->j, id, DELIVERY_DELIVERED, T0 + 1180, 0), 0);

    assert_int_equal(journal_notification_list(f->j, r.id, DELIVERY_ALL, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].state, DELIVERY_DELIVERED);
    assert_int_equal(v[0].attempts, 2);
    assert_int_equal(v[0].last_http_status, 200);
    assert_int_equal(v[0].last_latency_ms, 120);
    assert_null(v[0].last_error);
    assert_int_equal(v[0].settled_ms, T0 + 1180);
    assert_int_equal(v[0].due_ms, T0 + 1060);
    journal_notification_list_free(v, n);

    struct journal_attempt *at;
    assert_int_equal(journal_attempt_list(f->j, r.id, &at, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(at[0].http_status, 503);
    assert_int_equal(at[0].outcome, ATTEMPT_RETRY);
    assert_string_equal(at[0].error, "HTTP 503");
    assert_int_equal(at[1].outcome, ATTEMPT_DELIVERED);
    journal_attempt_list_free(at, n);

    /* Delivered is final: never sent again. */
    capture_begin();
    int ret = journal_notification_set_state(f->j, id, DELIVERY_PENDING, T0 + 2000, T0);
    int ret2 = journal_notification_set_state(f->j, "msg_nope", DELIVERY_FAILED, T0, 0);
    char *err = capture_end();
    assert_int_equal(ret, -1);
    assert_int_equal(ret2, -1);
    assert_contains(err, "is already delivered");
    assert_contains(err, "no notification 'msg_nope'");
    free(err);

    /* A body that embeds its endpoint URL is refused, and says so redacted. */
    struct journal_notification_new nn = {
        .run_id = r.id, .step = "declare", .occurrence = 1, .channel = "x",
        .endpoint_url = SLACK_URL, .body = "{\"url\":\"" SLACK_URL "\"}",
        .created_ms = T0, .due_ms = T0,
    };
    capture_begin();
    ret = journal_notification_add(f->j, &nn, NULL);
    err = capture_end();
    assert_int_equal(ret, -1);
    assert_contains(err, "contains its endpoint url");
    assert_not_contains(err, "SECRET");
    free(err);
}

static void test_unsettled_for_resume(void **state)
{
    struct fixture *f = *state;
    struct journal_run r;
    new_run(f->j, &r, T0);
    char ids[6][JOURNAL_NOTIFICATION_ID_LEN + 1];
    const char *urls[6] = {"https://a.example/1", "https://b.example/2",
                           "https://c.example/3", "https://d.example/4",
                           "https://gone.example/x", "https://gone.example/x"};
    for (int i = 0; i < 6; i++)
        assert_int_equal(
            add_notif(f->j, r.id, "declare", 1, i == 5 ? "other" : "customers", urls[i],
                      T0 + i, ids[i]),
            0);
    assert_int_equal(journal_notification_set_state(f->j, ids[0], DELIVERY_INFLIGHT, T0, 0),
                     0);
    assert_int_equal(journal_notification_set_state(f->j, ids[0], DELIVERY_DELIVERED, T0, 0),
                     0);
    assert_int_equal(journal_notification_set_state(f->j, ids[1], DELIVERY_INFLIGHT, T0, 0),
                     0);
    assert_int_equal(journal_notification_set_state(f->j, ids[2], DELIVERY_FAILED, T0, 0), 0);
    /* 410 from gone.example: its notifications settle disabled. */
    for (int i = 4; i < 6; i++)
        assert_int_equal(
            journal_notification_set_state(f->j, ids[i], DELIVERY_DISABLED, T0 + 10, 0), 0);

    struct journal_notification *v;
    size_t n;
    assert_int_equal(journal_notification_list(f->j, r.id, DELIVERY_UNSETTLED, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].id, ids[1]); /* in flight when the process died */
    assert_int_equal(v[0].state, DELIVERY_INFLIGHT);
    assert_string_equal(v[1].id, ids[3]);
    assert_int_equal(v[1].state, DELIVERY_PENDING);
    journal_notification_list_free(v, n);

    long counts[DELIVERY_STATE_COUNT];
    assert_int_equal(journal_notification_count(f->j, r.id, counts), 0);
    assert_int_equal(counts[DELIVERY_PENDING], 1);
    assert_int_equal(counts[DELIVERY_INFLIGHT], 1);
    assert_int_equal(counts[DELIVERY_DELIVERED], 1);
    assert_int_equal(counts[DELIVERY_FAILED], 1);
    assert_int_equal(counts[DELIVERY_DISABLED], 2);

    /* The last of them settled at T0 + 10; a run with none says 0. */
    int64_t settled = -1;
    assert_int_equal(journal_notification_last_settled(f->j, r.id, &settled), 0);
    assert_int_equal(settled, T0 + 10);
    assert_int_equal(journal_notification_last_settled(f->j, "000000000000", &settled),
                     0);
    assert_int_equal(settled, 0);
}

/* ---- batches ---------------------------------------------------------------------- */

static void test_batch_rollback(void **state)
{
    struct fixture *f = *state;
    struct journal_run r;
    new_run(f->j, &r, T0);
    struct journal_event ev = {.at_ms = T0, .kind = EV_NOTE, .detail_json = "{\"text\":\"a\"}"};

    assert_int_equal(journal_begin(f->j), 0);
    assert_int_equal(journal_event_add(f->j, r.id, &ev), 0);
    assert_int_equal(journal_begin(f->j), 0);
    assert_int_equal(journal_event_add(f->j, r.id, &ev), 0);
    assert_int_equal(journal_rollback(f->j), 0); /* the inner one only */
    /* Not visible to another connection before the commit. */
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events WHERE kind = 'note'"), 0);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events WHERE kind = 'note'"), 1);

    assert_int_equal(journal_begin(f->j), 0);
    assert_int_equal(journal_event_add(f->j, r.id, &ev), 0);
    assert_int_equal(journal_rollback(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events WHERE kind = 'note'"), 1);

    capture_begin();
    int ret = journal_commit(f->j);
    char *err = capture_end();
    assert_int_equal(ret, -1);
    assert_contains(err, "commit without a transaction");
    free(err);

    /* A failing write inside a batch leaves the batch usable. */
    assert_int_equal(journal_begin(f->j), 0);
    capture_begin();
    ret = journal_event_add(f->j, "000000000000", &ev); /* no such run: foreign key */
    err = capture_end();
    assert_int_equal(ret, -1);
    assert_contains(err, "cannot add an event");
    free(err);
    assert_int_equal(journal_event_add(f->j, r.id, &ev), 0);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events WHERE kind = 'note'"), 2);
}

static void test_fanout_10000_in_one_batch(void **state)
{
    struct fixture *f = *state;
    struct journal_run r, r2;
    new_run(f->j, &r, T0);
    new_run(f->j, &r2, T0); /* for notifications in between */
    enum { N = 10000 };
    char(*ids)[JOURNAL_NOTIFICATION_ID_LEN + 1] = xcalloc(N, sizeof(*ids));

    assert_int_equal(journal_begin(f->j), 0);
    struct journal_event ev = {.at_ms = T0, .kind = EV_STEP_FIRED, .step = "declare",
                               .occurrence = 1};
    assert_int_equal(journal_event_add(f->j, r.id, &ev), 0);
    /* As the runner does it: one body for the whole fan-out. */
    int64_t body_id;
    assert_int_equal(journal_body_add(f->j, r.id, "{\"message\":\"hello\"}", &body_id), 0);
    for (int i = 0; i < N; i++) {
        char url[64];
        snprintf(url, sizeof(url), "https://subscriber%d.example/hook?token=%d", i, i * 7);
        struct journal_notification_new nn = {
            .run_id = r.id, .step = "declare", .occurrence = 1, .channel = "customers",
            .endpoint_index = i, .endpoint_url = url, .body = "{\"message\":\"hello\"}",
            .body_id = body_id, .created_ms = T0, .due_ms = T0,
        };
        assert_int_equal(journal_notification_add(f->j, &nn, ids[i]), 0);
        /* The journal hashes the tuple once for the fan-out: every id is
         * still the one derived from scratch, also right after another
         * step's notification. */
        if (i % 1000 == 0 || i == N - 1) {
            char fresh[JOURNAL_NOTIFICATION_ID_LEN + 1], other[JOURNAL_NOTIFICATION_ID_LEN + 1];
            journal_notification_id(&nn, fresh);
            assert_string_equal(ids[i], fresh);
            struct journal_notification_new on = nn;
            on.run_id = r2.id;
            on.step = "update";
            assert_int_equal(journal_notification_add(f->j, &on, other), 0);
            journal_notification_id(&on, fresh);
            assert_string_equal(other, fresh);
            assert_string_not_equal(other, ids[i]);
        }
    }
    assert_int_equal(journal_commit(f->j), 0);

    assert_int_equal(journal_begin(f->j), 0);
    for (int i = 0; i < N; i++) {
        struct journal_attempt a = {.number = 1, .started_ms = T0, .finished_ms = T0 + 5,
                                    .http_status = i % 2 ? 500 : 204, .latency_ms = 5,
                                    .outcome = i % 2 ? ATTEMPT_RETRY : ATTEMPT_DELIVERED};
        memcpy(a.notification_id, ids[i], sizeof(a.notification_id));
        assert_int_equal(journal_attempt_add(f->j, &a), 0);
        if (i % 2 == 0)
            assert_int_equal(journal_notification_set_state(f->j, ids[i], DELIVERY_DELIVERED,
                                                            T0 + 5, 0),
                             0);
    }
    assert_int_equal(journal_commit(f->j), 0);

    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"
                                         " WHERE step = 'declare'"), N);
    assert_int_equal(count_rows(f->path, "SELECT count(DISTINCT id) FROM notifications"
                                         " WHERE step = 'declare'"), N);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"
                                         " WHERE step = 'update'"), 11);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM attempts"), N);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM bodies"), 1);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications JOIN bodies"
                                         " ON bodies.id = body_id WHERE body LIKE '%token%'"
                                         " OR endpoint_redacted LIKE '%token%'"),
                     0);
    long counts[DELIVERY_STATE_COUNT];
    assert_int_equal(journal_notification_count(f->j, r.id, counts), 0);
    assert_int_equal(counts[DELIVERY_DELIVERED], N / 2);
    assert_int_equal(counts[DELIVERY_PENDING], N / 2);
    struct journal_notification *v;
    size_t n;
    assert_int_equal(journal_notification_list(f->j, r.id, DELIVERY_UNSETTLED, &v, &n), 0);
    assert_int_equal(n, N / 2);
    journal_notification_list_free(v, n);
    free(ids);
}

/* ---- acks, notes, feedback ------------------------------------------------------- */

static void test_acks_notes_feedback(void **state)
{
    struct fixture *f = *state;
    struct journal_run r;
    new_run(f->j, &r, T0);

    assert_int_equal(journal_ack_wait_add(f->j, r.id, "page-db", 1, T0, T0 + 600000,
                                          "escalate-db"),
                     0);
    assert_int_equal(journal_ack_wait_add(f->j, r.id, "page-db", 1, T0, T0 + 600000,
                                          "escalate-db"),
                     0); /* idempotent */
    assert_int_equal(journal_ack_wait_add(f->j, r.id, "page-net", 1, T0 + 1, T0 + 600001,
                                          "escalate-db"),
                     0);
    assert_int_equal(journal_ack_escalated(f->j, r.id, "page-db", 1, T0 + 600000), 0);
    /* An escalated wait is over: a later ack (the run's) answers nothing. */
    assert_int_equal(journal_ack_step(f->j, r.id, "page-db", T0 + 700000, "root"), 0);
    assert_int_equal(journal_ack_step(f->j, r.id, "page-net", T0 + 300000, "alice"), 1);
    /* Nor does it overwrite an acknowledgement already there. */
    assert_int_equal(journal_ack_step(f->j, r.id, "page-net", T0 + 800000, "bob"), 0);
    /* Every occurrence still waiting, past one that escalated: a repeating
     * step's earlier pages are answered by the same ack (the scheduler
     * cancels all their deadlines). */
    assert_int_equal(journal_ack_wait_add(f->j, r.id, "page-ops", 1, T0 + 2, T0 + 600002,
                                          "escalate-db"),
                     0);
    assert_int_equal(journal_ack_wait_add(f->j, r.id, "page-ops", 2, T0 + 3, T0 + 600003,
                                          "escalate-db"),
                     0);
    assert_int_equal(journal_ack_wait_add(f->j, r.id, "page-ops", 3, T0 + 4, T0 + 600004,
                                          "escalate-db"),
                     0);
    assert_int_equal(journal_ack_escalated(f->j, r.id, "page-ops", 2, T0 + 600003), 0);
    assert_int_equal(journal_ack_step(f->j, r.id, "page-ops", T0 + 700000, "bob"), 1);
    struct journal_ack_wait *w;
    size_t n;
    assert_int_equal(journal_ack_wait_list(f->j, r.id, &w, &n), 0);
    assert_int_equal(n, 5);
    assert_string_equal(w[0].step, "page-db");
    assert_int_equal(w[0].acknowledged_ms, 0);
    assert_null(w[0].acknowledged_by);
    assert_int_equal(w[0].escalated_ms, T0 + 600000);
    assert_string_equal(w[0].escalate_step, "escalate-db");
    assert_string_equal(w[1].step, "page-net");
    assert_int_equal(w[1].acknowledged_ms, T0 + 300000);
    assert_string_equal(w[1].acknowledged_by, "alice");
    assert_int_equal(w[1].escalated_ms, 0);
    assert_string_equal(w[2].step, "page-ops");
    assert_int_equal(w[2].occurrence, 1);
    assert_int_equal(w[2].acknowledged_ms, T0 + 700000);
    assert_int_equal(w[3].occurrence, 2);
    assert_int_equal(w[3].acknowledged_ms, 0);
    assert_int_equal(w[3].escalated_ms, T0 + 600003);
    assert_int_equal(w[4].occurrence, 3);
    assert_int_equal(w[4].acknowledged_ms, T0 + 700000);
    assert_string_equal(w[4].acknowledged_by, "bob");
    assert_int_equal(w[4].escalated_ms, 0);
    journal_ack_wait_list_free(w, n);

    struct journal_note note = {.at_ms = T0 + 5, .author = "alice",
                                .text = "rolled back deploy 42", .action_item = 1,
                                .notify_json = "[\"oncall\"]"};
    int64_t note_id = 0;
    assert_int_equal(journal_note_add(f->j, r.id, &note, &note_id), 0);
    assert_true(note_id > 0);
    struct journal_note *notes;
    assert_int_equal(journal_note_list(f->j, r.id, &notes, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(notes[0].text, "rolled back deploy 42");
    assert_int_equal(notes[0].action_item, 1);
    journal_note_list_free(notes, n);

    char tok[JOURNAL_FEEDBACK_TOKEN_LEN + 1], tok2[JOURNAL_FEEDBACK_TOKEN_LEN + 1],
        tok3[JOURNAL_FEEDBACK_TOKEN_LEN + 1], run_out[JOURNAL_RUN_ID_LEN + 1];
    assert_int_equal(journal_feedback_token(f->j, r.id, "customers", AUDIENCE_EXTERNAL, T0, tok),
                     0);
    assert_int_equal(strlen(tok), JOURNAL_FEEDBACK_TOKEN_LEN);
    assert_int_equal(journal_feedback_token(f->j, r.id, "customers", AUDIENCE_EXTERNAL, T0,
                                            tok2),
                     0);
    assert_string_equal(tok, tok2);
    assert_int_equal(journal_feedback_token(f->j, r.id, "oncall", AUDIENCE_INTERNAL, T0, tok3),
                     0);
    assert_string_not_equal(tok, tok3);
    char *channel = NULL;
    enum audience aud;
    assert_int_equal(journal_feedback_token_lookup(f->j, tok, run_out, &channel, &aud), 1);
    assert_string_equal(run_out, r.id);
    assert_string_equal(channel, "customers");
    assert_int_equal(aud, AUDIENCE_EXTERNAL);
    free(channel);
    assert_int_equal(journal_feedback_token_lookup(f->j, "00", run_out, NULL, NULL), 0);

    struct journal_answer answers[] = {{"informed", 4, NULL}, {"better", 0, "faster updates"}};
    struct journal_feedback fb = {.received_ms = T0 + 9, .channel = "customers",
                                  .audience = AUDIENCE_EXTERNAL, .source = "form",
                                  .anonymous = 1, .respondent = "carol",
                                  .comment = "thanks", .answers = answers, .nanswers = 2};
    assert_int_equal(journal_feedback_add(f->j, r.id, &fb, NULL), 0);
    struct journal_feedback *fl;
    assert_int_equal(journal_feedback_list(f->j, r.id, &fl, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(fl[0].anonymous, 1);
    assert_null(fl[0].respondent); /* anonymous means not stored */
    assert_int_equal(fl[0].audience, AUDIENCE_EXTERNAL);
    assert_int_equal(fl[0].nanswers, 2);
    assert_string_equal(fl[0].answers[0].question_id, "informed");
    assert_int_equal(fl[0].answers[0].rating, 4);
    assert_string_equal(fl[0].answers[1].text, "faster updates");
    journal_feedback_list_free(fl, n);
}

/* ---- views ------------------------------------------------------------------------ */

static char *render_run(struct journal *j, const char *run, int json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    int ret = journal_print_run(j, run, json, out);
    fclose(out);
    assert_int_equal(ret, 0);
    return buf;
}

static void test_show_never_prints_secrets(void **state)
{
    struct fixture *f = *state;
    struct journal_run r;
    new_run(f->j, &r, T0);
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    assert_int_equal(journal_begin(f->j), 0);
    struct journal_event ev = {.at_ms = T0 + 61000, .kind = EV_STEP_FIRED, .step = "declare",
                               .occurrence = 1,
                               .detail_json = "{\"scheduled_offset_ms\":60000,\"late\":true}"};
    assert_int_equal(journal_event_add(f->j, r.id, &ev), 0);
    /* Even a careless detail with a URL is printed redacted. */
    struct journal_event bad = {.at_ms = T0 + 62000, .kind = EV_ENDPOINT_DISABLED,
                                .detail_json = "{\"channel\":\"oncall\",\"endpoint\":\""
                                               SLACK_URL "\"}"};
    assert_int_equal(journal_event_add(f->j, r.id, &bad), 0);
    assert_int_equal(add_notif(f->j, r.id, "declare", 1, "oncall", SLACK_URL, T0 + 61000, id),
                     0);
    struct journal_attempt a = {.number = 1, .started_ms = T0 + 61000,
                                .finished_ms = T0 + 61250, .http_status = 0,
                                .latency_ms = 250, .outcome = ATTEMPT_FAILED,
                                .error = "connect to " SLACK_URL " failed"};
    memcpy(a.notification_id, id, sizeof(a.notification_id));
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    assert_int_equal(journal_notification_set_state(f->j, id, DELIVERY_FAILED, T0 + 61250, 0),
                     0);
    struct journal_note note = {.at_ms = T0 + 120000, .author = "alice",
                                .text = "db failover started", .action_item = 1};
    assert_int_equal(journal_note_add(f->j, r.id, &note, NULL), 0);
    assert_int_equal(journal_ack_wait_add(f->j, r.id, "page-db", 1, T0, T0 + 600000, NULL), 0);
    assert_int_equal(journal_run_set_status(f->j, r.id, STATUS_RESOLVED, T0 + 4000000), 0);
    assert_int_equal(journal_commit(f->j), 0);

    char prefix[5];
    snprintf(prefix, sizeof(prefix), "%.4s", r.id);
    char *text = render_run(f->j, prefix, 0);
    assert_contains(text, r.id);
    assert_contains(text, "database-outage");
    assert_contains(text, "Checkout database outage");
    assert_contains(text, "sev1");
    assert_contains(text, "+01m 01s  step_fired");
    assert_contains(text, "declare #1 (scheduled +01m 00s, late)");
    assert_contains(text, "https://hooks.slack.com/\xe2\x80\xa6");
    assert_contains(text, "failed");
    assert_contains(text, "250ms");
    assert_contains(text, "alice [action]: db failover started");
    assert_contains(text, "page-db #1");
    assert_contains(text, "+66m 40s"); /* resolved */
    assert_not_contains(text, "SECRET");
    assert_not_contains(text, "/services");
    assert_not_contains(text, "investigating\"}"); /* no bodies */
    free(text);

    char *js = render_run(f->j, r.id, 1);
    assert_not_contains(js, "SECRET");
    assert_not_contains(js, "/services");
    json_error_t jerr;
    json_t *root = json_loads(js, 0, &jerr);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "id")), r.id);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "resolved");
    json_t *d = json_array_get(json_object_get(root, "deliveries"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "id")), id);
    assert_string_equal(json_string_value(json_object_get(d, "state")), "failed");
    assert_int_equal(json_array_size(json_object_get(d, "attempt_log")), 1);
    assert_null(json_object_get(d, "body"));
    assert_int_equal(json_array_size(json_object_get(root, "events")), 3);
    assert_int_equal(json_array_size(json_object_get(root, "notes")), 1);
    json_decref(root);
    free(js);

    capture_begin();
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int ret = journal_print_run(f->j, "fffffffffffff", 0, out);
    fclose(out);
    char *err = capture_end();
    assert_int_equal(ret, -1);
    assert_contains(err, "no run 'fffffffffffff'");
    free(err);
    free(buf);
}

static void test_list_view(void **state)
{
    struct fixture *f = *state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(journal_print_runs(f->j, 0, T0, out), 0);
    fclose(out);
    assert_contains(buf, "no runs");
    free(buf);

    struct journal_run old, young;
    new_run(f->j, &old, T0);
    new_run(f->j, &young, T0 + 3600000);
    assert_int_equal(journal_run_set_status(f->j, old.id, STATUS_RESOLVED, T0 + 5400000), 0);
    assert_int_equal(journal_run_set_state(f->j, old.id, RUN_STATE_RESOLVED, T0 + 5400000), 0);

    out = open_memstream(&buf, &len);
    assert_int_equal(journal_print_runs(f->j, 0, T0 + 3660000, out), 0);
    fclose(out);
    char *p_young = strstr(buf, young.id), *p_old = strstr(buf, old.id);
    assert_non_null(p_young);
    assert_non_null(p_old);
    assert_true(p_young < p_old); /* newest first */
    assert_contains(buf, "2025-11-26T14:35:00Z");
    assert_contains(p_old, "1h30m");
    assert_contains(p_young, "1m");
    assert_contains(buf, "ID");
    free(buf);

    out = open_memstream(&buf, &len);
    assert_int_equal(journal_print_runs(f->j, 1, T0 + 3660000, out), 0);
    fclose(out);
    json_t *arr = json_loads(buf, 0, NULL);
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 2);
    json_t *o = json_array_get(arr, 1);
    assert_string_equal(json_string_value(json_object_get(o, "id")), old.id);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "resolved");
    assert_string_equal(json_string_value(json_object_get(o, "started")),
                        "2025-11-26T14:35:00.000Z");
    assert_int_equal(json_integer_value(json_object_get(o, "duration_ms")), 5400000);
    assert_true(json_is_false(json_object_get(o, "drill")));
    json_decref(arr);
    free(buf);
}

/*
 * A drill's times are its rehearsed timeline, so `list` measures a running
 * drill on its clock too (journal_run_clock), as `show` places its events:
 * 25 real seconds into a drill at --speed 20, the drill is 8m20s in, with
 * an event at +7m13s; measured on the wall clock it would last 25s.
 */
static void test_list_view_drill(void **state)
{
    struct fixture *f = *state;
    struct journal_run r;
    memset(&r, 0, sizeof(r));
    r.playbook_name = "database-outage";
    r.playbook_path = "/srv/playbooks/db.yaml";
    r.playbook_text = "crisisrun: 1\nname: database-outage\n";
    r.drill = 1;
    r.speed = 20;
    r.started_ms = T0;
    assert_int_equal(journal_run_create(f->j, &r), 0);
    struct journal_event ev = {.kind = EV_NOTE, .at_ms = T0 + 433000};
    assert_int_equal(journal_event_add(f->j, r.id, &ev), 0);

    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(journal_print_runs(f->j, 0, T0 + 25000, out), 0);
    fclose(out);
    assert_contains(buf, "running");
    assert_contains(buf, "8m20s");
    free(buf);
    out = open_memstream(&buf, &len);
    assert_int_equal(journal_print_runs(f->j, 1, T0 + 25000, out), 0);
    fclose(out);
    json_t *arr = json_loads(buf, 0, NULL);
    json_t *o = json_array_get(arr, 0);
    /* 25 real seconds at 20x: past the last event show places (+7m13s). */
    assert_int_equal(json_integer_value(json_object_get(o, "duration_ms")), 500000);
    json_decref(arr);
    free(buf);

    /* Resolved at +12m31s on its clock: that is its duration from then on. */
    assert_int_equal(journal_run_set_status(f->j, r.id, STATUS_RESOLVED, T0 + 751000), 0);
    out = open_memstream(&buf, &len);
    assert_int_equal(journal_print_runs(f->j, 0, T0 + 3600000, out), 0);
    fclose(out);
    assert_contains(buf, "12m31s");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_private_files, setup, teardown),
        cmocka_unit_test(test_migrates_v0),
        cmocka_unit_test(test_refuses_newer_schema),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test_setup_teardown(test_open_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_create_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_find_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_state_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_and_last_steps, setup, teardown),
        cmocka_unit_test(test_notification_id),
        cmocka_unit_test_setup_teardown(test_notification_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsettled_for_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fanout_10000_in_one_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acks_notes_feedback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_show_never_prints_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_view_drill, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
