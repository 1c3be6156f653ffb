#!/usr/bin/env bash
# test_run_fanout_slow.sh - endpoints after a slow host or a rate-limited
# channel in a large fan-out are not held back by them, and a slow host's
# share of the fan-out waits as indexes, not as notifications.
#
# Part 1: one step notifies 1,200 endpoints on a host that answers each
# request after 200 ms (64 in flight at a time: about four seconds), then
# 300 on another host that answers at once.  The run loop passes over the
# slow host's endpoints once it has a backlog of 256 and holds them until
# it has room, so the 300 are all delivered before the slow host's second
# round of answers, and the slow host never has more than 64 + 256
# notifications journaled and unsettled.  A window counting the slow
# host's whole queue held the 300 until it had drained (1,024 of 1,200
# delivered by then); one counting only notifications younger than a
# quarter second, until 448 were.
#
# Part 2: notifications held by a channel's rate limit wait by design and
# do not count, so a rate-limited channel's fan-out (300 endpoints at
# 10/s) does not hold back the next channel's 300 in the same step.
#
# Part 3: notifications waiting to retry have an allowance of their own,
# 2,048 a host.  A host where every other endpoint of 1,200 answers 503
# (next try 15-30 s away) still delivers its 600 healthy ones at once; one
# that answers 503 to all of 3,000 has at most 64 + 256 + 2,048 of them
# journaled, not all 3,000.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

# notified RUN CHANNEL CONDITION: how many of the run's notifications on
# CHANNEL meet CONDITION (SQL on the notifications table)
notified() {
    sq "SELECT count(*) FROM notifications WHERE run_id = '$1' AND channel = '$2' AND $3"
}
UNSETTLED="(state = 'pending' OR state = 'inflight')"

start_inbox
port=${INBOX_URL##*:}
for i in $(seq 1 1200); do echo "$INBOX_URL/fault/slow/200/webhook/s$i"; done >"$TMP/slow.txt"
for i in $(seq 1 300); do echo "http://localhost:$port/webhook/fast-$i"; done >"$TMP/fast.txt"
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: slow
channels:
  slow: {type: webhook, urls_file: slow.txt}
  fast: {type: webhook, urls_file: fast.txt}
steps:
  - {id: declare, at: 0s, notify: [slow, fast], status: resolved, message: "Payments fail for some customers."}
YAML

start_crisisrun "$TMP/run.out" run --quiet "$TMP/pb.yaml"
pid=$BG_PID
RUN=$(wait_run_id "$TMP/run.out")
# While it runs: the slow host's notifications journaled and not settled,
# at most its 64 in flight and its backlog of 256.
max=0 samples=0
while kill -0 "$pid" 2>/dev/null; do
    unsettled=$(notified "$RUN" slow "$UNSETTLED")
    samples=$((samples + 1))
    (( unsettled > max )) && max=$unsettled
    sleep 0.1
done
wait_exit "$pid" 30
assert_eq "$EXIT_RC" 0 "the run delivers everything and exits 0"
(( samples >= 10 )) || fail "only $samples samples: the run ended too soon to tell"
(( max <= 64 + 256 )) ||
    fail "$max of the slow host's notifications unsettled at once (at most 320)"
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN' AND state = 'delivered'")" \
    1500 "every endpoint delivered"
assert_eq "$(inbox_count /webhook/fast-)" 300 "one request a fast endpoint"
fast_done=$(sq "SELECT max(settled_ms) FROM notifications WHERE run_id = '$RUN' AND channel = 'fast'")
slow_by_then=$(notified "$RUN" slow "settled_ms <= $fast_done")
(( slow_by_then < 200 )) ||
    fail "the fast endpoints waited for the slow host: delivered when $slow_by_then of 1,200 slow ones were"
echo "ok: 300 fast endpoints delivered when $slow_by_then of 1,200 slow ones were;" \
    "at most $max slow ones unsettled at once"

# ---- part 2: a rate-limited channel first in the step ----
for i in $(seq 1 300); do echo "$INBOX_URL/webhook/limited-$i"; done >"$TMP/limited.txt"
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
# Held back behind the limited channel, they would wait some 13 s.
wait_for "(( \$(notified $RUN2 open \"state = 'delivered'\") == 300 ))" 8
limited=$(notified "$RUN2" limited "state = 'delivered'")
(( limited < 150 )) || fail "$limited of the rate-limited channel delivered already: not rate limited?"
rc=0
_cr_stop "$pid" || rc=$?
assert_eq "$rc" 1 "the run, stopped, exits 1"
echo "ok: 300 endpoints delivered while the rate-limited channel had delivered $limited"

# ---- part 3: hosts that fail, with retries far off ----
# The half-failing host is "localhost", the failing one 127.0.0.1: two
# hosts, two backlogs.
for i in $(seq 1 1200); do
    if (( i % 2 )); then echo "http://localhost:$port/fault/503/webhook/half$i"
    else echo "http://localhost:$port/webhook/half$i"; fi
done >"$TMP/half.txt"
for i in $(seq 1 3000); do echo "$INBOX_URL/fault/503/webhook/r$i"; done >"$TMP/failing.txt"
cat >"$TMP/pb3.yaml" <<'YAML'
crisisrun: 1
name: failing
channels:
  half: {type: webhook, urls_file: half.txt, retry: {attempts: 2, backoff: 30s}}
  failing: {type: webhook, urls_file: failing.txt, retry: {attempts: 2, backoff: 30s}}
steps:
  - {id: declare, at: 0s, notify: [half, failing], message: "Payments fail for some customers."}
YAML
start_crisisrun "$TMP/run3.out" run --quiet "$TMP/pb3.yaml"
pid=$BG_PID
RUN3=$(wait_run_id "$TMP/run3.out")
# Counted with the waiting ones, the first 256 failures would hold the
# rest of the host's endpoints for the 15-30 s of their retries.
wait_for "(( \$(notified $RUN3 half \"state = 'delivered'\") == 600 ))" 8
# The failing host: retries are 15 s away at least, so for now every
# request is a first attempt.
wait_for "(( \$(notified $RUN3 failing 1) >= 2000 ))" 8
max=0
for _ in $(seq 1 15); do
    u=$(notified "$RUN3" failing "$UNSETTLED")
    (( u > max )) && max=$u
    sleep 0.1
done
journaled=$(notified "$RUN3" failing 1)
rc=0
_cr_stop "$pid" || rc=$?
assert_eq "$rc" 1 "the run, stopped, exits 1"
(( max <= 64 + 256 + 2048 && journaled <= 64 + 256 + 2048 )) ||
    fail "$journaled notifications of a failing host journaled, $max unsettled at once (at most 2,368)"
echo "ok: 600 healthy endpoints delivered beside 600 failing ones;" \
    "a failing host held at $journaled journaled notifications of 3,000"
