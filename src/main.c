/*
 * main.c - the crisisrun executable: global options, then one subcommand
 * from the table in src/cmd/cmd.c.  All logic lives in crisisrun_core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/cmd.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CR_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CR_SANITIZED 1
#endif

/*
 * Ends the process with status rc once every stream is flushed, without
 * the exit handlers of the libraries libcurl brings in (OpenSSL, GnuTLS,
 * LDAP, Kerberos, SASL...).  A command has closed its journal and freed
 * what it held by the time it returns, and those handlers only free what
 * the kernel is about to take back; paging their code in made the end of
 * a run its peak in memory, some 400 KB above the fan-out's.  Built with
 * the sanitizers, main returns as usual: LeakSanitizer checks at exit.
 */
static int finish(int rc)
{
#ifndef CR_SANITIZED
    fflush(NULL);
    _Exit(rc);
#endif
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: crisisrun [--db PATH] COMMAND [ARGS]\n\n"
                 "Run crisis-response playbooks: timed status notifications, escalation,\n"
                 "acknowledgement, feedback and a post-crisis report.\n\ncommands:\n");
    for (size_t i = 0; cmd_table[i]; i++)
        fprintf(out, "  %-10s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
    fprintf(
        out,
        "\noptions:\n"
        "  --db PATH  the journal (default $CRISISRUN_DB, else\n"
        "             $XDG_STATE_HOME/crisisrun/crisisrun.db, else\n"
        "             ~/.local/state/crisisrun/crisisrun.db)\n"
        "  -h, --help this help; `crisisrun COMMAND --help` for one command\n"
        "  --version  print the version\n\n"
        "exit status: 0 success, 1 runtime failure, 2 usage error or invalid playbook\n");
}

int main(int argc, char **argv)
{
    struct cmd_ctx ctx = {0};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "--version")) {
            printf("crisisrun %s\n", CRISISRUN_VERSION_STRING);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "--db") && i + 1 < argc && *argv[i + 1]) {
            ctx.db_path = argv[++i];
        } else if (!strncmp(argv[i], "--db=", 5) && argv[i][5]) {
            ctx.db_path = argv[i] + 5;
        } else if (!strcmp(argv[i], "--db") || !strncmp(argv[i], "--db=", 5)) {
            /* Also an empty one ("--db $UNSET_VAR"): a mistake in the
             * command, not a journal that cannot be opened. */
            fprintf(stderr, "crisisrun: option '--db' needs a path\n");
            usage(stderr);
            return EXIT_USAGE;
        } else {
            fprintf(stderr, "crisisrun: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "crisisrun: no command given\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    const struct cmd_entry *e = cmd_find(argv[i]);
    if (!e) {
        fprintf(stderr, "crisisrun: unknown command '%s' (see 'crisisrun --help')\n", argv[i]);
        return EXIT_USAGE;
    }
    for (int j = i + 1; j < argc && strcmp(argv[j], "--"); j++) {
        if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
            cmd_print_help(e, stdout);
            return EXIT_OK;
        }
    }
    return finish(e->exec(&ctx, argc - i, argv + i));
}
