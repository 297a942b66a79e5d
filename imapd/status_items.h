// STATUS data items (RFC 9051 §6.3.11, RFC 8438 STATUS=SIZE), shared by the
// STATUS command and LIST-STATUS (RFC 5819): parsing the item list, counting
// from the index's message list, and rendering the untagged response. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imapd/imap_parser.h"
#include "storage/mailbox_index.h"

namespace postern::imap {

enum class StatusItem { Messages, UidNext, UidValidity, Unseen, Recent, Size, Deleted };

// "(MESSAGES UNSEEN ...)"; nullopt (BAD) for an empty list, a non-atom or an
// unknown item. RECENT is IMAP4rev1 only: after ENABLE IMAP4rev2 it is
// unknown (RFC 9051 App. E).
std::optional<std::vector<StatusItem>> parse_status_items(const Arg& list, bool rev2);

struct StatusCounts {
    std::uint64_t messages = 0;
    std::uint64_t unseen = 0;
    std::uint64_t deleted = 0;
    std::uint64_t size = 0;  // RFC 8438: total of the messages' sizes, octets
    std::uint32_t uidnext = 0;
    std::uint32_t uidvalidity = 0;
};

StatusCounts count_status(const store::MailboxInfo& box,
                          const std::vector<store::MessageInfo>& messages);

// "STATUS <wire name> (MESSAGES 2 UIDNEXT 3)" in the order asked, without "* ".
std::string status_response(const std::string& wire_name, const std::vector<StatusItem>& items,
                            const StatusCounts& counts);

}  // namespace postern::imap
