#!/usr/bin/env bash
# test_control_ack.sh - acknowledgement and escalation through the real
# binary and the inbox: an unacknowledged step escalates in two levels at
# the deadlines the playbook sets; `ack RUN STEP` before the deadline
# prevents the escalation; `ack RUN` acknowledges the run (time to
# acknowledge, on: acknowledged, every pending deadline cancelled) and
# answers the steps still waiting, but leaves a wait that already escalated
# (or was acknowledged on its own) as it was; the commands' exit codes and
# messages.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

SPEED=$(( 120 / CR_SLOW ))
ME=$(id -un)
start_inbox

# ---- no acknowledgement: a two-level escalation chain ----------------------------
cat >"$TMP/chain.yaml" <<'YAML'
crisisrun: 1
name: chain
title: "Escalation chain"
channels:
  oncall:  {type: webhook, url: "${env:INBOX_URL}/webhook/chain-oncall"}
  leaders: {type: webhook, url: "${env:INBOX_URL}/webhook/chain-leaders"}
steps:
  - id: page
    at: 1m
    notify: [oncall]
    message: "page the database on-call"
    ack: {within: 2m, escalate: esc1}
  - id: esc1
    on: escalation
    notify: [leaders]
    message: "level 1: {{trigger.step}} not acknowledged after {{trigger.waited}}"
    ack: {within: 2m, escalate: esc2}
  - id: esc2
    on: escalation
    notify: [leaders]
    message: "level 2: {{trigger.step}} not acknowledged after {{trigger.waited}}"
  - id: close
    at: 7m
    status: resolved
    notify: [oncall]
    message: "closed"
YAML
start_crisisrun "$TMP/chain.out" run --drill --speed "$SPEED" "$TMP/chain.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/chain.out")
wait_exit "$PID" 30
[[ $EXIT_RC == 0 ]] || { cat "$TMP/chain.out"; fail "the chain run exited $EXIT_RC"; }

assert_eq "$(fired "$RUN" esc1)" 1 "esc1 fires once"
assert_eq "$(fired "$RUN" esc2)" 1 "esc2 fires once"
# A deadline runs from when its step actually fired.
assert_eq "$(step_detail "$RUN" esc1 1 scheduled_offset_ms)" \
    $(( $(step_detail "$RUN" page 1 actual_offset_ms) + 120000 )) "esc1 at page + 2m"
assert_eq "$(step_detail "$RUN" esc2 1 scheduled_offset_ms)" \
    $(( $(step_detail "$RUN" esc1 1 actual_offset_ms) + 120000 )) "esc2 at esc1 + 2m"
assert_eq "$(step_detail "$RUN" esc1 1 cause)" escalation "esc1's cause"
assert_eq "$(step_detail "$RUN" esc2 1 late)" 0 "esc2 is not late"
assert_eq "$(sq "SELECT group_concat(step || '>' || json_extract(detail, '\$.escalation'), ' ')
                 FROM events WHERE run_id = '$RUN' AND kind = 'escalated'")" \
    "page>esc1 esc1>esc2" "escalated events"
assert_eq "$(sq "SELECT count(*) FROM ack_waits WHERE run_id = '$RUN'
                 AND escalated_ms IS NOT NULL AND acknowledged_ms IS NULL")" 2 \
    "both waits escalated, none acknowledged"
assert_eq "$(sq "SELECT acknowledged_ms IS NULL FROM runs WHERE id = '$RUN'")" 1 \
    "nobody acknowledged the run"
inbox_requests | json_query '[json.loads(r["body"])["message"] for r in d
                              if r["path"] == "/webhook/chain-leaders"]' >"$TMP/leaders"
assert_eq "$(cat "$TMP/leaders")" \
    '["[DRILL] level 1: page not acknowledged after 2m", "[DRILL] level 2: esc1 not acknowledged after 2m"]' \
    "the leaders received both levels, in order"

# ---- acknowledgements ----------------------------------------------------------------
cat >"$TMP/acks.yaml" <<'YAML'
crisisrun: 1
name: acks
title: "Acknowledged in time"
channels:
  oncall:  {type: webhook, url: "${env:INBOX_URL}/webhook/acks-oncall"}
  leaders: {type: webhook, url: "${env:INBOX_URL}/webhook/acks-leaders"}
steps:
  - id: page
    at: 1m
    notify: [oncall]
    message: "page the database on-call"
    ack: {within: 5m, escalate: esc}
  - id: page2
    at: 2m
    notify: [oncall]
    message: "page the network on-call"
    ack: {within: 5m, escalate: esc}
  - id: esc
    on: escalation
    notify: [leaders]
    message: "{{trigger.step}} not acknowledged"
  - id: thanks
    on: acknowledged
    notify: [oncall]
    message: "acknowledged: thank you"
  - id: marker
    at: 8m
    notify: [oncall]
    message: "every deadline has passed"
  - id: close
    at: 9m
    status: resolved
    notify: [oncall]
    message: "closed"
YAML
start_crisisrun "$TMP/acks.out" run --drill --speed "$SPEED" "$TMP/acks.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/acks.out")
wait_fired "$RUN" page

rc=0; crisisrun ack "$RUN" nosuch >"$TMP/o" 2>"$TMP/e" || rc=$?
assert_eq "$rc" 2 "ack of an unknown step"
assert_contains "$TMP/e" "crisisrun: run $RUN: no step 'nosuch' in this playbook"
assert_not_contains "$TMP/e" "did you mean"
# A typo gets the closest step that can wait for an acknowledgement.
rc=0; crisisrun ack "$RUN" pgae2 >"$TMP/o" 2>"$TMP/e" || rc=$?
assert_eq "$rc" 2 "ack of a misspelt step"
assert_contains "$TMP/e" "no step 'pgae2' in this playbook (did you mean 'page2'?)"
rc=0; crisisrun ack "$RUN" marker >"$TMP/o" 2>"$TMP/e" || rc=$?
assert_eq "$rc" 1 "ack of a step that is not waiting"
assert_contains "$TMP/e" "step 'marker' is not waiting for acknowledgement: it has no ack: in the playbook"

crisisrun ack "$RUN" page >"$TMP/o" || fail "ack RUN page failed"
assert_contains "$TMP/o" "$RUN: step 'page' acknowledged"
rc=0; crisisrun ack "${RUN:0:6}" page >"$TMP/o" 2>"$TMP/e" || rc=$?
assert_eq "$rc" 1 "a second ack of the same step (by run id prefix)"
assert_contains "$TMP/e" "step 'page' is not waiting for acknowledgement: it was already acknowledged"
assert_eq "$(sq "SELECT acknowledged_ms IS NULL FROM runs WHERE id = '$RUN'")" 1 \
    "acknowledging a step does not acknowledge the run"

wait_fired "$RUN" page2
crisisrun ack "$RUN" >"$TMP/o" || fail "ack RUN failed"
assert_contains "$TMP/o" "$RUN: run acknowledged"
crisisrun ack "$RUN" >"$TMP/o" || fail "a second ack RUN failed"
assert_contains "$TMP/o" "$RUN: run was already acknowledged"
assert_eq "$(sq "SELECT acknowledged_by FROM runs WHERE id = '$RUN'")" "$ME" "acknowledged_by"
assert_eq "$(sq "SELECT acknowledged_ms > started_ms + 120000 FROM runs WHERE id = '$RUN'")" 1 \
    "time to acknowledge is after page2 fired (+2m on the run's clock)"

wait_exit "$PID" 30
[[ $EXIT_RC == 0 ]] || { cat "$TMP/acks.out"; fail "the acks run exited $EXIT_RC"; }
assert_eq "$(fired "$RUN" marker)" 1 "the run went past every deadline"
assert_eq "$(fired "$RUN" esc)" 0 "no escalation after the acknowledgements"
assert_eq "$(fired "$RUN" thanks)" 1 "on: acknowledged fired once"
assert_eq "$(step_detail "$RUN" thanks 1 cause)" acknowledged "thanks' cause"
assert_eq "$(sq "SELECT group_concat(ifnull(step, '-') || ':' || actor, ' ') FROM events
                 WHERE run_id = '$RUN' AND kind = 'acknowledged'")" \
    "page:$ME -:$ME -:$ME" "acknowledgements are journaled with who"
assert_eq "$(sq "SELECT group_concat(step || ':' || (acknowledged_by = '$ME'), ' ') FROM ack_waits
                 WHERE run_id = '$RUN' ORDER BY step")" "page:1 page2:1" \
    "both waits acknowledged"
assert_eq "$(inbox_count /webhook/acks-leaders)" 0 "the leaders were never paged"

# ---- a run acknowledged after one of its pages escalated -----------------------------
# The run-level ack answers the pages still waiting; page-payments had
# already escalated, so its wait stays escalated and unacknowledged, and
# page-net keeps the step-level ack it had before.
cat >"$TMP/late.yaml" <<'YAML'
crisisrun: 1
name: late
title: "Acknowledged after an escalation"
channels:
  oncall:  {type: webhook, url: "${env:INBOX_URL}/webhook/late-oncall"}
  leaders: {type: webhook, url: "${env:INBOX_URL}/webhook/late-leaders"}
steps:
  - id: page-payments
    at: 1m
    notify: [oncall]
    message: "page the payments on-call"
    ack: {within: 5m, escalate: escalate-leads}
  - id: page-db
    at: 1m
    notify: [oncall]
    message: "page the database on-call"
    ack: {within: 1d, escalate: escalate-leads}
  - id: page-net
    at: 1m
    notify: [oncall]
    message: "page the network on-call"
    ack: {within: 1d, escalate: escalate-leads}
  - id: escalate-leads
    on: escalation
    notify: [leaders]
    message: "{{trigger.step}} not acknowledged after {{trigger.waited}}"
YAML
start_crisisrun "$TMP/late.out" run --drill --speed "$SPEED" "$TMP/late.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/late.out")
wait_fired "$RUN" page-net
crisisrun ack "$RUN" page-net >"$TMP/o" || fail "ack RUN page-net failed"
assert_contains "$TMP/o" "$RUN: step 'page-net' acknowledged"
NET_ACK=$(sq "SELECT acknowledged_ms FROM ack_waits WHERE run_id = '$RUN' AND step = 'page-net'")
[[ -n $NET_ACK ]] || fail "page-net's step-level ack was not journaled"

wait_fired "$RUN" escalate-leads
crisisrun ack "$RUN" >"$TMP/o" || fail "ack RUN after the escalation failed"
assert_contains "$TMP/o" "$RUN: run acknowledged"
rc=0; crisisrun ack "$RUN" page-payments >"$TMP/o" 2>"$TMP/e" || rc=$?
assert_eq "$rc" 1 "ack of the step that escalated"
# The late answer learns that the escalation went out, and which one.
assert_contains "$TMP/e" \
    "step 'page-payments' is not waiting for acknowledgement: nobody acknowledged it within 5m, so 'escalate-leads' went out"
crisisrun resolve "$RUN" >"$TMP/o" || fail "resolve RUN failed"
wait_exit "$PID" 30
[[ $EXIT_RC == 0 ]] || { cat "$TMP/late.out"; fail "the late run exited $EXIT_RC"; }

assert_eq "$(fired "$RUN" escalate-leads)" 1 "only page-payments escalated"
assert_eq "$(sq "SELECT acknowledged_ms IS NULL, acknowledged_by IS NULL, escalated_ms IS NOT NULL
                 FROM ack_waits WHERE run_id = '$RUN' AND step = 'page-payments'")" "1|1|1" \
    "the escalated wait is not acknowledged by the later run-level ack"
assert_eq "$(sq "SELECT w.acknowledged_ms = r.acknowledged_ms, w.acknowledged_by, w.escalated_ms IS NULL
                 FROM ack_waits w JOIN runs r ON r.id = w.run_id
                 WHERE w.run_id = '$RUN' AND w.step = 'page-db'")" "1|$ME|1" \
    "the run-level ack answered the page still waiting"
assert_eq "$(sq "SELECT acknowledged_ms FROM ack_waits WHERE run_id = '$RUN' AND step = 'page-net'")" \
    "$NET_ACK" "a step acknowledged before keeps its own acknowledgement"
crisisrun show "$RUN" >"$TMP/show" || fail "show RUN failed"
grep -F "page-payments #1" "$TMP/show" >"$TMP/line" || fail "show lists no wait of page-payments"
assert_contains "$TMP/line" "; escalated "
assert_not_contains "$TMP/line" "acknowledged"
crisisrun show "$RUN" --json >"$TMP/show.json" || fail "show RUN --json failed"
assert_eq "$(json_query '[[a["acknowledged"], a["acknowledged_by"], a["escalated"] is not None]
                          for a in d["acknowledgements"] if a["step"] == "page-payments"]' \
                        "$TMP/show.json")" '[[null, null, true]]' "show --json agrees"

# ---- a run acknowledged after its resolution ---------------------------------------
# Resolving cancels the pending deadlines; an ack RUN in the feedback
# window that follows does not make the page that nobody answered look
# answered.
cat >"$TMP/after.yaml" <<'YAML'
crisisrun: 1
name: after
title: "Acknowledged after the resolution"
channels:
  oncall: {type: webhook, url: "${env:INBOX_URL}/webhook/after-oncall"}
steps:
  - id: page
    at: 0s
    notify: [oncall]
    message: "page the on-call"
    ack: {within: 1d, escalate: esc}
  - id: esc
    on: escalation
    notify: [oncall]
    message: "escalated"
feedback:
  window: 1d
  request: {notify: [oncall], message: "How did we do? {{feedback_url}}"}
  questions:
    - {id: informed, text: "How well were you kept informed?", scale: 5}
YAML
start_crisisrun "$TMP/after.out" run --drill --speed "$SPEED" "$TMP/after.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/after.out")
wait_fired "$RUN" page
crisisrun resolve "$RUN" >"$TMP/o" || fail "resolve RUN failed"
crisisrun ack "$RUN" >"$TMP/o" || fail "ack RUN in the feedback window failed"
assert_contains "$TMP/o" "$RUN: run acknowledged"
stop_pid "$PID" "the resolved run (SIGTERM in its feedback window)"
assert_eq "$(sq "SELECT acknowledged_ms IS NULL, escalated_ms IS NULL
                 FROM ack_waits WHERE run_id = '$RUN' AND step = 'page'")" "1|1" \
    "a wait the resolution cancelled is not acknowledged by a later ack RUN"
assert_eq "$(sq "SELECT acknowledged_ms IS NOT NULL FROM runs WHERE id = '$RUN'")" 1 \
    "the run's own acknowledgement is still journaled"

echo "ok test_control_ack"
