#!/usr/bin/env bash
# test_run_timing.sh - timed steps of a run, from the journal's step_fired
# events and what the inbox received: order, scheduled vs actual offsets
# (actual never early; no upper bound is asserted), `until: {count: 3}`,
# `until: identified`, {{next_update}} of a recurring step, drills
# ([DRILL] prefix, `list --json`, the rehearsed timeline) and --speed's
# usage rule.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

# --speed rehearses: without --drill it is a usage error.
export INBOX_URL=http://127.0.0.1:9
rc=0
crisisrun run --speed 10 "$RUN_DATA/timing.yaml" >"$TMP/nodrill.out" 2>"$TMP/nodrill.err" || rc=$?
assert_eq "$rc" 2 "--speed without --drill"
assert_contains "$TMP/nodrill.err" "crisisrun: --speed rehearses a playbook: use it with --drill"
[[ ! -s "$TMP/nodrill.out" ]] || fail "a refused run printed: $(cat "$TMP/nodrill.out")"
[[ ! -e "$DB" ]] || [[ "$(sql 'SELECT count(*) FROM runs')" == 0 ]] || fail "a refused run was journaled"
rc=0
crisisrun run --drill --speed 0 "$RUN_DATA/timing.yaml" >/dev/null 2>"$TMP/speed0.err" || rc=$?
assert_eq "$rc" 2 "--speed 0"
assert_contains "$TMP/speed0.err" "invalid --speed '0'"

start_inbox
run_pb run --drill --speed 100 "$RUN_DATA/timing.yaml"
[[ $RUN_RC == 0 ]] || { cat "$TMP/run.err" >&2; fail "run exited $RUN_RC"; }

sql "SELECT started_ms FROM runs WHERE id = '$RUN_ID'" >"$TMP/started"
sql "SELECT json_object('step', step, 'occurrence', occurrence, 'at_ms', at_ms,
                        'detail', json(detail))
     FROM events WHERE run_id = '$RUN_ID' AND kind = 'step_fired' ORDER BY seq" >"$TMP/fired.jsonl"

STARTED=$(cat "$TMP/started") python3 - "$TMP/fired.jsonl" "$INBOX_LOG" <<'EOF'
import json, os, sys, time

started = int(os.environ["STARTED"])
fired = [json.loads(l) for l in open(sys.argv[1])]
reqs = [json.loads(l) for l in open(sys.argv[2])]
failures = []

def check(cond, what):
    if not cond:
        failures.append(what)

m = 60000
# (step, occurrence, scheduled offset) in firing order: ties go in playbook
# order (recurring is listed before found).  followup's is relative to the
# moment first actually fired.
first_actual = fired[0]["detail"]["actual_offset_ms"] if fired else 0
expected = [("first", 1, 0), ("second", 1, 30000), ("followup", 1, first_actual + m),
            ("updates", 1, 90000), ("recurring", 1, 2 * m), ("updates", 2, 150000),
            ("recurring", 2, 3 * m), ("found", 1, 3 * m), ("recurring", 3, 4 * m),
            ("done", 1, 6 * m)]
got = [(f["step"], f["occurrence"], f["detail"]["scheduled_offset_ms"]) for f in fired]
check(got == expected, "step_fired events:\n  got      %s\n  expected %s" % (got, expected))

last = -1
for f in fired:
    d = f["detail"]
    name = "%s #%d" % (f["step"], f["occurrence"])
    # Never early; never an upper bound (the machine may be slow).
    check(d["actual_offset_ms"] >= d["scheduled_offset_ms"],
          "%s fired at %d before its time %d" % (name, d["actual_offset_ms"], d["scheduled_offset_ms"]))
    check(d["actual_offset_ms"] >= last, "%s fired out of order" % name)
    last = d["actual_offset_ms"]
    # Journal times are the rehearsed timeline: started + virtual offset.
    check(f["at_ms"] >= started + d["scheduled_offset_ms"],
          "%s journaled at %d, before started + %d" % (name, f["at_ms"], d["scheduled_offset_ms"]))

# until: {count: 3} and until: identified, as the receivers saw them.
by_path = {}
for r in reqs:
    by_path.setdefault(r["path"], []).append(json.loads(r["body"]))
check(len(by_path.get("/webhook/rec", [])) == 3, "recurring sent %d times" % len(by_path.get("/webhook/rec", [])))
check([b["message"] for b in by_path.get("/webhook/upd", [])] ==
      ["[DRILL] update (investigating)"] * 2, "updates: %r" % by_path.get("/webhook/upd"))
check([b["message"] for b in by_path.get("/webhook/log", [])] ==
      ["[DRILL] first", "[DRILL] second", "[DRILL] followup", "[DRILL] found"],
      "log channel messages in order: %r" % [b["message"] for b in by_path.get("/webhook/log", [])])

# Every message of a drill says so, and the payload marks it.
for r in reqs:
    b = json.loads(r["body"])
    check(b["message"].startswith("[DRILL] ") and b["drill"] is True,
          "%s: not marked as a drill: %r" % (r["path"], b))

# {{next_update}} of the recurring step is the time of its next occurrence
# (the third falls back to started + update_interval: 10m), rounded up to
# the minute: a promise is never earlier than the update.
def hhmm(ms, ref):
    ms = -(-ms // 60000) * 60000
    t, r = time.gmtime(ms / 1000), time.gmtime(ref / 1000)
    fmt = "%H:%M UTC" if t[:3] == r[:3] else "%Y-%m-%d %H:%M UTC"
    return time.strftime(fmt, t)

def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)

rec_fired = [f for f in fired if f["step"] == "recurring"]
for i, b in enumerate(by_path.get("/webhook/rec", [])):
    nxt = started + (3 * m if i == 0 else 4 * m if i == 1 else 10 * m)
    at = started + rec_fired[i]["detail"]["actual_offset_ms"] if i < len(rec_fired) else started
    check(b["next_update"] == iso(nxt), "recurring #%d next_update %s, want %s" % (i + 1, b["next_update"], iso(nxt)))
    want = "[DRILL] tick; next by " + hhmm(nxt, at)
    check(b["message"] == want, "recurring #%d message %r, want %r" % (i + 1, b["message"], want))

if failures:
    print("\n".join("FAIL: " + f for f in failures), file=sys.stderr)
    sys.exit(1)
EOF

# The journal marks the run as a drill, and so does `list`.
crisisrun list --json >"$TMP/list.json"
assert_eq "$(json_query "[r['drill'] for r in d if r['id'] == '$RUN_ID']" "$TMP/list.json")" "[true]" \
    "list --json drill"
assert_eq "$(json_query "[r['speed'] for r in d if r['id'] == '$RUN_ID']" "$TMP/list.json")" "[100.0]" \
    "list --json speed"
assert_eq "$(sql "SELECT drill, state, status FROM runs WHERE id = '$RUN_ID'")" "1|resolved|resolved" \
    "journaled run"
crisisrun list >"$TMP/list.txt"
grep -E "^$RUN_ID +resolved +resolved +yes " "$TMP/list.txt" >/dev/null ||
    fail "list does not show the drill: $(cat "$TMP/list.txt")"
echo "ok"
