#!/usr/bin/env bash
# test_resume_start.sh - an operator's command while a resume is starting.
# A resume claims the run before its control server is up; until then the
# journal keeps the address and token of the killed process, where nobody
# answers.  `ack` then waits for the resume to serve the run, and is
# answered by it, instead of calling the run gone and telling the
# operator to resume it.  Twice: with an address of the system's choosing,
# which the resume changes, and with one fixed --listen for the run and
# its resume (an operator whose reverse proxy or firewall names one port),
# where only the token changes.
#
# The resume is held in that window with SIGSTOP: its playbook loads
# 1,000,000 endpoints (tenths of a second), and the test stops it once it
# has claimed the run and before it publishes its token.  Built with
# ThreadSanitizer, which checks every byte read, loading them takes 10 s
# and more, as long as `ack` waits for an answer: there it loads 100,000,
# about a second, still a window wide enough to stop the resume in.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

start_inbox
SUBS=100000
[[ ${CRISISRUN_TSAN:-0} != 1 ]] || SUBS=10000
seq 1 "$SUBS" | sed "s|^|$INBOX_URL/webhook/sub-|" >"$TMP/subscribers.txt"
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
  - id: later
    at: 2h
    notify: [subs1]
    message: "not reached in this test"
YAML
} >"$TMP/pb.yaml"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# resume_starting NAME [--listen ADDR]: runs, kills, resumes with the same
# options, acks while the resume is held after its claim.
resume_starting() {
    local name=$1 caught=0 try got old PID RPID APID
    shift
    for try in 1 2 3 4 5; do
        start_crisisrun "$TMP/$name.run.$try.out" run "$@" "$TMP/pb.yaml"
        PID=$BG_PID
        RUN=$(wait_run_id "$TMP/$name.run.$try.out" 30)
        wait_fired "$RUN" page 1 30
        wait_for "[[ -n \$(sq \"SELECT control_addr FROM runs WHERE id = '$RUN'\") ]]" 30
        OLD_ADDR=$(sq "SELECT control_addr FROM runs WHERE id = '$RUN'")
        old=$(sq "SELECT control_token FROM runs WHERE id = '$RUN'")
        kill9 "$PID"
        start_crisisrun "$TMP/$name.resume.$try.out" resume "$@" "$RUN"
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
        [[ $got == missed ]] || fail "$name: waiting for the resume to claim the run: $got"
        kill -TERM "$RPID"
        wait_exit "$RPID" 30
    done
    (( caught )) || fail "$name: the resume served the run before it could be stopped, in $try tries"

    # The ack starts while the resume is stopped, and waits for it to be
    # continued (test_control_stuck.sh); it is let go a second later.
    start_crisisrun "$TMP/$name.ack.out" ack "$RUN" page
    APID=$BG_PID
    sleep 1
    kill -0 "$APID" 2>/dev/null || fail "$name: ack did not wait for the resume: $(cat "$TMP/$name.ack.out")"
    kill -CONT "$RPID"
    wait_exit "$APID" 30
    assert_eq "$EXIT_RC" 0 "$name: ack while the resume was starting: $(cat "$TMP/$name.ack.out")"
    assert_contains "$TMP/$name.ack.out" \
        "crisisrun: run $RUN does not answer yet; waiting for process $RPID to serve it"
    assert_contains "$TMP/$name.ack.out" "$RUN: step 'page' acknowledged"
    assert_eq "$(sq "SELECT count(*) FROM events WHERE run_id = '$RUN' AND kind = 'acknowledged'
                     AND step = 'page'")" 1 "$name: the resume journaled the acknowledgement"
    NEW_ADDR=$(sq "SELECT control_addr FROM runs WHERE id = '$RUN'")
    kill -TERM "$RPID"
    wait_exit "$RPID" 30
}

resume_starting new-address
[[ $NEW_ADDR != "$OLD_ADDR" ]] || fail "new-address: the resume published the old address"
LISTEN=127.0.0.1:$(free_port)
resume_starting same-address --listen "$LISTEN"
assert_eq "$NEW_ADDR" "http://$LISTEN" "same-address: the resume serves the same address"
echo "ok test_resume_start"
