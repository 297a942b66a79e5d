#include "common/net/session.h"

#include <utility>

namespace postern::net {

Session::Session(SessionInit init)
    : loop_(init.loop),
      registry_(init.registry),
      id_(init.id),
      limits_(init.limits),
      connection_(std::move(init.connection)),
      implicit_tls_(init.implicit_tls),
      log_(log::LogContext::for_session(id_, connection_->peer().peer_string())),
      idle_timer_(*loop_),
      session_timer_(*loop_) {}

Session::~Session() = default;

void Session::start() {
    POSTERN_ASSERT(!started_);
    started_ = true;
    connection_->set_callbacks(ConnectionCallbacks{
        .on_input = [this] { handle_input(); },
        .on_writable = [this] { on_writable(); },
        .on_tls_ready = [this] { handle_tls_ready(); },
        .on_closed = [this](const std::string& reason) { handle_closed(reason); },
    });
    log::info(log_, "connect");
    idle_timer_.start(limits_.idle_timeout, [this] { on_idle_timeout(); });
    session_timer_.start(limits_.session_timeout, [this] { on_session_timeout(); });
    connection_->set_reading(true);
    if (implicit_tls_ != nullptr) {
        connection_->start_tls_server(implicit_tls_);  // greeting after the handshake
        return;
    }
    on_start();
}

void Session::write_line(std::string_view line) {
    std::string out;
    out.reserve(line.size() + 2);
    out.append(line);
    out.append("\r\n");
    connection_->write(out);
}

void Session::write(std::string_view bytes) {
    connection_->write(bytes);
}

void Session::close_with_reply(std::string_view line, std::string reason) {
    if (closing()) return;
    if (!line.empty()) write_line(line);
    close(std::move(reason));
}

void Session::close(std::string reason) {
    idle_timer_.stop();
    connection_->close(std::move(reason));
}

bool Session::count_bad_command() {
    if (++bad_commands_ <= limits_.max_bad_commands) return false;
    close_with_reply(too_many_errors_reply(), "too-many-bad-commands");
    return true;
}

void Session::suspend() {
    suspended_ = true;
    idle_timer_.stop();
    connection_->set_reading(false);
}

void Session::resume() {
    if (!suspended_ || closing()) return;
    suspended_ = false;
    idle_timer_.again();
    connection_->set_reading(true);
    // Pipelined commands that arrived meanwhile are already buffered.
    if (reader().buffered_bytes() > 0) on_input();
}

void Session::handle_input() {
    idle_timer_.again();
    if (!suspended_ && !closing()) on_input();
}

void Session::handle_tls_ready() {
    log::info(log_, "tls").kv("cipher", connection_->tls_description());
    if (implicit_tls_ != nullptr && !closing()) {
        implicit_tls_ = nullptr;
        on_start();
        return;
    }
    on_tls_ready();
}

void Session::on_idle_timeout() {
    close_with_reply(timeout_reply(), "idle-timeout");
}

void Session::on_session_timeout() {
    if (closing()) {
        connection_->abort("session-timeout");
        return;
    }
    close_with_reply(timeout_reply(), "session-timeout");
}

void Session::handle_closed(const std::string& reason) {
    idle_timer_.stop();
    session_timer_.stop();
    log::info(log_, "disconnect")
        .kv("reason", reason)
        .kv("in", connection_->bytes_read())
        .kv("out", connection_->bytes_written());
    // on_finished erases this session: copy what we need, touch nothing after.
    auto finished = std::move(on_finished_);
    SessionId id = id_;
    if (finished) finished(id);
}

}  // namespace postern::net
