/*
 * ack.c - `crisisrun ack RUN [STEP]`: acknowledge the run, or one step
 * waiting for acknowledgement (which cancels its pending escalation).
 */
#include "crisisrun/cmd.h"
#include "crisisrun/control_client.h"

static int ack_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cmd_usage_error(&cmd_ack, "no run given");
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-')
            return cmd_unknown_option(&cmd_ack, argv[i]);
    if (argc > 3)
        return cmd_usage_error(&cmd_ack, "unexpected argument '%s'", argv[3]);
    if (cmd_check_run(&cmd_ack, argv[1]))
        return EXIT_USAGE;
    /* An empty STEP ("$STEP" unset) would acknowledge the whole run. */
    if (argc == 3 && !*argv[2])
        return cmd_usage_error(
            &cmd_ack, "no step given (STEP is empty; leave it out to acknowledge "
                      "the run)");
    json_t *body = argc == 3 ? json_pack("{s:s}", "step", argv[2]) : json_object();
    return control_call(ctx, argv[1], "ack", body);
}

const struct cmd_entry cmd_ack = {
    .name = "ack",
    .usage = "ack RUN [STEP]",
    .summary = "acknowledge the run, or a step waiting under ack: (stops its escalation)",
    .help =
        "The first acknowledgement of the run sets its time to acknowledge and fires\n"
        "its 'on: acknowledged' steps; it also cancels every pending escalation.\n"
        "exit status: 0 done; 1 the run's process is gone, stopped or stuck, the run\n"
        "is over, or the step is not waiting for acknowledgement; 2 unknown or empty\n"
        "step\n",
    .exec = ack_exec,
};
