// TLS on real sockets: STARTTLS with pipelined plaintext (CVE-2011-0411),
// implicit TLS, and the client side used by the outbound queue.
#include "tests/unit/common/net/session_harness.h"

namespace postern::net::testing {
namespace {

using namespace std::chrono_literals;

TEST_CASE("session: pipelined_after_starttls is discarded, never executed") {
    TestTls certs;

    Harness h(tcp_spec());
    h.probe.tls = certs.server->native();
    std::vector<std::string> got;
    std::string plain;
    bool handshake = false;
    h.run([&] {
        int fd = connect_to(h.listener->bound().front());
        got.push_back(read_line(fd));
        // One segment: the command and an injected command behind it.
        send_all(fd, "STARTTLS\r\nINJECTED\r\n");
        got.push_back(read_line(fd));
        auto tls = tls::TlsStream::client(certs.client->native(), "mail.test");
        send_all(fd, tls->take_ciphertext());
        bool sent_hello = false;
        std::vector<char> buf(1 << 16);
        while (plain.find("250 HELLO\r\n") == std::string::npos) {
            ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
            if (n <= 0) break;
            (void)tls->feed_ciphertext(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            if (tls->handshake_done() && !sent_hello) {
                handshake = true;
                sent_hello = true;
                (void)tls->write_plaintext("HELLO\r\n");
            }
            tls->read_plaintext(plain);
            send_all(fd, tls->take_ciphertext());
        }
        ::close(fd);
    });
    std::vector<std::string> want = {"220 hello", "220 go ahead"};
    CHECK(got == want);
    CHECK_MESSAGE(handshake, "TLS handshake did not complete");
    CHECK_MESSAGE(plain == "250 HELLO\r\n", "got plaintext '" << plain << "'");
    CHECK_MESSAGE(h.probe.starttls_dropped == 10,
                  "got " << h.probe.starttls_dropped << " dropped, want 10");
    for (const auto& line : h.probe.seen)
        CHECK_MESSAGE(line != "INJECTED", "the injected command ran");
    CHECK(std::find(h.probe.seen.begin(), h.probe.seen.end(), "HELLO") != h.probe.seen.end());
}

// Client mode (the future outbound SMTP queue): connect, STARTTLS as the
// client, talk over TLS, close gracefully; both ends on the one loop.
TEST_CASE("connection: client mode with STARTTLS against the server side") {
    TestTls certs;
    Harness h(tcp_spec());
    h.probe.tls = certs.server->native();

    Connection client(h.loop, ConnectionLimits{});
    std::vector<std::string> got;
    std::string closed_reason;
    std::string cipher;
    Status connected;
    client.set_callbacks(ConnectionCallbacks{
        .on_input =
            [&] {
                for (;;) {
                    auto ev = client.reader().next();
                    const auto* line = std::get_if<Line>(&ev);
                    if (line == nullptr) return;
                    got.emplace_back(line->text);
                    if (line->text == "220 hello") client.write("STARTTLS\r\n");
                    if (line->text == "220 go ahead") {
                        client.start_tls_client(certs.client->native(), "mail.test");
                        return;
                    }
                    if (line->text == "250 HELLO") client.close("done");
                }
            },
        .on_writable = {},
        .on_tls_ready =
            [&] {
                cipher = client.tls_description();
                client.write("HELLO\r\n");
            },
        .on_closed =
            [&](const std::string& reason) {
                closed_reason = reason;
                h.loop.stop();
            },
    });
    loop::Timer guard(h.loop);
    guard.start(10s, [&] { h.loop.stop(); });
    client.connect(h.listener->bound().front(), [&](Status st) {
        connected = st;
        client.set_reading(true);
    });
    h.loop.run();
    CHECK(connected.ok());
    std::vector<std::string> want = {"220 hello", "220 go ahead", "250 HELLO"};
    CHECK(got == want);
    CHECK_MESSAGE(cipher.starts_with("TLSv1."), "got cipher '" << cipher << "'");
    CHECK_MESSAGE(closed_reason == "done", "got close reason '" << closed_reason << "'");
}

TEST_CASE("connection: connecting to a closed port reports the error") {
    loop::Loop loop;
    // Bind then close a socket to get a port nobody listens on.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    auto any = *Address::parse("127.0.0.1:0");
    REQUIRE(::bind(fd, any.sockaddr_ptr(), any.sockaddr_len()) == 0);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    auto target = *Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    ::close(fd);
    Connection client(loop, ConnectionLimits{});
    bool failed = false;
    client.connect(target, [&](Status st) { failed = !st.ok(); });
    loop.run();
    CHECK(failed);
}

// Ports 465/993/995: the handshake comes first; the greeting only after it.
TEST_CASE("session: implicit TLS listener greets only over TLS") {
    TestTls certs;
    ListenerSpec spec = tcp_spec();
    spec.implicit_tls = certs.server.get();
    Harness h(spec);
    std::string plain;
    h.run([&] {
        int fd = connect_to(h.listener->bound().front());
        auto tls = tls::TlsStream::client(certs.client->native(), "mail.test");
        send_all(fd, tls->take_ciphertext());
        bool sent = false;
        std::vector<char> buf(1 << 16);
        while (plain.find("250 PING\r\n") == std::string::npos) {
            ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
            if (n <= 0) break;
            (void)tls->feed_ciphertext(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            tls->read_plaintext(plain);
            if (tls->handshake_done() && !sent &&
                plain.find("220 hello\r\n") != std::string::npos) {
                sent = true;
                (void)tls->write_plaintext("PING\r\n");
            }
            send_all(fd, tls->take_ciphertext());
        }
        ::close(fd);
    });
    CHECK_MESSAGE(plain == "220 hello\r\n250 PING\r\n", "got plaintext '" << plain << "'");
}

// Plaintext to an implicit-TLS port is a failed handshake, not a command.
TEST_CASE("session: plaintext to an implicit TLS listener is refused by TLS") {
    TestTls certs;
    ListenerSpec spec = tcp_spec();
    spec.implicit_tls = certs.server.get();
    Harness h(spec);
    std::string rest;
    h.run([&] {
        int fd = connect_to(h.listener->bound().front());
        send_all(fd, "EHLO plain\r\n");
        std::vector<char> buf(4096);
        for (;;) {
            ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
            if (n <= 0) break;
            rest.append(buf.data(), static_cast<std::size_t>(n));
        }
        ::close(fd);
    });
    CHECK(h.probe.seen.empty());
    CHECK_MESSAGE(rest.find("220 hello") == std::string::npos, "greeting sent in plaintext");
}

}  // namespace
}  // namespace postern::net::testing
