// See pop3_session.h: lifecycle, login, RETR/TOP streaming and UPDATE. The
// command table and the verbs live in pop3_commands.cpp.
#include "pop3d/pop3_session.h"

#include <cinttypes>
#include <cstdio>

#include "common/base/ascii.h"
#include "common/loop/work.h"

namespace postern::pop3 {

namespace {

template <typename R>
void on_pool(Pop3Session& s, std::function<R()> blocking,
             std::function<void(Pop3Session&, R)> resume) {
    loop::submit_work<net::Session, R>(s.loop(), s.registry(), s.id(), std::move(blocking),
                                       [resume = std::move(resume)](net::Session& base, R result) {
                                           // Every session in a pop3d listener is a Pop3Session.
                                           resume(static_cast<Pop3Session&>(base),
                                                  std::move(result));
                                       });
}

}  // namespace

const char* to_string(State s) {
    switch (s) {
        case State::Authorization:
            return "AUTHORIZATION";
        case State::Transaction:
            return "TRANSACTION";
        case State::Update:
            return "UPDATE";
    }
    return "?";
}

Pop3Session::Pop3Session(net::SessionInit init, std::shared_ptr<Pop3Context> context)
    : net::Session(std::move(init)), context_(std::move(context)), delay_timer_(loop()) {}

Pop3Session::~Pop3Session() {
    if (!locked_key_.empty()) context_->locks.unlock(locked_key_);
}

void Pop3Session::on_start() {
    // RFC 1939 §4 greeting; no APOP timestamp because APOP is not offered.
    write_line("+OK Postern POP3 server ready");
}

std::string Pop3Session::timeout_reply() const {
    return "-ERR Disconnected for inactivity";
}

std::string Pop3Session::too_many_errors_reply() const {
    return "-ERR Too many bad commands, closing connection";
}

void Pop3Session::enter(State next) {
    log::info(log_context(), "state").kv("from", to_string(state_)).kv("to", to_string(next));
    state_ = next;
}

void Pop3Session::on_input() {
    while (!suspended() && !closing()) {
        auto ev = reader().next();
        if (std::holds_alternative<net::NeedMore>(ev)) return;
        if (std::holds_alternative<net::TooLong>(ev)) {
            awaiting_sasl_response_ = false;
            bad_command("-ERR Line too long");
            continue;
        }
        if (const auto* line = std::get_if<net::Line>(&ev)) {
            if (line->flags.nul) {
                awaiting_sasl_response_ = false;
                bad_command("-ERR NUL byte in command");
                continue;
            }
            handle_line(line->text);
        }
    }
}

void Pop3Session::bad_command(std::string_view reply) {
    write_line(reply);
    count_bad_command();
}

std::string Pop3Session::internal_error() const {
    char text[24];
    std::snprintf(text, sizeof text, "%08" PRIx64, id());
    return std::string("-ERR [SYS/TEMP] Internal error [session ") + text + "]";
}

bool Pop3Session::auth_allowed() {
    if (connection().tls_active()) return true;
    return context_->allow_plaintext_on_loopback && peer().is_loopback();
}

// ---- login ----

Pop3Session::Outcome Pop3Session::start_login(std::string user, Secret<std::string> password) {
    // Local parts match case-insensitively, so throttle on one spelling:
    // "ALICE@..." must not get a fresh set of guesses.
    user = ascii_lowercase(user);
    std::string ip = peer().ip_string();
    if (context_->tracker->blocked(ip, user)) {
        log::warn(log_context(), "auth-blocked").kv("rip", ip).kv("user", user);
        write_line("-ERR [SYS/TEMP] Too many failed logins, try again later");
        return Outcome::Done;
    }
    suspend();
    pending_login_user_ = user;
    on_pool<store::LoginResult>(
        *this,
        [dir = context_->data_dir, cache = context_->auth_cache, user = std::move(user),
         password = std::move(password)] {
            return store::verify_login(dir / "directory.db", user, password, cache.get());
        },
        [](Pop3Session& s, store::LoginResult check) { s.login_checked(std::move(check)); });
    return Outcome::Pending;
}

void Pop3Session::login_checked(store::LoginResult check) {
    std::string ip = peer().ip_string();
    std::string user = std::move(pending_login_user_);
    pending_login_user_.clear();
    if (check.kind == store::LoginResult::Kind::Temp) {
        log::error(log_context(), "auth-error").kv("user", user).kv("detail", check.detail);
        write_line(internal_error());
        resume();
        return;
    }
    if (check.kind == store::LoginResult::Kind::BadCredentials) {
        context_->tracker->record_failure(ip, user);
        log::info(log_context(), "login-failed").kv("user", user).kv("reason", check.detail);
        // The delay before the answer is the throttle (peer_tracker.h).
        auto delay = context_->tracker->delay_for(ip, user);
        delay_timer_.start(delay, [this] { login_failed("-ERR [AUTH] Authentication failed"); });
        return;
    }
    context_->tracker->record_success(ip, user);
    std::string key = check.user->address();
    if (!context_->locks.try_lock(key)) {
        log::info(log_context(), "login-in-use").kv("user", key);
        write_line("-ERR [IN-USE] Maildrop is locked by another POP3 session");
        resume();
        return;
    }
    locked_key_ = key;
    on_pool<PoolResult<Maildrop>>(
        *this,
        [dir = context_->data_dir, u = std::move(*check.user), sizes = context_->sizes] {
            return PoolResult<Maildrop>::from(load_maildrop(dir, u, *sizes));
        },
        [](Pop3Session& s, PoolResult<Maildrop> drop) { s.maildrop_loaded(std::move(drop)); });
}

void Pop3Session::login_failed(std::string_view reply) {
    write_line(reply);
    count_bad_command();
    resume();
}

void Pop3Session::maildrop_loaded(PoolResult<Maildrop> drop) {
    if (!drop.value) {
        log::error(log_context(), "maildrop-error")
            .kv("user", locked_key_)
            .kv("error", store::store_error_name(drop.failure.code))
            .kv("detail", drop.failure.detail);
        context_->locks.unlock(locked_key_);
        locked_key_.clear();
        write_line(internal_error());
        resume();
        return;
    }
    maildrop_ = std::move(*drop.value);
    log::info(log_context(), "login")
        .kv("user", locked_key_)
        .kv("tls", connection().tls_active() ? "yes" : "no")
        .kv("messages", live_count());
    enter(State::Transaction);
    write_line("+OK Logged in, " + std::to_string(live_count()) + " messages (" +
               std::to_string(live_octets()) + " octets)");
    resume();
}

std::uint64_t Pop3Session::live_count() const {
    std::uint64_t n = 0;
    for (const auto& m : maildrop_->messages)
        n += m.deleted ? 0 : 1;
    return n;
}

std::uint64_t Pop3Session::live_octets() const {
    std::uint64_t n = 0;
    for (const auto& m : maildrop_->messages)
        n += m.deleted ? 0 : m.wire_size;
    return n;
}

// ---- RETR / TOP ----

Pop3Session::Outcome Pop3Session::start_transfer(std::size_t index,
                                                 std::optional<std::uint64_t> body_lines) {
    if (!body_lines && retr_from_read_ahead(index)) return Outcome::Done;
    suspend();
    const auto& m = maildrop_->messages[index];
    std::string status = body_lines ? std::string("+OK Top of message follows")
                                    : "+OK " + std::to_string(m.wire_size) + " octets";
    std::vector<ReadAheadCandidate> ahead;
    if (!body_lines) ahead = read_ahead_candidates(index);
    transfer_ = std::make_shared<MessageTransfer>(context_->limits.retr_chunk_bytes, body_lines);
    on_pool<ChunkResult>(
        *this,
        [t = transfer_, dir = context_->data_dir, user = maildrop_->user, m,
         status = std::move(status), ahead = std::move(ahead),
         budget = context_->limits.retr_read_ahead_bytes] {
            auto r = t->first(dir, user, m, status);
            if (r.last && r.error == ChunkResult::Error::None && !ahead.empty()) {
                r.ahead = read_ahead(ahead, budget);
            }
            return r;
        },
        [index](Pop3Session& s, ChunkResult r) { s.first_chunk_read(index, std::move(r)); });
    return Outcome::Pending;
}

std::vector<ReadAheadCandidate> Pop3Session::read_ahead_candidates(std::size_t index) const {
    std::vector<ReadAheadCandidate> out;
    std::uint64_t budget = context_->limits.retr_read_ahead_bytes;
    std::uint64_t used = 0;
    const auto& all = maildrop_->messages;
    for (std::size_t i = index + 1; i < all.size(); ++i) {
        if (all[i].deleted) continue;
        if (all[i].wire_size > budget - used) break;
        used += all[i].wire_size;
        out.push_back({i, all[i].path, all[i].wire_size});
    }
    return out;
}

bool Pop3Session::retr_from_read_ahead(std::size_t index) {
    // Entries before `index` were skipped by the client: drop them.
    auto it = ahead_.begin();
    while (it != ahead_.end() && it->index < index)
        ++it;
    bool hit = it != ahead_.end() && it->index == index;
    if (hit) write(it->reply);
    ahead_.erase(ahead_.begin(), hit ? it + 1 : it);
    return hit;
}

void Pop3Session::first_chunk_read(std::size_t index, ChunkResult r) {
    if (r.error == ChunkResult::Error::None) {
        ahead_ = std::move(r.ahead);
        chunk_read(std::move(r));
        return;
    }
    // Nothing of the reply has been sent: an -ERR still fits.
    transfer_.reset();
    if (r.error == ChunkResult::Error::Gone) {
        // Expunged by another client (IMAP) since login.
        write_line("-ERR Message " + std::to_string(index + 1) + " is no longer available");
    } else {
        log::error(log_context(), "retr-error").kv("detail", r.detail);
        write_line(internal_error());
    }
    resume();
}

void Pop3Session::read_next_chunk() {
    on_pool<ChunkResult>(
        *this, [t = transfer_] { return t->next(); },
        [](Pop3Session& s, ChunkResult r) { s.chunk_read(std::move(r)); });
}

void Pop3Session::chunk_read(ChunkResult r) {
    if (r.error != ChunkResult::Error::None) {
        // Half a multi-line response is out: the only honest end is closing.
        log::error(log_context(), "retr-read-error").kv("detail", r.detail);
        transfer_.reset();
        close("read-error");
        return;
    }
    if (closing()) {  // the client has gone: read no further
        transfer_.reset();
        return;
    }
    write(r.data);
    if (r.last) {
        transfer_.reset();
        resume();
        return;
    }
    if (connection().writable()) {
        read_next_chunk();
    } else {
        waiting_writable_ = true;  // on_writable() continues
    }
}

void Pop3Session::on_writable() {
    if (!waiting_writable_ || !transfer_ || closing()) return;
    waiting_writable_ = false;
    read_next_chunk();
}

// ---- UPDATE ----

void Pop3Session::update_done(PoolResult<std::size_t> removed, std::size_t wanted) {
    if (!removed.value) {
        log::error(log_context(), "update-error")
            .kv("user", locked_key_)
            .kv("detail", removed.failure.detail);
        close_with_reply("-ERR [SYS/TEMP] Some deleted messages not removed", "quit");
        return;
    }
    std::uint64_t n = *removed.value;
    log::info(log_context(), "update").kv("user", locked_key_).kv("deleted", n);
    if (n < wanted) {
        // The rest were already expunged by another client: gone either way.
        log::info(log_context(), "update-partial").kv("wanted", wanted);
    }
    close_with_reply("+OK Bye, " + std::to_string(n) + " messages deleted", "quit");
}

}  // namespace postern::pop3
