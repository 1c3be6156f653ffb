#!/usr/bin/env bash
# test_run_fanout_chunks.sh - a 2,000-endpoint fan-out is journaled a chunk
# at a time, so that a step due meanwhile goes ahead of the rest of it, and
# a run killed before its last chunk is completed on resume.
#
# The playbook fires, at the same instant (a minute in, a second at --speed
# 60) and in this order, the fan-out,
# a one-shot step to another channel and the resolution.
#   1. A run to the end: the one-shot step's notification is journaled
#      before all of the fan-out's but the 16 that go with its step, and
#      every endpoint gets the message once, all with the same body.
#   2. SIGKILL while the fan-out is being journaled (its step_fired event
#      is in the journal, some but not all of its notifications), then
#      `resume`: all 2,000 are journaled and delivered, every endpoint got
#      it at least once with the one body, and the step fired once (the
#      resolution journaled meanwhile did not lose the rest of it).
#   3. The same kill, then a line removed from the endpoint list before
#      `resume`: no endpoint that had the message before the stop gets it
#      again (ids contain the endpoint's place, which moved), and every
#      endpoint still listed gets it.
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
    check_fanout "$1" fanout "$N" fan-out
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
# The later steps' notifications went ahead of all of the fan-out's but
# the 16 journaled with its step (FANOUT_FIRST, whose requests go out at
# once), the first 16 of the list.
before=$(sq "SELECT count(*) || ' ' || ifnull(max(endpoint_index), -1) FROM notifications
             WHERE run_id = '$RUN' AND step = 'fanout'
             AND rowid < (SELECT max(rowid) FROM notifications WHERE run_id = '$RUN'
                          AND step IN ('tick', 'close'))")
assert_eq "$before" "16 15" "fan-out notifications journaled before the later steps' (count, last index)"
assert_eq "$(sq "SELECT json_extract(detail, '\$.fanout_endpoints.fan') FROM events
                 WHERE run_id = '$RUN' AND kind = 'step_fired' AND step = 'fanout'")" \
    "$N" "the fan-out's step_fired event counts its endpoints"
check_delivered "$RUN"

# ---- 2. killed while the fan-out is being journaled, then resumed ---------------------------
# A tight poll of the journal (WAL: reading never blocks the runner) kills
# the runner once some but not all of the fan-out is journaled.  The
# window is a few milliseconds a chunk: try a few times.  Sets KILLED to
# the run, and try to the attempt that caught it.
kill_mid_fanout() { # kill_mid_fanout NAME [DELIVERED]: NAME for the output files;
    # kill once at least DELIVERED of the fan-out are delivered (default 0)
    local caught=0 got PID
    for try in 1 2 3 4 5; do
        start_crisisrun "$TMP/$1.$try.out" run --drill --speed 60 "$TMP/pb.yaml"
        PID=$BG_PID
        got=$(python3 - "$DB" "$PID" "$(sq "SELECT group_concat(id) FROM runs")" "${2:-0}" <<'PY'
import os, signal, sqlite3, sys, time
db, pid, old, least = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), int(sys.argv[4])
c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
end = time.time() + 30
marks = ",".join("?" * len(old))
while time.time() < end:
    n, d = c.execute("SELECT count(*), total(state = 'delivered') FROM notifications"
                     " WHERE step = 'fanout' AND run_id NOT IN (%s)" % marks, old).fetchone()
    if 0 < n < 2000 and d >= least:
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
    KILLED=$(head -n1 "$TMP/$1.$try.out")
}
kill_mid_fanout run2
RUN2=$KILLED
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

# ---- 3. killed, the endpoint list loses a line, resumed ---------------------------------
# An operator removes a subscriber from the list before resuming.  Every
# endpoint after it moves up one place, and ids contain the place: the
# endpoints the run had already journaled must not get the message again
# under new ids, and every endpoint still listed gets it.
kill_mid_fanout run3 300
RUN3=$KILLED
have=$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN3' AND step = 'fanout'")
echo "killed after $have of $N fan-out notifications (try $try); removing line 5"
(( $(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN3' AND step = 'fanout'
         AND state = 'delivered' AND endpoint_index > 4") > 0 )) ||
    fail "no endpoint after the removed line was delivered before the kill: nothing to check"
sq "SELECT endpoint_index FROM notifications WHERE run_id = '$RUN3' AND step = 'fanout'
    AND state = 'delivered'" >"$TMP/delivered-before"
inbox_requests >"$TMP/requests-before"
sed -i 5d "$TMP/fan.txt"
rc=0
crisisrun resume "$RUN3" >"$TMP/resume3.out" 2>"$TMP/resume3.err" || rc=$?
[[ $rc == 0 ]] || { cat "$TMP/resume3.out" "$TMP/resume3.err" >&2; fail "resume exited $rc"; }
inbox_requests | python3 -c '
import json, sys
fan = [l.strip() for l in open(sys.argv[1]) if l.strip()]
delivered = [int(x) for x in open(sys.argv[2]).read().split()]
def counts(lines):
    c = {}
    for line in lines:
        r = json.loads(line)
        if r["path"].startswith("/webhook/fan-") and r["status"] and 200 <= r["status"] < 300:
            c[r["path"]] = c.get(r["path"], 0) + 1
    return c
before = counts(open(sys.argv[3]))
after = counts(sys.stdin)
# The old list: line 5 (index 4) is gone from the new one.
again = [i for i in delivered if after.get("/webhook/fan-%d" % (i + 1), 0) > before.get("/webhook/fan-%d" % (i + 1), 0)]
if again:
    sys.exit("FAIL: %d endpoints delivered before the stop got it again, e.g. fan-%d" % (len(again), again[0] + 1))
paths = ["/" + u.split("/", 3)[3] for u in fan]
missing = [p for p in paths if not after.get(p)]
if missing:
    sys.exit("FAIL: %d listed endpoints never got it, e.g. %s" % (len(missing), missing[0]))
print("after the list changed: %d delivered before the stop not sent again, all %d listed reached"
      % (len(delivered), len(paths)))
' "$TMP/fan.txt" "$TMP/delivered-before" "$TMP/requests-before" || fail "run $RUN3: resume after the list changed"
stop_inbox
echo "PASS: $TEST_NAME"
