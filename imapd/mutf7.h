// Modified UTF-7 mailbox names (RFC 3501 §5.1.3): mailboxes are stored and
// logged as UTF-8 and converted here, at the wire, in both directions.
//
// Decoding is strict, as RFC 3501 requires of what a client sends: printable
// ASCII must not be encoded, "&" is "&-", base64 uses "," for "/", has no
// padding and zero pad bits, and UTF-16 surrogates come in pairs. A name that
// fails is refused, never guessed at.
#pragma once

#include <string>
#include <string_view>

#include "common/base/result.h"

namespace postern::imap {

// UTF-8 -> modified UTF-7. Fails on invalid UTF-8.
Result<std::string> mutf7_encode(std::string_view utf8);
// Modified UTF-7 -> UTF-8. Fails on anything RFC 3501 §5.1.3 forbids.
Result<std::string> mutf7_decode(std::string_view mutf7);

}  // namespace postern::imap
