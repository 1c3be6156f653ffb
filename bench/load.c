/*
 * load.c - the peer for bench/load.sh: a bare libyaml event parse of a
 * file, doing nothing with the events but count them.  This is the floor
 * any YAML playbook loader pays; `crisisrun validate` is measured against it.
 *
 *   bench_load FILE   prints the number of events
 */
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_load FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    /* Read the whole file first, as the loader does. */
    size_t cap = 1 << 20, len = 0, n;
    unsigned char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, buf, len);
    size_t events = 0;
    int done = 0, ret = 0;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            fprintf(stderr, "%s: %s\n", argv[1], p.problem ? p.problem : "parse error");
            ret = 1;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        events++;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    free(buf);
    printf("%zu events\n", events);
    return ret;
}
