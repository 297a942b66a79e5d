#include "common/tls/self_signed.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "common/tls/tls_context.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/common/tls/tls_test_util.h"

namespace postern::tls {

namespace {

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};

std::unique_ptr<X509, X509Free> read_cert(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "r");
    REQUIRE_MESSAGE(f != nullptr, "cannot open ", path);
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    REQUIRE_MESSAGE(cert != nullptr, "not a PEM certificate: ", path);
    return std::unique_ptr<X509, X509Free>(cert);
}

// "DNS:a IP:127.0.0.1 ..." from the subjectAltName extension.
std::string alt_names(X509* cert) {
    auto* names =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    std::string out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
        if (!out.empty()) out += " ";
        if (name->type == GEN_DNS) {
            const ASN1_STRING* s = name->d.dNSName;
            out += "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                        static_cast<std::size_t>(ASN1_STRING_length(s)));
        } else if (name->type == GEN_IPADD) {
            const ASN1_OCTET_STRING* ip = name->d.iPAddress;
            char text[INET6_ADDRSTRLEN] = {};
            const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
            ::inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text);
            out += std::string("IP:") + text;
        }
    }
    GENERAL_NAMES_free(names);
    return out;
}

// 0 when the file is missing. No assertions here: it runs inside messages.
unsigned file_mode(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("self-signed certificates load as a server context") {
    struct Row {
        std::string name;
        SelfSignedSpec spec;
        std::string want_sans;
        int want_key_type;
    };
    const Row rows[] = {
        {"EC with loopback",
         {.host = "mail.example.test", .loopback_ips = true},
         "DNS:mail.example.test IP:127.0.0.1 IP:::1",
         EVP_PKEY_EC},
        {"EC name only", {.host = "localhost"}, "DNS:localhost", EVP_PKEY_EC},
        {"RSA",
         {.host = "mx.test", .valid_days = 30, .key_type = KeyType::Rsa2048},
         "DNS:mx.test",
         EVP_PKEY_RSA},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        postern::test::TempDir dir;
        const std::string cert = (dir.path() / "c.pem").string();
        const std::string key = (dir.path() / "k.pem").string();
        // A stale key file with loose permissions must come out 0600.
        std::ofstream(key) << "old";
        REQUIRE(::chmod(key.c_str(), 0644) == 0);

        const auto st = write_self_signed(row.spec, cert, key);
        REQUIRE_MESSAGE(st.ok(), test::error_text(st));
        const unsigned mode = file_mode(key);
        CHECK_MESSAGE(mode == 0600, "got ", std::oct, mode, ", want 600");

        auto x509 = read_cert(cert);
        const std::string sans = alt_names(x509.get());
        CHECK_MESSAGE(sans == row.want_sans, "got ", sans, ", want ", row.want_sans);
        CHECK(X509_get_signature_nid(x509.get()) != NID_undef);
        CHECK(EVP_PKEY_get_base_id(X509_get0_pubkey(x509.get())) == row.want_key_type);
        CHECK(X509_check_ca(x509.get()) == 0);
        int days = 0, secs = 0;
        REQUIRE(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x509.get()),
                               X509_get0_notAfter(x509.get())) == 1);
        CHECK_MESSAGE(days == row.spec.valid_days, "got ", days, " days, want ",
                      row.spec.valid_days);

        const auto ctx = TlsContext::server(cert, key);
        if (!ctx.ok()) FAIL_CHECK("TlsContext::server: ", ctx.error().message);
        CHECK_FALSE(std::filesystem::exists(key + ".tmp"));
    }
}

TEST_CASE("self-signed rejects bad host names and validity") {
    postern::test::TempDir dir;
    const std::string cert = (dir.path() / "c.pem").string();
    const std::string key = (dir.path() / "k.pem").string();
    const SelfSignedSpec bad[] = {
        {.host = ""},
        {.host = "a,DNS:evil.test"},  // would smuggle a second SAN entry
        {.host = "a b"},
        {.host = std::string(254, 'a')},
        {.host = "ok.test", .valid_days = 0},
        {.host = "ok.test", .valid_days = kMaxValidDays + 1},
    };
    for (const SelfSignedSpec& spec : bad) {
        CAPTURE(spec.host);
        CAPTURE(spec.valid_days);
        CHECK_FALSE(write_self_signed(spec, cert, key).ok());
        CHECK_FALSE(std::filesystem::exists(key));
    }
    const auto unwritable = write_self_signed({.host = "ok.test"}, cert, "/nonexistent/dir/k.pem");
    REQUIRE_FALSE(unwritable.ok());
    CHECK_MESSAGE(unwritable.error().message.find("/nonexistent/dir/k.pem") != std::string::npos,
                  "got ", unwritable.error().message);
}

}  // namespace postern::tls
