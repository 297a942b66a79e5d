// RFC 5321 paths: Reverse-path (MAIL FROM) and Forward-path (RCPT TO).
//
// Contract: a pure parser. It accepts exactly the RFC 5321 §4.1.2 grammar
// (plus RFC 6531 UTF-8 when allowed), enforces the §4.5.3.1 length limits,
// and reports - never decides - the features a relay policy must look at:
// source routes, percent hack, bang paths, '@' inside a quoted local part,
// address literals, UTF-8. Whether to refuse them is the caller's policy.
// Domains are returned lowercased (ASCII only; U-labels as given).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/base/result.h"
#include "common/smtp/smtp_error.h"

namespace postern::smtp {

// RFC 5321 §4.5.3.1.1: local part at most 64 octets.
inline constexpr std::size_t kMaxLocalPartBytes = 64;
// RFC 5321 §4.5.3.1.2: domain at most 255 octets.
inline constexpr std::size_t kMaxDomainBytes = 255;
// RFC 5321 §4.5.3.1.3: path at most 256 octets including "<", ">" and a route.
inline constexpr std::size_t kMaxPathBytes = 256;
// RFC 1035 §2.3.4: a label is at most 63 octets.
inline constexpr std::size_t kMaxLabelBytes = 63;

enum class PathRole { Reverse, Forward };  // MAIL FROM / RCPT TO

enum class DomainKind {
    None,         // null path or <Postmaster>
    Name,         // example.org (or U-labels with SMTPUTF8)
    Ipv4Literal,  // [192.0.2.1]
    Ipv6Literal,  // [IPv6:2001:db8::1]
};

struct Path {
    bool is_null = false;        // "<>": only for PathRole::Reverse
    bool is_postmaster = false;  // "<Postmaster>" without domain: only for Forward (§4.1.1.3)
    std::string local_part;      // decoded: quotes and quoted-pair backslashes removed
    std::string domain;          // lowercased name, or the literal with brackets "[192.0.2.1]"
    DomainKind domain_kind = DomainKind::None;

    // Features relay policy must see (RFC 5321 §3.6.1, §4.1.1.3, RFC 2505 §2.5.1).
    bool quoted_local_part = false;  // local part was a Quoted-string
    bool had_source_route = false;   // "<@a,@b:user@c>": route dropped per §4.1.1.3
    bool percent_hack = false;       // '%' in the local part
    bool bang_path = false;          // '!' in the local part
    bool quoted_at = false;          // '@' inside a quoted local part
    bool utf8 = false;               // non-ASCII in local part or domain (RFC 6531)

    bool is_address_literal() const {
        return domain_kind == DomainKind::Ipv4Literal || domain_kind == DomainKind::Ipv6Literal;
    }
    // "local@domain" in wire form (local part re-quoted if needed); "" for <>,
    // "Postmaster" for <Postmaster>.
    std::string address() const;
};

struct PathOptions {
    PathRole role = PathRole::Forward;
    bool allow_utf8 = false;  // SMTPUTF8 was given on MAIL FROM (RFC 6531 §3.4)
};

struct PathPrefix {
    Path path;
    std::size_t consumed = 0;  // bytes of input up to and including '>'
};

// Parses a path at the start of `text` ("<...>" and whatever follows).
[[nodiscard]] Result<PathPrefix, ParseError> parse_path_prefix(std::string_view text,
                                                               const PathOptions& options);
// Parses `text` that must be exactly one path.
[[nodiscard]] Result<Path, ParseError> parse_path(std::string_view text,
                                                  const PathOptions& options);

// Local-part "@" ( Domain / address-literal ) without angle brackets, e.g. the
// decoded ORCPT rfc822 address or a configured address.
[[nodiscard]] Result<Path, ParseError> parse_mailbox(std::string_view text, bool allow_utf8);

// ASCII lowercase; U-labels are left alone (case folding them is IDNA's job).
std::string normalize_domain(std::string_view domain);

}  // namespace postern::smtp
