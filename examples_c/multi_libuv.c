/*
 * multi_libuv: libhttpx's multi embedded in a libuv loop. The multi's fd is watched
 * with a uv_poll_t, its timeout with a uv_timer_t; both call httpx_multi_perform
 * (libcurl's multi_socket-with-libuv pattern, with one fd for the whole multi).
 *
 *   ./multi_libuv http://127.0.0.1:8000/ [N]
 *
 * Built when libuv's headers are found (Debian: libuv1-dev).
 */
#define _GNU_SOURCE /* uv.h needs the POSIX types C11 strict mode hides */
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "httpx.h"

static httpx_multi *multi;
static uv_poll_t poller;
static uv_timer_t timer;
static long total, ok, failed;

static void drive(void);

static void on_timer(uv_timer_t *t) {
    (void)t;
    drive();
}

static void on_readable(uv_poll_t *p, int status, int events) {
    (void)p;
    (void)status;
    (void)events;
    drive();
}

/* Perform, collect completions, re-arm the timer; stop the loop when all are done. */
static void drive(void) {
    uint32_t running = 0;
    httpx_multi_perform(multi, 0, &running);
    httpx_completion *done = NULL;
    while (httpx_multi_next(multi, &done) == HTTPX_OK && done) {
        httpx_response *resp = NULL;
        if (httpx_completion_code(done) == HTTPX_OK && httpx_completion_take_response(done, &resp) == HTTPX_OK) {
            if (httpx_response_status(resp) == 200) ok++; else failed++;
            httpx_response_free(resp);
        } else {
            failed++;
        }
        httpx_completion_free(done);
    }
    if (running == 0) {
        uv_poll_stop(&poller);
        uv_timer_stop(&timer);
        uv_close((uv_handle_t *)&poller, NULL);
        uv_close((uv_handle_t *)&timer, NULL);
        return;
    }
    double t = -1;
    httpx_multi_timeout(multi, &t);
    uv_timer_stop(&timer);
    if (t >= 0) uv_timer_start(&timer, on_timer, (uint64_t)(t * 1000.0) + 1, 0);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [N]\n", argv[0]);
        return 2;
    }
    total = argc > 2 ? atol(argv[2]) : 100;
    httpx_client *client = NULL;
    httpx_error *err = NULL;
    if (httpx_client_new(NULL, &client, &err) != HTTPX_OK) {
        fprintf(stderr, "client: %s\n", httpx_error_message(err));
        return 1;
    }
    httpx_multi_new(client, &multi);
    for (long i = 0; i < total; i++) {
        httpx_request *req = NULL;
        if (httpx_request_build(client, "GET", argv[1], &req, &err) != HTTPX_OK ||
            httpx_multi_add(multi, req, (uint64_t)i, &err) != HTTPX_OK) {
            fprintf(stderr, "request: %s\n", httpx_error_message(err));
            return 1;
        }
        httpx_request_free(req);
    }
    uv_loop_t *loop = uv_default_loop();
    uv_poll_init(loop, &poller, httpx_multi_fd(multi));
    uv_poll_start(&poller, UV_READABLE, on_readable);
    uv_timer_init(loop, &timer);
    uv_timer_start(&timer, on_timer, 0, 0); /* first perform right away */
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    printf("%ld of %ld GETs OK through one multi in a libuv loop\n", ok, total);
    httpx_multi_free(multi);
    httpx_client_free(client);
    return ok == total ? 0 : 1;
}
