// AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN, for submission only.
//
// auth = "AUTH" SP sasl-mech [SP initial-response] *(CRLF [base64]) CRLF
//
// Policy: not offered on the MX (502); refused over plaintext unless the
// config allows loopback clients (538 5.7.11, RFC 4954 §4); not during a
// transaction and not twice (503, via the command table and here).
// Throttling (net::PeerTracker, per client IP and per user): each failure
// is logged for fail2ban and delays the next answer; past the limit the
// answer is 454 4.7.0 without even checking the password. A success clears
// the user's failures. Passwords stay in Secret<> and are checked on the
// pool (Argon2id must not block the loop), through the AuthCache.
#include "common/base/ascii.h"
#include "common/log/log.h"
#include "common/sasl/sasl.h"
#include "smtpd/smtp_session.h"

namespace postern::smtp {
namespace {

Reply throttled() {
    return make_reply(454, "4.7.0", "Too many failed authentication attempts, try again later");
}

}  // namespace

void SmtpSession::cmd_auth(const Command& cmd) {
    if (!context_.profile.offers_auth) {
        reply_bad(502, "5.5.1", "AUTH not available");
        return;
    }
    if (user_) {
        reply_bad(503, "5.5.1", "Already authenticated");
        return;
    }
    if (!auth_allowed_here()) {
        reply_bad(538, "5.7.11", "Encryption required for requested authentication mechanism");
        return;
    }
    const std::string_view arg = cmd.argument;
    const std::size_t sp = arg.find(' ');
    const std::string_view mechanism = arg.substr(0, sp);
    const bool has_initial = sp != std::string_view::npos;
    const std::string_view initial = has_initial ? arg.substr(sp + 1) : std::string_view{};
    const bool login = iequals(mechanism, "LOGIN");
    if (!login && !iequals(mechanism, "PLAIN")) {
        reply_bad(504, "5.5.4", "Unrecognized authentication type");
        return;
    }
    const std::string ip = peer().ip_string();
    if (context_.tracker != nullptr && context_.tracker->blocked(ip, "")) {
        reply_after_delay(context_.tracker->delay_for(ip, ""), throttled());
        return;
    }
    sasl_ = SaslExchange{.login = login, .user = {}};
    enter(State::Auth);
    if (!has_initial) {
        write_line(login ? "334 " + std::string(sasl::kLoginUserChallenge) : "334 ");
        return;
    }
    net::Line line{.text = initial, .flags = {}};
    on_sasl_line(line);
}

// One client response inside the exchange (or the initial response).
void SmtpSession::on_sasl_line(const net::Line& line) {
    auto abort_exchange = [this](int code, const char* enhanced, const char* text) {
        sasl_.reset();
        enter(State::Ready);
        reply_bad(code, enhanced, text);
    };
    if (sasl::is_cancel(line.text)) {
        abort_exchange(501, "5.7.0", "Authentication canceled");
        return;
    }
    if (!sasl_->login) {
        auto creds = sasl::decode_plain_base64(line.text);
        if (!creds) {
            abort_exchange(501, "5.5.2", "Invalid authentication data");
            return;
        }
        check_login(std::move(creds->authcid), std::move(creds->password));
        return;
    }
    if (sasl_->user.empty()) {
        auto user = sasl::decode_login_user(line.text);
        if (!user || user->empty()) {
            abort_exchange(501, "5.5.2", "Invalid authentication data");
            return;
        }
        sasl_->user = std::move(*user);
        write_line("334 " + std::string(sasl::kLoginPasswordChallenge));
        return;
    }
    auto password = sasl::decode_login_password(line.text);
    if (!password) {
        abort_exchange(501, "5.5.2", "Invalid authentication data");
        return;
    }
    check_login(std::move(sasl_->user), std::move(*password));
}

void SmtpSession::check_login(std::string user, Secret<std::string> password) {
    sasl_.reset();
    enter(State::Ready);
    sasl_user_ = std::move(user);
    const std::string ip = peer().ip_string();
    if (context_.tracker != nullptr && context_.tracker->blocked(ip, sasl_user_)) {
        reply_after_delay(context_.tracker->delay_for(ip, sasl_user_), throttled());
        return;
    }
    auto db = context_.directory_db;
    auto name = sasl_user_;
    store::AuthCache* cache = context_.auth_cache;
    await<store::LoginResult>(
        [db, name, password, cache] { return store::verify_login(db, name, password, cache); },
        &SmtpSession::on_login_checked);
}

void SmtpSession::on_login_checked(store::LoginResult result) {
    const std::string ip = peer().ip_string();
    switch (result.kind) {
        case store::LoginResult::Kind::Ok:
            if (context_.tracker != nullptr) context_.tracker->record_success(ip, sasl_user_);
            user_ = result.user->address();
            log::info(log_context(), "auth").kv("user", *user_);
            reply(235, "2.7.0", "Authentication successful");
            resume();
            return;
        case store::LoginResult::Kind::BadCredentials: {
            std::chrono::milliseconds delay{0};
            bool blocked = false;
            if (context_.tracker != nullptr) {
                context_.tracker->record_failure(ip, sasl_user_);
                delay = context_.tracker->delay_for(ip, sasl_user_);
                blocked = context_.tracker->blocked(ip, sasl_user_);
            }
            reply_after_delay(
                delay, blocked ? throttled()
                               : make_reply(535, "5.7.8", "Authentication credentials invalid"));
            return;
        }
        case store::LoginResult::Kind::Temp:
            log::error(log_context(), "auth-lookup-failed").kv("detail", result.detail);
            reply(454, "4.7.0", "Temporary authentication failure");
            resume();
            return;
    }
}

// Replies now, or after `delay` with the session suspended so nothing
// pipelined behind the AUTH overtakes the answer.
void SmtpSession::reply_after_delay(std::chrono::milliseconds delay, Reply r) {
    if (delay.count() == 0) {
        reply(r);
        resume();
        return;
    }
    suspend();
    delay_timer_.start(delay, [this, r = std::move(r)] {
        reply(r);
        resume();
    });
}

}  // namespace postern::smtp
