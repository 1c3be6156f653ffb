#!/usr/bin/env bash
# test_report_feedback_usage.sh - `crisisrun report` and `crisisrun feedback`
# through the real binary where no run is needed: a missing journal, usage
# errors and help.
#
# Runs come from `crisisrun run`; until it exists the figures, formats and
# feedback checks are unit-tested (tests/unit/test_report.c,
# test_feedback.c), and the end-to-end checks wait in
# tests/integration/pending/test_feedback_cli.sh.
set -u
: "${CRISISRUN:?path of the crisisrun binary}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

check() { # check NAME WANT_STATUS WANT_STDERR_SUBSTRING -- ARGS...
    local name=$1 want=$2 pattern=$3
    shift 4
    local status=0
    "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
    if [ "$status" -ne "$want" ]; then
        echo "FAIL $name: exit $status, want $want" >&2
        cat "$tmp/err" >&2
        fails=$((fails + 1))
    elif [ -n "$pattern" ] && ! grep -qF -- "$pattern" "$tmp/err"; then
        echo "FAIL $name: stderr lacks '$pattern':" >&2
        cat "$tmp/err" >&2
        fails=$((fails + 1))
    else
        echo "ok $name"
    fi
}

db="$tmp/state/crisisrun.db"
check "report without a journal" 1 "crisisrun: no journal at '$db' (start a run first)" -- \
    "$CRISISRUN" --db "$db" report abc
check "report -o without a journal" 1 "no journal at" -- \
    "$CRISISRUN" --db "$db" report abc --format html -o "$tmp/r.html"
[ -e "$tmp/r.html" ] && { echo "FAIL a failed report left a file" >&2; fails=$((fails + 1)); }
check "feedback add without a journal" 1 "no journal at '$db'" -- \
    "$CRISISRUN" --db "$db" feedback add abc --rating informed=4
printf 'informed\n4\n' >"$tmp/in.csv"
check "feedback import without a journal" 1 "no journal at '$db'" -- \
    "$CRISISRUN" --db "$db" feedback import abc "$tmp/in.csv"
if [ -e "$db" ] || [ -e "$tmp/state" ]; then
    echo "FAIL report or feedback created the journal" >&2
    fails=$((fails + 1))
fi

check "report needs a run" 2 "no run given" -- "$CRISISRUN" --db "$db" report
check "report takes one run" 2 "unexpected argument 'b'" -- "$CRISISRUN" --db "$db" report a b
check "report knows its formats" 2 "unknown format 'pdf' (expected md, html or json)" -- \
    "$CRISISRUN" --db "$db" report a --format pdf
check "report rejects unknown options" 2 "unknown option '--fromat'" -- \
    "$CRISISRUN" --db "$db" report a --fromat html
check "report -o needs a file" 2 "needs a value" -- "$CRISISRUN" --db "$db" report a -o
check "report --help" 0 "" -- "$CRISISRUN" report --help
grep -q "usage: crisisrun \[--db PATH\] report RUN \[--format md|html|json\] \[-o FILE\]" \
    "$tmp/out" || { echo "FAIL report --help prints its usage" >&2; fails=$((fails + 1)); }

check "feedback needs a subcommand" 2 "no subcommand given (add or import)" -- \
    "$CRISISRUN" --db "$db" feedback
check "feedback suggests a subcommand" 2 "unknown subcommand 'improt' (did you mean 'import'?)" \
    -- "$CRISISRUN" --db "$db" feedback improt abc x.csv
check "feedback add needs an answer" 2 "give at least one --rating, --answer or --comment" -- \
    "$CRISISRUN" --db "$db" feedback add abc
# A usage error shows the usage of what was given, as every command does,
# with the global [--db PATH] as in --help.
grep -qxF "usage: crisisrun [--db PATH] feedback add RUN [--rating Q=N]... [--answer Q=TEXT]... [--comment TEXT] [--audience CH] [--anonymous | --respondent NAME] [--received TIME]" \
    "$tmp/err" || { echo "FAIL feedback add's usage error shows its usage" >&2; fails=$((fails + 1)); }
if grep -q "import" "$tmp/err"; then
    echo "FAIL feedback add's usage error shows import" >&2
    fails=$((fails + 1))
fi
check "feedback add checks Q=N" 2 "invalid --rating 'informed' (expected QUESTION=N)" -- \
    "$CRISISRUN" --db "$db" feedback add abc --rating informed
check "feedback add: anonymous or named" 2 "--anonymous and --respondent exclude each other" -- \
    "$CRISISRUN" --db "$db" feedback add abc --comment x --anonymous --respondent bob
check "feedback add checks --received" 2 "invalid --received 'yesterday'" -- \
    "$CRISISRUN" --db "$db" feedback add abc --comment x --received yesterday
check "feedback import needs a file" 2 "feedback import needs a run and a CSV file" -- \
    "$CRISISRUN" --db "$db" feedback import abc
[ "$(grep '^usage' "$tmp/err")" = "usage: crisisrun [--db PATH] feedback import RUN FILE.csv" ] ||
    { echo "FAIL feedback import's usage error shows its usage" >&2; fails=$((fails + 1)); }
check "feedback without a subcommand names both" 2 "" -- "$CRISISRUN" feedback
[ "$(grep '^usage' "$tmp/err")" = "usage: crisisrun [--db PATH] feedback add RUN OPTION... | feedback import RUN FILE.csv" ] ||
    { echo "FAIL feedback's usage error names add and import" >&2; fails=$((fails + 1)); }
check "feedback --help" 0 "" -- "$CRISISRUN" feedback --help
grep -qxF "usage: crisisrun [--db PATH] feedback add RUN OPTION... | feedback import RUN FILE.csv" \
    "$tmp/out" || { echo "FAIL feedback --help shows add and import" >&2; fails=$((fails + 1)); }
check "the command list names both" 0 "" -- "$CRISISRUN" --help
grep -q "^  report " "$tmp/out" && grep -q "^  feedback " "$tmp/out" ||
    { echo "FAIL --help lists report and feedback" >&2; fails=$((fails + 1)); }

[ "$fails" -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
