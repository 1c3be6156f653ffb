#!/usr/bin/env bash
# test_run_capture.sh - `run --capture DIR` sends nothing: each request is
# written to DIR as one file (request line with the full URL, headers,
# body), named after its notification, and the inbox receives nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
export SIGNING_SECRET=$SECRET STATUS_TOKEN=tok-123
start_inbox
CAP=$TMP/capture

run_pb run --drill --speed 60 --capture "$CAP" "$RUN_DATA/capture.yaml"
[[ $RUN_RC == 0 ]] || { cat "$TMP/run.err" >&2; fail "run exited $RUN_RC"; }
assert_eq "$(inbox_count /)" 0 "requests received by the inbox"
assert_eq "$(stat -c %a "$CAP")" 700 "capture directory mode"

sql "SELECT json_object('id', id, 'step', step, 'channel', channel, 'body', (SELECT body FROM bodies b WHERE b.id = body_id))
     FROM notifications WHERE run_id = '$RUN_ID'" >"$TMP/notifications.jsonl"

check_capture() { # check_capture FIRST_NUMBER: the files from FIRST_NUMBER on
    INBOX_URL=$INBOX_URL SECRET=$SECRET python3 - "$CAP" "$TMP/notifications.jsonl" "$1" <<'PY'
import base64, hashlib, hmac, json, os, re, stat, sys

cap, first = sys.argv[1], int(sys.argv[3])
inbox, secret = os.environ["INBOX_URL"], os.environ["SECRET"]
notifs = {n["id"]: n for n in map(json.loads, open(sys.argv[2]))}
urls = {"status-page": inbox + "/webhook/status-page",
        "ops": inbox + "/googlechat/ops?key=k1&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
        "oncall": inbox + "/slack/oncall"}
failures = []
def check(cond, what):
    if not cond:
        failures.append(what)

names = sorted(n for n in os.listdir(cap) if int(n[:6]) >= first)
check(len(names) == len(notifs), "%d files for %d notifications" % (len(names), len(notifs)))
check([int(n[:6]) for n in names] == list(range(first, first + len(names))),
      "numbering %r" % names)
seen = set()
for name in names:
    path = os.path.join(cap, name)
    m = re.fullmatch(r"\d{6}-(msg_[0-9a-f]{32})\.http", name)
    check(m is not None, "file name " + name)
    if not m:
        continue
    n = notifs.get(m.group(1))
    check(n is not None, name + ": no such notification")
    if n is None:
        continue
    seen.add(n["id"])
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, name + ": mode")
    raw = open(path, "rb").read().decode()
    head, sep, body = raw.partition("\n\n")
    check(sep == "\n\n", name + ": no blank line after the headers")
    lines = head.split("\n")
    check(lines[0] == "POST %s HTTP/1.1" % urls[n["channel"]], name + ": request line " + lines[0])
    h = {}
    for l in lines[1:]:
        k, _, v = l.partition(": ")
        h[k.lower()] = v
    check(body == n["body"], name + ": body differs from the journal")
    check(h.get("content-type") == "application/json", name + ": content-type")
    check(h.get("content-length") == str(len(body.encode())), name + ": content-length")
    check(h.get("user-agent", "").startswith("crisisrun/"), name + ": user-agent")
    msg = {"declare": "Declared", "update": "Update", "done": "Resolved"}[n["step"]]
    check("[DRILL] " + msg in json.dumps(json.loads(body)), name + ": no drill message")
    if n["channel"] == "status-page":
        check(h.get("authorization") == "Bearer tok-123", name + ": channel header")
        check(h.get("webhook-id") == n["id"], name + ": webhook-id")
        key = base64.b64decode(secret[6:])
        mac = hmac.new(key, ("%s.%s.%s" % (h.get("webhook-id"), h.get("webhook-timestamp"), body)).encode(),
                       hashlib.sha256).digest()
        check(h.get("webhook-signature") == "v1," + base64.b64encode(mac).decode(), name + ": signature")
    else:
        check("webhook-signature" not in h and "authorization" not in h, name + ": unexpected headers")
check(seen == set(notifs), "notifications without a file: %s" % sorted(set(notifs) - seen))
if failures:
    sys.exit("FAIL: " + "\n".join(failures))
PY
}
assert_eq "$(wc -l <"$TMP/notifications.jsonl")" 5 "journaled notifications"
check_capture 1

# A second run into the same directory continues the numbering.
run_pb again --drill --speed 60 --capture "$CAP" "$RUN_DATA/capture.yaml"
[[ $RUN_RC == 0 ]] || { cat "$TMP/again.err" >&2; fail "second run exited $RUN_RC"; }
sql "SELECT json_object('id', id, 'step', step, 'channel', channel, 'body', (SELECT body FROM bodies b WHERE b.id = body_id))
     FROM notifications WHERE run_id = '$RUN_ID'" >"$TMP/notifications.jsonl"
check_capture 6
assert_eq "$(ls "$CAP" | wc -l)" 10 "files after two runs"
assert_eq "$(inbox_count /)" 0 "requests received by the inbox"
echo "ok"
