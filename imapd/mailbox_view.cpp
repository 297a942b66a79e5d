#include "imapd/mailbox_view.h"

#include <algorithm>

#include "imapd/imap_response.h"

namespace postern::imap {

MailboxView::MailboxView(store::MailboxInfo box, std::vector<store::MessageInfo> messages,
                         bool read_only)
    : box_(std::move(box)),
      messages_(std::move(messages)),
      gone_(messages_.size(), false),
      read_only_(read_only) {}

std::uint32_t MailboxView::seq_of(std::uint32_t uid) const {
    auto it =
        std::lower_bound(messages_.begin(), messages_.end(), uid,
                         [](const store::MessageInfo& m, std::uint32_t u) { return m.uid < u; });
    if (it == messages_.end() || it->uid != uid) return 0;
    return static_cast<std::uint32_t>(it - messages_.begin()) + 1;
}

std::vector<std::uint32_t> MailboxView::select(const SeqSet& set, bool uid) const {
    std::vector<std::uint32_t> out;
    if (!uid) {
        for (const SeqRange& r : set.resolve(exists())) {
            for (std::uint64_t s = r.lo; s <= r.hi && s <= exists(); ++s)
                out.push_back(static_cast<std::uint32_t>(s));
        }
        return out;
    }
    for (const SeqRange& r : set.resolve(max_uid())) {
        auto it = std::lower_bound(
            messages_.begin(), messages_.end(), r.lo,
            [](const store::MessageInfo& m, std::uint32_t u) { return m.uid < u; });
        for (; it != messages_.end() && it->uid <= r.hi; ++it)
            out.push_back(static_cast<std::uint32_t>(it - messages_.begin()) + 1);
    }
    return out;
}

std::string MailboxView::sync(const std::vector<store::MessageInfo>& fresh, bool allow_expunge) {
    std::string out;
    // Mark what vanished and report flag changes of what remains.
    std::size_t j = 0;
    std::vector<std::uint32_t> flag_changes;
    for (std::size_t i = 0; i < messages_.size(); ++i) {
        while (j < fresh.size() && fresh[j].uid < messages_[i].uid)
            ++j;
        if (j == fresh.size() || fresh[j].uid != messages_[i].uid) {
            gone_[i] = true;
            continue;
        }
        if (fresh[j].flags != messages_[i].flags) {
            messages_[i].flags = fresh[j].flags;
            messages_[i].modseq = fresh[j].modseq;
            messages_[i].file = fresh[j].file;
            flag_changes.push_back(messages_[i].uid);
        }
    }
    if (allow_expunge) {
        // Highest first, so that each number is still valid when sent.
        for (std::size_t i = messages_.size(); i-- > 0;) {
            if (!gone_[i]) continue;
            out += "* " + std::to_string(i + 1) + " EXPUNGE\r\n";
            messages_.erase(messages_.begin() + static_cast<std::ptrdiff_t>(i));
            gone_.erase(gone_.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }
    for (std::uint32_t uid : flag_changes) {
        std::uint32_t seq = seq_of(uid);
        if (seq == 0) continue;
        out += "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(uid) + " FLAGS " +
               flag_list(messages_[seq - 1].flags) + ")\r\n";
    }
    std::uint32_t last = max_uid();
    bool grew = false;
    for (const store::MessageInfo& m : fresh) {
        if (m.uid <= last) continue;
        messages_.push_back(m);
        gone_.push_back(false);
        grew = true;
    }
    if (grew) out += "* " + std::to_string(exists()) + " EXISTS\r\n";
    return out;
}

}  // namespace postern::imap
