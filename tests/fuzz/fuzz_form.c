/*
 * fuzz_form.c - libFuzzer harness for form_parse() (form_parse.h) and the
 * feedback form's handling of a post (feedback_form_validate() and the
 * page shown back, feedback_page.h): everything POST /feedback/TOKEN does
 * with a body before the journal.
 *
 * The input is the body.  Invariants: a parse fails with a message and an
 * empty form, or gives fields within the limits whose lengths are right;
 * tighter limits never accept what looser ones refuse, nor give other
 * fields; re-encoding the fields parses back to the same fields.  A valid
 * post holds only what the questions allow (ratings in 1..scale, text as
 * UTF-8 without control characters, within the limits); an invalid one says
 * why.  The page shown back holds as many '<', '>', '"' and '\'' as the same
 * page would with none of them in what was posted: nothing posted reaches
 * the HTML unescaped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/feedback_form.h"
#include "crisisrun/form_parse.h"
#include "crisisrun/util.h"
#include "crisisrun/yamltree.h"
#include "crisisrun/utf8.h"
#include "feedback_page.h"
#include "fuzz_common.h"

int fuzz_form_one(const uint8_t *data, size_t size);

/* The limits POST /feedback/TOKEN parses with (feedback_form.c). */
static const struct form_limits fuzz_form_limits = {.max_name = 160,
                                                    .max_value = FEEDBACK_FORM_MAX_BODY};
static const struct form_limits fuzz_form_tiny = {
    .max_fields = 3, .max_name = 8, .max_value = 16};

/* Question texts with markup: the page must escape them as well. */
static struct feedback_question fuzz_form_questions[] = {
    {"informed", "How well were you kept <informed>?", 5},
    {"speed", "Speed & \"quality\"", 10},
    {"better", "What should we do differently?", 0},
};
#define FUZZ_FORM_NQ (sizeof(fuzz_form_questions) / sizeof(fuzz_form_questions[0]))

static int fuzz_form_utf8(const char *s, size_t len)
{
    return utf8_check(s, len) == len;
}

static void fuzz_form_check_parsed(const struct form *f, const struct form_limits *lim)
{
    size_t max_fields =
        lim && lim->max_fields ? lim->max_fields : FORM_DEFAULT_MAX_FIELDS;
    size_t max_name = lim && lim->max_name ? lim->max_name : FORM_DEFAULT_MAX_NAME;
    size_t max_value = lim && lim->max_value ? lim->max_value : FORM_DEFAULT_MAX_VALUE;
    FUZZ_CHECK(f->n <= max_fields);
    for (size_t i = 0; i < f->n; i++) {
        const struct form_field *ff = &f->fields[i];
        size_t nlen = strlen(ff->name);
        FUZZ_CHECK(nlen > 0 && nlen <= max_name);
        FUZZ_CHECK(strlen(ff->value) == ff->value_len && ff->value_len <= max_value);
        FUZZ_CHECK(form_get(f, ff->name) != NULL && form_count(f, ff->name) >= 1);
    }
}

static int fuzz_form_parse(const char *body, size_t len, const struct form_limits *lim,
                           struct form *f)
{
    char *why = (char *)1;
    int rc = form_parse(body, len, lim, f, &why);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        FUZZ_CHECK(why == NULL);
        fuzz_form_check_parsed(f, lim);
    } else {
        FUZZ_CHECK(why && why[0] >= 'a' && why[0] <= 'z');
        FUZZ_CHECK(f->n == 0 && f->fields == NULL);
        free(why);
    }
    return rc;
}

static int fuzz_form_same(const struct form *a, const struct form *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->fields[i].name, b->fields[i].name) ||
            a->fields[i].value_len != b->fields[i].value_len ||
            memcmp(a->fields[i].value, b->fields[i].value, a->fields[i].value_len))
            return 0;
    return 1;
}

static void fuzz_form_encode(struct strbuf *sb, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ')
            strbuf_addch(sb, '+');
        else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9'))
            strbuf_addch(sb, (char)c);
        else
            strbuf_addf(sb, "%%%02X", c);
    }
}

/* Encodes f as a browser would and parses it again: the same fields. */
static void fuzz_form_roundtrip(const struct form *f)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < f->n; i++) {
        if (i)
            strbuf_addch(&sb, '&');
        fuzz_form_encode(&sb, f->fields[i].name, strlen(f->fields[i].name));
        if (f->fields[i].value_len || i % 2) {
            strbuf_addch(&sb, '=');
            fuzz_form_encode(&sb, f->fields[i].value, f->fields[i].value_len);
        }
    }
    struct form again = FORM_INIT;
    FUZZ_CHECK(fuzz_form_parse(sb.buf ? sb.buf : "", sb.len, &fuzz_form_limits, &again) ==
               0);
    FUZZ_CHECK(fuzz_form_same(f, &again));
    form_release(&again);
    strbuf_release(&sb);
}

/* Strings made for a defanged copy of answers, freed together. */
struct fuzz_form_strings {
    char **v;
    size_t n, alloc;
};

/* s with every '<', '>', '"' and '\'' as 'x' (NULL stays NULL). */
static const char *fuzz_form_defang(struct fuzz_form_strings *keep, const char *s)
{
    if (!s)
        return NULL;
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        if (strchr("<>\"'", *p))
            *p = 'x';
    ALLOC_GROW(keep->v, keep->n + 1, keep->alloc);
    keep->v[keep->n++] = d;
    return d;
}

/*
 * d: answers a with every string defanged.  The page for d has the same
 * structure as the page for a (the same fields, errors and checked choice:
 * digits are kept), so both hold as many of those characters.
 */
static void fuzz_form_defang_answers(const struct feedback_answers *a,
                                     struct feedback_answers *d,
                                     struct fuzz_form_strings *keep)
{
    *d = *a;
    d->values = xcalloc(a->nq + 1, sizeof(*d->values));
    d->errors = xcalloc(a->nq + 1, sizeof(*d->errors));
    d->general = xcalloc(a->ngeneral + 1, sizeof(*d->general));
    for (size_t i = 0; i < a->nq; i++) {
        d->values[i] = fuzz_form_defang(keep, a->values[i]);
        d->errors[i] = fuzz_form_defang(keep, a->errors[i]);
    }
    for (size_t i = 0; i < a->ngeneral; i++)
        d->general[i] = (char *)fuzz_form_defang(keep, a->general[i]);
    d->name = fuzz_form_defang(keep, a->name);
    d->name_error = fuzz_form_defang(keep, a->name_error);
    d->anonymous_error = fuzz_form_defang(keep, a->anonymous_error);
}

/* The form page shown back for answers a (as feedback_form.c shows it). */
static char *fuzz_form_page(const struct feedback_answers *a)
{
    struct feedback_page_form pf = {
        .title = "Checkout <database> outage",
        .drill = 1,
        .action = "0123456789abcdef0123456789abcdef",
        .q = a->q,
        .nq = a->nq,
        .values = a->values,
        .errors = a->errors,
        .name = a->name,
        .name_error = a->name_error,
        .anonymous = a->anonymous,
        .anonymous_error = a->anonymous_error,
        .general = (const char *const *)a->general,
        .ngeneral = a->ngeneral,
    };
    struct strbuf sb = STRBUF_INIT;
    feedback_page_form(&sb, &pf);
    return strbuf_detach(&sb, NULL);
}

static void fuzz_form_same_markup(const char *a, const char *b)
{
    FUZZ_CHECK(fuzz_count(a, "<") == fuzz_count(b, "<"));
    FUZZ_CHECK(fuzz_count(a, ">") == fuzz_count(b, ">"));
    FUZZ_CHECK(fuzz_count(a, "\"") == fuzz_count(b, "\""));
    FUZZ_CHECK(fuzz_count(a, "'") == fuzz_count(b, "'"));
}

static void fuzz_form_check_answers(const struct feedback_answers *a, int rc)
{
    int problems = a->ngeneral || a->name_error || a->anonymous_error;
    int answered = 0;
    for (size_t i = 0; i < a->nq; i++) {
        problems |= a->errors[i] != NULL;
        const char *v = a->values[i];
        if (!v || a->errors[i])
            continue;
        answered = 1;
        if (a->q[i].scale) {
            char *end;
            long r = strtol(v, &end, 10);
            FUZZ_CHECK(!*end && v[0] != '0' && r >= 1 && r <= a->q[i].scale);
        } else {
            size_t len = strlen(v), chars = 0;
            FUZZ_CHECK(fuzz_form_utf8(v, len));
            FUZZ_CHECK(!strchr(v, '\r') && v[strspn(v, " \t\n")] != '\0');
            for (const char *p = v; *p; p++) {
                unsigned char c = (unsigned char)*p;
                FUZZ_CHECK(c >= 0x20 ? c != 0x7f : (c == '\n' || c == '\t'));
                chars += (c & 0xc0) != 0x80;
            }
            FUZZ_CHECK(chars <= FEEDBACK_TEXT_MAX);
        }
    }
    FUZZ_CHECK((rc == 0) == !problems);
    if (rc == 0) {
        FUZZ_CHECK(answered);
        FUZZ_CHECK(!a->name || fuzz_form_utf8(a->name, strlen(a->name)));
    }
    for (size_t i = 0; i < a->ngeneral; i++)
        FUZZ_CHECK(a->general[i][0] &&
                   fuzz_form_utf8(a->general[i], strlen(a->general[i])));
}

static void fuzz_form_check_post(const struct form *f)
{
    struct feedback_answers a, d;
    int rc = feedback_form_validate(fuzz_form_questions, FUZZ_FORM_NQ, f, &a);
    FUZZ_CHECK(rc == 0 || rc == -1);
    fuzz_form_check_answers(&a, rc);

    struct fuzz_form_strings keep = {0};
    fuzz_form_defang_answers(&a, &d, &keep);
    char *page = fuzz_form_page(&a), *dpage = fuzz_form_page(&d);
    fuzz_form_same_markup(page, dpage);
    free(page);
    free(dpage);
    for (size_t i = 0; i < keep.n; i++)
        free(keep.v[i]);
    free(keep.v);
    free(d.values);
    free(d.errors);
    free(d.general);
    feedback_answers_release(&a);
}

/* A body that does not parse: the form again with the parser's message. */
static void fuzz_form_check_problem(const char *body, size_t len)
{
    struct form f = FORM_INIT;
    char *why = NULL;
    FUZZ_CHECK(form_parse(body, len, &fuzz_form_limits, &f, &why) < 0);
    char *pages[2];
    const char *problems[2] = {why, "x"}; /* "x": no markup at all */
    for (int i = 0; i < 2; i++) {
        char *msg = xasprintf("The answers could not be read (%s).", problems[i]);
        const char *values[FUZZ_FORM_NQ] = {0}, *errors[FUZZ_FORM_NQ] = {0};
        struct feedback_answers a = {.q = fuzz_form_questions,
                                     .nq = FUZZ_FORM_NQ,
                                     .values = values,
                                     .errors = errors,
                                     .general = &msg,
                                     .ngeneral = 1};
        pages[i] = fuzz_form_page(&a);
        free(msg);
    }
    fuzz_form_same_markup(pages[0], pages[1]);
    free(pages[0]);
    free(pages[1]);
    free(why);
}

int fuzz_form_one(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    struct form f = FORM_INIT, tiny = FORM_INIT, dflt = FORM_INIT;
    int rc = fuzz_form_parse(body, size, &fuzz_form_limits, &f);
    /* Tighter limits accept less, never something else. */
    if (fuzz_form_parse(body, size, &fuzz_form_tiny, &tiny) == 0) {
        FUZZ_CHECK(rc == 0 && fuzz_form_same(&tiny, &f));
    }
    if (fuzz_form_parse(body, size, NULL, &dflt) == 0) {
        FUZZ_CHECK(rc == 0 && fuzz_form_same(&dflt, &f));
    }
    if (rc == 0) {
        fuzz_form_roundtrip(&f);
        fuzz_form_check_post(&f);
    } else {
        fuzz_form_check_problem(body, size);
    }
    form_release(&f);
    form_release(&tiny);
    form_release(&dflt);
    return 0;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_form_one(data, size);
}
#endif
