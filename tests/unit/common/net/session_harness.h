// Test harness for sessions over real sockets: an echo protocol session, a
// loop + listener, and blocking client helpers. The loop runs on the test
// thread; each client is a blocking socket in a second thread with receive
// timeouts, and every run is bounded by a guard timer.
#pragma once

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/log/log.h"
#include "common/loop/loop.h"
#include "common/loop/timer.h"
#include "common/loop/work.h"
#include "common/net/listener.h"
#include "common/net/session.h"
#include "common/tls/self_signed.h"
#include "common/tls/tls_context.h"
#include "common/tls/tls_stream.h"
#include "tests/support/temp_dir.h"

namespace postern::net::testing {

using namespace std::chrono_literals;

inline constexpr std::size_t kFloodBytes = 50u << 20;
inline constexpr std::size_t kFloodChunk = 64u << 10;

// What the sessions saw, read by the test after the loop has stopped (or
// through atomics while it runs).
struct Probe {
    std::vector<std::string> seen;
    std::size_t starttls_dropped = 0;
    std::size_t max_queued = 0;
    bool was_backpressured = false;
    std::atomic<int> destroyed{0};
    std::atomic<int> work_resumed{0};
    SSL_CTX* tls = nullptr;
};

// An echo protocol: "250 <line>" for every line, plus a few verbs that
// exercise the base class.
class EchoSession final : public Session {
  public:
    EchoSession(SessionInit init, Probe& probe) : Session(std::move(init)), probe_(probe) {}
    ~EchoSession() override {
        gone_->store(true);
        probe_.destroyed.fetch_add(1);
    }

  protected:
    void on_start() override { write_line("220 hello"); }
    std::string timeout_reply() const override { return "421 timeout"; }
    std::string too_many_errors_reply() const override { return "421 too many errors"; }
    void on_writable() override { pump(); }

    void on_input() override {
        while (!suspended() && !closing()) {
            auto ev = reader().next();
            if (std::holds_alternative<NeedMore>(ev)) return;
            if (std::holds_alternative<TooLong>(ev)) {
                write_line("500 too long");
                if (count_bad_command()) return;
                continue;
            }
            if (const auto* line = std::get_if<Line>(&ev)) {
                if (!command(std::string(line->text))) return;
            }
        }
    }

  private:
    // Returns false when input processing must stop for now.
    bool command(const std::string& text) {
        if (text == "STARTTLS") {
            write_line("220 go ahead");
            probe_.starttls_dropped = connection().start_tls(probe_.tls);
            return false;
        }
        if (text == "FLOOD") {
            flood_left_ = kFloodBytes;
            pump();
            return true;
        }
        if (text == "WORK" || text == "WORK-SLOW") {
            start_work(text == "WORK-SLOW");
            return false;
        }
        if (text == "QUIT") {
            close_with_reply("221 bye", "quit");
            return false;
        }
        probe_.seen.push_back(text);
        write_line("250 " + text);
        return true;
    }

    void pump() {
        static const std::string chunk(kFloodChunk, 'x');
        while (flood_left_ > 0 && connection().writable() && !closing()) {
            std::size_t n = std::min(flood_left_, chunk.size());
            write(std::string_view(chunk).substr(0, n));
            flood_left_ -= n;
            probe_.max_queued = std::max(probe_.max_queued, connection().queued_bytes());
        }
        if (flood_left_ > 0) probe_.was_backpressured = true;
    }

    // The pool function sees only copies and atomics, never the session.
    void start_work(bool slow) {
        suspend();
        std::shared_ptr<std::atomic<bool>> gone = gone_;
        std::atomic<int>* resumed = &probe_.work_resumed;
        loop::submit_work<Session, int>(
            loop(), registry(), id(),
            [slow, gone] {
                // Slow: finish only after the session is gone.
                for (int i = 0; slow && !gone->load() && i < 500; ++i) {
                    std::this_thread::sleep_for(10ms);
                }
                return 42;
            },
            [resumed](Session& s, int value) {
                resumed->fetch_add(1);
                s.write_line("250 work " + std::to_string(value));
                s.resume();
            });
    }

    Probe& probe_;
    std::size_t flood_left_ = 0;
    // Set when this session is destroyed; the only thing pool work may share.
    std::shared_ptr<std::atomic<bool>> gone_ = std::make_shared<std::atomic<bool>>(false);
};

// ---- blocking client helpers (run on the client thread) ----

inline int connect_to(const Address& a) {
    int fd = ::socket(a.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, a.sockaddr_ptr(), a.sockaddr_len()) < 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline int connect_unix(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.c_str(), path.size());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) < 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// One line without CRLF; "<eof>" or "<timeout>" when none came.
inline std::string read_line(int fd) {
    std::string line;
    char c = 0;
    for (;;) {
        ssize_t n = ::recv(fd, &c, 1, 0);
        if (n == 0) return line.empty() ? "<eof>" : line;
        if (n < 0) return "<timeout>";
        if (c == '\n') break;
        line += c;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// ---- the harness: loop + listener + one client thread ----

struct Harness {
    loop::Loop loop;
    Probe probe;
    std::unique_ptr<Listener> listener;
    bool timed_out = false;

    explicit Harness(ListenerSpec spec) {
        spec.refusal_line = "421 4.7.0 Too many connections\r\n";
        spec.factory = [this](SessionInit init) {
            return std::make_unique<EchoSession>(std::move(init), probe);
        };
        auto l = Listener::bind(loop, std::move(spec));
        REQUIRE_MESSAGE(l.ok(), "bind: " << (l.ok() ? std::string("ok") : l.error().message));
        listener = std::move(*l);
        REQUIRE(listener->serve().ok());
    }

    void run(const std::function<void()>& client) {
        loop::Timer guard(loop);
        guard.start(30s, [this] {
            timed_out = true;
            loop.stop();
        });
        std::thread t([&] {
            client();
            loop.post([this] { loop.stop(); });
        });
        loop.run();
        t.join();
        CHECK_MESSAGE(!timed_out, "the test ran into its 30 s guard");
    }
};

inline ListenerSpec tcp_spec(ConnectionLimits limits = {}) {
    ListenerSpec spec;
    spec.name = "test";
    spec.addresses = {"127.0.0.1:0"};
    spec.limits = limits;
    return spec;
}

// A throwaway certificate and the two contexts for TLS tests.
struct TestTls {
    postern::test::TempDir dir;
    std::unique_ptr<tls::TlsContext> server;
    std::unique_ptr<tls::TlsContext> client;

    TestTls() {
        std::string cert = (dir.path() / "c.crt").string();
        std::string key = (dir.path() / "c.key").string();
        REQUIRE(
            tls::write_self_signed({.host = "mail.test", .loopback_ips = true}, cert, key).ok());
        auto s = tls::TlsContext::server(cert, key);
        REQUIRE(s.ok());
        server = std::move(*s);
        auto c = tls::TlsContext::client(false);
        REQUIRE(c.ok());
        client = std::move(*c);
    }
};

}  // namespace postern::net::testing
