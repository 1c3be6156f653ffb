#!/usr/bin/env bash
# test_note_fanout.sh - `note --notify` to a 2,000-endpoint channel goes
# out as a step's fan-out does: journaled a chunk at a time after the
# command returns, and counted in the note's event, so that resume
# completes a broadcast the runner was killed in the middle of.
#   1. A broadcast to the end: the note event counts the endpoints and
#      names the note; every endpoint gets the note once, with one body.
#   2. SIGKILL while the broadcast is being journaled (some but not all of
#      its notifications are), then `resume`: all 2,000 are journaled and
#      delivered, each endpoint at least once with the one body.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

N=2000
start_inbox
for i in $(seq 1 $N); do
    echo "$INBOX_URL/webhook/fan-$i"
done >"$TMP/fan.txt"
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: note-fanout
title: "A note to every subscriber"
channels:
  fan: {type: webhook, urls_file: fan.txt}
  ops: {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
steps:
  - id: declare
    at: 0s
    notify: [ops]
    message: "declared"
  - id: close
    at: 4m
    status: resolved
    notify: [ops]
    message: "resolved"
YAML

# Every endpoint of RUN's broadcast: delivered in the journal, received
# with a 2xx answer and its webhook-id at least once, one body for all,
# and that body is the note.
check_delivered() {
    check_fanout "$1" @note "$N" note
    assert_eq "$(sq "SELECT count(DISTINCT b.body) FROM notifications n
                     JOIN bodies b ON b.id = n.body_id WHERE n.run_id = '$1'
                     AND n.step = '@note' AND b.body LIKE '%to every subscriber%'")" 1 \
        "run $1: the broadcast's body is the note"
}

# ---- 1. to the end ----------------------------------------------------------------------
start_crisisrun "$TMP/run1.out" run --drill --speed 60 "$TMP/pb.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/run1.out")
wait_fired "$RUN" declare
rc=0
crisisrun note "$RUN" "to every subscriber" --notify fan >"$TMP/note.out" 2>&1 || rc=$?
[[ $rc == 0 ]] || { cat "$TMP/note.out" >&2; fail "note --notify exited $rc"; }
wait_exit "$PID" 60
assert_eq "$EXIT_RC" 0 "the run with a broadcast note"
assert_eq "$(sq "SELECT json_extract(detail, '\$.fanout_endpoints.fan') || ' ' ||
                 (json_extract(detail, '\$.note_id') = (SELECT id FROM notes WHERE run_id = '$RUN'))
                 FROM events WHERE run_id = '$RUN' AND kind = 'note'")" \
    "$N 1" "the note event counts the broadcast's endpoints and names the note"
check_delivered "$RUN"

# ---- 2. killed while the broadcast is being journaled, then resumed -----------------------
# The note is sent from here, and a tight poll of the journal (WAL: reading
# never blocks the runner) kills the runner once some but not all of the
# broadcast is journaled.  The window is a few milliseconds a chunk: try a
# few times.
caught=0
for try in 1 2 3 4 5; do
    start_crisisrun "$TMP/run2.$try.out" run --drill --speed 60 "$TMP/pb.yaml"
    PID=$BG_PID
    RUN2=$(wait_run_id "$TMP/run2.$try.out")
    wait_fired "$RUN2" declare
    got=$(python3 - "$DB" "$PID" "$RUN2" "$N" "${CR_CMD[@]}" <<'PY'
import os, signal, sqlite3, subprocess, sys, time
db, pid, run, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
note = subprocess.Popen(sys.argv[5:] + ["note", run, "to every subscriber", "--notify", "fan"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
end = time.time() + 30
while time.time() < end:
    k = c.execute("SELECT count(*) FROM notifications WHERE run_id = ? AND step = '@note'",
                  (run,)).fetchone()[0]
    if 0 < k < n:
        os.kill(pid, signal.SIGKILL)
        print(k)
        break
    if k >= n:
        print("missed")
        break
else:
    print("timeout")
note.wait()
PY
    )
    if [[ $got == missed ]]; then
        wait_exit "$PID" 60
        continue
    fi
    [[ $got =~ ^[0-9]+$ ]] || fail "polling the journal: $got"
    wait_exit "$PID" 10
    caught=1
    break
done
(( caught )) || fail "could not kill the runner while the broadcast was being journaled in $try tries"
have=$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN2' AND step = '@note'")
echo "killed after $have of $N note notifications (try $try)"
(( have > 0 && have < N )) || fail "killed with $have of $N note notifications journaled"
assert_eq "$(sq 'PRAGMA integrity_check')" ok "integrity_check after the kill"

rc=0
crisisrun resume "$RUN2" >"$TMP/resume.out" 2>"$TMP/resume.err" || rc=$?
[[ $rc == 0 ]] || { cat "$TMP/resume.out" "$TMP/resume.err" >&2; fail "resume exited $rc"; }
assert_contains "$TMP/resume.out" "notifications of interrupted fan-outs"
assert_eq "$(sq "SELECT count(*) FROM notes WHERE run_id = '$RUN2'")" 1 "one note"
check_delivered "$RUN2"
assert_eq "$(sq "SELECT state || ' ' || status FROM runs WHERE id = '$RUN2'")" \
    "resolved resolved" "the run is resolved"
echo "ok test_note_fanout"
