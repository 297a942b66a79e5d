// Reading a new password for `user add` / `user passwd`: from a no-echo
// terminal prompt (asked twice) or, with --password-stdin, the first line of
// standard input. Never from argv, where `ps` and shell history would show it.
#pragma once

#include <string>

#include "common/base/result.h"
#include "common/log/secret.h"

namespace postern::mailctl {

// Minimum length of a new password: NIST SP 800-63B §5.1.1.2 asks for at
// least 8 characters for memorized secrets chosen by the user.
inline constexpr std::size_t kMinPasswordChars = 8;

Result<Secret<std::string>> read_new_password(bool from_stdin);

// Refuses empty, short, and obviously guessable passwords (the address or its
// local part). Returns the reason on failure.
Status check_password_strength(const Secret<std::string>& password, const std::string& address);

}  // namespace postern::mailctl
