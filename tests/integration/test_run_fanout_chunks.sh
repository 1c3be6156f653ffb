#!/usr/bin/env bash
# test_run_fanout_chunks.sh - a 2,000-endpoint fan-out is journaled a chunk
# at a time, so that a step due meanwhile goes ahead of the rest of it, and
# a run killed before its last chunk is completed on resume.
#
# The playbook fires, at the same instant (a minute in, a second at --speed
# 60) and in this order, the fan-out,
# a one-shot step to another channel and the resolution.
#   1. A run to the end: the one-shot step's notification is journaled
#      before most of the fan-out's (after its first chunk at the latest),
#      and every endpoint gets the message once, all with the same body.
#   2. SIGKILL while the fan-out is being journaled (its step_fired event
#      is in the journal, some but not all of its notifications), then
#      `resume`: all 2,000 are journaled and delivered, every endpoint got
#      it at least once with the one body, and the step fired once (the
#      resolution journaled meanwhile did not lose the rest of it).
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

N=2000
start_inbox
for i in $(seq 1 $N); do
    echo "$INBOX_URL/webhook/fan-$i"
done >"$TMP/fan.txt"
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: chunks
title: "Chunked fan-out"
channels:
  fan: {type: webhook, urls_file: fan.txt}
  ops: {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
steps:
  - id: fanout
    at: 1m
    notify: [fan]
    message: "to everyone"
  - id: tick
    at: 1m
    notify: [ops]
    message: "meanwhile"
  - id: close
    at: 1m
    status: resolved
    notify: [ops]
    message: "resolved"
YAML

# Every fan-out endpoint of RUN: delivered in the journal, received with a
# 2xx answer and its webhook-id at least once, and one body for all.
check_delivered() {
    local run=$1
    assert_eq "$(sq "SELECT count(*) || ' ' || sum(state = 'delivered') || ' ' ||
                     count(DISTINCT (SELECT body FROM bodies b WHERE b.id = body_id)) || ' ' || count(DISTINCT endpoint_index)
                     FROM notifications WHERE run_id = '$run' AND step = 'fanout'")" \
        "$N $N 1 $N" "run $run: $N fan-out notifications, all delivered, one body"
    sq "SELECT id FROM notifications WHERE run_id = '$run' AND step = 'fanout'" >"$TMP/ids"
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
    sys.exit("FAIL: %d fan-out notifications never arrived, e.g. %s" % (len(missing), sorted(missing)[:3]))
if len(bodies) != 1:
    sys.exit("FAIL: the fan-out arrived with %d different bodies" % len(bodies))
' "$TMP/ids" || fail "run $run: not every endpoint got the fan-out"
}

# ---- 1. to the end ----------------------------------------------------------------------
rc=0
crisisrun run --drill --speed 60 "$TMP/pb.yaml" >"$TMP/run.out" 2>"$TMP/run.err" || rc=$?
[[ $rc == 0 ]] || { cat "$TMP/run.err" >&2; fail "run exited $rc"; }
RUN=$(head -n1 "$TMP/run.out")
for s in fanout tick close; do
    assert_eq "$(fired "$RUN" "$s")" 1 "step $s fired once"
done
# Fired in the order they were popped, each event before its notifications.
assert_eq "$(sq "SELECT group_concat(step, ' ') FROM (SELECT step FROM events
                 WHERE run_id = '$RUN' AND kind = 'step_fired' ORDER BY seq)")" \
    "fanout tick close" "step_fired order"
# The later steps' notifications went ahead of most of the fan-out's.
before=$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN' AND step = 'fanout'
             AND rowid < (SELECT max(rowid) FROM notifications WHERE run_id = '$RUN'
                          AND step IN ('tick', 'close'))")
(( before < N / 2 )) ||
    fail "the later steps' notifications were journaled after $before of the $N fan-out ones"
echo "later steps journaled after $before of $N fan-out notifications"
assert_eq "$(sq "SELECT json_extract(detail, '\$.fanout_endpoints.fan') FROM events
                 WHERE run_id = '$RUN' AND kind = 'step_fired' AND step = 'fanout'")" \
    "$N" "the fan-out's step_fired event counts its endpoints"
check_delivered "$RUN"

# ---- 2. killed while the fan-out is being journaled, then resumed ---------------------------
# A tight poll of the journal (WAL: reading never blocks the runner) kills
# the runner once some but not all of the fan-out is journaled.  The
# window is a few milliseconds a chunk: try a few times.
caught=0
for try in 1 2 3 4 5; do
    start_crisisrun "$TMP/run2.$try.out" run --drill --speed 60 "$TMP/pb.yaml"
    PID=$BG_PID
    got=$(python3 - "$DB" "$PID" "$RUN" <<'PY'
import os, signal, sqlite3, sys, time
db, pid, old = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
end = time.time() + 30
while time.time() < end:
    n = c.execute("SELECT count(*) FROM notifications WHERE step = 'fanout' AND run_id != ?",
                  (old,)).fetchone()[0]
    if 0 < n < 2000:
        os.kill(pid, signal.SIGKILL)
        print(n)
        sys.exit(0)
    if n >= 2000:
        print("missed")
        sys.exit(0)
print("timeout")
PY
    )
    if [[ $got == missed ]]; then
        wait_exit "$PID" 30
        continue
    fi
    [[ $got =~ ^[0-9]+$ ]] || fail "polling the journal: $got"
    wait_exit "$PID" 10
    caught=1
    break
done
(( caught )) || fail "could not kill the runner while the fan-out was being journaled in $try tries"
RUN2=$(head -n1 "$TMP/run2.$try.out")
[[ $RUN2 != "$RUN" ]] || fail "no second run"
have=$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN2' AND step = 'fanout'")
echo "killed after $have of $N fan-out notifications (try $try)"
(( have > 0 && have < N )) || fail "killed with $have of $N fan-out notifications journaled"
assert_eq "$(fired "$RUN2" fanout)" 1 "the fan-out's step_fired is journaled with its first chunk"
assert_eq "$(sq 'PRAGMA integrity_check')" ok "integrity_check after the kill"

rc=0
crisisrun resume "$RUN2" >"$TMP/resume.out" 2>"$TMP/resume.err" || rc=$?
[[ $rc == 0 ]] || { cat "$TMP/resume.out" "$TMP/resume.err" >&2; fail "resume exited $rc"; }
for s in fanout tick close; do
    assert_eq "$(fired "$RUN2" "$s")" 1 "step $s fired once across the kill"
done
check_delivered "$RUN2"
assert_eq "$(sq "SELECT state || ' ' || status FROM runs WHERE id = '$RUN2'")" \
    "resolved resolved" "the run is resolved"
stop_inbox
echo "PASS: $TEST_NAME"
