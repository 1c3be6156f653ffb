#!/usr/bin/env bash
# The command line itself: --help, --version, every command's --help, usage
# errors, and docs/cli.md documenting every command the table has.
. "$(dirname "$0")/lib.sh"

crisisrun --help >"$TMP/help"
assert_contains "$TMP/help" "usage: crisisrun [--db PATH] COMMAND [ARGS]"
crisisrun --version | grep -Eq '^crisisrun [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"

# Every command listed by --help has its own --help and a section in docs/cli.md.
cmds=$(awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}' "$TMP/help")
[[ $(wc -w <<<"$cmds") -eq 16 ]] || fail "expected the 16 commands of DESIGN.md in --help, got: $(echo $cmds)"
for c in $cmds; do
    crisisrun "$c" --help >"$TMP/h.$c" || fail "'$c --help' failed"
    head -n 1 "$TMP/h.$c" | grep -q "^usage: crisisrun \[--db PATH\] $c" || fail "'$c --help' usage line"
    grep -q "^### \`$c" "$CRISISRUN_SOURCE/docs/cli.md" || fail "docs/cli.md has no section for '$c'"
done

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
for c in validate plan run resume ack status note trigger resolve show report; do
    set +e
    crisisrun "$c" 2>"$TMP/err"; rc=$?
    set -e
    assert_eq "$rc" 2 "'$c' without arguments"
    grep -q "^crisisrun: " "$TMP/err" || fail "'$c' without arguments: no 'crisisrun: ' message"
done
echo "test_cli: ok"
