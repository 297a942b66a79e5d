// A real OpenSSL client (`openssl s_client`) against a TlsStream server on a
// loopback socket driven with plain blocking I/O: proves the memory-BIO
// plumbing interoperates with something we did not write.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "common/tls/tls_context.h"
#include "common/tls/tls_stream.h"
#include "tests/unit/common/tls/tls_test_util.h"

namespace postern::tls {

namespace {

constexpr const char* kOpenssl = "/usr/bin/openssl";
constexpr int kIoTimeoutSeconds = 10;  // far above a loopback handshake; bounds a hang

struct ServerResult {
    std::string received;
    std::string describe;
    std::string failure;
};

// Listens on 127.0.0.1 port 0 and returns the socket; `port` gets the port.
int listen_loopback(int& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(::listen(fd, 1) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port = ntohs(addr.sin_port);
    return fd;
}

bool send_all(int fd, const std::string& bytes) {
    for (std::size_t at = 0; at < bytes.size();) {
        const ssize_t n = ::send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
        if (n <= 0) return false;
        at += static_cast<std::size_t>(n);
    }
    return true;
}

// Serves one connection: handshake, read until "hello\n", answer "world\n",
// close_notify. Every blocking call is bounded by kIoTimeoutSeconds.
void serve_one(int listener, SSL_CTX* ctx, ServerResult& result) {
    pollfd pfd{listener, POLLIN, 0};
    if (::poll(&pfd, 1, kIoTimeoutSeconds * 1000) != 1) {
        result.failure = "no connection";
        return;
    }
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    timeval tv{kIoTimeoutSeconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    auto stream = TlsStream::server(ctx);
    char buf[4096];
    while (result.received.find('\n') == std::string::npos) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        const auto st = stream->feed_ciphertext(std::string_view(buf, static_cast<std::size_t>(n)));
        stream->read_plaintext(result.received);
        if (!send_all(fd, stream->take_ciphertext()) || !st.ok()) break;
    }
    result.describe = stream->describe();
    result.failure = stream->failure();
    if (stream->handshake_done() && stream->write_plaintext("world\n").ok()) {
        stream->shutdown();
        (void)send_all(fd, stream->take_ciphertext());
    }
    ::close(fd);
}

std::string run_command(const std::string& command) {
    std::FILE* p = ::popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p))
        out.append(buf, n);
    ::pclose(p);
    return out;
}

}  // namespace

TEST_CASE("openssl s_client handshakes with a TlsStream server") {
    if (::access(kOpenssl, X_OK) != 0) {
        MESSAGE("skipped: ", kOpenssl, " not found");
        return;
    }
    postern::test::TempDir dir;
    const auto files = test::make_cert(dir, "localhost");
    auto ctx = TlsContext::server(files.cert, files.key).value();

    int port = 0;
    const int listener = listen_loopback(port);
    ServerResult result;
    std::thread server([&] { serve_one(listener, ctx->native(), result); });

    // -ign_eof: keep reading after stdin ends, until our close_notify.
    // `timeout` bounds the client even if the server thread misbehaves.
    const std::string command = "printf 'hello\\n' | timeout " +
                                std::to_string(kIoTimeoutSeconds * 2) + " " + kOpenssl +
                                " s_client -connect 127.0.0.1:" + std::to_string(port) +
                                " -servername localhost -verify_return_error -verify_hostname"
                                " localhost -CAfile " +
                                files.cert + " -brief -ign_eof 2>&1";
    const std::string output = run_command(command);
    server.join();
    ::close(listener);

    CAPTURE(output);
    CHECK_MESSAGE(result.failure.empty(), "server failure: ", result.failure);
    CHECK_MESSAGE(result.received == "hello\n", "got ", result.received, ", want hello");
    CHECK_MESSAGE(result.describe.rfind("TLSv1.3 ", 0) == 0, "got ", result.describe);
    CHECK(output.find("Verification: OK") != std::string::npos);
    CHECK(output.find("Protocol version: TLSv1.3") != std::string::npos);
    CHECK(output.find("world") != std::string::npos);
}

}  // namespace postern::tls
