// Reading a stored message file on the pool, whole or only its header.
//
// FETCH of header fields (what Thunderbird and Apple Mail ask for to fill a
// message list) and SEARCH on header keys need only the header block: reading
// just that skips the bodies and attachments. The header's end is found with
// the same parser the index used at delivery (common/mail header_parser.h),
// so offsets from the stored summary stay valid in the shorter text.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "storage/mailbox_index.h"

namespace postern::imap {

enum class MessageExtent {
    Whole,
    Header,  // up to and including the blank line; the whole file if it has none
};

// nullopt if the file cannot be opened or read (e.g. expunged meanwhile).
std::optional<std::string> read_message(const std::filesystem::path& path, MessageExtent extent);

// A message of `mailbox` as the index records it: the recorded file is
// opened straight away (no stat first); only if it is gone is it looked for
// again (MailboxIndex::message_path: renamed by a flag change whose COMMIT
// failed). nullopt if it cannot be found or read (expunged meanwhile).
std::optional<std::string> read_stored_message(store::MailboxIndex& index, std::string_view mailbox,
                                               const store::MessageInfo& message,
                                               MessageExtent extent);

}  // namespace postern::imap
