// Layout of the data directory, and the only place that turns names into paths.
//
//   <root>/directory.db                          domains, users, aliases, quotas
//   <root>/users/<domain>/<local>/Maildir/       Maildir++: INBOX is the root
//   <root>/users/<domain>/<local>/Maildir/.Sent/ folder "Sent"
//   <root>/users/<domain>/<local>/Maildir/.a.b/  folder "a/b" (hierarchy '/')
//   <root>/users/<domain>/<local>/index.db       per-user index (WAL)
//   <root>/users/<domain>/<local>/index.changed  change feed file (watched)
//
// Guarantee: a name that passes validation maps to a path strictly inside the
// user's Maildir (or user directory). Folder components are escaped ('.' →
// "%2E", '%' → "%25") so a folder directory is always ".<something>" without
// '/', never "." or "..". Local parts are escaped the same way for '/'.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "storage/store_error.h"

namespace postern::store {

// The whole Maildir++ hierarchy of a folder is one directory name, so the
// filesystem's NAME_MAX (255 on ext4/xfs) bounds it after escaping. 200 bytes
// before escaping leaves room and is far above what any client creates.
inline constexpr std::size_t kMaxMailboxNameBytes = 200;
inline constexpr std::size_t kMaxFolderDirBytes = 255;
inline constexpr char kHierarchySeparator = '/';
inline constexpr std::string_view kInbox = "INBOX";

struct UserPaths {
    std::filesystem::path home;         // users/<domain>/<local>
    std::filesystem::path maildir;      // home/Maildir
    std::filesystem::path index_db;     // home/index.db
    std::filesystem::path change_file;  // home/index.changed
};

class DataDir {
  public:
    explicit DataDir(std::filesystem::path root) : root_(std::move(root)) {}

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path directory_db() const { return root_ / "directory.db"; }
    // Invalid for a domain or local part that is not a valid address part.
    // The directory name uses the lowercased local part, so every spelling of
    // one user maps to one directory.
    StoreResult<UserPaths> user(std::string_view domain, std::string_view local) const;

  private:
    std::filesystem::path root_;
};

// Checks a mailbox name and returns its canonical form ("inbox" → "INBOX").
// Refused (Invalid): empty, longer than kMaxMailboxNameBytes, control bytes
// (NUL, 0x01-0x1f, 0x7f), a leading or trailing '/', empty components
// ("a//b"), "." components, ".." anywhere, and names whose escaped directory
// name would exceed kMaxFolderDirBytes.
StoreResult<std::string> validate_mailbox_name(std::string_view name);

// The Maildir++ directory of a (validated) mailbox, relative to the Maildir:
// "" for INBOX, ".Sent", ".a.b".
StoreResult<std::string> folder_dir_name(std::string_view name);
StoreResult<std::filesystem::path> folder_path(const std::filesystem::path& maildir,
                                               std::string_view name);
// The inverse, for reindex: ".a%2Eb.c" → "a.b/c"; nullopt if it is not ours.
std::optional<std::string> mailbox_name_from_dir(std::string_view dir_name);

}  // namespace postern::store
