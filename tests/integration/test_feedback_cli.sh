#!/usr/bin/env bash
# test_feedback_cli.sh - `feedback add`, `feedback import` and `report` on a
# real drill run, through the binary.
set -u
: "${CRISISRUN:?path of the crisisrun binary}"
: "${CRISISRUN_SOURCE:?the source tree}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL $*" >&2; fails=$((fails + 1)); }

check() { # check NAME WANT_STATUS WANT_STDERR_SUBSTRING -- ARGS...
    local name=$1 want=$2 pattern=$3
    shift 4
    local status=0
    "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
    if [ "$status" -ne "$want" ]; then
        fail "$name: exit $status, want $want"
        cat "$tmp/err" >&2
    elif [ -n "$pattern" ] && ! grep -qF -- "$pattern" "$tmp/err"; then
        fail "$name: stderr lacks '$pattern'"
        cat "$tmp/err" >&2
    else
        echo "ok $name"
    fi
}

db="$tmp/crisisrun.db"
cr() { "$CRISISRUN" --db "$db" "$@"; }

# The demo drill: 11m30s of script and a 2m feedback window, at 600x about
# 1.5 s; --capture sends nothing.
check "drill runs" 0 "" -- cr run "$CRISISRUN_SOURCE/playbooks/demo.yaml" --drill --speed 600 \
    --capture "$tmp/capture"
run=$(head -n 1 "$tmp/out" | grep -oE '[0-9a-f]{12}' | head -n 1)
[ -n "$run" ] || { fail "run printed no run id"; cat "$tmp/out" >&2; exit 1; }

check "feedback add" 0 "" -- cr feedback add "${run:0:6}" --rating informed=4 \
    --rating speed=5 --answer "better=Earlier public update" --audience subscribers \
    --respondent "Sam"
grep -qx "recorded 1 response" "$tmp/out" || fail "feedback add prints what it recorded"
check "unknown question" 2 "unknown question 'infomed' (did you mean 'informed'?)" -- \
    cr feedback add "$run" --rating infomed=4
check "rating out of range" 2 "rating for 'speed' must be a whole number from 1 to 5, not '6'" \
    -- cr feedback add "$run" --rating speed=6
check "unknown channel" 2 "unknown channel 'comunity' (did you mean 'community'?)" -- \
    cr feedback add "$run" --comment hi --audience comunity

printf '\xef\xbb\xbfinformed,speed,comment,audience,anonymous\r\n3,4,"Two\r\nlines, ""quoted""",community,yes\r\n5,,,,no\r\n' \
    >"$tmp/ok.csv"
check "import" 0 "" -- cr feedback import "$run" "$tmp/ok.csv"
grep -qx "imported 2 responses" "$tmp/out" || fail "import prints the count"
printf 'informed,comment\n4,"a\nb"\n9,x\n' >"$tmp/bad.csv"
check "bad row" 2 "$tmp/bad.csv:4: rating for 'informed' must be a whole number from 1 to 5, not '9'" \
    -- cr feedback import "$run" "$tmp/bad.csv"

check "report json" 0 "" -- cr report "$run" --format json
cp "$tmp/out" "$tmp/report.json"
grep -q '"drill": true' "$tmp/report.json" || fail "json says drill"
grep -q '"responses": 3' "$tmp/report.json" || fail "3 responses stored, the bad file none"
grep -q '"audience": "external"' "$tmp/report.json" || fail "json has the external audience"

check "report md" 0 "" -- cr report "$run"
grep -q "^# Post-incident report: \[DRILL\] Demo drill" "$tmp/out" || fail "md title says DRILL"
grep -q "timings are virtual" "$tmp/out" || fail "md says drill timings are virtual"
grep -q "Time to first update" "$tmp/out" || fail "md has the targets"

check "report html" 0 "" -- cr report "$run" --format html -o "$tmp/report.html"
[ -s "$tmp/report.html" ] || fail "html written"
grep -q 'class="drill"' "$tmp/report.html" || fail "html drill banner"
grep -q '<svg' "$tmp/report.html" || fail "html has charts"
if grep -qiE '<script|https?://|src=|href=' "$tmp/report.html"; then
    fail "html is not self-contained and script-free"
fi
ls "$tmp"/report.html.tmp* >/dev/null 2>&1 && fail "html left a temporary file"
if grep -q 'whsec_\|demo-token\|127.0.0.1' "$tmp/report.json" "$tmp/report.html"; then
    fail "a report shows an endpoint or a secret"
fi

check "report of an unknown run" 1 "no run 'ffffffffffff'" -- cr report ffffffffffff
check "report, failed -o keeps the old file" 1 "" -- cr report nope -o "$tmp/report.html"
grep -q 'class="drill"' "$tmp/report.html" || fail "old report kept"

# --received: kept as given; the epoch is a time given too, before the run
# started, not "now".
start_ms=$(sqlite3 "$db" "SELECT started_ms FROM runs WHERE id = '$run'")
given_s=$((start_ms / 1000 + 3600))
check "feedback add --received" 0 "" -- cr feedback add "$run" --comment "given" \
    --received "$(date -u -d "@$given_s" +%Y-%m-%dT%H:%M:%SZ)"
[ "$(sqlite3 "$db" "SELECT received_ms FROM feedback_responses WHERE run_id = '$run' AND comment = 'given'")" = $((given_s * 1000)) ] ||
    fail "--received stores the time given"
check "feedback add --received at the epoch" 2 "received time '1970-01-01T00:00:00.000Z' is before the run started" -- \
    cr feedback add "$run" --comment "epoch" --received 1970-01-01T00:00:00Z
[ "$(sqlite3 "$db" "SELECT count(*) FROM feedback_responses WHERE comment = 'epoch'")" = 0 ] ||
    fail "a response at the epoch is not stored"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
