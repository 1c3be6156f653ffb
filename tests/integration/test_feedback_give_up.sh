#!/usr/bin/env bash
# test_feedback_give_up.sh - no feedback request goes out after its window
# has closed: it would ask for answers the form refuses (410).
#
# A drill at --speed 600 whose one-hour window is six real seconds, with
# two feedback channels answering 503 first:
#   - `quick` is retried 1 to 2 real seconds later, inside the window, and
#     delivered;
#   - `late` is retried 8 to 16 real seconds later, after the window has
#     closed: that attempt is given up without a request, and the request
#     fails for good with the reason, in the journal, the live view, `show`
#     and the report.  The run then ends, exit 1 (a notification failed).
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

start_inbox
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: feedback-give-up
title: "Resolved at once"
channels:
  ops: {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
  quick: {type: webhook, url: "${env:INBOX_URL}/fault/503-then-ok/1/webhook/quick", retry: {attempts: 3, backoff: 2s}}
  late: {type: webhook, url: "${env:INBOX_URL}/fault/503/webhook/late", retry: {attempts: 3, backoff: 16s}}
steps:
  - id: declare
    at: 0s
    status: resolved
    notify: [ops]
    message: "resolved at once"
feedback:
  window: 1h
  request: {notify: [quick, late], message: "How did we do? {{feedback_url}}"}
  questions:
    - {id: informed, text: "How well were you kept informed?", scale: 5}
YAML

rc=0
timeout $(( 90 * CR_SLOW )) "${CR_CMD[@]}" run --drill --speed 600 "$TMP/pb.yaml" \
    >"$TMP/run.out" 2>&1 || rc=$?
assert_eq "$rc" 1 "the run exits 1: a feedback request failed"
RUN=$(head -n1 "$TMP/run.out")

q() { # q CHANNEL COLUMNS
    sq "SELECT $2 FROM notifications WHERE run_id = '$RUN' AND channel = '$1'"
}
assert_eq "$(q ops state)" delivered "the step's notification"
assert_eq "$(q quick "state || ' ' || attempts")" "delivered 2" "retried inside the window"
assert_eq "$(inbox_count /fault/503-then-ok/1/webhook/quick)" 2 "quick: two requests"
assert_eq "$(q late "state || ' ' || attempts || ' ' || ifnull(last_http_status, '-') || ' ' || last_error")" \
    "failed 2 - given up: the feedback window closed before it was delivered" \
    "the late one failed, saying why"
assert_eq "$(inbox_count /fault/503/webhook/late)" 1 "late: no request after the close"
assert_eq "$(sq "SELECT group_concat(number || ' ' || ifnull(http_status, '-') || ' ' || outcome, ', ')
                 FROM (SELECT a.* FROM attempts a JOIN notifications n ON n.id = a.notification_id
                       WHERE n.run_id = '$RUN' AND n.channel = 'late' ORDER BY a.number)")" \
    "1 503 retry, 2 - failed" "its attempts: the 503, then the one given up"

# The attempt given up was due after the close, and the run's clock had
# passed the close when it was given up.
CLOSES=$(sq "SELECT feedback_closes_ms FROM runs WHERE id = '$RUN'")
GAVE_UP=$(q late settled_ms)
(( GAVE_UP >= CLOSES )) || fail "given up at $GAVE_UP, before the close at $CLOSES"
assert_eq "$(sq "SELECT count(*) FROM events WHERE run_id = '$RUN' AND kind = 'feedback_closed'")" \
    1 "one feedback_closed event"

assert_contains "$TMP/run.out" "-> late (${INBOX_URL%/}/…): given up: the feedback window closed before it was delivered"
assert_contains "$TMP/run.out" "resolved $RUN: 2 delivered, 1 failed, 0 disabled"
crisisrun show "$RUN" >"$TMP/show.out" 2>&1 || fail "show exited $?"
assert_contains "$TMP/show.out" "error: given up: the feedback window closed before it was delivered"
crisisrun report "$RUN" >"$TMP/report.md" 2>&1 || fail "report exited $?"
assert_contains "$TMP/report.md" "| late | failed | given up: the feedback window closed before it was delivered | 1 |"

echo "ok test_feedback_give_up"
