#!/usr/bin/env bash
# test_control_reused_pid.sh - a run killed with its address left behind
# (a power cut) whose owner_pid now names an unrelated live process (the
# pid was reused after the reboot).  Its lease has long run out: nobody
# holds the run, so `ack` says at once that its process is gone, as it did
# before commands waited for a starting resume; it must not wait 10 s for
# that unrelated process "to serve it".
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

start_paged_run "$TMP/run.out"
kill9 "$PID"

# The unrelated process that has the old pid's number now.
sleep 300 &
OTHER=$!
_CR_PIDS+=("$OTHER")
sq "UPDATE runs SET owner_pid = $OTHER, lease_until_ms = 1000 WHERE id = '$RUN'"

rc=0
start=$(date +%s%N)
crisisrun ack "$RUN" page >"$TMP/o" 2>"$TMP/e" || rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq "$rc" 1 "ack to a run whose owner_pid was reused"
assert_contains "$TMP/e" "crisisrun: the process of run $RUN is gone; continue the run with 'crisisrun resume $RUN'"
assert_not_contains "$TMP/e" "waiting for process"
(( took < 5000 * CR_SLOW )) || fail "ack took ${took} ms to say the run is gone"
echo "ok test_control_reused_pid"
