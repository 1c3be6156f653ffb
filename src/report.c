/*
 * report.c - what the report's renderers share (report.h): format names,
 * choosing a renderer, and the one way each kind of figure is written, so
 * that Markdown and HTML print exactly the numbers the JSON holds.
 */
#include "crisisrun/report.h"

#include <stdio.h>
#include <string.h>

int report_format_from_name(const char *s)
{
    if (!strcmp(s, "md") || !strcmp(s, "markdown"))
        return REPORT_MARKDOWN;
    if (!strcmp(s, "html"))
        return REPORT_HTML;
    if (!strcmp(s, "json"))
        return REPORT_JSON;
    return -1;
}

void report_render(const struct report *r, enum report_format fmt, struct strbuf *sb)
{
    switch (fmt) {
    case REPORT_JSON:
        report_render_json(r, sb);
        break;
    case REPORT_HTML:
        report_render_html(r, sb);
        break;
    default:
        report_render_markdown(r, sb);
    }
}

/* ---- figure formatting shared by the renderers ------------------------------------ */

char *report_fmt_duration(int64_t ms, char *buf, size_t size)
{
    char *p = buf;
    size_t left = size;
    int n;
    if (ms < 0) {
        n = snprintf(p, left, "-");
        p += n, left -= (size_t)n;
        ms = -ms;
    }
    if (ms < 1000) {
        snprintf(p, left, ms ? "%dms" : "0s", (int)ms);
        return buf;
    }
    int64_t d = ms / 86400000, h = ms / 3600000 % 24, m = ms / 60000 % 60, s = ms / 1000 % 60;
    int frac = (int)(ms % 1000);
    if (d && left > 1) {
        n = snprintf(p, left, "%lldd", (long long)d);
        p += n, left -= (size_t)n;
    }
    if (h && left > 1) {
        n = snprintf(p, left, "%lldh", (long long)h);
        p += n, left -= (size_t)n;
    }
    if (m && left > 1) {
        n = snprintf(p, left, "%lldm", (long long)m);
        p += n, left -= (size_t)n;
    }
    if ((s || frac) && left > 1) {
        if (!frac) {
            snprintf(p, left, "%llds", (long long)s);
        } else {
            char f[8];
            snprintf(f, sizeof(f), "%03d", frac);
            for (int i = 2; i > 0 && f[i] == '0'; i--)
                f[i] = '\0';
            snprintf(p, left, "%lld.%ss", (long long)s, f);
        }
    }
    return buf;
}

char *report_fmt_share(double share, char *buf, size_t size)
{
    snprintf(buf, size, "%.1f%%", share * 100.0);
    return buf;
}

char *report_fmt_mean(double mean, char *buf, size_t size)
{
    snprintf(buf, size, "%.2f", mean);
    return buf;
}
