/*
 * sqlite_count.h - a count through a connection of its own (what another
 * process sees of a journal), for the cmocka tests of the journal.
 */
#ifndef CRISISRUN_TEST_SQLITE_COUNT_H
#define CRISISRUN_TEST_SQLITE_COUNT_H

#include <sqlite3.h>

/* The single integer `sql` yields on the database at `path`. */
static inline long count_rows(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#endif
