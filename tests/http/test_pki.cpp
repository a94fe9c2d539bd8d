#include "test_pki.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>

namespace weft::http::testing {
namespace {

struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
    void operator()(X509* c) const { X509_free(c); }
};
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

[[noreturn]] void Fail(const std::string& what) {
    const unsigned long code = ERR_get_error();
    char reason[256] = "no OpenSSL error";
    if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
    throw std::runtime_error("test PKI: " + what + ": " + reason);
}

void Check(bool ok, const char* what) {
    if (!ok) Fail(what);
}

KeyPtr NewKey() {
    KeyPtr key(EVP_EC_gen("P-256"));
    Check(key != nullptr, "generating an EC key");
    return key;
}

std::string Pem(const std::function<int(BIO*)>& write) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    Check(bio != nullptr && write(bio.get()) == 1, "writing PEM");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::string CertPem(X509* cert) {
    return Pem([cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
}

std::string KeyPem(EVP_PKEY* key) {
    return Pem([key](BIO* bio) { return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); });
}

// `issuer` null: self-signed.
void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    Check(ext != nullptr, "making a certificate extension");
    const int added = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    Check(added == 1, "adding a certificate extension");
}

// A certificate for `key` named `common_name`, not yet signed and without extensions.
CertPtr NewCertificate(EVP_PKEY* key, const std::string& common_name, X509* issuer) {
    static std::atomic<long> serial{1};
    CertPtr cert(X509_new());
    Check(cert != nullptr, "allocating a certificate");
    Check(X509_set_version(cert.get(), 2) == 1, "setting the version");
    Check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++) == 1, "setting the serial number");
    Check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "setting notBefore");
    Check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600) != nullptr, "setting notAfter");
    Check(X509_set_pubkey(cert.get(), key) == 1, "setting the public key");
    X509_NAME* name = X509_get_subject_name(cert.get());
    Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) == 1,
          "setting the common name");
    Check(X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1,
          "setting the issuer");
    return cert;
}

}  // namespace

struct TestCa::Keys {
    KeyPtr key;
    CertPtr cert;
};

TestCa::TestCa(const std::string& common_name) : keys_(std::make_unique<Keys>()) {
    keys_->key = NewKey();
    keys_->cert = NewCertificate(keys_->key.get(), common_name, nullptr);
    X509* cert = keys_->cert.get();
    AddExtension(cert, nullptr, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, nullptr, NID_key_usage, "critical,keyCertSign,cRLSign");
    AddExtension(cert, nullptr, NID_subject_key_identifier, "hash");
    Check(X509_sign(cert, keys_->key.get(), EVP_sha256()) > 0, "signing the CA certificate");
    cert_pem_ = CertPem(cert);
}

TestCa::~TestCa() = default;

TestCertificate TestCa::IssueServerCertificate(const std::vector<std::string>& dns_names,
                                               const std::vector<std::string>& ip_addresses) const {
    KeyPtr key = NewKey();
    const std::string common_name = dns_names.empty() ? "weft test server" : dns_names.front();
    CertPtr cert = NewCertificate(key.get(), common_name, keys_->cert.get());
    std::string alt_names;
    for (const auto& name : dns_names) alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + name;
    for (const auto& ip : ip_addresses) alt_names += (alt_names.empty() ? "IP:" : ",IP:") + ip;
    AddExtension(cert.get(), keys_->cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), keys_->cert.get(), NID_key_usage, "critical,digitalSignature");
    AddExtension(cert.get(), keys_->cert.get(), NID_ext_key_usage, "serverAuth");
    AddExtension(cert.get(), keys_->cert.get(), NID_authority_key_identifier, "keyid:always");
    if (!alt_names.empty()) AddExtension(cert.get(), keys_->cert.get(), NID_subject_alt_name, alt_names);
    Check(X509_sign(cert.get(), keys_->key.get(), EVP_sha256()) > 0, "signing the server certificate");
    return {CertPem(cert.get()), KeyPem(key.get())};
}

}  // namespace weft::http::testing
