#!/usr/bin/env bash
# test_list_show.sh - `crisisrun list` and `crisisrun show` through the real
# binary: journal location, missing journal, usage errors, and the layout
# of show's deliveries table.  The timeline's content is tested through the
# journal API in tests/unit/test_journal.c.
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
check "list without a journal" 1 "crisisrun: no journal at '$db' (start a run first)" -- \
    "$CRISISRUN" --db "$db" list
check "show without a journal" 1 "crisisrun: no journal at '$db' (start a run first)" -- \
    "$CRISISRUN" --db "$db" show abc --json
if [ -e "$db" ] || [ -e "$tmp/state" ]; then
    echo "FAIL reading commands created the journal" >&2
    fails=$((fails + 1))
fi

check "CRISISRUN_DB is the default" 1 "no journal at '$tmp/env.db'" -- \
    env CRISISRUN_DB="$tmp/env.db" "$CRISISRUN" list
check "XDG_STATE_HOME is the fallback" 1 "no journal at '$tmp/xdg/crisisrun/crisisrun.db'" -- \
    env -u CRISISRUN_DB XDG_STATE_HOME="$tmp/xdg" "$CRISISRUN" list

check "show needs a run" 2 "no run given" -- "$CRISISRUN" --db "$db" show
check "show takes one run" 2 "unexpected argument 'b'" -- "$CRISISRUN" --db "$db" show a b
check "list takes no argument" 2 "unexpected argument 'x'" -- "$CRISISRUN" --db "$db" list x
check "list rejects unknown options" 2 "crisisrun: unknown option '--jsn'" -- "$CRISISRUN" --db "$db" list --jsn
check "run names a value missing" 2 "crisisrun: option '--speed' needs a value" -- \
    "$CRISISRUN" --db "$db" run x.yaml --speed
check "--db needs a path" 2 "crisisrun: option '--db' needs a path" -- "$CRISISRUN" --db
check "list --help" 0 "" -- "$CRISISRUN" list --help
grep -q "usage: crisisrun \[--db PATH\] list \[--json\]" "$tmp/out" ||
    { echo "FAIL list --help prints its usage" >&2; fails=$((fails + 1)); }
check "show --help" 0 "" -- "$CRISISRUN" show --help
grep -q "unique prefix" "$tmp/out" ||
    { echo "FAIL show --help mentions prefixes" >&2; fails=$((fails + 1)); }

# show's deliveries table stays aligned when a step id and a channel name
# are longer than the columns' usual width: each row's channel starts
# under CHANNEL, its endpoint under ENDPOINT.
cat >"$tmp/long.yaml" <<'EOF'
crisisrun: 1
name: long
channels:
  leadership-escalations: {type: webhook, url: "http://127.0.0.1:9/x"}
  ops: {type: webhook, url: "http://127.0.0.1:9/y"}
steps:
  - {id: tell-leads-identified-with-details, at: 0s, notify: [leadership-escalations, ops], message: "m"}
  - {id: a, at: 0s, status: resolved, notify: [ops], message: "m"}
EOF
"$CRISISRUN" --db "$tmp/long.db" run --quiet --capture "$tmp/cap" "$tmp/long.yaml" >"$tmp/id" ||
    { echo "FAIL the long-id run" >&2; fails=$((fails + 1)); }
"$CRISISRUN" --db "$tmp/long.db" show "$(head -n 1 "$tmp/id")" >"$tmp/show"
awk '/^deliveries$/ { on = 1; next }
     on && /CREATED/ { ch = index($0, "CHANNEL"); ep = index($0, "ENDPOINT"); next }
     on && /^  [+-]/ {
         rows++
         split($0, f, /  +/)
         if (index($0, f[4]) != ch || index($0, f[5]) != ep) bad++
     }
     on && /^$/ { on = 0 }
     END { exit !(rows == 3 && bad == 0) }' "$tmp/show" ||
    { echo "FAIL show's deliveries table is not aligned:" >&2; sed -n '/^deliveries/,$p' "$tmp/show" >&2; fails=$((fails + 1)); }

[ "$fails" -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
