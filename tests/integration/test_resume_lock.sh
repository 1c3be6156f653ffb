#!/usr/bin/env bash
# test_resume_lock.sh - two runners never drive one run: `resume` of a run
# whose runner is alive is refused; two `resume` of the same dead run
# started at once, exactly one proceeds and the other exits 1 with the
# lock message; a lock held by a live lease on another machine is refused
# until the lease runs out.  Also: the commands of a dead or interrupted
# run say so and suggest `resume`; SIGTERM marks the run interrupted;
# a resolved and settled run is not resumed.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

HOST=$(hostname)
start_inbox
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: lock
title: "Lock test"
channels:
  ops: {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
steps:
  - id: declare
    at: 0s
    notify: [ops]
    message: "declared"
  - id: later
    at: 1h
    notify: [ops]
    message: "an hour later"
  - id: all-clear
    on: resolved
    notify: [ops]
    message: "resolved"
YAML
cli() { # cli WANT_RC ARGS...: output in $TMP/o, $TMP/e
    local want=$1 rc=0
    shift
    crisisrun "$@" >"$TMP/o" 2>"$TMP/e" || rc=$?
    [[ $rc == "$want" ]] || { cat "$TMP/o" "$TMP/e" >&2; fail "'$*' exited $rc, expected $want"; }
}

start_crisisrun "$TMP/run.out" run "$TMP/pb.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/run.out")
wait_fired "$RUN" declare
assert_eq "$(sq "SELECT owner_pid || ' ' || owner_host FROM runs WHERE id = '$RUN'")" \
    "$PID $HOST" "the runner holds the lock"

# ---- a live runner cannot be resumed -------------------------------------------------
cli 1 resume "$RUN"
assert_contains "$TMP/e" "crisisrun: run $RUN is already driven by process $PID on this machine; two runners never drive one run"
assert_not_contains "$TMP/o" "$RUN"
kill -0 "$PID" || fail "the refused resume disturbed the runner"
cli 0 ack "$RUN"

# ---- the runner dies -----------------------------------------------------------------
kill9 "$PID"
assert_eq "$(sq 'PRAGMA integrity_check')" ok "integrity after SIGKILL"
cli 1 note "$RUN" "anyone there?"
assert_contains "$TMP/e" "crisisrun: the process of run $RUN is gone; continue the run with 'crisisrun resume $RUN'"

# A lock whose lease is still running on another machine is respected...
saved=$(sq "SELECT owner_host || '|' || lease_until_ms FROM runs WHERE id = '$RUN'")
sq "UPDATE runs SET owner_host = 'elsewhere', lease_until_ms = 99999999999999 WHERE id = '$RUN'"
cli 1 resume "$RUN"
assert_contains "$TMP/e" "crisisrun: run $RUN is already driven by process $PID on 'elsewhere'; two runners never drive one run"
sq "UPDATE runs SET owner_host = '${saved%|*}', lease_until_ms = ${saved#*|} WHERE id = '$RUN'"

# ---- two resumes at once --------------------------------------------------------------
start_crisisrun "$TMP/r1.out" resume "$RUN"
P1=$BG_PID
start_crisisrun "$TMP/r2.out" resume "$RUN"
P2=$BG_PID
wait_for "! kill -0 $P1 2>/dev/null || ! kill -0 $P2 2>/dev/null" 20
if kill -0 "$P1" 2>/dev/null; then
    WIN=$P1 LOSE=$P2 LOSE_OUT=$TMP/r2.out WIN_OUT=$TMP/r1.out
else
    WIN=$P2 LOSE=$P1 LOSE_OUT=$TMP/r1.out WIN_OUT=$TMP/r2.out
fi
wait_exit "$LOSE"
assert_eq "$EXIT_RC" 1 "the second resume's exit status"
assert_contains "$LOSE_OUT" "crisisrun: run $RUN is already driven by process $WIN on this machine; two runners never drive one run"
wait_run_id "$WIN_OUT" >/dev/null
kill -0 "$WIN" || fail "the winning resume stopped"
assert_eq "$(sq "SELECT owner_pid || ' ' || state FROM runs WHERE id = '$RUN'")" "$WIN running" \
    "the winner holds the lock"
assert_eq "$(sq "SELECT count(*) FROM events WHERE run_id = '$RUN' AND kind = 'resumed'")" 1 \
    "one resume is journaled"
wait_for "[[ -n \$(sq \"SELECT control_addr FROM runs WHERE id = '$RUN'\") ]]" 10
cli 0 status "$RUN" identified

# ---- SIGTERM: interrupted, resumable --------------------------------------------------
kill -TERM "$WIN"
wait_exit "$WIN"
assert_eq "$EXIT_RC" 1 "an interrupted run's exit status"
assert_contains "$WIN_OUT" "interrupted: continue with 'crisisrun resume $RUN'"
assert_eq "$(sq "SELECT state || ' ' || ifnull(owner_pid, '-') || ' ' || ifnull(control_addr, '-')
                 FROM runs WHERE id = '$RUN'")" "interrupted - -" "interrupted, lock released"
assert_eq "$(sq "SELECT json_extract(detail, '\$.signal') FROM events WHERE run_id = '$RUN'
                 AND kind = 'interrupted'")" SIGTERM "the interrupted event"
cli 1 ack "$RUN"
assert_contains "$TMP/e" "crisisrun: run $RUN was interrupted; continue it with 'crisisrun resume $RUN'"

start_crisisrun "$TMP/r3.out" resume "$RUN"
P3=$BG_PID
wait_run_id "$TMP/r3.out" >/dev/null
wait_for "[[ -n \$(sq \"SELECT control_addr FROM runs WHERE id = '$RUN'\") ]]" 10
assert_eq "$(sq "SELECT status FROM runs WHERE id = '$RUN'")" identified "the status survived"
cli 0 resolve "$RUN"
wait_exit "$P3"
assert_eq "$EXIT_RC" 0 "the resumed run's exit status"
assert_eq "$(fired "$RUN" declare) $(fired "$RUN" all-clear) $(fired "$RUN" later)" "1 1 0" \
    "steps fired once each; the resolution cancelled 'later'"
assert_eq "$(inbox_count /webhook/ops)" 2 "declare and all-clear, each sent once"

# ---- a resolved, settled run is over --------------------------------------------------
cli 1 resume "$RUN"
assert_contains "$TMP/e" "crisisrun: run $RUN is over: it is resolved and every notification has settled"
cli 1 resume nosuchrun
assert_contains "$TMP/e" "crisisrun: no run 'nosuchrun'"
cli 2 resume
cli 2 resume "$RUN" extra

# ---- a resolved run stopped in its feedback window ------------------------------------------
cat >"$TMP/fb.yaml" <<'YAML'
crisisrun: 1
name: feedback
title: "Resolved at once"
channels:
  ops: {type: webhook, url: "${env:INBOX_URL}/webhook/fb"}
steps:
  - id: declare
    at: 0s
    status: resolved
    notify: [ops]
    message: "resolved at once"
feedback:
  window: 1h
  request: {notify: [ops], message: "How did we do? {{feedback_url}}"}
  questions:
    - {id: informed, text: "How well were you kept informed?", scale: 5}
YAML
start_crisisrun "$TMP/fb.out" run "$TMP/fb.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/fb.out")
wait_for "[[ \$(inbox_count /webhook/fb) == 2 ]]" 10
kill -TERM "$PID"
wait_exit "$PID"
assert_eq "$EXIT_RC" 0 "a resolved run stopped by SIGTERM"
assert_eq "$(sq "SELECT state FROM runs WHERE id = '$RUN'")" resolved "it stays resolved"
assert_eq "$(sq "SELECT count(*) FROM events WHERE run_id = '$RUN' AND kind = 'feedback_closed'")" \
    0 "the feedback window is still open"
start_crisisrun "$TMP/fb2.out" resume "$RUN"
PID=$BG_PID
wait_run_id "$TMP/fb2.out" >/dev/null
wait_for "[[ -n \$(sq \"SELECT control_addr FROM runs WHERE id = '$RUN'\") ]]" 10
cli 0 ack "$RUN" # answered from inside the loop: its first turn is done
assert_eq "$(fired "$RUN" feedback.request)" 1 "the feedback request is not sent again"
assert_eq "$(sq "SELECT count(*) FROM events WHERE run_id = '$RUN' AND kind = 'feedback_requested'")" \
    1 "one feedback_requested event"
kill -TERM "$PID"
wait_exit "$PID"
assert_eq "$EXIT_RC" 0 "the resumed resolved run stopped by SIGTERM"
assert_eq "$(inbox_count /webhook/fb)" 2 "nothing re-sent"

echo "ok test_resume_lock"
