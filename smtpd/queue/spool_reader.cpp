#include "smtpd/queue/spool_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace postern::queue {

Status read_chunks(int fd, const std::filesystem::path& path, const ChunkSink& sink) {
    std::string chunk(kSpoolChunkBytes, '\0');
    for (;;) {
        const ssize_t n = ::read(fd, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("read " + path.string() + ": " + std::strerror(errno));
        if (n == 0) return {};
        if (!sink(std::string_view(chunk.data(), static_cast<std::size_t>(n)))) return {};
    }
}

Status read_chunks(const std::filesystem::path& path, const ChunkSink& sink) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("open " + path.string() + ": " + std::strerror(errno));
    Status st = read_chunks(fd, path, sink);
    ::close(fd);
    return st;
}

}  // namespace postern::queue
