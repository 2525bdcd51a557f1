/*
 * Issue 12 from C: the debug hook (kinds, heads as sent/received, body bytes, TEXT
 * lines, free_fn once), every response info getter over plain HTTP, TLS 1.3 and
 * HTTP/2, timings (order, TOTAL only after the body, bad arguments), HTTPX_E_RESOLVE,
 * a read timeout message naming peer and limit, trace FAILED, NULL safety.
 *
 * Env: HTTPX_TEST_HTTP, HTTPX_TEST_HTTPS, HTTPX_TEST_HTTPS_H2, HTTPX_TEST_CA,
 *      HTTPX_TEST_SILENT (never answers), HTTPX_TEST_REFUSED (nothing listens).
 */
#include "test_util.h"

typedef struct {
    int count[5];
    char out[8192];
    size_t out_len;
    char in[8192];
    size_t in_len;
    char data_in[256];
    size_t data_in_len;
    char text[4096];
    size_t text_len;
    int freed;
} debug_log;

static void append(char *dst, size_t *len, size_t cap, const uint8_t *data, size_t n) {
    if (*len + n >= cap) n = cap - 1 - *len;
    memcpy(dst + *len, data, n);
    *len += n;
    dst[*len] = 0;
}

static void on_debug(void *ud, uint32_t kind, const uint8_t *data, size_t len) {
    debug_log *l = ud;
    if (kind > 4) return;
    l->count[kind]++;
    switch (kind) {
    case HTTPX_DEBUG_HEADER_OUT: append(l->out, &l->out_len, sizeof l->out, data, len); break;
    case HTTPX_DEBUG_HEADER_IN: append(l->in, &l->in_len, sizeof l->in, data, len); break;
    case HTTPX_DEBUG_DATA_IN: append(l->data_in, &l->data_in_len, sizeof l->data_in, data, len); break;
    case HTTPX_DEBUG_TEXT:
        append(l->text, &l->text_len, sizeof l->text, data, len);
        append(l->text, &l->text_len, sizeof l->text, (const uint8_t *)"\n", 1);
        break;
    default: break;
    }
}

static void free_log(void *ud) { ((debug_log *)ud)->freed++; }

static uint32_t last_event = 0;
static char last_detail[512];
static void on_trace(void *ud, uint32_t event, double elapsed, const char *detail) {
    (void)ud;
    (void)elapsed;
    last_event = event;
    snprintf(last_detail, sizeof last_detail, "%s", detail);
}

static httpx_client *make(int http2, const char *ca, debug_log *log, double read_timeout) {
    httpx_client_config *cfg = NULL;
    httpx_client *c = NULL;
    httpx_error *err = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_trust_env(cfg, 0);
    httpx_client_config_set_timeouts(cfg, 30.0, read_timeout, 30.0, 30.0);
    if (http2) httpx_client_config_set_http2(cfg, 1);
    if (ca) httpx_client_config_set_ca_file(cfg, ca);
    if (log) CHECK_CODE(httpx_client_config_set_debug(cfg, on_debug, log, free_log), HTTPX_OK);
    httpx_client_config_set_trace(cfg, on_trace, NULL, NULL);
    CHECK_CODE(httpx_client_new(cfg, &c, &err), HTTPX_OK);
    t_show_error("client_new", &err);
    httpx_client_config_free(cfg);
    return c;
}

static int starts(const char *s, const char *prefix) { return s && strncmp(s, prefix, strlen(prefix)) == 0; }

static const char *or_null(const char *s) { return s ? s : "(null)"; }

/* "http://127.0.0.1:PORT" -> "127.0.0.1:PORT" */
static const char *host_port(const char *url) {
    const char *p = strstr(url, "://");
    return p ? p + 3 : url;
}

static int timings_ordered(httpx_response *r, double *t) {
    for (uint32_t w = HTTPX_TIMING_QUEUE; w <= HTTPX_TIMING_TOTAL; w++) {
        if (httpx_response_timing(r, w, &t[w - 1]) != HTTPX_OK) return 0;
        if (w > HTTPX_TIMING_QUEUE && t[w - 1] < t[w - 2]) return 0;
    }
    return t[0] >= 0.0;
}

static void plain_http(const char *base) {
    debug_log log;
    memset(&log, 0, sizeof log);
    httpx_client *c = make(0, NULL, &log, 30.0);
    char url[512];
    url_join(url, sizeof url, base, "/files/small.txt");
    httpx_response *r = NULL;
    httpx_error *err = NULL;
    CHECK_CODE(httpx_client_get(c, url, &r, &err), HTTPX_OK);
    t_show_error("get", &err);
    if (!r) return;
    CHECK(starts(log.out, "GET /files/small.txt HTTP/1.1\r\n") && log.out_len > 4 &&
              strcmp(log.out + log.out_len - 4, "\r\n\r\n") == 0,
          "HEADER_OUT is the request head as sent");
    CHECK(starts(log.in, "HTTP/1.1 200 OK\r\n") && strstr(log.in, "\r\nContent-Length: 13\r\n") &&
              strcmp(log.in + log.in_len - 4, "\r\n\r\n") == 0,
          "HEADER_IN is the response head as received");
    CHECK(strcmp(log.data_in, "Hello, world!") == 0, "DATA_IN is the body (%s)", log.data_in);
    CHECK(log.count[HTTPX_DEBUG_DATA_OUT] == 0, "no DATA_OUT for a GET");
    CHECK(strstr(log.text, "Connected to 127.0.0.1 (127.0.0.1) port ") != NULL, "TEXT: connected (%s)", log.text);

    const char *remote = httpx_response_remote_addr(r);
    CHECK(remote && strcmp(remote, host_port(base)) == 0, "remote_addr %s == %s", or_null(remote), host_port(base));
    const char *local = httpx_response_local_addr(r);
    CHECK(local && starts(local, "127.0.0.1:"), "local_addr %s", or_null(local));
    CHECK(httpx_response_tls_version(r) == NULL && httpx_response_tls_cipher(r) == NULL &&
              httpx_response_alpn(r) == NULL,
          "no TLS facts on plain http");
    CHECK(httpx_response_connection_reused(r) == 0, "first request: new connection");
    double t[7];
    CHECK(timings_ordered(r, t), "timings ordered: queue %.6f dns %.6f connect %.6f tls %.6f sent %.6f first %.6f total %.6f",
          t[0], t[1], t[2], t[3], t[4], t[5], t[6]);
    CHECK(t[3] == t[2], "plain http: TLS reports the connect time");
    double x = 0;
    CHECK_CODE(httpx_response_timing(r, 0, &x), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_response_timing(r, 8, &x), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_response_timing(r, HTTPX_TIMING_QUEUE, NULL), HTTPX_E_INVALID_ARGUMENT);
    httpx_response_free(r);

    /* Reused, streamed: TOTAL only once the body is read. */
    httpx_request *req = NULL;
    CHECK_CODE(httpx_request_build(c, "GET", url, &req, NULL), HTTPX_OK);
    r = NULL;
    CHECK_CODE(httpx_client_send_stream(c, req, &r, &err), HTTPX_OK);
    t_show_error("send_stream", &err);
    if (r) {
        CHECK(httpx_response_connection_reused(r) == 1, "second request reuses the connection");
        CHECK(strstr(log.text, "Re-using existing connection with host ") != NULL, "TEXT: reusing");
        CHECK_CODE(httpx_response_timing(r, HTTPX_TIMING_TOTAL, &x), HTTPX_E_INVALID_ARGUMENT);
        CHECK_CODE(httpx_response_timing(r, HTTPX_TIMING_FIRST_BYTE, &x), HTTPX_OK);
        uint8_t buf[64];
        size_t n = 1;
        int guard = 0;
        while (n > 0 && guard++ < 100) {
            if (httpx_response_read(r, buf, sizeof buf, &n, NULL) != HTTPX_OK) break;
        }
        CHECK(timings_ordered(r, t), "after the body: all timings ordered, total %.6f", t[6]);
        CHECK(t[1] == t[0] && t[2] == t[0], "reused: DNS and connect report the queue time");
        httpx_response_free(r);
    }
    httpx_request_free(req);
    CHECK(log.freed == 0, "debug userdata alive while the client is");
    httpx_client_free(c);
    CHECK(log.freed == 1, "debug free_fn ran once (%d)", log.freed);
}

static void tls13(const char *https, const char *ca) {
    httpx_client *c = make(0, ca, NULL, 30.0);
    char url[512];
    url_join(url, sizeof url, https, "/");
    httpx_response *r = NULL;
    httpx_error *err = NULL;
    CHECK_CODE(httpx_client_get(c, url, &r, &err), HTTPX_OK);
    t_show_error("https get", &err);
    if (r) {
        const char *v = httpx_response_tls_version(r), *cs = httpx_response_tls_cipher(r), *a = httpx_response_alpn(r);
        CHECK(v && strcmp(v, "TLSv1.3") == 0, "tls_version %s", or_null(v));
        CHECK(cs && starts(cs, "TLS13_"), "tls_cipher %s", or_null(cs));
        CHECK(a && strcmp(a, "http/1.1") == 0, "alpn %s", or_null(a));
        const char *remote = httpx_response_remote_addr(r);
        CHECK(remote && starts(remote, "127.0.0.1:"), "remote_addr %s", or_null(remote));
        double t[7];
        CHECK(timings_ordered(r, t) && t[3] > t[2], "TLS timings: connect %.6f tls %.6f", t[2], t[3]);
        httpx_response_free(r);
    }
    httpx_client_free(c);
}

static void http2(const char *h2, const char *ca) {
    debug_log log;
    memset(&log, 0, sizeof log);
    httpx_client *c = make(1, ca, &log, 30.0);
    for (int i = 0; i < 2; i++) {
        httpx_response *r = NULL;
        httpx_error *err = NULL;
        CHECK_CODE(httpx_client_get(c, h2, &r, &err), HTTPX_OK);
        t_show_error("h2 get", &err);
        if (!r) continue;
        const char *a = httpx_response_alpn(r), *v = httpx_response_tls_version(r);
        CHECK(a && strcmp(a, "h2") == 0 && strcmp(httpx_response_http_version(r), "HTTP/2") == 0, "h2: alpn %s",
              or_null(a));
        CHECK(v && strcmp(v, "TLSv1.3") == 0 && httpx_response_tls_cipher(r) != NULL, "h2: tls %s", or_null(v));
        CHECK(httpx_response_connection_reused(r) == i, "h2 request %d: reused %d", i, httpx_response_connection_reused(r));
        double t[7];
        CHECK(timings_ordered(r, t), "h2 timings ordered");
        httpx_response_free(r);
    }
    CHECK(starts(log.out, "GET / HTTP/2\r\nHost: localhost:"), "h2 HEADER_OUT in HTTP/1.1 style");
    CHECK(starts(log.in, "HTTP/2 200\r\n"), "h2 HEADER_IN in HTTP/1.1 style");
    CHECK(strstr(log.text, "ALPN: server accepted h2") != NULL, "TEXT: ALPN");
    httpx_client_free(c);
    CHECK(log.freed == 1, "h2: debug free_fn ran once");
}

/* Fails to resolve with no packet sent: the first label is longer than DNS's 63 bytes,
 * so getaddrinfo reads /etc/hosts and refuses to build a query (a *.invalid name would
 * go to the machine's name server, outside 127.0.0.0/8). */
#define UNRESOLVABLE "no-such-host-whose-first-label-is-longer-than-the-63-bytes-dns-allows.invalid"

static void errors(const char *silent, const char *refused) {
    httpx_client *c = make(0, NULL, NULL, 0.5);
    httpx_response *r = NULL;
    httpx_error *err = NULL;
    CHECK_CODE(httpx_client_get(c, "http://" UNRESOLVABLE "/", &r, &err), HTTPX_E_RESOLVE);
    CHECK(err && httpx_error_code(err) == HTTPX_E_RESOLVE && strstr(httpx_error_message(err), UNRESOLVABLE),
          "RESOLVE: %s", err ? httpx_error_message(err) : "-");
    CHECK(strcmp(httpx_code_str(HTTPX_E_RESOLVE), "RESOLVE") == 0 && !httpx_code_is_timeout(HTTPX_E_RESOLVE),
          "RESOLVE is named and not a timeout");
    CHECK(last_event == HTTPX_TRACE_FAILED && err && strcmp(last_detail, httpx_error_message(err)) == 0,
          "trace FAILED carries the message (%u: %s)", last_event, last_detail);
    httpx_error_free(err);
    err = NULL;

    char want[256];
    char url[512];
    char want2[256];
    snprintf(want, sizeof want, "read timed out after 0.5 s waiting for %s", host_port(silent));
    snprintf(want2, sizeof want2, "read timed out after 0.5 s waiting for the response head from %s", host_port(silent));
    CHECK_CODE(httpx_client_get(c, url_join(url, sizeof url, silent, "/"), &r, &err), HTTPX_E_READ_TIMEOUT);
    CHECK(err && (strcmp(httpx_error_message(err), want) == 0 || strcmp(httpx_error_message(err), want2) == 0),
          "message: %s", err ? httpx_error_message(err) : "-");
    httpx_error_free(err);
    err = NULL;

    last_event = 0;
    CHECK_CODE(httpx_client_get(c, url_join(url, sizeof url, refused, "/"), &r, &err), HTTPX_E_CONNECT);
    CHECK(last_event == HTTPX_TRACE_FAILED, "trace FAILED on a refused connection");
    httpx_error_free(err);
    httpx_client_free(c);
}

static void null_safety(void) {
    CHECK(httpx_response_remote_addr(NULL) == NULL && httpx_response_local_addr(NULL) == NULL &&
              httpx_response_tls_version(NULL) == NULL && httpx_response_tls_cipher(NULL) == NULL &&
              httpx_response_alpn(NULL) == NULL && httpx_response_connection_reused(NULL) == 0,
          "info getters accept NULL");
    double x;
    CHECK_CODE(httpx_response_timing(NULL, HTTPX_TIMING_QUEUE, &x), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_client_config_set_debug(NULL, on_debug, NULL, NULL), HTTPX_E_INVALID_ARGUMENT);
    debug_log log;
    memset(&log, 0, sizeof log);
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    CHECK_CODE(httpx_client_config_set_debug(cfg, NULL, &log, free_log), HTTPX_OK);
    CHECK(log.freed == 1, "removing the hook frees the userdata at once");
    httpx_client_config_free(cfg);
}

int main(void) {
    const char *http = need_env("HTTPX_TEST_HTTP");
    const char *https = need_env("HTTPX_TEST_HTTPS");
    const char *h2 = need_env("HTTPX_TEST_HTTPS_H2");
    const char *ca = need_env("HTTPX_TEST_CA");
    const char *silent = need_env("HTTPX_TEST_SILENT");
    const char *refused = need_env("HTTPX_TEST_REFUSED");
    plain_http(http);
    tls13(https, ca);
    http2(h2, ca);
    errors(silent, refused);
    null_safety();
    return test_done();
}
