#!/usr/bin/env bash
# test_validate.sh - `crisisrun validate` against tests/data: every invalid
# playbook exits 2 and prints exactly its NAME.expected on stderr, every
# valid one exits 0; plus the cases generated here rather than committed
# (an oversized file) and ${env:...} taken from the real environment.
set -u
: "${CRISISRUN:?}" "${CRISISRUN_TEST_DATA:?}"

# The invalid files rely on these being unset.
unset CRISISRUN_TEST_UNSET CRISISRUN_TEST_UNSET_TOO CRISISRUN_TEST_UNSET_URL
unset CRISISRUN_TEST_SLACK_URL CRISISRUN_TEST_TEAMS_URL CRISISRUN_TEST_SECRET

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0 checked=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# expect_invalid FILE EXPECTED: run in FILE's directory, compare stderr.
expect_invalid() {
    local file=$1 expected=$2 rc
    (cd "$(dirname "$file")" && "$CRISISRUN" validate "$(basename "$file")") \
        >"$tmp/out" 2>"$tmp/err"
    rc=$?
    checked=$((checked + 1))
    [ "$rc" -eq 2 ] || fail "$file: exit $rc, expected 2"
    if ! diff -u "$expected" "$tmp/err" >"$tmp/diff"; then
        fail "$file: diagnostics differ from $(basename "$expected")"
        cat "$tmp/diff"
    fi
    [ -s "$tmp/out" ] && fail "$file: printed to stdout: $(cat "$tmp/out")"
}

for f in "$CRISISRUN_TEST_DATA"/invalid/*.yaml; do
    exp=${f%.yaml}.expected
    if [ ! -f "$exp" ]; then
        fail "$f has no $(basename "$exp")"
        continue
    fi
    expect_invalid "$f" "$exp"
done

for f in "$CRISISRUN_TEST_DATA"/valid/*.yaml; do
    checked=$((checked + 1))
    if ! (cd "$(dirname "$f")" && "$CRISISRUN" validate --quiet "$(basename "$f")") \
        >"$tmp/out" 2>"$tmp/err"; then
        fail "$f: not valid:"
        cat "$tmp/err"
    fi
    [ -s "$tmp/out" ] || [ -s "$tmp/err" ] && fail "$f: --quiet printed something"
done

# Paths in diagnostics are the paths given, urls_file ones included.
(cd "$CRISISRUN_TEST_DATA/.." && "$CRISISRUN" validate data/invalid/urls-file.yaml) 2>"$tmp/err"
checked=$((checked + 1))
grep -q '^data/invalid/bad-urls.txt:4:1: error: ' "$tmp/err" ||
    fail "urls_file diagnostics do not carry the urls_file path: $(cat "$tmp/err")"
grep -q '^data/invalid/urls-file.yaml:5:39: error: ' "$tmp/err" ||
    fail "diagnostics do not carry the playbook path: $(cat "$tmp/err")"

# ${env:NAME:-default} takes the environment over the default.
checked=$((checked + 1))
(cd "$CRISISRUN_TEST_DATA/valid" &&
    CRISISRUN_TEST_SLACK_URL=ftp://files.example/x "$CRISISRUN" validate complete.yaml) \
    2>"$tmp/err" >/dev/null
[ $? -eq 2 ] && grep -q "^complete.yaml:14:.*: error: url scheme 'ftp' is not allowed" "$tmp/err" ||
    fail "\${env:} value not used: $(cat "$tmp/err")"

# A file over the 4 MiB bound (5 MiB) is refused without being parsed.
checked=$((checked + 1))
{
    printf 'crisisrun: 1\nname: big\nsteps:\n'
    head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' '#'
    printf '\n'
} >"$tmp/big.yaml"
(cd "$tmp" && "$CRISISRUN" validate big.yaml) 2>"$tmp/err"
[ $? -eq 2 ] || fail "big.yaml: expected exit 2"
echo "big.yaml:0:0: error: the file is larger than 4194304 bytes" | diff -u - "$tmp/err" ||
    fail "big.yaml: wrong diagnostic"

# A FIFO nobody writes to is refused at once, not waited on forever; one
# with a writer (process substitution) is read as a file.
checked=$((checked + 1))
mkfifo "$tmp/fifo.yaml"
(cd "$tmp" && timeout 10 "$CRISISRUN" validate fifo.yaml) 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "fifo.yaml: exit $rc, expected 2 (124: it waited for a writer)"
grep -qx 'fifo.yaml:0:0: error: cannot read the playbook: it is a FIFO and nothing was written to it (give a regular file, or start the writer first)' "$tmp/err" ||
    fail "fifo.yaml: wrong diagnostic: $(cat "$tmp/err")"
checked=$((checked + 1))
timeout 10 "$CRISISRUN" validate --quiet <(cat "$CRISISRUN_TEST_DATA/valid/minimal.yaml") ||
    fail "a playbook read from a pipe is not valid"

# Several files: each reported, exit 2 when any is invalid.
checked=$((checked + 1))
(cd "$CRISISRUN_TEST_DATA" && "$CRISISRUN" validate valid/minimal.yaml invalid/version.yaml) \
    >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "mixed files: expected exit 2"
grep -qx 'valid/minimal.yaml: ok (1 step, 0 channels)' "$tmp/out" ||
    fail "mixed files: valid one not reported ok, counted in the singular"
grep -q '^invalid/version.yaml:1:12: error: unsupported format version 2' "$tmp/err" ||
    fail "mixed files: invalid one not reported"

echo "$checked checks, $failures failures"
[ "$failures" -eq 0 ]
