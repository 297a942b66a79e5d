// UTF-8 well-formedness (RFC 3629 §4), as SMTPUTF8 (RFC 6531) requires of
// addresses and parameters. Rejects overlong forms, surrogates and code
// points above U+10FFFF, so a "UTF-8" address cannot smuggle ASCII.
#pragma once

#include <cstddef>
#include <string_view>

namespace postern::smtp {

// Length (2..4) of the well-formed non-ASCII UTF-8 sequence starting s, or 0.
std::size_t utf8_sequence_length(std::string_view s);

}  // namespace postern::smtp
