/*
 * bench/runner.c: runs ONE benchmark workload with ONE HTTP library and prints one
 * RESULT line. Compiled twice by scripts/bench.sh:
 *   -DBENCH_HTTPX -lhttpx  -> bench_httpx
 *   -DBENCH_CURL  -lcurl   -> bench_curl
 * so each process maps only its own library and its peak RSS is that library's.
 * The driver (bench/driver.c) runs these in alternation and aggregates.
 *
 * usage: bench_LIB --mode get|newconn|stream|upload --url URL --n N
 *                  [--warmup W] [--expect BYTES] [--ca FILE] [--file PATH]
 *                  [--threads T] [--bufsize BYTES] [--http2] [--conc C] [--keepalive K]
 *        bench_LIB --version
 *
 * Modes (each request checks status 200 and the exact body length):
 *   get      keep-alive GET, body read into memory (libhttpx: httpx_client_get +
 *            httpx_response_body; libcurl: write callback appending to a reused buffer).
 *            --threads 2: threads share ONE client (libcurl: one easy handle per thread
 *            + one share handle with CURL_LOCK_DATA_CONNECT/DNS/SSL_SESSION).
 *   newconn  the same, but a new connection per request (libhttpx: max keep-alive 0;
 *            libcurl: CURLOPT_FORBID_REUSE).
 *   newclient the same, with a new client per request in its default configuration
 *            (libhttpx: httpx_client_new + free, trust_env on; libcurl: a new easy
 *            handle): what creating a client costs.
 *   stream   streaming GET, every byte read and dropped (libhttpx: send_stream +
 *            httpx_response_read into a BUFSIZE buffer; libcurl: write callback, with
 *            CURLOPT_BUFFERSIZE = BUFSIZE).
 *   upload   POST of --file (Content-Length known) streamed from disk by a read
 *            callback (libhttpx: httpx_request_set_body_reader; libcurl:
 *            CURLOPT_READFUNCTION, "Expect:" removed since libhttpx sends none).
 *   multi    N GETs from ONE thread with --conc C in flight at once (issue 18; libhttpx:
 *            httpx_multi driven by poll() on httpx_multi_fd; libcurl: curl_multi with C
 *            easy handles and curl_multi_poll), bodies read into memory; a pool of C
 *            connections. RLIMIT_NOFILE is raised to its hard limit. --keepalive K:
 *            at most K idle connections kept (default C; 0 = a new connection per GET;
 *            libcurl: CURLOPT_FORBID_REUSE).
 * Measured: wall clock (CLOCK_MONOTONIC) and getrusage(RUSAGE_SELF) user+sys around the
 * N measured operations only (client setup and W warm-up operations excluded);
 * ru_maxrss at exit (whole process life).
 * Output: RESULT ops=N bytes=B wall=S utime=S stime=S maxrss_kb=K
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#if defined(BENCH_HTTPX)
#include "httpx.h"
#define LIBNAME "libhttpx"
#elif defined(BENCH_CURL)
#include <curl/curl.h>
#define LIBNAME "libcurl"
#else
#error "define BENCH_HTTPX or BENCH_CURL"
#endif

struct opts {
    const char *mode, *url, *ca, *file;
    long n, warmup, threads, conc;
    long keepalive; /* --keepalive K: multi's max keep-alive connections (default --conc; 0 = a new connection per GET) */
    long long expect;
    size_t bufsize;
    int http2; /* --http2: ask for HTTP/2 (ALPN h2) */
    int debug; /* --debug: a debug hook that only counts bytes (issue 12) */
};
static struct opts O = {.mode = "get", .n = 1000, .warmup = -1, .threads = 1, .conc = 100, .keepalive = -1, .expect = -1, .bufsize = 65536};

static void die(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "[%s] ", LIBNAME);
    fprintf(stderr, fmt, a ? a : "", b ? b : "");
    fputc('\n', stderr);
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
static double tv_s(struct timeval tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

/* Upload source: pread() from one fd; offset per transfer. */
struct upsrc {
    int fd;
    long long off, size;
};
static long long file_size(const char *p) {
    struct stat st;
    if (stat(p, &st) != 0) die("cannot stat %s%s", p, NULL);
    return (long long)st.st_size;
}
static size_t up_read(struct upsrc *u, char *buf, size_t cap) {
    long long left = u->size - u->off;
    if (left <= 0) return 0;
    if ((long long)cap > left) cap = (size_t)left;
    for (;;) {
        ssize_t r = pread(u->fd, buf, cap, (off_t)u->off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return (size_t)-1;
        u->off += r;
        return (size_t)r;
    }
}

/* ------------------------------------------------------------------------------------ */
#if defined(BENCH_HTTPX)

static const char *lib_version(void) { return httpx_version(); }

static void check(httpx_code c, httpx_error *e, const char *what) {
    if (c == HTTPX_OK) return;
    char msg[512];
    snprintf(msg, sizeof msg, "%s: %s", httpx_code_str(c), e ? httpx_error_message(e) : "");
    die("%s failed: %s", what, msg);
}

static httpx_client *CLIENT;

/* --debug: the cheapest useful hook (counts what it is shown), so the row measures
 * what the library spends on producing the events. */
static unsigned long long DEBUG_BYTES;
static void debug_count(void *ud, uint32_t kind, const uint8_t *data, uintptr_t len) {
    (void)ud;
    (void)kind;
    (void)data;
    __atomic_fetch_add(&DEBUG_BYTES, len, __ATOMIC_RELAXED);
}

/* newclient: a client in its default configuration (trust_env on: proxy environment,
 * SSL_CERT_FILE, .netrc), made and freed per request. */
static void one_newclient(void) {
    httpx_client_config *cfg = NULL;
    httpx_client *c = NULL;
    httpx_response *r = NULL;
    httpx_error *e = NULL;
    check(httpx_client_config_new(&cfg), NULL, "config_new");
    check(httpx_client_new(cfg, &c, &e), e, "client_new");
    httpx_client_config_free(cfg);
    check(httpx_client_get(c, O.url, &r, &e), e, "get");
    if (httpx_response_status(r) != 200) die("status %s%s", "!= 200", NULL);
    const uint8_t *d = NULL;
    uintptr_t len = 0;
    check(httpx_response_body(r, &d, &len, &e), e, "response_body");
    if (O.expect >= 0 && (long long)len != O.expect) die("body length mismatch%s%s", NULL, NULL);
    httpx_response_free(r);
    httpx_client_free(c);
}

static void setup(void) {
    httpx_client_config *cfg = NULL;
    httpx_error *e = NULL;
    check(httpx_client_config_new(&cfg), NULL, "config_new");
    check(httpx_client_config_set_timeouts(cfg, 10, 60, 60, 10), NULL, "set_timeouts");
    check(httpx_client_config_set_trust_env(cfg, 0), NULL, "set_trust_env");
    if (strcmp(O.mode, "newconn") == 0 || strcmp(O.mode, "newclient") == 0)
        check(httpx_client_config_set_limits(cfg, 100, 0, 5.0), NULL, "set_limits");
    else if (strcmp(O.mode, "multi") == 0)
        check(httpx_client_config_set_limits(cfg, O.conc, O.keepalive < 0 ? O.conc : O.keepalive, 60.0), NULL, "set_limits");
    else
        check(httpx_client_config_set_limits(cfg, 100, 20, 60.0), NULL, "set_limits");
    if (O.ca) check(httpx_client_config_set_ca_file(cfg, O.ca), NULL, "set_ca_file");
    if (O.http2) check(httpx_client_config_set_http2(cfg, 1), NULL, "set_http2");
    if (O.debug) check(httpx_client_config_set_debug(cfg, debug_count, NULL, NULL), NULL, "set_debug");
    check(httpx_client_new(cfg, &CLIENT, &e), e, "client_new");
    httpx_client_config_free(cfg);
}
static void teardown(void) { httpx_client_free(CLIENT); }

struct worker { long long bytes; int tid; };

static void one_get(struct worker *w) {
    if (strcmp(O.mode, "newclient") == 0) {
        one_newclient();
        w->bytes += O.expect > 0 ? O.expect : 0;
        return;
    }
    httpx_response *r = NULL;
    httpx_error *e = NULL;
    check(httpx_client_get(CLIENT, O.url, &r, &e), e, "get");
    if (httpx_response_status(r) != 200) die("status %s%s", "!= 200", NULL);
    const uint8_t *d = NULL;
    uintptr_t len = 0;
    check(httpx_response_body(r, &d, &len, &e), e, "response_body");
    if (O.expect >= 0 && (long long)len != O.expect) die("body length mismatch%s%s", NULL, NULL);
    w->bytes += (long long)len;
    httpx_response_free(r);
}

static uint8_t *BUF;
static void one_stream(struct worker *w) {
    httpx_request *q = NULL;
    httpx_response *r = NULL;
    httpx_error *e = NULL;
    check(httpx_request_build(CLIENT, "GET", O.url, &q, &e), e, "request_build");
    check(httpx_client_send_stream(CLIENT, q, &r, &e), e, "send_stream");
    if (httpx_response_status(r) != 200) die("status %s%s", "!= 200", NULL);
    long long got = 0;
    for (;;) {
        uintptr_t n = 0;
        check(httpx_response_read(r, BUF, O.bufsize, &n, &e), e, "response_read");
        if (n == 0) break;
        got += (long long)n;
    }
    if (O.expect >= 0 && got != O.expect) die("body length mismatch%s%s", NULL, NULL);
    w->bytes += got;
    httpx_response_free(r);
    httpx_request_free(q);
}

static httpx_code up_cb(void *ud, uint8_t *buf, uintptr_t cap, uintptr_t *n_out) {
    size_t n = up_read((struct upsrc *)ud, (char *)buf, cap);
    if (n == (size_t)-1) return 1;
    *n_out = n;
    return HTTPX_OK;
}
static int UPFD = -1;
static void one_upload(struct worker *w) {
    struct upsrc *u = malloc(sizeof *u);
    u->fd = UPFD; u->off = 0; u->size = file_size(O.file);
    httpx_request *q = NULL;
    httpx_response *r = NULL;
    httpx_error *e = NULL;
    check(httpx_request_build(CLIENT, "POST", O.url, &q, &e), e, "request_build");
    check(httpx_request_set_header(q, "Content-Type", "application/octet-stream"), NULL, "set_header");
    check(httpx_request_set_body_reader(q, up_cb, u, free, u->size), NULL, "set_body_reader");
    long long size = u->size;
    check(httpx_client_send(CLIENT, q, &r, &e), e, "send(upload)");
    if (httpx_response_status(r) != 200) die("upload status %s%s", "!= 200", NULL);
    w->bytes += size;
    httpx_response_free(r);
    httpx_request_free(q);
}


/* multi: `total` GETs, O.conc in flight, one thread, one multi driven by poll(). */
static void run_multi(struct worker *w, long total) {
    if (total <= 0) return;
    httpx_multi *m = NULL;
    httpx_request *q = NULL;
    httpx_error *e = NULL;
    check(httpx_multi_new(CLIENT, &m), NULL, "multi_new");
    check(httpx_request_build(CLIENT, "GET", O.url, &q, &e), e, "request_build");
    long started = 0, done = 0;
    while (started < total && started < O.conc) check(httpx_multi_add(m, q, (uint64_t)started++, &e), e, "multi_add");
    while (done < total) {
        double t = -1;
        uint32_t running = 0;
        httpx_multi_timeout(m, &t);
        struct pollfd p = {httpx_multi_fd(m), POLLIN, 0};
        if (t != 0) poll(&p, 1, t < 0 ? 1000 : (int)(t * 1000.0) + 1);
        check(httpx_multi_perform(m, 0, &running), NULL, "multi_perform");
        httpx_completion *c = NULL;
        while (httpx_multi_next(m, &c) == HTTPX_OK && c) {
            httpx_response *r = NULL;
            if (httpx_completion_code(c) != HTTPX_OK)
                die("multi transfer failed: %s%s", httpx_error_message(httpx_completion_error(c)), NULL);
            check(httpx_completion_take_response(c, &r), NULL, "take_response");
            if (httpx_response_status(r) != 200) die("status %s%s", "!= 200", NULL);
            const uint8_t *d = NULL;
            uintptr_t len = 0;
            check(httpx_response_body(r, &d, &len, &e), e, "response_body");
            if (O.expect >= 0 && (long long)len != O.expect) die("body length mismatch%s%s", NULL, NULL);
            w->bytes += (long long)len;
            httpx_response_free(r);
            httpx_completion_free(c);
            done++;
            if (started < total) check(httpx_multi_add(m, q, (uint64_t)started++, &e), e, "multi_add");
        }
    }
    httpx_request_free(q);
    httpx_multi_free(m);
}

#else /* BENCH_CURL ----------------------------------------------------------------- */

static const char *lib_version(void) { return curl_version(); }

static CURLSH *SHARE;
static pthread_mutex_t LOCKS[CURL_LOCK_DATA_LAST];
static void lock_cb(CURL *h, curl_lock_data d, curl_lock_access a, void *u) {
    (void)h; (void)a; (void)u;
    pthread_mutex_lock(&LOCKS[d]);
}
static void unlock_cb(CURL *h, curl_lock_data d, void *u) {
    (void)h; (void)u;
    pthread_mutex_unlock(&LOCKS[d]);
}

struct worker {
    long long bytes;
    int tid;
    CURL *h;
    char *mem;          /* get: body buffer, reused across requests */
    size_t mem_len, mem_cap;
    long long streamed; /* stream: bytes seen */
};

static size_t write_mem(char *p, size_t sz, size_t n, void *ud) {
    struct worker *w = ud;
    size_t len = sz * n;
    if (w->mem_len + len > w->mem_cap) {
        size_t cap = w->mem_cap ? w->mem_cap : 4096;
        while (cap < w->mem_len + len) cap *= 2;
        char *m = realloc(w->mem, cap);
        if (!m) return 0;
        w->mem = m; w->mem_cap = cap;
    }
    memcpy(w->mem + w->mem_len, p, len);
    w->mem_len += len;
    return len;
}
static size_t write_drop(char *p, size_t sz, size_t n, void *ud) {
    (void)p;
    ((struct worker *)ud)->streamed += (long long)(sz * n);
    return sz * n;
}
static size_t read_cb(char *buf, size_t sz, size_t n, void *ud) {
    size_t r = up_read((struct upsrc *)ud, buf, sz * n);
    return r == (size_t)-1 ? CURL_READFUNC_ABORT : r;
}

static void setup(void) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) die("curl_global_init%s%s", NULL, NULL);
    if (O.threads > 1) {
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&LOCKS[i], NULL);
        SHARE = curl_share_init();
        curl_share_setopt(SHARE, CURLSHOPT_LOCKFUNC, lock_cb);
        curl_share_setopt(SHARE, CURLSHOPT_UNLOCKFUNC, unlock_cb);
        curl_share_setopt(SHARE, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        curl_share_setopt(SHARE, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(SHARE, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
}
static void teardown(void) {
    if (SHARE) curl_share_cleanup(SHARE);
    curl_global_cleanup();
}

static struct curl_slist *UPHDRS;
/* --debug: as for libhttpx, a hook that only counts bytes. */
static unsigned long long DEBUG_BYTES;
static int debug_count(CURL *h, curl_infotype kind, char *data, size_t len, void *ud) {
    (void)h;
    (void)kind;
    (void)data;
    (void)ud;
    __atomic_fetch_add(&DEBUG_BYTES, len, __ATOMIC_RELAXED);
    return 0;
}

static void worker_init(struct worker *w) {
    CURL *h = curl_easy_init();
    if (!h) die("curl_easy_init%s%s", NULL, NULL);
    w->h = h;
    curl_easy_setopt(h, CURLOPT_URL, O.url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");          /* ignore *_proxy env, like trust_env=0 */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    if (O.ca) curl_easy_setopt(h, CURLOPT_CAINFO, O.ca);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, O.http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    if (SHARE) curl_easy_setopt(h, CURLOPT_SHARE, SHARE);
    if (O.debug) {
        curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_count);
        curl_easy_setopt(h, CURLOPT_VERBOSE, 1L); /* curl calls DEBUGFUNCTION only when verbose */
    }
    /* newconn, and the multi with --keepalive 0: a new connection per GET */
    if (strcmp(O.mode, "newconn") == 0 || (strcmp(O.mode, "multi") == 0 && O.keepalive == 0))
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    if (strcmp(O.mode, "stream") == 0) {
        curl_easy_setopt(h, CURLOPT_BUFFERSIZE, (long)O.bufsize);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_drop);
    } else {
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_mem);
    }
    curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
    if (strcmp(O.mode, "upload") == 0) {
        UPHDRS = curl_slist_append(NULL, "Expect:");
        UPHDRS = curl_slist_append(UPHDRS, "Content-Type: application/octet-stream");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, UPHDRS);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    }
}
static void worker_fini(struct worker *w) {
    curl_easy_cleanup(w->h);
    free(w->mem);
}

static void perform(struct worker *w, const char *what) {
    CURLcode c = curl_easy_perform(w->h);
    if (c != CURLE_OK) die("%s failed: %s", what, curl_easy_strerror(c));
    long st = 0;
    curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &st);
    if (st != 200) die("%s: status %s", what, "!= 200");
}
static void one_get(struct worker *w) {
    if (strcmp(O.mode, "newclient") == 0) { /* a new easy handle (default options + ours) */
        worker_fini(w);
        w->mem = NULL;
        w->mem_cap = 0;
        worker_init(w);
    }
    w->mem_len = 0;
    perform(w, "get");
    if (O.expect >= 0 && (long long)w->mem_len != O.expect) die("body length mismatch%s%s", NULL, NULL);
    w->bytes += (long long)w->mem_len;
}
static void one_stream(struct worker *w) {
    w->streamed = 0;
    perform(w, "stream");
    if (O.expect >= 0 && w->streamed != O.expect) die("body length mismatch%s%s", NULL, NULL);
    w->bytes += w->streamed;
}
static int UPFD = -1;
static void one_upload(struct worker *w) {
    struct upsrc u = {UPFD, 0, file_size(O.file)};
    curl_easy_setopt(w->h, CURLOPT_READDATA, &u);
    curl_easy_setopt(w->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)u.size);
    w->mem_len = 0;
    perform(w, "upload");
    if (u.off != u.size) die("upload: body not fully sent%s%s", NULL, NULL);
    w->bytes += u.size;
}



/* multi: `total` GETs, O.conc easy handles in flight on one curl_multi, one thread. */
static void run_multi(struct worker *w, long total) {
    if (total <= 0) return;
    long conc = O.conc < total ? O.conc : total;
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, conc);
    struct worker *hs = calloc((size_t)conc, sizeof *hs);
    long started = 0, done = 0;
    for (long i = 0; i < conc; i++) {
        worker_init(&hs[i]);
        curl_easy_setopt(hs[i].h, CURLOPT_PRIVATE, (void *)&hs[i]);
        curl_multi_add_handle(m, hs[i].h);
        started++;
    }
    while (done < total) {
        int still = 0;
        curl_multi_perform(m, &still);
        CURLMsg *msg;
        int left = 0;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            struct worker *hw = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&hw);
            for (long i = 0; i < conc && !hw; i++)
                if (hs[i].h == msg->easy_handle) hw = &hs[i];
            if (msg->data.result != CURLE_OK) die("multi transfer failed: %s%s", curl_easy_strerror(msg->data.result), NULL);
            long st = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &st);
            if (st != 200) die("status %s%s", "!= 200", NULL);
            if (O.expect >= 0 && (long long)hw->mem_len != O.expect) die("body length mismatch%s%s", NULL, NULL);
            w->bytes += (long long)hw->mem_len;
            hw->mem_len = 0;
            done++;
            curl_multi_remove_handle(m, msg->easy_handle);
            if (started < total) {
                curl_multi_add_handle(m, hw->h);
                started++;
            }
        }
        if (done < total) curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    for (long i = 0; i < conc; i++) worker_fini(&hs[i]);
    free(hs);
    curl_multi_cleanup(m);
}
#endif

/* ------------------------------------------------------------------------------------ */
#if defined(BENCH_HTTPX)
static void worker_init(struct worker *w) { (void)w; }
static void worker_fini(struct worker *w) { (void)w; }
#endif

static void one(struct worker *w) {
    if (strcmp(O.mode, "get") == 0 || strcmp(O.mode, "newconn") == 0 || strcmp(O.mode, "newclient") == 0) one_get(w);
    else if (strcmp(O.mode, "stream") == 0) one_stream(w);
    else if (strcmp(O.mode, "upload") == 0) one_upload(w);
    else die("unknown mode %s%s", O.mode, NULL);
}

static pthread_barrier_t START, DONE;
static void *thread_main(void *arg) {
    struct worker *w = arg;
    if (strcmp(O.mode, "multi") == 0) {
        run_multi(w, O.warmup);
        w->bytes = 0;
        pthread_barrier_wait(&START);
        run_multi(w, O.n);
        pthread_barrier_wait(&DONE);
        return NULL;
    }
    worker_init(w);
    for (long i = 0; i < O.warmup; i++) one(w);
    w->bytes = 0;
    pthread_barrier_wait(&START);
    for (long i = 0; i < O.n; i++) one(w);
    pthread_barrier_wait(&DONE);
    worker_fini(w);
    return NULL;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--version") == 0) { printf("%s\n", lib_version()); return 0; }
        if (strcmp(a, "--http2") == 0) { O.http2 = 1; continue; }
        if (strcmp(a, "--debug") == 0) { O.debug = 1; continue; }
        if (!v) die("missing value for %s%s", a, NULL);
        if (strcmp(a, "--mode") == 0) O.mode = v;
        else if (strcmp(a, "--url") == 0) O.url = v;
        else if (strcmp(a, "--ca") == 0) O.ca = v;
        else if (strcmp(a, "--file") == 0) O.file = v;
        else if (strcmp(a, "--n") == 0) O.n = atol(v);
        else if (strcmp(a, "--warmup") == 0) O.warmup = atol(v);
        else if (strcmp(a, "--threads") == 0) O.threads = atol(v);
        else if (strcmp(a, "--conc") == 0) O.conc = atol(v);
        else if (strcmp(a, "--keepalive") == 0) O.keepalive = atol(v);
        else if (strcmp(a, "--expect") == 0) O.expect = atoll(v);
        else if (strcmp(a, "--bufsize") == 0) O.bufsize = (size_t)atol(v);
        else die("unknown option %s%s", a, NULL);
        i++;
    }
    if (!O.url) die("--url is required%s%s", NULL, NULL);
    if (O.threads < 1 || O.threads > 64 || O.n < 1) die("bad --threads/--n%s%s", NULL, NULL);
    if (O.warmup < 0) O.warmup = O.n / 50 < 1 ? 1 : (O.n / 50 > 200 ? 200 : O.n / 50);
    if (strcmp(O.mode, "multi") == 0) {
        if (O.threads != 1 || O.conc < 1) die("multi: one thread, --conc >= 1%s%s", NULL, NULL);
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    if (strcmp(O.mode, "upload") == 0) {
        if (!O.file) die("--file is required for upload%s%s", NULL, NULL);
        UPFD = open(O.file, O_RDONLY);
        if (UPFD < 0) die("cannot open %s%s", O.file, NULL);
    }
#if defined(BENCH_HTTPX)
    BUF = malloc(O.bufsize);
#endif
    setup();

    struct worker *ws = calloc((size_t)O.threads, sizeof *ws);
    pthread_t *ts = calloc((size_t)O.threads, sizeof *ts);
    pthread_barrier_init(&START, NULL, (unsigned)O.threads + 1);
    pthread_barrier_init(&DONE, NULL, (unsigned)O.threads + 1);
    for (long t = 0; t < O.threads; t++) {
        ws[t].tid = (int)t;
        if (pthread_create(&ts[t], NULL, thread_main, &ws[t]) != 0) die("pthread_create%s%s", NULL, NULL);
    }
    pthread_barrier_wait(&START);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    double t0 = now_s();
    pthread_barrier_wait(&DONE);
    double t1 = now_s();
    getrusage(RUSAGE_SELF, &r1);
    long long bytes = 0;
    for (long t = 0; t < O.threads; t++) {
        pthread_join(ts[t], NULL);
        bytes += ws[t].bytes;
    }
    teardown();
    struct rusage rf;
    getrusage(RUSAGE_SELF, &rf);
    printf("RESULT ops=%ld bytes=%lld wall=%.6f utime=%.6f stime=%.6f maxrss_kb=%ld\n",
           O.n * O.threads, bytes, t1 - t0, tv_s(r1.ru_utime) - tv_s(r0.ru_utime),
           tv_s(r1.ru_stime) - tv_s(r0.ru_stime), rf.ru_maxrss);
    return 0;
}
