// Writing a message into one of the logged-in user's mailboxes (APPEND,
// COPY, MOVE), always through storage's MessageWriter (STYLE.md §13), and
// the UIDPLUS (RFC 4315) uid-set text. Blocking: call on the pool only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "imapd/imap_session.h"
#include "storage/message_writer.h"

namespace postern::imap {

struct DeliveryRequest {
    std::string mailbox;
    store::Flags flags = 0;
    std::int64_t internal_date = 0;  // 0: now
    std::string summary;             // serialized MessageSummary
    std::uint64_t max_bytes = 0;
};

// `index` is the account's open index (the command's lease): the writer
// reserves the UID and adds the row through it instead of opening its own.
store::StoreResult<std::uint32_t> deliver_to_mailbox(const Account& account,
                                                     store::MailboxIndex& index,
                                                     const DeliveryRequest& request,
                                                     std::string_view message);

// "1:3,7" for ascending UIDs (RFC 4315 uid-set).
std::string uid_set_text(const std::vector<std::uint32_t>& uids);

}  // namespace postern::imap
