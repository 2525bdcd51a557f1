/*
 * pooled: why you want a client. N requests through one client reuse one keep-alive
 * connection; the top-level httpx_get opens a fresh connection every time.
 *
 *   ./pooled http://127.0.0.1:8000/ 200
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "httpx.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : "http://127.0.0.1:8000/";
    int n = argc > 2 ? atoi(argv[2]) : 100;
    if (n < 1 || n > 1000000) n = 100;

    /* One client for all requests: at most 10 connections, kept alive for 30 s. */
    httpx_client_config *cfg = NULL;
    httpx_client *client = NULL;
    httpx_error *err = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_limits(cfg, 10, 10, 30.0);
    if (httpx_client_new(cfg, &client, &err) != HTTPX_OK) {
        fprintf(stderr, "client: %s\n", httpx_error_message(err));
        httpx_error_free(err);
        httpx_client_config_free(cfg);
        return 1;
    }
    httpx_client_config_free(cfg); /* the client copied it */

    int failed = 0;
    double t0 = now();
    for (int i = 0; i < n; i++) {
        httpx_response *resp = NULL;
        httpx_code rc = httpx_client_get(client, url, &resp, &err);
        if (rc != HTTPX_OK) {
            fprintf(stderr, "request %d: %s: %s\n", i, httpx_code_str(rc), httpx_error_message(err));
            httpx_error_free(err);
            err = NULL;
            failed++;
            if (failed > 10) break; /* the server is probably gone */
        }
        httpx_response_free(resp); /* body already read: the connection goes back to the pool */
    }
    double pooled = now() - t0;

    size_t total = 0, idle = 0;
    httpx_client_pool_stats(client, &total, &idle);
    printf("client:     %d requests in %.3f s (%.0f req/s), pool holds %zu connection(s), %zu idle\n", n, pooled,
           n / (pooled > 0 ? pooled : 1e-9), total, idle);

    /* The same with the top-level API: a new connection per request (fewer of them). */
    int m = n < 20 ? n : 20;
    t0 = now();
    for (int i = 0; i < m && !failed; i++) {
        httpx_response *resp = NULL;
        if (httpx_get(url, &resp, NULL) != HTTPX_OK) failed++;
        httpx_response_free(resp);
    }
    double fresh = now() - t0;
    if (!failed)
        printf("httpx_get:  %d requests in %.3f s (%.0f req/s), one connection each\n", m, fresh,
               m / (fresh > 0 ? fresh : 1e-9));

    httpx_client_free(client);
    return failed ? 1 : 0;
}
