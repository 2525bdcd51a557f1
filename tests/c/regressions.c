/*
 * Regression tests for library bugs found by these C tests and since fixed in src/
 * (run by tests/c_api.rs as `c_regressions`; each check line names its bug).
 *
 * BUG-1  Replacing a request body keeps the previous body's automatic Content-Type.
 *        set_form then set_json sends JSON labelled application/x-www-form-urlencoded;
 *        set_form then add_multipart_field sends a multipart body whose Content-Type has
 *        no boundary (the server cannot parse it). Header docs: set_json sets
 *        "Content-Type application/json unless set" and multipart "replaces any other
 *        body"; only an explicit Content-Type header set by the caller should win.
 *        Cause: Request::set_body_bytes / set_multipart in src/request.rs only add a
 *        Content-Type when none is present, and cannot tell an automatic one from the
 *        caller's.
 * BUG-2  httpx_auth_netrc(path_that_does_not_exist, NULL, NULL) returns HTTPX_E_IO: the file
 *        is read before the NULL auth_out is checked. Convention (API.md): a NULL
 *        required pointer is HTTPX_E_INVALID_ARGUMENT. (Minor: no crash either way.)
 * BUG-3  httpx_client_config_set_progress / _set_trace with a NULL callback ("NULL removes
 *        it") return HTTPX_OK but never call the given free_fn, although the header says
 *        "On success takes userdata: free_fn runs once when the last config or client using
 *        it is freed": a caller passing malloc'd userdata leaks it. Either call free_fn
 *        (at once) or document that a NULL callback takes nothing.
 * BUG-4  httpx_request_set_body_reader: the header says free_fn "runs once when the
 *        request is freed or the body is replaced", but it runs as soon as a send has
 *        consumed the stream (before httpx_client_send returns). A caller following the
 *        header (reading its reader state after the send, freeing it after
 *        httpx_request_free) touches memory its own free_fn already released. Fix the code
 *        or the header (API.md only promises "when it no longer needs the userdata").
 *
 * Env: HTTPX_TEST_HTTPBIN.
 */
#include "test_util.h"

static void count_free(void *ud) { (*(int *)ud)++; }

/* A body reader producing "abc". */
struct reader {
    int left, frees;
};
static httpx_code read_three(void *ud, uint8_t *buf, uintptr_t cap, uintptr_t *n_out) {
    struct reader *r = ud;
    uintptr_t n = 0;
    while (n < cap && r->left > 0) {
        buf[n++] = (uint8_t)("abc"[3 - r->left]);
        r->left--;
    }
    *n_out = n;
    return HTTPX_OK;
}
static void reader_free(void *ud) { ((struct reader *)ud)->frees++; }

int main(void) {
    const char *bin = need_env("HTTPX_TEST_HTTPBIN");
    char url[512];
    snprintf(url, sizeof url, "%s/post", bin);
    httpx_client *c = NULL;
    httpx_client_new(NULL, &c, NULL);
    const char *names[] = {"a"};
    const char *values[] = {"1"};

    /* BUG-1a: form, then JSON on the same request. */
    httpx_request *req = NULL;
    httpx_request_new("POST", url, &req, NULL);
    httpx_request_set_form(req, names, values, 1);
    httpx_request_set_json(req, "{\"k\": 1}");
    const char *ct = httpx_request_header_get(req, "Content-Type");
    CHECK(ct && strcmp(ct, "application/json") == 0,
          "BUG-1a: set_form then set_json -> Content-Type application/json (got %s)", ct ? ct : "(none)");
    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_send(c, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && body_has(resp, "\"json\": {"), "BUG-1a: httpbin parses the JSON body (%s)", httpx_code_str(rc));
    httpx_response_free(resp);
    httpx_request_free(req);

    /* BUG-1b: form, then multipart on the same request. */
    req = NULL;
    httpx_request_new("POST", url, &req, NULL);
    httpx_request_set_form(req, names, values, 1);
    httpx_request_add_multipart_field(req, "title", "quarterly");
    ct = httpx_request_header_get(req, "Content-Type");
    CHECK(ct && strncmp(ct, "multipart/form-data; boundary=", 30) == 0,
          "BUG-1b: set_form then add_multipart_field -> multipart Content-Type with boundary (got %s)", ct ? ct : "(none)");
    resp = NULL;
    rc = httpx_client_send(c, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && body_has(resp, "\"title\": \"quarterly\""), "BUG-1b: httpbin parses the multipart field (%s)",
          httpx_code_str(rc));
    httpx_response_free(resp);
    httpx_request_free(req);

    /* BUG-1c: bytes with a content type, then a form. */
    req = NULL;
    httpx_request_new("POST", url, &req, NULL);
    httpx_request_set_body(req, (const uint8_t *)"hello", 5, "text/plain");
    httpx_request_set_form(req, names, values, 1);
    ct = httpx_request_header_get(req, "Content-Type");
    CHECK(ct && strcmp(ct, "application/x-www-form-urlencoded") == 0,
          "BUG-1c: set_body(text/plain) then set_form -> application/x-www-form-urlencoded (got %s)", ct ? ct : "(none)");
    httpx_request_free(req);

    /* Not a bug, for contrast: an explicit Content-Type set by the caller wins. */
    req = NULL;
    httpx_request_new("POST", url, &req, NULL);
    httpx_request_set_header(req, "Content-Type", "application/vnd.custom+json");
    httpx_request_set_json(req, "{}");
    ct = httpx_request_header_get(req, "Content-Type");
    CHECK(ct && strcmp(ct, "application/vnd.custom+json") == 0, "(ok) an explicit Content-Type header wins over set_json");
    httpx_request_free(req);

    /* BUG-2: NULL auth_out is checked after the file is read. */
    httpx_code nrc = httpx_auth_netrc("/nonexistent/netrc", NULL, NULL);
    CHECK(nrc == HTTPX_E_INVALID_ARGUMENT, "BUG-2: httpx_auth_netrc(missing file, auth_out NULL) -> INVALID_ARGUMENT (got %s)",
          httpx_code_str(nrc));

    /* BUG-3: userdata given with a NULL callback is "taken" but never released. */
    int progress_frees = 0, trace_frees = 0;
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_code prc = httpx_client_config_set_progress(cfg, NULL, &progress_frees, count_free);
    httpx_code trc = httpx_client_config_set_trace(cfg, NULL, &trace_frees, count_free);
    httpx_client_config_free(cfg);
    CHECK(prc == HTTPX_OK && progress_frees == 1,
          "BUG-3: set_progress(NULL fn, userdata, free_fn) returned %s; free_fn called once (got %d)", httpx_code_str(prc),
          progress_frees);
    CHECK(trc == HTTPX_OK && trace_frees == 1,
          "BUG-3: set_trace(NULL fn, userdata, free_fn) returned %s; free_fn called once (got %d)", httpx_code_str(trc),
          trace_frees);

    /* BUG-4: the body reader's free_fn runs before the request is freed. */
    struct reader rd = {3, 0};
    req = NULL;
    httpx_request_new("POST", url, &req, NULL);
    httpx_request_set_body_reader(req, read_three, &rd, reader_free, 3);
    resp = NULL;
    rc = httpx_client_send(c, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && rd.frees == 0,
          "BUG-4: body reader free_fn not called before request_free (send %s, free_fn calls so far %d)", httpx_code_str(rc),
          rd.frees);
    httpx_response_free(resp);
    httpx_request_free(req);
    CHECK(rd.frees == 1, "(ok) body reader free_fn called exactly once in total (got %d)", rd.frees);

    httpx_client_free(c);
    return test_done();
}
