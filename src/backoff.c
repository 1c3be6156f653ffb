/*
 * backoff.c - retry delays and Retry-After parsing (see backoff.h for the
 * formula).
 *
 * HTTP-dates are parsed by hand rather than with strptime(): strptime's
 * month and weekday names follow the process locale, and an HTTP-date is
 * always English and always GMT.
 */
#include "crisisrun/backoff.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

int64_t backoff_ceiling_ms(int64_t base_ms, int attempt, int64_t cap_ms)
{
    if (base_ms <= 0 || cap_ms <= 0)
        return 0;
    if (base_ms >= cap_ms)
        return cap_ms;
    int64_t d = base_ms;
    /* Doubling stops at the cap, so 2^(attempt-1) never overflows. */
    for (int k = 1; k < attempt && d < cap_ms; k++)
        d *= 2;
    return d < cap_ms ? d : cap_ms;
}

int64_t backoff_delay_ms(int64_t base_ms, int attempt, int64_t cap_ms, double u)
{
    int64_t ceiling = backoff_ceiling_ms(base_ms, attempt, cap_ms);
    if (!(u >= 0.0)) /* also catches NaN */
        u = 0.0;
    int64_t half = ceiling / 2;
    int64_t span = ceiling - half;
    int64_t extra = u < 1.0 ? (int64_t)(u * (double)span) : span;
    if (extra >= span && span > 0) /* keeps u >= 1 (and rounding) below the ceiling */
        extra = span - 1;
    return half + extra;
}

int64_t backoff_retry_delay_ms(int64_t base_ms, int attempt, int64_t retry_after_ms,
                               double u)
{
    int64_t d = backoff_delay_ms(base_ms, attempt, BACKOFF_CAP_MS, u);
    if (retry_after_ms >= 0) {
        int64_t ra =
            retry_after_ms < RETRY_AFTER_CAP_MS ? retry_after_ms : RETRY_AFTER_CAP_MS;
        if (ra > d)
            d = ra;
    }
    return d;
}

double backoff_unit(uint64_t bits)
{
    /* The top 53 bits fill a double's mantissa exactly. */
    return (double)(bits >> 11) * 0x1.0p-53;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_month(const char **p)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++) {
        if (!strncasecmp(*p, names + 3 * i, 3)) {
            *p += 3;
            return i + 1;
        }
    }
    return 0;
}

/* Reads 1..maxdigits decimal digits; -1 when there are none. */
static long parse_num(const char **p, int maxdigits)
{
    long v = 0;
    int n = 0;
    while (n < maxdigits && isdigit((unsigned char)**p)) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n ? v : -1;
}

static int parse_clock(const char **p, int *hh, int *mm, int *ss)
{
    long h = parse_num(p, 2);
    if (h < 0 || **p != ':')
        return -1;
    (*p)++;
    long m = parse_num(p, 2);
    if (m < 0 || **p != ':')
        return -1;
    (*p)++;
    long s = parse_num(p, 2);
    if (s < 0 || h > 23 || m > 59 || s > 60)
        return -1;
    *hh = (int)h;
    *mm = (int)m;
    *ss = (int)s;
    return 0;
}

static void skip_spaces(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

/* An HTTP-date as ms since the epoch, or -1. */
static int64_t parse_http_date(const char *s)
{
    const char *p = s;
    long day, year;
    int mon, hh, mm, ss;
    while (isalpha((unsigned char)*p)) /* weekday: not checked */
        p++;
    if (*p == ',')
        p++;
    skip_spaces(&p);
    if (isdigit((unsigned char)*p)) {
        /* "06 Nov 1994 08:49:37 GMT" or "06-Nov-94 08:49:37 GMT" */
        day = parse_num(&p, 2);
        char sep = *p;
        if (sep != ' ' && sep != '-')
            return -1;
        p++;
        if (!(mon = parse_month(&p)) || *p != sep)
            return -1;
        p++;
        const char *y0 = p;
        year = parse_num(&p, 4);
        if (year < 0)
            return -1;
        if (p - y0 == 2) /* RFC 850: a two-digit year; RFC 9110 says the
                          * nearest century, which for today's dates is this */
            year += year < 70 ? 2000 : 1900;
        skip_spaces(&p);
        if (parse_clock(&p, &hh, &mm, &ss) < 0)
            return -1;
        skip_spaces(&p);
        if (strncasecmp(p, "GMT", 3))
            return -1;
        p += 3;
    } else {
        /* asctime: "Nov  6 08:49:37 1994" */
        if (!(mon = parse_month(&p)))
            return -1;
        skip_spaces(&p);
        day = parse_num(&p, 2);
        skip_spaces(&p);
        if (day < 0 || parse_clock(&p, &hh, &mm, &ss) < 0)
            return -1;
        skip_spaces(&p);
        year = parse_num(&p, 4);
        if (year < 0)
            return -1;
    }
    skip_spaces(&p);
    if (*p || day < 1 || day > 31 || year < 1970)
        return -1;
    int64_t days = days_from_civil(year, mon, (int)day);
    return ((days * 24 + hh) * 60 + mm) * 60000 + (int64_t)ss * 1000;
}

int64_t retry_after_parse(const char *value, int64_t now_wall_ms)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r' ||
                 value[n - 1] == '\n'))
        n--;
    if (!n || n > 64)
        return -1;
    char buf[65];
    memcpy(buf, value, n);
    buf[n] = '\0';

    if (strspn(buf, "0123456789") == n) {
        /* delta-seconds; anything past a day is capped later anyway, so
         * saturating here keeps the arithmetic in range */
        int64_t secs = 0;
        for (size_t i = 0; i < n; i++) {
            secs = secs * 10 + (buf[i] - '0');
            if (secs > (int64_t)1 << 40)
                secs = (int64_t)1 << 40;
        }
        return secs * 1000;
    }
    int64_t at = parse_http_date(buf);
    if (at < 0)
        return -1;
    return at > now_wall_ms ? at - now_wall_ms : 0;
}
