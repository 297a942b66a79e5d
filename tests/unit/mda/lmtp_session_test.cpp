// LMTP session transcripts over a real unix socket, with a fake backend (no
// store): command order, per-recipient replies after DATA, pipelining, raw
// DATA handling and the abuse cases named after what they model.
#include "mda/lmtp_session.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "common/loop/timer.h"
#include "common/net/listener.h"
#include "tests/support/temp_dir.h"

namespace postern::mda {
namespace {

using namespace std::chrono_literals;

// Accepts recipients whose local part does not start with "no"; a recipient
// starting with "full" fails at delivery with a temporary quota error.
struct FakeBackend final : DeliveryBackend {
    std::mutex mu;
    std::vector<std::pair<Envelope, std::string>> delivered;
    std::atomic<int> deliver_calls{0};

    Outcome check_recipient(const std::string& address) override {
        if (address.starts_with("no")) return {DeliveryStatus::UnknownUser, "fake"};
        return {};
    }
    std::vector<RecipientResult> deliver(const Envelope& env, std::string_view message) override {
        deliver_calls.fetch_add(1);
        std::lock_guard lock(mu);
        delivered.emplace_back(env, std::string(message));
        std::vector<RecipientResult> out;
        for (const auto& r : env.recipients) {
            Outcome o;
            if (r.starts_with("full")) o = {DeliveryStatus::OverQuotaTemp, "fake"};
            out.push_back(RecipientResult{r, o, {}});
        }
        return out;
    }
};

int connect_unix(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.c_str(), path.size());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) < 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

void send_all(int fd, std::string_view data, std::size_t chunk = 0) {
    while (!data.empty()) {
        std::size_t n = chunk == 0 ? data.size() : std::min(chunk, data.size());
        ssize_t sent = ::send(fd, data.data(), n, MSG_NOSIGNAL);
        if (sent <= 0) return;
        data.remove_prefix(static_cast<std::size_t>(sent));
    }
}

std::string read_line(int fd) {
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

// Loop + unix listener + LmtpSession; the client runs in a second thread.
struct Harness {
    test::TempDir dir;
    loop::Loop loop;
    std::shared_ptr<FakeBackend> backend = std::make_shared<FakeBackend>();
    LmtpSettings settings{"mx.test", 1024, 3};
    std::unique_ptr<net::Listener> listener;
    std::string path = (dir.path() / "lmtp.sock").string();

    Harness() {
        net::ListenerSpec spec;
        spec.name = "lmtp";
        spec.addresses = {"unix:" + path};
        spec.refusal_line = "421 4.7.0 Too many connections\r\n";
        spec.factory = [this](net::SessionInit init) {
            return std::make_unique<LmtpSession>(std::move(init), settings, backend);
        };
        auto l = net::Listener::bind(loop, std::move(spec));
        REQUIRE(l.ok());
        listener = std::move(*l);
        REQUIRE(listener->serve().ok());
    }

    void run(const std::function<void(int)>& client) {
        bool timed_out = false;
        loop::Timer guard(loop);
        guard.start(20s, [&] {
            timed_out = true;
            loop.stop();
        });
        std::thread t([&] {
            int fd = connect_unix(path);
            client(fd);
            if (fd >= 0) ::close(fd);
            loop.post([this] { loop.stop(); });
        });
        loop.run();
        t.join();
        CHECK_MESSAGE(!timed_out, "the test ran into its 20 s guard");
    }

    // Sends `input` (in chunks of `chunk` bytes, 0 = whole) and reads
    // `replies` lines.
    std::vector<std::string> transcript(const std::string& input, std::size_t replies,
                                        std::size_t chunk = 0) {
        std::vector<std::string> got;
        run([&](int fd) {
            got.push_back(read_line(fd));  // greeting
            send_all(fd, input, chunk);
            for (std::size_t i = 0; i < replies; ++i)
                got.push_back(read_line(fd));
        });
        return got;
    }
};

std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += "[" + l + "] ";
    return out;
}

// The status code (and enhanced code) of each reply line.
std::vector<std::string> codes(const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    for (const auto& l : lines)
        out.push_back(l.substr(0, std::min<std::size_t>(l.size(), 9)));
    return out;
}

const std::string kLhlo = "LHLO client.test\r\n";

TEST_CASE("lmtp: greeting and LHLO capabilities") {
    Harness h;
    auto got = h.transcript(kLhlo, 6);
    std::vector<std::string> want = {
        "220 mx.test LMTP ready", "250-mx.test",  "250-PIPELINING", "250-ENHANCEDSTATUSCODES",
        "250-8BITMIME",           "250-SMTPUTF8", "250 SIZE 1024"};
    CHECK_MESSAGE(got == want, "got " << join(got));
}

TEST_CASE("lmtp: commands before LHLO and EHLO are refused") {
    Harness h;
    auto got = h.transcript("MAIL FROM:<a@b.test>\r\nEHLO x\r\nNOOP\r\nQUIT\r\n", 4);
    CHECK_MESSAGE(codes(got) == std::vector<std::string>({"220 mx.te", "503 5.5.1", "500 5.5.1",
                                                          "250 2.0.0", "221 2.0.0"}),
                  "got " << join(got));
}

TEST_CASE("lmtp: pipelined transaction, one reply per accepted RCPT after DATA") {
    for (std::size_t chunk : {std::size_t{0}, std::size_t{1}}) {
        CAPTURE(chunk);
        Harness h;
        std::string in =
            kLhlo +
            "MAIL FROM:<s@remote.test>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<nobody@x.test>"
            "\r\nRCPT TO:<full@x.test>\r\nDATA\r\nSubject: hi\r\n\r\n..dot\r\nbody\r\n"
            ".\r\nQUIT\r\n";
        auto got = h.transcript(in, 6 + 1 + 3 + 1 + 2 + 1);
        std::vector<std::string> want = {"220 mx.te", "250-mx.te", "250-PIPEL", "250-ENHAN",
                                         "250-8BITM", "250-SMTPU", "250 SIZE ", "250 2.1.0",
                                         "250 2.1.5", "550 5.1.1", "250 2.1.5", "354 Start",
                                         "250 2.0.0", "452 4.2.2", "221 2.0.0"};
        CHECK_MESSAGE(codes(got) == want, "got " << join(got));
        REQUIRE(h.backend->delivered.size() == 1);
        const auto& [env, msg] = h.backend->delivered[0];
        CHECK(env.sender == "s@remote.test");
        CHECK(env.recipients == std::vector<std::string>{"a@x.test", "full@x.test"});
        CHECK_MESSAGE(msg == "Subject: hi\r\n\r\n.dot\r\nbody\r\n", "got " << msg);
    }
}

TEST_CASE("lmtp: DATA without recipients, RCPT without MAIL") {
    Harness h;
    auto got = h.transcript(kLhlo +
                                "RCPT TO:<a@x.test>\r\nMAIL FROM:<>\r\nDATA\r\n"
                                "RCPT TO:<nobody@x.test>\r\nDATA\r\nRSET\r\n",
                            6 + 6);
    std::vector<std::string> tail(got.begin() + 7, got.end());
    CHECK(codes(tail) == std::vector<std::string>{"503 5.5.1", "250 2.1.0", "503 5.5.1",
                                                  "550 5.1.1", "503 5.5.1", "250 2.0.0"});
    CHECK(h.backend->deliver_calls == 0);
}

TEST_CASE("lmtp: too_many_recipients") {
    Harness h;  // max 3
    std::string in = kLhlo + "MAIL FROM:<>\r\n";
    for (int i = 0; i < 4; ++i)
        in += "RCPT TO:<u" + std::to_string(i) + "@x.test>\r\n";
    auto got = h.transcript(in, 6 + 1 + 4);
    CHECK(codes(got).back() == "452 4.5.3");
}

TEST_CASE("lmtp: big_data gets 552 per recipient and nothing is delivered") {
    Harness h;  // max 1024 bytes
    std::string in = kLhlo +
                     "MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n" +
                     std::string(3000, 'x') + "\r\n.\r\nNOOP\r\n";
    auto got = h.transcript(in, 6 + 4 + 3);
    std::vector<std::string> tail(got.end() - 3, got.end());
    CHECK(codes(tail) == std::vector<std::string>{"552 5.3.4", "552 5.3.4", "250 2.0.0"});
    CHECK(h.backend->deliver_calls == 0);
}

TEST_CASE("lmtp: MAIL with SIZE over the limit") {
    Harness h;
    auto got = h.transcript(kLhlo + "MAIL FROM:<> SIZE=999999\r\n", 7);
    CHECK(codes(got).back() == "552 5.3.4");
}

TEST_CASE("lmtp: bare_lf_in_data is delivered as it came, never rewritten") {
    Harness h;
    const char raw[] = "Subject: lf\nX: y\n\nline\n.\nstill data\r\nnul\0here\r\n";
    std::string body(raw, sizeof raw - 1);
    std::string in = kLhlo + "MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n" + body + ".\r\n";
    auto got = h.transcript(in, 6 + 4);
    CHECK(codes(got).back() == "250 2.0.0");
    REQUIRE(h.backend->delivered.size() == 1);
    CHECK(h.backend->delivered[0].second == body);
}

TEST_CASE("lmtp: long lines in DATA are fine, long command lines are not") {
    Harness h;
    std::string body =
        "Subject: l\r\n\r\n" + std::string(900, 'a') + std::string(200, 'b') + "\r\n";
    h.settings.max_message_bytes = 1 << 20;
    std::string in = kLhlo + "MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n" + body +
                     ".\r\nNOOP " + std::string(10000, 'z') + "\r\n";
    auto got = h.transcript(in, 6 + 4 + 1);
    CHECK(codes(got)[10] == "250 2.0.0");
    CHECK(codes(got).back() == "500 5.5.2");
    REQUIRE(h.backend->delivered.size() == 1);
    CHECK(h.backend->delivered[0].second == body);
}

TEST_CASE("lmtp: dropped connection mid-DATA delivers nothing") {
    Harness h;
    h.run([&](int fd) {
        read_line(fd);
        send_all(fd, kLhlo + "MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nDATA\r\nSubject: half\r\n");
        for (int i = 0; i < 9; ++i)
            read_line(fd);
        ::shutdown(fd, SHUT_RDWR);
        std::this_thread::sleep_for(100ms);
    });
    CHECK(h.backend->deliver_calls == 0);
}

TEST_CASE("lmtp: two transactions on one connection") {
    Harness h;
    std::string tx = "MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nDATA\r\none\r\n.\r\n";
    auto got = h.transcript(kLhlo + tx + tx, 6 + 8);
    CHECK(codes(got).back() == "250 2.0.0");
    CHECK(h.backend->deliver_calls == 2);
}

}  // namespace
}  // namespace postern::mda
