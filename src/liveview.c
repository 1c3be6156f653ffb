/*
 * liveview.c - the run's live screen and its plain-line fallback
 * (see liveview.h).
 *
 * The screen is redrawn by moving the cursor up over the previous frame
 * and clearing each line ("\033[A", "\033[2K"): no curses dependency, and a
 * frame is a handful of short lines, so a redraw a few times a second costs
 * nothing.
 */
#include "crisisrun/liveview.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisisrun/duration.h"

void liveview_init(struct liveview *lv, FILE *out, int quiet)
{
    memset(lv, 0, sizeof(*lv));
    lv->out = out;
    const char *term = getenv("TERM");
    lv->interactive = !quiet && isatty(fileno(out)) && !(term && !strcmp(term, "dumb"));
    const char *nc = getenv("NO_COLOR");
    lv->color = lv->interactive && !(nc && *nc);
}

static void clear_frame(struct liveview *lv)
{
    for (int i = 0; i < lv->drawn; i++)
        fputs("\033[A\033[2K", lv->out);
    fputs("\r", lv->out);
    lv->drawn = 0;
}

void liveview_event(struct liveview *lv, int64_t wall_ms, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    char ts[40];
    iso8601_format(wall_ms, ts, sizeof(ts));
    if (!lv->interactive) {
        fprintf(lv->out, "%s %s\n", ts, msg);
        fflush(lv->out);
        free(msg);
        return;
    }
    free(lv->events[0]);
    memmove(lv->events, lv->events + 1, sizeof(lv->events) - sizeof(lv->events[0]));
    /* Keep only the time of day on the screen: the date is on every line. */
    lv->events[ARRAY_SIZE(lv->events) - 1] = xasprintf("%.8s %s", ts + 11, msg);
    free(msg);
}

static const char *status_color(const char *status)
{
    if (!strcmp(status, "resolved"))
        return "\033[32m";
    if (!strcmp(status, "monitoring"))
        return "\033[36m";
    if (!strcmp(status, "identified"))
        return "\033[33m";
    return "\033[31m";
}

void liveview_draw(struct liveview *lv, const struct live_state *st)
{
    if (!lv->interactive)
        return;
    char el[32], nx[32];
    const char *bold = lv->color ? "\033[1m" : "", *reset = lv->color ? "\033[0m" : "";
    clear_frame(lv);
    int n = 0;
    fprintf(lv->out, "%s%s%s%s  run %s\n", bold, st->drill ? "[DRILL] " : "", st->title, reset,
            st->run_id);
    n++;
    fprintf(lv->out, "status %s%s%s   elapsed %s", lv->color ? status_color(st->status) : "",
            st->status, reset, duration_format(st->elapsed_ms, el, sizeof(el)));
    if (st->speed != 1.0)
        fprintf(lv->out, "   speed x%g", st->speed);
    if (st->next_step)
        fprintf(lv->out, "   next %s in %s", st->next_step,
                duration_format(st->next_in_ms, nx, sizeof(nx)));
    fputc('\n', lv->out);
    n++;
    fprintf(lv->out, "%-16s %-11s %7s %8s %7s %7s\n", "channel", "type", "ok", "retrying",
            "failed", "pending");
    n++;
    for (size_t i = 0; i < st->nchannels; i++) {
        const struct live_channel *c = &st->channels[i];
        fprintf(lv->out, "%-16.16s %-11s %7lu %8lu %s%7lu%s %7lu\n", c->name, c->type, c->ok,
                c->retrying, c->failed && lv->color ? "\033[31m" : "", c->failed,
                c->failed && lv->color ? reset : "", c->pending);
        n++;
    }
    for (size_t i = 0; i < ARRAY_SIZE(lv->events); i++) {
        if (lv->events[i]) {
            fprintf(lv->out, "  %s\n", lv->events[i]);
            n++;
        }
    }
    lv->drawn = n;
    fflush(lv->out);
}

void liveview_release(struct liveview *lv)
{
    for (size_t i = 0; i < ARRAY_SIZE(lv->events); i++)
        free(lv->events[i]);
    memset(lv->events, 0, sizeof(lv->events));
    if (lv->out)
        fflush(lv->out);
}
