#!/usr/bin/env bash
# The command line itself: --help, --version, every command's --help, usage
# errors, and docs/cli.md documenting every command the table has.
. "$(dirname "$0")/lib.sh"

crisisrun --help >"$TMP/help"
assert_contains "$TMP/help" "usage: crisisrun [--db PATH] COMMAND [ARGS]"
# The journal's default in full, as DESIGN.md gives it: with neither
# variable set, it is under ~/.local/state.
assert_contains "$TMP/help" "~/.local/state/crisisrun/crisisrun.db"
crisisrun --version | grep -Eq '^crisisrun [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"

# Every command listed by --help has its own --help and a section in docs/cli.md.
cmds=$(awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}' "$TMP/help")
[[ $(wc -w <<<"$cmds") -eq 16 ]] || fail "expected the 16 commands of DESIGN.md in --help, got: $(echo $cmds)"
for c in $cmds; do
    crisisrun "$c" --help >"$TMP/h.$c" || fail "'$c --help' failed"
    head -n 1 "$TMP/h.$c" | grep -q "^usage: crisisrun \[--db PATH\] $c" || fail "'$c --help' usage line"
    # cmd.c prefixes a usage with "crisisrun [--db PATH] ", in --help and
    # in a usage error: a usage that names crisisrun again, on a line of its
    # own, would not get it.
    if tail -n +2 "$TMP/h.$c" | grep -q '^ *crisisrun '; then
        fail "'$c --help': a usage line with its own 'crisisrun' prefix"
    fi
    grep -q "^### \`$c" "$CRISISRUN_SOURCE/docs/cli.md" || fail "docs/cli.md has no section for '$c'"
done

# Each --help says what its section of docs/cli.md says: every option the
# one lists (in its usage, its options or the section's table) is in the
# other, and the exit statuses given are the same.
python3 - "$CRISISRUN_SOURCE/docs/cli.md" "$TMP" >"$TMP/helpdoc" <<'PY' ||
import re, sys, os
doc = open(sys.argv[1]).read()
d = sys.argv[2]
OPT = re.compile(r'(?<![\w-])(--[a-z][a-z-]*[a-z]|-[a-zA-Z])(?![\w-])')
CODE = re.compile(r'(?<![\w.:/-])[012](?![\w.:/-])')
bad = []

def has(text, o):
    return re.search(r'(?<![\w-])' + re.escape(o) + r'(?![\w-])', text) is not None

def sections(cmd):
    out = []
    for m in re.finditer(r'^### `' + re.escape(cmd) + r'\b.*?(?=^##)', doc + '\n##', re.S | re.M):
        out.append(m.group(0))
    return out

def exit_text(text, start):
    i = text.find(start)
    if i < 0:
        return None
    return ' '.join(text[i:].split('\n\n')[0].split())

# The global options.
main = open(os.path.join(d, 'help')).read()
glob = doc[doc.index('## Global options'):doc.index('## Exit status')]
for o in set(OPT.findall(glob)):
    if not has(main, o):
        bad.append(f"crisisrun --help does not list {o} (docs/cli.md does)")
for o in set(OPT.findall(main.split('options:')[1])):
    if not has(glob, o):
        bad.append(f"docs/cli.md does not list {o} (crisisrun --help does)")

for f in sorted(os.listdir(d)):
    if not f.startswith('h.'):
        continue
    cmd = f[2:]
    help_ = open(os.path.join(d, f)).read()
    secs = sections(cmd)
    if not secs:
        bad.append(f"docs/cli.md: no section for {cmd}")
        continue
    sec = '\n'.join(secs)
    # The headings' usage and the first column of the options tables.
    heads = '\n'.join(s.split('\n')[0] for s in secs) + '\n' + '\n'.join(
        l.split('|')[1] for s in secs for l in s.split('\n') if l.startswith('| `'))
    # Every option --help lists or shows in its usage is documented, and
    # every option of the section's heading is in --help.
    listed = [l for l in help_.split('\n') if re.match(r'^(usage:|  +-)', l)]
    for o in set(OPT.findall('\n'.join(listed))) - {'--db'}:
        if not has(sec, o):
            bad.append(f"{cmd}: --help lists {o}, docs/cli.md does not")
    for o in set(OPT.findall(heads)) - {'--db'}:
        if not has(help_, o):
            bad.append(f"{cmd}: docs/cli.md lists {o}, --help does not")
    # The exit statuses.
    hx = exit_text(help_, 'exit status:')
    if hx is None:
        bad.append(f"{cmd}: --help gives no exit status")
        continue
    dx = [t for t in (exit_text(s, 'Exit') for s in secs) if t]
    if not dx:
        bad.append(f"{cmd}: docs/cli.md gives no exit status")
        continue
    if any('as `run`' in t for t in dx):
        if 'as for run' not in hx:
            bad.append(f"{cmd}: docs/cli.md says exit codes as run, --help does not")
        continue
    hc, dc = set(CODE.findall(hx)), set(CODE.findall(' '.join(dx)))
    if hc != dc:
        bad.append(f"{cmd}: exit statuses {sorted(dc)} in docs/cli.md, {sorted(hc)} in --help")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
    fail "--help and docs/cli.md differ: $(cat "$TMP/helpdoc")"

# Usage errors exit 2 with a lowercase "crisisrun: " message.
set +e
crisisrun nosuchcommand 2>"$TMP/err"; rc=$?
set -e
assert_eq "$rc" 2 "unknown command exit code"
assert_contains "$TMP/err" "crisisrun: unknown command 'nosuchcommand'"
set +e
crisisrun --nosuchoption 2>"$TMP/err"; rc=$?
set -e
assert_eq "$rc" 2 "unknown option exit code"
set +e
crisisrun 2>"$TMP/err"; rc=$?
set -e
assert_eq "$rc" 2 "no command exit code"
assert_contains "$TMP/err" "crisisrun: no command given"

# A malformed --var is a usage error like any other (docs/cli.md): the
# message, then the command's usage line, exit 2; nothing is started.
for c in validate plan run; do
    for v in x =x; do
        set +e
        crisisrun --db "$TMP/none.db" "$c" --var "$v" "$TMP/none.yaml" 2>"$TMP/err"; rc=$?
        set -e
        assert_eq "$rc" 2 "'$c --var $v' exit code"
        assert_contains "$TMP/err" "crisisrun: invalid --var '$v' (expected NAME=VALUE)"
        grep -q "^usage: crisisrun \[--db PATH\] $c " "$TMP/err" ||
            fail "'$c --var $v': no usage line after the message"
    done
done
[[ ! -e $TMP/none.db ]] || fail "a malformed --var created the journal"

# An empty --db ("--db $UNSET") is a usage error, not a journal that
# cannot be opened (1).
set +e
crisisrun --db= list 2>"$TMP/err"; rc=$?
set -e
assert_eq "$rc" 2 "'--db= list' exit code"
assert_contains "$TMP/err" "crisisrun: option '--db' needs a path"
set +e
crisisrun --db "" list 2>"$TMP/err"; rc=$?
set -e
assert_eq "$rc" 2 "'--db \"\" list' exit code"
assert_contains "$TMP/err" "crisisrun: option '--db' needs a path"
for c in validate plan run resume ack status note trigger resolve show report; do
    set +e
    crisisrun "$c" 2>"$TMP/err"; rc=$?
    set -e
    assert_eq "$rc" 2 "'$c' without arguments"
    grep -q "^crisisrun: " "$TMP/err" || fail "'$c' without arguments: no 'crisisrun: ' message"
    # The usage line after the message is the one --help prints.
    grep -q "^usage: crisisrun \[--db PATH\] $c" "$TMP/err" || fail "'$c' usage error: usage line"
done

# --db after the command: said where it goes, for any command, before
# anything is opened or sent.
for args in "show 0123456789ab --db $TMP/j.db" "ack 0123456789ab --db=$TMP/j.db" "list --db $TMP/j.db"; do
    set +e
    crisisrun $args 2>"$TMP/err"; rc=$?
    set -e
    assert_eq "$rc" 2 "'$args' exit code"
    assert_contains "$TMP/err" "crisisrun: --db goes before the command: crisisrun --db PATH ${args%% *} ..."
done
[[ ! -e $TMP/j.db ]] || fail "a misplaced --db created the journal"
# ... but an option's value that reads "--db" is that option's value.
set +e
crisisrun --db "$TMP/none.db" feedback add 0123456789ab --comment --db 2>"$TMP/err"; rc=$?
set -e
assert_eq "$rc" 1 "'--comment --db' exit code"
assert_contains "$TMP/err" "crisisrun: no journal at '$TMP/none.db'"
set +e
crisisrun trigger 0123456789ab --db 2>"$TMP/err"; rc=$?
set -e
assert_eq "$rc" 2 "'trigger RUN --db' exit code"
assert_contains "$TMP/err" "crisisrun: --db goes before the command: crisisrun --db PATH trigger ..."

# A run id the journal does not have: the message names the journal and
# how to reach another one; a malformed id says what an id looks like.
cat >"$TMP/p.yaml" <<'EOF'
crisisrun: 1
name: cli
title: "CLI"
channels:
  c: {type: webhook, url: "http://127.0.0.1:9/x"}
steps:
  - {id: a, at: 0s, status: resolved, notify: [c], message: "m"}
  - {id: notify-all, on: manual, notify: [c], message: "m"}
EOF
crisisrun --db "$TMP/j.db" run --quiet --capture "$TMP/cap" "$TMP/p.yaml" >/dev/null
set +e
crisisrun --db "$TMP/j.db" show 0123456789ab 2>"$TMP/err"; rc=$?
set -e
assert_eq "$rc" 1 "unknown run exit code"
assert_contains "$TMP/err" "crisisrun: no run '0123456789ab' in the journal '$TMP/j.db' (for another journal: crisisrun --db PATH COMMAND, or CRISISRUN_DB)"
set +e
crisisrun --db "$TMP/j.db" show not-a-run 2>"$TMP/err"; rc=$?
set -e
assert_eq "$rc" 1 "malformed run id exit code"
assert_contains "$TMP/err" "crisisrun: no run 'not-a-run' (a run id is 12 hexadecimal digits, as 'list' shows)"

# ack names what it refuses.
set +e
crisisrun --db "$TMP/j.db" ack 0123456789ab step extra 2>"$TMP/err"; rc=$?
set -e
assert_eq "$rc" 2 "ack with an extra argument"
assert_contains "$TMP/err" "crisisrun: unexpected argument 'extra'"

# An empty RUN (a script's unset "$RUN") is a usage error, before any
# journal is opened; not "no run" (1).
for args in "ack" "status - identified" "note - text" "trigger - step" "resolve" "resume" \
            "show" "report" "feedback add - --comment c" "feedback import - $TMP/p.yaml"; do
    read -r -a words <<<"$args"
    for i in "${!words[@]}"; do [[ ${words[$i]} == - ]] && words[$i]=""; done
    [[ " $args " == *" - "* ]] || words+=("")
    set +e
    crisisrun --db "$TMP/none.db" "${words[@]}" 2>"$TMP/err"; rc=$?
    set -e
    assert_eq "$rc" 2 "'$args' with an empty RUN"
    assert_contains "$TMP/err" "crisisrun: no run given (RUN is empty)"
done
[[ ! -e $TMP/none.db ]] || fail "an empty RUN created the journal"
# ... and so is an empty STEP, which the API would take for the whole run.
for want in "ack:no step given (STEP is empty; leave it out to acknowledge the run)" \
    "trigger:no step given (STEP is empty)"; do
    cmd=${want%%:*}
    set +e
    crisisrun --db "$TMP/none.db" "$cmd" 0123456789ab "" 2>"$TMP/err"; rc=$?
    set -e
    assert_eq "$rc" 2 "$cmd with an empty STEP"
    assert_contains "$TMP/err" "crisisrun: ${want#*:}"
    [[ ! -e $TMP/none.db ]] || fail "$cmd with an empty STEP created the journal"
done

# note --notify: an empty list or name is a typo, refused before the run
# is looked up (not a note broadcast to nobody, or to fewer channels).
for list in "" "oncall,"; do
    set +e
    crisisrun --db "$TMP/none.db" note 0123456789ab text --notify "$list" 2>"$TMP/err"; rc=$?
    set -e
    assert_eq "$rc" 2 "note --notify '$list'"
    assert_contains "$TMP/err" "crisisrun: invalid --notify '$list'"
done

# status checks the status name before the run: a misspelt one is a usage
# error (2), also for a run whose process has ended (not "is resolved", 1).
run_id=$(crisisrun --db "$TMP/j.db" list --json | json_query 'd[0]["id"]')
set +e
crisisrun --db "$TMP/j.db" status "$run_id" resovled 2>"$TMP/err"; rc=$?
set -e
assert_eq "$rc" 2 "status with an unknown status, run over"
assert_contains "$TMP/err" "crisisrun: unknown status 'resovled' (use investigating, identified, monitoring or resolved)"

# So are a step or channel the playbook does not have, and a trigger of a
# step that is not 'on: manual' (docs/cli.md: exit 2, as when the run's
# process answers), checked against the playbook recorded with the run;
# a name it has gets the run's state (1).
for args in "ack $run_id notify-al|no step 'notify-al' in this playbook (did you mean 'notify-all'?)" \
            "trigger $run_id notify-al|no step 'notify-al' in this playbook (did you mean 'notify-all'?)" \
            "trigger $run_id a|step 'a' is not an 'on: manual' step" \
            "note $run_id text --notify c,d|no channel 'd' in this playbook"; do
    set +e
    crisisrun --db "$TMP/j.db" ${args%%|*} 2>"$TMP/err"; rc=$?
    set -e
    assert_eq "$rc" 2 "'${args%%|*}', run over"
    assert_contains "$TMP/err" "crisisrun: run $run_id: ${args#*|}"
done
for args in "ack $run_id a" "trigger $run_id notify-all" "note $run_id text --notify c"; do
    set +e
    crisisrun --db "$TMP/j.db" $args 2>"$TMP/err"; rc=$?
    set -e
    assert_eq "$rc" 1 "'$args', run over"
    assert_contains "$TMP/err" "crisisrun: run $run_id is resolved and its process has ended"
done
echo "test_cli: ok"
