// A scripted SMTP server for the client tests where smtp-sink cannot play
// the part: per-recipient rejects, STARTTLS, AUTH, no SMTPUTF8, and a
// transcript of what the client sent. One thread, one connection at a time,
// every read bounded (SO_RCVTIMEO), stopped and joined by the destructor.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/sasl/sasl.h"

namespace postern::test {

struct FakeServerScript {
    std::string greeting = "220 fake.test ESMTP";
    bool smtputf8 = true;
    bool pipelining = true;
    SSL_CTX* tls = nullptr;  // offer STARTTLS with this server context
    bool break_tls = false;  // answer 220 to STARTTLS, then hang up mid-handshake
    bool auth = false;       // offer AUTH PLAIN LOGIN; accept user/password below
    std::string user = "relay-user";
    std::string password = "relay-secret";
    std::set<std::string> reject_rcpt;  // "<addr>" -> 550 5.1.1
};

struct FakeServerRecord {
    int connections = 0;
    std::vector<std::string> commands;  // every command line, in order
    std::vector<std::string> messages;  // DATA as received (still dot-stuffed), CRLF lines
    bool tls_used = false;
    bool mail_pipelined = false;  // RCPT lines had arrived with MAIL
    bool authenticated = false;
};

class FakeSmtpServer {
  public:
    FakeSmtpServer(const std::string& ip, std::uint16_t port, FakeServerScript script)
        : script_(std::move(script)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
        ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 8) == 0;
        if (ok_) thread_ = std::thread([this] { run(); });
    }
    ~FakeSmtpServer() { stop(); }
    FakeSmtpServer(const FakeSmtpServer&) = delete;
    FakeSmtpServer& operator=(const FakeSmtpServer&) = delete;

    bool ok() const { return ok_; }
    // Stops and joins; then record() is stable.
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    const FakeServerRecord& record() const { return record_; }

  private:
    struct Io {
        int fd = -1;
        SSL* ssl = nullptr;
        std::string buf;
        bool fill() {
            char tmp[4096];
            const int n = ssl ? SSL_read(ssl, tmp, sizeof tmp)
                              : static_cast<int>(::recv(fd, tmp, sizeof tmp, 0));
            if (n <= 0) return false;
            buf.append(tmp, static_cast<std::size_t>(n));
            return true;
        }
        bool line(std::string& out) {
            std::size_t end;
            while ((end = buf.find("\r\n")) == std::string::npos) {
                if (!fill()) return false;
            }
            out = buf.substr(0, end);
            buf.erase(0, end + 2);
            return true;
        }
        void send(const std::string& s) {
            if (ssl) {
                SSL_write(ssl, s.data(), static_cast<int>(s.size()));
            } else {
                ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
            }
        }
    };

    void run() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            timeval tv{5, 0};
            ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            ++record_.connections;
            Io io{c, nullptr, {}};
            serve(io);
            if (io.ssl) SSL_free(io.ssl);
            ::close(c);
        }
    }

    std::string ehlo_reply(bool tls_on) const {
        std::string r = "250-fake.test\r\n250-8BITMIME\r\n250-DSN\r\n250-SIZE 1000000\r\n";
        if (script_.pipelining) r += "250-PIPELINING\r\n";
        if (script_.smtputf8) r += "250-SMTPUTF8\r\n";
        if (script_.tls && !tls_on) r += "250-STARTTLS\r\n";
        if (script_.auth) r += "250-AUTH PLAIN LOGIN\r\n";
        return r + "250 ENHANCEDSTATUSCODES\r\n";
    }

    bool read_data(Io& io) {
        std::string message, line;
        while (io.line(line)) {
            if (line == ".") {
                record_.messages.push_back(message);
                return true;
            }
            message += line + "\r\n";
        }
        return false;
    }

    void serve(Io& io) {
        io.send(script_.greeting + "\r\n");
        if (script_.greeting.rfind("220", 0) != 0) return;
        std::string line;
        while (io.line(line)) {
            record_.commands.push_back(line);
            const std::string verb = line.substr(0, 4);
            if (verb == "EHLO") {
                io.send(ehlo_reply(io.ssl != nullptr));
            } else if (verb == "STAR" && script_.tls && !io.ssl) {
                io.send("220 2.0.0 go ahead\r\n");
                if (script_.break_tls) return;
                io.ssl = SSL_new(script_.tls);
                SSL_set_fd(io.ssl, io.fd);
                if (SSL_accept(io.ssl) != 1) return;
                record_.tls_used = true;
            } else if (verb == "AUTH") {
                auth(io, line);
            } else if (verb == "MAIL") {
                record_.mail_pipelined = io.buf.find("RCPT TO:") != std::string::npos;
                io.send("250 2.1.0 ok\r\n");
            } else if (verb == "RCPT") {
                const auto lt = line.find('<'), gt = line.find('>');
                const std::string addr = line.substr(lt, gt - lt + 1);
                io.send(script_.reject_rcpt.count(addr) ? "550 5.1.1 no such user\r\n"
                                                        : "250 2.1.5 ok\r\n");
            } else if (verb == "DATA") {
                io.send("354 go\r\n");
                if (!read_data(io)) return;
                io.send("250 2.0.0 queued as FAKE\r\n");
            } else if (verb == "RSET") {
                io.send("250 2.0.0 ok\r\n");
            } else if (verb == "QUIT") {
                io.send("221 2.0.0 bye\r\n");
                return;
            } else {
                io.send("502 5.5.1 unknown\r\n");
            }
        }
    }

    void auth(Io& io, const std::string& line) {
        std::string plain;
        plain += '\0';
        plain += script_.user;
        plain += '\0';
        plain += script_.password;
        bool good = false;
        if (line == "AUTH PLAIN " + sasl::base64_encode(plain)) {
            good = true;
        } else if (line == "AUTH LOGIN") {
            std::string user, password;
            io.send("334 VXNlcm5hbWU6\r\n");
            if (!io.line(user)) return;
            io.send("334 UGFzc3dvcmQ6\r\n");
            if (!io.line(password)) return;
            good = user == sasl::base64_encode(script_.user) &&
                   password == sasl::base64_encode(script_.password);
        }
        record_.authenticated = good;
        io.send(good ? "235 2.7.0 ok\r\n" : "535 5.7.8 bad credentials\r\n");
    }

    FakeServerScript script_;
    FakeServerRecord record_;
    int fd_ = -1;
    bool ok_ = false;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace postern::test
