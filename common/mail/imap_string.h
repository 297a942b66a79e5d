// IMAP string rendering (RFC 3501 §4.3, §9 string / nstring) as Dovecot's
// imap-quote.c does it, so that our FETCH output matches the oracle byte for
// byte: quoted when possible, a literal {n}\r\n when the value has CR, LF or
// 8-bit bytes or more than four quoted-specials.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern::mail {

// string: quoted or literal.
void append_imap_string(std::string& out, std::string_view s);
// nstring: NIL when absent.
void append_imap_nstring(std::string& out, const std::optional<std::string>& s);
// nstring with CR and LF removed first (Content-ID, -Description, -MD5, -Location).
void append_imap_nstring_nolf(std::string& out, const std::optional<std::string>& s);
// Subject and display names (Dovecot imap_append_string_for_humans): runs of
// WSP become one space, leading and trailing WSP and CR/LF go, NUL becomes
// 0x80; any such change, a quote, a backslash or 8-bit forces a literal.
void append_imap_string_for_humans(std::string& out, std::string_view s);

}  // namespace postern::mail
