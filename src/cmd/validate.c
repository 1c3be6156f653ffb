/*
 * validate.c - `crisisrun validate FILE...`: load and check playbooks,
 * printing every problem as FILE:LINE:COL: error: MESSAGE.
 */
#include <getopt.h>
#include <stdio.h>

#include "crisisrun/cmd.h"
#include "crisisrun/diag.h"
#include "crisisrun/loader.h"

static int validate_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"var", required_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    struct kv *vars = NULL;
    size_t nvars = 0, avars = 0;
    int quiet = 0, c, ret = EXIT_OK;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            if (cmd_parse_var(&cmd_validate, optarg, &vars, &nvars, &avars) < 0) {
                cmd_free_vars(vars, nvars);
                return EXIT_USAGE;
            }
            break;
        case 'q':
            quiet = 1;
            break;
        default:
            cmd_free_vars(vars, nvars);
            return cmd_option_error(&cmd_validate, c, argv);
        }
    }
    if (optind >= argc) {
        cmd_free_vars(vars, nvars);
        return cmd_usage_error(&cmd_validate, "no playbook given");
    }
    struct loader_options lo = {vars, nvars};
    for (int i = optind; i < argc; i++) {
        struct diag d = DIAG_INIT;
        struct playbook *pb = loader_load(argv[i], &lo, &d);
        diag_sort(&d);
        diag_print(&d, stderr);
        if (!pb) {
            ret = EXIT_USAGE;
        } else if (!quiet) {
            printf("%s: ok (%zu step%s, %zu channel%s)\n", argv[i], pb->nsteps,
                   pb->nsteps == 1 ? "" : "s", pb->nchannels,
                   pb->nchannels == 1 ? "" : "s");
        }
        playbook_free(pb);
        diag_release(&d);
    }
    cmd_free_vars(vars, nvars);
    (void)ctx;
    return ret;
}

const struct cmd_entry cmd_validate = {
    .name = "validate",
    .usage = "validate [--var K=V]... [--quiet] FILE...",
    .summary = "check playbooks and print every problem with its line and column",
    .help = "options:\n"
            "  --var K=V    override a playbook variable (repeatable)\n"
            "  -q, --quiet  print nothing for valid playbooks\n\n"
            "Each problem is printed as FILE:LINE:COL: error: MESSAGE.\n"
            "exit status: 0 when every playbook is valid, 2 otherwise\n",
    .exec = validate_exec,
};
