# tests/integration/run_lib.sh - helpers for the `crisisrun run` tests
# (test_run_*.sh), on top of lib.sh.
#
# Source it after lib.sh:   . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/run_lib.sh"
#
#   DB                      the test's journal ($TMP/journal.db), also
#                           exported as CRISISRUN_DB
#   RUN_DATA                tests/data/run (the playbooks)
#   run_pb NAME ARGS...     `crisisrun run ARGS...` in the foreground;
#                           stdout to $TMP/NAME.out, stderr to $TMP/NAME.err;
#                           sets RUN_RC (its exit status) and RUN_ID (the
#                           first stdout line, checked to be a run id)
#   start_run NAME ARGS...  the same in the background (stdout+stderr to
#                           $TMP/NAME.out); sets RUN_PID and, once printed,
#                           RUN_ID
#   wait_run PID            wait for a background run; sets RUN_RC
#   sql QUERY               sqlite3 on the journal, one row a line,
#                           columns separated by '|'
#   copy_playbook NAME      copy tests/data/run/NAME into $TMP (for
#                           playbooks whose urls_file the test generates
#                           next to them); prints the new path
#   free_port               a loopback TCP port nobody listens on
#   check_clean FILE...     fail when any of the files (binary ones too)
#                           contains one of the strings in the test's
#                           MARKERS array (the secrets it planted)

DB=$TMP/journal.db
CRISISRUN_DB=$DB
RUN_DATA=$CRISISRUN_TEST_DATA/run
export DB CRISISRUN_DB RUN_DATA

_check_run_id() {
    [[ "$RUN_ID" =~ ^[0-9a-f]{12}$ ]] ||
        fail "the first line of '$1' is not a run id: '$RUN_ID'"
}

run_pb() {
    local name=$1
    shift
    RUN_RC=0
    crisisrun run "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || RUN_RC=$?
    RUN_ID=$(head -n 1 "$TMP/$name.out")
    if [[ ! "$RUN_ID" =~ ^[0-9a-f]{12}$ ]]; then
        cat "$TMP/$name.err" >&2
        fail "run '$name' (exit $RUN_RC) did not print a run id first: '$RUN_ID'"
    fi
}

start_run() {
    local name=$1
    shift
    start_crisisrun "$TMP/$name.out" run "$@"
    RUN_PID=$BG_PID
    wait_for "[[ -s '$TMP/$name.out' ]] || ! kill -0 $RUN_PID 2>/dev/null" 10
    RUN_ID=$(head -n 1 "$TMP/$name.out")
    _check_run_id "$TMP/$name.out"
}

wait_run() {
    RUN_RC=0
    wait "$1" || RUN_RC=$?
    _cr_forget_pid "$1"
}

sql() {
    sqlite3 -batch -noheader "$DB" "$1"
}

copy_playbook() {
    cp "$RUN_DATA/$1" "$TMP/$1"
    echo "$TMP/$1"
}

free_port() {
    python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

check_clean() {
    local f m
    for f in "$@"; do
        for m in "${MARKERS[@]}"; do
            if grep -aqF -- "$m" "$f"; then
                grep -aF -- "$m" "$f" | head -n 3 >&2
                fail "'$f' contains the secret '$m'"
            fi
        done
    done
}

