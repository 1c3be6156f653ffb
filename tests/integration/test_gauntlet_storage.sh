#!/usr/bin/env bash
# Storage faults under the journal: a journal path below a regular file
# (ENOTDIR), a journal on a read-only filesystem, and a journal on a
# filesystem that fills up in the middle of a fan-out run.  Each gives a
# clear error naming the journal and exit status 1, the database always
# passes PRAGMA integrity_check, and once the fault is gone `resume`
# finishes the run with every notification delivered.
#
# The filesystem faults need tmpfs mounts: as root, in a private mount
# namespace (unshare -m) so that nothing outlives the test.  Without root
# or without the right to mount they are skipped, saying why; the ENOTDIR
# case always runs.
if [[ -z "${GAUNTLET_MOUNT_NS:-}" && $(id -u) == 0 ]] && unshare -m true 2>/dev/null; then
    GAUNTLET_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

q() { sqlite3 "$1" "$2"; }
integrity() {
    assert_eq "$(sqlite3 "$1" 'PRAGMA integrity_check' 2>&1)" ok "integrity_check of $1 ($2)"
}

start_inbox
for i in $(seq 1 400); do echo "$INBOX_URL/webhook/s$i"; done >"$TMP/subscribers.txt"
cat >"$TMP/fanout.yaml" <<EOF
crisisrun: 1
name: storage-faults
channels:
  subscribers: {type: webhook, urls_file: subscribers.txt}
steps:
  - {id: declare, at: 0s, notify: [subscribers], message: "Payments fail for some customers; we are investigating and will update you shortly."}
  - {id: update, at: 1m, notify: [subscribers], message: "We found the cause of the failed payments and are deploying a fix now."}
  - {id: resolve, at: 2m, status: resolved, notify: [subscribers], message: "Payments work again."}
EOF

# --- a journal path below a regular file: ENOTDIR, for writers and readers ---
echo "not a directory" >"$TMP/afile"
rc=0
crisisrun --db "$TMP/afile/journal.db" run --drill --speed 60 --quiet "$TMP/fanout.yaml" \
    >"$TMP/enotdir.out" 2>"$TMP/enotdir.err" || rc=$?
assert_eq "$rc" 1 "run with a journal below a file"
assert_contains "$TMP/enotdir.err" "crisisrun: "
assert_contains "$TMP/enotdir.err" "$TMP/afile"
assert_contains "$TMP/enotdir.err" "Not a directory"
assert_eq "$(grep -c . "$TMP/enotdir.err")" 1 "one error line: $(cat "$TMP/enotdir.err")"
assert_eq "$(inbox_count /)" 0 "nothing sent without a journal"
for cmd in list "show abc" "report abc" "resume abc"; do
    rc=0
    # shellcheck disable=SC2086 # the command and its argument
    crisisrun --db "$TMP/afile/journal.db" $cmd >"$TMP/enotdir.out" 2>"$TMP/enotdir.err" || rc=$?
    assert_eq "$rc" 1 "$cmd with a journal below a file"
    assert_contains "$TMP/enotdir.err" "Not a directory"
done
assert_eq "$(cat "$TMP/afile")" "not a directory" "the file is untouched"

if [[ $(id -u) != 0 ]]; then
    echo "SKIP: the filesystem faults need root to mount a tmpfs"
    stop_inbox
    exit 0
fi
MNT=$TMP/mnt
mkdir "$MNT"
if ! mount -t tmpfs -o size=8m,mode=0700 tmpfs "$MNT" 2>"$TMP/mount.err"; then
    echo "SKIP: the filesystem faults need a tmpfs mount: $(cat "$TMP/mount.err")"
    stop_inbox
    exit 0
fi
# lib.sh removes $TMP on exit: the mounts go first (lazily, so a process
# still holding one cannot block the removal), then lib.sh's cleanup runs
# with the test's exit status (set +e: under errexit the status would end
# the trap before the cleanup).
MOUNTS=("$MNT")
unmount_then_cleanup() {
    local rc=$?
    set +e
    umount -l "${MOUNTS[@]}" 2>/dev/null
    (exit "$rc")
    _cr_cleanup
}
trap unmount_then_cleanup EXIT

# --- a read-only filesystem: writers refuse, readers read, nothing changes ---
DB=$MNT/journal.db
crisisrun --db "$DB" run --drill --speed 60 --quiet "$TMP/fanout.yaml" >"$TMP/ro-setup.out"
RUN=$(head -1 "$TMP/ro-setup.out")
SUM=$(sha256sum <"$DB")
mount -o remount,ro "$MNT"
rc=0
crisisrun --db "$DB" run --drill --speed 60 --quiet "$TMP/fanout.yaml" >"$TMP/ro.out" 2>"$TMP/ro.err" || rc=$?
assert_eq "$rc" 1 "run on a read-only journal"
assert_eq "$(cat "$TMP/ro.err")" "crisisrun: journal '$DB' is read-only" "run's error on a read-only journal"
for cmd in "note $RUN hello" "resume $RUN" "feedback add $RUN --comment hi"; do
    rc=0
    # shellcheck disable=SC2086
    crisisrun --db "$DB" $cmd >"$TMP/ro.out" 2>"$TMP/ro.err" || rc=$?
    [[ $rc == 1 || $rc == 2 ]] || fail "$cmd on a read-only journal exited $rc"
    assert_contains "$TMP/ro.err" "crisisrun: "
done
# The journal is the record of a crisis: reading it must not need a
# writable disk (a copy on read-only media, a frozen snapshot).
crisisrun --db "$DB" list >"$TMP/ro-list.out" || fail "list on a read-only journal: $(cat "$TMP/ro-list.out")"
assert_contains "$TMP/ro-list.out" "$RUN"
crisisrun --db "$DB" show "$RUN" >"$TMP/ro-show.out" || fail "show on a read-only journal"
crisisrun --db "$DB" report "$RUN" --format json -o "$TMP/ro-report.json" || fail "report on a read-only journal"
assert_eq "$(json_query 'd["communication"]["audiences"][0]["delivered"]' "$TMP/ro-report.json")" 1200 \
    "the report of the read-only journal"
assert_eq "$(sha256sum <"$DB")" "$SUM" "the read-only journal is unchanged"
mount -o remount,rw "$MNT"
integrity "$DB" "read-only"
rm -f "$DB" "$DB"-*

# --- a full filesystem in the middle of a run, at several points ---
# (the schema fits in the smallest; 1200 notifications fit in none)
for size in 200k 300k 400k; do
    rm -f "$DB" "$DB"-*
    mount -o remount,size=$size "$MNT"
    inbox_before=$(inbox_count /webhook/)
    rc=0
    crisisrun --db "$DB" run --drill --speed 60 --quiet "$TMP/fanout.yaml" >"$TMP/full.out" 2>"$TMP/full.err" || rc=$?
    assert_eq "$rc" 1 "run on a filesystem of $size that fills up"
    grep -q "^crisisrun: journal '$DB': .*disk is full" "$TMP/full.err" ||
        fail "no clear error on a full disk ($size): $(cat "$TMP/full.err")"
    RUN=$(head -1 "$TMP/full.out")
    integrity "$DB" "full at $size"
    assert_eq "$(q "$DB" "SELECT state FROM runs WHERE id = '$RUN'")" running "the run waits to be resumed"
    unsettled=$(q "$DB" "SELECT count(*) FROM notifications WHERE state = 'pending' OR state = 'inflight'")
    # Still full: resume fails as clearly and harms nothing.
    rc=0
    crisisrun --db "$DB" resume --quiet "$RUN" >"$TMP/full2.out" 2>"$TMP/full2.err" || rc=$?
    if [[ $rc != 0 ]]; then
        assert_eq "$rc" 1 "resume on a full disk ($size)"
        grep -Eq "^crisisrun: .*(disk is full|No space left on device)" "$TMP/full2.err" ||
            fail "resume on a full disk ($size): $(cat "$TMP/full2.err")"
        integrity "$DB" "resume on a full disk at $size"
        # Room again: resume finishes the run.
        mount -o remount,size=16m "$MNT"
        crisisrun --db "$DB" resume --quiet "$RUN" >"$TMP/resume.out" 2>&1 ||
            fail "resume after the disk has room again ($size): $(cat "$TMP/resume.out")"
    fi
    echo "full at $size: run stopped ($(head -1 "$TMP/full.err" | sed 's/.*: //')); resume on the full disk exited $rc"
    integrity "$DB" "resumed at $size"
    assert_eq "$(q "$DB" "SELECT state FROM runs WHERE id = '$RUN'")" resolved "resumed run ($size)"
    assert_eq "$(q "$DB" "SELECT state || ' ' || count(*) FROM notifications GROUP BY state")" \
        "delivered 1200" "every notification delivered ($size)"
    # Each notification reached its endpoint.  Only those the journal
    # showed unsettled when the disk filled can have been sent more than
    # once: by the run, by the resume on the still full disk, and by the
    # resume that finished.
    sent=$(( $(inbox_count /webhook/) - inbox_before ))
    (( sent >= 1200 && sent <= 1200 + 2 * unsettled )) ||
        fail "$sent requests for 1200 notifications, $unsettled unsettled at the stop ($size)"
done

# --- a report written onto a full disk: an error, and no half file ---
OUT=$TMP/out
mkdir "$OUT"
mount -t tmpfs -o size=64k tmpfs "$OUT"
MOUNTS+=("$OUT")
head -c $(( 60 * 1024 )) /dev/zero >"$OUT/filler" 2>/dev/null || true
rc=0
crisisrun --db "$DB" report "$RUN" --format html -o "$OUT/report.html" 2>"$TMP/report.err" || rc=$?
assert_eq "$rc" 1 "report onto a full disk"
assert_contains "$TMP/report.err" "crisisrun: "
assert_contains "$TMP/report.err" "$OUT/report.html"
assert_eq "$(ls "$OUT")" filler "no report, whole or half, and no temporary file left behind"
# Into a directory that does not exist: the error names the file asked
# for, not the temporary one beside it.
rc=0
crisisrun --db "$DB" report "$RUN" -o "$TMP/no-such-dir/r.md" 2>"$TMP/report.err" || rc=$?
assert_eq "$rc" 1 "report into a missing directory"
assert_contains "$TMP/report.err" "crisisrun: cannot write '$TMP/no-such-dir/r.md': No such file or directory"
# An existing report survives a failed rewrite.
rm "$OUT/filler"
crisisrun --db "$DB" report "$RUN" --format md -o "$OUT/report.md"
cp "$OUT/report.md" "$TMP/report.md"
head -c $(( 64 * 1024 )) /dev/zero >"$OUT/filler" 2>/dev/null || true
rc=0
crisisrun --db "$DB" report "$RUN" --format html -o "$OUT/report.md" 2>"$TMP/report.err" || rc=$?
assert_eq "$rc" 1 "rewriting a report onto a full disk"
cmp -s "$OUT/report.md" "$TMP/report.md" || fail "the existing report was damaged by a failed rewrite"
assert_eq "$(ls "$OUT" | sort | tr '\n' ' ')" "filler report.md " "no temporary file left behind"

stop_inbox
echo "ok: storage faults"
