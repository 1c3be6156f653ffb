# tests/integration/lib.sh - shared helpers for the integration tests.
#
# Source it first thing:   . "$(dirname "$0")/lib.sh"
#
# It sets `set -euo pipefail`, gives the test a private temporary
# directory $TMP (removed on exit; kept, and its path printed, when
# KEEP_TMP=1 or when the test fails and KEEP_TMP_ON_FAIL=1), and stops
# every background process it started on exit.
#
# Environment (set by CTest): CRISISRUN (the binary), CRISISRUN_SOURCE
# (repository root), CRISISRUN_TEST_DATA (tests/data).
# CRISISRUN_VALGRIND=1 runs every crisisrun started through these helpers
# under valgrind; a memory error or a definite leak makes it exit 99, which
# fails the test.
#
# Helpers:
#   crisisrun ARGS...           run the binary (under valgrind if asked)
#   start_crisisrun OUT ARGS... start it in the background, stdout+stderr to
#                               OUT; sets BG_PID; stopped (TERM) on exit
#   stop_pid PID [WHAT]         TERM it, wait, fail unless it exits 0
#   start_inbox [ARGS...]       start `crisisrun inbox` on a free loopback
#                               port recording to $TMP/inbox; exports
#                               INBOX_URL, INBOX_PID, INBOX_DIR, INBOX_LOG
#                               and INBOX_ERR (its stderr)
#   stop_inbox                  stop it; fails unless it exits 0
#   inbox_requests              print the recorded JSON lines
#   inbox_count PATH_PREFIX     how many recorded requests have a path
#                               starting with PATH_PREFIX ("/slack/oncall")
#   json_query EXPR [FILE]      evaluate a Python expression over `d`, the
#                               JSON document (or list of JSON lines) in
#                               FILE or stdin; strings print raw, other
#                               values as JSON
#   http_post URL BODY [CURL_ARGS...]   POST BODY (application/json), print
#                               the status code; the response body goes to
#                               $TMP/http_body, its headers to $TMP/http_headers
#   fail MSG                    print "FAIL: MSG" and exit 1
#   assert_eq ACTUAL EXPECTED MSG
#   assert_contains FILE STRING / assert_not_contains FILE STRING
#   wait_for CMD TIMEOUT_S      poll CMD (a shell string) every 0.1 s until it
#                               succeeds; fail after TIMEOUT_S seconds

set -euo pipefail

: "${CRISISRUN:?set CRISISRUN to the crisisrun binary}"
CRISISRUN_SOURCE=${CRISISRUN_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CRISISRUN_TEST_DATA=${CRISISRUN_TEST_DATA:-$CRISISRUN_SOURCE/tests/data}
export CRISISRUN CRISISRUN_SOURCE CRISISRUN_TEST_DATA

TEST_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/crisisrun-$TEST_NAME.XXXXXX")
export TMP

# The command prefix that runs the binary; an array so paths with spaces
# survive, and so a background start gives the real process id.
if [[ "${CRISISRUN_VALGRIND:-0}" == 1 ]]; then
    CR_CMD=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
            --quiet "$CRISISRUN")
    CR_SLOW=10 # valgrind makes everything slower: scale the waits
else
    CR_CMD=("$CRISISRUN")
    CR_SLOW=1
fi

_CR_PIDS=()

crisisrun() {
    "${CR_CMD[@]}" "$@"
}

fail() {
    echo "FAIL: $TEST_NAME: $*" >&2
    exit 1
}

assert_eq() {
    [[ "$1" == "$2" ]] || fail "${3:-values differ}: got '$1', expected '$2'"
}

assert_contains() {
    grep -qF -- "$2" "$1" || fail "'$1' does not contain '$2'"
}

assert_not_contains() {
    if grep -qF -- "$2" "$1"; then
        fail "'$1' contains '$2'"
    fi
}

wait_for() {
    local cmd=$1 limit=$(( ${2:-10} * 10 * CR_SLOW )) i=0
    until eval "$cmd"; do
        (( ++i < limit )) || fail "timed out waiting for: $cmd"
        sleep 0.1
    done
}

json_query() {
    local expr=$1 file=${2:--}
    python3 -c '
import json, sys
src = sys.stdin.read() if sys.argv[2] == "-" else open(sys.argv[2]).read()
try:
    d = json.loads(src)
except ValueError:
    d = [json.loads(l) for l in src.splitlines() if l.strip()]
v = eval(sys.argv[1], {"d": d, "json": json})
print(v if isinstance(v, str) else json.dumps(v))
' "$expr" "$file"
}

http_post() {
    local url=$1 body=$2
    shift 2
    curl -sS -o "$TMP/http_body" -D "$TMP/http_headers" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary "$body" "$@" "$url" || true
}

_cr_forget_pid() {
    local pid=$1 kept=() p
    for p in "${_CR_PIDS[@]}"; do
        [[ "$p" == "$pid" ]] || kept+=("$p")
    done
    _CR_PIDS=("${kept[@]+"${kept[@]}"}")
}

# Stops a process: TERM, then KILL if it has not exited after a while.
# Returns its exit status.
_cr_stop() {
    local pid=$1 i=0 rc=0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if (( ++i > 100 * CR_SLOW )); then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    wait "$pid" 2>/dev/null || rc=$?
    _cr_forget_pid "$pid"
    return "$rc"
}

start_crisisrun() {
    local out=$1
    shift
    "${CR_CMD[@]}" "$@" >"$out" 2>&1 &
    BG_PID=$!
    _CR_PIDS+=("$BG_PID")
}

stop_pid() {
    local rc=0
    _cr_stop "$1" || rc=$?
    [[ $rc == 0 ]] || fail "${2:-process $1} exited with status $rc"
}

start_inbox() {
    INBOX_DIR=$TMP/inbox
    INBOX_LOG=$INBOX_DIR/requests.jsonl
    # One pair of output files per start, created here before the child
    # runs: reading a previous start's "listening on" line would be a race.
    _CR_INBOX_STARTS=$(( ${_CR_INBOX_STARTS:-0} + 1 ))
    local out=$TMP/inbox.$_CR_INBOX_STARTS.out i=0
    INBOX_ERR=$TMP/inbox.$_CR_INBOX_STARTS.err
    : >"$out"
    : >"$INBOX_ERR"
    "${CR_CMD[@]}" inbox --listen 127.0.0.1:0 --dir "$INBOX_DIR" "$@" >"$out" 2>"$INBOX_ERR" &
    INBOX_PID=$!
    _CR_PIDS+=("$INBOX_PID")
    until grep -q 'listening on' "$out" 2>/dev/null; do
        if ! kill -0 "$INBOX_PID" 2>/dev/null; then
            cat "$INBOX_ERR" >&2
            fail "the inbox did not start"
        fi
        (( ++i < 100 * CR_SLOW )) || fail "the inbox did not say where it listens"
        sleep 0.1
    done
    INBOX_URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$out")
    [[ -n "$INBOX_URL" ]] || fail "cannot read the inbox URL from $out"
    export INBOX_URL INBOX_PID INBOX_DIR INBOX_LOG INBOX_ERR
}

stop_inbox() {
    local rc=0
    _cr_stop "$INBOX_PID" || rc=$?
    if [[ $rc != 0 ]]; then
        cat "$INBOX_ERR" >&2
        fail "the inbox exited with status $rc"
    fi
}

inbox_requests() {
    cat "$INBOX_LOG" 2>/dev/null || true
}

inbox_count() {
    inbox_requests | python3 -c '
import json, sys
print(sum(1 for l in sys.stdin if l.strip() and json.loads(l)["path"].startswith(sys.argv[1])))
' "$1"
}

_cr_cleanup() {
    local rc=$? pid prc
    for pid in "${_CR_PIDS[@]+"${_CR_PIDS[@]}"}"; do
        prc=0
        _cr_stop "$pid" || prc=$?
        # A leak or memory error found while stopping still fails the test.
        if [[ $prc == 99 && $rc == 0 ]]; then
            echo "FAIL: $TEST_NAME: process $pid reported memory errors (valgrind)" >&2
            rc=1
        fi
    done
    if [[ "${KEEP_TMP:-0}" == 1 || ( $rc != 0 && "${KEEP_TMP_ON_FAIL:-0}" == 1 ) ]]; then
        echo "kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap _cr_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
