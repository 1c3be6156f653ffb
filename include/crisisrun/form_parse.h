/*
 * form_parse.h - an application/x-www-form-urlencoded body, parsed with
 * limits (the WHATWG URL standard's form decoding, made strict).
 *
 * The body of a browser form post is "name=value&name=value": '+' stands
 * for a space and %XX for one byte.  The parser is strict where a lenient
 * one would hide a problem from the person filling in the form: a '%' not
 * followed by two hex digits, a decoded NUL byte, an empty name, more than
 * `max_fields` fields or a name or value over its limit make the whole body
 * invalid.  What is kept as browsers send it: a pair without '=' is a name
 * with an empty value, empty pairs ("a=1&&b=2", a trailing '&') are
 * skipped, and a repeated name gives one field per occurrence, in order
 * (the caller decides whether a repeat is an error).
 *
 * Values are bytes: checking that they are UTF-8 text is the caller's job,
 * so the caller can say which field is wrong.
 */
#ifndef CRISISRUN_FORM_PARSE_H
#define CRISISRUN_FORM_PARSE_H

#include <stddef.h>

/* Defaults used when a struct form_limits member is 0. */
#define FORM_DEFAULT_MAX_FIELDS 64
#define FORM_DEFAULT_MAX_NAME 64           /* bytes, decoded */
#define FORM_DEFAULT_MAX_VALUE (32 * 1024) /* bytes, decoded */

struct form_limits {
    size_t max_fields;
    size_t max_name;
    size_t max_value;
};

struct form_field {
    char *name;  /* decoded, NUL-terminated */
    char *value; /* decoded, NUL-terminated ("" for "name" or "name=") */
    size_t value_len;
};

/* Owned by the struct: form_release() frees every field. */
struct form {
    struct form_field *fields;
    size_t n, alloc;
};
/* clang-format off */
#define FORM_INIT {NULL, 0, 0}
/* clang-format on */

/*
 * Parses body[0..len) into *out (which MUST be empty: FORM_INIT or
 * released).  lim may be NULL for the defaults.  Returns 0; or -1 with a
 * lowercase message in *why (a new string the caller frees, naming the
 * offending field where there is one) and *out left empty.  Nothing is
 * printed: a malformed post is the client's problem, reported to it.
 */
int form_parse(const char *body, size_t len, const struct form_limits *lim,
               struct form *out, char **why);

/* The first field named `name`, or NULL. */
const struct form_field *form_get(const struct form *f, const char *name);
/* How many fields are named `name`. */
size_t form_count(const struct form *f, const char *name);

void form_release(struct form *f);

#endif
