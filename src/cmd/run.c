/*
 * run.c - `crisisrun run FILE`: launch a run in the foreground.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/cmd.h"
#include "crisisrun/runner.h"
#include "crisisrun/util.h"

static int run_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"var", required_argument, NULL, 'v'},
        {"drill", no_argument, NULL, 'd'},
        {"speed", required_argument, NULL, 's'},
        {"capture", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"public-url", required_argument, NULL, 'p'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    struct kv *vars = NULL;
    size_t nvars = 0, avars = 0;
    struct runner_options o = {.speed = 1.0};
    int c, speed_set = 0, ret;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            if (cmd_parse_var(&cmd_run, optarg, &vars, &nvars, &avars) < 0) {
                ret = EXIT_USAGE;
                goto out;
            }
            break;
        case 'd':
            o.drill = 1;
            break;
        case 's': {
            char *end;
            o.speed = strtod(optarg, &end);
            if (*end || !(o.speed >= 1 && o.speed <= 100000)) {
                ret = cmd_usage_error(&cmd_run, "invalid --speed '%s' (a number from 1 to 100000)",
                                      optarg);
                goto out;
            }
            speed_set = 1;
            break;
        }
        case 'c':
            o.capture_dir = optarg;
            break;
        case 'l':
            if ((ret = cmd_check_listen(&cmd_run, optarg)))
                goto out;
            o.listen = optarg;
            break;
        case 'p':
            if ((ret = cmd_check_public_url(&cmd_run, optarg)))
                goto out;
            o.public_url = optarg;
            break;
        case 'q':
            o.quiet = 1;
            break;
        default:
            ret = cmd_option_error(&cmd_run, c, argv);
            goto out;
        }
    }
    if (optind != argc - 1) {
        ret = cmd_usage_error(&cmd_run, optind >= argc ? "no playbook given" : "too many arguments");
        goto out;
    }
    if (speed_set && !o.drill) {
        ret = cmd_usage_error(&cmd_run, "--speed rehearses a playbook: use it with --drill");
        goto out;
    }
    o.playbook_path = argv[optind];
    o.vars = vars;
    o.nvars = nvars;
    ret = runner_main(ctx, &o);
out:
    cmd_free_vars(vars, nvars);
    return ret;
}

const struct cmd_entry cmd_run = {
    .name = "run",
    .usage = "run [--var K=V]... [--drill] [--speed N] [--capture DIR] [--listen ADDR] "
             "[--public-url URL] [--quiet] FILE",
    .summary =
        "launch a run: timed steps delivered to their channels, journaled, shown live",
    .help =
        "options:\n"
        "  --var K=V         override a playbook variable (repeatable)\n"
        "  --drill           a rehearsal: messages start with [DRILL], reports say so\n"
        "  --speed N         with --drill: N virtual seconds per real second\n"
        "  --capture DIR     send nothing; write each request to DIR instead\n"
        "  --listen ADDR     control API and feedback form address (default\n"
        "                    127.0.0.1:0)\n"
        "  --public-url URL  base of {{feedback_url}} (default: the listen address);\n"
        "                    http or https, with no user name or password\n"
        "  -q, --quiet       plain timestamped lines even on a terminal\n\n"
        "Prints the run id first.  Returns when the run is resolved, every notification\n"
        "has settled and the feedback window has closed.  SIGINT or SIGTERM stop it\n"
        "cleanly; an unresolved run is marked interrupted: continue with 'resume'.\n"
        "https endpoints are verified against $SSL_CERT_FILE when set, else the\n"
        "system's CA bundle.\n"
        "exit status: 0 all delivered; 1 notifications failed for good, or the journal\n"
        "failed, or interrupted, or the run could not start (marked failed);\n"
        "2 invalid playbook or usage\n",
    .exec = run_exec,
};
