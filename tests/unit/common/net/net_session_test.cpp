// Sessions over real sockets on 127.0.0.1, ::1 and a unix socket, named
// after the abuse they model (STYLE.md §17).
#include <future>

#include "tests/unit/common/net/session_harness.h"

namespace postern::net::testing {
namespace {

using namespace std::chrono_literals;

TEST_CASE("session: echo over IPv4 and IPv6") {
    ListenerSpec spec = tcp_spec();
    spec.addresses = {"127.0.0.1:0", "[::1]:0"};
    loop::Loop scratch;
    ListenerSpec v6_only = tcp_spec();
    v6_only.addresses = {"[::1]:0"};
    if (!Listener::bind(scratch, v6_only).ok()) {
        MESSAGE("no IPv6 loopback here; testing IPv4 only");
        spec.addresses = {"127.0.0.1:0"};
    }
    Harness h(spec);
    std::vector<std::string> got;
    h.run([&] {
        for (const auto& a : h.listener->bound()) {
            int fd = connect_to(a);
            got.push_back(read_line(fd));
            send_all(fd, "PING " + a.to_string() + "\r\nQUIT\r\n");
            got.push_back(read_line(fd));
            got.push_back(read_line(fd));
            got.push_back(read_line(fd));
            ::close(fd);
        }
    });
    const auto& bound = h.listener->bound();
    REQUIRE(got.size() == 4 * bound.size());
    for (std::size_t i = 0; i < bound.size(); ++i) {
        CHECK(got[4 * i] == "220 hello");
        CHECK_MESSAGE(got[4 * i + 1] == "250 PING " + bound[i].to_string(),
                      "got " << got[4 * i + 1]);
        CHECK(got[4 * i + 2] == "221 bye");
        CHECK_MESSAGE(got[4 * i + 3] == "<eof>", "got " << got[4 * i + 3] << ", want <eof>");
    }
}

TEST_CASE("session: too_many_connections_per_ip gets the refusal line") {
    ConnectionLimits limits;
    limits.max_connections_per_ip = 2;
    Harness h(tcp_spec(limits));
    std::vector<std::string> got;
    h.run([&] {
        const auto& a = h.listener->bound().front();
        int c1 = connect_to(a);
        got.push_back(read_line(c1));
        int c2 = connect_to(a);
        got.push_back(read_line(c2));
        int c3 = connect_to(a);
        got.push_back(read_line(c3));
        got.push_back(read_line(c3));
        for (int fd : {c1, c2, c3})
            ::close(fd);
    });
    std::vector<std::string> want = {"220 hello", "220 hello", "421 4.7.0 Too many connections",
                                     "<eof>"};
    CHECK_MESSAGE(got == want,
                  "got " << got.size() << " lines: " << (got.size() > 2 ? got[2] : ""));
}

TEST_CASE("session: slow_client is closed by the idle timer") {
    ConnectionLimits limits;
    limits.idle_timeout = 200ms;
    Harness h(tcp_spec(limits));
    std::string logs;
    log::capture_for_test(&logs);
    std::vector<std::string> got;
    auto started = std::chrono::steady_clock::now();
    h.run([&] {
        int fd = connect_to(h.listener->bound().front());
        got.push_back(read_line(fd));
        got.push_back(read_line(fd));  // waits for the timeout
        got.push_back(read_line(fd));
        ::close(fd);
    });
    log::capture_for_test(nullptr);
    auto elapsed = std::chrono::steady_clock::now() - started;
    std::vector<std::string> want = {"220 hello", "421 timeout", "<eof>"};
    CHECK_MESSAGE(got == want,
                  "got '" << (got.size() > 1 ? got[1] : "") << "', want '421 timeout'");
    CHECK_MESSAGE(elapsed < 3s, "idle timeout took too long");
    CHECK_MESSAGE(logs.find("disconnect reason=idle-timeout") != std::string::npos,
                  "log: " << logs);
}

TEST_CASE("session: many_bad_commands and long_line") {
    ConnectionLimits limits;
    limits.max_line_bytes = 64;
    limits.max_bad_commands = 2;
    Harness h(tcp_spec(limits));
    std::vector<std::string> got;
    h.run([&] {
        int fd = connect_to(h.listener->bound().front());
        got.push_back(read_line(fd));
        std::string long_line(1000, 'L');
        send_all(fd, long_line + "\r\nOK\r\n");
        got.push_back(read_line(fd));
        got.push_back(read_line(fd));
        send_all(fd, long_line + "\r\n" + long_line + "\r\nNEVER\r\n");
        for (int i = 0; i < 4; ++i)
            got.push_back(read_line(fd));
        ::close(fd);
    });
    std::vector<std::string> want = {"220 hello",    "500 too long", "250 OK",
                                     "500 too long", "500 too long", "421 too many errors",
                                     "<eof>"};
    CHECK_MESSAGE(got == want, "got " << got.size() << " lines");
    for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
        CHECK_MESSAGE(got[i] == want[i],
                      "line " << i << ": got " << got[i] << ", want " << want[i]);
    }
}

TEST_CASE("session: backpressure holds a non-reading client's queue at the watermark") {
    ConnectionLimits limits;
    Harness h(tcp_spec(limits));
    std::size_t received = 0;
    std::string first;
    h.run([&] {
        int fd = connect_to(h.listener->bound().front());
        first = read_line(fd);
        send_all(fd, "FLOOD\r\n");
        std::this_thread::sleep_for(1s);  // read nothing while the server writes
        std::vector<char> buf(1 << 16);
        while (received < kFloodBytes) {
            ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
            if (n <= 0) break;
            received += static_cast<std::size_t>(n);
        }
        ::close(fd);
    });
    CHECK(first == "220 hello");
    CHECK_MESSAGE(received == kFloodBytes, "got " << received << " bytes, want " << kFloodBytes);
    CHECK_MESSAGE(h.probe.was_backpressured, "the writer never saw writable() == false");
    std::size_t bound = limits.write_high_watermark_bytes + kFloodChunk;
    CHECK_MESSAGE(h.probe.max_queued <= bound,
                  "got max queued " << h.probe.max_queued << ", want <= " << bound);
}

TEST_CASE("session: work result is delivered by id, and dropped when the client left") {
    Harness h(tcp_spec());
    std::vector<std::string> got;
    auto dropped_before = loop::dropped_work_results();
    h.run([&] {
        int fd = connect_to(h.listener->bound().front());
        got.push_back(read_line(fd));
        // Pipelined: PING must wait for WORK's reply (replies in order).
        send_all(fd, "WORK\r\nPING\r\n");
        got.push_back(read_line(fd));
        got.push_back(read_line(fd));
        ::close(fd);

        int gone = connect_to(h.listener->bound().front());
        got.push_back(read_line(gone));
        send_all(gone, "WORK-SLOW\r\n");
        ::close(gone);
        for (int i = 0; i < 500 && loop::dropped_work_results() == dropped_before; ++i) {
            std::this_thread::sleep_for(10ms);
        }
    });
    std::vector<std::string> want = {"220 hello", "250 work 42", "250 PING", "220 hello"};
    CHECK(got == want);
    CHECK_MESSAGE(h.probe.work_resumed.load() == 1,
                  "got " << h.probe.work_resumed.load() << " resumes, want 1");
    CHECK_MESSAGE(loop::dropped_work_results() == dropped_before + 1,
                  "the late result was not dropped");
}

TEST_CASE("session: unix socket listener replaces a stale socket, mode 0660") {
    test::TempDir dir;
    std::string path = (dir.path() / "lmtp.sock").string();
    {
        // A stale socket file, as a crashed previous run leaves it.
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::memcpy(sun.sun_path, path.c_str(), path.size());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0);
        ::close(fd);
    }
    ListenerSpec spec = tcp_spec();
    spec.addresses = {"unix:" + path};
    Harness h(spec);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK_MESSAGE((st.st_mode & 0777) == 0660, "got mode " << std::oct << (st.st_mode & 0777));
    std::vector<std::string> got;
    h.run([&] {
        int fd = connect_unix(path);
        got.push_back(read_line(fd));
        send_all(fd, "LHLO x\r\n");
        got.push_back(read_line(fd));
        ::close(fd);
    });
    std::vector<std::string> want = {"220 hello", "250 LHLO x"};
    CHECK(got == want);
}

// SIGTERM's drain: no new connections, running sessions go on.
TEST_CASE("listener: stop_accepting keeps running sessions") {
    Harness h(tcp_spec());
    std::vector<std::string> got;
    int late = 0;
    h.run([&] {
        const Address a = h.listener->bound().front();
        int fd = connect_to(a);
        got.push_back(read_line(fd));
        std::promise<void> stopped;
        h.loop.post([&] {
            h.listener->stop_accepting();
            stopped.set_value();
        });
        stopped.get_future().wait();
        std::this_thread::sleep_for(50ms);  // the close callback releases the port
        late = connect_to(a);
        if (late >= 0) ::close(late);
        send_all(fd, "PING\r\n");
        got.push_back(read_line(fd));
        ::close(fd);
    });
    CHECK_MESSAGE(late == -1, "a connection was accepted after stop_accepting()");
    std::vector<std::string> want = {"220 hello", "250 PING"};
    CHECK(got == want);
}

TEST_CASE("listener: a regular file in the unix socket's place is not removed") {
    test::TempDir dir;
    std::string path = (dir.path() / "not-a-socket").string();
    FILE* f = std::fopen(path.c_str(), "w");
    std::fclose(f);
    loop::Loop loop;
    ListenerSpec spec = tcp_spec();
    spec.addresses = {"unix:" + path};
    CHECK_FALSE(Listener::bind(loop, spec).ok());
    struct stat st {};
    CHECK(::stat(path.c_str(), &st) == 0);
}

}  // namespace
}  // namespace postern::net::testing
