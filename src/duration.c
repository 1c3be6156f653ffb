/*
 * duration.c - durations, rates and wall-clock formatting (see duration.h).
 */
#include "crisisrun/duration.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crisisrun/util.h"

static const struct {
    const char *name;
    int64_t ms;
} units[] = {
    {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1},
};

static int unit_index(const char **p)
{
    /* "ms" must win over "m". */
    if ((*p)[0] == 'm' && (*p)[1] == 's') {
        *p += 2;
        return 4;
    }
    for (int i = 0; i < 4; i++) {
        if (**p == units[i].name[0]) {
            (*p)++;
            return i;
        }
    }
    return -1;
}

int duration_parse(const char *s, int64_t *ms, const char **why)
{
    const char *p = s;
    int64_t total = 0;
    int last = -1;
    if (!*p) {
        *why = "empty duration";
        return -1;
    }
    while (*p) {
        if (!isdigit((unsigned char)*p)) {
            *why = "expected a number followed by d, h, m, s or ms, as in 90s, 5m or 1h30m";
            return -1;
        }
        int64_t n = 0;
        while (isdigit((unsigned char)*p)) {
            n = n * 10 + (*p++ - '0');
            if (n > DURATION_MAX_MS) {
                *why = "too large (at most 365d)";
                return -1;
            }
        }
        if (*p == '.' || *p == ',') {
            *why = "whole numbers only: a smaller unit instead (1m30s, not 1.5m)";
            return -1;
        }
        int u = unit_index(&p);
        if (u < 0) {
            *why = "missing or unknown unit (use d, h, m, s or ms, as in 90s, 5m or 1h30m)";
            return -1;
        }
        if (u <= last) {
            *why = "units must go from largest to smallest, each once (as in 1h30m)";
            return -1;
        }
        last = u;
        total += n * units[u].ms;
        if (total > DURATION_MAX_MS) {
            *why = "too large (at most 365d)";
            return -1;
        }
    }
    *ms = total;
    return 0;
}

char *duration_format(int64_t ms, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    if (ms < 0) {
        off += (size_t)snprintf(buf, size, "-");
        ms = -ms;
    }
    if (ms < 1000) {
        snprintf(buf + off, size - off, ms ? "%lldms" : "0s", (long long)ms);
        return buf;
    }
    int64_t secs = ms / 1000;
    int64_t parts[4] = {secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60};
    const char *names = "dhms";
    int printed = 0;
    for (int i = 0; i < 4 && off < size; i++) {
        /* Keep at most two adjacent units: "2d4h", "1h30m", "1m30s". */
        if (printed && (printed == 2 || parts[i] == 0))
            break;
        if (!parts[i] && !printed)
            continue;
        off += (size_t)snprintf(buf + off, size - off, "%lld%c", (long long)parts[i], names[i]);
        printed++;
    }
    return buf;
}

int rate_parse(const char *s, int *count, int64_t *per_ms, const char **why)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash == s) {
        *why = "expected COUNT/PERIOD, as in 1/s, 30/m or 5/2s";
        return -1;
    }
    long n = 0;
    for (const char *p = s; p < slash; p++) {
        if (!isdigit((unsigned char)*p)) {
            *why = "expected COUNT/PERIOD, as in 1/s, 30/m or 5/2s";
            return -1;
        }
        n = n * 10 + (*p - '0');
        if (n > 1000000) {
            *why = "count too large";
            return -1;
        }
    }
    if (n < 1) {
        *why = "count must be at least 1";
        return -1;
    }
    const char *per = slash + 1;
    int64_t period;
    if (!strcmp(per, "s") || !strcmp(per, "m") || !strcmp(per, "h")) {
        period = per[0] == 's' ? 1000 : per[0] == 'm' ? 60000 : 3600000;
    } else if (duration_parse(per, &period, why) < 0) {
        return -1;
    }
    if (period <= 0) {
        *why = "period must be longer than zero";
        return -1;
    }
    *count = (int)n;
    *per_ms = period;
    return 0;
}

char *walltime_format(int64_t t_ms, int64_t ref_ms, char *buf, size_t size)
{
    time_t t = (time_t)(t_ms / 1000), r = (time_t)(ref_ms / 1000);
    struct tm tm, rm;
    gmtime_r(&t, &tm);
    gmtime_r(&r, &rm);
    if (tm.tm_year == rm.tm_year && tm.tm_yday == rm.tm_yday)
        strftime(buf, size, "%H:%M UTC", &tm);
    else
        strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

char *walltime_format_by(int64_t t_ms, int64_t ref_ms, char *buf, size_t size)
{
    int64_t up = t_ms % 60000 ? t_ms - t_ms % 60000 + 60000 : t_ms;
    return walltime_format(up, ref_ms, buf, size);
}

char *iso8601_format(int64_t t_ms, char *buf, size_t size)
{
    /* Floored: a time before 1970 has a positive millisecond part. */
    int64_t s = t_ms / 1000 - (t_ms % 1000 < 0);
    int ms = (int)(t_ms - s * 1000);
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    char tmp[32];
    strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03dZ", tmp, ms);
    return buf;
}

int iso8601_parse(const char *s, int64_t *t_ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int ms = 0;
    const char *p = strptime(s, "%Y-%m-%dT%H:%M", &tm);
    if (!p)
        return -1;
    if (*p == ':') {
        p = strptime(p, ":%S", &tm);
        if (!p)
            return -1;
        if (*p == '.') {
            p++;
            int digits = 0;
            while (isdigit((unsigned char)*p)) {
                if (digits < 3)
                    ms = ms * 10 + (*p - '0');
                digits++;
                p++;
            }
            while (digits < 3 && digits > 0) {
                ms *= 10;
                digits++;
            }
        }
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
        return -1;
    /* strptime() takes any day up to 31 and a second of 60, which timegm()
     * rolls over ("2026-02-30" would be 2 March): the time must read back
     * as written. */
    struct tm want = tm;
    time_t t = timegm(&tm);
    if (!gmtime_r(&t, &tm) || tm.tm_year != want.tm_year || tm.tm_mon != want.tm_mon ||
        tm.tm_mday != want.tm_mday || tm.tm_hour != want.tm_hour ||
        tm.tm_min != want.tm_min || tm.tm_sec != want.tm_sec)
        return -1;
    *t_ms = (int64_t)t * 1000 + ms;
    return 0;
}
