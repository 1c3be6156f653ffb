#!/usr/bin/env bash
# `crisisrun serve` over a journal with two runs: /healthz, the bearer
# token before routing, the read-only run API, many concurrent form posts
# each stored exactly once, the rate limit, and a clean exit on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/feedback_lib.sh"

start_inbox
# Run A keeps a long window (stopped by SIGTERM once resolved); run B's
# window (1m of drill time, one real second) closes before it returns.
write_playbook "$TMP/long.yaml" 24h
write_playbook "$TMP/short.yaml" 1m
start_drill "$TMP/a.out" "$TMP/long.yaml"
RUN_A=$RUN_ID
wait_requests 2
stop_pid "$BG_PID" "run A"
crisisrun --db "$DB" run --drill --speed 60 --listen 127.0.0.1:0 --quiet "$TMP/short.yaml" \
    >"$TMP/b.out" 2>&1 || fail "run B failed: $(cat "$TMP/b.out")"
RUN_B=$(head -1 "$TMP/b.out")

# --- usage ---
crisisrun --db "$DB" serve extra >"$TMP/err" 2>&1 && fail "serve took an argument"
assert_contains "$TMP/err" "crisisrun: unexpected argument 'extra'"
crisisrun --db "$DB" serve --public-url ftp://x >"$TMP/err" 2>&1 && fail "serve took an ftp URL"
assert_contains "$TMP/err" "invalid --public-url (use http:// or https://)"
crisisrun --db "$DB" serve --public-url https://u:pw@x.example >"$TMP/err" 2>&1 &&
    fail "serve took a public URL with a password"
assert_contains "$TMP/err" "must not hold a user name or password"
assert_not_contains "$TMP/err" "u:pw"
crisisrun serve --help >"$TMP/out" || fail "serve --help"
assert_contains "$TMP/out" "usage: crisisrun [--db PATH] serve [--listen ADDR] [--public-url URL]"

start_serve
[[ "$SERVE_URL" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "serve URL '$SERVE_URL'"
assert_eq "$(head -1 "$TMP/serve.out")" "crisisrun serve listening on $SERVE_URL" "first line"
assert_contains "$TMP/serve.out" "API token in $TMP/serve.token"
assert_eq "$(stat -c %a "$TMP/serve.token")" 600 "token file mode"
[[ "$SERVE_TOKEN" =~ ^[0-9a-f]{64}$ ]] || fail "token '$SERVE_TOKEN'"

assert_eq "$(get_page "$SERVE_URL/healthz")" 200 "healthz"
assert_eq "$(cat "$TMP/http_body")" ok "healthz body"

# --- the bearer token comes before routing ---
AUTH="Authorization: Bearer $SERVE_TOKEN"
for path in /api/runs /api/runs/$RUN_A /api/nothing /api; do
    assert_eq "$(get_page "$SERVE_URL$path")" 401 "$path without a token"
    assert_eq "$(header WWW-Authenticate)" Bearer "$path challenge"
done
assert_eq "$(get_page "$SERVE_URL/api/runs" -H 'Authorization: Bearer nope')" 401 "wrong token"
assert_eq "$(get_page "$SERVE_URL/api/runs" -H "Authorization: Bearer ${SERVE_TOKEN}0")" 401 "longer token"
assert_eq "$(get_page "$SERVE_URL/api/runs" -X POST)" 401 "POST without a token"

# --- read-only API ---
assert_eq "$(get_page "$SERVE_URL/api/runs" -H "$AUTH")" 200 "GET /api/runs"
assert_eq "$(header Content-Type)" application/json "API content type"
J=$TMP/http_body
# Newest first; ids, state, drill and each window on its drill clock.
assert_eq "$(json_query '[r["id"] for r in d["runs"]]' "$J")" "[\"$RUN_B\", \"$RUN_A\"]" "both runs"
assert_eq "$(json_query '[(r["playbook"], r["state"], r["status"], r["drill"], r["speed"], r["feedback"]["window"]) for r in d["runs"]]' "$J")" \
    '[["checkout-outage", "resolved", "resolved", true, 60.0, "closed"], ["checkout-outage", "resolved", "resolved", true, 60.0, "open"]]' \
    "run summaries"
json_query 'all(r["started"].endswith("Z") and r["resolved"] and r["feedback"]["closes"] for r in d["runs"])' "$J" |
    grep -qx true || fail "times missing: $(cat "$J")"
assert_not_contains "$J" token
assert_not_contains "$J" control

assert_eq "$(get_page "$SERVE_URL/api/runs/${RUN_A:0:12}" -H "$AUTH")" 200 "GET /api/runs/ID"
assert_eq "$(json_query '(d["id"], d["counts"]["notifications"]["delivered"], d["counts"]["feedback"]["responses"])' "$J")" \
    "[\"$RUN_A\", 5, 0]" "one run with counts"
assert_eq "$(get_page "$SERVE_URL/api/runs/${RUN_B:0:6}" -H "$AUTH")" 200 "a unique prefix"
assert_eq "$(json_query 'd["id"]' "$J")" "$RUN_B" "prefix match"
assert_eq "$(get_page "$SERVE_URL/api/runs/ffffffffffff" -H "$AUTH")" 404 "unknown run"
assert_eq "$(get_page "$SERVE_URL/api/runs/$RUN_A/ack" -H "$AUTH")" 404 "no actions here"
assert_eq "$(get_page "$SERVE_URL/api/other" -H "$AUTH")" 404 "unknown endpoint"
assert_eq "$(get_page "$SERVE_URL/api/runs" -H "$AUTH" -X POST -d '{}')" 405 "POST /api/runs"
assert_eq "$(header Allow)" "GET, HEAD" "Allow"
assert_eq "$(get_page "$SERVE_URL/api/runs/$RUN_A" -H "$AUTH" -X DELETE)" 405 "DELETE a run"
assert_eq "$(get_page "$SERVE_URL/nothing")" 404 "unknown path"

# --- 50 concurrent posts, 25 to each of run A's links, while another run
# writes the same journal: each stored exactly once ---
start_drill "$TMP/c.out" "$TMP/long.yaml"
RUN_C_PID=$BG_PID
TOK_INT=$(run_token "$RUN_A" oncall) TOK_EXT=$(run_token "$RUN_A" customers)
for i in $(seq 1 50); do
    if (( i % 2 )); then echo "$i $TOK_EXT"; else echo "$i $TOK_INT"; fi
done >"$TMP/posts"
export SERVE_URL
# shellcheck disable=SC2016
xargs -P 10 -L 1 sh -c 'curl -sS -o /dev/null -w "%{http_code}\n" \
    --data-binary "q_informed=$(( $1 % 5 + 1 ))&q_better=post-$1" "$SERVE_URL/feedback/$2"' post \
    <"$TMP/posts" >"$TMP/codes" || fail "a post failed"
assert_eq "$(sort "$TMP/codes" | uniq -c | awk '{print $1, $2}')" "50 303" "every post answered 303"
assert_eq "$(sqlite3 "$DB" "SELECT count(*), count(DISTINCT a.text) FROM feedback_responses f
    JOIN feedback_answers a ON a.response_id = f.id AND a.question_id = 'better'
    WHERE f.run_id = '$RUN_A'")" "50|50" "50 responses, each once"
assert_eq "$(sqlite3 "$DB" "SELECT group_concat(n) FROM (SELECT CAST(substr(text, 6) AS INTEGER) n
    FROM feedback_answers WHERE question_id = 'better' ORDER BY n)")" "$(seq -s, 1 50)" "posts 1 to 50"
# Each response carries its link's channel, audience and rating.
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM feedback_responses f
    JOIN feedback_answers b ON b.response_id = f.id AND b.question_id = 'better'
    JOIN feedback_answers r ON r.response_id = f.id AND r.question_id = 'informed'
    WHERE (CAST(substr(b.text, 6) AS INTEGER) % 2 = 1) = (f.channel = 'customers')
      AND (f.channel = 'customers') = (f.audience = 'external')
      AND r.rating = CAST(substr(b.text, 6) AS INTEGER) % 5 + 1
      AND f.source = 'form' AND f.anonymous = 0 AND f.respondent IS NULL")" 50 "attribution"
wait_requests 6 # A, B and C: two links each
stop_pid "$RUN_C_PID" "run C"
assert_eq "$(get_page "$SERVE_URL/api/runs/$RUN_A" -H "$AUTH")" 200 "counts after the posts"
assert_eq "$(json_query 'd["counts"]["feedback"]' "$J")" \
    '{"external": 25, "internal": 25, "responses": 50}' "feedback counts"

# --- the rate limit of one link: 429 with Retry-After; other links unaffected ---
code=
for _ in $(seq 1 300); do
    code=$(post_form "$SERVE_URL/feedback/$TOK_INT" 'q_informed=9')
    [[ $code == 400 ]] || break
done
assert_eq "$code" 429 "posts past the link's limit"
[[ "$(header Retry-After)" =~ ^[1-9][0-9]*$ ]] || fail "Retry-After '$(header Retry-After)'"
assert_contains "$TMP/http_body" 'Too many responses at once'
assert_eq "$(post_form "$SERVE_URL/feedback/$TOK_EXT" 'q_informed=9')" 400 "the other link still works"
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM feedback_responses")" 50 "nothing more stored"

# --- run B's window is closed ---
assert_eq "$(get_page "$SERVE_URL/feedback/$(run_token "$RUN_B" oncall)")" 410 "run B is closed"

# --- SIGTERM: exit 0, token file gone ---
stop_pid "$SERVE_PID" serve
[[ ! -e "$TMP/serve.token" ]] || fail "serve left its token file"
stop_inbox
echo ok
