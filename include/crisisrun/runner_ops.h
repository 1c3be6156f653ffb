/*
 * runner_ops.h - operator commands on a live run, for the control API.
 *
 * Each returns an HTTP status (200 done; 400 bad argument; 404 unknown
 * step or channel; 409 not possible in the run's state) and sets *msg to
 * a new, lowercase sentence for the caller to show.  `who` is recorded in
 * the journal as the actor.  The effects (steps fired by a status change,
 * an acknowledgement or a trigger) happen on the run loop's next turn.
 */
#ifndef CRISISRUN_RUNNER_OPS_H
#define CRISISRUN_RUNNER_OPS_H

#include <jansson.h>
#include <stddef.h>

struct runner;

/*
 * The step name of a broadcast note's notifications; their occurrence is
 * the note's id.  '@' cannot start a playbook step id, so a note never
 * shares a notification id with a step called "note".
 */
#define RUNNER_NOTE_STEP "@note"

/* Acknowledges the run (step NULL or "") or one waiting step. */
int runner_op_ack(struct runner *r, const char *step, const char *who, char **msg);
/* Moves the status; a note becomes {{latest_note}} first. */
int runner_op_status(struct runner *r, const char *status, const char *note, const char *who,
                     char **msg);
/* Adds a note; broadcasts it to the named channels; action marks a follow-up. */
int runner_op_note(struct runner *r, const char *text, const char *const *notify,
                   size_t nnotify, int action, const char *who, char **msg);
/* Fires an `on: manual` step now. */
int runner_op_trigger(struct runner *r, const char *step, const char *who, char **msg);
/* Same as status resolved. */
int runner_op_resolve(struct runner *r, const char *note, const char *who, char **msg);
/* The run's state as a JSON object (new reference). */
json_t *runner_op_state(struct runner *r);

#endif
