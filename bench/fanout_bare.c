/*
 * fanout_bare.c - the ceiling of the HTTP library itself, for bench/run.sh:
 * POST one body to every URL of a file through one curl multi handle, at
 * most N requests at a time (64, as crisisrun's per-host cap), and report
 * how long it took.  No journal, no retries, no templates: the least work
 * libcurl can be asked to do for a fan-out when it is given URLs as
 * strings, so crisisrun's own cost is what separates the two.
 *
 *   bench_fanout_bare [--reuse-urls] URLS_FILE BODY_FILE [CONCURRENCY]
 *
 * --reuse-urls hands libcurl each URL as crisisrun does (src/http.c,
 * set_url()): an easy handle keeps its last URL parsed, and for a URL to
 * the same origin only the path is replaced.  It is for reference: the
 * suite's target is against the plain loop, the one the issue names.  The
 * bench's URLs are all of that kind (http://HOST:PORT/s/N), so this copy
 * does not check for what set_url() leaves to a whole parse.
 *
 * Prints "sent N ok M ms T" (T from the first request to the last answer)
 * and exits 0 when every request got a 2xx answer.
 *
 * Deliberate choices, made to give libcurl its best case: easy handles are
 * reused (so their keep-alive connections are too), the headers are one
 * list shared by every request, the answer's body is dropped, and each
 * freed slot is refilled at once, in the same loop iteration.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* The whole file, NUL-terminated, or NULL. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap + 1);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *bigger = realloc(buf, (cap *= 2) + 1);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "out of memory\n");
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    int reuse = argc > 1 && !strcmp(argv[1], "--reuse-urls");
    argc -= reuse;
    argv += reuse;
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: bench_fanout_bare [--reuse-urls] URLS_FILE BODY_FILE "
                        "[CONCURRENCY]\n");
        return 2;
    }
    long conc = argc == 4 ? strtol(argv[3], NULL, 10) : 64;
    if (conc < 1)
        conc = 1;
    size_t ulen, blen;
    char *urls = slurp(argv[1], &ulen);
    char *body = urls ? slurp(argv[2], &blen) : NULL;
    if (!body) {
        free(urls);
        return 1;
    }
    /* One URL a line, split in place. */
    size_t nurls = 0, aurls = 1024;
    char **url = malloc(aurls * sizeof(*url));
    for (char *p = urls; url && *p;) {
        char *e = p + strcspn(p, "\n");
        char *after = *e ? e + 1 : e;
        while (e > p && (e[-1] == '\r' || e[-1] == ' '))
            e--;
        *e = '\0';
        if (e > p) {
            if (nurls == aurls) {
                char **bigger = realloc(url, (aurls *= 2) * sizeof(*url));
                if (!bigger)
                    free(url);
                url = bigger;
                if (!url)
                    break;
            }
            url[nurls++] = p;
        }
        p = after;
    }
    if (!url) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");
    CURL **pool = calloc((size_t)conc, sizeof(*pool));
    /* With --reuse-urls: each handle's parsed URL, the URL it was last
     * given and the length of that URL's origin. */
    CURLU **uh = calloc((size_t)conc, sizeof(*uh));
    const char **last = calloc((size_t)conc, sizeof(*last));
    size_t *origin = calloc((size_t)conc, sizeof(*origin));
    size_t nhandles = 0;
    size_t npool = 0, next = 0, ok = 0, done = 0;
    int ret = 0;

    double t0 = now_ms();
    int running = 0;
    for (;;) {
        while (next < nurls && (long)(next - done) < conc) {
            CURL *e = npool ? pool[--npool] : curl_easy_init();
            if (reuse) {
                size_t h;
                curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&h);
                if (!h) {
                    h = ++nhandles;
                    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)h);
                    uh[h - 1] = curl_url();
                }
                const char *u = url[next], *sep = strstr(u, "://");
                size_t o = sep ? (size_t)(sep + 3 - u) + strcspn(sep + 3, "/?#") : 0;
                if (o && origin[h - 1] == o && !strncmp(u, last[h - 1], o))
                    curl_url_set(uh[h - 1], CURLUPART_PATH, u + o, 0);
                else
                    curl_url_set(uh[h - 1], CURLUPART_URL, u,
                                 CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME);
                origin[h - 1] = o;
                last[h - 1] = u;
                curl_easy_setopt(e, CURLOPT_CURLU, uh[h - 1]);
            }
            curl_easy_setopt(e, CURLOPT_URL, url[next]);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
            curl_multi_add_handle(multi, e);
            next++;
        }
        if (done == nurls)
            break;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            CURL *e = m->easy_handle;
            long status = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            if (m->data.result == CURLE_OK && status >= 200 && status < 300)
                ok++;
            curl_multi_remove_handle(multi, e);
            pool[npool++] = e;
            done++;
        }
        /* Wait only when no slot can be refilled. */
        if (done < nurls && (next == nurls || (long)(next - done) >= conc))
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    double t1 = now_ms();

    printf("sent %zu ok %zu ms %.1f\n", nurls, ok, t1 - t0);
    if (ok != nurls)
        ret = 1;
    for (size_t i = 0; i < npool; i++)
        curl_easy_cleanup(pool[i]);
    free(pool);
    for (size_t i = 0; i < nhandles; i++)
        curl_url_cleanup(uh[i]);
    free(uh);
    free(last);
    free(origin);
    curl_slist_free_all(hdr);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    free(url);
    free(urls);
    free(body);
    return ret;
}
