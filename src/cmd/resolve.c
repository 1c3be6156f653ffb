/*
 * resolve.c - `crisisrun resolve RUN [--note TEXT]`: same as
 * `status RUN resolved`.
 */
#include <getopt.h>

#include "crisisrun/cmd.h"
#include "crisisrun/control_client.h"

static int resolve_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"note", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    const char *note = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c != 'n')
            return cmd_option_error(&cmd_resolve, c, argv);
        note = optarg;
    }
    if (argc - optind != 1)
        return cmd_usage_error(&cmd_resolve, "expected RUN");
    if (cmd_check_run(&cmd_resolve, argv[optind]))
        return EXIT_USAGE;
    json_t *body = json_object();
    if (note)
        json_object_set_new(body, "note", json_string(note));
    return control_call(ctx, argv[optind], "resolve", body);
}

const struct cmd_entry cmd_resolve = {
    .name = "resolve",
    .usage = "resolve RUN [--note TEXT]",
    .summary = "resolve the run: stop recurring updates, send the all-clear and feedback "
               "request",
    .help =
        "options:\n"
        "  --note TEXT  a final note, also {{latest_note}} in the resolution messages\n\n"
        "exit status: 0 done; 1 the run's process is gone, stopped or stuck, or the\n"
        "run is over\n",
    .exec = resolve_exec,
};
