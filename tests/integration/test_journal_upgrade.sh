#!/usr/bin/env bash
# test_journal_upgrade.sh - a journal written by the previous schema (1) is
# upgraded in place on first open, loses nothing, and its unfinished run
# resumes with the notification ids it began with: the notification left
# pending is re-sent under its old webhook-id, the steps still to come get
# ids derived the old way, and nothing already sent is sent again.  A new
# run in the upgraded journal gets ids of the current scheme.  A journal
# whose run an older crisisrun is still running is not upgraded under it.
. "$(dirname "$0")/lib.sh"

DATA=$CRISISRUN_TEST_DATA/upgrade
DB=$TMP/journal.db
cp "$DATA/upgrade.yaml" "$DATA/customers.txt" "$TMP/"
sqlite3 "$DB" <"$DATA/journal-v1.sql"
sqlite3 "$DB" "UPDATE runs SET playbook_path = '$TMP/upgrade.yaml', capture_dir = '$TMP/cap'"
mkdir -m 700 "$TMP/cap"
q() { sqlite3 -batch "$DB" "$@"; }
RUN=84aa10969106
PENDING=msg_8aced32d9520af2757987039
BODY=$(q "SELECT body FROM notifications WHERE id = '$PENDING'")
assert_eq "$(q 'PRAGMA user_version')" 1 "the fixture is a schema 1 journal"

# ---- not while an older crisisrun still runs a run in it ----
cp "$DB" "$TMP/live.db"
sqlite3 "$TMP/live.db" "UPDATE runs SET lease_until_ms = (strftime('%s', 'now') + 600) * 1000"
rc=0
crisisrun --db "$TMP/live.db" list >"$TMP/live.out" 2>"$TMP/live.err" || rc=$?
assert_eq "$rc" 1 "list on a journal whose run an older crisisrun still runs"
assert_contains "$TMP/live.err" "run $RUN is still being run by an older crisisrun"
assert_eq "$(sqlite3 "$TMP/live.db" 'PRAGMA user_version')" 1 "not upgraded under a live runner"
assert_eq "$(sqlite3 "$TMP/live.db" "SELECT count(*) FROM notifications WHERE body LIKE '%investigating%'")" 3 \
    "the old tables untouched"

# ---- the upgrade: on the first open, by a reader ----
crisisrun --db "$DB" list >"$TMP/list.out" || fail "list on a schema 1 journal: $(cat "$TMP/list.out")"
assert_contains "$TMP/list.out" "$RUN"
assert_eq "$(q 'PRAGMA user_version')" 2 "upgraded to schema 2"
assert_eq "$(q 'PRAGMA integrity_check')" ok "integrity after the upgrade"
assert_eq "$(q 'PRAGMA foreign_key_check')" "" "no broken reference after the upgrade"
assert_eq "$(q "SELECT id_scheme FROM runs WHERE id = '$RUN'")" 1 "the old run keeps id scheme 1"
assert_eq "$(q 'SELECT count(*) FROM notifications')" 3 "every notification kept"
assert_eq "$(q 'SELECT count(*) FROM bodies')" 1 "one body for the three endpoints of one message"
assert_eq "$(q "SELECT body FROM notifications JOIN bodies ON bodies.id = body_id WHERE notifications.id = '$PENDING'")" \
    "$BODY" "the pending notification's body, byte for byte"
assert_eq "$(q "SELECT count(*) FROM attempts")" 2 "every attempt kept"
assert_eq "$(q "SELECT group_concat(state, ',') FROM (SELECT state FROM notifications ORDER BY endpoint_index)")" \
    "delivered,pending,delivered" "states kept"
crisisrun --db "$DB" show "$RUN" >"$TMP/show.out" || fail "show after the upgrade"
assert_contains "$TMP/show.out" "declare"

# ---- the resume: old ids, nothing sent twice ----
crisisrun --db "$DB" resume --quiet "$RUN" >"$TMP/resume.out" 2>&1 ||
    fail "resume of the upgraded run: $(cat "$TMP/resume.out")"
assert_eq "$(q "SELECT state FROM runs WHERE id = '$RUN'")" resolved "the resumed run resolved"
assert_eq "$(q "SELECT state || ' ' || count(*) FROM notifications GROUP BY state")" "delivered 9" \
    "nine notifications, all delivered"
python3 - "$TMP/cap" "$DB" "$RUN" "$PENDING" "$BODY" "$DATA/customers.txt" <<'PY'
import hashlib, os, re, sqlite3, sys
cap, db, run, pending, body, urls_file = sys.argv[1:]
urls = [u.strip() for u in open(urls_file) if u.strip()]
def scheme1(step, url):
    t = b"\0".join([run.encode(), step.encode(), b"1", b"customers", url.encode()])
    return "msg_" + hashlib.sha256(t).hexdigest()[:24]
want = {pending} | {scheme1(s, u) for s in ("update", "resolve") for u in urls}
got = {}
for name in os.listdir(cap):
    m = re.fullmatch(r"\d{6}-(msg_[0-9a-f]+)\.http", name)
    assert m, "unexpected capture file " + name
    got[m.group(1)] = got.get(m.group(1), 0) + 1
assert set(got) == want, "captured %s, expected %s" % (sorted(got), sorted(want))
assert all(n == 1 for n in got.values()), "a notification captured twice: %s" % got
text = open([os.path.join(cap, n) for n in os.listdir(cap) if pending in n][0]).read()
assert text.endswith(body), "the re-sent body differs from the journaled one"
ids = {r[0] for r in sqlite3.connect(db).execute("SELECT id FROM notifications")}
assert want <= ids, "journaled ids differ from the captured ones"
print("resume: %d notifications captured, each once, with scheme 1 ids" % len(got))
PY

# ---- a new run in the upgraded journal: the current scheme ----
crisisrun --db "$DB" run --drill --speed 600 --capture "$TMP/cap2" --quiet "$TMP/upgrade.yaml" \
    >"$TMP/run.out" 2>&1 || fail "a new run in the upgraded journal: $(cat "$TMP/run.out")"
NEW=$(head -1 "$TMP/run.out")
assert_eq "$(q "SELECT id_scheme FROM runs WHERE id = '$NEW'")" 2 "a new run uses id scheme 2"
assert_eq "$(q "SELECT count(*) FROM notifications WHERE run_id = '$NEW' AND length(id) = 36 AND id GLOB 'msg_*'")" \
    9 "its ids are msg_ + 32 hex digits"
assert_eq "$(q 'PRAGMA integrity_check')" ok "integrity at the end"
echo "test_journal_upgrade: ok"
