// MailboxView: one session's picture of its selected mailbox (RFC 9051
// §2.3.1.2): the ordered UIDs that sequence numbers refer to, and the flags
// the client was last told about.
//
// The view changes only through sync(), at points where the protocol allows
// untagged updates; sync() returns those updates (EXPUNGE, EXISTS, FETCH
// FLAGS) for the session to write before its tagged reply. When expunges are
// not allowed (during FETCH, STORE, SEARCH: RFC 9051 §7.5.1) vanished
// messages stay in the view, still numbered, until a later sync may report
// them. Never expands a sequence set: lookups are binary searches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imapd/seqset.h"
#include "storage/mailbox_index.h"

namespace postern::imap {

class MailboxView {
  public:
    MailboxView(store::MailboxInfo box, std::vector<store::MessageInfo> messages, bool read_only);

    const store::MailboxInfo& box() const { return box_; }
    const std::string& name() const { return box_.name; }
    bool read_only() const { return read_only_; }
    std::uint32_t exists() const { return static_cast<std::uint32_t>(messages_.size()); }
    std::uint32_t max_uid() const { return messages_.empty() ? 0 : messages_.back().uid; }

    // 1-based sequence number -> message.
    const store::MessageInfo& at(std::uint32_t seq) const { return messages_[seq - 1]; }
    // 0 when the UID is not in the view.
    std::uint32_t seq_of(std::uint32_t uid) const;
    bool vanished(std::uint32_t seq) const { return gone_[seq - 1]; }
    void set_flags(std::uint32_t seq, store::Flags flags) { messages_[seq - 1].flags = flags; }

    // The sequence numbers a set names: `uid` selects UID semantics (UIDs not
    // in the view are skipped); for sequence sets the caller has checked
    // exceeds(). Ascending.
    std::vector<std::uint32_t> select(const SeqSet& set, bool uid) const;

    // Brings the view up to `fresh` (sorted by UID). Returns untagged lines,
    // each with CRLF.
    std::string sync(const std::vector<store::MessageInfo>& fresh, bool allow_expunge);

  private:
    store::MailboxInfo box_;
    std::vector<store::MessageInfo> messages_;
    std::vector<bool> gone_;
    bool read_only_;
};

}  // namespace postern::imap
