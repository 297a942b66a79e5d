#include "mda/lmtp_session.h"

#include <variant>

#include "common/base/ascii.h"
#include "common/log/log.h"
#include "common/smtp/smtp_parser.h"

namespace postern::mda {
namespace {

const char* state_name(int s) {
    static const char* const kNames[] = {"fresh", "ready", "mail", "data"};
    return kNames[s];
}

}  // namespace

LmtpSession::LmtpSession(net::SessionInit init, const LmtpSettings& settings,
                         std::shared_ptr<DeliveryBackend> backend)
    : Session(std::move(init)), settings_(settings), backend_(std::move(backend)) {}

void LmtpSession::enter(State next) {
    log::debug(log_context(), "state")
        .kv("from", state_name(static_cast<int>(state_)))
        .kv("to", state_name(static_cast<int>(next)));
    state_ = next;
}

void LmtpSession::reply(const smtp::Reply& r) {
    write(smtp::format_reply(r));
}

void LmtpSession::reply(int code, std::string enhanced, std::string text) {
    reply(smtp::make_reply(code, std::move(enhanced), std::move(text)));
}

void LmtpSession::on_start() {
    reply(smtp::make_reply(220, "", settings_.hostname + " LMTP ready"));
}

void LmtpSession::on_input() {
    while (!suspended() && !closing()) {
        if (state_ == State::Data) {
            if (!pump_data()) return;
            continue;
        }
        auto ev = reader().next();
        if (std::holds_alternative<net::NeedMore>(ev)) return;
        if (std::holds_alternative<net::TooLong>(ev)) {
            reply(500, "5.5.2", "Line too long");
            if (count_bad_command()) return;
            continue;
        }
        if (const auto* line = std::get_if<net::Line>(&ev)) {
            if (!handle_line(*line)) return;
        }
    }
}

bool LmtpSession::handle_line(const net::Line& line) {
    if (line.flags.any()) {
        reply(500, "5.5.2", "Bare CR, LF or NUL in command line");
        return !count_bad_command();
    }
    auto cmd = smtp::parse_command(line.text, {.smtputf8 = tx_ && tx_->smtputf8});
    if (!cmd) {
        reply(smtp::to_reply(cmd.error()));
        return !count_bad_command();
    }
    return dispatch(*cmd);
}

bool LmtpSession::dispatch(const smtp::Command& cmd) {
    using smtp::Verb;
    if (cmd.verb == Verb::Ehlo || cmd.verb == Verb::Helo) {
        reply(500, "5.5.1", "This is LMTP: use LHLO");
        return !count_bad_command();
    }
    if (state_ == State::Fresh && cmd.verb != Verb::Lhlo && cmd.verb != Verb::Quit &&
        cmd.verb != Verb::Noop) {
        reply(503, "5.5.1", "Send LHLO first");
        return !count_bad_command();
    }
    switch (cmd.verb) {
        case Verb::Lhlo:
            return cmd_lhlo(cmd);
        case Verb::Mail:
            return cmd_mail(cmd);
        case Verb::Rcpt:
            return cmd_rcpt(cmd);
        case Verb::Data:
            return cmd_data();
        case Verb::Rset:
            tx_.reset();
            enter(State::Ready);
            reply(250, "2.0.0", "OK");
            return true;
        case Verb::Noop:
            reply(250, "2.0.0", "OK");
            return true;
        case Verb::Quit:
            close_with_reply("221 2.0.0 Bye", "quit");
            return false;
        case Verb::Vrfy:
            reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
            return true;
        default:
            reply(502, "5.5.1", "Command not implemented");
            return !count_bad_command();
    }
}

bool LmtpSession::cmd_lhlo(const smtp::Command&) {
    tx_.reset();
    enter(State::Ready);
    smtp::Reply r{250,
                  "",
                  {settings_.hostname, "PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8",
                   "SIZE " + std::to_string(settings_.max_message_bytes)}};
    reply(r);
    return true;
}

bool LmtpSession::cmd_mail(const smtp::Command& cmd) {
    if (state_ != State::Ready) {
        reply(503, "5.5.1", "Nested MAIL command");
        return !count_bad_command();
    }
    const auto& params = cmd.mail_params;
    if (params.size && *params.size > settings_.max_message_bytes) {
        reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
        return true;
    }
    tx_.emplace();
    tx_->envelope.sender = cmd.path.is_null ? "" : cmd.path.address();
    tx_->envelope.log = log_context();
    tx_->smtputf8 = params.smtputf8;
    enter(State::Mail);
    reply(250, "2.1.0", "OK");
    return true;
}

bool LmtpSession::cmd_rcpt(const smtp::Command& cmd) {
    if (state_ != State::Mail) {
        reply(503, "5.5.1", "Need MAIL before RCPT");
        return !count_bad_command();
    }
    if (tx_->envelope.recipients.size() >= settings_.max_recipients) {
        reply(452, "4.5.3", "Too many recipients");
        return true;
    }
    std::string address =
        cmd.path.is_postmaster ? "postmaster@" + settings_.hostname : cmd.path.address();
    suspend();
    auto backend = backend_;
    loop::submit_work<net::Session, Outcome>(
        loop(), registry(), id(), [backend, address] { return backend->check_recipient(address); },
        [address](net::Session& s, Outcome outcome) {
            static_cast<LmtpSession&>(s).complete_rcpt(address, outcome);
        });
    return false;
}

void LmtpSession::complete_rcpt(const std::string& address, const Outcome& outcome) {
    if (outcome.status == DeliveryStatus::Delivered) {
        if (tx_) tx_->envelope.recipients.push_back(address);
        reply(250, "2.1.5", "OK");
    } else {
        log::info(log_context(), "rcpt_refused")
            .kv("rcpt", printable(address))
            .kv("status", status_name(outcome.status))
            .kv("detail", outcome.detail);
        reply(reply_for(outcome.status));
    }
    resume();
}

bool LmtpSession::cmd_data() {
    if (state_ != State::Mail || tx_->envelope.recipients.empty()) {
        reply(503, "5.5.1", "No valid recipients");
        return !count_bad_command();
    }
    tx_->decoder.emplace(settings_.max_message_bytes);
    enter(State::Data);
    reply(354, "", "Start mail input; end with <CRLF>.<CRLF>");
    return true;
}

// DATA in raw mode: whatever is buffered goes through the decoder; bytes
// after the terminator (pipelined commands) are put back for line parsing.
bool LmtpSession::pump_data() {
    std::size_t buffered = reader().buffered_bytes();
    if (buffered == 0) return false;
    reader().expect_bytes(buffered);
    std::string raw;
    raw.reserve(buffered);
    for (auto ev = reader().next(); std::holds_alternative<net::Chunk>(ev); ev = reader().next()) {
        raw.append(std::get<net::Chunk>(ev).bytes);
    }
    std::size_t used = tx_->decoder->feed(raw, tx_->body);
    if (!tx_->decoder->done()) return true;
    if (used < raw.size()) reader().feed(std::string_view(raw).substr(used));
    finish_data();
    return !suspended() && !closing();
}

void LmtpSession::finish_data() {
    enter(State::Ready);
    Transaction tx = std::move(*tx_);
    tx_.reset();
    if (tx.decoder->result() == smtp::DotResult::TooBig ||
        tx.decoder->body_bytes() > settings_.max_message_bytes) {
        log::info(log_context(), "data_too_big").kv("bytes", tx.decoder->body_bytes());
        for (std::size_t i = 0; i < tx.envelope.recipients.size(); ++i) {
            reply(reply_for(DeliveryStatus::TooBig));
        }
        return;
    }
    suspend();
    auto backend = backend_;
    auto shared = std::make_shared<Transaction>(std::move(tx));
    loop::submit_work<net::Session, std::vector<RecipientResult>>(
        loop(), registry(), id(),
        [backend, shared] { return backend->deliver(shared->envelope, shared->body); },
        [](net::Session& s, std::vector<RecipientResult> results) {
            static_cast<LmtpSession&>(s).complete_data(results);
        });
}

void LmtpSession::complete_data(const std::vector<RecipientResult>& results) {
    for (const auto& r : results) {
        reply(reply_for(r.outcome.status));
    }
    resume();
}

}  // namespace postern::mda
