// See pop3_maildrop.h. Runs on the libuv pool: each call opens the store
// afresh (SQLite handles are cheap; a Store is used by one thread at a time).
#include "pop3d/pop3_maildrop.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "pop3d/pop3_wire.h"
#include "storage/data_dir.h"
#include "storage/store.h"

namespace postern::pop3 {

namespace {

// Reading buffer for sizing a file; on the pool thread's stack.
constexpr std::size_t kSizeChunkBytes = 64u << 10;

store::StoreResult<store::Store> open_store(const std::filesystem::path& data_dir) {
    return store::Store::open(data_dir);
}

}  // namespace

std::optional<std::uint64_t> SizeCache::get(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = sizes_.find(key);
    if (it == sizes_.end()) return std::nullopt;
    return it->second;
}

void SizeCache::put(const std::string& key, std::uint64_t size) {
    std::lock_guard lock(mutex_);
    if (sizes_.size() >= kMaxEntries) sizes_.clear();
    sizes_[key] = size;
}

store::StoreResult<std::uint64_t> wire_size_of(const std::filesystem::path& file) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT) return store::store_fail(store::StoreError::NotFound, file.string());
        return fail(store::errno_failure("open " + file.string(), err));
    }
    WireSizeCounter counter;
    std::array<char, kSizeChunkBytes> buf;
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return fail(store::errno_failure("read " + file.string(), err));
        }
        if (n == 0) break;
        counter.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
    ::close(fd);
    return counter.finish();
}

namespace {

// The wire size of the message at `path`, from the cache or by reading it.
// If the file was renamed (a flag change: new/ -> cur/), finds it through the
// index; nullopt if it is gone (expunged since the listing).
store::StoreResult<std::optional<std::uint64_t>> size_message(store::MailboxIndex& index,
                                                              const store::MessageInfo& info,
                                                              std::filesystem::path& path,
                                                              const std::string& key,
                                                              SizeCache& sizes) {
    if (auto cached = sizes.get(key)) return std::optional<std::uint64_t>(*cached);
    auto size = wire_size_of(path);
    if (!size && size.error().code == store::StoreError::NotFound) {
        auto found = index.message_path(store::kInbox, info);
        if (!found) {
            if (found.error().code == store::StoreError::NotFound)
                return std::optional<std::uint64_t>{};
            return fail(found.error());
        }
        path = std::move(*found);
        size = wire_size_of(path);
    }
    if (!size) {
        if (size.error().code == store::StoreError::NotFound) return std::optional<std::uint64_t>{};
        return fail(size.error());
    }
    sizes.put(key, *size);
    return std::optional<std::uint64_t>(*size);
}

}  // namespace

store::StoreResult<Maildrop> load_maildrop(const std::filesystem::path& data_dir,
                                           const store::User& user, SizeCache& sizes) {
    auto st = open_store(data_dir);
    if (!st) return fail(st.error());
    auto index = st->open_index(user);
    if (!index) return fail(index.error());
    auto box = index->find_mailbox(store::kInbox);
    if (!box) return fail(box.error());
    auto list = index->list_messages(store::kInbox);
    if (!list) return fail(list.error());
    auto folder = store::folder_path(index->paths().maildir, store::kInbox);
    if (!folder) return fail(folder.error());
    // Paths are taken as indexed, without a stat each: a file renamed since
    // is found again when sized here or when opened (open_message()).
    std::string key_prefix = index->paths().home.string() + "|";
    Maildrop drop{user, box->uidvalidity, {}};
    drop.messages.reserve(list->size());
    for (auto& info : *list) {
        MaildropMessage m;
        m.uidl = std::to_string(box->uidvalidity) + "." + std::to_string(info.uid);
        m.path = *folder / info.file;
        auto size = size_message(*index, info, m.path, key_prefix + m.uidl, sizes);
        if (!size) return fail(size.error());
        if (!*size) continue;  // expunged since the listing: not part of this maildrop
        m.wire_size = **size;
        m.info = std::move(info);
        drop.messages.push_back(std::move(m));
    }
    return drop;
}

store::StoreResult<int> open_message(const std::filesystem::path& data_dir, const store::User& user,
                                     const MaildropMessage& m) {
    int fd = ::open(m.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno != ENOENT) return fail(store::errno_failure("open " + m.path.string(), errno));
    auto st = open_store(data_dir);
    if (!st) return fail(st.error());
    auto index = st->open_index(user);
    if (!index) return fail(index.error());
    auto path = index->message_path(store::kInbox, m.info);
    if (!path) return fail(path.error());
    fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT) return store::store_fail(store::StoreError::NotFound, path->string());
        return fail(store::errno_failure("open " + path->string(), err));
    }
    return fd;
}

store::StoreResult<std::size_t> expunge_maildrop(const std::filesystem::path& data_dir,
                                                 const store::User& user,
                                                 const std::vector<std::uint32_t>& uids) {
    auto st = open_store(data_dir);
    if (!st) return fail(st.error());
    auto index = st->open_index(user);
    if (!index) return fail(index.error());
    auto gone = index->expunge(store::kInbox, uids);
    if (!gone) return fail(gone.error());
    return gone->size();
}

}  // namespace postern::pop3
