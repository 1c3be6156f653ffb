#!/usr/bin/env bash
# test_journal_open_race.sh - two processes open a new (or old) journal at
# the same moment: the one that gets the write lock first creates the
# schema and starts its run; the other, which read the schema version
# before that, finds the journal up to date under the lock and goes on.
# It must not take the first one's live run for an older crisisrun that
# an upgrade would break (which refused every `run` but the first when
# several were started at once on a new machine).
#
# The interleaving is made deterministic: a Python process holds the
# journal's write lock; crisisrun opens the journal, reads schema 0 and
# waits for the lock (its busy handler sleeps); only then does the Python
# process create the current schema with a running run whose lease is
# live, as a `run` started a moment earlier would, and commit.
. "$(dirname "$0")/lib.sh"

DATA=$CRISISRUN_TEST_DATA/upgrade
RUN=84aa10969106

# A journal of the current schema to copy the schema from: the schema 1
# fixture, upgraded by a first open.
sqlite3 "$TMP/ref.db" <"$DATA/journal-v1.sql"
crisisrun --db "$TMP/ref.db" list >/dev/null || fail "cannot upgrade the reference journal"
VERSION=$(sqlite3 "$TMP/ref.db" 'PRAGMA user_version')

mkfifo "$TMP/go"
python3 - "$TMP/ref.db" "$TMP/new.db" "$TMP/go" >"$TMP/py.out" 2>&1 <<'PY' &
import sqlite3, sys, time
ref, new, go = sys.argv[1:]
db = sqlite3.connect(new, isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("ATTACH ? AS ref", (ref,))
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
open(go).read()
for (sql,) in db.execute("SELECT sql FROM ref.sqlite_master WHERE sql IS NOT NULL"
                         " ORDER BY rowid").fetchall():
    db.execute(sql)
db.execute("INSERT INTO runs SELECT * FROM ref.runs")
# Running, owned by a live process, lease good for ten minutes.
db.execute("UPDATE runs SET state = 'running', owner_pid = 1, owner_host = 'elsewhere',"
           " lease_until_ms = ?", (int(time.time() * 1000) + 600000,))
db.execute("PRAGMA user_version = %d" % db.execute("PRAGMA ref.user_version").fetchone()[0])
db.execute("COMMIT")
print("committed", flush=True)
PY
PY_PID=$!
_CR_PIDS+=("$PY_PID")
wait_for "grep -q locked '$TMP/py.out'" 10

start_crisisrun "$TMP/list.out" --db "$TMP/new.db" list
LIST_PID=$BG_PID
# It has read schema 0 and sleeps in SQLite's busy handler, waiting for the
# lock: the only sleep on the way to its upgrade.  The kernel names it in
# wchan, or, where wchan says nothing, the system call shows it (x86-64:
# 35 nanosleep, 230 clock_nanosleep).
sleeping() {
    grep -q nanosleep "/proc/$1/wchan" 2>/dev/null ||
        grep -Eq '^(35|230) ' "/proc/$1/syscall" 2>/dev/null
}
wait_for "sleeping $LIST_PID" 4
echo go >"$TMP/go"
wait "$PY_PID" || { cat "$TMP/py.out" >&2; fail "the Python process failed"; }
_cr_forget_pid "$PY_PID"

rc=0
wait "$LIST_PID" || rc=$?
_cr_forget_pid "$LIST_PID"
assert_not_contains "$TMP/list.out" "older crisisrun"
assert_eq "$rc" 0 "list on a journal another process created meanwhile: $(cat "$TMP/list.out")"
assert_contains "$TMP/list.out" "$RUN"
assert_eq "$(sqlite3 "$TMP/new.db" 'PRAGMA user_version')" "$VERSION" "the schema version"
assert_eq "$(sqlite3 "$TMP/new.db" "SELECT state FROM runs WHERE id = '$RUN'")" running \
    "the other process's run untouched"
echo "ok"
