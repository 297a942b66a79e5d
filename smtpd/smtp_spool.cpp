#include "smtpd/smtp_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace postern::smtp {
namespace {

// Read-back piece size: one LMTP write.
constexpr std::size_t kReadChunkBytes = 64u << 10;

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

int open_anonymous(const std::filesystem::path& dir) {
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    // Filesystems without O_TMPFILE: a named file, unlinked at once.
    std::string name = (dir / "spool.XXXXXX").string();
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(name.c_str());
    return fd;
}

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

Spool::Spool(std::filesystem::path dir, std::size_t memory_bytes)
    : dir_(std::move(dir)), memory_bytes_(memory_bytes) {}

Spool::~Spool() {
    if (fd_ >= 0) ::close(fd_);
}

Spool::Spool(Spool&& other) noexcept
    : dir_(std::move(other.dir_)),
      memory_bytes_(other.memory_bytes_),
      memory_(std::move(other.memory_)),
      fd_(std::exchange(other.fd_, -1)),
      size_(std::exchange(other.size_, 0)) {}

Status Spool::spill() {
    fd_ = open_anonymous(dir_);
    if (fd_ < 0) return fail(errno_text(("spool file in " + dir_.string()).c_str()));
    if (!write_all(fd_, memory_)) return fail(errno_text("spool write"));
    std::string().swap(memory_);
    return {};
}

Status Spool::append(std::string_view bytes) {
    size_ += bytes.size();
    if (fd_ < 0 && memory_.size() + bytes.size() <= memory_bytes_) {
        memory_.append(bytes);
        return {};
    }
    if (fd_ < 0) {
        if (auto st = spill(); !st) return st;
    }
    if (!write_all(fd_, bytes)) return fail(errno_text("spool write"));
    return {};
}

Status Spool::read_all(const std::function<bool(std::string_view)>& sink) const {
    if (fd_ < 0) {
        sink(memory_);
        return {};
    }
    std::string buf(kReadChunkBytes, '\0');
    off_t offset = 0;
    for (;;) {
        ssize_t n = ::pread(fd_, buf.data(), buf.size(), offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno_text("spool read"));
        if (n == 0) return {};
        offset += n;
        if (!sink(std::string_view(buf.data(), static_cast<std::size_t>(n)))) return {};
    }
}

}  // namespace postern::smtp
