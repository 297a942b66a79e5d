// The per-user index (index.db): mailboxes and the messages in them.
//
// Contract:
// - The Maildir is the truth for content and flags; the index is a cache of
//   it plus what a Maildir cannot hold (UIDVALIDITY, UIDNEXT, MODSEQ,
//   summaries). reindex.h rebuilds it from the Maildir.
// - One writer at a time per user (BEGIN IMMEDIATE); readers never block
//   (WAL). Every committed change bumps the change feed (change_feed.h).
// - Files are renamed/unlinked in the same order every time: flag changes
//   rename the file before COMMIT (and rename it back if COMMIT fails);
//   expunge COMMITs first and unlinks after, so a crash can leave a file the
//   index no longer knows (reindex brings it back) but never an index row
//   whose file was deleted on purpose.
// - Mailbox names passed in are validated here (data_dir.h); "INBOX" is
//   case-insensitive.
// All calls block on disk: run them on the libuv pool.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/data_dir.h"
#include "storage/maildir.h"
#include "storage/sqlite.h"

namespace postern::store {

struct MailboxInfo {
    std::int64_t id = 0;
    std::string name;
    std::uint32_t uidvalidity = 0;
    std::uint32_t uidnext = 1;
    std::uint64_t highestmodseq = 0;
    bool subscribed = true;
    std::string special_use;  // RFC 6154 attribute, e.g. "\\Sent"; "" if none
};

struct MessageInfo {
    std::uint32_t uid = 0;
    Flags flags = 0;
    std::uint64_t size = 0;
    std::uint64_t modseq = 0;
    std::int64_t internal_date = 0;  // seconds since the epoch
    std::string file;                // relative to the folder: "new/…" or "cur/…"
};

struct Usage {
    std::uint64_t bytes = 0;
    std::uint64_t messages = 0;
};

enum class FlagMode { Replace, Add, Remove };

// Folders every new user gets, with their RFC 6154 special-use attributes.
struct SpecialFolder {
    std::string_view name;
    std::string_view attribute;
};
inline constexpr SpecialFolder kSpecialFolders[] = {
    {"Drafts", "\\Drafts"}, {"Sent", "\\Sent"},       {"Trash", "\\Trash"},
    {"Junk", "\\Junk"},     {"Archive", "\\Archive"},
};

class MailboxIndex {
  public:
    // Pairs (from, to) of renames done inside an open transaction, so that a
    // failed COMMIT can put the files back.
    using Renames = std::vector<std::pair<std::filesystem::path, std::filesystem::path>>;

    // Opens the index, creating the Maildir and index.db on first use; a new
    // index gets INBOX and kSpecialFolders.
    static StoreResult<MailboxIndex> open(const UserPaths& paths);

    MailboxIndex(MailboxIndex&&) noexcept = default;
    MailboxIndex& operator=(MailboxIndex&&) noexcept = default;

    const UserPaths& paths() const { return paths_; }
    Db& db() { return db_; }

    StoreResult<std::vector<MailboxInfo>> list_mailboxes();
    StoreResult<MailboxInfo> find_mailbox(std::string_view name);
    StoreResult<MailboxInfo> create_mailbox(std::string_view name,
                                            std::string_view special_use = {});
    // InUse if it has child mailboxes; Invalid for INBOX (RFC 3501 §6.3.4).
    StoreStatus delete_mailbox(std::string_view name);
    // Renames children too (RFC 3501 §6.3.5). Renaming INBOX is not supported
    // yet (Invalid). Exists if `to` or one of the renamed children exists.
    StoreStatus rename_mailbox(std::string_view from, std::string_view to);
    StoreStatus set_subscribed(std::string_view name, bool subscribed);

    StoreResult<std::vector<MessageInfo>> list_messages(std::string_view mailbox);
    StoreResult<std::string> summary(std::string_view mailbox, std::uint32_t uid);
    // The message file; if the recorded name is gone (a crash between a flag
    // rename and its COMMIT), finds it again by its unique base name.
    StoreResult<std::filesystem::path> message_path(std::string_view mailbox,
                                                    const MessageInfo& message);

    // Changes flags of the given UIDs (unknown UIDs are skipped) and returns
    // the messages that changed, each with its new modseq.
    StoreResult<std::vector<MessageInfo>> set_flags(std::string_view mailbox,
                                                    const std::vector<std::uint32_t>& uids,
                                                    Flags flags, FlagMode mode);
    // Removes the rows, then the files. Returns the UIDs actually expunged.
    StoreResult<std::vector<std::uint32_t>> expunge(std::string_view mailbox,
                                                    const std::vector<std::uint32_t>& uids);

    StoreResult<Usage> usage();
    StoreResult<std::uint64_t> change_counter();

    // For message_writer.h only: the two index steps of a delivery.
    // reserve_uid() commits UIDNEXT+1 on its own, before the file is linked.
    struct Reservation {
        std::int64_t mailbox_id = 0;
        std::filesystem::path folder;
        std::uint32_t uid = 0;
    };
    StoreResult<Reservation> reserve_uid(std::string_view mailbox);
    StoreStatus add_message(const Reservation& r, const MessageInfo& message,
                            std::string_view summary);
    // Undoes add_message (when a later recipient of the same delivery fails).
    StoreStatus remove_message(const Reservation& r);

  private:
    MailboxIndex(UserPaths paths, Db db) : paths_(std::move(paths)), db_(std::move(db)) {}
    StoreStatus provision();
    StoreResult<std::uint32_t> next_uidvalidity();
    StoreStatus commit(Transaction& tx);
    StoreResult<std::uint64_t> bump_modseq(std::int64_t mailbox_id);
    StoreResult<std::vector<MessageInfo>> load_messages(std::int64_t mailbox_id,
                                                        const std::vector<std::uint32_t>& uids);
    StoreStatus rewrite_flags(const MailboxInfo& box, MessageInfo& m, Flags next,
                              std::uint64_t modseq, Renames& done);

    UserPaths paths_;
    Db db_;
};

}  // namespace postern::store
