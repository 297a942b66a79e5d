// A real pop3 session engine over loopback sockets: a store in a temp dir
// with alice@example.test, a Listener whose factory makes Pop3Sessions, and
// a blocking client (plain or TLS) that runs on a second thread. Every run
// is bounded by a guard timer.
#pragma once

#include <doctest/doctest.h>
#include <openssl/ssl.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/net/listener.h"
#include "common/net/peer_tracker.h"
#include "pop3d/pop3_session.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/common/net/session_harness.h"

namespace postern::pop3::testing {

using namespace std::chrono_literals;

inline constexpr const char* kUser = "alice@example.test";
inline constexpr const char* kPassword = "correct horse battery";

// A blocking POP3 client; all calls on the client thread.
class Client {
  public:
    explicit Client(const net::Address& a) : fd_(net::testing::connect_to(a)) {}
    ~Client() { close(); }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool start_tls(SSL_CTX* ctx) {
        ssl_ = SSL_new(ctx);
        SSL_set_fd(ssl_, fd_);
        return SSL_connect(ssl_) == 1;
    }
    void send(std::string_view bytes) {
        if (ssl_ != nullptr) {
            SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
        } else {
            net::testing::send_all(fd_, bytes);
        }
    }
    // One line without CRLF; "<eof>" or "<timeout>" when none came.
    std::string line() {
        for (;;) {
            auto lf = buf_.find('\n');
            if (lf != std::string::npos) {
                std::string l = buf_.substr(0, lf);
                buf_.erase(0, lf + 1);
                if (!l.empty() && l.back() == '\r') l.pop_back();
                return l;
            }
            int n = receive();
            if (n == 0) return buf_.empty() ? "<eof>" : std::exchange(buf_, {});
            if (n < 0) return "<timeout>";
        }
    }
    std::string cmd(std::string_view c) {
        send(std::string(c) + "\r\n");
        return line();
    }
    // The body of a multi-line response as sent (still stuffed), each line
    // with its CRLF, without the terminating ".".
    std::string multi() {
        std::string out;
        for (;;) {
            std::string l = line();
            if (l == "." || l == "<eof>" || l == "<timeout>") return l == "." ? out : out + l;
            out += l + "\r\n";
        }
    }
    std::size_t read_some(std::size_t at_most) {
        std::size_t got = std::min(at_most, buf_.size());
        buf_.erase(0, got);
        while (got < at_most) {
            int n = receive();
            if (n <= 0) break;
            std::size_t take = std::min(at_most - got, buf_.size());
            buf_.erase(0, take);
            got += take;
        }
        return got;
    }
    bool login() {
        return cmd(std::string("USER ") + kUser).starts_with("+OK") &&
               cmd(std::string("PASS ") + kPassword).starts_with("+OK");
    }
    void close() {
        if (ssl_ != nullptr) SSL_free(ssl_);
        ssl_ = nullptr;
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int receive() {
        char tmp[16384];
        int n = ssl_ != nullptr ? SSL_read(ssl_, tmp, sizeof tmp)
                                : static_cast<int>(::recv(fd_, tmp, sizeof tmp, 0));
        if (n > 0) buf_.append(tmp, static_cast<std::size_t>(n));
        return n;
    }

    int fd_;
    SSL* ssl_ = nullptr;
    std::string buf_;
};

struct Options {
    bool allow_plaintext_on_loopback = true;
    bool with_tls = false;
    bool implicit_tls = false;
    std::chrono::milliseconds idle_timeout{30000};
    unsigned max_bad_commands = 20;
    net::ThrottlePolicy throttle{.max_failures = 3,
                                 .max_failures_per_user = 3,
                                 .window = 60s,
                                 .base_delay = 10ms,
                                 .max_delay = 40ms};
};

struct Fixture {
    std::string logs;  // what the sessions logged; read it after run()
    postern::test::TempDir dir;
    std::filesystem::path root;
    store::User alice;
    std::unique_ptr<net::testing::TestTls> tls;
    loop::Loop loop;
    net::PeerTracker tracker;
    std::shared_ptr<Pop3Context> context = std::make_shared<Pop3Context>();
    std::unique_ptr<net::Listener> listener;
    bool timed_out = false;

    explicit Fixture(Options o = {}) : root(dir.path() / "data"), tracker(o.throttle) {
        log::capture_for_test(&logs);
        auto st = store::Store::open(root, store::PasswordParams::minimum_for_test());
        REQUIRE(st.ok());
        REQUIRE(st->directory().add_domain("example.test").ok());
        auto u = st->add_user(kUser, Secret<std::string>(kPassword));
        REQUIRE(u.ok());
        alice = *u;
        if (o.with_tls || o.implicit_tls) tls = std::make_unique<net::testing::TestTls>();
        context->data_dir = root;
        context->tls = o.with_tls ? tls->server.get() : nullptr;
        context->tracker = &tracker;
        context->allow_plaintext_on_loopback = o.allow_plaintext_on_loopback;
        net::ListenerSpec spec;
        spec.name = "pop3";
        spec.addresses = {"127.0.0.1:0"};
        spec.limits.max_line_bytes = context->limits.max_line_bytes;
        spec.limits.idle_timeout = o.idle_timeout;
        spec.limits.max_bad_commands = o.max_bad_commands;
        spec.refusal_line = "-ERR too many\r\n";
        spec.implicit_tls = o.implicit_tls ? tls->server.get() : nullptr;
        spec.tracker = &tracker;
        spec.factory = [ctx = context](net::SessionInit init) -> std::unique_ptr<net::Session> {
            return std::make_unique<Pop3Session>(std::move(init), ctx);
        };
        auto l = net::Listener::bind(loop, std::move(spec));
        REQUIRE(l.ok());
        listener = std::move(*l);
        REQUIRE(listener->serve().ok());
    }

    ~Fixture() { log::capture_for_test(nullptr); }
    Fixture(const Fixture&) = delete;
    Fixture& operator=(const Fixture&) = delete;

    const net::Address& address() const { return listener->bound().front(); }

    void deliver(std::string_view message) {
        auto st = store::Store::open(root, store::PasswordParams::minimum_for_test());
        REQUIRE(st.ok());
        auto r = st->recipient(alice);
        REQUIRE(r.ok());
        auto w = st->begin_delivery({*r});
        REQUIRE(w.ok());
        REQUIRE(w->write(message).ok());
        REQUIRE(w->commit().ok());
    }

    std::vector<store::MessageInfo> inbox() {
        auto st = store::Store::open(root, store::PasswordParams::minimum_for_test());
        REQUIRE(st.ok());
        auto index = st->open_index(alice);
        REQUIRE(index.ok());
        auto list = index->list_messages(store::kInbox);
        REQUIRE(list.ok());
        return *list;
    }

    // Runs the loop on this thread and `client` on another.
    void run(const std::function<void()>& client, std::chrono::seconds guard_after = 30s) {
        loop::Timer guard(loop);
        guard.start(guard_after, [this] {
            timed_out = true;
            loop.stop();
        });
        std::thread t([&] {
            client();
            loop.post([this] { loop.stop(); });
        });
        loop.run();
        t.join();
        CHECK_MESSAGE(!timed_out, "the test ran into its guard timer");
    }
};

}  // namespace postern::pop3::testing
