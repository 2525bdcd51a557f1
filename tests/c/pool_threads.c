/*
 * One client shared by 8 threads (HTTPX_TEST_ITERATIONS requests each, default 500) with
 * max_connections = 4: every request succeeds, and httpx_client_pool_stats never reports
 * more than 4 connections (checked after each request by every thread and continuously by
 * a monitor thread). The access log shows at most 4 distinct connections.
 * Env: HTTPX_TEST_HTTP, HTTPX_TEST_ACCESS_LOG, HTTPX_TEST_ITERATIONS.
 */
#include "test_util.h"

#include <pthread.h>
#include <stdatomic.h>

#define THREADS 8
#define MAX_CONNECTIONS 4

static httpx_client *client;
static char url[512];
static long iterations;
static atomic_int done_threads;
static atomic_int max_total_seen;

struct worker {
    int index;
    long ok;
    long failed;
    httpx_code first_error;
};

static void note_total(const httpx_client *c) {
    uintptr_t total = 0;
    if (httpx_client_pool_stats(c, &total, NULL) != HTTPX_OK) return;
    int t = (int)total, cur = atomic_load(&max_total_seen);
    while (t > cur && !atomic_compare_exchange_weak(&max_total_seen, &cur, t)) {
    }
}

static void *work(void *arg) {
    struct worker *w = arg;
    for (long i = 0; i < iterations; i++) {
        httpx_response *resp = NULL;
        httpx_code rc = httpx_client_get(client, url, &resp, NULL);
        if (rc == HTTPX_OK && httpx_response_status(resp) == 200 && body_is(resp, "Hello, world!")) {
            w->ok++;
        } else {
            w->failed++;
            if (w->first_error == HTTPX_OK) w->first_error = rc ? rc : HTTPX_E_INTERNAL;
        }
        httpx_response_free(resp);
        note_total(client);
    }
    atomic_fetch_add(&done_threads, 1);
    return NULL;
}

static void *monitor(void *arg) {
    (void)arg;
    /* Bounded: stops when the workers are done, or after 10 minutes. */
    double deadline = now_s() + 600;
    while (atomic_load(&done_threads) < THREADS && now_s() < deadline) {
        note_total(client);
        sleep_ms(1);
    }
    return NULL;
}

int main(void) {
    const char *base = need_env("HTTPX_TEST_HTTP");
    const char *access_log = need_env("HTTPX_TEST_ACCESS_LOG");
    iterations = env_long("HTTPX_TEST_ITERATIONS", 500);
    const char *tag = unique_tag("threads");
    snprintf(url, sizeof url, "%s/?t=%s", base, tag);
    atomic_init(&done_threads, 0);
    atomic_init(&max_total_seen, 0);

    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    CHECK(httpx_client_config_set_limits(cfg, MAX_CONNECTIONS, MAX_CONNECTIONS, 60.0) == HTTPX_OK,
          "limits: max_connections %d", MAX_CONNECTIONS);
    /* Threads wait for a free connection: a generous pool timeout. */
    httpx_client_config_set_timeouts(cfg, 30.0, 30.0, 30.0, 60.0);
    httpx_error *err = NULL;
    CHECK(httpx_client_new(cfg, &client, &err) == HTTPX_OK, "client created");
    t_show_error("client_new", &err);
    httpx_client_config_free(cfg);
    if (!client) return test_done();

    struct worker workers[THREADS];
    pthread_t tids[THREADS], mon;
    int started = 0;
    double t0 = now_s();
    int mon_ok = pthread_create(&mon, NULL, monitor, NULL) == 0;
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.index = i, .ok = 0, .failed = 0, .first_error = HTTPX_OK};
        if (pthread_create(&tids[i], NULL, work, &workers[i]) == 0) started++;
        else break;
    }
    CHECK(started == THREADS && mon_ok, "%d worker threads and a monitor started", started);
    for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);
    if (mon_ok) pthread_join(mon, NULL);
    double took = now_s() - t0;

    long ok = 0, failed = 0;
    for (int i = 0; i < started; i++) {
        ok += workers[i].ok;
        failed += workers[i].failed;
        if (workers[i].failed)
            printf("     thread %d: %ld failed, first error %s\n", i, workers[i].failed,
                   httpx_code_str(workers[i].first_error));
    }
    long want = (long)THREADS * iterations;
    CHECK(ok == want && failed == 0, "%ld/%ld requests from %d threads succeeded (%.2f s, %.0f req/s)", ok, want, THREADS,
          took, want / (took > 0 ? took : 1));
    int max_seen = atomic_load(&max_total_seen);
    CHECK(max_seen >= 1 && max_seen <= MAX_CONNECTIONS, "pool total never exceeded %d (max seen %d)", MAX_CONNECTIONS,
          max_seen);
    uintptr_t total = 0, idle = 0;
    httpx_client_pool_stats(client, &total, &idle);
    CHECK(total <= MAX_CONNECTIONS && idle == total, "after the run: %lu connections, all idle (%lu)",
          (unsigned long)total, (unsigned long)idle);

    long distinct = -1;
    long lines = log_wait_count(access_log, tag, want, 15000, &distinct);
    CHECK(lines == want, "access log: %ld requests tagged (got %ld)", want, lines);
    CHECK(distinct >= 1 && distinct <= MAX_CONNECTIONS, "access log: %ld distinct connections (<= %d)", distinct,
          MAX_CONNECTIONS);

    httpx_client_free(client);
    return test_done();
}
