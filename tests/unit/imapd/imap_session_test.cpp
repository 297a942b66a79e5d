// ImapSession transcripts over a real loopback socket, without the daemon
// skeleton: a Listener with the IMAP session factory, a temporary data dir
// with one user, and a blocking client thread. Named after what they model.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/loop/loop.h"
#include "common/loop/timer.h"
#include "common/net/listener.h"
#include "imapd/imap_session.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace postern::imap {
namespace {

using namespace std::chrono_literals;

// Step: bytes to send, then the lines expected back up to and including the
// one that starts with `until` (a tag, "+", or "*" for the greeting).
struct Step {
    std::string send;
    std::string until;
    std::vector<std::string> want_prefixes;  // each line must start with these, in order
    std::chrono::milliseconds pause{0};      // the client waits this long before sending
};

class Client {
  public:
    explicit Client(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{5, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ~Client() { ::close(fd_); }
    bool connected() const { return connected_; }
    void send(const std::string& s) { (void)!::write(fd_, s.data(), s.size()); }
    // One line without CRLF; "<eof>" at end of stream or timeout.
    std::string line() {
        for (;;) {
            auto p = buf_.find("\r\n");
            if (p != std::string::npos) {
                std::string l = buf_.substr(0, p);
                buf_.erase(0, p + 2);
                return l;
            }
            char tmp[4096];
            ssize_t n = ::read(fd_, tmp, sizeof tmp);
            if (n <= 0) return "<eof>";
            buf_.append(tmp, static_cast<std::size_t>(n));
        }
    }

  private:
    int fd_ = -1;
    bool connected_ = false;
    std::string buf_;
};

struct Server {
    test::TempDir dir;
    loop::Loop loop;
    net::PeerTracker tracker;
    ImapContext context;
    std::unique_ptr<net::Listener> listener;

    explicit Server(ImapLimits limits = {}) {
        auto store = store::Store::open(dir.path(), store::PasswordParams::minimum_for_test());
        REQUIRE(store.ok());
        REQUIRE(store->directory().add_domain("example.test").ok());
        REQUIRE(store->add_user("alice@example.test", Secret<std::string>(std::string("pw"))).ok());
        context.limits = limits;
        context.data_dir = dir.path();
        context.tracker = &tracker;
        context.allow_plaintext_on_loopback = true;
        net::ListenerSpec spec;
        spec.name = "imap";
        spec.addresses = {"127.0.0.1:0"};
        spec.limits.max_line_bytes = limits.max_line_bytes;
        spec.limits.max_bad_commands = limits.max_bad_commands;
        spec.refusal_line = "* BYE busy\r\n";
        spec.factory = [this](net::SessionInit init) -> std::unique_ptr<net::Session> {
            return std::make_unique<ImapSession>(std::move(init), context);
        };
        auto bound = net::Listener::bind(loop, std::move(spec));
        REQUIRE(bound.ok());
        listener = std::move(*bound);
        REQUIRE(listener->serve().ok());
    }

    // Runs the steps from a client thread while the loop runs here; returns
    // the failures as "step N: got X, want Y".
    std::vector<std::string> run(const std::vector<Step>& steps) {
        std::vector<std::string> failures;
        std::uint16_t port = listener->bound().front().port();
        std::thread client([&] {
            Client c(port);
            if (!c.connected()) failures.push_back("connect failed");
            for (std::size_t i = 0; i < steps.size() && failures.empty(); ++i) {
                std::this_thread::sleep_for(steps[i].pause);
                c.send(steps[i].send);
                std::vector<std::string> got;
                for (;;) {
                    std::string l = c.line();
                    got.push_back(l);
                    if (l == "<eof>" || l.rfind(steps[i].until, 0) == 0) break;
                }
                const auto& want = steps[i].want_prefixes;
                bool ok = got.size() == want.size();
                for (std::size_t k = 0; ok && k < want.size(); ++k)
                    ok = got[k].rfind(want[k], 0) == 0;
                if (!ok) {
                    std::string g;
                    for (const auto& l : got)
                        g += "[" + l + "]";
                    std::string w;
                    for (const auto& l : want)
                        w += "[" + l + "...]";
                    failures.push_back("step " + std::to_string(i) + ": got " + g + ", want " + w);
                }
            }
            loop.post([this] { loop.stop(); });
        });
        loop::Timer guard(loop);
        guard.start(30s, [this] { loop.stop(); });
        loop.run();
        client.join();
        return failures;
    }
};

void check(const std::vector<std::string>& failures) {
    for (const auto& f : failures)
        FAIL_CHECK(f);
}

TEST_CASE("imap session: login, pipelined commands and literals") {
    Server server;
    check(server.run({
        {"", "*", {"* OK [CAPABILITY IMAP4rev1"}},
        {"a CAPABILITY\r\n", "a", {"* CAPABILITY IMAP4rev1", "a OK"}},
        {"b LOGIN alice@example.test {2}\r\n", "+", {"+ Ready"}},
        {"pw\r\n", "b", {"b OK [CAPABILITY"}},
        // Pipelined: both answered, in order, although LIST waits on the pool.
        {"c LIST \"\" INBOX\r\nd NOOP\r\n",
         "d",
         {"* LIST (\\HasNoChildren) \"/\" INBOX", "c OK", "d OK"}},
        {"e SELECT INBOX\r\n",
         "e",
         {"* FLAGS", "* OK [PERMANENTFLAGS", "* 0 EXISTS", "* 0 RECENT", "* OK [UIDVALIDITY",
          "* OK [UIDNEXT 1]", "e OK [READ-WRITE]"}},
        {"f APPEND INBOX {20+}\r\nSubject: x\r\n\r\nbody\r\n\r\n",
         "f",
         {"* 1 EXISTS", "f OK [APPENDUID"}},
        {"g FETCH 1 (FLAGS BODY.PEEK[TEXT])\r\n",
         "g",
         {"* 1 FETCH (FLAGS () BODY[TEXT] {6}", "body", ")", "g OK"}},
        {"h LOGOUT\r\n", "h", {"* BYE", "h OK"}},
    }));
}

TEST_CASE("imap session: bad_commands and wrong_state keep the connection") {
    Server server;
    check(server.run({
        {"", "*", {"* OK"}},
        {"a FROB\r\n", "a", {"a BAD Unknown command"}},
        {"b SELECT INBOX\r\n", "b", {"b BAD SELECT not allowed"}},
        {"\r\n", "*", {"* BAD"}},
        {"c LOGIN alice@example.test wrong\r\n", "c", {"c NO [AUTHENTICATIONFAILED]"}},
        {"d NOOP\r\n", "d", {"d OK"}},
    }));
}

ImapLimits small_limits() {
    ImapLimits l;
    l.max_literal_bytes = 100;
    l.max_line_bytes = 1024;
    l.max_bad_commands = 2;
    return l;
}

TEST_CASE("imap session: literal_over_limit is refused before it is read") {
    Server server(small_limits());
    check(server.run({
        {"", "*", {"* OK"}},
        {"a LOGIN alice@example.test pw\r\n", "a", {"a OK"}},
        {"b APPEND INBOX {101}\r\n", "b", {"b NO [TOOBIG]"}},
        {"c NOOP\r\n", "c", {"c OK"}},
    }));
}

TEST_CASE("imap session: big_literal_before_login is refused without a continuation") {
    Server server;
    check(server.run({
        {"", "*", {"* OK"}},
        {"a APPEND INBOX {50000000}\r\n", "a", {"a NO [TOOBIG]"}},
        {"b LOGIN {18}\r\n", "+", {"+ Ready"}},
        {"alice@example.test pw\r\n", "b", {"b OK"}},
    }));
}

TEST_CASE("imap session: long_line and many_bad_commands close with BYE") {
    {
        Server server(small_limits());
        check(server.run({
            {"", "*", {"* OK"}},
            {"a NOOP " + std::string(2000, 'x') + "\r\n", "*", {"* BYE Line too long"}},
            {"", "<eof>", {"<eof>"}},
        }));
    }
    {
        Server server(small_limits());
        check(server.run({
            {"", "*", {"* OK"}},
            {"a X\r\nb X\r\nc X\r\n", "*", {"a BAD", "b BAD", "* BYE Too many bad commands"}},
        }));
    }
}

// RFC 2177 §3 / RFC 9051 §5.4, scaled down: the lifetime ends while the
// client idles, yet it is cut only after IDLE is over and its keepalive
// window has passed.
TEST_CASE("imap session: idle_outlives_session_lifetime, then the lifetime ends") {
    ImapLimits limits;
    limits.session_lifetime = 1000ms;
    limits.idle_keepalive = 3000ms;
    limits.idle_timeout = 2500ms;
    Server server(limits);
    check(server.run({
        {"", "*", {"* OK"}},
        {"a LOGIN alice@example.test pw\r\n", "a", {"a OK"}},
        {"b IDLE\r\n", "+", {"+ idling"}},
        {"DONE\r\n", "b", {"b OK IDLE terminated"}, 2000ms},
        {"c NOOP\r\n", "c", {"c OK"}},
        {"", "*", {"* BYE Session time limit"}},
    }));
}

TEST_CASE("imap session: idle_keeps_a_silent_client past idle_timeout") {
    ImapLimits limits;
    limits.idle_timeout = 1000ms;
    limits.idle_keepalive = 2500ms;
    Server server(limits);
    check(server.run({
        {"", "*", {"* OK"}},
        {"a LOGIN alice@example.test pw\r\n", "a", {"a OK"}},
        {"b IDLE\r\n", "+", {"+ idling"}},
        {"DONE\r\n", "b", {"b OK IDLE terminated"}, 1800ms},
        // Out of IDLE, silence is cut after idle_timeout again.
        {"", "*", {"* BYE Idle timeout"}},
    }));
}

}  // namespace
}  // namespace postern::imap
