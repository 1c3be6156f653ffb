/*
 * status.c - `crisisrun status RUN STATUS [--note TEXT]`: move the public
 * status of a live run.
 */
#include <getopt.h>

#include "crisisrun/cmd.h"
#include "crisisrun/control_client.h"
#include "crisisrun/model.h"

static int status_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"note", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    const char *note = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c != 'n')
            return cmd_option_error(&cmd_status, c, argv);
        note = optarg;
    }
    if (argc - optind != 2)
        return cmd_usage_error(&cmd_status, "expected RUN and STATUS");
    if (cmd_check_run(&cmd_status, argv[optind]))
        return EXIT_USAGE;
    /* A misspelt status is a usage error whatever state the run is in:
     * checked here, it does not turn into "the process has ended" (exit 1)
     * once the run's process is gone.  The run checks it again. */
    if (run_status_from_name(argv[optind + 1]) < 0)
        return cmd_usage_error(&cmd_status,
                               "unknown status '%s' (use " RUN_STATUS_LIST ")",
                               argv[optind + 1]);
    json_t *body = json_pack("{s:s}", "status", argv[optind + 1]);
    if (note)
        json_object_set_new(body, "note", json_string(note));
    return control_call(ctx, argv[optind], "status", body);
}

const struct cmd_entry cmd_status = {
    .name = "status",
    .usage = "status RUN STATUS [--note TEXT]",
    .summary = "move the public status: investigating, identified, monitoring, resolved",
    .help =
        "options:\n"
        "  --note TEXT  a timeline note, also {{latest_note}} in the next messages\n\n"
        "The next messages carry the new status; 'on: status:NAME' steps fire;\n"
        "recurring steps with 'until: NAME' stop.  'resolved' resolves the run.\n"
        "exit status: 0 done; 1 the run's process is gone, stopped or stuck, or the\n"
        "run is over; 2 unknown status\n",
    .exec = status_exec,
};
