// Test peers as child processes (dnsmasq, smtp-sink): started with a fixed
// argv, output to a log file, and always stopped by the destructor
// (SIGTERM, then SIGKILL after a bounded wait), even when a check fails.
// Shared by the dns and queue tests.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace postern::test {

class PeerProcess {
  public:
    PeerProcess(std::vector<std::string> argv, const std::filesystem::path& log_file) {
        pid_ = ::fork();
        if (pid_ != 0) return;
        const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        std::vector<char*> args;
        for (auto& a : argv)
            args.push_back(a.data());
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ~PeerProcess() { stop(); }
    PeerProcess(const PeerProcess&) = delete;
    PeerProcess& operator=(const PeerProcess&) = delete;

    bool started() const { return pid_ > 0; }

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 50; ++i) {  // 5 s
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

  private:
    pid_t pid_ = -1;
};

// A port free for both TCP and UDP on 127.0.0.1 right now (the kernel picks
// it; a race with another process is possible but unlikely).
inline std::uint16_t free_port() {
    for (int attempt = 0; attempt < 20; ++attempt) {
        const int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ::bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &len);
        const int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
        const bool udp_free = ::bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(udp);
        ::close(tcp);
        if (udp_free) return ntohs(a.sin_port);
    }
    return 0;
}

// Waits (bounded) until something accepts TCP connections on ip:port.
inline bool wait_for_tcp(const std::string& ip, std::uint16_t port,
                         std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (ok) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

// dnsmasq serving only its command-line records, authoritative for .test
// (--local: unknown names there are NXDOMAIN, not forwarded).
class Dnsmasq {
  public:
    Dnsmasq(const std::filesystem::path& dir, const std::vector<std::string>& records)
        : port_(free_port()), process_(argv(records, port_), dir / "dnsmasq.log") {
        ready_ = process_.started() && wait_for_tcp("127.0.0.1", port_);
    }
    bool ready() const { return ready_; }
    std::uint16_t port() const { return port_; }

  private:
    static std::vector<std::string> argv(const std::vector<std::string>& records,
                                         std::uint16_t port) {
        std::vector<std::string> out = {"/usr/sbin/dnsmasq",
                                        "--no-daemon",
                                        "--no-resolv",
                                        "--no-hosts",
                                        "--listen-address=127.0.0.1",
                                        "--bind-interfaces",
                                        "--local=/test/",
                                        "--user=root",
                                        "--pid-file",
                                        "--log-queries",
                                        "--port=" + std::to_string(port)};
        out.insert(out.end(), records.begin(), records.end());
        return out;
    }

    std::uint16_t port_;
    PeerProcess process_;
    bool ready_ = false;
};

}  // namespace postern::test
