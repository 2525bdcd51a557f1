// httpx.h from C++17 (-Wall -Wextra -Werror -pedantic): the header compiles, its
// declarations have C linkage (the program links against libhttpx.so), and the API is
// usable with RAII (std::unique_ptr with the *_free functions as deleters). No server.
#include "httpx.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

static int failures = 0;

static void check(bool ok, const std::string &what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) failures++;
}

template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *p) const { Free(p); }
};
using Config = std::unique_ptr<httpx_client_config, Deleter<httpx_client_config, httpx_client_config_free>>;
using Client = std::unique_ptr<httpx_client, Deleter<httpx_client, httpx_client_free>>;
using Response = std::unique_ptr<httpx_response, Deleter<httpx_response, httpx_response_free>>;
using Transport = std::unique_ptr<httpx_transport, Deleter<httpx_transport, httpx_transport_free>>;

extern "C" {
static httpx_code hello_app(void *userdata, const httpx_request *req, httpx_response_builder *out) {
    ++*static_cast<int *>(userdata);
    std::string body = std::string("hello from C++ for ") + httpx_request_method(req);
    httpx_response_builder_add_header(out, "Content-Type", "text/plain");
    return httpx_response_builder_set_body(out, reinterpret_cast<const uint8_t *>(body.data()), body.size());
}
static void count_free(void *userdata) { *static_cast<int *>(userdata) += 1000; }
}

int main() {
    check(std::strcmp(httpx_version(), (std::to_string(HTTPX_VERSION_MAJOR) + "." + std::to_string(HTTPX_VERSION_MINOR) +
                                        "." + std::to_string(HTTPX_VERSION_PATCH))
                                           .c_str()) == 0,
          std::string("httpx_version() == macros: ") + httpx_version());
    check(std::strcmp(httpx_code_str(HTTPX_E_READ_TIMEOUT), "READ_TIMEOUT") == 0, "httpx_code_str from C++");

    int calls = 0;
    {
        httpx_transport *raw_t = nullptr;
        check(httpx_transport_callback(hello_app, &calls, count_free, &raw_t) == HTTPX_OK, "callback transport");
        Transport transport(raw_t);
        httpx_client_config *raw_cfg = nullptr;
        httpx_client_config_new(&raw_cfg);
        Config cfg(raw_cfg);
        httpx_client_config_set_transport(cfg.get(), transport.get());
        httpx_client *raw_client = nullptr;
        check(httpx_client_new(cfg.get(), &raw_client, nullptr) == HTTPX_OK, "client");
        Client client(raw_client);

        httpx_response *raw_resp = nullptr;
        httpx_code rc = httpx_client_get(client.get(), "http://cxx.test/", &raw_resp, nullptr);
        Response resp(raw_resp);
        check(rc == HTTPX_OK && httpx_response_status(resp.get()) == 200, "GET through the callback transport");
        const uint8_t *data = nullptr;
        size_t len = 0;
        httpx_response_body(resp.get(), &data, &len, nullptr);
        std::string body(reinterpret_cast<const char *>(data), len);
        check(body == "hello from C++ for GET", "body: " + body);
    } // RAII frees response, client, config, transport
    check(calls == 1001, "callback ran once and free_fn ran once after the RAII cleanup (" + std::to_string(calls) + ")");

    std::printf("%s: %d failed\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
