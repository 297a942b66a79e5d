// RCPT TO (RFC 5321 §4.1.1.3): one recipient, decided at once.
//
// rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
//        Forward-path ) [SP Rcpt-parameters] CRLF
//
// Order of checks: the recipient limit (452 4.5.3, RFC 5321 §4.5.3.1.10),
// relay spellings (554 5.7.1, relay_policy.h), then the directory lookup on
// the pool: local -> 250 2.1.5; unknown local address -> 550 5.1.1;
// another domain -> 554 5.7.1 relay denied, or for an authenticated
// submission user 250 2.1.5: the message will go through the outbound queue.
#include "common/base/ascii.h"
#include "common/log/log.h"
#include "smtpd/smtp_session.h"

namespace postern::smtp {

void SmtpSession::cmd_rcpt(const Command& cmd) {
    if (tx_->recipients().size() >= context_.limits.max_recipients) {
        reply(452, "4.5.3", "Too many recipients");
        return;
    }
    if (relay_spelling(cmd.path)) {
        log::info(log_context(), "relay-denied").kv("to", printable(cmd.path.address(), 256));
        reply_bad(554, "5.7.1", "Relay access denied");
        return;
    }
    pending_rcpt_ = TxRecipient{cmd.path.address(), cmd.rcpt_params};
    auto db = context_.directory_db;
    auto delimiter = context_.recipient_delimiter;
    auto path = cmd.path;
    await<RecipientVerdict>(
        [db, delimiter, path] {
            auto dir = store::Directory::open(db);
            if (!dir) return RecipientVerdict{RecipientKind::Temp, {}, dir.error().detail};
            return lookup_recipient(*dir, path, delimiter);
        },
        &SmtpSession::on_recipient_looked_up);
}

void SmtpSession::on_recipient_looked_up(RecipientVerdict verdict) {
    TxRecipient rcpt = std::move(*pending_rcpt_);
    pending_rcpt_.reset();
    switch (verdict.kind) {
        case RecipientKind::Local:
            rcpt.address = verdict.address;
            log::info(log_context(), "rcpt").kv("tx", tx_id_).kv("to", rcpt.address);
            tx_->add_recipient(std::move(rcpt));
            enter(State::Rcpt);
            reply(250, "2.1.5", "OK");
            break;
        case RecipientKind::Unknown:
            reply_bad(550, "5.1.1", "No such user here");
            break;
        case RecipientKind::Remote:
            if (context_.profile.relay_for_authenticated && user_) {
                rcpt.remote = true;
                log::info(log_context(), "rcpt")
                    .kv("tx", tx_id_)
                    .kv("to", rcpt.address)
                    .kv("remote", true);
                tx_->add_recipient(std::move(rcpt));
                enter(State::Rcpt);
                reply(250, "2.1.5", "OK");
            } else {
                log::info(log_context(), "relay-denied");
                reply_bad(554, "5.7.1", "Relay access denied");
            }
            break;
        case RecipientKind::Temp:
            log::warn(log_context(), "rcpt-lookup-failed").kv("detail", verdict.detail);
            reply(451, "4.3.0", "Temporary lookup failure, try again later");
            break;
    }
    if (!closing()) resume();
}

}  // namespace postern::smtp
