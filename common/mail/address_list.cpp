// RFC 5322 §3.4 address-list for IMAP ENVELOPE, tolerant of real-world junk.
//
// address      = mailbox / group
// mailbox      = name-addr / addr-spec
// name-addr    = [display-name] angle-addr
// angle-addr   = [CFWS] "<" [obs-route] addr-spec ">" [CFWS]
// group        = display-name ":" [group-list] ";" [CFWS]
// addr-spec    = local-part "@" domain
#include "common/mail/header_parser.h"
#include "common/mail/rfc822_lexer.h"

namespace postern::mail {

using detail::Lexer;

namespace {

// Dovecot's message_address_parse(fill_missing=TRUE) placeholders.
constexpr std::string_view kMissingMailbox = "MISSING_MAILBOX";
constexpr std::string_view kMissingDomain = "MISSING_DOMAIN";
constexpr std::string_view kSyntaxError = "SYNTAX_ERROR";
constexpr std::string_view kInvalidRoute = "INVALID_ROUTE";

struct Words {
    std::string phrase;  // words joined by one space (display name)
    std::string joined;  // words joined as written without spaces (local part)
    std::string comment;
    std::size_t count = 0;
    bool quoted = false;  // the last word was a quoted-string
    bool empty() const { return count == 0; }
};

// *(atom / quoted-string / ".") with CFWS between: the ambiguous prefix that
// is a display name or a local part depending on what follows.
Words read_words(Lexer& lex) {
    Words w;
    for (;;) {
        std::string c = lex.skip_cfws();
        if (!c.empty()) w.comment = std::move(c);
        std::string word;
        bool quoted = lex.peek() == '"';
        if (quoted) {
            word = lex.quoted_string();
        } else {
            word = lex.atom(true);
            if (word.empty()) break;
        }
        w.quoted = quoted;
        w.joined += word;
        if (w.count++ > 0) w.phrase += ' ';
        w.phrase += word;
    }
    return w;
}

std::string read_domain(Lexer& lex) {
    (void)lex.skip_cfws();
    std::string domain = lex.peek() == '[' ? lex.domain_literal() : lex.atom(true);
    return domain;
}

Address make_address(std::optional<std::string> name, std::optional<std::string> route,
                     std::string mailbox, std::string domain) {
    if (mailbox.empty()) mailbox = kMissingMailbox;
    if (domain.empty()) domain = kMissingDomain;
    return {std::move(name), std::move(route), std::move(mailbox), std::move(domain)};
}

// obs-route = obs-domain-list ":"; kept as written minus whitespace
// ("@a,@b"), as Dovecot stores it.
std::optional<std::string> read_route(Lexer& lex, bool& ok) {
    std::size_t start = lex.pos();
    lex.skip_to_any(":>");
    if (lex.peek() != ':') {
        ok = false;
        return std::string(kInvalidRoute);
    }
    std::string route;
    for (char c : lex.slice(start)) {
        if (!detail::is_wsp(c)) route += c;
    }
    lex.advance();
    return route;
}

// After "<": [obs-route] addr-spec ">". Dovecot marks a broken angle-addr
// with the domain SYNTAX_ERROR; so do we.
Address read_angle_addr(Lexer& lex, std::optional<std::string> name) {
    lex.advance();  // "<"
    (void)lex.skip_cfws();
    if (lex.peek() == '>') {  // "<>", the null path of bounces: empty, not broken
        lex.advance();
        return make_address(std::move(name), std::nullopt, {}, {});
    }
    bool ok = true;
    std::optional<std::string> route;
    if (lex.peek() == '@') route = read_route(lex, ok);
    Words local = ok ? read_words(lex) : Words{};
    std::string domain;
    if (ok && lex.peek() == '@') {
        lex.advance();
        domain = read_domain(lex);
    }
    (void)lex.skip_cfws();
    ok = ok && !local.empty() && lex.peek() == '>';
    if (lex.peek() == '>') lex.advance();
    if (!ok) domain = kSyntaxError;
    return make_address(std::move(name), std::move(route), local.joined, std::move(domain));
}

// One mailbox; returns nothing for an empty or unparsable element.
std::optional<Address> read_mailbox(Lexer& lex, Words words) {
    if (lex.peek() == '<') {
        std::optional<std::string> name;
        if (!words.empty()) name = words.phrase;
        return read_angle_addr(lex, std::move(name));
    }
    if (words.empty() && lex.peek() != '@') return std::nullopt;
    // Not an addr-spec but a display name without an address, as Dovecot
    // reads it: several words ("just a name", "a b@c": a local part is one
    // word, RFC 5322 §3.4.1), or one quoted-string with no "@" after it.
    if (words.count > 1 || (words.quoted && lex.peek() != '@')) {
        return make_address(std::move(words.phrase), std::nullopt, {}, {});
    }
    std::string domain;
    if (lex.peek() == '@') {
        lex.advance();
        domain = read_domain(lex);
    }
    std::string comment = lex.skip_cfws();
    if (comment.empty()) comment = words.comment;
    std::optional<std::string> name;
    if (!comment.empty()) name = std::move(comment);
    return make_address(std::move(name), std::nullopt, words.joined, std::move(domain));
}

// Skips junk up to the end of this element: the next "," (or ";" in a group).
void resync(Lexer& lex, bool in_group) {
    while (!lex.at_end()) {
        char c = lex.peek();
        if (c == ',' || (in_group && c == ';')) return;
        if (c == '"') {
            (void)lex.quoted_string();
        } else if (c == '(') {
            (void)lex.skip_cfws();
        } else {
            lex.advance();
        }
    }
}

void read_group(Lexer& lex, std::string name, std::vector<Address>& out) {
    lex.advance();  // ":"
    out.push_back({std::nullopt, std::nullopt, std::move(name), std::nullopt});
    while (!lex.at_end()) {
        (void)lex.skip_cfws();
        char c = lex.peek();
        if (c == ';') {
            lex.advance();
            break;
        }
        if (c == ',') {
            lex.advance();
            continue;
        }
        std::size_t before = lex.pos();
        Words words = read_words(lex);
        if (auto addr = read_mailbox(lex, std::move(words))) out.push_back(std::move(*addr));
        resync(lex, true);
        if (lex.pos() == before) lex.advance();
    }
    out.push_back({});
}

}  // namespace

std::vector<Address> parse_address_list(std::string_view value) {
    std::vector<Address> out;
    Lexer lex(value);
    while (!lex.at_end()) {
        (void)lex.skip_cfws();
        if (lex.at_end()) break;
        if (lex.peek() == ',') {
            lex.advance();
            continue;
        }
        std::size_t before = lex.pos();
        Words words = read_words(lex);
        if (lex.peek() == ':' && !words.empty()) {
            read_group(lex, words.phrase, out);
        } else if (auto addr = read_mailbox(lex, std::move(words))) {
            out.push_back(std::move(*addr));
        }
        resync(lex, false);
        if (lex.pos() == before) lex.advance();
    }
    return out;
}

}  // namespace postern::mail
