// The per-user change feed: how imapd learns that another process changed
// a user's index, without polling.
//
// Every index transaction that changes anything calls bump() before COMMIT
// (so the counter moves atomically with the change) and notify() after it.
// notify() rewrites the small file <home>/index.changed with the counter;
// imapd keeps one uv_fs_event watch per user on it and, when woken, reads
// read_change_counter() and the rows with modseq above what it has seen.
// The file carries no meaning beyond "look again": losing a notify (crash
// between COMMIT and notify) only delays IDLE until the next change.
#pragma once

#include <cstdint>
#include <filesystem>

#include "storage/sqlite.h"

namespace postern::store {

// Inside an open transaction: counter += 1. Returns the new value.
StoreResult<std::uint64_t> bump_change_counter(Db& index);
StoreResult<std::uint64_t> read_change_counter(Db& index);
// After COMMIT: writes the counter to the watched file. Failures are logged
// and ignored: the change itself is already durable.
void notify_change(const std::filesystem::path& change_file, std::uint64_t counter);

}  // namespace postern::store
