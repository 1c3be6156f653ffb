/*
 * journal_delivery.c - notifications and their delivery attempts.
 *
 * A notification's id is derived from what it is (run, step occurrence,
 * channel, endpoint), so journaling it twice is a no-op and a re-send after
 * resume carries the same webhook-id.  The endpoint URL itself never reaches
 * the database: only url_redact()'s scheme and host, and a hash prefix that
 * lets a report correlate the same endpoint across notifications.
 */
#include "journal_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crisisrun/loader.h"
#include "crisisrun/util.h"

static const char *const delivery_state_names[] = {"pending", "inflight", "delivered",
                                                   "failed", "disabled"};
_Static_assert(ARRAY_SIZE(delivery_state_names) == DELIVERY_STATE_COUNT, "state names");

const char *journal_delivery_state_name(enum journal_delivery_state s)
{
    return (size_t)s < ARRAY_SIZE(delivery_state_names) ? delivery_state_names[s] : "unknown";
}

int journal_delivery_state_from_name(const char *s)
{
    for (size_t i = 0; s && i < ARRAY_SIZE(delivery_state_names); i++)
        if (!strcmp(delivery_state_names[i], s))
            return (int)i;
    return -1;
}

static const char *const outcome_names[] = {"delivered", "retry", "failed"};

const char *journal_attempt_outcome_name(enum journal_attempt_outcome o)
{
    return (size_t)o < ARRAY_SIZE(outcome_names) ? outcome_names[o] : "unknown";
}

static int outcome_from_name(const char *s)
{
    for (size_t i = 0; s && i < ARRAY_SIZE(outcome_names); i++)
        if (!strcmp(outcome_names[i], s))
            return (int)i;
    return -1;
}

/* The NUL-separated (run, step, occurrence, channel) tuple, in sb. */
static void id_tuple(struct strbuf *sb, const struct journal_notification_new *nn)
{
    /* NUL separators: ("a", "bc") and ("ab", "c") must not collide. */
    char occ[16];
    int n = snprintf(occ, sizeof(occ), "%d", nn->occurrence);
    strbuf_reset(sb);
    strbuf_add(sb, nn->run_id, strlen(nn->run_id) + 1);
    strbuf_add(sb, nn->step, strlen(nn->step) + 1);
    strbuf_add(sb, occ, (size_t)n + 1);
    strbuf_addstr(sb, nn->channel);
}

/*
 * journal_notification_id(), and the endpoint's hash into url_hash
 * (JOURNAL_ENDPOINT_HASH_LEN + 1 bytes) unless it is NULL.  With a cache
 * (the journal's), a fan-out hashes its tuple once, not once an endpoint.
 */
static void notification_id(struct id_cache *cache, const struct journal_notification_new *nn,
                            char *out, char *url_hash)
{
    char url_hex[65];
    journal_sha256_hex(nn->endpoint_url, strlen(nn->endpoint_url), url_hex);
    if (url_hash) {
        memcpy(url_hash, url_hex, JOURNAL_ENDPOINT_HASH_LEN);
        url_hash[JOURNAL_ENDPOINT_HASH_LEN] = '\0';
    }
    struct strbuf own = STRBUF_INIT, *sb = cache ? &cache->scratch : &own;
    id_tuple(sb, nn);
    char hex[65];
    memcpy(out, "msg_", 4);
    if (nn->id_scheme == 1) {
        strbuf_addch(sb, '\0');
        strbuf_addstr(sb, nn->endpoint_url);
        journal_sha256_hex(sb->buf, sb->len, hex);
        memcpy(out + 4, hex, 24);
        out[4 + 24] = '\0';
    } else {
        if (cache && cache->tuple.len == sb->len &&
            !memcmp(cache->tuple.buf, sb->buf, sb->len)) {
            memcpy(hex, cache->prefix, 20);
        } else {
            journal_sha256_hex(sb->buf, sb->len, hex);
            if (cache) {
                strbuf_reset(&cache->tuple);
                strbuf_add(&cache->tuple, sb->buf, sb->len);
                memcpy(cache->prefix, hex, 20);
            }
        }
        memcpy(out + 4, hex, 20);
        /* LOADER_MAX_URLS endpoints fit in 6 hex digits. */
        static const char digits[] = "0123456789abcdef";
        unsigned idx = (unsigned)nn->endpoint_index;
        for (int i = 5; i >= 0; i--, idx >>= 4)
            out[24 + i] = digits[idx & 15];
        memcpy(out + 30, url_hex, 6);
        out[36] = '\0';
    }
    strbuf_release(&own);
}

void journal_notification_id(const struct journal_notification_new *nn, char *out)
{
    notification_id(NULL, nn, out, NULL);
}

void journal_endpoint_hash(const char *endpoint_url, char *out)
{
    char hex[65];
    journal_sha256_hex(endpoint_url, strlen(endpoint_url), hex);
    memcpy(out, hex, JOURNAL_ENDPOINT_HASH_LEN);
    out[JOURNAL_ENDPOINT_HASH_LEN] = '\0';
}

int journal_body_add(struct journal *j, const char *run_id, const char *body, int64_t *id)
{
    static const char sql[] = "INSERT INTO bodies (run_id, body) VALUES (?1, ?2)";
    sqlite3_stmt *st = journal_stmt(j, ST_BODY_INSERT, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
    if (journal_step_write(j, st, "add a message body") < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(j->db);
    return 0;
}

/*
 * Multi-row INSERTs, for the writes a batch defers in long runs (a fan-out
 * chunk's notifications, the attempts that settle them).  Writing 16 rows
 * a statement instead of one cut the writer's instructions by 13% in a
 * 10,000-endpoint fan-out; statements of 64, 16 and 4 rows saved 2% more,
 * for about 150 KB more of prepared statements (docs/performance.md,
 * "Ninth round").
 */
#define JOURNAL_ROWS 16
_Static_assert(JOURNAL_GROUP_MAX % JOURNAL_ROWS == 0,
               "a full group fills whole statements: only a run's rest goes row by row");

/*
 * The cached statement "head row,row,..." of JOURNAL_ROWS rows, each with
 * params parameters.
 */
static sqlite3_stmt *rows_stmt(struct journal *j, enum journal_stmt_slot slot, const char *head,
                               const char *row, int params)
{
    if (j->stmt[slot])
        return journal_stmt(j, slot, NULL);
    struct strbuf sql = STRBUF_INIT;
    strbuf_addstr(&sql, head);
    for (int i = 0; i < JOURNAL_ROWS; i++) {
        if (i)
            strbuf_addch(&sql, ',');
        strbuf_addstr(&sql, row);
    }
    sqlite3_stmt *st = journal_stmt(j, slot, sql.buf);
    strbuf_release(&sql);
    /* The binders count on it: a row with a parameter too few would
     * silently write NULLs. */
    if (st && sqlite3_bind_parameter_count(st) != JOURNAL_ROWS * params) {
        error("journal '%s': a %d-row statement has %d parameters, not %d", j->path,
              JOURNAL_ROWS, sqlite3_bind_parameter_count(st), JOURNAL_ROWS * params);
        /* Not cached: the next call checks again. */
        sqlite3_finalize(st);
        j->stmt[slot] = NULL;
        return NULL;
    }
    return st;
}

/*
 * Steps a multi-row INSERT of notifications: 0, 1 when one of their ids is
 * journaled already or repeated in it (SQLite has undone the statement,
 * not the batch: the caller writes its rows one by one), or -1 after
 * reporting "cannot WHAT".  SQLite 3.40 reports the id, a TEXT primary
 * key, as PRIMARYKEY; UNIQUE, the code of the same conflict on a unique
 * index, is taken too so that the meaning does not hang on that choice:
 * the rows written one by one then say which of them existed.
 */
static int step_rows(struct journal *j, sqlite3_stmt *st, const char *what)
{
    int ret = 0;
    if (sqlite3_step(st) != SQLITE_DONE) {
        int ext = sqlite3_extended_errcode(j->db);
        ret = ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE
                  ? 1
                  : journal_fail(j, what);
    }
    sqlite3_reset(st);
    if (ret == 0)
        j->grouped_rows += JOURNAL_ROWS;
    return ret;
}

/* What a notification's row holds besides the notification itself. */
struct notification_row {
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    char url_hash[JOURNAL_ENDPOINT_HASH_LEN + 1];
    char *redacted;
};

#define NOTIFICATION_HEAD                                                                   \
    "INSERT INTO notifications (id, run_id, step, occurrence, channel, endpoint_index,"    \
    " endpoint_redacted, endpoint_hash, state, created_ms, updated_ms, due_ms, body_id)" \
    " VALUES "
#define NOTIFICATION_ROW "(?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)"
#define NOTIFICATION_PARAMS 12

/* Binds a NOTIFICATION_ROW's parameters, the first at index at + 1. */
static void bind_notification(sqlite3_stmt *st, int at, const struct journal_notification_new *nn,
                              const struct notification_row *row, int64_t body_id)
{
    sqlite3_bind_text(st, at + 1, row->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, at + 2, nn->run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, at + 3, nn->step, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, at + 4, nn->occurrence);
    sqlite3_bind_text(st, at + 5, nn->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, at + 6, nn->endpoint_index);
    sqlite3_bind_text(st, at + 7, row->redacted, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, at + 8, row->url_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, at + 9, nn->created_ms);
    sqlite3_bind_int64(st, at + 10, nn->created_ms);
    sqlite3_bind_int64(st, at + 11, nn->due_ms);
    sqlite3_bind_int64(st, at + 12, body_id);
}

/* The notification's row, in the open transaction; *added 0 when its id
 * was journaled already.  row->redacted is url_redact()'s, or NULL to
 * have it made here. */
static int notification_insert(struct journal *j, const struct journal_notification_new *nn,
                               struct notification_row *row, int64_t body_id, int *added)
{
    sqlite3_stmt *st = journal_stmt(
        j, ST_NOTIF_INSERT, NOTIFICATION_HEAD NOTIFICATION_ROW " ON CONFLICT (id) DO NOTHING");
    if (!st)
        return -1;
    struct notification_row own = *row;
    if (!own.redacted)
        own.redacted = url_redact(nn->endpoint_url);
    bind_notification(st, 0, nn, &own, body_id);
    int ret = journal_step_write(j, st, "add a notification");
    if (own.redacted != row->redacted)
        free(own.redacted);
    if (ret == 0)
        *added = sqlite3_changes(j->db) != 0;
    return ret;
}

/*
 * A notification journaled at the batch's commit (journal_defer()).  Its
 * id is derived there too: hashing the endpoint's URL was three quarters
 * of what journaling a fan-out endpoint left on the run loop's thread.
 */
struct notification_op {
    struct journal_op op;
    struct journal_notification_new nn; /* its strings in text[] */
    char *id_out;
    int *existed;
    char text[];
};

/* The op's id (told to id_out) and endpoint hash into row. */
static void notification_op_row(struct journal *j, struct notification_op *o,
                                struct notification_row *row)
{
    /* Deferred writes run one at a time, on either thread: their own cache. */
    notification_id(&j->deferred_ids, &o->nn, row->id, row->url_hash);
    if (o->id_out)
        memcpy(o->id_out, row->id, sizeof(row->id));
    row->redacted = NULL;
}

static int run_notification_op(struct journal *j, struct journal_op *op)
{
    struct notification_op *o = (struct notification_op *)op;
    struct notification_row row;
    notification_op_row(j, o, &row);
    int added = 0;
    if (notification_insert(j, &o->nn, &row, o->nn.body_id, &added) < 0)
        return -1;
    *o->existed = !added;
    return 0;
}

/*
 * run_notification_op() for n ops: their rows in multi-row INSERTs.  A
 * statement that meets an id journaled already (on resume, every one) is
 * undone by SQLite, that statement only, and its rows are then written one
 * by one with ON CONFLICT DO NOTHING, so that each op learns whether its
 * notification existed.
 */
static int run_notification_group(struct journal *j, struct journal_op **ops, int n)
{
    struct notification_row rows[JOURNAL_GROUP_MAX];
    struct notification_op **o = (struct notification_op **)ops;
    for (int i = 0; i < n; i++) {
        notification_op_row(j, o[i], &rows[i]);
        rows[i].redacted = url_redact(o[i]->nn.endpoint_url);
    }
    int ret = 0;
    for (int i = 0, k; i < n && ret == 0; i += k) {
        k = n - i >= JOURNAL_ROWS ? JOURNAL_ROWS : 1;
        int alone = 1;
        if (k > 1) {
            sqlite3_stmt *st = rows_stmt(j, ST_NOTIF_INSERT_ROWS, NOTIFICATION_HEAD,
                                         NOTIFICATION_ROW, NOTIFICATION_PARAMS);
            if (!st) {
                ret = -1;
                break;
            }
            for (int r = 0; r < k; r++)
                bind_notification(st, r * NOTIFICATION_PARAMS, &o[i + r]->nn, &rows[i + r],
                                  o[i + r]->nn.body_id);
            alone = step_rows(j, st, "add notifications");
        }
        for (int r = 0; r < k && ret == 0; r++) {
            int added = 1;
            if (alone < 0 || (alone && notification_insert(j, &o[i + r]->nn, &rows[i + r],
                                                           o[i + r]->nn.body_id, &added) < 0))
                ret = -1;
            else
                *o[i + r]->existed = !added;
        }
    }
    for (int i = 0; i < n; i++)
        free(rows[i].redacted);
    return ret;
}

/* Copies s into *p; returns the copy. */
static const char *stash(char **p, const char *s)
{
    size_t n = strlen(s) + 1;
    memcpy(*p, s, n);
    const char *copy = *p;
    *p += n;
    return copy;
}

static void defer_notification(struct journal *j, const struct journal_notification_new *nn,
                               char *id_out)
{
    size_t len = strlen(nn->run_id) + strlen(nn->step) + strlen(nn->channel) +
                 strlen(nn->endpoint_url) + 4;
    struct notification_op *o = xmalloc(sizeof(*o) + len);
    o->op = (struct journal_op){.run = run_notification_op, .run_group = run_notification_group};
    o->nn = *nn;
    o->nn.body = NULL;
    char *p = o->text;
    o->nn.run_id = stash(&p, nn->run_id);
    o->nn.step = stash(&p, nn->step);
    o->nn.channel = stash(&p, nn->channel);
    o->nn.endpoint_url = stash(&p, nn->endpoint_url);
    o->id_out = id_out;
    o->existed = nn->existed;
    journal_defer(j, &o->op);
}

int journal_notification_add(struct journal *j, const struct journal_notification_new *nn,
                             char *id_out)
{
    if (!nn->run_id || !nn->step || !nn->channel || !nn->endpoint_url || !nn->body)
        return error("journal '%s': incomplete notification", j->path);
    if (nn->endpoint_index < 0 || nn->endpoint_index >= LOADER_MAX_URLS)
        return error("journal '%s': endpoint index %d out of range", j->path,
                     nn->endpoint_index);
    /* The body is journaled for re-sending and shown in no view, but it is
     * still not a place for a secret. */
    if (*nn->endpoint_url && strstr(nn->body, nn->endpoint_url)) {
        char *redacted = url_redact(nn->endpoint_url);
        error("notification body for '%s' contains its endpoint url", redacted);
        free(redacted);
        return -1;
    }
    int64_t body_id = nn->body_id;
    if (body_id && nn->existed && journal_deferring(j)) {
        defer_notification(j, nn, id_out);
        return 0;
    }
    struct notification_row row = {.redacted = NULL};
    notification_id(&j->ids, nn, row.id, row.url_hash);
    if (id_out)
        memcpy(id_out, row.id, sizeof(row.id));
    int own_body = !body_id, added = 0;
    if (own_body) {
        if (journal_begin(j) < 0)
            return -1;
        if (journal_body_add(j, nn->run_id, nn->body, &body_id) < 0)
            goto fail;
    }
    if (notification_insert(j, nn, &row, body_id, &added) < 0)
        goto fail;
    /* Already journaled: the body just stored is nobody's. */
    if (own_body && (added ? journal_commit(j) : journal_rollback(j)) < 0)
        return -1;
    if (nn->existed)
        *nn->existed = !added;
    return added ? 0 : 1;
fail:
    if (own_body)
        journal_rollback(j);
    return -1;
}

/* A state change of notification id changed nothing: says why; -1. */
static int unchanged(struct journal *j, const char *id)
{
    static const char sql[] = "SELECT state FROM notifications WHERE id = ?1";
    sqlite3_stmt *st = journal_stmt(j, ST_NOTIF_GET_STATE, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW)
        ret = error("notification '%s' is already %s", id, sqlite3_column_text(st, 0));
    else if (rc == SQLITE_DONE)
        ret = error("no notification '%s'", id);
    else
        ret = journal_fail(j, "read a notification");
    sqlite3_reset(st);
    return ret;
}

int journal_notification_set_state(struct journal *j, const char *id,
                                   enum journal_delivery_state s, int64_t now_ms,
                                   int64_t due_ms)
{
    static const char sql[] =
        "UPDATE notifications SET state = ?2, updated_ms = ?3,"
        " due_ms = CASE WHEN ?2 = 'pending' THEN ?4 ELSE due_ms END,"
        " settled_ms = CASE WHEN ?2 IN ('pending', 'inflight') THEN NULL ELSE ?3 END"
        " WHERE id = ?1 AND state IN ('pending', 'inflight')";
    if ((unsigned)s >= DELIVERY_STATE_COUNT)
        return error("journal '%s': invalid delivery state %d", j->path, (int)s);
    sqlite3_stmt *st = journal_stmt(j, ST_NOTIF_SET_STATE, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, journal_delivery_state_name(s), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_int64(st, 4, due_ms);
    if (journal_step_write(j, st, "update a notification") < 0)
        return -1;
    return sqlite3_changes(j->db) ? 0 : unchanged(j, id);
}

static void read_notification(sqlite3_stmt *st, struct journal_notification *n)
{
    memset(n, 0, sizeof(*n));
    journal_col_copy(st, 0, n->id, sizeof(n->id));
    journal_col_copy(st, 1, n->run_id, sizeof(n->run_id));
    n->step = journal_col_str(st, 2);
    n->occurrence = sqlite3_column_int(st, 3);
    n->channel = journal_col_str(st, 4);
    n->endpoint_index = sqlite3_column_int(st, 5);
    n->endpoint_redacted = journal_col_str(st, 6);
    journal_col_copy(st, 7, n->endpoint_hash, sizeof(n->endpoint_hash));
    int s = journal_delivery_state_from_name((const char *)sqlite3_column_text(st, 8));
    n->state = s < 0 ? DELIVERY_FAILED : (enum journal_delivery_state)s;
    n->attempts = sqlite3_column_int(st, 9);
    n->created_ms = sqlite3_column_int64(st, 10);
    n->updated_ms = sqlite3_column_int64(st, 11);
    n->due_ms = sqlite3_column_int64(st, 12);
    n->settled_ms = sqlite3_column_int64(st, 13);
    n->body = journal_col_str(st, 14);
    n->last_http_status = sqlite3_column_int(st, 15);
    n->last_latency_ms =
        sqlite3_column_type(st, 16) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 16);
    n->last_error = journal_col_str(st, 17);
    n->body_id = sqlite3_column_int64(st, 18);
}

static void release_notification(struct journal_notification *n)
{
    free(n->step);
    free(n->channel);
    free(n->endpoint_redacted);
    free(n->body);
    free(n->last_error);
}

int journal_notification_list(struct journal *j, const char *run_id, unsigned state_mask,
                              struct journal_notification **out, size_t *n)
{
    static const char sql[] =
        "SELECT id, run_id, step, occurrence, channel, endpoint_index, endpoint_redacted,"
        " endpoint_hash, state, attempts, created_ms, updated_ms, due_ms, settled_ms,"
        " (SELECT body FROM bodies WHERE bodies.id = body_id),"
        " last_http_status, last_latency_ms, last_error, body_id FROM notifications"
        " WHERE run_id = ?1 ORDER BY created_ms, rowid";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = journal_stmt(j, ST_NOTIF_LIST, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int s = journal_delivery_state_from_name((const char *)sqlite3_column_text(st, 8));
        if (s >= 0 && !(state_mask & DELIVERY_MASK(s)))
            continue;
        ALLOC_GROW(*out, *n + 1, alloc);
        read_notification(st, &(*out)[(*n)++]);
    }
    int ret = rc == SQLITE_DONE ? 0 : journal_fail(j, "list notifications");
    sqlite3_reset(st);
    if (ret < 0) {
        journal_notification_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

void journal_notification_list_free(struct journal_notification *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        release_notification(&v[i]);
    free(v);
}

int journal_notification_count(struct journal *j, const char *run_id, long *counts)
{
    /* One pass, no GROUP BY: the state is not indexed, and grouping a
     * large fan-out's rows took a sorter of hundreds of KiB. */
    static const char sql[] =
        "SELECT total(state = 'pending'), total(state = 'inflight'),"
        " total(state = 'delivered'), total(state = 'failed'), total(state = 'disabled')"
        " FROM notifications WHERE run_id = ?1";
    _Static_assert(DELIVERY_STATE_COUNT == 5, "one column per state, in enum order");
    for (int i = 0; i < DELIVERY_STATE_COUNT; i++)
        counts[i] = 0;
    sqlite3_stmt *st = journal_stmt(j, ST_NOTIF_COUNT, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        for (int i = 0; i < DELIVERY_STATE_COUNT; i++)
            counts[i] = (long)sqlite3_column_int64(st, i);
    int ret = rc == SQLITE_ROW ? 0 : journal_fail(j, "count notifications");
    sqlite3_reset(st);
    return ret;
}

int journal_notification_last_settled(struct journal *j, const char *run_id, int64_t *ms)
{
    static const char sql[] =
        "SELECT ifnull(max(settled_ms), 0) FROM notifications WHERE run_id = ?1";
    *ms = 0;
    sqlite3_stmt *st = journal_stmt(j, ST_NOTIF_LAST_SETTLED, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ms = sqlite3_column_int64(st, 0);
    int ret = rc == SQLITE_ROW ? 0 : journal_fail(j, "read when notifications settled");
    sqlite3_reset(st);
    return ret;
}

#define ATTEMPT_HEAD                                                                 \
    "INSERT INTO attempts (notification_id, number, started_ms, finished_ms,"    \
    " http_status, latency_ms, outcome, error) VALUES "
#define ATTEMPT_ROW "(?, ?, ?, ?, ?, ?, ?, ?)"
#define ATTEMPT_PARAMS 8

/* Binds an ATTEMPT_ROW's parameters, the first at index at + 1. */
static void bind_attempt(sqlite3_stmt *st, int at, const struct journal_attempt *a)
{
    sqlite3_bind_text(st, at + 1, a->notification_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, at + 2, a->number);
    sqlite3_bind_int64(st, at + 3, a->started_ms);
    sqlite3_bind_int64(st, at + 4, a->finished_ms);
    journal_bind_time(st, at + 5, a->http_status);
    sqlite3_bind_int64(st, at + 6, a->latency_ms);
    sqlite3_bind_text(st, at + 7, journal_attempt_outcome_name(a->outcome), -1, SQLITE_STATIC);
    journal_bind_text(st, at + 8, a->error);
}

/*
 * The attempt's notification updated, in the open transaction: the first
 * of the attempt's two statements, so that its refusals (no such
 * notification, already settled) leave nothing behind.
 */
static int attempt_update(struct journal *j, const struct journal_attempt *a)
{
    static const char update_sql[] =
        "UPDATE notifications SET attempts = max(attempts, ?2), last_http_status = ?3,"
        " last_latency_ms = ?4, last_error = ?5, updated_ms = ?6 WHERE id = ?1";
    /* The attempt that settles its notification says so in the same
     * statement: a fan-out's last write per endpoint is then one UPDATE,
     * not two. */
    static const char settle_sql[] =
        "UPDATE notifications SET attempts = max(attempts, ?2), last_http_status = ?3,"
        " last_latency_ms = ?4, last_error = ?5, updated_ms = ?6, state = ?7,"
        " settled_ms = ?6 WHERE id = ?1 AND state IN ('pending', 'inflight')";
    int settles = a->settles != DELIVERY_PENDING;
    sqlite3_stmt *st = settles ? journal_stmt(j, ST_ATTEMPT_NOTIF_SETTLE, settle_sql)
                               : journal_stmt(j, ST_ATTEMPT_NOTIF_UPDATE, update_sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, a->notification_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, a->number);
    journal_bind_time(st, 3, a->http_status);
    sqlite3_bind_int64(st, 4, a->latency_ms);
    journal_bind_text(st, 5, a->error);
    sqlite3_bind_int64(st, 6, a->finished_ms);
    if (settles)
        sqlite3_bind_text(st, 7, journal_delivery_state_name(a->settles), -1, SQLITE_STATIC);
    if (journal_step_write(j, st, "update a notification") < 0)
        return -1;
    return sqlite3_changes(j->db) ? 0 : unchanged(j, a->notification_id);
}

/* The attempt's row, after attempt_update(). */
static int attempt_insert(struct journal *j, const struct journal_attempt *a)
{
    sqlite3_stmt *st = journal_stmt(j, ST_ATTEMPT_INSERT, ATTEMPT_HEAD ATTEMPT_ROW);
    if (!st)
        return -1;
    bind_attempt(st, 0, a);
    return journal_step_write(j, st, "add a delivery attempt");
}

/* Both statements; *updated is set once the UPDATE has changed the row. */
static int attempt_write(struct journal *j, const struct journal_attempt *a, int *updated)
{
    if (attempt_update(j, a) < 0)
        return -1;
    *updated = 1;
    return attempt_insert(j, a);
}

/* An attempt journaled at the batch's commit (journal_defer()). */
struct attempt_op {
    struct journal_op op;
    struct journal_attempt a; /* its error in text[] */
    char text[];
};

static int run_attempt_op(struct journal *j, struct journal_op *op)
{
    int updated = 0;
    return attempt_write(j, &((struct attempt_op *)op)->a, &updated);
}

/*
 * run_attempt_op() for n ops: the UPDATEs one by one, each checked, then
 * the attempts' rows in multi-row INSERTs.  The result is that of one op
 * after the other: no UPDATE reads an attempts row, a row needs only its
 * notification to exist, and any failure fails the whole batch (when two
 * would, the one reported may differ).
 */
static int run_attempt_group(struct journal *j, struct journal_op **ops, int n)
{
    struct attempt_op **o = (struct attempt_op **)ops;
    for (int i = 0; i < n; i++)
        if (attempt_update(j, &o[i]->a) < 0)
            return -1;
    for (int i = 0, k; i < n; i += k) {
        k = n - i >= JOURNAL_ROWS ? JOURNAL_ROWS : 1;
        if (k == 1) {
            if (attempt_insert(j, &o[i]->a) < 0)
                return -1;
            continue;
        }
        sqlite3_stmt *st =
            rows_stmt(j, ST_ATTEMPT_INSERT_ROWS, ATTEMPT_HEAD, ATTEMPT_ROW, ATTEMPT_PARAMS);
        if (!st)
            return -1;
        for (int r = 0; r < k; r++)
            bind_attempt(st, r * ATTEMPT_PARAMS, &o[i + r]->a);
        if (journal_step_write(j, st, "add delivery attempts") < 0)
            return -1;
        j->grouped_rows += JOURNAL_ROWS;
    }
    return 0;
}

int journal_attempt_add(struct journal *j, const struct journal_attempt *a)
{
    int settles = a->settles != DELIVERY_PENDING;
    if (settles &&
        (a->settles == DELIVERY_INFLIGHT || (unsigned)a->settles >= DELIVERY_STATE_COUNT))
        return error("journal '%s': invalid settled state %d", j->path, (int)a->settles);
    if (journal_deferring(j)) {
        size_t len = a->error ? strlen(a->error) + 1 : 0;
        struct attempt_op *o = xmalloc(sizeof(*o) + len);
        o->op = (struct journal_op){.run = run_attempt_op, .run_group = run_attempt_group};
        o->a = *a;
        if (a->error)
            o->a.error = memcpy(o->text, a->error, len);
        journal_defer(j, &o->op);
        return 0;
    }
    /*
     * Inside a batch (the run loop's), no savepoint: it was a fifth of the
     * journal's cost per attempt.  A failure after the UPDATE changed the
     * notification rolls the batch back (journal_abort()).
     */
    int own = j->depth == 0, updated = 0;
    if (own && journal_begin(j) < 0)
        return -1;
    if (attempt_write(j, a, &updated) < 0) {
        if (own)
            journal_rollback(j);
        else if (updated)
            journal_abort(j);
        return -1;
    }
    return own ? journal_commit(j) : 0;
}

int journal_attempt_list(struct journal *j, const char *run_id, struct journal_attempt **out,
                         size_t *n)
{
    static const char sql[] =
        "SELECT a.notification_id, a.number, a.started_ms, a.finished_ms, a.http_status,"
        " a.latency_ms, a.outcome, a.error FROM attempts a"
        " JOIN notifications n ON n.id = a.notification_id WHERE n.run_id = ?1"
        " ORDER BY n.created_ms, n.rowid, a.number";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = journal_stmt(j, ST_ATTEMPT_LIST, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    size_t alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ALLOC_GROW(*out, *n + 1, alloc);
        struct journal_attempt *a = &(*out)[(*n)++];
        memset(a, 0, sizeof(*a));
        journal_col_copy(st, 0, a->notification_id, sizeof(a->notification_id));
        a->number = sqlite3_column_int(st, 1);
        a->started_ms = sqlite3_column_int64(st, 2);
        a->finished_ms = sqlite3_column_int64(st, 3);
        a->http_status = sqlite3_column_int(st, 4);
        a->latency_ms = sqlite3_column_int64(st, 5);
        int o = outcome_from_name((const char *)sqlite3_column_text(st, 6));
        a->outcome = o < 0 ? ATTEMPT_FAILED : (enum journal_attempt_outcome)o;
        a->error = journal_col_str(st, 7);
    }
    int ret = rc == SQLITE_DONE ? 0 : journal_fail(j, "list delivery attempts");
    sqlite3_reset(st);
    if (ret < 0) {
        journal_attempt_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

void journal_attempt_list_free(struct journal_attempt *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].error);
    free(v);
}
