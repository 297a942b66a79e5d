// ImapSession: one IMAP connection (RFC 9051), on net::Session.
//
// States (RFC 9051 §3): NotAuthenticated -> Authenticated <-> Selected ->
// Logout, changed only by enter(), which logs "from -> to".
//
// Input: the LineReader frames lines and literal bytes; CommandParser turns
// them into Commands; a synchronizing literal gets "+ Ready" only after its
// size has passed the limits, so an oversized literal is refused before any
// of it is read. Two sub-dialogues take lines directly instead of commands:
// an AUTHENTICATE exchange waiting for the client's response, and IDLE
// waiting for DONE.
//
// Dispatch: the command table (imap_commands.h) holds the states each
// command is allowed in; the dispatcher checks them once. A handler either
// answers at once or calls run_blocking(), which suspends the session (no
// input is processed, pipelined commands wait buffered) until the
// completion, found again by session id, has written the one tagged reply.
// Never capture `this` in pool work.
//
// Timers (RFC 9051 §5.4, RFC 2177 §3): the session keeps its own silence
// timer (limits.idle_timeout, reset by input, paused while a command runs)
// and lifetime deadline (limits.session_timeout-like session_lifetime).
// IDLE changes both: while idling, silence is allowed for at least
// idle_keepalive, and the lifetime is never reached while idling or within
// max(idle_keepalive, idle_timeout) of the last IDLE, so a client that
// re-issues IDLE every 29 minutes stays connected. net::Session's own
// timers are set as loose backstops by the service (imap_service.cpp).
//
// Selected state: every handler that reads the mailbox on the pool brings
// back a fresh message list, and the completion syncs the MailboxView,
// writing EXISTS/EXPUNGE/FETCH FLAGS before the tagged reply (EXPUNGE only
// where RFC 9051 §7.5.1 allows it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/net/peer_tracker.h"
#include "common/net/session.h"
#include "imapd/imap_limits.h"
#include "imapd/imap_parser.h"
#include "imapd/imap_response.h"
#include "imapd/mailbox_view.h"
#include "storage/data_dir.h"
#include "storage/directory.h"
#include "storage/login.h"

namespace postern::tls {
class TlsContext;
}

namespace postern::imap {

class ChangeHub;

// What every session of a daemon shares; owned by the service.
struct ImapContext {
    ImapLimits limits;
    std::filesystem::path data_dir;
    const tls::TlsContext* tls = nullptr;  // STARTTLS; null: not offered
    net::PeerTracker* tracker = nullptr;
    bool allow_plaintext_on_loopback = false;
    ChangeHub* changes = nullptr;            // null: no IDLE notifications (tests)
    store::AuthCache* auth_cache = nullptr;  // null: every login runs Argon2id
};

// The logged-in user.
struct Account {
    std::string address;
    store::UserPaths paths;
    store::Quota quota;
};

enum class State { NotAuthenticated, Authenticated, Selected, Logout };
const char* state_name(State state);

// Extensions the client has ENABLEd (RFC 5161); once on, never off.
struct Enabled {
    bool imap4rev2 = false;    // RFC 9051 behaviour where it differs from rev1
    bool utf8_accept = false;  // RFC 6855: UTF-8 mailbox names and strings
};

class ImapSession final : public net::Session {
  public:
    ImapSession(net::SessionInit init, const ImapContext& context);
    ~ImapSession() override;

    // --- for command handlers ---
    const ImapContext& context() const { return context_; }
    State state() const { return state_; }
    void enter(State next);
    // Raw bytes (a response with literals); must end in CRLF.
    void send(std::string_view bytes) { write(bytes); }
    void untagged(std::string_view text);                   // "* " + text + CRLF
    void reply(const Command& cmd, std::string_view text);  // tag + " " + text + CRLF
    // Counts a bad command and sends "tag BAD text" (unless the count closed us).
    void bad(const Command& cmd, std::string_view text);

    bool tls_active() { return connection().tls_active(); }
    // LOGIN/AUTHENTICATE allowed on this connection now (RFC 9051 §6.2.3).
    bool plaintext_auth_allowed();
    std::string capabilities();

    Enabled& enabled() { return enabled_; }
    bool rev2() const { return enabled_.imap4rev2; }
    // Mailbox names in UTF-8 once IMAP4rev2 (RFC 9051 §5.1) or UTF8=ACCEPT
    // (RFC 6855 §3) is enabled; modified UTF-7 before.
    NameEncoding names() const {
        return enabled_.imap4rev2 || enabled_.utf8_accept ? NameEncoding::Utf8
                                                          : NameEncoding::ModifiedUtf7;
    }

    std::optional<Account>& account() { return account_; }
    std::optional<MailboxView>& view() { return view_; }
    // SEARCHRES "$" (RFC 5182); emptied by enter() on every mailbox change.
    SavedResult& saved_result() { return saved_; }

    // Runs `work` on the pool; `done` runs on the loop with the session
    // suspended and must write the command's reply (or start more work).
    template <typename R>
    void run_blocking(std::function<R()> work, std::function<void(ImapSession&, R&)> done);
    // Writes a large response (FETCH bodies) in pieces, honouring the
    // connection's backpressure; `then` runs once all of it is queued.
    void send_bulk(std::string data, std::function<void(ImapSession&)> then);
    // Suspends for `delay`, then runs `fn` (auth-failure throttling).
    void resume_after(std::chrono::milliseconds delay, std::function<void(ImapSession&)> fn);

    // STARTTLS after the tagged OK: discards pipelined plaintext.
    void start_tls_now();
    // AUTHENTICATE without an initial response: the next line is the
    // client's answer to "+ ", handed to fn.
    void expect_auth_response(Command cmd,
                              std::function<void(ImapSession&, Command&, std::string_view)> fn);
    // IDLE: "+ idling" was sent; DONE ends it with the tagged OK.
    void start_idle(Command cmd);
    bool idling() const { return idle_.has_value(); }
    // The change hub's wake-up (another process changed this user's index).
    void on_mailbox_changed();
    // Refresh the selected mailbox on the pool and write the updates; then
    // `after` (may be empty) runs.
    void refresh_view(bool allow_expunge, std::function<void(ImapSession&)> after);

  protected:
    void on_start() override;
    void on_input() override;
    void on_tls_ready() override;
    void on_writable() override { pump_bulk(); }
    std::string timeout_reply() const override { return "* BYE Idle timeout, closing"; }
    std::string too_many_errors_reply() const override { return "* BYE Too many bad commands"; }

  private:
    void arm_silence_timer();
    void on_silence();
    void on_lifetime_end();
    void handle_line(const net::Line& line);
    void handle_parse_event(ParseEvent event);
    void dispatch(Command cmd);
    void finish_idle(std::string_view line);
    void after_work();
    void pump_bulk();

    const ImapContext& context_;
    CommandParser parser_;
    State state_ = State::NotAuthenticated;
    std::optional<Account> account_;
    Enabled enabled_;
    std::optional<MailboxView> view_;
    SavedResult saved_;
    struct AuthWait {
        Command cmd;
        std::function<void(ImapSession&, Command&, std::string_view)> fn;
    };
    std::optional<AuthWait> auth_wait_;
    std::optional<Command> idle_;
    std::unique_ptr<loop::Timer> delay_timer_;
    loop::Timer silence_timer_;
    loop::Timer lifetime_timer_;
    // The lifetime is not enforced before this (set by IDLE).
    std::chrono::steady_clock::time_point idle_extension_{};
    std::string bulk_;  // output not yet handed to the connection
    std::size_t bulk_pos_ = 0;
    std::function<void(ImapSession&)> bulk_then_;
    bool busy_ = false;            // pool work, a delay or bulk output in flight
    bool change_pending_ = false;  // a change arrived while busy
    bool registered_ = false;      // with the change hub
};

template <typename R>
void ImapSession::run_blocking(std::function<R()> work,
                               std::function<void(ImapSession&, R&)> done) {
    suspend();
    busy_ = true;
    loop::submit_work<net::Session, R>(loop(), registry(), id(), std::move(work),
                                       [done = std::move(done)](net::Session& s, R result) {
                                           auto& self = static_cast<ImapSession&>(s);
                                           self.busy_ = false;
                                           done(self, result);
                                           self.after_work();
                                       });
}

}  // namespace postern::imap
