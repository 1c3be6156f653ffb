/*
 * list.c - `crisisrun list [--json]`: the runs in the journal, newest
 * first, with state, status, severity, start and duration.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "crisisrun/cmd.h"
#include "crisisrun/journal.h"
#include "crisisrun/util.h"

static int list_exec(struct cmd_ctx *ctx, int argc, char **argv)
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
            return cmd_option_error(&cmd_list, c, argv);
        json = 1;
    }
    if (optind < argc)
        return cmd_usage_error(&cmd_list, "unexpected argument '%s'", argv[optind]);

    char *path = cmd_db_path(ctx);
    struct journal *j = journal_open(path, 0);
    free(path);
    if (!j)
        return EXIT_RUNTIME;
    int ret = journal_print_runs(j, json, wallclock_ms(), stdout);
    journal_close(j);
    if (fflush(stdout) != 0)
        ret = error("cannot write the list of runs");
    return ret < 0 ? EXIT_RUNTIME : EXIT_OK;
}

const struct cmd_entry cmd_list = {
    .name = "list",
    .usage = "list [--json]",
    .summary = "list the runs in the journal with state, severity, start and duration",
    .help = "options:\n"
            "  --json  print a JSON array instead of a table\n\n"
            "Runs are listed newest first; times are UTC.\n"
            "exit status: 0 on success, 1 when the journal cannot be read\n",
    .exec = list_exec,
};
