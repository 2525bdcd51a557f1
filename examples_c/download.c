/*
 * download: stream a URL to a file without holding the body in memory.
 *
 *   ./download http://127.0.0.1:8000/big.iso big.iso
 *
 * httpx_client_send_stream returns once the response head is in; httpx_response_read
 * then delivers the (decoded) body piece by piece, 0 bytes meaning the end.
 */
#include <stdio.h>

#include "httpx.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s URL OUTPUT_FILE\n", argv[0]);
        return 2;
    }
    const char *url = argv[1], *path = argv[2];
    int status = 1;

    httpx_client *client = NULL;
    httpx_request *req = NULL;
    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    FILE *out = NULL;

    /* Long downloads: keep the 10 s read timeout per read, no overall limit. */
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_timeouts(cfg, 10.0, 10.0, 10.0, 10.0);
    httpx_client_config_set_follow_redirects(cfg, 1);
    httpx_code rc = httpx_client_new(cfg, &client, &err);
    httpx_client_config_free(cfg);
    if (rc != HTTPX_OK) goto done;

    if ((rc = httpx_request_new("GET", url, &req, &err)) != HTTPX_OK) goto done;
    if ((rc = httpx_client_send_stream(client, req, &resp, &err)) != HTTPX_OK) goto done;
    if ((rc = httpx_response_raise_for_status(resp, &err)) != HTTPX_OK) goto done;

    const char *length = httpx_response_header_get(resp, "Content-Length");
    printf("%u %s, Content-Length: %s\n", httpx_response_status(resp), httpx_response_reason(resp),
           length ? length : "unknown");

    out = fopen(path, "wb");
    if (!out) {
        perror(path);
        goto done;
    }
    unsigned char buf[64 * 1024];
    size_t n = 0, total = 0;
    for (;;) {
        if ((rc = httpx_response_read(resp, buf, sizeof buf, &n, &err)) != HTTPX_OK) goto done;
        if (n == 0) break; /* end of body: the connection is back in the pool */
        if (fwrite(buf, 1, n, out) != n) {
            perror(path);
            goto done;
        }
        total += n;
    }
    if (fclose(out) != 0) {
        out = NULL;
        perror(path);
        goto done;
    }
    out = NULL;
    printf("wrote %zu bytes to %s in %.3f s\n", total, path, httpx_response_elapsed(resp));
    status = 0;

done:
    if (err) fprintf(stderr, "%s: %s\n", httpx_code_str(httpx_error_code(err)), httpx_error_message(err));
    if (out) {
        fclose(out);
        remove(path); /* no partial files */
    }
    httpx_error_free(err);
    httpx_response_free(resp); /* a half-read response closes its connection */
    httpx_request_free(req);
    httpx_client_free(client);
    return status;
}
