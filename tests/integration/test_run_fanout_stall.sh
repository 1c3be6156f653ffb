#!/usr/bin/env bash
# test_run_fanout_stall.sh - endpoints that hang at the head of a large
# fan-out do not hold back the endpoints after them.
#
# The run loop feeds a fan-out to the delivery engine a window at a time,
# to bound its memory; notifications queued behind a host that has stalled
# (requests in flight, none started or answered for half a second) stop
# counting.  Here the first 400 endpoints of the list (more than the window
# and a chunk) are on a host that never answers, and the 300 after them on
# another host that answers at once.  Only 64 requests to one host are in
# flight at a time, so the hanging ones time out (2 s) in rounds for about
# fourteen seconds; the 300 healthy endpoints must all be delivered before
# the first hanging one has even failed.  A window counting every
# unsettled notification would have held them back until the hanging ones
# failed.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

HANG=400 OK=300
start_inbox
port=${INBOX_URL##*:}
{
    for i in $(seq 1 $HANG); do echo "$INBOX_URL/fault/hang/h$i"; done
    # Another host name for the same inbox: its own per-host cap.
    for i in $(seq 1 $OK); do echo "http://localhost:$port/webhook/ok-$i"; done
} >"$TMP/subs.txt"
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: stall
channels:
  subs:
    type: webhook
    urls_file: subs.txt
    timeout: 2s
    retry: {attempts: 1}
steps:
  - {id: declare, at: 0s, notify: [subs], status: resolved, message: "Payments fail for some customers."}
YAML

rc=0
crisisrun run --quiet "$TMP/pb.yaml" >"$TMP/run.out" 2>"$TMP/run.err" || rc=$?
assert_eq "$rc" 1 "a run with failed endpoints exits 1"
RUN=$(head -1 "$TMP/run.out")
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN' AND state = 'delivered'
                 AND endpoint_index >= $HANG")" "$OK" "every healthy endpoint delivered"
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN' AND state = 'failed'
                 AND endpoint_index < $HANG")" "$HANG" "every hanging endpoint failed"
assert_eq "$(inbox_count /webhook/ok-)" "$OK" "one request to each healthy endpoint"
last_ok=$(sq "SELECT max(settled_ms) FROM notifications WHERE run_id = '$RUN' AND endpoint_index >= $HANG")
first_fail=$(sq "SELECT min(settled_ms) FROM notifications WHERE run_id = '$RUN' AND endpoint_index < $HANG")
(( last_ok < first_fail )) ||
    fail "the healthy endpoints waited for the hanging ones: last delivered at $last_ok, first failure at $first_fail"
echo "ok: $OK healthy endpoints delivered $(( first_fail - last_ok )) ms before the first of $HANG hanging ones failed"

# ---- stopped with requests in flight ----
# Not resolved at once this time: a stopped run waits to be resumed.
sed -i 's/timeout: 2s/timeout: 30s/; s/ status: resolved,//' "$TMP/pb.yaml"
before=$(inbox_count /fault/hang/)
start_crisisrun "$TMP/term.out" run --quiet "$TMP/pb.yaml"
RUN2=$(wait_run_id "$TMP/term.out")
wait_for "(( \$(inbox_count /fault/hang/) - $before >= 64 ))" 10
rc=0
_cr_stop "$BG_PID" || rc=$?
assert_eq "$rc" 1 "SIGTERM with requests in flight exits 1"
assert_eq "$(sq "SELECT state FROM runs WHERE id = '$RUN2'")" interrupted "the run is interrupted"
unsettled=$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN2'
                AND (state = 'pending' OR state = 'inflight')")
(( unsettled >= 64 )) || fail "only $unsettled notifications left for resume after the interruption"
echo "ok: interrupted with requests in flight"
