/* Placeholder until the template engine lands. */
#include "crisisrun/template.h"
#include <stdlib.h>
void template_free(struct template *t)
{
    free(t);
}
