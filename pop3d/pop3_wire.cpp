// See pop3_wire.h. The byte loops below are the only place that decides what
// a line break is, so WireEncoder and WireSizeCounter must stay in step:
// "\r\n" is kept, a bare "\n" becomes "\r\n", a bare "\r" is data.
#include "pop3d/pop3_wire.h"

#include <cstring>

namespace postern::pop3 {

WireEncoder::WireEncoder(std::optional<std::uint64_t> body_lines) : body_lines_(body_lines) {}

void WireEncoder::end_line(std::string& out) {
    out += prev_cr_ ? "\n" : "\r\n";
    bool empty = line_bytes_ == 0 || (line_bytes_ == 1 && prev_cr_);
    line_bytes_ = 0;
    prev_cr_ = false;
    if (!in_body_) {
        // RFC 5322 §2.1: the first empty line separates header and body.
        if (empty) in_body_ = true;
    } else {
        ++body_lines_sent_;
    }
    if (in_body_ && body_lines_ && body_lines_sent_ >= *body_lines_) done_ = true;
}

void WireEncoder::feed(std::string_view chunk, std::string& out) {
    out.reserve(out.size() + chunk.size() + chunk.size() / 32 + 8);
    std::size_t i = 0;
    while (i < chunk.size() && !done_) {
        if (line_bytes_ == 0 && chunk[i] == '.') out += '.';  // RFC 1939 §3 byte-stuffing
        // Copy up to the next LF in one go.
        const void* lf = std::memchr(chunk.data() + i, '\n', chunk.size() - i);
        std::size_t end = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - chunk.data())
                             : chunk.size();
        if (end > i) {
            out.append(chunk.substr(i, end - i));
            line_bytes_ += end - i;
            prev_cr_ = chunk[end - 1] == '\r';
        }
        if (lf == nullptr) return;
        end_line(out);
        i = end + 1;
    }
}

void WireEncoder::finish(std::string& out) {
    if (line_bytes_ > 0 && !done_) out += prev_cr_ ? "\n" : "\r\n";
    out += ".\r\n";
    line_bytes_ = 0;
    done_ = true;
}

void WireSizeCounter::feed(std::string_view chunk) {
    std::size_t i = 0;
    while (i < chunk.size()) {
        const void* lf = std::memchr(chunk.data() + i, '\n', chunk.size() - i);
        std::size_t end = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - chunk.data())
                             : chunk.size();
        if (end > i) {
            size_ += end - i;
            prev_cr_ = chunk[end - 1] == '\r';
            at_line_start_ = false;
        }
        if (lf == nullptr) return;
        size_ += prev_cr_ ? 1 : 2;
        prev_cr_ = false;
        at_line_start_ = true;
        i = end + 1;
    }
}

std::uint64_t WireSizeCounter::finish() const {
    if (at_line_start_) return size_;
    return size_ + (prev_cr_ ? 1 : 2);
}

}  // namespace postern::pop3
