#!/usr/bin/env bash
# test_control_ack_deadline.sh - an acknowledgement and an ack deadline that
# meet: an `ack RUN STEP` (or `ack RUN`) that reached the run's process
# before the deadline wins over the escalation even when the process takes
# it in only after the deadline has passed; one that comes after the
# escalation fired finds the step escalated, and the escalation stands.
#
# The process is stopped (SIGSTOP) across the deadline with the request
# waiting in its socket: when it continues, the deadline and the request
# are both due in the same turn of its loop.  The request is sent raw (the
# CLI sends nothing to a stopped process), and the time its last byte was
# sent is checked to be before the journaled deadline, so the case does not
# depend on how fast anything runs.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

ME=$(id -un)
WITHIN=$(( 2 * CR_SLOW ))
CLOSE=$(( 2 * WITHIN ))
start_inbox

# The channels' paths name the wait, so that a case started again with a
# longer one (ack_across_the_deadline) counts only its own requests.
write_playbook() { # NAME
    cat >"$TMP/$1.yaml" <<YAML
crisisrun: 1
name: $1
title: "An acknowledgement at the deadline"
channels:
  oncall:  {type: webhook, url: "\${env:INBOX_URL}/webhook/$1-$WITHIN-oncall"}
  leaders: {type: webhook, url: "\${env:INBOX_URL}/webhook/$1-$WITHIN-leaders"}
steps:
  - id: page
    at: 0s
    notify: [oncall]
    message: "page the database on-call"
    ack: {within: ${WITHIN}s, escalate: esc}
  - id: esc
    on: escalation
    notify: [leaders]
    message: "{{trigger.step}} not acknowledged after {{trigger.waited}}"
  - id: close
    at: ${CLOSE}s
    status: resolved
    notify: [oncall]
    message: "closed"
YAML
}

# Posts BODY to the run's ack endpoint as "tester", raw: prints the wall
# time (ms) at which the request was sent in full, then waits for the
# answer and writes its status line and body to OUT.
raw_ack() { # URL TOKEN BODY OUT
    python3 -c '
import socket, sys, time, urllib.parse
url, token, body, out = sys.argv[1:5]
u = urllib.parse.urlsplit(url)
req = ("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
       "Content-Type: application/json\r\nContent-Length: %d\r\n"
       "Connection: close\r\n\r\n%s" % (u.path, u.netloc, token, len(body), body))
s = socket.create_connection((u.hostname, u.port))
s.sendall(req.encode())
print(int(time.time() * 1000), flush=True)
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
head, _, resp = data.decode().partition("\r\n\r\n")
open(out, "w").write(head.split("\r\n")[0] + "\n" + resp + "\n")
' "$@"
}

# Starts playbook NAME, stops its process once the page waits, sends BODY
# to its ack endpoint, lets the deadline pass, continues the process and
# waits for the run to end.  Sets RUN; the answer is in $TMP/NAME.answer.
# When setting up took longer than the wait (a slow machine), the attempt
# is dropped unanswered and the case starts again with twice the wait.
ack_across_the_deadline() { # NAME BODY
    local name=$1 body=$2 tries=0
    until try_across_the_deadline "$name" "$body"; do
        (( ++tries < 3 )) || fail "$name: setting up took longer than a ${WITHIN} s wait three times"
        WITHIN=$(( 2 * WITHIN ))
        CLOSE=$(( 2 * WITHIN ))
    done
}

# One attempt of ack_across_the_deadline; returns 1 (having killed the
# run, before its escalation could fire) when the request could not be
# sent before the deadline.
try_across_the_deadline() { # NAME BODY
    local name=$1 body=$2 pid addr token sent deadline client
    write_playbook "$name"
    start_crisisrun "$TMP/$name.out" run --drill "$TMP/$name.yaml"
    pid=$BG_PID
    RUN=$(wait_run_id "$TMP/$name.out")
    wait_fired "$RUN" page
    wait_for "[[ -n \$(sq \"SELECT control_addr FROM runs WHERE id = '$RUN'\") ]]" 10
    addr=$(sq "SELECT control_addr FROM runs WHERE id = '$RUN'")
    token=$(cat "$TMP/state/run-$RUN.token")
    deadline=$(sq "SELECT deadline_ms FROM ack_waits WHERE run_id = '$RUN' AND step = 'page'")
    [[ -n $deadline ]] || fail "$name: the page's wait is not journaled"
    # The page delivered and the loop asleep, waiting for the deadline:
    # stopped in the middle of a turn, between serving requests and firing
    # what is due, the process would fire the escalation first on waking.
    wait_for "[[ \$(sq \"SELECT state FROM notifications WHERE run_id = '$RUN'
                           AND step = 'page'\") == delivered ]]" 10
    wait_for "[[ \$(awk '{print \$3}' /proc/$pid/task/$pid/stat) == S ]]" 10

    kill -STOP "$pid"
    raw_ack "$addr/api/runs/$RUN/ack" "$token" "$body" "$TMP/$name.answer" \
        >"$TMP/$name.sent" &
    client=$!
    wait_for "[[ -s '$TMP/$name.sent' ]]" 10
    sent=$(cat "$TMP/$name.sent")
    if (( sent >= deadline )); then
        kill9 "$pid"
        wait "$client" 2>/dev/null || true
        rm -f "$TMP/$name.sent" "$TMP/$name.answer"
        return 1
    fi
    # Past the deadline, with the request still waiting in the socket.
    wait_for "python3 -c 'import sys, time; sys.exit(time.time() * 1000 <= $deadline + 500)'" \
        $(( 2 * WITHIN ))
    kill -0 "$client" 2>/dev/null || fail "$name: a stopped process answered"
    kill -CONT "$pid"
    wait "$client" || fail "$name: the raw client failed"
    wait_exit "$pid" $(( 4 * CLOSE ))
    [[ $EXIT_RC == 0 ]] || { cat "$TMP/$name.out"; fail "$name: the run exited $EXIT_RC"; }
}

# ---- ack RUN STEP waiting in the socket when the deadline passes ---------------------
ack_across_the_deadline step '{"step": "page", "actor": "tester"}'
assert_contains "$TMP/step.answer" "HTTP/1.1 200"
assert_contains "$TMP/step.answer" "step 'page' acknowledged"
assert_eq "$(fired "$RUN" esc)" 0 "no escalation: the ack had reached the process in time"
assert_eq "$(sq "SELECT acknowledged_by, escalated_ms IS NULL FROM ack_waits
                 WHERE run_id = '$RUN' AND step = 'page'")" "tester|1" \
    "the wait is acknowledged, not escalated"
assert_eq "$(sq "SELECT count(*) FROM events WHERE run_id = '$RUN' AND kind = 'escalated'")" 0 \
    "no escalated event"
assert_eq "$(inbox_count "/webhook/step-$WITHIN-leaders")" 0 "the leaders were not paged"

# ---- ack RUN waiting in the socket when the deadline passes --------------------------
ack_across_the_deadline run '{"actor": "tester"}'
assert_contains "$TMP/run.answer" "HTTP/1.1 200"
assert_contains "$TMP/run.answer" "run acknowledged"
assert_eq "$(fired "$RUN" esc)" 0 "no escalation: the run's ack had reached the process in time"
assert_eq "$(sq "SELECT w.acknowledged_ms = r.acknowledged_ms, w.acknowledged_by,
                        w.escalated_ms IS NULL
                 FROM ack_waits w JOIN runs r ON r.id = w.run_id
                 WHERE w.run_id = '$RUN' AND w.step = 'page'")" "1|tester|1" \
    "the run's ack answered the page"
assert_eq "$(inbox_count "/webhook/run-$WITHIN-leaders")" 0 "the leaders were not paged"

# ---- an ack after the escalation: the escalation stands ------------------------------
write_playbook late
start_crisisrun "$TMP/late.out" run --drill "$TMP/late.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/late.out")
wait_fired "$RUN" esc 1 $(( 4 * WITHIN ))
rc=0; crisisrun ack "$RUN" page >"$TMP/o" 2>"$TMP/e" || rc=$?
assert_eq "$rc" 1 "ack RUN STEP after the escalation"
assert_contains "$TMP/e" \
    "step 'page' is not waiting for acknowledgement: nobody acknowledged it within ${WITHIN}s, so 'esc' went out"
crisisrun ack "$RUN" >"$TMP/o" || fail "ack RUN after the escalation failed"
assert_contains "$TMP/o" "$RUN: run acknowledged"
crisisrun resolve "$RUN" >"$TMP/o" || fail "resolve RUN failed"
wait_exit "$PID" $(( 4 * CLOSE ))
[[ $EXIT_RC == 0 ]] || { cat "$TMP/late.out"; fail "the late run exited $EXIT_RC"; }
assert_eq "$(fired "$RUN" esc)" 1 "the escalation fired once"
assert_eq "$(sq "SELECT acknowledged_ms IS NULL, escalated_ms IS NOT NULL FROM ack_waits
                 WHERE run_id = '$RUN' AND step = 'page'")" "1|1" \
    "the late acknowledgements leave the wait escalated"
assert_eq "$(sq "SELECT acknowledged_by FROM runs WHERE id = '$RUN'")" "$ME" \
    "the run's own acknowledgement is journaled"
assert_eq "$(inbox_count "/webhook/late-$WITHIN-leaders")" 1 "the leaders were paged once"

echo "ok test_control_ack_deadline"
