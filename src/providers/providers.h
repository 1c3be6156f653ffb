/*
 * providers.h - what the provider files share; private to src/.
 *
 * Each provider file defines one `const struct provider provider_NAME`,
 * declared here and listed in the table in src/provider.c.  The helpers
 * below keep the six payloads consistent: the same status colours, the
 * same headline, and one way of turning text into a JSON string that is
 * valid UTF-8 and within a service's limit.
 */
#ifndef CRISISRUN_PROVIDERS_H
#define CRISISRUN_PROVIDERS_H

#include <stddef.h>

#include <jansson.h>

#include "crisisrun/provider.h"
#include "crisisrun/utf8.h"

extern const struct provider provider_slack;
extern const struct provider provider_teams;
extern const struct provider provider_discord;
extern const struct provider provider_mattermost;
extern const struct provider provider_googlechat;
extern const struct provider provider_webhook;

/* The status colour: "#E01E5A" (investigating), "#ECB22E" (identified),
 * "#36C5F0" (monitoring), "#2EB67D" (resolved). */
const char *provider_status_hex(enum run_status s);
/* The same colour as an integer 0xRRGGBB (Discord embeds). */
long provider_status_rgb(enum run_status s);

/*
 * A new JSON string holding s made valid UTF-8 and, when max_chars is not
 * 0, truncated visibly to max_chars characters (entity-safe when
 * `entities`).  Never NULL.
 */
json_t *provider_json_text(const char *s, size_t max_chars, int entities);

/*
 * The message's headline: the playbook title (its name when the title is
 * empty), prefixed with "[DRILL] " in drills, control characters replaced
 * by spaces so it stays one line, escaped for `esc`, and truncated to
 * max_chars, never inside an entity (template_escape_entities()).  Returns
 * a new valid UTF-8 string.
 */
char *provider_headline(const struct provider_message *m, enum template_escape esc,
                        size_t max_chars);

/*
 * A text_max for a field of max_chars characters that starts with prefix
 * (a headline, a status line): what is left for the message, counted as
 * sent (what is not UTF-8 becomes U+FFFD), and at least 1.
 */
size_t provider_text_room(const char *prefix, size_t max_chars);

/* Serialises root compactly and releases it; returns a new string. */
char *provider_json_dump(json_t *root);

#endif
