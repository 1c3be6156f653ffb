#!/usr/bin/env bash
# test_run_journal.sh - the journal of a run agrees with what the inbox
# received: one notification per message, one attempt per request with its
# HTTP status, webhook-id == notification id, the exact bodies; the
# database passes its integrity check; `show` and `list` present the run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

start_inbox
run_pb run --drill --speed 60 "$RUN_DATA/journal.yaml"
[[ $RUN_RC == 0 ]] || { cat "$TMP/run.err" >&2; fail "run exited $RUN_RC"; }

sql "SELECT json_object('id', id, 'step', step, 'channel', channel, 'state', state,
                        'attempts', attempts, 'body', (SELECT body FROM bodies b WHERE b.id = body_id), 'last_http_status', last_http_status,
                        'log', (SELECT json_group_array(json_object('number', number,
                                    'http_status', http_status, 'outcome', outcome))
                                FROM (SELECT * FROM attempts WHERE notification_id = id ORDER BY number)))
     FROM notifications WHERE run_id = '$RUN_ID' ORDER BY created_ms, channel" >"$TMP/notifications.jsonl"

python3 - "$TMP/notifications.jsonl" "$INBOX_LOG" <<'PY'
import collections, json, sys
notifs = [json.loads(l) for l in open(sys.argv[1])]
for n in notifs:
    n["log"] = json.loads(n["log"]) if isinstance(n["log"], str) else n["log"]
reqs = [json.loads(l) for l in open(sys.argv[2])]
failures = []
def check(cond, what):
    if not cond:
        failures.append(what)

# 6 notifications: declare to 3 channels, update to 2, done to 1; the
# partner answers its first request 503, so the inbox received 7.
check(len(notifs) == 6, "%d notifications journaled, want 6" % len(notifs))
check(len(reqs) == 7, "%d requests received, want 7" % len(reqs))
check(sum(len(n["log"]) for n in notifs) == len(reqs),
      "%d attempts journaled, %d requests received" % (sum(len(n["log"]) for n in notifs), len(reqs)))
check(all(n["state"] == "delivered" and n["attempts"] == len(n["log"]) for n in notifs),
      "states/attempts: %r" % [(n["step"], n["channel"], n["state"], n["attempts"]) for n in notifs])

# Generic webhooks: the webhook-id of every request is its notification's
# id, each attempt's status is what the inbox answered, the body is the
# journaled one byte for byte.
by_id = collections.defaultdict(list)
for r in reqs:
    if "webhook-id" in r["headers"]:
        by_id[r["headers"]["webhook-id"]].append(r)
hooks = [n for n in notifs if n["channel"] in ("status-page", "partner")]
check(len(hooks) == 4, "webhook notifications: %d" % len(hooks))
check(set(by_id) == {n["id"] for n in hooks},
      "webhook-ids %s, journal ids %s" % (sorted(by_id), sorted(n["id"] for n in hooks)))
for n in hooks:
    got = by_id.get(n["id"], [])
    check([r["status"] for r in got] == [a["http_status"] for a in n["log"]],
          "%s %s: inbox statuses %r, journal %r" % (n["step"], n["channel"],
          [r["status"] for r in got], [a["http_status"] for a in n["log"]]))
    check(all(r["body"] == n["body"] for r in got), "%s %s: body differs" % (n["step"], n["channel"]))
    check(all("id" not in json.loads(r["body"]) for r in got), "%s: an id in the body" % n["id"])
partner = [n for n in hooks if n["channel"] == "partner" and n["step"] == "declare"]
check(partner and [(a["http_status"], a["outcome"]) for a in partner[0]["log"]] ==
      [(503, "retry"), (200, "delivered")], "partner attempts %r" % (partner and partner[0]["log"]))

# Slack: no webhook-id, but the same bodies, as sent.
slack_bodies = sorted(r["body"] for r in reqs if r["path"] == "/slack/oncall")
check(slack_bodies == sorted(n["body"] for n in notifs if n["channel"] == "oncall"),
      "slack bodies differ from the journal")
check(all(a["http_status"] == 200 for n in notifs if n["channel"] == "oncall" for a in n["log"]),
      "slack statuses")
if failures:
    sys.exit("FAIL: " + "\n".join(failures))
PY

assert_eq "$(sql 'PRAGMA integrity_check')" ok "integrity_check"
assert_eq "$(sql 'PRAGMA foreign_key_check')" "" "foreign_key_check"
assert_eq "$(sql "SELECT state, status, drill, ended_ms IS NOT NULL FROM runs WHERE id = '$RUN_ID'")" \
    "resolved|resolved|1|1" "the run's row"

# show, in text: the header, the timeline and the deliveries.
crisisrun show "$RUN_ID" >"$TMP/show.txt"
assert_contains "$TMP/show.txt" "run $RUN_ID  journal"
assert_contains "$TMP/show.txt" "drill         yes (speed 60x)"
for s in "step_fired         declare #1" "step_fired         update #1" "step_fired         done #1" \
         "status_changed     investigating -> resolved"; do
    assert_contains "$TMP/show.txt" "$s"
done
assert_eq "$(grep -cE '^  \+[0-9]+m [0-9]+s +[a-z-]+ #1 +[a-z-]+ +http://127\.0\.0\.1:[0-9]+/… +delivered' \
    "$TMP/show.txt")" 6 "delivery lines in show"
# A unique prefix names the run too.
crisisrun show "${RUN_ID:0:6}" >"$TMP/show_prefix.txt"
cmp -s "$TMP/show.txt" "$TMP/show_prefix.txt" || fail "show of a prefix differs"

# show --json agrees with the database.
crisisrun show --json "$RUN_ID" >"$TMP/show.json"
assert_eq "$(json_query '[d["id"], d["state"], d["drill"], len(d["deliveries"]),
    sorted(x["id"] for x in d["deliveries"])]' "$TMP/show.json")" \
    "$(python3 -c 'import json,sys; ids=sorted(l for l in sys.argv[2].split()); print(json.dumps([sys.argv[1], "resolved", True, len(ids), ids]))' \
        "$RUN_ID" "$(sql "SELECT id FROM notifications WHERE run_id = '$RUN_ID'")")" "show --json"
assert_eq "$(json_query 'sum(len(x["attempt_log"]) for x in d["deliveries"])' "$TMP/show.json")" \
    "$(sql "SELECT count(*) FROM attempts JOIN notifications ON id = notification_id WHERE run_id = '$RUN_ID'")" \
    "show --json attempts"
assert_eq "$(json_query '[e["step"] for e in d["events"] if e["kind"] == "step_fired"]' "$TMP/show.json")" \
    '["declare", "update", "done"]' "show --json step_fired"
assert_not_contains "$TMP/show.json" "/webhook/"

# list, in text and JSON.
crisisrun list >"$TMP/list.txt"
grep -E "^$RUN_ID +resolved +resolved +yes +sev2 +journal " "$TMP/list.txt" >/dev/null ||
    fail "list: $(cat "$TMP/list.txt")"
crisisrun list --json >"$TMP/list.json"
assert_eq "$(json_query "[[r['playbook'], r['state'], r['severity'], r['duration_ms'] >= 60000]
    for r in d if r['id'] == '$RUN_ID']" "$TMP/list.json")" '[["journal", "resolved", "sev2", true]]' "list --json"
# The journal keeps the playbook that was run, byte for byte, even when it
# can be read only once: through a pipe (a second read found it drained
# and journaled an empty playbook, which resume could not load).
cat >"$TMP/piped.yaml" <<'YAML'
crisisrun: 1
name: piped
channels:
  hook: {type: webhook, url: "https://hooks.example/piped"}
steps:
  - {id: only, at: 0s, status: resolved, notify: [hook], message: "done"}
YAML
run_pb piped --drill --quiet --capture "$TMP/piped-capture" <(cat "$TMP/piped.yaml")
[[ $RUN_RC == 0 ]] || { cat "$TMP/piped.err" >&2; fail "piped run exited $RUN_RC"; }
assert_eq "$(sql "SELECT playbook_sha256 FROM runs WHERE id = '$RUN_ID'")" \
    "$(sha256sum <"$TMP/piped.yaml" | cut -d' ' -f1)" "journaled text of a piped playbook"
echo "ok"
