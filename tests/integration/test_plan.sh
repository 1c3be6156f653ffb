#!/usr/bin/env bash
# test_plan.sh - `crisisrun plan`: the exact text and JSON of the cases in
# tests/data/plan/cases, secrets never shown, usage errors, and (with
# strace) that planning opens no socket at all.
set -u
: "${CRISISRUN:?}" "${CRISISRUN_TEST_DATA:?}"

# The playbooks fall back to their built-in secret URLs when these are unset.
unset CRISISRUN_PLAN_TEST_SLACK CRISISRUN_PLAN_TEST_TEAMS CRISISRUN_PLAN_TEST_SECRET

data=$CRISISRUN_TEST_DATA/plan
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0 checked=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# Every secret-looking part of a URL or secret in the test playbooks.
secrets='SECRET|secret|subtoken|chattoken|whsec_|/services/|/hooks/|/workflows/'

check_no_secrets() { # FILE WHAT
    if grep -En "$secrets" "$1" >"$tmp/leak"; then
        fail "$2 shows a secret:"
        cat "$tmp/leak"
    fi
}

# 1. The cases: exact output, exit 0, nothing on stderr, no secret.
while read -r name args; do
    case $name in '' | '#'*) continue ;; esac
    checked=$((checked + 1))
    # shellcheck disable=SC2086 # args is a word list by design
    (cd "$data" && "$CRISISRUN" plan $args) >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "$name: exit $rc: $(cat "$tmp/err")"
    [ -s "$tmp/err" ] && fail "$name: stderr: $(cat "$tmp/err")"
    check_no_secrets "$tmp/out" "$name"
    if [ -n "${CRISISRUN_UPDATE_EXPECTED:-}" ]; then
        cp "$tmp/out" "$data/$name.expected"
    elif ! diff -u "$data/$name.expected" "$tmp/out" >"$tmp/diff"; then
        fail "$name: output differs from $name.expected"
        cat "$tmp/diff"
    fi
done <"$data/cases"

# 2. A secret from the environment is redacted like any other.
checked=$((checked + 1))
(cd "$data" && CRISISRUN_PLAN_TEST_SLACK=https://hooks.slack.com/services/ENVSECRET/x?t=1 \
    "$CRISISRUN" plan --start 2026-11-26T14:30:00Z --json outage.yaml) >"$tmp/out" 2>&1 ||
    fail "plan with a URL from the environment failed"
grep -q 'https://hooks.slack.com/…' "$tmp/out" || fail "the slack channel is not shown redacted"
check_no_secrets "$tmp/out" "a URL from the environment"

# 3. Without --start the plan starts now; --resolve-at past the default
# horizon stretches it.
checked=$((checked + 1))
(cd "$data" && "$CRISISRUN" plan --resolve-at 5h outage.yaml) >"$tmp/out" 2>&1 ||
    fail "plan --resolve-at 5h failed: $(cat "$tmp/out")"
grep -q '^start .*, horizon 5h$' "$tmp/out" || fail "the horizon did not stretch to 5h"
grep -q '^+5h .* all-clear  \[resolved\]' "$tmp/out" || fail "all-clear is not at +5h"

# 4. Usage errors exit 2 with one message on stderr.
expect_usage() { # PATTERN ARGS...
    local pattern=$1 rc
    shift
    checked=$((checked + 1))
    (cd "$data" && "$CRISISRUN" plan "$@") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 2 ] || fail "plan $*: exit $rc, expected 2"
    grep -q "$pattern" "$tmp/err" || fail "plan $*: stderr lacks '$pattern': $(cat "$tmp/err")"
    [ -s "$tmp/out" ] && fail "plan $*: printed to stdout"
}
expect_usage "^crisisrun: no playbook given" --json
expect_usage "^crisisrun: one playbook at a time ('escalation.yaml' is extra)" \
    outage.yaml escalation.yaml
expect_usage "^crisisrun: --resolve-at 5h is beyond the horizon 1h" \
    --horizon 1h --resolve-at 5h outage.yaml
expect_usage "^crisisrun: invalid --horizon '4 hours'" --horizon "4 hours" outage.yaml
expect_usage "^crisisrun: invalid --start 'yesterday'" --start yesterday outage.yaml
expect_usage "^crisisrun: invalid --var 'novalue'" --var novalue outage.yaml
expect_usage "missing.yaml" missing.yaml

# 5. No socket, structurally checked: trace the network system calls.
checked=$((checked + 1))
if ! command -v strace >/dev/null; then
    echo "SKIP: strace is not installed: the no-socket check did not run"
elif ! strace -f -qq -o /dev/null true 2>/dev/null; then
    echo "SKIP: strace cannot trace here (ptrace not permitted): the no-socket check did not run"
else
    # LeakSanitizer cannot run under ptrace; the other runs above check leaks.
    (cd "$data" && ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
        strace -f -qq -e trace=network -o "$tmp/trace" \
        "$CRISISRUN" plan --start 2026-11-26T14:30:00Z --resolve-at 1h outage.yaml) \
        >/dev/null 2>&1 || fail "plan under strace failed"
    if grep -E 'socket|connect|sendto|sendmsg' "$tmp/trace" >"$tmp/net"; then
        fail "plan made network system calls:"
        cat "$tmp/net"
    fi
fi

# A --var that is not UTF-8 is shown as the services get it, U+FFFD for
# each bad byte, in text and in JSON (which dropped the occurrence).
checked=$((checked + 1))
cat >"$tmp/var.yaml" <<'YAML'
crisisrun: 1
name: var
vars: {service: checkout}
steps:
  - {id: declare, at: 0s, message: "{{vars.service}} is down"}
YAML
(cd "$tmp" && "$CRISISRUN" plan --json --var "$(printf 'service=caf\xe9')" var.yaml) \
    >"$tmp/out" 2>"$tmp/err" || fail "plan --json with a non-UTF-8 --var: $(cat "$tmp/err")"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
assert [o["message"] for o in d] == ["caf\ufffd is down"], d' "$tmp/out" ||
    fail "plan --json with a non-UTF-8 --var: $(cat "$tmp/out")"
(cd "$tmp" && "$CRISISRUN" plan --var "$(printf 'service=caf\xe9')" var.yaml) >"$tmp/out"
grep -qx "    caf$(printf '\xef\xbf\xbd') is down" "$tmp/out" ||
    fail "plan with a non-UTF-8 --var: $(cat "$tmp/out")"

# A value too long for a service: the run shortens it to fit the
# channel's limit (docs/providers.md, "Truncation"), keeping the author's
# "Next update by"; the plan shows the very text Slack gets, and the whole
# message to the webhook, which has no such limit.
checked=$((checked + 1))
cat >"$tmp/long.yaml" <<'YAML'
crisisrun: 1
name: long
vars: {lots: none}
targets: {update_interval: 30m}
channels:
  chat: {type: slack, url: "http://127.0.0.1:9/slack/chat"}
  hook: {type: webhook, url: "http://127.0.0.1:9/webhook/hook"}
steps:
  - {id: declare, at: 0s, status: resolved, notify: [chat, hook],
     message: "Affected lots: {{vars.lots}}. Next update by {{next_update}}."}
YAML
lots=$(python3 -c 'print(" ".join("L%04d" % i for i in range(1000)))')
(cd "$tmp" && "$CRISISRUN" plan --json --var "lots=$lots" long.yaml) >"$tmp/out" 2>"$tmp/err" ||
    fail "plan --json with a long --var: $(cat "$tmp/err")"
(cd "$tmp" && "$CRISISRUN" --db "$tmp/long.db" run --capture "$tmp/cap" --quiet \
    --var "lots=$lots" long.yaml) >/dev/null 2>"$tmp/err" ||
    fail "run --capture with a long --var: $(cat "$tmp/err")"
python3 -c '
import glob, json, sys
plan = json.load(open(sys.argv[1]))[0]
sent = {}
for f in glob.glob(sys.argv[2] + "/*.http"):
    head, body = open(f, encoding="utf-8").read().split("\n\n", 1)
    body = json.loads(body)
    sent["chat" if "text" in body else "hook"] = body.get("text", body.get("message"))
msgs = {c["name"]: c.get("message", plan["message"]) for c in plan["channels"]}
assert len(msgs["chat"]) <= 3000 and "\u2026 (truncated). Next update by" in msgs["chat"], msgs["chat"][-80:]
assert msgs["chat"] == sent["chat"], (msgs["chat"][-80:], sent["chat"][-80:])
assert msgs["hook"] == sent["hook"] and "(truncated)" not in msgs["hook"], msgs["hook"][-80:]
' "$tmp/out" "$tmp/cap" || fail "plan and run differ on a message too long for Slack"

# A fan-out to the most endpoints a urls_file may list, every one on its
# own host, notified 48 times: each occurrence compared every endpoint
# with every other (minutes); now each channel is described once.
checked=$((checked + 1))
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "https://h%d.example/hook\n", i }' \
    >"$tmp/hosts.txt"
cat >"$tmp/fanout.yaml" <<'YAML'
crisisrun: 1
name: fanout
channels:
  subscribers: {type: webhook, urls_file: hosts.txt}
steps:
  - {id: update, every: 5m, notify: [subscribers], message: "Still on it."}
YAML
for fmt in text json; do
    args=(plan --start 2026-11-26T14:30:00Z fanout.yaml)
    [ "$fmt" = json ] && args+=(--json)
    (cd "$tmp" && timeout 60 "$CRISISRUN" "${args[@]}") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "plan of a 100,000-host fan-out ($fmt): exit $rc (124: too slow)"
done
grep -q '^+4h .*subscribers (webhook, 100000 endpoints on h0.example, h1.example, h2.example and 99997 other hosts)$' \
    <(cd "$tmp" && "$CRISISRUN" plan --start 2026-11-26T14:30:00Z fanout.yaml) ||
    fail "plan of a 100,000-host fan-out: wrong description"

# --json prints each occurrence as it comes rather than holding the whole
# array (48 occurrences of 100,000 endpoints took 500 MB): its peak memory
# for 48 occurrences is that for one, give or take.  ASan's quarantine,
# which keeps freed memory, is off for this comparison.
checked=$((checked + 1))
peak_kb() { # HORIZON: peak RSS of plan --json of fanout.yaml, in KiB
    (cd "$tmp" && ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0" python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
        "$CRISISRUN" plan --json --horizon "$1" fanout.yaml)
}
one=$(peak_kb 5m) && all=$(peak_kb 4h) && [ "$all" -lt $((one * 3 / 2)) ] ||
    fail "plan --json of 48 occurrences took ${all:-?} KiB, of one ${one:-?} KiB"

echo "$checked checks, $failures failures"
[ "$failures" -eq 0 ]
