#!/usr/bin/env bash
# Crash gauntlet: a fan-out run to 300 endpoints (some answer 503 once,
# some answer slowly, so retries and in-flight requests are always about)
# is killed with SIGKILL at random instants, at least KILLS times, each
# time continued by `resume` in the background, and the journal is checked
# with PRAGMA integrity_check after every kill.  In the end every
# notification is delivered: in the journal, and at the receiver, which
# saw every notification id answered 2xx at least once.
#
# GAUNTLET_KILLS (default 30) and GAUNTLET_SEED (default: random, printed)
# reproduce a failing sequence.
. "$(dirname "$0")/lib.sh"

KILLS=${GAUNTLET_KILLS:-30}
SEED=${GAUNTLET_SEED:-$(( $(date +%s%N) % 32768 ))}
RANDOM=$SEED
echo "kill gauntlet: $KILLS kills, seed $SEED"

DB=$TMP/journal.db
q() { sqlite3 "$DB" "$1"; }
ENDPOINTS=300
STEPS=4

SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
start_inbox --secret webhook="$SECRET"
# One path per endpoint: the inbox counts 503-then-ok per path, so each of
# those endpoints fails exactly once.
for i in $(seq 1 $ENDPOINTS); do
    if (( i % 15 == 0 )); then
        echo "$INBOX_URL/fault/503-then-ok/1/webhook/e$i"
    elif (( i % 5 == 2 )); then
        echo "$INBOX_URL/fault/slow/400/webhook/e$i"
    else
        echo "$INBOX_URL/webhook/e$i"
    fi
done >"$TMP/subscribers.txt"

# At --speed 20 the steps are 3 s apart and the run lasts about 9 s
# undisturbed; the kills keep interrupting it, and a run that ends before
# the gauntlet is over is followed by another.
cat >"$TMP/fanout.yaml" <<EOF
crisisrun: 1
name: fanout-under-fire
channels:
  subscribers:
    type: webhook
    urls_file: subscribers.txt
    secret: "$SECRET"
    timeout: 5s
    retry: {attempts: 8, backoff: 200ms}
steps:
  - {id: declare, at: 0s, notify: [subscribers], message: "We are investigating failed payments."}
  - {id: update, at: 1m, notify: [subscribers], message: "We have found the cause."}
  - {id: monitor, at: 2m, status: monitoring, notify: [subscribers], message: "A fix is deployed."}
  - {id: resolve, at: 3m, status: resolved, notify: [subscribers], message: "Payments work again."}
EOF

integrity() {
    local r
    r=$(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1) || fail "integrity_check failed to run: $r"
    assert_eq "$r" ok "integrity_check after kill $1"
}

# start OUT ARGS...: crisisrun in the background, its id line awaited
# only as far as the process lives (a kill may come before it prints).
start() {
    local out=$1
    shift
    start_crisisrun "$out" --db "$DB" "$@" --quiet
}

RUNS=()
new_run() {
    local out=$TMP/run.${#RUNS[@]}.out i=0
    start "$out" run --drill --speed 20 "$TMP/fanout.yaml"
    # The id must be known to resume: wait for the first line.
    until [[ -s "$out" ]] && head -1 "$out" | grep -qE '^[0-9a-f]{12}$'; do
        kill -0 "$BG_PID" 2>/dev/null || { cat "$out" >&2; fail "the run did not start"; }
        (( ++i < 100 * CR_SLOW )) || fail "the run printed no id"
        sleep 0.05
    done
    RUNS+=("$(head -1 "$out")")
}

new_run
kills=0 resumes=0 midflight=0
while (( kills < KILLS )); do
    # A random instant: 0 to 600 ms into this process's life.
    sleep "0.$(printf '%03d' $(( RANDOM % 600 )))"
    pid=$BG_PID
    if ! kill -0 "$pid" 2>/dev/null; then
        # It finished before the kill: it must have succeeded.
        rc=0
        wait "$pid" || rc=$?
        _cr_forget_pid "$pid"
        assert_eq "$rc" 0 "a run that ended on its own (run ${RUNS[-1]})"
        new_run
        continue
    fi
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    _cr_forget_pid "$pid"
    kills=$(( kills + 1 ))
    integrity "$kills"
    if [[ $(q "SELECT count(*) FROM notifications WHERE state = 'inflight'") != 0 ]]; then
        midflight=$(( midflight + 1 ))
    fi
    # Some kills land before the first run committed its row: then there is
    # nothing to resume, and a fresh run takes its place.
    if [[ $(q "SELECT count(*) FROM runs WHERE id = '${RUNS[-1]}'") == 0 ]]; then
        unset 'RUNS[-1]'
        new_run
        continue
    fi
    # A kill can also land after the run's last journal write, while the
    # process was on its way out (slowest under ASan, whose leak check
    # runs at exit): the run is over, and resume rightly refuses it
    # (docs/resume.md).  A fresh run takes its place.
    if [[ $(q "SELECT state FROM runs WHERE id = '${RUNS[-1]}'") == resolved &&
          $(q "SELECT count(*) FROM notifications WHERE run_id = '${RUNS[-1]}'
               AND (state = 'pending' OR state = 'inflight')") == 0 ]]; then
        new_run
        continue
    fi
    resumes=$(( resumes + 1 ))
    start "$TMP/resume.$resumes.out" resume "${RUNS[-1]}"
done

# The last resume is left alone to finish.
rc=0
wait_for "! kill -0 $BG_PID 2>/dev/null" 60
wait "$BG_PID" || rc=$?
_cr_forget_pid "$BG_PID"
assert_eq "$rc" 0 "the last resume completes the run (see $TMP/resume.$resumes.out)"
integrity final
echo "kill gauntlet: $kills kills ($midflight with requests in flight), $resumes resumes, ${#RUNS[@]} run(s)"

# --- every run resolved, every notification delivered ---
for run in "${RUNS[@]}"; do
    assert_eq "$(q "SELECT state || '/' || status FROM runs WHERE id = '$run'")" resolved/resolved \
        "run $run"
    assert_eq "$(q "SELECT count(*) FROM notifications WHERE run_id = '$run'")" \
        $(( ENDPOINTS * STEPS )) "notifications of run $run (one per step and endpoint, no duplicate)"
    assert_eq "$(q "SELECT group_concat(DISTINCT state) FROM notifications WHERE run_id = '$run'")" \
        delivered "states of run $run"
done
(( ${#RUNS[@]} >= 1 )) || fail "no run"

# --- the receiver saw each notification id answered 2xx at least once,
# and nothing that is not a journaled notification ---
q "SELECT id FROM notifications" | sort >"$TMP/journal.ids"
inbox_requests | python3 -c '
import json, sys
ok = set()
for line in sys.stdin:
    r = json.loads(line)
    if r["status"] is not None and 200 <= r["status"] < 300:
        ok.add(r["headers"].get("webhook-id", "?"))
print("\n".join(sorted(ok)))
' >"$TMP/inbox.ids"
MISSING=$(comm -23 "$TMP/journal.ids" "$TMP/inbox.ids" | wc -l)
assert_eq "$MISSING" 0 "journaled notifications the receiver never got with a 2xx"
STRAY=$(comm -13 "$TMP/journal.ids" "$TMP/inbox.ids" | wc -l)
assert_eq "$STRAY" 0 "ids received that the journal does not know"
# Every request, re-sent ones included, carried a valid signature.
assert_eq "$(inbox_requests | json_query 'sorted(set(r["signature"] for r in d))')" '["valid"]' \
    "signature states at the receiver"

stop_inbox
echo "ok: $kills kills, every notification delivered"
