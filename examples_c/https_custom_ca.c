/*
 * https_custom_ca: GET over HTTPS from a server whose certificate is signed by your own
 * CA (HTTPX `verify="path/to/ca.pem"`), e.g. a local development server.
 *
 *   ./https_custom_ca https://localhost:8443/ /path/to/ca.pem
 *
 * Certificate problems (unknown issuer, wrong host name, expired) are HTTPX_E_TLS.
 */
#include <stdio.h>

#include "httpx.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s HTTPS_URL CA_PEM_FILE\n", argv[0]);
        return 2;
    }
    const char *url = argv[1], *ca_file = argv[2];

    /* TLS settings belong to the client (one pool per TLS configuration). The CA file is
     * read and checked by httpx_client_new. */
    httpx_client_config *cfg = NULL;
    httpx_client *client = NULL;
    httpx_error *err = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_ca_file(cfg, ca_file);
    httpx_code rc = httpx_client_new(cfg, &client, &err);
    httpx_client_config_free(cfg);
    if (rc != HTTPX_OK) {
        fprintf(stderr, "client: %s: %s\n", httpx_code_str(rc), httpx_error_message(err));
        httpx_error_free(err);
        return 1;
    }

    httpx_response *resp = NULL;
    rc = httpx_client_get(client, url, &resp, &err);
    if (rc == HTTPX_E_TLS) {
        fprintf(stderr, "certificate not accepted: %s\n", httpx_error_message(err));
    } else if (rc != HTTPX_OK) {
        fprintf(stderr, "GET %s: %s: %s\n", url, httpx_code_str(rc), httpx_error_message(err));
    } else {
        const unsigned char *body;
        size_t len;
        printf("%u %s\n", httpx_response_status(resp), httpx_response_reason(resp));
        if (httpx_response_body(resp, &body, &len, NULL) == HTTPX_OK) printf("%.*s\n", (int)len, (const char *)body);
        rc = httpx_response_raise_for_status(resp, NULL);
    }
    httpx_error_free(err);
    httpx_response_free(resp);
    httpx_client_free(client);
    return rc == HTTPX_OK ? 0 : 1;
}
