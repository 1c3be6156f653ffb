# tests/integration/feedback_lib.sh - helpers for the feedback form and
# `serve` tests.  Source it after lib.sh.
#
#   DB                            the journal of the test ($TMP/journal.db)
#   write_playbook FILE WINDOW    a drill playbook: channels oncall (slack,
#                                 internal) and customers (webhook,
#                                 external) on the inbox, resolved by a step
#                                 at 1m, feedback window WINDOW, questions
#                                 informed (1..5), speed (1..10), better (text)
#   start_drill OUT ARGS...       `run --drill --speed 60` in the background on
#                                 a free port; sets BG_PID and RUN_ID
#   wait_requests N               until the inbox holds N feedback requests
#   inbox_link PATH [N]           the feedback link in the Nth (default last)
#                                 request recorded at PATH
#   run_token RUN CHANNEL         the run's feedback token for CHANNEL
#   start_serve [ARGS...]         `serve` on a free port; sets SERVE_URL,
#                                 SERVE_PID, SERVE_TOKEN (the API token)
#   post_form URL BODY [ARGS...]  POST an urlencoded BODY; prints the status;
#                                 body in $TMP/http_body, headers in
#                                 $TMP/http_headers
#   get_page URL [ARGS...]        GET, the same way
#   header NAME                   a header of the last answer (value only)

DB=$TMP/journal.db

write_playbook() {
    cat >"$1" <<EOF
crisisrun: 1
name: checkout-outage
title: "Checkout <b>database</b> outage & recovery"
severity: sev2
channels:
  oncall: {type: slack, url: "\${env:INBOX_URL}/slack/oncall"}
  customers:
    type: webhook
    url: "\${env:INBOX_URL}/webhook/customers"
    audience: external
steps:
  - id: declare
    at: 0s
    notify: [oncall]
    message: "Checkout is failing; we are investigating."
  - id: fixed
    at: 1m
    status: resolved
    notify: [oncall, customers]
    message: "Checkout works again."
feedback:
  window: $2
  request: {notify: [oncall, customers], message: "How did we do? {{feedback_url}}"}
  questions:
    - {id: informed, text: "How well were you kept informed?", scale: 5}
    - {id: speed, text: "How satisfied are you with the speed of resolution?", scale: 10}
    - {id: better, text: "What should we do differently?", type: text}
EOF
}

start_drill() {
    local out=$1 i=0
    shift
    start_crisisrun "$out" --db "$DB" run --drill --speed 60 --listen 127.0.0.1:0 --quiet "$@"
    until [[ -s "$out" ]] && head -1 "$out" | grep -qE '^[0-9a-f]{12}$'; do
        if ! kill -0 "$BG_PID" 2>/dev/null; then
            cat "$out" >&2
            fail "the run did not start"
        fi
        (( ++i < 100 * CR_SLOW )) || fail "the run printed no id"
        sleep 0.1
    done
    RUN_ID=$(head -1 "$out")
}

wait_requests() {
    wait_for "[[ \$(inbox_requests | grep -c '/feedback/') -ge $1 ]]" 20
}

inbox_link() {
    inbox_requests | python3 -c '
import json, re, sys
path, n = sys.argv[1], sys.argv[2]
links = []
for line in sys.stdin:
    r = json.loads(line)
    if r["path"] == path:
        links += re.findall(r"https?://[^\s\"\\]*/feedback/[0-9a-f]+", r["body"])[:1]
print(links[int(n)] if links else "")
' "$1" "${2:--1}"
}

run_token() {
    sqlite3 "$DB" "SELECT token FROM feedback_tokens WHERE run_id = '$1' AND channel = '$2'"
}

start_serve() {
    local out=$TMP/serve.out i=0
    : >"$out"
    "${CR_CMD[@]}" --db "$DB" serve --listen 127.0.0.1:0 "$@" >"$out" 2>&1 &
    SERVE_PID=$!
    _CR_PIDS+=("$SERVE_PID")
    until grep -q 'listening on' "$out" 2>/dev/null; do
        if ! kill -0 "$SERVE_PID" 2>/dev/null; then
            cat "$out" >&2
            fail "serve did not start"
        fi
        (( ++i < 100 * CR_SLOW )) || fail "serve did not say where it listens"
        sleep 0.1
    done
    SERVE_URL=$(sed -n 's/^crisisrun serve listening on \(http:[^ ]*\).*/\1/p' "$out")
    [[ -n "$SERVE_URL" ]] || fail "cannot read the serve URL from $out"
    SERVE_TOKEN=$(cat "$TMP/serve.token")
}

post_form() {
    local url=$1 body=$2
    shift 2
    curl -sS -o "$TMP/http_body" -D "$TMP/http_headers" -w '%{http_code}' \
        -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$body" "$@" \
        "$url" || true
}

get_page() {
    local url=$1
    shift
    curl -sS -o "$TMP/http_body" -D "$TMP/http_headers" -w '%{http_code}' "$@" "$url" || true
}

header() {
    sed -n "s/^$1: *\\(.*\\)\\r\$/\\1/Ip" "$TMP/http_headers" | head -1
}
