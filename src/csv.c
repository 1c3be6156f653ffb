/*
 * csv.c - an RFC 4180 CSV reader (csv.h).
 *
 * A small hand-written state machine over a buffer in memory: the files are
 * survey exports bounded by CSV_MAX_FILE, and reading from memory keeps line
 * counting (for "FILE:LINE:" messages) exact across quoted line breaks.
 */
#include "crisisrun/csv.h"

#include <stdlib.h>
#include <string.h>

#include "crisisrun/util.h"

void csv_reader_init(struct csv_reader *r, const char *name, const char *data, size_t len)
{
    r->name = name;
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->line = 1;
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        r->pos = 3;
}

void csv_record_release(struct csv_record *rec)
{
    for (size_t i = 0; i < rec->nfields; i++)
        free(rec->fields[i]);
    free(rec->fields);
    rec->fields = NULL;
    rec->nfields = rec->alloc = 0;
}

static int at_eol(const struct csv_reader *r)
{
    return r->pos < r->len && (r->data[r->pos] == '\n' || r->data[r->pos] == '\r');
}

/* Consumes one line break (CRLF, LF or CR). */
static void skip_eol(struct csv_reader *r)
{
    if (r->data[r->pos] == '\r' && r->pos + 1 < r->len && r->data[r->pos + 1] == '\n')
        r->pos++;
    r->pos++;
    r->line++;
}

static int add_char(struct csv_reader *r, struct strbuf *sb, char c)
{
    if (c == '\0')
        return error("%s:%d: NUL byte in the data", r->name, r->line);
    if (sb->len >= CSV_MAX_FIELD)
        return error("%s:%d: field longer than %u bytes", r->name, r->line, CSV_MAX_FIELD);
    strbuf_addch(sb, c);
    return 0;
}

static int read_quoted(struct csv_reader *r, struct strbuf *sb)
{
    int start_line = r->line;
    r->pos++; /* the opening quote */
    for (;;) {
        if (r->pos >= r->len)
            return error("%s:%d: unterminated quoted field", r->name, start_line);
        char c = r->data[r->pos];
        if (c == '"') {
            if (r->pos + 1 < r->len && r->data[r->pos + 1] == '"') {
                r->pos += 2;
                if (add_char(r, sb, '"') < 0)
                    return -1;
                continue;
            }
            r->pos++;
            if (r->pos < r->len && r->data[r->pos] != ',' && !at_eol(r))
                return error("%s:%d: unexpected text after a closing quote", r->name,
                             r->line);
            return 0;
        }
        if (c == '\n' || c == '\r') {
            /* A line break inside quotes is data, stored as "\n" whatever
             * its form in the file; the line still counts. */
            skip_eol(r);
            if (add_char(r, sb, '\n') < 0)
                return -1;
            continue;
        }
        if (add_char(r, sb, c) < 0)
            return -1;
        r->pos++;
    }
}

static int read_unquoted(struct csv_reader *r, struct strbuf *sb)
{
    while (r->pos < r->len && r->data[r->pos] != ',' && !at_eol(r)) {
        char c = r->data[r->pos];
        if (c == '"')
            return error("%s:%d: quote inside an unquoted field (quote the whole field)",
                         r->name, r->line);
        if (add_char(r, sb, c) < 0)
            return -1;
        r->pos++;
    }
    return 0;
}

int csv_read(struct csv_reader *r, struct csv_record *rec)
{
    csv_record_release(rec);
    /* Empty lines are not records. */
    while (at_eol(r))
        skip_eol(r);
    if (r->pos >= r->len)
        return 0;
    rec->line = r->line;
    struct strbuf sb = STRBUF_INIT;
    for (;;) {
        strbuf_reset(&sb);
        int ret = r->data[r->pos] == '"' ? read_quoted(r, &sb) : read_unquoted(r, &sb);
        if (ret < 0)
            goto fail;
        if (rec->nfields >= CSV_MAX_FIELDS) {
            error("%s:%d: more than %d fields in one record", r->name, r->line,
                  CSV_MAX_FIELDS);
            goto fail;
        }
        ALLOC_GROW(rec->fields, rec->nfields + 1, rec->alloc);
        rec->fields[rec->nfields++] = xstrdup(strbuf_str(&sb));
        if (r->pos < r->len && r->data[r->pos] == ',') {
            r->pos++;
            /* "a," ends with an empty field; so does "a,<EOF>". */
            if (r->pos >= r->len || at_eol(r)) {
                ALLOC_GROW(rec->fields, rec->nfields + 1, rec->alloc);
                rec->fields[rec->nfields++] = xstrdup("");
                break;
            }
            continue;
        }
        break;
    }
    if (r->pos < r->len)
        skip_eol(r);
    strbuf_release(&sb);
    return 1;
fail:
    strbuf_release(&sb);
    csv_record_release(rec);
    return -1;
}
