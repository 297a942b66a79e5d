#include "common/smtp/smtp_reply.h"

#include "common/base/ascii.h"
#include "common/base/assert.h"

namespace postern::smtp {
namespace {

// reply_text(): lines are appended until the text passes the soft limit, and
// the result is cut at the hard one. A quoted reply is a diagnostic for a log
// line or a bounce, not a transcript.
constexpr std::size_t kReplyTextSoftBytes = 400;
constexpr std::size_t kReplyTextMaxBytes = 500;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Reply-code = %x32-35 %x30-35 %x30-39 (RFC 5321 §4.2)
bool parse_code(std::string_view s, int& code) {
    if (s.size() < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2])) return false;
    if (s[0] < '2' || s[0] > '5' || s[1] > '5') return false;
    code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    return true;
}

// Replaces control bytes so that reply text can never end a line early.
std::string sanitize(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = '?';
    }
    return out;
}

// Splits a leading enhanced status off `text` if it matches the code's class.
std::string_view split_enhanced(int code, std::string_view& text) {
    const std::size_t sp = text.find(' ');
    const std::string_view head = text.substr(0, sp);
    if (!is_enhanced_status(head) || head[0] - '0' != code / 100) return {};
    text = sp == std::string_view::npos ? std::string_view{} : text.substr(sp + 1);
    return head;
}

}  // namespace

// status-code = class "." subject "." detail
// class = "2" / "4" / "5"; subject = 1*3digit; detail = 1*3digit  (RFC 3463 §2)
bool is_enhanced_status(std::string_view s) {
    if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
    std::size_t i = 2;
    for (int part = 0; part < 2; ++part) {
        std::size_t digits = 0;
        while (i < s.size() && is_digit(s[i]))
            ++i, ++digits;
        if (digits < 1 || digits > 3) return false;
        if (part == 0) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
    }
    return i == s.size();
}

Reply make_reply(int code, std::string enhanced, std::string text) {
    return Reply{code, std::move(enhanced), {std::move(text)}};
}

Reply to_reply(const ParseError& error) {
    return make_reply(error.code, error.enhanced, error.text);
}

std::string format_reply(const Reply& reply) {
    POSTERN_ASSERT(reply.code >= 200 && reply.code <= 559);
    POSTERN_ASSERT(reply.enhanced.empty() || (is_enhanced_status(reply.enhanced) &&
                                              reply.enhanced[0] - '0' == reply.code / 100));
    const std::string code = std::to_string(reply.code);
    const std::size_t n = reply.lines.empty() ? 1 : reply.lines.size();
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        std::string text = reply.lines.empty() ? std::string{} : sanitize(reply.lines[i]);
        if (!reply.enhanced.empty())
            text = text.empty() ? reply.enhanced : reply.enhanced + ' ' + text;
        out += code;
        // The last line is Reply-code [ SP textstring ]: no SP without text.
        if (i + 1 < n)
            out += '-';
        else if (!text.empty())
            out += ' ';
        out += text;
        out += "\r\n";
    }
    return out;
}

ReplyParser::Next ReplyParser::fail_with(std::string message) {
    failed_ = true;
    return Next{Status::Error, {}, std::move(message)};
}

// Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//              Reply-code [ SP textstring ] CRLF            (RFC 5321 §4.2)
// Returns true when `line` completed a reply (moved into out.reply).
bool ReplyParser::take_line(std::string_view line, Next& out) {
    int code = 0;
    if (!parse_code(line, code)) {
        out = fail_with("reply line does not start with a reply code");
        return false;
    }
    const bool last = line.size() == 3 || line[3] == ' ';
    if (line.size() > 3 && line[3] != ' ' && line[3] != '-') {
        out = fail_with("reply code not followed by SP or '-'");
        return false;
    }
    if (!partial_.lines.empty() && code != partial_.code) {
        out = fail_with("reply code changes inside a multi-line reply");
        return false;
    }
    if (partial_.lines.size() >= limits_.max_lines) {
        out = fail_with("too many lines in one reply");
        return false;
    }
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    if (partial_.lines.empty()) {
        partial_.code = code;
        partial_.enhanced = std::string(split_enhanced(code, text));
    } else if (!partial_.enhanced.empty()) {
        // Strip only the status the first line set: text may start with digits.
        std::string_view rest = text;
        if (split_enhanced(code, rest) == partial_.enhanced) text = rest;
    }
    partial_.lines.emplace_back(text);
    if (!last) return false;
    out = Next{Status::Complete, std::move(partial_), {}};
    partial_ = Reply{};
    return true;
}

ReplyParser::Next ReplyParser::next() {
    if (failed_) return Next{Status::Error, {}, "reply parser already failed"};
    for (;;) {
        const std::size_t lf = buffer_.find('\n', pos_);
        if (lf == std::string::npos) {
            if (buffer_.size() - pos_ > limits_.max_line_bytes)
                return fail_with("reply line too long");
            buffer_.erase(0, pos_);  // keep only the partial line
            pos_ = 0;
            return Next{};
        }
        std::string_view line(buffer_.data() + pos_, lf - pos_);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() > limits_.max_line_bytes) return fail_with("reply line too long");
        Next out;
        const bool complete = take_line(line, out);
        pos_ = lf + 1;
        if (out.status == Status::Error || complete) return out;
    }
}

std::string reply_text(const Reply& reply) {
    std::string out = std::to_string(reply.code);
    if (!reply.enhanced.empty()) out += " " + reply.enhanced;
    for (const auto& line : reply.lines) {
        out += " " + line;
        if (out.size() > kReplyTextSoftBytes) break;
    }
    return printable(out, kReplyTextMaxBytes);
}

}  // namespace postern::smtp
