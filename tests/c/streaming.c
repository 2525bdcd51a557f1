/*
 * Streaming: httpx_client_send_stream + httpx_response_read of 1m.bin matches the file;
 * decoded (gzip) and chunked bodies stream too; request bodies from a read callback, with a
 * known length (Content-Length) and unknown (chunked), reach httpbin /post and nginx /echo
 * intact; wrong lengths, callback errors and resending a consumed stream fail cleanly;
 * each reader's free_fn runs exactly once.
 * Env: HTTPX_TEST_HTTP, HTTPX_TEST_FILES_DIR, HTTPX_TEST_HTTPBIN.
 */
#include "test_util.h"

static httpx_client *client;
static const char *base, *bin_base, *files;

/* Streams a whole body with chunk sizes cycling through `caps`. Returns a malloc'd buffer. */
static unsigned char *stream_all(httpx_response *resp, size_t *len_out, httpx_code *rc_out) {
    static const uintptr_t caps[] = {1, 7, 4096, 65536, 100, 333333};
    size_t cap = 1 << 20, len = 0;
    unsigned char *out = malloc(cap + 1);
    unsigned char *buf = malloc(333333);
    httpx_code rc = HTTPX_OK;
    for (long i = 0; out && buf && i < 10000000; i++) {
        uintptr_t want = caps[i % 6], n = 0;
        httpx_error *err = NULL;
        rc = httpx_response_read(resp, buf, want, &n, &err);
        if (rc != HTTPX_OK) {
            t_show_error("response_read", &err);
            break;
        }
        if (n > want) {
            rc = HTTPX_E_INTERNAL;
            printf("     read returned %lu bytes for a %lu-byte buffer\n", (unsigned long)n, (unsigned long)want);
            break;
        }
        if (n == 0) break;
        if (len + n > cap) {
            unsigned char *nb = realloc(out, cap * 2 + 1);
            if (!nb) break;
            out = nb;
            cap *= 2;
        }
        memcpy(out + len, buf, n);
        len += n;
    }
    free(buf);
    *len_out = len;
    *rc_out = rc;
    return out;
}

static void download_1m(void) {
    char path[1024], url[512];
    snprintf(path, sizeof path, "%s/1m.bin", files);
    size_t file_len = 0;
    unsigned char *file = read_whole_file(path, &file_len);
    CHECK(file && file_len == 1048576, "read %s (%lu bytes)", path, (unsigned long)file_len);

    httpx_request *req = NULL;
    httpx_response *resp = NULL;
    snprintf(url, sizeof url, "%s/files/1m.bin", base);
    httpx_request_new("GET", url, &req, NULL);
    httpx_code rc = httpx_client_send_stream(client, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200, "send_stream GET /files/1m.bin (%s)", httpx_code_str(rc));
    if (resp) {
        const char *cl = httpx_response_header_get(resp, "Content-Length");
        CHECK(cl && strcmp(cl, "1048576") == 0, "Content-Length 1048576");
        size_t len = 0;
        unsigned char *got = stream_all(resp, &len, &rc);
        CHECK(rc == HTTPX_OK && len == file_len, "streamed %lu bytes with varying buffer sizes", (unsigned long)len);
        CHECK(file && got && len == file_len && memcmp(got, file, len) == 0, "streamed bytes == 1m.bin");
        free(got);
        uintptr_t n = 99;
        uint8_t b[16];
        CHECK(httpx_response_read(resp, b, sizeof b, &n, NULL) == HTTPX_OK && n == 0, "read after the end: 0 bytes again");
        const uint8_t *d = NULL;
        uintptr_t dl = 0;
        CHECK(httpx_response_body(resp, &d, &dl, NULL) == HTTPX_E_STREAM_CONSUMED,
              "response_body after streaming -> STREAM_CONSUMED");
        httpx_response_free(resp);
    }

    /* send_stream, then the whole body at once. */
    resp = NULL;
    rc = httpx_client_send_stream(client, req, &resp, NULL);
    const uint8_t *d = NULL;
    uintptr_t dl = 0;
    CHECK(rc == HTTPX_OK && httpx_response_body(resp, &d, &dl, NULL) == HTTPX_OK && dl == file_len && file &&
              memcmp(d, file, dl) == 0,
          "send_stream + response_body == 1m.bin");
    httpx_response_free(resp);
    httpx_request_free(req);
    free(file);
}

static void decoded_and_chunked(void) {
    char path[1024], url[512];
    snprintf(path, sizeof path, "%s/hello.txt", files);
    size_t file_len = 0;
    unsigned char *file = read_whole_file(path, &file_len);
    httpx_request *req = NULL;
    httpx_response *resp = NULL;
    snprintf(url, sizeof url, "%s/files/hello.txt", base);
    httpx_request_new("GET", url, &req, NULL);
    httpx_request_set_header(req, "Accept-Encoding", "gzip");
    httpx_code rc = httpx_client_send_stream(client, req, &resp, NULL);
    const char *ce = resp ? httpx_response_header_get(resp, "Content-Encoding") : NULL;
    CHECK(rc == HTTPX_OK && ce && strcmp(ce, "gzip") == 0, "hello.txt served gzipped (Content-Encoding %s)",
          ce ? ce : "(none)");
    if (resp) {
        size_t len = 0;
        unsigned char *got = stream_all(resp, &len, &rc);
        CHECK(rc == HTTPX_OK && file && len == file_len && memcmp(got, file, len) == 0,
              "streamed gzip body is decoded == hello.txt (%lu bytes)", (unsigned long)len);
        free(got);
        httpx_response_free(resp);
    }
    httpx_request_free(req);
    free(file);

    resp = NULL;
    req = NULL;
    snprintf(url, sizeof url, "%s/chunked", base);
    httpx_request_new("GET", url, &req, NULL);
    rc = httpx_client_send_stream(client, req, &resp, NULL);
    if (rc == HTTPX_OK) {
        size_t len = 0;
        unsigned char *got = stream_all(resp, &len, &rc);
        CHECK(rc == HTTPX_OK && len == 20 && memcmp(got, "chunk1,chunk2,chunk3", 20) == 0,
              "chunked response streamed: \"chunk1,chunk2,chunk3\"");
        free(got);
    } else {
        CHECK(0, "GET /chunked (%s)", httpx_code_str(rc));
    }
    httpx_response_free(resp);
    httpx_request_free(req);
}

/* ---- request bodies from a read callback ---- */

struct source {
    const unsigned char *data;
    size_t len, pos, max_chunk;
    int calls, frees, fail_at_call;
};

static httpx_code source_read(void *ud, uint8_t *buf, uintptr_t cap, uintptr_t *n_out) {
    struct source *s = ud;
    s->calls++;
    if (s->fail_at_call && s->calls >= s->fail_at_call) return 12345; /* any non-OK aborts */
    size_t n = s->len - s->pos;
    if (n > cap) n = cap;
    if (n > s->max_chunk) n = s->max_chunk;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    *n_out = n;
    return HTTPX_OK;
}

static void source_free(void *ud) { ((struct source *)ud)->frees++; }

/* POST `data` to url through a read callback; returns the response (or NULL) and rc. */
static httpx_response *post_stream(const char *url, struct source *src, int64_t length, httpx_code *rc_out) {
    httpx_request *req = NULL;
    httpx_response *resp = NULL;
    httpx_request_new("POST", url, &req, NULL);
    httpx_request_set_header(req, "Content-Type", "text/plain");
    CHECK(httpx_request_set_body_reader(req, source_read, src, source_free, length) == HTTPX_OK, "set_body_reader (length %lld)",
          (long long)length);
    httpx_error *err = NULL;
    *rc_out = httpx_client_send(client, req, &resp, &err);
    if (*rc_out != HTTPX_OK) t_show_error("send", &err);
    httpx_error_free(err);
    /* When free_fn runs (after the send or at request_free) is BUG-4 of regressions.c; here
     * only "exactly once" is checked. */
    CHECK(src->frees <= 1, "reader free_fn not called more than once by the send (got %d)", src->frees);
    httpx_request_free(req);
    CHECK(src->frees == 1, "reader free_fn called exactly once after request_free (got %d)", src->frees);
    return resp;
}

static void upload_to_httpbin(void) {
    /* ASCII text without JSON escapes, so httpbin's "data" field contains it verbatim. */
    size_t len = 50000;
    unsigned char *text = malloc(len);
    for (size_t i = 0; i < len; i++) text[i] = (unsigned char)"abcdefghijklmnopqrstuvwxyz0123456789"[(i * 7) % 36];
    char *needle = malloc(len + 16);
    memcpy(needle, "\"data\": \"", 9);
    memcpy(needle + 9, text, len);
    memcpy(needle + 9 + len, "\"", 2);
    char url[512];
    snprintf(url, sizeof url, "%s/post", bin_base);

    struct source known = {.data = text, .len = len, .max_chunk = 1000};
    httpx_code rc;
    httpx_response *resp = post_stream(url, &known, (int64_t)len, &rc);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200, "POST (known length) to httpbin /post (%s)", httpx_code_str(rc));
    CHECK(resp && body_has(resp, "\"Content-Length\": \"50000\""), "sent with Content-Length: 50000");
    CHECK(resp && !body_has(resp, "\"Transfer-Encoding\""), "not chunked");
    CHECK(resp && body_has(resp, needle), "httpbin echoed the 50,000 bytes in \"data\"");
    CHECK(known.pos == len, "the callback produced every byte (%lu calls)", (unsigned long)known.calls);
    httpx_response_free(resp);

    struct source chunked = {.data = text, .len = len, .max_chunk = 777};
    resp = post_stream(url, &chunked, -1, &rc);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200, "POST (unknown length) to httpbin /post (%s)",
          httpx_code_str(rc));
    CHECK(resp && body_has(resp, "\"Transfer-Encoding\": \"chunked\""), "sent with Transfer-Encoding: chunked");
    CHECK(resp && body_has(resp, needle), "httpbin echoed the 50,000 chunked bytes in \"data\"");
    httpx_response_free(resp);
    free(needle);
    free(text);
}

static void upload_to_nginx(void) {
    char path[1024], url[512];
    snprintf(path, sizeof path, "%s/1m.bin", files);
    size_t len = 0;
    unsigned char *data = read_whole_file(path, &len);
    snprintf(url, sizeof url, "%s/echo", base);
    if (!data) {
        CHECK(0, "read %s", path);
        return;
    }

    /* 1 MiB of binary, chunked, echoed back by nginx. */
    struct source chunked = {.data = data, .len = len, .max_chunk = 60000};
    httpx_code rc;
    httpx_response *resp = post_stream(url, &chunked, -1, &rc);
    const uint8_t *d = NULL;
    uintptr_t dl = 0;
    CHECK(rc == HTTPX_OK && httpx_response_body(resp, &d, &dl, NULL) == HTTPX_OK && dl == len && memcmp(d, data, len) == 0,
          "1 MiB chunked upload echoed intact by nginx /echo (%lu bytes)", (unsigned long)dl);
    httpx_response_free(resp);

    /* Declared length larger than what the callback produces. */
    snprintf(url, sizeof url, "%s/upload", base);
    struct source short_src = {.data = data, .len = 500, .max_chunk = 100};
    resp = post_stream(url, &short_src, 1000, &rc);
    CHECK(rc == HTTPX_E_LOCAL_PROTOCOL && resp == NULL, "callback produced 500 of 1000 declared bytes -> LOCAL_PROTOCOL (got %s)",
          httpx_code_str(rc));
    httpx_response_free(resp);

    /* ... and smaller. */
    struct source long_src = {.data = data, .len = 2000, .max_chunk = 100};
    resp = post_stream(url, &long_src, 1000, &rc);
    CHECK(rc == HTTPX_E_LOCAL_PROTOCOL && resp == NULL, "callback produced more than 1000 declared bytes -> LOCAL_PROTOCOL (got %s)",
          httpx_code_str(rc));
    httpx_response_free(resp);

    /* A callback error aborts the send. */
    struct source failing = {.data = data, .len = len, .max_chunk = 1000, .fail_at_call = 3};
    resp = post_stream(url, &failing, -1, &rc);
    CHECK(rc == HTTPX_E_CALLBACK && resp == NULL, "read callback error -> CALLBACK (got %s)", httpx_code_str(rc));
    httpx_response_free(resp);

    /* The client still works after those aborted uploads. */
    resp = NULL;
    snprintf(url, sizeof url, "%s/", base);
    CHECK(httpx_client_get(client, url, &resp, NULL) == HTTPX_OK && body_is(resp, "Hello, world!"),
          "client still works after aborted uploads");
    httpx_response_free(resp);

    /* A streamed body can be sent once. */
    snprintf(url, sizeof url, "%s/upload", base);
    struct source once = {.data = data, .len = 10, .max_chunk = 10};
    httpx_request *req = NULL;
    httpx_request_new("POST", url, &req, NULL);
    httpx_request_set_body_reader(req, source_read, &once, source_free, 10);
    resp = NULL;
    rc = httpx_client_send(client, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && body_is(resp, "ok"), "first send of a streamed body (%s)", httpx_code_str(rc));
    httpx_response_free(resp);
    resp = NULL;
    rc = httpx_client_send(client, req, &resp, NULL);
    CHECK(rc == HTTPX_E_STREAM_CONSUMED && resp == NULL, "second send of the same stream -> STREAM_CONSUMED (got %s)",
          httpx_code_str(rc));
    const uint8_t *bd = NULL;
    uintptr_t bl = 0;
    CHECK(httpx_request_body(req, &bd, &bl) == HTTPX_E_STREAM_CONSUMED, "request_body of a streamed body -> STREAM_CONSUMED");
    /* Replacing the body releases the reader's userdata. */
    httpx_request_set_body(req, (const uint8_t *)"x", 1, NULL);
    CHECK(once.frees == 1, "replacing the body called the reader's free_fn once (got %d)", once.frees);
    httpx_request_free(req);
    CHECK(once.frees == 1, "... and request_free did not call it again (got %d)", once.frees);
    free(data);
}

int main(void) {
    base = need_env("HTTPX_TEST_HTTP");
    files = need_env("HTTPX_TEST_FILES_DIR");
    bin_base = need_env("HTTPX_TEST_HTTPBIN");
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_timeout(cfg, 30.0);
    httpx_error *err = NULL;
    CHECK(httpx_client_new(cfg, &client, &err) == HTTPX_OK, "client created");
    t_show_error("client_new", &err);
    httpx_client_config_free(cfg);
    if (!client) return test_done();

    download_1m();
    decoded_and_chunked();
    upload_to_httpbin();
    upload_to_nginx();

    httpx_client_free(client);
    return test_done();
}
