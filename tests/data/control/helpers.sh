# tests/data/control/helpers.sh - helpers shared by the control API and
# resume integration tests (test_control_*.sh, test_resume_*.sh).
#
# Source it after lib.sh.  It points the journal at $TMP/state/crisisrun.db
# ($CRISISRUN_DB, exported, so every command finds it without --db) and adds:
#   sq SQL...                 run SQL on the journal (sqlite3 CLI), print rows
#   wait_run_id OUT           wait until OUT's first line is a run id; print it
#   run_clock RUN             the run's clock now: (wall now - started) * speed, ms
#   wait_clock RUN MS [S]     wait until the run's clock has passed MS
#   fired RUN STEP            how many step_fired events STEP has
#   wait_fired RUN STEP [N] [S]   wait until STEP has fired N (default 1) times
#   wait_exit PID [S]         wait for a background process; its status in EXIT_RC
#   kill9 PID                 SIGKILL a background process and reap it quietly
#   step_detail RUN STEP OCC KEY  a key of a step_fired event's detail
#   start_paged_run OUT       start $CONTROL_DATA/paged.yaml (a page whose
#                             ack waits an hour; its channel refuses) with
#                             its output in OUT; once it has paged and
#                             serves its control API, set PID and RUN
#   check_fanout RUN STEP N WHAT  N notifications of STEP (a fan-out or a
#                             broadcast note, @note), all delivered with one
#                             body (one row of `bodies`, a resumed fan-out
#                             too), each received by the inbox at least once

CONTROL_DATA=$CRISISRUN_TEST_DATA/control
export CRISISRUN_DB=$TMP/state/crisisrun.db
DB=$CRISISRUN_DB

sq() {
    sqlite3 -batch -cmd '.timeout 5000' "$DB" "$@"
}

wait_run_id() {
    local out=$1
    wait_for "head -n1 '$out' 2>/dev/null | grep -Eq '^[0-9a-f]{12}\$'" "${2:-10}"
    head -n1 "$out"
}

run_clock() {
    sq "SELECT started_ms, speed FROM runs WHERE id = '$1'" | python3 -c '
import sys, time
started, speed = sys.stdin.read().strip().split("|")
print(int((time.time() * 1000 - int(started)) * float(speed)))'
}

wait_clock() {
    wait_for "(( \$(run_clock $1) > $2 ))" "${3:-20}"
}

fired() {
    sq "SELECT count(*) FROM events WHERE run_id = '$1' AND kind = 'step_fired'
        AND step = '$2'"
}

wait_fired() {
    wait_for "(( \$(fired $1 $2) >= ${3:-1} ))" "${4:-20}"
}

step_detail() {
    sq "SELECT json_extract(detail, '\$.$4') FROM events WHERE run_id = '$1'
        AND kind = 'step_fired' AND step = '$2' AND occurrence = $3"
}

wait_exit() {
    local pid=$1 limit=$(( ${2:-20} * 10 * CR_SLOW )) i=0 rc=0
    while kill -0 "$pid" 2>/dev/null; do
        (( ++i < limit )) || fail "process $pid did not exit"
        sleep 0.1
    done
    { wait "$pid"; } 2>/dev/null || rc=$?
    _cr_forget_pid "$pid"
    EXIT_RC=$rc
}

start_paged_run() {
    mkdir -p "$TMP/cap"
    start_crisisrun "$1" run --capture "$TMP/cap" --quiet "$CONTROL_DATA/paged.yaml"
    PID=$BG_PID
    RUN=$(wait_run_id "$1" 30)
    wait_fired "$RUN" page 1 30
    wait_for "[[ -n \$(sq \"SELECT control_addr FROM runs WHERE id = '$RUN'\") ]]" 30
}

kill9() {
    # bash reports "Killed" when it reaps the job: keep that out of the log.
    { kill -KILL "$1" && wait_exit "$1"; } 2>/dev/null
}

check_fanout() {
    local run=$1 step=$2 n=$3 what=$4
    assert_eq "$(sq "SELECT count(*) || ' ' || sum(state = 'delivered') || ' ' ||
                     count(DISTINCT (SELECT body FROM bodies b WHERE b.id = body_id)) || ' ' ||
                     count(DISTINCT body_id) || ' ' || count(DISTINCT channel || endpoint_index)
                     FROM notifications WHERE run_id = '$run' AND step = '$step'")" \
        "$n $n 1 1 $n" "run $run: $n $what notifications, all delivered, one body in one row"
    sq "SELECT id FROM notifications WHERE run_id = '$run' AND step = '$step'" >"$TMP/ids"
    # Received with a 2xx answer and its webhook-id at least once, one body for all.
    inbox_requests | python3 -c '
import json, sys
ids = set(open(sys.argv[1]).read().split())
got, bodies = set(), set()
for line in sys.stdin:
    r = json.loads(line)
    wid = r["headers"].get("webhook-id")
    if wid in ids and r["status"] is not None and 200 <= r["status"] < 300:
        got.add(wid)
        bodies.add(r["body"])
missing = ids - got
if missing:
    sys.exit("FAIL: %d %s notifications never arrived, e.g. %s"
             % (len(missing), sys.argv[2], sorted(missing)[:3]))
if len(bodies) != 1:
    sys.exit("FAIL: the %s arrived with %d different bodies" % (sys.argv[2], len(bodies)))
' "$TMP/ids" "$what" || fail "run $run: not every endpoint got the $what"
}
