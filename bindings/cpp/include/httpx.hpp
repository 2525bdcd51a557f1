// httpx.hpp: header-only C++17 RAII wrapper of libhttpx (HTTPX's client as a C library).
//
//   #include "httpx.hpp"
//   httpx::Client client(httpx::ClientOptions().base_url("https://example.org").timeout(5));
//   httpx::Response r = client.get("/");
//   r.raise_for_status();
//   std::cout << r.text();
//
// Every handle is owned by a move-only object (std::unique_ptr with the
// matching httpx_*_free), so it is freed exactly once. Failures throw
// httpx::Error, which carries the libhttpx code. Exceptions thrown by your
// callbacks (mock transport handlers, body readers) never cross the C library:
// they are caught, the call fails inside libhttpx, and the original exception
// is rethrown from the Client / Response call that ran the callback.
//
// Build: -I<repo>/include -I<repo>/bindings/cpp/include ... -lhttpx
#ifndef HTTPX_HPP
#define HTTPX_HPP

#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "httpx.h"

namespace httpx {

/// Version of the loaded libhttpx, e.g. "0.1.0".
inline std::string version() { return httpx_version(); }

/// Name of a code ("READ_TIMEOUT", ...).
inline std::string code_name(httpx_code code) { return httpx_code_str(code); }

/// Every failure: the libhttpx code plus a message.
class Error : public std::runtime_error {
public:
    Error(httpx_code code, const std::string &message)
        : std::runtime_error(std::string(httpx_code_str(code)) + (message.empty() ? "" : ": " + message)), code_(code) {}
    httpx_code code() const noexcept { return code_; }
    std::string code_name() const { return httpx_code_str(code_); }
    /// A timeout (connect, read, write, pool or total).
    bool is_timeout() const noexcept { return httpx_code_is_timeout(code_) != 0; }

private:
    httpx_code code_;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

/// Seconds as a double from any std::chrono duration (for the C API).
template <typename Rep, typename Period>
constexpr double seconds(std::chrono::duration<Rep, Period> d) {
    return std::chrono::duration<double>(d).count();
}

/// HTTPX's four timeouts in seconds; negative = no timeout.
struct Timeouts {
    double connect = 5.0, read = 5.0, write = 5.0, pool = 5.0;
    Timeouts() = default;
    Timeouts(double c, double r, double w, double p) : connect(c), read(r), write(w), pool(p) {}
    /// From std::chrono durations, e.g. Timeouts(2s, 500ms, 500ms, 1s).
    template <typename R1, typename P1, typename R2, typename P2, typename R3, typename P3, typename R4, typename P4>
    Timeouts(std::chrono::duration<R1, P1> c, std::chrono::duration<R2, P2> r, std::chrono::duration<R3, P3> w,
             std::chrono::duration<R4, P4> p)
        : connect(seconds(c)), read(seconds(r)), write(seconds(w)), pool(seconds(p)) {}
};

/// HTTPX's pool limits; negative = no limit.
struct Limits {
    int64_t max_connections = 100;
    int64_t max_keepalive_connections = 20;
    double keepalive_expiry = 5.0;
    Limits() = default;
    Limits(int64_t max, int64_t keepalive, double expiry)
        : max_connections(max), max_keepalive_connections(keepalive), keepalive_expiry(expiry) {}
    template <typename Rep, typename Period>
    Limits(int64_t max, int64_t keepalive, std::chrono::duration<Rep, Period> expiry)
        : max_connections(max), max_keepalive_connections(keepalive), keepalive_expiry(seconds(expiry)) {}
};

/// Produces body bytes: write up to `cap` bytes to `buf` and return the count;
/// 0 means the end of the body. Throw to abort the transfer.
using BodyReader = std::function<size_t(char *buf, size_t cap)>;

namespace detail {

template <typename T, void (*F)(T *)>
struct Deleter {
    void operator()(T *p) const noexcept { F(p); }
};
template <typename T, void (*F)(T *)>
using Handle = std::unique_ptr<T, Deleter<T, F>>;

using ErrorPtr = Handle<httpx_error, httpx_error_free>;

/// The exception a callback threw on this thread, to rethrow after the C call.
inline std::exception_ptr &pending() {
    static thread_local std::exception_ptr p;
    return p;
}

inline void throw_if(httpx_code code, httpx_error *err = nullptr, const char *what = nullptr) {
    ErrorPtr owned(err);
    if (code == HTTPX_OK) return;
    throw Error(code, err ? httpx_error_message(err) : (what ? what : ""));
}

/// A setter's code on handle `h`: the first failure on the handle throws with
/// the library's message (`get_error`: httpx_request_error,
/// httpx_client_config_error or httpx_transport_error), later ones with `what`.
template <typename H>
inline void throw_setter(httpx_code code, const H *h, httpx_code (*get_error)(const H *, httpx_error **), bool &failed,
                         const char *what) {
    if (code == HTTPX_OK) return;
    bool first = !failed;
    failed = true;
    if (first) {
        httpx_error *err = nullptr;
        if (get_error(h, &err) == code && err) throw_if(code, err);
        httpx_error_free(err);
    }
    throw_if(code, nullptr, what);
}

/// Throw the first failed setter's error kept on `h` (nothing when none failed).
template <typename H>
inline void throw_kept(const H *h, httpx_code (*get_error)(const H *, httpx_error **)) {
    httpx_error *err = nullptr;
    httpx_code code = get_error(h, &err);
    throw_if(code, err);
}

/// Run a C call that may run C++ callbacks; rethrow what they threw.
template <typename F>
void call(F &&f) {
    pending() = nullptr;
    httpx_error *err = nullptr;
    httpx_code code = f(&err);
    std::exception_ptr ex = std::exchange(pending(), nullptr);
    if (code != HTTPX_OK && ex) {
        httpx_error_free(err);
        std::rethrow_exception(ex);
    }
    throw_if(code, err);
}

inline std::string cstr(std::string_view s, const char *what) {
    if (s.find('\0') != std::string_view::npos)
        throw Error(HTTPX_E_INVALID_ARGUMENT, std::string(what) + " contains a NUL byte");
    return std::string(s);
}

inline const char *or_empty(const char *s) { return s ? s : ""; }

extern "C" inline httpx_code httpx_cpp_read_trampoline(void *ud, uint8_t *buf, uintptr_t cap, uintptr_t *n_out) noexcept {
    try {
        size_t n = (*static_cast<BodyReader *>(ud))(reinterpret_cast<char *>(buf), cap);
        if (n > cap) throw Error(HTTPX_E_CALLBACK, "body reader returned more bytes than asked for");
        *n_out = n;
        return HTTPX_OK;
    } catch (...) {
        if (!pending()) pending() = std::current_exception();
        return HTTPX_E_CALLBACK;
    }
}

extern "C" inline void httpx_cpp_reader_free(void *ud) noexcept { delete static_cast<BodyReader *>(ud); }

}  // namespace detail

/// A cancel token (Go's context cancel): give it to requests with
/// Request::set_cancel, then fire() from any thread; every send and body read using
/// it throws httpx::Error with HTTPX_E_CANCELLED within 100 ms, wherever it is
/// blocked. Copies share one token (a shared handle), so it can be handed to worker
/// threads; requests keep their own reference, so the token may go away first.
class CancelToken {
public:
    CancelToken() {
        httpx_cancel *t = nullptr;
        detail::throw_if(httpx_cancel_new(&t), nullptr, "httpx_cancel_new");
        h_.reset(t, httpx_cancel_free);
    }
    /// Idempotent, thread-safe, never throws.
    void fire() const noexcept { httpx_cancel_fire(h_.get()); }
    bool is_fired() const noexcept { return httpx_cancel_is_fired(h_.get()) != 0; }
    const httpx_cancel *get() const noexcept { return h_.get(); }

private:
    std::shared_ptr<httpx_cancel> h_;
};

// ------------------------------------------------------------ observers and hooks
/// Progress: bytes sent, upload total (-1 unknown), bytes received (raw), download
/// total (-1 unknown). Return false (or throw) to abort the transfer; a thrown
/// exception is rethrown by the Client / Response call.
using ProgressFn = std::function<bool(uint64_t sent, int64_t send_total, uint64_t received, int64_t receive_total)>;
/// Trace: one of HTTPX_TRACE_* (HTTPX_TRACE_FAILED carries the error message),
/// seconds since the send began, a short detail. Exceptions are swallowed.
using TraceFn = std::function<void(uint32_t event, double elapsed, std::string_view detail)>;
/// Debug (curl's DEBUGFUNCTION): one of HTTPX_DEBUG_* and the bytes (valid during
/// the call). Exceptions are swallowed.
using DebugFn = std::function<void(uint32_t kind, std::string_view data)>;

namespace detail {

extern "C" inline void httpx_cpp_progress_free(void *ud) noexcept { delete static_cast<ProgressFn *>(ud); }
extern "C" inline void httpx_cpp_trace_free(void *ud) noexcept { delete static_cast<TraceFn *>(ud); }
extern "C" inline void httpx_cpp_debug_free(void *ud) noexcept { delete static_cast<DebugFn *>(ud); }

extern "C" inline int32_t httpx_cpp_progress_trampoline(void *ud, uint64_t s, int64_t st, uint64_t r, int64_t rt) noexcept {
    try {
        return (*static_cast<ProgressFn *>(ud))(s, st, r, rt) ? 0 : 1;
    } catch (...) {
        if (!pending()) pending() = std::current_exception();
        return 1;
    }
}

extern "C" inline void httpx_cpp_trace_trampoline(void *ud, uint32_t ev, double elapsed, const char *detail) noexcept {
    try {
        (*static_cast<TraceFn *>(ud))(ev, elapsed, detail ? std::string_view(detail) : std::string_view());
    } catch (...) {
    }
}

extern "C" inline void httpx_cpp_debug_trampoline(void *ud, uint32_t kind, const uint8_t *data, uintptr_t len) noexcept {
    try {
        (*static_cast<DebugFn *>(ud))(kind, std::string_view(reinterpret_cast<const char *>(data), len));
    } catch (...) {
    }
}

/// Hand a std::function to a C setter taking (fn, userdata, free_fn); freed by
/// libhttpx, or here when the setter fails.
template <typename F, typename Tramp, typename Set>
void install(F f, Tramp tramp, httpx_free_fn free_fn, Set set) {
    if (!f) throw Error(HTTPX_E_INVALID_ARGUMENT, "callback is empty");
    auto *ud = new F(std::move(f));
    httpx_code code = set(tramp, ud, free_fn);
    if (code != HTTPX_OK) {
        delete ud;  // not taken on error
        throw_if(code, nullptr, "callback");
    }
}

}  // namespace detail

/// A read-only view of a request: in a mock transport handler (valid during the
/// call) or from Response::request() (valid while the response lives).
class RequestView {
public:
    RequestView(const httpx_request *req, httpx_response_builder *builder = nullptr) : req_(req), builder_(builder) {}

    std::string method() const { return detail::or_empty(httpx_request_method(req_)); }
    std::string url() const { return detail::or_empty(httpx_request_url(req_)); }
    std::optional<std::string> header(std::string_view name) const {
        const char *v = httpx_request_header_get(req_, detail::cstr(name, "header name").c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    }
    Headers headers() const {
        Headers out;
        size_t n = httpx_request_header_count(req_);
        for (size_t i = 0; i < n; i++) {
            const char *k = nullptr, *v = nullptr;
            if (httpx_request_header_at(req_, i, &k, &v) == HTTPX_OK) out.emplace_back(k, v);
        }
        return out;
    }
    /// The body (in a handler: as received, streamed bodies included).
    std::string body() const {
        const uint8_t *data = nullptr;
        uintptr_t len = 0;
        httpx_code code = builder_ ? httpx_response_builder_request_body(builder_, &data, &len)
                                   : httpx_request_body(req_, &data, &len);
        detail::throw_if(code, nullptr, "request body not available");
        return std::string(reinterpret_cast<const char *>(data), len);
    }
    const httpx_request *get() const noexcept { return req_; }

private:
    const httpx_request *req_;
    httpx_response_builder *builder_;
};

/// A request a request hook may edit (valid during the hook call).
class RequestRef : public RequestView {
public:
    explicit RequestRef(httpx_request *req) : RequestView(req), mut_(req) {}
    void set_header(std::string_view name, std::string_view value) {
        detail::throw_if(httpx_request_set_header(mut_, detail::cstr(name, "header").c_str(), detail::cstr(value, "header").c_str()),
                         nullptr, "invalid header");
    }
    void remove_header(std::string_view name) {
        detail::throw_if(httpx_request_remove_header(mut_, detail::cstr(name, "header").c_str()), nullptr, "remove_header");
    }
    void add_param(std::string_view key, std::string_view value) {
        detail::throw_if(httpx_request_add_param(mut_, detail::cstr(key, "param").c_str(), detail::cstr(value, "param").c_str()), nullptr,
                         "param");
    }
    httpx_request *get_mut() const noexcept { return mut_; }

private:
    httpx_request *mut_;
};

/// Request hook (HTTPX event_hooks["request"]): edit the request before it is
/// sent. Throwing fails the send; the exception is rethrown by Client::send.
using RequestHook = std::function<void(RequestRef &)>;

/// A response as a response hook sees it (valid during the hook call).
class ResponseRef {
public:
    explicit ResponseRef(httpx_response *resp) : r_(resp) {}
    uint16_t status() const { return httpx_response_status(r_); }
    std::string reason() const { return detail::or_empty(httpx_response_reason(r_)); }
    std::string url() const { return detail::or_empty(httpx_response_url(r_)); }
    std::optional<std::string> header(std::string_view name) const {
        const char *v = httpx_response_header_get(r_, detail::cstr(name, "header name").c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    }
    /// Read the whole body now (HTTPX's response.read() in a hook).
    std::string body() const {
        const uint8_t *data = nullptr;
        uintptr_t len = 0;
        httpx_error *err = nullptr;
        httpx_code code = httpx_response_body(r_, &data, &len, &err);
        detail::throw_if(code, err);
        return std::string(reinterpret_cast<const char *>(data), len);
    }
    httpx_response *get() const noexcept { return r_; }

private:
    httpx_response *r_;
};

/// Response hook (HTTPX event_hooks["response"]); throwing fails the send.
using ResponseHook = std::function<void(ResponseRef &)>;

namespace detail {

extern "C" inline httpx_code httpx_cpp_request_hook_trampoline(void *ud, httpx_request *req) noexcept {
    try {
        RequestRef ref(req);
        (*static_cast<RequestHook *>(ud))(ref);
        return HTTPX_OK;
    } catch (...) {
        if (!pending()) pending() = std::current_exception();
        return HTTPX_E_CALLBACK;
    }
}

extern "C" inline httpx_code httpx_cpp_response_hook_trampoline(void *ud, httpx_response *resp) noexcept {
    try {
        ResponseRef ref(resp);
        (*static_cast<ResponseHook *>(ud))(ref);
        return HTTPX_OK;
    } catch (...) {
        if (!pending()) pending() = std::current_exception();
        return HTTPX_E_CALLBACK;
    }
}

extern "C" inline void httpx_cpp_request_hook_free(void *ud) noexcept { delete static_cast<RequestHook *>(ud); }
extern "C" inline void httpx_cpp_response_hook_free(void *ud) noexcept { delete static_cast<ResponseHook *>(ud); }

}  // namespace detail

/// An authentication scheme (shared by the configs and requests that use it).
class Auth {
public:
    static Auth basic(std::string_view user, std::string_view pass) { return make(httpx_auth_basic, user, pass); }
    static Auth digest(std::string_view user, std::string_view pass) { return make(httpx_auth_digest, user, pass); }
    httpx_auth *get() const noexcept { return h_.get(); }

private:
    explicit Auth(httpx_auth *h) : h_(h, httpx_auth_free) {}
    static Auth make(httpx_code (*f)(const char *, const char *, httpx_auth **), std::string_view u, std::string_view p) {
        httpx_auth *out = nullptr;
        detail::throw_if(f(detail::cstr(u, "user").c_str(), detail::cstr(p, "password").c_str(), &out), nullptr, "invalid credentials");
        return Auth(out);
    }
    std::shared_ptr<httpx_auth> h_;
};

/// What a mock transport handler answers.
struct MockResponse {
    uint16_t status = 200;
    Headers headers;
    std::string body;
    BodyReader body_reader;  ///< if set, streams the body instead of `body`

    static MockResponse json(uint16_t status, std::string json_text) {
        MockResponse r;
        r.status = status;
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = std::move(json_text);
        return r;
    }
    static MockResponse text(uint16_t status, std::string text) {
        MockResponse r;
        r.status = status;
        r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
        r.body = std::move(text);
        return r;
    }
};

/// Answers a request in-process (HTTPX MockTransport's handler). Throwing fails
/// the send and the exception is rethrown by Client::send (unless
/// raise_errors(false), which answers 500).
using Handler = std::function<MockResponse(const RequestView &)>;

namespace detail {

extern "C" inline httpx_code httpx_cpp_transport_trampoline(void *ud, const httpx_request *req, httpx_response_builder *out) noexcept {
    try {
        MockResponse r = (*static_cast<Handler *>(ud))(RequestView(req, out));
        throw_if(httpx_response_builder_set_status(out, r.status), nullptr, "invalid status");
        for (auto &h : r.headers)
            throw_if(httpx_response_builder_add_header(out, cstr(h.first, "header name").c_str(), cstr(h.second, "header value").c_str()),
                     nullptr, "invalid header");
        if (r.body_reader) {
            auto *rd = new BodyReader(std::move(r.body_reader));
            httpx_code code = httpx_response_builder_set_body_reader(out, httpx_cpp_read_trampoline, rd, httpx_cpp_reader_free);
            if (code != HTTPX_OK) {
                delete rd;  // not taken on error
                throw_if(code, nullptr, "set body reader");
            }
        } else {
            throw_if(httpx_response_builder_set_body(out, reinterpret_cast<const uint8_t *>(r.body.data()), r.body.size()), nullptr,
                     "set body");
        }
        return HTTPX_OK;
    } catch (const Error &e) {
        if (!pending()) pending() = std::current_exception();
        return e.code() == HTTPX_E_RECURSIVE_CALL ? HTTPX_E_RECURSIVE_CALL : HTTPX_E_CALLBACK;
    } catch (...) {
        if (!pending()) pending() = std::current_exception();
        return HTTPX_E_CALLBACK;
    }
}

extern "C" inline void httpx_cpp_handler_free(void *ud) noexcept { delete static_cast<Handler *>(ud); }

}  // namespace detail

/// A transport for ClientOptions::transport / mount. Clients keep it alive, so
/// the Transport object may be destroyed after the client is built.
class Transport {
public:
    /// HTTPX MockTransport: answer requests with `handler`, without a network.
    static Transport mock(Handler handler, bool raise_errors = true) {
        if (!handler) throw Error(HTTPX_E_INVALID_ARGUMENT, "handler is empty");
        auto *ud = new Handler(std::move(handler));
        httpx_transport *t = nullptr;
        httpx_code code = httpx_transport_callback(detail::httpx_cpp_transport_trampoline, ud, detail::httpx_cpp_handler_free, &t);
        if (code != HTTPX_OK) {
            delete ud;  // not taken on error
            detail::throw_if(code, nullptr, "httpx_transport_callback");
        }
        Transport tr(t);
        if (!raise_errors) tr.check(httpx_transport_callback_set_raise_errors(t, 0), "raise_errors");
        return tr;
    }
    /// HTTPX HTTPTransport: a network transport with its own pool.
    static Transport http(uint32_t retries = 0) {
        httpx_transport *t = nullptr;
        detail::throw_if(httpx_transport_http(&t), nullptr, "httpx_transport_http");
        Transport tr(t);
        if (retries) tr.check(httpx_transport_http_set_retries(t, retries), "retries");
        return tr;
    }
    /// Bind an HTTP transport's connections to a local IP address (before first use).
    Transport &local_address(std::string_view addr) & {
        return check(httpx_transport_http_set_local_address(h_.get(), detail::cstr(addr, "local address").c_str()), "local_address");
    }
    /// Connect retries of an HTTP transport (before first use).
    Transport &retries(uint32_t n) & { return check(httpx_transport_http_set_retries(h_.get(), n), "retries"); }
    /// Throw the first failed setter's error (httpx_transport_error), if any.
    /// ClientOptions::transport and ::mount call it: a transport with a failed
    /// setter is refused.
    void throw_if_failed() const { detail::throw_kept(h_.get(), httpx_transport_error); }
    httpx_transport *get() const noexcept { return h_.get(); }

private:
    explicit Transport(httpx_transport *t) : h_(t) {}
    Transport &check(httpx_code code, const char *what) {
        detail::throw_setter(code, h_.get(), httpx_transport_error, failed_, what);
        return *this;
    }
    detail::Handle<httpx_transport, httpx_transport_free> h_;
    bool failed_ = false;
};

/// Client configuration (HTTPX Client(...) arguments), fluent:
/// ClientOptions().base_url("http://h").header("X-A", "1").timeout(10)
/// Setters are applied (and checked) at once; on a temporary they return the
/// moved object, so a chain can be returned or passed by value. Move-only.
class ClientOptions {
public:
    ClientOptions() {
        httpx_client_config *c = nullptr;
        detail::throw_if(httpx_client_config_new(&c), nullptr, "httpx_client_config_new");
        cfg_.reset(c);
    }
    ClientOptions &base_url(std::string_view url) & {
        return check(httpx_client_config_set_base_url(cfg_.get(), detail::cstr(url, "base_url").c_str()), "invalid base_url");
    }
    ClientOptions &header(std::string_view name, std::string_view value) & {
        return check(httpx_client_config_add_header(cfg_.get(), detail::cstr(name, "header").c_str(), detail::cstr(value, "header").c_str()),
                     "invalid header");
    }
    ClientOptions &param(std::string_view key, std::string_view value) & {
        return check(httpx_client_config_add_param(cfg_.get(), detail::cstr(key, "param").c_str(), detail::cstr(value, "param").c_str()),
                     "invalid param");
    }
    ClientOptions &cookie(std::string_view name, std::string_view value) & {
        return check(httpx_client_config_add_cookie(cfg_.get(), detail::cstr(name, "cookie").c_str(), detail::cstr(value, "cookie").c_str(),
                                                    nullptr, nullptr),
                     "invalid cookie");
    }
    ClientOptions &auth(const Auth &a) & { return check(httpx_client_config_set_auth(cfg_.get(), a.get()), "auth"); }
    /// All four timeouts, seconds (negative = none).
    ClientOptions &timeout(double seconds) & { return check(httpx_client_config_set_timeout(cfg_.get(), seconds), "timeout"); }
    ClientOptions &timeouts(const Timeouts &t) & {
        return check(httpx_client_config_set_timeouts(cfg_.get(), t.connect, t.read, t.write, t.pool), "timeouts");
    }
    template <typename Rep, typename Period>
    ClientOptions &timeout(std::chrono::duration<Rep, Period> d) & {
        return timeout(seconds(d));
    }
    /// One deadline for a whole send (pool wait, DNS, connect, TLS, writing, redirects,
    /// auth steps, the body); negative = none. Expiry: HTTPX_E_TOTAL_TIMEOUT.
    ClientOptions &total_timeout(double seconds) & {
        return check(httpx_client_config_set_total_timeout(cfg_.get(), seconds), "total_timeout");
    }
    template <typename Rep, typename Period>
    ClientOptions &total_timeout(std::chrono::duration<Rep, Period> d) & {
        return total_timeout(seconds(d));
    }
    ClientOptions &limits(const Limits &l) & {
        return check(httpx_client_config_set_limits(cfg_.get(), l.max_connections, l.max_keepalive_connections, l.keepalive_expiry), "limits");
    }
    ClientOptions &verify(bool on) & { return check(httpx_client_config_set_verify(cfg_.get(), on), "verify"); }
    ClientOptions &ca_file(std::string_view path) & {
        return check(httpx_client_config_set_ca_file(cfg_.get(), detail::cstr(path, "path").c_str()), "ca_file");
    }
    ClientOptions &client_cert(std::string_view cert, std::string_view key) & {
        return check(httpx_client_config_set_client_cert(cfg_.get(), detail::cstr(cert, "cert").c_str(), detail::cstr(key, "key").c_str()),
                     "client_cert");
    }
    ClientOptions &trust_env(bool on) & { return check(httpx_client_config_set_trust_env(cfg_.get(), on), "trust_env"); }
    ClientOptions &follow_redirects(bool on) & { return check(httpx_client_config_set_follow_redirects(cfg_.get(), on), "follow_redirects"); }
    ClientOptions &max_redirects(uint32_t n) & { return check(httpx_client_config_set_max_redirects(cfg_.get(), n), "max_redirects"); }
    /// Route requests matching a routing key ("all://", "https://host") through a proxy.
    ClientOptions &proxy(std::string_view key, std::string_view url) & {
        return check(httpx_client_config_add_proxy(cfg_.get(), detail::cstr(key, "key").c_str(), detail::cstr(url, "url").c_str(),
                                                   HTTPX_PROXY_DEFAULT),
                     "invalid proxy");
    }
    ClientOptions &transport(const Transport &t) & {
        t.throw_if_failed();
        return check(httpx_client_config_set_transport(cfg_.get(), t.get()), "transport");
    }
    ClientOptions &mount(std::string_view key, const Transport &t) & {
        t.throw_if_failed();
        return check(httpx_client_config_mount(cfg_.get(), detail::cstr(key, "key").c_str(), t.get()), "invalid mount");
    }
    /// Transfer progress (libcurl XFERINFOFUNCTION); return false to abort.
    ClientOptions &progress(ProgressFn f) & {
        detail::install(std::move(f), detail::httpx_cpp_progress_trampoline, detail::httpx_cpp_progress_free, [&](auto t, void *ud, auto fr) {
            return httpx_client_config_set_progress(cfg_.get(), t, ud, fr);
        });
        return *this;
    }
    /// Connection and exchange milestones, failures included.
    ClientOptions &trace(TraceFn f) & {
        detail::install(std::move(f), detail::httpx_cpp_trace_trampoline, detail::httpx_cpp_trace_free, [&](auto t, void *ud, auto fr) {
            return httpx_client_config_set_trace(cfg_.get(), t, ud, fr);
        });
        return *this;
    }
    /// What passes on the wire (curl -v): TEXT lines, heads as sent/received, body bytes.
    ClientOptions &debug(DebugFn f) & {
        detail::install(std::move(f), detail::httpx_cpp_debug_trampoline, detail::httpx_cpp_debug_free, [&](auto t, void *ud, auto fr) {
            return httpx_client_config_set_debug(cfg_.get(), t, ud, fr);
        });
        return *this;
    }
    /// Add a request hook (runs before every request, redirects included).
    ClientOptions &request_hook(RequestHook f) & {
        detail::install(std::move(f), detail::httpx_cpp_request_hook_trampoline, detail::httpx_cpp_request_hook_free, [&](auto t, void *ud, auto fr) {
            return httpx_client_config_add_request_hook(cfg_.get(), t, ud, fr);
        });
        return *this;
    }
    /// Add a response hook (runs when each response head arrives).
    ClientOptions &response_hook(ResponseHook f) & {
        detail::install(std::move(f), detail::httpx_cpp_response_hook_trampoline, detail::httpx_cpp_response_hook_free, [&](auto t, void *ud, auto fr) {
            return httpx_client_config_add_response_hook(cfg_.get(), t, ud, fr);
        });
        return *this;
    }
    const httpx_client_config *get() const noexcept { return cfg_.get(); }

    ClientOptions progress(ProgressFn f) && {
        progress(std::move(f));
        return std::move(*this);
    }
    ClientOptions trace(TraceFn f) && {
        trace(std::move(f));
        return std::move(*this);
    }
    ClientOptions debug(DebugFn f) && {
        debug(std::move(f));
        return std::move(*this);
    }
    ClientOptions request_hook(RequestHook f) && {
        request_hook(std::move(f));
        return std::move(*this);
    }
    ClientOptions response_hook(ResponseHook f) && {
        response_hook(std::move(f));
        return std::move(*this);
    }
    ClientOptions base_url(std::string_view url) && {
        base_url(std::move(url));
        return std::move(*this);
    }
    ClientOptions header(std::string_view name, std::string_view value) && {
        header(std::move(name), std::move(value));
        return std::move(*this);
    }
    ClientOptions param(std::string_view key, std::string_view value) && {
        param(std::move(key), std::move(value));
        return std::move(*this);
    }
    ClientOptions cookie(std::string_view name, std::string_view value) && {
        cookie(std::move(name), std::move(value));
        return std::move(*this);
    }
    ClientOptions auth(const Auth &a) && {
        auth(std::move(a));
        return std::move(*this);
    }
    ClientOptions timeout(double seconds) && {
        timeout(std::move(seconds));
        return std::move(*this);
    }
    ClientOptions timeouts(const Timeouts &t) && {
        timeouts(std::move(t));
        return std::move(*this);
    }
    template <typename Rep, typename Period>
    ClientOptions timeout(std::chrono::duration<Rep, Period> d) && {
        timeout(seconds(d));
        return std::move(*this);
    }
    ClientOptions total_timeout(double s) && {
        total_timeout(std::move(s));
        return std::move(*this);
    }
    template <typename Rep, typename Period>
    ClientOptions total_timeout(std::chrono::duration<Rep, Period> d) && {
        total_timeout(seconds(d));
        return std::move(*this);
    }
    ClientOptions limits(const Limits &l) && {
        limits(std::move(l));
        return std::move(*this);
    }
    ClientOptions verify(bool on) && {
        verify(std::move(on));
        return std::move(*this);
    }
    ClientOptions ca_file(std::string_view path) && {
        ca_file(std::move(path));
        return std::move(*this);
    }
    ClientOptions client_cert(std::string_view cert, std::string_view key) && {
        client_cert(std::move(cert), std::move(key));
        return std::move(*this);
    }
    ClientOptions trust_env(bool on) && {
        trust_env(std::move(on));
        return std::move(*this);
    }
    ClientOptions follow_redirects(bool on) && {
        follow_redirects(std::move(on));
        return std::move(*this);
    }
    ClientOptions max_redirects(uint32_t n) && {
        max_redirects(std::move(n));
        return std::move(*this);
    }
    ClientOptions proxy(std::string_view key, std::string_view url) && {
        proxy(std::move(key), std::move(url));
        return std::move(*this);
    }
    ClientOptions transport(const Transport &t) && {
        transport(std::move(t));
        return std::move(*this);
    }
    ClientOptions mount(std::string_view key, const Transport &t) && {
        mount(std::move(key), std::move(t));
        return std::move(*this);
    }

    /// Throw the first failed setter's error (httpx_client_config_error), if
    /// any: Client's constructor calls it, so options whose setter threw (and
    /// was caught) never build a client.
    void throw_if_failed() const { detail::throw_kept(cfg_.get(), httpx_client_config_error); }

private:
    ClientOptions &check(httpx_code code, const char *what) {
        detail::throw_setter(code, cfg_.get(), httpx_client_config_error, failed_, what);
        return *this;
    }
    detail::Handle<httpx_client_config, httpx_client_config_free> cfg_;
    bool failed_ = false;
};

/// An HTTP request: Request(method, url) (absolute URL) or Client::build_request.
/// Move-only; may be sent several times.
class Request {
public:
    Request(std::string_view method, std::string_view url) {
        httpx_request *r = nullptr;
        httpx_error *err = nullptr;
        httpx_code code = httpx_request_new(detail::cstr(method, "method").c_str(), detail::cstr(url, "url").c_str(), &r, &err);  // evaluated before err is read
        detail::throw_if(code, err);
        h_.reset(r);
    }
    explicit Request(httpx_request *owned) : h_(owned) {}

    Request clone() const {
        httpx_request *r = nullptr;
        detail::throw_if(httpx_request_clone(h_.get(), &r), nullptr, "clone");
        return Request(r);
    }

    RequestView view() const { return RequestView(h_.get()); }
    std::string method() const { return view().method(); }
    std::string url() const { return view().url(); }
    std::optional<std::string> header(std::string_view name) const { return view().header(name); }
    Headers headers() const { return view().headers(); }
    std::string body() const { return view().body(); }

    Request &set_header(std::string_view name, std::string_view value) & {
        return check(httpx_request_set_header(h_.get(), detail::cstr(name, "header").c_str(), detail::cstr(value, "header").c_str()),
                     "invalid header");
    }
    Request &add_header(std::string_view name, std::string_view value) & {
        return check(httpx_request_add_header(h_.get(), detail::cstr(name, "header").c_str(), detail::cstr(value, "header").c_str()),
                     "invalid header");
    }
    Request &remove_header(std::string_view name) & {
        return check(httpx_request_remove_header(h_.get(), detail::cstr(name, "header").c_str()), "remove_header");
    }
    Request &add_param(std::string_view key, std::string_view value) & {
        return check(httpx_request_add_param(h_.get(), detail::cstr(key, "param").c_str(), detail::cstr(value, "param").c_str()), "param");
    }
    Request &set_cookie(std::string_view name, std::string_view value) & {
        return check(httpx_request_set_cookie(h_.get(), detail::cstr(name, "cookie").c_str(), detail::cstr(value, "cookie").c_str()),
                     "cookie");
    }
    /// Body bytes (copied); content_type empty = none added.
    Request &set_body(std::string_view data, std::string_view content_type = {}) & {
        std::string ct = detail::cstr(content_type, "content type");
        return check(httpx_request_set_body(h_.get(), reinterpret_cast<const uint8_t *>(data.data()), data.size(),
                                            content_type.empty() ? nullptr : ct.c_str()),
                     "set_body");
    }
    /// JSON body from JSON text (HTTPX json=).
    Request &set_json(std::string_view json_text) & {
        return check(httpx_request_set_json(h_.get(), detail::cstr(json_text, "json").c_str()), "invalid JSON");
    }
    /// Urlencoded form (HTTPX data=).
    Request &set_form(const Headers &fields) & {
        std::vector<std::string> keep;
        keep.reserve(fields.size() * 2);
        std::vector<const char *> names, values;
        for (auto &f : fields) {
            keep.push_back(detail::cstr(f.first, "form name"));
            names.push_back(keep.back().c_str());
            keep.push_back(detail::cstr(f.second, "form value"));
            values.push_back(keep.back().c_str());
        }
        return check(httpx_request_set_form(h_.get(), names.data(), values.data(), names.size()), "set_form");
    }
    /// Stream the body from `reader` at send time; length < 0 = chunked.
    Request &set_body_reader(BodyReader reader, int64_t length = -1) & {
        auto *ud = new BodyReader(std::move(reader));
        httpx_code code = httpx_request_set_body_reader(h_.get(), detail::httpx_cpp_read_trampoline, ud, detail::httpx_cpp_reader_free, length);
        if (code != HTTPX_OK) delete ud;  // not taken on error
        return check(code, "set_body_reader");
    }
    Request &set_auth(const Auth &a) & { return check(httpx_request_set_auth(h_.get(), a.get()), "auth"); }
    /// Send with no auth at all (HTTPX auth=None).
    Request &disable_auth() & { return check(httpx_request_set_auth(h_.get(), nullptr), "auth"); }
    Request &set_timeout(double seconds) & { return check(httpx_request_set_timeout(h_.get(), seconds), "timeout"); }
    Request &set_timeouts(const Timeouts &t) & {
        return check(httpx_request_set_timeouts(h_.get(), t.connect, t.read, t.write, t.pool), "timeouts");
    }
    Request &set_follow_redirects(bool on) & { return check(httpx_request_set_follow_redirects(h_.get(), on), "follow_redirects"); }
    template <typename Rep, typename Period>
    Request &set_timeout(std::chrono::duration<Rep, Period> d) & {
        return set_timeout(seconds(d));
    }
    /// Total timeout of this request (overrides the client's; negative = none).
    Request &set_total_timeout(double seconds) & {
        return check(httpx_request_set_total_timeout(h_.get(), seconds), "total_timeout");
    }
    template <typename Rep, typename Period>
    Request &set_total_timeout(std::chrono::duration<Rep, Period> d) & {
        return set_total_timeout(seconds(d));
    }
    /// Guard this request with `tok` (the request keeps its own reference).
    Request &set_cancel(const CancelToken &tok) & { return check(httpx_request_set_cancel(h_.get(), tok.get()), "cancel"); }
    Request &clear_cancel() & { return check(httpx_request_set_cancel(h_.get(), nullptr), "cancel"); }

    httpx_request *get() const noexcept { return h_.get(); }

    Request set_header(std::string_view name, std::string_view value) && {
        set_header(std::move(name), std::move(value));
        return std::move(*this);
    }
    Request add_header(std::string_view name, std::string_view value) && {
        add_header(std::move(name), std::move(value));
        return std::move(*this);
    }
    Request remove_header(std::string_view name) && {
        remove_header(std::move(name));
        return std::move(*this);
    }
    Request add_param(std::string_view key, std::string_view value) && {
        add_param(std::move(key), std::move(value));
        return std::move(*this);
    }
    Request set_cookie(std::string_view name, std::string_view value) && {
        set_cookie(std::move(name), std::move(value));
        return std::move(*this);
    }
    Request set_body(std::string_view data, std::string_view content_type = {}) && {
        set_body(std::move(data), std::move(content_type));
        return std::move(*this);
    }
    Request set_json(std::string_view json_text) && {
        set_json(std::move(json_text));
        return std::move(*this);
    }
    Request set_form(const Headers &fields) && {
        set_form(std::move(fields));
        return std::move(*this);
    }
    Request set_body_reader(BodyReader reader, int64_t length = -1) && {
        set_body_reader(std::move(reader), std::move(length));
        return std::move(*this);
    }
    Request set_auth(const Auth &a) && {
        set_auth(std::move(a));
        return std::move(*this);
    }
    Request disable_auth() && {
        disable_auth();
        return std::move(*this);
    }
    Request set_timeout(double seconds) && {
        set_timeout(std::move(seconds));
        return std::move(*this);
    }
    Request set_timeouts(const Timeouts &t) && {
        set_timeouts(std::move(t));
        return std::move(*this);
    }
    Request set_follow_redirects(bool on) && {
        set_follow_redirects(std::move(on));
        return std::move(*this);
    }
    template <typename Rep, typename Period>
    Request set_timeout(std::chrono::duration<Rep, Period> d) && {
        set_timeout(seconds(d));
        return std::move(*this);
    }
    Request set_total_timeout(double s) && {
        set_total_timeout(std::move(s));
        return std::move(*this);
    }
    template <typename Rep, typename Period>
    Request set_total_timeout(std::chrono::duration<Rep, Period> d) && {
        set_total_timeout(seconds(d));
        return std::move(*this);
    }
    Request set_cancel(const CancelToken &tok) && {
        set_cancel(tok);
        return std::move(*this);
    }

    /// Throw the first failed setter's error (httpx_request_error), if any.
    /// Client::send, Client::stream and Multi::add call it: a request whose
    /// setter threw (and was caught) is not sent without that edit.
    void throw_if_failed() const { detail::throw_kept(static_cast<const httpx_request *>(h_.get()), httpx_request_error); }

private:
    Request &check(httpx_code code, const char *what) {
        detail::throw_setter(code, static_cast<const httpx_request *>(h_.get()), httpx_request_error, failed_, what);
        return *this;
    }
    detail::Handle<httpx_request, httpx_request_free> h_;
    bool failed_ = false;
};

/// An HTTP response. Move-only. From Client::send the body is read; from
/// Client::stream read it with read().
class Response {
public:
    explicit Response(httpx_response *owned) : h_(owned) {}

    uint16_t status() const { return httpx_response_status(h_.get()); }
    std::string reason() const { return detail::or_empty(httpx_response_reason(h_.get())); }
    std::string http_version() const { return detail::or_empty(httpx_response_http_version(h_.get())); }
    std::string url() const { return detail::or_empty(httpx_response_url(h_.get())); }
    /// Seconds from sending the request to the end of the body.
    double elapsed() const { return httpx_response_elapsed(h_.get()); }
    bool is_success() const { return status() >= 200 && status() < 300; }

    std::optional<std::string> header(std::string_view name) const {
        const char *v = httpx_response_header_get(h_.get(), detail::cstr(name, "header name").c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    }
    std::vector<std::string> header_values(std::string_view name) const {
        std::string n = detail::cstr(name, "header name");
        std::vector<std::string> out;
        for (size_t i = 0;; i++) {
            const char *v = httpx_response_header_get_nth(h_.get(), n.c_str(), i);
            if (!v) break;
            out.emplace_back(v);
        }
        return out;
    }
    Headers headers() const {
        Headers out;
        size_t n = httpx_response_header_count(h_.get());
        for (size_t i = 0; i < n; i++) {
            const char *k = nullptr, *v = nullptr;
            if (httpx_response_header_at(h_.get(), i, &k, &v) == HTTPX_OK) out.emplace_back(k, v);
        }
        return out;
    }

    /// The whole decoded body, borrowed from the response (read now if needed).
    std::string_view body_view() {
        const uint8_t *data = nullptr;
        uintptr_t len = 0;
        detail::call([&](httpx_error **e) { return httpx_response_body(h_.get(), &data, &len, e); });
        return std::string_view(reinterpret_cast<const char *>(data), len);
    }
    std::string body() { return std::string(body_view()); }
    /// The body decoded to UTF-8 by its charset.
    std::string text() {
        const char *t = nullptr;
        uintptr_t len = 0;
        detail::call([&](httpx_error **e) { return httpx_response_text(h_.get(), &t, &len, e); });
        return std::string(t, len);
    }
    /// Streaming read: up to cap bytes into buf; 0 at the end of the body.
    size_t read(void *buf, size_t cap) {
        uintptr_t n = 0;
        detail::call([&](httpx_error **e) { return httpx_response_read(h_.get(), static_cast<uint8_t *>(buf), cap, &n, e); });
        return n;
    }
    /// HTTPX raise_for_status: throws Error(HTTPX_E_HTTP_STATUS) unless 2xx.
    const Response &raise_for_status() const {
        httpx_error *err = nullptr;
        httpx_code code = httpx_response_raise_for_status(h_.get(), &err);  // evaluated before err is read
        detail::throw_if(code, err);
        return *this;
    }
    /// The request as sent (valid while this response lives).
    RequestView request() const { return RequestView(httpx_response_request(h_.get())); }
    size_t history_count() const { return httpx_response_history_count(h_.get()); }
    /// Close the body (a half-read connection is not reused).
    void close() { httpx_response_close(h_.get()); }

    // ---- what happened on the connection (CURLINFO_*)
    /// "127.0.0.1:8080" / "[::1]:443"; empty for mock transports.
    std::optional<std::string> remote_addr() const { return opt(httpx_response_remote_addr(h_.get())); }
    std::optional<std::string> local_addr() const { return opt(httpx_response_local_addr(h_.get())); }
    /// "TLSv1.3", "TLSv1.2"; empty on plain http.
    std::optional<std::string> tls_version() const { return opt(httpx_response_tls_version(h_.get())); }
    std::optional<std::string> tls_cipher() const { return opt(httpx_response_tls_cipher(h_.get())); }
    /// "h2", "http/1.1"; empty when none was negotiated.
    std::optional<std::string> alpn() const { return opt(httpx_response_alpn(h_.get())); }
    bool connection_reused() const { return httpx_response_connection_reused(h_.get()) != 0; }
    /// Seconds since the send began at the end of phase `which` (HTTPX_TIMING_*).
    /// Throws Error(HTTPX_E_INVALID_ARGUMENT) for HTTPX_TIMING_TOTAL before the body is read.
    double timing(uint32_t which) const {
        double s = 0;
        detail::throw_if(httpx_response_timing(h_.get(), which, &s), nullptr, "timing not available");
        return s;
    }

    httpx_response *get() const noexcept { return h_.get(); }

private:
    static std::optional<std::string> opt(const char *s) { return s ? std::optional<std::string>(s) : std::nullopt; }
    detail::Handle<httpx_response, httpx_response_free> h_;
};

/// An HTTP client (HTTPX Client): thread-safe; move-only. Destroying it frees
/// the pool (no other thread may use it then); streamed responses keep working.
class Client {
public:
    explicit Client(const ClientOptions &opts = ClientOptions()) {
        opts.throw_if_failed();
        httpx_client *c = nullptr;
        httpx_error *err = nullptr;
        httpx_code code = httpx_client_new(opts.get(), &c, &err);  // evaluated before err is read
        detail::throw_if(code, err);
        h_.reset(c);
    }

    /// HTTPX client.build_request: the client's defaults merged in.
    Request build_request(std::string_view method, std::string_view url) const {
        httpx_request *r = nullptr;
        httpx_error *err = nullptr;
        httpx_code code = httpx_request_build(h_.get(), detail::cstr(method, "method").c_str(), detail::cstr(url, "url").c_str(), &r, &err);  // evaluated before err is read
        detail::throw_if(code, err);
        return Request(r);
    }
    /// Send and read the whole body.
    Response send(const Request &req) const {
        req.throw_if_failed();
        httpx_response *r = nullptr;
        detail::call([&](httpx_error **e) { return httpx_client_send(h_.get(), req.get(), &r, e); });
        return Response(r);
    }
    /// Send and return once the head is in; read the body with Response::read.
    Response stream(const Request &req) const {
        req.throw_if_failed();
        httpx_response *r = nullptr;
        detail::call([&](httpx_error **e) { return httpx_client_send_stream(h_.get(), req.get(), &r, e); });
        return Response(r);
    }
    Response get(std::string_view url) const { return send(build_request("GET", url)); }
    Response head(std::string_view url) const { return send(build_request("HEAD", url)); }
    Response del(std::string_view url) const { return send(build_request("DELETE", url)); }
    Response post(std::string_view url, std::string_view body, std::string_view content_type = {}) const {
        Request r = build_request("POST", url);
        r.set_body(body, content_type);
        return send(r);
    }
    Response put(std::string_view url, std::string_view body, std::string_view content_type = {}) const {
        Request r = build_request("PUT", url);
        r.set_body(body, content_type);
        return send(r);
    }
    /// Close the pool: later sends fail with HTTPX_E_CLIENT_CLOSED. Any thread.
    void close() const { httpx_client_close(h_.get()); }

    httpx_client *get() const noexcept { return h_.get(); }

private:
    detail::Handle<httpx_client, httpx_client_free> h_;
};

/// A finished transfer of a Multi: its tag, its result and the response (body
/// read). Move-only; frees the completion (and an untaken response).
class Completion {
public:
    explicit Completion(httpx_completion *owned) : h_(owned) {}
    /// The tag given to Multi::add.
    uint64_t tag() const noexcept { return httpx_completion_tag(h_.get()); }
    /// HTTPX_OK, or what Client::send would have failed with
    /// (HTTPX_E_CANCELLED after Multi::cancel).
    httpx_code code() const noexcept { return httpx_completion_code(h_.get()); }
    bool ok() const noexcept { return code() == HTTPX_OK; }
    /// The transfer's error message ("" on success).
    std::string message() const {
        const httpx_error *e = httpx_completion_error(h_.get());
        return e ? detail::or_empty(httpx_error_message(e)) : std::string();
    }
    /// The transfer's error as the exception Client::send would have thrown
    /// (throws nothing on success).
    void raise() const {
        if (!ok()) throw Error(code(), message());
    }
    /// The response (once): throws the transfer's Error when it failed, and
    /// Error(HTTPX_E_INVALID_ARGUMENT) when the response was taken already.
    Response take_response() {
        raise();
        httpx_response *r = nullptr;
        detail::throw_if(httpx_completion_take_response(h_.get(), &r), nullptr, "the response was taken already");
        return Response(r);
    }
    httpx_completion *get() const noexcept { return h_.get(); }

private:
    detail::Handle<httpx_completion, httpx_completion_free> h_;
};

/// Many transfers of one Client driven from one thread, with no thread of the
/// library's (libcurl's multi interface, HTTPX's AsyncClient): add() requests,
/// then wait for fd() to become readable (poll/epoll, libuv, ...) at most
/// timeout() seconds, perform(), and pop completions with next().
///
///     httpx::Multi m(client);
///     for (auto &u : urls) m.add(client.build_request("GET", u), tag++);
///     while (m.running() > 0 || pending) {
///         pollfd p{m.fd(), POLLIN, 0};
///         auto t = m.timeout();                       // nullopt: no timer
///         poll(&p, 1, t ? int(*t * 1000) + 1 : -1);
///         m.perform();
///         while (auto c = m.next()) use(c->tag(), c->take_response());
///     }
///
/// Every callback of the multi's transfers (hooks, auth flows, mock handlers,
/// body readers) runs inside perform(), on the calling thread; an exception one
/// throws fails that transfer and is rethrown by that perform(). A Multi
/// belongs to one thread at a time. Destroy it before its Client: transfers
/// still in flight are dropped, their connections closed. Move-only.
class Multi {
public:
    explicit Multi(const Client &client) {
        httpx_multi *m = nullptr;
        detail::throw_if(httpx_multi_new(client.get(), &m), nullptr, "httpx_multi_new");
        h_.reset(m);
    }
    /// Queue a send of a copy of `req` under `tag`; returns at once (nothing is
    /// sent before perform). `req` stays the caller's.
    Multi &add(const Request &req, uint64_t tag) {
        req.throw_if_failed();
        detail::call([&](httpx_error **e) { return httpx_multi_add(h_.get(), req.get(), tag, e); });
        running_++;
        return *this;
    }
    /// Do the I/O that is ready, waiting up to `wait_seconds` (0 = do not wait,
    /// negative = until something happens). Returns the transfers not yet
    /// complete. Throws the multi's own errors (HTTPX_E_RECURSIVE_CALL) and an
    /// exception a callback threw.
    uint32_t perform(double wait_seconds = 0) {
        detail::pending() = nullptr;
        uint32_t running = 0;
        httpx_code code = httpx_multi_perform(h_.get(), wait_seconds, &running);
        if (std::exception_ptr ex = std::exchange(detail::pending(), nullptr)) std::rethrow_exception(ex);
        detail::throw_if(code, nullptr, "httpx_multi_perform");
        return running;
    }
    /// The next finished transfer, or nullopt when none has finished.
    std::optional<Completion> next() {
        httpx_completion *c = nullptr;
        detail::throw_if(httpx_multi_next(h_.get(), &c), nullptr, "httpx_multi_next");
        if (!c) return std::nullopt;
        if (running_ > 0) running_--;
        return Completion(c);
    }
    /// Transfers added whose completion next() has not returned yet.
    size_t running() const noexcept { return running_; }
    /// Readable whenever perform() has work; the multi's own (never close it).
    int fd() const noexcept { return httpx_multi_fd(h_.get()); }
    /// Seconds to wait at most before the next perform(): 0 when work is
    /// pending, nullopt when there is no timer (wait for fd() alone).
    std::optional<double> timeout() const {
        double s = -1;
        detail::throw_if(httpx_multi_timeout(h_.get(), &s), nullptr, "httpx_multi_timeout");
        return s < 0 ? std::nullopt : std::optional<double>(s);
    }
    /// Cancel the transfers tagged `tag`: each completes at once with
    /// HTTPX_E_CANCELLED (an unknown tag is not an error).
    void cancel(uint64_t tag) { detail::throw_if(httpx_multi_cancel(h_.get(), tag), nullptr, "httpx_multi_cancel"); }

    httpx_multi *get() const noexcept { return h_.get(); }

private:
    detail::Handle<httpx_multi, httpx_multi_free> h_;
    size_t running_ = 0;
};

/// HTTPX's top-level httpx.get: a fresh connection for one request.
inline Response get(std::string_view url) {
    httpx_response *r = nullptr;
    std::string u = detail::cstr(url, "url");
    detail::call([&](httpx_error **e) { return httpx_get(u.c_str(), &r, e); });
    return Response(r);
}

}  // namespace httpx

#endif  // HTTPX_HPP
