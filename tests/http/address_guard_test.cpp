#include "http/address_guard.h"

#include <gtest/gtest.h>

namespace weft::http {
namespace {

TEST(AddressGuardTest, LoopbackAddressesAreRefused) {
    EXPECT_EQ(ClassifyAddress("127.0.0.1"), AddressClass::kLoopback);
    EXPECT_EQ(ClassifyAddress("127.255.0.9"), AddressClass::kLoopback);
    EXPECT_EQ(ClassifyAddress("::1"), AddressClass::kLoopback);
    EXPECT_FALSE(IsPublicAddress("127.0.0.1"));
    EXPECT_FALSE(IsPublicAddress("::1"));
}

TEST(AddressGuardTest, PrivateRangesAreRefused) {
    EXPECT_EQ(ClassifyAddress("10.1.2.3"), AddressClass::kPrivate);
    EXPECT_EQ(ClassifyAddress("172.16.0.1"), AddressClass::kPrivate);
    EXPECT_EQ(ClassifyAddress("172.31.255.255"), AddressClass::kPrivate);
    EXPECT_EQ(ClassifyAddress("192.168.1.1"), AddressClass::kPrivate);
    EXPECT_EQ(ClassifyAddress("fc00::1"), AddressClass::kPrivate);
    EXPECT_EQ(ClassifyAddress("fd12:3456::1"), AddressClass::kPrivate);
}

TEST(AddressGuardTest, NeighboursOfPrivateRangesArePublic) {
    EXPECT_EQ(ClassifyAddress("172.32.0.1"), AddressClass::kPublic);
    EXPECT_EQ(ClassifyAddress("172.15.255.255"), AddressClass::kPublic);
    EXPECT_EQ(ClassifyAddress("192.169.0.1"), AddressClass::kPublic);
    EXPECT_EQ(ClassifyAddress("11.0.0.1"), AddressClass::kPublic);
}

TEST(AddressGuardTest, LinkLocalAndMetadataAddressesAreRefused) {
    EXPECT_EQ(ClassifyAddress("169.254.169.254"), AddressClass::kLinkLocal);
    EXPECT_EQ(ClassifyAddress("169.254.0.1"), AddressClass::kLinkLocal);
    EXPECT_EQ(ClassifyAddress("fe80::1"), AddressClass::kLinkLocal);
    EXPECT_EQ(ClassifyAddress("fe80::1%eth0"), AddressClass::kLinkLocal);
    EXPECT_FALSE(IsPublicAddress("169.254.169.254"));
}

TEST(AddressGuardTest, UnspecifiedAddressesAreRefused) {
    EXPECT_EQ(ClassifyAddress("0.0.0.0"), AddressClass::kUnspecified);
    EXPECT_EQ(ClassifyAddress("::"), AddressClass::kUnspecified);
}

TEST(AddressGuardTest, Ipv4InIpv6FormsAreClassifiedByTheEmbeddedAddress) {
    EXPECT_EQ(ClassifyAddress("::ffff:127.0.0.1"), AddressClass::kLoopback);
    EXPECT_EQ(ClassifyAddress("::ffff:7f00:1"), AddressClass::kLoopback);
    EXPECT_EQ(ClassifyAddress("::ffff:169.254.169.254"), AddressClass::kLinkLocal);
    EXPECT_EQ(ClassifyAddress("::ffff:10.0.0.1"), AddressClass::kPrivate);
    EXPECT_EQ(ClassifyAddress("::ffff:0.0.0.0"), AddressClass::kUnspecified);
    EXPECT_EQ(ClassifyAddress("64:ff9b::10.0.0.1"), AddressClass::kPrivate);
    EXPECT_EQ(ClassifyAddress("::ffff:8.8.8.8"), AddressClass::kPublic);
}

TEST(AddressGuardTest, PublicAddressesAreAllowed) {
    EXPECT_TRUE(IsPublicAddress("8.8.8.8"));
    EXPECT_TRUE(IsPublicAddress("2001:4860:4860::8888"));
    EXPECT_TRUE(IsPublicAddress("1.1.1.1"));
}

TEST(AddressGuardTest, MulticastAndBroadcastAreRefused) {
    EXPECT_EQ(ClassifyAddress("224.0.0.1"), AddressClass::kReserved);
    EXPECT_EQ(ClassifyAddress("255.255.255.255"), AddressClass::kReserved);
    EXPECT_EQ(ClassifyAddress("ff02::1"), AddressClass::kReserved);
}

TEST(AddressGuardTest, TextThatIsNotAnAddressIsInvalid) {
    EXPECT_EQ(ClassifyAddress(""), AddressClass::kInvalid);
    EXPECT_EQ(ClassifyAddress("localhost"), AddressClass::kInvalid);
    EXPECT_EQ(ClassifyAddress("127.1"), AddressClass::kInvalid);
    EXPECT_EQ(ClassifyAddress("256.0.0.1"), AddressClass::kInvalid);
    EXPECT_FALSE(IsPublicAddress("example.com"));
}

TEST(AddressGuardTest, NamesTheClassForMessages) {
    EXPECT_EQ(AddressClassName(AddressClass::kLoopback), "loopback");
    EXPECT_EQ(AddressClassName(AddressClass::kLinkLocal), "link-local");
}

}  // namespace
}  // namespace weft::http
