// Tests of the C++ wrapper against a tiny HTTP server on 127.0.0.1 (a thread in
// this process) and against mock transports. Prints "N passed, M failed".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "httpx.hpp"

static_assert(!std::is_copy_constructible_v<httpx::Client>, "Client is move-only");
static_assert(!std::is_copy_constructible_v<httpx::Request>, "Request is move-only");
static_assert(!std::is_copy_constructible_v<httpx::Response>, "Response is move-only");
static_assert(std::is_move_constructible_v<httpx::Response>, "Response moves");
static_assert(!std::is_copy_constructible_v<httpx::Multi>, "Multi is move-only");
static_assert(std::is_move_constructible_v<httpx::Multi>, "Multi moves");
static_assert(!std::is_copy_constructible_v<httpx::Completion>, "Completion is move-only");

// Drive `m` with poll(2) on its fd until no transfer is left (bounded: 30 s);
// hands each completion to `f`.
template <typename F>
static bool drive(httpx::Multi &m, F f) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < end) {
        while (auto c = m.next()) f(*c);
        if (m.running() == 0) return true;
        pollfd p{m.fd(), POLLIN, 0};
        auto t = m.timeout();
        int ms = t ? static_cast<int>(*t * 1000) + 1 : 100;
        if (ms > 100) ms = 100;
        poll(&p, 1, ms);
        m.perform();
    }
    return false;
}

// ---------------------------------------------------------------- tiny server
class TinyServer {
public:
    TinyServer() {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t sl = sizeof sa;
        if (bind(fd_, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0 || listen(fd_, 64) != 0 ||
            getsockname(fd_, reinterpret_cast<sockaddr *>(&sa), &sl) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        port_ = ntohs(sa.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~TinyServer() {
        stop_ = true;
        acceptor_.join();
        close(fd_);
        std::lock_guard<std::mutex> g(mu_);
        for (auto &t : conns_) t.join();
    }
    std::string url(const std::string &path = "") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

private:
    void accept_loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            int c = accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            std::lock_guard<std::mutex> g(mu_);
            conns_.emplace_back([this, c] { serve(c); close(c); });
        }
    }
    static bool read_until(int c, std::string &buf, const std::string &delim) {
        char tmp[4096];
        for (int i = 0; i < 100000 && buf.find(delim) == std::string::npos; i++) {
            pollfd p{c, POLLIN, 0};
            if (poll(&p, 1, 5000) <= 0) return false;
            ssize_t n = recv(c, tmp, sizeof tmp, 0);
            if (n <= 0) return false;
            buf.append(tmp, n);
        }
        return buf.find(delim) != std::string::npos;
    }
    static void send_all(int c, const std::string &s) {
        size_t off = 0;
        while (off < s.size()) {
            ssize_t n = send(c, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return;
            off += n;
        }
    }
    static void reply(int c, int status, const std::string &body, const std::string &extra = "") {
        const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Status";
        send_all(c, "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" + extra + "Content-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    }
    void serve(int c) {
        std::string buf;
        if (!read_until(c, buf, "\r\n\r\n")) return;
        size_t head_end = buf.find("\r\n\r\n") + 4;
        std::string head = buf.substr(0, head_end), body = buf.substr(head_end);
        std::istringstream hs(head);
        std::string method, target;
        hs >> method >> target;
        std::string lower = head;
        for (auto &ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        size_t cl = lower.find("\ncontent-length:");
        if (cl != std::string::npos) {
            size_t want = std::stoul(head.substr(cl + 16));
            char tmp[4096];
            while (body.size() < want) {
                pollfd p{c, POLLIN, 0};
                if (poll(&p, 1, 5000) <= 0) return;
                ssize_t n = recv(c, tmp, sizeof tmp, 0);
                if (n <= 0) return;
                body.append(tmp, n);
            }
        } else if (lower.find("transfer-encoding: chunked") != std::string::npos) {
            if (!read_until(c, body, "\r\n0\r\n\r\n") && body.rfind("0\r\n\r\n", 0) != 0) return;
            std::string raw = body, out;
            size_t pos = 0;
            while (pos < raw.size()) {
                size_t eol = raw.find("\r\n", pos);
                size_t n = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
                if (n == 0) break;
                out += raw.substr(eol + 2, n);
                pos = eol + 2 + n + 2;
            }
            body = out;
        }
        std::string path = target.substr(0, target.find('?'));
        if (path == "/get") {
            reply(c, 200, "hello", "Content-Type: text/plain; charset=utf-8\r\nX-Test: yes\r\nX-Multi: a\r\nX-Multi: b\r\n");
        } else if (path == "/echo") {
            std::string ct;
            size_t p = lower.find("\ncontent-type:");
            if (p != std::string::npos) {
                size_t s = head.find_first_not_of(' ', p + 14), e = head.find("\r\n", p + 1);
                ct = head.substr(s, e - s);
            }
            reply(c, 200, method + " " + target + "\n" + ct + "\n" + body, "Content-Type: text/plain\r\n");
        } else if (path == "/slow") {
            pollfd p{c, POLLIN, 0};
            poll(&p, 1, 3000);  // until the client gives up, or 3 s
            reply(c, 200, "late");
        } else if (path == "/silent") {
            pollfd p{c, POLLIN, 0};
            poll(&p, 1, 3000);  // never answers: until the client goes away, or 3 s
        } else if (path == "/stream") {
            send_all(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
            for (int i = 0; i < 5; i++) {
                std::string chunk = "chunk-" + std::to_string(i) + "\n";
                char size[16];
                std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
                send_all(c, size + chunk + "\r\n");
            }
            send_all(c, "0\r\n\r\n");
        } else if (path == "/status/404") {
            reply(c, 404, "nope");
        } else {
            reply(c, 404, "not found");
        }
    }

    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread acceptor_;
    std::mutex mu_;
    std::vector<std::thread> conns_;
};

// ---------------------------------------------------------------- tiny runner
static int passed = 0, failed = 0;
static bool current_ok = true;
#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            std::cerr << "  " << __FILE__ << ":" << __LINE__ << ": CHECK(" #cond ") failed\n"; \
            current_ok = false;                                                             \
        }                                                                                   \
    } while (0)
#define CHECK_THROWS_CODE(expr, want)                                                                       \
    do {                                                                                                    \
        try {                                                                                               \
            (void)(expr);                                                                                   \
            std::cerr << "  " << __LINE__ << ": " #expr " did not throw\n";                                 \
            current_ok = false;                                                                             \
        } catch (const httpx::Error &e_) {                                                                  \
            if (e_.code() != (want)) {                                                                      \
                std::cerr << "  " << __LINE__ << ": " #expr " threw " << e_.what() << ", want " #want "\n"; \
                current_ok = false;                                                                         \
            }                                                                                               \
        }                                                                                                   \
    } while (0)

template <typename F>
static void run(const char *name, F f) {
    current_ok = true;
    try {
        f();
    } catch (const std::exception &e) {
        std::cerr << "  unexpected exception: " << e.what() << "\n";
        current_ok = false;
    }
    std::cout << (current_ok ? "PASS " : "FAIL ") << name << std::endl;
    (current_ok ? passed : failed)++;
}

static httpx::ClientOptions opts() { return httpx::ClientOptions().trust_env(false); }

int main() {
    TinyServer srv;

    run("version", [] { CHECK(!httpx::version().empty()); CHECK(httpx::code_name(HTTPX_E_READ_TIMEOUT) == "READ_TIMEOUT"); });

    run("get", [&] {
        httpx::Client c(opts());
        httpx::Response r = c.get(srv.url("/get"));
        CHECK(r.status() == 200);
        CHECK(r.reason() == "OK");
        CHECK(r.http_version() == "HTTP/1.1");
        CHECK(r.body() == "hello");
        CHECK(r.text() == "hello");
        CHECK(r.header("x-test").value_or("") == "yes");
        CHECK(!r.header("x-absent").has_value());
        auto multi = r.header_values("X-MULTI");
        CHECK(multi.size() == 2 && multi[0] == "a" && multi[1] == "b");
        CHECK(r.headers().size() >= 4);
        CHECK(r.url() == srv.url("/get"));
        CHECK(r.elapsed() > 0);
        CHECK(r.is_success());
        r.raise_for_status();
        CHECK(r.request().method() == "GET");
        httpx::Response moved = std::move(r);  // move-only
        CHECK(moved.status() == 200);
    });

    run("top-level get", [&] { CHECK(httpx::get(srv.url("/get")).status() == 200); });

    run("post echo", [&] {
        httpx::Client c(opts().base_url(srv.url()));
        httpx::Response r = c.post("/echo", "ping", "text/plain");
        CHECK(r.text() == "POST /echo\ntext/plain\nping");
    });

    run("build_request merges and edits", [&] {
        httpx::Client c(opts().base_url(srv.url()).header("X-Api-Key", "k").param("a", "1"));
        httpx::Request req = c.build_request("PUT", "/echo");
        req.add_param("b", "2").remove_header("X-Api-Key").set_header("X-One", "1").set_json(R"({"n":1})");
        CHECK(req.method() == "PUT");
        CHECK(req.url() == srv.url("/echo?a=1&b=2"));
        CHECK(!req.header("x-api-key"));
        CHECK(req.header("x-one").value_or("") == "1");
        CHECK(req.body() == R"({"n":1})");
        for (int i = 0; i < 2; i++) CHECK(c.send(req).text() == "PUT /echo?a=1&b=2\napplication/json\n{\"n\":1}");
        httpx::Request form = c.build_request("POST", "/echo");
        form.set_form({{"a", "1"}, {"b", "x y"}});
        CHECK(c.send(form).text() == "POST /echo?a=1\napplication/x-www-form-urlencoded\na=1&b=x+y");
    });

    run("streamed upload", [&] {
        httpx::Client c(opts());
        httpx::Request req("POST", srv.url("/echo"));
        int left = 3;
        req.set_body_reader([&](char *buf, size_t cap) -> size_t {
            if (left-- <= 0 || cap < 2) return 0;
            std::memcpy(buf, "ab", 2);
            return 2;
        });
        CHECK(c.send(req).text() == "POST /echo\n\nababab");
    });

    run("raise_for_status", [&] {
        httpx::Client c(opts());
        httpx::Response r = c.get(srv.url("/status/404"));
        CHECK(r.status() == 404);
        try {
            r.raise_for_status();
            CHECK(false);
        } catch (const httpx::Error &e) {
            CHECK(e.code() == HTTPX_E_HTTP_STATUS);
            CHECK(std::string(e.what()).find("404") != std::string::npos);
        }
    });

    run("cancel token and chrono timeouts", [&] {
        using namespace std::chrono_literals;
        httpx::CancelToken tok;
        CHECK(!tok.is_fired());
        httpx::Client c(opts().timeouts(httpx::Timeouts(2s, 2000ms, 2s, 2s)).limits(httpx::Limits(10, 5, 30s)));
        // Fired from another thread while the send waits for a silent server.
        httpx::Request req = c.build_request("GET", srv.url("/silent")).set_cancel(tok);
        httpx::CancelToken copy = tok;  // copies share the token
        std::thread firer([copy] {
            std::this_thread::sleep_for(200ms);
            copy.fire();
        });
        auto t0 = std::chrono::steady_clock::now();
        CHECK_THROWS_CODE(c.send(req), HTTPX_E_CANCELLED);
        firer.join();
        CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
        CHECK(tok.is_fired());
        // Total timeout, client level (chrono) and request level (chrono).
        httpx::Client t(opts().timeout(5s).total_timeout(300ms));
        t0 = std::chrono::steady_clock::now();
        try {
            (void)t.get(srv.url("/silent"));
            CHECK(false);
        } catch (const httpx::Error &e) {
            CHECK(e.code() == HTTPX_E_TOTAL_TIMEOUT);
            CHECK(e.is_timeout());
        }
        CHECK(std::chrono::steady_clock::now() - t0 < 2000ms);
        httpx::Request r2 = c.build_request("GET", srv.url("/silent")).set_total_timeout(200ms).set_timeout(5s);
        CHECK_THROWS_CODE(c.send(r2), HTTPX_E_TOTAL_TIMEOUT);
        r2.clear_cancel();
    });

    run("read timeout", [&] {
        httpx::Client c(opts().timeouts({2.0, 0.2, 2.0, 2.0}));
        auto t0 = std::chrono::steady_clock::now();
        try {
            c.get(srv.url("/slow"));
            CHECK(false);
        } catch (const httpx::Error &e) {
            CHECK(e.code() == HTTPX_E_READ_TIMEOUT);
            CHECK(e.is_timeout());
            CHECK(e.code_name() == "READ_TIMEOUT");
        }
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(2500));
        httpx::Client c2(opts());
        httpx::Request req("GET", srv.url("/slow"));
        req.set_timeout(0.15);
        CHECK_THROWS_CODE(c2.send(req), HTTPX_E_READ_TIMEOUT);
    });

    run("streaming read", [&] {
        httpx::Client c(opts());
        httpx::Request req("GET", srv.url("/stream"));
        httpx::Response r = c.stream(req);
        CHECK(r.status() == 200);
        std::string got;
        char buf[4];
        for (int i = 0; i < 1000; i++) {
            size_t n = r.read(buf, sizeof buf);
            if (n == 0) break;
            got.append(buf, n);
        }
        CHECK(got == "chunk-0\nchunk-1\nchunk-2\nchunk-3\nchunk-4\n");
        CHECK(r.read(buf, sizeof buf) == 0);
    });

    run("bad url", [&] {
        CHECK_THROWS_CODE(httpx::Request("GET", "http://exa mple.com/"), HTTPX_E_INVALID_URL);
        CHECK_THROWS_CODE(httpx::Request("GET", std::string("http://a\0b/", 11)), HTTPX_E_INVALID_ARGUMENT);
        httpx::Client c(opts());
        CHECK_THROWS_CODE(c.get("ftp://127.0.0.1/x"), HTTPX_E_UNSUPPORTED_PROTOCOL);
        CHECK_THROWS_CODE(httpx::Client(opts().base_url("http://exa mple.com")), HTTPX_E_INVALID_URL);
    });

    run("connect error", [&] {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t sl = sizeof sa;
        bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa);
        getsockname(fd, reinterpret_cast<sockaddr *>(&sa), &sl);
        close(fd);  // nobody listens there now
        httpx::Client c(opts().timeout(2));
        CHECK_THROWS_CODE(c.get("http://127.0.0.1:" + std::to_string(ntohs(sa.sin_port)) + "/"), HTTPX_E_CONNECT);
    });

    // HTTPX's MockTransport example: echo the request as JSON.
    run("mock transport json echo", [&] {
        int calls = 0;
        httpx::Client c = [&] {
            httpx::Transport t = httpx::Transport::mock([&](const httpx::RequestView &req) {
                calls++;
                return httpx::MockResponse::json(200, "{\"method\":\"" + req.method() + "\",\"url\":\"" + req.url() + "\",\"body\":" +
                                                          req.body() + ",\"token\":\"" + req.header("x-token").value_or("") + "\"}");
            });
            return httpx::Client(opts().transport(t).base_url("http://testserver").header("X-Token", "t0k"));
        }();  // the Transport object is gone; the client keeps the transport
        httpx::Request req = c.build_request("POST", "/items");
        req.set_json(R"({"n":1})");
        httpx::Response r = c.send(req);
        CHECK(r.status() == 200);
        CHECK(r.header("content-type").value_or("") == "application/json");
        CHECK(r.text() == R"({"method":"POST","url":"http://testserver/items","body":{"n":1},"token":"t0k"})");
        CHECK(calls == 1);
    });

    run("mock transport errors and streaming", [&] {
        struct Boom : std::runtime_error {
            Boom() : std::runtime_error("boom") {}
        };
        auto t = httpx::Transport::mock([](const httpx::RequestView &req) {
            std::string u = req.url();
            if (u == "http://mock/fail") throw Boom();
            if (u == "http://mock/stream") {
                httpx::MockResponse m;
                m.status = 201;
                auto left = std::make_shared<size_t>(70000);
                m.body_reader = [left](char *buf, size_t cap) {
                    size_t n = std::min(cap, *left);
                    std::memset(buf, 'z', n);
                    *left -= n;
                    return n;
                };
                return m;
            }
            if (u == "http://mock/badreader") {
                httpx::MockResponse m;
                m.body_reader = [](char *, size_t) -> size_t { throw Boom(); };
                return m;
            }
            return httpx::MockResponse::text(200, "ok");
        });
        httpx::Client c(opts().transport(t));
        try {
            c.get("http://mock/fail");
            CHECK(false);
        } catch (const Boom &) {  // the handler's own exception comes back
        }
        httpx::Request sreq("GET", "http://mock/stream");
        httpx::Response r = c.stream(sreq);
        CHECK(r.status() == 201);
        size_t total = 0;
        char buf[1000];
        for (int i = 0; i < 1000; i++) {
            size_t n = r.read(buf, sizeof buf);
            if (n == 0) break;
            total += n;
        }
        CHECK(total == 70000);
        httpx::Request breq("GET", "http://mock/badreader");
        httpx::Response br = c.stream(breq);
        try {
            br.read(buf, sizeof buf);
            CHECK(false);
        } catch (const Boom &) {
        }
        CHECK(c.get("http://mock/x").text() == "ok");
    });

    run("recursive send from a handler", [&] {
        httpx::Client *self = nullptr;
        auto t = httpx::Transport::mock([&](const httpx::RequestView &req) {
            if (req.url() == "http://mock/outer") self->get("http://mock/inner");
            return httpx::MockResponse{};
        });
        httpx::Client c(opts().transport(t));
        self = &c;
        CHECK_THROWS_CODE(c.get("http://mock/outer"), HTTPX_E_RECURSIVE_CALL);
    });

    run("raise_errors off answers 500", [&] {
        auto t = httpx::Transport::mock([](const httpx::RequestView &) -> httpx::MockResponse { throw std::runtime_error("x"); }, false);
        httpx::Client c(opts().transport(t));
        CHECK(c.get("http://mock/").status() == 500);
    });

    run("handler freed exactly once", [&] {
        auto alive = std::make_shared<int>(0);
        std::weak_ptr<int> watch = alive;
        {
            auto t = httpx::Transport::mock([alive](const httpx::RequestView &) { return httpx::MockResponse{}; });
            alive.reset();
            httpx::Client c(opts().transport(t));
            CHECK(!watch.expired());
            t = httpx::Transport::http();  // drop our handle: the client still holds the mock
            CHECK(!watch.expired());
            CHECK(c.get("http://mock/").status() == 200);
        }
        CHECK(watch.expired());
        auto body_alive = std::make_shared<int>(0);
        std::weak_ptr<int> body_watch = body_alive;
        {
            httpx::Request req("POST", "http://mock/");
            req.set_body_reader([body_alive](char *, size_t) -> size_t { return 0; });
            body_alive.reset();
        }  // never sent: released with the request
        CHECK(body_watch.expired());
    });

    run("threads share a client; close", [&] {
        httpx::Client c(opts().limits({10, 5, 5.0}));
        std::atomic<int> ok{0};
        std::vector<std::thread> ts;
        for (int i = 0; i < 4; i++)
            ts.emplace_back([&] {
                for (int j = 0; j < 5; j++)
                    if (c.get(srv.url("/get")).body() == "hello") ok++;
            });
        for (auto &t : ts) t.join();
        CHECK(ok == 20);
        httpx::Request req("GET", srv.url("/stream"));
        httpx::Response r = c.stream(req);
        c.close();
        CHECK_THROWS_CODE(c.get(srv.url("/get")), HTTPX_E_CLIENT_CLOSED);
        CHECK(r.body().rfind("chunk-0", 0) == 0);  // a streamed response outlives close
    });

    run("debug, trace and progress as std::function", [&] {
        std::string out, in, data;
        std::vector<std::string> texts;
        std::vector<uint32_t> events;
        uint64_t last_received = 0;
        httpx::Client c(opts()
                            .debug([&](uint32_t kind, std::string_view d) {
                                if (kind == HTTPX_DEBUG_HEADER_OUT) out += d;
                                if (kind == HTTPX_DEBUG_HEADER_IN) in += d;
                                if (kind == HTTPX_DEBUG_DATA_IN) data += d;
                                if (kind == HTTPX_DEBUG_TEXT) texts.emplace_back(d);
                            })
                            .trace([&](uint32_t ev, double, std::string_view) { events.push_back(ev); })
                            .progress([&](uint64_t, int64_t, uint64_t recv, int64_t) {
                                last_received = recv;
                                return true;
                            }));
        httpx::Response r = c.get(srv.url("/get"));
        CHECK(out.rfind("GET /get HTTP/1.1\r\n", 0) == 0 && out.size() > 4 && out.substr(out.size() - 4) == "\r\n\r\n");
        CHECK(in.rfind("HTTP/1.1 200 OK\r\n", 0) == 0 && in.find("X-Multi: b\r\n") != std::string::npos);
        CHECK(data == "hello");
        CHECK(!texts.empty() && texts[0].rfind("Connecting to 127.0.0.1:", 0) == 0);
        CHECK(!events.empty() && events.front() == HTTPX_TRACE_CONNECT_START && events.back() == HTTPX_TRACE_BODY_DONE);
        CHECK(last_received == 5);
        events.clear();
        CHECK_THROWS_CODE(c.get("http://127.0.0.1:1/"), HTTPX_E_CONNECT);
        CHECK(!events.empty() && events.back() == HTTPX_TRACE_FAILED);
        CHECK_THROWS_CODE(opts().debug(httpx::DebugFn()), HTTPX_E_INVALID_ARGUMENT);
    });

    run("progress aborts; exceptions come back", [&] {
        httpx::Client stop(opts().progress([](uint64_t, int64_t, uint64_t, int64_t) { return false; }));
        CHECK_THROWS_CODE(stop.get(srv.url("/get")), HTTPX_E_CALLBACK);
        httpx::Client thrower(opts().progress([](uint64_t, int64_t, uint64_t recv, int64_t) -> bool {
            if (recv > 0) throw std::runtime_error("from progress");
            return true;
        }));
        bool got = false;
        try {
            thrower.get(srv.url("/get"));
        } catch (const std::runtime_error &e) {
            got = std::string(e.what()) == "from progress";
        }
        CHECK(got);
    });

    run("request and response hooks as std::function", [&] {
        std::vector<uint16_t> statuses;
        httpx::Client c(opts()
                            .request_hook([](httpx::RequestRef &req) { req.set_header("X-Hook", "1"); })
                            .response_hook([&](httpx::ResponseRef &resp) { statuses.push_back(resp.status()); }));
        httpx::Response r = c.get(srv.url("/get"));
        CHECK(r.request().header("X-Hook").value_or("") == "1");
        CHECK(statuses.size() == 1 && statuses[0] == 200);
        httpx::Client bad(opts().response_hook([](httpx::ResponseRef &resp) {
            if (resp.status() == 404) throw std::logic_error("hook says no");
        }));
        bool got = false;
        try {
            bad.get(srv.url("/status/404"));
        } catch (const std::logic_error &e) {
            got = std::string(e.what()) == "hook says no";
        }
        CHECK(got);
    });

    run("connection info and timings", [&] {
        httpx::Client c(opts());
        httpx::Response r = c.get(srv.url("/get"));
        CHECK(r.remote_addr().value_or("") == srv.url().substr(7));
        CHECK(r.local_addr().value_or("").rfind("127.0.0.1:", 0) == 0);
        CHECK(!r.tls_version() && !r.tls_cipher() && !r.alpn());
        CHECK(!r.connection_reused());
        double prev = 0;
        for (uint32_t w = HTTPX_TIMING_QUEUE; w <= HTTPX_TIMING_TOTAL; w++) {
            double t = r.timing(w);
            CHECK(t >= prev);
            prev = t;
        }
        CHECK_THROWS_CODE(r.timing(99), HTTPX_E_INVALID_ARGUMENT);
        httpx::Request req("GET", srv.url("/stream"));
        httpx::Response s = c.stream(req);
        CHECK_THROWS_CODE(s.timing(HTTPX_TIMING_TOTAL), HTTPX_E_INVALID_ARGUMENT);
        s.body();
        CHECK(s.timing(HTTPX_TIMING_TOTAL) >= s.timing(HTTPX_TIMING_FIRST_BYTE));
        auto mock = httpx::Transport::mock([](const httpx::RequestView &) { return httpx::MockResponse{}; });
        httpx::Client m(opts().transport(mock));
        CHECK(!m.get("http://mock/").remote_addr());
    });

    run("multi: 50 GETs from one thread", [&] {
        httpx::Client c(opts().timeout(20));
        httpx::Multi m(c);
        for (uint64_t i = 0; i < 50; i++) m.add(c.build_request("GET", srv.url("/echo?i=" + std::to_string(i))), i);
        CHECK(m.running() == 50);
        int got = 0;
        CHECK(drive(m, [&](httpx::Completion &done) {
            CHECK(done.ok());
            httpx::Response r = done.take_response();
            CHECK(r.status() == 200);
            CHECK(r.body() == "GET /echo?i=" + std::to_string(done.tag()) + "\n\n");
            CHECK_THROWS_CODE(done.take_response(), HTTPX_E_INVALID_ARGUMENT);
            got++;
        }));
        CHECK(got == 50);
        httpx::Multi moved(std::move(m));
        CHECK(moved.fd() >= 0);
    });

    run("multi: cancel one among many, errors as exceptions", [&] {
        httpx::Client c(opts().timeout(20));
        httpx::Multi m(c);
        m.add(httpx::Request("GET", srv.url("/slow")), 1);
        m.add(httpx::Request("GET", srv.url("/get")), 2);
        m.add(httpx::Request("GET", srv.url("/status/404")), 3);
        m.add(httpx::Request("GET", "http://127.0.0.1:1/"), 4);  // nothing listens on port 1
        m.perform();
        m.cancel(1);
        auto t0 = std::chrono::steady_clock::now();
        std::vector<httpx_code> codes(5, HTTPX_E_INTERNAL);
        CHECK(drive(m, [&](httpx::Completion &done) {
            codes.at(done.tag()) = done.code();
            if (done.tag() == 1) {
                CHECK_THROWS_CODE(done.take_response(), HTTPX_E_CANCELLED);
                CHECK(!done.message().empty());
            }
            if (done.tag() == 3) CHECK(done.take_response().status() == 404);
            if (done.tag() == 4) CHECK_THROWS_CODE(done.raise(), HTTPX_E_CONNECT);
        }));
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(2500));  // /slow answers after 3 s
        CHECK(codes[1] == HTTPX_E_CANCELLED && codes[2] == HTTPX_OK && codes[3] == HTTPX_OK && codes[4] == HTTPX_E_CONNECT);
    });

    run("multi: destroyed with transfers in flight; callback exceptions", [&] {
        httpx::Client c(opts().timeout(20));
        {
            httpx::Multi m(c);
            for (uint64_t i = 0; i < 4; i++) m.add(httpx::Request("GET", srv.url("/slow")), i);
            for (int i = 0; i < 5; i++) m.perform(0.02);
            CHECK(m.running() == 4);
        }  // freed: connections closed, nothing leaked (valgrind)
        CHECK(c.get(srv.url("/get")).status() == 200);

        auto mock = httpx::Transport::mock([](const httpx::RequestView &r) -> httpx::MockResponse {
            if (r.url().find("/boom") != std::string::npos) throw std::runtime_error("boom");
            return httpx::MockResponse{};
        });
        httpx::Client mc(opts().transport(mock));
        httpx::Multi m(mc);
        m.add(httpx::Request("GET", "http://mock/boom"), 7);
        bool rethrown = false;
        try {
            m.perform();
        } catch (const std::runtime_error &e) {
            rethrown = std::string(e.what()) == "boom";
        }
        CHECK(rethrown);
        auto done = m.next();
        CHECK(done && done->tag() == 7 && done->code() == HTTPX_E_CALLBACK);
    });

    run("setter errors carry the library's message", [&] {
        // Config
        try {
            (void)opts().header("X-Bad", "a\r\nInjected: 1");
            CHECK(false);
        } catch (const httpx::Error &e) {
            CHECK(e.code() == HTTPX_E_INVALID_ARGUMENT);
            CHECK(std::string(e.what()).find("CR, LF") != std::string::npos);
        }
        httpx::ClientOptions o = opts();
        try {
            o.header("X-Bad", "a\nb");
        } catch (const httpx::Error &) {
        }
        CHECK_THROWS_CODE(httpx::Client(o), HTTPX_E_INVALID_ARGUMENT);  // refused at build time
        // Request
        httpx::Client c(opts());
        httpx::Request req("GET", srv.url("/get"));
        std::string msg;
        try {
            req.set_header("X-Bad", "a\nb");
        } catch (const httpx::Error &e) {
            msg = e.what();
        }
        CHECK(msg.find("CR, LF") != std::string::npos);
        req.add_param("ok", "1");
        try {
            c.send(req);
            CHECK(false);
        } catch (const httpx::Error &e) {
            CHECK(e.what() == msg);  // the first failed setter, when sent anyway
        }
        httpx::Multi m(c);
        CHECK_THROWS_CODE(m.add(req, 1), HTTPX_E_INVALID_ARGUMENT);
        CHECK(c.send(req.clone()).status() == 200);  // a clone starts clean
        // Transport
        httpx::Transport t = httpx::Transport::http();
        try {
            t.local_address("not-an-address");
            CHECK(false);
        } catch (const httpx::Error &e) {
            CHECK(std::string(e.what()).find("not-an-address") != std::string::npos);
        }
        CHECK_THROWS_CODE(opts().transport(t), HTTPX_E_INVALID_ARGUMENT);
    });

    std::cout << passed << " passed, " << failed << " failed" << std::endl;
    return failed == 0 ? 0 : 1;
}
