/*
 * journal.c - opening the journal, its schema and migrations, batches and
 * the prepared-statement cache.  Runs are in journal_run.c, notifications in
 * journal_delivery.c, the rest of the timeline in journal_timeline.c.
 *
 * Deliberate choices (docs/journal.md has the long form):
 * - WAL + synchronous=NORMAL: committed batches survive SIGKILL, which is
 *   what resume needs; fsync per batch (FULL) would only add power-loss
 *   safety at the price of the run loop's throughput.
 * - Migrations are an append-only array of SQL scripts; migrations[v]
 *   brings schema v to v+1.  They run in one BEGIN IMMEDIATE transaction
 *   that re-reads user_version, so two processes opening an old journal at
 *   once migrate it exactly once.
 * - The file is created by us with mode 0600 before SQLite opens it (SQLite
 *   gives its -wal and -shm files the same mode): it holds playbook text.
 */
#include "journal_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "crisisrun/sha256.h"
#include "crisisrun/util.h"

#define BUSY_TIMEOUT_MS 5000

/*
 * Schema version 1.  Later versions append a script; never edit one.
 * Value checks are written as OR chains, not IN lists: SQLite evaluates a
 * CHECK with an IN list of constants by building a temporary index on every
 * row it writes, which was a quarter of the journal's cost in a fan-out.
 */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE runs ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  playbook_name TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  severity TEXT,"
    "  playbook_path TEXT NOT NULL,"
    "  playbook_sha256 TEXT NOT NULL,"
    "  playbook_text TEXT NOT NULL,"
    "  vars_json TEXT NOT NULL DEFAULT '{}',"
    "  meta_json TEXT,"
    "  capture_dir TEXT,"
    "  drill INTEGER NOT NULL DEFAULT 0,"
    "  speed REAL NOT NULL DEFAULT 1,"
    "  state TEXT NOT NULL DEFAULT 'running'"
    "    CHECK (state = 'running' OR state = 'resolved' OR state = 'interrupted' OR state = 'failed'),"
    "  status TEXT NOT NULL DEFAULT 'investigating'"
    "    CHECK (status = 'investigating' OR status = 'identified' OR status = 'monitoring' OR status = 'resolved'),"
    "  started_ms INTEGER NOT NULL,"
    "  acknowledged_ms INTEGER,"
    "  acknowledged_by TEXT,"
    "  resolved_ms INTEGER,"
    "  ended_ms INTEGER,"
    "  feedback_closes_ms INTEGER,"
    "  owner_pid INTEGER,"
    "  owner_host TEXT,"
    "  lease_until_ms INTEGER,"
    "  control_addr TEXT,"
    "  control_token TEXT,"
    "  public_url TEXT"
    ");"
    "CREATE INDEX runs_started ON runs(started_ms);"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  at_ms INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  step TEXT,"
    "  occurrence INTEGER NOT NULL DEFAULT 0,"
    "  detail TEXT,"
    "  actor TEXT"
    ");"
    "CREATE INDEX events_run ON events(run_id, at_ms, seq);"
    "CREATE TABLE notifications ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  step TEXT NOT NULL,"
    "  occurrence INTEGER NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  endpoint_index INTEGER NOT NULL,"
    "  endpoint_redacted TEXT NOT NULL,"
    "  endpoint_hash TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state = 'pending' OR state = 'inflight' OR state = 'delivered' OR state = 'failed' OR state = 'disabled'),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  due_ms INTEGER NOT NULL,"
    "  settled_ms INTEGER,"
    "  body TEXT NOT NULL,"
    "  last_http_status INTEGER,"
    "  last_latency_ms INTEGER,"
    "  last_error TEXT"
    ");"
    "CREATE INDEX notifications_run ON notifications(run_id, state);"
    "CREATE TABLE attempts ("
    "  notification_id TEXT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,"
    "  number INTEGER NOT NULL,"
    "  started_ms INTEGER NOT NULL,"
    "  finished_ms INTEGER NOT NULL,"
    "  http_status INTEGER,"
    "  latency_ms INTEGER NOT NULL,"
    "  outcome TEXT NOT NULL CHECK (outcome = 'delivered' OR outcome = 'retry' OR outcome = 'failed'),"
    "  error TEXT,"
    "  PRIMARY KEY (notification_id, number)"
    ") WITHOUT ROWID;"
    "CREATE TABLE ack_waits ("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  step TEXT NOT NULL,"
    "  occurrence INTEGER NOT NULL,"
    "  since_ms INTEGER NOT NULL,"
    "  deadline_ms INTEGER NOT NULL,"
    "  escalate_step TEXT,"
    "  acknowledged_ms INTEGER,"
    "  acknowledged_by TEXT,"
    "  escalated_ms INTEGER,"
    "  PRIMARY KEY (run_id, step, occurrence)"
    ");"
    "CREATE TABLE notes ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  at_ms INTEGER NOT NULL,"
    "  author TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  action_item INTEGER NOT NULL DEFAULT 0,"
    "  notify TEXT"
    ");"
    "CREATE INDEX notes_run ON notes(run_id, at_ms);"
    "CREATE TABLE feedback_tokens ("
    "  token TEXT PRIMARY KEY NOT NULL,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  channel TEXT NOT NULL,"
    "  audience TEXT NOT NULL CHECK (audience = 'internal' OR audience = 'external'),"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (run_id, channel)"
    ");"
    "CREATE TABLE feedback_responses ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  received_ms INTEGER NOT NULL,"
    "  channel TEXT,"
    "  audience TEXT NOT NULL CHECK (audience = 'internal' OR audience = 'external'),"
    "  source TEXT NOT NULL CHECK (source = 'form' OR source = 'cli' OR source = 'import'),"
    "  anonymous INTEGER NOT NULL DEFAULT 0,"
    "  respondent TEXT,"
    "  comment TEXT"
    ");"
    "CREATE INDEX feedback_run ON feedback_responses(run_id);"
    "CREATE TABLE feedback_answers ("
    "  response_id INTEGER NOT NULL REFERENCES feedback_responses(id) ON DELETE CASCADE,"
    "  question_id TEXT NOT NULL,"
    "  rating INTEGER,"
    "  text TEXT,"
    "  PRIMARY KEY (response_id, question_id)"
    ");",
    /*
     * 1 -> 2: a fan-out's journal writes, measured (docs/performance.md).
     * - Bodies are stored once per message, in `bodies`, instead of once
     *   per endpoint: 10,000 copies of one body were most of the bytes
     *   the WAL wrote.
     * - notifications_run no longer holds the state, so settling a
     *   notification rewrites its row and no index.
     * - runs.id_scheme says how the run's notification ids are derived
     *   (journal_notification_id): 1 for runs begun before this version,
     *   whose ids a resume must derive the old way, 2 from now on.
     * The table is rebuilt with foreign keys off (migrate()).
     */
    "ALTER TABLE runs ADD COLUMN id_scheme INTEGER NOT NULL DEFAULT 1;"
    "CREATE TABLE bodies ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  body TEXT NOT NULL"
    ");"
    "CREATE INDEX bodies_run ON bodies(run_id);"
    "INSERT INTO bodies (run_id, body) SELECT DISTINCT run_id, body FROM notifications;"
    "CREATE INDEX bodies_migrate ON bodies(run_id, body);"
    "CREATE TABLE notifications_v2 ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  step TEXT NOT NULL,"
    "  occurrence INTEGER NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  endpoint_index INTEGER NOT NULL,"
    "  endpoint_redacted TEXT NOT NULL,"
    "  endpoint_hash TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state = 'pending' OR state = 'inflight' OR state = 'delivered' OR state = 'failed' OR state = 'disabled'),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  due_ms INTEGER NOT NULL,"
    "  settled_ms INTEGER,"
    "  body_id INTEGER NOT NULL REFERENCES bodies(id),"
    "  last_http_status INTEGER,"
    "  last_latency_ms INTEGER,"
    "  last_error TEXT"
    ");"
    "INSERT INTO notifications_v2 SELECT n.id, n.run_id, n.step, n.occurrence, n.channel,"
    "  n.endpoint_index, n.endpoint_redacted, n.endpoint_hash, n.state, n.attempts,"
    "  n.created_ms, n.updated_ms, n.due_ms, n.settled_ms, b.id, n.last_http_status,"
    "  n.last_latency_ms, n.last_error"
    "  FROM notifications n JOIN bodies b ON b.run_id = n.run_id AND b.body = n.body"
    "  ORDER BY n.rowid;"
    "DROP INDEX bodies_migrate;"
    "DROP TABLE notifications;"
    "ALTER TABLE notifications_v2 RENAME TO notifications;"
    "CREATE INDEX notifications_run ON notifications(run_id);",
};

_Static_assert(ARRAY_SIZE(migrations) == JOURNAL_SCHEMA_VERSION,
               "one migration per schema version");

/* ---- helpers shared by journal_*.c ------------------------------------------ */

int journal_fail(struct journal *j, const char *what)
{
    error("journal '%s': cannot %s: %s", j->path, what, sqlite3_errmsg(j->db));
    /* Some errors (disk full, I/O) make SQLite roll the whole transaction
     * back.  Later writes would then commit one by one, outside the batch
     * the caller believes is open: refuse them until it ends the batch. */
    if (!journal_on_writer(j) && j->depth > 0 && sqlite3_get_autocommit(j->db))
        j->aborted = 1;
    return -1;
}

void journal_abort(struct journal *j)
{
    if (!sqlite3_get_autocommit(j->db))
        sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
    if (j->depth > 0)
        j->aborted = 1;
}

sqlite3_stmt *journal_stmt(struct journal *j, enum journal_stmt_slot slot, const char *sql)
{
    if (journal_sync(j) < 0)
        return NULL;
    if (!journal_on_writer(j) && j->aborted) {
        error("journal '%s': the batch was rolled back after an error", j->path);
        return NULL;
    }
    sqlite3_stmt *st = j->stmt[slot];
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(j->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        journal_fail(j, "prepare a query");
        return NULL;
    }
    j->stmt[slot] = st;
    return st;
}

int journal_step_write(struct journal *j, sqlite3_stmt *st, const char *what)
{
    int ret = 0;
    if (sqlite3_step(st) != SQLITE_DONE)
        ret = journal_fail(j, what);
    sqlite3_reset(st);
    return ret;
}

void journal_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void journal_bind_time(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

char *journal_col_str(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? xstrdup((const char *)s) : NULL;
}

void journal_col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    snprintf(buf, size, "%s", s ? (const char *)s : "");
}

void journal_sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[SHA256_LEN];
    sha256(data, len, md);
    for (unsigned int i = 0; i < SHA256_LEN; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* ---- opening and migrating --------------------------------------------------- */

static int exec_sql(struct journal *j, const char *sql, const char *what)
{
    if (journal_sync(j) < 0)
        return -1;
    char *msg = NULL;
    if (sqlite3_exec(j->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        error("journal '%s': cannot %s: %s", j->path, what, msg ? msg : "unknown error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int read_user_version(struct journal *j, int *version)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return journal_fail(j, "read the schema version");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    else
        journal_fail(j, "read the schema version");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static int check_version(struct journal *j, int version)
{
    if (version > JOURNAL_SCHEMA_VERSION)
        return error("journal '%s' was written by a newer crisisrun (schema %d)", j->path,
                     version);
    if (version < 0)
        return error("journal '%s' has an invalid schema version %d", j->path, version);
    return 0;
}

/* The rows that break a foreign key: none, or -1 after reporting. */
static int check_foreign_keys(struct journal *j)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
        return journal_fail(j, "check foreign keys");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        error("journal '%s': the upgrade would break a reference from table %s", j->path,
              sqlite3_column_text(st, 0));
    else if (rc != SQLITE_DONE)
        journal_fail(j, "check foreign keys");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * 0, or -1 after reporting when a run is still owned by a live process
 * (its runner lock's lease has not lapsed): that process is an older
 * crisisrun writing the old schema, and rebuilding tables under it would
 * stop it in the middle of an incident.
 */
static int check_no_live_runner(struct journal *j, int version)
{
    if (version < 1)
        return 0; /* no runs table yet */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT id FROM runs WHERE state = 'running' AND owner_pid > 0"
                           " AND lease_until_ms > ?1 LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return journal_fail(j, "look for running runs");
    sqlite3_bind_int64(st, 1, wallclock_ms());
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW)
        ret = error("journal '%s' needs an upgrade to schema %d, but run %s is still being run "
                    "by an older crisisrun; upgrade once it has ended (or stop it and resume "
                    "it with this version)",
                    j->path, JOURNAL_SCHEMA_VERSION, sqlite3_column_text(st, 0));
    else if (rc != SQLITE_DONE)
        ret = journal_fail(j, "look for running runs");
    sqlite3_finalize(st);
    return ret;
}

/*
 * Foreign keys are off while it runs (a table rebuilt by copy, drop and
 * rename would otherwise take the rows referring to it along), and checked
 * as a whole before the commit.  The caller turns them on again.
 */
static int migrate(struct journal *j)
{
    int version;
    if (exec_sql(j, "PRAGMA foreign_keys = OFF", "disable foreign keys to upgrade") < 0)
        return -1;
    if (exec_sql(j, "BEGIN IMMEDIATE", "lock the journal to upgrade it") < 0)
        return -1;
    /* Re-read under the write lock: another process may have migrated. */
    if (read_user_version(j, &version) < 0 || check_version(j, version) < 0)
        goto fail;
    /*
     * It did: nothing is left to do.  Its run, which it may have started
     * meanwhile, is a live runner of this schema, not an older crisisrun
     * that an upgrade would break: checking for one now would refuse a
     * second `run` started at the same moment on a new journal.
     */
    if (version == JOURNAL_SCHEMA_VERSION) {
        if (exec_sql(j, "COMMIT", "end the schema check") < 0)
            goto fail;
        return 0;
    }
    if (check_no_live_runner(j, version) < 0)
        goto fail;
    for (; version < JOURNAL_SCHEMA_VERSION; version++) {
        char what[64];
        snprintf(what, sizeof(what), "upgrade the schema to version %d", version + 1);
        if (exec_sql(j, migrations[version], what) < 0)
            goto fail;
    }
    if (check_foreign_keys(j) < 0)
        goto fail;
    char *pragma = xasprintf("PRAGMA user_version = %d", JOURNAL_SCHEMA_VERSION);
    int ret = exec_sql(j, pragma, "record the schema version");
    free(pragma);
    if (ret < 0 || exec_sql(j, "COMMIT", "commit the schema upgrade") < 0)
        goto fail;
    return 0;
fail:
    sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* Creates the missing directories above path, each with mode 0700. */
static int make_parent_dirs(const char *path)
{
    char *dir = xstrdup(path);
    int ret = 0;
    for (char *p = dir + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            ret = error("cannot create directory '%s' for journal '%s': %s", dir, path,
                        strerror(errno));
            break;
        }
        *p = '/';
    }
    free(dir);
    return ret;
}

static int create_file(const char *path)
{
    if (make_parent_dirs(path) < 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    /* An existing journal we may not write (a read-only filesystem, or a
     * write-protected file for a user other than root) is read-only, as
     * sqlite3_db_readonly() would say below; it was not "not created". */
    if (fd < 0 && (errno == EROFS || errno == EACCES) && access(path, F_OK) == 0)
        return error("journal '%s' is read-only", path);
    if (fd < 0)
        return error("cannot create journal '%s': %s", path, strerror(errno));
    close(fd);
    return 0;
}

/*
 * A WAL journal is read through its -shm file, which SQLite must create
 * when the last writer removed it on closing; on a read-only filesystem it
 * cannot, and the journal would be unreadable.  Nothing can change a file
 * there, so it is opened as immutable: "file:PATH?immutable=1", or NULL
 * when the filesystem is writable or a -wal file holds commits that only a
 * normal open would read.
 */
static char *immutable_uri(const char *path)
{
    struct statvfs vfs;
    struct stat wal;
    if (statvfs(path, &vfs) < 0 || !(vfs.f_flag & ST_RDONLY))
        return NULL;
    char *walpath = xasprintf("%s-wal", path);
    int has_wal = stat(walpath, &wal) == 0 && wal.st_size > 0;
    free(walpath);
    if (has_wal)
        return NULL;
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || strchr("/-._~", *p))
            strbuf_addch(&sb, (char)*p);
        else
            strbuf_addf(&sb, "%%%02X", *p);
    }
    strbuf_addstr(&sb, "?immutable=1");
    return strbuf_detach(&sb, NULL);
}

static int set_pragmas(struct journal *j, int readonly)
{
    if (exec_sql(j, "PRAGMA foreign_keys = ON", "enable foreign keys") < 0)
        return -1;
    if (readonly)
        return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
        return journal_fail(j, "enable WAL mode");
    int rc = sqlite3_step(st);
    int wal = rc == SQLITE_ROW &&
              !strcmp((const char *)sqlite3_column_text(st, 0), "wal");
    if (rc != SQLITE_ROW)
        journal_fail(j, "enable WAL mode");
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return -1;
    if (!wal)
        return error("journal '%s': cannot enable WAL mode", j->path);
    /* Savepoints (one a compound write inside a batch) keep their undo
     * data in a statement journal: in memory, not in a temporary file
     * written page by page. */
    if (exec_sql(j, "PRAGMA temp_store = MEMORY", "keep temporary data in memory") < 0)
        return -1;
    /* A writer touches the newest pages of a few tables and indexes: 128
     * KiB of cache hold them (SQLite's default, 2 MiB, was an eighth of a
     * fan-out's peak memory, and a 10,000-endpoint fan-out runs the same
     * instructions and writes with either); misses come from the OS's file
     * cache. */
    if (exec_sql(j, "PRAGMA cache_size = -128", "set the cache size") < 0)
        return -1;
    return exec_sql(j, "PRAGMA synchronous = NORMAL", "set synchronous mode");
}

struct journal *journal_open(const char *path, unsigned flags)
{
    if (!path || !*path) {
        error("no journal path given");
        return NULL;
    }
    if (flags & JOURNAL_CREATE) {
        if (create_file(path) < 0)
            return NULL;
    } else {
        struct stat stbuf;
        if (stat(path, &stbuf) < 0) {
            if (errno == ENOENT)
                error("no journal at '%s' (start a run first)", path);
            else
                error("cannot open journal '%s': %s", path, strerror(errno));
            return NULL;
        }
    }

    struct journal *j = xcalloc(1, sizeof(*j));
    j->path = xstrdup(path);
    /* READWRITE opens a write-protected file read-only; we check below. */
    char *uri = NULL;
    int open_flags = SQLITE_OPEN_READWRITE;
    if (!(flags & (JOURNAL_CREATE | JOURNAL_WRITE)) && (uri = immutable_uri(path)))
        open_flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
    /* One thread uses a connection (the run loop, serve's loop): SQLite's
     * own locks around every call, and its memory statistics under a
     * global mutex, were 4% of a fan-out's instructions for nothing.
     * sqlite3_config() works only before SQLite initialises; later calls
     * fail harmlessly. */
    static int configured;
    if (!configured) {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        configured = 1;
    }
    open_flags |= SQLITE_OPEN_NOMUTEX;
    int orc = sqlite3_open_v2(uri ? uri : path, &j->db, open_flags, NULL);
    free(uri);
    if (orc != SQLITE_OK) {
        error("cannot open journal '%s': %s", path,
              j->db ? sqlite3_errmsg(j->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(j->db, 1);
    sqlite3_busy_timeout(j->db, BUSY_TIMEOUT_MS);

    int readonly = sqlite3_db_readonly(j->db, "main") == 1;
    if (readonly && (flags & (JOURNAL_CREATE | JOURNAL_WRITE))) {
        error("journal '%s' is read-only", path);
        goto fail;
    }
    int version;
    if (read_user_version(j, &version) < 0 || check_version(j, version) < 0)
        goto fail;
    if (set_pragmas(j, readonly) < 0)
        goto fail;
    if (version < JOURNAL_SCHEMA_VERSION) {
        if (readonly) {
            error("journal '%s' is read-only and needs an upgrade to schema %d", path,
                  JOURNAL_SCHEMA_VERSION);
            goto fail;
        }
        if (migrate(j) < 0 ||
            exec_sql(j, "PRAGMA foreign_keys = ON", "enable foreign keys") < 0)
            goto fail;
    }
    return j;
fail:
    journal_close(j);
    return NULL;
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    /* The batch with the writer commits; one still open is rolled back. */
    journal_writer_stop(j);
    for (size_t i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(j->stmt[i]);
    if (j->db) {
        if (!sqlite3_get_autocommit(j->db))
            sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(j->db);
    }
    strbuf_release(&j->ids.tuple);
    strbuf_release(&j->ids.scratch);
    strbuf_release(&j->deferred_ids.tuple);
    strbuf_release(&j->deferred_ids.scratch);
    free(j->path);
    free(j);
}

const char *journal_path(const struct journal *j)
{
    return j->path;
}

/* ---- batches ----------------------------------------------------------------- */

int journal_begin(struct journal *j)
{
    if (j->aborted)
        return error("journal '%s': the batch was rolled back after an error", j->path);
    if (j->w && !j->depth) {
        /* BEGIN runs with the batch's first write, so that opening a batch
         * never waits for the writer's commit of the one before. */
        j->begin_pending = 1;
        j->depth = 1;
        return 0;
    }
    /* Inner levels are savepoints, so a failed compound write inside a
     * batch undoes only itself.  The statements are prepared once: the run
     * loop opens two batches an iteration and every attempt a savepoint,
     * and parsing them each time was 5% of a fan-out's instructions. */
    sqlite3_stmt *st = j->depth ? journal_stmt(j, ST_TXN_SAVEPOINT, "SAVEPOINT batch")
                                : journal_stmt(j, ST_TXN_BEGIN, "BEGIN IMMEDIATE");
    if (!st || journal_step_write(j, st, "begin a transaction") < 0)
        return -1;
    j->depth++;
    return 0;
}

int journal_commit(struct journal *j)
{
    if (j->w && j->depth == 1 && !j->aborted) {
        j->depth = 0;
        return journal_writer_commit(j);
    }
    return journal_commit_start(j);
}

int journal_commit_here(struct journal *j)
{
    if (!j->w || j->depth != 1 || j->aborted)
        return journal_commit_start(j);
    j->depth = 0;
    return journal_writer_commit_here(j);
}

int journal_commit_start(struct journal *j)
{
    if (j->depth <= 0)
        return error("journal '%s': commit without a transaction", j->path);
    if (j->aborted) {
        if (--j->depth == 0)
            j->aborted = 0;
        return error("journal '%s': the batch was rolled back after an error", j->path);
    }
    if (j->depth > 1) {
        sqlite3_stmt *st = journal_stmt(j, ST_TXN_RELEASE, "RELEASE batch");
        if (!st || journal_step_write(j, st, "release a savepoint") < 0)
            return -1;
        j->depth--;
        return 0;
    }
    if (j->w) {
        j->depth = 0;
        return journal_writer_hand_over(j, 1);
    }
    sqlite3_stmt *st = journal_stmt(j, ST_TXN_COMMIT, "COMMIT");
    if (!st || journal_step_write(j, st, "commit") < 0) {
        /* A failed COMMIT (disk full, I/O error) may leave the transaction
         * open; end it so the handle stays usable. */
        if (!sqlite3_get_autocommit(j->db))
            sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
        j->depth = 0;
        return -1;
    }
    j->depth = 0;
    return 0;
}

/* Replaces SQLite's autocheckpoint hook: only counts. */
static int count_wal_frames(void *ctx, sqlite3 *db, const char *name, int frames)
{
    struct journal *j = ctx;
    (void)db;
    (void)name;
    /* Fewer frames than were copied: the WAL started over. */
    if (frames < j->wal_backfilled)
        j->wal_backfilled = 0;
    j->wal_frames = frames;
    return SQLITE_OK;
}

void journal_manual_checkpoints(struct journal *j)
{
    sqlite3_wal_hook(j->db, count_wal_frames, j);
}

int journal_wal_pending(struct journal *j)
{
    /* The writer's commits count frames: wait for the one it has, but
     * leave the open batch's writes deferred. */
    journal_writer_settle(j);
    return j->wal_frames - j->wal_backfilled;
}

int journal_checkpoint(struct journal *j)
{
    int frames = 0, copied = 0;
    /* SQLite refuses a checkpoint inside a transaction.  In an untouched
     * batch journal_sync() would run its BEGIN: only the writer's commit
     * is waited for. */
    if (journal_batch_untouched(j))
        journal_writer_settle(j);
    else if (j->depth > 0)
        return 0;
    else if (journal_sync(j) < 0)
        return -1;
    int rc =
        sqlite3_wal_checkpoint_v2(j->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return journal_fail(j, "checkpoint the WAL");
    /* SQLite counts every frame copied since the WAL began; this call's
     * are those past the ones copied before. */
    int now = 0;
    if (copied > j->wal_backfilled) {
        now = copied - j->wal_backfilled;
        j->wal_backfilled = copied;
    }
    return now;
}

int journal_rollback(struct journal *j)
{
    if (j->depth <= 0)
        return error("journal '%s': rollback without a transaction", j->path);
    if (j->w && j->depth == 1 && j->begin_pending) {
        /* Nothing ran yet: drop the deferred writes unrun. */
        journal_writer_drop(j);
        j->begin_pending = 0;
        j->depth = 0;
        j->aborted = 0;
        return 0;
    }
    if (journal_sync(j) < 0 && !j->aborted)
        return -1;
    int ret;
    if (j->aborted) {
        if (--j->depth == 0)
            j->aborted = 0;
        return 0;
    }
    if (j->depth > 1) {
        ret = exec_sql(j, "ROLLBACK TO batch; RELEASE batch", "roll back a savepoint");
        j->depth--;
        return ret;
    }
    /* SQLite may already have rolled back after some errors (SQLITE_FULL). */
    ret = sqlite3_get_autocommit(j->db) ? 0 : exec_sql(j, "ROLLBACK", "roll back");
    j->depth = 0;
    return ret;
}
