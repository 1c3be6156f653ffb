#!/usr/bin/env bash
# test_resume_crash.sh - SIGKILL the runner at several points of a drill
# with a 200-endpoint fan-out, retries (503 then ok) and slow endpoints
# (requests in flight), and `resume` after each kill.  Checked at the inbox
# and in the journal:
#   - PRAGMA integrity_check is ok after every kill;
#   - every notification arrived at least once with a 2xx answer;
#   - a notification answered 2xx more than once was unsettled (pending or
#     in flight) in the journal at a kill, at most once more per such kill,
#     and every copy carries the same webhook-id and the same body;
#   - no step was lost: every one-shot step fired exactly once and every
#     slot of the recurring step fired or was counted as skipped;
#   - a recurring step that missed several slots while the runner was down
#     fires once with skipped > 0; the one-shot step due meanwhile is late.
# Kill points: before the first step; during the first fan-out; after it
# (then a down time); during a late fan-out; during the all-clear fan-out
# after the resolution.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

SPEED=$(( 600 / CR_SLOW )) # one real second is ten minutes of the drill
start_inbox

python3 - "$INBOX_URL" >"$TMP/fan.txt" <<'PY'
import sys
base = sys.argv[1]
for i in range(200):
    if i % 10 == 3:
        print("%s/fault/503-then-ok/1/webhook/fan-%d" % (base, i))   # one retry
    elif i % 10 == 7:
        print("%s/fault/slow/300/webhook/fan-%d" % (base, i))        # in flight
    elif i % 25 == 11:
        print("%s/fault/slow/1500/webhook/fan-%d" % (base, i))       # long in flight
    else:
        print("%s/webhook/fan-%d" % (base, i))
PY
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: crash
title: "Crash and resume"
channels:
  fan:
    type: webhook
    urls_file: fan.txt
    retry: {attempts: 5, backoff: 200ms}
  ops: {type: webhook, url: "${env:INBOX_URL}/webhook/ops"}
steps:
  - id: declare
    at: 10m
    notify: [fan, ops]
    message: "declared"
  - id: update
    every: 5m
    from: 5m
    until: resolved
    notify: [ops]
    message: "Status: {{status}}"
  - id: second
    at: 40m
    notify: [fan]
    message: "forty minutes in"
  - id: close
    at: 70m
    status: resolved
    notify: [ops]
    message: "closing"
  - id: all-clear
    on: resolved
    notify: [fan]
    message: "resolved"
YAML

KILLS=0
# After a kill: the journal is intact; remember what was unsettled.
after_kill() {
    KILLS=$(( KILLS + 1 ))
    assert_eq "$(sq 'PRAGMA integrity_check')" ok "integrity_check after kill $KILLS ($1)"
    sq "SELECT id FROM notifications WHERE run_id = '$RUN' AND state IN ('pending', 'inflight')" \
        >"$TMP/unsettled.$KILLS"
    echo "kill $KILLS ($1): $(wc -l <"$TMP/unsettled.$KILLS") unsettled"
}
resume() {
    start_crisisrun "$TMP/resume.$KILLS.out" resume "$RUN"
    PID=$BG_PID
    wait_run_id "$TMP/resume.$KILLS.out" >/dev/null
}
# Some of STEP's notifications delivered and some not yet.
partial() {
    local s
    s=$(sq "SELECT sum(state = 'delivered') || ' ' || sum(state IN ('pending', 'inflight'))
            FROM notifications WHERE run_id = '$RUN' AND step = '$1'")
    [[ $s =~ ^([0-9]+)\ ([0-9]+)$ ]] && (( BASH_REMATCH[1] > 0 && BASH_REMATCH[2] > 0 ))
}
settled() {
    [[ $(sq "SELECT count(*) || ' ' || sum(state = 'delivered') FROM notifications
             WHERE run_id = '$RUN' AND step = '$1'") == "$2 $2" ]]
}

# 1. Before the first step.
start_crisisrun "$TMP/run.out" run --drill --speed "$SPEED" "$TMP/pb.yaml"
PID=$BG_PID
RUN=$(wait_run_id "$TMP/run.out")
kill9 "$PID"
after_kill "before the first step"
assert_eq "$(fired "$RUN" declare)" 0 "killed before the first step"
resume

# 2. During the first fan-out.
wait_for "partial declare" 20
kill9 "$PID"
after_kill "during the declare fan-out"
resume

# 3. After it, then down long enough for 'second' to come due and
#    'update' to miss several slots.
wait_for "settled declare 201" 20
kill9 "$PID"
after_kill "after the declare fan-out"
assert_eq "$(fired "$RUN" second)" 0 "killed before 'second' was due"
down_at=$(sq "SELECT max(at_ms) FROM events WHERE run_id = '$RUN'")
wait_clock "$RUN" $(( 45 * 60000 )) 30
resume

# 4. During the late fan-out of 'second'.
wait_for "partial second" 20
kill9 "$PID"
after_kill "during the late 'second' fan-out"
resume

# 5. During the all-clear fan-out, after the resolution.
wait_for "partial all-clear" 30
kill9 "$PID"
after_kill "during the all-clear fan-out"
if [[ -s "$TMP/unsettled.$KILLS" ]]; then
    resume
    wait_exit "$PID" 30
    [[ $EXIT_RC == 0 ]] || { cat "$TMP/resume.$KILLS.out"; fail "the last resume exited $EXIT_RC"; }
fi
rc=0; crisisrun resume "$RUN" >"$TMP/o" 2>"$TMP/e" || rc=$?
assert_eq "$rc" 1 "resume of a resolved, settled run"
assert_contains "$TMP/e" "is over: it is resolved and every notification has settled"

# ---- the journal: no step lost ----------------------------------------------------------
assert_eq "$(sq "SELECT state || ' ' || status FROM runs WHERE id = '$RUN'")" \
    "resolved resolved" "the run is resolved"
for s in declare second close all-clear; do
    assert_eq "$(fired "$RUN" "$s")" 1 "step $s fired once"
done
assert_eq "$(step_detail "$RUN" second 1 late)" 1 "'second' came due while down: late"
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN'")" $(( 3 * 200 + 1 + 1 + $(fired "$RUN" update) )) \
    "one notification per endpoint and step occurrence"
# Every slot of 'update' up to the resolution fired or was skipped, once.
assert_eq "$(sq "SELECT count(DISTINCT occurrence) = count(*)
                 AND sum(1 + json_extract(detail, '\$.skipped')) = max(occurrence)
                 FROM events WHERE run_id = '$RUN' AND kind = 'step_fired' AND step = 'update'")" 1 \
    "every slot of 'update' is accounted for"
# Catching up sends one update per resume at most, never a burst...
assert_eq "$(sq "SELECT count(*) FROM events u WHERE u.run_id = '$RUN' AND u.kind = 'step_fired'
                 AND u.step = 'update' AND json_extract(u.detail, '\$.late') AND EXISTS (
                   SELECT 1 FROM events v WHERE v.run_id = '$RUN' AND v.kind = 'step_fired'
                   AND v.step = 'update' AND json_extract(v.detail, '\$.late') AND v.seq < u.seq
                   AND NOT EXISTS (SELECT 1 FROM events r WHERE r.run_id = '$RUN'
                                   AND r.kind = 'resumed' AND r.seq BETWEEN v.seq AND u.seq))")" 0 \
    "two late updates after one resume"
# ...and the one after the long down time stands for several slots.
skipped=$(sq "SELECT json_extract(detail, '\$.skipped') FROM events WHERE run_id = '$RUN'
              AND kind = 'step_fired' AND step = 'update' AND seq > (SELECT min(seq) FROM events
              WHERE run_id = '$RUN' AND kind = 'resumed' AND at_ms > $down_at)
              ORDER BY seq LIMIT 1")
(( skipped >= 2 )) || fail "the update after the down time skipped '$skipped' slots, expected >= 2"

# ---- the inbox: at least once, duplicates only from unsettled ----------------------------
sq "SELECT id FROM notifications WHERE run_id = '$RUN'" >"$TMP/all"
assert_eq "$(sq "SELECT count(*) FROM notifications WHERE run_id = '$RUN'
                 AND state != 'delivered'")" 0 "every notification delivered"
inbox_requests | python3 -c '
import collections, json, sys
all_ids = set(open(sys.argv[1]).read().split())
kills = [set(open(p).read().split()) for p in sys.argv[2:]]
ok = collections.Counter()
bodies = collections.defaultdict(set)
problems = []
for line in sys.stdin:
    r = json.loads(line)
    wid = r["headers"].get("webhook-id")
    if wid not in all_ids:
        problems.append("request %s to %s has an unknown webhook-id %r" % (r["seq"], r["channel"], wid))
        continue
    bodies[wid].add(r["body"])
    if r["status"] is not None and 200 <= r["status"] < 300:
        ok[wid] += 1
for wid in sorted(all_ids):
    allowed = 1 + sum(wid in k for k in kills)
    if ok[wid] == 0:
        problems.append("%s never arrived with a 2xx answer" % wid)
    elif ok[wid] > allowed:
        problems.append("%s arrived %d times; unsettled at %d kills" % (wid, ok[wid], allowed - 1))
    if len(bodies[wid]) > 1:
        problems.append("%s was sent with %d different bodies" % (wid, len(bodies[wid])))
dups = sum(1 for w in ok if ok[w] > 1)
print("%d notifications, %d requests, %d re-sent after a kill" % (len(all_ids), sum(ok.values()), dups))
if problems:
    print("\n".join(problems[:20]), file=sys.stderr)
    sys.exit(1)
' "$TMP/all" "$TMP"/unsettled.* || fail "the inbox log breaks the resume guarantees"

echo "ok test_resume_crash"
