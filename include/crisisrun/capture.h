/*
 * capture.h - `--capture DIR`: requests written to files instead of sent.
 *
 * Each request becomes DIR/NNNNNN-ID.http (mode 0600), NNNNNN counting up
 * from the highest number already in DIR, so a resumed run continues the
 * numbering and never overwrites; ID is the notification id with anything
 * but A-Za-z0-9._- replaced by '_'.  The file holds the request line with
 * the full URL, the headers, a blank line and the body, lines ending in
 * LF.  DIR is the user's own, so URLs and header values (secrets) are
 * written in full; nothing else ever prints them.
 */
#ifndef CRISISRUN_CAPTURE_H
#define CRISISRUN_CAPTURE_H

#include <stddef.h>

struct capture;

/* Opens DIR, creating it (0700) when missing.  Returns NULL after
 * reporting an error. */
struct capture *capture_open(const char *dir);

/* NULL is allowed. */
void capture_close(struct capture *c);

/*
 * Writes one POST request.  headers are "Name: value" lines, User-Agent
 * among them; a line with a blank value (a directive to the HTTP client
 * to leave a header out) is skipped.  Returns 0, or -1 with the reason in
 * err (not reported: the caller reports it as the attempt's error).
 */
int capture_write(struct capture *c, const char *id, const char *url,
                  const char *const *headers, size_t nheaders, const char *body, size_t len,
                  char *err, size_t errlen);

#endif
