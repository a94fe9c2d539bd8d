#include "http/address_guard.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <string>

namespace weft::http {
namespace {

AddressClass ClassifyV4(const std::array<std::uint8_t, 4>& a) {
    const std::uint8_t b0 = a[0];
    const std::uint8_t b1 = a[1];
    if (b0 == 0) return AddressClass::kUnspecified;
    if (b0 == 127) return AddressClass::kLoopback;
    if (b0 == 10) return AddressClass::kPrivate;
    if (b0 == 172 && b1 >= 16 && b1 <= 31) return AddressClass::kPrivate;
    if (b0 == 192 && b1 == 168) return AddressClass::kPrivate;
    if (b0 == 100 && b1 >= 64 && b1 <= 127) return AddressClass::kPrivate;
    if (b0 == 169 && b1 == 254) return AddressClass::kLinkLocal;
    if (b0 >= 224) return AddressClass::kReserved;  // multicast, 240/4, broadcast
    return AddressClass::kPublic;
}

AddressClass ClassifyV6(const std::array<std::uint8_t, 16>& a) {
    bool first_ten_zero = true;
    for (int i = 0; i < 10; ++i) first_ten_zero = first_ten_zero && a[static_cast<std::size_t>(i)] == 0;
    const std::array<std::uint8_t, 4> tail{a[12], a[13], a[14], a[15]};
    if (first_ten_zero && a[10] == 0xff && a[11] == 0xff) return ClassifyV4(tail);  // ::ffff:a.b.c.d
    if (first_ten_zero && a[10] == 0 && a[11] == 0) {
        bool first_fifteen_zero = tail[0] == 0 && tail[1] == 0 && tail[2] == 0;
        if (first_fifteen_zero && tail[3] == 0) return AddressClass::kUnspecified;  // ::
        if (first_fifteen_zero && tail[3] == 1) return AddressClass::kLoopback;     // ::1
        return ClassifyV4(tail);                                                    // ::a.b.c.d (deprecated)
    }
    // 64:ff9b::/96: NAT64 translates to the embedded IPv4 address.
    if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) {
        bool zero = true;
        for (int i = 4; i < 12; ++i) zero = zero && a[static_cast<std::size_t>(i)] == 0;
        if (zero) return ClassifyV4(tail);
    }
    if ((a[0] & 0xfe) == 0xfc) return AddressClass::kPrivate;                    // fc00::/7
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;  // fe80::/10
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;    // fec0::/10 (old site-local)
    if (a[0] == 0xff) return AddressClass::kReserved;                            // multicast
    return AddressClass::kPublic;
}

}  // namespace

AddressClass ClassifyAddress(std::string_view ip) {
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    if (const auto zone = ip.find('%'); zone != std::string_view::npos) ip = ip.substr(0, zone);
    if (ip.empty() || ip.size() > 64) return AddressClass::kInvalid;
    const std::string text(ip);
    std::array<std::uint8_t, 4> v4{};
    if (inet_pton(AF_INET, text.c_str(), v4.data()) == 1) return ClassifyV4(v4);
    std::array<std::uint8_t, 16> v6{};
    if (inet_pton(AF_INET6, text.c_str(), v6.data()) == 1) return ClassifyV6(v6);
    return AddressClass::kInvalid;
}

std::string_view AddressClassName(AddressClass c) {
    switch (c) {
        case AddressClass::kPublic:
            return "public";
        case AddressClass::kLoopback:
            return "loopback";
        case AddressClass::kPrivate:
            return "private";
        case AddressClass::kLinkLocal:
            return "link-local";
        case AddressClass::kUnspecified:
            return "unspecified";
        case AddressClass::kReserved:
            return "reserved";
        case AddressClass::kInvalid:
            break;
    }
    return "invalid";
}

}  // namespace weft::http
