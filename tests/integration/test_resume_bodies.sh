#!/usr/bin/env bash
# test_resume_bodies.sh - what `resume` sends again it sends with the body
# row the journal has, and journals no second copy of it in `bodies`:
#   1. a notification in flight at a SIGKILL is re-sent from its journaled
#      body: the run's body rows are the same before and after;
#   2. a fan-out of more than 256 endpoints stopped between two of its
#      chunks is completed by `resume` with the body of the endpoints
#      journaled before the stop: the new notifications point to that
#      row, and the run still has one body row for the fan-out.
# Part 2 makes the stop exact instead of racing a kill against the chunks
# (test_run_fanout_chunks.sh does that): the run is killed after its
# fan-out, and the notifications of every chunk but the first (endpoint 0,
# then 1..256) are deleted, which leaves the journal as a kill between
# the first chunk and the second does.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

start_inbox

bodies() {
    sq "SELECT count(*) FROM bodies WHERE run_id = '$1'"
}

delivered() {
    sq "SELECT count(*) FROM notifications WHERE run_id = '$1' AND state = 'delivered'"
}

# ---- 1. a request in flight at the kill ----------------------------------------------------
cat >"$TMP/one.yaml" <<'YAML'
crisisrun: 1
name: bodies-inflight
channels:
  ops: {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
  # Its first request hangs until the runner is killed; the second is answered.
  slow: {type: webhook, url: "${env:INBOX_URL}/fault/slow/600000/webhook/slow"}
steps:
  - id: declare
    at: 0s
    notify: [ops, slow]
    message: "declared"
YAML
start_crisisrun "$TMP/run1.out" run --quiet "$TMP/one.yaml"
RUN=$(wait_run_id "$TMP/run1.out")
wait_for "[[ \$(inbox_count /fault/slow/) == 1 && \$(delivered $RUN) == 1 ]]" 10
kill9 "$BG_PID"
assert_eq "$(sq "SELECT state FROM notifications WHERE run_id = '$RUN' AND channel = 'slow'")" \
    pending "the slow request is unsettled at the kill"
before=$(bodies "$RUN")
assert_eq "$before" 2 "one body row a channel"
start_crisisrun "$TMP/resume1.out" resume --quiet "$RUN"
wait_for "[[ \$(inbox_count /fault/slow/) == 2 ]]" 10
assert_eq "$(bodies "$RUN")" "$before" "no body row added by the re-send"
kill9 "$BG_PID"

# ---- 2. a fan-out stopped after its first chunk ---------------------------------------------
N=300
for i in $(seq 1 $N); do
    echo "$INBOX_URL/webhook/fan-$i"
done >"$TMP/fan.txt"
cat >"$TMP/two.yaml" <<'YAML'
crisisrun: 1
name: bodies-fanout
channels:
  fan: {type: webhook, urls_file: fan.txt}
steps:
  - id: fanout
    at: 0s
    notify: [fan]
    message: "to everyone"
  - id: later
    at: 1h
    notify: [fan]
    message: "not reached"
YAML
start_crisisrun "$TMP/run2.out" run --quiet "$TMP/two.yaml"
RUN2=$(wait_run_id "$TMP/run2.out")
wait_for "[[ \$(delivered $RUN2) == $N ]]" 30
kill9 "$BG_PID"
assert_eq "$(sq "SELECT json_extract(detail, '\$.fanout_endpoints.fan') FROM events
                 WHERE run_id = '$RUN2' AND kind = 'step_fired' AND step = 'fanout'")" \
    "$N" "a chunked fan-out"
sq "DELETE FROM attempts WHERE notification_id IN (SELECT id FROM notifications
        WHERE run_id = '$RUN2' AND endpoint_index > 256);
    DELETE FROM notifications WHERE run_id = '$RUN2' AND endpoint_index > 256;"
assert_eq "$(delivered "$RUN2")" 257 "the first chunk journaled"
BODY=$(sq "SELECT DISTINCT body_id FROM notifications WHERE run_id = '$RUN2'")
before=$(bodies "$RUN2")
assert_eq "$before" 1 "one body row for the fan-out"

start_crisisrun "$TMP/resume2.out" resume --quiet "$RUN2"
wait_for "[[ \$(delivered $RUN2) == $N ]]" 30
kill9 "$BG_PID"
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN2'
                 AND body_id = $BODY")" "$N" "every endpoint's notification has the one body row"
assert_eq "$(bodies "$RUN2")" "$before" "no body row added by completing the fan-out"
check_fanout "$RUN2" fanout "$N" fan-out
# The endpoints whose rows were deleted had it before the kill: once more.
assert_eq "$(inbox_count /webhook/fan-)" "$((N + N - 257))" \
    "the first chunk's endpoints got the message once, the others twice"

echo "ok test_resume_bodies"
