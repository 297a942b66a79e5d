// Internal to common/mail: the few charset conversions the parser does
// itself. Anything else is left to a later iconv layer (SEARCH): callers keep
// the original bytes when this returns nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern::mail::detail {

// UTF-8 and US-ASCII pass through; ISO-8859-1 / Latin-1 are widened.
// Unknown charsets: std::nullopt.
std::optional<std::string> charset_to_utf8(std::string_view charset, std::string_view bytes);

}  // namespace postern::mail::detail
