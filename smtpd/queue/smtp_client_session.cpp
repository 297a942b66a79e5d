#include "smtpd/queue/smtp_client_session.h"

#include <algorithm>

#include "common/log/log.h"
#include "common/sasl/sasl.h"

namespace postern::queue {
namespace {

bool offers(const Capabilities& caps, std::string_view mechanism) {
    return std::find(caps.auth.begin(), caps.auth.end(), mechanism) != caps.auth.end();
}

}  // namespace

smtp::Reply sanitize_reply(const smtp::Reply& reply) {
    smtp::Reply out = reply;
    const int cls = reply.code / 100;
    if (reply.code < 200 || reply.code > 559 || cls == 3) {
        out.code = cls == 5 ? 554 : 451;
        out.enhanced = cls == 5 ? "5.5.0" : "4.5.0";
        out.lines.insert(out.lines.begin(), "unexpected reply code " + std::to_string(reply.code));
        return out;
    }
    if (!out.enhanced.empty() &&
        (!smtp::is_enhanced_status(out.enhanced) || out.enhanced[0] - '0' != cls)) {
        out.enhanced.clear();
    }
    return out;
}

Result<std::unique_ptr<ClientSession>, HostFailure> ClientSession::open(
    const SessionConfig& config, const std::string& host_name, const std::string& ip,
    std::uint16_t port) {
    const std::string remote = host_name + "[" + ip + "]";
    auto conn = SmtpConnection::open(ip, port, config.timeouts.connect);
    if (!conn) {
        const bool refused = conn.error().kind == IoFailure::Refused;
        return fail(
            HostFailure{smtp::make_reply(451, "4.4.1",
                                         (refused ? "Connection refused by " : "No answer from ") +
                                             remote + ": " + conn.error().message),
                        ""});
    }
    std::unique_ptr<ClientSession> session(
        new ClientSession(config, std::move(*conn), host_name, remote));
    if (auto ok = session->greet(); !ok) return fail(ok.error());
    if (auto ok = session->hello(); !ok) return fail(ok.error());
    if (auto ok = session->start_tls(); !ok) return fail(ok.error());
    if (auto ok = session->authenticate(); !ok) return fail(ok.error());
    return session;
}

IoResult<smtp::Reply> ClientSession::command(const std::string& line) {
    if (auto ok = conn_->send(line + "\r\n", config_.timeouts.command); !ok)
        return fail(ok.error());
    return conn_->read_reply(config_.timeouts.command);
}

HostFailure ClientSession::io_failure(const IoError& error, const char* stage) const {
    const bool no_answer = error.kind == IoFailure::Timeout;
    const bool tls = error.kind == IoFailure::Tls;
    // RFC 3463 §3.5: 4.4.1 no answer, 4.4.2 bad connection. A relayhost
    // whose TLS fails (handshake or certificate) is §3.8's X.7.5,
    // "cryptographic failure"; opportunistic TLS failing is just a bad
    // connection, and the next host may do better.
    const char* enhanced = no_answer ? "4.4.1" : (tls && config_.tls_required ? "4.7.5" : "4.4.2");
    const std::string what = no_answer ? "No answer from " : "Lost connection with ";
    return HostFailure{
        smtp::make_reply(451, enhanced, what + remote_ + " " + stage + ": " + error.message),
        remote_};
}

HostFailure ClientSession::refused(const smtp::Reply& reply, const char* stage,
                                   const char* enhanced) const {
    return HostFailure{
        smtp::make_reply(451, enhanced,
                         remote_ + " refused " + stage + ": " + smtp::reply_text(reply)),
        remote_};
}

Result<void, HostFailure> ClientSession::greet() {
    auto greeting = conn_->read_reply(config_.timeouts.greeting);
    if (!greeting) return fail(io_failure(greeting.error(), "before the greeting"));
    // RFC 5321 §3.1: 554 (or 421) instead of 220 means "not here"; try the next host.
    if (greeting->code != 220) return fail(refused(*greeting, "to talk to us", "4.4.1"));
    return {};
}

Result<void, HostFailure> ClientSession::hello() {
    auto ehlo = command("EHLO " + config_.helo_name);
    if (!ehlo) return fail(io_failure(ehlo.error(), "after EHLO"));
    if (ehlo->code == 250) {
        caps_ = parse_ehlo(*ehlo);
        return {};
    }
    if (ehlo->code == 421) return fail(refused(*ehlo, "EHLO", "4.4.2"));
    // RFC 5321 §3.2: a server that does not know EHLO still knows HELO.
    auto helo = command("HELO " + config_.helo_name);
    if (!helo) return fail(io_failure(helo.error(), "after HELO"));
    if (helo->code != 250) return fail(refused(*helo, "HELO", "4.5.0"));
    caps_ = Capabilities{};
    return {};
}

Result<void, HostFailure> ClientSession::start_tls() {
    if (config_.tls == nullptr) return {};
    if (!caps_.starttls) {
        if (!config_.tls_required) return {};
        return fail(HostFailure{smtp::make_reply(451, "4.7.10",
                                                 "TLS is required, but relayhost " + remote_ +
                                                     " does not offer STARTTLS"),
                                remote_});
    }
    auto reply = command("STARTTLS");
    if (!reply) return fail(io_failure(reply.error(), "after STARTTLS"));
    if (reply->code != 220) {
        if (!config_.tls_required) return {};  // opportunistic: go on in plaintext
        return fail(refused(*reply, "STARTTLS", "4.7.10"));
    }
    auto info =
        conn_->start_tls(config_.tls, host_name_, config_.tls_required, config_.timeouts.greeting);
    if (!info) return fail(io_failure(info.error(), "in the TLS handshake"));
    log::info("smtp-client-tls")
        .kv("remote", remote_)
        .kv("version", info->version)
        .kv("cipher", info->cipher)
        .kv("verified", info->verified ? "yes" : "no")
        .kv("verify_error", info->verify_error);
    // RFC 3207 §4.2: forget what the server said before TLS; ask again.
    return hello();
}

Result<void, HostFailure> ClientSession::authenticate() {
    if (config_.user.empty()) return {};
    IoResult<smtp::Reply> reply = smtp::Reply{};
    if (offers(caps_, "PLAIN")) {
        // RFC 4616: authzid NUL authcid NUL passwd, as an initial response (RFC 4954 §4).
        std::string plain;
        plain += '\0';
        plain += config_.user;
        plain += '\0';
        plain += config_.password;
        reply = command("AUTH PLAIN " + sasl::base64_encode(plain));
    } else if (offers(caps_, "LOGIN")) {
        reply = command("AUTH LOGIN");
        if (reply && reply->code == 334) reply = command(sasl::base64_encode(config_.user));
        if (reply && reply->code == 334) reply = command(sasl::base64_encode(config_.password));
    } else {
        return fail(HostFailure{
            smtp::make_reply(451, "4.7.0", remote_ + " offers neither AUTH PLAIN nor AUTH LOGIN"),
            remote_});
    }
    if (!reply) return fail(io_failure(reply.error(), "during AUTH"));
    // A 535 is about our configuration, not the mail: keep the mail queued.
    if (reply->code != 235) return fail(refused(*reply, "AUTH", "4.7.0"));
    return {};
}

void ClientSession::quit() {
    auto reply = command("QUIT");
    (void)reply;
}

}  // namespace postern::queue
