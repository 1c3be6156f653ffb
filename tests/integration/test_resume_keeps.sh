#!/usr/bin/env bash
# test_resume_keeps.sh - what a resume must remember of the run it continues:
# an endpoint that answered 410 before the crash stays disabled (a step
# after the resume settles disabled, with no request), and a run launched
# with --capture keeps capturing when resumed without the flag (nothing
# goes out for real).
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

start_inbox
# At --speed 600 the second step comes 3 real seconds after the start.
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: keeps
channels:
  gone: {type: webhook, url: "${env:INBOX_URL}/fault/410/webhook/gone"}
  ok: {type: webhook, url: "${env:INBOX_URL}/webhook/ok"}
steps:
  - id: first
    at: 0s
    notify: [gone, ok]
    message: "first"
  - id: second
    at: 30m
    notify: [gone, ok]
    message: "second"
    status: resolved
YAML

# ---- a 410 before the crash: still disabled after the resume ---------------------------
start_crisisrun "$TMP/run1.out" run --drill --speed 600 "$TMP/pb.yaml"
RUN=$(wait_run_id "$TMP/run1.out")
wait_for "[[ \$(sq \"SELECT count(*) FROM notifications WHERE run_id = '$RUN' AND step = 'first' AND state IN ('delivered', 'disabled')\") == 2 ]]" 10
kill9 "$BG_PID"
assert_eq "$(sq 'PRAGMA integrity_check')" ok "integrity after SIGKILL"
assert_eq "$(inbox_count /fault/410/)" 1 "one request to the 410 endpoint before the crash"
set +e
crisisrun resume "$RUN" >"$TMP/resume1.out" 2>&1
rc=$?
set -e
assert_eq "$rc" 1 "a run with a disabled endpoint exits 1"
assert_eq "$(sq "SELECT state FROM notifications WHERE run_id = '$RUN' AND step = 'second' AND channel = 'gone'")" \
    disabled "the step after the resume settles disabled"
assert_eq "$(sq "SELECT state FROM notifications WHERE run_id = '$RUN' AND step = 'second' AND channel = 'ok'")" \
    delivered "the healthy endpoint gets the step after the resume"
assert_eq "$(inbox_count /fault/410/)" 1 "no request to the disabled endpoint after the resume"

# ---- --capture is kept by resume -------------------------------------------------------
before=$(inbox_count /)
start_crisisrun "$TMP/run2.out" run --drill --speed 600 --capture "$TMP/cap" "$TMP/pb.yaml"
RUN2=$(wait_run_id "$TMP/run2.out")
wait_for "[[ \$(ls $TMP/cap | wc -l) -ge 2 ]]" 10
kill9 "$BG_PID"
crisisrun resume "$RUN2" >"$TMP/resume2.out" 2>&1 || fail "resume of the capture run: $(cat "$TMP/resume2.out")"
assert_eq "$(inbox_count /)" "$before" "nothing sent for real by the resumed capture run"
assert_eq "$(ls "$TMP/cap" | wc -l)" 4 "both steps to both endpoints captured"
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN2' AND state = 'delivered'")" \
    4 "captured notifications count as delivered"
echo "test_resume_keeps: ok"
