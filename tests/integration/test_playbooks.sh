#!/usr/bin/env bash
# test_playbooks.sh - every example playbook in playbooks/ is valid.
#
# The examples take their URLs and secrets from ${env:NAME} without a
# default, as a real team's playbook would; this test supplies dummy values
# for exactly the variables each one references and checks that:
#   - `crisisrun validate` accepts every playbook (exit 0);
#   - each required variable is documented in the playbook's header comment;
#   - the demo needs no variable at all (every reference has a default);
#   - leaving a required variable unset makes validate fail (exit 2) and
#     name the variable, so the examples really do require what they say.
set -euo pipefail
: "${CRISISRUN:?path of the crisisrun binary}" "${CRISISRUN_SOURCE:?repository root}"
cd "$CRISISRUN_SOURCE/playbooks"

failures=0
fail() {
    echo "test_playbooks: $*" >&2
    failures=$((failures + 1))
}

# Variables referenced without a default: ${env:NAME}, not ${env:NAME:-x}
# (comment lines left out: they may mention the syntax).
required_vars() {
    grep -v '^[[:space:]]*#' "$1" | { grep -o '\${env:[A-Za-z_][A-Za-z0-9_]*}' || true; } | sed 's/^\${env://; s/}$//' | sort -u
}

# A dummy value of the right shape: a signing secret or an https URL.
dummy() {
    case $1 in
        *SECRET*) echo "whsec_ZHVtbXktc2VjcmV0LWZvci12YWxpZGF0aW9uLW9ubHk=" ;;
        *) echo "https://hooks.example.com/$1" ;;
    esac
}

# `env -i` below, so that nothing from the caller's environment helps a
# playbook validate; only PATH and the sanitizers' settings pass through.
base_env=(PATH="$PATH")
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
    [ -z "${!v:-}" ] || base_env+=("$v=${!v}")
done

playbooks=(*.yaml)
[ "${#playbooks[@]}" -ge 6 ] || fail "expected at least six playbooks, found ${#playbooks[@]}"

for pb in "${playbooks[@]}"; do
    env_args=()
    vars=$(required_vars "$pb")
    for v in $vars; do
        env_args+=("$v=$(dummy "$v")")
        # Documented in the header: the comment block before the first key.
        sed -n '/^[a-z]/q; p' "$pb" | grep -qw "$v" ||
            fail "$pb: required variable $v is not documented in its header"
    done
    if ! out=$(env -i "${base_env[@]}" "${env_args[@]}" "$CRISISRUN" validate "$pb" 2>&1); then
        fail "$pb: validate failed:"
        echo "$out" >&2
        continue
    fi

    if [ "$pb" = demo.yaml ]; then
        [ -z "$vars" ] || fail "demo.yaml must run without any variable, but requires: $vars"
        continue
    fi
    [ -n "$vars" ] || fail "$pb: references no \${env:...} secret; real endpoints belong in the environment"

    # Drop the first required variable: validation must fail and name it.
    first=${vars%%$'\n'*}
    fewer=()
    for a in "${env_args[@]}"; do
        [ "${a%%=*}" = "$first" ] || fewer+=("$a")
    done
    set +e
    out=$(env -i "${base_env[@]}" "${fewer[@]}" "$CRISISRUN" validate "$pb" 2>&1)
    rc=$?
    set -e
    [ "$rc" -eq 2 ] || fail "$pb: validate without $first exited $rc, expected 2"
    grep -q "$first" <<<"$out" || fail "$pb: validate without $first does not name it: $out"
done

if [ "$failures" -ne 0 ]; then
    echo "test_playbooks: $failures failure(s)" >&2
    exit 1
fi
echo "test_playbooks: ${#playbooks[@]} playbooks valid"
