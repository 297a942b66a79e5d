// The outbound spool's file protocol (see queue_spool.h for the layout).
//
// Every file this code creates is flock()ed by its writer from the moment
// it exists until it is committed or removed: the tmp file of a message
// (whose inode becomes msg/<id> by link(2), so the enqueue's lock is also
// the message's lock until env/<id> exists) and the tmp file of an
// envelope. open() may run in mailctl while submissiond enqueues, so its
// clean-up removes only files it can lock without waiting: a crashed writer
// holds no lock, a live one always does. A writer whose fresh file was
// removed in the instant between create and flock sees st_nlink == 0 and
// starts again under another name.
#include "storage/queue_spool.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <system_error>
#include <utility>

namespace postern::store {
namespace {

namespace fs = std::filesystem;

// Id: 16 hex digits of microseconds since the epoch (time order as string
// order until the year 584 554) and 8 hex digits from the OS's random
// source, so processes need no coordination; link(2) refuses the rare
// collision and we draw again.
constexpr std::size_t kIdTimeDigits = 16;
constexpr std::size_t kIdRandomDigits = 8;
constexpr std::size_t kIdLength = kIdTimeDigits + kIdRandomDigits;
// A collision needs the same microsecond and the same 32 random bits; eight
// in a row mean something else is wrong.
constexpr int kMaxNameAttempts = 8;

std::string new_id() {
    // Within one process ids strictly increase, even for two enqueues in one
    // microsecond or across a small backward clock step.
    static std::atomic<unsigned long long> last{0};
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    auto micros = static_cast<unsigned long long>(now.tv_sec) * 1000000ull +
                  static_cast<unsigned long long>(now.tv_nsec / 1000);
    auto prev = last.load();
    while (!last.compare_exchange_weak(prev, std::max(micros, prev + 1))) {
    }
    micros = std::max(micros, prev + 1);
    std::uint32_t random = 0;
    randombytes_buf(&random, sizeof random);
    char buf[kIdLength + 1];
    std::snprintf(buf, sizeof buf, "%016llx%08x", micros, static_cast<unsigned>(random));
    return buf;
}

Unexpected<Error> errno_fail(const std::string& what, int err) {
    return fail(what + ": " + std::strerror(err));
}

Status fsync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_fail("open " + dir.string(), errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return errno_fail("fsync " + dir.string(), err);
    return {};
}

int flock_retrying(int fd, int operation) {
    int rc = 0;
    do {
        rc = ::flock(fd, operation);
    } while (rc != 0 && errno == EINTR);
    return rc;
}

// Creates `path` exclusively and locks it. Returns -1 (and no error) when
// the name is taken or the file was removed before we held the lock: the
// caller tries another name.
Result<int> create_locked(const fs::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return -1;
        return errno_fail("create " + path.string(), errno);
    }
    struct stat st {};
    if (flock_retrying(fd, LOCK_EX) != 0 || ::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        ::unlink(path.c_str());
        return errno_fail("lock " + path.string(), err);
    }
    if (st.st_nlink == 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

Status write_all(int fd, std::string_view data, const fs::path& path) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return errno_fail("write " + path.string(), n < 0 ? errno : EIO);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

bool path_exists(const fs::path& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// Removes `path` if it can be locked without waiting and `still_garbage`
// holds once locked. Returns whether it was removed.
template <typename Check>
bool remove_if_unlocked(const fs::path& path, Check still_garbage) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    bool removed = false;
    if (flock_retrying(fd, LOCK_EX | LOCK_NB) == 0 && still_garbage())
        removed = ::unlink(path.c_str()) == 0;
    ::close(fd);
    return removed;
}

Result<std::vector<std::string>> names_in(const fs::path& dir) {
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        names.push_back(it->path().filename().string());
    if (ec) return fail("read " + dir.string() + ": " + ec.message());
    return names;
}

Status make_dir(const fs::path& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return errno_fail("mkdir " + dir.string(), errno);
    return {};
}

Unexpected<Error> no_such(std::string_view id) {
    return fail("no such message in the queue: " + std::string(id));
}

// Writes the envelope to tmp/, then renames it over env/<id>. With
// `must_exist`, refuses when the message has been removed meanwhile, so a
// late save() cannot bring a deleted message back.
Status write_envelope(const fs::path& dir, const Envelope& envelope, bool must_exist) {
    const auto text =
        to_json(envelope).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    const auto target = dir / "env" / envelope.id;
    for (int attempt = 0; attempt < kMaxNameAttempts; ++attempt) {
        const auto tmp = dir / "tmp" / (envelope.id + ".env." + new_id());
        auto fd = create_locked(tmp);
        if (!fd) return fail(fd.error());
        if (*fd < 0) continue;
        // The lock is held until after the rename, so open()'s clean-up
        // in another process leaves the file alone.
        auto st = write_all(*fd, text + "\n", tmp);
        if (st && ::fsync(*fd) != 0) st = errno_fail("fsync " + tmp.string(), errno);
        if (st && must_exist && (!path_exists(target) || !path_exists(dir / "msg" / envelope.id)))
            st = no_such(envelope.id);
        if (st && ::rename(tmp.c_str(), target.c_str()) != 0)
            st = errno_fail("rename " + tmp.string() + " to " + target.string(), errno);
        if (!st) ::unlink(tmp.c_str());
        ::close(*fd);
        if (!st) return st;
        return fsync_dir(dir / "env");
    }
    return fail("no free name in " + (dir / "tmp").string());
}

// Links the written message file into msg/ under a fresh id.
Result<std::string> link_message(const fs::path& dir, const fs::path& tmp) {
    for (int attempt = 0; attempt < kMaxNameAttempts; ++attempt) {
        auto id = new_id();
        const auto target = dir / "msg" / id;
        if (::link(tmp.c_str(), target.c_str()) != 0) {
            if (errno == EEXIST) continue;
            return errno_fail("link " + tmp.string() + " to " + target.string(), errno);
        }
        if (auto st = fsync_dir(dir / "msg"); !st) {
            ::unlink(target.c_str());
            return fail(st.error());
        }
        return id;
    }
    return fail("no free name in " + (dir / "msg").string());
}

}  // namespace

QueueLock::~QueueLock() {
    if (fd_ >= 0) ::close(fd_);
}

QueueLock::QueueLock(QueueLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

QueueLock& QueueLock::operator=(QueueLock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

bool QueueSpool::valid_id(std::string_view id) {
    return id.size() == kIdLength && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

Result<QueueSpool> QueueSpool::open(const fs::path& dir) {
    for (const auto& d : {dir, dir / "tmp", dir / "msg", dir / "env"})
        if (auto st = make_dir(d); !st) return fail(st.error());
    return QueueSpool(dir);
}

Status QueueSpool::recover() {
    const fs::path& dir = dir_;
    auto tmp_names = names_in(dir / "tmp");
    if (!tmp_names) return fail(tmp_names.error());
    for (const auto& name : *tmp_names)
        remove_if_unlocked(dir / "tmp" / name, [] { return true; });
    // An orphan is a msg/<id> whose enqueue died before its envelope was
    // renamed into env/ (the commit point): nobody was ever told 250.
    auto msg_names = names_in(dir / "msg");
    if (!msg_names) return fail(msg_names.error());
    bool removed = false;
    for (const auto& name : *msg_names) {
        const auto env = dir / "env" / name;
        if (!valid_id(name) || path_exists(env)) continue;
        removed |= remove_if_unlocked(dir / "msg" / name, [&] { return !path_exists(env); });
    }
    if (removed) {
        if (auto st = fsync_dir(dir / "msg"); !st) return fail(st.error());
    }
    return {};
}

fs::path QueueSpool::message_path(std::string_view id) const {
    return dir_ / "msg" / std::string(id);
}

fs::path QueueSpool::envelope_dir() const {
    return dir_ / "env";
}

Result<std::string> QueueSpool::enqueue(Envelope envelope, const BodySource& body) {
    fs::path tmp;
    int fd = -1;
    for (int attempt = 0; attempt < kMaxNameAttempts && fd < 0; ++attempt) {
        tmp = dir_ / "tmp" / (new_id() + ".msg");
        auto created = create_locked(tmp);
        if (!created) return fail(created.error());
        fd = *created;
    }
    if (fd < 0) return fail("no free name in " + (dir_ / "tmp").string());
    // From here on fd holds the lock on the message's inode (see top).
    std::uint64_t size = 0;
    Status written;
    auto source = body([&](std::string_view piece) {
        written = write_all(fd, piece, tmp);
        size += piece.size();
        return written.ok();
    });
    if (written && source) {
        if (::fsync(fd) != 0) written = errno_fail("fsync " + tmp.string(), errno);
    }
    if (!written || !source) {
        ::unlink(tmp.c_str());
        ::close(fd);
        return fail(!written ? written.error() : source.error());
    }
    auto id = link_message(dir_, tmp);
    ::unlink(tmp.c_str());
    if (!id) {
        ::close(fd);
        return fail(id.error());
    }
    envelope.id = *id;
    envelope.size = size;
    auto committed = write_envelope(dir_, envelope, false);
    if (!committed) {
        ::unlink(message_path(*id).c_str());
        (void)fsync_dir(dir_ / "msg");
    }
    ::close(fd);
    if (!committed) return fail(committed.error());
    return *id;
}

Result<std::vector<std::string>> QueueSpool::list() const {
    auto names = names_in(envelope_dir());
    if (!names) return fail(names.error());
    std::vector<std::string> ids;
    for (auto& name : *names)
        if (valid_id(name)) ids.push_back(std::move(name));
    std::sort(ids.begin(), ids.end());
    return ids;
}

Result<Envelope> QueueSpool::load(std::string_view id) const {
    if (!valid_id(id)) return fail("not a queue id: \"" + std::string(id) + "\"");
    const auto path = envelope_dir() / std::string(id);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return no_such(id);
        return errno_fail("open " + path.string(), errno);
    }
    std::string text;
    char buf[16384];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) text.append(buf, static_cast<std::size_t>(n));
    int err = errno;
    ::close(fd);
    if (n < 0) return errno_fail("read " + path.string(), err);
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded()) return fail(path.string() + ": not valid JSON");
    auto envelope = envelope_from_json(json);
    if (!envelope) return fail(path.string() + ": " + envelope.error().message);
    if (envelope->id != id)
        return fail(path.string() + ": id: want \"" + std::string(id) + "\", got \"" +
                    envelope->id + "\"");
    return envelope;
}

Status QueueSpool::save(const Envelope& envelope) {
    if (!valid_id(envelope.id)) return fail("not a queue id: \"" + envelope.id + "\"");
    return write_envelope(dir_, envelope, true);
}

Status QueueSpool::remove(std::string_view id) {
    if (!valid_id(id)) return fail("not a queue id: \"" + std::string(id) + "\"");
    // The envelope goes first: without it the message no longer exists, and
    // a crash before the message file is gone leaves an orphan for open().
    const auto env = envelope_dir() / std::string(id);
    if (::unlink(env.c_str()) != 0) {
        if (errno == ENOENT) return no_such(id);
        return errno_fail("unlink " + env.string(), errno);
    }
    if (auto st = fsync_dir(envelope_dir()); !st) return st;
    const auto msg = message_path(id);
    if (::unlink(msg.c_str()) != 0 && errno != ENOENT)
        return errno_fail("unlink " + msg.string(), errno);
    return fsync_dir(dir_ / "msg");
}

Result<QueueLock> QueueSpool::lock(std::string_view id, bool wait) const {
    if (!valid_id(id)) return fail("not a queue id: \"" + std::string(id) + "\"");
    const auto path = message_path(id);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return no_such(id);
        return errno_fail("open " + path.string(), errno);
    }
    QueueLock lock(fd);
    if (flock_retrying(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
        if (errno == EWOULDBLOCK) return QueueLock();
        return errno_fail("flock " + path.string(), errno);
    }
    // Removed (or never committed) while we waited: the lock is on a ghost.
    struct stat st {};
    if (::fstat(fd, &st) != 0) return errno_fail("fstat " + path.string(), errno);
    if (st.st_nlink == 0 || !path_exists(envelope_dir() / std::string(id))) return no_such(id);
    return lock;
}

}  // namespace postern::store
