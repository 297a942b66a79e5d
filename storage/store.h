// Store: the front door to a data directory, for mda, mailctl and the daemons.
//
// It owns the directory database and knows the layout (data_dir.h); per-user
// objects (MailboxIndex, MessageWriter) are opened through it so callers
// never build a path themselves. A Store is used by one thread at a time;
// each libuv pool job opens what it needs (SQLite handles are cheap).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "storage/data_dir.h"
#include "storage/directory.h"
#include "storage/mailbox_index.h"
#include "storage/message_writer.h"
#include "storage/reindex.h"
#include "storage/store_error.h"

namespace postern::store {

class Store {
  public:
    // Creates the root and directory.db if missing.
    static StoreResult<Store> open(const std::filesystem::path& root,
                                   PasswordParams params = PasswordParams::interactive());
    Store(Store&&) noexcept = default;
    Store& operator=(Store&&) noexcept = default;

    const DataDir& data_dir() const { return data_dir_; }
    Directory& directory() { return directory_; }

    // Adds the user and provisions the Maildir and index (INBOX and the
    // special-use folders). If provisioning fails the user row is removed.
    StoreResult<User> add_user(std::string_view address, const Secret<std::string>& password);

    StoreResult<UserPaths> paths_of(const User& user) const;
    StoreResult<MailboxIndex> open_index(const User& user);
    // A delivery target carrying the user's quota.
    StoreResult<Recipient> recipient(const User& user, std::string_view mailbox = kInbox,
                                     Flags flags = 0);
    StoreResult<MessageWriter> begin_delivery(std::vector<Recipient> recipients,
                                              DeliveryOptions options = {});
    StoreResult<ReindexStats> reindex_user(const User& user, const SummaryFunction& summary);

  private:
    Store(DataDir dir, Directory directory)
        : data_dir_(std::move(dir)), directory_(std::move(directory)) {}

    DataDir data_dir_;
    Directory directory_;
};

}  // namespace postern::store
