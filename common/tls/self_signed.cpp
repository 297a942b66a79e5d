#include "common/tls/self_signed.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/tls/tls_error.h"

namespace postern::tls {

namespace {

template <auto Free>
struct Deleter {
    template <typename T>
    void operator()(T* p) const {
        Free(p);
    }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

constexpr int kRsaBits = 2048;
// RFC 5280 §4.1.2.2: positive, at most 20 octets; 159 random bits fit.
constexpr int kSerialBits = 159;
// RFC 1035 §2.3.4: a name is at most 255 octets (253 in text form).
constexpr std::size_t kMaxHostBytes = 253;

// Only LDH names: the name is pasted into the SAN text, where ',' or ':'
// would add entries of the attacker's choice.
bool valid_host(std::string_view host) {
    if (host.empty() || host.size() > kMaxHostBytes) return false;
    for (char c : host) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!ok) return false;
    }
    return true;
}

Result<PkeyPtr> generate_key(KeyType type) {
    PkeyPtr key(type == KeyType::EcP256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(kRsaBits));
    if (!key) return fail("tls: key generation failed: " + drain_openssl_errors());
    return key;
}

Status add_extension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
        return fail("tls: cannot add extension " + value + ": " + drain_openssl_errors());
    }
    return {};
}

Status set_serial_and_validity(X509* cert, int valid_days) {
    BnPtr serial(BN_new());
    if (!serial || BN_rand(serial.get(), kSerialBits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
        return fail("tls: cannot make a serial number: " + drain_openssl_errors());
    }
    if (X509_gmtime_adj(X509_getm_notBefore(cert), 0) == nullptr ||
        X509_time_adj_ex(X509_getm_notAfter(cert), valid_days, 0, nullptr) == nullptr) {
        return fail("tls: cannot set validity: " + drain_openssl_errors());
    }
    return {};
}

Status set_names_and_extensions(X509* cert, const SelfSignedSpec& spec) {
    X509_NAME* name = X509_get_subject_name(cert);
    const auto* cn = reinterpret_cast<const unsigned char*>(spec.host.c_str());
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1 ||
        X509_set_issuer_name(cert, name) != 1) {
        return fail("tls: cannot set subject: " + drain_openssl_errors());
    }
    std::string san = "DNS:" + spec.host;
    if (spec.loopback_ips) san += ",IP:127.0.0.1,IP:::1";
    // RSA key exchange needs keyEncipherment; ECDSA only ever signs.
    const std::string usage = spec.key_type == KeyType::Rsa2048
                                  ? "critical,digitalSignature,keyEncipherment"
                                  : "critical,digitalSignature";
    for (const auto& [nid, value] :
         {std::pair{NID_subject_alt_name, san},
          std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
          std::pair{NID_key_usage, usage}, std::pair{NID_ext_key_usage, std::string("serverAuth")},
          std::pair{NID_subject_key_identifier, std::string("hash")}}) {
        if (auto st = add_extension(cert, nid, value); !st) return st;
    }
    return {};
}

Result<X509Ptr> make_certificate(const SelfSignedSpec& spec, EVP_PKEY* key) {
    X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
        X509_set_pubkey(cert.get(), key) != 1) {
        return fail("tls: cannot create certificate: " + drain_openssl_errors());
    }
    if (auto st = set_serial_and_validity(cert.get(), spec.valid_days); !st)
        return fail(st.error());
    if (auto st = set_names_and_extensions(cert.get(), spec); !st) return fail(st.error());
    if (X509_sign(cert.get(), key, EVP_sha256()) == 0) {
        return fail("tls: cannot sign certificate: " + drain_openssl_errors());
    }
    return cert;
}

// Writes `data` to path.tmp with `mode`, fsyncs and renames it over `path`.
Status write_file_atomically(const std::string& path, const char* data, std::size_t size,
                             mode_t mode) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return fail("tls: cannot create " + tmp + ": " + std::strerror(errno));
    // The umask or an older file may have left other bits.
    bool ok = ::fchmod(fd, mode) == 0;
    while (ok && size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) {
            data += n;
            size -= static_cast<std::size_t>(n);
        }
    }
    ok = ok && ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(ok ? errno : saved);
        ::unlink(tmp.c_str());
        return fail("tls: cannot write " + path + ": " + why);
    }
    return {};
}

// PEM text from a writer into `bio`, then to the file.
template <typename Write>
Status write_pem(const std::string& path, BIO* bio, mode_t mode, Write&& write) {
    if (bio == nullptr || !write(bio)) {
        return fail("tls: cannot encode " + path + ": " + drain_openssl_errors());
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return write_file_atomically(path, data, static_cast<std::size_t>(size), mode);
}

}  // namespace

Status write_self_signed(const SelfSignedSpec& spec, const std::string& cert_file,
                         const std::string& key_file) {
    if (!valid_host(spec.host))
        return fail("tls: invalid host name for a certificate: " + spec.host);
    if (spec.valid_days < 1 || spec.valid_days > kMaxValidDays) {
        return fail("tls: certificate validity must be 1.." + std::to_string(kMaxValidDays) +
                    " days, got " + std::to_string(spec.valid_days));
    }
    ERR_clear_error();
    auto key = generate_key(spec.key_type);
    if (!key) return fail(key.error());
    auto cert = make_certificate(spec, key->get());
    if (!cert) return fail(cert.error());

    // Secure-heap BIO: the key's PEM text is wiped when freed.
    BioPtr key_bio(BIO_new(BIO_s_secmem()));
    auto st = write_pem(key_file, key_bio.get(), 0600, [&](BIO* b) {
        return PEM_write_bio_PrivateKey(b, key->get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
    });
    if (!st) return st;
    BioPtr cert_bio(BIO_new(BIO_s_mem()));
    return write_pem(cert_file, cert_bio.get(), 0644,
                     [&](BIO* b) { return PEM_write_bio_X509(b, cert->get()) == 1; });
}

}  // namespace postern::tls
