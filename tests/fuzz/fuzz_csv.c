/*
 * fuzz_csv.c - libFuzzer harness for the CSV reader (csv.h) and `feedback
 * import` (feedback_import_csv, feedback.h) behind it.
 *
 * The input is the file.  The reader must end every input with the end of
 * the data or one error, giving records whose fields are within the limits
 * and hold no carriage return (a quoted line break is stored as "\n"), and
 * the records, written back fully quoted, must read back the same.  The
 * import then reads the same bytes from a file into a fixed run of a
 * journal in a temporary directory (created once per process): it stores
 * all the rows or none, says which (0 or FEEDBACK_INVALID, never a journal
 * error), counts every data row as stored or skipped, and the journal then
 * holds exactly what it said it stored.  What it stores must make a
 * report: in every format valid UTF-8 without control characters (but
 * tab and line breaks), and the JSON with every comment the others show.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "crisisrun/csv.h"
#include "crisisrun/diag.h"
#include "crisisrun/feedback.h"
#include "crisisrun/journal.h"
#include "crisisrun/loader.h"
#include "crisisrun/report.h"
#include "crisisrun/runmeta.h"
#include "crisisrun/util.h"
#include "crisisrun/yamltree.h"
#include "crisisrun/utf8.h"
#include "fuzz_common.h"

int fuzz_csv_one(const uint8_t *data, size_t size);
void fuzz_csv_teardown(void);

/* The run's questions, channels and audiences come from this playbook. */
static const char fuzz_csv_playbook[] =
    "crisisrun: 1\n"
    "name: fuzz-import\n"
    "channels:\n"
    "  oncall: {type: slack, url: \"https://hooks.example.com/a\"}\n"
    "  customers: {type: webhook, url: \"https://status.example.com/b\", audience: "
    "external}\n"
    "steps:\n"
    "  - {id: declare, at: 0s, notify: [oncall], message: hi}\n"
    "feedback:\n"
    "  window: 1h\n"
    "  questions:\n"
    "    - {id: informed, text: Informed?, scale: 5}\n"
    "    - {id: speed, text: Speed?, scale: 10}\n"
    "    - {id: better, text: Better?, type: text}\n";

/* Responses stored before the journal is made again (keeps each check cheap). */
#define FUZZ_CSV_RESET_AFTER 25

static struct {
    char dir[64];
    char db[96];
    char csv[96];
    struct journal *j;
    char run[JOURNAL_RUN_ID_LEN + 1];
    size_t stored; /* responses the journal holds for the run */
} fuzz_csv;

static void fuzz_csv_remove_db(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
        char *p = xasprintf("%s%s", fuzz_csv.db, suffixes[i]);
        unlink(p);
        free(p);
    }
}

/* A new journal with one run of fuzz_csv_playbook. */
static void fuzz_csv_open(void)
{
    if (!fuzz_csv.dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_csv.dir, sizeof(fuzz_csv.dir), "%s/crfuzz-csv.XXXXXX",
                 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
        FUZZ_CHECK(mkdtemp(fuzz_csv.dir) != NULL);
        snprintf(fuzz_csv.db, sizeof(fuzz_csv.db), "%s/journal.db", fuzz_csv.dir);
        snprintf(fuzz_csv.csv, sizeof(fuzz_csv.csv), "%s/input.csv", fuzz_csv.dir);
    }
    fuzz_csv_remove_db();
    fuzz_csv.j = journal_open(fuzz_csv.db, JOURNAL_CREATE | JOURNAL_WRITE);
    FUZZ_CHECK(fuzz_csv.j != NULL);

    struct diag d = DIAG_INIT;
    struct playbook *pb =
        loader_load_mem("fuzz-import.yaml", "/nonexistent-crisisrun-fuzz",
                        fuzz_csv_playbook, sizeof(fuzz_csv_playbook) - 1, NULL, &d);
    FUZZ_CHECK(pb != NULL);
    struct journal_run r;
    memset(&r, 0, sizeof(r));
    r.playbook_name = pb->name;
    r.title = pb->title;
    r.playbook_path = "/srv/playbooks/fuzz-import.yaml";
    r.playbook_text = (char *)fuzz_csv_playbook;
    r.meta_json = runmeta_json(pb);
    r.speed = 1;
    r.started_ms = 1764167700000LL;
    FUZZ_CHECK(journal_run_create(fuzz_csv.j, &r) == 0);
    memcpy(fuzz_csv.run, r.id, sizeof(fuzz_csv.run));
    free(r.meta_json);
    playbook_free(pb);
    diag_release(&d);
    fuzz_csv.stored = 0;
}

void fuzz_csv_teardown(void)
{
    if (!fuzz_csv.j)
        return;
    journal_close(fuzz_csv.j);
    fuzz_csv.j = NULL;
    fuzz_csv_remove_db();
    unlink(fuzz_csv.csv);
    rmdir(fuzz_csv.dir);
}

static void fuzz_csv_quote(struct strbuf *sb, const char *s)
{
    strbuf_addch(sb, '"');
    for (; *s; s++) {
        if (*s == '"')
            strbuf_addch(sb, '"');
        strbuf_addch(sb, *s);
    }
    strbuf_addch(sb, '"');
}

/* Reads data to the end; returns the number of records, or -1 on an error. */
static long fuzz_csv_read(const char *data, size_t size, struct strbuf *quoted)
{
    struct csv_reader r;
    struct csv_record rec = CSV_RECORD_INIT;
    csv_reader_init(&r, "fuzz.csv", data, size);
    long n = 0;
    int rc, last_line = 0;
    while ((rc = csv_read(&r, &rec)) > 0) {
        FUZZ_CHECK(rec.line >= 1 && rec.line > last_line && rec.line <= r.line);
        FUZZ_CHECK(rec.nfields >= 1 && rec.nfields <= CSV_MAX_FIELDS);
        last_line = rec.line;
        for (size_t i = 0; i < rec.nfields; i++) {
            FUZZ_CHECK(strlen(rec.fields[i]) <= CSV_MAX_FIELD);
            FUZZ_CHECK(!strchr(rec.fields[i], '\r'));
            if (quoted) {
                if (i)
                    strbuf_addch(quoted, ',');
                fuzz_csv_quote(quoted, rec.fields[i]);
            }
        }
        if (quoted)
            strbuf_addstr(quoted, n % 2 ? "\n" : "\r\n");
        n++;
    }
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(rec.nfields == 0 && rec.fields == NULL);
    FUZZ_CHECK(r.pos <= r.len);
    csv_record_release(&rec);
    return rc < 0 ? -1 : n;
}

static void fuzz_csv_check_reader(const char *data, size_t size, long *records)
{
    struct strbuf quoted = STRBUF_INIT;
    *records = fuzz_csv_read(data, size, &quoted);
    if (*records >= 0) {
        /* Fully quoted, the records read back the same. */
        struct strbuf again = STRBUF_INIT;
        FUZZ_CHECK(fuzz_csv_read(quoted.buf ? quoted.buf : "", quoted.len, &again) ==
                   *records);
        FUZZ_CHECK(quoted.len == again.len &&
                   (!quoted.len || !memcmp(quoted.buf, again.buf, quoted.len)));
        strbuf_release(&again);
    }
    strbuf_release(&quoted);
}

static void fuzz_csv_check_text(const char *s, size_t len)
{
    FUZZ_CHECK(utf8_check(s, len) == len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        FUZZ_CHECK(c >= 0x20 ? c != 0x7f : (c == '\n' || c == '\t' || c == '\r'));
    }
}

/* The run's report, in every format, from what the imports stored. */
static void fuzz_csv_check_report(void)
{
    struct report *r = report_build(fuzz_csv.j, fuzz_csv.run);
    FUZZ_CHECK(r != NULL);
    static const enum report_format formats[] = {REPORT_JSON, REPORT_MARKDOWN,
                                                 REPORT_HTML};
    for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
        struct strbuf sb = STRBUF_INIT;
        report_render(r, formats[i], &sb);
        FUZZ_CHECK(sb.len > 0);
        fuzz_csv_check_text(sb.buf, sb.len);
        if (formats[i] == REPORT_JSON) {
            json_t *root = json_loadb(sb.buf, sb.len, 0, NULL);
            json_t *groups = json_object_get(json_object_get(root, "feedback"), "groups");
            FUZZ_CHECK(groups != NULL);
            size_t shown = 0;
            for (size_t g = 0; g < ARRAY_SIZE(r->groups); g++) {
                if (!report_group_shown(r, g))
                    continue;
                json_t *cs = json_object_get(json_array_get(groups, shown++), "comments");
                FUZZ_CHECK(json_array_size(cs) == r->groups[g].ncomments);
            }
            FUZZ_CHECK(json_array_size(groups) == shown);
            json_decref(root);
        }
        strbuf_release(&sb);
    }
    report_free(r);
}

static void fuzz_csv_check_import(const uint8_t *data, size_t size, long records)
{
    if (!fuzz_csv.j || fuzz_csv.stored > FUZZ_CSV_RESET_AFTER) {
        if (fuzz_csv.j)
            journal_close(fuzz_csv.j);
        fuzz_csv_open();
    }
    FILE *f = fopen(fuzz_csv.csv, "wb");
    FUZZ_CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);

    long count = -1, skipped = -1;
    int rc =
        feedback_import_csv(fuzz_csv.j, fuzz_csv.run, fuzz_csv.csv, &count, &skipped);
    FUZZ_CHECK(rc == 0 || rc == FEEDBACK_INVALID);
    if (records < 0)
        FUZZ_CHECK(rc == FEEDBACK_INVALID);
    if (rc == 0)
        FUZZ_CHECK(records >= 1 && count >= 0 && skipped >= 0 &&
                   count + skipped == records - 1);
    else
        FUZZ_CHECK(count == 0 && skipped == 0);

    struct journal_feedback *v;
    size_t n;
    FUZZ_CHECK(journal_feedback_list(fuzz_csv.j, fuzz_csv.run, &v, &n) == 0);
    fuzz_csv.stored += rc == 0 ? (size_t)count : 0;
    FUZZ_CHECK(n == fuzz_csv.stored);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(v[i].nanswers > 0 || v[i].comment);
        FUZZ_CHECK(!v[i].anonymous || !v[i].respondent);
        for (size_t k = 0; k < v[i].nanswers; k++) {
            const struct journal_answer *a = &v[i].answers[k];
            if (!strcmp(a->question_id, "informed"))
                FUZZ_CHECK(a->rating >= 1 && a->rating <= 5);
            else if (!strcmp(a->question_id, "speed"))
                FUZZ_CHECK(a->rating >= 1 && a->rating <= 10);
            else
                FUZZ_CHECK(!strcmp(a->question_id, "better") && a->text && !a->rating);
        }
    }
    journal_feedback_list_free(v, n);
    if (rc == 0 && count > 0)
        fuzz_csv_check_report();
}

int fuzz_csv_one(const uint8_t *data, size_t size)
{
    long records;
    fuzz_csv_check_reader((const char *)data, size, &records);
    fuzz_csv_check_import(data, size, records);
    return 0;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_csv_one(data, size);
}
#endif
