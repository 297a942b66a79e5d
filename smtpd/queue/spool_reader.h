// Reading a spooled message file in bounded chunks: for the LMTP hand-off of
// local recipients, the SMTP client's DATA and the copy of the original in a
// bounce. Nothing here holds more than one chunk, so a 50 MiB message never
// sits in memory.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string_view>

#include "common/base/result.h"

namespace postern::queue {

// Large enough for few syscalls, small enough to stay a buffer, not a copy.
inline constexpr std::size_t kSpoolChunkBytes = 64 * 1024;

// Called with each chunk in order; returning false stops the reading early
// (the sink found what it wanted, or failed on its own side).
using ChunkSink = std::function<bool(std::string_view)>;

// Reads `fd` from its current offset to the end; `path` names it in errors.
Status read_chunks(int fd, const std::filesystem::path& path, const ChunkSink& sink);
// Opens `path` and reads it whole.
Status read_chunks(const std::filesystem::path& path, const ChunkSink& sink);

}  // namespace postern::queue
