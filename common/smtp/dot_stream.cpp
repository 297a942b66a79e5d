#include "common/smtp/dot_stream.h"

#include <algorithm>
#include <cstring>

namespace postern::smtp {

std::optional<ParseError> dot_result_error(DotResult result) {
    switch (result) {
        case DotResult::Ok:
            return std::nullopt;
        case DotResult::TooBig:
            return parse_error(552, "5.3.4", "Message size exceeds fixed maximum message size");
        case DotResult::BareNewline:
            return parse_error(550, "5.6.0", "Bare CR or LF in message data not allowed");
    }
    return std::nullopt;
}

DotResult DotDecoder::result() const {
    if (bare_newline_) return DotResult::BareNewline;
    if (body_bytes_ > max_bytes_) return DotResult::TooBig;
    return DotResult::Ok;
}

void DotDecoder::emit(std::string& out, std::string_view bytes) {
    const std::uint64_t room = body_bytes_ < max_bytes_ ? max_bytes_ - body_bytes_ : 0;
    out.append(
        bytes.substr(0, room < bytes.size() ? static_cast<std::size_t>(room) : bytes.size()));
    body_bytes_ += bytes.size();
}

// States, where "line start" means "after CRLF, or at the start of data":
//   LineStart --'.'--> Dot --CR--> DotCr --LF--> Done
//   LineStart/InLine --CR--> SawCr --LF--> LineStart (emits CRLF)
// Any other byte after CR means the CR was bare; LF not after CR is bare.
void DotDecoder::step(char c, std::string& out) {
    switch (state_) {
        case State::Dot:
            // The leading dot is dropped whatever follows (RFC 5321 §4.5.2).
            state_ = c == '\r' ? State::DotCr : State::InLine;
            if (c == '\r') return;
            break;
        case State::DotCr:
            if (c == '\n') {
                state_ = State::Done;
                return;
            }
            state_ = State::SawCr;  // "." CR x: the dot was stuffing, CR is pending
            break;
        case State::LineStart:
            if (c == '.') {
                state_ = State::Dot;
                return;
            }
            break;
        case State::SawCr:
        case State::InLine:
        case State::Done:
            break;
    }
    if (state_ == State::SawCr) {
        if (c == '\n') {
            emit(out, "\r\n");
            state_ = State::LineStart;
            return;
        }
        bare_newline_ = true;  // CR followed by something other than LF
        emit(out, "\r");
        state_ = State::InLine;
    }
    if (c == '\r') {
        state_ = State::SawCr;
        return;
    }
    if (c == '\n') bare_newline_ = true;  // LF without CR
    emit(out, std::string_view(&c, 1));
    state_ = State::InLine;
}

// Position of the next `c` at or after `from`, or input.size().
static std::size_t next_of(std::string_view input, char c, std::size_t from) {
    const void* hit = std::memchr(input.data() + from, c, input.size() - from);
    return hit != nullptr ? static_cast<std::size_t>(static_cast<const char*>(hit) - input.data())
                          : input.size();
}

std::size_t DotDecoder::feed(std::string_view input, std::string& out) {
    // The next CR and LF are looked up with memchr and remembered until
    // passed, so every byte is scanned at most once per character even when
    // one of them never occurs (bare-CR or bare-LF input). string_view's
    // find_first_of calls memchr once per input byte (libstdc++) and was the
    // mda's biggest CPU cost in the delivery benchmark.
    constexpr std::size_t kUnknown = std::string_view::npos;
    std::size_t next_cr = kUnknown;
    std::size_t next_lf = kUnknown;
    std::size_t i = 0;
    while (i < input.size() && state_ != State::Done) {
        if (state_ == State::InLine) {
            // Fast path: the middle of a line is copied as one run.
            if (next_cr == kUnknown || next_cr < i) next_cr = next_of(input, '\r', i);
            if (next_lf == kUnknown || next_lf < i) next_lf = next_of(input, '\n', i);
            const std::size_t end = std::min(next_cr, next_lf);
            emit(out, input.substr(i, end - i));
            i = end;
            if (i == input.size()) break;
        }
        step(input[i++], out);
    }
    return i;
}

void DotEncoder::encode(std::string_view body, std::string& out) {
    for (const char c : body) {
        if (pending_cr_) {
            pending_cr_ = false;
            out += "\r\n";
            line_start_ = true;
            if (c == '\n') continue;  // the CR's own LF
        }
        if (c == '\r') {
            pending_cr_ = true;
            continue;
        }
        if (c == '\n') {
            out += "\r\n";  // bare LF
            line_start_ = true;
            continue;
        }
        if (line_start_ && c == '.') out += '.';
        out += c;
        line_start_ = false;
    }
}

void DotEncoder::finish(std::string& out) {
    if (pending_cr_ || !line_start_) out += "\r\n";
    pending_cr_ = false;
    line_start_ = true;
    out += ".\r\n";
}

}  // namespace postern::smtp
