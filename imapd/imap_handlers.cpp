#include "imapd/imap_handlers.h"

#include "common/log/log.h"
#include "imapd/imap_response.h"

namespace postern::imap {

void reply_failure(ImapSession& s, const Command& cmd, const store::Failure& failure) {
    if (failure.code == store::StoreError::Temp || failure.code == store::StoreError::Perm) {
        log::error(s.log_context(), "store_error")
            .kv("command", cmd.name)
            .kv("code", store::store_error_name(failure.code))
            .kv("detail", failure.detail);
    }
    s.reply(cmd, store_failure_reply(failure));
}

std::optional<std::vector<std::uint32_t>> parse_message_set(ImapSession& s, const Command& cmd,
                                                            const Arg& arg, bool uid) {
    if (!arg.is_atom()) {
        s.bad(cmd, "Invalid sequence set");
        return std::nullopt;
    }
    if (is_saved_marker(arg.text))
        return s.view()->select(SeqSet::of(s.saved_result().uids()), true);
    auto set = SeqSet::parse(arg.text, s.context().limits.max_seqset_ranges);
    if (!set) {
        s.bad(cmd, "Invalid sequence set");
        return std::nullopt;
    }
    const MailboxView& view = *s.view();
    if (!uid && set->exceeds(view.exists())) {
        s.bad(cmd, "Invalid message sequence number");
        return std::nullopt;
    }
    return view.select(*set, uid);
}

bool open_index(const store::UserPaths& paths, store::IndexLease& index, StoreOutcome& out) {
    // One pool for the whole process: pool threads lease and give back.
    static store::IndexPool pool;
    auto leased = pool.lease(paths);
    if (!leased) return out.set(leased.error());
    index = std::move(*leased);
    return true;
}

}  // namespace postern::imap
