/*
 * Setters keep their error message (issue #10 item 3): a setter has no err parameter,
 * so a failing one returns its code and records the first failure on its handle;
 * httpx_client_config_error / httpx_request_error / httpx_transport_error return that
 * code and, through err, its message. A failed setter leaves the handle unchanged and
 * httpx_client_new does not look at the record. Also: code names come from the one
 * table. No server.
 */
#include "test_util.h"

#define IA(expr) CHECK_CODE(expr, HTTPX_E_INVALID_ARGUMENT)
#define OK(expr) CHECK_CODE(expr, HTTPX_OK)

/* The recorded error of a handle: code `want`, message containing `needle`. `*errp` is
 * read here, after the call in the first argument has written it; it is freed and reset. */
static void check_err(httpx_code rc, httpx_error **errp, httpx_code want, const char *needle, const char *what) {
    httpx_error *err = *errp;
    *errp = NULL;
    CHECK(rc == want, "%s returns %s (got %s)", what, httpx_code_str(want), httpx_code_str(rc));
    CHECK(err != NULL, "%s gives a detailed error", what);
    if (err) {
        CHECK(httpx_error_code(err) == want, "%s: httpx_error_code is %s", what, httpx_code_str(want));
        CHECK(strstr(httpx_error_message(err), needle) != NULL, "%s: message \"%s\" names \"%s\"", what,
              httpx_error_message(err), needle);
        httpx_error_free(err);
    }
}

static void config_errors(void) {
    httpx_client_config *cfg = NULL;
    httpx_error *err = NULL;
    OK(httpx_client_config_new(&cfg));
    OK(httpx_client_config_error(cfg, &err));
    CHECK(err == NULL, "no error recorded on a fresh config: err untouched");
    OK(httpx_client_config_set_timeout(cfg, 2.0));
    OK(httpx_client_config_error(cfg, NULL));

    /* The first failure is kept; later failures and successes do not replace it. */
    CHECK_CODE(httpx_client_config_set_base_url(cfg, "ftp://files.example/"), HTTPX_E_UNSUPPORTED_PROTOCOL);
    IA(httpx_client_config_add_header(cfg, "Bad Name", "v"));
    OK(httpx_client_config_set_base_url(cfg, "http://127.0.0.1:9/api"));
    check_err(httpx_client_config_error(cfg, &err), &err, HTTPX_E_UNSUPPORTED_PROTOCOL, "ftp",
              "config_error after a bad base_url");
    CHECK_CODE(httpx_client_config_error(cfg, NULL), HTTPX_E_UNSUPPORTED_PROTOCOL);

    /* A failed setter did not change the config, and httpx_client_new still works. */
    httpx_client *client = NULL;
    OK(httpx_client_new(cfg, &client, NULL));
    httpx_request *req = NULL;
    OK(httpx_request_build(client, "GET", "/users", &req, NULL));
    CHECK(strcmp(httpx_request_url(req), "http://127.0.0.1:9/api/users") == 0, "the later good base_url applies: %s",
          httpx_request_url(req));
    httpx_request_free(req);
    httpx_client_free(client);
    httpx_client_config_free(cfg);

    /* Each rule's message, one fresh config per setter. */
    struct {
        const char *what;
        httpx_code rc;
        const char *needle;
    } cases[4];
    int n = 0;
    OK(httpx_client_config_new(&cfg));
    cases[n].rc = httpx_client_config_set_limits(cfg, 0, 10, 5.0);
    cases[n].what = "set_limits(max_connections 0)";
    cases[n++].needle = "max_connections";
    check_err(httpx_client_config_error(cfg, &err), &err, cases[0].rc, cases[0].needle, cases[0].what);
    httpx_client_config_free(cfg);

    OK(httpx_client_config_new(&cfg));
    cases[n].rc = httpx_client_config_set_default_encoding(cfg, "no-such-codec");
    cases[n].what = "set_default_encoding(unknown)";
    cases[n++].needle = "no-such-codec";
    check_err(httpx_client_config_error(cfg, &err), &err, HTTPX_E_INVALID_ARGUMENT, cases[1].needle, cases[1].what);
    httpx_client_config_free(cfg);

    OK(httpx_client_config_new(&cfg));
    cases[n].rc = httpx_client_config_set_timeout(cfg, 0.0 / 0.0);
    cases[n].what = "set_timeout(NaN)";
    cases[n++].needle = "NaN";
    check_err(httpx_client_config_error(cfg, &err), &err, HTTPX_E_INVALID_ARGUMENT, cases[2].needle, cases[2].what);
    httpx_client_config_free(cfg);

    OK(httpx_client_config_new(&cfg));
    cases[n].rc = httpx_client_config_add_header(cfg, "X-Ok", NULL);
    cases[n].what = "add_header(value NULL)";
    cases[n++].needle = "value is NULL";
    check_err(httpx_client_config_error(cfg, &err), &err, HTTPX_E_INVALID_ARGUMENT, cases[3].needle, cases[3].what);
    httpx_client_config_free(cfg);
    for (int i = 0; i < n; i++) CHECK(cases[i].rc == HTTPX_E_INVALID_ARGUMENT, "%s returned INVALID_ARGUMENT", cases[i].what);

    /* NULL handles: the setter's code, nothing recorded anywhere, no crash. */
    IA(httpx_client_config_set_base_url(NULL, "ftp://x/"));
    IA(httpx_client_config_error(NULL, &err));
    CHECK(err != NULL && strstr(httpx_error_message(err), "cfg is NULL") != NULL, "config_error(NULL) says cfg is NULL");
    httpx_error_free(err);
    err = NULL;
}

static void request_errors(void) {
    httpx_request *req = NULL, *copy = NULL;
    httpx_error *err = NULL;
    OK(httpx_request_new("GET", "http://127.0.0.1:9/", &req, NULL));
    OK(httpx_request_error(req, &err));
    CHECK(err == NULL, "no error recorded on a fresh request");
    IA(httpx_request_set_header(req, "X-Evil", "a\r\nInjected: 1"));
    IA(httpx_request_set_timeout(req, 0.0 / 0.0));
    check_err(httpx_request_error(req, &err), &err, HTTPX_E_INVALID_ARGUMENT, "X-Evil", "request_error after a CRLF value");
    CHECK(httpx_request_header_get(req, "X-Evil") == NULL, "the failed setter left the request unchanged");
    OK(httpx_request_clone(req, &copy));
    OK(httpx_request_error(copy, NULL));
    httpx_request_free(copy);
    httpx_request_free(req);
    IA(httpx_request_error(NULL, NULL));
}

static void transport_errors(void) {
    httpx_transport *t = NULL;
    httpx_error *err = NULL;
    OK(httpx_transport_http(&t));
    OK(httpx_transport_error(t, &err));
    CHECK(err == NULL, "no error recorded on a fresh transport");
    IA(httpx_transport_http_set_local_address(t, "not-an-address"));
    IA(httpx_transport_callback_set_raise_errors(t, 0)); /* not a callback transport */
    check_err(httpx_transport_error(t, &err), &err, HTTPX_E_INVALID_ARGUMENT, "not-an-address",
              "transport_error after a bad local address");
    httpx_transport_free(t);
    IA(httpx_transport_error(NULL, NULL));
}

static void code_names(void) {
    CHECK(strcmp(httpx_code_str(HTTPX_OK), "OK") == 0, "code_str(OK)");
    CHECK(strcmp(httpx_code_str(HTTPX_E_RESOLVE), "RESOLVE") == 0, "code_str(RESOLVE)");
    CHECK(strcmp(httpx_code_str(HTTPX_E_BODY_TOO_LARGE), "BODY_TOO_LARGE") == 0, "code_str(BODY_TOO_LARGE)");
    CHECK(strcmp(httpx_code_str(HTTPX_E_INTERNAL), "INTERNAL") == 0, "code_str(INTERNAL)");
    CHECK(strcmp(httpx_code_str(7), "UNKNOWN") == 0, "code_str(7) is UNKNOWN");
    CHECK(strcmp(httpx_code_str(1000), "UNKNOWN") == 0, "code_str(1000) is UNKNOWN");
    CHECK(httpx_code_is_timeout(HTTPX_E_TOTAL_TIMEOUT) == 1 && httpx_code_is_timeout(19) == 1 &&
              httpx_code_is_timeout(HTTPX_E_CONNECT) == 0,
          "code_is_timeout is the 10..19 group");
}

int main(void) {
    config_errors();
    request_errors();
    transport_errors();
    code_names();
    return test_done();
}
