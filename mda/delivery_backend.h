// DeliveryBackend: the blocking half of the LMTP server, called from libuv
// pool threads. The session never touches the store itself.
//
// StoreBackend keeps one Store (directory.db handle) per pool thread, opened
// on first use, since a Store must be used by one thread at a time
// (store.h) and reopening SQLite for every command would cost more than the
// lookup itself.
#pragma once

#include <filesystem>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mda/delivery.h"

namespace postern::mda {

class DeliveryBackend {
  public:
    virtual ~DeliveryBackend() = default;
    // RCPT: Delivered means "accepted"; anything else is the refusal.
    // Thread-safe.
    virtual Outcome check_recipient(const std::string& address) = 0;
    // Thread-safe. One result per envelope recipient, in order.
    virtual std::vector<RecipientResult> deliver(const Envelope& envelope,
                                                 std::string_view message) = 0;
};

// Keeps the index of recently served users open, so that the MessageWriter's
// own connection is never the last one to close: SQLite checkpoints the WAL
// into index.db and deletes it when its last connection closes, which costs
// two more fsyncs and an unlink per delivery. Held, never used: each
// delivery still opens its own handle (store.h). At most kMaxKept entries,
// least recently used out first. `mailctl reindex` must not run under a
// serving mda (as reindex.h already says): a held handle would keep the old
// inode.
class IndexKeeper {
  public:
    // 64 users x 3 descriptors (db, -wal, -shm) stays far below the usual
    // 1024 descriptor limit.
    static constexpr std::size_t kMaxKept = 64;
    void keep(const store::UserPaths& paths);

  private:
    std::mutex mutex_;
    std::list<std::pair<std::filesystem::path, store::MailboxIndex>> kept_;  // front = newest
};

class StoreBackend final : public DeliveryBackend {
  public:
    StoreBackend(std::filesystem::path data_dir, DeliverySettings settings)
        : data_dir_(std::move(data_dir)), settings_(std::move(settings)) {}

    Outcome check_recipient(const std::string& address) override;
    std::vector<RecipientResult> deliver(const Envelope& envelope,
                                         std::string_view message) override;

  private:
    // This thread's Store for data_dir_, or the failure to open it.
    store::StoreResult<store::Store*> thread_store();

    std::filesystem::path data_dir_;
    DeliverySettings settings_;
    IndexKeeper keeper_;
};

}  // namespace postern::mda
