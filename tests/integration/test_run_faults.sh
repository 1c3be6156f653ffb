#!/usr/bin/env bash
# test_run_faults.sh - delivery failures of a run against the inbox's fault
# modes: retry then success, Retry-After (header, and Discord's JSON body),
# 410 disabling the endpoint, redirects not followed, a hanging endpoint
# that delays nobody, a refused connection; each as the journal records it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

start_inbox
PB=$(copy_playbook faults.yaml)
{
    echo "$INBOX_URL/fault/hang/webhook/hang"
    for i in $(seq 1 20); do echo "$INBOX_URL/webhook/fast$i"; done
} >"$TMP/slow.txt"
export CLOSED_URL="http://127.0.0.1:$(free_port)/webhook/closed"

start_run run "$PB"

# q STEP CHANNEL COLUMNS: a notification's columns from the journal.
q() {
    sql "SELECT $3 FROM notifications WHERE run_id = '$RUN_ID' AND step = '$1' AND channel = '$2'
         ORDER BY endpoint_index"
}
disabled_events() {
    sql "SELECT count(*) FROM events WHERE run_id = '$RUN_ID' AND kind = 'endpoint_disabled'
         AND json_extract(detail, '\$.channel') = '$1'"
}
unsettled() {
    sql "SELECT count(*) FROM notifications WHERE run_id = '$RUN_ID' AND state IN ('pending', 'inflight')"
}

# 410: once the endpoint is disabled, a later step sends it nothing.
wait_for '[[ $(disabled_events gone) == 1 ]]' 20
crisisrun trigger "$RUN_ID" again >"$TMP/trigger.out" 2>&1 || { cat "$TMP/trigger.out" >&2; fail "trigger"; }
wait_for "[[ \$(q again gone state) == disabled ]]" 20
# Everything else settles by itself; then resolving ends the run.
# (An error from the run ends the wait early: it is reported below.)
wait_for '[[ $(unsettled) == 0 ]] || grep -q "^crisisrun:" "$TMP/run.out"' 30
assert_not_contains "$TMP/run.out" "crisisrun:"
crisisrun resolve "$RUN_ID" >"$TMP/resolve.out" 2>&1 || { cat "$TMP/resolve.out" >&2; fail "resolve"; }
wait_run "$RUN_PID"
# A notification failed for good: the run says so in its exit status.
assert_eq "$RUN_RC" 1 "exit status"

# Retry after 503, then success: three attempts journaled.
assert_eq "$(q declare flaky "state || ' ' || attempts || ' ' || last_http_status")" "delivered 3 200" "flaky"
assert_eq "$(sql "SELECT group_concat(number || ':' || http_status || ':' || outcome, ' ') FROM
                  (SELECT a.* FROM attempts a JOIN notifications n ON n.id = a.notification_id
                   WHERE n.run_id = '$RUN_ID' AND n.channel = 'flaky' ORDER BY number)")" \
    "1:503:retry 2:503:retry 3:200:delivered" "flaky attempts"
assert_eq "$(inbox_count /fault/503-then-ok/2/webhook/flaky)" 3 "flaky requests"

# gap PATH: seconds between the first two requests to PATH (inbox clock).
gap() {
    inbox_requests | python3 -c '
import datetime, json, sys
t = [datetime.datetime.fromisoformat(r["time"].replace("Z", "+00:00"))
     for r in map(json.loads, sys.stdin) if r["path"] == sys.argv[1]]
assert len(t) == 2, "%d requests to %s" % (len(t), sys.argv[1])
print("%.3f" % (t[1] - t[0]).total_seconds())' "$1"
}
# Retry-After: 2 (the backoff alone would be 50-100 ms).
g=$(gap /fault/429/2/webhook/limited)
python3 -c "import sys; sys.exit(not $g >= 2.0)" || fail "the retry after Retry-After: 2 came after $g s"
assert_eq "$(q declare limited "state || ' ' || attempts || ' ' || last_http_status")" "failed 2 429" "limited"
# Discord's JSON retry_after: 2.0, without a Retry-After header.
g=$(gap /fault/429json/2/discord/limited)
python3 -c "import sys; sys.exit(not $g >= 2.0)" || fail "the retry after retry_after 2.0 came after $g s"
assert_eq "$(q declare discord-limited "state || ' ' || attempts")" "failed 2" "discord limited"

# 410: one request only; both notifications disabled; the event names the
# channel and the redacted endpoint.
assert_eq "$(inbox_count /fault/410/webhook/gone)" 1 "requests to the gone endpoint"
assert_eq "$(q declare gone "state || ' ' || attempts || ' ' || last_http_status")" "disabled 1 410" "gone"
assert_eq "$(q again gone "state || ' ' || attempts")" "disabled 0" "gone, later step"
# One event per disabled endpoint, whatever else was sent to it.
assert_eq "$(sql "SELECT group_concat(c || ' ' || e, ', ') FROM
                  (SELECT json_extract(detail, '\$.channel') AS c, json_extract(detail, '\$.endpoint') AS e
                   FROM events WHERE run_id = '$RUN_ID' AND kind = 'endpoint_disabled' ORDER BY c)")" \
    "gone ${INBOX_URL}/…, gone-chat ${INBOX_URL}/…" "endpoint_disabled events"
# A message still queued for an endpoint when it answered 410 is disabled
# too, without a request, and the run carries on.
assert_eq "$(inbox_count /fault/410/slack/gone-chat)" 1 "requests to the gone chat"
assert_eq "$(sql "SELECT group_concat(step || ':' || state || ':' || attempts, ' ') FROM
                  (SELECT * FROM notifications WHERE run_id = '$RUN_ID' AND channel = 'gone-chat'
                   ORDER BY step)")" "declare:disabled:1 queued:disabled:0" "gone chat"

# Redirects are not followed.
assert_eq "$(inbox_count /fault/redirect/)" 1 "redirect requests"
assert_eq "$(inbox_count /redirected/)" 0 "followed the redirect"
assert_eq "$(q declare moved "state || ' ' || attempts || ' ' || last_http_status")" "failed 1 302" "moved"

# The hanging endpoint timed out (one attempt, no answer) after all 20
# others were delivered.
assert_eq "$(q declare slow "state" | head -n 1)" failed "hang"
assert_eq "$(sql "SELECT attempts, last_http_status IS NULL FROM notifications
                  WHERE run_id = '$RUN_ID' AND channel = 'slow' AND endpoint_index = 0")" "1|1" "hang attempt"
assert_eq "$(q declare slow "state" | tail -n +2 | sort | uniq -c | tr -s ' ')" " 20 delivered" "fast endpoints"
assert_eq "$(sql "SELECT count(*) FROM notifications n WHERE run_id = '$RUN_ID' AND channel = 'slow'
                  AND endpoint_index > 0 AND settled_ms < (SELECT settled_ms FROM notifications
                  WHERE run_id = '$RUN_ID' AND channel = 'slow' AND endpoint_index = 0)")" 20 \
    "fast endpoints settled before the hanging one"
assert_eq "$(inbox_requests | json_query 'sorted(set(
    __import__("collections").Counter(r["path"] for r in d if "/fast" in r["path"]).values()))')" "[1]" \
    "each fast endpoint got one request"
assert_eq "$(inbox_count /webhook/fast)" 20 "fast endpoints"

# A refused connection is retried, then fails: no HTTP status.
assert_eq "$(q declare closed "state || ' ' || attempts || ' ' || ifnull(last_http_status, 'none')")" \
    "failed 3 none" "closed port"
assert_eq "$(sql "SELECT count(*) FROM attempts a JOIN notifications n ON n.id = a.notification_id
                  WHERE n.run_id = '$RUN_ID' AND n.channel = 'closed' AND a.http_status IS NULL")" 3 \
    "closed port attempts"

assert_contains "$TMP/run.out" "resolved $RUN_ID: 21 delivered, 5 failed, 4 disabled"

# The report's failed deliveries: one group per channel and reason, in
# playbook order, each reason as the journal recorded it.
crisisrun report "$RUN_ID" --format json >"$TMP/report.json" || fail "report --format json"
# (Reasons up to their first colon, figures as N.)
assert_eq "$(json_query '"; ".join("%s %s %d/%d %s" % (f["channel"], f["state"], f["notifications"],
    f["endpoints"], __import__("re").sub(r"[0-9]+", "N", f["reason"].split(":")[0]))
    for f in d["failed_deliveries"])' "$TMP/report.json")" \
    "limited failed 1/1 HTTP N; discord-limited failed 1/1 HTTP N; gone disabled 1/1 HTTP N; gone disabled 1/1 not delivered; gone-chat disabled 1/1 HTTP N; gone-chat disabled 1/1 not delivered; moved failed 1/1 HTTP N; slow failed 1/1 Operation timed out after N milliseconds with N bytes received; closed failed 1/1 Failed to connect to N.N.N.N port N after N ms" \
    "failed deliveries"
assert_eq "$(json_query '" ".join(str(f["http_status"]) for f in d["failed_deliveries"])' "$TMP/report.json")" \
    "429 429 410 None 410 None 302 None None" "failed deliveries' statuses"
crisisrun report "$RUN_ID" >"$TMP/report.md" || fail "report"
assert_contains "$TMP/report.md" "## Failed deliveries"
assert_contains "$TMP/report.md" "HTTP 410: the endpoint is gone and was disabled for the rest of the run"
echo "ok"
