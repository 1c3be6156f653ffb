#!/usr/bin/env bash
# test_resume_feedback_closed.sh - a resolved run killed while its feedback
# window is open, resumed after the window has closed.  The window closes
# at its set time whether or not a process is running, so:
#   1. With nothing left to send, `resume` ends the run: it exits 0, sends
#      nothing, journals `feedback_closed` once, at the time the window
#      closed (not at the resume), and that time as the run's end.  `serve`
#      shows the window closed and refuses answers (410); a second `resume`
#      finds the run over.
#   2. With a step's notification and the feedback request both waiting to
#      be retried at the kill, `resume` sends the step's once and gives the
#      feedback request up (failed, with the reason, and no request; its
#      form would refuse the answers it asks for), and exits 1 for it.
#      `feedback_closed` is still at the window's close; the run ended when
#      the step's notification settled.
#   3. With a feedback fan-out stopped between its chunks, `resume`
#      journals the rest and gives it up: nothing is sent after the close.
# Drills at --speed 600: the one-hour window is six real seconds.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"
. "$(dirname "$0")/feedback_lib.sh"
# One journal for every helper (feedback_lib.sh's `serve` finds its token
# next to it).
export CRISISRUN_DB=$DB

start_inbox
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: window-while-down
title: "Resolved at once"
channels:
  ops: {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
  # Its first request is answered 503: retried 2-4 real seconds later.
  slow: {type: webhook, url: "${env:INBOX_URL}/fault/503-then-ok/1/webhook/slow", retry: {attempts: 3, backoff: 4s}}
steps:
  - id: declare
    at: 0s
    status: resolved
    notify: [ops]
    message: "resolved at once"
feedback:
  window: 1h
  request: {notify: [FEEDBACK_CHANNEL], message: "How did we do? {{feedback_url}}"}
  questions:
    - {id: informed, text: "How well were you kept informed?", scale: 5}
YAML

closed_events() {
    sq "SELECT count(*) FROM events WHERE run_id = '$1' AND kind = 'feedback_closed'"
}

# Waits until the run's clock is past its feedback window (and past MS).
wait_window_closed() {
    local closes
    closes=$(sq "SELECT max(feedback_closes_ms - started_ms, ${2:-0}) FROM runs WHERE id = '$1'")
    wait_clock "$1" "$closes" 30
}

# ---- 1. nothing left to send -----------------------------------------------------------
sed 's/FEEDBACK_CHANNEL/ops/' "$TMP/pb.yaml" >"$TMP/one.yaml"
start_crisisrun "$TMP/run1.out" run --drill --speed 600 --quiet "$TMP/one.yaml"
RUN=$(wait_run_id "$TMP/run1.out")
wait_for "[[ \$(sq \"SELECT count(*) FROM notifications WHERE run_id = '$RUN'
                    AND state = 'delivered'\") == 2 ]]" 10
kill9 "$BG_PID"
assert_eq "$(sq "SELECT state FROM runs WHERE id = '$RUN'")" resolved "resolved at the kill"
assert_eq "$(closed_events "$RUN")" 0 "killed with the feedback window open"
CLOSES=$(sq "SELECT feedback_closes_ms FROM runs WHERE id = '$RUN'")
wait_window_closed "$RUN"
sent=$(inbox_count /webhook/ops)

rc=0
crisisrun resume --quiet "$RUN" >"$TMP/resume1.out" 2>&1 || rc=$?
[[ $rc == 0 ]] || { cat "$TMP/resume1.out" >&2; fail "resume of a run whose window closed while it was down exited $rc"; }
assert_eq "$(closed_events "$RUN")" 1 "one feedback_closed event"
assert_eq "$(sq "SELECT at_ms FROM events WHERE run_id = '$RUN' AND kind = 'feedback_closed'")" \
    "$CLOSES" "feedback_closed at the time the window closed"
assert_eq "$(sq "SELECT state || ' ' || ended_ms || ' ' || ifnull(owner_pid, 'none') FROM runs
                 WHERE id = '$RUN'")" "resolved $CLOSES none" "the run ended when its window closed"
# The timeline has the close before the resume that journaled it.
assert_eq "$(sq "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM events WHERE run_id = '$RUN'
                 AND kind IN ('feedback_closed', 'resumed') ORDER BY at_ms, seq)")" \
    "feedback_closed resumed" "the close comes before the resume"
assert_eq "$(inbox_count /webhook/ops)" "$sent" "nothing sent again"

start_serve
assert_eq "$(curl -sS -H "Authorization: Bearer $SERVE_TOKEN" "$SERVE_URL/api/runs/$RUN" |
             json_query 'd["feedback"]["window"] + " " + str(d["ended"] == d["feedback"]["closes"])')" \
    "closed True" "serve: the window is closed, and the run ended with it"
TOKEN=$(run_token "$RUN" ops)
assert_eq "$(post_form "$SERVE_URL/feedback/$TOKEN" 'q_informed=4')" 410 "an answer after the close"
assert_eq "$(sq "SELECT count(*) FROM feedback_responses WHERE run_id = '$RUN'")" 0 "nothing stored"

rc=0
crisisrun resume "$RUN" >"$TMP/resume1b.out" 2>&1 || rc=$?
assert_eq "$rc" 1 "a second resume"
assert_contains "$TMP/resume1b.out" "crisisrun: run $RUN is over: it is resolved and every notification has settled"

# ---- 2. retries waiting at the kill ---------------------------------------------------
# The step's notification to `slow` and the feedback request to `fb` both
# got a 503 and wait to be retried.  After the window has closed, resume
# sends the step's once more, and gives the feedback request up without a
# request: its form would refuse the answers it asks for.
sed -e 's/FEEDBACK_CHANNEL/fb/' -e 's/notify: \[ops\]/notify: [ops, slow]/' \
    -e 's|^  slow: .*|&\n  fb: {type: webhook, url: "${env:INBOX_URL}/fault/503-then-ok/1/webhook/fb", retry: {attempts: 3, backoff: 4s}}|' \
    "$TMP/pb.yaml" >"$TMP/two.yaml"
grep -q 'notify: \[ops, slow\]' "$TMP/two.yaml" && grep -q '^  fb: ' "$TMP/two.yaml" ||
    fail "two.yaml was not made as meant"
start_crisisrun "$TMP/run2.out" run --drill --speed 600 --quiet "$TMP/two.yaml"
RUN2=$(wait_run_id "$TMP/run2.out")
wait_for "[[ \$(sq \"SELECT group_concat(channel || ':' || state || attempts, ' ') FROM
                    (SELECT * FROM notifications WHERE run_id = '$RUN2' AND channel != 'ops'
                     ORDER BY channel)\") == 'fb:pending1 slow:pending1' ]]" 10
kill9 "$BG_PID"
assert_eq "$(closed_events "$RUN2")" 0 "killed with the feedback window open"
assert_eq "$(inbox_count /fault/503-then-ok/1/webhook/slow)" 1 "one request to slow before the kill"
assert_eq "$(inbox_count /fault/503-then-ok/1/webhook/fb)" 1 "one feedback request before the kill"
CLOSES=$(sq "SELECT feedback_closes_ms FROM runs WHERE id = '$RUN2'")
DUE=$(sq "SELECT max(n.due_ms) - r.started_ms FROM notifications n JOIN runs r ON r.id = n.run_id
          WHERE n.run_id = '$RUN2' AND n.channel != 'ops'")
wait_window_closed "$RUN2" "$DUE"

rc=0
crisisrun resume "$RUN2" >"$TMP/resume2.out" 2>&1 || rc=$?
assert_eq "$rc" 1 "resume exits 1: a notification failed"
assert_contains "$TMP/resume2.out" "given up: the feedback window closed before it was delivered"
assert_contains "$TMP/resume2.out" ": 2 delivered, 1 failed, 0 disabled"
assert_eq "$(inbox_count /fault/503-then-ok/1/webhook/slow)" 2 "the step's retry sent once"
assert_eq "$(inbox_count /fault/503-then-ok/1/webhook/fb)" 1 "the feedback request not sent again"
assert_eq "$(sq "SELECT state || ' ' || attempts || ' ' || ifnull(last_http_status, '-') || ' '
                        || last_error FROM notifications WHERE run_id = '$RUN2' AND channel = 'fb'")" \
    "failed 2 - given up: the feedback window closed before it was delivered" \
    "the feedback request failed, saying why"
assert_eq "$(sq "SELECT group_concat(number || ' ' || ifnull(http_status, '-') || ' ' || outcome, ', ')
                 FROM (SELECT a.* FROM attempts a JOIN notifications n ON n.id = a.notification_id
                       WHERE n.run_id = '$RUN2' AND n.channel = 'fb' ORDER BY a.number)")" \
    "1 503 retry, 2 - failed" "its attempts: the 503, then the one given up without a request"
crisisrun show "$RUN2" >"$TMP/show2.out" 2>&1 || fail "show exited $?"
assert_contains "$TMP/show2.out" "given up: the feedback window closed before it was delivered"
crisisrun report "$RUN2" >"$TMP/report2.md" 2>&1 || fail "report exited $?"
assert_contains "$TMP/report2.md" "given up: the feedback window closed before it was delivered"
SETTLED=$(sq "SELECT settled_ms FROM notifications WHERE run_id = '$RUN2' AND channel = 'slow'
              AND state = 'delivered'")
[[ -n $SETTLED ]] && (( SETTLED > CLOSES )) || fail "the retry settled at '$SETTLED', not after the close"
assert_eq "$(closed_events "$RUN2")" 1 "one feedback_closed event"
assert_eq "$(sq "SELECT at_ms FROM events WHERE run_id = '$RUN2' AND kind = 'feedback_closed'")" \
    "$CLOSES" "feedback_closed at the time the window closed, not when the resume ended"
assert_eq "$(sq "SELECT ended_ms FROM runs WHERE id = '$RUN2'")" "$SETTLED" \
    "the run ended when its last notification settled"
rc=0
crisisrun resume "$RUN2" >"$TMP/resume2b.out" 2>&1 || rc=$?
assert_eq "$rc" 1 "a second resume"
assert_contains "$TMP/resume2b.out" "is over: it is resolved and every notification has settled"

# ---- 3. a feedback fan-out interrupted between its chunks -------------------------------
# The stop is made exact, as test_resume_bodies.sh does: the run is killed
# after its feedback fan-out, and the notifications past its first chunk
# (endpoint 0, then 1..256) are deleted, which leaves the journal as a kill
# between two chunks does.  Resumed after the window closed, the rest of
# the fan-out is journaled and given up, not sent.
N=300
for i in $(seq 1 $N); do
    echo "$INBOX_URL/webhook/many-$i"
done >"$TMP/many.txt"
sed -e 's/FEEDBACK_CHANNEL/many/' -e 's|^  slow: .*|&\n  many: {type: webhook, urls_file: many.txt}|' \
    "$TMP/pb.yaml" >"$TMP/three.yaml"
start_crisisrun "$TMP/run3.out" run --drill --speed 600 --quiet "$TMP/three.yaml"
RUN3=$(wait_run_id "$TMP/run3.out")
wait_for "[[ \$(sq \"SELECT count(*) FROM notifications WHERE run_id = '$RUN3'
                    AND state = 'delivered'\") == $((N + 1)) ]]" 10
kill9 "$BG_PID"
assert_eq "$(closed_events "$RUN3")" 0 "killed with the feedback window open"
assert_eq "$(sq "SELECT json_extract(detail, '\$.fanout_endpoints.many') FROM events
                 WHERE run_id = '$RUN3' AND kind = 'step_fired' AND step = 'feedback.request'")" \
    "$N" "a chunked feedback fan-out"
sq "DELETE FROM attempts WHERE notification_id IN (SELECT id FROM notifications
        WHERE run_id = '$RUN3' AND channel = 'many' AND endpoint_index > 256);
    DELETE FROM notifications WHERE run_id = '$RUN3' AND channel = 'many' AND endpoint_index > 256;"
sent=$(inbox_count /webhook/many-)
assert_eq "$sent" "$N" "every endpoint had the request before the kill"
wait_window_closed "$RUN3"

rc=0
crisisrun resume "$RUN3" >"$TMP/resume3.out" 2>&1 || rc=$?
assert_eq "$rc" 1 "resume exits 1: the rest of the fan-out was given up"
assert_eq "$(inbox_count /webhook/many-)" "$sent" "nothing sent after the close"
assert_eq "$(sq "SELECT state || ' ' || count(*) FROM notifications WHERE run_id = '$RUN3'
                 AND channel = 'many' GROUP BY state, last_error ORDER BY state")" \
    "delivered 257
failed $((N - 257))" "the first chunk delivered, the rest failed"
assert_eq "$(sq "SELECT DISTINCT last_error FROM notifications WHERE run_id = '$RUN3'
                 AND state = 'failed'")" \
    "given up: the feedback window closed before it was delivered" "the reason"
assert_contains "$TMP/resume3.out" ": $((N + 1 - (N - 257))) delivered, $((N - 257)) failed, 0 disabled"

echo "ok test_resume_feedback_closed"
