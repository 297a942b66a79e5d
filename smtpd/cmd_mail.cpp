// MAIL FROM (RFC 5321 §4.1.1.2): opens the transaction.
//
// mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
//
// Checks: a declared SIZE over the limit is refused here, before any data
// (RFC 1870 §6.1: 552 5.3.4); BODY=BINARYMIME needs an extension we do not
// offer (RFC 3030 §3). Submission: the sender must be an address the
// logged-in user owns (their own, plus-addressed, or an alias pointing to
// them): else 553 5.7.1. That lookup runs on the pool.
#include "common/base/ascii.h"
#include "common/log/log.h"
#include "smtpd/smtp_session.h"

namespace postern::smtp {

void SmtpSession::cmd_mail(const Command& cmd) {
    const MailParams& params = cmd.mail_params;
    if (params.size && *params.size > context_.limits.max_message_bytes) {
        reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
        return;
    }
    if (params.body == Body::BinaryMime) {
        reply_bad(555, "5.5.4", "BODY=BINARYMIME not supported");
        return;
    }
    if (!context_.profile.sender_must_be_owned) {
        open_transaction(cmd.path, params);
        return;
    }
    pending_mail_.emplace(cmd.path, params);
    auto db = context_.directory_db;
    auto delimiter = context_.recipient_delimiter;
    auto user = *user_;
    auto sender = cmd.path;
    await<SenderVerdict>(
        [db, delimiter, user, sender] {
            auto dir = store::Directory::open(db);
            if (!dir) return SenderVerdict::Temp;
            return check_sender(*dir, user, sender, delimiter);
        },
        &SmtpSession::on_sender_checked);
}

void SmtpSession::on_sender_checked(SenderVerdict verdict) {
    auto [sender, params] = std::move(*pending_mail_);
    pending_mail_.reset();
    switch (verdict) {
        case SenderVerdict::Owned:
            open_transaction(std::move(sender), std::move(params));
            break;
        case SenderVerdict::NotOwned:
            log::info(log_context(), "sender-refused")
                .kv("user", *user_)
                .kv("from", printable(sender.address(), 256));
            reply(553, "5.7.1", "Sender address not owned by the authenticated user");
            break;
        case SenderVerdict::Temp:
            log::warn(log_context(), "sender-check-failed").kv("user", *user_);
            reply(451, "4.3.0", "Temporary lookup failure, try again later");
            break;
    }
    resume();
}

void SmtpSession::open_transaction(Path sender, MailParams params) {
    tx_id_ = new_transaction_id();
    log::info(log_context(), "mail")
        .kv("tx", tx_id_)
        .kv("from", printable(sender.address(), 256))
        .kv("size", params.size ? *params.size : 0);
    tx_.emplace(std::move(sender), std::move(params),
                Spool(context_.spool_dir, context_.limits.spool_memory_bytes),
                context_.limits.max_message_bytes);
    enter(State::Mail);
    reply(250, "2.1.0", "OK");
}

}  // namespace postern::smtp
