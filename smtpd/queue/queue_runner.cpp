#include "smtpd/queue/queue_runner.h"

#include <algorithm>
#include <ctime>
#include <optional>
#include <utility>

#include "common/log/log.h"
#include "common/loop/work.h"
#include "storage/queue_spool.h"

namespace postern::queue {
namespace {

std::int64_t now_seconds() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

// The domain this message should be delivered to next, if it is due: its
// first due pending recipient's, or one whose bounce is still owed.
std::optional<std::string> due_domain(const store::Envelope& e, std::int64_t now) {
    for (const auto& r : e.recipients) {
        const bool due = r.state == store::RecipientState::Pending && r.next_attempt <= now;
        const bool owes_bounce = r.state == store::RecipientState::Failed && !r.bounced;
        if (due || owes_bounce) return domain_of(r.address);
    }
    return std::nullopt;
}

std::optional<std::int64_t> earliest_attempt(const store::Envelope& e) {
    std::optional<std::int64_t> t;
    for (const auto& r : e.recipients) {
        if (r.state == store::RecipientState::Pending)
            t = std::min(t.value_or(r.next_attempt), r.next_attempt);
    }
    return t;
}

}  // namespace

QueueRunner::QueueRunner(loop::Loop& loop, JobSettings settings)
    : loop_(loop),
      settings_(std::move(settings)),
      watch_(loop),
      wake_(loop),
      settle_(loop),
      rescan_(loop) {}

Status QueueRunner::start(const std::filesystem::path& envelope_dir) {
    if (auto st = watch_.start(envelope_dir, [this](std::string_view name) { on_change(name); });
        !st)
        return st;
    rescan_.start(
        kRescanInterval, [this] { rescan(); }, kRescanInterval);
    rescan();
    return {};
}

void QueueRunner::on_change(std::string_view name) {
    if (name.empty() || !store::QueueSpool::valid_id(name)) {
        full_rescan_pending_ = true;
    } else {
        changed_.insert(std::string(name));
    }
    if (!settle_.active()) {
        settle_.start(kChangeSettle, [this] {
            if (full_rescan_pending_) {
                full_rescan_pending_ = false;
                changed_.clear();
                rescan();
            } else {
                reload(std::exchange(changed_, {}));
            }
        });
    }
}

void QueueRunner::rescan() {
    auto dir = settings_.queue_dir;
    auto result = std::make_shared<Loaded>();
    std::weak_ptr<const int> alive = alive_;
    loop::queue_work(
        loop_,
        [dir, result] {
            auto spool = store::QueueSpool::open(dir);
            if (!spool) {
                log::error("queue-scan-failed").kv("detail", spool.error().message);
                return;
            }
            if (auto st = spool->recover(); !st)
                log::warn("queue-recover-failed").kv("detail", st.error().message);
            auto ids = spool->list();
            if (!ids) {
                log::error("queue-scan-failed").kv("detail", ids.error().message);
                return;
            }
            for (const auto& id : *ids) {
                auto env = spool->load(id);
                if (env) result->envelopes.push_back(std::move(*env));
            }
            result->complete = true;
        },
        [this, alive, result] {
            if (!alive.expired()) on_loaded(std::move(*result));
        });
}

void QueueRunner::reload(std::set<std::string> ids) {
    auto dir = settings_.queue_dir;
    auto result = std::make_shared<Loaded>();
    std::weak_ptr<const int> alive = alive_;
    loop::queue_work(
        loop_,
        [dir, ids = std::move(ids), result] {
            auto spool = store::QueueSpool::open(dir);
            if (!spool) return;
            for (const auto& id : ids) {
                auto env = spool->load(id);
                if (env) {
                    result->envelopes.push_back(std::move(*env));
                } else {
                    result->missing.push_back(id);
                }
            }
        },
        [this, alive, result] {
            if (!alive.expired()) on_loaded(std::move(*result));
        });
}

void QueueRunner::on_loaded(Loaded loaded) {
    if (loaded.complete) {
        std::set<std::string> listed;
        for (const auto& e : loaded.envelopes)
            listed.insert(e.id);
        std::erase_if(entries_, [&](const auto& kv) {
            return !kv.second.busy && !listed.contains(kv.first);
        });
    }
    for (const auto& id : loaded.missing) {
        auto it = entries_.find(id);
        if (it != entries_.end() && !it->second.busy) entries_.erase(it);
    }
    for (auto& e : loaded.envelopes) {
        Entry& entry = entries_[e.id];
        if (!entry.busy) entry.envelope = std::move(e);
    }
    dispatch();
}

void QueueRunner::dispatch() {
    const auto now = now_seconds();
    std::map<std::string, Job> jobs;
    for (auto& [id, entry] : entries_) {
        if (entry.busy || entry.not_before > now) continue;
        auto domain = due_domain(entry.envelope, now);
        if (!domain) continue;
        auto it = jobs.find(*domain);
        if (it == jobs.end()) {
            if (running_jobs_ + jobs.size() >= kMaxJobs) continue;
            it = jobs.emplace(*domain, Job{*domain, {}}).first;
        }
        if (it->second.ids.size() >= kMaxBatch) continue;
        it->second.ids.push_back(id);
        entry.busy = true;
    }
    for (auto& [domain, job] : jobs)
        launch(std::move(job));
    sleep_until_due();
}

void QueueRunner::launch(Job job) {
    ++running_jobs_;
    log::info("job-start").kv("domain", job.domain).kv("messages", job.ids.size());
    auto settings = std::make_shared<JobSettings>(settings_);
    auto report = std::make_shared<JobReport>();
    std::weak_ptr<const int> alive = alive_;
    loop::queue_work(
        loop_, [settings, job = std::move(job), report] { *report = run_job(*settings, job); },
        [this, alive, report] {
            if (!alive.expired()) on_job_done(std::move(*report));
        });
}

void QueueRunner::on_job_done(JobReport report) {
    --running_jobs_;
    for (const auto& error : report.errors)
        log::error("queue-job-error").kv("detail", error);
    for (const auto& id : report.gone)
        entries_.erase(id);
    const auto now = now_seconds();
    for (const auto& id : report.busy) {
        auto it = entries_.find(id);
        if (it == entries_.end()) continue;
        it->second.busy = false;
        it->second.not_before = now + kStuckPauseSeconds;
    }
    for (auto& e : report.queued) {
        Entry& entry = entries_[e.id];
        const bool progressed = e.attempts != entry.envelope.attempts;
        entry.busy = false;
        entry.not_before = progressed ? 0 : now + kStuckPauseSeconds;
        entry.envelope = std::move(e);
    }
    dispatch();
}

// Sleeps until the earliest pending attempt (at most until the next
// rescan, which also calls dispatch()).
void QueueRunner::sleep_until_due() {
    std::optional<std::int64_t> earliest;
    for (const auto& [id, entry] : entries_) {
        if (entry.busy) continue;
        auto t = earliest_attempt(entry.envelope);
        if (!t) continue;
        const std::int64_t when = std::max(*t, entry.not_before);
        earliest = std::min(earliest.value_or(when), when);
    }
    wake_.stop();
    if (!earliest) return;
    const auto wait = std::chrono::seconds(std::max<std::int64_t>(1, *earliest - now_seconds()));
    const auto capped = std::min<std::chrono::milliseconds>(wait, kRescanInterval);
    wake_.start(capped, [this] { dispatch(); });
}

}  // namespace postern::queue
