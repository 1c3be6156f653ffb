/*
 * schema.c - `crisisrun schema`: print the JSON Schema (draft 2020-12) of
 * the playbook format, for editors and yaml-language-server.
 *
 * The canonical schema is docs/playbook.schema.json; the build embeds it as
 * a byte array (cmake/embed.cmake), so the binary does not need the source
 * tree.  It is parsed and printed through jansson rather than copied out
 * verbatim: a schema that stopped being JSON fails here, loudly, and the
 * file is kept in exactly the form printed (tests compare the two).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "crisisrun/cmd.h"
#include "crisisrun/util.h"
#include "playbook_schema.h"

static int schema_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    /* No options: anything getopt sees as one is an error. */
    if (getopt_long(argc, argv, "", opts, NULL) != -1) {
        if (optopt)
            return cmd_usage_error(&cmd_schema, "unknown option '-%c'", optopt);
        return cmd_usage_error(&cmd_schema, "unknown option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cmd_usage_error(&cmd_schema, "unexpected argument '%s'", argv[optind]);

    json_error_t jerr;
    json_t *schema = json_loadb(playbook_schema, playbook_schema_LEN, 0, &jerr);
    if (!schema) {
        error("embedded schema is not valid JSON (line %d: %s)", jerr.line, jerr.text);
        return EXIT_RUNTIME;
    }
    int ret = EXIT_OK;
    if (json_dumpf(schema, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ||
        fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
        error("cannot write the schema to standard output");
        ret = EXIT_RUNTIME;
    }
    json_decref(schema);
    (void)ctx;
    return ret;
}

const struct cmd_entry cmd_schema = {
    .name = "schema",
    .usage = "schema",
    .summary = "print the JSON Schema of the playbook format, for editors",
    .help = "Prints a JSON Schema (draft 2020-12) of the playbook format on standard\n"
            "output.  Point yaml-language-server at it to get completion and checks\n"
            "while writing a playbook (see docs/schema.md).  The schema cannot check\n"
            "everything: `crisisrun validate` also resolves channel and step names,\n"
            "template variables, ${env:...} and ${file:...} references and urls_file.\n\n"
            "exit status: 0 on success, 1 when the schema cannot be written, 2 on any\n"
            "argument\n",
    .exec = schema_exec,
};
