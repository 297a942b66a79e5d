// ASCII helpers used by every protocol: protocols are case-insensitive in
// ASCII only, never by locale.
#pragma once

#include <string>
#include <string_view>

namespace postern {

char ascii_lower(char c);
std::string ascii_lowercase(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
std::string_view trim(std::string_view s);
// The value of a hex digit (either case), or -1.
int hex_value(char c);
// The value of a base64 digit, standard alphabet (RFC 4648 §4), or -1.
int base64_value(char c);
// Renders bytes for a log line: printable ASCII as is, others as \xNN, cut at
// max_bytes with a trailing "..." so that a hostile client cannot flood logs.
std::string printable(std::string_view s, std::size_t max_bytes = 200);

}  // namespace postern
