/*
 * inbox_answer.h - internal to the inbox (src/inbox*.c): the answer a
 * request is going to get, and how each chat service answers a message.
 */
#ifndef CRISISRUN_INBOX_ANSWER_H
#define CRISISRUN_INBOX_ANSWER_H

#include <jansson.h>
#include <stddef.h>

#include "crisisrun/httpd.h"

enum answer_mode { ANSWER_NOW, ANSWER_SLOW, ANSWER_HANG, ANSWER_DRIP, ANSWER_BIG };

struct answer {
    enum answer_mode mode;
    unsigned status;
    const char *ctype; /* NULL: no body */
    char *body;
    size_t len;
    const char *hname; /* one extra header, or NULL */
    char *hvalue;
    long delay_ms;
};

/* Frees the body and header value and zeroes a. */
void answer_release(struct answer *a);
/* Sets status, content type and a copy of body (NULL: no body). */
void answer_set(struct answer *a, unsigned status, const char *ctype, const char *body);
/* Sets status and the compact JSON of j as body; steals the reference to j. */
void answer_json(struct answer *a, unsigned status, json_t *j);

/*
 * The answer the real service gives to message `req` posted to `channel`
 * ("slack/oncall") of `provider` ("slack"): success, or the refusal of a
 * malformed message.  `seq` numbers Google Chat message names.
 */
void inbox_provider_answer(const struct httpd_request *req, const char *provider,
                           const char *channel, long seq, struct answer *a);

#endif
