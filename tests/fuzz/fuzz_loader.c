/*
 * fuzz_loader.c - libFuzzer harness for loader_load_mem().
 *
 * Any input must end in either a playbook or diagnostics, never a crash,
 * a leak or a hang; a playbook that comes back must hold its invariants
 * (every index in range, every message compiled).  Relative paths resolve
 * under a directory that does not exist, and stdin is /dev/null, so inputs
 * cannot reach outside files except by absolute paths to regular files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "crisisrun/diag.h"
#include "crisisrun/loader.h"
#include "fuzz_common.h"

int fuzz_loader_one(const uint8_t *data, size_t size);

#define check FUZZ_CHECK

static void fuzz_loader_check_playbook(const struct playbook *pb)
{
    check(pb->name && pb->title && pb->version == 1 && pb->nsteps > 0);
    for (size_t i = 0; i < pb->nchannels; i++) {
        const struct channel *c = &pb->channels[i];
        check(c->name && c->urls.n > 0 && c->timeout_ms > 0 && c->retry_attempts >= 1);
        check((unsigned)c->type < CHANNEL_TYPE_COUNT);
    }
    for (size_t i = 0; i < pb->nsteps; i++) {
        const struct step *s = &pb->steps[i];
        check(s->id != NULL);
        for (size_t j = 0; j < s->nnotify; j++)
            check(s->notify[j] < pb->nchannels);
        check(!s->nnotify || s->message);
        check(s->timing != TIMING_AFTER || (s->after < pb->nsteps && s->after != i));
        check(!s->has_ack || (s->ack_escalate < pb->nsteps &&
                              pb->steps[s->ack_escalate].timing == TIMING_ON &&
                              pb->steps[s->ack_escalate].on == ON_ESCALATION));
        check(s->timing != TIMING_EVERY || s->every_ms >= 1000);
    }
    for (size_t j = 0; j < pb->feedback.nnotify; j++)
        check(pb->feedback.notify[j] < pb->nchannels);
}

int fuzz_loader_one(const uint8_t *data, size_t size)
{
    struct diag d = DIAG_INIT;
    struct playbook *pb = loader_load_mem("fuzz.yaml", "/nonexistent-crisisrun-fuzz",
                                          (const char *)data, size, NULL, &d);
    check((pb == NULL) == (d.n > 0));
    diag_sort(&d);
    for (size_t i = 0; i < d.n; i++)
        free(diag_format(&d.v[i]));
    if (pb)
        fuzz_loader_check_playbook(pb);
    playbook_free(pb);
    diag_release(&d);
    return 0;
}

#undef check

#ifndef FUZZ_REPLAY
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!freopen("/dev/null", "r", stdin))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_loader_one(data, size);
}
#endif
