#!/usr/bin/env bash
# test_report_ack_after_resolution.sh - the report's time to acknowledge
# counts an acknowledgement given while the run is going, not one given
# after the resolution (the runner takes `ack RUN` during the feedback
# window): a run resolved without an acknowledgement missed its target,
# whatever comes later (docs/report.md, "Targets: met or missed").
#
# Two drills of the same playbook, whose acknowledge target (1d) no ack in
# this test can come after: one acknowledged and then resolved (met), one
# resolved and then acknowledged (missed, not reached).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

start_inbox
cat >"$TMP/ack.yaml" <<'EOF'
crisisrun: 1
name: ack-after
title: "Acknowledged late"
targets:
  acknowledge: 1d
channels:
  oncall: {type: webhook, url: "${env:INBOX_URL}/webhook/oncall"}
steps:
  - {id: declare, at: 0s, notify: [oncall], message: "Declared."}
feedback:
  window: 30d
  request: {notify: [oncall], message: "How did we do? {{feedback_url}}"}
  questions:
    - {id: informed, text: "How well were you kept informed?", scale: 5}
EOF

# drill NAME FIRST SECOND: a drill to which the operator says FIRST, then
# SECOND (ack or resolve), each once the one before is journaled; stopped
# during its feedback window.  Sets RUN_ID.
drill() {
    local name=$1 first=$2 second=$3 cmd
    start_run "$name" --drill --speed 60 --quiet "$TMP/ack.yaml"
    wait_for "[[ \$(sql \"SELECT count(*) FROM events WHERE run_id = '$RUN_ID'
        AND kind = 'step_fired' AND step = 'declare'\") == 1 ]]" 10
    for cmd in "$first" "$second"; do
        crisisrun "$cmd" "$RUN_ID" >/dev/null
        if [[ $cmd == ack ]]; then
            wait_for "[[ -n \$(sql \"SELECT acknowledged_ms FROM runs WHERE id = '$RUN_ID'\") ]]" 10
        else
            wait_for "[[ \$(sql \"SELECT state FROM runs WHERE id = '$RUN_ID'\") == resolved ]]" 10
        fi
    done
    stop_pid "$RUN_PID" "run $name"
}

# Acknowledged while it was going: met, after the time the journal holds.
drill before ack resolve
crisisrun report "$RUN_ID" --format json >"$TMP/before.json"
assert_eq "$(json_query '[d["targets"]["acknowledge"][k] for k in ("actual_ms", "met")]' \
    "$TMP/before.json")" \
    "[$(sql "SELECT acknowledged_ms - started_ms FROM runs WHERE id = '$RUN_ID'"), true]" \
    "an acknowledgement before the resolution"

# Resolved first: the acknowledgement came after the resolution.
drill after resolve ack
assert_eq "$(sql "SELECT acknowledged_ms > resolved_ms FROM runs WHERE id = '$RUN_ID'")" 1 \
    "the journal holds the acknowledgement after the resolution"
crisisrun report "$RUN_ID" --format json >"$TMP/after.json"
assert_eq "$(json_query '[d["targets"]["acknowledge"][k] for k in ("target_ms", "actual_ms", "met")]' \
    "$TMP/after.json")" "[86400000, null, false]" "an acknowledgement after the resolution"
# Who acknowledged is still told: it happened, it answered nothing.
assert_eq "$(json_query 'd["run"]["acknowledged_by"] is not None' "$TMP/after.json")" true \
    "acknowledged_by"
crisisrun report "$RUN_ID" >"$TMP/after.md"
assert_contains "$TMP/after.md" "| Time to acknowledge | 1d | not reached | **missed** |"
crisisrun report "$RUN_ID" --format html >"$TMP/after.html"
grep -q '<td>Time to acknowledge</td><td class="n">1d</td><td class="n">not reached</td><td><span class="missed">missed</span>' \
    "$TMP/after.html" || fail "html: $(grep -o '<td>Time to acknowledge</td>.\{0,160\}' "$TMP/after.html")"
echo "ok"
