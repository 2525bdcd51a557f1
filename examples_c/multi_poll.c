/*
 * multi_poll: N GETs (default 1,000) through one httpx_multi on one thread, driven by
 * poll() on httpx_multi_fd and httpx_multi_timeout: libhttpx's event-loop interface
 * (libcurl's multi interface, HTTPX's AsyncClient). No thread per request.
 *
 *   ./multi_poll http://127.0.0.1:8000/ [N] [max_connections]
 *
 * Prints how many succeeded and the time taken; exits 0 only if all did.
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "httpx.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [N] [max_connections]\n", argv[0]);
        return 2;
    }
    long n = argc > 2 ? atol(argv[2]) : 1000;
    long max_conn = argc > 3 ? atol(argv[3]) : 100;
    httpx_client_config *cfg = NULL;
    httpx_client *client = NULL;
    httpx_multi *multi = NULL;
    httpx_error *err = NULL;

    httpx_client_config_new(&cfg);
    httpx_client_config_set_timeouts(cfg, 10.0, 10.0, 10.0, 30.0); /* connect, read, write, pool */
    httpx_client_config_set_limits(cfg, max_conn, max_conn, 5.0);   /* a full pool queues transfers */
    if (httpx_client_new(cfg, &client, &err) != HTTPX_OK) {
        fprintf(stderr, "client: %s\n", httpx_error_message(err));
        return 1;
    }
    httpx_client_config_free(cfg);
    if (httpx_multi_new(client, &multi) != HTTPX_OK) return 1;

    /* Queue every request: nothing is sent until httpx_multi_perform. */
    for (long i = 0; i < n; i++) {
        httpx_request *req = NULL;
        if (httpx_request_build(client, "GET", argv[1], &req, &err) != HTTPX_OK ||
            httpx_multi_add(multi, req, (uint64_t)i, &err) != HTTPX_OK) {
            fprintf(stderr, "request: %s\n", httpx_error_message(err));
            return 1;
        }
        httpx_request_free(req); /* the multi keeps its own copy */
    }

    double start = now();
    long ok = 0, failed = 0;
    uint32_t running = (uint32_t)n;
    while (running > 0) {
        /* The caller's loop: wait for the multi's fd, at most its timeout. */
        double t = -1;
        httpx_multi_timeout(multi, &t);
        struct pollfd p = {httpx_multi_fd(multi), POLLIN, 0};
        poll(&p, 1, t < 0 ? 1000 : (int)(t * 1000.0) + 1);
        if (httpx_multi_perform(multi, 0, &running) != HTTPX_OK) return 1;

        httpx_completion *done = NULL;
        while (httpx_multi_next(multi, &done) == HTTPX_OK && done) {
            httpx_response *resp = NULL;
            if (httpx_completion_code(done) == HTTPX_OK &&
                httpx_completion_take_response(done, &resp) == HTTPX_OK) {
                if (httpx_response_status(resp) == 200) ok++; else failed++;
                httpx_response_free(resp);
            } else {
                if (failed++ < 3)
                    fprintf(stderr, "#%llu: %s\n", (unsigned long long)httpx_completion_tag(done),
                            httpx_error_message(httpx_completion_error(done)));
            }
            httpx_completion_free(done);
        }
    }
    printf("%ld of %ld GETs OK through one multi in %.3f s\n", ok, n, now() - start);
    httpx_multi_free(multi);
    httpx_client_free(client);
    return ok == n ? 0 : 1;
}
