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

namespace postern::imap {

enum class MessageExtent {
    Whole,
    Header,  // up to and including the blank line; the whole file if it has none
};

// nullopt if the file cannot be opened or read (e.g. expunged meanwhile).
std::optional<std::string> read_message(const std::filesystem::path& path, MessageExtent extent);

}  // namespace postern::imap
