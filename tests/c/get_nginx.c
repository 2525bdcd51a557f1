/*
 * GET against nginx: status, reason, version, headers (case-insensitive, repeated),
 * body "Hello, world!", the other shortcuts, redirects; request headers with CR/LF are
 * refused with INVALID_ARGUMENT and nothing reaches the server (nginx access log); bad
 * URLs are INVALID_URL / UNSUPPORTED_PROTOCOL.
 * Env: HTTPX_TEST_HTTP, HTTPX_TEST_ACCESS_LOG.
 */
#include "test_util.h"

static char url_buf[512];
static const char *base;
#define U(path) url_join(url_buf, sizeof url_buf, base, path)

static void plain_get(httpx_client *client) {
    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    char url[512];
    snprintf(url, sizeof url, "%s/", base);
    httpx_code rc = httpx_client_get(client, url, &resp, &err);
    CHECK(rc == HTTPX_OK, "GET %s succeeds (%s)", url, httpx_code_str(rc));
    t_show_error("GET /", &err);
    if (!resp) return;
    CHECK(httpx_response_status(resp) == 200, "status 200 (got %u)", httpx_response_status(resp));
    CHECK(strcmp(httpx_response_reason(resp), "OK") == 0, "reason \"OK\" (got \"%s\")", httpx_response_reason(resp));
    CHECK(strcmp(httpx_response_http_version(resp), "HTTP/1.1") == 0, "version HTTP/1.1 (got %s)",
          httpx_response_http_version(resp));
    CHECK(strcmp(httpx_response_url(resp), url) == 0, "response url == request url (%s)", httpx_response_url(resp));
    CHECK(body_is(resp, "Hello, world!"), "body \"Hello, world!\"");

    const char *a = httpx_response_header_get(resp, "Content-Type");
    const char *b = httpx_response_header_get(resp, "content-type");
    const char *c = httpx_response_header_get(resp, "CONTENT-TYPE");
    CHECK(a && strcmp(a, "text/plain") == 0, "Content-Type: text/plain (got %s)", a ? a : "(null)");
    CHECK(a && b && c && strcmp(a, b) == 0 && strcmp(a, c) == 0, "header_get is case-insensitive");
    const char *cl = httpx_response_header_get(resp, "content-length");
    CHECK(cl && strcmp(cl, "13") == 0, "Content-Length: 13 (got %s)", cl ? cl : "(null)");
    CHECK(httpx_response_header_get(resp, "X-Not-There") == NULL, "absent header -> NULL");
    CHECK(httpx_response_header_get_nth(resp, "content-type", 1) == NULL, "only one Content-Type (nth 1 -> NULL)");

    /* header_at iterates every line; one of them is Server: nginx. */
    uintptr_t n = httpx_response_header_count(resp);
    int saw_server = 0, all_ok = 1;
    for (uintptr_t i = 0; i < n && i < 100; i++) {
        const char *name = NULL, *value = NULL;
        if (httpx_response_header_at(resp, i, &name, &value) != HTTPX_OK || !name || !value) all_ok = 0;
        else if (strcmp(name, "Server") == 0 || strcmp(name, "server") == 0) saw_server = strcmp(value, "nginx") == 0;
    }
    CHECK(n >= 4 && all_ok, "header_count %lu, every header_at succeeds", (unsigned long)n);
    CHECK(saw_server, "header_at finds Server: nginx");

    const char *text = NULL;
    uintptr_t tlen = 0;
    CHECK(httpx_response_text(resp, &text, &tlen, NULL) == HTTPX_OK && tlen == 13 && strcmp(text, "Hello, world!") == 0,
          "response_text \"Hello, world!\" (NUL-terminated)");
    CHECK(httpx_response_raise_for_status(resp, NULL) == HTTPX_OK, "raise_for_status OK for 200");
    CHECK(httpx_response_elapsed(resp) > 0.0, "elapsed > 0 (%.6f s)", httpx_response_elapsed(resp));
    CHECK(httpx_response_history_count(resp) == 0, "no history");

    /* The request as sent: method, URL, default headers. */
    const httpx_request *sent = httpx_response_request(resp);
    CHECK(sent && strcmp(httpx_request_method(sent), "GET") == 0, "response_request method GET");
    CHECK(sent && strcmp(httpx_request_url(sent), url) == 0, "response_request url");
    const char *host = sent ? httpx_request_header_get(sent, "host") : NULL;
    CHECK(host && strstr(url, host) != NULL, "request Host header \"%s\" (case-insensitive lookup)", host ? host : "(null)");
    const char *ua = sent ? httpx_request_header_get(sent, "USER-AGENT") : NULL;
    CHECK(ua && strlen(ua) > 0, "request has a User-Agent (\"%s\")", ua ? ua : "(null)");
    httpx_response_free(resp);
}

static void other_methods(httpx_client *client) {
    httpx_response *resp = NULL;
    httpx_error *err = NULL;

    CHECK(httpx_client_get(client, U("/status/404"), &resp, NULL) == HTTPX_OK, "GET /status/404 is not an error");
    CHECK(httpx_response_status(resp) == 404, "status 404");
    CHECK(strcmp(httpx_response_reason(resp), "Not Found") == 0, "reason \"Not Found\"");
    httpx_code rc = httpx_response_raise_for_status(resp, &err);
    CHECK(rc == HTTPX_E_HTTP_STATUS, "raise_for_status -> HTTP_STATUS (got %s)", httpx_code_str(rc));
    CHECK(err && strstr(httpx_error_message(err), "404") != NULL, "message names the status: \"%s\"",
          err ? httpx_error_message(err) : "");
    httpx_error_free(err);
    err = NULL;
    httpx_response_free(resp);

    resp = NULL;
    CHECK(httpx_client_head(client, U("/"), &resp, NULL) == HTTPX_OK && httpx_response_status(resp) == 200,
          "HEAD / -> 200");
    CHECK(body_is(resp, ""), "HEAD has an empty body");
    httpx_response_free(resp);

    resp = NULL;
    CHECK(httpx_client_post(client, U("/echo"), (const uint8_t *)"ping", 4, "text/plain", &resp, NULL) == HTTPX_OK,
          "POST /echo");
    CHECK(body_is(resp, "ping"), "POST body echoed");
    httpx_response_free(resp);

    resp = NULL;
    CHECK(httpx_client_put(client, U("/method"), (const uint8_t *)"x", 1, NULL, &resp, NULL) == HTTPX_OK &&
              body_is(resp, "PUT"),
          "PUT /method -> \"PUT\"");
    httpx_response_free(resp);
    resp = NULL;
    CHECK(httpx_client_delete(client, U("/method"), &resp, NULL) == HTTPX_OK && body_is(resp, "DELETE"),
          "DELETE /method -> \"DELETE\"");
    httpx_response_free(resp);

    resp = NULL;
    CHECK(httpx_client_get(client, U("/status/204"), &resp, NULL) == HTTPX_OK && httpx_response_status(resp) == 204 &&
              body_is(resp, ""),
          "204 with an empty body");
    httpx_response_free(resp);

    /* Repeated headers are kept. */
    resp = NULL;
    CHECK(httpx_client_get(client, U("/set-cookie"), &resp, NULL) == HTTPX_OK, "GET /set-cookie");
    const char *c0 = httpx_response_header_get_nth(resp, "set-cookie", 0);
    const char *c1 = httpx_response_header_get_nth(resp, "SET-COOKIE", 1);
    CHECK(c0 && strncmp(c0, "a=1", 3) == 0, "Set-Cookie #0 a=1 (got %s)", c0 ? c0 : "(null)");
    CHECK(c1 && strncmp(c1, "b=2", 3) == 0, "Set-Cookie #1 b=2 (got %s)", c1 ? c1 : "(null)");
    CHECK(httpx_response_header_get_nth(resp, "set-cookie", 2) == NULL, "no Set-Cookie #2");
    httpx_response_free(resp);

    /* Redirects: not followed by default; followed on request. */
    resp = NULL;
    CHECK(httpx_client_get(client, U("/redirect-to-root"), &resp, NULL) == HTTPX_OK &&
              httpx_response_status(resp) == 302,
          "302 not followed by default");
    httpx_response_free(resp);
    httpx_request *req = NULL;
    resp = NULL;
    CHECK(httpx_request_build(client, "GET", U("/redirect-to-root"), &req, NULL) == HTTPX_OK, "build redirect request");
    CHECK(httpx_request_set_follow_redirects(req, 1) == HTTPX_OK, "set_follow_redirects(1)");
    CHECK(httpx_client_send(client, req, &resp, NULL) == HTTPX_OK && httpx_response_status(resp) == 200,
          "redirect followed -> 200");
    CHECK(httpx_response_history_count(resp) == 1, "history_count 1");
    httpx_response *h = httpx_response_history_at(resp, 0);
    CHECK(h && httpx_response_status(h) == 302, "history[0] is the 302");
    CHECK(strcmp(httpx_response_url(resp), U("/")) == 0, "final url is /: %s", httpx_response_url(resp));
    CHECK(body_is(resp, "Hello, world!"), "final body");
    httpx_response_free(resp);
    httpx_request_free(req);

    /* Top-level GET. */
    resp = NULL;
    CHECK(httpx_get(U("/"), &resp, NULL) == HTTPX_OK && httpx_response_status(resp) == 200 &&
              body_is(resp, "Hello, world!"),
          "httpx_get (top level)");
    httpx_response_free(resp);
}

static void crlf_injection(httpx_client *client, const char *access_log) {
    const char *tag = unique_tag("crlf");
    char url[512], path[256];
    snprintf(path, sizeof path, "/request-headers?t=%s", tag);
    snprintf(url, sizeof url, "%s%s", base, path);

    httpx_request *req = NULL;
    CHECK(httpx_request_build(client, "GET", url, &req, NULL) == HTTPX_OK, "build %s", path);
    uintptr_t nheaders = httpx_request_header_count(req);
    CHECK_CODE(httpx_request_set_header(req, "X-Bad", "a\r\nX-Injected: 1"), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_request_add_header(req, "X-Bad", "a\nX-Injected: 1"), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_request_add_header(req, "X-Bad", "a\rX-Injected: 1"), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_request_set_header(req, "X-Bad\r\nX-Injected", "1"), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_request_add_header(req, "X-Bad\n", "1"), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_request_set_header(req, "Bad Name", "1"), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_request_set_header(req, "", "1"), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_request_set_cookie(req, "a", "1\r\nX-Injected: 1"), HTTPX_E_INVALID_ARGUMENT);
    CHECK(httpx_request_header_count(req) == nheaders, "request unchanged after the refused edits (%lu headers)",
          (unsigned long)httpx_request_header_count(req));
    CHECK(httpx_request_header_get(req, "X-Bad") == NULL, "no X-Bad header");

    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    CHECK_CODE(httpx_client_config_add_header(cfg, "X-Bad", "v\r\nX-Injected: 1"), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_client_config_add_header(cfg, "X-Bad\r\n", "v"), HTTPX_E_INVALID_ARGUMENT);
    httpx_client_config_free(cfg);

    httpx_auth *auth = NULL;
    CHECK_CODE(httpx_auth_basic("user\r\nX-Injected: 1", "p", &auth), HTTPX_E_INVALID_ARGUMENT);
    CHECK(auth == NULL, "auth_out untouched");

    /* A method with CR/LF or spaces must not reach the request line. */
    httpx_request *bad = NULL;
    char bad_url[512];
    snprintf(bad_url, sizeof bad_url, "%s/request-headers?t=%s-method", base, tag);
    httpx_code rc = httpx_request_new("GET /x HTTP/1.1\r\nX-Injected: 1\r\nX-Pad:", bad_url, &bad, NULL);
    CHECK(rc == HTTPX_E_INVALID_ARGUMENT, "request_new with CR/LF in the method -> INVALID_ARGUMENT (got %s)",
          httpx_code_str(rc));
    if (rc == HTTPX_OK) {
        /* Accepted: then at least the send must refuse it. */
        httpx_response *r = NULL;
        rc = httpx_client_send(client, bad, &r, NULL);
        CHECK(rc != HTTPX_OK, "sending a request whose method has CR/LF fails (got %s)", httpx_code_str(rc));
        httpx_response_free(r);
        httpx_request_free(bad);
    }
    rc = httpx_request_build(client, "GE T", url, &bad, NULL);
    CHECK(rc == HTTPX_E_INVALID_ARGUMENT, "request_build with a space in the method -> INVALID_ARGUMENT (got %s)",
          httpx_code_str(rc));
    if (rc == HTTPX_OK) httpx_request_free(bad);

    /* Nothing with this tag reached nginx. */
    sleep_ms(300);
    long n = log_count(access_log, tag, NULL);
    CHECK(n == 0, "access log has no line for %s after the refused edits (got %ld)", tag, n);

    /* The (unchanged) request is still usable; nginx sees no injected header. */
    httpx_response *resp = NULL;
    CHECK(httpx_client_send(client, req, &resp, NULL) == HTTPX_OK && httpx_response_status(resp) == 200,
          "the unchanged request is sent");
    CHECK(resp && !body_has(resp, "X-Injected") && !body_has(resp, "X-Bad"), "nginx saw no X-Injected / X-Bad header");
    httpx_response_free(resp);
    n = log_wait_count(access_log, tag, 1, 5000, NULL);
    CHECK(n == 1, "exactly one access-log line for %s (got %ld)", tag, n);
    httpx_request_free(req);
}

static void bad_urls(httpx_client *client) {
    static const struct {
        const char *url;
        httpx_code a, b; /* accepted codes */
    } cases[] = {
        {"http://", HTTPX_E_INVALID_URL, HTTPX_E_INVALID_URL},
        {"http://exa mple.com/", HTTPX_E_INVALID_URL, HTTPX_E_INVALID_URL},
        {"http://127.0.0.1:99999/", HTTPX_E_INVALID_URL, HTTPX_E_INVALID_URL},
        {"http://[::1/", HTTPX_E_INVALID_URL, HTTPX_E_INVALID_URL},
        {"ftp://127.0.0.1/", HTTPX_E_UNSUPPORTED_PROTOCOL, HTTPX_E_UNSUPPORTED_PROTOCOL},
        {"gopher://127.0.0.1/", HTTPX_E_UNSUPPORTED_PROTOCOL, HTTPX_E_UNSUPPORTED_PROTOCOL},
        {"/relative/path", HTTPX_E_UNSUPPORTED_PROTOCOL, HTTPX_E_INVALID_URL},
        {"", HTTPX_E_UNSUPPORTED_PROTOCOL, HTTPX_E_INVALID_URL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        httpx_request *req = NULL;
        httpx_error *err = NULL;
        httpx_code rc = httpx_request_new("GET", cases[i].url, &req, &err);
        CHECK((rc == cases[i].a || rc == cases[i].b) && req == NULL && err && httpx_error_code(err) == rc,
              "request_new(\"%s\") -> %s", cases[i].url, httpx_code_str(rc));
        httpx_error_free(err);
        httpx_response *resp = NULL;
        rc = httpx_client_get(client, cases[i].url, &resp, NULL);
        CHECK((rc == cases[i].a || rc == cases[i].b) && resp == NULL, "client_get(\"%s\") -> %s", cases[i].url,
              httpx_code_str(rc));
    }
    /* Client config: a bad base_url is INVALID_URL (at set time or at client_new). */
    httpx_client_config *cfg = NULL;
    httpx_client *c = NULL;
    httpx_client_config_new(&cfg);
    httpx_code rc = httpx_client_config_set_base_url(cfg, "http://exa mple.com/");
    if (rc == HTTPX_OK) rc = httpx_client_new(cfg, &c, NULL);
    CHECK(rc == HTTPX_E_INVALID_URL && c == NULL, "bad base_url -> INVALID_URL (got %s)", httpx_code_str(rc));
    httpx_client_config_free(cfg);
    httpx_client_free(c);
}

int main(void) {
    base = need_env("HTTPX_TEST_HTTP");
    const char *access_log = need_env("HTTPX_TEST_ACCESS_LOG");

    httpx_client *client = NULL;
    httpx_error *err = NULL;
    CHECK(httpx_client_new(NULL, &client, &err) == HTTPX_OK, "client with default config");
    t_show_error("client_new", &err);
    if (!client) return test_done();

    plain_get(client);
    other_methods(client);
    crlf_injection(client, access_log);
    bad_urls(client);

    httpx_client_free(client);
    return test_done();
}
