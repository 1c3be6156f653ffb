/*
 * cmd.c - the one table of subcommands, and helpers they share.
 */
#include "crisisrun/cmd.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crisisrun/httpd.h"
#include "crisisrun/model.h"
#include "crisisrun/util.h"

/* In the order `crisisrun --help` lists them. */
const struct cmd_entry *const cmd_table[] = {
    &cmd_validate,
    &cmd_plan,
    &cmd_run,
    &cmd_resume,
    &cmd_ack,
    &cmd_status,
    &cmd_note,
    &cmd_trigger,
    &cmd_resolve,
    &cmd_list,
    &cmd_show,
    &cmd_report,
    &cmd_feedback,
    &cmd_serve,
    &cmd_inbox,
    &cmd_schema,
    NULL,
};

const struct cmd_entry *cmd_find(const char *name)
{
    for (size_t i = 0; cmd_table[i]; i++)
        if (!strcmp(cmd_table[i]->name, name))
            return cmd_table[i];
    return NULL;
}

void cmd_print_help(const struct cmd_entry *e, FILE *out)
{
    fprintf(out, "usage: crisisrun [--db PATH] %s\n\n%s\n", e->usage, e->summary);
    if (e->help && *e->help)
        fprintf(out, "\n%s", e->help);
}

int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "crisisrun: %s\nusage: crisisrun [--db PATH] %s\n", msg, e->usage);
    free(msg);
    return EXIT_USAGE;
}

int cmd_option_error(const struct cmd_entry *e, int c, char *const *argv)
{
    const char *opt = argv[optind - 1];
    if (c == ':')
        return cmd_usage_error(e, "option '%s' needs a value", opt);
    return cmd_unknown_option(e, opt);
}

int cmd_unknown_option(const struct cmd_entry *e, const char *opt)
{
    if (!strcmp(opt, "--db") || !strncmp(opt, "--db=", 5))
        return cmd_usage_error(
            e, "--db goes before the command: crisisrun --db PATH %s ...", e->name);
    return cmd_usage_error(e, "unknown option '%s'", opt);
}

int cmd_check_run(const struct cmd_entry *e, const char *run)
{
    return *run ? 0 : cmd_usage_error(e, "no run given (RUN is empty)");
}

int cmd_check_listen(const struct cmd_entry *e, const char *addr)
{
    if (httpd_listen_valid(addr))
        return 0;
    return cmd_usage_error(e, "invalid --listen '%s' (expected " HTTPD_LISTEN_FORMS ")", addr);
}

int cmd_check_public_url(const struct cmd_entry *e, const char *url)
{
    const char *why = public_url_problem(url);
    return why ? cmd_usage_error(e, "%s", why) : 0;
}

int cmd_parse_var(const struct cmd_entry *e, const char *arg, struct kv **vars, size_t *n,
                  size_t *alloc)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        cmd_usage_error(e, "invalid --var '%s' (expected NAME=VALUE)", arg);
        return -1;
    }
    ALLOC_GROW(*vars, *n + 1, *alloc);
    (*vars)[*n].key = xstrndup(arg, (size_t)(eq - arg));
    (*vars)[*n].value = xstrdup(eq + 1);
    (*n)++;
    return 0;
}

void cmd_free_vars(struct kv *vars, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(vars[i].key);
        free(vars[i].value);
    }
    free(vars);
}

char *cmd_db_path(const struct cmd_ctx *ctx)
{
    if (ctx->db_path)
        return xstrdup(ctx->db_path);
    const char *env = getenv("CRISISRUN_DB");
    if (env && *env)
        return xstrdup(env);
    const char *state = getenv("XDG_STATE_HOME");
    if (state && *state)
        return xasprintf("%s/crisisrun/crisisrun.db", state);
    const char *home = getenv("HOME");
    return xasprintf("%s/.local/state/crisisrun/crisisrun.db", home && *home ? home : ".");
}

static volatile sig_atomic_t stop_requested;
static sigset_t wait_mask; /* the signal mask inside cmd_wait() */

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void cmd_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);
}

int cmd_stopping(void)
{
    return stop_requested != 0;
}

int cmd_wait(struct pollfd *fds, size_t n, int64_t timeout_ms)
{
    struct timespec ts = {(time_t)(timeout_ms / 1000), (long)(timeout_ms % 1000) * 1000000L};
    if (ppoll(fds, n, timeout_ms >= 0 ? &ts : NULL, &wait_mask) < 0 && errno != EINTR)
        return error("poll failed: %s", strerror(errno));
    return 0;
}
