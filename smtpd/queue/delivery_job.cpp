#include "smtpd/queue/delivery_job.h"

#include <algorithm>
#include <ctime>
#include <optional>

#include "common/base/ascii.h"
#include "common/log/log.h"
#include "smtpd/lmtp_client.h"
#include "smtpd/queue/bounce.h"
#include "smtpd/queue/smtp_client.h"
#include "smtpd/queue/spool_reader.h"
#include "storage/directory.h"
#include "storage/queue_spool.h"

namespace postern::queue {
namespace {

// One message taken by this job: its lock, its fresh envelope and which of
// its recipients the job delivers.
struct Claim {
    store::QueueLock lock;
    store::Envelope envelope;
    std::vector<std::size_t> due;  // indices into envelope.recipients
};

store::BodySource file_source(std::filesystem::path path) {
    return [path = std::move(path)](const std::function<bool(std::string_view)>& sink) -> Status {
        return read_chunks(path, sink);
    };
}

std::vector<RecipientOutcome> deliver_local(const JobSettings& settings,
                                            const store::QueueSpool& spool, const Claim& claim) {
    smtp::LmtpRequest request;
    request.socket = settings.lmtp_socket;
    request.lhlo_host = settings.hostname;
    request.sender = claim.envelope.sender;
    request.smtputf8 = claim.envelope.smtputf8;
    request.eight_bit = claim.envelope.eight_bit;
    for (std::size_t i : claim.due)
        request.recipients.push_back(claim.envelope.recipients[i].address);
    request.body = file_source(spool.message_path(claim.envelope.id));
    auto outcome = smtp::lmtp_deliver(request);
    std::vector<RecipientOutcome> out;
    for (auto& reply : outcome.replies)
        out.push_back({std::move(reply), ""});
    return out;
}

std::vector<MessageOutcome> deliver_remote(const JobSettings& settings,
                                           const store::QueueSpool& spool, const Job& job,
                                           const std::vector<Claim>& claims) {
    std::vector<OutboundMessage> batch;
    for (const auto& c : claims) {
        const auto& e = c.envelope;
        OutboundMessage m{.id = e.id,
                          .sender = e.sender,
                          .envid = e.envid,
                          .ret_full = e.ret_full,
                          .smtputf8 = e.smtputf8,
                          .eight_bit = e.eight_bit,
                          .size = e.size,
                          .body_file = spool.message_path(e.id),
                          .recipients = {}};
        for (std::size_t i : c.due) {
            const auto& r = e.recipients[i];
            m.recipients.push_back({r.address, r.orcpt, r.notify});
        }
        batch.push_back(std::move(m));
    }
    return deliver_batch(settings.remote, job.domain, batch);
}

// Records one recipient's outcome; returns true when it failed for good now.
bool record(const JobSettings& settings, store::Envelope& e, std::size_t i,
            const RecipientOutcome& outcome, std::int64_t now) {
    auto& r = e.recipients[i];
    r.last_reply = smtp::reply_text(outcome.reply);
    r.remote_host = outcome.remote_host;
    r.attempts += 1;
    if (outcome.reply.positive()) {
        r.state = store::RecipientState::Delivered;
        return false;
    }
    const bool expired = now - e.arrival >= settings.lifetime_seconds;
    if (outcome.reply.permanent() || expired) {
        if (!outcome.reply.permanent())
            r.last_reply = "451 4.4.7 Delivery time expired; last error: " + r.last_reply;
        r.state = store::RecipientState::Failed;
        return true;
    }
    r.next_attempt = now + retry_delay(settings, r.attempts);
    return false;
}

void refresh_next_attempt(store::Envelope& e) {
    std::optional<std::int64_t> next;
    for (const auto& r : e.recipients) {
        if (r.state == store::RecipientState::Pending)
            next = std::min(next.value_or(r.next_attempt), r.next_attempt);
    }
    e.next_attempt = next.value_or(0);
}

// Enqueues the bounce for the recipients that failed in this attempt (if
// the sender wants one), then marks them bounced. A crash between the two
// sends the bounce twice, never zero times.
Status bounce_failures(const JobSettings& settings, store::QueueSpool& spool, store::Envelope& e,
                       const std::vector<std::size_t>& failed, std::int64_t now) {
    if (failed.empty()) return {};
    if (wants_failure_notice(e, failed)) {
        Bounce b = make_bounce(e, failed, spool.message_path(e.id), settings.hostname, now);
        auto id =
            spool.enqueue(b.envelope, [&b](const auto& sink) { return stream_bounce(b, sink); });
        if (!id) return fail("bounce for " + e.id + ": " + id.error().message);
        log::info("bounce-queued").kv("id", e.id).kv("bounce_id", *id).kv("to", e.sender);
    }
    for (std::size_t i : failed)
        e.recipients[i].bounced = true;
    return {};
}

bool has_unbounced_failure(const store::Envelope& e) {
    return std::any_of(e.recipients.begin(), e.recipients.end(), [](const auto& r) {
        return r.state == store::RecipientState::Failed && !r.bounced;
    });
}

std::optional<Claim> claim(const store::QueueSpool& spool, const std::string& id,
                           const std::string& domain, std::int64_t now, JobReport& report) {
    auto lock = spool.lock(id, /*wait=*/false);
    if (!lock) {
        report.gone.push_back(id);
        return std::nullopt;
    }
    if (!lock->held()) {
        report.busy.push_back(id);
        return std::nullopt;
    }
    auto env = spool.load(id);
    if (!env) {
        report.gone.push_back(id);
        return std::nullopt;
    }
    Claim c{std::move(*lock), std::move(*env), {}};
    for (std::size_t i = 0; i < c.envelope.recipients.size(); ++i) {
        const auto& r = c.envelope.recipients[i];
        if (r.state == store::RecipientState::Pending && r.next_attempt <= now &&
            domain_of(r.address) == domain)
            c.due.push_back(i);
    }
    if (c.due.empty() && !has_unbounced_failure(c.envelope)) {
        report.queued.push_back(std::move(c.envelope));
        return std::nullopt;
    }
    return c;
}

void finish(const JobSettings& settings, store::QueueSpool& spool, Claim& c,
            const std::vector<RecipientOutcome>& outcomes, std::int64_t now, JobReport& report) {
    store::Envelope& e = c.envelope;
    std::vector<std::size_t> failed;
    for (std::size_t k = 0; k < c.due.size(); ++k) {
        const std::size_t i = c.due[k];
        const RecipientOutcome fallback{smtp::make_reply(451, "4.3.0", "No outcome reported"), ""};
        const auto& outcome = k < outcomes.size() ? outcomes[k] : fallback;
        if (record(settings, e, i, outcome, now)) failed.push_back(i);
        log::info("delivery")
            .kv("id", e.id)
            .kv("to", e.recipients[i].address)
            .kv("relay", outcome.remote_host.empty() ? "local" : outcome.remote_host)
            .kv("status", to_string(e.recipients[i].state))
            .kv("reply", e.recipients[i].last_reply);
    }
    if (!c.due.empty()) e.attempts += 1;
    // Earlier failures whose bounce could not be queued then get it now.
    failed.clear();
    for (std::size_t i = 0; i < e.recipients.size(); ++i) {
        if (e.recipients[i].state == store::RecipientState::Failed && !e.recipients[i].bounced)
            failed.push_back(i);
    }
    if (auto st = bounce_failures(settings, spool, e, failed, now); !st) {
        report.errors.push_back(st.error().message);
        for (std::size_t i : failed)
            e.recipients[i].bounced = false;
    }
    refresh_next_attempt(e);
    if (e.finished()) {
        if (auto st = spool.remove(e.id); !st) report.errors.push_back(st.error().message);
        report.gone.push_back(e.id);
        return;
    }
    if (auto st = spool.save(e); !st) report.errors.push_back(st.error().message);
    report.queued.push_back(e);
}

}  // namespace

std::string domain_of(const std::string& address) {
    const auto at = address.rfind('@');
    return at == std::string::npos ? std::string()
                                   : ascii_lowercase(std::string_view(address).substr(at + 1));
}

std::int64_t retry_delay(const JobSettings& settings, std::uint32_t attempts) {
    std::int64_t delay = settings.retry_min_seconds;
    for (std::uint32_t n = 1; n < attempts && delay < settings.retry_max_seconds; ++n)
        delay *= 2;
    return std::min(delay, settings.retry_max_seconds);
}

JobReport run_job(const JobSettings& settings, const Job& job) {
    JobReport report;
    auto spool = store::QueueSpool::open(settings.queue_dir);
    if (!spool) {
        report.errors.push_back(spool.error().message);
        report.busy = job.ids;
        return report;
    }
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    std::vector<Claim> claims;
    for (const auto& id : job.ids) {
        if (auto c = claim(*spool, id, job.domain, now, report)) claims.push_back(std::move(*c));
    }
    if (claims.empty()) return report;
    auto dir = store::Directory::open(settings.directory_db);
    std::optional<bool> local;
    if (dir) {
        auto exists = dir->domain_exists(job.domain);
        if (exists) local = *exists;
    }
    if (!local) {
        // Without the directory we cannot tell local from remote: retry soon.
        report.errors.push_back("directory unavailable for " + job.domain);
        for (auto& c : claims)
            report.queued.push_back(std::move(c.envelope));
        return report;
    }
    if (*local) {
        for (auto& c : claims) {
            auto outcomes = c.due.empty() ? std::vector<RecipientOutcome>()
                                          : deliver_local(settings, *spool, c);
            finish(settings, *spool, c, outcomes, now, report);
        }
        return report;
    }
    auto outcomes = deliver_remote(settings, *spool, job, claims);
    for (std::size_t k = 0; k < claims.size(); ++k) {
        const std::vector<RecipientOutcome> none;
        finish(settings, *spool, claims[k], k < outcomes.size() ? outcomes[k].recipients : none,
               now, report);
    }
    return report;
}

}  // namespace postern::queue
