#include "imapd/imap_session.h"

#include <algorithm>
#include <utility>

#include "common/base/ascii.h"
#include "common/log/log.h"
#include "common/tls/tls_context.h"
#include "imapd/imap_changes.h"
#include "imapd/imap_commands.h"
#include "storage/mailbox_index.h"

namespace postern::imap {

const char* state_name(State state) {
    switch (state) {
        case State::NotAuthenticated:
            return "not-authenticated";
        case State::Authenticated:
            return "authenticated";
        case State::Selected:
            return "selected";
        case State::Logout:
            return "logout";
    }
    return "?";
}

ImapSession::ImapSession(net::SessionInit init, const ImapContext& context)
    : net::Session(std::move(init)),
      context_(context),
      parser_(context.limits),
      silence_timer_(loop()),
      lifetime_timer_(loop()) {}

ImapSession::~ImapSession() {
    if (registered_ && context_.changes != nullptr && account_)
        context_.changes->remove(account_->paths.home, id());
}

void ImapSession::enter(State next) {
    log::info(log_context(), "state").kv("from", state_name(state_)).kv("to", state_name(next));
    if (next == State::Authenticated && !registered_ && context_.changes != nullptr && account_) {
        context_.changes->add(account_->paths.home, registry(), id());
        registered_ = true;
    }
    if (next != State::Selected) view_.reset();
    // Entering or leaving Selected (SELECT, EXAMINE, CLOSE, UNSELECT, a
    // failed SELECT) empties "$" (RFC 5182 §2.1).
    if (next != state_ || next == State::Selected) saved_.clear();
    state_ = next;
}

void ImapSession::untagged(std::string_view text) {
    std::string line = "* ";
    line.append(text);
    line.append("\r\n");
    write(line);
}

void ImapSession::reply(const Command& cmd, std::string_view text) {
    std::string line = cmd.tag;
    line += ' ';
    line.append(text);
    line.append("\r\n");
    write(line);
}

void ImapSession::bad(const Command& cmd, std::string_view text) {
    if (count_bad_command()) return;
    reply(cmd, std::string("BAD ") + std::string(text));
}

bool ImapSession::plaintext_auth_allowed() {
    if (tls_active()) return true;
    return context_.allow_plaintext_on_loopback && peer().is_loopback();
}

std::string ImapSession::capabilities() {
    std::string caps = "IMAP4rev1 IMAP4rev2";
    // RFC 7888: LITERAL+ when any literal may be non-synchronizing, else
    // LITERAL- (non-synchronizing up to 4096 octets).
    caps += context_.limits.max_nonsync_literal_bytes >= context_.limits.max_literal_bytes
                ? " LITERAL+"
                : " LITERAL-";
    if (state_ == State::NotAuthenticated) {
        if (!tls_active() && context_.tls != nullptr) caps += " STARTTLS";
        if (plaintext_auth_allowed()) {
            caps += " SASL-IR AUTH=PLAIN";
        } else {
            caps += " LOGINDISABLED";
        }
    }
    caps +=
        " ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE SPECIAL-USE CHILDREN MULTIAPPEND BINARY";
    caps += " UTF8=ACCEPT ESEARCH SEARCHRES LIST-EXTENDED LIST-STATUS STATUS=SIZE";
    return caps;
}

void ImapSession::on_start() {
    arm_silence_timer();
    lifetime_timer_.start(context_.limits.session_lifetime, [this] { on_lifetime_end(); });
    untagged("OK [CAPABILITY " + capabilities() + "] Postern IMAP ready");
}

// The timers belong to this session and die with it, so `this` is valid.
void ImapSession::arm_silence_timer() {
    std::chrono::milliseconds limit = context_.limits.idle_timeout;
    if (idle_) limit = std::max(limit, context_.limits.idle_keepalive);
    silence_timer_.start(limit, [this] { on_silence(); });
}

void ImapSession::on_silence() {
    // A command still running (pool work, a slow reader draining a FETCH)
    // is not the client being silent.
    if (suspended()) {
        silence_timer_.again();
        return;
    }
    close_with_reply(timeout_reply(), "idle-timeout");
}

void ImapSession::on_lifetime_end() {
    auto now = std::chrono::steady_clock::now();
    if (idle_ || now < idle_extension_) {
        auto wait =
            idle_ ? context_.limits.idle_keepalive
                  : std::chrono::duration_cast<std::chrono::milliseconds>(idle_extension_ - now) +
                        std::chrono::milliseconds(1);
        lifetime_timer_.start(wait, [this] { on_lifetime_end(); });
        return;
    }
    close_with_reply("* BYE Session time limit reached", "session-timeout");
}

void ImapSession::on_tls_ready() {
    // STARTTLS done: nothing to say, the client speaks next (RFC 9051 §6.2.1).
}

void ImapSession::start_tls_now() {
    parser_.reset();
    std::size_t dropped = connection().start_tls(context_.tls->native());
    if (dropped > 0) log::warn(log_context(), "starttls_pipelined_dropped").kv("bytes", dropped);
}

void ImapSession::on_input() {
    silence_timer_.again();
    while (!suspended() && !closing()) {
        net::ReadEvent event = reader().next();
        if (std::holds_alternative<net::NeedMore>(event)) return;
        if (std::holds_alternative<net::TooLong>(event)) {
            // The rest of a command we could not read may hold a literal;
            // its bytes would be taken for commands. Dovecot closes too.
            close_with_reply("* BYE Line too long", "line-too-long");
            return;
        }
        if (auto* chunk = std::get_if<net::Chunk>(&event)) {
            parser_.feed_literal(chunk->bytes);
            continue;
        }
        handle_line(std::get<net::Line>(event));
    }
}

void ImapSession::handle_line(const net::Line& line) {
    if (auth_wait_) {
        AuthWait wait = std::move(*auth_wait_);
        auth_wait_.reset();
        wait.fn(*this, wait.cmd, line.text);
        return;
    }
    if (idle_) {
        finish_idle(line.text);
        return;
    }
    if (line.flags.nul) {
        parser_.reset();
        if (!count_bad_command()) untagged("BAD NUL byte in command");
        return;
    }
    handle_parse_event(parser_.feed_line(line.text));
}

void ImapSession::handle_parse_event(ParseEvent event) {
    if (auto* lit = std::get_if<NeedLiteral>(&event)) {
        // Before login only short literals (user name, password): an
        // unauthenticated "APPEND {50000000}" must not make us buffer it.
        if (state_ == State::NotAuthenticated && lit->synchronizing &&
            lit->size > context_.limits.max_string_literal_bytes) {
            std::string tag = parser_.tag();
            parser_.reset();
            if (!count_bad_command()) write_line(tag + " NO [TOOBIG] Literal too large");
            return;
        }
        if (lit->synchronizing) write_line("+ Ready for literal data");
        if (lit->size > 0) reader().expect_bytes(lit->size);
        return;
    }
    if (auto* err = std::get_if<ParseError>(&event)) {
        if (err->kind == ParseError::Kind::Fatal) {
            close_with_reply("* BYE " + err->text, "protocol-error");
            return;
        }
        if (count_bad_command()) return;
        std::string tag = err->tag.empty() ? "*" : err->tag;
        write_line(tag + (err->kind == ParseError::Kind::TooBig ? " NO [TOOBIG] " : " BAD ") +
                   err->text);
        return;
    }
    if (auto* cmd = std::get_if<Command>(&event)) dispatch(std::move(*cmd));
}

void ImapSession::dispatch(Command cmd) {
    std::string name = cmd.name;
    if (name == "UID") {
        if (cmd.args.empty() || !cmd.args.front().is_atom()) {
            bad(cmd, "UID needs a command");
            return;
        }
        name += ' ' + ascii_lowercase(cmd.args.front().text);
        for (char& c : name)
            c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
        cmd.args.erase(cmd.args.begin());
        cmd.name = name;
    }
    const CommandSpec* spec = find_command(name);
    if (spec == nullptr) {
        bad(cmd, "Unknown command");
        return;
    }
    unsigned mask = state_ == State::NotAuthenticated ? kNotAuthenticated
                    : state_ == State::Authenticated  ? kAuthenticated
                    : state_ == State::Selected       ? kSelected
                                                      : 0u;
    if ((spec->states & mask) == 0) {
        bad(cmd, std::string(name) + " not allowed in state " + state_name(state_));
        return;
    }
    spec->handler(*this, cmd);
}

void ImapSession::after_work() {
    if (busy_ || closing()) return;
    if (change_pending_ && idle_ && view_) {
        change_pending_ = false;
        refresh_view(true, nullptr);
        return;
    }
    resume();
}

namespace {
// Pieces handed to the connection at once: small against the write
// queue's high watermark, large enough to keep syscalls few.
constexpr std::size_t kBulkPieceBytes = 64u << 10;
}  // namespace

void ImapSession::send_bulk(std::string data, std::function<void(ImapSession&)> then) {
    suspend();
    busy_ = true;
    bulk_ = std::move(data);
    bulk_pos_ = 0;
    bulk_then_ = std::move(then);
    pump_bulk();
}

void ImapSession::pump_bulk() {
    if (!bulk_then_) return;
    while (bulk_pos_ < bulk_.size() && connection().writable() && !closing()) {
        std::size_t n = std::min(kBulkPieceBytes, bulk_.size() - bulk_pos_);
        write(std::string_view(bulk_).substr(bulk_pos_, n));
        bulk_pos_ += n;
    }
    if (closing() || bulk_pos_ < bulk_.size()) return;  // on_writable calls again
    auto then = std::move(bulk_then_);
    bulk_then_ = nullptr;
    bulk_.clear();
    bulk_.shrink_to_fit();
    busy_ = false;
    then(*this);
    after_work();
}

void ImapSession::resume_after(std::chrono::milliseconds delay,
                               std::function<void(ImapSession&)> fn) {
    suspend();
    busy_ = true;
    if (!delay_timer_) delay_timer_ = std::make_unique<loop::Timer>(loop());
    delay_timer_->start(delay, [this, fn = std::move(fn)] {
        // The timer belongs to this session and dies with it, so `this` is valid.
        busy_ = false;
        fn(*this);
        after_work();
    });
}

void ImapSession::expect_auth_response(
    Command cmd, std::function<void(ImapSession&, Command&, std::string_view)> fn) {
    write_line("+ ");
    auth_wait_ = AuthWait{std::move(cmd), std::move(fn)};
}

void ImapSession::start_idle(Command cmd) {
    write_line("+ idling");
    idle_ = std::move(cmd);
    const ImapLimits& l = context_.limits;
    idle_extension_ = std::chrono::steady_clock::now() + std::max(l.idle_keepalive, l.idle_timeout);
    arm_silence_timer();
    // Anything that changed since the last command is reported right away.
    if (view_) refresh_view(true, nullptr);
}

void ImapSession::finish_idle(std::string_view line) {
    Command cmd = std::move(*idle_);
    idle_.reset();
    arm_silence_timer();
    if (!iequals(line, "DONE")) {
        bad(cmd, "Expected DONE");
        return;
    }
    reply(cmd, "OK IDLE terminated");
}

void ImapSession::on_mailbox_changed() {
    if (!idle_ || !view_) return;  // non-idling sessions sync at their next command
    if (busy_) {
        change_pending_ = true;
        return;
    }
    refresh_view(true, nullptr);
}

namespace {
struct Fresh {
    bool ok = false;
    store::Failure failure;
    std::vector<store::MessageInfo> messages;
};
}  // namespace

void ImapSession::refresh_view(bool allow_expunge, std::function<void(ImapSession&)> after) {
    store::UserPaths paths = account_->paths;
    std::string mailbox = view_->name();
    run_blocking<Fresh>(
        [paths, mailbox] {
            Fresh f;
            auto index = store::MailboxIndex::open(paths);
            if (!index) {
                f.failure = index.error();
                return f;
            }
            auto list = index->list_messages(mailbox);
            if (!list) {
                f.failure = list.error();
                return f;
            }
            f.ok = true;
            f.messages = std::move(*list);
            return f;
        },
        [allow_expunge, after = std::move(after)](ImapSession& s, Fresh& f) {
            if (f.ok && s.view_) s.send(s.view_->sync(f.messages, allow_expunge));
            if (!f.ok) log::warn(s.log_context(), "refresh_failed").kv("error", f.failure.detail);
            // During IDLE there is no `after`: input simply flows again,
            // and DONE is a line like any other.
            if (after) after(s);
        });
}

}  // namespace postern::imap
