#!/usr/bin/env bash
# test_report_after_resolution.sh - what a run sends once it is resolved
# (here an after: step two days after the all-clear, as a post-mortem
# reminder or a broadcast note would be) counts as an update sent and
# delivered, but measures no gap: the report's cadence and longest silence
# are those of the crisis, which ended at the resolution (docs/report.md,
# "Communication"). Before, the two quiet days after the all-clear were
# reported as the longest silence and a late update.
#
# The figures are compared with the journal's own times, never with the
# wall clock: a drill at 100000x, whose first messages may be late by a
# few virtual minutes, well within the promised interval of a day.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

start_inbox
cat >"$TMP/after.yaml" <<'EOF'
crisisrun: 1
name: after-resolution
title: "Quiet after the all-clear"
targets:
  update_interval: 1d
channels:
  oncall: {type: webhook, url: "${env:INBOX_URL}/webhook/oncall"}
  customers: {type: webhook, url: "${env:INBOX_URL}/webhook/customers", audience: external}
steps:
  - {id: declare, at: 0s, notify: [oncall, customers], message: "Declared."}
  - {id: fixed, at: 1m, status: resolved, notify: [oncall], message: "Fixed."}
  - {id: all-clear, on: resolved, notify: [oncall, customers], message: "All clear."}
  - id: post-mortem
    after: all-clear
    delay: 2d
    notify: [oncall, customers]
    message: "The post-mortem notes are out."
feedback:
  window: 3d
  request: {notify: [oncall], message: "How did we do? {{feedback_url}}"}
  questions:
    - {id: informed, text: "How well were you kept informed?", scale: 5}
EOF

run_pb after --drill --speed 100000 --quiet "$TMP/after.yaml"
[[ $RUN_RC == 0 ]] || { cat "$TMP/after.err" >&2; fail "run exited $RUN_RC"; }
assert_eq "$(sql "SELECT count(*) FROM notifications WHERE run_id = '$RUN_ID'
    AND step = 'post-mortem' AND state = 'delivered'")" 2 "the post-mortem was delivered"

crisisrun report "$RUN_ID" --format json >"$TMP/report.json"
# From the journal: each update's first delivery, and the resolution.
sql "SELECT step, channel, min(settled_ms) - (SELECT started_ms FROM runs WHERE id = '$RUN_ID')
     FROM notifications WHERE run_id = '$RUN_ID' AND state = 'delivered'
     AND step != 'feedback.request' GROUP BY step, channel" >"$TMP/deliveries"
END=$(sql "SELECT resolved_ms - started_ms FROM runs WHERE id = '$RUN_ID'")

python3 - "$TMP/report.json" "$TMP/deliveries" "$END" <<'PY' ||
import json, sys
rep = json.load(open(sys.argv[1]))
end = int(sys.argv[3])
first = {}
for line in open(sys.argv[2]):
    step, channel, at = line.strip().split("|")
    first[(step, channel)] = int(at)
failures = []

def expect(name, channels):
    got = [c for c in rep["communication"]["channels"] + rep["communication"]["audiences"]
           if c["name"] == name][0]
    # During the crisis: the earliest delivery of each occurrence there.
    crisis = sorted(min(first[(s, c)] for c in channels if (s, c) in first)
                    for s in ("declare", "fixed", "all-clear")
                    if any((s, c) in first for c in channels))
    gaps = [b - a for a, b in zip([0] + crisis, crisis)]
    longest = max(gaps + ([end - crisis[-1]] if crisis[-1] < end else []))
    on_time = sum(1 for g in gaps if g <= 86400000)
    want = {"updates": len(crisis) + 1, "delivered_updates": len(crisis) + 1,
            "gaps": len(gaps), "on_time": on_time,
            "on_time_share": round(on_time / len(gaps), 4), "longest_silence_ms": longest}
    for k, v in want.items():
        if got[k] != v:
            failures.append("%s %s: report %r, journal %r" % (name, k, got[k], v))

expect("oncall", ["oncall"])
expect("customers", ["customers"])
expect("internal", ["oncall"])
expect("external", ["customers"])
if failures:
    sys.exit("FAIL: " + "\n".join(failures))
PY
    fail "the report's cadence counts the time after the resolution"

# The Markdown shows the same figures: three gaps, none after the
# resolution, as many on time as the JSON says.
crisisrun report "$RUN_ID" >"$TMP/report.md"
ON_TIME=$(json_query '[c["on_time"] for c in d["communication"]["channels"] if c["name"] == "oncall"][0]' \
    "$TMP/report.json")
grep -qE "^\| oncall \| webhook \| internal \| 1 \| 4 \| 4 \| \+[0-9.dhms]+ \| $ON_TIME of 3 \(" \
    "$TMP/report.md" || fail "markdown: $(grep '^| oncall' "$TMP/report.md")"
echo "ok"
