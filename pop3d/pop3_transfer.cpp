// See pop3_transfer.h.
#include "pop3d/pop3_transfer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace postern::pop3 {

namespace {

// The raw bytes of one read, before encoding: one buffer per pool thread
// (libuv's pool has a fixed number of threads), reused by every transfer.
std::vector<char>& raw_buffer(std::size_t bytes) {
    thread_local std::vector<char> buffer;
    if (buffer.size() < bytes) buffer.resize(bytes);
    return buffer;
}

// Dot-stuffing adds at most one byte per line and bare LFs one each; this
// covers ordinary mail without a reallocation (the encoder grows it if not).
std::size_t encoded_estimate(std::size_t raw) {
    return raw + raw / 32 + 8;
}

}  // namespace

MessageTransfer::MessageTransfer(std::size_t chunk_bytes, std::optional<std::uint64_t> body_lines)
    : chunk_bytes_(chunk_bytes), encoder_(body_lines) {}

MessageTransfer::~MessageTransfer() {
    if (fd_ >= 0) ::close(fd_);
}

ChunkResult MessageTransfer::first(const std::filesystem::path& data_dir, const store::User& user,
                                   const MaildropMessage& m, std::string_view status_line) {
    ChunkResult r;
    auto fd = open_message(data_dir, user, m);
    if (!fd) {
        r.error = fd.error().code == store::StoreError::NotFound ? ChunkResult::Error::Gone
                                                                 : ChunkResult::Error::Failed;
        r.detail = fd.error().detail;
        return r;
    }
    fd_ = *fd;
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        r.error = ChunkResult::Error::Failed;
        r.detail = std::string("fstat: ") + std::strerror(errno);
        return r;
    }
    file_bytes_ = static_cast<std::uint64_t>(st.st_size);
    std::size_t first_read =
        static_cast<std::size_t>(std::min<std::uint64_t>(file_bytes_, chunk_bytes_));
    r.data.reserve(status_line.size() + 2 + encoded_estimate(first_read) + 5);
    r.data.append(status_line);
    r.data.append("\r\n");
    read_chunk(r);
    if (r.error != ChunkResult::Error::None) r.data.clear();
    return r;
}

ChunkResult MessageTransfer::next() {
    ChunkResult r;
    read_chunk(r);
    return r;
}

void MessageTransfer::read_chunk(ChunkResult& out) {
    std::size_t want = chunk_bytes_;
    if (offset_ < file_bytes_)
        want =
            static_cast<std::size_t>(std::min<std::uint64_t>(file_bytes_ - offset_, chunk_bytes_));
    auto& raw = raw_buffer(want);
    ssize_t n;
    do {
        n = ::pread(fd_, raw.data(), want, static_cast<off_t>(offset_));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        out.error = ChunkResult::Error::Failed;
        out.detail = std::string("read: ") + std::strerror(errno);
        return;
    }
    offset_ += static_cast<std::uint64_t>(n);
    if (out.data.empty()) out.data.reserve(encoded_estimate(static_cast<std::size_t>(n)) + 5);
    encoder_.feed(std::string_view(raw.data(), static_cast<std::size_t>(n)), out.data);
    // A short read means end of file, as does reaching the size seen at open.
    if (n == 0 || static_cast<std::size_t>(n) < want || offset_ >= file_bytes_ || encoder_.done()) {
        encoder_.finish(out.data);
        out.last = true;
    }
}

namespace {

// One whole message at `c.path` as a RETR reply; false if it cannot be read
// in one go (gone, renamed, bigger than expected).
bool read_whole(const ReadAheadCandidate& c, std::size_t max_file_bytes, std::string& reply) {
    int fd = ::open(c.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) <= max_file_bytes;
    std::size_t size = ok ? static_cast<std::size_t>(st.st_size) : 0;
    auto& raw = raw_buffer(size + 1);
    ssize_t n = -1;
    if (ok) {
        do {
            n = ::pread(fd, raw.data(), size + 1, 0);
        } while (n < 0 && errno == EINTR);
    }
    ::close(fd);
    if (!ok || n != static_cast<ssize_t>(size)) return false;
    reply = "+OK " + std::to_string(c.wire_size) + " octets\r\n";
    reply.reserve(reply.size() + encoded_estimate(size) + 5);
    WireEncoder encoder;
    encoder.feed(std::string_view(raw.data(), size), reply);
    encoder.finish(reply);
    return true;
}

}  // namespace

std::vector<ReadAhead> read_ahead(const std::vector<ReadAheadCandidate>& candidates,
                                  std::size_t budget_bytes) {
    std::vector<ReadAhead> out;
    std::size_t used = 0;
    for (const auto& c : candidates) {
        if (c.wire_size > budget_bytes - used) break;
        ReadAhead a{c.index, {}};
        // The file is never bigger than its wire size (the wire form only adds CRs).
        if (!read_whole(c, c.wire_size, a.reply)) break;
        used += static_cast<std::size_t>(c.wire_size);
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace postern::pop3
