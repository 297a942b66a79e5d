#include "storage/change_feed.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/log/log.h"

namespace postern::store {

namespace {
// Digits of the counter in the change file: a uint64 fits in 20.
constexpr int kCounterDigits = 20;
}  // namespace

StoreResult<std::uint64_t> bump_change_counter(Db& index) {
    auto stmt = index.prepare(
        "UPDATE user_state SET change_counter = change_counter + 1 WHERE id = 1 "
        "RETURNING change_counter");
    if (!stmt) return fail(stmt.error());
    auto row = stmt->step();
    if (!row) return fail(row.error());
    if (!*row) return store_fail(StoreError::Temp, "user_state row missing");
    return static_cast<std::uint64_t>(stmt->column_int(0));
}

StoreResult<std::uint64_t> read_change_counter(Db& index) {
    auto stmt = index.prepare("SELECT change_counter FROM user_state WHERE id = 1");
    if (!stmt) return fail(stmt.error());
    auto row = stmt->step();
    if (!row) return fail(row.error());
    if (!*row) return store_fail(StoreError::Temp, "user_state row missing");
    return static_cast<std::uint64_t>(stmt->column_int(0));
}

void notify_change(const std::filesystem::path& change_file, std::uint64_t counter) {
    // A write (not just a utime) so inotify reports IN_MODIFY, which libuv
    // turns into UV_CHANGE on every platform we run on. Fixed width and no
    // O_TRUNC: the file is overwritten in place, so no delivery frees and
    // reallocates its block (truncate + write cost the mda 5% of its CPU).
    int fd = open(change_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log::warn("change_notify_failed")
            .kv("path", change_file.string())
            .kv("error", std::strerror(errno));
        return;
    }
    char text[kCounterDigits + 2];
    std::snprintf(text, sizeof text, "%0*llu\n", kCounterDigits,
                  static_cast<unsigned long long>(counter));
    const std::size_t length = kCounterDigits + 1;
    if (pwrite(fd, text, length, 0) != static_cast<ssize_t>(length)) {
        log::warn("change_notify_failed")
            .kv("path", change_file.string())
            .kv("error", "short write");
    }
    close(fd);
}

}  // namespace postern::store
