#!/usr/bin/env bash
# demo.sh - the main job, end to end: build crisisrun, start a local inbox,
# rehearse playbooks/demo.yaml as a drill at 60x speed, answer its feedback
# form the way a responder would, and write the post-crisis report.
#
#   scripts/demo.sh            (on a fresh Debian machine, as root or with sudo)
#
# Everything lands in demo-out/ (or $CRISISRUN_DEMO_DIR): the journal, the
# inbox's record of every request, and the report in Markdown and HTML.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build
CR=$PWD/build/crisisrun
OUT=${CRISISRUN_DEMO_DIR:-$PWD/demo-out}
PORT=8025 # the demo playbook's channels default to this inbox
# The demo playbook's published, demo-only signing secret (see its header).
SECRET=whsec_Y3Jpc2lzcnVuLWRlbW8tb25seS1zaWduaW5nLWtleSE=

rm -rf "$OUT"
mkdir -p "$OUT"
export CRISISRUN_DB="$OUT/journal.db"

"$CR" inbox --listen "127.0.0.1:$PORT" --dir "$OUT/inbox" --secret "webhook/=$SECRET" \
    >"$OUT/inbox.log" 2>&1 &
INBOX_PID=$!
FEEDBACK_PID=
cleanup() {
    [[ -n "$FEEDBACK_PID" ]] && kill "$FEEDBACK_PID" 2>/dev/null
    kill "$INBOX_PID" 2>/dev/null && wait "$INBOX_PID" 2>/dev/null
    return 0
}
trap cleanup EXIT
for _ in $(seq 50); do
    grep -q "listening on" "$OUT/inbox.log" 2>/dev/null && break
    kill -0 "$INBOX_PID" 2>/dev/null || { cat "$OUT/inbox.log" >&2; echo "demo: the inbox could not start on port $PORT" >&2; exit 1; }
    sleep 0.1
done
echo "demo: inbox on http://127.0.0.1:$PORT (open it in a browser to read the messages)"

# A responder answering the feedback form: wait for the request in the
# inbox, follow its link, post the form.
python3 - "$OUT/inbox/requests.jsonl" >"$OUT/feedback.log" 2>&1 <<'PY' &
import json, re, sys, time, urllib.parse, urllib.request
log = sys.argv[1]
for _ in range(600):
    try:
        for line in open(log):
            body = json.loads(line).get("body") or ""
            m = re.search(r"(http://[^\s\"\\]+/feedback/[0-9a-f]{32})", body)
            if m:
                form = urllib.parse.urlencode({
                    "q_informed": "4", "q_speed": "5", "anonymous": "1",
                    "q_better": "The 3-minute updates were what we needed; page the database team earlier.",
                }).encode()
                with urllib.request.urlopen(m.group(1), data=form) as r:
                    print("feedback posted:", r.status, r.geturl())
                sys.exit(0)
    except FileNotFoundError:
        pass
    time.sleep(0.1)
print("no feedback request seen")
PY
FEEDBACK_PID=$!

"$CR" run playbooks/demo.yaml --drill --speed 60 --quiet >"$OUT/run.log" 2>&1 &
RUN_PID=$!
for _ in $(seq 50); do
    RUN=$(head -n 1 "$OUT/run.log" 2>/dev/null || true)
    [[ "$RUN" =~ ^[0-9a-f]{12}$ ]] && break
    sleep 0.1
done
[[ "$RUN" =~ ^[0-9a-f]{12}$ ]] || { cat "$OUT/run.log" >&2; echo "demo: the run did not start" >&2; exit 1; }
echo "demo: run $RUN started; the incident manager acts on it from this shell:"
# At 60x, a real second is a rehearsed minute: the on-call acknowledges
# after the escalation (at 2m30s), the commander notes a follow-up.
sleep 2.8
echo "  \$ crisisrun ack $RUN"
"$CR" ack "$RUN"
sleep 2
echo "  \$ crisisrun note $RUN \"Add an alert on replica lag before it reaches the checkout API\" --action"
"$CR" note "$RUN" "Add an alert on replica lag before it reaches the checkout API" --action
wait "$RUN_PID"
cat "$OUT/run.log"
wait "$FEEDBACK_PID" || true
FEEDBACK_PID=
cat "$OUT/feedback.log"

"$CR" show "$RUN" >"$OUT/show.txt"
"$CR" report "$RUN" --format html -o "$OUT/report.html"
"$CR" report "$RUN" --format md -o "$OUT/report.md"
cat "$OUT/report.md"
cat <<MSG

demo: run $RUN rehearsed.
  report            $OUT/report.html  (and report.md)
  timeline          crisisrun --db $OUT/journal.db show $RUN
  every request     $OUT/inbox/requests.jsonl
MSG
