/*
 * bench/driver.c: the benchmark of libhttpx against libcurl and ureq 3 (issues 7, 16).
 *
 * Runs every workload with each library, interleaved (the order rotates per repetition:
 * rep 1 httpx curl ureq, rep 2 curl ureq httpx, rep 3 ureq httpx curl, ...), each run in
 * its own child process (bench_httpx / bench_curl, built from bench/runner.c, and
 * bench_ureq, built from bench/ureq), so CPU time and peak RSS are per library. Then wrk
 * as the floor. Writes a markdown report (median and min-max over the repetitions, paired
 * ratios to each peer and to the best peer of the row, goals met or missed). Started by
 * scripts/bench.sh, which builds everything, generates the TLS files and data files and
 * runs nginx.
 *
 * usage: bench_driver --bin DIR --http URL --https URL --ca FILE --data DIR --out FILE
 *                     [--quick] [--reps N] [--wrk PATH] [--resume-log FILE]
 *                     [--only ID,ID...] [--meta TEXT]... [--server-pids PID,PID...]
 *                     [--libs httpx,curl[,ureq]] [--no-verdicts WHY]
 * A runner that exits with status 3 does not support the workload (ureq: HTTP/2): n/a.
 * --no-verdicts (scripts/bench.sh passes it for a debug build): no goal is judged.
 * Exit status: 0 when every run succeeded (goals missed do not fail), 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXREPS 32
#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)

enum unit { REQ, BYTES };
enum kind { MAIN, MEM };
/* Where the client and nginx run. PIN: both on one CPU (the first one we may use): the
 * request/response ping-pong then never crosses CPUs; on this VM a cross-CPU wake-up
 * costs ~25 us of extra sys time per request and which placement the scheduler picks
 * varies from run to run (measured: 12k vs 75k req/s for the same binary), which would
 * bury the libraries' own costs in noise. FREE: no pinning (2-thread scaling). */
enum place { PIN, FREE };
enum { HTTPX, CURL, UREQ, NLIBS };
static const char *LIBS[NLIBS] = {"httpx", "curl", "ureq"};
static const char *LIBTITLE[NLIBS] = {"libhttpx", "libcurl", "ureq"};
static int ACTIVE[NLIBS] = {1, 1, 0}; /* --libs */

struct workload {
    const char *id, *title, *mode, *scheme, *path;
    long n_full, n_quick, warmup; /* warmup < 0: runner's default (n/50, 1..200) */
    long long expect;             /* body bytes per request; -1 = don't check */
    int threads;
    enum unit unit;
    enum kind kind;
    const char *file; /* upload source, relative to --data */
    int full_only;
    enum place place;
    long conc; /* mode multi: transfers in flight at once (issue 18) */
    int fresh; /* mode multi: a new connection per GET (runner --keepalive 0; libcurl: FORBID_REUSE) */
    /* results */
    int nrep;
    int ok[NLIBS][MAXREPS];
    double rate[NLIBS][MAXREPS], cpu[NLIBS][MAXREPS], rss_mib[NLIBS][MAXREPS];
    double usr[NLIBS][MAXREPS], sys[NLIBS][MAXREPS]; /* REQ rows: user / system CPU, us per request */
    int failed[NLIBS];
    int unsupported[NLIBS]; /* the runner exited with 3: workload not supported */
};

static struct workload W[] = {
    {"small_http", "keep-alive GET, 13 B body, HTTP", "get", "http", "/", 20000, 2000, -1, 13, 1, REQ, MAIN, NULL, 0, PIN},
    {"small_http_debug", "keep-alive GET, 13 B body, HTTP, with a debug hook (libcurl: DEBUGFUNCTION + VERBOSE)", "get", "http", "/", 20000, 2000, -1, 13, 1, REQ, MAIN, NULL, 0, PIN},
    {"small_https_debug", "keep-alive GET, 13 B body, HTTPS, with a debug hook (libcurl: DEBUGFUNCTION + VERBOSE)", "get", "https", "/", 20000, 2000, -1, 13, 1, REQ, MAIN, NULL, 0, PIN},
    {"k64_http", "keep-alive GET, 64 KiB body, HTTP", "get", "http", "/files/64k.bin", 5000, 500, -1, 65536, 1, REQ, MAIN, NULL, 0, PIN},
    {"newconn_http", "new connection per GET, HTTP", "newconn", "http", "/newconn?lib=", 3000, 300, -1, 13, 1, REQ, MAIN, NULL, 0, PIN},
    {"newclient_http", "new client + new connection per GET, HTTP (default config: trust_env on)", "newclient", "http", "/newconn?lib=", 2000, 200, -1, 13, 1, REQ, MAIN, NULL, 0, PIN},
    {"small_https", "keep-alive GET, 13 B body, HTTPS", "get", "https", "/", 20000, 2000, -1, 13, 1, REQ, MAIN, NULL, 0, PIN},
    {"k64_https", "keep-alive GET, 64 KiB body, HTTPS", "get", "https", "/files/64k.bin", 4000, 400, -1, 65536, 1, REQ, MAIN, NULL, 0, PIN},
    {"small_h2", "keep-alive GET, 13 B body, HTTP/2 (TLS 1.3)", "get", "h2", "/", 20000, 2000, -1, 13, 1, REQ, MAIN, NULL, 0, PIN},
    {"k64_h2", "keep-alive GET, 64 KiB body, HTTP/2 (TLS 1.3)", "get", "h2", "/files/64k.bin", 4000, 400, -1, 65536, 1, REQ, MAIN, NULL, 0, PIN},
    {"newconn_https", "new connection per GET, HTTPS (TLS 1.3)", "newconn", "https", "/newconn?lib=", 800, 100, -1, 13, 1, REQ, MAIN, NULL, 0, PIN},
    {"dl_100m", "download 100 MiB (streamed), HTTP", "stream", "http", "/files/100m.bin", 3, 1, 1, 100 * 1048576LL, 1, BYTES, MAIN, NULL, 0, PIN},
    {"ul_100m", "upload 100 MiB from disk, HTTP", "upload", "http", "/upload", 3, 1, 1, -1, 1, BYTES, MAIN, "up_100m.bin", 0, PIN},
    {"dl_100m_https", "download 100 MiB (streamed), HTTPS", "stream", "https", "/files/100m.bin", 3, 1, 1, 100 * 1048576LL, 1, BYTES, MAIN, NULL, 1, PIN},
    {"small_2t", "keep-alive GET, 13 B, 2 threads sharing one client, HTTP, unpinned", "get", "http", "/", 10000, 1000, -1, 13, 2, REQ, MAIN, NULL, 0, FREE},
    {"small_free", "keep-alive GET, 13 B, 1 thread, HTTP, unpinned (baseline of the line above)", "get", "http", "/", 20000, 2000, -1, 13, 1, REQ, MAIN, NULL, 0, FREE},
    {"delay_1t", "GET with a 2 ms server delay, 1 thread, HTTP", "get", "http", "/delay", 300, 50, 5, 13, 1, REQ, MAIN, NULL, 0, FREE},
    {"delay_2t", "GET with a 2 ms server delay, 2 threads sharing one client, HTTP", "get", "http", "/delay", 300, 50, 5, 13, 2, REQ, MAIN, NULL, 0, FREE},
    {"multi_small", "keep-alive GET, 13 B, 100 in flight through one multi on one thread (libcurl: curl_multi), HTTP", "multi", "http", "/", 20000, 2000, -1, 13, 1, REQ, MAIN, NULL, 0, PIN, 100},
    {"multi_newconn1", "new connection per GET, 1 in flight through one multi on one thread (libcurl: curl_multi), HTTP", "multi", "http", "/newconn?lib=", 3000, 300, -1, 13, 1, REQ, MAIN, NULL, 0, PIN, 1, 1},
    {"multi_newconn100", "new connection per GET, 100 in flight through one multi on one thread (libcurl: curl_multi), no server delay, HTTP", "multi", "http", "/newconn?lib=", 3000, 300, -1, 13, 1, REQ, MAIN, NULL, 0, PIN, 100, 1},
    {"multi_10k", "10,000 GETs in flight at once through one multi on one thread (libcurl: curl_multi), 0.5 s server delay, a new connection each, HTTP", "multi", "http", "/sleep500", 10000, 2000, 0, 13, 1, REQ, MAIN, NULL, 0, FREE, 10000},
    {"dl_1g", "download 1 GiB (streamed), HTTP", "stream", "http", "/files/1g.bin", 1, 1, 0, 1024 * 1048576LL, 1, BYTES, MEM, NULL, 0, PIN},
    {"ul_1g", "upload 1 GiB from disk, HTTP", "upload", "http", "/upload", 1, 1, 0, -1, 1, BYTES, MEM, "up_1g.bin", 0, PIN},
};
#define NW ((int)(sizeof W / sizeof W[0]))

static struct {
    const char *bin, *http, *https, *h2, *ca, *data, *out, *wrk, *resume_log, *only;
    int quick, reps;
    const char *no_verdicts;
    const char *meta[16];
    int nmeta;
} A = {.reps = 0};

static int any_failure;

/* ---------------------------------------------------------------------- placement */
static cpu_set_t ALLCPUS, ONECPU;
static int NCPUS, PINCPU = -1;
static pid_t SERVER_PIDS[64];
static int NSERVER;
static void init_cpus(void) {
    CPU_ZERO(&ALLCPUS);
    sched_getaffinity(0, sizeof ALLCPUS, &ALLCPUS);
    NCPUS = CPU_COUNT(&ALLCPUS);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &ALLCPUS)) { PINCPU = c; break; }
    CPU_ZERO(&ONECPU);
    CPU_SET(PINCPU, &ONECPU);
}
static const cpu_set_t *mask_of(enum place p) { return p == PIN ? &ONECPU : &ALLCPUS; }
/* Move nginx (master and workers; passed by the script) to the placement's CPUs. */
static void place_server(enum place p) {
    for (int i = 0; i < NSERVER; i++) sched_setaffinity(SERVER_PIDS[i], sizeof(cpu_set_t), mask_of(p));
}

static void logf_(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("[bench] ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static double tv_s(struct timeval tv) { return tv.tv_sec + tv.tv_usec / 1e6; }
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run argv with stdout captured into out (NUL-terminated), a hard time limit, and the
 * child's rusage. Returns the exit status (or 128+signal), -1 on spawn failure. */
static int run_child(char *const argv[], char *out, size_t cap, struct rusage *ru, int limit_s, enum place pl) {
    int p[2];
    if (pipe(p) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 1);
        close(p[1]);
        alarm((unsigned)limit_s); /* survives exec: SIGALRM ends a stuck run */
        sched_setaffinity(0, sizeof(cpu_set_t), mask_of(pl));
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    for (;;) {
        ssize_t r = read(p[0], out + len, cap - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
        if (len >= cap - 1) len = 0; /* keep the tail; RESULT is the last line */
    }
    out[len] = 0;
    close(p[0]);
    int st = 0;
    while (wait4(pid, &st, 0, ru) < 0 && errno == EINTR) {}
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

static int wanted(const struct workload *w) {
    if (w->full_only && A.quick) return 0;
    if (!A.only) return 1;
    const char *p = A.only;
    size_t n = strlen(w->id);
    while ((p = strstr(p, w->id))) {
        if ((p == A.only || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return 1;
        p += n;
    }
    return 0;
}

static void run_one(struct workload *w, int lib, int rep) {
    char url[512], n[32], warm[32], expect[32], threads[32], file[512], bin[512], conc[32];
    int h2 = strcmp(w->scheme, "h2") == 0;
    const char *base = h2 ? A.h2 : strcmp(w->scheme, "https") == 0 ? A.https : A.http;
    snprintf(url, sizeof url, "%s%s%s", base, w->path,
             strstr(w->path, "lib=") ? LIBS[lib] : "");
    snprintf(n, sizeof n, "%ld", A.quick ? w->n_quick : w->n_full);
    snprintf(warm, sizeof warm, "%ld", w->warmup);
    snprintf(expect, sizeof expect, "%lld", w->expect);
    snprintf(threads, sizeof threads, "%d", w->threads);
    snprintf(bin, sizeof bin, "%s/bench_%s", A.bin, LIBS[lib]);
    char *argv[32];
    int a = 0;
    argv[a++] = bin;
    argv[a++] = "--mode"; argv[a++] = (char *)w->mode;
    argv[a++] = "--url"; argv[a++] = url;
    argv[a++] = "--n"; argv[a++] = n;
    argv[a++] = "--expect"; argv[a++] = expect;
    argv[a++] = "--threads"; argv[a++] = threads;
    if (w->warmup >= 0) { argv[a++] = "--warmup"; argv[a++] = warm; }
    if (w->conc > 0) {
        snprintf(conc, sizeof conc, "%ld", w->conc < atol(n) ? w->conc : atol(n));
        argv[a++] = "--conc"; argv[a++] = conc;
    }
    if (w->fresh) { argv[a++] = "--keepalive"; argv[a++] = "0"; }
    if ((strcmp(w->scheme, "https") == 0 || h2) && strcmp(w->mode, "newclient") != 0) { argv[a++] = "--ca"; argv[a++] = (char *)A.ca; }
    if (h2) argv[a++] = "--http2";
    if (strstr(w->id, "_debug")) argv[a++] = "--debug"; /* issue 12: hook rows */
    if (w->file) {
        snprintf(file, sizeof file, "%s/%s", A.data, w->file);
        argv[a++] = "--file"; argv[a++] = file;
    }
    argv[a] = NULL;

    char out[4096];
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    place_server(w->place);
    int st = run_child(argv, out, sizeof out, &ru, A.quick ? 60 : 240, w->place);
    long ops = 0, rss = 0;
    long long bytes = 0;
    double wall = 0, ut = 0, sy = 0;
    if (st == 3) {
        if (!w->unsupported[lib]) logf_("%-14s %-5s: not supported by this library (n/a)", w->id, LIBS[lib]);
        w->unsupported[lib] = 1;
        return;
    }
    char *res = strstr(out, "RESULT ");
    if (st != 0 || !res ||
        sscanf(res, "RESULT ops=%ld bytes=%lld wall=%lf utime=%lf stime=%lf maxrss_kb=%ld",
               &ops, &bytes, &wall, &ut, &sy, &rss) != 6 || wall <= 0) {
        logf_("FAILED: %s with %s (rep %d): exit status %d", w->id, LIBS[lib], rep + 1, st);
        w->failed[lib] = 1;
        any_failure = 1;
        return;
    }
    /* ru_maxrss from wait4 is the child's whole-life peak; use the larger (same value). */
    if (ru.ru_maxrss > rss) rss = ru.ru_maxrss;
    double cpu = ut + sy;
    w->ok[lib][rep] = 1;
    w->rss_mib[lib][rep] = rss / 1024.0;
    if (w->unit == REQ) {
        w->rate[lib][rep] = ops / wall;
        w->cpu[lib][rep] = cpu / ops * 1e6; /* us per request */
        w->usr[lib][rep] = ut / ops * 1e6;
        w->sys[lib][rep] = sy / ops * 1e6;
        logf_("%-14s %-5s rep %d: %9.0f req/s  %7.2f us CPU/req (user %.2f + sys %.2f)  rss %.1f MiB", w->id, LIBS[lib],
              rep + 1, w->rate[lib][rep], w->cpu[lib][rep], w->usr[lib][rep], w->sys[lib][rep], w->rss_mib[lib][rep]);
    } else {
        w->rate[lib][rep] = bytes / MIB / wall;
        w->cpu[lib][rep] = cpu / (bytes / GIB); /* CPU seconds per GiB */
        logf_("%-14s %-5s rep %d: %9.1f MiB/s  %7.3f s CPU/GiB  rss %.1f MiB", w->id, LIBS[lib],
              rep + 1, w->rate[lib][rep], w->cpu[lib][rep], w->rss_mib[lib][rep]);
    }
}

/* ---------------------------------------------------------------------------- stats */
static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
struct stat3 { int n; double med, min, max; };
static struct stat3 stats(const double *v, const int *ok, int n) {
    double t[MAXREPS];
    int k = 0;
    for (int i = 0; i < n; i++) if (!ok || ok[i]) t[k++] = v[i];
    struct stat3 s = {k, NAN, NAN, NAN};
    if (!k) return s;
    qsort(t, (size_t)k, sizeof t[0], cmpd);
    s.min = t[0];
    s.max = t[k - 1];
    s.med = k % 2 ? t[k / 2] : (t[k / 2 - 1] + t[k / 2]) / 2;
    return s;
}
/* paired ratios httpx/peer over reps where both succeeded */
static struct stat3 ratio_to(const struct workload *w, const double (*v)[MAXREPS], int peer) {
    double r[MAXREPS];
    int k = 0;
    for (int i = 0; i < w->nrep; i++)
        if (w->ok[HTTPX][i] && w->ok[peer][i] && v[peer][i] > 0) r[k++] = v[HTTPX][i] / v[peer][i];
    return stats(r, NULL, k);
}
static struct stat3 ratio(const struct workload *w, const double (*v)[MAXREPS]) { return ratio_to(w, v, CURL); }
static int has(const struct workload *w, int lib) {
    if (!ACTIVE[lib] || w->unsupported[lib]) return 0;
    for (int i = 0; i < w->nrep; i++) if (w->ok[lib][i]) return 1;
    return 0;
}
/* The best peer of a row: lowest median CPU (higher_better = 0) or highest median rate. */
static int best_peer(const struct workload *w, const double (*v)[MAXREPS], int higher_better) {
    int best = -1;
    double bv = NAN;
    for (int l = 0; l < NLIBS; l++) {
        if (l == HTTPX || !has(w, l)) continue;
        double m = stats(v[l], w->ok[l], w->nrep).med;
        if (best < 0 || (higher_better ? m > bv : m < bv)) { best = l; bv = m; }
    }
    return best;
}
#define V(w, f) ((const double (*)[MAXREPS])(w)->f)

static void fmt_num(char *b, size_t cap, double x) {
    if (isnan(x)) snprintf(b, cap, "n/a");
    else if (fabs(x) >= 1000) {
        char t[64];
        snprintf(t, sizeof t, "%.0f", x);
        /* thousands separators */
        int len = (int)strlen(t), j = 0, lead = len % 3;
        for (int i = 0; i < len; i++) {
            if (i && (i - lead) % 3 == 0 && t[i - 1] != '-') b[j++] = ',';
            b[j++] = t[i];
        }
        b[j] = 0;
    } else if (fabs(x) >= 100) snprintf(b, cap, "%.0f", x);
    else if (fabs(x) >= 10) snprintf(b, cap, "%.1f", x);
    else snprintf(b, cap, "%.2f", x);
}
static const char *cell(char *b, size_t cap, struct stat3 s) {
    char m[48], lo[48], hi[48];
    if (!s.n) { snprintf(b, cap, "FAILED"); return b; }
    fmt_num(m, sizeof m, s.med);
    fmt_num(lo, sizeof lo, s.min);
    fmt_num(hi, sizeof hi, s.max);
    if (s.n == 1) snprintf(b, cap, "%s", m);
    else snprintf(b, cap, "%s (%s-%s)", m, lo, hi);
    return b;
}
static const char *rcell(char *b, size_t cap, struct stat3 s) {
    if (!s.n) { snprintf(b, cap, "n/a"); return b; }
    if (s.n == 1) snprintf(b, cap, "%.2fx", s.med);
    else snprintf(b, cap, "%.2fx (%.2f-%.2f)", s.med, s.min, s.max);
    return b;
}

static struct workload *find(const char *id) {
    for (int i = 0; i < NW; i++)
        if (strcmp(W[i].id, id) == 0 && W[i].nrep > 0) return &W[i];
    return NULL;
}

/* ---------------------------------------------------------------------------- wrk */
struct wrkres { const char *title; int ok; double rps, us_per_req; long reqs; };
static struct wrkres WRK[8];
static int NWRK;

static void run_wrk(const char *title, const char *threads, const char *conns, const char *dur,
                    const char *url, const char *header, enum place pl) {
    struct wrkres *r = &WRK[NWRK++];
    r->title = title;
    char *argv[16];
    int a = 0;
    argv[a++] = (char *)A.wrk;
    argv[a++] = "-t"; argv[a++] = (char *)threads;
    argv[a++] = "-c"; argv[a++] = (char *)conns;
    argv[a++] = "-d"; argv[a++] = (char *)dur;
    if (header) { argv[a++] = "-H"; argv[a++] = (char *)header; }
    argv[a++] = (char *)url;
    argv[a] = NULL;
    char out[8192];
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    place_server(pl);
    int st = run_child(argv, out, sizeof out, &ru, 60, pl);
    char *p = strstr(out, " requests in ");
    char *q = strstr(out, "Requests/sec:");
    if (st != 0 || !p || !q) {
        logf_("wrk failed (%s): status %d", title, st);
        return;
    }
    while (p > out && p[-1] != '\n' && p[-1] != ' ') p--;
    r->reqs = atol(p);
    r->rps = atof(q + strlen("Requests/sec:"));
    char *errs = strstr(out, "Non-2xx");
    if (r->reqs <= 0 || errs) {
        logf_("wrk failed (%s): %s", title, errs ? "non-2xx responses" : "no requests");
        return;
    }
    r->us_per_req = (tv_s(ru.ru_utime) + tv_s(ru.ru_stime)) / r->reqs * 1e6;
    r->ok = 1;
    logf_("wrk %-40s %9.0f req/s  %7.2f us CPU/req", title, r->rps, r->us_per_req);
}

/* The wrk run that does what a workload does (same placement), or NULL. */
static const struct wrkres *wrk_for(const char *id) {
    static const char *ids[] = {"small_http", "small_https", "small_free", NULL, "newconn_http", "newconn_https"};
    for (int i = 0; i < NWRK && i < 6; i++)
        if (ids[i] && strcmp(ids[i], id) == 0 && WRK[i].ok && WRK[i].us_per_req > 0) return &WRK[i];
    return NULL;
}

/* ------------------------------------------------------------------- resumption log */
static void resume_stats(FILE *o) {
    if (!A.resume_log) return;
    FILE *f = fopen(A.resume_log, "r");
    if (!f) return;
    const char *libs[] = {"httpx", "curl", "ureq", "wrk"};
    long tot[2][4] = {{0}}, reused[2][4] = {{0}};
    char sch[16], ru[8], lib[32];
    while (fscanf(f, "%15s %7s %31s", sch, ru, lib) == 3) {
        if (strcmp(sch, "https") != 0) continue;
        for (int i = 0; i < 4; i++)
            if (strcmp(lib, libs[i]) == 0) { tot[1][i]++; reused[1][i] += ru[0] == 'r'; }
    }
    fclose(f);
    if (!tot[1][0] && !tot[1][1] && !tot[1][2] && !tot[1][3]) return;
    fprintf(o, "\nTLS session resumption on the HTTPS new-connection runs (nginx `$ssl_session_reused`, "
               "warm-up included): ");
    for (int i = 0, k = 0; i < 4; i++)
        if (tot[1][i]) fprintf(o, "%s%s %ld/%ld resumed", k++ ? "; " : "", libs[i], reused[1][i], tot[1][i]);
    fprintf(o, ".\n");
}

/* ---------------------------------------------------------------------------- report */
static void goal_line(FILE *o, const char *what, int met, const char *detail) {
    fprintf(o, "| %s | %s | %s |\n", what, met < 0 ? "n/a" : met ? "**met**" : "**missed**", detail);
}

static void report(FILE *o, double elapsed) {
    char b1[200], b2[200];
    fprintf(o, "## libhttpx vs libcurl%s: benchmark results\n\n", ACTIVE[UREQ] ? " and ureq" : "");
    for (int i = 0; i < A.nmeta; i++) fprintf(o, "- %s\n", A.meta[i]);
    fprintf(o, "- %d interleaved repetitions per workload (each run a fresh process per library); "
               "cells: median (min-max). Ratios: median of the per-repetition httpx/peer ratios (each "
               "repetition ran the libraries back to back); the best peer of a row is the one with the "
               "lowest median CPU (highest median rate; lowest RSS).\n",
            A.reps);
    fprintf(o, "- CPU = the client process's user+sys time (getrusage RUSAGE_SELF) around the measured "
               "loop only (setup and warm-up excluded).\n");
    fprintf(o, "- Placement: unless marked unpinned, the client and nginx (%d workers pinned with it) share "
               "CPU %d, so each request/response never crosses CPUs (on this VM a cross-CPU wake-up adds "
               "~25 us of sys time per request and the scheduler's choice varies between runs). "
               "Unpinned runs may use all %d CPUs.\n", NSERVER > 0 ? NSERVER - 1 : 0, PINCPU, NCPUS);
    fprintf(o, "- Run time: %.0f s.%s\n\n", elapsed,
            A.quick ? " **--quick (smoke) run: few requests, numbers are rough.**" : "");

    /* Client CPU: each library, paired ratios to each peer, to the best peer of the row
     * (the peer with the lowest median CPU), and to wrk where wrk ran the same thing. */
    fprintf(o, "Client CPU (user+sys per request or per GiB):\n\n| workload |");
    for (int l = 0; l < NLIBS; l++) if (ACTIVE[l]) fprintf(o, " %s |", LIBTITLE[l]);
    for (int l = 1; l < NLIBS; l++) if (ACTIVE[l]) fprintf(o, " httpx/%s |", LIBS[l]);
    fprintf(o, " **httpx/best peer** | httpx/wrk |\n|---|");
    for (int l = 0; l < NLIBS; l++) if (ACTIVE[l]) fprintf(o, "---:|");
    for (int l = 1; l < NLIBS; l++) if (ACTIVE[l]) fprintf(o, "---:|");
    fprintf(o, "---:|---:|\n");
    for (int i = 0; i < NW; i++) {
        struct workload *w = &W[i];
        if (w->kind != MAIN || !w->nrep) continue;
        const char *cu = w->unit == REQ ? " us/req" : " s/GiB";
        fprintf(o, "| %s |", w->title);
        for (int l = 0; l < NLIBS; l++) {
            if (!ACTIVE[l]) continue;
            if (w->unsupported[l]) fprintf(o, " n/a (unsupported) |");
            else fprintf(o, " %s%s |", cell(b1, sizeof b1, stats(w->cpu[l], w->ok[l], w->nrep)), cu);
        }
        for (int l = 1; l < NLIBS; l++)
            if (ACTIVE[l]) fprintf(o, " %s |", rcell(b1, sizeof b1, ratio_to(w, V(w, cpu), l)));
        int bp = best_peer(w, V(w, cpu), 0);
        if (bp < 0) fprintf(o, " n/a |");
        else fprintf(o, " **%s** (%s) |", rcell(b1, sizeof b1, ratio_to(w, V(w, cpu), bp)), LIBS[bp]);
        const struct wrkres *wr = wrk_for(w->id);
        if (wr) fprintf(o, " %.2fx |\n", stats(w->cpu[HTTPX], w->ok[HTTPX], w->nrep).med / wr->us_per_req);
        else fprintf(o, " |\n");
    }
    /* The split of the per-request rows: user space (the library's own code) vs kernel
     * (syscalls, the TCP stack, scheduler wake-ups), e.g. the multi's rows against the
     * blocking ones (issue 18). */
    fprintf(o, "\nUser / system split of the client CPU (us per request, median of the repetitions):\n\n| workload |");
    for (int l = 0; l < NLIBS; l++) if (ACTIVE[l]) fprintf(o, " %s user | %s sys |", LIBTITLE[l], LIBTITLE[l]);
    fprintf(o, "\n|---|");
    for (int l = 0; l < NLIBS; l++) if (ACTIVE[l]) fprintf(o, "---:|---:|");
    fprintf(o, "\n");
    for (int i = 0; i < NW; i++) {
        struct workload *w = &W[i];
        if (w->kind != MAIN || !w->nrep || w->unit != REQ) continue;
        fprintf(o, "| %s |", w->title);
        for (int l = 0; l < NLIBS; l++) {
            if (!ACTIVE[l]) continue;
            if (!has(w, l)) { fprintf(o, " n/a | n/a |"); continue; }
            fmt_num(b1, sizeof b1, stats(w->usr[l], w->ok[l], w->nrep).med);
            fmt_num(b2, sizeof b2, stats(w->sys[l], w->ok[l], w->nrep).med);
            fprintf(o, " %s | %s |", b1, b2);
        }
        fprintf(o, "\n");
    }
    fprintf(o, "\nRate (requests/s or MiB/s over the measured loop):\n\n| workload |");
    for (int l = 0; l < NLIBS; l++) if (ACTIVE[l]) fprintf(o, " %s |", LIBTITLE[l]);
    fprintf(o, " **httpx/best peer** |\n|---|");
    for (int l = 0; l < NLIBS; l++) if (ACTIVE[l]) fprintf(o, "---:|");
    fprintf(o, "---:|\n");
    for (int i = 0; i < NW; i++) {
        struct workload *w = &W[i];
        if (w->kind != MAIN || !w->nrep) continue;
        const char *ru = w->unit == REQ ? " req/s" : " MiB/s";
        fprintf(o, "| %s |", w->title);
        for (int l = 0; l < NLIBS; l++) {
            if (!ACTIVE[l]) continue;
            if (w->unsupported[l]) fprintf(o, " n/a |");
            else fprintf(o, " %s%s |", cell(b1, sizeof b1, stats(w->rate[l], w->ok[l], w->nrep)), ru);
        }
        int bp = best_peer(w, V(w, rate), 1);
        if (bp < 0) fprintf(o, " n/a |\n");
        else fprintf(o, " **%s** (%s) |\n", rcell(b1, sizeof b1, ratio_to(w, V(w, rate), bp)), LIBS[bp]);
    }
    int any_wrk = 0;
    for (int i = 0; i < NWRK; i++) any_wrk |= WRK[i].ok;
    if (any_wrk) {
        fprintf(o, "\nFloor: wrk, same placement (CPU per request = wrk's user+sys from wait4 / requests, its "
                   "start-up included).\n\n");
        fprintf(o, "| wrk run | rate | CPU |\n|---|---:|---:|\n");
        for (int i = 0; i < NWRK; i++) {
            if (!WRK[i].ok) continue;
            fmt_num(b1, sizeof b1, WRK[i].rps);
            fmt_num(b2, sizeof b2, WRK[i].us_per_req);
            fprintf(o, "| %s | %s req/s | %s us/req |\n", WRK[i].title, b1, b2);
        }
    }
    resume_stats(o);

    /* Memory */
    fprintf(o, "\nPeak RSS (ru_maxrss of the run's process, MiB; median over repetitions):\n\n| workload |");
    for (int l = 0; l < NLIBS; l++) if (ACTIVE[l]) fprintf(o, " %s |", LIBTITLE[l]);
    fprintf(o, " **httpx/best peer** |\n|---|");
    for (int l = 0; l < NLIBS; l++) if (ACTIVE[l]) fprintf(o, "---:|");
    fprintf(o, "---:|\n");
    /* peak[l]: max over the MAIN rows; peak_vs[l]: httpx's max over the rows l also ran */
    double peak[NLIBS] = {0}, peak_vs[NLIBS] = {0};
    for (int i = 0; i < NW; i++) {
        struct workload *w = &W[i];
        if (!w->nrep) continue;
        struct stat3 h = stats(w->rss_mib[HTTPX], w->ok[HTTPX], w->nrep);
        fprintf(o, "| %s |", w->title);
        int bp = -1;
        double bv = NAN;
        for (int l = 0; l < NLIBS; l++) {
            if (!ACTIVE[l]) continue;
            struct stat3 c = stats(w->rss_mib[l], w->ok[l], w->nrep);
            if (!has(w, l)) { fprintf(o, " n/a |"); continue; }
            fprintf(o, " %.1f |", c.med);
            if (l != HTTPX && (bp < 0 || c.med < bv)) { bp = l; bv = c.med; }
            /* multi_10k holds 10,000 transfers at once: judged by its own goal
             * (memory per in-flight transfer), not by the whole-process peak. */
            if (w->kind == MAIN && w->conc < 1000) {
                if (c.max > peak[l]) peak[l] = c.max;
                if (h.n && h.max > peak_vs[l]) peak_vs[l] = h.max;
            }
        }
        if (bp < 0 || !h.n) fprintf(o, " n/a |\n");
        else fprintf(o, " %.2fx (%s) |\n", h.med / bv, LIBS[bp]);
    }

    /* Goals */
    if (A.no_verdicts) {
        fprintf(o, "\nGoals: %s: no verdicts (only a release build measures anything).\n", A.no_verdicts);
        if (any_failure) fprintf(o, "\n**Some runs FAILED: see the log.**\n");
        return;
    }
    fprintf(o, "\nGoals (issue 16; client CPU from the same run, against the best peer of each row):\n\n"
               "| goal | status | measured |\n|---|---|---|\n");
    for (int i = 0; i < NW; i++) {
        struct workload *w = &W[i];
        if (w->kind != MAIN || !w->nrep) continue;
        int bp = best_peer(w, V(w, cpu), 0);
        snprintf(b2, sizeof b2, "%s: CPU <= 1.0x the best peer", w->title);
        if (bp < 0) { goal_line(o, b2, -1, "no peer ran it"); continue; }
        struct stat3 r = ratio_to(w, V(w, cpu), bp);
        if (!r.n) { goal_line(o, b2, -1, "no paired runs"); continue; }
        snprintf(b1, sizeof b1, "%.2fx %s", r.med, LIBS[bp]);
        if (r.med > 1.0 && r.med <= 1.03) fprintf(o, "| %s | **tie** | %s (within 3%%) |\n", b2, b1);
        else goal_line(o, b2, r.med <= 1.0, b1);
    }
    const char *ka[] = {"small_http", "small_https"};
    for (int g = 0; g < 2; g++) {
        struct workload *w = find(ka[g]);
        const struct wrkres *wr = wrk_for(ka[g]);
        if (!w || !wr) continue;
        double r = stats(w->cpu[HTTPX], w->ok[HTTPX], w->nrep).med / wr->us_per_req;
        snprintf(b2, sizeof b2, "%s: CPU <= 1.1x wrk", w->title);
        snprintf(b1, sizeof b1, "%.2fx (httpx %.2f us, wrk %.2f us per request)", r,
                 stats(w->cpu[HTTPX], w->ok[HTTPX], w->nrep).med, wr->us_per_req);
        goal_line(o, b2, r <= 1.1, b1);
    }
    if (ACTIVE[UREQ] && peak[UREQ] > 0) {
        snprintf(b1, sizeof b1, "max over the rows both ran (not the 1 GiB ones): httpx %.1f MiB, ureq %.1f MiB",
                 peak_vs[UREQ], peak[UREQ]);
        goal_line(o, "peak RSS <= ureq's", peak_vs[UREQ] <= peak[UREQ], b1);
    }

    fprintf(o, "\nGoals (issue 7; client CPU from the same run):\n\n| goal | status | measured |\n|---|---|---|\n");
    struct { const char *id, *what; double max; } cpug[] = {
        {"small_http", "keep-alive small GET, HTTP: CPU/req <= 0.8x libcurl", 0.8},
        {"small_https", "keep-alive small GET, HTTPS: CPU/req <= 0.8x libcurl", 0.8},
        {"newconn_http", "new connection per request, HTTP: CPU/req <= 0.8x libcurl", 0.8},
        {"newconn_https", "new connection per request, HTTPS: CPU/req <= 0.3x libcurl", 0.3},
    };
    for (size_t g = 0; g < sizeof cpug / sizeof cpug[0]; g++) {
        struct workload *w = find(cpug[g].id);
        struct stat3 r = w ? ratio(w, (const double (*)[MAXREPS])w->cpu) : (struct stat3){0, NAN, NAN, NAN};
        if (!r.n) { goal_line(o, cpug[g].what, -1, "not run"); continue; }
        snprintf(b1, sizeof b1, "%.2fx (%s by %.0f%%)", r.med, r.med <= cpug[g].max ? "under" : "over",
                 fabs(r.med / cpug[g].max - 1) * 100);
        goal_line(o, cpug[g].what, r.med <= cpug[g].max, b1);
    }
    const char *xfer[] = {"dl_100m", "ul_100m", "dl_100m_https"};
    for (int g = 0; g < 3; g++) {
        struct workload *w = find(xfer[g]);
        if (!w) continue;
        struct stat3 rr = ratio(w, (const double (*)[MAXREPS])w->rate), rc = ratio(w, (const double (*)[MAXREPS])w->cpu);
        snprintf(b1, sizeof b1, "%s: MiB/s >= libcurl and CPU/GiB <= libcurl", w->title);
        int met = rr.med >= 1.0 && rc.med <= 1.0;
        /* within 3% of libcurl on both: a tie, inside the run-to-run spread */
        int tie = !met && rr.med >= 0.97 && rc.med <= 1.03;
        snprintf(b2, sizeof b2, "rate %.3fx, CPU %.3fx%s", rr.med, rc.med, tie ? " (tie: within 3%)" : "");
        if (tie) fprintf(o, "| %s | **tie** | %s |\n", b1, b2);
        else goal_line(o, b1, rr.n ? met : -1, b2);
    }
    struct workload *one = find("small_free"), *two = find("small_2t");
    if (one && two) {
        double s[NLIBS];
        for (int l = 0; l < NLIBS; l++)
            s[l] = stats(two->rate[l], two->ok[l], two->nrep).med / stats(one->rate[l], one->ok[l], one->nrep).med;
        double ceil_ = NAN;
        if (NWRK >= 4 && WRK[2].ok && WRK[3].ok) ceil_ = WRK[3].rps / WRK[2].rps;
        snprintf(b1, sizeof b1, "httpx %.2fx single-thread, both unpinned (libcurl %.2fx; wrk -c2/-c1 here: %.2fx)", s[HTTPX],
                 s[CURL], ceil_);
        goal_line(o, "2 threads on one client: >= 1.8x single-thread rate (CPU-bound, 13 B GET)", s[HTTPX] >= 1.8, b1);
    }
    one = find("delay_1t"), two = find("delay_2t");
    if (one && two) {
        double s[NLIBS];
        for (int l = 0; l < NLIBS; l++)
            s[l] = stats(two->rate[l], two->ok[l], two->nrep).med / stats(one->rate[l], one->ok[l], one->nrep).med;
        snprintf(b1, sizeof b1, "httpx %.2fx single-thread (libcurl %.2fx)", s[HTTPX], s[CURL]);
        goal_line(o, "2 threads on one client: >= 1.8x single-thread rate (latency-bound, 2 ms server delay)", s[HTTPX] >= 1.8, b1);
    }
    snprintf(b1, sizeof b1, "max over the workloads above (not the 1 GiB ones, not multi_10k): httpx %.1f MiB, curl %.1f MiB",
             peak[HTTPX], peak[CURL]);
    goal_line(o, "peak RSS <= libcurl's", peak[HTTPX] > 0 && peak[CURL] > 0 ? peak[HTTPX] <= peak[CURL] : -1, b1);
    struct { const char *small, *big, *what; } flat[] = {
        {"dl_100m", "dl_1g", "download RSS flat (1 GiB vs 100 MiB, growth < 4 MiB)"},
        {"ul_100m", "ul_1g", "upload RSS flat (1 GiB vs 100 MiB, growth < 4 MiB)"},
    };
    for (int g = 0; g < 2; g++) {
        struct workload *a = find(flat[g].small), *z = find(flat[g].big);
        if (!a || !z) continue;
        double d[NLIBS];
        for (int l = 0; l < NLIBS; l++)
            d[l] = stats(z->rss_mib[l], z->ok[l], z->nrep).med - stats(a->rss_mib[l], a->ok[l], a->nrep).med;
        snprintf(b1, sizeof b1, "httpx %+.1f MiB (libcurl %+.1f MiB)", d[HTTPX], d[CURL]);
        goal_line(o, flat[g].what, isnan(d[HTTPX]) ? -1 : d[HTTPX] < 4.0, b1);
    }
    /* Issue 18: the multi's CPU per request against the blocking client's (same kind of
     * request: keep-alive vs keep-alive, new connection vs new connection), and its memory
     * per in-flight transfer (peak RSS of the 10k run minus the keep-alive run's, / 10,000).
     * Like for like: multi_newconn1 does what newconn_http does (one new connection at a
     * time, no server delay) through the multi; multi_newconn100 the same with 100 in
     * flight. The 10k row also pays kernel work the sequential blocking row does not
     * (10,000 sockets connecting at once, an epoll set of 10,000, 0.5 s of waiting). */
    struct { const char *multi, *blocking, *what; } mvb[] = {
        {"multi_small", "small_http", "multi, keep-alive GET (100 in flight): CPU/req <= the blocking client's (small_http)"},
        {"multi_newconn1", "newconn_http", "multi, new connection per GET, 1 in flight (like for like): CPU/req <= the blocking client's new-connection GET (newconn_http)"},
        {"multi_newconn100", "newconn_http", "multi, new connection per GET, 100 in flight, no server delay: CPU/req <= the blocking client's new-connection GET (newconn_http)"},
        {"multi_10k", "newconn_http", "multi, 10,000 in flight at once, 0.5 s server delay, new connection each (not like for like: also 10,000 sockets connecting at once, which the sequential blocking row never has): CPU/req <= the blocking client's new-connection GET (newconn_http)"},
    };
    for (int g = 0; g < (int)(sizeof mvb / sizeof mvb[0]); g++) {
        struct workload *mw = find(mvb[g].multi), *bw = find(mvb[g].blocking);
        if (!mw || !bw || !has(mw, HTTPX) || !has(bw, HTTPX)) { goal_line(o, mvb[g].what, -1, "not run"); continue; }
        double mc = stats(mw->cpu[HTTPX], mw->ok[HTTPX], mw->nrep).med, bc = stats(bw->cpu[HTTPX], bw->ok[HTTPX], bw->nrep).med;
        double cc = stats(mw->cpu[CURL], mw->ok[CURL], mw->nrep).med;
        snprintf(b1, sizeof b1, "multi %.2f us, blocking %.2f us (%.2fx); libcurl multi %.2f us", mc, bc, mc / bc, cc);
        goal_line(o, mvb[g].what, mc <= bc, b1);
    }
    {
        struct workload *mw = find("multi_10k"), *base = find("multi_small");
        if (mw && base && has(mw, HTTPX) && has(base, HTTPX)) {
            long n10 = A.quick ? mw->n_quick : mw->n_full;
            long inflight = mw->conc < n10 ? mw->conc : n10;
            double per[NLIBS];
            for (int l = 0; l < NLIBS; l++)
                per[l] = (stats(mw->rss_mib[l], mw->ok[l], mw->nrep).med - stats(base->rss_mib[l], base->ok[l], base->nrep).med) *
                         1024.0 / inflight;
            snprintf(b1, sizeof b1, "httpx %.1f KiB (libcurl %.1f KiB) per transfer, %ld in flight", per[HTTPX], per[CURL], inflight);
            goal_line(o, "multi: memory per in-flight HTTP/1.1 transfer <= 64 KiB (peak RSS multi_10k - multi_small, / transfers in flight)",
                      per[HTTPX] <= 64.0, b1);
        }
    }
    if (any_failure) fprintf(o, "\n**Some runs FAILED: see the log.**\n");
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0) { A.quick = 1; continue; }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) { fprintf(stderr, "missing value for %s\n", a); return 2; }
        if (strcmp(a, "--bin") == 0) A.bin = v;
        else if (strcmp(a, "--http") == 0) A.http = v;
        else if (strcmp(a, "--https") == 0) A.https = v;
        else if (strcmp(a, "--h2") == 0) A.h2 = v;
        else if (strcmp(a, "--ca") == 0) A.ca = v;
        else if (strcmp(a, "--data") == 0) A.data = v;
        else if (strcmp(a, "--out") == 0) A.out = v;
        else if (strcmp(a, "--wrk") == 0) A.wrk = v;
        else if (strcmp(a, "--resume-log") == 0) A.resume_log = v;
        else if (strcmp(a, "--only") == 0) A.only = v;
        else if (strcmp(a, "--reps") == 0) A.reps = atoi(v);
        else if (strcmp(a, "--no-verdicts") == 0) A.no_verdicts = v;
        else if (strcmp(a, "--libs") == 0) {
            for (int l = 0; l < NLIBS; l++) ACTIVE[l] = strstr(v, LIBS[l]) != NULL;
            ACTIVE[HTTPX] = 1;
        }
        else if (strcmp(a, "--server-pids") == 0) {
            for (char *e, *q = (char *)v; *q && NSERVER < 64; q = *e ? e + 1 : e) {
                long pid = strtol(q, &e, 10);
                if (pid > 0) SERVER_PIDS[NSERVER++] = (pid_t)pid;
                if (e == q) break;
            }
        }
        else if (strcmp(a, "--meta") == 0 && A.nmeta < 16) A.meta[A.nmeta++] = v;
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
    }
    if (!A.bin || !A.http || !A.https || !A.ca || !A.data) {
        fprintf(stderr, "usage: bench_driver --bin DIR --http URL --https URL --ca FILE --data DIR [--out FILE] ...\n");
        return 2;
    }
    if (A.reps <= 0) A.reps = A.quick ? 2 : 5;
    if (A.reps > MAXREPS) A.reps = MAXREPS;
    init_cpus();
    double t0 = now_s();

    /* Main workloads: rep-major, so drift over time hits both libraries alike. */
    for (int rep = 0; rep < A.reps; rep++) {
        for (int i = 0; i < NW; i++) {
            struct workload *w = &W[i];
            if (w->kind != MAIN || !wanted(w)) continue;
            /* the order rotates: rep 1 httpx curl ureq, rep 2 curl ureq httpx, ... */
            int order[NLIBS], n = 0;
            for (int l = 0; l < NLIBS; l++) if (ACTIVE[l]) order[n++] = l;
            for (int k = 0; k < n; k++) run_one(w, order[(k + rep) % n], rep);
            w->nrep = rep + 1;
        }
    }
    /* Memory workloads: once per library (peak RSS only, plus rate for reference). */
    for (int i = 0; i < NW; i++) {
        struct workload *w = &W[i];
        if (w->kind != MEM || !wanted(w)) continue;
        for (int l = 0; l < NLIBS; l++) if (ACTIVE[l]) run_one(w, l, 0);
        w->nrep = 1;
    }
    /* wrk floor: index 0 = HTTP -c1, 1 = HTTPS -c1 (both pinned); 2 = HTTP -c1, 3 = HTTP
     * -c2 (both unpinned: the 2-connection scaling ceiling of this machine). */
    if (A.wrk && *A.wrk && !A.only) {
        const char *d = A.quick ? "1s" : "5s", *d3 = A.quick ? "1s" : "3s";
        char u1[512], u2[512], u3[512], u4[512];
        snprintf(u1, sizeof u1, "%s/", A.http);
        snprintf(u2, sizeof u2, "%s/", A.https);
        snprintf(u3, sizeof u3, "%s/newconn?lib=wrk", A.http);
        snprintf(u4, sizeof u4, "%s/newconn?lib=wrk", A.https);
        run_wrk("keep-alive GET 13 B, HTTP (-t1 -c1)", "1", "1", d, u1, NULL, PIN);
        run_wrk("keep-alive GET 13 B, HTTPS (-t1 -c1)", "1", "1", d, u2, NULL, PIN);
        run_wrk("keep-alive GET 13 B, HTTP, unpinned (-t1 -c1)", "1", "1", d3, u1, NULL, FREE);
        run_wrk("keep-alive GET 13 B, HTTP, unpinned, 2 conns (-t2 -c2)", "2", "2", d3, u1, NULL, FREE);
        run_wrk("new connection per GET, HTTP (Connection: close)", "1", "1", d3, u3, "Connection: close", PIN);
        if (!A.quick) run_wrk("new connection per GET, HTTPS (Connection: close)", "1", "1", d3, u4, "Connection: close", PIN);
    }

    double elapsed = now_s() - t0;
    report(stdout, elapsed);
    if (A.out) {
        FILE *f = fopen(A.out, "w");
        if (!f) { perror(A.out); return 1; }
        report(f, elapsed);
        fclose(f);
    }
    return any_failure ? 1 : 0;
}
