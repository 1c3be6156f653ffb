#!/usr/bin/env bash
# test_run_fanout_slow.sh - a fan-out to a host that answers slowly is
# handed to the delivery engine a window at a time, all the way through.
#
# 1,200 endpoints on one host that answers each request after 200 ms: 64
# are in flight at a time, about four seconds in all.  The run loop
# journals a fan-out's notifications as it hands them to the engine, so
# the journal shows what the engine holds: at every sample, the
# notifications journaled and not yet settled are at most the 64 in
# flight, the window (128) and one chunk (256).  A window that counted
# only notifications submitted in the last quarter second let the whole
# list in after that quarter second.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

N=1200 BOUND=$((64 + 128 + 256))
start_inbox
for i in $(seq 1 $N); do echo "$INBOX_URL/fault/slow/200/webhook/s$i"; done >"$TMP/subs.txt"
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: slow
channels:
  subs: {type: webhook, urls_file: subs.txt}
steps:
  - {id: declare, at: 0s, notify: [subs], status: resolved, message: "Payments fail for some customers."}
YAML

start_crisisrun "$TMP/run.out" run --quiet "$TMP/pb.yaml"
pid=$BG_PID
RUN=$(wait_run_id "$TMP/run.out")
max=0 samples=0
while kill -0 "$pid" 2>/dev/null; do
    unsettled=$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN'
                    AND (state = 'pending' OR state = 'inflight')")
    samples=$((samples + 1))
    (( unsettled > max )) && max=$unsettled
    sleep 0.1
done
wait_exit "$pid" 30
assert_eq "$EXIT_RC" 0 "the run delivers everything and exits 0"
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN' AND state = 'delivered'")" \
    "$N" "every endpoint delivered"
assert_eq "$(inbox_count /fault/slow/200/webhook/s)" "$N" "one request an endpoint"
(( samples >= 10 )) || fail "only $samples samples: the run ended too soon to tell"
(( max <= BOUND )) ||
    fail "the engine held $max notifications of a slow host's fan-out at once (at most $BOUND)"
echo "ok: at most $max of $N notifications unsettled at once, over $samples samples"
