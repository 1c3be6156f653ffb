/*
 * resume.c - `crisisrun resume RUN`: continue a run whose process died.
 */
#include <getopt.h>

#include "crisisrun/cmd.h"
#include "crisisrun/runner.h"

static int resume_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"public-url", required_argument, NULL, 'p'},
        {"capture", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    struct runner_options o = {.speed = 1.0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (cmd_check_listen(&cmd_resume, optarg))
                return EXIT_USAGE;
            o.listen = optarg;
            break;
        case 'p':
            if (cmd_check_public_url(&cmd_resume, optarg))
                return EXIT_USAGE;
            o.public_url = optarg;
            break;
        case 'c':
            o.capture_dir = optarg;
            break;
        case 'q':
            o.quiet = 1;
            break;
        default:
            return cmd_option_error(&cmd_resume, c, argv);
        }
    }
    if (optind != argc - 1)
        return cmd_usage_error(&cmd_resume, optind >= argc ? "no run given" : "too many arguments");
    if (cmd_check_run(&cmd_resume, argv[optind]))
        return EXIT_USAGE;
    o.resume_run = argv[optind];
    return runner_main(ctx, &o);
}

const struct cmd_entry cmd_resume = {
    .name = "resume",
    .usage = "resume [--listen ADDR] [--public-url URL] [--capture DIR] [--quiet] RUN",
    .summary = "continue a run whose process died, from the journal, without re-sending",
    .help =
        "options:\n"
        "  --listen ADDR     control API and feedback form address (default\n"
        "                    127.0.0.1:0; the run's process gets a new one)\n"
        "  --public-url URL  base of {{feedback_url}}, as for run\n"
        "  --capture DIR     send nothing; write each request to DIR instead (a run\n"
        "                    started with --capture keeps capturing without it)\n"
        "  -q, --quiet       plain timestamped lines even on a terminal\n\n"
        "Rebuilds the run from the journal: nothing delivered is sent again; requests\n"
        "that were in flight are re-sent with their original webhook-id; one-shot steps\n"
        "that came due meanwhile are sent once, marked late; a recurring step that\n"
        "missed several occurrences sends one update.  Acknowledgement deadlines keep\n"
        "their times.  A run still driven by a live process is refused.\n"
        "exit status: as for run; 1 also when the run is over or driven by another\n"
        "process\n",
    .exec = resume_exec,
};
