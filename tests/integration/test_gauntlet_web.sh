#!/usr/bin/env bash
# The web surfaces under hostile input: a <script> in a playbook title, a
# --var used in a message, a note and a feedback comment comes out inert
# in report.html, the feedback pages and the inbox page; the control API
# and the feedback form listen on loopback unless told otherwise; every
# /api/ path refuses a missing or wrong token (401) and changes nothing;
# oversize requests are refused (413); feedback tokens are 128-bit and
# distinct across channels and runs; header values with line breaks are
# refused at load time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/feedback_lib.sh"

XSS='<script>alert(1)</script>'
XSS_VAR='<script>alert("var")</script>'
XSS_NOTE='<script>alert("note")</script><img src=x onerror=alert(2)>'
XSS_COMMENT='<script>alert("comment")</script>'
XSS_NAME='<script>alert("name")</script>'

start_inbox
cat >"$TMP/web.yaml" <<EOF
crisisrun: 1
name: web-gauntlet
title: "Checkout outage $XSS"
severity: sev2
vars: {detail: "none"}
channels:
  oncall: {type: slack, url: "\${env:INBOX_URL}/slack/oncall", rate: 10/s}
  leaders: {type: teams, url: "\${env:INBOX_URL}/teams/leaders"}
  customers: {type: webhook, url: "\${env:INBOX_URL}/webhook/customers", audience: external}
steps:
  - id: declare
    at: 0s
    notify: [oncall, leaders, customers]
    message: "Impact: {{vars.detail}}"
  - id: all-clear
    on: resolved
    notify: [oncall, customers]
    message: "Resolved. {{latest_note}}"
feedback:
  window: 24h
  request: {notify: [oncall, leaders, customers], message: "How did we do? {{feedback_url}}"}
  questions:
    - {id: informed, text: "How well were you kept informed?", scale: 5}
    - {id: better, text: "What should we do differently?", type: text}
EOF

# run_started OUT: waits for the run id in OUT; sets RUN_ID
run_started() {
    wait_for "[[ -s '$1' ]] && head -1 '$1' | grep -qE '^[0-9a-f]{12}\$'" 10
    RUN_ID=$(head -1 "$1")
}

# --- header values with line breaks never reach a request ---
cat >"$TMP/crlf.yaml" <<'EOF'
crisisrun: 1
name: crlf
channels:
  a: {type: webhook, url: "http://127.0.0.1:9/x", headers: {X-Trace: "a\r\nX-Injected: yes"}}
  b: {type: webhook, url: "http://127.0.0.1:9/x", headers: {X-Trace: "${env:CRLF_VALUE}"}}
steps:
  - {id: s, at: 0s, notify: [a, b], message: "m"}
EOF
rc=0
CRLF_VALUE=$'b\nX-Injected: yes' crisisrun validate "$TMP/crlf.yaml" >"$TMP/crlf.out" 2>&1 || rc=$?
assert_eq "$rc" 2 "validate a playbook with CR/LF in header values"
assert_eq "$(grep -c "must not contain a line break" "$TMP/crlf.out")" 2 \
    "both header values refused: $(cat "$TMP/crlf.out")"
rc=0
CRLF_VALUE=$'b\r\nX-Injected: yes' crisisrun --db "$DB" run --drill "$TMP/crlf.yaml" >"$TMP/crlf.out" 2>&1 || rc=$?
assert_eq "$rc" 2 "run refuses it too"
[[ ! -e "$DB" ]] || assert_eq "$(sqlite3 "$DB" 'SELECT count(*) FROM runs')" 0 "no run started"

# --- run 1, on the default listen address ---
start_crisisrun "$TMP/run1.out" --db "$DB" run --drill --speed 60 --quiet \
    --var "detail=$XSS_VAR" "$TMP/web.yaml"
RUN1_PID=$BG_PID
run_started "$TMP/run1.out"
RUN1=$RUN_ID
wait_for "[[ -s '$TMP/run-$RUN1.token' ]]" 10
TOKEN=$(cat "$TMP/run-$RUN1.token")
CONTROL=$(sqlite3 "$DB" "SELECT control_addr FROM runs WHERE id = '$RUN1'")
[[ "$CONTROL" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "default control address '$CONTROL'"
# Every socket the run listens on is a loopback one.
if command -v ss >/dev/null; then
    ss -Hltnp | grep "pid=$RUN1_PID," | awk '{print $4}' >"$TMP/listening"
    [[ -s "$TMP/listening" ]] || fail "ss shows no listening socket of the run"
    if grep -vE '^(127\.0\.0\.1|\[::1\]):[0-9]+$' "$TMP/listening"; then
        fail "the run listens beyond loopback (above)"
    fi
else
    echo "note: ss is not installed; the listening check relies on control_addr"
fi
wait_for "[[ \$(inbox_count /) -ge 3 ]]" 10

# --- the control API: no token, a wrong one, a near miss -> 401, nothing changes ---
snapshot() {
    sqlite3 "$DB" "SELECT status, state, ifnull(acknowledged_ms, ''), ifnull(resolved_ms, '') FROM runs;
                   SELECT seq, kind, ifnull(step, ''), detail FROM events;
                   SELECT * FROM notes; SELECT * FROM ack_waits;
                   SELECT id, state FROM notifications;"
}
snapshot >"$TMP/before"
PATHS=(/api /api/ /api/runs /api/runs/ "/api/runs/$RUN1" "/api/runs/$RUN1/ack" "/api/runs/$RUN1/status"
       "/api/runs/$RUN1/note" "/api/runs/$RUN1/trigger" "/api/runs/$RUN1/resolve" /api/nonexistent
       "/api/runs/$RUN1/../../healthz" /api/runs/000000000000/resolve)
AUTHS=("" "Authorization: Bearer" "Authorization: Bearer wrong" "Authorization: Bearer ${TOKEN:0:63}"
       "Authorization: Bearer ${TOKEN}0" "Authorization: Basic $TOKEN" "Authorization: $TOKEN"
       "Authorization: Bearer ${TOKEN^^}" "X-Token: $TOKEN")
for p in "${PATHS[@]}"; do
    for a in "${AUTHS[@]}"; do
        code=$(curl -sS --path-as-is -o /dev/null -w '%{http_code}' ${a:+-H "$a"} "$CONTROL$p")
        assert_eq "$code" 401 "GET $p with '${a:-no header}'"
        code=$(curl -sS --path-as-is -o /dev/null -w '%{http_code}' ${a:+-H "$a"} \
            -H 'Content-Type: application/json' --data-binary '{"status":"resolved","text":"x","step":"all-clear"}' \
            "$CONTROL$p")
        assert_eq "$code" 401 "POST $p with '${a:-no header}'"
    done
done
snapshot >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "unauthorised requests changed the journal: $(diff "$TMP/before" "$TMP/after")"
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$CONTROL/api/runs/$RUN1")" \
    200 "the right token is accepted"

# --- oversize requests to the control API: 413, nothing stored ---
BIG_NOTE=$(python3 -c 'import json; print(json.dumps({"text": "x" * 20000}))')
assert_eq "$(http_post "$CONTROL/api/runs/$RUN1/note" "$BIG_NOTE" -H "Authorization: Bearer $TOKEN")" 413 \
    "a 20 KB note to the control API"
head -c $(( 2 * 1024 * 1024 )) /dev/zero | tr '\0' x >"$TMP/huge"
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary @"$TMP/huge" "$CONTROL/api/runs/$RUN1/note")" 413 \
    "a 2 MB body to the control API"
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM notes")" 0 "no oversize note stored"

# --- hostile text through the operator commands, then resolution ---
# As a note it becomes {{latest_note}} (an action item does not), and as
# an action item it is listed in the report.
XSS_ACTION='<script>alert("action")</script>'
crisisrun --db "$DB" note "$RUN1" "$XSS_NOTE" >/dev/null
crisisrun --db "$DB" note "$RUN1" "$XSS_ACTION" --action >/dev/null
crisisrun --db "$DB" resolve "$RUN1" >/dev/null
wait_requests 3
declare -A TOKENS
for ch in slack/oncall teams/leaders webhook/customers; do
    link=$(inbox_link "/$ch")
    [[ "$link" =~ /feedback/([0-9a-f]{32})$ ]] || fail "feedback link of $ch: '$link'"
    TOKENS[$RUN1/$ch]=${BASH_REMATCH[1]}
done
FORM=$CONTROL/feedback/${TOKENS[$RUN1/webhook/customers]}

# --- the feedback form: the title escaped; an invalid post echoes the
# comment and the name back escaped; a valid one stores them ---
assert_eq "$(get_page "$FORM")" 200 "the form"
assert_contains "$TMP/http_body" "Checkout outage &lt;script&gt;alert(1)&lt;/script&gt;"
assert_not_contains "$TMP/http_body" "<script"
COMMENT_ENC=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote_plus(sys.argv[1]))' "$XSS_COMMENT")
NAME_ENC=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote_plus(sys.argv[1]))' "$XSS_NAME")
assert_eq "$(post_form "$FORM" "q_informed=9&q_better=$COMMENT_ENC&name=$NAME_ENC")" 400 "an invalid rating"
assert_contains "$TMP/http_body" '&lt;script&gt;alert(&quot;comment&quot;)&lt;/script&gt;'
assert_not_contains "$TMP/http_body" "<script"
assert_eq "$(post_form "$FORM" "q_informed=4&q_better=$COMMENT_ENC&name=$NAME_ENC")" 303 "a valid post"
assert_eq "$(get_page "$FORM/thanks")" 200 "the thank-you page"
assert_not_contains "$TMP/http_body" "<script"
assert_eq "$(sqlite3 "$DB" "SELECT text FROM feedback_answers WHERE question_id = 'better'")" "$XSS_COMMENT" \
    "the comment is stored as written"

# --- the feedback form: oversize posts -> 413, nothing stored ---
BIG_FORM="q_informed=4&q_better=$(head -c 70000 /dev/zero | tr '\0' x)"
assert_eq "$(post_form "$FORM" "$BIG_FORM")" 413 "a 70 KB feedback post"
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary @"$TMP/huge" "$FORM")" 413 "a 2 MB feedback post"
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM feedback_responses")" 1 "only the valid response stored"

# --- the inbox page shows the messages, inert ---
curl -sS "$INBOX_URL/" >"$TMP/inbox.html"
assert_contains "$TMP/inbox.html" 'Impact:'
assert_contains "$TMP/inbox.html" '&lt;script&gt;alert(&quot;var&quot;)&lt;/script&gt;'
assert_contains "$TMP/inbox.html" '&lt;script&gt;alert(&quot;note&quot;)&lt;/script&gt;'
assert_not_contains "$TMP/inbox.html" "<script"
assert_not_contains "$TMP/inbox.html" "<img"

stop_pid "$RUN1_PID" "run 1 (SIGTERM in its feedback window)"

# --- the report: every piece of user text escaped ---
crisisrun --db "$DB" report "$RUN1" --format html -o "$TMP/report.html"
assert_not_contains "$TMP/report.html" "<script"
assert_not_contains "$TMP/report.html" "<img"
assert_contains "$TMP/report.html" "Checkout outage &lt;script&gt;alert(1)&lt;/script&gt;"
assert_contains "$TMP/report.html" '&lt;script&gt;alert(&quot;note&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;'
assert_contains "$TMP/report.html" '&lt;script&gt;alert(&quot;comment&quot;)&lt;/script&gt;'
assert_contains "$TMP/report.html" '<li>☐ &lt;script&gt;alert(&quot;action&quot;)&lt;/script&gt; <span class="muted">'
assert_not_contains "$TMP/inbox.html" 'alert(&quot;action&quot;)'
# Only the markup crisisrun wrote: no attribute starts an event handler.
if grep -Eio '<[a-z]+[^>]* on[a-z]+=' "$TMP/report.html"; then
    fail "an event handler attribute in report.html (above)"
fi

# --- serve: the form of run 1, escaped; its API behind the token too ---
start_serve
assert_eq "$(get_page "$SERVE_URL/feedback/${TOKENS[$RUN1/slack/oncall]}")" 200 "serve's form"
assert_not_contains "$TMP/http_body" "<script"
assert_contains "$TMP/http_body" "Checkout outage &lt;script&gt;"
for p in /api/runs "/api/runs/$RUN1" /api/x; do
    assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' "$SERVE_URL$p")" 401 "serve $p without a token"
    assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${SERVE_TOKEN:0:63}" "$SERVE_URL$p")" \
        401 "serve $p with a near-miss token"
done
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary @"$TMP/huge" "$SERVE_URL/feedback/${TOKENS[$RUN1/slack/oncall]}")" 413 "a 2 MB post to serve's form"
[[ "$SERVE_URL" =~ ^http://127\.0\.0\.1: ]] || fail "serve listens on '$SERVE_URL'"
stop_pid "$SERVE_PID" serve

# --- run 2: new tokens, none equal to any other ---
start_crisisrun "$TMP/run2.out" --db "$DB" run --drill --speed 60 --quiet "$TMP/web.yaml"
RUN2_PID=$BG_PID
run_started "$TMP/run2.out"
RUN2=$RUN_ID
wait_for "[[ -s '$TMP/run-$RUN2.token' ]]" 10
crisisrun --db "$DB" resolve "$RUN2" >/dev/null
wait_requests 6
for ch in slack/oncall teams/leaders webhook/customers; do
    link=$(inbox_link "/$ch")
    [[ "$link" =~ /feedback/([0-9a-f]{32})$ ]] || fail "feedback link of $ch in run 2: '$link'"
    TOKENS[$RUN2/$ch]=${BASH_REMATCH[1]}
done
stop_pid "$RUN2_PID" "run 2"
assert_eq "$(printf '%s\n' "${TOKENS[@]}" | sort -u | wc -l)" 6 "six distinct feedback tokens"
assert_eq "$(sqlite3 "$DB" "SELECT count(DISTINCT token) FROM feedback_tokens WHERE length(token) = 32
                             AND token NOT GLOB '*[^0-9a-f]*'")" 6 "journaled feedback tokens"
# The control tokens differ per run too (and are gone with their runs).
[[ ! -e "$TMP/run-$RUN1.token" && ! -e "$TMP/run-$RUN2.token" ]] || fail "token files left behind"
assert_eq "$(sqlite3 "$DB" "SELECT count(DISTINCT control_token) FROM runs")" 2 "control tokens per run"

stop_inbox
echo "ok: web surfaces"
