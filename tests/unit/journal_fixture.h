/*
 * journal_fixture.h - a journal in a fresh temporary directory holding one
 * run, for the cmocka tests of the journal's writes (test_journal_settle.c,
 * test_journal_writer.c), with sqlite_count.h's count_rows().
 */
#ifndef CRISISRUN_TEST_JOURNAL_FIXTURE_H
#define CRISISRUN_TEST_JOURNAL_FIXTURE_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "crisisrun/journal.h"
#include "crisisrun/util.h"
#include "sqlite_count.h"

#define T0 1764167700000LL /* 2025-11-26T14:35:00Z */

struct journal_fixture {
    char dir[64];
    char *path;
    struct journal *j;
    struct journal_run run;
};

/* cmocka setup: /tmp/crNAME.XXXXXX/crisisrun.db with a run of playbook NAME. */
static inline int journal_fixture_setup(void **state, const char *name)
{
    struct journal_fixture *f = xcalloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/cr%s.XXXXXX", name);
    assert_non_null(mkdtemp(f->dir));
    f->path = xasprintf("%s/crisisrun.db", f->dir);
    f->j = journal_open(f->path, JOURNAL_CREATE);
    assert_non_null(f->j);
    /* Only lent to journal_run_create. */
    char *pb_name = xstrdup(name), *pb_path = xasprintf("/srv/%s.yaml", name);
    char *pb_text = xasprintf("crisisrun: 1\nname: %s\n", name), *vars = xstrdup("{}");
    struct journal_run *r = &f->run;
    r->playbook_name = r->title = pb_name;
    r->playbook_path = pb_path;
    r->playbook_text = pb_text;
    r->vars_json = vars;
    r->speed = 1;
    r->started_ms = T0;
    assert_int_equal(journal_run_create(f->j, r), 0);
    r->playbook_name = r->title = r->playbook_path = r->playbook_text = r->vars_json = NULL;
    free(pb_name);
    free(pb_path);
    free(pb_text);
    free(vars);
    *state = f;
    return 0;
}

/* cmocka teardown of journal_fixture_setup(). */
static inline int teardown(void **state)
{
    struct journal_fixture *f = *state;
    journal_close(f->j);
    journal_run_release(&f->run);
    char *wal = xasprintf("%s-wal", f->path), *shm = xasprintf("%s-shm", f->path);
    unlink(f->path);
    unlink(wal);
    unlink(shm);
    rmdir(f->dir);
    free(wal);
    free(shm);
    free(f->path);
    free(f);
    return 0;
}

#endif
