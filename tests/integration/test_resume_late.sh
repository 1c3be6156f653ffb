#!/usr/bin/env bash
# test_resume_late.sh - what `resume` does with time that passed while no
# runner drove the run (a drill at --speed, stopped with SIGTERM):
# a one-shot step that came due is sent once, marked late, at its original
# time; a recurring step that missed several slots sends one update
# (skipped > 0), with the status and note set before the stop; an
# acknowledgement deadline that passed escalates at its original time; the
# run's clock after resume is (wall now - started) * speed; the drill
# stays a drill; nothing delivered before the stop is sent again.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

SPEED=$(( 60 / CR_SLOW ))
start_inbox
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: late
title: "Late steps"
channels:
  ops:       {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
  leaders:   {type: webhook, url: "${env:INBOX_URL}/webhook/leaders"}
  customers: {type: webhook, url: "${env:INBOX_URL}/webhook/customers"}
steps:
  - id: declare
    at: 0s
    notify: [ops]
    message: "declared"
  - id: page
    at: 1m
    notify: [ops]
    message: "page the on-call"
    ack: {within: 3m, escalate: esc}
  - id: esc
    on: escalation
    notify: [leaders]
    message: "{{trigger.step}} not acknowledged after {{trigger.waited}}"
  - id: update
    every: 1m
    from: 30s
    until: resolved
    notify: [customers]
    message: "Status: {{status}}. {{latest_note}}"
  - id: late-one
    at: 3m
    notify: [ops]
    message: "three minutes in"
  - id: after-resume
    at: 9m
    notify: [ops]
    message: "nine minutes in"
YAML
cli() { # cli WANT_RC ARGS...: output in $TMP/o, $TMP/e
    local want=$1 rc=0
    shift
    crisisrun "$@" >"$TMP/o" 2>"$TMP/e" || rc=$?
    [[ $rc == "$want" ]] || { cat "$TMP/o" "$TMP/e" >&2; fail "'$*' exited $rc, expected $want"; }
}

start_crisisrun "$TMP/run.out" run --drill --speed "$SPEED" "$TMP/pb.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/run.out")
wait_fired "$RUN" page
cli 0 status "$RUN" identified --note "the cause is found"
# An action item, replayed by resume, must not become {{latest_note}} either.
cli 0 note "$RUN" "write the post-mortem" --action
kill -TERM "$PID"
wait_exit "$PID"
assert_eq "$EXIT_RC" 1 "exit status of an interrupted run"
assert_eq "$(sq "SELECT state FROM runs WHERE id = '$RUN'")" interrupted "state after SIGTERM"
assert_eq "$(fired "$RUN" late-one)" 0 "stopped before late-one was due (+3m)"
sq "SELECT id FROM notifications WHERE run_id = '$RUN' AND state IN ('pending', 'inflight')" \
    >"$TMP/unsettled"
updates_before=$(fired "$RUN" update)

# Down until late-one (+3m) and page's deadline (+4m) have passed and
# update has missed at least two slots.
wait_clock "$RUN" 330000 30
before=$(run_clock "$RUN")
start_crisisrun "$TMP/resume.out" resume "$RUN"
P2=$BG_PID
wait_run_id "$TMP/resume.out" >/dev/null
wait_fired "$RUN" late-one
after=$(run_clock "$RUN")

# The run's clock: the resumed event is journaled at (wall - started) * speed.
# (The detail has the offset the clock was set to, the event's time is a
# moment later: at 60x a millisecond is 60 ms of the drill.)
resumed_at=$(sq "SELECT json_extract(detail, '\$.offset_ms') FROM events WHERE run_id = '$RUN'
                 AND kind = 'resumed'")
resumed_ev=$(sq "SELECT at_ms - (SELECT started_ms FROM runs WHERE id = '$RUN') FROM events
                 WHERE run_id = '$RUN' AND kind = 'resumed'")
(( before <= resumed_at && resumed_at <= resumed_ev && resumed_ev <= after )) ||
    fail "resumed at offset $resumed_at (event at $resumed_ev), outside [$before, $after]"

# One-shot step: once, late, at its original time.
assert_eq "$(fired "$RUN" late-one)" 1 "late-one fires once"
assert_eq "$(step_detail "$RUN" late-one 1 late)" 1 "late-one is marked late"
assert_eq "$(step_detail "$RUN" late-one 1 scheduled_offset_ms)" 180000 "late-one's time"
(( $(step_detail "$RUN" late-one 1 actual_offset_ms) >= resumed_at )) ||
    fail "late-one fired before the resume"

# The missed acknowledgement deadline escalates at its original time.
wait_fired "$RUN" esc
assert_eq "$(fired "$RUN" esc)" 1 "esc fires once"
assert_eq "$(step_detail "$RUN" esc 1 late)" 1 "esc is marked late"
assert_eq "$(step_detail "$RUN" esc 1 scheduled_offset_ms)" \
    $(( $(step_detail "$RUN" page 1 actual_offset_ms) + 180000 )) "esc at page + 3m, as journaled"
assert_eq "$(sq "SELECT deadline_ms - (SELECT started_ms FROM runs WHERE id = '$RUN')
                 FROM ack_waits WHERE run_id = '$RUN' AND step = 'page'")" \
    "$(step_detail "$RUN" esc 1 scheduled_offset_ms)" "the journaled deadline is the one kept"

# The recurring step: one update for the missed slots, not a burst.
wait_for "(( \$(fired $RUN update) > $updates_before ))" 10
sq "SELECT occurrence, json_extract(detail, '\$.late'), json_extract(detail, '\$.skipped')
    FROM events WHERE run_id = '$RUN' AND kind = 'step_fired' AND step = 'update'
    AND occurrence > (SELECT max(occurrence) FROM events WHERE run_id = '$RUN'
                      AND kind = 'step_fired' AND step = 'update' AND at_ms <
                      (SELECT at_ms FROM events WHERE run_id = '$RUN' AND kind = 'resumed'))
    ORDER BY occurrence LIMIT 1" >"$TMP/catchup"
IFS='|' read -r occ late skipped <"$TMP/catchup"
assert_eq "$late" 1 "the catch-up update is late"
(( skipped >= 2 )) || fail "the catch-up update skipped $skipped slots, expected >= 2"
assert_eq "$(sq "SELECT count(*) FROM events WHERE run_id = '$RUN' AND kind = 'step_fired'
                 AND step = 'update' AND json_extract(detail, '\$.late')")" 1 \
    "exactly one late update"
id=$(sq "SELECT id FROM notifications WHERE run_id = '$RUN' AND step = 'update'
         AND occurrence = $occ")
wait_for "inbox_requests | grep -q $id" 10
assert_eq "$(inbox_requests | json_query "[json.loads(r['body'])['message'] for r in d
                                           if r['headers'].get('webhook-id') == '$id'][0]")" \
    "[DRILL] Status: identified. the cause is found" \
    "the catch-up update has the status and note from before the stop"

# The run goes on, on time, as a drill.
wait_fired "$RUN" after-resume
assert_eq "$(step_detail "$RUN" after-resume 1 late)" 0 "after-resume is not late"
cli 0 resolve "$RUN"
wait_exit "$P2"
assert_eq "$EXIT_RC" 0 "the resumed run's exit status"

# Nothing is sent twice unless it was unsettled at the stop.
inbox_requests | python3 -c '
import collections, json, sys
unsettled = set(open(sys.argv[1]).read().split())
seen = collections.Counter()
for line in sys.stdin:
    r = json.loads(line)
    assert r["body"].startswith("{\"") and "[DRILL]" in r["body"], r["body"]
    seen[r["headers"]["webhook-id"]] += 1
dup = [i for i, n in seen.items() if n > 1 and i not in unsettled]
assert not dup, "sent twice: %s" % dup
' "$TMP/unsettled" || fail "a notification was sent twice"
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN'")" \
    "$(inbox_requests | json_query "len(set(r['headers']['webhook-id'] for r in d))")" \
    "every notification reached the inbox"
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN'
                 AND state != 'delivered'")" 0 "every notification delivered"

echo "ok test_resume_late"
