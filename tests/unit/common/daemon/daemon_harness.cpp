#include "tests/unit/common/daemon/daemon_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/log/log.h"
#include "common/net/session.h"

namespace postern::daemon::testing {
namespace {

class EchoSession final : public net::Session {
  public:
    explicit EchoSession(net::SessionInit init) : Session(std::move(init)) {}

  protected:
    void on_start() override { write_line("220 hello"); }
    void on_input() override {
        while (!closing()) {
            auto ev = reader().next();
            if (std::holds_alternative<net::NeedMore>(ev)) return;
            const auto* line = std::get_if<net::Line>(&ev);
            if (line == nullptr) continue;  // the tests send no long lines
            if (line->text == "QUIT") {
                close_with_reply("221 bye", "quit");
                return;
            }
            write_line("250 " + std::string(line->text));
        }
    }
};

class EchoService final : public Service {
  public:
    Status start(Runtime&) override { return {}; }
    net::SessionFactory session_factory(Runtime&, const ListenerPlan&) override {
        return [](net::SessionInit init) { return std::make_unique<EchoSession>(std::move(init)); };
    }
    void reload(Runtime&) override { log::info("echo-reloaded"); }
};

ListenerPlan plan(const config::Config& c, std::string name, std::vector<std::string> addresses) {
    ListenerPlan p;
    p.name = std::move(name);
    p.addresses = std::move(addresses);
    p.limits =
        limits_from(c, c.smtp.max_line_bytes, c.smtp.idle_timeout_seconds, c.smtp.max_bad_commands);
    p.refusal_line = "421 busy\r\n";
    p.shutdown_line = "421 shutting down";
    return p;
}

timeval kClientTimeout{5, 0};

int with_timeouts(int fd) {
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &kClientTimeout, sizeof kClientTimeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &kClientTimeout, sizeof kClientTimeout);
    return fd;
}

}  // namespace

ServiceSpec echo_spec(const EchoOptions& options) {
    ServiceSpec spec;
    spec.name = "echod";
    spec.needs_tls = options.tls;
    spec.drain_grace = options.drain_grace;
    spec.listeners = [options](const config::Config& c) {
        std::vector<ListenerPlan> plans{plan(c, "echo", addresses_of(c.listen.smtp))};
        if (options.tls) {
            plans.push_back(plan(c, "echos", addresses_of(c.listen.submissions)));
            plans.back().implicit_tls = true;
        }
        if (options.lmtp) plans.push_back(plan(c, "lmtp", {"unix:" + c.listen.lmtp.string()}));
        return plans;
    };
    spec.make_service = [] { return std::make_unique<EchoService>(); };
    return spec;
}

std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
    ::close(fd);
    return ntohs(sin.sin_port);
}

std::filesystem::path write_config(const std::filesystem::path& dir,
                                   const nlohmann::json& overrides) {
    auto text = config::render_config(overrides);
    if (!text) throw std::runtime_error("render_config: " + text.error().message);
    auto file = dir / "postern.json";
    std::ofstream(file) << *text;
    return file;
}

Child spawn(const ServiceSpec& spec, const std::filesystem::path& config,
            const std::filesystem::path& stderr_file) {
    pid_t pid = ::fork();
    if (pid == 0) {
        ::alarm(kChildAlarmSeconds);
        int fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) ::_exit(120);
        ::dup2(fd, STDERR_FILENO);
        std::string path = config.string();
        char name[] = "echod";
        char flag[] = "-c";
        char* argv[] = {name, flag, path.data(), nullptr};
        // exit(), not _exit(): under -Db_sanitize LeakSanitizer then checks
        // the daemon's teardown, and a leak changes the exit code.
        std::exit(run(3, argv, spec));
    }
    return Child{pid, stderr_file};
}

int wait_exit(const Child& child, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        pid_t r = ::waitpid(child.pid, &status, WNOHANG);
        if (r == child.pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        std::this_thread::sleep_for(20ms);
    }
    ::kill(child.pid, SIGKILL);
    ::waitpid(child.pid, &status, 0);
    return -1;
}

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int connect_tcp(std::uint16_t port) {
    int fd = with_timeouts(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) < 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

int connect_unix(const std::string& path) {
    int fd = with_timeouts(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.c_str(), std::min(path.size(), sizeof sun.sun_path - 1));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) < 0) {
        ::close(fd);
        return -1;
    }
    return fd;
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

void send_line(int fd, const std::string& line) {
    std::string data = line + "\r\n";
    [[maybe_unused]] auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
}

int connect_when_ready(std::uint16_t port) {
    auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
    while (std::chrono::steady_clock::now() < deadline) {
        // Before serve() the kernel already accepts; the greeting proves serving.
        int fd = connect_tcp(port);
        if (fd >= 0) {
            if (read_line(fd) == "220 hello") return fd;
            ::close(fd);
        }
        std::this_thread::sleep_for(20ms);
    }
    return -1;
}

std::string tls_peer_cn(std::uint16_t port) {
    int fd = connect_tcp(port);
    if (fd < 0) return "<error: connect>";
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    std::string cn = "<error: handshake>";
    if (SSL_connect(ssl) == 1) {
        X509* cert = SSL_get1_peer_certificate(ssl);
        char buf[256] = {};
        if (cert != nullptr && X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
                                                         NID_commonName, buf, sizeof buf) > 0)
            cn = buf;
        else
            cn = "<error: no cn>";
        X509_free(cert);
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(fd);
    return cn;
}

}  // namespace postern::daemon::testing
