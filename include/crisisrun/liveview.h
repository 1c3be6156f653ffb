/*
 * liveview.h - what the incident manager sees while a run is going.
 *
 * On a terminal, a compact screen redrawn in place: status, elapsed time,
 * the next step and its countdown, and deliveries ok / retrying / failed per
 * channel.  Elsewhere (a pipe, a log file, --quiet, or NO_COLOR set) plain
 * timestamped lines, one per event, that read well in a log.
 *
 * The live screen only ever shows channel names and types, never URLs.
 */
#ifndef CRISISRUN_LIVEVIEW_H
#define CRISISRUN_LIVEVIEW_H

#include <stdint.h>
#include <stdio.h>

#include "crisisrun/util.h"

struct live_channel {
    const char *name;
    const char *type;
    unsigned long ok, retrying, failed, pending;
};

struct live_state {
    const char *run_id;
    const char *title;
    const char *status;
    int drill;
    double speed;
    int64_t elapsed_ms;    /* virtual time since start */
    const char *next_step; /* NULL when nothing is scheduled */
    int64_t next_in_ms;    /* virtual time until it */
    const struct live_channel *channels;
    size_t nchannels;
};

struct liveview {
    FILE *out;
    int interactive; /* redraw in place */
    int color;
    int drawn;       /* lines drawn by the last redraw */
    char *events[5]; /* the last events, newest last, shown under the screen */
};

/*
 * Chooses the mode: interactive when out is a terminal, quiet is 0 and
 * TERM is not "dumb"; colour additionally needs NO_COLOR unset.
 */
void liveview_init(struct liveview *lv, FILE *out, int quiet);
/* Records an event: printed as a timestamped line, or kept for the screen. */
void liveview_event(struct liveview *lv, int64_t wall_ms, const char *fmt, ...) CR_PRINTF(3, 4);
/* Redraws the screen (interactive mode only; a no-op otherwise). */
void liveview_draw(struct liveview *lv, const struct live_state *st);
/* Leaves the last screen in place and moves below it. */
void liveview_release(struct liveview *lv);

#endif
