#include "storage/index_pool.h"

namespace postern::store {

IndexLease& IndexLease::operator=(IndexLease&& other) noexcept {
    if (this != &other) {
        release();
        pool_ = std::exchange(other.pool_, nullptr);
        key_ = std::move(other.key_);
        index_ = std::exchange(other.index_, std::nullopt);
    }
    return *this;
}

void IndexLease::release() {
    if (pool_ != nullptr && index_) pool_->give_back(std::move(key_), std::move(*index_));
    index_.reset();
    pool_ = nullptr;
}

StoreResult<IndexLease> IndexPool::lease(const UserPaths& paths) {
    {
        std::lock_guard lock(mutex_);
        for (auto it = idle_.begin(); it != idle_.end(); ++it) {
            if (it->first == paths.index_db) {
                IndexLease out(this, std::move(it->first), std::move(it->second));
                idle_.erase(it);
                return out;
            }
        }
    }
    // Opened outside the lock: it touches the disk.
    auto index = MailboxIndex::open(paths);
    if (!index) return fail(index.error());
    return IndexLease(this, paths.index_db, std::move(*index));
}

std::size_t IndexPool::idle_count() {
    std::lock_guard lock(mutex_);
    return idle_.size();
}

void IndexPool::give_back(std::filesystem::path key, MailboxIndex index) {
    std::optional<MailboxIndex> evicted;  // closed after the lock is released
    std::lock_guard lock(mutex_);
    idle_.emplace_front(std::move(key), std::move(index));
    if (idle_.size() > kMaxIdle) {
        evicted.emplace(std::move(idle_.back().second));
        idle_.pop_back();
    }
}

StoreResult<IndexLease> open_unpooled(const UserPaths& paths) {
    auto index = MailboxIndex::open(paths);
    if (!index) return fail(index.error());
    return IndexLease(nullptr, paths.index_db, std::move(*index));
}

}  // namespace postern::store
