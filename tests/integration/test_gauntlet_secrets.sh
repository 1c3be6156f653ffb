#!/usr/bin/env bash
# Secrets stay where the user put them.  A playbook takes webhook URLs
# (secret paths and queries), a signing secret and a bearer token from
# the environment; a marker in each must then appear in no output of
# validate, plan, run, the operator commands, show, list, report (md, html,
# json), serve's API, nor anywhere in the journal, and the signing secret
# nowhere at the receiver either.  The control token is in a 0600 file
# and never printed.
. "$(dirname "$0")/lib.sh"

DB=$TMP/journal.db
OUT=$TMP/out
mkdir "$OUT"

start_inbox
CLOSED_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

# The markers: each appears once in what the user wrote (the environment
# or a urls_file), and must appear nowhere else.
M_PATH1=PATHMARKslack4f1e M_QUERY1=QUERYMARKslack8c2d
M_PATH2=PATHMARKhook77aa M_PATH3=PATHMARKfail31bd M_QUERY3=QUERYMARKfail0e9c
M_PATH4=PATHMARKrefused55c1 M_QUERY4=QUERYMARKrefused2b7e
M_PATH5=PATHMARKfile9d03 M_QUERY5=QUERYMARKfile6a4f
M_BEARER=BEARERMARK3e8f0c71d2
# A Standard Webhooks secret: whsec_ and base64 of the key.
M_SIGNING=R0FVTlRMRVQtc2lnbmluZy1TRUNSRVQtbWFya2VyISE=
SIGNING_SECRET=whsec_$M_SIGNING
MARKERS=("$M_PATH1" "$M_QUERY1" "$M_PATH2" "$M_PATH3" "$M_QUERY3" "$M_PATH4" "$M_QUERY4"
         "$M_PATH5" "$M_QUERY5" "$M_BEARER" "$M_SIGNING")

export SLACK_URL="$INBOX_URL/slack/T0/B0/$M_PATH1?token=$M_QUERY1"
export HOOK_URL="$INBOX_URL/webhook/customers/$M_PATH2"
export FAIL_URL="$INBOX_URL/fault/500/webhook/$M_PATH3?key=$M_QUERY3"
export REFUSED_URL="http://127.0.0.1:$CLOSED_PORT/hooks/$M_PATH4?sig=$M_QUERY4"
export BEARER=$M_BEARER SIGNING_SECRET
echo "$INBOX_URL/webhook/subscribers/$M_PATH5?k=$M_QUERY5" >"$TMP/subscribers.txt"

cat >"$TMP/secrets.yaml" <<'EOF'
crisisrun: 1
name: secret-keeping
title: "Payments outage"
severity: sev1
targets: {acknowledge: 5m, update_interval: 10m}
channels:
  oncall: {type: slack, url: "${env:SLACK_URL}", rate: 10/s}
  customers:
    type: webhook
    url: "${env:HOOK_URL}"
    secret: "${env:SIGNING_SECRET}"
    headers: {Authorization: "Bearer ${env:BEARER}"}
    audience: external
  subscribers: {type: webhook, urls_file: subscribers.txt, secret: "${env:SIGNING_SECRET}"}
  broken: {type: webhook, url: "${env:FAIL_URL}", retry: {attempts: 2, backoff: 100ms}}
  unreachable: {type: webhook, url: "${env:REFUSED_URL}", timeout: 2s, retry: {attempts: 2, backoff: 100ms}}
steps:
  - id: declare
    at: 0s
    notify: [oncall, customers, subscribers, broken, unreachable]
    message: "Payments are failing; next update by {{next_update}}."
  - id: page
    on: manual
    notify: [oncall, customers]
    message: "Manual page: {{latest_note}}"
  - id: all-clear
    on: resolved
    notify: [oncall, customers, subscribers]
    message: "Resolved after {{elapsed}}."
feedback:
  window: 1s
  request: {notify: [customers], message: "How did we do? {{feedback_url}}"}
  questions:
    - {id: informed, text: "How well were you kept informed?", scale: 5}
EOF
# The playbook file itself holds no marker: all of them come from the
# environment or from the urls_file.
for m in "${MARKERS[@]}"; do assert_not_contains "$TMP/secrets.yaml" "$m"; done

# --- the commands that read a playbook ---
crisisrun validate "$TMP/secrets.yaml" >"$OUT/validate" 2>&1
crisisrun plan "$TMP/secrets.yaml" >"$OUT/plan" 2>&1
crisisrun plan --json "$TMP/secrets.yaml" >"$OUT/plan.json" 2>&1
assert_contains "$OUT/plan" "http://127.0.0.1:"
# And a playbook error that concerns a secret-bearing value.
SLACK_URL="ftp://example.invalid/$M_PATH1" crisisrun validate "$TMP/secrets.yaml" \
    >"$OUT/validate-bad" 2>&1 && fail "an ftp URL is valid?"
# A password with an '@' of its own would put part of it where the host
# is read: refused, as are substitutions written with a secret in them
# (the errors point at them without quoting them).
SLACK_URL="http://u@x.example:$M_PATH1@127.0.0.1:9/s" crisisrun validate "$TMP/secrets.yaml" \
    >"$OUT/validate-at" 2>&1 && fail "a URL with two '@' is valid?"
assert_contains "$OUT/validate-at" "more than one '@' before its host"
cat >"$TMP/substitutions.yaml" <<EOF
crisisrun: 1
name: subst
vars:
  a: "\${env:https://hooks.example/$M_PATH2}"
  b: "Bearer ab\${cd$M_QUERY3}"
  c: "\${vault:$M_QUERY4}"
channels:
  oncall: {type: slack, url: "http://127.0.0.1:9/s"}
steps:
  - {id: s, at: 0s, notify: [oncall], message: "m"}
EOF
crisisrun validate "$TMP/substitutions.yaml" >"$OUT/validate-subst" 2>&1 &&
    fail "bad substitutions are valid?"
assert_contains "$OUT/validate-subst" "invalid environment variable name in '\${env:...}'"
assert_contains "$OUT/validate-subst" "unknown substitution '\${...}'"
assert_contains "$OUT/validate-subst" "unknown substitution '\${vault:...}'"
# A message (or a var, or the title) that would carry a channel's secret
# to everyone is refused when the playbook is loaded, before plan prints
# it: here the Slack URL, the signing secret and the bearer token.
sed -e 's|"Manual page: {{latest_note}}"|"Manual page: see ${env:SLACK_URL}"|' \
    -e 's|^title: .*|title: "Outage ${env:SIGNING_SECRET}"|' \
    -e 's|^targets:|vars: {auth: "Bearer ${env:BEARER}"}\ntargets:|' \
    "$TMP/secrets.yaml" >"$TMP/public.yaml"
crisisrun validate "$TMP/public.yaml" >"$OUT/validate-public" 2>&1 &&
    fail "a message with a channel's URL is valid?"
crisisrun plan "$TMP/public.yaml" >"$OUT/plan-public" 2>&1 && fail "plan showed it?"
assert_contains "$OUT/validate-public" "the message holds channel 'oncall''s url, a secret"
assert_contains "$OUT/validate-public" "the title holds channel 'customers''s signing secret"
assert_contains "$OUT/validate-public" "var 'auth' holds channel 'customers''s header value"
# Options that take a secret, or a URL that could hold one.
crisisrun inbox --secret "$SIGNING_SECRET" >"$OUT/inbox-secret" 2>&1 &&
    fail "inbox took a secret without a path prefix"
assert_contains "$OUT/inbox-secret" "invalid --secret (expected PATH_PREFIX=whsec_BASE64"
crisisrun --db "$TMP/unused.db" run --public-url "https://u:$M_PATH3@status.example/" \
    "$TMP/secrets.yaml" >"$OUT/public-url" 2>&1 && fail "run took a public URL with a password"
assert_contains "$OUT/public-url" "must not hold a user name or password"
crisisrun --db "$TMP/unused.db" resume --public-url "https://u:$M_QUERY3@status.example/" \
    abc >"$OUT/public-url-resume" 2>&1 && fail "resume took a public URL with a password"
assert_contains "$OUT/public-url-resume" "must not hold a user name or password"

# --- the run, and the operator commands while it goes ---
start_crisisrun "$OUT/run" --db "$DB" run --drill --speed 60 --quiet "$TMP/secrets.yaml"
RUN_PID=$BG_PID
wait_for "[[ -s '$OUT/run' ]] && head -1 '$OUT/run' | grep -qE '^[0-9a-f]{12}\$'" 10
RUN=$(head -1 "$OUT/run")
TOKEN_FILE=$TMP/run-$RUN.token
wait_for "[[ -s '$TOKEN_FILE' ]]" 10
assert_eq "$(stat -c %a "$TOKEN_FILE")" 600 "control token file mode"
TOKEN=$(cat "$TOKEN_FILE")
[[ "$TOKEN" =~ ^[0-9a-f]{64}$ ]] || fail "control token '$TOKEN'"
assert_eq "$(stat -c %a "$DB")" 600 "journal mode"
CONTROL=$(sqlite3 "$DB" "SELECT control_addr FROM runs WHERE id = '$RUN'")
# Wait for the first step to settle (the refused endpoint retries once).
wait_for "[[ \$(sqlite3 '$DB' \"SELECT count(*) FROM notifications WHERE step = 'declare'
          AND state IN ('delivered', 'failed')\") == 5 ]]" 20

crisisrun --db "$DB" ack "$RUN" >"$OUT/ack" 2>&1
crisisrun --db "$DB" note "$RUN" "Rolled back the deploy" --notify oncall >"$OUT/note" 2>&1
crisisrun --db "$DB" trigger "$RUN" page >"$OUT/trigger" 2>&1
crisisrun --db "$DB" status "$RUN" monitoring >"$OUT/status" 2>&1
curl -sS -H "Authorization: Bearer $TOKEN" "$CONTROL/api/runs/$RUN" >"$OUT/api-run"
json_query 'd["id"]' "$OUT/api-run" | grep -qx "$RUN" || fail "control API: $(cat "$OUT/api-run")"
# A failing operator command (an unknown step) reports without secrets.
crisisrun --db "$DB" trigger "$RUN" no-such-step >"$OUT/trigger-bad" 2>&1 && fail "unknown step triggered"
crisisrun --db "$DB" resolve "$RUN" >"$OUT/resolve" 2>&1
wait_for "! kill -0 $RUN_PID 2>/dev/null" 30
rc=0
wait "$RUN_PID" || rc=$?
_cr_forget_pid "$RUN_PID"
assert_eq "$rc" 1 "run exit (the broken and unreachable channels failed)"
[[ ! -e "$TOKEN_FILE" ]] || fail "the control token file outlived the run"
assert_eq "$(inbox_count /webhook/customers/)" 4 "customers: declare, page, all-clear, feedback request"

# --- the views after the run ---
crisisrun --db "$DB" show "$RUN" >"$OUT/show" 2>&1
crisisrun --db "$DB" show "$RUN" --json >"$OUT/show.json" 2>&1
crisisrun --db "$DB" list >"$OUT/list" 2>&1
crisisrun --db "$DB" list --json >"$OUT/list.json" 2>&1
for f in md html json; do
    crisisrun --db "$DB" report "$RUN" --format $f >"$OUT/report.$f" 2>&1
done
assert_contains "$OUT/show" "http://127.0.0.1:"
assert_contains "$OUT/report.json" '"failed"'

# --- serve's API ---
start_crisisrun "$OUT/serve" --db "$DB" serve --listen 127.0.0.1:0
SERVE_PID=$BG_PID
wait_for "grep -q 'listening on' '$OUT/serve'" 10
SERVE_URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$OUT/serve")
wait_for "[[ -s '$TMP/serve.token' ]]" 10
assert_eq "$(stat -c %a "$TMP/serve.token")" 600 "serve token file mode"
SERVE_TOKEN=$(cat "$TMP/serve.token")
curl -sS -H "Authorization: Bearer $SERVE_TOKEN" "$SERVE_URL/api/runs" >"$OUT/serve-runs"
curl -sS -H "Authorization: Bearer $SERVE_TOKEN" "$SERVE_URL/api/runs/$RUN" >"$OUT/serve-run"
assert_contains "$OUT/serve-runs" "$RUN"
stop_pid "$SERVE_PID" serve
for t in "$TOKEN" "$SERVE_TOKEN"; do
    grep -rlF -- "$t" "$OUT" && fail "a control token was printed (files above)"
done

# --- the receiver: the page shows paths (where the user sent them), but
# neither the signing secret nor the bearer token ---
curl -sS "$INBOX_URL/" >"$TMP/inbox-page"
assert_contains "$TMP/inbox-page" "Payments are failing"
assert_not_contains "$TMP/inbox-page" "$M_SIGNING"
assert_not_contains "$TMP/inbox-page" "$M_BEARER"
assert_not_contains "$INBOX_LOG" "$M_SIGNING"
# The bearer header reached the receiver it was meant for, and only it.
assert_eq "$(inbox_requests | json_query "sum(1 for r in d if '$M_BEARER' in json.dumps(r))")" 4 \
    "requests that carry the bearer token"
assert_eq "$(inbox_requests | json_query "sum(1 for r in d if '$M_BEARER' in json.dumps(r) and
            not r['path'].startswith('/webhook/customers/'))")" 0 "bearer token sent elsewhere"

# --- every output: no marker ---
for f in "$OUT"/*; do
    for m in "${MARKERS[@]}"; do
        if grep -qF -- "$m" "$f"; then
            fail "$(basename "$f") shows a secret ($m): $(grep -F -- "$m" "$f" | head -2)"
        fi
    done
done

# --- the journal: no marker in any table, nor in the raw file ---
sqlite3 "$DB" .dump >"$TMP/journal.dump"
for m in "${MARKERS[@]}"; do
    assert_not_contains "$TMP/journal.dump" "$m"
    if grep -qaF -- "$m" "$DB" "$DB"-wal 2>/dev/null; then
        fail "the journal file holds $m"
    fi
done
# ... while it does hold what it must: the playbook as written, with its
# references unexpanded, and redacted endpoints.
assert_contains "$TMP/journal.dump" '${env:SLACK_URL}'
assert_eq "$(sqlite3 "$DB" "SELECT count(DISTINCT endpoint_redacted) FROM notifications")" 2 \
    "redacted endpoints: the inbox and the closed port"

stop_inbox
echo "ok: no secret leaked"
