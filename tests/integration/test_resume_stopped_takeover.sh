#!/usr/bin/env bash
# test_resume_stopped_takeover.sh - a runner stopped (SIGSTOP, Ctrl-Z) for
# longer than its lease is taken over by `resume`; continued, it must find
# that another process holds the run before it fires what came due
# meanwhile: the resume fires it, and the step is fired (and sent) once.
# (The stop past the 30 s lease is shortened by expiring the lease in the
# journal; the runner is kept stopped past its 10 s heartbeat.)
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: takeover
title: "A stopped runner taken over"
channels:
  oncall: {type: webhook, url: "http://127.0.0.1:9/webhook/oncall"}
steps:
  - id: page
    at: 0s
    notify: [oncall]
    message: "paged"
    ack: {within: 1h, escalate: escalate}
  - id: later
    at: 12s
    notify: [oncall]
    message: "later"
  - id: escalate
    on: escalation
    notify: [oncall]
    message: "nobody answered"
YAML
mkdir -p "$TMP/cap"
start_crisisrun "$TMP/run.out" run --capture "$TMP/cap" --quiet "$TMP/pb.yaml"
A=$BG_PID
RUN=$(wait_run_id "$TMP/run.out" 30)
wait_fired "$RUN" page 1 30
kill -STOP "$A"
sq "UPDATE runs SET lease_until_ms = 1000 WHERE id = '$RUN'"
start_crisisrun "$TMP/resume.out" resume --capture "$TMP/cap" --quiet "$RUN"
wait_fired "$RUN" later 1 30
kill -CONT "$A"
wait_exit "$A" 30
assert_eq "$EXIT_RC" 1 "the continued runner, taken over: $(cat "$TMP/run.out")"
assert_contains "$TMP/run.out" "another process took over the run"
assert_eq "$(fired "$RUN" later)" 1 "step 'later' fired (the resume's, not again by the continued runner)"
echo "ok test_resume_stopped_takeover"
