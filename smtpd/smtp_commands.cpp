// The SMTP command table and the dispatcher (STYLE.md §6). Each row names
// the states the verb is allowed in and its flags; dispatch() applies these
// shared rules once, so no handler repeats them:
//   - a line that does not parse: its 5xx reply, counted as a bad command;
//   - an unknown verb: 500 5.5.1, counted;
//   - a verb not allowed in this state: 503 5.5.1, counted;
//   - submission before AUTH: only PreAuth verbs, else 530 5.7.0 (RFC 4954 §6);
//   - a client that sends more behind a verb that must end a pipelined group
//     (RFC 2920 §3.1, RFC 3207 §4, RFC 4954 §4) is logged once per session.
// DATA lines and SASL responses never reach the dispatcher: the session
// routes them by state.
#include <array>

#include "common/base/ascii.h"
#include "common/log/log.h"
#include "common/smtp/smtp_parser.h"
#include "smtpd/smtp_session.h"

namespace postern::smtp {
namespace {

using State = SmtpSession::State;

constexpr unsigned bit(State s) {
    return 1u << static_cast<unsigned>(s);
}

constexpr unsigned kGreeted =
    bit(State::Ready) | bit(State::Mail) | bit(State::Rcpt) | bit(State::Chunking);
constexpr unsigned kAnyCommandState = bit(State::Init) | kGreeted;

enum Flag : unsigned {
    kNone = 0,
    kPreAuth = 1,    // allowed before AUTH where the profile requires it
    kEndsGroup = 2,  // the client must wait for our reply before sending more
};

// Verbs of other protocols. A client that sends them is not an SMTP client:
// most likely a browser tricked into posting to port 25 (cross-protocol
// attacks, e.g. ALPACA) or a misdirected POP3 client. Postfix's
// smtpd_forbidden_commands does the same: close at once instead of
// answering every line of the payload.
bool is_foreign_protocol(std::string_view verb) {
    constexpr std::array kForeign = {"CONNECT", "GET", "HEAD", "POST", "PUT", "USER"};
    for (std::string_view v : kForeign) {
        if (iequals(v, verb)) return true;
    }
    return false;
}

}  // namespace

struct SmtpSession::CommandSpec {
    Verb verb;
    Handler handler;
    unsigned states;
    unsigned flags;
};

void SmtpSession::dispatch(const net::Line& line) {
    // RFC 5321 §4.1.1: every verb is allowed at any time except where a
    // sequence is required; BDAT is accepted in every command state because
    // its chunk must be consumed even when the command is refused (RFC 3030
    // §2), or the message bytes would be read as commands.
    static constexpr std::array kCommands = {
        CommandSpec{Verb::Ehlo, &SmtpSession::cmd_ehlo, kAnyCommandState, kPreAuth | kEndsGroup},
        CommandSpec{Verb::Helo, &SmtpSession::cmd_helo, kAnyCommandState, kPreAuth | kEndsGroup},
        CommandSpec{Verb::Starttls, &SmtpSession::cmd_starttls,
                    bit(State::Init) | bit(State::Ready), kPreAuth | kEndsGroup},
        CommandSpec{Verb::Auth, &SmtpSession::cmd_auth, bit(State::Ready), kPreAuth | kEndsGroup},
        CommandSpec{Verb::Mail, &SmtpSession::cmd_mail, bit(State::Ready), kNone},
        CommandSpec{Verb::Rcpt, &SmtpSession::cmd_rcpt, bit(State::Mail) | bit(State::Rcpt), kNone},
        CommandSpec{Verb::Data, &SmtpSession::cmd_data, bit(State::Mail) | bit(State::Rcpt),
                    kEndsGroup},
        CommandSpec{Verb::Bdat, &SmtpSession::cmd_bdat, kAnyCommandState, kPreAuth},
        CommandSpec{Verb::Rset, &SmtpSession::cmd_rset, kAnyCommandState, kPreAuth},
        CommandSpec{Verb::Noop, &SmtpSession::cmd_noop, kAnyCommandState, kPreAuth | kEndsGroup},
        CommandSpec{Verb::Quit, &SmtpSession::cmd_quit, kAnyCommandState, kPreAuth | kEndsGroup},
        CommandSpec{Verb::Vrfy, &SmtpSession::cmd_vrfy, kAnyCommandState, kEndsGroup},
        CommandSpec{Verb::Expn, &SmtpSession::cmd_expn, kAnyCommandState, kEndsGroup},
        CommandSpec{Verb::Help, &SmtpSession::cmd_help, kAnyCommandState, kPreAuth},
    };

    ParseOptions options{.smtputf8 = tx_ && tx_->params().smtputf8};
    auto parsed = parse_command(line.text, options);
    if (!parsed) {
        reply(to_reply(parsed.error()));
        count_bad_command();
        return;
    }
    const Command& cmd = *parsed;
    const CommandSpec* spec = nullptr;
    for (const auto& row : kCommands) {
        if (row.verb == cmd.verb) spec = &row;
    }
    if (spec == nullptr && is_foreign_protocol(cmd.raw_verb)) {
        log::warn(log_context(), "foreign-protocol").kv("verb", printable(cmd.raw_verb, 32));
        close_with_reply("221 2.7.0 Not an HTTP or POP3 server, goodbye", "foreign-protocol");
        return;
    }
    if (spec == nullptr) {
        log::info(log_context(), "unknown-command").kv("verb", printable(cmd.raw_verb, 32));
        reply_bad(500, "5.5.1", "Command unrecognized");
        return;
    }
    if ((spec->states & bit(state_)) == 0) {
        reply(sequence_error(cmd.verb));
        count_bad_command();
        return;
    }
    if (context_.profile.auth_required && !user_ && (spec->flags & kPreAuth) == 0) {
        reply_bad(530, "5.7.0", "Authentication required");
        return;
    }
    if ((spec->flags & kEndsGroup) != 0 && reader().buffered_bytes() > 0 && !pipelining_logged_) {
        pipelining_logged_ = true;
        log::info(log_context(), "improper-pipelining").kv("after", verb_name(cmd.verb));
    }
    (this->*spec->handler)(cmd);
}

Reply SmtpSession::sequence_error(Verb verb) const {
    const bool greeted = state_ != State::Init;
    switch (verb) {
        case Verb::Mail:
            return make_reply(503, "5.5.1",
                              greeted ? "Nested MAIL command" : "Send EHLO or HELO first");
        case Verb::Rcpt:
            return make_reply(503, "5.5.1", "Need MAIL before RCPT");
        case Verb::Data:
            return make_reply(503, "5.5.1",
                              state_ == State::Chunking ? "DATA not allowed after BDAT"
                                                        : "Need MAIL and RCPT before DATA");
        case Verb::Auth:
            return make_reply(
                503, "5.5.1",
                greeted ? "AUTH not allowed during a mail transaction" : "Send EHLO first");
        case Verb::Starttls:
            return make_reply(503, "5.5.1", "STARTTLS not allowed now");
        default:
            return make_reply(503, "5.5.1", "Bad sequence of commands");
    }
}

}  // namespace postern::smtp
