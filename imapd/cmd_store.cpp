// STORE and UID STORE (RFC 9051 §6.4.6): FLAGS, +FLAGS, -FLAGS and their
// .SILENT forms. The new flags of every message in the set are returned
// unless .SILENT; other changes seen on the way are reported by the sync.
#include "common/base/ascii.h"
#include "imapd/imap_commands.h"
#include "imapd/imap_handlers.h"
#include "imapd/imap_response.h"

namespace postern::imap {

namespace {

struct Stored : StoreOutcome {
    std::vector<store::MessageInfo> fresh;
};

void store_flags(ImapSession& s, Command& cmd, bool uid) {
    if (cmd.args.size() != 3 || !cmd.args[1].is_atom())
        return s.bad(cmd, "STORE expects a set, an item and flags");
    std::string item = ascii_lowercase(cmd.args[1].text);
    store::FlagMode mode = store::FlagMode::Replace;
    if (!item.empty() && (item[0] == '+' || item[0] == '-')) {
        mode = item[0] == '+' ? store::FlagMode::Add : store::FlagMode::Remove;
        item.erase(0, 1);
    }
    bool silent = item == "flags.silent";
    if (item != "flags" && !silent) return s.bad(cmd, "Unknown STORE item");
    store::Flags flags = 0;
    if (!parse_flags(cmd.args[2], flags)) return s.bad(cmd, "Invalid flag list");
    auto seqs = parse_message_set(s, cmd, cmd.args[0], uid);
    if (!seqs) return;
    if (s.view()->read_only()) return s.reply(cmd, "NO [READ-ONLY] Mailbox is read-only");
    std::vector<std::uint32_t> uids;
    for (std::uint32_t seq : *seqs)
        uids.push_back(s.view()->at(seq).uid);
    store::UserPaths paths = s.account()->paths;
    std::string mailbox = s.view()->name();
    Command done = reply_to(cmd);
    s.run_blocking<Stored>(
        [paths, mailbox, uids, flags, mode] {
            Stored r;
            store::IndexLease index;
            if (!open_index(paths, index, r)) return r;
            if (!uids.empty()) {
                auto changed = index->set_flags(mailbox, uids, flags, mode);
                if (!changed) return r.set(changed.error()), r;
            }
            auto fresh = index->list_messages(mailbox);
            if (!fresh) return r.set(fresh.error()), r;
            r.fresh = std::move(*fresh);
            r.ok = true;
            return r;
        },
        [done, uids, silent, uid](ImapSession& s, Stored& r) {
            if (!r.ok) return reply_failure(s, done, r.failure);
            MailboxView& view = *s.view();
            std::string out;
            // Report the set's flags first, then let sync report the rest.
            std::size_t j = 0;
            for (std::uint32_t u : uids) {
                while (j < r.fresh.size() && r.fresh[j].uid < u)
                    ++j;
                if (j == r.fresh.size() || r.fresh[j].uid != u) continue;
                std::uint32_t seq = view.seq_of(u);
                if (seq == 0) continue;
                view.set_flags(seq, r.fresh[j].flags);
                if (silent) continue;  // our own change: the client asked for silence
                out += "* " + std::to_string(seq) + " FETCH (" +
                       (uid ? "UID " + std::to_string(u) + " " : std::string()) + "FLAGS " +
                       flag_list(r.fresh[j].flags) + ")\r\n";
            }
            out += view.sync(r.fresh, uid);
            s.send(out);
            s.reply(done, std::string("OK ") + (uid ? "UID STORE" : "STORE") + " completed");
        });
}

}  // namespace

void cmd_store(ImapSession& s, Command& cmd) {
    store_flags(s, cmd, false);
}
void cmd_uid_store(ImapSession& s, Command& cmd) {
    store_flags(s, cmd, true);
}

}  // namespace postern::imap
