/*
 * note.c - `crisisrun note RUN TEXT [--notify CH,...] [--action]`: add a
 * timeline note, optionally broadcast to channels, optionally marked as a
 * follow-up action item for the report.
 */
#include <getopt.h>
#include <string.h>

#include "crisisrun/cmd.h"
#include "crisisrun/control_client.h"

static int note_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"notify", required_argument, NULL, 'n'},
                                         {"action", no_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    json_t *notify = json_array();
    int action = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'a') {
            action = 1;
        } else if (c == 'n') {
            /* CH,CH,... ; empty names are a typo, not a channel: so are
             * an empty list ("--notify $UNSET", which would broadcast to
             * nobody) and a trailing comma. */
            const char *p = optarg;
            for (;;) {
                size_t n = strcspn(p, ",");
                if (!n) {
                    json_decref(notify);
                    return cmd_usage_error(&cmd_note, "invalid --notify '%s'", optarg);
                }
                json_array_append_new(notify, json_stringn(p, n));
                if (!p[n])
                    break;
                p += n + 1;
            }
        } else {
            json_decref(notify);
            return cmd_option_error(&cmd_note, c, argv);
        }
    }
    if (argc - optind != 2) {
        json_decref(notify);
        return cmd_usage_error(&cmd_note, "expected RUN and TEXT");
    }
    if (cmd_check_run(&cmd_note, argv[optind])) {
        json_decref(notify);
        return EXIT_USAGE;
    }
    if (!*argv[optind + 1]) {
        json_decref(notify);
        return cmd_usage_error(&cmd_note, "the note's TEXT is empty");
    }
    json_t *body = json_pack("{s:s, s:o, s:b}", "text", argv[optind + 1], "notify", notify,
                             "action", action);
    return control_call(ctx, argv[optind], "note", body);
}

const struct cmd_entry cmd_note = {
    .name = "note",
    .usage = "note RUN TEXT [--notify CHANNEL,...] [--action]",
    .summary = "add a timeline note; optionally broadcast it or mark it an action item",
    .help = "options:\n"
            "  --notify CH,...  send the note now to these channels\n"
            "  --action         a follow-up action item, listed in the report\n\n"
            "A note that is not an action item becomes {{latest_note}} in the next\n"
            "messages of every channel that uses it.\n"
            "exit status: 0 done; 1 the run's process is gone, stopped or stuck, or the\n"
            "run is over; 2 unknown channel\n",
    .exec = note_exec,
};
