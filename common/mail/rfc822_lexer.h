// Internal to common/mail: the RFC 5322 / RFC 2045 lexical layer shared by the
// structured-field parsers. A Lexer walks a string_view; every method is
// bounded by the remaining input and never recurses (comment nesting is a
// counter), so hostile values cost linear time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace postern::mail::detail {

class Lexer {
  public:
    explicit Lexer(std::string_view text) : text_(text) {}

    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }
    void advance() {
        if (!at_end()) ++pos_;
    }
    std::size_t pos() const { return pos_; }
    std::string_view rest() const { return text_.substr(pos_); }
    std::string_view slice(std::size_t from) const { return text_.substr(from, pos_ - from); }

    // CFWS (RFC 5322 §3.2.2); returns the text of the last comment skipped,
    // which address parsing uses as a fallback display name.
    std::string skip_cfws();

    // RFC 2045 token: any CHAR except SPACE, CTLs and tspecials. 8-bit bytes
    // are accepted, as real mail carries them.
    std::string mime_token();

    // RFC 5322 atext run (atom without CFWS). `allow_dot` gives dot-atom-text.
    std::string atom(bool allow_dot);

    // quoted-string (RFC 5322 §3.2.4), unescaped. Call when peek() == '"'.
    // An unterminated string runs to the end of input.
    std::string quoted_string();

    // domain-literal "[...]" kept with its brackets. Call when peek() == '['.
    std::string domain_literal();

    // Skips to just past the next `stop` character outside quotes/comments,
    // or to the end; used to resynchronise after junk.
    void skip_past(char stop);

    // Skips to the next character in `stops` outside quotes/comments,
    // leaving it unconsumed; or to the end.
    void skip_to_any(std::string_view stops);

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

bool is_wsp(char c);
bool is_tspecial(char c);

}  // namespace postern::mail::detail
