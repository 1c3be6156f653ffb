/*
 * show.c - `crisisrun show RUN [--json]`: one run's timeline (events,
 * deliveries, acknowledgements, notes).  RUN may be a unique prefix of the
 * run id.  Endpoints appear only redacted (scheme and host).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "crisisrun/cmd.h"
#include "crisisrun/journal.h"
#include "crisisrun/util.h"

static int show_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c != 'j')
            return cmd_option_error(&cmd_show, c, argv);
        json = 1;
    }
    if (optind >= argc)
        return cmd_usage_error(&cmd_show, "no run given");
    if (optind + 1 < argc)
        return cmd_usage_error(&cmd_show, "unexpected argument '%s'", argv[optind + 1]);
    if (cmd_check_run(&cmd_show, argv[optind]))
        return EXIT_USAGE;

    char *path = cmd_db_path(ctx);
    struct journal *j = journal_open(path, 0);
    free(path);
    if (!j)
        return EXIT_RUNTIME;
    int ret = journal_print_run(j, argv[optind], json, stdout);
    journal_close(j);
    if (fflush(stdout) != 0)
        ret = error("cannot write the run");
    return ret < 0 ? EXIT_RUNTIME : EXIT_OK;
}

const struct cmd_entry cmd_show = {
    .name = "show",
    .usage = "show RUN [--json]",
    .summary = "show a run's timeline: events, deliveries, acknowledgements, notes",
    .help = "options:\n"
            "  --json  print one JSON object instead of text\n\n"
            "RUN is the run id printed by `run`, or a unique prefix of it.  Offsets\n"
            "are from the start of the run; endpoints are shown as scheme and host.\n"
            "exit status: 0 on success, 1 when the run or the journal cannot be read\n",
    .exec = show_exec,
};
