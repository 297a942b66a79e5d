// Harness for SMTP session tests over real sockets: a loop + listener
// running SmtpSession with a test SmtpContext, a data directory with users,
// an LMTP stub standing in for mda on a unix socket, and a blocking client.
// The loop runs on the test thread; the client and the LMTP stub run in
// their own threads with receive timeouts; every run is bounded by a guard.
#pragma once

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/log/log.h"
#include "common/loop/loop.h"
#include "common/loop/timer.h"
#include "common/net/listener.h"
#include "smtpd/smtp_session.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace postern::smtp::testing {

using namespace std::chrono_literals;

inline constexpr const char* kPassword = "correct horse battery";

// ---- blocking client ----

class Client {
  public:
    explicit Client(const net::Address& a) {
        fd_ = ::socket(a.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
        timeval tv{5, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (::connect(fd_, a.sockaddr_ptr(), a.sockaddr_len()) < 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~Client() {
        if (fd_ >= 0) ::close(fd_);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool connected() const { return fd_ >= 0; }

    void send(std::string_view data) {
        while (!data.empty()) {
            ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) return;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    // One line without CRLF; "<eof>" or "<timeout>" when none came.
    std::string line() {
        std::string out;
        char c = 0;
        for (;;) {
            ssize_t n = ::recv(fd_, &c, 1, 0);
            if (n == 0) return out.empty() ? "<eof>" : out;
            if (n < 0) return "<timeout>";
            if (c == '\n') break;
            out += c;
        }
        if (!out.empty() && out.back() == '\r') out.pop_back();
        return out;
    }

    // A whole reply; returns its last line ("250 2.0.0 OK").
    std::string reply() {
        for (;;) {
            std::string l = line();
            if (l.size() < 4 || l[3] != '-') return l;
        }
    }
    // A whole reply, every line.
    std::vector<std::string> reply_lines() {
        std::vector<std::string> out;
        for (;;) {
            out.push_back(line());
            const std::string& l = out.back();
            if (l.size() < 4 || l[3] != '-') return out;
        }
    }

    // Sends one command line and returns the reply's last line.
    std::string cmd(std::string_view command) {
        send(std::string(command) + "\r\n");
        return reply();
    }

  private:
    int fd_ = -1;
};

// "250 2.1.5 OK" starts with "250"?
inline bool code_is(const std::string& reply, std::string_view code) {
    return reply.rfind(code, 0) == 0;
}

// A transcript's replies against the codes wanted, step by step.
inline void check_codes(const std::vector<std::string>& got, const std::vector<std::string>& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
        CHECK_MESSAGE(code_is(got[i], want[i]),
                      "step " << i << ": got " << got[i] << ", want " << want[i]);
}

// ---- LMTP stub (mda stand-in) ----

struct LmtpMessage {
    std::string sender;
    std::vector<std::string> recipients;
    std::string data;  // wire form, dot-stuffed, without the final ".\r\n"
};

class LmtpStub {
  public:
    explicit LmtpStub(std::string path) : path_(std::move(path)) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::memcpy(sun.sun_path, path_.c_str(), path_.size());
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0);
        REQUIRE(::listen(fd_, 16) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~LmtpStub() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
        ::unlink(path_.c_str());
    }

    // The reply to RCPT for a recipient (default "250 2.1.5 Ok").
    void set_rcpt_reply(const std::string& rcpt, std::string reply) {
        std::lock_guard lock(mutex_);
        rcpt_replies_[rcpt] = std::move(reply);
    }
    // The reply after DATA for a recipient (default "250 2.0.0 Ok").
    void set_data_reply(const std::string& rcpt, std::string reply) {
        std::lock_guard lock(mutex_);
        data_replies_[rcpt] = std::move(reply);
    }
    std::vector<LmtpMessage> messages() {
        std::lock_guard lock(mutex_);
        return messages_;
    }

  private:
    void serve() {
        while (!stop_) {
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            timeval tv{5, 0};
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            session(c);
            ::close(c);
        }
    }

    static std::string read_line(int fd) {
        std::string out;
        char ch = 0;
        while (::recv(fd, &ch, 1, 0) == 1) {
            out += ch;
            if (ch == '\n') break;
        }
        return out;
    }
    static void put(int fd, const std::string& s) {
        std::string l = s + "\r\n";
        (void)::send(fd, l.data(), l.size(), MSG_NOSIGNAL);
    }

    void session(int c) {
        put(c, "220 lmtp stub");
        LmtpMessage msg;
        for (;;) {
            std::string l = read_line(c);
            if (l.empty()) return;
            std::string verb = l.substr(0, 4);
            if (verb == "LHLO") {
                put(c, "250-stub\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8");
            } else if (verb == "MAIL") {
                msg.sender = l.substr(11, l.find('>') - 11);
                put(c, "250 2.1.0 Ok");
            } else if (verb == "RCPT") {
                std::string rcpt = l.substr(9, l.find('>') - 9);
                std::string reply = "250 2.1.5 Ok";
                {
                    std::lock_guard lock(mutex_);
                    if (auto it = rcpt_replies_.find(rcpt); it != rcpt_replies_.end())
                        reply = it->second;
                }
                if (reply[0] == '2') msg.recipients.push_back(rcpt);
                put(c, reply);
            } else if (verb == "DATA") {
                put(c, "354 go");
                for (;;) {
                    std::string d = read_line(c);
                    if (d.empty() || d == ".\r\n") break;
                    msg.data += d;
                }
                std::lock_guard lock(mutex_);
                messages_.push_back(msg);
                for (const auto& r : msg.recipients) {
                    auto it = data_replies_.find(r);
                    put(c, it == data_replies_.end() ? "250 2.0.0 Ok" : it->second);
                }
                msg = {};
            } else if (verb == "QUIT") {
                put(c, "221 bye");
                return;
            } else {
                put(c, "500 what");
            }
        }
    }

    std::string path_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::map<std::string, std::string> rcpt_replies_;
    std::map<std::string, std::string> data_replies_;
    std::vector<LmtpMessage> messages_;
};

// ---- the harness ----

struct Options {
    SmtpProfile profile = mx_profile();
    SmtpLimits limits;
    net::ConnectionLimits conn;
    bool allow_plaintext_auth_on_loopback = true;
    net::ThrottlePolicy throttle{.max_failures = 3,
                                 .window = std::chrono::minutes(10),
                                 .base_delay = 50ms,
                                 .max_delay = 200ms};
};

inline Options opts_conn(net::ConnectionLimits conn) {
    Options o;
    o.conn = conn;
    return o;
}
inline Options opts_limits(SmtpLimits limits) {
    Options o;
    o.limits = limits;
    return o;
}
inline Options opts_profile(SmtpProfile profile) {
    Options o;
    o.profile = std::move(profile);
    return o;
}

struct Harness {
    postern::test::TempDir dir;
    loop::Loop loop;
    net::PeerTracker tracker;
    store::AuthCache cache{std::chrono::seconds(60)};
    SmtpContext context;
    std::unique_ptr<LmtpStub> lmtp;
    std::unique_ptr<net::Listener> listener;
    bool timed_out = false;

    explicit Harness(Options options = {}) : tracker(options.throttle) {
        auto store =
            store::Store::open(dir.path() / "data", store::PasswordParams::minimum_for_test());
        REQUIRE(store.ok());
        REQUIRE(store->directory().add_domain("example.test").ok());
        REQUIRE(store->directory().add_domain("other.test").ok());
        for (const char* user : {"alice@example.test", "bob@example.test"}) {
            REQUIRE(store->directory().add_user(user, Secret<std::string>(kPassword)).ok());
        }
        REQUIRE(store->directory().add_alias("sales@example.test", "alice@example.test").ok());
        REQUIRE(store->directory().add_alias("@other.test", "bob@example.test").ok());

        context.profile = options.profile;
        context.limits = options.limits;
        context.hostname = "mx.example.test";
        context.directory_db = store->data_dir().directory_db();
        context.lmtp_socket = dir.path() / "lmtp.sock";
        context.spool_dir = dir.path();
        context.queue_dir = dir.path() / "queue";
        context.recipient_delimiter = "+";
        context.tracker = &tracker;
        context.auth_cache = &cache;
        context.allow_plaintext_auth_on_loopback = options.allow_plaintext_auth_on_loopback;
        context.lmtp_timeout = std::chrono::seconds(10);
        lmtp = std::make_unique<LmtpStub>(context.lmtp_socket.string());

        net::ListenerSpec spec;
        spec.name = "smtp-test";
        spec.addresses = {"127.0.0.1:0"};
        spec.limits = options.conn;
        spec.refusal_line = "421 4.7.0 Too many connections\r\n";
        spec.tracker = &tracker;
        spec.factory = [this](net::SessionInit init) -> std::unique_ptr<net::Session> {
            return std::make_unique<SmtpSession>(std::move(init), context);
        };
        auto l = net::Listener::bind(loop, std::move(spec));
        REQUIRE(l.ok());
        listener = std::move(*l);
        REQUIRE(listener->serve().ok());
    }

    const net::Address& address() const { return listener->bound().front(); }

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

// EHLO, MAIL, RCPT for a ready transaction; returns false on any surprise.
inline bool start_transaction(Client& c, const std::string& from, const std::string& to) {
    if (!code_is(c.reply(), "220")) return false;
    if (!code_is(c.cmd("EHLO client.test"), "250")) return false;
    if (!code_is(c.cmd("MAIL FROM:<" + from + ">"), "250")) return false;
    return code_is(c.cmd("RCPT TO:<" + to + ">"), "250");
}

}  // namespace postern::smtp::testing
