#!/usr/bin/env bash
# crisisrun inbox: provider answers, fault modes, signatures, the request
# log, the web page, limits and a clean shutdown with a hanging client.
. "$(dirname "$0")/lib.sh"

SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
OTHER_SECRET=whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD

# sign SECRET MSG_ID TIMESTAMP BODY -> "v1,BASE64" (independent of the C code)
sign() {
    python3 -c '
import base64, hashlib, hmac, sys
key = base64.b64decode(sys.argv[1].removeprefix("whsec_"))
msg = ("%s.%s.%s" % (sys.argv[2], sys.argv[3], sys.argv[4])).encode()
print("v1," + base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode())
' "$@"
}

# last_record EXPR: EXPR over the newest recorded request `r`
last_record() {
    inbox_requests | json_query "(lambda r: $1)(d[-1])"
}

start_inbox --secret webhook/signed="$SECRET" --secret /teams/signed="$OTHER_SECRET"
[[ "$INBOX_URL" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "bad INBOX_URL '$INBOX_URL'"
assert_eq "$(curl -sS "$INBOX_URL/healthz")" ok "healthz"

# --- slow fault modes run in the background while the rest is checked ---
# Their clients give up after MAX_TIME seconds (drip sends 10 bytes, one a
# second, so it must still be going then); longer under valgrind.
MAX_TIME=$(( CR_SLOW > 1 ? 6 : 3 ))
curl -sS --max-time "$MAX_TIME" -o /dev/null -X POST -d '{}' "$INBOX_URL/fault/hang/webhook/h" \
    2>/dev/null & HANG_CURL=$!
curl -sS --max-time "$MAX_TIME" -o "$TMP/drip" -X POST -d '{}' "$INBOX_URL/fault/drip/webhook/d" \
    2>/dev/null & DRIP_CURL=$!
wait_for '[[ $(inbox_count /fault/hang/) == 1 ]]' 10
# The hanging request does not block anyone else.
assert_eq "$(http_post "$INBOX_URL/slack/oncall" '{"text":"while hanging"}')" 200 "slack during hang"
kill -0 "$HANG_CURL" 2>/dev/null || fail "the hanging request was answered"
assert_eq "$(last_record 'r["path"]')" /slack/oncall "recorded right after the answer"

# --- providers answer like the real services ---
assert_eq "$(http_post "$INBOX_URL/slack/oncall" '{"text":"Database is down"}')" 200 "slack"
assert_eq "$(cat "$TMP/http_body")" ok "slack body"
assert_eq "$(http_post "$INBOX_URL/mattermost/ops" '{"text":"mm"}')" 200 "mattermost"
assert_eq "$(cat "$TMP/http_body")" ok "mattermost body"
assert_eq "$(http_post "$INBOX_URL/discord/status" '{"content":"dc"}')" 204 "discord"
assert_eq "$(stat -c %s "$TMP/http_body")" 0 "discord body"
TEAMS='{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"Teams card text"},{"type":"Container","items":[{"type":"TextBlock","text":"nested block"}]}]}}]}'
assert_eq "$(http_post "$INBOX_URL/teams/leaders" "$TEAMS")" 202 "teams"
assert_eq "$(http_post "$INBOX_URL/googlechat/eng?threadKey=inc-1" '{"text":"gc"}')" 200 "googlechat"
json_query 'd["name"].startswith("spaces/eng/messages/") and d["thread"]["name"].startswith("spaces/eng/threads/")' \
    "$TMP/http_body" | grep -qx true || fail "googlechat message resource: $(cat "$TMP/http_body")"
T1=$(json_query 'd["thread"]["name"]' "$TMP/http_body")
http_post "$INBOX_URL/googlechat/eng?threadKey=inc-1" '{"text":"gc2"}' >/dev/null
assert_eq "$(json_query 'd["thread"]["name"]' "$TMP/http_body")" "$T1" "same threadKey, same thread"
assert_eq "$(http_post "$INBOX_URL/webhook/customers" '{"message":"hello"}')" 200 "webhook"
assert_eq "$(json_query 'd["ok"]' "$TMP/http_body")" true "webhook body"
assert_eq "$(http_post "$INBOX_URL/anything/else" 'not json')" 200 "other path"

# Malformed messages are refused as the services refuse them.
assert_eq "$(http_post "$INBOX_URL/slack/oncall" 'not json')" 400 "slack invalid"
assert_eq "$(cat "$TMP/http_body")" invalid_payload "slack invalid body"
assert_eq "$(http_post "$INBOX_URL/slack/oncall" '{"username":"x"}')" 400 "slack no text"
assert_eq "$(cat "$TMP/http_body")" no_text "slack no_text body"
assert_eq "$(http_post "$INBOX_URL/discord/status" '{}')" 400 "discord empty"
assert_eq "$(json_query 'd["code"]' "$TMP/http_body")" 50006 "discord empty code"
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' "$INBOX_URL/slack/oncall")" 405 "GET on a webhook"

# --- fault modes ---
assert_eq "$(http_post "$INBOX_URL/fault/500/slack/oncall" '{"text":"x"}')" 500 "500"
assert_eq "$(last_record 'r["fault"] + " " + r["channel"] + " " + str(r["status"])')" \
    "500 slack/oncall 500" "500 record"
for code in 410 404 400; do
    assert_eq "$(http_post "$INBOX_URL/fault/$code/webhook/x" '{}')" "$code" "fault $code"
done
for expect in 503 503 200 200; do
    assert_eq "$(http_post "$INBOX_URL/fault/503-then-ok/2/webhook/flaky" '{"message":"m"}')" \
        "$expect" "503-then-ok"
done
# The count is per exact path.
assert_eq "$(http_post "$INBOX_URL/fault/503-then-ok/2/webhook/other" '{}')" 503 "503-then-ok other path"

assert_eq "$(http_post "$INBOX_URL/fault/429/7/slack/oncall" '{"text":"x"}')" 429 "429"
grep -qix $'retry-after: 7\r' "$TMP/http_headers" || fail "429 without Retry-After: 7"
assert_eq "$(http_post "$INBOX_URL/fault/429json/3/discord/status" '{"content":"x"}')" 429 "429json"
assert_eq "$(json_query '[d["message"], d["retry_after"], d["global"]]' "$TMP/http_body")" \
    '["You are being rate limited.", 3.0, false]' "429json body"
grep -qi '^retry-after' "$TMP/http_headers" && fail "429json must not send Retry-After"

assert_eq "$(http_post "$INBOX_URL/fault/redirect/webhook/moved" '{}')" 302 "redirect"
LOCATION=$(sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' "$TMP/http_headers")
assert_eq "$LOCATION" "$INBOX_URL/redirected/webhook/moved" "redirect target"
assert_eq "$(inbox_count /redirected/)" 0 "redirect target never requested"
# ... and following it would show (so the check above can fail).
curl -sS -o /dev/null -L -X POST -d '{}' "$INBOX_URL/fault/redirect/webhook/moved"
assert_eq "$(inbox_count /redirected/)" 1 "a followed redirect is recorded"

assert_eq "$(http_post "$INBOX_URL/fault/slow/200/slack/oncall" '{"text":"late"}')" 200 "slow"
assert_eq "$(cat "$TMP/http_body")" ok "slow body"

BIG_BYTES=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' -X POST -d '{}' \
    "$INBOX_URL/fault/big/webhook/big")
assert_eq "$BIG_BYTES" "200 10485760" "big"

assert_eq "$(http_post "$INBOX_URL/fault/nonsense/slack/oncall" '{"text":"x"}')" 400 "unknown fault"
assert_contains "$TMP/http_body" "invalid fault 'nonsense'"

# --- signatures ---
NOW=$(date +%s)
BODY='{"message":"signed hello"}'
SIG=$(sign "$SECRET" msg_1 "$NOW" "$BODY")
assert_eq "$(http_post "$INBOX_URL/webhook/signed/customers" "$BODY" -H "webhook-id: msg_1" \
    -H "webhook-timestamp: $NOW" -H "webhook-signature: $SIG")" 200 "valid signature"
assert_eq "$(last_record 'r["signature"]')" valid "valid recorded"
assert_eq "$(http_post "$INBOX_URL/webhook/signed/customers" '{"message":"tampered"}' \
    -H "webhook-id: msg_1" -H "webhook-timestamp: $NOW" -H "webhook-signature: $SIG")" 401 "tampered"
assert_eq "$(last_record 'r["signature"]')" invalid "invalid recorded"
OLD=$((NOW - 600))
assert_eq "$(http_post "$INBOX_URL/webhook/signed/customers" "$BODY" -H "webhook-id: msg_1" \
    -H "webhook-timestamp: $OLD" -H "webhook-signature: $(sign "$SECRET" msg_1 "$OLD" "$BODY")")" \
    401 "expired timestamp"
assert_eq "$(http_post "$INBOX_URL/webhook/signed/customers" "$BODY")" 401 "absent on a signed path"
assert_eq "$(last_record 'r["signature"]')" absent "absent recorded"
# Another prefix uses its own secret (the leading '/' of a prefix is ignored).
TSIG=$(sign "$OTHER_SECRET" msg_2 "$NOW" "$TEAMS")
assert_eq "$(http_post "$INBOX_URL/teams/signed" "$TEAMS" -H "webhook-id: msg_2" \
    -H "webhook-timestamp: $NOW" -H "webhook-signature: $TSIG")" 202 "teams prefix secret"
assert_eq "$(last_record 'r["signature"]')" valid "teams prefix valid"
# Without a secret for the path: recorded, not checked.
assert_eq "$(http_post "$INBOX_URL/webhook/customers" "$BODY" -H "webhook-id: msg_1" \
    -H "webhook-timestamp: $NOW" -H "webhook-signature: v1,bogus")" 200 "unchecked"
assert_eq "$(last_record 'r["signature"]')" unchecked "unchecked recorded"
assert_eq "$(http_post "$INBOX_URL/webhook/customers" "$BODY")" 200 "absent unsigned"
assert_eq "$(last_record 'r["signature"]')" absent "absent recorded"

# --- the record: headers, body, binary bodies, limits ---
http_post "$INBOX_URL/webhook/hdr?x=1&y=two" '{"message":"h"}' -H 'X-Test-Header: one' \
    -H 'X-Test-Header: two' >/dev/null
assert_eq "$(last_record '[r["method"], r["path"], r["query"], r["headers"]["x-test-header"],
    r["headers"]["content-type"], r["body"], r["body_encoding"], r["status"], r["channel"]]')" \
    '["POST", "/webhook/hdr", "x=1&y=two", "one, two", "application/json", "{\"message\":\"h\"}", "utf-8", 200, "webhook/hdr"]' \
    "record fields"
last_record 'r["time"]' | grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z' \
    || fail "time is not ISO 8601 with milliseconds"
printf '\xff\xfe\x00binary' >"$TMP/bin"
curl -sS -o /dev/null -X POST --data-binary @"$TMP/bin" "$INBOX_URL/webhook/bin"
assert_eq "$(last_record '[r["body_encoding"], r["body"]]')" '["base64", "//4AYmluYXJ5"]' "binary body"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' a >"$TMP/huge"
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary @"$TMP/huge" \
    "$INBOX_URL/webhook/huge")" 413 "body over the limit"
assert_eq "$(last_record '[r["status"], r["body_too_large"], r["body"]]')" '[413, true, ""]' \
    "413 recorded"
# Without Content-Length the limit is found while reading.
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Transfer-Encoding: chunked' \
    --data-binary @"$TMP/huge" "$INBOX_URL/webhook/huge-chunked")" 413 "chunked body over the limit"
assert_eq "$(last_record '[r["status"], r["body_too_large"], r["body"]]')" '[413, true, ""]' \
    "chunked 413 recorded"

# --- the page ---
http_post "$INBOX_URL/slack/oncall" '{"text":"<script>alert(1)</script> & \"quotes\""}' >/dev/null
http_post "$INBOX_URL/slack/oncall" '{"text":"newest message"}' >/dev/null
curl -sS "$INBOX_URL/" >"$TMP/page.html"
assert_contains "$TMP/page.html" '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;'
assert_not_contains "$TMP/page.html" '<script'
assert_contains "$TMP/page.html" '<h2>slack/oncall</h2>'
assert_contains "$TMP/page.html" 'Teams card text'
assert_contains "$TMP/page.html" 'nested block'
assert_contains "$TMP/page.html" 'signature: invalid'
python3 - "$TMP/page.html" <<'PY' || fail "the page is not newest first"
import sys
page = open(sys.argv[1]).read()
assert page.index("newest message") < page.index("alert(1)") < page.index("Database is down")
PY
# /api/requests mirrors the log.
assert_eq "$(curl -sS "$INBOX_URL/api/requests" | json_query 'len(d)')" \
    "$(inbox_requests | wc -l)" "/api/requests vs requests.jsonl"

# --- the slow clients started at the beginning ---
rc=0; wait "$HANG_CURL" || rc=$?
assert_eq "$rc" 28 "the hanging request times out at the client"
assert_eq "$(inbox_requests | json_query '[r["status"] for r in d if r["path"] == "/fault/hang/webhook/h"]')" \
    '[null]' "hang recorded without a status"
rc=0; wait "$DRIP_CURL" || rc=$?
assert_eq "$rc" 28 "the dripping answer is still going after the client's max time"
DRIPPED=$(stat -c %s "$TMP/drip")
(( DRIPPED >= 1 && DRIPPED < 10 )) || fail "dripped $DRIPPED bytes (expected some, not all 10)"

# --- a clean stop with a hanging connection open ---
curl -sS --max-time 20 -o /dev/null -X POST -d '{}' "$INBOX_URL/fault/hang/webhook/h2" \
    2>/dev/null & HANG2=$!
wait_for '[[ $(inbox_count /fault/hang/webhook/h2) == 1 ]]' 10
stop_inbox
rc=0; wait "$HANG2" || rc=$?
[[ $rc != 0 && $rc != 28 ]] || fail "the hanging connection was not closed at shutdown (curl $rc)"

# --- the environment secret covers every path; the log accumulates ---
LINES=$(inbox_requests | wc -l)
CRISISRUN_INBOX_SECRET=$SECRET start_inbox
assert_eq "$(http_post "$INBOX_URL/slack/any" '{"text":"x"}')" 401 "env secret, unsigned"
SIG=$(sign "$SECRET" msg_3 "$NOW" '{"text":"x"}')
assert_eq "$(http_post "$INBOX_URL/slack/any" '{"text":"x"}' -H "webhook-id: msg_3" \
    -H "webhook-timestamp: $NOW" -H "webhook-signature: $SIG")" 200 "env secret, signed"
assert_eq "$(inbox_requests | wc -l)" "$((LINES + 2))" "the log is appended to"
stop_inbox

# --- usage errors ---
rc=0; crisisrun inbox --secret webhook=whsec_%%% 2>"$TMP/err" || rc=$?
assert_eq "$rc" 2 "bad secret is a usage error"
assert_contains "$TMP/err" "invalid --secret for 'webhook'"
assert_not_contains "$TMP/err" "whsec_%%%"
rc=0; crisisrun inbox --listen nonsense --dir "$TMP/x" 2>"$TMP/err" || rc=$?
assert_eq "$rc" 2 "bad listen address"
assert_contains "$TMP/err" "invalid --listen 'nonsense'"

echo "ok: $TEST_NAME"
