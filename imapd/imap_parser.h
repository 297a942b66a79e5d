// IMAP command parser: tagged command lines and their literals -> an
// argument tree (RFC 9051 §2.2, §4, §9). Pure: no I/O and no session state;
// the session feeds it the lines and literal bytes the LineReader frames and
// pulls one event per feed (STYLE.md §5):
//
//   feed_line(line)     -> Command | NeedLiteral | ParseError
//   feed_literal(bytes) -> NeedMore until the announced size has arrived,
//                          then NeedMore again: the command continues on the
//                          next line (which may be empty).
//
// A command line ends with "{n}" (synchronizing: the session sends
// "+ Ready"), "{n+}" (LITERAL+, RFC 7888) or "{n-}" (accepted as {n});
// APPEND may also use literal8 "~{n}" (BINARY, RFC 3516 §4.4).
// Literal sizes are checked BEFORE any literal byte is read: APPEND may use
// up to max_literal_bytes (all its literals together: MULTIAPPEND), every
// other command max_string_literal_bytes per literal; a
// synchronizing literal over its limit is refused (the client sends nothing),
// a non-synchronizing one over max_nonsync_literal_bytes is a fatal error
// (its bytes are already on their way and cannot be told from commands).
//
// Lexing (RFC 9051 §9): atoms stop at SP, '(' and ')', except that a '[' ...
// ']' section (BODY[HEADER.FIELDS (A B)]) is part of the atom, spaces and
// parentheses included. Quoted strings allow only \\ and \" escapes.
// Guarantees: bounded depth, argument count and literal count (ImapLimits);
// never more memory than the limits allow.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "imapd/imap_limits.h"

namespace postern::imap {

struct Arg {
    enum class Kind { Atom, Quoted, Literal, List };
    Kind kind = Kind::Atom;
    std::string text;       // atom, quoted or literal content
    std::vector<Arg> list;  // Kind::List

    bool is_atom() const { return kind == Kind::Atom; }
    bool is_list() const { return kind == Kind::List; }
    bool is_string() const { return kind == Kind::Quoted || kind == Kind::Literal; }
    // astring = 1*ASTRING-CHAR / string
    bool is_astring() const { return kind != Kind::List; }
    bool is_nil() const;
    // Case-insensitive comparison of an atom with `word`.
    bool is(std::string_view word) const;
};

struct Command {
    std::string tag;
    std::string name;  // upper case: "FETCH", "UID"
    std::vector<Arg> args;
};

struct NeedMore {};

struct NeedLiteral {
    std::size_t size = 0;
    bool synchronizing = true;  // send "+ Ready" first
};

struct ParseError {
    enum class Kind {
        Bad,     // tagged BAD (or untagged when tag is empty); the session goes on
        TooBig,  // a synchronizing literal over its limit: tagged NO [TOOBIG]
        Fatal,   // the stream cannot be resynchronised: * BYE and close
    };
    Kind kind = Kind::Bad;
    std::string tag;  // empty when no valid tag was seen
    std::string text;
};

using ParseEvent = std::variant<NeedMore, NeedLiteral, Command, ParseError>;

class CommandParser {
  public:
    explicit CommandParser(const ImapLimits& limits) : limits_(limits) {}

    // One line without its CRLF.
    ParseEvent feed_line(std::string_view line);
    // Bytes of the literal announced by the last NeedLiteral.
    void feed_literal(std::string_view bytes);
    bool literal_complete() const { return literal_remaining_ == 0; }
    // Forget the command in progress (after an error, STARTTLS, ...).
    void reset();

    bool in_command() const { return started_; }
    const std::string& tag() const { return tag_; }
    const std::string& name() const { return name_; }

  private:
    ParseEvent parse_head(std::string_view line, std::size_t& pos);
    ParseEvent parse_args(std::string_view line, std::size_t pos);
    ParseEvent parse_literal_spec(std::string_view line, std::size_t& pos);
    ParseEvent error(ParseError::Kind kind, std::string text);
    bool push(Arg arg);

    ImapLimits limits_;
    bool started_ = false;
    std::string tag_;
    std::string name_;
    std::vector<std::vector<Arg>> stack_;  // [0] = the command's arguments
    std::size_t arguments_ = 0;
    std::size_t literals_ = 0;
    std::size_t literal_total_ = 0;  // bytes announced by this command's literals
    std::string literal_;
    std::size_t literal_remaining_ = 0;
    bool literal_pending_ = false;  // bytes announced, Arg not pushed yet
};

// ATOM-CHAR (RFC 9051 §9): any CHAR except atom-specials.
bool is_atom_char(unsigned char c);

}  // namespace postern::imap
