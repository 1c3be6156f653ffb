/*
 * journal_run.c - runs in the journal: creating them (with a random id),
 * finding them by id prefix, reading and listing them, their state changes,
 * and the runner lock that lets exactly one process run a run.
 */
#include "journal_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/util.h"

/* ---- runs ------------------------------------------------------------------- */

static const char *const run_state_names[] = {"running", "resolved", "interrupted", "failed"};

const char *journal_run_state_name(enum journal_run_state s)
{
    return (size_t)s < ARRAY_SIZE(run_state_names) ? run_state_names[s] : "unknown";
}

int journal_run_state_from_name(const char *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(run_state_names); i++)
        if (!strcmp(run_state_names[i], s))
            return (int)i;
    return -1;
}

int journal_random_hex(struct journal *j, char *out, size_t nbytes)
{
    unsigned char buf[32];
    static const char hex[] = "0123456789abcdef";
    if (nbytes > sizeof(buf) || random_bytes(buf, nbytes) < 0)
        return error("journal '%s': cannot generate random bytes", j->path);
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[buf[i] >> 4];
        out[2 * i + 1] = hex[buf[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}

static int insert_run(struct journal *j, struct journal_run *r, int *collision)
{
    static const char sql[] =
        "INSERT INTO runs (id, playbook_name, title, severity, playbook_path,"
        " playbook_sha256, playbook_text, vars_json, drill, speed, state, status,"
        " started_ms, meta_json, capture_dir, id_scheme) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
        " ?8, ?9, ?10, 'running', 'investigating', ?11, ?12, ?13, ?14)";
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_INSERT, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->playbook_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->title ? r->title : r->playbook_name, -1, SQLITE_STATIC);
    journal_bind_text(st, 4, r->severity);
    sqlite3_bind_text(st, 5, r->playbook_path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->playbook_sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->playbook_text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->vars_json ? r->vars_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, r->drill ? 1 : 0);
    sqlite3_bind_double(st, 10, r->speed > 0 ? r->speed : 1.0);
    sqlite3_bind_int64(st, 11, r->started_ms);
    journal_bind_text(st, 12, r->meta_json);
    journal_bind_text(st, 13, r->capture_dir);
    sqlite3_bind_int(st, 14, JOURNAL_ID_SCHEME);
    int rc = sqlite3_step(st);
    *collision = rc == SQLITE_CONSTRAINT_PRIMARYKEY;
    int ret = 0;
    if (rc != SQLITE_DONE && !*collision)
        ret = journal_fail(j, "create a run");
    sqlite3_reset(st);
    return ret;
}

int journal_run_create(struct journal *j, struct journal_run *r)
{
    if (!r->playbook_name || !r->playbook_path || !r->playbook_text)
        return error("journal '%s': a run needs a playbook name, path and text", j->path);
    journal_sha256_hex(r->playbook_text, strlen(r->playbook_text), r->playbook_sha256);
    r->id_scheme = JOURNAL_ID_SCHEME;
    if (journal_begin(j) < 0)
        return -1;
    int collision = 1;
    /* 48 random bits: a collision is rare; trying again costs nothing. */
    for (int tries = 0; collision && tries < 8; tries++) {
        if (journal_random_hex(j, r->id, JOURNAL_RUN_ID_LEN / 2) < 0 ||
            insert_run(j, r, &collision) < 0)
            goto fail;
    }
    if (collision) {
        error("journal '%s': cannot find a free run id", j->path);
        goto fail;
    }
    json_t *detail = json_pack("{s:s, s:s, s:b, s:f}", "playbook", r->playbook_name,
                               "sha256", r->playbook_sha256, "drill", r->drill,
                               "speed", r->speed > 0 ? r->speed : 1.0);
    char *detail_s = json_dumps(detail, JSON_COMPACT);
    json_decref(detail);
    struct journal_event ev = {.at_ms = r->started_ms, .kind = EV_RUN_STARTED,
                               .detail_json = detail_s};
    int ret = journal_event_add(j, r->id, &ev);
    free(detail_s);
    if (ret < 0)
        goto fail;
    r->state = RUN_STATE_RUNNING;
    r->status = STATUS_INVESTIGATING;
    return journal_commit(j);
fail:
    journal_rollback(j);
    r->id[0] = '\0';
    return -1;
}

int journal_run_find(struct journal *j, const char *prefix, char *out)
{
    static const char sql[] = "SELECT id FROM runs WHERE id >= ?1 AND id < ?1 || '~'"
                              " ORDER BY id LIMIT 1000";
    char norm[JOURNAL_RUN_ID_LEN + 1];
    size_t len = strlen(prefix);
    if (!len)
        return error("no run given");
    /* Too long, or stopped short of its end by a byte that is not
     * hexadecimal: no run can have it. */
    size_t i = 0;
    if (len <= JOURNAL_RUN_ID_LEN)
        for (; i < len; i++) {
            char c = prefix[i];
            if (c >= 'A' && c <= 'F')
                c = (char)(c - 'A' + 'a');
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                break;
            norm[i] = c;
        }
    if (i < len)
        return error("no run '%s' (a run id is %d hexadecimal digits, as 'list' shows)",
                     prefix, JOURNAL_RUN_ID_LEN);
    norm[len] = '\0';
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_FIND, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
    int matches = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!matches)
            journal_col_copy(st, 0, out, JOURNAL_RUN_ID_LEN + 1);
        matches++;
    }
    int ret = 0;
    if (rc != SQLITE_DONE)
        ret = journal_fail(j, "look up a run");
    else if (!matches)
        /* Most often the run is in another journal: a second terminal
         * without the --db or CRISISRUN_DB the run was started with. */
        ret = error(
            "no run '%s' in the journal '%s' (for another journal: crisisrun --db PATH "
            "COMMAND, or CRISISRUN_DB)",
            prefix, j->path);
    else if (matches > 1)
        ret = error("run '%s' is ambiguous (matches %d runs)", prefix, matches);
    sqlite3_reset(st);
    if (ret < 0)
        out[0] = '\0';
    return ret;
}

#define RUN_COLUMNS                                                                     \
    "id, playbook_name, title, severity, playbook_path, playbook_sha256, vars_json,"  \
    " drill, speed, state, status, started_ms, acknowledged_ms, acknowledged_by,"     \
    " resolved_ms, ended_ms, feedback_closes_ms, owner_pid, owner_host,"              \
    " lease_until_ms, control_addr, control_token, public_url, meta_json, capture_dir," \
    " id_scheme"
#define RUN_NCOLUMNS 26

static void read_run(sqlite3_stmt *st, struct journal_run *r)
{
    memset(r, 0, sizeof(*r));
    journal_col_copy(st, 0, r->id, sizeof(r->id));
    r->playbook_name = journal_col_str(st, 1);
    r->title = journal_col_str(st, 2);
    r->severity = journal_col_str(st, 3);
    r->playbook_path = journal_col_str(st, 4);
    journal_col_copy(st, 5, r->playbook_sha256, sizeof(r->playbook_sha256));
    r->vars_json = journal_col_str(st, 6);
    r->drill = sqlite3_column_int(st, 7);
    r->speed = sqlite3_column_double(st, 8);
    int s = journal_run_state_from_name((const char *)sqlite3_column_text(st, 9));
    r->state = s < 0 ? RUN_STATE_FAILED : (enum journal_run_state)s;
    s = run_status_from_name((const char *)sqlite3_column_text(st, 10));
    r->status = s < 0 ? STATUS_INVESTIGATING : (enum run_status)s;
    r->started_ms = sqlite3_column_int64(st, 11);
    r->acknowledged_ms = sqlite3_column_int64(st, 12);
    r->acknowledged_by = journal_col_str(st, 13);
    r->resolved_ms = sqlite3_column_int64(st, 14);
    r->ended_ms = sqlite3_column_int64(st, 15);
    r->feedback_closes_ms = sqlite3_column_int64(st, 16);
    r->owner_pid = sqlite3_column_int64(st, 17);
    r->owner_host = journal_col_str(st, 18);
    r->lease_until_ms = sqlite3_column_int64(st, 19);
    r->control_addr = journal_col_str(st, 20);
    r->control_token = journal_col_str(st, 21);
    r->public_url = journal_col_str(st, 22);
    r->meta_json = journal_col_str(st, 23);
    r->capture_dir = journal_col_str(st, 24);
    r->id_scheme = sqlite3_column_int(st, 25);
}

int journal_run_get(struct journal *j, const char *id, struct journal_run *out)
{
    static const char sql[] = "SELECT " RUN_COLUMNS ", playbook_text FROM runs WHERE id = ?1";
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_GET, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        read_run(st, out);
        out->playbook_text = journal_col_str(st, RUN_NCOLUMNS);
    } else if (rc == SQLITE_DONE) {
        ret = error("no run '%s'", id);
    } else {
        ret = journal_fail(j, "read a run");
    }
    sqlite3_reset(st);
    return ret;
}

void journal_run_release(struct journal_run *r)
{
    free(r->playbook_name);
    free(r->title);
    free(r->severity);
    free(r->playbook_path);
    free(r->playbook_text);
    free(r->vars_json);
    free(r->acknowledged_by);
    free(r->owner_host);
    free(r->control_addr);
    free(r->control_token);
    free(r->public_url);
    free(r->meta_json);
    free(r->capture_dir);
    memset(r, 0, sizeof(*r));
}

int journal_run_list(struct journal *j, struct journal_run **out, size_t *n)
{
    static const char sql[] =
        "SELECT " RUN_COLUMNS " FROM runs ORDER BY started_ms DESC, rowid DESC";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_LIST, sql);
    if (!st)
        return -1;
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ALLOC_GROW(*out, *n + 1, alloc);
        read_run(st, &(*out)[(*n)++]);
    }
    int ret = rc == SQLITE_DONE ? 0 : journal_fail(j, "list runs");
    sqlite3_reset(st);
    if (ret < 0) {
        journal_run_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

void journal_run_list_free(struct journal_run *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        journal_run_release(&v[i]);
    free(v);
}

/* Runs an UPDATE of one run; "no run 'ID'" when it matched nothing. */
static int update_run(struct journal *j, sqlite3_stmt *st, const char *id, const char *what)
{
    if (journal_step_write(j, st, what) < 0)
        return -1;
    if (sqlite3_changes(j->db) == 0)
        return error("no run '%s'", id);
    return 0;
}

int journal_run_set_state(struct journal *j, const char *id, enum journal_run_state s,
                          int64_t now_ms)
{
    static const char sql[] = "UPDATE runs SET state = ?2, ended_ms = ?3 WHERE id = ?1";
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_SET_STATE, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, journal_run_state_name(s), -1, SQLITE_STATIC);
    journal_bind_time(st, 3, s == RUN_STATE_RUNNING ? 0 : now_ms);
    return update_run(j, st, id, "set the run state");
}

int journal_run_set_status(struct journal *j, const char *id, enum run_status status,
                           int64_t now_ms)
{
    static const char sql[] =
        "UPDATE runs SET status = ?2, resolved_ms = CASE WHEN ?2 = 'resolved'"
        " THEN coalesce(resolved_ms, ?3) ELSE resolved_ms END WHERE id = ?1";
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_SET_STATUS, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, run_status_name(status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    return update_run(j, st, id, "set the run status");
}

int journal_run_set_acknowledged(struct journal *j, const char *id, int64_t at_ms,
                                 const char *by)
{
    static const char sql[] = "UPDATE runs SET acknowledged_ms = ?2, acknowledged_by = ?3"
                              " WHERE id = ?1 AND acknowledged_ms IS NULL";
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_SET_ACK, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at_ms);
    journal_bind_text(st, 3, by);
    if (journal_step_write(j, st, "acknowledge the run") < 0)
        return -1;
    return sqlite3_changes(j->db) ? 0 : 1;
}

int journal_run_set_feedback_closes(struct journal *j, const char *id, int64_t closes_ms)
{
    static const char sql[] = "UPDATE runs SET feedback_closes_ms = ?2 WHERE id = ?1";
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_SET_FEEDBACK, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    journal_bind_time(st, 2, closes_ms);
    return update_run(j, st, id, "set the feedback window");
}

int journal_run_set_control(struct journal *j, const char *id, const char *addr,
                            const char *token, const char *public_url)
{
    static const char sql[] = "UPDATE runs SET control_addr = ?2, control_token = ?3,"
                              " public_url = ?4 WHERE id = ?1";
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_SET_CONTROL, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    journal_bind_text(st, 2, addr);
    journal_bind_text(st, 3, token);
    journal_bind_text(st, 4, public_url);
    return update_run(j, st, id, "record the control address");
}

int journal_run_claim(struct journal *j, const char *id, int64_t pid, const char *host,
                      int64_t now_ms, int64_t lease_ms, int64_t dead_pid)
{
    /* Compare-and-set in one statement: SQLite serialises writers, so the
     * WHERE clause sees the winner's owner and a second claimant loses. */
    static const char sql[] =
        "UPDATE runs SET owner_pid = ?2, owner_host = ?3, lease_until_ms = ?4 + ?5"
        " WHERE id = ?1 AND (owner_pid IS NULL OR lease_until_ms IS NULL"
        "  OR lease_until_ms < ?4 OR (owner_pid = ?2 AND owner_host IS ?3)"
        "  OR (?6 <> 0 AND owner_pid = ?6 AND owner_host IS ?3))";
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_CLAIM, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, pid);
    journal_bind_text(st, 3, host);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_int64(st, 5, lease_ms);
    sqlite3_bind_int64(st, 6, dead_pid);
    if (journal_step_write(j, st, "claim the run") < 0)
        return -1;
    return sqlite3_changes(j->db) ? 1 : 0;
}

int journal_run_heartbeat(struct journal *j, const char *id, int64_t pid, const char *host,
                          int64_t now_ms, int64_t lease_ms)
{
    static const char sql[] = "UPDATE runs SET lease_until_ms = ?4 + ?5"
                              " WHERE id = ?1 AND owner_pid = ?2 AND owner_host IS ?3";
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_HEARTBEAT, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, pid);
    journal_bind_text(st, 3, host);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_int64(st, 5, lease_ms);
    if (journal_step_write(j, st, "renew the run lease") < 0)
        return -1;
    return sqlite3_changes(j->db) ? 1 : 0;
}

int journal_run_release_owner(struct journal *j, const char *id, int64_t pid,
                              const char *host)
{
    static const char sql[] =
        "UPDATE runs SET owner_pid = NULL, owner_host = NULL, lease_until_ms = NULL,"
        " control_addr = NULL WHERE id = ?1 AND owner_pid = ?2 AND owner_host IS ?3";
    sqlite3_stmt *st = journal_stmt(j, ST_RUN_RELEASE_OWNER, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, pid);
    journal_bind_text(st, 3, host);
    return journal_step_write(j, st, "release the run");
}
