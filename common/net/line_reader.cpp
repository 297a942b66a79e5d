#include "common/net/line_reader.h"

#include <algorithm>

namespace postern::net {

LineReader::LineReader(std::size_t max_line_bytes, std::size_t chunk_bytes)
    : max_line_bytes_(max_line_bytes), chunk_bytes_(chunk_bytes == 0 ? 1 : chunk_bytes) {}

void LineReader::feed(std::string_view bytes) {
    if (pos_ > 0) {
        buffer_.erase(0, pos_);
        pos_ = 0;
    }
    buffer_.append(bytes);
}

void LineReader::expect_bytes(std::size_t count) {
    counted_remaining_ = count;
}

std::size_t LineReader::discard_buffered() {
    std::size_t dropped = buffered_bytes();
    buffer_.clear();
    pos_ = 0;
    scanned_ = 0;
    return dropped;
}

ReadEvent LineReader::next() {
    if (counted_remaining_ > 0) return next_chunk();
    return next_line();
}

ReadEvent LineReader::next_chunk() {
    std::size_t take = std::min({counted_remaining_, buffered_bytes(), chunk_bytes_});
    if (take == 0) return NeedMore{};
    std::string_view bytes(buffer_.data() + pos_, take);
    pos_ += take;
    counted_remaining_ -= take;
    scanned_ = 0;
    return Chunk{bytes, counted_remaining_ == 0};
}

ReadEvent LineReader::next_line() {
    std::string_view avail(buffer_.data() + pos_, buffered_bytes());
    std::size_t lf = avail.find('\n', scanned_);
    if (discarding_) {
        // The rest of an over-long line: drop it up to and including its LF.
        if (lf == std::string_view::npos) {
            discard_buffered();
            return NeedMore{};
        }
        pos_ += lf + 1;
        scanned_ = 0;
        discarding_ = false;
        return next_line();
    }
    if (lf == std::string_view::npos) {
        // An incomplete line that can no longer fit: its LF would be byte
        // avail.size() + 1 at the earliest.
        if (avail.size() + 1 > max_line_bytes_) {
            std::size_t seen = discard_buffered();
            discarding_ = true;
            return TooLong{seen};
        }
        scanned_ = avail.size();
        return NeedMore{};
    }
    scanned_ = 0;
    if (lf + 1 > max_line_bytes_) {
        pos_ += lf + 1;
        return TooLong{lf + 1};
    }
    return make_line(lf);
}

Line LineReader::make_line(std::size_t lf) {
    std::string_view text(buffer_.data() + pos_, lf);
    pos_ += lf + 1;
    Line line;
    if (!text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
    } else {
        line.flags.bare_lf = true;
    }
    line.flags.bare_cr = text.find('\r') != std::string_view::npos;
    line.flags.nul = text.find('\0') != std::string_view::npos;
    line.text = text;
    return line;
}

}  // namespace postern::net
