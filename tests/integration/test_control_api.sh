#!/usr/bin/env bash
# test_control_api.sh - the control API's HTTP surface, with curl against a
# live run: bound to 127.0.0.1 by default; every /api/ request without the
# right bearer token gets 401, whatever its path, method or body, and
# changes nothing in the journal; 404 unknown run or action, 405 wrong
# method (with Allow), 413 oversize body, 400 malformed bodies; the token
# file is the owner's only and goes away with the run; a second run on the
# same address does not start and is journaled as failed, and a resume
# there leaves its run interrupted.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

start_inbox
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: api
title: "API test"
channels:
  ops: {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
steps:
  - id: declare
    at: 0s
    notify: [ops]
    message: "declared"
  - id: page
    at: 0s
    notify: [ops]
    message: "page"
    ack: {within: 1h, escalate: esc}
  - id: esc
    on: escalation
    notify: [ops]
    message: "escalated"
  - id: all-clear
    on: resolved
    notify: [ops]
    message: "resolved"
YAML

start_crisisrun "$TMP/run.out" run "$TMP/pb.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/run.out")
wait_fired "$RUN" page
wait_for "[[ \$(inbox_count /webhook/ops) == 2 ]]" 10

# ---- where it listens, and the token -----------------------------------------------------
ADDR=$(sq "SELECT control_addr FROM runs WHERE id = '$RUN'")
[[ $ADDR =~ ^http://127\.0\.0\.1:([0-9]+)$ ]] || fail "control_addr '$ADDR' is not on 127.0.0.1"
PORT=${BASH_REMATCH[1]}
ss -ltnp >"$TMP/ss"
grep -E "127\.0\.0\.1:$PORT .*pid=$PID," "$TMP/ss" >/dev/null ||
    { cat "$TMP/ss"; fail "the runner does not listen on 127.0.0.1:$PORT"; }
if grep -E "(0\.0\.0\.0|\[::\]|\*):$PORT " "$TMP/ss"; then
    fail "the control API listens on every interface"
fi
TOKEN_FILE=$TMP/state/run-$RUN.token
assert_eq "$(stat -c %a "$TOKEN_FILE")" 600 "the token file's mode"
TOKEN=$(cat "$TOKEN_FILE")
[[ $TOKEN =~ ^[0-9a-f]{64}$ ]] || fail "the token is not 256 bits in hex"
assert_eq "$(sq "SELECT control_token FROM runs WHERE id = '$RUN'")" "$TOKEN" "the journaled token"

# A second run told to listen on the first one's address cannot start: it
# says why, exits 1 and is journaled as failed, not left running.
rc=0
crisisrun run --listen "127.0.0.1:$PORT" "$TMP/pb.yaml" >"$TMP/taken.out" 2>"$TMP/taken.err" || rc=$?
assert_eq "$rc" 1 "exit status with the address taken"
assert_contains "$TMP/taken.err" "crisisrun: cannot listen on '127.0.0.1:$PORT'"
TAKEN=$(head -n 1 "$TMP/taken.out")
assert_eq "$(sq "SELECT state || ' ' || (ended_ms IS NOT NULL) || ' ' || ifnull(owner_pid, 'none')
                 FROM runs WHERE id = '$TAKEN'")" "failed 1 none" "the run that could not listen"
assert_contains <(crisisrun show "$TAKEN") "the control API could not be started"
# A malformed address is a usage error, found before anything is
# journaled: no run to fail, none for resume to take up.
RUNS=$(sq "SELECT count(*) FROM runs")
for bad in bad 127.0.0.1:99999 '[::1'; do
    rc=0
    crisisrun run --listen "$bad" "$TMP/pb.yaml" >"$TMP/bad.out" 2>"$TMP/bad.err" || rc=$?
    assert_eq "$rc" 2 "exit status with --listen '$bad'"
    assert_contains "$TMP/bad.err" "crisisrun: invalid --listen '$bad'"
    assert_eq "$(wc -c <"$TMP/bad.out")" 0 "a run id printed for --listen '$bad'"
done
assert_eq "$(sq "SELECT count(*) FROM runs")" "$RUNS" "runs journaled by a bad --listen"
# A resume told to listen there leaves its run as it was: interrupted, to
# be resumed again.
cat >"$TMP/quiet.yaml" <<'YAML'
crisisrun: 1
name: api-quiet
channels:
  ops: {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
steps:
  - {id: later, on: manual, notify: [ops], message: "not sent"}
YAML
start_crisisrun "$TMP/quiet.out" run "$TMP/quiet.yaml"
QUIET_PID=$BG_PID
QUIET=$(wait_run_id "$TMP/quiet.out")
wait_for "[[ -n \$(sq \"SELECT control_addr FROM runs WHERE id = '$QUIET'\") ]]" 10
_cr_stop "$QUIET_PID" || true
was=$(sq "SELECT state || ' ' || ended_ms || ' ' || ifnull(owner_pid, 'none') FROM runs WHERE id = '$QUIET'")
[[ $was == "interrupted "*" none" ]] || fail "the stopped run is '$was'"
rc=0
crisisrun resume --listen "127.0.0.1:$PORT" "$QUIET" >"$TMP/resume.out" 2>&1 || rc=$?
assert_eq "$rc" 1 "exit status of the resume with the address taken"
assert_eq "$(sq "SELECT state || ' ' || ended_ms || ' ' || ifnull(owner_pid, 'none') FROM runs
                 WHERE id = '$QUIET'")" "$was" "the run after the refused resume"

API=$ADDR/api/runs/$RUN
# req METHOD URL [BODY] [CURL_ARGS...]: prints the status; body in $TMP/b, headers in $TMP/h
req() {
    local method=$1 url=$2 body=${3-}
    shift 3 || shift $#
    local args=(-sS -o "$TMP/b" -D "$TMP/h" -w '%{http_code}' -X "$method")
    [[ -n "$body" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    curl "${args[@]}" "$@" "$url" || true
}
AUTH=(-H "Authorization: Bearer $TOKEN")

snapshot() {
    sq "SELECT seq, kind, step, occurrence, detail, actor FROM events WHERE run_id = '$RUN';
        SELECT state, status, acknowledged_ms, resolved_ms FROM runs WHERE id = '$RUN';
        SELECT * FROM notes; SELECT step, acknowledged_ms FROM ack_waits;
        SELECT count(*) FROM notifications;"
}
snapshot >"$TMP/before"
inbox_before=$(inbox_count /)

# ---- 401 before routing ----------------------------------------------------------------
WRONG=$(printf '%064d' 0)
big=$(python3 -c 'print("{\"text\": \"%s\"}" % ("x" * 40000))')
n=0
for target in "GET $API" "POST $API/resolve {}" "POST $API/ack {}" \
              "POST $API/status {\"status\":\"resolved\"}" \
              "POST $API/note {\"text\":\"x\",\"notify\":[\"ops\"]}" "POST $API/trigger {}" \
              "GET $ADDR/api" "GET $ADDR/api/" "POST $ADDR/api/nosuch {}" \
              "GET $ADDR/api/runs/000000000000/status" "PUT $API" "DELETE $API/ack"; do
    read -r method url body <<<"$target"
    for auth in none "Bearer $WRONG" "Bearer ${TOKEN:0:63}" "Bearer ${TOKEN}0" "bearer" \
                "Basic $TOKEN" "Token $TOKEN"; do
        if [[ $auth == none ]]; then
            code=$(req "$method" "$url" "$body")
        else
            code=$(req "$method" "$url" "$body" -H "Authorization: $auth")
        fi
        assert_eq "$code" 401 "$method $url with '${auth:0:12}...'"
        grep -qi '^WWW-Authenticate: Bearer' "$TMP/h" || fail "401 without WWW-Authenticate"
        assert_eq "$(cat "$TMP/b")" '{"error":"missing or wrong bearer token"}' "401 body"
        n=$(( n + 1 ))
    done
done
assert_eq "$(req POST "$API/note" "$big")" 401 "an oversize body without the token"
assert_eq "$(req POST "$API/resolve?token=$TOKEN" '{}')" 401 "the token in the query"
echo "$n requests without the right token: 401"

# ---- with the token: routing, methods, limits, bodies -----------------------------------------
assert_eq "$(req POST "$API" '{}' "${AUTH[@]}")" 405 "POST on the run"
grep -qi '^Allow: GET' "$TMP/h" || fail "405 without Allow: GET"
assert_eq "$(req GET "$API/ack" '' "${AUTH[@]}")" 405 "GET on an action"
grep -qi '^Allow: POST' "$TMP/h" || fail "405 without Allow: POST"
assert_eq "$(req PUT "$API/resolve" '{}' "${AUTH[@]}")" 405 "PUT on an action"
assert_eq "$(req POST "$ADDR/api/runs/000000000000/ack" '{}' "${AUTH[@]}")" 404 "another run"
assert_eq "$(req POST "$API/explode" '{}' "${AUTH[@]}")" 404 "unknown action"
assert_contains "$TMP/b" "unknown action 'explode'"
assert_eq "$(req GET "$API/ack/more" '' "${AUTH[@]}")" 404 "a path below an action"
assert_eq "$(req GET "$ADDR/api/nosuch" '' "${AUTH[@]}")" 404 "unknown endpoint"
assert_eq "$(req POST "$API/note" "$big" "${AUTH[@]}")" 413 "oversize body"
assert_eq "$(req POST "$API/note" 'not json' "${AUTH[@]}")" 400 "not JSON"
assert_eq "$(req POST "$API/note" '["x"]' "${AUTH[@]}")" 400 "not an object"
assert_eq "$(req POST "$API/ack" '{"step": 5}' "${AUTH[@]}")" 400 "a number for a step"
assert_contains "$TMP/b" "'step' must be a string"
assert_eq "$(req POST "$API/ack" '{"stpe": "page"}' "${AUTH[@]}")" 400 "a misspelt field"
assert_contains "$TMP/b" "unknown field 'stpe' for 'ack'"
assert_eq "$(req POST "$API/status" '{}' "${AUTH[@]}")" 400 "status without a status"
assert_contains "$TMP/b" "'status' is required"
assert_eq "$(req POST "$API/status" '{"status": "fixed"}' "${AUTH[@]}")" 400 "unknown status"
assert_eq "$(req POST "$API/note" '{"text": "x", "notify": "ops"}' "${AUTH[@]}")" 400 \
    "notify as a string"
assert_eq "$(req POST "$API/note" '{"text": "x", "notify": ["nosuch"]}' "${AUTH[@]}")" 404 \
    "unknown channel"
assert_eq "$(req POST "$API/note" '{"text": "x", "action": "yes"}' "${AUTH[@]}")" 400 \
    "action as a string"
assert_eq "$(req POST "$API/trigger" '{"step": "declare"}' "${AUTH[@]}")" 400 \
    "trigger of a step that is not manual"
assert_eq "$(req POST "$API/ack" '{"step": "declare"}' "${AUTH[@]}")" 409 \
    "ack of a step that is not waiting"
assert_eq "$(req POST "$API/ack" "{\"actor\": \"$(printf 'a%.0s' {1..65})\"}" "${AUTH[@]}")" 400 \
    "an overlong actor"

# Nothing above changed the run.
snapshot >"$TMP/after"
diff "$TMP/before" "$TMP/after" || fail "a refused request changed the journal"
assert_eq "$(inbox_count /)" "$inbox_before" "a refused request sent something"

# ---- requests that work ----------------------------------------------------------------------
assert_eq "$(req GET "$API" '' "${AUTH[@]}")" 200 "GET the run"
grep -qi '^Content-Type: application/json' "$TMP/h" || fail "the state is not JSON"
assert_eq "$(json_query '[d["id"], d["status"], d["acknowledged"], d["drill"],
                          [w["step"] for w in d["waiting_for_ack"]]]' "$TMP/b")" \
    "[\"$RUN\", \"investigating\", false, false, [\"page\"]]" "the run's state"
assert_eq "$(req GET "$ADDR/api/runs/${RUN:0:5}" '' "${AUTH[@]}")" 200 "a unique prefix"
assert_eq "$(req POST "$API/note" '{"text": "via the api", "notify": ["ops"]}' "${AUTH[@]}")" 200 \
    "a note"
assert_eq "$(json_query 'd["ok"]' "$TMP/b")" true "ok"
assert_eq "$(req POST "$API/ack" '{"actor": "chatbot"}' "${AUTH[@]}")" 200 "ack by a bot"
assert_eq "$(json_query 'd["message"]' "$TMP/b")" "run acknowledged" "the answer's message"
assert_eq "$(sq "SELECT acknowledged_by FROM runs WHERE id = '$RUN'")" chatbot "actor"
assert_eq "$(sq "SELECT author FROM notes WHERE run_id = '$RUN'")" api "the default actor"
assert_eq "$(req POST "$API/status" '{"status": "monitoring", "note": null}' "${AUTH[@]}")" 200 \
    "status"
assert_eq "$(req GET "$API" '' "${AUTH[@]}")" 200 "GET the run again"
assert_eq "$(json_query '[d["status"], d["acknowledged"], d["latest_note"], d["waiting_for_ack"]]' "$TMP/b")" \
    '["monitoring", true, "via the api", []]' "the state after the changes"
assert_eq "$(req GET "$ADDR/healthz" '')" 200 "/healthz needs no token"
assert_eq "$(req GET "$ADDR/nosuch" '')" 404 "an unknown page"

# ---- the token goes away with the run --------------------------------------------------------
kill -TERM "$PID"
wait_exit "$PID"
assert_eq "$EXIT_RC" 1 "interrupted"
[[ ! -e "$TOKEN_FILE" ]] || fail "the token file outlived the run"

echo "ok test_control_api"
