/*
 * inbox.c - `crisisrun inbox`: run the local webhook receiver in the
 * foreground until SIGINT or SIGTERM.
 * SIGINT and SIGTERM are caught by cmd_stop_signals() (cmd.h), which
 * never loses one between the check and the wait.
 */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/cmd.h"
#include "crisisrun/httpd.h"
#include "crisisrun/inbox.h"
#include "crisisrun/signature.h"
#include "crisisrun/util.h"

static int serve(struct inbox *in)
{
    cmd_stop_signals();
    while (!cmd_stopping()) {
        struct pollfd fds[HTTPD_MAX_FDS];
        size_t n = inbox_fds(in, fds, ARRAY_SIZE(fds));
        if (cmd_wait(fds, n, inbox_timeout(in)) < 0)
            return -1;
        if (!cmd_stopping())
            inbox_run(in);
    }
    return 0;
}

static int inbox_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"dir", required_argument, NULL, 'd'},
        {"secret", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    struct inbox_options io = {0};
    struct inbox_secret *secrets = NULL;
    size_t nsecrets = 0, asecrets = 0;
    int c, ret = EXIT_OK;
    (void)ctx;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if ((ret = cmd_check_listen(&cmd_inbox, optarg)))
                goto out;
            io.listen = optarg;
            break;
        case 'd':
            io.dir = optarg;
            break;
        case 's': {
            /* The secret's base64 may end in '=': the prefix ends where
             * "=whsec_" begins. */
            char *eq = strstr(optarg, "=whsec_");
            if (!eq || !signature_secret_valid(eq + 1)) {
                /* Name the prefix only, and only when there is one: the
                 * rest is a secret. */
                if (eq)
                    ret = cmd_usage_error(&cmd_inbox,
                                          "invalid --secret for '%.*s' (expected "
                                          "PATH_PREFIX=whsec_BASE64)",
                                          (int)(eq - optarg), optarg);
                else
                    ret = cmd_usage_error(&cmd_inbox, "invalid --secret (expected "
                                                      "PATH_PREFIX=whsec_BASE64; the value "
                                                      "is not printed)");
                goto out;
            }
            *eq = '\0';
            ALLOC_GROW(secrets, nsecrets + 1, asecrets);
            secrets[nsecrets].prefix = optarg;
            secrets[nsecrets].secret = eq + 1;
            nsecrets++;
            break;
        }
        default:
            ret = cmd_option_error(&cmd_inbox, c, argv);
            goto out;
        }
    }
    if (optind < argc) {
        ret = cmd_usage_error(&cmd_inbox, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    const char *env = getenv("CRISISRUN_INBOX_SECRET");
    if (env && *env) {
        if (!signature_secret_valid(env)) {
            ret = cmd_usage_error(&cmd_inbox, "invalid CRISISRUN_INBOX_SECRET (expected "
                                              "whsec_BASE64)");
            goto out;
        }
        io.default_secret = env;
    }
    io.secrets = secrets;
    io.nsecrets = nsecrets;

    struct inbox *in = inbox_start(&io);
    if (!in) {
        ret = EXIT_RUNTIME;
        goto out;
    }
    printf("crisisrun inbox listening on %s (recording to %s)\n", inbox_url(in),
           inbox_log_path(in));
    fflush(stdout);
    if (serve(in) < 0)
        ret = EXIT_RUNTIME;
    inbox_free(in);
out:
    free(secrets);
    return ret;
}

const struct cmd_entry cmd_inbox = {
    .name = "inbox",
    .usage = "inbox [--listen ADDR] [--dir DIR] [--secret PATH_PREFIX=whsec_...]...",
    .summary = "a local webhook receiver for drills, demos and tests",
    .help =
        "options:\n"
        "  --listen ADDR   where to listen (default 127.0.0.1:8025; HOST:PORT,\n"
        "                  [IPV6]:PORT or :PORT for the loopback; port 0 picks one)\n"
        "  --dir DIR       where to write requests.jsonl (default ./inbox)\n"
        "  --secret P=S    verify Standard Webhooks signatures with secret S\n"
        "                  (whsec_...) on channel paths starting with P (repeatable);\n"
        "                  $CRISISRUN_INBOX_SECRET applies to every other path\n\n"
        "POST /slack/NAME, /mattermost/NAME, /discord/NAME, /teams/NAME,\n"
        "/googlechat/NAME, /webhook/NAME: answered as the real service does.\n"
        "Prefix /fault/500, /fault/429/SECONDS, /fault/hang, ... to rehearse\n"
        "failures (see docs/inbox.md).  GET / shows the messages.\n"
        "Stops cleanly on SIGINT or SIGTERM.\n"
        "exit status: 0 stopped by SIGINT or SIGTERM; 1 cannot listen or write to\n"
        "DIR; 2 a bad option or secret\n",
    .exec = inbox_exec,
};
