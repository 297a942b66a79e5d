#include "common/tls/tls_error.h"

#include <openssl/err.h>

#include <cstring>

namespace postern::tls {

namespace {

// One queue entry: the reason string when OpenSSL has one, else the packed
// "error:XXXXXXXX:lib::reason" form, plus the call's detail text if any.
std::string describe_error(unsigned long code, const char* data, int flags) {
    std::string text;
    if (ERR_SYSTEM_ERROR(code)) {
        text = std::strerror(ERR_GET_REASON(code));  // errno, e.g. "No such file or directory"
    } else if (const char* reason = ERR_reason_error_string(code); reason != nullptr) {
        text = reason;
    } else {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        text = buf;
    }
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') {
        text += " (";
        text += data;
        text += ")";
    }
    return text;
}

}  // namespace

std::string drain_openssl_errors(const char* fallback) {
    std::string out;
    const char* data = nullptr;
    int flags = 0;
    while (unsigned long code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
        // BIO and PEM layers repeat "system lib" for one failed fopen().
        const std::string text = describe_error(code, data, flags);
        if (out.find(text) != std::string::npos) continue;
        if (!out.empty()) out += "; ";
        out += text;
    }
    return out.empty() ? std::string(fallback) : out;
}

}  // namespace postern::tls
