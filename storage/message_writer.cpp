#include "storage/message_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <set>

#include "common/log/log.h"

namespace postern::store {

struct MessageWriter::Linked {
    MailboxIndex::Reservation reservation;
    std::filesystem::path path;  // the new link
    std::string file;            // relative to the folder: "new/…" or "cur/…"
};

namespace {

// Copies src into a fresh file in dir/tmp/ and fsyncs it: the EXDEV fallback.
StoreResult<std::filesystem::path> copy_to_tmp(const std::filesystem::path& src,
                                               const std::filesystem::path& folder) {
    auto dst = folder / "tmp" / unique_base_name();
    int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return fail(errno_failure("open " + src.string(), errno));
    int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        int err = errno;
        ::close(in);
        return fail(errno_failure("create " + dst.string(), err));
    }
    char buf[65536];
    ssize_t n = 0;
    bool ok = true;
    while (ok && (n = ::read(in, buf, sizeof buf)) > 0) {
        ok = ::write(out, buf, static_cast<std::size_t>(n)) == n;
    }
    int err = errno;
    struct stat st {};
    ok = ok && n == 0 && ::fstat(in, &st) == 0 && ::fsync(out) == 0;
    if (ok) {
        struct timespec times[2] = {st.st_mtim, st.st_mtim};
        (void)::futimens(out, times);
    }
    ::close(in);
    ::close(out);
    if (!ok) {
        ::unlink(dst.c_str());
        return fail(errno_failure("copy to " + dst.string(), err != 0 ? err : EIO));
    }
    return dst;
}

StoreStatus unlink_and_sync(const std::filesystem::path& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return fail(errno_failure("unlink " + path.string(), errno));
    }
    return fsync_dir(path.parent_path());
}

}  // namespace

StoreStatus check_quota(MailboxIndex& index, const Recipient& r, std::uint64_t size) {
    if (r.quota_bytes == 0 && r.quota_messages == 0) return {};
    auto usage = index.usage();
    if (!usage) return fail(usage.error());
    if (r.quota_bytes != 0 && usage->bytes + size > r.quota_bytes) {
        return store_fail(StoreError::NoQuota, "byte quota " + std::to_string(r.quota_bytes) +
                                                   " exceeded at " + r.paths.home.string());
    }
    if (r.quota_messages != 0 && usage->messages + 1 > r.quota_messages) {
        return store_fail(StoreError::NoQuota, "message quota " + std::to_string(r.quota_messages) +
                                                   " exceeded at " + r.paths.home.string());
    }
    return {};
}

MessageWriter::MessageWriter(std::vector<Recipient> recipients, DeliveryOptions options, int fd,
                             std::filesystem::path tmp_path, std::vector<MailboxIndex*> indexes)
    : recipients_(std::move(recipients)),
      indexes_(std::move(indexes)),
      options_(options),
      fd_(fd),
      tmp_path_(std::move(tmp_path)),
      base_(tmp_path_.filename().string()) {}

MessageWriter::MessageWriter(MessageWriter&& other) noexcept
    : recipients_(std::move(other.recipients_)),
      indexes_(std::move(other.indexes_)),
      options_(other.options_),
      fd_(std::exchange(other.fd_, -1)),
      tmp_path_(std::move(other.tmp_path_)),
      base_(std::move(other.base_)),
      size_(other.size_),
      summary_(std::move(other.summary_)),
      failed_(std::move(other.failed_)),
      committed_(std::exchange(other.committed_, true)),
      fail_point_(other.fail_point_),
      fail_recipient_(other.fail_recipient_) {
    other.tmp_path_.clear();
}

MessageWriter::~MessageWriter() {
    if (fd_ >= 0) ::close(fd_);
    if (!tmp_path_.empty() && !committed_) ::unlink(tmp_path_.c_str());
}

StoreResult<MessageWriter> MessageWriter::begin(std::vector<Recipient> recipients,
                                                DeliveryOptions options,
                                                std::vector<MailboxIndex*> indexes) {
    if (recipients.empty()) return store_fail(StoreError::Invalid, "delivery without recipients");
    if (!indexes.empty() && indexes.size() != recipients.size()) {
        return store_fail(StoreError::Invalid, "one index per recipient");
    }
    // Opening the index creates the Maildir on first use; a caller's open
    // index has done that already.
    if (indexes.empty()) {
        auto index = MailboxIndex::open(recipients.front().paths);
        if (!index) return fail(index.error());
    }
    // The tmp file lives in the first recipient's Maildir so that link(2)
    // into every Maildir on the same filesystem works.
    auto path = recipients.front().paths.maildir / "tmp" / unique_base_name();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail(errno_failure("create " + path.string(), errno));
    if (options.internal_date == 0) options.internal_date = std::time(nullptr);
    return MessageWriter(std::move(recipients), options, fd, std::move(path), std::move(indexes));
}

bool MessageWriter::injected(FailPoint point, std::size_t recipient) const {
    return fail_point_ == point && fail_recipient_ == recipient;
}

StoreStatus MessageWriter::write(std::string_view chunk) {
    if (failed_) return fail(*failed_);
    POSTERN_ASSERT(!committed_ && fd_ >= 0);
    if (size_ + chunk.size() > options_.max_message_bytes) {
        failed_ =
            Failure{StoreError::TooBig,
                    "message exceeds " + std::to_string(options_.max_message_bytes) + " bytes"};
        return fail(*failed_);
    }
    while (!chunk.empty()) {
        ssize_t n = ::write(fd_, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            failed_ = errno_failure("write " + tmp_path_.string(), n < 0 ? errno : EIO);
            return fail(*failed_);
        }
        size_ += static_cast<std::uint64_t>(n);
        chunk.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

StoreResult<std::vector<MailboxIndex*>> MessageWriter::open_indexes(
    std::vector<MailboxIndex>& owned) {
    if (!indexes_.empty()) return indexes_;
    owned.reserve(recipients_.size());  // the pointers below must stay valid
    std::vector<MailboxIndex*> out;
    for (const auto& r : recipients_) {
        auto index = MailboxIndex::open(r.paths);
        if (!index) return fail(index.error());
        out.push_back(&owned.emplace_back(std::move(*index)));
    }
    return out;
}

// Step 2 of commit() (message_writer.h): writeback of the file is
// started without waiting (sync_file_range), the UIDs are reserved (each a
// WAL flush), and only then does fsync wait for the file, whose data has
// been on its way to the device meanwhile. The two flushes overlap without
// a helper thread (one thread per message cost more CPU than it saved).
StoreResult<MessageWriter::Reservations> MessageWriter::sync_and_reserve(
    const std::vector<MailboxIndex*>& indexes) {
    // The mtime is the internal date, so reindex can recover it.
    struct timespec times[2] = {{options_.internal_date, 0}, {options_.internal_date, 0}};
    if (::futimens(fd_, times) != 0) return fail(errno_failure("futimens", errno));
    // Only a hint: a failure here leaves the work to fsync below.
    (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
    Reservations out;
    std::optional<Failure> failure;
    for (std::size_t i = 0; i < recipients_.size() && !failure; ++i) {
        auto reservation = indexes[i]->reserve_uid(recipients_[i].mailbox);
        if (reservation) {
            out.push_back(*reservation);
        } else {
            failure = reservation.error();
        }
    }
    int err = 0;
    if (injected(FailPoint::FileFsync, 0)) {
        err = EIO;
    } else if (::fsync(fd_) != 0) {
        err = errno;
    }
    int fd = std::exchange(fd_, -1);
    if (err != 0) {
        ::close(fd);
        return fail(errno_failure("fsync " + tmp_path_.string(), err));
    }
    if (::close(fd) != 0) return fail(errno_failure("close " + tmp_path_.string(), errno));
    if (failure) return fail(*failure);
    return out;
}

StoreStatus MessageWriter::link_one(const MailboxIndex::Reservation& reservation,
                                    const Recipient& r, std::size_t i,
                                    std::vector<Linked>& linked) {
    std::string file = r.flags == 0 ? "new/" + delivery_name(base_, size_, reservation.uid)
                                    : "cur/" + cur_name(base_, size_, reservation.uid, r.flags);
    auto target = reservation.folder / file;
    errno = 0;
    if (injected(FailPoint::Link, i)) {
        return fail(errno_failure("link (injected) " + target.string(), EIO));
    }
    bool linked_ok =
        !injected(FailPoint::CrossDevice, i) && ::link(tmp_path_.c_str(), target.c_str()) == 0;
    if (!linked_ok) {
        if (injected(FailPoint::CrossDevice, i)) errno = EXDEV;
        if (errno != EXDEV) return fail(errno_failure("link " + target.string(), errno));
        auto copy = copy_to_tmp(tmp_path_, reservation.folder);
        if (!copy) return fail(copy.error());
        int rc = ::rename(copy->c_str(), target.c_str());
        int err = errno;
        if (rc != 0) {
            ::unlink(copy->c_str());
            return fail(errno_failure("rename " + target.string(), err));
        }
    }
    linked.push_back(Linked{reservation, target, file});
    return {};
}

StoreStatus MessageWriter::sync_dirs(const std::vector<Linked>& linked) {
    std::set<std::filesystem::path> dirs;
    for (const auto& l : linked)
        dirs.insert(l.path.parent_path());
    for (const auto& dir : dirs) {
        if (injected(FailPoint::DirFsync, 0)) {
            return fail(errno_failure("fsync (injected) " + dir.string(), EIO));
        }
        if (auto st = fsync_dir(dir); !st) return st;
    }
    return {};
}

void MessageWriter::discard(const std::vector<MailboxIndex*>& indexes, std::vector<Linked>& linked,
                            std::size_t rows_added) {
    for (std::size_t i = 0; i < rows_added; ++i) {
        if (auto st = indexes[i]->remove_message(linked[i].reservation); !st) {
            log::error("delivery_rollback_failed").kv("detail", st.error().detail);
        }
    }
    for (const auto& l : linked) {
        if (auto st = unlink_and_sync(l.path); !st) {
            log::error("delivery_rollback_failed").kv("detail", st.error().detail);
        }
    }
}

StoreResult<std::vector<Delivered>> MessageWriter::commit() {
    POSTERN_ASSERT(!committed_);
    if (failed_) return fail(*failed_);
    std::vector<MailboxIndex> owned;
    auto indexes = open_indexes(owned);
    if (!indexes) return fail(indexes.error());
    for (std::size_t i = 0; i < recipients_.size(); ++i) {
        if (auto st = check_quota(*(*indexes)[i], recipients_[i], size_); !st) {
            return fail(st.error());
        }
    }
    auto reserved = sync_and_reserve(*indexes);
    if (!reserved) return fail(reserved.error());
    std::vector<Linked> linked;
    auto undo = [&](std::size_t rows, const Failure& f) {
        discard(*indexes, linked, rows);
        return fail(f);
    };
    for (std::size_t i = 0; i < recipients_.size(); ++i) {
        if (auto st = link_one((*reserved)[i], recipients_[i], i, linked); !st) {
            return undo(0, st.error());
        }
    }
    if (auto st = sync_dirs(linked); !st) return undo(0, st.error());
    std::vector<Delivered> out;
    for (std::size_t i = 0; i < recipients_.size(); ++i) {
        MessageInfo m{0, recipients_[i].flags, size_, 0, options_.internal_date, linked[i].file};
        auto st = injected(FailPoint::IndexAdd, i)
                      ? StoreStatus(store_fail(StoreError::Temp, "index add (injected)"))
                      : (*indexes)[i]->add_message(linked[i].reservation, m, summary_);
        if (!st) return undo(i, st.error());
        out.push_back(Delivered{recipients_[i].paths.home, recipients_[i].mailbox,
                                linked[i].reservation.uid, linked[i].path});
    }
    committed_ = true;
    if (::unlink(tmp_path_.c_str()) != 0) {
        log::warn("delivery_tmp_unlink_failed").kv("path", tmp_path_.string());
    }
    return out;
}

}  // namespace postern::store
