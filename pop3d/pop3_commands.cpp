// The POP3 command table, the dispatcher that applies the shared rules, and
// one handler per verb (STYLE.md §6). Handlers find their state and TLS
// policy already checked; they check only their own arguments.
//
// STANDARDS: RFC 1939 (POP3), RFC 2449 (CAPA, response codes, PIPELINING),
// RFC 3206 (SYS/TEMP, AUTH), RFC 5034 (AUTH), RFC 4616 (PLAIN), RFC 2595 (STLS).
#include <array>
#include <charconv>

#include "common/base/ascii.h"
#include "common/sasl/sasl.h"
#include "common/tls/tls_context.h"
#include "pop3d/pop3_session.h"

namespace postern::pop3 {

namespace {

enum StateMask : unsigned { kAuthz = 1u << 0, kTrans = 1u << 1 };
enum Flag : unsigned {
    kNone = 0,
    kPasswordAuth = 1u << 0,  // sends a password: TLS first (RFC 2595 §2.1)
};

unsigned mask_of(State s) {
    return s == State::Authorization ? kAuthz : s == State::Transaction ? kTrans : 0u;
}

// Splits "VERB args" at the first space; RFC 1939 §3 keywords are
// case-insensitive and separated from arguments by a single space.
std::pair<std::string_view, std::string_view> split_verb(std::string_view line) {
    auto sp = line.find(' ');
    if (sp == std::string_view::npos) return {line, {}};
    return {line.substr(0, sp), line.substr(sp + 1)};
}

// msg = 1*DIGIT, no sign, no leading/trailing space; 0 is never valid.
std::optional<std::uint64_t> parse_number(std::string_view text) {
    if (text.empty() || text.size() > kMaxMessageNumberDigits) return std::nullopt;
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return n;
}

}  // namespace

struct Pop3Session::CommandSpec {
    std::string_view verb;
    Handler handler;
    unsigned states;
    unsigned flags;
};

std::span<const Pop3Session::CommandSpec> Pop3Session::command_table() {
    static constexpr std::array kCommands = {
        CommandSpec{"CAPA", &Pop3Session::cmd_capa, kAuthz | kTrans, kNone},
        CommandSpec{"USER", &Pop3Session::cmd_user, kAuthz, kPasswordAuth},
        CommandSpec{"PASS", &Pop3Session::cmd_pass, kAuthz, kPasswordAuth},
        CommandSpec{"AUTH", &Pop3Session::cmd_auth, kAuthz, kPasswordAuth},
        CommandSpec{"STLS", &Pop3Session::cmd_stls, kAuthz, kNone},
        CommandSpec{"QUIT", &Pop3Session::cmd_quit, kAuthz | kTrans, kNone},
        CommandSpec{"STAT", &Pop3Session::cmd_stat, kTrans, kNone},
        CommandSpec{"LIST", &Pop3Session::cmd_list, kTrans, kNone},
        CommandSpec{"UIDL", &Pop3Session::cmd_uidl, kTrans, kNone},
        CommandSpec{"RETR", &Pop3Session::cmd_retr, kTrans, kNone},
        CommandSpec{"TOP", &Pop3Session::cmd_top, kTrans, kNone},
        CommandSpec{"DELE", &Pop3Session::cmd_dele, kTrans, kNone},
        CommandSpec{"NOOP", &Pop3Session::cmd_noop, kTrans, kNone},
        CommandSpec{"RSET", &Pop3Session::cmd_rset, kTrans, kNone},
    };
    return kCommands;
}

void Pop3Session::handle_line(std::string_view line) {
    if (awaiting_sasl_response_) {
        awaiting_sasl_response_ = false;
        auth_plain_response(line);
        return;
    }
    auto [verb, args] = split_verb(line);
    const CommandSpec* spec = nullptr;
    for (const auto& c : command_table()) {
        if (iequals(c.verb, verb)) spec = &c;
    }
    if (spec == nullptr) {
        bad_command("-ERR Unknown command");
        return;
    }
    if ((spec->states & mask_of(state_)) == 0) {
        bad_command("-ERR Command not valid in this state");
        return;
    }
    if ((spec->flags & kPasswordAuth) != 0 && !auth_allowed()) {
        bad_command(
            "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections; use STLS");
        return;
    }
    (this->*spec->handler)(args);
}

// ---- AUTHORIZATION ----

Pop3Session::Outcome Pop3Session::cmd_capa(std::string_view) {
    // RFC 2449 §5: the list may differ between states.
    std::string out =
        "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
        "PIPELINING\r\nAUTH-RESP-CODE\r\n";
    if (state_ == State::Authorization) {
        if (auth_allowed()) out += "USER\r\nSASL PLAIN\r\n";
        if (!connection().tls_active() && context_->tls != nullptr) out += "STLS\r\n";
    }
    // RFC 2449 §6.7: messages stay until the client deletes them.
    out += "EXPIRE NEVER\r\nIMPLEMENTATION Postern\r\n.\r\n";
    write(out);
    return Outcome::Done;
}

Pop3Session::Outcome Pop3Session::cmd_user(std::string_view args) {
    if (args.empty() || args.size() > context_->limits.max_user_bytes) {
        bad_command("-ERR Usage: USER name");
        return Outcome::Done;
    }
    user_ = std::string(args);
    write_line("+OK Send PASS");
    return Outcome::Done;
}

Pop3Session::Outcome Pop3Session::cmd_pass(std::string_view args) {
    if (user_.empty()) {
        bad_command("-ERR USER first");
        return Outcome::Done;
    }
    if (args.empty()) {
        bad_command("-ERR Usage: PASS password");
        return Outcome::Done;
    }
    // RFC 1939 §7 allows spaces in the password: the whole rest is it.
    std::string user = std::move(user_);
    user_.clear();
    return start_login(std::move(user), Secret<std::string>(std::string(args)));
}

// auth = "AUTH" SP sasl-mech [SP initial-response]   (RFC 5034 §4)
Pop3Session::Outcome Pop3Session::cmd_auth(std::string_view args) {
    if (args.empty()) {
        // The pre-RFC 5034 listing form, which fetchmail still sends.
        write("+OK\r\nPLAIN\r\n.\r\n");
        return Outcome::Done;
    }
    auto [mech, initial] = split_verb(args);
    if (!iequals(mech, "PLAIN")) {
        write_line("-ERR Unsupported authentication mechanism");
        return Outcome::Done;
    }
    if (initial.empty()) {
        awaiting_sasl_response_ = true;
        write_line("+ ");
        return Outcome::Done;
    }
    return auth_plain_response(initial);
}

Pop3Session::Outcome Pop3Session::auth_plain_response(std::string_view response) {
    if (sasl::is_cancel(response)) {
        write_line("-ERR Authentication cancelled");
        return Outcome::Done;
    }
    auto creds = sasl::decode_plain_base64(response);
    if (!creds) {
        bad_command(std::string("-ERR [AUTH] Invalid PLAIN response (") +
                    sasl::to_string(creds.error()) + ")");
        return Outcome::Done;
    }
    return start_login(std::move(creds->authcid), std::move(creds->password));
}

Pop3Session::Outcome Pop3Session::cmd_stls(std::string_view) {
    if (connection().tls_active()) {
        bad_command("-ERR Already using TLS");
        return Outcome::Done;
    }
    if (context_->tls == nullptr) {
        bad_command("-ERR STLS not available");
        return Outcome::Done;
    }
    write_line("+OK Begin TLS negotiation");
    // RFC 2595 §4: forget what the client said before; pipelined plaintext
    // is discarded by start_tls (CVE-2011-0411).
    user_.clear();
    std::size_t dropped = connection().start_tls(context_->tls->native());
    if (dropped > 0) log::warn(log_context(), "stls-pipelined-discarded").kv("bytes", dropped);
    return Outcome::Done;
}

Pop3Session::Outcome Pop3Session::cmd_quit(std::string_view) {
    if (state_ == State::Authorization) {
        close_with_reply("+OK Bye", "quit");
        return Outcome::Done;
    }
    enter(State::Update);
    std::vector<std::uint32_t> uids;
    for (const auto& m : maildrop_->messages) {
        if (m.deleted) uids.push_back(m.info.uid);
    }
    if (uids.empty()) {
        close_with_reply("+OK Bye", "quit");
        return Outcome::Done;
    }
    suspend();
    std::size_t wanted = uids.size();
    loop::submit_work<net::Session, PoolResult<std::size_t>>(
        loop(), registry(), id(),
        [dir = context_->data_dir, user = maildrop_->user, uids = std::move(uids)] {
            return PoolResult<std::size_t>::from(expunge_maildrop(dir, user, uids));
        },
        [wanted](net::Session& s, PoolResult<std::size_t> r) {
            static_cast<Pop3Session&>(s).update_done(std::move(r), wanted);
        });
    return Outcome::Pending;
}

// ---- TRANSACTION ----

MaildropMessage* Pop3Session::message_arg(std::string_view arg) {
    auto n = parse_number(arg);
    if (!n) {
        bad_command("-ERR Invalid message number");
        return nullptr;
    }
    if (*n == 0 || *n > maildrop_->messages.size()) {
        write_line("-ERR No such message");
        return nullptr;
    }
    auto& m = maildrop_->messages[*n - 1];
    if (m.deleted) {
        write_line("-ERR Message " + std::to_string(*n) + " already deleted");
        return nullptr;
    }
    return &m;
}

std::string Pop3Session::number_of(const MaildropMessage* m) const {
    return std::to_string(m - maildrop_->messages.data() + 1);
}

Pop3Session::Outcome Pop3Session::cmd_stat(std::string_view) {
    write_line("+OK " + std::to_string(live_count()) + " " + std::to_string(live_octets()));
    return Outcome::Done;
}

Pop3Session::Outcome Pop3Session::cmd_list(std::string_view args) {
    if (!args.empty()) {
        if (auto* m = message_arg(args)) {
            write_line("+OK " + number_of(m) + " " + std::to_string(m->wire_size));
        }
        return Outcome::Done;
    }
    std::string out = "+OK " + std::to_string(live_count()) + " messages (" +
                      std::to_string(live_octets()) + " octets)\r\n";
    for (std::size_t i = 0; i < maildrop_->messages.size(); ++i) {
        const auto& m = maildrop_->messages[i];
        if (!m.deleted) out += std::to_string(i + 1) + " " + std::to_string(m.wire_size) + "\r\n";
    }
    write(out + ".\r\n");
    return Outcome::Done;
}

Pop3Session::Outcome Pop3Session::cmd_uidl(std::string_view args) {
    if (!args.empty()) {
        if (auto* m = message_arg(args)) write_line("+OK " + number_of(m) + " " + m->uidl);
        return Outcome::Done;
    }
    std::string out = "+OK Unique-ID listing follows\r\n";
    for (std::size_t i = 0; i < maildrop_->messages.size(); ++i) {
        const auto& m = maildrop_->messages[i];
        if (!m.deleted) out += std::to_string(i + 1) + " " + m.uidl + "\r\n";
    }
    write(out + ".\r\n");
    return Outcome::Done;
}

Pop3Session::Outcome Pop3Session::cmd_retr(std::string_view args) {
    auto* m = message_arg(args);
    if (m == nullptr) return Outcome::Done;
    return start_transfer(static_cast<std::size_t>(m - maildrop_->messages.data()), std::nullopt);
}

// top = "TOP" SP msg SP lines   (RFC 1939 §7)
Pop3Session::Outcome Pop3Session::cmd_top(std::string_view args) {
    auto [msg, lines_text] = split_verb(args);
    auto lines = parse_number(lines_text);
    if (!lines) {
        bad_command("-ERR Usage: TOP msg lines");
        return Outcome::Done;
    }
    auto* m = message_arg(msg);
    if (m == nullptr) return Outcome::Done;
    return start_transfer(static_cast<std::size_t>(m - maildrop_->messages.data()),
                          lines.value_or(0));
}

Pop3Session::Outcome Pop3Session::cmd_dele(std::string_view args) {
    auto* m = message_arg(args);
    if (m == nullptr) return Outcome::Done;
    m->deleted = true;
    write_line("+OK Message " + number_of(m) + " deleted");
    return Outcome::Done;
}

Pop3Session::Outcome Pop3Session::cmd_noop(std::string_view) {
    write_line("+OK");
    return Outcome::Done;
}

Pop3Session::Outcome Pop3Session::cmd_rset(std::string_view) {
    for (auto& m : maildrop_->messages)
        m.deleted = false;
    write_line("+OK " + std::to_string(live_count()) + " messages (" +
               std::to_string(live_octets()) + " octets)");
    return Outcome::Done;
}

}  // namespace postern::pop3
