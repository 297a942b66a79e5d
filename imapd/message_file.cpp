#include "imapd/message_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "common/mail/header_parser.h"
#include "storage/data_dir.h"

namespace postern::imap {

namespace {

// Header reads grow by this much: most header blocks fit in the first (a
// bigger first read would copy body bytes only to drop them).
constexpr std::size_t kHeaderChunkBytes = 4u << 10;
// Whole-file reads, after the size hint from fstat.
constexpr std::size_t kWholeChunkBytes = 64u << 10;

// Appends up to `want` bytes from `fd`; false on a read error. Fewer bytes
// than asked for means end of file.
bool read_more(int fd, std::string& out, std::size_t want) {
    const std::size_t start = out.size();
    out.resize(start + want);
    std::size_t got = 0;
    while (got < want) {
        const ssize_t n = ::read(fd, out.data() + start + got, want - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    out.resize(start + got);
    return true;
}

// Whether the bytes from `from` on may end a header: an empty line (LF LF or
// LF CR LF) starting at or after from - 2. Checked before parsing again, so
// a huge header costs a linear scan, not one parse per chunk.
bool may_end_header(const std::string& text, std::size_t from) {
    const std::string_view tail = std::string_view(text).substr(from >= 2 ? from - 2 : 0);
    return tail.find("\n\n") != std::string_view::npos ||
           tail.find("\n\r\n") != std::string_view::npos;
}

bool read_header(int fd, std::string& out) {
    for (;;) {
        const std::size_t before = out.size();
        if (!read_more(fd, out, kHeaderChunkBytes)) return false;
        if (before == 0 || may_end_header(out, before)) {
            const mail::HeaderBlock block = mail::parse_header_block(out);
            if (block.has_separator) {
                out.resize(block.size);
                return true;
            }
        }
        if (out.size() - before < kHeaderChunkBytes) return true;  // end of file
    }
}

}  // namespace

std::optional<std::string> read_message(const std::filesystem::path& path, MessageExtent extent) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out;
    bool ok = false;
    if (extent == MessageExtent::Header) {
        ok = read_header(fd, out);
    } else {
        struct stat st {};
        ok = ::fstat(fd, &st) == 0;
        // The size is a hint (a file is never rewritten, but read to EOF anyway).
        if (ok) out.reserve(static_cast<std::size_t>(st.st_size));
        while (ok) {
            const std::size_t before = out.size();
            ok = read_more(fd, out, kWholeChunkBytes);
            if (out.size() - before < kWholeChunkBytes) break;
        }
    }
    ::close(fd);
    if (!ok) return std::nullopt;
    return out;
}

std::optional<std::string> read_stored_message(store::MailboxIndex& index, std::string_view mailbox,
                                               const store::MessageInfo& message,
                                               MessageExtent extent) {
    auto folder = store::folder_path(index.paths().maildir, mailbox);
    if (!folder) return std::nullopt;
    if (auto data = read_message(*folder / message.file, extent)) return data;
    auto found = index.message_path(mailbox, message);
    if (!found) return std::nullopt;
    return read_message(*found, extent);
}

}  // namespace postern::imap
