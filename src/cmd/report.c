/*
 * report.c - `crisisrun report RUN [--format md|html|json] [-o FILE]`: the
 * post-crisis report of one run (report.h; docs/report.md).
 *
 * With -o the report is written to a temporary file next to FILE and
 * renamed over it only once complete, so a failed report never leaves a
 * truncated file behind (and an existing report survives a failed rerun).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisisrun/cmd.h"
#include "crisisrun/journal.h"
#include "crisisrun/report.h"
#include "crisisrun/util.h"

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_atomically(const char *path, const char *data, size_t len)
{
    char *tmp = xasprintf("%s.tmpXXXXXX", path);
    int ret = 0;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        ret = error("cannot write '%s': %s", path, strerror(errno));
        goto out;
    }
    /* mkstemp makes 0600; a report is meant to be shared: honour the umask. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        ret = error("cannot write '%s': %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) < 0) {
        ret = error("cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) < 0) {
        ret = error("cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
    }
out:
    free(tmp);
    return ret;
}

static int report_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    int format = REPORT_MARKDOWN, c;
    const char *output = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:o:", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = report_format_from_name(optarg);
            if (format < 0)
                return cmd_usage_error(&cmd_report,
                                       "unknown format '%s' (expected md, html or json)",
                                       optarg);
            break;
        case 'o':
            if (!*optarg)
                return cmd_usage_error(&cmd_report, "empty output file name");
            output = optarg;
            break;
        case ':':
            return cmd_usage_error(&cmd_report, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cmd_unknown_option(&cmd_report, argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cmd_usage_error(&cmd_report, "no run given");
    if (optind + 1 < argc)
        return cmd_usage_error(&cmd_report, "unexpected argument '%s'", argv[optind + 1]);
    if (cmd_check_run(&cmd_report, argv[optind]))
        return EXIT_USAGE;

    char *path = cmd_db_path(ctx);
    struct journal *j = journal_open(path, 0);
    free(path);
    if (!j)
        return EXIT_RUNTIME;
    struct report *r = report_build(j, argv[optind]);
    journal_close(j);
    if (!r)
        return EXIT_RUNTIME;
    struct strbuf sb = STRBUF_INIT;
    report_render(r, (enum report_format)format, &sb);
    report_free(r);

    int ret;
    if (output) {
        ret = write_atomically(output, strbuf_str(&sb), sb.len);
    } else {
        ret = fwrite(strbuf_str(&sb), 1, sb.len, stdout) == sb.len && fflush(stdout) == 0
                  ? 0
                  : error("cannot write the report");
    }
    strbuf_release(&sb);
    return ret < 0 ? EXIT_RUNTIME : EXIT_OK;
}

const struct cmd_entry cmd_report = {
    .name = "report",
    .usage = "report RUN [--format md|html|json] [-o FILE]",
    .summary = "write the post-crisis report of a run",
    .help = "options:\n"
            "  --format FMT    md (default), html (one self-contained page with charts)\n"
            "                  or json (every figure, for tools)\n"
            "  -o, --output F  write to F (atomically) instead of standard output\n\n"
            "The report holds the summary, targets met or missed, the status timeline,\n"
            "every step occurrence and its deliveries, communication metrics per\n"
            "audience and channel, the failed deliveries grouped by reason,\n"
            "escalations, notes and action items, and feedback.\n"
            "A drill's report says so and shows its virtual (rehearsed) timings.\n"
            "Definitions of every figure: docs/report.md.\n"
            "exit status: 0 on success, 1 when the run or the journal cannot be read\n"
            "or the report cannot be written, 2 on a usage error\n",
    .exec = report_exec,
};
