#!/usr/bin/env bash
# test_resume_retry_after.sh - a retry that was waiting when the runner died
# keeps its journaled due time: an endpoint that answered 429 with a
# Retry-After is not asked again by `resume` before the time it gave.
# The endpoint always answers 429 (Retry-After: WAIT seconds) and the
# channel allows two attempts; the runner is killed once the first
# attempt is journaled, and resumed at once.  The second attempt must not
# start before the due time the journal had for it at the kill; nor, on a
# rate-limited channel, the message the 429 held behind it.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

WAIT=$(( 4 * CR_SLOW ))
start_inbox
cat >"$TMP/pb.yaml" <<YAML
crisisrun: 1
name: retry-after
channels:
  limited:
    type: webhook
    url: "\${env:INBOX_URL}/fault/429/$WAIT/webhook/limited"
    retry: {attempts: 2, backoff: 100ms}
steps:
  - {id: declare, at: 0s, status: resolved, notify: [limited], message: "declared"}
YAML

start_crisisrun "$TMP/run.out" run "$TMP/pb.yaml"
RUN=$(wait_run_id "$TMP/run.out")
wait_for "[[ \$(sq \"SELECT attempts FROM notifications WHERE run_id = '$RUN'\") == 1 ]]" 10
kill9 "$BG_PID"
assert_eq "$(sq "SELECT state FROM notifications WHERE run_id = '$RUN'")" pending \
    "the notification waits for its retry"
due=$(sq "SELECT due_ms FROM notifications WHERE run_id = '$RUN'")
first=$(sq "SELECT a.started_ms FROM attempts a JOIN notifications n ON n.id = a.notification_id
            WHERE n.run_id = '$RUN' AND a.number = 1")
(( due - first >= WAIT * 1000 )) || fail "due $due is not Retry-After ($WAIT s) after attempt 1 ($first)"

# The resume ends once the second attempt has failed for good: exit 1.
start_crisisrun "$TMP/resume.out" resume "$RUN" --quiet
wait_exit "$BG_PID" $(( WAIT + 20 ))
assert_eq "$EXIT_RC" 1 "the resume, whose notification failed for good (see $TMP/resume.out)"
grep -qF "re-sending 1 notification that was not settled" "$TMP/resume.out" ||
    fail "the resume says it re-sends the one notification (see $TMP/resume.out)"
second=$(sq "SELECT a.started_ms FROM attempts a JOIN notifications n ON n.id = a.notification_id
             WHERE n.run_id = '$RUN' AND a.number = 2")
[[ -n "$second" ]] || fail "no second attempt"
(( second >= due )) ||
    fail "the resume sent attempt 2 $(( due - second )) ms before the Retry-After ran out"
assert_eq "$(inbox_count /fault/429/)" 2 "requests to the endpoint"
assert_eq "$(sq "SELECT state FROM notifications WHERE run_id = '$RUN'")" failed "after two attempts"

# On a rate-limited channel a 429 holds the whole channel: the message
# behind the one that got it waited with it, never attempted, when the
# runner died (at 1/s it could not have gone before the 429 came back).
# The resume holds it too, until the same due time, and the retry goes
# first, as it would have.
cat >"$TMP/chat.yaml" <<YAML
crisisrun: 1
name: retry-after-channel
channels:
  chat:
    type: webhook
    url: "\${env:INBOX_URL}/fault/429/$WAIT/webhook/chat"
    rate: 1/s
    retry: {attempts: 2, backoff: 100ms}
steps:
  - {id: first, at: 0s, notify: [chat], message: "first"}
  - {id: second, at: 0s, status: resolved, notify: [chat], message: "second"}
YAML
attempts() { # STEP: its notification's attempts so far
    sq "SELECT attempts FROM notifications WHERE run_id = '$RUN' AND step = '$1'"
}
start_crisisrun "$TMP/chat.out" run "$TMP/chat.yaml"
RUN=$(wait_run_id "$TMP/chat.out")
wait_for "[[ \$(attempts first) == 1 ]]" 10
kill9 "$BG_PID"
assert_eq "$(attempts second)" 0 "the second message, held by the first one's 429"
due=$(sq "SELECT due_ms FROM notifications WHERE run_id = '$RUN' AND step = 'first'")
start_crisisrun "$TMP/chat-resume.out" resume "$RUN" --quiet
wait_for "[[ \$(attempts second) -ge 1 ]]" $(( WAIT + 10 ))
kill9 "$BG_PID"
started() { # STEP NUMBER: when that attempt of STEP's notification started
    sq "SELECT a.started_ms FROM attempts a JOIN notifications n ON n.id = a.notification_id
        WHERE n.run_id = '$RUN' AND n.step = '$1' AND a.number = $2"
}
second=$(started second 1)
(( second >= due )) ||
    fail "the resume sent the held message $(( due - second )) ms before the channel's Retry-After ran out"
retry=$(started first 2)
[[ -n "$retry" ]] && (( retry <= second )) ||
    fail "the held message (at $second) went before the retry it waited for (at ${retry:-never})"
echo "ok test_resume_retry_after"
