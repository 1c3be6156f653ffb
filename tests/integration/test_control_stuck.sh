#!/usr/bin/env bash
# test_control_stuck.sh - an operator's command to a run whose process is
# alive on this machine but does not answer.  Such a run is not gone, and
# `resume` refuses it while its process lives, so telling the operator to
# resume it sends them in a circle.  Two cases:
#  1. the runner stopped by Ctrl-Z (SIGTSTP, which it announces in its
#     terminal) or SIGSTOP: `ack` waits for it to be continued, then says
#     it is stopped, names SIGCONT and sends nothing; `resume` says the
#     same; continued while `ack` waits, it goes through;
#  2. the run's owner a live process that takes the connection and never
#     answers (a stuck runner): `ack` says so, that the request may still
#     be carried out, and how to free the run;
#  3. a runner started with SIGTSTP ignored keeps ignoring it.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

# The runner in a process group of its own, whose parent (this shell) is
# in another group of the same session: the kernel discards SIGTSTP's stop
# for a process group without such a parent (an orphaned one, as a CI
# job's may be), as it would for any program.  perl's setpgrp makes the
# group, not bash's job control (set -m), with which bash 5.2 has been
# seen to exit on a failed look of wait_for that raced the runner's stop.
own_group() {
    local saved=("${CR_CMD[@]}")
    CR_CMD=(perl -e 'setpgrp(0, 0); exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n"'
            "${saved[@]}")
    "$@"
    CR_CMD=("${saved[@]}")
}
own_group start_paged_run "$TMP/run.out"
[[ $(ps -o pgid= -p "$PID") -eq $PID ]] || fail "the runner is not in a process group of its own"

wait_stopped() {
    wait_for "[[ \$(awk '{print \$3}' /proc/$1/stat) == T ]]" 10
}

# 1. Stopped.  A request to it would wait in its socket and be carried
# out whenever it is continued, after `ack` had said it failed: nothing
# is sent, and the message says so.  First by the terminal's Ctrl-Z
# (SIGTSTP), which the runner announces in its terminal before it stops.
kill -TSTP "$PID"
wait_stopped "$PID"
assert_contains "$TMP/run.out" "crisisrun: suspended: the run sends nothing and answers no command until it is continued ('fg', or 'kill -CONT $PID')"
rc=0
crisisrun ack "$RUN" page >"$TMP/o" 2>"$TMP/e" || rc=$?
assert_eq "$rc" 1 "ack to a stopped runner"
assert_contains "$TMP/e" "crisisrun: run $RUN: its process $PID is stopped (Ctrl-Z or SIGSTOP); waiting for it to continue ('kill -CONT $PID', or 'fg' in its terminal)"
assert_contains "$TMP/e" "crisisrun: run $RUN does not answer: its process $PID is stopped (Ctrl-Z or SIGSTOP); nothing was sent; continue it with 'kill -CONT $PID', or 'fg' in its terminal"
assert_not_contains "$TMP/e" "gone"
rc=0
crisisrun resume "$RUN" >"$TMP/o" 2>"$TMP/e" || rc=$?
assert_eq "$rc" 1 "resume of a run whose runner is stopped"
assert_contains "$TMP/e" "crisisrun: run $RUN is already driven by process $PID on this machine, which is stopped (Ctrl-Z or SIGSTOP); continue it with 'kill -CONT $PID'"
# Stopped for longer than its lease: still nothing sent, for it still has
# its socket and would carry the request out once continued.
sq "UPDATE runs SET lease_until_ms = 1000 WHERE id = '$RUN'"
rc=0
crisisrun ack "$RUN" page >"$TMP/o" 2>"$TMP/e" || rc=$?
assert_eq "$rc" 1 "ack to a runner stopped past its lease"
assert_contains "$TMP/e" "crisisrun: run $RUN does not answer: its process $PID is stopped (Ctrl-Z or SIGSTOP); nothing was sent"
kill -CONT "$PID"
wait_for "grep -q 'crisisrun: continued: what came due meanwhile goes out now' '$TMP/run.out'" 10
crisisrun status "$RUN" identified >"$TMP/o" 2>"$TMP/e" || fail "status after SIGCONT: $(cat "$TMP/e")"
assert_eq "$(sq "SELECT count(*) FROM events WHERE run_id = '$RUN' AND kind = 'acknowledged'")" 0 \
    "acknowledgements journaled: the one refused while stopped must not come later"

# Continued while the command waits: it goes through.
kill -STOP "$PID"
start_crisisrun "$TMP/ack.out" ack "$RUN" page
APID=$BG_PID
wait_for "grep -q 'waiting for it to continue' '$TMP/ack.out'" 10
kill -CONT "$PID"
wait_exit "$APID" 30
assert_eq "$EXIT_RC" 0 "ack continued while waiting: $(cat "$TMP/ack.out")"
assert_contains "$TMP/ack.out" "$RUN: step 'page' acknowledged"
assert_eq "$(sq "SELECT count(*) FROM events WHERE run_id = '$RUN' AND kind = 'acknowledged'")" 1 \
    "acknowledgements journaled"
kill9 "$PID"

# 2. Stuck: the journal names as owner, with a current lease, a live
# process listening at the run's address that never answers.
python3 - "$TMP/port" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
EOF
STUCK=$!
_CR_PIDS+=("$STUCK")
wait_for "[[ -s '$TMP/port' ]]" 10
sq "UPDATE runs SET owner_pid = $STUCK, lease_until_ms = 1000 * (unixepoch() + 3600),
    control_addr = 'http://127.0.0.1:$(cat "$TMP/port")' WHERE id = '$RUN'"
rc=0
crisisrun ack "$RUN" page >"$TMP/o" 2>"$TMP/e" || rc=$?
assert_eq "$rc" 1 "ack to a stuck runner"
assert_contains "$TMP/e" "crisisrun: run $RUN does not answer: its process $STUCK holds the run but did not answer within 10 s; it has the request and may still carry it out: look with 'crisisrun show $RUN' before trying again; if it stays so, stop it with 'kill $STUCK' and continue the run with 'crisisrun resume $RUN'"
assert_not_contains "$TMP/e" "gone"
assert_not_contains "$TMP/e" "is stopped"
# The connection was taken and held: the owner, which will not move to
# another address; waiting for one would only double the wait.
assert_not_contains "$TMP/e" "waiting for process"

# 3. A runner started with SIGTSTP ignored (a supervisor that keeps its
# children running) leaves it ignored: not stopped, nothing printed, and
# it answers at once.
trap '' TSTP
own_group start_paged_run "$TMP/run3.out"
trap - TSTP
kill -TSTP "$PID"
crisisrun ack "$RUN" page >"$TMP/o" 2>"$TMP/e" || fail "ack to a runner that ignores SIGTSTP: $(cat "$TMP/e")"
assert_not_contains "$TMP/e" "stopped"
assert_not_contains "$TMP/run3.out" "suspended"
echo "ok test_control_stuck"
