#!/usr/bin/env bash
# The feedback form end to end: a drill resolves, the feedback request
# reaches the inbox with a link per channel, and the form behind the link
# (served by the run, then by `serve`) shows, validates and stores answers,
# enforces its limits and closes with its window.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/feedback_lib.sh"

start_inbox
# 24h of virtual time at --speed 60 is 24 real minutes: open for the test.
write_playbook "$TMP/long.yaml" 24h
PUBLIC=http://crisis.example.test/status
start_drill "$TMP/run1.out" --public-url "$PUBLIC" "$TMP/long.yaml"
RUN1=$RUN_ID RUN1_PID=$BG_PID
wait_requests 2

# --- the request: one link per channel, on the public URL, 128-bit tokens ---
LINK_INT=$(inbox_link /slack/oncall)
LINK_EXT=$(inbox_link /webhook/customers)
[[ "$LINK_INT" =~ ^$PUBLIC/feedback/[0-9a-f]{32}$ ]] || fail "internal link '$LINK_INT'"
[[ "$LINK_EXT" =~ ^$PUBLIC/feedback/[0-9a-f]{32}$ ]] || fail "external link '$LINK_EXT'"
[[ "$LINK_INT" != "$LINK_EXT" ]] || fail "both channels got the same link"
TOK_INT=${LINK_INT##*/} TOK_EXT=${LINK_EXT##*/}
assert_eq "$(run_token "$RUN1" oncall)" "$TOK_INT" "the oncall token is journaled"
# The public URL is where people reach the run: here, where it listens.
RUN_URL=$(sqlite3 "$DB" "SELECT control_addr FROM runs WHERE id = '$RUN1'")
[[ "$RUN_URL" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "run address '$RUN_URL'"
FORM_INT=$RUN_URL/feedback/$TOK_INT FORM_EXT=$RUN_URL/feedback/$TOK_EXT

# --- the form: plain, accessible, self-contained HTML ---
assert_eq "$(get_page "$FORM_EXT")" 200 "GET the form"
assert_eq "$(header Content-Type)" "text/html; charset=utf-8" "form content type"
assert_eq "$(header Referrer-Policy)" "no-referrer" "the token stays out of referrers"
header Content-Security-Policy | grep -q "default-src 'none'" || fail "no CSP"
P=$TMP/http_body
assert_contains "$P" '<html lang="en">'
assert_contains "$P" '<meta charset="utf-8">'
assert_contains "$P" '<meta name="viewport" content="width=device-width, initial-scale=1">'
assert_contains "$P" '<h1>[DRILL] Checkout &lt;b&gt;database&lt;/b&gt; outage &amp; recovery</h1>'
assert_contains "$P" '<legend>How well were you kept informed?</legend>'
for v in 1 2 3 4 5; do
    assert_contains "$P" "<label class=\"choice\" for=\"q_informed-$v\"><input type=\"radio\" id=\"q_informed-$v\" name=\"q_informed\" value=\"$v\">$v</label>"
done
assert_not_contains "$P" 'q_informed-6'
assert_contains "$P" 'name="q_speed" value="10">10</label>'
assert_contains "$P" '<label class="label" for="q_better">What should we do differently?</label>'
assert_contains "$P" '<textarea id="q_better" name="q_better" rows="6" maxlength="4000"'
assert_contains "$P" '<label class="label" for="name">Your name</label>'
assert_contains "$P" '<input type="checkbox" id="anonymous" name="anonymous" value="1"'
assert_contains "$P" "<form method=\"post\" action=\"$TOK_EXT\""
assert_contains "$P" '<button type="submit">Send feedback</button>'
assert_not_contains "$P" '<script'
assert_not_contains "$P" '<b>'
assert_not_contains "$P" 'src='
assert_not_contains "$P" '<link'
assert_eq "$(get_page "$FORM_EXT" -I)" 200 "HEAD the form"

# --- valid posts: 303 to the thank-you page, stored with the channel's audience ---
assert_eq "$(post_form "$FORM_EXT" 'q_informed=4&q_speed=2&q_better=Post+more+often%0D%0Aplease+%E2%9C%93&name=+Ann+Lee%09')" \
    303 "valid post"
assert_eq "$(header Location)" "$TOK_EXT/thanks" "redirect to the thank-you page"
assert_eq "$(get_page "$FORM_EXT/thanks")" 200 "thank-you page"
assert_contains "$P" '<h1>Thank you</h1>'
assert_not_contains "$P" '<script'
# Anonymous: the name typed anyway is not kept.  Curl follows the 303 like a browser.
assert_eq "$(post_form "$FORM_INT" 'q_informed=5&name=Bob&anonymous=1' -L)" 200 "anonymous post, followed"
assert_contains "$P" '<h1>Thank you</h1>'
# A text answer of exactly 4000 characters (8000 bytes of UTF-8) is fine.
LONG=$(python3 -c 'print("%C3%A9" * 4000)')
assert_eq "$(post_form "$FORM_INT" "q_better=$LONG")" 303 "4000 characters"

# --- invalid posts: 400, the form again with the answers kept and the error explained ---
assert_eq "$(post_form "$FORM_EXT" 'q_informed=6&q_speed=3&q_better=%3Cscript%3Ealert(1)%3C%2Fscript%3E&name=%22Eve%22')" \
    400 "rating out of range"
assert_contains "$P" 'role="alert"'
assert_contains "$P" '<p class="error" id="q_informed-error"><span class="vh">Error: </span>Choose a whole number from 1 to 5.</p>'
assert_contains "$P" '<fieldset class="invalid" aria-describedby="q_informed-hint q_informed-error">'
assert_contains "$P" 'name="q_speed" value="3" checked>3</label>'
assert_contains "$P" '&lt;script&gt;alert(1)&lt;/script&gt;</textarea>'
assert_contains "$P" 'value="&quot;Eve&quot;"'
assert_not_contains "$P" '<script'
assert_eq "$(grep -c 'name="q_informed" value="[0-9]*" checked' "$P")" 0 "no rating chosen for an invalid one"
assert_eq "$(post_form "$FORM_EXT" 'q_informed=3&%3Cb%3Eevil=1')" 400 "unknown field"
assert_contains "$P" 'This form does not ask for “&lt;b&gt;evil”'
assert_contains "$P" 'name="q_informed" value="3" checked>3</label>'
assert_eq "$(post_form "$FORM_EXT" 'q_informed=3&q_informed=4')" 400 "answered twice"
assert_contains "$P" 'Give one answer to this question.'
assert_eq "$(post_form "$FORM_EXT" 'q_informed=2.5')" 400 "not a whole number"
assert_eq "$(post_form "$FORM_EXT" 'q_informed=0')" 400 "below the scale"
assert_eq "$(post_form "$FORM_EXT" 'q_speed=11')" 400 "above a 10-point scale"
assert_contains "$P" 'Choose a whole number from 1 to 10.'
assert_eq "$(post_form "$FORM_EXT" 'q_better=+%0D%0A&name=Ann')" 400 "no answer"
assert_contains "$P" 'Answer at least one question.'
assert_eq "$(post_form "$FORM_EXT" '')" 400 "empty post"
assert_eq "$(post_form "$FORM_EXT" "q_better=x$LONG")" 400 "4001 characters"
assert_contains "$P" 'Shorten your answer to 4000 characters or fewer (it has 4001).'
assert_eq "$(post_form "$FORM_EXT" 'q_better=bad%FF')" 400 "not UTF-8"
assert_contains "$P" 'Your answer contains characters that are not text.'
assert_eq "$(post_form "$FORM_EXT" 'q_informed=1&anonymous=yes')" 400 "odd checkbox value"
assert_eq "$(post_form "$FORM_EXT" 'q_informed=%zz')" 400 "bad escape"
assert_contains "$P" "invalid %-escape in the value of &#39;q_informed&#39;"

# --- limits and protocol ---
head -c 70000 /dev/zero | tr '\0' x >"$TMP/big"
assert_eq "$(post_form "$FORM_EXT" "@$TMP/big")" 413 "oversized body"
assert_contains "$P" 'Your answers are too long'
assert_eq "$(get_page "$FORM_EXT" -F q_informed=4)" 415 "multipart"
assert_eq "$(get_page "$FORM_EXT" -H 'Content-Type: application/json' -d '{"q_informed":4}')" 415 "JSON"
assert_eq "$(get_page "$FORM_EXT" -H 'Content-Type: application/x-www-form-urlencoded; charset=latin1' \
    --data-binary 'q_informed=4')" 415 "another charset"
assert_eq "$(get_page "$FORM_EXT" --data-binary 'q_informed=4' -H 'Content-Type:')" 415 "no content type"
assert_eq "$(get_page "$FORM_EXT" -X PUT)" 405 "PUT"
assert_eq "$(header Allow)" "GET, HEAD, POST" "Allow"
assert_eq "$(get_page "$RUN_URL/feedback/0123456789abcdef0123456789abcdef")" 404 "unknown token"
assert_contains "$P" 'Feedback link not found'
assert_eq "$(post_form "$RUN_URL/feedback/0123456789abcdef0123456789abcdef" 'q_informed=1')" 404 "post to an unknown token"
assert_eq "$(get_page "$RUN_URL/feedback/${TOK_EXT:0:31}")" 404 "a truncated token"
assert_eq "$(get_page "$RUN_URL/feedback/$TOK_EXT/other")" 404 "another page under the token"

# --- exactly what was asked, nothing more ---
assert_eq "$(sqlite3 "$DB" "SELECT id, run_id = '$RUN1', channel, audience, source, anonymous,
    ifnull(respondent, '-'), ifnull(comment, '-') FROM feedback_responses ORDER BY id" | tr '\n' ' ')" \
    "1|1|customers|external|form|0|Ann Lee|- 2|1|oncall|internal|form|1|-|- 3|1|oncall|internal|form|0|-|- " \
    "stored responses"
assert_eq "$(sqlite3 "$DB" "SELECT response_id, question_id, ifnull(rating, '-'),
    ifnull(replace(substr(text, 1, 30), char(10), '|'), '-'), length(text) FROM feedback_answers
    ORDER BY response_id, question_id" | tr '\n' ' ')" \
    "1|better|-|Post more often|please ✓|24 1|informed|4|-| 1|speed|2|-| 2|informed|5|-| 3|better|-|éééééééééééééééééééééééééééééé|4000 " \
    "stored answers"
# Received on the drill's clock, inside the window.
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM feedback_responses f JOIN runs r ON r.id = f.run_id
    WHERE f.received_ms BETWEEN r.resolved_ms AND r.feedback_closes_ms")" 3 "received in the window"

# --- the run ends (SIGTERM keeps the window); serve takes over its forms ---
stop_pid "$RUN1_PID" "the first run"
start_serve --public-url "$PUBLIC"
assert_contains "$TMP/serve.out" "(public URL $PUBLIC)"
assert_eq "$(get_page "$SERVE_URL/feedback/$TOK_INT")" 200 "serve shows the open form"
assert_contains "$P" '<legend>How satisfied are you with the speed of resolution?</legend>'
assert_eq "$(post_form "$SERVE_URL/feedback/$TOK_INT" 'q_speed=10&name=Cy')" 303 "serve stores a response"
assert_eq "$(sqlite3 "$DB" "SELECT channel, audience, respondent, a.question_id, a.rating
    FROM feedback_responses f JOIN feedback_answers a ON a.response_id = f.id WHERE f.id = 4")" \
    "oncall|internal|Cy|speed|10" "the response stored by serve"
# A run journaled without metadata: the questions come from its playbook text.
assert_eq "$(sqlite3 "$DB" "SELECT meta_json IS NOT NULL FROM runs WHERE id = '$RUN1'")" 1 "metadata recorded"
sqlite3 "$DB" "UPDATE runs SET meta_json = NULL WHERE id = '$RUN1'"
assert_eq "$(get_page "$SERVE_URL/feedback/$TOK_INT")" 200 "the form of a run without metadata"
assert_contains "$P" '<legend>How satisfied are you with the speed of resolution?</legend>'
assert_contains "$P" '<label class="label" for="q_better">What should we do differently?</label>'

# --- a second drill whose window closes (1m of drill time: one real second) ---
write_playbook "$TMP/short.yaml" 1m
crisisrun --db "$DB" run --drill --speed 60 --listen 127.0.0.1:0 --quiet "$TMP/short.yaml" \
    >"$TMP/run2.out" 2>&1 || fail "the short drill failed: $(cat "$TMP/run2.out")"
RUN2=$(head -1 "$TMP/run2.out")
TOK2=$(run_token "$RUN2" customers)
[[ "$TOK2" =~ ^[0-9a-f]{32}$ ]] || fail "no token for the second run"
# Without --public-url the link is the run's own listen address.
RUN2_URL=$(sqlite3 "$DB" "SELECT public_url FROM runs WHERE id = '$RUN2'")
[[ "$RUN2_URL" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "second run address '$RUN2_URL'"
assert_eq "$(inbox_link /webhook/customers)" "$RUN2_URL/feedback/$TOK2" "the second run's link"
assert_eq "$(get_page "$SERVE_URL/feedback/$TOK2")" 410 "closed form"
assert_contains "$P" '<h1>Feedback is closed</h1>'
assert_contains "$P" '(drill time)'
assert_eq "$(post_form "$SERVE_URL/feedback/$TOK2" 'q_informed=3')" 410 "post to a closed form"
assert_eq "$(sqlite3 "$DB" "SELECT count(*) FROM feedback_responses WHERE run_id = '$RUN2'")" 0 \
    "nothing stored after the window"
# A run whose window has not opened (not resolved): 403.
sqlite3 "$DB" "UPDATE runs SET resolved_ms = NULL, feedback_closes_ms = NULL WHERE id = '$RUN2'"
assert_eq "$(get_page "$SERVE_URL/feedback/$TOK2")" 403 "not open yet"
assert_contains "$P" 'Feedback is not open yet'

stop_pid "$SERVE_PID" serve
stop_inbox
echo "ok"
