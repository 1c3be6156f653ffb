/* Placeholder until the loader lands. */
#include "crisisrun/loader.h"
struct playbook *loader_load(const char *path, const struct loader_options *opt, struct diag *d)
{
    (void)opt;
    diag_add(d, path, 0, 0, "the loader is not built yet");
    return NULL;
}
