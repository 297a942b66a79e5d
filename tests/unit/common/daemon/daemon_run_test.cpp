// daemon::run() end to end: each test forks a child that runs the skeleton
// with an echo service on a free loopback port, then drives it from the
// parent with real sockets and signals.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "common/base/sysexits.h"
#include "common/tls/self_signed.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/common/daemon/daemon_harness.h"

namespace postern::daemon::testing {
namespace {

using nlohmann::json;

json listen_on(std::uint16_t port) {
    return {{"listen", {{"smtp", {"127.0.0.1:" + std::to_string(port)}}}}};
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// Polls until connecting to `port` is refused (the listener closed).
bool refused_within(std::uint16_t port, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = connect_tcp(port);
        if (fd < 0) return true;
        ::close(fd);
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

TEST_CASE("run: serves, keeps sessions during the drain, exits 0 when they end") {
    test::TempDir dir;
    auto port = free_port();
    auto child = spawn(echo_spec({.drain_grace = 20s}), write_config(dir.path(), listen_on(port)),
                       dir.path() / "stderr");
    int fd = connect_when_ready(port);
    REQUIRE_MESSAGE(fd >= 0, "no greeting; stderr:\n", read_file(child.stderr_file));
    send_line(fd, "PING");
    CHECK(read_line(fd) == "250 PING");

    REQUIRE(::kill(child.pid, SIGTERM) == 0);
    CHECK_MESSAGE(refused_within(port, 5s), "the port still accepts after SIGTERM");
    send_line(fd, "STILL");
    CHECK(read_line(fd) == "250 STILL");  // a running session is not cut
    send_line(fd, "QUIT");
    CHECK(read_line(fd) == "221 bye");
    ::close(fd);

    // Well inside the 20 s grace: the last session ending ends the daemon.
    auto started = std::chrono::steady_clock::now();
    int code = wait_exit(child, 5s);
    std::string err = read_file(child.stderr_file);
    CHECK_MESSAGE(code == 0, "exit got ", code, ", want 0; stderr:\n", err);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK_MESSAGE(contains(err, "started listeners=echo=127.0.0.1:" + std::to_string(port)), err);
    CHECK_MESSAGE(contains(err, " draining "), err);
    CHECK_MESSAGE(contains(err, " stopped"), err);
}

TEST_CASE("run: after the grace period sessions get the shutdown line") {
    test::TempDir dir;
    auto port = free_port();
    auto child = spawn(echo_spec({.drain_grace = 1s}), write_config(dir.path(), listen_on(port)),
                       dir.path() / "stderr");
    int fd = connect_when_ready(port);
    REQUIRE_MESSAGE(fd >= 0, "no greeting; stderr:\n", read_file(child.stderr_file));
    REQUIRE(::kill(child.pid, SIGTERM) == 0);
    std::string line = read_line(fd);
    CHECK_MESSAGE(line == "421 shutting down", "got ", line, ", want 421 shutting down");
    line = read_line(fd);
    CHECK_MESSAGE(line == "<eof>", "got ", line, ", want <eof>");
    ::close(fd);
    int code = wait_exit(child);
    CHECK_MESSAGE(code == 0, "exit got ", code, ", want 0; stderr:\n",
                  read_file(child.stderr_file));
}

TEST_CASE("run: a second SIGTERM cuts the grace short") {
    test::TempDir dir;
    auto port = free_port();
    auto child = spawn(echo_spec({.drain_grace = 20s}), write_config(dir.path(), listen_on(port)),
                       dir.path() / "stderr");
    int fd = connect_when_ready(port);
    REQUIRE_MESSAGE(fd >= 0, "no greeting; stderr:\n", read_file(child.stderr_file));
    REQUIRE(::kill(child.pid, SIGTERM) == 0);
    CHECK_MESSAGE(refused_within(port, 5s), "the port still accepts after SIGTERM");
    REQUIRE(::kill(child.pid, SIGTERM) == 0);
    std::string line = read_line(fd);
    CHECK_MESSAGE(line == "421 shutting down", "got ", line, ", want 421 shutting down");
    ::close(fd);
    int code = wait_exit(child, 5s);
    CHECK_MESSAGE(code == 0, "exit got ", code, ", want 0; stderr:\n",
                  read_file(child.stderr_file));
}

TEST_CASE("run: SIGINT with no sessions exits 0 at once") {
    test::TempDir dir;
    auto port = free_port();
    auto child =
        spawn(echo_spec({}), write_config(dir.path(), listen_on(port)), dir.path() / "stderr");
    int fd = connect_when_ready(port);
    REQUIRE_MESSAGE(fd >= 0, "no greeting; stderr:\n", read_file(child.stderr_file));
    send_line(fd, "QUIT");
    CHECK(read_line(fd) == "221 bye");
    ::close(fd);
    REQUIRE(::kill(child.pid, SIGINT) == 0);
    int code = wait_exit(child, 3s);
    CHECK_MESSAGE(code == 0, "exit got ", code, ", want 0; stderr:\n",
                  read_file(child.stderr_file));
}

TEST_CASE("run: an unknown config key exits 78 and names the key") {
    test::TempDir dir;
    auto file = dir.path() / "postern.json";
    std::ofstream(file) << R"({"listen": {"smtp": ["127.0.0.1:1"]}, "no_such_key": 1})";
    auto child = spawn(echo_spec({}), file, dir.path() / "stderr");
    int code = wait_exit(child);
    std::string err = read_file(child.stderr_file);
    CHECK_MESSAGE(code == kExConfig, "exit got ", code, ", want 78; stderr:\n", err);
    CHECK_MESSAGE(contains(err, "no_such_key"), "stderr does not name the key:\n", err);
}

TEST_CASE("run: a missing config file exits 78 and names the file") {
    test::TempDir dir;
    auto child = spawn(echo_spec({}), dir.path() / "absent.json", dir.path() / "stderr");
    int code = wait_exit(child);
    std::string err = read_file(child.stderr_file);
    CHECK_MESSAGE(code == kExConfig, "exit got ", code, ", want 78; stderr:\n", err);
    CHECK_MESSAGE(contains(err, "absent.json"), err);
}

TEST_CASE("run: an occupied port exits 71 and names the address") {
    test::TempDir dir;
    auto port = free_port();
    // Occupy the port with a listening socket of our own.
    int holder = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(port);
    REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
    REQUIRE(::listen(holder, 1) == 0);
    auto child =
        spawn(echo_spec({}), write_config(dir.path(), listen_on(port)), dir.path() / "stderr");
    int code = wait_exit(child);
    ::close(holder);
    std::string err = read_file(child.stderr_file);
    CHECK_MESSAGE(code == kExOsErr, "exit got ", code, ", want 71; stderr:\n", err);
    CHECK_MESSAGE(contains(err, "127.0.0.1:" + std::to_string(port)), "stderr lacks the address:\n",
                  err);
}

TEST_CASE("run: an unreadable TLS key exits 78 and names the file") {
    test::TempDir dir;
    auto port = free_port();
    json cfg = listen_on(port);
    cfg["listen"]["submissions"] = {"127.0.0.1:" + std::to_string(free_port())};
    cfg["tls"] = {{"cert_file", (dir.path() / "missing.crt").string()},
                  {"key_file", (dir.path() / "missing.key").string()}};
    auto child =
        spawn(echo_spec({.tls = true}), write_config(dir.path(), cfg), dir.path() / "stderr");
    int code = wait_exit(child);
    std::string err = read_file(child.stderr_file);
    CHECK_MESSAGE(code == kExConfig, "exit got ", code, ", want 78; stderr:\n", err);
    CHECK_MESSAGE(contains(err, "missing.crt"), err);
}

TEST_CASE("run: SIGHUP reloads the certificate; a broken one keeps the old") {
    test::TempDir dir;
    auto cert = (dir.path() / "cert.pem").string();
    auto key = (dir.path() / "key.pem").string();
    REQUIRE(tls::write_self_signed({.host = "one.test"}, cert, key).ok());
    auto port = free_port();
    auto tls_port = free_port();
    json cfg = listen_on(port);
    cfg["listen"]["submissions"] = {"127.0.0.1:" + std::to_string(tls_port)};
    cfg["tls"] = {{"cert_file", cert}, {"key_file", key}};
    auto child =
        spawn(echo_spec({.tls = true}), write_config(dir.path(), cfg), dir.path() / "stderr");
    int fd = connect_when_ready(port);
    REQUIRE_MESSAGE(fd >= 0, "no greeting; stderr:\n", read_file(child.stderr_file));
    ::close(fd);
    CHECK(tls_peer_cn(tls_port) == "one.test");

    REQUIRE(tls::write_self_signed({.host = "two.test"}, cert, key).ok());
    REQUIRE(::kill(child.pid, SIGHUP) == 0);
    std::string cn;
    for (int i = 0; i < 100 && cn != "two.test"; ++i) {
        std::this_thread::sleep_for(50ms);
        cn = tls_peer_cn(tls_port);
    }
    CHECK_MESSAGE(cn == "two.test", "got ", cn, ", want two.test");

    std::ofstream(cert, std::ios::trunc) << "not a certificate\n";
    REQUIRE(::kill(child.pid, SIGHUP) == 0);
    std::string err;
    for (int i = 0; i < 100 && !contains(err, "tls-reload-failed"); ++i) {
        std::this_thread::sleep_for(50ms);
        err = read_file(child.stderr_file);
    }
    CHECK_MESSAGE(contains(err, "tls-reload-failed"), err);
    CHECK(tls_peer_cn(tls_port) == "two.test");
    CHECK_MESSAGE(contains(err, "echo-reloaded"), "Service::reload was not called:\n", err);

    REQUIRE(::kill(child.pid, SIGTERM) == 0);
    int code = wait_exit(child);
    CHECK_MESSAGE(code == 0, "exit got ", code, ", want 0; stderr:\n",
                  read_file(child.stderr_file));
}

TEST_CASE("run: as root with user=nobody, the LMTP socket is nobody's and still accepts") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: needs root");
        return;
    }
    test::TempDir dir;
    // nobody must be able to reach nothing in dir: everything is opened before the drop.
    auto port = free_port();
    auto sock = (dir.path() / "lmtp.sock").string();
    json cfg = listen_on(port);
    cfg["listen"]["lmtp"] = sock;
    cfg["user"] = "nobody";
    auto child =
        spawn(echo_spec({.lmtp = true}), write_config(dir.path(), cfg), dir.path() / "stderr");
    int fd = connect_when_ready(port);
    REQUIRE_MESSAGE(fd >= 0, "no greeting; stderr:\n", read_file(child.stderr_file));
    ::close(fd);
    struct stat st {};
    REQUIRE(::stat(sock.c_str(), &st) == 0);
    CHECK_MESSAGE(st.st_uid != 0, "socket owner got uid ", st.st_uid, ", want nobody's");
    int ufd = connect_unix(sock);
    REQUIRE(ufd >= 0);
    CHECK(read_line(ufd) == "220 hello");
    send_line(ufd, "QUIT");
    CHECK(read_line(ufd) == "221 bye");
    ::close(ufd);
    REQUIRE(::kill(child.pid, SIGTERM) == 0);
    int code = wait_exit(child);
    std::string err = read_file(child.stderr_file);
    CHECK_MESSAGE(code == 0, "exit got ", code, ", want 0; stderr:\n", err);
    CHECK_MESSAGE(contains(err, "user=nobody"), err);
}

}  // namespace
}  // namespace postern::daemon::testing
