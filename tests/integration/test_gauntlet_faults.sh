#!/usr/bin/env bash
# The fault matrix: one run whose channels meet every kind of failing
# receiver at once -- 500, 503 then success, 429 with Retry-After (header,
# and Discord's JSON body), 410, a redirect, a refused connection, a
# server that never answers, one that drips a byte a second, a 10 MiB
# answer and a name that does not resolve -- beside healthy endpoints.
# For each: the journal's state, attempts and last error or status, the
# report's figures, the exit code, and that the healthy endpoints (in
# their own channels and inside a fan-out channel shared with faulty
# endpoints) were delivered without waiting for the faulty ones.
. "$(dirname "$0")/lib.sh"

DB=$TMP/journal.db
q() { sqlite3 "$DB" "$1"; }

start_inbox
H=$INBOX_URL

# A loopback port nobody listens on: bound, then closed.
CLOSED_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

cat >"$TMP/mixed.txt" <<EOF
$H/webhook/mixed-a
$H/fault/hang/webhook/mixed-hang
$H/webhook/mixed-b
$H/fault/410/webhook/mixed-gone
$H/webhook/mixed-c
EOF

# Short timeouts and two attempts keep the run to a few seconds; f503
# gets three attempts so that its third one meets the success.
FAST='timeout: 2s, retry: {attempts: 2, backoff: 200ms}'
cat >"$TMP/faults.yaml" <<EOF
crisisrun: 1
name: fault-matrix
title: "Every failure at once"
severity: sev2
channels:
  ok-slack:   {type: slack,   url: "$H/slack/healthy", $FAST}
  ok-teams:   {type: teams,   url: "$H/teams/healthy", $FAST}
  ok-discord: {type: discord, url: "$H/discord/healthy", $FAST}
  mixed:      {type: webhook, urls_file: mixed.txt, $FAST}
  f500:       {type: webhook, url: "$H/fault/500/webhook/f500", $FAST}
  f503:       {type: webhook, url: "$H/fault/503-then-ok/2/webhook/f503", timeout: 2s, retry: {attempts: 3, backoff: 200ms}}
  f429:       {type: webhook, url: "$H/fault/429/1/webhook/f429", $FAST}
  f429json:   {type: discord, url: "$H/fault/429json/1/discord/x", $FAST}
  f410:       {type: webhook, url: "$H/fault/410/webhook/f410", $FAST}
  redirect:   {type: webhook, url: "$H/fault/redirect/webhook/redirect", $FAST}
  refused:    {type: webhook, url: "http://127.0.0.1:$CLOSED_PORT/webhook/refused", $FAST}
  hang:       {type: webhook, url: "$H/fault/hang/webhook/hang", $FAST}
  drip:       {type: webhook, url: "$H/fault/drip/webhook/drip", $FAST}
  big:        {type: webhook, url: "$H/fault/big/webhook/big", $FAST}
  nxdomain:   {type: webhook, url: "http://crisisrun-nonexistent.invalid/webhook/nxdomain", $FAST}
steps:
  - id: declare
    at: 0s
    notify: [ok-slack, ok-teams, ok-discord, mixed, f500, f503, f429, f429json, f410, redirect,
             refused, hang, drip, big, nxdomain]
    message: "Checkout is failing; we are investigating."
  - id: fixed
    on: manual
    status: resolved
    notify: [ok-slack, mixed, f410]
    message: "Checkout works again."
EOF

# --- the run: exit 1, because some notifications failed for good ---
# `fixed` is triggered once both gone endpoints have answered 410, however
# slowly the machine runs, so that it meets them disabled.
start_crisisrun "$TMP/run.out" --db "$DB" run --drill --speed 60 --quiet "$TMP/faults.yaml"
PID=$BG_PID
wait_for "head -n1 '$TMP/run.out' 2>/dev/null | grep -Eq '^[0-9a-f]{12}\$'" 10
RUN=$(head -n1 "$TMP/run.out")
wait_for "[[ \$(q \"SELECT count(*) FROM notifications WHERE run_id = '$RUN' AND step = 'declare'
                  AND state = 'disabled'\") == 2 ]]" 20
wait_for "[[ -n \$(q \"SELECT control_addr FROM runs WHERE id = '$RUN'\") ]]" 10
crisisrun --db "$DB" trigger "$RUN" fixed >"$TMP/trigger.out" 2>&1 ||
    fail "trigger fixed: $(cat "$TMP/trigger.out")"
wait_for "! kill -0 $PID 2>/dev/null" 30
rc=0
wait "$PID" || rc=$?
_cr_forget_pid "$PID"
assert_eq "$rc" 1 "exit status of a run with permanent failures"
assert_eq "$(q "SELECT state || '/' || status FROM runs")" "resolved/resolved" "run state"
assert_contains "$TMP/run.out" "delivered, "

# notif STEP CHANNEL [ENDPOINT] -> "state|attempts|last_http_status|last_error"
notif() {
    q "SELECT state, attempts, ifnull(last_http_status, ''), ifnull(last_error, '')
       FROM notifications WHERE run_id = '$RUN' AND step = '$1' AND channel = '$2'
       AND endpoint_index = ${3:-0}"
}
# expect STEP CHANNEL ENDPOINT STATE ATTEMPTS STATUS ERROR_REGEX
expect() {
    local got
    got=$(notif "$1" "$2" "$3")
    IFS='|' read -r st at hs er <<<"$got"
    [[ "$st|$at|$hs" == "$4|$5|$6" ]] || fail "$2[$3] at $1: got '$got', expected '$4|$5|$6|$7'"
    [[ "$er" =~ $7 ]] || fail "$2[$3] at $1: last error '$er' does not match /$7/"
}

# --- per endpoint: the documented outcome in the journal ---
expect declare ok-slack   0 delivered 1 200 '^$'
expect declare ok-teams   0 delivered 1 202 '^$'
expect declare ok-discord 0 delivered 1 204 '^$'
expect declare f500       0 failed    2 500 '^HTTP 500$'
expect declare f503       0 delivered 3 200 '^$'
expect declare f429       0 failed    2 429 '^HTTP 429$'
expect declare f429json   0 failed    2 429 '^HTTP 429$'
expect declare f410       0 disabled  1 410 '^HTTP 410$'
expect declare redirect   0 failed    1 302 '^HTTP 302$'
expect declare refused    0 failed    2 ''  '[Cc]onnect'
expect declare hang       0 failed    2 ''  'timed out.* 0 bytes received'
expect declare drip       0 failed    2 ''  'timed out'
expect declare big        0 delivered 1 200 '^$'
expect declare nxdomain   0 failed    2 ''  '[Rr]esolve'
# The fan-out: its healthy endpoints are delivered; its faulty ones fail
# on their own.
expect declare mixed 0 delivered 1 200 '^$'
expect declare mixed 1 failed    2 ''  'timed out'
expect declare mixed 2 delivered 1 200 '^$'
expect declare mixed 3 disabled  1 410 '^HTTP 410$'
expect declare mixed 4 delivered 1 200 '^$'
# 410 disabled the endpoint for the run: the later step's notification
# to it is settled without a request; the channel's other endpoints are
# still served.
expect fixed f410  0 disabled 0 '' ''
expect fixed mixed 3 disabled 0 '' ''
expect fixed mixed 0 delivered 1 200 '^$'
expect fixed mixed 4 delivered 1 200 '^$'
expect fixed mixed 1 failed    2 ''  'timed out'
expect fixed ok-slack 0 delivered 1 200 '^$'
assert_eq "$(inbox_count /fault/410/webhook/f410)" 1 "one request to the gone endpoint"
assert_eq "$(inbox_count /fault/410/webhook/mixed-gone)" 1 "one request to the gone fan-out endpoint"
assert_eq "$(q "SELECT count(*) FROM events WHERE run_id = '$RUN' AND kind = 'endpoint_disabled'")" 2 \
    "one endpoint_disabled event per gone endpoint"

# Every attempt is journaled with its own outcome: the 503s were retried,
# the third attempt delivered.
assert_eq "$(q "SELECT group_concat(ifnull(http_status, '-') || ':' || outcome, ' ') FROM (
                SELECT a.http_status, a.outcome FROM attempts a JOIN notifications n
                ON n.id = a.notification_id WHERE n.channel = 'f503' ORDER BY a.number)")" \
    "503:retry 503:retry 200:delivered" "f503 attempts"
assert_eq "$(q "SELECT group_concat(outcome, ' ') FROM (SELECT a.outcome FROM attempts a
                JOIN notifications n ON n.id = a.notification_id WHERE n.channel = 'hang'
                ORDER BY a.number)")" "retry failed" "hang attempts"

# --- what the receivers saw ---
assert_eq "$(inbox_count /redirected/)" 0 "the redirect was never followed"
assert_eq "$(inbox_count /fault/redirect/)" 1 "a 3xx is not retried"
assert_eq "$(inbox_count /fault/500/)" 2 "500 retried up to the attempts"
assert_eq "$(inbox_count /fault/503-then-ok/2/)" 3 "503, 503, then 200"
assert_eq "$(inbox_count /fault/big/)" 1 "the big answer once"
assert_eq "$(inbox_count /fault/hang/webhook/hang)" 2 "the hanging endpoint tried twice"
assert_eq "$(inbox_count /fault/drip/)" 2 "the dripping endpoint tried twice"
# Retry-After is honoured: the retry came no earlier than 1 s after the
# 429 (the backoff alone would retry within 200 ms).
gap_ms() {
    inbox_requests | python3 -c '
import json, sys, datetime
t = [datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
     for r in map(json.loads, sys.stdin) if r["path"].startswith(sys.argv[1])]
assert len(t) == 2, t
print(int((t[1] - t[0]).total_seconds() * 1000))
' "$1"
}
for p in /fault/429/1/ /fault/429json/1/; do
    g=$(gap_ms "$p")
    (( g >= 1000 )) || fail "retry $g ms after a 429 with retry after 1 s ($p)"
done
# The healthy endpoints did not wait for the hanging one: all of them were
# delivered before the first hanging attempt gave up.
HANG_FIRST_END=$(q "SELECT a.finished_ms FROM attempts a JOIN notifications n ON n.id = a.notification_id
                    WHERE n.channel = 'hang' AND a.number = 1")
LATE_HEALTHY=$(q "SELECT count(*) FROM notifications WHERE run_id = '$RUN' AND step = 'declare'
                  AND state = 'delivered' AND channel <> 'f503' AND settled_ms >= $HANG_FIRST_END")
assert_eq "$LATE_HEALTHY" 0 "healthy endpoints delivered while the hanging one was held"

# --- the report: the same figures ---
crisisrun --db "$DB" report "$RUN" --format json -o "$TMP/report.json"
# figures CHANNEL -> "delivered failed attempts retries" over the run
figures() {
    json_query '" ".join(str(sum(c[k] for s in d["steps"] for c in s["channels"] if c["channel"] == "'"$1"'"))
                         for k in ("delivered", "failed", "attempts", "retries"))' "$TMP/report.json"
}
assert_eq "$(figures ok-slack)" "2 0 2 0" "report ok-slack"
assert_eq "$(figures ok-teams)" "1 0 1 0" "report ok-teams"
assert_eq "$(figures ok-discord)" "1 0 1 0" "report ok-discord"
assert_eq "$(figures mixed)" "6 4 11 2" "report mixed"
assert_eq "$(figures f500)" "0 1 2 1" "report f500"
assert_eq "$(figures f503)" "1 0 3 2" "report f503"
assert_eq "$(figures f429)" "0 1 2 1" "report f429"
assert_eq "$(figures f429json)" "0 1 2 1" "report f429json"
assert_eq "$(figures f410)" "0 2 1 0" "report f410"
assert_eq "$(figures redirect)" "0 1 1 0" "report redirect"
assert_eq "$(figures refused)" "0 1 2 1" "report refused"
assert_eq "$(figures hang)" "0 1 2 1" "report hang"
assert_eq "$(figures drip)" "0 1 2 1" "report drip"
assert_eq "$(figures big)" "1 0 1 0" "report big"
assert_eq "$(figures nxdomain)" "0 1 2 1" "report nxdomain"
assert_eq "$(json_query '[(a["notifications"], a["delivered"], a["failed"]) for a in d["communication"]["audiences"]]' \
    "$TMP/report.json")" "[[26, 12, 14]]" "report totals"
crisisrun --db "$DB" report "$RUN" --format md -o "$TMP/report.md"
crisisrun --db "$DB" show "$RUN" >"$TMP/show.out"
for f in "$TMP/report.md" "$TMP/show.out" "$TMP/run.out"; do
    assert_not_contains "$f" /fault/
    assert_not_contains "$f" /webhook/
done

# --- a 10 MiB answer costs no memory: eight of them in one run take no
# more than a run whose eight answers are tiny (plus slack far below the
# 80 MiB that holding them would take) ---
for kind in big small; do
    for i in 1 2 3 4 5 6 7 8; do
        if [[ $kind == big ]]; then echo "$H/fault/big/webhook/big$i"; else echo "$H/webhook/small$i"; fi
    done >"$TMP/$kind.txt"
    cat >"$TMP/$kind.yaml" <<EOF
crisisrun: 1
name: $kind-answers
channels:
  c: {type: webhook, urls_file: $kind.txt}
steps:
  - {id: s, at: 0s, status: resolved, notify: [c], message: "x"}
EOF
done
maxrss_kib() {
    python3 -c '
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
' "${CR_CMD[@]}" --db "$TMP/rss.db" run --drill --speed 60 --quiet "$1"
}
read -r rc_small rss_small <<<"$(maxrss_kib "$TMP/small.yaml")"
read -r rc_big rss_big <<<"$(maxrss_kib "$TMP/big.yaml")"
assert_eq "$rc_small/$rc_big" "0/0" "both runs delivered everything"
assert_eq "$(inbox_count /fault/big/webhook/big)" 9 "eight big answers (and the first one)"
(( rss_big - rss_small < 32 * 1024 )) ||
    fail "peak memory ${rss_big} KiB with big answers, ${rss_small} KiB without"

stop_inbox
echo "ok: fault matrix"
