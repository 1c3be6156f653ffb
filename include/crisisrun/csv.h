/*
 * csv.h - an RFC 4180 CSV reader for survey exports (`feedback import`).
 *
 * Records are separated by CRLF or LF (a lone CR inside an unquoted field
 * ends the record as well, for old Mac exports).  A field is quoted when it
 * starts with '"'; inside, '""' is one quote and line breaks are data.  A
 * UTF-8 byte order mark at the start is skipped.  Empty lines are skipped,
 * and a final line break does not make an empty record.  Records may have
 * different numbers of fields ("ragged"): the caller decides what that
 * means.
 *
 * Strict where a survey tool would never produce it: a quote inside an
 * unquoted field, text after a closing quote, an unterminated quote, a NUL
 * byte, and a field over CSV_MAX_FIELD bytes or a record over
 * CSV_MAX_FIELDS fields are errors.  Callers bound the file size
 * (CSV_MAX_FILE) when reading it.
 */
#ifndef CRISISRUN_CSV_H
#define CRISISRUN_CSV_H

#include <stddef.h>

#define CSV_MAX_FILE (16u << 20)  /* bytes in one file */
#define CSV_MAX_FIELD (64u << 10) /* bytes in one field */
#define CSV_MAX_FIELDS 1024       /* fields in one record */

struct csv_reader {
    const char *name; /* for messages: "FILE:LINE: ..." */
    const char *data;
    size_t len, pos;
    int line; /* 1-based line of data[pos] */
};

/* One record.  Fields are NUL-terminated and owned by the record. */
struct csv_record {
    char **fields;
    size_t nfields, alloc;
    int line; /* the line the record starts on */
};
#define CSV_RECORD_INIT {NULL, 0, 0, 0}

/* Starts reading data (len bytes, not copied: it must outlive r). */
void csv_reader_init(struct csv_reader *r, const char *name, const char *data, size_t len);

/*
 * Reads the next record into rec (its previous fields are released).
 * Returns 1 with a record, 0 at the end of the data, or -1 after reporting
 * "NAME:LINE: WHY" through error(), LINE being where the bad field is.
 * After -1 the reader cannot continue.
 */
int csv_read(struct csv_reader *r, struct csv_record *rec);

void csv_record_release(struct csv_record *rec);

#endif
