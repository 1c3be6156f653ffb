#!/usr/bin/env bash
# test_run_providers.sh - `crisisrun run` delivers each provider's payload as
# its service expects it: the requests the inbox received, parsed and checked
# field by field, with a message value full of characters that every service
# escapes differently; the generic webhook signed and verified by the inbox.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
start_inbox --secret webhook/customers="$SECRET"
export SIGNING_SECRET=$SECRET

# Quotes, a newline, markup characters, Discord's and Mattermost's mass
# mentions and a person's, non-ASCII (two and three byte sequences) and one
# byte that is not UTF-8 at all.
MSG=$'He said "hi"\nline2 <&> @everyone @channel @ALL. @here @alice caf\xc3\xa9 \xe2\x9c\x93 bad\xff.'
run_pb run --var "msg=$MSG" "$RUN_DATA/providers.yaml"
[[ $RUN_RC == 0 ]] || { cat "$TMP/run.err" >&2; fail "run exited $RUN_RC"; }
[[ -s "$TMP/run.err" ]] && { cat "$TMP/run.err" >&2; fail "run wrote to stderr"; }
assert_eq "$(inbox_count /)" 6 "one request per channel"

RUN_ID=$RUN_ID SECRET=$SECRET python3 - "$INBOX_LOG" <<'EOF'
import base64, hashlib, hmac, json, os, re, sys

run_id, secret = os.environ["RUN_ID"], os.environ["SECRET"]
reqs = {}
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    reqs[r["path"]] = r
failures = []

def check(cond, what):
    if not cond:
        failures.append(what)

def body(path):
    r = reqs.get(path)
    if r is None:
        failures.append("no request to " + path)
        return None
    check(r["method"] == "POST", path + ": method " + r["method"])
    check(r["body_encoding"] == "utf-8", path + ": body is not UTF-8")
    check(r["headers"].get("content-type") == "application/json",
          path + ": content-type " + str(r["headers"].get("content-type")))
    return json.loads(r["body"])

# The value as each service must receive it (after JSON decoding): the
# invalid byte becomes U+FFFD; Slack and Mattermost escape & < > as
# entities; Discord defuses its mentions, Mattermost @channel, @all and
# @here in any case (not @alice), and Google Chat every '<' with a
# zero-width space.
raw = 'He said "hi"\nline2 <&> @everyone @channel @ALL. @here @alice caf\u00e9 \u2713 bad\ufffd.'
slack_msg = "Value: " + raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
discord_msg = "Value: " + raw.replace("@everyone", "@\u200beveryone").replace("@here", "@\u200bhere")
mattermost_msg = re.sub(r"(?i)@(channel|all|here)(?![A-Za-z0-9])", "@\u200b\\1", slack_msg)
plain_msg = "Value: " + raw
gchat_msg = "Value: " + raw.replace("<", "<\u200b")
title = "Provider payloads"

# --- Slack: text, a headline block, a coloured attachment with fields ---
s = body("/slack/oncall")
if s is not None:
    check(reqs["/slack/oncall"]["status"] == 200, "slack: answered %s" % reqs["/slack/oncall"]["status"])
    check(s["text"] == slack_msg, "slack text: %r" % s["text"])
    check(s["blocks"][0]["type"] == "section", "slack block type")
    check(s["blocks"][0]["text"] == {"type": "mrkdwn", "text": "*" + title + "*"},
          "slack headline block: %r" % s["blocks"][0])
    a = s["attachments"][0]
    check(a["color"] == "#E01E5A", "slack attachment colour " + a["color"])
    check(a["fallback"] == "investigating", "slack fallback")
    fields = [f["text"] for f in a["blocks"][0]["fields"]]
    check(fields == ["*Severity*\nsev1", "*Status*\ninvestigating"], "slack fields %r" % fields)
    check(a["blocks"][1]["text"]["text"] == slack_msg, "slack attachment text")

# --- Teams: Workflows envelope around an Adaptive Card ---
t = body("/teams/leaders")
if t is not None:
    check(t["type"] == "message", "teams envelope type")
    check(len(t["attachments"]) == 1, "teams: one attachment")
    att = t["attachments"][0]
    check(att["contentType"] == "application/vnd.microsoft.card.adaptive", "teams contentType")
    card = att["content"]
    check(card["type"] == "AdaptiveCard", "teams card type")
    check(card["version"] == "1.4", "teams card version " + str(card["version"]))
    blocks = [(b["type"], b["text"]) for b in card["body"]]
    check(blocks == [("TextBlock", title), ("TextBlock", "Status: investigating"),
                     ("TextBlock", "Severity: sev1"), ("TextBlock", plain_msg)],
          "teams TextBlocks %r" % blocks)
    check(card["body"][1]["color"] == "attention", "teams status colour")
    check(reqs["/teams/leaders"]["status"] == 202, "teams answer")

# --- Discord: no mention can ping; an embed with description and colour ---
d = body("/discord/community")
if d is not None:
    check(d["allowed_mentions"] == {"parse": []}, "discord allowed_mentions %r" % d["allowed_mentions"])
    check("content" not in d, "discord: content set")
    e = d["embeds"][0]
    check(e["description"] == discord_msg, "discord description %r" % e["description"])
    check(e["color"] == 14687834, "discord colour %r" % e["color"])
    check(e["title"] == title, "discord title")
    check([(f["name"], f["value"]) for f in e["fields"]] ==
          [("Severity", "sev1"), ("Status", "investigating")], "discord fields")
    check(reqs["/discord/community"]["status"] == 204, "discord answer")

# --- Mattermost: headline and message in text, colour in the attachment ---
m = body("/mattermost/eng")
if m is not None:
    check(m["text"] == "**" + title + "**\n\n" + mattermost_msg, "mattermost text %r" % m["text"])
    a = m["attachments"][0]
    check(a["color"] == "#E01E5A", "mattermost colour")
    check([(f["title"], f["value"]) for f in a["fields"]] ==
          [("Severity", "sev1"), ("Status", "investigating")], "mattermost fields")
    check(reqs["/mattermost/eng"]["status"] == 200, "mattermost answer")

# --- Google Chat: text, one thread a run, the reply option in the query ---
g = body("/googlechat/ops")
if g is not None:
    check(g["text"] == "*" + title + "*\nStatus: investigating \u00b7 Severity: sev1\n\n" + gchat_msg,
          "googlechat text %r" % g["text"])
    check(g["thread"] == {"threadKey": "crisisrun-" + run_id}, "googlechat thread %r" % g["thread"])
    check(reqs["/googlechat/ops"]["query"] == "messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
          "googlechat query %r" % reqs["/googlechat/ops"]["query"])
    check(reqs["/googlechat/ops"]["status"] == 200, "googlechat answer")

# --- Generic webhook: the JSON fields, Standard Webhooks headers ---
w = body("/webhook/customers")
if w is not None:
    r = reqs["/webhook/customers"]
    check(w["run"] == run_id, "webhook run")
    check(w["playbook"] == "providers", "webhook playbook")
    check(w["severity"] == "sev1", "webhook severity")
    check(w["status"] == "investigating", "webhook status")
    check(w["step"] == "declare", "webhook step")
    check(w["message"] == plain_msg, "webhook message %r" % w["message"])
    check(isinstance(w["next_update"], str) and w["next_update"].endswith("Z"),
          "webhook next_update %r" % w["next_update"])
    check(w["drill"] is False, "webhook drill")
    h = r["headers"]
    check(h.get("webhook-id", "").startswith("msg_") and "id" not in w,
          "webhook-id %r, body keys %r" % (h.get("webhook-id"), sorted(w)))
    check(h.get("webhook-timestamp", "").isdigit(), "webhook-timestamp")
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, ("%s.%s.%s" % (h.get("webhook-id"), h.get("webhook-timestamp"),
                                       r["body"])).encode(), hashlib.sha256).digest()
    check(h.get("webhook-signature") == "v1," + base64.b64encode(mac).decode(),
          "webhook-signature does not match an independent HMAC")
    check(r["signature"] == "valid", "inbox says the signature is " + r["signature"])
    check(r["status"] == 200, "webhook answer")

# Chat services get no signature headers.
for p, r in reqs.items():
    if not p.startswith("/webhook/"):
        check("webhook-signature" not in r["headers"], p + ": signed")

if failures:
    print("\n".join("FAIL: " + f for f in failures), file=sys.stderr)
    sys.exit(1)
EOF

# The journal agrees: six notifications, all delivered at the first attempt.
assert_eq "$(sql "SELECT count(*), sum(state = 'delivered'), sum(attempts)
                  FROM notifications WHERE run_id = '$RUN_ID'")" "6|6|6" "journal"
# The journal keeps the --var for resume, cleaned as the services got it.
assert_eq "$(sql "SELECT json_extract(vars_json, '\$.msg') FROM runs WHERE id = '$RUN_ID'")" \
    $'He said "hi"\nline2 <&> @everyone @channel @ALL. @here @alice caf\xc3\xa9 \xe2\x9c\x93 bad\xef\xbf\xbd.' \
    "journaled --var"
echo "ok"
