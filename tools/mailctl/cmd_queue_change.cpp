// `mailctl queue retry|delete`: the admin's changes to the outbound spool
// (storage/queue_spool.h). The queue runner may be delivering while
// these run, so every change happens under the message's lock:
//   - retry waits for the lock (at most kRetryLockWait): the change is
//     harmless and the runner holds a lock only for one delivery attempt;
//   - delete never waits: a message being delivered is refused with
//     EX_TEMPFAIL, and a refused delete (busy, unknown or invalid id)
//     changes nothing, because every id is checked and locked first.
// Deleting does not bounce: the sender is not told.
#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <set>
#include <thread>

#include "common/base/sysexits.h"
#include "tools/mailctl/args.h"
#include "tools/mailctl/output.h"
#include "tools/mailctl/queue_access.h"

namespace postern::mailctl {
namespace {

using store::QueueSpool;

// `retry` waits this long for a message being delivered; the runner's
// attempt then ends, or the admin is told to try again.
constexpr auto kRetryLockWait = std::chrono::seconds(10);
constexpr auto kLockPollInterval = std::chrono::milliseconds(50);

// Takes the message's lock, waiting at most `wait`; an unheld lock means
// it stayed busy.
Result<store::QueueLock> lock_within(const QueueSpool& spool, const std::string& id,
                                     std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        auto lock = spool.lock(id, false);
        if (!lock || lock->held() || std::chrono::steady_clock::now() >= deadline) return lock;
        std::this_thread::sleep_for(kLockPollInterval);
    }
}

// Whether the message had pending recipients (and now has them due now).
Result<bool> retry_one(QueueSpool& spool, const std::string& id, bool& busy) {
    auto lock = lock_within(spool, id, kRetryLockWait);
    if (!lock) return fail(lock.error());
    if (!lock->held()) {
        busy = true;
        return false;
    }
    auto e = spool.load(id);  // under the lock: the runner's last save counts
    if (!e) return fail(e.error());
    bool pending = false;
    for (auto& r : e->recipients) {
        if (r.state != store::RecipientState::Pending) continue;
        r.next_attempt = 0;
        pending = true;
    }
    if (!pending) return false;
    e->next_attempt = 0;
    if (auto st = spool.save(*e); !st) return fail(st.error());
    return true;
}

// Holding a lock on every message (--all) needs one descriptor each.
void raise_descriptor_limit() {
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

}  // namespace

int queue_retry(const Context& ctx, const Words& words) {
    auto args = Args::parse(Words(words.begin() + 1, words.end()), {}, {"--all"});
    if (!args) return complain(kExUsage, args.error().message);
    const bool all = args->has("--all");
    if (args->positional().size() != (all ? 0u : 1u))
        return complain(kExUsage, "usage: mailctl queue retry ID|--all");
    std::optional<QueueSpool> spool;
    if (int code = open_queue(ctx, spool); code != kExOk) return code;
    std::vector<std::string> ids;
    if (!all) {
        if (int code = check_id(spool, args->positional()[0]); code != kExOk) return code;
        ids.push_back(args->positional()[0]);
    } else if (spool) {
        auto listed = spool->list();
        if (!listed) return complain(kExTempFail, listed.error().message);
        ids = std::move(*listed);
    }
    int code = kExOk;
    for (const auto& id : ids) {
        bool busy = false;
        auto retried = retry_one(*spool, id, busy);
        if (!retried) {
            // With --all, a message delivered meanwhile is simply gone.
            if (!all || message_exists(*spool, id)) code = load_failed(*spool, id, retried.error());
        } else if (busy) {
            code =
                complain(kExTempFail, "message " + id + " is still being delivered after " +
                                          std::to_string(kRetryLockWait.count()) + " s; try again");
        } else if (*retried) {
            std::cout << "retrying " << id << " now\n";
        } else if (!all) {
            std::cout << "nothing to retry: " << id << " has no pending recipients\n";
        }
    }
    return code;
}

int queue_delete(const Context& ctx, const Words& words) {
    auto args = Args::parse(Words(words.begin() + 1, words.end()), {}, {"--all"});
    if (!args) return complain(kExUsage, args.error().message);
    const bool all = args->has("--all");
    if (all == !args->positional().empty())
        return complain(kExUsage, "usage: mailctl queue delete ID...|--all");
    std::optional<QueueSpool> spool;
    if (int code = open_queue(ctx, spool); code != kExOk) return code;
    std::vector<std::string> ids;
    if (all) {
        if (!spool) return kExOk;
        auto listed = spool->list();
        if (!listed) return complain(kExTempFail, listed.error().message);
        ids = std::move(*listed);
    } else {
        // Every id is checked before anything is deleted.
        std::set<std::string> seen;
        for (const auto& id : args->positional()) {
            if (int code = check_id(spool, id); code != kExOk) return code;
            if (seen.insert(id).second) ids.push_back(id);
        }
    }
    raise_descriptor_limit();
    std::vector<std::pair<std::string, store::QueueLock>> locked;
    std::string busy;
    for (const auto& id : ids) {
        auto lock = spool->lock(id, false);
        if (!lock) {
            if (all && !message_exists(*spool, id)) continue;  // delivered meanwhile
            return complain(message_exists(*spool, id) ? kExTempFail : kExNoInput,
                            lock.error().message + "; nothing was deleted");
        }
        if (!lock->held()) busy += (busy.empty() ? "" : " ") + id;
        locked.emplace_back(id, std::move(*lock));
    }
    if (!busy.empty())
        return complain(kExTempFail,
                        "being delivered, try again later: " + busy + "; nothing was deleted");
    for (const auto& [id, lock] : locked) {
        if (auto st = spool->remove(id); !st) return complain(kExTempFail, st.error().message);
        std::cout << "deleted " << id << "\n";
    }
    return kExOk;
}

}  // namespace postern::mailctl
