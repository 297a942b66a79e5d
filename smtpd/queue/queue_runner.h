// QueueRunner: queued's scheduler, on the loop thread. It keeps every
// queued envelope in memory, learns of new and changed ones from the spool's
// env/ directory (inotify: submissiond's enqueues, `mailctl queue retry`,
// its own saves) plus a full rescan (which also clears what interrupted
// enqueues left) at start and every kRescanInterval, and starts
// delivery jobs (delivery_job.h) on the pool:
// - a message takes part in at most one job at a time (its lock is held by
//   the job); a message with recipients in several domains is handed to
//   one job per domain in turn;
// - a job gathers the due messages of one domain (at most kMaxBatch), so
//   they share one connection to that domain's MX;
// - at most kMaxJobs jobs run at once; the pool has room for them plus
//   the spool's own work (main_queued.cpp sizes it).
// When nothing is due it sleeps until the earliest next attempt.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/loop/dir_watch.h"
#include "common/loop/loop.h"
#include "common/loop/timer.h"
#include "smtpd/queue/delivery_job.h"

namespace postern::queue {

// Postfix's default_destination_concurrency_limit is 20 per domain over
// 100 processes; a small site needs far fewer: 8 destinations at once.
inline constexpr std::size_t kMaxJobs = 8;
// Messages handed to one connection before it is closed and a new job
// starts (Postfix's smtp_connection_reuse_count_limit is unbounded but
// time-limited; a count keeps one busy domain from starving the others).
inline constexpr std::size_t kMaxBatch = 50;
// The safety net for lost inotify events and for clock jumps.
inline constexpr std::chrono::minutes kRescanInterval{5};
// Changes are gathered this long before they are read, so one save does
// not cause several reloads.
inline constexpr std::chrono::milliseconds kChangeSettle{50};
// How long a message that a job could not work on waits before the next try.
inline constexpr std::int64_t kStuckPauseSeconds = 2;

class QueueRunner {
  public:
    QueueRunner(loop::Loop& loop, JobSettings settings);
    QueueRunner(const QueueRunner&) = delete;
    QueueRunner& operator=(const QueueRunner&) = delete;

    // Watches the spool and starts the first scan. The spool directory must
    // exist (QueueSpool::open made it).
    Status start(const std::filesystem::path& envelope_dir);

  private:
    struct Entry {
        store::Envelope envelope;
        bool busy = false;  // in a running job
        // After a job made no progress with it (locked by mailctl, the
        // directory unreadable): not again before this, so a stuck message
        // cannot spin the runner.
        std::int64_t not_before = 0;
    };
    struct Loaded {
        std::vector<store::Envelope> envelopes;
        std::vector<std::string> missing;  // asked for but not (any longer) in the spool
        bool complete = false;             // a full scan: anything not listed is gone
    };

    void rescan();
    void reload(std::set<std::string> ids);
    void on_loaded(Loaded loaded);
    void on_change(std::string_view name);
    void dispatch();
    void launch(Job job);
    void on_job_done(JobReport report);
    void sleep_until_due();

    loop::Loop& loop_;
    JobSettings settings_;
    loop::DirWatch watch_;
    loop::Timer wake_;
    loop::Timer settle_;
    loop::Timer rescan_;
    std::map<std::string, Entry> entries_;  // by id: oldest first
    std::set<std::string> changed_;
    bool full_rescan_pending_ = false;
    std::size_t running_jobs_ = 0;
    // Pool completions hold a weak reference: after the runner is gone
    // (shutdown) their results are dropped.
    std::shared_ptr<const int> alive_ = std::make_shared<const int>(0);
};

}  // namespace postern::queue
