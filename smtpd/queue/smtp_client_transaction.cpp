#include "smtpd/queue/smtp_client_transaction.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/log/log.h"
#include "common/smtp/dot_stream.h"
#include "common/smtp/smtp_params.h"
#include "smtpd/queue/spool_reader.h"
#include "storage/queue_envelope.h"

namespace postern::queue {
namespace {

std::string notify_param(unsigned notify) {
    if (notify & store::kNotifyNever) return "NEVER";
    std::string out;
    const std::pair<unsigned, const char*> names[] = {{store::kNotifySuccess, "SUCCESS"},
                                                      {store::kNotifyFailure, "FAILURE"},
                                                      {store::kNotifyDelay, "DELAY"}};
    for (const auto& [bit, name] : names) {
        if (!(notify & bit)) continue;
        if (!out.empty()) out += ',';
        out += name;
    }
    return out;
}

std::string mail_command(const Capabilities& caps, const OutboundMessage& m) {
    std::string line = "MAIL FROM:<" + m.sender + ">";
    if (caps.size) line += " SIZE=" + std::to_string(m.size);
    if (m.eight_bit && caps.eightbitmime) line += " BODY=8BITMIME";
    if (m.smtputf8) line += " SMTPUTF8";  // only reached when offered
    if (caps.dsn) {
        // RET=HDRS when FULL was not asked for: the conservative choice.
        line += m.ret_full ? " RET=FULL" : " RET=HDRS";
        if (!m.envid.empty()) line += " ENVID=" + smtp::xtext_encode(m.envid);
    }
    return line;
}

std::string rcpt_command(const Capabilities& caps, const OutboundRecipient& r) {
    std::string line = "RCPT TO:<" + r.address + ">";
    if (!caps.dsn) return line;
    if (r.notify != 0) line += " NOTIFY=" + notify_param(r.notify);
    // Stored as "type;address" with the address xtext-decoded (RFC 3461 §4.2).
    if (const auto semi = r.orcpt.find(';'); semi != std::string::npos) {
        line += " ORCPT=" + r.orcpt.substr(0, semi) + ";" +
                smtp::xtext_encode(std::string_view(r.orcpt).substr(semi + 1));
    }
    return line;
}

void fill_undetermined(MessageOutcome& outcome, const smtp::Reply& reply) {
    for (auto& r : outcome.recipients) {
        if (r.reply.code == 0) r.reply = reply;
    }
}

// Sends every command and reads every reply, in one write when pipelining.
IoResult<std::vector<smtp::Reply>> envelope_exchange(ClientSession& session,
                                                     const std::vector<std::string>& commands) {
    auto& conn = session.connection();
    const auto timeout = session.timeouts().command;
    std::vector<smtp::Reply> replies;
    if (session.capabilities().pipelining) {
        std::string batch;
        for (const auto& c : commands)
            batch += c + "\r\n";
        if (auto ok = conn.send(batch, timeout); !ok) return fail(ok.error());
        for (std::size_t i = 0; i < commands.size(); ++i) {
            auto reply = conn.read_reply(timeout);
            if (!reply) return fail(reply.error());
            replies.push_back(std::move(*reply));
        }
        return replies;
    }
    for (const auto& c : commands) {
        if (auto ok = conn.send(c + "\r\n", timeout); !ok) return fail(ok.error());
        auto reply = conn.read_reply(timeout);
        if (!reply) return fail(reply.error());
        replies.push_back(std::move(*reply));
        // Without pipelining, a refused MAIL ends the transaction here.
        if (replies.size() == 1 && replies[0].code / 100 != 2) break;
    }
    return replies;
}

// The spool file, opened before MAIL so that a missing file costs no
// transaction; closed when the message is done.
class BodyFile {
  public:
    explicit BodyFile(const std::filesystem::path& path)
        : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), open_errno_(errno) {}
    ~BodyFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    BodyFile(const BodyFile&) = delete;
    BodyFile& operator=(const BodyFile&) = delete;

    bool is_open() const { return fd_ >= 0; }
    std::string open_error() const {
        return "open " + path_.string() + ": " + strerror(open_errno_);
    }
    int fd() const { return fd_; }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
    int fd_;
    int open_errno_;
};

// Streams the spool file through the dot encoder. An IoError of kind
// Protocol marks a local read failure (the connection is then unusable:
// DATA cannot be taken back).
IoResult<void> send_body(ClientSession& session, const BodyFile& body) {
    smtp::DotEncoder encoder;
    std::string wire;
    std::optional<IoError> lost;  // the connection's failure, as opposed to the file's
    auto send_wire = [&] {
        auto ok = session.connection().send(wire, session.timeouts().data_block);
        if (!ok) lost = ok.error();
        return ok.ok();
    };
    auto read = read_chunks(body.fd(), body.path(), [&](std::string_view piece) {
        wire.clear();
        encoder.encode(piece, wire);
        return send_wire();
    });
    if (lost) return fail(*lost);
    if (!read) return fail(IoError{IoFailure::Protocol, read.error().message});
    wire.clear();
    encoder.finish(wire);
    if (!send_wire()) return fail(*lost);
    return {};
}

// DATA, the body, and the reply to the final dot (RFC 5321 §4.5.3.2.4-6
// timeouts), for the recipients whose RCPT was accepted.
bool send_data(ClientSession& session, const OutboundMessage& message, const BodyFile& body,
               MessageOutcome& outcome) {
    auto& conn = session.connection();
    const std::string& remote = session.remote();
    auto sent = conn.send("DATA\r\n", session.timeouts().command);
    IoResult<smtp::Reply> go = sent ? conn.read_reply(session.timeouts().data_init)
                                    : IoResult<smtp::Reply>(fail(sent.error()));
    if (!go) {
        fill_undetermined(outcome, lost_connection_reply(remote, "after DATA", go.error()));
        return false;
    }
    if (go->code != 354) {
        fill_undetermined(outcome, sanitize_reply(*go));
        return go->code != 421;
    }
    if (auto ok = send_body(session, body); !ok) {
        if (ok.error().kind == IoFailure::Protocol) {
            log::error("smtp-client-spool-read")
                .kv("id", message.id)
                .kv("error", ok.error().message);
            fill_undetermined(
                outcome, smtp::make_reply(451, "4.3.0", "Local error reading the queued message"));
        } else {
            fill_undetermined(
                outcome, lost_connection_reply(remote, "while sending the message", ok.error()));
        }
        return false;  // DATA cannot be cancelled: drop the connection
    }
    auto done = conn.read_reply(session.timeouts().data_done);
    if (!done) {
        // RFC 1047: the message may have been taken; a retry may duplicate it.
        fill_undetermined(outcome,
                          lost_connection_reply(remote, "after end of data", done.error()));
        return false;
    }
    fill_undetermined(outcome, sanitize_reply(*done));
    return done->code != 421;
}

}  // namespace

smtp::Reply lost_connection_reply(const std::string& remote, const char* stage,
                                  const IoError& error) {
    if (error.kind == IoFailure::Timeout) {
        return smtp::make_reply(451, "4.4.1",
                                "No answer from " + remote + " " + stage + ": " + error.message);
    }
    return smtp::make_reply(451, "4.4.2",
                            "Lost connection with " + remote + " " + stage + ": " + error.message);
}

namespace {

// What stops a message before MAIL on this server; nullopt: go ahead.
std::optional<smtp::Reply> refuse_before_mail(const Capabilities& caps,
                                              const OutboundMessage& message,
                                              const std::string& remote) {
    if (message.smtputf8 && !caps.smtputf8) {
        // RFC 6531 §3.4: no downgrade; the message cannot go to this server.
        return smtp::make_reply(550, "5.6.7", remote + " does not support SMTPUTF8");
    }
    if (caps.size && caps.max_size != 0 && message.size > caps.max_size) {
        // RFC 1870 §6: a fixed limit; trying is pointless.
        return smtp::make_reply(552, "5.3.4",
                                "Message too big for " + remote + " (limit " +
                                    std::to_string(caps.max_size) + " bytes)");
    }
    if (message.eight_bit && !caps.eightbitmime) {
        // RFC 6152 §3 wants a 7-bit downgrade; like Postfix by default, we
        // send as is: practically every server passes 8-bit data through.
        log::warn("smtp-client-8bit-without-8bitmime").kv("id", message.id).kv("remote", remote);
    }
    return std::nullopt;
}

struct EnvelopeVerdict {
    std::size_t accepted = 0;  // recipients whose RCPT got 2xx (their reply is still open)
    bool closing = false;      // a 421 came: the server is closing the connection
};

// Records MAIL's and each RCPT's reply in the outcome.
EnvelopeVerdict apply_envelope_replies(const std::vector<smtp::Reply>& replies,
                                       MessageOutcome& outcome) {
    EnvelopeVerdict verdict;
    const smtp::Reply& mail = replies[0];
    verdict.closing = mail.code == 421;
    if (mail.code / 100 != 2) {
        fill_undetermined(outcome, sanitize_reply(mail));
        return verdict;
    }
    for (std::size_t i = 0; i + 1 < replies.size() && i < outcome.recipients.size(); ++i) {
        const smtp::Reply& rcpt = replies[i + 1];
        verdict.closing = verdict.closing || rcpt.code == 421;
        if (rcpt.code / 100 == 2) {
            ++verdict.accepted;
        } else {
            outcome.recipients[i].reply = sanitize_reply(rcpt);
        }
    }
    return verdict;
}

}  // namespace

bool send_message(ClientSession& session, const OutboundMessage& message, MessageOutcome& outcome) {
    const auto& caps = session.capabilities();
    const std::string& remote = session.remote();
    outcome.recipients.assign(message.recipients.size(), RecipientOutcome{{}, remote});
    if (auto refused = refuse_before_mail(caps, message, remote)) {
        fill_undetermined(outcome, *refused);
        return true;
    }
    const BodyFile body(message.body_file);
    if (!body.is_open()) {
        log::error("smtp-client-spool-read").kv("id", message.id).kv("error", body.open_error());
        fill_undetermined(outcome,
                          smtp::make_reply(451, "4.3.0", "Local error reading the queued message"));
        return true;
    }
    std::vector<std::string> commands{mail_command(caps, message)};
    for (const auto& r : message.recipients)
        commands.push_back(rcpt_command(caps, r));
    auto replies = envelope_exchange(session, commands);
    if (!replies) {
        fill_undetermined(outcome,
                          lost_connection_reply(remote, "after MAIL/RCPT", replies.error()));
        return false;
    }
    const EnvelopeVerdict verdict = apply_envelope_replies(*replies, outcome);
    if (verdict.closing) {
        fill_undetermined(
            outcome, smtp::make_reply(451, "4.4.2", remote + " is closing the connection (421)"));
        return false;
    }
    if (verdict.accepted == 0) return true;  // every recipient has its reply; no DATA
    return send_data(session, message, body, outcome);
}

}  // namespace postern::queue
