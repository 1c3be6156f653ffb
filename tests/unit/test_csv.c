/* Unit tests for csv.h: RFC 4180 quoting, line breaks, BOM, ragged rows,
 * exact record line numbers, and the errors and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisisrun/csv.h"
#include "crisisrun/util.h"

/* ---- stderr capture: error() reports there -------------------------------- */

static int saved_stderr = -1;
static char capture_file[64];

static void capture_begin(void)
{
    snprintf(capture_file, sizeof(capture_file), "/tmp/crcsv-err.XXXXXX");
    int fd = mkstemp(capture_file);
    assert_true(fd >= 0);
    fflush(stderr);
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

static char *capture_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    char *s;
    size_t len;
    assert_int_equal(read_file(capture_file, 1 << 20, &s, &len), 0);
    unlink(capture_file);
    return s;
}

/* Reads every record of data; returns them as "LINE:f1|f2|..." lines. */
static char *dump(const char *data, size_t len)
{
    struct csv_reader r;
    struct csv_record rec = CSV_RECORD_INIT;
    struct strbuf sb = STRBUF_INIT;
    csv_reader_init(&r, "t.csv", data, len);
    int rc;
    while ((rc = csv_read(&r, &rec)) > 0) {
        strbuf_addf(&sb, "%d:", rec.line);
        for (size_t i = 0; i < rec.nfields; i++)
            strbuf_addf(&sb, "%s%s", i ? "|" : "", rec.fields[i]);
        strbuf_addch(&sb, '\n');
    }
    assert_int_equal(rc, 0);
    csv_record_release(&rec);
    return strbuf_detach(&sb, NULL);
}

static void check(const char *data, const char *expected)
{
    char *got = dump(data, strlen(data));
    assert_string_equal(got, expected);
    free(got);
}

/* Expects csv_read to fail on data with a message containing msg. */
static void check_error(const char *data, size_t len, const char *msg)
{
    struct csv_reader r;
    struct csv_record rec = CSV_RECORD_INIT;
    csv_reader_init(&r, "t.csv", data, len);
    int rc;
    capture_begin();
    while ((rc = csv_read(&r, &rec)) > 0)
        ;
    char *err = capture_end();
    assert_int_equal(rc, -1);
    if (!strstr(err, msg))
        fail_msg("expected '%s' in '%s'", msg, err);
    assert_int_equal(rec.nfields, 0);
    free(err);
    csv_record_release(&rec);
}

static void test_plain(void **state)
{
    (void)state;
    check("a,b,c\n1,2,3\n", "1:a|b|c\n2:1|2|3\n");
    check("a,b", "1:a|b\n");                 /* no final line break */
    check(",,\n", "1:||\n");                 /* empty fields */
    check("a,\n", "1:a|\n");                 /* trailing empty field */
    check("a,", "1:a|\n");                   /* ... at the end of the data */
    check("", "");
    check("\n\n", "");
    check("h\n\n\nx\n", "1:h\n4:x\n");       /* blank lines skipped, lines still counted */
    check(" spaced , kept \n", "1: spaced | kept \n");
}

static void test_quotes(void **state)
{
    (void)state;
    check("\"x, y\",\"he said \"\"hi\"\"\",z\n", "1:x, y|he said \"hi\"|z\n");
    check("\"\",\"\"\"\"\n", "1:|\"\n");
    check("\"a\"\r\n", "1:a\n");
    check("\"a\",\"b\"", "1:a|b\n");
}

static void test_line_breaks(void **state)
{
    (void)state;
    check("a,b\r\n1,2\r\n", "1:a|b\n2:1|2\n");
    check("a\rb\r", "1:a\n2:b\n"); /* old Mac line ends */
    /* A quoted line break is data (stored as \n) and the next record's line
     * is where it really starts. */
    check("h,c\n1,\"line1\nline2\"\n2,x\n", "1:h|c\n2:1|line1\nline2\n4:2|x\n");
    check("h\r\n\"a\r\nb\r\nc\"\r\nnext\r\n", "1:h\n2:a\nb\nc\n5:next\n");
}

static void test_bom_and_ragged(void **state)
{
    (void)state;
    check("\xEF\xBB\xBFid,x\n1,2\n", "1:id|x\n2:1|2\n");
    check("\xEF\xBB\xBF\"id\"\n", "1:id\n");
    check("a,b,c\n1\n1,2,3,4\n", "1:a|b|c\n2:1\n3:1|2|3|4\n");
}

static void test_errors(void **state)
{
    (void)state;
    const char *s = "h\n\"never closed\nmore\n";
    check_error(s, strlen(s), "t.csv:2: unterminated quoted field");
    s = "h\n\"a\"b,c\n";
    check_error(s, strlen(s), "t.csv:2: unexpected text after a closing quote");
    s = "h\nab\"c\n";
    check_error(s, strlen(s), "t.csv:2: quote inside an unquoted field");
    check_error("a,b\x00" "c\n", 6, "t.csv:1: NUL byte");

    size_t big = CSV_MAX_FIELD + 10;
    char *data = xmalloc(big + 8);
    memcpy(data, "h\n\"", 3);
    memset(data + 3, 'x', big);
    memcpy(data + 3 + big, "\"\n", 2);
    check_error(data, big + 5, "t.csv:2: field longer than");
    memset(data, 'x', big);
    check_error(data, big, "t.csv:1: field longer than");
    free(data);

    struct strbuf sb = STRBUF_INIT;
    for (int i = 0; i <= CSV_MAX_FIELDS; i++)
        strbuf_addstr(&sb, "x,");
    check_error(sb.buf, sb.len, "more than 1024 fields");
    strbuf_release(&sb);
}

/* A field exactly at the limit is fine. */
static void test_limit_boundary(void **state)
{
    (void)state;
    char *data = xmalloc(CSV_MAX_FIELD + 2);
    memset(data, 'y', CSV_MAX_FIELD);
    data[CSV_MAX_FIELD] = '\n';
    struct csv_reader r;
    struct csv_record rec = CSV_RECORD_INIT;
    csv_reader_init(&r, "t.csv", data, CSV_MAX_FIELD + 1);
    assert_int_equal(csv_read(&r, &rec), 1);
    assert_int_equal(rec.nfields, 1);
    assert_int_equal(strlen(rec.fields[0]), CSV_MAX_FIELD);
    assert_int_equal(csv_read(&r, &rec), 0);
    csv_record_release(&rec);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_line_breaks),
        cmocka_unit_test(test_bom_and_ragged),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limit_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
