#!/usr/bin/env bash
# test_run_secrets.sh - webhook URLs and signing secrets are secrets: a
# marker in an endpoint's path, query or user info never appears in what
# `run` prints (delivered, retried, failed, 410, redirected, refused), in
# `show`, `list` or `plan`, in the journal (bodies included), nor in the
# names of --capture files; the signing secret appears nowhere at all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
SECRET_KEY=MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
MARKERS=(SECRET-PATH-XYZ SECRET-QUERY-XYZ SECRET-USER-XYZ "$SECRET_KEY")

start_inbox --secret webhook/SECRET-PATH-XYZ/hook="$SECRET" --secret webhook/SECRET-PATH-XYZ/fail="$SECRET"
HOSTPORT=${INBOX_URL#http://}
export SIGNING_SECRET=$SECRET
export SECRET_URL="$INBOX_URL/webhook/SECRET-PATH-XYZ/hook?token=SECRET-QUERY-XYZ"
export SECRET_FAIL_URL="$INBOX_URL/fault/500/webhook/SECRET-PATH-XYZ/fail?token=SECRET-QUERY-XYZ"
export SECRET_GONE_URL="$INBOX_URL/fault/410/webhook/SECRET-PATH-XYZ/gone?token=SECRET-QUERY-XYZ"
export SECRET_REDIRECT_URL="$INBOX_URL/fault/redirect/webhook/SECRET-PATH-XYZ/moved?token=SECRET-QUERY-XYZ"
export SECRET_REFUSED_URL="http://127.0.0.1:$(free_port)/SECRET-PATH-XYZ?token=SECRET-QUERY-XYZ"
export SECRET_USERINFO_URL="http://user:SECRET-USER-XYZ@$HOSTPORT/webhook/SECRET-PATH-XYZ/ui"
export SECRET_CHAT_URL="$INBOX_URL/googlechat/SECRET-PATH-XYZ?key=SECRET-QUERY-XYZ&token=SECRET-QUERY-XYZ"
PB=$(copy_playbook secrets.yaml)
for i in 1 2 3; do
    echo "$INBOX_URL/slack/SECRET-PATH-XYZ-$i?token=SECRET-QUERY-XYZ"
done >"$TMP/secret-urls.txt"

run_pb run "$PB"
# Failures for good (500, 410, redirect, refused): exit 1.
assert_eq "$RUN_RC" 1 "exit status"
# The run did use every endpoint: the markers reached the inbox, and the
# output reports the failures (with the endpoints redacted).
assert_eq "$(inbox_count /webhook/SECRET-PATH-XYZ/)" 2 "signed + userinfo requests"
assert_eq "$(inbox_requests | json_query '[r["signature"] for r in d if r["path"].endswith("/hook")]')" \
    '["valid"]' "signed"
assert_eq "$(inbox_count /fault/500/webhook/SECRET-PATH-XYZ/)" 2 "failing requests"
assert_eq "$(inbox_count /slack/SECRET-PATH-XYZ-)" 3 "fan-out requests"
assert_contains "$TMP/run.out" "retry "
assert_contains "$TMP/run.out" "failed "
assert_contains "$TMP/run.out" "answered 410"
assert_contains "$TMP/run.out" "http://127.0.0.1:"
check_clean "$TMP/run.out" "$TMP/run.err"

crisisrun show "$RUN_ID" >"$TMP/show.txt"
crisisrun show --json "$RUN_ID" >"$TMP/show.json"
crisisrun list >"$TMP/list.txt"
crisisrun list --json >"$TMP/list.json"
crisisrun plan "$PB" >"$TMP/plan.txt"
crisisrun plan --json "$PB" >"$TMP/plan.json"
assert_contains "$TMP/show.txt" "http://127.0.0.1:"
assert_contains "$TMP/plan.txt" "http://127.0.0.1:"
check_clean "$TMP/show.txt" "$TMP/show.json" "$TMP/list.txt" "$TMP/list.json" "$TMP/plan.txt" "$TMP/plan.json"

# The journal: every table and column, bodies included, and the raw files.
sqlite3 "$DB" .dump >"$TMP/dump.sql"
assert_contains "$TMP/dump.sql" "$RUN_ID"
check_clean "$TMP/dump.sql" "$DB"*

# --capture: file names (and the run's output) are clean; the files
# themselves hold the full requests by design.
run_pb capture --capture "$TMP/capture" "$PB"
assert_eq "$RUN_RC" 0 "capture exit status"
check_clean "$TMP/capture.out" "$TMP/capture.err"
find "$TMP/capture" >"$TMP/capture.names"
assert_eq "$(grep -c '\.http$' "$TMP/capture.names")" 10 "capture files"
check_clean "$TMP/capture.names"
grep -lqF SECRET-PATH-XYZ "$TMP/capture"/*.http || fail "capture files hold no full URL"
# Signatures are in the capture; the secret itself is not.
for f in "$TMP/capture"/*.http; do
    if grep -qF -- "$SECRET_KEY" "$f"; then fail "'$f' contains the signing secret"; fi
done
echo "ok"
