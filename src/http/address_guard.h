#pragma once

#include <string_view>

namespace weft::http {

// What kind of network an IP address belongs to, for the outbound address guard: `http` and `connector`
// blocks may reach only public addresses unless the operator allows private networks.
enum class AddressClass {
    kPublic,
    kLoopback,     // 127.0.0.0/8, ::1
    kPrivate,      // 10/8, 172.16/12, 192.168/16, 100.64/10 (shared), fc00::/7 (unique local)
    kLinkLocal,    // 169.254/16 (including the 169.254.169.254 metadata address), fe80::/10
    kUnspecified,  // 0.0.0.0/8, ::
    kReserved,     // multicast, broadcast, 240/4 and other addresses that are never a server
    kInvalid,      // not a textual IPv4 or IPv6 address
};

// Classifies a textual IPv4 ("10.1.2.3") or IPv6 ("fe80::1", optionally with a "%zone") address. IPv6 forms
// that embed an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96) are
// classified by the embedded address. Pure: no I/O.
AddressClass ClassifyAddress(std::string_view ip);

// The default guard policy: only public addresses may be reached.
inline bool IsPublicAddress(std::string_view ip) { return ClassifyAddress(ip) == AddressClass::kPublic; }

// "loopback", "private", ... for error messages.
std::string_view AddressClassName(AddressClass c);

}  // namespace weft::http
