#include "smtpd/smtp_session.h"

#include <sodium.h>

#include <utility>

#include "common/log/log.h"

namespace postern::smtp {

const char* state_name(SmtpSession::State state) {
    switch (state) {
        case SmtpSession::State::Init:
            return "INIT";
        case SmtpSession::State::Ready:
            return "READY";
        case SmtpSession::State::Mail:
            return "MAIL";
        case SmtpSession::State::Rcpt:
            return "RCPT";
        case SmtpSession::State::Data:
            return "DATA";
        case SmtpSession::State::Chunking:
            return "BDAT";
        case SmtpSession::State::Auth:
            return "AUTH";
    }
    return "?";
}

SmtpSession::SmtpSession(net::SessionInit init, const SmtpContext& context)
    : net::Session(std::move(init)), context_(context), delay_timer_(loop()) {}

SmtpSession::~SmtpSession() = default;

void SmtpSession::on_start() {
    reply(220, "", context_.hostname + " ESMTP Postern");
}

std::string SmtpSession::timeout_reply() const {
    return "421 4.4.2 " + context_.hostname + " Timeout exceeded, closing connection";
}

std::string SmtpSession::too_many_errors_reply() const {
    return "421 4.7.0 " + context_.hostname + " Too many errors, closing connection";
}

void SmtpSession::enter(State next) {
    if (next == state_) return;
    log::debug(log_context(), "state").kv("from", state_name(state_)).kv("to", state_name(next));
    state_ = next;
}

void SmtpSession::reply(const Reply& r) {
    write(format_reply(r));
}

void SmtpSession::reply(int code, std::string enhanced, std::string text) {
    reply(make_reply(code, std::move(enhanced), std::move(text)));
}

void SmtpSession::reply_bad(int code, std::string enhanced, std::string text) {
    reply(code, std::move(enhanced), std::move(text));
    count_bad_command();
}

void SmtpSession::reset_transaction() {
    tx_.reset();
    chunk_.reset();
    pending_rcpt_.reset();
    pending_mail_.reset();
    if (reader().max_line_bytes() != limits().max_line_bytes)
        reader().set_max_line_bytes(limits().max_line_bytes);
    enter(helo_.empty() ? State::Init : State::Ready);
}

std::string SmtpSession::new_transaction_id() {
    unsigned char random[8];
    randombytes_buf(random, sizeof random);
    char hex[sizeof random * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, random, sizeof random);
    return hex;
}

// One event at a time, until the reader needs more bytes or a command
// suspends the session (its completion resumes here).
void SmtpSession::on_input() {
    while (!suspended() && !closing()) {
        auto event = reader().next();
        if (std::holds_alternative<net::NeedMore>(event)) return;
        if (const auto* chunk = std::get_if<net::Chunk>(&event)) {
            on_chunk(*chunk);
            continue;
        }
        if (std::holds_alternative<net::TooLong>(event)) {
            if (state_ == State::Data) {
                on_data_too_long();
            } else {
                if (state_ == State::Auth) {
                    sasl_.reset();
                    enter(State::Ready);
                }
                reply_bad(500, "5.5.2", "Line too long");
            }
            continue;
        }
        const auto& line = std::get<net::Line>(event);
        if (state_ == State::Data) {
            on_data_line(line);
        } else if (state_ == State::Auth) {
            on_sasl_line(line);
        } else {
            dispatch(line);
        }
    }
}

}  // namespace postern::smtp
