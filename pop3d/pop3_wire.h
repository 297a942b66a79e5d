// The POP3 multi-line wire form of a stored message (RFC 1939 §3).
//
// A stored message is sent byte-exact except for two transformations:
//   - a bare LF becomes CRLF (Maildir files may use either ending);
//   - a line starting with "." gets one more "." (dot-stuffing).
// The response ends with CRLF "." CRLF; if the message does not end with a
// line break, one CRLF is added first.
//
// wire_size() is the octet count a client sees after undoing the
// dot-stuffing and before the terminating ".": exactly what LIST, STAT and
// "+OK <n> octets" report (RFC 1939 §5: "the exact size of the message" as
// the client receives it; stuffing dots are not counted).
//
// Both work on chunks of any size, so a message is streamed from its file
// and never held whole (a 50 MB RETR costs one chunk at a time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::pop3 {

class WireEncoder {
  public:
    // body_lines: TOP's line count (RFC 1939 §7: the header, the blank line,
    // then that many body lines); nullopt sends the whole message.
    explicit WireEncoder(std::optional<std::uint64_t> body_lines = std::nullopt);

    // Appends the encoding of `chunk` to `out`. Input after TOP's last line
    // is ignored.
    void feed(std::string_view chunk, std::string& out);
    // The line break the last line may lack, then ".\r\n".
    void finish(std::string& out);
    // TOP has sent everything it will send: stop reading the file.
    bool done() const { return done_; }

  private:
    void end_line(std::string& out);

    std::optional<std::uint64_t> body_lines_;
    std::uint64_t body_lines_sent_ = 0;
    std::uint64_t line_bytes_ = 0;  // bytes of the current line so far
    bool prev_cr_ = false;
    bool in_body_ = false;
    bool done_ = false;
};

// Counts what WireEncoder (whole message) would send, minus stuffing dots and
// the terminator.
class WireSizeCounter {
  public:
    void feed(std::string_view chunk);
    std::uint64_t finish() const;

  private:
    std::uint64_t size_ = 0;
    bool prev_cr_ = false;
    bool at_line_start_ = true;
};

}  // namespace postern::pop3
