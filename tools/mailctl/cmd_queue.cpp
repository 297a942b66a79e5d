// `mailctl queue list|show|retry|delete`: the admin's view of the outbound
// spool (storage/queue_spool.h). The queue runner may be delivering while
// these run, so every change happens under the message's lock:
//   - retry waits for the lock (at most kRetryLockWait): the change is
//     harmless and the runner holds a lock only for one delivery attempt;
//   - delete never waits: a message being delivered is refused with
//     EX_TEMPFAIL, and a refused delete (busy, unknown or invalid id)
//     changes nothing, because every id is checked and locked first.
// Deleting does not bounce: the sender is not told.
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "common/base/sysexits.h"
#include "common/config/config.h"
#include "storage/queue_spool.h"
#include "tools/mailctl/args.h"
#include "tools/mailctl/commands.h"
#include "tools/mailctl/output.h"

namespace postern::mailctl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using store::QueueSpool;

// `show` prints the header section up to this size: more than any real
// header block (RFC 5322 sets no limit; Postfix's header_size_limit
// default is 100 KiB, ours is a display limit only).
constexpr std::size_t kMaxShownHeaderBytes = 64 << 10;
// `retry` waits this long for a message being delivered; the runner's
// attempt then ends, or the admin is told to try again.
constexpr auto kRetryLockWait = std::chrono::seconds(10);
constexpr auto kLockPollInterval = std::chrono::milliseconds(50);

std::string iso_time(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    struct tm tm {};
    char buf[32];
    if (gmtime_r(&t, &tm) == nullptr ||
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return std::to_string(unix_seconds);
    return buf;
}

std::string next_attempt_text(std::int64_t next_attempt) {
    return next_attempt == 0 ? "now" : iso_time(next_attempt);
}

// Text output goes to a terminal: a remote server's reply or a header must
// not be able to send it escape sequences. UTF-8 passes unchanged.
std::string terminal_safe(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// RFC 3461 NOTIFY keywords, as in the DSN extension's syntax.
std::string notify_text(unsigned notify) {
    std::string out;
    for (auto [bit, name] :
         {std::pair{store::kNotifySuccess, "SUCCESS"}, std::pair{store::kNotifyFailure, "FAILURE"},
          std::pair{store::kNotifyDelay, "DELAY"}, std::pair{store::kNotifyNever, "NEVER"}}) {
        if (notify & bit) out += (out.empty() ? "" : ",") + std::string(name);
    }
    return out;
}

std::string sender_text(const std::string& sender) {
    return sender.empty() ? "<>" : sender;
}

// The spool named by the config. An absent queue directory is an empty
// queue: `spool` stays empty and nothing is created. Run as root, we act as
// the directory's owner so that files we write stay readable to the runner.
int open_queue(const Context& ctx, std::optional<QueueSpool>& spool) {
    auto cfg = config::load_file(ctx.config_path);
    if (!cfg) return complain(kExConfig, cfg.error().message);
    const auto dir = cfg->paths.queue_dir;
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno == ENOENT) return kExOk;
        return complain(kExTempFail, "cannot read the queue directory " + dir.string());
    }
    if (::geteuid() == 0 && st.st_uid != 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(st.st_gid) != 0 || ::setuid(st.st_uid) != 0)
            return complain(kExOsErr, "cannot act as the owner of " + dir.string());
    }
    auto opened = QueueSpool::open(dir);
    if (!opened) return complain(kExTempFail, opened.error().message);
    spool.emplace(std::move(*opened));
    return kExOk;
}

bool message_exists(const QueueSpool& spool, const std::string& id) {
    std::error_code ec;
    return QueueSpool::valid_id(id) && fs::exists(spool.envelope_dir() / id, ec);
}

// Exit code and message for an id given on the command line that names no
// message; kExOk when it names one.
int check_id(const std::optional<QueueSpool>& spool, const std::string& id) {
    if (!QueueSpool::valid_id(id)) return complain(kExDataErr, "not a queue id: \"" + id + "\"");
    if (!spool || !message_exists(*spool, id))
        return complain(kExNoInput, "no such message in the queue: " + id);
    return kExOk;
}

int load_failed(const QueueSpool& spool, const std::string& id, const Error& e) {
    if (!message_exists(spool, id))
        return complain(kExNoInput, "no such message in the queue: " + id);
    return complain(kExDataErr, e.message);
}

// The header section of the message file: up to (not including) the blank
// line, at most kMaxShownHeaderBytes.
std::string read_headers(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text(kMaxShownHeaderBytes, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    for (std::string_view blank : {"\r\n\r\n", "\n\n"}) {
        auto end = text.find(blank);
        if (end != std::string::npos) text.resize(end + blank.size() / 2);
    }
    if (text.starts_with("\r\n") || text.starts_with("\n")) text.clear();
    return text;
}

json list_row(const store::Envelope& e) {
    std::size_t pending = 0;
    std::string last_reply = "-";
    for (const auto& r : e.recipients) {
        if (r.state != store::RecipientState::Pending) continue;
        if (pending++ == 0 && !r.last_reply.empty()) last_reply = terminal_safe(r.last_reply);
    }
    return {{"id", e.id},
            {"arrival", iso_time(e.arrival)},
            {"size", e.size},
            {"sender", terminal_safe(sender_text(e.sender))},
            {"pending", std::to_string(pending) + "/" + std::to_string(e.recipients.size())},
            {"next_attempt", next_attempt_text(e.next_attempt)},
            {"last_reply", last_reply}};
}

int queue_list(const Context& ctx, const Words& words) {
    auto args = Args::parse(Words(words.begin() + 1, words.end()), {}, {"--json"});
    if (!args) return complain(kExUsage, args.error().message);
    if (!args->positional().empty())
        return complain(kExUsage, "usage: mailctl queue list [--json]");
    std::optional<QueueSpool> spool;
    if (int code = open_queue(ctx, spool); code != kExOk) return code;
    std::vector<std::string> ids;
    if (spool) {
        auto listed = spool->list();
        if (!listed) return complain(kExTempFail, listed.error().message);
        ids = std::move(*listed);
    }
    const bool as_json = args->has("--json");
    json rows = json::array();
    int code = kExOk;
    for (const auto& id : ids) {
        auto e = spool->load(id);
        if (!e) {
            // Delivered or deleted since list(): not an error.
            if (message_exists(*spool, id)) code = complain(kExDataErr, e.error().message);
            continue;
        }
        rows.push_back(as_json ? store::to_json(*e) : list_row(*e));
    }
    print_table(rows, {"id", "arrival", "size", "sender", "pending", "next_attempt", "last_reply"},
                as_json);
    return code;
}

void print_envelope_text(const store::Envelope& e, const std::string& headers) {
    const std::pair<const char*, std::string> fields[] = {
        {"id", e.id},
        {"arrival", iso_time(e.arrival)},
        {"sender", terminal_safe(sender_text(e.sender))},
        {"size", std::to_string(e.size)},
        {"attempts", std::to_string(e.attempts)},
        {"next_attempt", next_attempt_text(e.next_attempt)},
        {"envid", e.envid.empty() ? "-" : terminal_safe(e.envid)},
        {"ret", e.ret_full ? "full" : "headers"},
        {"body", e.eight_bit ? "8bitmime" : "7bit"},
        {"smtputf8", e.smtputf8 ? "yes" : "no"},
        {"submitted_by", e.submitted_by.empty() ? "-" : terminal_safe(e.submitted_by)},
    };
    for (const auto& [name, value] : fields)
        std::cout << name << ": " << value << "\n";
    for (const auto& r : e.recipients) {
        std::cout << "recipient: " << terminal_safe(r.address) << "\n"
                  << "  state: " << store::to_string(r.state) << (r.bounced ? " (bounced)" : "")
                  << "\n"
                  << "  attempts: " << r.attempts << "\n"
                  << "  next_attempt: "
                  << (r.state == store::RecipientState::Pending ? next_attempt_text(r.next_attempt)
                                                                : "-")
                  << "\n"
                  << "  last_reply: " << (r.last_reply.empty() ? "-" : terminal_safe(r.last_reply))
                  << "\n"
                  << "  remote_host: "
                  << (r.remote_host.empty() ? "-" : terminal_safe(r.remote_host)) << "\n";
        if (!r.orcpt.empty()) std::cout << "  orcpt: " << terminal_safe(r.orcpt) << "\n";
        if (r.notify != 0) std::cout << "  notify: " << notify_text(r.notify) << "\n";
    }
    std::string text;
    for (char c : headers)
        if (c != '\r') text += c;
    std::cout << "headers:\n" << terminal_safe(text);
}

int queue_show(const Context& ctx, const Words& words) {
    auto args = Args::parse(Words(words.begin() + 1, words.end()), {}, {"--json"});
    if (!args) return complain(kExUsage, args.error().message);
    if (args->positional().size() != 1)
        return complain(kExUsage, "usage: mailctl queue show ID [--json]");
    const auto& id = args->positional()[0];
    std::optional<QueueSpool> spool;
    if (int code = open_queue(ctx, spool); code != kExOk) return code;
    if (int code = check_id(spool, id); code != kExOk) return code;
    auto e = spool->load(id);
    if (!e) return load_failed(*spool, id, e.error());
    const auto headers = read_headers(spool->message_path(id));
    if (args->has("--json")) {
        auto j = store::to_json(*e);
        j["headers"] = headers;
        // Header bytes need not be UTF-8 (RFC 6532 aside); never throw on them.
        std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
        print_envelope_text(*e, headers);
    }
    return kExOk;
}

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

// Holding a lock on every message (--all) needs one descriptor each.
void raise_descriptor_limit() {
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &rl);
    }
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

}  // namespace

int cmd_queue(const Context& ctx, const Words& words) {
    struct Verb {
        std::string_view name;
        int (*run)(const Context&, const Words&);
    };
    static constexpr Verb kVerbs[] = {{"list", queue_list},
                                      {"show", queue_show},
                                      {"retry", queue_retry},
                                      {"delete", queue_delete}};
    if (!words.empty()) {
        for (const auto& v : kVerbs)
            if (v.name == words[0]) return v.run(ctx, words);
    }
    return complain(kExUsage,
                    "usage: mailctl queue list [--json] | queue show ID [--json] | "
                    "queue retry ID|--all | queue delete ID...|--all");
}

}  // namespace postern::mailctl
