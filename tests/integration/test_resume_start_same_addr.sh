#!/usr/bin/env bash
# test_resume_start_same_addr.sh - as test_resume_start.sh, but the run and
# its resume both serve a fixed --listen address (an operator whose reverse
# proxy or firewall names one port).  The resume then publishes the same
# address as the killed process, with a new token: `ack` waiting for it
# must see that, not wait for an address that never changes and call the
# run gone.
#
# The resume is held between its claim and its publication with SIGSTOP:
# its playbook loads 1,000,000 endpoints.  Held or not, it binds the port
# only once it is let go.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

start_inbox
seq 1 100000 | sed "s|^|$INBOX_URL/webhook/sub-|" >"$TMP/subscribers.txt"
{
    cat <<'YAML'
crisisrun: 1
name: slow-start
title: "A run with many subscribers"
channels:
  ops: {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
YAML
    for i in $(seq 1 10); do
        echo "  subs$i: {type: webhook, urls_file: subscribers.txt}"
    done
    cat <<'YAML'
steps:
  - id: page
    at: 0s
    notify: [ops]
    message: "paged"
    ack: {within: 1h, escalate: escalate}
  - id: escalate
    on: escalation
    notify: [ops]
    message: "nobody answered"
YAML
} >"$TMP/pb.yaml"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

caught=0
for try in 1 2 3 4 5; do
    LISTEN=127.0.0.1:$(free_port)
    start_crisisrun "$TMP/run.$try.out" run --listen "$LISTEN" "$TMP/pb.yaml"
    PID=$BG_PID
    RUN=$(wait_run_id "$TMP/run.$try.out" 30)
    wait_fired "$RUN" page 1 30
    wait_for "[[ -n \$(sq \"SELECT control_addr FROM runs WHERE id = '$RUN'\") ]]" 30
    old=$(sq "SELECT control_token FROM runs WHERE id = '$RUN'")
    kill9 "$PID"
    start_crisisrun "$TMP/resume.$try.out" resume --listen "$LISTEN" "$RUN"
    RPID=$BG_PID
    # Stop the resume once it owns the run, if it has not published yet.
    got=$(python3 - "$DB" "$RUN" "$RPID" "$old" <<'PY'
import os, signal, sqlite3, sys, time
db, run, pid, old = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
end = time.time() + 30
while time.time() < end:
    owner, token = c.execute("SELECT owner_pid, control_token FROM runs WHERE id = ?",
                             (run,)).fetchone()
    if token != old:
        print("missed")
        break
    if owner == pid:
        os.kill(pid, signal.SIGSTOP)
        token = c.execute("SELECT control_token FROM runs WHERE id = ?", (run,)).fetchone()[0]
        print("stopped" if token == old else "missed")
        break
    time.sleep(0.001)
else:
    print("timeout")
PY
    )
    if [[ $got == stopped ]]; then
        caught=1
        break
    fi
    [[ $got == missed ]] || fail "waiting for the resume to claim the run: $got"
    kill -TERM "$RPID"
    wait_exit "$RPID" 30
done
(( caught )) || fail "the resume served the run before it could be stopped, in $try tries"

start_crisisrun "$TMP/ack.out" ack "$RUN" page
APID=$BG_PID
sleep 1
kill -0 "$APID" 2>/dev/null || fail "ack did not wait for the resume: $(cat "$TMP/ack.out")"
kill -CONT "$RPID"
wait_exit "$APID" 30
assert_eq "$EXIT_RC" 0 "ack while the resume was starting on the same address: $(cat "$TMP/ack.out")"
assert_contains "$TMP/ack.out" "$RUN: step 'page' acknowledged"
assert_eq "$(sq "SELECT control_addr FROM runs WHERE id = '$RUN'")" "http://$LISTEN" \
    "the resume serves the same address"
kill -TERM "$RPID"
wait_exit "$RPID" 30
echo "ok test_resume_start_same_addr"
