#!/usr/bin/env bash
# The feedback form in a real browser (headless Chromium, no JavaScript in
# the page): a person's path from the link to the thank-you page, with
# screenshots of each page kept as artifacts.
#
# Needs the Debian packages chromium, nodejs and npm, and
# tests/browser/setup.sh run once (npm ci).  Missing any of them is a
# failure, not a skip: CI installs them.
#
# Screenshots go to $CRISISRUN_ARTIFACTS/browser, by default
# artifacts/browser in the build directory (next to the binary).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/feedback_lib.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[[ -n "$CHROMIUM" ]] || fail "chromium is not installed (apt-get install chromium)"
command -v node >/dev/null || fail "node is not installed (apt-get install nodejs npm)"
BROWSER_DIR=$CRISISRUN_SOURCE/tests/browser
[[ -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ]] ||
    fail "playwright-core is not installed: run tests/browser/setup.sh"
ARTIFACTS=${CRISISRUN_ARTIFACTS:-$(dirname "$CRISISRUN")/artifacts}/browser
rm -rf "$ARTIFACTS"
export CHROMIUM

# A resolved drill whose window stays open; its form served by `serve`.
start_inbox
write_playbook "$TMP/pb.yaml" 24h
start_drill "$TMP/run.out" "$TMP/pb.yaml"
wait_requests 2
stop_pid "$BG_PID" "the drill"
start_serve
TOKEN=$(run_token "$RUN_ID" customers)
FORM=$SERVE_URL/feedback/$TOKEN

# The page as Chromium renders it with nothing but its own command line.
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$TMP/chromium" --dump-dom "$FORM" >"$TMP/dom.html" 2>"$TMP/chromium.err" ||
    { cat "$TMP/chromium.err" >&2; fail "chromium --dump-dom failed"; }
assert_contains "$TMP/dom.html" '<legend>How well were you kept informed?</legend>'
assert_contains "$TMP/dom.html" '<button type="submit">Send feedback</button>'

node "$BROWSER_DIR/feedback.mjs" "$FORM" "$ARTIFACTS" >"$TMP/node.out" 2>&1 ||
    { cat "$TMP/node.out" >&2; fail "the browser session failed"; }
assert_eq "$(tail -1 "$TMP/node.out")" ok "browser checks"
for shot in form form-narrow errors filled thanks; do
    [[ -s "$ARTIFACTS/feedback-$shot.png" ]] || fail "no screenshot of the $shot page"
done

# What the browser sent is what was stored, nothing more.
assert_eq "$(sqlite3 "$DB" "SELECT channel, audience, anonymous, respondent FROM feedback_responses")" \
    "customers|external|0|Dana" "the response"
assert_eq "$(sqlite3 "$DB" "SELECT question_id, ifnull(rating, '-'), ifnull(replace(text, char(10), '|'), '-')
    FROM feedback_answers ORDER BY question_id" | tr '\n' ' ')" \
    "better|-|Tell customers earlier.|<script>alert(1)</script> informed|4|- speed|9|- " "the answers"

stop_pid "$SERVE_PID" serve
stop_inbox
echo "ok (screenshots in $ARTIFACTS)"
