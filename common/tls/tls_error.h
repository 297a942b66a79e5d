// OpenSSL's error queue turned into one line of text for the log.
//
// OpenSSL reports failures on a thread-local queue; every caller that sees a
// failure drains it here, so a stale error never gets blamed on the next call.
#pragma once

#include <string>

namespace postern::tls {

// The reasons on the queue, oldest first, joined by "; " (e.g. "no such file
// (calling fopen(/x.pem, r))"); `fallback` when the queue is empty. Empties
// the queue.
std::string drain_openssl_errors(const char* fallback = "unknown error");

}  // namespace postern::tls
