#include "smtpd/lmtp_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/base/ascii.h"
#include "common/base/result.h"
#include "common/smtp/dot_stream.h"

namespace postern::smtp {
namespace {

// The reply text a client sees when mda cannot be reached. No path, no
// errno: those go to the log (STYLE.md §11).
constexpr const char* kLocalDeliveryFailed = "Local delivery temporarily unavailable";
// One read from mda; replies are short.
constexpr std::size_t kReadBytes = 4096;

// A blocking stream socket with send/receive timeouts; closes on destruction.
class Peer {
  public:
    ~Peer() {
        if (fd_ >= 0) ::close(fd_);
    }

    Status connect(const std::filesystem::path& path, std::chrono::seconds timeout) {
        sockaddr_un sun{};
        const std::string p = path.string();
        if (p.size() >= sizeof sun.sun_path) return fail("lmtp socket path too long: " + p);
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return fail(std::string("socket: ") + std::strerror(errno));
        timeval tv{static_cast<time_t>(timeout.count()), 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sun.sun_family = AF_UNIX;
        std::memcpy(sun.sun_path, p.c_str(), p.size());
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun) < 0)
            return fail("connect " + p + ": " + std::strerror(errno));
        return {};
    }

    Status send(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return fail(std::string("lmtp write: ") + std::strerror(errno));
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return {};
    }

    Result<Reply> reply() {
        for (;;) {
            auto next = parser_.next();
            if (next.status == ReplyParser::Status::Complete) return std::move(next.reply);
            if (next.status == ReplyParser::Status::Error) return fail("lmtp reply: " + next.error);
            char buf[kReadBytes];
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n == 0) return fail("lmtp: connection closed by mda");
            if (n < 0) return fail(std::string("lmtp read: ") + std::strerror(errno));
            parser_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
        }
    }

    Result<Reply> command(std::string_view line) {
        if (auto st = send(std::string(line) + "\r\n"); !st) return fail(st.error().message);
        return reply();
    }

  private:
    int fd_ = -1;
    ReplyParser parser_;
};

Reply temp_failure() {
    return make_reply(451, "4.3.0", kLocalDeliveryFailed);
}

// What the client gets for an LMTP refusal: the code and enhanced status are
// mda's, the text is too (mda writes client-safe texts), minus its own line.
Reply relay_reply(const Reply& from_mda) {
    if (from_mda.code < 400 || from_mda.code > 559) return temp_failure();
    Reply out = from_mda;
    if (out.lines.empty()) out.lines.push_back("Delivery failed");
    if (!is_enhanced_status(out.enhanced) ||
        out.enhanced[0] != static_cast<char>('0' + out.code / 100))
        out.enhanced = out.code >= 500 ? "5.0.0" : "4.0.0";
    return out;
}

Status send_body(Peer& peer, const LmtpRequest& request) {
    DotEncoder encoder;
    std::string wire;
    encoder.encode(request.prefix, wire);
    Status write_status;
    auto read_status = request.body([&](std::string_view piece) {
        encoder.encode(piece, wire);
        write_status = peer.send(wire);
        wire.clear();
        return write_status.ok();
    });
    if (!read_status) return read_status;
    if (!write_status) return write_status;
    encoder.finish(wire);
    return peer.send(wire);
}

std::string mail_command(const LmtpRequest& request, const Reply& lhlo) {
    std::string cmd = "MAIL FROM:<" + request.sender + ">";
    auto has = [&](std::string_view keyword) {
        for (const auto& line : lhlo.lines) {
            if (iequals(trim(line), keyword)) return true;
        }
        return false;
    };
    if (request.eight_bit && has("8BITMIME")) cmd += " BODY=8BITMIME";
    if (request.smtputf8 && has("SMTPUTF8")) cmd += " SMTPUTF8";
    return cmd;
}

// The exchange; fills outcome.replies for refused recipients as it goes and
// returns the indices of the accepted ones, or an error for the log.
Status exchange(Peer& peer, const LmtpRequest& request, LmtpOutcome& outcome) {
    auto greeting = peer.reply();
    if (!greeting) return fail(greeting.error().message);
    if (greeting->code != 220) return fail("lmtp greeting " + std::to_string(greeting->code));
    auto lhlo = peer.command("LHLO " + request.lhlo_host);
    if (!lhlo || lhlo->code != 250) return fail("lmtp LHLO refused");
    auto mail = peer.command(mail_command(request, *lhlo));
    if (!mail) return fail(mail.error().message);
    if (!mail->positive()) {
        for (auto& r : outcome.replies)
            r = relay_reply(*mail);
        return {};
    }
    std::vector<std::size_t> accepted;
    for (std::size_t i = 0; i < request.recipients.size(); ++i) {
        auto rcpt = peer.command("RCPT TO:<" + request.recipients[i] + ">");
        if (!rcpt) return fail(rcpt.error().message);
        if (rcpt->positive())
            accepted.push_back(i);
        else
            outcome.replies[i] = relay_reply(*rcpt);
    }
    if (accepted.empty()) return {};
    auto data = peer.command("DATA");
    if (!data) return fail(data.error().message);
    if (data->code != 354) {
        for (auto i : accepted)
            outcome.replies[i] = relay_reply(*data);
        return {};
    }
    if (auto st = send_body(peer, request); !st) return st;
    // RFC 2033 §4.2: one reply per accepted recipient, in RCPT order.
    for (auto i : accepted) {
        auto r = peer.reply();
        if (!r) return fail(r.error().message);
        outcome.replies[i] =
            r->positive() ? make_reply(250, "2.0.0", "Delivered") : relay_reply(*r);
    }
    (void)peer.command("QUIT");
    return {};
}

}  // namespace

LmtpOutcome lmtp_deliver(const LmtpRequest& request) {
    LmtpOutcome outcome;
    outcome.recipients = request.recipients;
    outcome.replies.assign(request.recipients.size(), temp_failure());
    Peer peer;
    auto st = peer.connect(request.socket, request.timeout);
    if (st) st = exchange(peer, request, outcome);
    if (!st) {
        outcome.error = st.error().message;
        // Whatever mda said before the failure, nothing is confirmed durable
        // unless every reply came: report all as temporary (no loss; a retry
        // may duplicate, RFC 5321 §6.1).
        outcome.replies.assign(request.recipients.size(), temp_failure());
    }
    return outcome;
}

Reply aggregate_replies(const std::vector<Reply>& replies) {
    const Reply* worst_perm = nullptr;
    const Reply* worst_temp = nullptr;
    for (const auto& r : replies) {
        if (r.permanent() && worst_perm == nullptr) worst_perm = &r;
        if (r.transient() && worst_temp == nullptr) worst_temp = &r;
    }
    if (worst_perm != nullptr) return *worst_perm;
    if (worst_temp != nullptr) return *worst_temp;
    return make_reply(250, "2.0.0", "Message accepted for delivery");
}

}  // namespace postern::smtp
