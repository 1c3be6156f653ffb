#!/usr/bin/env bash
# test_control_status.sh - status, note, trigger and resolve on a live run,
# through the real binary and the inbox: `status identified --note X`
# changes the next recurring update and fires on: status:identified;
# `note --notify` broadcasts; `trigger` runs a manual step; `resolve` stops
# the recurring step and fires on: resolved; exit codes and messages, also
# after the run's process has ended.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

SPEED=$(( 120 / CR_SLOW ))
ME=$(id -un)
start_inbox

cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: status-updates
title: "Checkout errors"
channels:
  ops:       {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
  customers: {type: webhook, url: "${env:INBOX_URL}/webhook/customers"}
steps:
  - id: declare
    at: 0s
    notify: [ops]
    message: "declared"
  - id: update
    every: 1m
    from: 1m
    until: resolved
    notify: [customers]
    message: "Status: {{status}}. {{latest_note}}"
  - id: on-identified
    on: status:identified
    notify: [ops]
    message: "identified: {{latest_note}}"
  - id: rollback
    on: manual
    notify: [ops]
    message: "rolling back (status {{status}})"
  - id: note
    at: 0s
    notify: [ops]
    message: "a step called note"
  - id: all-clear
    on: resolved
    notify: [ops, customers]
    message: "Resolved. {{latest_note}}"
YAML

# The message the inbox received for step occurrence STEP #OCC on CHANNEL,
# found by the notification id (webhook-id) the journal gave it.
received() {
    local id
    id=$(sq "SELECT id FROM notifications WHERE run_id = '$RUN' AND step = '$1'
             AND occurrence = $2 AND channel = '$3'")
    [[ -n "$id" ]] || fail "no notification for $1 #$2 to $3"
    inbox_requests | json_query "[json.loads(r['body'])['message'] for r in d
                                  if r['headers'].get('webhook-id') == '$id'][-1]"
}
# The messages received on an inbox path.
messages() {
    inbox_requests | json_query "[json.loads(r['body'])['message'] for r in d
                                  if r['path'] == '$1']"
}
# The customers' message of the first update to fire from now on, once
# delivered: what an operator's change made of the next update.
next_update() {
    local before next
    before=$(sq "SELECT max(occurrence) FROM events WHERE run_id = '$RUN' AND kind = 'step_fired'
                 AND step = 'update'")
    wait_for "(( \$(sq \"SELECT max(occurrence) FROM events WHERE run_id = '$RUN'
               AND kind = 'step_fired' AND step = 'update'\") > $before ))" 10
    next=$(sq "SELECT min(occurrence) FROM events WHERE run_id = '$RUN' AND kind = 'step_fired'
               AND step = 'update' AND occurrence > $before")
    wait_for "[[ \$(sq \"SELECT state FROM notifications WHERE run_id = '$RUN' AND step = 'update'
               AND occurrence = $next\") == delivered ]]" 10
    received update "$next" customers
}
# cli WANT_RC ARGS...: run a command, check its exit status; output in $TMP/o, $TMP/e.
cli() {
    local want=$1 rc=0
    shift
    crisisrun "$@" >"$TMP/o" 2>"$TMP/e" || rc=$?
    [[ $rc == "$want" ]] || { cat "$TMP/o" "$TMP/e" >&2; fail "'$*' exited $rc, expected $want"; }
}

start_crisisrun "$TMP/run.out" run --drill --speed "$SPEED" "$TMP/pb.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/run.out")
wait_fired "$RUN" update
wait_for "[[ \$(inbox_count /webhook/customers) -ge 1 && \$(inbox_count /webhook/ops) -ge 2 ]]" 10
assert_eq "$(received note 1 ops)" "[DRILL] a step called note" "the step called note"
assert_eq "$(received update 1 customers)" "[DRILL] Status: investigating. " "the first update"

# ---- note ----------------------------------------------------------------------------
cli 2 note "$RUN" "to nowhere" --notify ops,nosuch
assert_contains "$TMP/e" "no channel 'nosuch' in this playbook"
cli 2 note "$RUN" "to a typo" --notify opps
assert_contains "$TMP/e" "no channel 'opps' in this playbook (did you mean 'ops'?)"
cli 2 note "$RUN" "x" --notify ops,,customers
cli 2 note "$RUN" ""
assert_contains "$TMP/e" "crisisrun: the note's TEXT is empty"
cli 0 note "$RUN" "customers see errors at checkout" --notify ops,customers
assert_contains "$TMP/o" "$RUN: note 1 added"
wait_for "[[ \$(messages /webhook/ops) == *'[DRILL] customers see errors at checkout'* ]]" 10
wait_for "[[ \$(messages /webhook/customers) == *'[DRILL] customers see errors at checkout'* ]]" 10
# Note 1 and the step called 'note' #1 are different notifications.
assert_eq "$(sq "SELECT count(DISTINCT id) FROM notifications WHERE run_id = '$RUN'
                 AND channel = 'ops' AND occurrence = 1 AND step IN ('note', '@note')")" 2 \
    "a note and the step called 'note' do not share a notification id"
cli 0 note "$RUN" "write the post-mortem" --action
assert_eq "$(sq "SELECT group_concat(author || '|' || action_item || '|' || ifnull(notify, '-'), ' ')
                 FROM notes WHERE run_id = '$RUN' AND text != 'a bad deploy of the payment service'")" \
    "$ME|0|[\"ops\",\"customers\"] $ME|1|-" "notes are journaled with who, channels, action"
# An action item is a follow-up, not news: the next update still carries
# the note before it.
assert_eq "$(next_update)" "[DRILL] Status: investigating. customers see errors at checkout" \
    "an action item does not become {{latest_note}}"
if messages /webhook/ops | grep -q post-mortem; then
    fail "a note without --notify was broadcast"
fi

# ---- status --------------------------------------------------------------------------
# Refused by the command before it reaches the run (the run's own 400 for
# it: test_control_api.sh).
cli 2 status "$RUN" bogus
assert_contains "$TMP/e" "crisisrun: unknown status 'bogus'"
cli 0 status "$RUN" identified --note "a bad deploy of the payment service"
assert_contains "$TMP/o" "$RUN: status is identified"
assert_eq "$(next_update)" "[DRILL] Status: identified. a bad deploy of the payment service" \
    "the next update carries the new status and the note"
wait_fired "$RUN" on-identified
assert_eq "$(step_detail "$RUN" on-identified 1 cause)" status "on: status:identified's cause"
wait_for "[[ \$(sq \"SELECT state FROM notifications WHERE run_id = '$RUN'
           AND step = 'on-identified'\") == delivered ]]" 10
assert_eq "$(received on-identified 1 ops)" "[DRILL] identified: a bad deploy of the payment service" \
    "on: status:identified"
assert_eq "$(sq "SELECT actor || ':' || json_extract(detail, '\$.to') FROM events
                 WHERE run_id = '$RUN' AND kind = 'status_changed'")" "$ME:identified" \
    "the status change is journaled with who"
assert_eq "$(sq "SELECT status FROM runs WHERE id = '$RUN'")" identified "the run's status"

# ---- trigger -------------------------------------------------------------------------
cli 2 trigger "$RUN" update
assert_contains "$TMP/e" "step 'update' is not an 'on: manual' step"
cli 2 trigger "$RUN" nosuch
assert_contains "$TMP/e" "no step 'nosuch' in this playbook"
cli 2 trigger "$RUN" rollbak
assert_contains "$TMP/e" "no step 'rollbak' in this playbook (did you mean 'rollback'?)"
cli 0 trigger "$RUN" rollback
assert_contains "$TMP/o" "$RUN: step 'rollback' triggered"
wait_fired "$RUN" rollback
assert_eq "$(step_detail "$RUN" rollback 1 cause)" manual "rollback's cause"
wait_for "[[ \$(messages /webhook/ops) == *'[DRILL] rolling back (status identified)'* ]]" 10
assert_eq "$(sq "SELECT actor FROM events WHERE run_id = '$RUN' AND kind = 'triggered'")" "$ME" \
    "the trigger is journaled with who"

# ---- resolve -------------------------------------------------------------------------
cli 0 resolve "$RUN" --note "rolled back"
assert_contains "$TMP/o" "$RUN: status is resolved"
wait_exit "$PID" 20
[[ $EXIT_RC == 0 ]] || { cat "$TMP/run.out"; fail "the run exited $EXIT_RC"; }
assert_eq "$(fired "$RUN" all-clear)" 1 "on: resolved fired"
assert_eq "$(step_detail "$RUN" all-clear 1 cause)" resolved "all-clear's cause"
assert_eq "$(received all-clear 1 ops)" "[DRILL] Resolved. rolled back" "the all-clear to ops"
assert_eq "$(received all-clear 1 customers)" "[DRILL] Resolved. rolled back" \
    "the all-clear to customers"
assert_eq "$(sq "SELECT count(*) FROM events u, events r WHERE u.run_id = '$RUN'
                 AND r.run_id = '$RUN' AND u.kind = 'step_fired' AND u.step = 'update'
                 AND r.kind = 'resolved' AND u.seq > r.seq")" 0 "no update after the resolution"
assert_eq "$(sq "SELECT state || ' ' || status || ' ' || (resolved_ms IS NOT NULL)
                 FROM runs WHERE id = '$RUN'")" "resolved resolved 1" "the run is resolved"
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN'
                 AND state != 'delivered'")" 0 "every notification delivered"

# ---- after the run's process has ended --------------------------------------------------
cli 1 status "$RUN" monitoring
assert_contains "$TMP/e" "crisisrun: run $RUN is resolved and its process has ended"
cli 1 note "$RUN" "too late"
cli 2 status "$RUN"
cli 2 note "$RUN"
cli 2 trigger "$RUN"
cli 1 ack nosuchrun
assert_contains "$TMP/e" "crisisrun: no run 'nosuchrun'"

echo "ok test_control_status"
