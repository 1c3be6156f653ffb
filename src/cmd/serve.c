/*
 * serve.c - `crisisrun serve`: feedback forms and the read-only API for
 * every run in the journal, in the foreground until SIGINT or SIGTERM.
 * The stop signals are handled as for `inbox` (cmd_stop_signals, cmd.h).
 */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/cmd.h"
#include "crisisrun/journal.h"
#include "crisisrun/serve.h"
#include "crisisrun/util.h"

static int loop(struct serve *s)
{
    cmd_stop_signals();
    while (!cmd_stopping()) {
        struct pollfd fds[SERVE_MAX_FDS];
        size_t n = serve_fds(s, fds, ARRAY_SIZE(fds));
        if (cmd_wait(fds, n, serve_timeout(s)) < 0)
            return -1;
        if (!cmd_stopping())
            serve_run(s);
    }
    return 0;
}

static int serve_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"public-url", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    struct serve_options so = {0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (cmd_check_listen(&cmd_serve, optarg))
                return EXIT_USAGE;
            so.listen = optarg;
            break;
        case 'p':
            if (cmd_check_public_url(&cmd_serve, optarg))
                return EXIT_USAGE;
            so.public_url = optarg;
            break;
        default:
            return cmd_option_error(&cmd_serve, c, argv);
        }
    }
    if (optind < argc)
        return cmd_usage_error(&cmd_serve, "unexpected argument '%s'", argv[optind]);

    char *db = cmd_db_path(ctx);
    /* serve may start before the first run: it creates an empty journal. */
    struct journal *j = journal_open(db, JOURNAL_CREATE | JOURNAL_WRITE);
    free(db);
    if (!j)
        return EXIT_RUNTIME;
    int ret = EXIT_OK;
    struct serve *s = serve_start(j, &so);
    if (!s) {
        journal_close(j);
        return EXIT_RUNTIME;
    }
    printf("crisisrun serve listening on %s", serve_url(s));
    if (so.public_url)
        printf(" (public URL %s)", serve_public_url(s));
    printf("\nAPI token in %s\n", serve_token_path(s));
    fflush(stdout);
    if (loop(s) < 0)
        ret = EXIT_RUNTIME;
    serve_free(s);
    journal_close(j);
    return ret;
}

const struct cmd_entry cmd_serve = {
    .name = "serve",
    .usage = "serve [--listen ADDR] [--public-url URL]",
    .summary =
        "serve the feedback forms and a read-only API for every run in the journal",
    .help =
        "options:\n"
        "  --listen ADDR     where to listen (default " SERVE_DEFAULT_LISTEN
        "; HOST:PORT,\n"
        "                    [IPV6]:PORT or :PORT for the loopback; port 0 picks one)\n"
        "  --public-url URL  the address people reach this server at, when a proxy\n"
        "                    sits in front (shown at start); http or https, with no\n"
        "                    user name or password\n\n"
        "GET /feedback/TOKEN: the form of a run whose feedback window is open (each\n"
        "drill's window on its own virtual clock).  GET /api/runs, /api/runs/ID: the\n"
        "runs as JSON, with 'Authorization: Bearer TOKEN', the token being in the file\n"
        "serve.token next to the journal (mode 0600, made at start, removed at exit).\n"
        "GET /healthz: ok.  Stops cleanly on SIGINT or SIGTERM.  See docs/feedback.md.\n"
        "exit status: 0 stopped by SIGINT or SIGTERM; 1 cannot listen or open the\n"
        "journal; 2 usage\n",
    .exec = serve_exec,
};
