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
#
# Part 2: notifications held by a channel's rate limit wait by design and
# do not count, so a rate-limited channel's fan-out (300 endpoints at
# 10/s) does not hold back the next channel's 300 in the same step.
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

# ---- part 2: a rate-limited channel first in the step ----
for i in $(seq 1 300); do echo "$INBOX_URL/webhook/limited-$i"; done >"$TMP/limited.txt"
port=${INBOX_URL##*:}
for i in $(seq 1 300); do echo "http://localhost:$port/webhook/open-$i"; done >"$TMP/open.txt"
cat >"$TMP/pb2.yaml" <<'YAML'
crisisrun: 1
name: limited
channels:
  limited: {type: webhook, urls_file: limited.txt, rate: 10/s}
  open: {type: webhook, urls_file: open.txt}
steps:
  - {id: declare, at: 0s, notify: [limited, open], message: "Payments fail for some customers."}
YAML
start_crisisrun "$TMP/run2.out" run --quiet "$TMP/pb2.yaml"
pid=$BG_PID
RUN2=$(wait_run_id "$TMP/run2.out")
delivered() {
    sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN2' AND channel = '$1'
        AND state = 'delivered'"
}
# Held back behind the limited channel, they would wait some 13 s.
wait_for "(( \$(delivered open) == 300 ))" 8
limited=$(delivered limited)
(( limited < 150 )) || fail "$limited of the rate-limited channel delivered already: not rate limited?"
rc=0
_cr_stop "$pid" || rc=$?
assert_eq "$rc" 1 "the run, stopped, exits 1"
echo "ok: 300 endpoints delivered while the rate-limited channel had delivered $limited"
