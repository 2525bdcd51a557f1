/*
 * No SIGPIPE in the host (#20): this program keeps SIGPIPE at its default action
 * (terminate) and uploads 8 MiB bodies to servers that reset the connection mid-body:
 * plain HTTP, HTTPS (rustls writes records with vectored writes), HTTPS offering
 * HTTP/2. Every send must fail with an error code; the process must survive, and the
 * host's SIGPIPE disposition must be left as it was.
 * Env: HTTPX_TEST_FAULT_CLOSING, HTTPX_TEST_TLS_CLOSING, HTTPX_TEST_H2_CLOSING, HTTPX_TEST_CA.
 */
#include "test_util.h"

#include <signal.h>

#define BODY (8u << 20)

static int sigpipe_is_default(void) {
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) != 0) return 0;
    return sa.sa_handler == SIG_DFL;
}

static void uploads(const char *what, const char *url, int http2, const char *ca, int times) {
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_timeout(cfg, 5.0);
    httpx_client_config_set_trust_env(cfg, 0);
    if (ca) httpx_client_config_set_ca_file(cfg, ca);
    if (http2) httpx_client_config_set_http2(cfg, 1);
    httpx_client *c = NULL;
    httpx_error *err = NULL;
    if (httpx_client_new(cfg, &c, &err) != HTTPX_OK) {
        t_show_error("client_new", &err);
        CHECK(0, "%s: client created", what);
        httpx_client_config_free(cfg);
        return;
    }
    httpx_client_config_free(cfg);
    uint8_t *body = malloc(BODY);
    memset(body, 'x', BODY);
    int failed = 0;
    for (int i = 0; i < times; i++) {
        httpx_request *req = NULL;
        httpx_request_build(c, "POST", url, &req, NULL);
        httpx_request_set_body(req, body, BODY, NULL);
        httpx_response *resp = NULL;
        httpx_code rc = httpx_client_send(c, req, &resp, &err);
        if (rc != HTTPX_OK) failed++;
        if (i == 0 && err) printf("     %s: %s: %s\n", what, httpx_code_str(rc), httpx_error_message(err));
        httpx_error_free(err);
        err = NULL;
        httpx_response_free(resp);
        httpx_request_free(req);
    }
    CHECK(failed == times, "%s: %d uploads to a resetting server failed cleanly, process alive", what, failed);
    free(body);
    httpx_client_free(c);
}

int main(void) {
    const char *plain = need_env("HTTPX_TEST_FAULT_CLOSING");
    const char *tls = need_env("HTTPX_TEST_TLS_CLOSING");
    const char *h2 = need_env("HTTPX_TEST_H2_CLOSING");
    const char *ca = need_env("HTTPX_TEST_CA");
    signal(SIGPIPE, SIG_DFL);
    CHECK(sigpipe_is_default(), "SIGPIPE at SIG_DFL before");
    int n = under_valgrind() ? 2 : 4;
    uploads("plain HTTP", plain, 0, NULL, n);
    uploads("HTTPS", tls, 0, ca, n);
    uploads("HTTP/2", h2, 1, ca, n);
    CHECK(sigpipe_is_default(), "SIGPIPE still at SIG_DFL after (disposition untouched)");
    return test_done();
}
