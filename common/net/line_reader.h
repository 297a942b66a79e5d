// LineReader: CRLF framing for every line protocol, with a hard length cap.
// Pure: no libuv, no session; the connection feeds bytes, the protocol pulls
// events with next() (an iterator, STYLE.md §5).
//
// Events:
//   Line     a complete line, terminator stripped, with flags the protocol
//            judges: bare_lf (ended by LF alone), bare_cr (a CR inside the
//            line), nul (a NUL byte). RFC 5321 §2.3.8 forbids bare CR/LF;
//            SMTP smuggling is built from them, so they are never silently
//            normalised here.
//   TooLong  a line longer than max_line_bytes (counting its CRLF). The
//            reader drops the rest of it up to the next LF; the protocol
//            answers ("500 5.5.2 Line too long") and the connection goes on.
//   Chunk    in counted mode (IMAP literal, SMTP BDAT): up to chunk_bytes raw
//            bytes; `last` marks the end of the count.
//   NeedMore nothing complete is buffered.
//
// Guarantees: never holds more than max_line_bytes of an incomplete line;
// views in events stay valid until the next feed(), next() or discard.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace postern::net {

struct LineFlags {
    bool bare_lf = false;
    bool bare_cr = false;
    bool nul = false;
    bool any() const { return bare_lf || bare_cr || nul; }
};

struct Line {
    std::string_view text;  // without CR LF
    LineFlags flags;
};

struct Chunk {
    std::string_view bytes;
    bool last = false;
};

struct TooLong {
    std::size_t dropped_bytes = 0;  // what had been seen of the line so far
};

struct NeedMore {};

using ReadEvent = std::variant<NeedMore, Line, Chunk, TooLong>;

class LineReader {
  public:
    // 64 KiB: one libuv read and one TLS record fit; a counted literal is
    // handed over in pieces no bigger than this.
    static constexpr std::size_t kDefaultChunkBytes = 64u << 10;

    explicit LineReader(std::size_t max_line_bytes, std::size_t chunk_bytes = kDefaultChunkBytes);

    void feed(std::string_view bytes);
    ReadEvent next();

    // The next `count` bytes are raw data (Chunks), not lines.
    void expect_bytes(std::size_t count);
    bool in_counted_mode() const { return counted_remaining_ > 0; }

    // Drops everything buffered and returns how many bytes that was. STARTTLS
    // calls this: plaintext pipelined after the command must never be
    // executed (CVE-2011-0411).
    std::size_t discard_buffered();

    std::size_t buffered_bytes() const { return buffer_.size() - pos_; }
    std::size_t max_line_bytes() const { return max_line_bytes_; }
    void set_max_line_bytes(std::size_t max) { max_line_bytes_ = max; }

  private:
    ReadEvent next_chunk();
    ReadEvent next_line();
    Line make_line(std::size_t lf);

    std::size_t max_line_bytes_;
    std::size_t chunk_bytes_;
    std::string buffer_;
    std::size_t pos_ = 0;      // start of unconsumed bytes
    std::size_t scanned_ = 0;  // bytes after pos_ known to hold no LF
    std::size_t counted_remaining_ = 0;
    bool discarding_ = false;  // inside an over-long line
};

}  // namespace postern::net
