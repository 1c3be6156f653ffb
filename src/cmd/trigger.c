/*
 * trigger.c - `crisisrun trigger RUN STEP`: run an `on: manual` step now.
 */
#include "crisisrun/cmd.h"
#include "crisisrun/control_client.h"

static int trigger_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-')
            return cmd_unknown_option(&cmd_trigger, argv[i]);
    if (argc != 3)
        return cmd_usage_error(&cmd_trigger, "expected RUN and STEP");
    if (cmd_check_run(&cmd_trigger, argv[1]))
        return EXIT_USAGE;
    /* Refused here, as ack refuses it: a live run would say "'step' is
     * required", and a run that is over would say only that it is over. */
    if (!*argv[2])
        return cmd_usage_error(&cmd_trigger, "no step given (STEP is empty)");
    return control_call(ctx, argv[1], "trigger", json_pack("{s:s}", "step", argv[2]));
}

const struct cmd_entry cmd_trigger = {
    .name = "trigger",
    .usage = "trigger RUN STEP",
    .summary = "run an 'on: manual' step now",
    .help = "exit status: 0 done; 1 the run's process is gone, stopped or stuck, or the\n"
            "run is over; 2 unknown or empty step, or a step that is not 'on: manual'\n",
    .exec = trigger_exec,
};
