// IndexPool: long-lived per-user index connections, shared by the pool jobs
// of one process: mda's deliveries (message_writer.h, "Indexes", says what
// that saves) and imapd's commands (no SQLite open, and compiled statements
// kept, per command).
//
// Contract:
// - lease() hands out an open MailboxIndex for one user that no other lease
//   holds: an idle connection to that user's index.db if there is one, else a
//   newly opened one. So concurrent deliveries to one user each get their own
//   connection (SQLite serializes their writes with BEGIN IMMEDIATE), and a
//   connection is never used by two threads at once.
// - Dropping the Lease gives the connection back; at most kMaxIdle idle
//   connections are kept, least recently used out first.
// - While one connection to a user's index stays open, SQLite never
//   checkpoints and deletes the WAL on close, which would cost two more fsyncs
//   and an unlink per delivery.
// - `mailctl reindex` must not run under a serving daemon (as reindex.h
//   already says): a held connection would keep the old index.db inode.
// Thread-safe. Leases may be dropped on any thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <list>
#include <mutex>
#include <optional>
#include <utility>

#include "storage/data_dir.h"
#include "storage/mailbox_index.h"

namespace postern::store {

class IndexPool;

// One connection, exclusively; returned to its pool (if any) when dropped.
// A default-constructed lease holds nothing until one is moved into it.
class IndexLease {
  public:
    IndexLease() = default;
    IndexLease(IndexPool* pool, std::filesystem::path key, MailboxIndex index)
        : pool_(pool), key_(std::move(key)), index_(std::move(index)) {}
    IndexLease(IndexLease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)),
          key_(std::move(other.key_)),
          index_(std::exchange(other.index_, std::nullopt)) {}
    IndexLease& operator=(IndexLease&& other) noexcept;
    IndexLease(const IndexLease&) = delete;
    IndexLease& operator=(const IndexLease&) = delete;
    ~IndexLease() { release(); }

    MailboxIndex& index() { return *index_; }
    MailboxIndex* operator->() { return &*index_; }
    MailboxIndex& operator*() { return *index_; }

  private:
    void release();

    IndexPool* pool_ = nullptr;  // null: not pooled (or moved from); the index just closes
    std::filesystem::path key_;
    std::optional<MailboxIndex> index_;
};

class IndexPool {
  public:
    // 64 connections x 3 descriptors (db, -wal, -shm) stays far below the
    // usual 1024 descriptor limit, and covers the users of a busy minute on
    // a small host; a miss costs one SQLite open, not correctness.
    static constexpr std::size_t kMaxIdle = 64;

    IndexPool() = default;
    IndexPool(const IndexPool&) = delete;
    IndexPool& operator=(const IndexPool&) = delete;

    StoreResult<IndexLease> lease(const UserPaths& paths);
    std::size_t idle_count();

  private:
    friend class IndexLease;
    void give_back(std::filesystem::path key, MailboxIndex index);

    std::mutex mutex_;
    std::list<std::pair<std::filesystem::path, MailboxIndex>> idle_;  // front = newest
};

// A connection of its own, closed when the lease is dropped (no pool).
StoreResult<IndexLease> open_unpooled(const UserPaths& paths);

}  // namespace postern::store
