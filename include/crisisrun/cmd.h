/*
 * cmd.h - the subcommand table.
 *
 * Each subcommand is one file in src/cmd/ defining a `const struct
 * cmd_entry cmd_NAME`, and one line in cmd_table[] (src/cmd/cmd.c).
 * main() parses the global options, finds the entry and calls exec.
 */
#ifndef CRISISRUN_CMD_H
#define CRISISRUN_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (DESIGN.md). */
#define EXIT_OK 0
#define EXIT_RUNTIME 1 /* deliveries failed for good, database error, ... */
#define EXIT_USAGE 2   /* bad arguments or an invalid playbook */

/* Global options, parsed before the command name. */
struct cmd_ctx {
    const char *db_path; /* --db, or NULL for the default */
};

struct cmd_entry {
    const char *name;
    const char *usage;   /* "validate FILE..." */
    const char *summary; /* one line for `crisisrun --help` */
    const char *help;    /* the rest of `crisisrun NAME --help`: options, notes */
    /* argv[0] is the command name; getopt_long may be used on argv.
     * Returns the process exit code. */
    int (*exec)(struct cmd_ctx *ctx, int argc, char **argv);
};

extern const struct cmd_entry *const cmd_table[];

/* One per subcommand, each defined in src/cmd/NAME.c. */
extern const struct cmd_entry cmd_validate;
extern const struct cmd_entry cmd_plan;
extern const struct cmd_entry cmd_run;
extern const struct cmd_entry cmd_resume;
extern const struct cmd_entry cmd_ack;
extern const struct cmd_entry cmd_status;
extern const struct cmd_entry cmd_note;
extern const struct cmd_entry cmd_trigger;
extern const struct cmd_entry cmd_resolve;
extern const struct cmd_entry cmd_list;
extern const struct cmd_entry cmd_show;
extern const struct cmd_entry cmd_report;
extern const struct cmd_entry cmd_feedback;
extern const struct cmd_entry cmd_serve;
extern const struct cmd_entry cmd_inbox;
extern const struct cmd_entry cmd_schema;

const struct cmd_entry *cmd_find(const char *name);
/* Prints "usage: crisisrun USAGE" and the help text. */
void cmd_print_help(const struct cmd_entry *e, FILE *out);
/* Reports a usage error for e ("crisisrun: MSG" + usage line); returns EXIT_USAGE. */
int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...);
/*
 * The usage error for what getopt_long() returned as c ('?' or ':'), naming
 * the option (argv[optind - 1]).  Commands set opterr = 0 and begin their
 * option string with ':', so that getopt itself prints nothing and a
 * missing value is told apart from an unknown option.
 */
int cmd_option_error(const struct cmd_entry *e, int c, char *const *argv);
/*
 * The usage error for an option e does not take.  --db, the global option,
 * typed after the command (a natural slip from a second terminal) is told
 * where it goes instead.
 */
int cmd_unknown_option(const struct cmd_entry *e, const char *opt);
/*
 * 0 when run, a RUN argument, is not empty, else the usage error
 * (EXIT_USAGE).  An empty one is most often a script's unset variable
 * (`crisisrun ack "$RUN"`): a mistake in the command, not a run the
 * journal lacks, so it exits 2 before any journal is opened.
 */
int cmd_check_run(const struct cmd_entry *e, const char *run);
/* 0 when addr is a --listen address the server can use, else the usage
 * error (EXIT_USAGE): found before a command starts anything. */
int cmd_check_listen(const struct cmd_entry *e, const char *addr);
/* 0 when url can be a --public-url (public_url_problem()), else the usage
 * error (EXIT_USAGE), which does not quote it. */
int cmd_check_public_url(const struct cmd_entry *e, const char *url);

/*
 * Parses a "--var K=V" argument of command e into the growing array *vars.
 * Returns 0, or -1 after reporting a malformed argument as e's usage error
 * (the message and e's usage line).
 */
struct kv;
int cmd_parse_var(const struct cmd_entry *e, const char *arg, struct kv **vars, size_t *n,
                  size_t *alloc);
void cmd_free_vars(struct kv *vars, size_t n);

/*
 * Foreground servers (`inbox`, `serve`) stop cleanly on SIGINT or SIGTERM.
 * cmd_stop_signals() installs the handlers and blocks both signals except
 * inside cmd_wait(), so a signal can only arrive while the loop waits and
 * is never lost between checking cmd_stopping() and the wait.
 */
struct pollfd;
void cmd_stop_signals(void);
/* 1 once SIGINT or SIGTERM arrived. */
int cmd_stopping(void);
/* Waits for fds or timeout_ms (-1: none) or a stop signal.  0, or -1
 * after reporting a failed poll. */
int cmd_wait(struct pollfd *fds, size_t n, int64_t timeout_ms);

/* The journal path: --db, else $CRISISRUN_DB, else
 * $XDG_STATE_HOME/crisisrun/crisisrun.db, else ~/.local/state/... (new string). */
char *cmd_db_path(const struct cmd_ctx *ctx);

#endif
