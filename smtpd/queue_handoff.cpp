#include "smtpd/queue_handoff.h"

#include <algorithm>

#include "storage/queue_spool.h"

namespace postern::smtp {
namespace {

// RFC 3461 §4.1: the wire NOTIFY bits to the queue's stored form.
unsigned stored_notify(std::uint8_t wire) {
    unsigned bits = 0;
    if (wire & kNotifyNever) bits |= store::kNotifyNever;
    if (wire & kNotifySuccess) bits |= store::kNotifySuccess;
    if (wire & kNotifyFailure) bits |= store::kNotifyFailure;
    if (wire & kNotifyDelay) bits |= store::kNotifyDelay;
    return bits;
}

}  // namespace

store::Envelope queue_envelope(const Transaction& tx, std::string_view user, std::int64_t now) {
    store::Envelope env;
    env.sender = tx.sender().address();
    env.envid = tx.params().envid.value_or("");
    env.ret_full = tx.params().ret == Ret::Full;
    env.smtputf8 = tx.params().smtputf8;
    env.eight_bit = tx.params().body == Body::EightBitMime;
    env.submitted_by = std::string(user);
    env.arrival = now;
    for (const auto& r : tx.recipients()) {
        store::QueuedRecipient q;
        q.address = r.address;
        if (r.params.orcpt) q.orcpt = r.params.orcpt->addr_type + ";" + r.params.orcpt->address;
        q.notify = stored_notify(r.params.notify);
        env.recipients.push_back(std::move(q));
    }
    return env;
}

bool has_remote_recipient(const Transaction& tx) {
    const auto& rs = tx.recipients();
    return std::any_of(rs.begin(), rs.end(), [](const TxRecipient& r) { return r.remote; });
}

QueueOutcome enqueue(const std::filesystem::path& queue_dir, store::Envelope envelope,
                     const std::string& prefix, const Spool& body) {
    auto spool = store::QueueSpool::open(queue_dir);
    if (!spool) return QueueOutcome{{}, spool.error().message};
    auto id = spool->enqueue(std::move(envelope), [&](const auto& sink) {
        if (!sink(prefix)) return Status{};
        return body.read_all(sink);
    });
    if (!id) return QueueOutcome{{}, id.error().message};
    return QueueOutcome{std::move(*id), {}};
}

bool partly_delivered(const std::vector<Reply>& replies) {
    const auto ok =
        std::count_if(replies.begin(), replies.end(), [](const Reply& r) { return r.positive(); });
    return ok > 0 && static_cast<std::size_t>(ok) < replies.size();
}

QueueOutcome defer_failures(const std::filesystem::path& queue_dir, const Transaction& tx,
                            std::string_view user, const std::string& prefix,
                            const LmtpOutcome& outcome, std::int64_t now) {
    store::Envelope all = queue_envelope(tx, user, now);
    store::Envelope failed = all;
    failed.recipients.clear();
    for (std::size_t i = 0; i < outcome.replies.size() && i < all.recipients.size(); ++i) {
        const Reply& r = outcome.replies[i];
        if (r.positive()) continue;
        store::QueuedRecipient q = all.recipients[i];
        q.address = outcome.recipients[i];  // as resolved for mda
        q.last_reply = smtp::reply_text(r);
        q.attempts = 1;
        if (r.permanent()) q.state = store::RecipientState::Failed;
        failed.recipients.push_back(std::move(q));
    }
    return enqueue(queue_dir, std::move(failed), prefix, tx.spool());
}

}  // namespace postern::smtp
