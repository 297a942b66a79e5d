// Maildir++ file names and folder directories.
//
// File names (after D. J. Bernstein's maildir(5) and Postfix local/maildir.c,
// whose comment explains that "time.pid.host" stopped being unique on fast
// machines): every part below is needed for uniqueness across processes,
// threads, hosts and clock steps:
//   <sec>.M<usec>P<pid>Q<counter>R<random>.<host>,S=<size>,U=<uid>[:2,<flags>]
// - sec/usec: delivery time; pid: this process; counter: per process, so two
//   deliveries within one microsecond differ; random: 64 bits from the OS so a
//   recycled pid after a reboot with a stepped clock still differs.
// - host: gethostname() with '/' ':' ',' escaped as \057 \072 \054.
// - ,S=<size>: the file's size, so quota and RFC822.SIZE need no stat().
// - ,U=<uid>: the IMAP UID, so reindex can recover UIDs (Dovecot keeps them in
//   dovecot-uidlist; we keep them in the name, which cannot get out of sync).
// - :2,<flags>: maildir info; flag letters in ASCII order (D F P R S T).
// Nothing else writes into a Maildir: see message_writer.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "storage/store_error.h"

namespace postern::store {

// IMAP system flags (RFC 3501 §2.3.2) and their maildir letters.
enum Flag : std::uint32_t {
    kFlagDraft = 1u << 0,     // D  \Draft
    kFlagFlagged = 1u << 1,   // F  \Flagged
    kFlagPassed = 1u << 2,    // P  ($Forwarded)
    kFlagAnswered = 1u << 3,  // R  \Answered
    kFlagSeen = 1u << 4,      // S  \Seen
    kFlagDeleted = 1u << 5,   // T  \Deleted (trashed)
};
using Flags = std::uint32_t;
inline constexpr Flags kAllFlags = (1u << 6) - 1;

std::string flags_to_letters(Flags flags);
// Unknown letters (keywords a-z of other software) are ignored.
Flags flags_from_letters(std::string_view letters);

struct MaildirName {
    std::string base;                   // "<sec>.M…<host>" without ,S= ,U= or :2,
    std::optional<std::uint64_t> size;  // ,S= if present
    std::optional<std::uint32_t> uid;   // ,U= if present
    Flags flags = 0;
    bool has_info = false;  // ":2," present (file belongs in cur/)
};

// A fresh unique base name.
std::string unique_base_name();
// "<base>,S=<size>,U=<uid>" (the name in new/), and with ":2,<flags>" for cur/.
std::string delivery_name(std::string_view base, std::uint64_t size, std::uint32_t uid);
std::string cur_name(std::string_view base, std::uint64_t size, std::uint32_t uid, Flags flags);
MaildirName parse_maildir_name(std::string_view file_name);

// The same message file name with other flags (new/x → cur/x:2,FS).
std::string with_flags(std::string_view file_name, Flags flags);

// Creates dir/{tmp,new,cur} (and dir itself); existing directories are fine.
// Maildir++ marks a folder with an empty "maildirfolder" file.
StoreStatus create_maildir(const std::filesystem::path& dir, bool is_subfolder);

// maildir(5): a file in tmp/ untouched for 36 hours is a leftover of a
// crashed delivery and may be removed.
inline constexpr std::chrono::seconds kStaleTmpAge{36 * 3600};

// Removes files in dir/tmp/ whose mtime is older than max_age; returns how
// many. Never touches new/ or cur/.
StoreResult<std::size_t> remove_stale_tmp(const std::filesystem::path& dir,
                                          std::chrono::seconds max_age = kStaleTmpAge);

// fsync() of a directory, so a rename or link in it survives a crash.
StoreStatus fsync_dir(const std::filesystem::path& dir);

}  // namespace postern::store
