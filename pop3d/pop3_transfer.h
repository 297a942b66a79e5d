// MessageTransfer: the pool side of one RETR/TOP. It opens the message
// file, then hands out its wire form (pop3_wire.h) one chunk at a time.
//
// Why it is shaped like this (measured with tools/bench/pop3): a pool round
// trip costs two thread switches, which on a loaded 2-core host cost more
// than reading and encoding a 50 KB message. So
//   - open, the first read and the status line are ONE job, and the first
//     chunk carries "+OK ..." in front: a message that fits in a chunk (the
//     usual mail) costs one round trip and one write(2);
//   - the end is known from fstat, so the last chunk carries the ".\r\n"
//     terminator and no extra job reads the 0 bytes of EOF.
// Memory: the raw read goes into one buffer per pool thread, never per
// connection; a connection holds at most one encoded chunk in flight.
//
// Pool only (blocks on disk). One job at a time per transfer; the session
// keeps it in a shared_ptr so the fd outlives a client that has gone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pop3d/pop3_maildrop.h"
#include "pop3d/pop3_wire.h"

namespace postern::pop3 {

// A complete RETR reply read ahead of the client's RETR (see
// read_ahead()): status line, message, terminator.
struct ReadAhead {
    std::size_t index = 0;  // into Maildrop::messages
    std::string reply;
};

// What read_ahead() may read: a message after the one being retrieved.
struct ReadAheadCandidate {
    std::size_t index = 0;
    std::filesystem::path path;
    std::uint64_t wire_size = 0;
};

struct ChunkResult {
    enum class Error {
        None,
        Gone,    // the message file no longer exists (expunged elsewhere)
        Failed,  // open or read failed; `detail` says why
    };
    std::string data;   // wire bytes to send next (with the status line first)
    bool last = false;  // `data` ends with the terminator: the transfer is over
    Error error = Error::None;
    std::string detail;
    std::vector<ReadAhead> ahead;  // replies read ahead (first() of a RETR only)
};

class MessageTransfer {
  public:
    // body_lines: TOP's line count; nullopt for RETR.
    MessageTransfer(std::size_t chunk_bytes, std::optional<std::uint64_t> body_lines);
    ~MessageTransfer();
    MessageTransfer(const MessageTransfer&) = delete;
    MessageTransfer& operator=(const MessageTransfer&) = delete;

    // Opens the message (open_message(): found again through the index if it
    // was renamed since login) and returns `status_line` + CRLF followed by
    // the first chunk. On error nothing is meant to be sent: `data` is empty.
    ChunkResult first(const std::filesystem::path& data_dir, const store::User& user,
                      const MaildropMessage& m, std::string_view status_line);
    // The next chunk; call only after a result with last == false.
    ChunkResult next();

  private:
    void read_chunk(ChunkResult& out);

    int fd_ = -1;
    std::uint64_t offset_ = 0;
    std::uint64_t file_bytes_ = 0;  // from fstat at open: Maildir files never change
    std::size_t chunk_bytes_;
    WireEncoder encoder_;
};

// Reads whole RETR replies for `candidates`, in order, while their wire
// sizes fit in `budget_bytes`; stops at the first that does not fit or
// cannot be read (the client's RETR then takes the ordinary path).
// Clients download a maildrop in order (RETR n, DELE n, RETR n+1, ...), so
// one pool job serves several messages instead of one each.
std::vector<ReadAhead> read_ahead(const std::vector<ReadAheadCandidate>& candidates,
                                  std::size_t budget_bytes);

}  // namespace postern::pop3
