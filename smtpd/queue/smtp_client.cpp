#include "smtpd/queue/smtp_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/base/ascii.h"

namespace postern::queue {
namespace {

using Clock = SmtpConnection::Clock;

// One read(2)/SSL_read at a time; replies are small, bodies go the other way.
constexpr std::size_t kReadChunkBytes = 16 * 1024;

IoError io_error(IoFailure kind, std::string message) {
    return IoError{kind, std::move(message)};
}

int remaining_ms(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() <= 0 ? 0 : static_cast<int>(std::min<std::int64_t>(left.count(), 1 << 30));
}

Result<sockaddr_storage> to_sockaddr(const std::string& ip, std::uint16_t port, socklen_t& len) {
    sockaddr_storage ss{};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof *v4;
        return ss;
    }
    if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof *v6;
        return ss;
    }
    return fail("not a numeric IP: " + ip);
}

std::string openssl_errors() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

}  // namespace

IoResult<std::unique_ptr<SmtpConnection>> SmtpConnection::open(const std::string& ip,
                                                               std::uint16_t port,
                                                               std::chrono::milliseconds timeout) {
    socklen_t len = 0;
    auto addr = to_sockaddr(ip, port, len);
    if (!addr) return fail(io_error(IoFailure::Refused, addr.error().message));
    const int fd = ::socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(io_error(IoFailure::Refused, std::string("socket: ") + strerror(errno)));
    std::unique_ptr<SmtpConnection> conn(new SmtpConnection(fd));
    const auto deadline = Clock::now() + timeout;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&*addr), len) < 0) {
        if (errno != EINPROGRESS) {
            return fail(io_error(IoFailure::Refused, std::string("connect: ") + strerror(errno)));
        }
        if (auto ok = conn->wait_for(POLLOUT, deadline, "connect"); !ok) return fail(ok.error());
        int err = 0;
        socklen_t err_len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
        if (err != 0)
            return fail(io_error(IoFailure::Refused, std::string("connect: ") + strerror(err)));
    }
    return conn;
}

SmtpConnection::~SmtpConnection() {
    if (ssl_ != nullptr) SSL_free(ssl_);  // no close_notify: we are done either way
    if (fd_ >= 0) ::close(fd_);
}

IoResult<void> SmtpConnection::wait_for(short events, Clock::time_point deadline,
                                        const char* what) {
    for (;;) {
        pollfd p{fd_, events, 0};
        const int n = ::poll(&p, 1, remaining_ms(deadline));
        if (n > 0) return {};
        if (n == 0) return fail(io_error(IoFailure::Timeout, std::string("timeout in ") + what));
        if (errno != EINTR) {
            return fail(io_error(IoFailure::Closed, std::string("poll: ") + strerror(errno)));
        }
    }
}

IoError SmtpConnection::tls_error(int ret, const char* what) {
    const int err = SSL_get_error(ssl_, ret);
    if (err == SSL_ERROR_ZERO_RETURN)
        return io_error(IoFailure::Closed, "connection closed by peer");
    if (err == SSL_ERROR_SYSCALL) {
        const std::string detail = errno != 0 ? strerror(errno) : "unexpected EOF";
        return io_error(IoFailure::Closed, std::string(what) + ": " + detail);
    }
    return io_error(IoFailure::Tls, std::string(what) + ": " + openssl_errors());
}

IoResult<std::size_t> SmtpConnection::read_some(char* buf, std::size_t size,
                                                Clock::time_point deadline) {
    for (;;) {
        if (ssl_ == nullptr) {
            const ssize_t n = ::recv(fd_, buf, size, 0);
            if (n > 0) return static_cast<std::size_t>(n);
            if (n == 0) return fail(io_error(IoFailure::Closed, "connection closed by peer"));
            if (errno == EINTR) continue;
            if (errno != EAGAIN) {
                return fail(io_error(IoFailure::Closed, std::string("recv: ") + strerror(errno)));
            }
            if (auto ok = wait_for(POLLIN, deadline, "read"); !ok) return fail(ok.error());
            continue;
        }
        ERR_clear_error();
        errno = 0;
        const int n = SSL_read(ssl_, buf, static_cast<int>(size));
        if (n > 0) return static_cast<std::size_t>(n);
        const int err = SSL_get_error(ssl_, n);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            return fail(tls_error(n, "TLS read"));
        }
        const short events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        if (auto ok = wait_for(events, deadline, "read"); !ok) return fail(ok.error());
    }
}

IoResult<std::size_t> SmtpConnection::write_some(std::string_view bytes,
                                                 Clock::time_point deadline) {
    for (;;) {
        if (ssl_ == nullptr) {
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno == EINTR) continue;
            if (errno != EAGAIN) {
                return fail(io_error(IoFailure::Closed, std::string("send: ") + strerror(errno)));
            }
            if (auto ok = wait_for(POLLOUT, deadline, "write"); !ok) return fail(ok.error());
            continue;
        }
        ERR_clear_error();
        errno = 0;
        const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
        if (n > 0) return static_cast<std::size_t>(n);
        const int err = SSL_get_error(ssl_, n);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            return fail(tls_error(n, "TLS write"));
        }
        const short events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        if (auto ok = wait_for(events, deadline, "write"); !ok) return fail(ok.error());
    }
}

IoResult<void> SmtpConnection::send(std::string_view bytes, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!bytes.empty()) {
        // SSL_write takes an int; a chunk at a time also keeps each wait short.
        auto n = write_some(bytes.substr(0, 1 << 20), deadline);
        if (!n) return fail(n.error());
        bytes.remove_prefix(*n);
    }
    return {};
}

IoResult<smtp::Reply> SmtpConnection::read_reply(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    char buf[kReadChunkBytes];
    for (;;) {
        auto next = parser_.next();
        if (next.status == smtp::ReplyParser::Status::Complete) return std::move(next.reply);
        if (next.status == smtp::ReplyParser::Status::Error) {
            return fail(io_error(IoFailure::Protocol, "bad reply: " + next.error));
        }
        auto n = read_some(buf, sizeof buf, deadline);
        if (!n) return fail(n.error());
        parser_.feed(std::string_view(buf, *n));
    }
}

IoResult<TlsInfo> SmtpConnection::start_tls(SSL_CTX* ctx, const std::string& peer_name,
                                            bool require_verified,
                                            std::chrono::milliseconds timeout) {
    if (parser_.buffered_bytes() != 0) {
        return fail(io_error(IoFailure::Protocol, "plaintext after the STARTTLS reply"));
    }
    ssl_ = SSL_new(ctx);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
        return fail(io_error(IoFailure::Tls, "SSL_new: " + openssl_errors()));
    }
    unsigned char ip[16];
    const bool is_ip = inet_pton(AF_INET, peer_name.c_str(), ip) == 1 ||
                       inet_pton(AF_INET6, peer_name.c_str(), ip) == 1;
    if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), peer_name.c_str());
    } else {
        SSL_set_tlsext_host_name(ssl_, peer_name.c_str());
        SSL_set1_host(ssl_, peer_name.c_str());
    }
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        ERR_clear_error();
        errno = 0;
        const int ret = SSL_connect(ssl_);
        if (ret == 1) break;
        const int err = SSL_get_error(ssl_, ret);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            IoError e = tls_error(ret, "TLS handshake");
            e.kind = IoFailure::Tls;
            const long verify = SSL_get_verify_result(ssl_);
            if (verify != X509_V_OK)
                e.message += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
            return fail(std::move(e));
        }
        const short events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        if (auto ok = wait_for(events, deadline, "TLS handshake"); !ok) return fail(ok.error());
    }
    TlsInfo info;
    info.version = SSL_get_version(ssl_);
    info.cipher = SSL_get_cipher_name(ssl_);
    const long verify = SSL_get_verify_result(ssl_);
    info.verified = verify == X509_V_OK && SSL_get0_peer_certificate(ssl_) != nullptr;
    if (!info.verified) info.verify_error = X509_verify_cert_error_string(verify);
    if (require_verified && !info.verified) {
        return fail(io_error(IoFailure::Tls, "certificate not verified: " + info.verify_error));
    }
    return info;
}

Capabilities parse_ehlo(const smtp::Reply& reply) {
    Capabilities caps;
    caps.esmtp = true;
    for (std::size_t i = 1; i < reply.lines.size(); ++i) {
        const std::string_view line = trim(reply.lines[i]);
        const auto space = line.find(' ');
        const std::string keyword = ascii_lowercase(line.substr(0, space));
        const std::string_view args =
            space == std::string_view::npos ? "" : trim(line.substr(space));
        if (keyword == "pipelining") caps.pipelining = true;
        if (keyword == "starttls") caps.starttls = true;
        if (keyword == "8bitmime") caps.eightbitmime = true;
        if (keyword == "smtputf8") caps.smtputf8 = true;
        if (keyword == "dsn") caps.dsn = true;
        if (keyword == "size") {
            caps.size = true;
            std::uint64_t limit = 0;
            std::from_chars(args.data(), args.data() + args.size(), limit);
            caps.max_size = limit;
        }
        if (keyword == "auth") {
            // Mechanism names are upper case by definition (RFC 4422 §3.1);
            // compare in upper case whatever the server sent.
            std::string word;
            for (const char c : std::string(args) + " ") {
                if (c != ' ') {
                    word += c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
                } else if (!word.empty()) {
                    caps.auth.push_back(std::move(word));
                    word.clear();
                }
            }
        }
    }
    return caps;
}

}  // namespace postern::queue
