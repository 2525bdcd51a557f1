/*
 * quickstart: GET a URL and print the status line, the headers and the body.
 *
 *   ./quickstart http://127.0.0.1:8000/
 *
 * Exits 0 for a 2xx response, 1 otherwise (network error or HTTP error status).
 */
#include <stdio.h>

#include "httpx.h"

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : "http://127.0.0.1:8000/";

    /* A client holds the connection pool and the configuration (HTTPX `httpx.Client()`).
     * NULL config = HTTPX's defaults (5 s timeouts, no redirects followed). */
    httpx_client *client = NULL;
    httpx_error *err = NULL;
    if (httpx_client_new(NULL, &client, &err) != HTTPX_OK) {
        fprintf(stderr, "client: %s\n", httpx_error_message(err));
        httpx_error_free(err);
        return 1;
    }

    /* GET; the whole body is read before this returns. */
    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_get(client, url, &resp, &err);
    if (rc != HTTPX_OK) {
        /* httpx_code_str names the error class (CONNECT, READ_TIMEOUT, TLS, ...). */
        fprintf(stderr, "GET %s failed: %s: %s\n", url, httpx_code_str(rc), httpx_error_message(err));
        httpx_error_free(err);
        httpx_client_free(client);
        return 1;
    }

    printf("%s %u %s\n", httpx_response_http_version(resp), httpx_response_status(resp),
           httpx_response_reason(resp));
    for (size_t i = 0; i < httpx_response_header_count(resp); i++) {
        const char *name, *value;
        if (httpx_response_header_at(resp, i, &name, &value) == HTTPX_OK) printf("%s: %s\n", name, value);
    }
    printf("\n");

    /* The body as text, decoded by its charset. Owned by the response. */
    const char *text;
    size_t len;
    if (httpx_response_text(resp, &text, &len, &err) == HTTPX_OK) {
        fwrite(text, 1, len, stdout);
        printf("\n");
    } else {
        fprintf(stderr, "body: %s\n", httpx_error_message(err));
        httpx_error_free(err);
        err = NULL;
    }

    /* HTTPX's raise_for_status: non-2xx is an error. */
    rc = httpx_response_raise_for_status(resp, &err);
    if (rc != HTTPX_OK) {
        fprintf(stderr, "%s\n", httpx_error_message(err));
        httpx_error_free(err);
    }

    httpx_response_free(resp);
    httpx_client_free(client); /* closes the pool */
    return rc == HTTPX_OK ? 0 : 1;
}
