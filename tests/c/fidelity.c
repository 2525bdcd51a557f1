/*
 * HTTPX fidelity from C (issue 19): the joined header getter, next_request of an
 * unfollowed redirect, the one-shot httpx_send with and without a config, Python codec
 * names for the default encoding and Response.text, Python's percent-encoding of params.
 * Env: HTTPX_TEST_FIDELITY (a recording server from tests/c_api.rs: /hdr repeats X-A,
 * /redir answers 303 to /target?x=1, /echo answers with the request head it received,
 * /latin1 and /nocs send "caf\xe9" with charset=latin-1 and without a charset).
 */
#include "test_util.h"

static const char *base;
static char ubuf[512];
#define U(path) url_join(ubuf, sizeof ubuf, base, path)

static int text_is(httpx_response *resp, const char *want) {
    const char *t = NULL;
    size_t n = 0;
    if (httpx_response_text(resp, &t, &n, NULL) != HTTPX_OK) return 0;
    return n == strlen(want) && memcmp(t, want, n) == 0;
}

static void joined_headers(httpx_client *c) {
    httpx_response *resp = NULL;
    CHECK(httpx_client_get(c, U("/hdr"), &resp, NULL) == HTTPX_OK, "GET /hdr");
    const char *j = httpx_response_header_get_joined(resp, "x-a");
    CHECK(j && strcmp(j, "1, 2, 3, 4") == 0, "joined X-A is \"1, 2, 3, 4\" as HTTPX's headers['x-a'] (got %s)",
          j ? j : "(null)");
    const char *again = httpx_response_header_get_joined(resp, "X-A");
    CHECK(again == j, "the same name (any case) returns the same pointer");
    const char *first = httpx_response_header_get(resp, "x-a");
    CHECK(first && strcmp(first, "1") == 0, "the first-value getter is unchanged");
    CHECK(httpx_response_header_get_joined(resp, "absent") == NULL, "absent header -> NULL");
    const char *one = httpx_response_header_get_joined(resp, "content-length");
    CHECK(one && strcmp(one, "0") == 0, "a single value is returned as is");
    httpx_response_free(resp);
}

static void next_request(httpx_client *c) {
    httpx_request *req = NULL;
    httpx_response *resp = NULL, *r2 = NULL;
    httpx_request_build(c, "POST", U("/redir"), &req, NULL);
    httpx_request_set_body(req, (const uint8_t *)"abc", 3, NULL);
    CHECK(httpx_client_send(c, req, &resp, NULL) == HTTPX_OK && httpx_response_status(resp) == 303, "POST /redir -> 303");
    const httpx_request *next = httpx_response_next_request(resp);
    CHECK(next != NULL, "next_request of an unfollowed redirect");
    if (next) {
        char want[600];
        snprintf(want, sizeof want, "%s/target?x=1", base);
        CHECK(strcmp(httpx_request_method(next), "GET") == 0, "303 after POST: next_request is a GET");
        CHECK(strcmp(httpx_request_url(next), want) == 0, "next_request URL %s", httpx_request_url(next));
        CHECK(httpx_request_header_get(next, "Content-Length") == NULL, "no Content-Length on the GET");
        CHECK(httpx_response_next_request(resp) == next, "the same view on every call");
        CHECK(httpx_request_set_header((httpx_request *)next, "X", "1") == HTTPX_E_INVALID_ARGUMENT,
              "the view is read-only");
        CHECK(httpx_client_send(c, next, &r2, NULL) == HTTPX_OK && body_has(r2, "GET /target?x=1"),
              "sending next_request follows the redirect by hand");
        CHECK(httpx_response_next_request(r2) == NULL, "a non-redirect has no next_request");
        httpx_response_free(r2);
    }
    httpx_response_free(resp);
    httpx_request_free(req);
}

static void one_shot(void) {
    httpx_request *req = NULL;
    httpx_response *resp = NULL;
    httpx_request_new("GET", U("/echo"), &req, NULL);
    httpx_request_add_param(req, "q", "a~b* c");
    httpx_request_set_header(req, "X-Custom", "v");
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_timeout(cfg, 30.0);
    httpx_client_config_add_header(cfg, "X-From-Config", "1");
    httpx_client_config_add_param(cfg, "c", "1");
    httpx_error *err = NULL;
    httpx_code rc = httpx_send(req, cfg, &resp, &err);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200, "httpx_send with a config (%s)", httpx_code_str(rc));
    t_show_error("httpx_send", &err);
    CHECK(resp && body_has(resp, "GET /echo?c=1&q=a~b%2A+c HTTP/1.1"),
          "Python quote_plus for the param; config (client) params first, as HTTPX merges");
    CHECK(resp && body_has(resp, "X-Custom: v") && body_has(resp, "X-From-Config: 1") && body_has(resp, "User-Agent: "),
          "request headers, config headers and client defaults sent");
    httpx_response_free(resp);
    resp = NULL;
    rc = httpx_send(req, NULL, &resp, NULL);
    CHECK(rc == HTTPX_OK && body_has(resp, "GET /echo?q=a~b%2A+c HTTP/1.1"), "httpx_send with NULL config (defaults)");
    httpx_response_free(resp);
    httpx_client_config_free(cfg);
    resp = (httpx_response *)0x1;
    CHECK(httpx_send(NULL, NULL, &resp, NULL) == HTTPX_E_INVALID_ARGUMENT && resp == (httpx_response *)0x1,
          "httpx_send(NULL req) -> INVALID_ARGUMENT, out untouched");
    CHECK(httpx_send(req, NULL, NULL, NULL) == HTTPX_E_INVALID_ARGUMENT, "httpx_send(NULL resp_out)");
    httpx_request_free(req);
}

static void encodings(void) {
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    CHECK(httpx_client_config_set_default_encoding(cfg, "latin-1") == HTTPX_OK, "\"latin-1\" is accepted (Python name)");
    CHECK(httpx_client_config_set_default_encoding(cfg, "ISO_8859-1") == HTTPX_OK, "\"ISO_8859-1\" (Python alias)");
    CHECK(httpx_client_config_set_default_encoding(cfg, "mac-roman") == HTTPX_OK, "\"mac-roman\"");
    CHECK(httpx_client_config_set_default_encoding(cfg, "bogus") == HTTPX_E_INVALID_ARGUMENT, "\"bogus\" refused");
    CHECK(httpx_client_config_set_default_encoding(cfg, "base64") == HTTPX_E_INVALID_ARGUMENT,
          "\"base64\" (not a text codec) refused");
    CHECK(httpx_client_config_set_default_encoding(cfg, "latin-1") == HTTPX_OK, "back to latin-1");
    httpx_client *c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    httpx_response *resp = NULL;
    httpx_client_get(c, U("/nocs"), &resp, NULL);
    CHECK(resp && text_is(resp, "caf\xc3\xa9"), "no charset: the default encoding latin-1 gives caf\xc3\xa9");
    httpx_response_free(resp);
    httpx_client_free(c);
    c = NULL;
    resp = NULL;
    httpx_client_new(NULL, &c, NULL);
    httpx_client_get(c, U("/latin1"), &resp, NULL);
    CHECK(resp && text_is(resp, "caf\xc3\xa9"), "charset=latin-1 is ISO-8859-1 (HTTPX), not UTF-8");
    httpx_response_free(resp);
    resp = NULL;
    httpx_client_get(c, U("/nocs"), &resp, NULL);
    CHECK(resp && text_is(resp, "caf\xef\xbf\xbd"), "no charset, no default: UTF-8 with U+FFFD");
    httpx_response_free(resp);
    httpx_client_free(c);
}

int main(void) {
    base = need_env("HTTPX_TEST_FIDELITY");
    httpx_client *c = NULL;
    httpx_client_new(NULL, &c, NULL);
    joined_headers(c);
    next_request(c);
    httpx_client_free(c);
    one_shot();
    encodings();
    CHECK(httpx_response_header_get_joined(NULL, "x") == NULL, "joined getter with NULL resp -> NULL");
    CHECK(httpx_response_next_request(NULL) == NULL, "next_request(NULL) -> NULL");
    return test_done();
}
