// Self-signed certificates for demo instances (`mailctl init`) and tests.
//
// Writes a fresh key pair and an X.509 v3 certificate for one host name:
// subject CN=<host>, subjectAltName DNS:<host> (plus IP:127.0.0.1 and IP:::1
// when asked, so clients connecting by loopback address can verify it),
// serverAuth only, not a CA. Files are PEM; the key file is created mode 0600
// and both are written to a temporary name and renamed into place, so a
// reload never sees half a file.
#pragma once

#include <string>

#include "common/base/result.h"

namespace postern::tls {

enum class KeyType { EcP256, Rsa2048 };

struct SelfSignedSpec {
    std::string host;           // a DNS name: letters, digits, '-', '.'
    bool loopback_ips = false;  // also IP:127.0.0.1 and IP:::1
    int valid_days = 365;       // from now; 1..kMaxValidDays
    KeyType key_type = KeyType::EcP256;
};

// 825 days: the longest validity clients accepted for TLS server
// certificates under the CA/Browser Forum rules (2018-2020).
inline constexpr int kMaxValidDays = 825;

Status write_self_signed(const SelfSignedSpec& spec, const std::string& cert_file,
                         const std::string& key_file);

}  // namespace postern::tls
