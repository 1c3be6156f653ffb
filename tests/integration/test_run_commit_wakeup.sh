#!/usr/bin/env bash
# test_run_commit_wakeup.sh - a step's notifications go out as soon as the
# batch journaling them has committed, also when the runner lock's
# heartbeat (every 10 s) waited for that commit first.  The step here falls
# due with the heartbeat, while another request hangs: the loop then had
# nothing else to wake it, and the notification waited for the next
# heartbeat, 10 s late.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

start_inbox
cat >"$TMP/wakeup.yaml" <<EOF
crisisrun: 1
name: wakeup
channels:
  stuck: {type: webhook, url: "$INBOX_URL/fault/hang/webhook/stuck", timeout: 60s, retry: {attempts: 1}}
  status-page: {type: webhook, url: "$INBOX_URL/webhook/status-page"}
steps:
  - {id: declare, at: 0s, notify: [stuck], message: "Declared"}
  - {id: update, at: 10s, notify: [status-page], message: "Still on it"}
  - {id: resolve, at: 2m, status: resolved, message: "Resolved"}
EOF

start_run wakeup --quiet "$TMP/wakeup.yaml"
late() {
    sql "SELECT a.started_ms - r.started_ms - 10000 FROM attempts a
         JOIN notifications n ON n.id = a.notification_id JOIN runs r ON r.id = n.run_id
         WHERE n.run_id = '$RUN_ID' AND n.step = 'update'"
}
wait_for "[[ -n \"\$(late)\" ]]" 16
lateness=$(late)
(( lateness < 1500 )) || fail "the update went out ${lateness} ms after it fell due"
kill -TERM "$RUN_PID"
wait_run "$RUN_PID"
assert_eq "$(inbox_count /webhook/status-page)" 1 "updates received"
echo "ok: the update went out ${lateness} ms after it fell due, with the heartbeat"
