#pragma once

#include <memory>
#include <string>
#include <vector>

namespace weft::http::testing {

// A certificate and its private key, both PEM.
struct TestCertificate {
    std::string cert_pem;
    std::string key_pem;
};

// A throwaway certificate authority made when a test runs (EC P-256 keys, valid from an hour ago for a day), so
// no key or certificate is ever committed. Issues server certificates for the names a test needs.
class TestCa {
  public:
    explicit TestCa(const std::string& common_name);
    ~TestCa();
    TestCa(const TestCa&) = delete;
    TestCa& operator=(const TestCa&) = delete;

    // The CA certificate, PEM: what a client has to trust.
    const std::string& cert_pem() const { return cert_pem_; }

    // A server certificate signed by this CA with `dns_names` (and `ip_addresses`, textual) as its subject
    // alternative names; the first DNS name is also its common name.
    TestCertificate IssueServerCertificate(const std::vector<std::string>& dns_names,
                                           const std::vector<std::string>& ip_addresses = {}) const;

  private:
    struct Keys;
    std::unique_ptr<Keys> keys_;
    std::string cert_pem_;
};

}  // namespace weft::http::testing
