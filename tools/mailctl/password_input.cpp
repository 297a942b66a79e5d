#include "tools/mailctl/password_input.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "common/base/ascii.h"

namespace postern::mailctl {
namespace {

Result<std::string> prompt_no_echo(const char* prompt) {
    std::cerr << prompt << std::flush;
    termios saved{};
    const bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
    if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
    if (!got) return fail("no password given");
    return line;
}

}  // namespace

Result<Secret<std::string>> read_new_password(bool from_stdin) {
    if (from_stdin) {
        std::string line;
        if (!std::getline(std::cin, line)) return fail("no password on standard input");
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return Secret<std::string>(std::move(line));
    }
    if (!isatty(STDIN_FILENO))
        return fail("standard input is not a terminal; use --password-stdin");
    auto first = prompt_no_echo("New password: ");
    if (!first) return fail(first.error().message);
    auto second = prompt_no_echo("Repeat password: ");
    if (!second) return fail(second.error().message);
    if (*first != *second) return fail("the passwords do not match");
    return Secret<std::string>(std::move(*first));
}

Status check_password_strength(const Secret<std::string>& password, const std::string& address) {
    const std::string& p = password.reveal();
    if (p.empty()) return fail("the password is empty");
    if (p.size() < kMinPasswordChars)
        return fail("the password is too short (at least " + std::to_string(kMinPasswordChars) +
                    " characters)");
    const std::string local = address.substr(0, address.find('@'));
    if (iequals(p, address) || iequals(p, local))
        return fail("the password must not be the address");
    return {};
}

}  // namespace postern::mailctl
