// Session: the base of every protocol session (SMTP, LMTP, IMAP, POP3).
//
// Owns the Connection, the session id (random 64-bit, logged as s=%08x), the
// LogContext, an idle timer (reset on client input) and a whole-session
// timer, and the bad-command counter. A protocol subclass implements
// on_start() (greeting) and on_input(), pulling events from reader() until
// NeedMore or until it suspends.
//
// Async contract (STYLE.md §9):
// - A command handler ends in one of two ways: Done (its reply is written)
//   or Pending (it called suspend() and queued blocking work with
//   loop::submit_work(loop(), registry(), id(), ...)).
// - While suspended the session reads nothing and its idle timer is off;
//   pipelined commands wait, buffered, in reader().
// - The completion finds the session by id; if the client has gone, the
//   result is dropped. Otherwise it writes EXACTLY ONE reply for the pending
//   command and calls resume(), which processes buffered input again.
//   Because nothing else runs while suspended, replies leave in command order.
// - Never capture `this` (or any Session*) in work submitted to the pool.
//
// Lifetime: the Listener owns sessions in its registry; a session is erased
// only after its Connection reports closed, never earlier.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/log/log.h"
#include "common/loop/timer.h"
#include "common/loop/work.h"
#include "common/net/address.h"
#include "common/net/conn_limits.h"
#include "common/net/connection.h"

namespace postern::net {

using SessionId = loop::SessionId;
class Session;
using SessionRegistry = loop::SessionRegistry<Session>;

// What a listener hands to a new session.
struct SessionInit {
    loop::Loop* loop = nullptr;
    SessionRegistry* registry = nullptr;
    SessionId id = 0;
    ConnectionLimits limits;
    std::unique_ptr<Connection> connection;
    SSL_CTX* implicit_tls = nullptr;  // set on 465/993/995 listeners
};

class Session {
  public:
    explicit Session(SessionInit init);
    virtual ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Called once by the listener: starts timers and reading, then the TLS
    // handshake (implicit TLS) or the greeting.
    void start();
    // The listener's hook: runs after the connection has fully closed.
    void set_on_finished(std::function<void(SessionId)> fn) { on_finished_ = std::move(fn); }

    SessionId id() const { return id_; }
    const Address& peer() const { return connection_->peer(); }
    const log::LogContext& log_context() const { return log_; }
    const ConnectionLimits& limits() const { return limits_; }
    Connection& connection() { return *connection_; }
    LineReader& reader() { return connection_->reader(); }
    loop::Loop& loop() { return *loop_; }
    SessionRegistry& registry() { return *registry_; }

    // `line` without CRLF; the terminator is added here.
    void write_line(std::string_view line);
    void write(std::string_view bytes);
    // Sends a final reply ("421 4.4.2 Timeout", "* BYE ...") and closes
    // after it has been flushed; `reason` goes to the disconnect log line.
    void close_with_reply(std::string_view line, std::string reason);
    void close(std::string reason);
    bool closing() const { return connection_->closing(); }

    // Counts one bad command. Past max_bad_commands the session closes with
    // too_many_errors_reply() and this returns true.
    bool count_bad_command();
    unsigned bad_commands() const { return bad_commands_; }

    void suspend();
    void resume();
    bool suspended() const { return suspended_; }

  protected:
    virtual void on_start() = 0;
    virtual void on_input() = 0;
    virtual void on_writable() {}
    virtual void on_tls_ready() {}
    // Protocol texts for the closes the base class makes (without CRLF);
    // empty means close silently.
    virtual std::string timeout_reply() const { return {}; }
    virtual std::string too_many_errors_reply() const { return {}; }

  private:
    void handle_input();
    void handle_tls_ready();
    void handle_closed(const std::string& reason);
    void on_idle_timeout();
    void on_session_timeout();

    loop::Loop* loop_;
    SessionRegistry* registry_;
    SessionId id_;
    ConnectionLimits limits_;
    std::unique_ptr<Connection> connection_;
    SSL_CTX* implicit_tls_;
    log::LogContext log_;
    loop::Timer idle_timer_;
    loop::Timer session_timer_;
    std::function<void(SessionId)> on_finished_;
    unsigned bad_commands_ = 0;
    bool suspended_ = false;
    bool started_ = false;
};

}  // namespace postern::net
