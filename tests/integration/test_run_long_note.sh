#!/usr/bin/env bash
# test_run_long_note.sh - a status note too long for a chat service is
# shortened inside the message, not at its end: every service still reads
# the author's "Next update by ..." after it, and every payload stays
# within its service's limit (Slack section 3000 characters, Discord
# description 4096, Google Chat text 4096).  Mattermost (16383), Teams
# (28 KB) and generic webhooks carry the whole note.
. "$(dirname "$0")/lib.sh"
. "$CRISISRUN_TEST_DATA/control/helpers.sh"

start_inbox
cat >"$TMP/pb.yaml" <<'YAML'
crisisrun: 1
name: long-note
title: "Payments API outage"
severity: sev1
targets:
  update_interval: 30m
channels:
  oncall:    {type: slack,      url: "${env:INBOX_URL}/slack/oncall"}
  leaders:   {type: teams,      url: "${env:INBOX_URL}/teams/leaders"}
  community: {type: discord,    url: "${env:INBOX_URL}/discord/community"}
  eng:       {type: mattermost, url: "${env:INBOX_URL}/mattermost/eng"}
  ops:       {type: googlechat, url: "${env:INBOX_URL}/googlechat/ops"}
  customers: {type: webhook,    url: "${env:INBOX_URL}/webhook/customers"}
steps:
  - id: declare
    at: 0s
    notify: [customers]
    message: "Investigating."
  - id: identified
    on: status:identified
    notify: [oncall, leaders, community, eng, ops, customers]
    message: "Cause: {{latest_note}} Next update by {{next_update}}."
YAML

# A realistic long status message: entities for Slack and Mattermost,
# a mention for Discord, two- and three-byte characters: 12,720 characters,
# within the control API's 16 KiB.
NOTE=$(python3 -c 'print("Card payments & refunds <EU> fail; caf\u00e9 \u2713 @everyone. " * 240, end="")')
start_crisisrun "$TMP/run.out" run --drill "$TMP/pb.yaml"
RUN=$(wait_run_id "$TMP/run.out")
wait_for "[[ \$(inbox_count /webhook/customers) -ge 1 ]]" 10
crisisrun status "$RUN" identified --note "$NOTE" >/dev/null
wait_for "[[ \$(inbox_count /) -ge 7 ]]" 10
crisisrun resolve "$RUN" >/dev/null
wait_exit "$BG_PID"
[[ $EXIT_RC == 0 ]] || { cat "$TMP/run.out" >&2; fail "run exited $EXIT_RC"; }

NOTE=$NOTE python3 - "$INBOX_LOG" <<'EOF'
import json, os, re, sys

note = os.environ["NOTE"]
marker = " \u2026 (truncated)"
# "14:35 UTC", or "2026-11-28 00:06 UTC" once the update falls on the next
# UTC day (docs/playbook.md): a run near midnight must pass too.
tail = re.compile(r" Next update by (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\.$")
reqs = {}
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    b = json.loads(r["body"])
    if r["path"].startswith("/webhook/") and b.get("step") != "identified":
        continue
    reqs[r["path"]] = (r, b)
failures = []

def check(cond, what):
    if not cond:
        failures.append(what)

def shortened(path, text, limit, prefix):
    r, _ = reqs[path]
    check(r["status"] in (200, 202, 204), "%s answered %s" % (path, r["status"]))
    check(len(text) <= limit, "%s: %d characters, over %d" % (path, len(text), limit))
    check(text.startswith(prefix + "[DRILL] Cause: Card payments"), "%s starts %r" % (path, text[:80]))
    check(tail.search(text) is not None, "%s lost its next update: ends %r" % (path, text[-60:]))
    check(marker + " Next update by" in text, "%s: no visible marker before the tail" % path)

headline = "[DRILL] Payments API outage"
_, s = reqs["/slack/oncall"]
shortened("/slack/oncall", s["text"], 3000, "")
shortened("/slack/oncall", s["attachments"][0]["blocks"][1]["text"]["text"], 3000, "")
check(re.search(r"&[a-z]*" + re.escape(marker), s["text"]) is None,
      "slack: half an entity before the marker")
_, d = reqs["/discord/community"]
shortened("/discord/community", d["embeds"][0]["description"], 4096, "")
check("@everyone" not in d["embeds"][0]["description"], "discord: a mention got through")
_, g = reqs["/googlechat/ops"]
shortened("/googlechat/ops", g["text"], 4096,
          "*%s*\nStatus: identified \u00b7 Severity: sev1\n\n" % headline)

# Mattermost, Teams and generic webhooks have room for all of it.
_, m = reqs["/mattermost/eng"]
check(m["text"].startswith("**%s**\n\n[DRILL] Cause: " % headline + note.replace("&", "&amp;")
                           .replace("<", "&lt;").replace(">", "&gt;")),
      "mattermost: the note was shortened")
_, t = reqs["/teams/leaders"]
check(t["attachments"][0]["content"]["body"][-1]["text"].startswith("[DRILL] Cause: " + note),
      "teams: the note was shortened")
_, w = reqs["/webhook/customers"]
check(tail.search(w["message"]) and w["message"].startswith("[DRILL] Cause: " + note),
      "webhook: the note was shortened")

if failures:
    print("\n".join("FAIL: " + f for f in failures), file=sys.stderr)
    sys.exit(1)
EOF
echo ok
