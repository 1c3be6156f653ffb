#!/usr/bin/env bash
# test_run_stop_pending.sh - a resolved run stopped by a signal before its
# last notification went out (held by the channel's rate limit) does not
# report success: its last line counts what was not sent and names the
# resume that sends it, and it exits 1.  The resume then delivers it.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

start_inbox
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: stop-pending
channels:
  oncall: {type: slack, url: "${env:INBOX_URL}/slack/oncall", rate: 1/m}
steps:
  - id: one
    at: 0s
    notify: [oncall]
    message: "First update."
  - id: two
    at: 0s
    notify: [oncall]
    message: "Second update, held a minute by the channel's rate."
YAML

start_crisisrun "$TMP/run.out" run "$TMP/pb.yaml"
RUN=$(wait_run_id "$TMP/run.out")
PID=$BG_PID
wait_for "[[ \$(inbox_count /slack/oncall) == 1 ]]" 10
crisisrun resolve "$RUN" >"$TMP/resolve.out" 2>&1 || { cat "$TMP/resolve.out" >&2; fail "resolve"; }
assert_eq "$(sq "SELECT state FROM runs WHERE id = '$RUN'")" resolved "resolved before the signal"
kill -TERM "$PID"
wait_exit "$PID"
assert_eq "$EXIT_RC" 1 "a run stopped with a notification not sent exits 1"
assert_contains "$TMP/run.out" \
    "resolved $RUN: 1 delivered, 0 failed, 0 disabled, 1 not sent yet: continue with 'crisisrun resume $RUN'"
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN' AND state = 'pending'")" 1 \
    "the held notification is journaled, pending"

# The resume the line names sends it (the rate limit starts afresh).
crisisrun resume "$RUN" >"$TMP/resume.out" 2>&1 || { cat "$TMP/resume.out" >&2; fail "resume"; }
assert_eq "$(inbox_count /slack/oncall)" 2 "the resume delivered the held notification"
assert_contains "$TMP/resume.out" "resolved $RUN: 2 delivered, 0 failed, 0 disabled"
echo ok
