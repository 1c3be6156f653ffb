#!/usr/bin/env bash
# test_run_fanout.sh - a urls_file channel of 500 endpoints: every endpoint
# receives the message exactly once, and the journal agrees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

N=500
start_inbox
PB=$(copy_playbook fanout.yaml)
for i in $(seq 1 $N); do
    echo "$INBOX_URL/webhook/s$i"
done >"$TMP/subscribers.txt"

run_pb run "$PB"
[[ $RUN_RC == 0 ]] || { cat "$TMP/run.err" >&2; fail "run exited $RUN_RC"; }

# Exactly once per path, and nothing else.
N=$N RUN_ID=$RUN_ID python3 - "$INBOX_LOG" <<'PY'
import collections, json, os, sys
n, run_id = int(os.environ["N"]), os.environ["RUN_ID"]
reqs = [json.loads(l) for l in open(sys.argv[1])]
counts = collections.Counter(r["path"] for r in reqs)
want = {"/webhook/s%d" % i for i in range(1, n + 1)}
missing = sorted(want - set(counts))
extra = sorted(set(counts) - want)
dups = sorted(p for p, c in counts.items() if c > 1)
ids = collections.Counter(r["headers"].get("webhook-id") for r in reqs)
bad = [r["path"] for r in reqs
       if json.loads(r["body"])["run"] != run_id or json.loads(r["body"])["message"] != "To every subscriber"]
errors = []
if missing: errors.append("%d endpoints got nothing, e.g. %s" % (len(missing), missing[:5]))
if extra: errors.append("unexpected paths %s" % extra[:5])
if dups: errors.append("%d endpoints got more than one request, e.g. %s" % (len(dups), dups[:5]))
if len(ids) != n or max(ids.values()) != 1: errors.append("webhook-ids are not distinct per endpoint")
if bad: errors.append("wrong body at %s" % bad[:5])
if errors:
    sys.exit("FAIL: " + "\n".join(errors))
PY

# The journal: 500 notifications to distinct endpoints, all delivered at
# the first attempt with HTTP 200, ids matching what the inbox received.
assert_eq "$(sql "SELECT count(*), sum(state = 'delivered'), count(DISTINCT endpoint_hash),
                         count(DISTINCT endpoint_index), sum(attempts), sum(last_http_status = 200)
                  FROM notifications WHERE run_id = '$RUN_ID'")" "$N|$N|$N|$N|$N|$N" "journal notifications"
assert_eq "$(sql "SELECT count(*) FROM attempts JOIN notifications ON id = notification_id
                  WHERE run_id = '$RUN_ID' AND outcome = 'delivered' AND http_status = 200")" "$N" \
    "journal attempts"
sql "SELECT id FROM notifications WHERE run_id = '$RUN_ID' ORDER BY id" >"$TMP/journal_ids"
inbox_requests | json_query '"\n".join(sorted(r["headers"]["webhook-id"] for r in d))' >"$TMP/inbox_ids"
cmp -s "$TMP/journal_ids" "$TMP/inbox_ids" || fail "journal ids differ from the inbox's webhook-ids"
crisisrun show --json "$RUN_ID" >"$TMP/show.json"
assert_eq "$(json_query '[len(d["deliveries"]), sum(x["state"] == "delivered" for x in d["deliveries"])]' \
    "$TMP/show.json")" "[$N, $N]" "show --json deliveries"
assert_contains "$TMP/run.out" "resolved $RUN_ID: $N delivered, 0 failed, 0 disabled"
echo "ok"
