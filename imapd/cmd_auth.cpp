// The pre-authentication set (RFC 9051 §6.1, §6.2): CAPABILITY, NOOP,
// LOGOUT, ID, ENABLE, STARTTLS, LOGIN, AUTHENTICATE PLAIN (with SASL-IR,
// RFC 4959).
//
// Credentials are checked on the pool (Argon2id is slow on purpose) and the
// session is resumed by id. Plaintext credentials are refused before TLS
// unless auth.allow_plaintext_on_loopback and the peer is loopback. Failed
// attempts are throttled through the daemon's PeerTracker: each failure
// delays its own NO, and past the limit the password is not even checked
// ([UNAVAILABLE]).
#include <string>

#include "common/base/ascii.h"
#include "common/log/log.h"
#include "common/sasl/sasl.h"
#include "imapd/imap_commands.h"
#include "imapd/imap_response.h"
#include "imapd/imap_session.h"
#include "storage/login.h"

namespace postern::imap {

namespace {

struct Verification {
    enum class Outcome { Ok, BadCredentials, Temp } outcome = Outcome::Temp;
    Account account;
    std::string detail;  // for the log
};

// Checks the password (through the daemon's verification cache) and finds
// the user's paths. BLOCKING: runs on the pool.
Verification verify(const std::filesystem::path& data_dir, const std::string& user,
                    const Secret<std::string>& password, store::AuthCache* cache) {
    Verification v;
    auto login = store::verify_login(data_dir / "directory.db", user, password, cache);
    v.detail = std::move(login.detail);
    if (login.kind != store::LoginResult::Kind::Ok) {
        v.outcome = login.kind == store::LoginResult::Kind::Temp
                        ? Verification::Outcome::Temp
                        : Verification::Outcome::BadCredentials;
        return v;
    }
    const store::User& found = *login.user;
    auto paths = store::DataDir(data_dir).user(found.domain, found.local);
    if (!paths) {
        v.detail = paths.error().detail;
        return v;
    }
    v.outcome = Verification::Outcome::Ok;
    v.account = Account{found.address(), *paths, found.quota};
    return v;
}

void login_with(ImapSession& s, const Command& cmd, std::string user,
                Secret<std::string> password) {
    net::PeerTracker* tracker = s.context().tracker;
    std::string ip = s.peer().ip_string();
    if (tracker != nullptr && tracker->blocked(ip, user)) {
        log::warn(s.log_context(), "auth_blocked").kv("user", user);
        s.reply(cmd, "NO [UNAVAILABLE] Too many failed logins, try again later");
        return;
    }
    std::filesystem::path data_dir = s.context().data_dir;
    Command done_cmd{cmd.tag, cmd.name, {}};
    store::AuthCache* cache = s.context().auth_cache;
    s.run_blocking<Verification>(
        [data_dir, user, password, cache] { return verify(data_dir, user, password, cache); },
        [done_cmd, user, ip](ImapSession& s, Verification& v) {
            net::PeerTracker* tracker = s.context().tracker;
            if (v.outcome == Verification::Outcome::Ok) {
                if (tracker != nullptr) tracker->record_success(ip, user);
                log::info(s.log_context(), "login").kv("user", v.account.address);
                s.account() = std::move(v.account);
                s.enter(State::Authenticated);
                s.reply(done_cmd, "OK [CAPABILITY " + s.capabilities() + "] Logged in");
                return;
            }
            if (v.outcome == Verification::Outcome::Temp) {
                log::error(s.log_context(), "auth_unavailable").kv("error", v.detail);
                s.reply(done_cmd, "NO [UNAVAILABLE] Authentication temporarily unavailable");
                return;
            }
            std::chrono::milliseconds delay{0};
            if (tracker != nullptr) {
                tracker->record_failure(ip, user);
                delay = tracker->delay_for(ip, user);
            }
            s.resume_after(delay, [done_cmd](ImapSession& s) {
                s.reply(done_cmd, "NO [AUTHENTICATIONFAILED] Authentication failed");
            });
        });
}

}  // namespace

void cmd_capability(ImapSession& s, Command& cmd) {
    s.untagged("CAPABILITY " + s.capabilities());
    s.reply(cmd, "OK Capability completed");
}

void cmd_noop(ImapSession& s, Command& cmd) {
    if (s.state() == State::Selected) {
        Command done{cmd.tag, cmd.name, {}};
        s.refresh_view(true, [done](ImapSession& s) { s.reply(done, "OK NOOP completed"); });
        return;
    }
    s.reply(cmd, "OK NOOP completed");
}

void cmd_logout(ImapSession& s, Command& cmd) {
    s.untagged("BYE Logging out");
    s.enter(State::Logout);
    s.reply(cmd, "OK Logout completed");
    s.close("logout");
}

// ID (RFC 2971): we say who we are and log nothing of what the client says.
void cmd_id(ImapSession& s, Command& cmd) {
    if (cmd.args.size() != 1 || (!cmd.args[0].is_nil() && !cmd.args[0].is_list())) {
        s.bad(cmd, "ID expects NIL or a list");
        return;
    }
    s.untagged("ID (\"name\" \"Postern\")");
    s.reply(cmd, "OK ID completed");
}

// ENABLE (RFC 5161): IMAP4rev2 (RFC 9051 §6.3.1) and UTF8=ACCEPT (RFC
// 6855 §3). Unknown names are ignored; ENABLED lists only what this command
// turned on (RFC 5161 §3.1), so a repeated ENABLE answers "* ENABLED".
void cmd_enable(ImapSession& s, Command& cmd) {
    if (cmd.args.empty()) {
        s.bad(cmd, "ENABLE needs arguments");
        return;
    }
    for (const Arg& a : cmd.args) {
        if (!a.is_atom()) {
            s.bad(cmd, "ENABLE expects capability names");
            return;
        }
    }
    std::string enabled = "ENABLED";
    Enabled& on = s.enabled();
    for (const Arg& a : cmd.args) {
        bool* flag = a.is("IMAP4rev2")     ? &on.imap4rev2
                     : a.is("UTF8=ACCEPT") ? &on.utf8_accept
                                           : nullptr;
        if (flag == nullptr || *flag) continue;
        *flag = true;
        enabled += a.is("IMAP4rev2") ? " IMAP4rev2" : " UTF8=ACCEPT";
    }
    s.untagged(enabled);
    s.reply(cmd, "OK ENABLE completed");
}

void cmd_starttls(ImapSession& s, Command& cmd) {
    if (s.context().tls == nullptr || s.tls_active()) {
        s.bad(cmd, s.tls_active() ? "TLS already active" : "STARTTLS not available");
        return;
    }
    if (!cmd.args.empty()) {
        s.bad(cmd, "STARTTLS takes no arguments");
        return;
    }
    s.reply(cmd, "OK Begin TLS negotiation now");
    s.start_tls_now();
}

void cmd_login(ImapSession& s, Command& cmd) {
    if (cmd.args.size() != 2 || !cmd.args[0].is_astring() || !cmd.args[1].is_astring()) {
        s.bad(cmd, "LOGIN expects user name and password");
        return;
    }
    if (!s.plaintext_auth_allowed()) {
        s.reply(cmd, "NO [PRIVACYREQUIRED] Use STARTTLS first");
        return;
    }
    login_with(s, cmd, cmd.args[0].text, Secret<std::string>(std::move(cmd.args[1].text)));
}

namespace {

void authenticate_plain(ImapSession& s, Command& cmd, std::string_view response) {
    if (sasl::is_cancel(response)) {
        s.reply(cmd, "BAD Authentication cancelled");
        return;
    }
    auto creds = sasl::decode_plain_base64(response);
    if (!creds) {
        log::info(s.log_context(), "auth_malformed").kv("error", sasl::to_string(creds.error()));
        s.reply(cmd, "BAD Malformed PLAIN response");
        return;
    }
    login_with(s, cmd, creds->authcid, std::move(creds.value().password));
}

}  // namespace

// AUTHENTICATE PLAIN [initial-response]   (RFC 9051 §6.2.2, RFC 4959)
void cmd_authenticate(ImapSession& s, Command& cmd) {
    if (cmd.args.empty() || cmd.args.size() > 2 || !cmd.args[0].is_atom()) {
        s.bad(cmd, "AUTHENTICATE expects a mechanism");
        return;
    }
    if (!iequals(cmd.args[0].text, "PLAIN")) {
        s.reply(cmd, "NO [CANNOT] Unsupported authentication mechanism");
        return;
    }
    if (!s.plaintext_auth_allowed()) {
        s.reply(cmd, "NO [PRIVACYREQUIRED] Use STARTTLS first");
        return;
    }
    if (cmd.args.size() == 2) {
        std::string ir = cmd.args[1].text;
        authenticate_plain(s, cmd, ir);
        return;
    }
    s.expect_auth_response(Command{cmd.tag, cmd.name, {}}, authenticate_plain);
}

}  // namespace postern::imap
