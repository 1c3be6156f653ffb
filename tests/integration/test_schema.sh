#!/usr/bin/env bash
# test_schema.sh - `crisisrun schema` against an independent validator.
#
# Checks, with Python's jsonschema and PyYAML (Debian: python3-jsonschema,
# python3-yaml; used only by tests), that:
#   - the output is JSON and a valid draft 2020-12 schema;
#   - it is exactly docs/playbook.schema.json, the file editors are pointed
#     at (the binary embeds that file: a difference means a stale build or
#     a hand edit that was not normalised with `crisisrun schema`);
#   - every playbook in playbooks/ and tests/data/valid/ validates;
#   - documents breaking one rule each are rejected.
# This test installs nothing; it fails with a clear message when the
# Python modules are missing.
set -euo pipefail
: "${CRISISRUN:?path of the crisisrun binary}" "${CRISISRUN_SOURCE:?repository root}"
TEST_DATA=${CRISISRUN_TEST_DATA:-$CRISISRUN_SOURCE/tests/data}

# Prefer the system Python, where the Debian packages install the modules.
PYTHON=
for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import jsonschema, yaml; jsonschema.Draft202012Validator' 2>/dev/null; then
        PYTHON=$py
        break
    fi
done
if [ -z "$PYTHON" ]; then
    echo "test_schema: needs Python 3 with jsonschema (>= 4.0) and PyYAML:" \
         "apt-get install python3-jsonschema python3-yaml" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$CRISISRUN" schema > "$tmp/schema.json"
if ! cmp -s "$tmp/schema.json" "$CRISISRUN_SOURCE/docs/playbook.schema.json"; then
    echo "test_schema: 'crisisrun schema' differs from docs/playbook.schema.json" >&2
    diff -u "$CRISISRUN_SOURCE/docs/playbook.schema.json" "$tmp/schema.json" | head -40 >&2 || true
    exit 1
fi
# Extra arguments are a usage error.
set +e
"$CRISISRUN" schema extra >/dev/null 2>&1
rc=$?
set -e
if [ "$rc" -ne 2 ]; then
    echo "test_schema: 'crisisrun schema extra' exited $rc, expected 2" >&2
    exit 1
fi

# A write error is a runtime failure, not a silent truncation.
if [ -w /dev/full ]; then
    set +e
    "$CRISISRUN" schema >/dev/full 2>/dev/null
    rc=$?
    set -e
    if [ "$rc" -ne 1 ]; then
        echo "test_schema: 'crisisrun schema >/dev/full' exited $rc, expected 1" >&2
        exit 1
    fi
fi

valid=()
for f in "$CRISISRUN_SOURCE"/playbooks/*.yaml "$TEST_DATA"/valid/*.yaml; do
    [ -e "$f" ] && valid+=("$f")
done

exec "$PYTHON" - "$tmp/schema.json" "${valid[@]}" <<'PYEOF'
import json
import re
import sys

import jsonschema
import yaml


class Yaml12Loader(yaml.SafeLoader):
    """YAML as libyaml-based crisisrun and yaml-language-server read it.

    PyYAML follows YAML 1.1, where `on`, `yes` and `off` are booleans and
    2026-01-02 is a date; in YAML 1.2 (and to crisisrun) they are strings.
    Without this, every `on: manual` key would become `true`.
    """


Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


def load_yaml(text):
    return yaml.load(text, Loader=Yaml12Loader)


schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
    sys.exit("test_schema: $schema is not draft 2020-12")
validator = jsonschema.Draft202012Validator(schema)
failures = 0

def fail(msg):
    global failures
    failures += 1
    print("test_schema: " + msg, file=sys.stderr)

files = sys.argv[2:]
if not any("/playbooks/" in f for f in files):
    fail("no playbook found in playbooks/")
for path in files:
    with open(path) as f:
        doc = load_yaml(f.read())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        fail("%s: %s: %s" % (path, where, e.message))

# One rule broken per document, on top of this minimal valid playbook.
BASE = """
crisisrun: 1
name: t
channels:
  c: {type: slack, url: "https://hooks.example.com/x"}
steps:
  - {id: a, at: 0s, notify: [c], message: "hi {{status}}"}
"""
base = load_yaml(BASE)
if list(validator.iter_errors(base)):
    fail("the base document of the negative cases is itself invalid")

def variant(edit):
    doc = load_yaml(BASE)
    edit(doc)
    return doc

def step(**kw):
    def edit(doc):
        doc["steps"][0].update(kw)
        for k, v in list(doc["steps"][0].items()):
            if v is None:
                del doc["steps"][0][k]
    return edit

def channel(**kw):
    def edit(doc):
        doc["channels"]["c"].update(kw)
        for k, v in list(doc["channels"]["c"].items()):
            if v is None:
                del doc["channels"]["c"][k]
    return edit

def top(**kw):
    def edit(doc):
        doc.update(kw)
        for k, v in list(doc.items()):
            if v is None:
                del doc[k]
    return edit

negative = {
    "unknown top-level key": top(stpes=[]),
    "unknown step key": step(evrey="5m"),
    "unknown channel key": channel(uri="https://x.example.com"),
    "two timings (at and every)": step(every="5m"),
    "two timings (at and on)": step(on="manual"),
    "no timing": step(at=None),
    "bad duration": step(at="5 minutes"),
    "units out of order": step(at="30m1h"),
    "empty duration": step(at=""),
    "delay without after": step(delay="5m"),
    "until without every": step(until="resolved"),
    "from with at": step(**{"from": "5m"}),
    "bad on event": step(at=None, on="status:fixed"),
    "bad status": step(status="fixed"),
    "until count zero": step(at=None, every="5m", until={"count": 0}),
    "until with an unknown status": step(at=None, every="5m", until="done"),
    "notify without message": step(message=None),
    "unknown template variable": step(message="{{stauts}}"),
    "trigger.* outside escalation": step(message="{{trigger.step}}"),
    "feedback_url in a step": step(message="{{feedback_url}}"),
    "ack without within": step(ack={"escalate": "b"}),
    "ack without escalate": step(ack={"within": "10m"}),
    "ack within 0s": step(ack={"within": "0s", "escalate": "b"}),
    "every under a second": step(at=None, every="500ms"),
    "zero target": top(targets={"acknowledge": "0s"}),
    "step listing a channel twice": step(notify=["c", "c"]),
    "name with a space": top(name="my playbook"),
    "var name with a dot": top(vars={"a.b": "x"}),
    "secret on a slack channel": channel(secret="whsec_ZHVtbXk="),
    "secret without whsec_": top(channels={"c": {"type": "webhook", "url": "https://x.example.com",
                                                 "secret": "hunter2"}}),
    "header value with a control character": channel(headers={"X-A": "a\x01b"}),
    "URL without a host": channel(url="https:///path"),
    "URL with a space": channel(url="https://x.example.com/a b"),
    "ack with unknown key": step(ack={"within": "5m", "escalte": "b"}),
    "url and urls_file": channel(urls_file="subscribers.txt"),
    "neither url nor urls_file": channel(url=None),
    "bad channel type": channel(type="sms"),
    "bad URL scheme": channel(url="ftp://files.example.com/x"),
    "bad rate": channel(rate="fast"),
    "zero rate count": channel(rate="0/s"),
    "zero rate period": channel(rate="5/0s"),
    "CR/LF in a header": channel(headers={"X-A": "a\r\nX-B: b"}),
    "bad header name": channel(headers={"X A": "b"}),
    "bad audience": channel(audience="public"),
    "retry attempts zero": channel(retry={"attempts": 0}),
    "version 2": top(crisisrun=2),
    "missing name": top(name=None),
    "no steps": top(steps=[]),
    "unknown target": top(targets={"acknowlege": "5m"}),
    "question with scale and type": top(feedback={"questions": [
        {"id": "q", "text": "?", "scale": 5, "type": "text"}]}),
    "rating question without scale": top(feedback={"questions": [
        {"id": "q", "text": "?", "type": "rating"}]}),
    "question of unknown type": top(feedback={"questions": [{"id": "q", "text": "?", "type": "stars"}]}),
    "question scale 11": top(feedback={"questions": [{"id": "q", "text": "?", "scale": 11}]}),
    "feedback request without message": top(feedback={
        "request": {"notify": ["c"]}, "questions": [{"id": "q", "text": "?", "scale": 5}]}),
}
for name, edit in negative.items():
    if not list(validator.iter_errors(variant(edit))):
        fail("the schema accepts a document with: " + name)

# And a few that must stay valid: the schema must not be stricter than the
# format (a red underline on a valid playbook teaches people to ignore it).
positive = {
    "interpolated duration": step(at="${env:DECLARE_AT:-0s}"),
    "interpolated URL": channel(url="${env:SLACK_URL}"),
    "URL with an interpolated part": channel(url="https://hooks.example.com/${file:hook.txt}"),
    "every with from and until count": step(at=None, every="30m", **{"from": "5m"}, until={"count": 6}),
    "after with delay": step(at=None, after="b", delay="1h30m"),
    "on status": step(at=None, on="status:monitoring"),
    "status-only step": step(notify=None, message=None, status="identified"),
    "rate N/2s": channel(rate="5/2s"),
    "spaces in template braces": step(message="{{ vars.service }} at {{now}}"),
    "single braces": step(message="a {b} c ${env:X:-y}"),
    "trigger in escalation": step(at=None, on="escalation", message="{{trigger.waited}}"),
    "message without notify": step(notify=None),
    "empty notify without message": step(notify=[], message=None),
    "null var": top(vars={"empty": None, "n": 3}),
    "dots in step ids and channel names": step(id="db.page", notify=["c"]),
    "on status with a space": step(at=None, on="status: identified"),
    "rating question": top(feedback={"questions": [{"id": "q", "text": "?", "type": "rating", "scale": 4}]}),
    "feedback request without notify": top(feedback={"request": {"message": "{{feedback_url}}"},
                                                     "questions": [{"id": "q", "text": "?", "type": "text"}]}),
    "signed webhook": top(channels={"c": {"type": "webhook", "urls_file": "subscribers.txt",
                                          "secret": "whsec_ZHVtbXktc2VjcmV0LWZvci12YWxpZGF0aW9uLW9ubHk="}}),
    "interpolated secret": top(channels={"c": {"type": "webhook", "url": "https://x.example.com",
                                               "secret": "${file:signing.secret}"}}),
    "IPv6 URL with a port": channel(url="http://[::1]:8025/inbox"),
    "header value with a tab": channel(headers={"X-A": "a\tb"}),
    "every 1s": step(at=None, every="1s"),
    "every 1000ms": step(at=None, every="1000ms"),
}
for name, edit in positive.items():
    errs = list(validator.iter_errors(variant(edit)))
    if errs:
        fail("the schema rejects a valid document with %s: %s" % (name, errs[0].message))

if failures:
    sys.exit(1)
print("test_schema: %d files valid, %d invalid variants rejected, %d valid variants accepted"
      % (len(files), len(negative), len(positive)))
PYEOF
