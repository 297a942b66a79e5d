// FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9; BINARY items, RFC 3516).
//
// The set is resolved against the session's view on the loop; messages are
// rendered on the pool in batches (at most fetch_batch_messages and about
// kBatchBytes of output each), and each batch's output is written with
// backpressure before the next starts, so FETCH 1:* BODY[] of a large
// mailbox never sits in memory whole. Non-PEEK body fetches set \Seen (not
// in a read-only mailbox) and report the new FLAGS.
#include <memory>

#include "common/log/log.h"
#include "imapd/fetch_items.h"
#include "imapd/imap_commands.h"
#include "imapd/imap_handlers.h"
#include "imapd/message_file.h"

namespace postern::imap {

namespace {

// Output per pool job before it yields: a few MiB keeps memory flat while
// amortising the job overhead. (One message can still exceed it.)
constexpr std::size_t kBatchBytes = 4u << 20;

struct FetchJob {
    FetchRequest request;
    std::vector<std::uint32_t> seqs;
    std::size_t next = 0;
    bool uid = false;
    bool unknown_cte = false;  // a BINARY item could not be decoded
    Command done;
};

struct Target {
    std::uint32_t seq = 0;
    store::MessageInfo message;
};

struct FetchBatch : StoreOutcome {
    std::string output;
    std::size_t processed = 0;
    std::vector<std::pair<std::uint32_t, store::Flags>> new_flags;  // uid, flags
    std::vector<store::MessageInfo> fresh;
    bool unknown_cte = false;
};

void mark_seen(store::MailboxIndex& index, const std::string& mailbox, std::vector<Target>& targets,
               FetchBatch& b) {
    std::vector<std::uint32_t> uids;
    for (const Target& t : targets)
        if ((t.message.flags & store::kFlagSeen) == 0) uids.push_back(t.message.uid);
    if (uids.empty()) return;
    auto changed = index.set_flags(mailbox, uids, store::kFlagSeen, store::FlagMode::Add);
    if (!changed) return;  // the fetch itself still succeeds
    for (const store::MessageInfo& m : *changed) {
        b.new_flags.emplace_back(m.uid, m.flags);
        for (Target& t : targets)
            if (t.message.uid == m.uid) t.message = m;
    }
}

FetchBatch render_batch(const store::UserPaths& paths, const std::string& mailbox,
                        std::vector<Target> targets, const FetchRequest& req, bool set_seen,
                        bool last) {
    FetchBatch b;
    store::IndexLease index;
    if (!open_index(paths, index, b)) return b;
    if (set_seen) mark_seen(*index, mailbox, targets, b);
    const MessageExtent extent = req.header_only ? MessageExtent::Header : MessageExtent::Whole;
    for (const Target& t : targets) {
        ++b.processed;
        std::optional<std::string> file;
        if (req.needs_file) {
            file = read_stored_message(*index, mailbox, t.message, extent);
            if (!file) continue;  // expunged meanwhile: nothing to say about it
        }
        std::optional<mail::MessageSummary> summary;
        if (req.needs_summary) {
            auto text = index->summary(mailbox, t.message.uid);
            if (text) {
                auto parsed = mail::parse_summary(*text);
                if (parsed) summary = std::move(*parsed);
            }
            if (!summary) {
                // Damaged or missing summary: compute it from the whole file.
                if (!file || extent != MessageExtent::Whole) {
                    file = read_stored_message(*index, mailbox, t.message, MessageExtent::Whole);
                }
                if (!file) continue;
                summary = mail::summarize(*file);
            }
        }
        bool changed = false;
        for (const auto& nf : b.new_flags)
            changed = changed || nf.first == t.message.uid;
        b.output += render_fetch(t.seq, t.message, req, summary ? &*summary : nullptr,
                                 file ? std::string_view(*file) : std::string_view(), changed,
                                 &b.unknown_cte);
        if (b.output.size() >= kBatchBytes) break;
    }
    if (last && b.processed == targets.size()) {
        auto fresh = index->list_messages(mailbox);
        if (fresh) b.fresh = std::move(*fresh);
    }
    b.ok = true;
    return b;
}

void next_batch(ImapSession& s, std::shared_ptr<FetchJob> job) {
    const MailboxView& view = *s.view();
    std::vector<Target> targets;
    std::size_t limit = s.context().limits.fetch_batch_messages;
    for (std::size_t i = job->next; i < job->seqs.size() && targets.size() < limit; ++i) {
        std::uint32_t seq = job->seqs[i];
        targets.push_back(Target{seq, view.at(seq)});
    }
    bool last = job->next + targets.size() >= job->seqs.size();
    bool set_seen = job->request.sets_seen && !view.read_only();
    store::UserPaths paths = s.account()->paths;
    std::string mailbox = view.name();
    FetchRequest req = job->request;
    s.run_blocking<FetchBatch>(
        [paths, mailbox, targets = std::move(targets), req, set_seen, last]() mutable {
            return render_batch(paths, mailbox, std::move(targets), req, set_seen, last);
        },
        [job, last](ImapSession& s, FetchBatch& b) {
            if (!b.ok) return reply_failure(s, job->done, b.failure);
            for (const auto& [uid, flags] : b.new_flags)
                if (std::uint32_t seq = s.view()->seq_of(uid)) s.view()->set_flags(seq, flags);
            job->next += b.processed;
            job->unknown_cte = job->unknown_cte || b.unknown_cte;
            bool finished = job->next >= job->seqs.size();
            std::vector<store::MessageInfo> fresh = std::move(b.fresh);
            s.send_bulk(std::move(b.output), [job, finished, last, fresh](ImapSession& s) {
                if (!finished) return next_batch(s, job);
                // Only UID FETCH may report expunges (RFC 9051 §7.5.1).
                if (last && !fresh.empty()) s.send(s.view()->sync(fresh, job->uid));
                std::string name = job->uid ? "UID FETCH" : "FETCH";
                // RFC 3516 §4.3: a part we cannot decode fails the command.
                if (job->unknown_cte)
                    return s.reply(job->done, "NO [UNKNOWN-CTE] Cannot decode a part's content");
                s.reply(job->done, "OK " + name + " completed");
            });
        });
}

void fetch(ImapSession& s, Command& cmd, bool uid) {
    if (cmd.args.size() != 2) return s.bad(cmd, "FETCH expects a sequence set and items");
    auto request = parse_fetch_items(cmd.args[1], uid);
    if (!request) return s.bad(cmd, "Invalid FETCH items");
    auto seqs = parse_message_set(s, cmd, cmd.args[0], uid);
    if (!seqs) return;
    auto job = std::make_shared<FetchJob>();
    job->request = std::move(*request);
    job->seqs = std::move(*seqs);
    job->uid = uid;
    job->done = reply_to(cmd);
    if (job->seqs.empty()) {
        s.reply(cmd, std::string("OK ") + (uid ? "UID FETCH" : "FETCH") + " completed");
        return;
    }
    next_batch(s, std::move(job));
}

}  // namespace

void cmd_fetch(ImapSession& s, Command& cmd) {
    fetch(s, cmd, false);
}
void cmd_uid_fetch(ImapSession& s, Command& cmd) {
    fetch(s, cmd, true);
}

}  // namespace postern::imap
