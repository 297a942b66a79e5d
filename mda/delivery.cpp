#include "mda/delivery.h"

#include "common/base/ascii.h"
#include "common/log/log.h"
#include "common/mail/message_summary.h"
#include "mda/trace.h"

namespace postern::mda {
namespace {

// Missing or malformed data is "no", not an error, for every lookup: the
// resolver then goes on to the next rule.
bool absent(const store::Failure& f) {
    return f.code == store::StoreError::NotFound || f.code == store::StoreError::Invalid;
}

// The recipient's overall outcome from its targets' (see delivery.h).
Outcome combine(const std::vector<Outcome>& targets) {
    const Outcome* first_failure = nullptr;
    bool any_delivered = false;
    for (const auto& o : targets) {
        if (is_temporary(o.status)) return o;
        if (o.status == DeliveryStatus::Delivered) {
            any_delivered = true;
        } else if (first_failure == nullptr) {
            first_failure = &o;
        }
    }
    if (any_delivered || first_failure == nullptr) return Outcome{};
    return *first_failure;
}

}  // namespace

DeliverySettings DeliverySettings::from_config(const config::Config& cfg) {
    DeliverySettings s;
    s.max_message_bytes = cfg.smtp.max_message_bytes;
    s.max_received = cfg.smtp.max_received_headers;
    s.over_quota = cfg.delivery.over_quota;
    s.max_mime_depth = cfg.delivery.max_mime_nesting_depth;
    s.resolver.delimiters = cfg.delivery.recipient_delimiter;
    s.resolver.local_part_case_sensitive = cfg.delivery.local_part_case_sensitive;
    return s;
}

store::StoreResult<std::optional<store::User>> StoreLookup::find_user(const std::string& address) {
    auto user = store_.directory().find_user(address);
    if (user) return std::optional<store::User>(std::move(*user));
    if (absent(user.error())) return std::optional<store::User>();
    return fail(user.error());
}

store::StoreResult<std::vector<std::string>> StoreLookup::alias_targets(
    const std::string& address) {
    auto targets = store_.directory().find_alias_targets(address);
    if (!targets && absent(targets.error())) return std::vector<std::string>();
    return targets;
}

store::StoreResult<std::vector<std::string>> StoreLookup::catch_all(const std::string& domain) {
    auto targets = store_.directory().find_catch_all(domain);
    if (!targets && absent(targets.error())) return std::vector<std::string>();
    return targets;
}

store::StoreResult<bool> StoreLookup::is_local_domain(const std::string& domain) {
    return store_.directory().domain_exists(domain);
}

store::StoreResult<bool> StoreLookup::mailbox_exists(const store::User& user,
                                                     const std::string& mailbox) {
    auto index = store_.open_index(user);
    if (!index) return fail(index.error());
    auto box = index->find_mailbox(mailbox);
    if (box) return true;
    if (absent(box.error())) return false;
    return fail(box.error());
}

Result<std::vector<Target>, Outcome> Deliverer::resolve(std::string_view recipient) {
    return mda::resolve(lookup_, recipient, settings_.resolver);
}

std::vector<RecipientResult> Deliverer::deliver(const Envelope& envelope,
                                                std::string_view message) {
    std::vector<RecipientResult> results;
    const TraceScan scan = scan_trace(message);
    for (const auto& rcpt : envelope.recipients) {
        RecipientResult& r = results.emplace_back();
        r.recipient = rcpt;
        if (message.size() > settings_.max_message_bytes) {
            r.outcome = {DeliveryStatus::TooBig,
                         "message of " + std::to_string(message.size()) + " bytes"};
        } else if (too_many_received(scan, settings_.max_received)) {
            r.outcome = {DeliveryStatus::MailLoop,
                         std::to_string(scan.received) + " Received fields"};
        } else if (auto targets = resolve(rcpt); !targets) {
            r.outcome = targets.error();
        } else {
            bool loop = has_delivered_to(scan, rcpt);
            for (const auto& t : *targets)
                loop = loop || has_delivered_to(scan, t.user.address());
            if (loop) {
                r.outcome = {DeliveryStatus::MailLoop, "our Delivered-To is already present"};
            } else {
                deliver_to(envelope, message, scan.newline, *targets, r);
            }
        }
        auto line = r.outcome.status == DeliveryStatus::Delivered ? log::info("delivered")
                                                                  : log::warn("not_delivered");
        line.kv("rcpt", printable(rcpt)).kv("status", status_name(r.outcome.status));
        if (!r.outcome.detail.empty()) line.kv("detail", r.outcome.detail);
        for (const auto& d : r.delivered)
            line.kv("uid", static_cast<std::uint64_t>(d.uid));
        line.kv("size", static_cast<std::uint64_t>(message.size()));
    }
    return results;
}

void Deliverer::deliver_to(const Envelope& envelope, std::string_view message,
                           std::string_view newline, const std::vector<Target>& targets,
                           RecipientResult& result) {
    std::string bytes = trace_fields(envelope.sender, result.recipient, newline);
    bytes.append(message);
    mail::MimeLimits limits;
    limits.max_depth = settings_.max_mime_depth;
    std::string summary = mail::serialize(mail::summarize(bytes, limits));

    std::vector<Outcome> outcomes;
    std::vector<store::Recipient> recipients;
    std::vector<store::IndexLease> leases;  // held until the writer is done
    for (const auto& t : targets) {
        auto r = store_.recipient(t.user, t.mailbox);
        if (!r) {
            outcomes.push_back(outcome_for(r.error(), settings_.over_quota));
            continue;
        }
        auto lease = pool_ != nullptr ? pool_->lease(r->paths) : store::open_unpooled(r->paths);
        if (!lease) {
            outcomes.push_back(outcome_for(lease.error(), settings_.over_quota));
            continue;
        }
        if (auto quota = store::check_quota(lease->index(), *r, bytes.size()); !quota) {
            outcomes.push_back(outcome_for(quota.error(), settings_.over_quota));
            continue;
        }
        recipients.push_back(std::move(*r));
        leases.push_back(std::move(*lease));
    }
    if (!recipients.empty()) {
        std::vector<store::MailboxIndex*> indexes;
        for (auto& l : leases)
            indexes.push_back(&l.index());
        outcomes.push_back(write_once(std::move(recipients), std::move(indexes), bytes,
                                      std::move(summary), result.delivered));
    }
    result.outcome = combine(outcomes);
}

Outcome Deliverer::write_once(std::vector<store::Recipient> recipients,
                              std::vector<store::MailboxIndex*> indexes, const std::string& bytes,
                              std::string summary, std::vector<store::Delivered>& delivered) {
    store::DeliveryOptions options;
    // The limit is on the message as received; the trace fields come on top.
    options.max_message_bytes = bytes.size();
    auto writer = store::MessageWriter::begin(std::move(recipients), options, std::move(indexes));
    if (!writer) return outcome_for(writer.error(), settings_.over_quota);
    if (fail_point_ != store::FailPoint::None) writer->fail_at_for_test(fail_point_);
    if (auto st = writer->write(bytes); !st) return outcome_for(st.error(), settings_.over_quota);
    writer->set_summary(std::move(summary));
    auto done = writer->commit();
    if (!done) return outcome_for(done.error(), settings_.over_quota);
    delivered = std::move(*done);
    return Outcome{};
}

}  // namespace postern::mda
