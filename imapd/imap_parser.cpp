#include "imapd/imap_parser.h"

#include <algorithm>
#include <utility>

#include "common/base/ascii.h"

namespace postern::imap {

namespace {

// Up-front buffer for a literal; beyond it the string grows with the data.
constexpr std::size_t kLiteralReserveBytes = 64u << 10;

bool is_ctl(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

// tag = 1*<any ASTRING-CHAR except "+">  (RFC 9051 §9)
bool is_tag_char(unsigned char c) {
    return c != '+' && (is_atom_char(c) || c == ']');
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

}  // namespace

// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards /
//                 quoted-specials / resp-specials
bool is_atom_char(unsigned char c) {
    if (is_ctl(c) || c >= 0x80) return false;
    switch (c) {
        case '(':
        case ')':
        case '{':
        case ' ':
        case '%':
        case '*':
        case '"':
        case '\\':
        case ']':
            return false;
        default:
            return true;
    }
}

bool Arg::is_nil() const {
    return is("NIL");
}

bool Arg::is(std::string_view word) const {
    if (kind != Kind::Atom || text.size() != word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i) {
        char a = text[i], b = word[i];
        if (a >= 'a' && a <= 'z') a = static_cast<char>(a - 'a' + 'A');
        if (b >= 'a' && b <= 'z') b = static_cast<char>(b - 'a' + 'A');
        if (a != b) return false;
    }
    return true;
}

void CommandParser::reset() {
    started_ = false;
    tag_.clear();
    name_.clear();
    stack_.clear();
    arguments_ = 0;
    literals_ = 0;
    literal_total_ = 0;
    literal_.clear();
    literal_remaining_ = 0;
    literal_pending_ = false;
}

ParseEvent CommandParser::error(ParseError::Kind kind, std::string text) {
    ParseError e{kind, tag_, std::move(text)};
    reset();
    return e;
}

bool CommandParser::push(Arg arg) {
    if (++arguments_ > limits_.max_arguments) return false;
    stack_.back().push_back(std::move(arg));
    return true;
}

ParseEvent CommandParser::feed_line(std::string_view line) {
    std::size_t pos = 0;
    if (!started_) {
        ParseEvent head = parse_head(line, pos);
        if (!std::holds_alternative<NeedMore>(head)) return head;
    } else if (literal_pending_) {
        // The line that follows a literal continues the command.
        literal_pending_ = false;
        if (!push(Arg{Arg::Kind::Literal, std::move(literal_), {}}))
            return error(ParseError::Kind::Bad, "Too many arguments");
        literal_.clear();
        if (pos < line.size() && line[pos] != ' ' && line[pos] != ')')
            return error(ParseError::Kind::Bad, "Missing space after literal");
    }
    return parse_args(line, pos);
}

// tag SP command-name
ParseEvent CommandParser::parse_head(std::string_view line, std::size_t& pos) {
    while (pos < line.size() && is_tag_char(static_cast<unsigned char>(line[pos])))
        ++pos;
    if (pos == 0 || (pos < line.size() && line[pos] != ' '))
        return ParseError{ParseError::Kind::Bad, "", "Missing or invalid tag"};
    tag_ = std::string(line.substr(0, pos));
    if (pos == line.size()) return error(ParseError::Kind::Bad, "Missing command");
    ++pos;
    std::size_t start = pos;
    while (pos < line.size() && is_atom_char(static_cast<unsigned char>(line[pos])))
        ++pos;
    if (pos == start || (pos < line.size() && line[pos] != ' '))
        return error(ParseError::Kind::Bad, "Invalid command name");
    name_ = upper(line.substr(start, pos - start));
    started_ = true;
    stack_.emplace_back();
    return NeedMore{};
}

ParseEvent CommandParser::parse_args(std::string_view line, std::size_t pos) {
    while (pos < line.size()) {
        unsigned char c = static_cast<unsigned char>(line[pos]);
        if (c == ' ') {
            ++pos;
        } else if (c == '(') {
            if (stack_.size() >= limits_.max_list_depth)
                return error(ParseError::Kind::Bad, "Too deeply nested");
            stack_.emplace_back();
            ++pos;
        } else if (c == ')') {
            if (stack_.size() <= 1) return error(ParseError::Kind::Bad, "Unexpected ')'");
            Arg list{Arg::Kind::List, {}, std::move(stack_.back())};
            stack_.pop_back();
            if (!push(std::move(list))) return error(ParseError::Kind::Bad, "Too many arguments");
            ++pos;
        } else if (c == '"') {
            std::string text;
            ++pos;
            bool closed = false;
            while (pos < line.size()) {
                char q = line[pos++];
                if (q == '"') {
                    closed = true;
                    break;
                }
                if (q == '\\') {
                    if (pos == line.size() || (line[pos] != '\\' && line[pos] != '"'))
                        return error(ParseError::Kind::Bad, "Invalid escape in quoted string");
                    q = line[pos++];
                } else if (q == '\0') {
                    return error(ParseError::Kind::Bad, "NUL in quoted string");
                }
                text.push_back(q);
            }
            if (!closed) return error(ParseError::Kind::Bad, "Unterminated quoted string");
            if (!push(Arg{Arg::Kind::Quoted, std::move(text), {}}))
                return error(ParseError::Kind::Bad, "Too many arguments");
        } else if (c == '{' || (c == '~' && pos + 1 < line.size() && line[pos + 1] == '{')) {
            // literal8 (RFC 3516 §4.4) only carries APPEND's message.
            if (c == '~') {
                if (name_ != "APPEND") return error(ParseError::Kind::Bad, "Unexpected literal8");
                ++pos;
            }
            return parse_literal_spec(line, pos);
        } else {
            std::size_t start = pos;
            int brackets = 0;
            while (pos < line.size()) {
                unsigned char a = static_cast<unsigned char>(line[pos]);
                if (a == '[') {
                    ++brackets;
                } else if (a == ']' && brackets > 0) {
                    --brackets;
                } else if (brackets == 0 && (a == ' ' || a == '(' || a == ')')) {
                    break;
                } else if (is_ctl(a) || a == '"' || a == '{' || a >= 0x80) {
                    return error(ParseError::Kind::Bad, "Invalid character in atom");
                }
                ++pos;
            }
            if (brackets != 0) return error(ParseError::Kind::Bad, "Missing ']'");
            if (!push(Arg{Arg::Kind::Atom, std::string(line.substr(start, pos - start)), {}}))
                return error(ParseError::Kind::Bad, "Too many arguments");
        }
    }
    if (stack_.size() > 1) return error(ParseError::Kind::Bad, "Missing ')'");
    Command cmd{std::move(tag_), std::move(name_), std::move(stack_.front())};
    reset();
    return cmd;
}

// literal = "{" number64 ["+" / "-"] "}" CRLF *CHAR8   (RFC 7888 §8)
ParseEvent CommandParser::parse_literal_spec(std::string_view line, std::size_t& pos) {
    ++pos;  // '{'
    std::size_t size = 0;
    std::size_t digits = 0;
    while (pos < line.size() && line[pos] >= '0' && line[pos] <= '9') {
        if (++digits > 19) return error(ParseError::Kind::Bad, "Literal size too large");
        size = size * 10 + static_cast<std::size_t>(line[pos] - '0');
        ++pos;
    }
    bool sync = true;
    if (pos < line.size() && (line[pos] == '+' || line[pos] == '-')) {
        sync = line[pos] == '-';
        ++pos;
    }
    if (digits == 0 || pos >= line.size() || line[pos] != '}' || pos + 1 != line.size())
        return error(ParseError::Kind::Bad, "Invalid literal");
    ++pos;
    if (!sync && size > limits_.max_nonsync_literal_bytes)
        return error(ParseError::Kind::Fatal, "Non-synchronizing literal too large");
    // APPEND's limit holds for all its literals together: a MULTIAPPEND
    // (RFC 3502) is held in memory whole until it is stored.
    std::size_t limit =
        name_ == "APPEND" ? limits_.max_literal_bytes : limits_.max_string_literal_bytes;
    if (name_ == "APPEND") limit = limit > literal_total_ ? limit - literal_total_ : 0;
    // A non-synchronizing literal's bytes are already on their way: they
    // cannot be refused without losing the stream.
    if (size > limit)
        return error(sync ? ParseError::Kind::TooBig : ParseError::Kind::Fatal,
                     "Literal too large");
    literal_total_ += size;
    if (++literals_ > limits_.max_literals_per_command)
        return error(sync ? ParseError::Kind::Bad : ParseError::Kind::Fatal, "Too many literals");
    literal_.clear();
    // Grow as bytes arrive: an announced size is only a promise.
    literal_.reserve(std::min<std::size_t>(size, kLiteralReserveBytes));
    literal_remaining_ = size;
    literal_pending_ = true;
    return NeedLiteral{size, sync};
}

void CommandParser::feed_literal(std::string_view bytes) {
    std::size_t take = bytes.size() < literal_remaining_ ? bytes.size() : literal_remaining_;
    literal_.append(bytes.substr(0, take));
    literal_remaining_ -= take;
}

}  // namespace postern::imap
