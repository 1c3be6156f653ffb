#!/usr/bin/env bash
# A drill at --speed 20 read and written from other processes while it
# runs: everything about it is on its own clock, the rehearsed timeline the
# runner journals (docs/run.md, "Journal times are the rehearsed timeline").
#
# - `list` (and `show --json`) give a running drill the duration `show`
#   implies: never shorter than the offset of the last event `show` printed.
# - Feedback given through `feedback add` and `feedback import` (no
#   received time) lands where a form answer given just before lands: after
#   the resolution, inside the window, in the order given.
#
# Times are compared with each other, never with a wall-clock threshold.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/feedback_lib.sh"

cr() { crisisrun --db "$DB" "$@"; }

start_inbox
# No step resolves it: the test does, once it has looked at the running drill.
# The 2h window is 6 real minutes at 20x, open for the whole test.
cat >"$TMP/drill.yaml" <<'EOF'
crisisrun: 1
name: drill-clock
title: "Drill clock"
channels:
  oncall: {type: slack, url: "${env:INBOX_URL}/slack/oncall"}
steps:
  - id: declare
    at: 0s
    notify: [oncall]
    message: "Declared."
  - id: update
    at: 30s
    notify: [oncall]
    message: "Still on it."
feedback:
  window: 2h
  request: {notify: [oncall], message: "How did we do? {{feedback_url}}"}
  questions:
    - {id: informed, text: "How well were you kept informed?", scale: 5}
EOF

start_crisisrun "$TMP/run.out" --db "$DB" run --drill --speed 20 --listen 127.0.0.1:0 --quiet \
    "$TMP/drill.yaml"
RUN_PID=$BG_PID
wait_for "[[ -s '$TMP/run.out' ]] && head -1 '$TMP/run.out' | grep -qE '^[0-9a-f]{12}$'" 10
RUN=$(head -1 "$TMP/run.out")
# The step at +30s has fired, 1.5 real seconds in: the drill's clock is far
# ahead of the wall clock, so a time taken from the wall clock shows.
wait_for "[[ \$(sqlite3 '$DB' \"SELECT count(*) FROM events WHERE run_id = '$RUN'
    AND kind = 'step_fired' AND step = 'update'\") -ge 1 ]]" 20

# --- list: a running drill's duration is on its clock, as show's offsets are ---
cr show "$RUN" --json >"$TMP/show.json"
LAST=$(json_query 'max(e["offset_ms"] for e in d["events"])' "$TMP/show.json")
(( LAST >= 30000 )) || fail "show's last event is at ${LAST} ms, before the step at +30s"
SHOWN=$(json_query 'd["duration_ms"]' "$TMP/show.json")
(( SHOWN >= LAST )) ||
    fail "show --json: the running drill lasts ${SHOWN} ms, with an event at ${LAST} ms"
cr list --json >"$TMP/list.json"
assert_eq "$(json_query "[r['state'] for r in d if r['id'] == '$RUN'][0]" "$TMP/list.json")" \
    running "the drill is still running"
RUNNING=$(json_query "[r['duration_ms'] for r in d if r['id'] == '$RUN'][0]" "$TMP/list.json")
(( RUNNING >= LAST )) ||
    fail "list --json: the running drill lasts ${RUNNING} ms, show has an event at ${LAST} ms"
# The table, as people read it: its DURATION (to the second at this scale)
# is not shorter than the last event either.
cr list >"$TMP/list.txt"
CELL=$(awk -v id="$RUN" '$1 == id { print $NF }' "$TMP/list.txt")
CELL_MS=$(python3 -c '
import re, sys
unit = {"d": 86400000, "h": 3600000, "m": 60000, "s": 1000}
print(sum(int(n) * unit[u] for n, u in re.findall(r"(\d+)([dhms])", sys.argv[1])))' "$CELL")
(( CELL_MS >= LAST / 1000 * 1000 )) ||
    fail "list: the running drill's DURATION is '$CELL', show has an event at ${LAST} ms"

# --- resolved: from start to resolution, no shorter than it had run ---
cr resolve "$RUN" >/dev/null
wait_requests 1
cr list --json >"$TMP/list.json"
ENDED=$(json_query "[r['duration_ms'] for r in d if r['id'] == '$RUN'][0]" "$TMP/list.json")
(( ENDED >= RUNNING )) ||
    fail "the resolved drill lasts ${ENDED} ms, less than the ${RUNNING} ms it had run"

# --- feedback: the form, then the command line, on one clock ---
RUN_URL=$(sqlite3 "$DB" "SELECT control_addr FROM runs WHERE id = '$RUN'")
TOKEN=$(run_token "$RUN" oncall)
assert_eq "$(post_form "$RUN_URL/feedback/$TOKEN" 'q_informed=4')" 303 "the form stores an answer"
cr feedback add "$RUN" --rating informed=5 >/dev/null
printf 'informed,received\n3,\n' >"$TMP/survey.csv"
cr feedback import "$RUN" "$TMP/survey.csv" >/dev/null

IFS='|' read -r RESOLVED CLOSES < <(sqlite3 "$DB" \
    "SELECT resolved_ms, feedback_closes_ms FROM runs WHERE id = '$RUN'")
sqlite3 "$DB" "SELECT source, received_ms FROM feedback_responses WHERE run_id = '$RUN'
    ORDER BY id" >"$TMP/responses"
assert_eq "$(cut -d'|' -f1 "$TMP/responses" | paste -sd,)" form,cli,import "the responses stored"
PREV=$RESOLVED
while IFS='|' read -r source received; do
    (( received >= RESOLVED )) ||
        fail "$source: received $((RESOLVED - received)) ms before the resolution"
    (( received < CLOSES )) || fail "$source: received after the window closed"
    (( received >= PREV )) || fail "$source: received before the response given before it"
    PREV=$received
done <"$TMP/responses"

stop_pid "$RUN_PID" "the drill"
echo "ok"
