// Rebuilds a user's index.db from the Maildir, which is the truth.
//
// - Every folder: INBOX (the Maildir root) and each ".name" directory that
//   decodes to a valid mailbox name (data_dir.h); other entries are skipped.
// - Every file in new/ and cur/: UID from ",U=" (kept: reindex never
//   renumbers); files without one, or whose UID is taken by an earlier file,
//   get new UIDs above the highest, and are renamed to carry ",U=" so the
//   next reindex finds the same UID. Flags come from ":2,", the size from
//   ",S=" (else stat), the internal date from the file's mtime.
// - UIDVALIDITY, UIDNEXT (never lowered), subscriptions and special-use
//   attributes are kept from the old index if it is readable; otherwise
//   UIDVALIDITY is new and special-use comes from the standard folder names.
// - The summary comes from the caller's callback (null: empty summary).
// - Leftovers in tmp/ older than kStaleTmpAge are removed (maildir(5)).
// The new index is built beside the old one and renamed over it, so a crash
// leaves the old index or the new one. Run it while the user's daemons are
// not writing (mailctl reindex stops nothing itself).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "storage/data_dir.h"
#include "storage/store_error.h"

namespace postern::store {

using SummaryFunction = std::function<std::string(const std::filesystem::path& message_file)>;

struct ReindexStats {
    std::uint64_t mailboxes = 0;
    std::uint64_t messages = 0;
    std::uint64_t new_uids = 0;  // files that had no usable ,U= and got one
    bool kept_uidvalidity = false;
};

StoreResult<ReindexStats> reindex(const UserPaths& paths, const SummaryFunction& summary);

}  // namespace postern::store
