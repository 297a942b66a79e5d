// Spool: the body of one message while it is being received, bounded in
// memory. The first memory_bytes stay in RAM; beyond that everything goes to
// an anonymous file (O_TMPFILE, or mkstemp + unlink) in the spool directory,
// so a 50 MiB message costs a file, not 50 MiB per session.
//
// Contract: append() runs on the loop thread (page-cache writes, no fsync:
// the spool is never the durable copy; mda's delivery is). read_all() is
// for the pool thread that hands the message to mda, after the session has
// stopped appending. Nothing of the spool survives the process.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/base/result.h"

namespace postern::smtp {

class Spool {
  public:
    Spool(std::filesystem::path dir, std::size_t memory_bytes);
    ~Spool();
    Spool(Spool&& other) noexcept;
    Spool& operator=(Spool&&) = delete;
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // Fails (log-only message) when the spill file cannot be made or written.
    Status append(std::string_view bytes);
    std::uint64_t size() const { return size_; }
    bool spilled() const { return fd_ >= 0; }

    // Calls sink with the content in order, in pieces; stops early when sink
    // returns false. Blocking when spilled.
    Status read_all(const std::function<bool(std::string_view)>& sink) const;

  private:
    Status spill();

    std::filesystem::path dir_;
    std::size_t memory_bytes_;
    std::string memory_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

}  // namespace postern::smtp
