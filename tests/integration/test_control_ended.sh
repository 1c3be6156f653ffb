#!/usr/bin/env bash
# test_control_ended.sh - a command that reaches a run's process just as it
# ends cleanly: the command read the control address while the process
# still served, and the process has cleared it and closed its socket by
# the time the request arrives (the run resolved and settled, or SIGTERM).
# The command must say what the journal now says, as it does when it finds
# the address already cleared, not that the process is gone (which tells
# the user to resume a run that may be over).
#
# The race is made deterministic with a stand-in for the run's process: a
# Python process that owns the run in the journal (a live pid on this
# host), listens at its control address and, when the command connects,
# ends the way `crisisrun run` does (journal_run_release_owner() before
# the socket closes) without answering.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: ended
title: "Ends cleanly"
channels:
  oncall: {type: webhook, url: "http://127.0.0.1:9/webhook/oncall"}
steps:
  - id: done
    at: 0s
    status: resolved
    notify: [oncall]
    message: "done"
YAML
mkdir -p "$TMP/cap"
crisisrun run --capture "$TMP/cap" --quiet "$TMP/pb.yaml" >"$TMP/run.out" 2>&1 ||
    fail "the run failed: $(cat "$TMP/run.out")"
RUN=$(head -n1 "$TMP/run.out")

# ends STATE_BEFORE STATE_AFTER: the stand-in, taking one request.
ends() {
    rm -f "$TMP/ready"
    python3 - "$DB" "$RUN" "$1" "$2" "$TMP/ready" <<'PY' &
import os, socket, sqlite3, sys, time
db, run, before, after, ready = sys.argv[1:]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
j = sqlite3.connect(db, isolation_level=None, timeout=5)
j.execute("UPDATE runs SET state = ?, control_addr = ?, control_token = ?, owner_pid = ?,"
          " owner_host = ?, lease_until_ms = ? WHERE id = ?",
          (before, "http://127.0.0.1:%d" % srv.getsockname()[1], "0" * 64, os.getpid(),
           socket.gethostname(), int(time.time() * 1000) + 600000, run))
open(ready, "w").close()
conn, _ = srv.accept()
# As runner_main() ends: the state, then the owner and address released,
# then the server freed.  "-": as a crash, which leaves them all behind.
if after != "-":
    j.execute("UPDATE runs SET state = ? WHERE id = ?", (after, run))
    j.execute("UPDATE runs SET owner_pid = NULL, owner_host = NULL, lease_until_ms = NULL,"
              " control_addr = NULL WHERE id = ?", (run,))
conn.close()
srv.close()
PY
    STANDIN=$!
    _CR_PIDS+=("$STANDIN")
    wait_for "[[ -e '$TMP/ready' ]]" 10
}

# ---- a resolved run whose process ends: the run is over ----
ends resolved resolved
rc=0
crisisrun note "$RUN" "too late" >"$TMP/o" 2>"$TMP/e" || rc=$?
wait_exit "$STANDIN"
assert_eq "$rc" 1 "note to a run whose process ended meanwhile"
assert_contains "$TMP/e" "crisisrun: run $RUN is resolved and its process has ended"
assert_not_contains "$TMP/e" "is gone"

# ---- stopped by SIGTERM meanwhile: interrupted ----
ends running interrupted
rc=0
crisisrun ack "$RUN" >"$TMP/o" 2>"$TMP/e" || rc=$?
wait_exit "$STANDIN"
assert_eq "$rc" 1 "ack to a run interrupted meanwhile"
assert_contains "$TMP/e" "crisisrun: run $RUN was interrupted; continue it with 'crisisrun resume $RUN'"
assert_not_contains "$TMP/e" "is gone"

# ---- a process that dies during the request leaves its address: gone ----
ends running -
rc=0
crisisrun note "$RUN" "nobody there" >"$TMP/o" 2>"$TMP/e" || rc=$?
wait_exit "$STANDIN"
assert_eq "$rc" 1 "note to a process that died meanwhile"
assert_contains "$TMP/e" "crisisrun: the process of run $RUN is gone; continue the run with 'crisisrun resume $RUN'"
echo "ok"
