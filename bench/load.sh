#!/usr/bin/env bash
# load.sh [BUILD_DIR] - how long `crisisrun validate` takes on a 5,000-step
# playbook, against a bare libyaml event parse of the same file (bench_load,
# bench/load.c) measured in the same run.  Prints both medians and the ratio.
#
#   bench/load.sh build
#
# The ratio is what to watch: the loader builds a tree, checks every key,
# resolves references and compiles 5,000 templates on top of the parse.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
crisisrun=$build/crisisrun
peer=$build/bench/bench_load
steps=${STEPS:-5000}
reps=${REPS:-9}
[ -x "$crisisrun" ] && [ -x "$peer" ] || {
    echo "load.sh: build first (ninja -C $build)" >&2
    exit 2
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
file=$tmp/big.yaml

# A playbook of realistic shape: a few channels, vars and roles, and steps
# cycling through every timing form with templated messages and acks.
{
    cat <<'YAML'
crisisrun: 1
name: bench
title: "Benchmark playbook"
severity: sev2
vars: {service: checkout, region: eu-west-1, status_url: "https://status.example.com"}
roles: {commander: Alice, comms: Bob}
targets: {acknowledge: 15m, first_update: 5m, update_interval: 30m, resolve: 4h}
channels:
  oncall: {type: slack, url: "https://hooks.slack.example/services/T0/B0/X", rate: 1/s}
  leaders: {type: teams, url: "https://teams.example/workflows/abc"}
  chat: {type: discord, url: "https://discord.example/api/webhooks/1/x"}
  customers:
    type: webhook
    url: "https://status.example.com/hook"
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers: {X-Team: ops}
    audience: external
steps:
YAML
    for ((i = 0; i < steps; i++)); do
        case $((i % 5)) in
        0) printf '  - id: s%d\n    at: %dm\n    notify: [oncall, customers]\n' "$i" "$i" ;;
        1) printf '  - id: s%d\n    after: s%d\n    delay: 30s\n    notify: [leaders]\n' "$i" $((i - 1)) ;;
        2) printf '  - id: s%d\n    every: 30m\n    from: %dm\n    until: resolved\n    notify: [customers]\n' "$i" "$i" ;;
        3) printf '  - id: s%d\n    at: %ds\n    notify: [oncall]\n    ack: {within: 10m, escalate: s%d}\n' "$i" "$i" $((i + 1)) ;;
        4) printf '  - id: s%d\n    on: escalation\n    notify: [leaders, chat]\n' "$i" ;;
        esac
        printf '    message: |\n      {{vars.service}} in {{vars.region}}: step %d, status {{status}}.\n      {{roles.commander}} leads; next update by {{next_update}}.\n' "$i"
    done
} >"$file"

now_ns() {
    date +%s%N
}

# median of the numbers on stdin
median() {
    sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

"$crisisrun" validate --quiet "$file" # must be valid, and warms the cache
: >"$tmp/ours"
: >"$tmp/peer"
for ((r = 0; r < reps; r++)); do
    t0=$(now_ns)
    "$crisisrun" validate --quiet "$file"
    t1=$(now_ns)
    "$peer" "$file" >/dev/null
    t2=$(now_ns)
    echo $(((t1 - t0) / 1000)) >>"$tmp/ours"
    echo $(((t2 - t1) / 1000)) >>"$tmp/peer"
done
ours=$(median <"$tmp/ours")
peer_us=$(median <"$tmp/peer")
size=$(wc -c <"$file")
printf 'playbook: %d steps, %d bytes; median of %d runs\n' "$steps" "$size" "$reps"
awk -v a="$ours" -v b="$peer_us" 'BEGIN {
    printf "crisisrun validate: %8.2f ms\n", a / 1000
    printf "libyaml events:     %8.2f ms\n", b / 1000
    printf "ratio:              %8.2fx\n", a / b
}'
