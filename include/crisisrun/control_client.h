/*
 * control_client.h - how `ack`, `status`, `note`, `trigger` and `resolve`
 * reach the process driving a run.
 *
 * The run's process records its control address in the journal and its
 * bearer token in a 0600 file next to the journal (control.h), so a
 * command on the same machine needs no flags: it finds the run (by id or
 * unique prefix), reads the address and the token, and posts the action.
 */
#ifndef CRISISRUN_CONTROL_CLIENT_H
#define CRISISRUN_CONTROL_CLIENT_H

#include <jansson.h>

#include "crisisrun/cmd.h"

/*
 * Posts body (a JSON object; this function takes the reference) to
 * /api/runs/ID/ACTION of the process driving `run`, adding "actor": the OS
 * user.  Prints the answer's message on stdout, or the error on stderr.
 * Returns the exit code: 0 done; 1 the run's process is gone (the message
 * suggests `resume`), the run is over, or the action is not possible now;
 * 2 a bad argument (unknown step, channel or status).
 */
int control_call(const struct cmd_ctx *ctx, const char *run, const char *action, json_t *body);

#endif
