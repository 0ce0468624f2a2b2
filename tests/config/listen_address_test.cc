#include "config/listen_address.h"

#include <gtest/gtest.h>

#include <string>

namespace we {
namespace {

struct ValidCase {
  std::string input;
  std::string host;
  uint16_t port;
  std::string formatted;
};

TEST(ParseListenAddressTest, AcceptsNodeExporterForms) {
  const ValidCase cases[] = {
      {":9746", "", 9746, ":9746"},
      {"127.0.0.1:9746", "127.0.0.1", 9746, "127.0.0.1:9746"},
      {"[::1]:9746", "::1", 9746, "[::1]:9746"},
      {"[::]:80", "::", 80, "[::]:80"},
      {"[fe80::1%lo]:9746", "fe80::1%lo", 9746, "[fe80::1%lo]:9746"},
      {"localhost:9746", "localhost", 9746, "localhost:9746"},
      {"my-host.example.com:1", "my-host.example.com", 1, "my-host.example.com:1"},
      {"0.0.0.0:0", "0.0.0.0", 0, "0.0.0.0:0"},
      {":65535", "", 65535, ":65535"},
      {"host:09746", "host", 9746, "host:9746"},
  };
  for (const ValidCase& c : cases) {
    std::string error;
    const auto parsed = ParseListenAddress(c.input, &error);
    ASSERT_TRUE(parsed.has_value()) << c.input << ": " << error;
    EXPECT_EQ(parsed->host, c.host) << c.input;
    EXPECT_EQ(parsed->port, c.port) << c.input;
    EXPECT_EQ(parsed->all_interfaces(), c.host.empty()) << c.input;
    EXPECT_EQ(FormatListenAddress(*parsed), c.formatted) << c.input;
    EXPECT_EQ(ParseListenAddress(FormatListenAddress(*parsed), nullptr), parsed) << c.input;
  }
}

struct InvalidCase {
  std::string input;
  std::string reason;  // a fragment of the error message
};

TEST(ParseListenAddressTest, RejectsWithAMessageNamingTheAddress) {
  const InvalidCase cases[] = {
      {"", "must not be empty"},
      {"9746", "missing port"},
      {"localhost", "missing port"},
      {"localhost:", "missing port"},
      {":", "missing port"},
      {"::1:9746", "too many colons"},
      {"::9746", "too many colons"},
      {"[::1]", "missing port"},
      {"[::1]9746", "missing port"},
      {"[::1:9746", "missing \"]\""},
      {"[]:9746", "empty IPv6 address in brackets"},
      {"[127.0.0.1]:9746", "invalid IPv6 address"},
      {"[zz::1]:9746", "invalid IPv6 address"},
      {"host]:9746", "invalid character \"]\" in the host"},
      {"256.0.0.1:9746", "invalid IPv4 address"},
      {"1.2.3:9746", "invalid IPv4 address"},
      {"bad host:9746", "invalid character \" \" in the host"},
      {"host/x:9746", "invalid character \"/\" in the host"},
      {":65536", "out of range 0-65535"},
      {":123456", "out of range 0-65535"},
      {":http", "is not a number"},
      {":-1", "is not a number"},
      {":+80", "is not a number"},
      {": 80", "is not a number"},
  };
  for (const InvalidCase& c : cases) {
    std::string error;
    EXPECT_EQ(ParseListenAddress(c.input, &error), std::nullopt) << c.input;
    EXPECT_NE(error.find("\"" + c.input + "\""), std::string::npos) << c.input << ": " << error;
    EXPECT_NE(error.find(c.reason), std::string::npos) << c.input << ": " << error;
  }
}

TEST(ParseListenAddressTest, NullErrorPointerIsAllowed) {
  EXPECT_EQ(ParseListenAddress("nope", nullptr), std::nullopt);
}

}  // namespace
}  // namespace we
