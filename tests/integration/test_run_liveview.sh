#!/usr/bin/env bash
# test_run_liveview.sh - what `run` shows: on a terminal the live screen
# (redrawn in place, coloured unless NO_COLOR is set); piped, with --quiet
# or TERM=dumb, plain timestamped lines without escape sequences.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

command -v script >/dev/null || fail "script (util-linux) is needed"
start_inbox
PB=$RUN_DATA/liveview.yaml
ESC=$'\033'

# on_tty NAME [ENV=VALUE...] [-- RUN_OPTION...]: the run on a pseudo-
# terminal (script(1)); its output in $TMP/NAME.tty.
on_tty() {
    local name=$1 cmd envs=() opts=()
    shift
    while (( $# )) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
    (( $# )) && shift
    opts=("$@")
    printf -v cmd '%q ' env TERM=xterm "${envs[@]}" "${CR_CMD[@]}" run --drill --speed 90 \
        "${opts[@]}" "$PB"
    RUN_RC=0
    env -u NO_COLOR script -qefc "$cmd" /dev/null </dev/null >"$TMP/$name.tty" 2>"$TMP/$name.err" ||
        RUN_RC=$?
    [[ $RUN_RC == 0 ]] || { cat "$TMP/$name.err" "$TMP/$name.tty" >&2; fail "$name: exit $RUN_RC"; }
    RUN_ID=$(head -n 1 "$TMP/$name.tty" | tr -d '\r')
    _check_run_id "$TMP/$name.tty"
}

# plain FILE: every line after the run id is "TIMESTAMP event", no escapes.
plain() {
    tr -d '\r' <"$1" >"$1.lines"
    if grep -q "$ESC" "$1.lines"; then fail "'$1' contains escape sequences"; fi
    tail -n +2 "$1.lines" | grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z ' &&
        fail "'$1' has lines that are not timestamped events"
    assert_contains "$1.lines" "step checkpoint #1 [investigating] -> oncall"
    assert_contains "$1.lines" "resolved $RUN_ID: 6 delivered, 0 failed, 0 disabled"
}

# --- a terminal: the live screen, in colour ---
on_tty colour
T=$TMP/colour.tty
grep -qE 'channel +type +ok +retrying +failed +pending' "$T" || fail "no channel table header"
grep -qE 'oncall +webhook +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+' "$T" || fail "no channel row"
assert_contains "$T" "${ESC}[A${ESC}[2K"                 # cursor up, clear line: redrawn in place
grep -qE "$ESC\\[3[0-9]m" "$T" || fail "no colour on a terminal"
assert_contains "$T" "[DRILL] Live view"
assert_contains "$T" "run $RUN_ID"
grep -qE 'status .*investigating.* +elapsed ' "$T" || fail "no status line"
# The countdown names the step that comes next.
grep -qE 'next checkpoint in [0-9]+s' "$T" || fail "the screen does not name the next step"
grep -qE 'next done in [0-9]+s' "$T" || fail "the screen does not name the step after"
# The last screen shows how the run ended.
tail -n 8 "$T" | grep -qF "resolved $RUN_ID: 6 delivered, 0 failed, 0 disabled" ||
    fail "the last screen does not show the outcome"

# --- NO_COLOR: the same screen without colour ---
on_tty nocolour NO_COLOR=1
T=$TMP/nocolour.tty
grep -qE 'channel +type +ok +retrying +failed +pending' "$T" || fail "NO_COLOR: no channel table"
assert_contains "$T" "${ESC}[A${ESC}[2K"
if grep -qE "$ESC\\[[0-9;]*m" "$T"; then fail "NO_COLOR: colour or style escapes"; fi

# --- --quiet and TERM=dumb on a terminal: plain lines ---
on_tty quiet -- --quiet
plain "$TMP/quiet.tty"
on_tty dumb TERM=dumb
plain "$TMP/dumb.tty"

# --- piped: plain lines ---
run_pb piped --drill --speed 90 "$PB"
assert_eq "$RUN_RC" 0 "piped exit status"
plain "$TMP/piped.out"
assert_contains "$TMP/piped.out.lines" "started $RUN_ID: [DRILL] Live view (3 steps, 3 channels)"
echo "ok"
