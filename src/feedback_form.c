/*
 * feedback_form.c - the feedback form (see feedback_form.h).
 */
#include "crisisrun/feedback_form.h"

#include <string.h>

int feedback_form_handle(struct journal *j, struct httpd_request *req, int64_t now_ms)
{
    (void)j;
    (void)now_ms;
    if (strncmp(req->path, "/feedback/", 10) != 0)
        return 0;
    static const char body[] = "the feedback form is not available yet\n";
    httpd_respond(req, 404, NULL, body, sizeof(body) - 1);
    return 1;
}
