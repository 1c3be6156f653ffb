/*
 * feedback_questions.c - a run's feedback questions, from the journal
 * (see feedback_form.h), and its feedback window, judged on the run's
 * clock (journal_run_clock).
 *
 * The questions come from the run's metadata (runs.meta_json, runmeta.h),
 * which the runner records when it creates the run.  A run recorded before
 * the metadata existed has none; for it, the questions are read from the
 * playbook text the journal stored, as a YAML tree in which only
 * feedback.questions is looked at.  Loading the whole playbook again
 * (loader_load_mem) would need what the text refers to: `serve` runs in
 * another environment, where the ${env:...} secrets, urls_file and
 * ${file:...} of the playbook are usually absent, and it needs none of
 * them to show a form.  The text was fully checked by the loader when the
 * run started, so anything unusual here is the journal's damage and is
 * reported, not worked around.
 */
#include "crisisrun/feedback_form.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/diag.h"
#include "crisisrun/journal.h"
#include "crisisrun/runmeta.h"
#include "crisisrun/util.h"
#include "crisisrun/yamltree.h"

enum feedback_window feedback_window_at(const struct journal_run *run, int64_t wall_ms)
{
    if (!run->resolved_ms || !run->feedback_closes_ms)
        return FEEDBACK_WINDOW_NOT_OPEN;
    if (journal_run_clock(run, wall_ms) >= run->feedback_closes_ms)
        return FEEDBACK_WINDOW_CLOSED;
    return FEEDBACK_WINDOW_OPEN;
}

const char *feedback_window_name(enum feedback_window w)
{
    switch (w) {
    case FEEDBACK_WINDOW_NOT_OPEN:
        return "not_open";
    case FEEDBACK_WINDOW_OPEN:
        return "open";
    case FEEDBACK_WINDOW_CLOSED:
        return "closed";
    }
    return "?";
}

static const struct ynode *map_get(const struct ynode *m, const char *key)
{
    if (!m || m->kind != YNODE_MAPPING)
        return NULL;
    for (size_t i = 0; i + 1 < m->nv; i += 2)
        if (m->v[i]->kind == YNODE_SCALAR && !strcmp(m->v[i]->str, key))
            return m->v[i + 1];
    return NULL;
}

static const char *scalar(const struct ynode *n)
{
    return n && n->kind == YNODE_SCALAR ? n->str : NULL;
}

/* Reads one question; 0, or -1 with *why set (a static string). */
static int read_question(const struct ynode *m, struct feedback_question *q,
                         const char **why)
{
    const char *id = scalar(map_get(m, "id")), *text = scalar(map_get(m, "text"));
    const char *scale = scalar(map_get(m, "scale")), *type = scalar(map_get(m, "type"));
    if (!id || !text) {
        *why = "a question without an id or a text";
        return -1;
    }
    if (type && !strcmp(type, "text")) {
        q->scale = 0;
    } else {
        char *end;
        errno = 0;
        long s = scale ? strtol(scale, &end, 10) : 0;
        if (!scale || errno || *end || s < 2 || s > 10) {
            *why = "a rating question without a scale from 2 to 10";
            return -1;
        }
        q->scale = (int)s;
    }
    q->id = xstrdup(id);
    q->text = xstrdup(text);
    return 0;
}

/*
 * The id becomes a form field name and an HTML id: the loader allowed only
 * these characters, and a damaged journal must not bring in others.
 */
static int id_is_safe(const char *id)
{
    static const char ok[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    size_t len = id ? strlen(id) : 0;
    return len && len <= 128 && strspn(id, ok) == len;
}

static int questions_from_meta(const struct journal_run *run,
                               struct feedback_question **out, size_t *n)
{
    struct runmeta m;
    if (runmeta_parse(run->meta_json, &m) < 0)
        return -1;
    *out = xcalloc(m.nquestions ? m.nquestions : 1, sizeof(**out));
    for (size_t i = 0; i < m.nquestions; i++) {
        (*out)[i].id = xstrdup(m.questions[i].id);
        (*out)[i].text = xstrdup(m.questions[i].text);
        (*out)[i].scale = m.questions[i].scale;
    }
    *n = m.nquestions;
    runmeta_release(&m);
    return 0;
}

/* For runs recorded without metadata: feedback.questions of the playbook text. */
static int questions_from_text(const struct journal_run *run,
                               struct feedback_question **out, size_t *n)
{
    if (!run->playbook_text)
        return error("run %s: the journal holds no playbook text", run->id);
    struct ytree t = YTREE_INIT;
    struct diag d = DIAG_INIT;
    const char *why = NULL;
    int ret = 0;
    if (ytree_parse(&t, run->playbook_path ? run->playbook_path : "playbook",
                    run->playbook_text, strlen(run->playbook_text), &d) < 0) {
        why = d.n ? d.v[0].msg : "it is not YAML";
        goto out;
    }
    const struct ynode *qs = map_get(map_get(t.root, "feedback"), "questions");
    if (!qs)
        goto out; /* no feedback section: no questions */
    if (qs->kind != YNODE_SEQUENCE) {
        why = "'questions' is not a list";
        goto out;
    }
    *out = xcalloc(qs->nv ? qs->nv : 1, sizeof(**out));
    for (size_t i = 0; i < qs->nv; i++) {
        if (read_question(qs->v[i], &(*out)[i], &why) < 0)
            goto out;
        (*n)++;
    }
out:
    if (why) {
        ret = error(
            "run %s: cannot read the feedback questions of its journaled playbook: %s",
            run->id, why);
        feedback_questions_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    diag_release(&d);
    ytree_release(&t);
    return ret;
}

int feedback_questions_of_run(const struct journal_run *run,
                              struct feedback_question **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int rc = run->meta_json ? questions_from_meta(run, out, n)
                            : questions_from_text(run, out, n);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < *n; i++) {
        if (!id_is_safe((*out)[i].id) || !(*out)[i].text) {
            error("run %s: feedback question %zu has an invalid id or no text", run->id,
                  i + 1);
            feedback_questions_free(*out, *n);
            *out = NULL;
            *n = 0;
            return -1;
        }
    }
    return 0;
}

void feedback_questions_free(struct feedback_question *q, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(q[i].id);
        free(q[i].text);
    }
    free(q);
}
