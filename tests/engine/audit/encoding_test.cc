// Base64 / hex helpers: strict decoding is part of the formats' strictness.
#include "audit/encoding.h"

#include <gtest/gtest.h>

namespace approvald::audit {
namespace {

TEST(EncodingTest, Base64RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    std::string enc = Base64Encode(bytes);
    EXPECT_EQ(enc.size() % 4, 0u);
    auto dec = Base64Decode(enc);
    ASSERT_TRUE(dec.has_value()) << n;
    EXPECT_EQ(*dec, bytes) << n;
    bytes.push_back(static_cast<char>(n * 37 + 11));
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");  // RFC 4648 §10
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
}

TEST(EncodingTest, Base64DecodeIsStrict) {
  for (const char* bad : {"Zg", "Zg=", "Zh==", "Zm9=", "Zm 9v", " Zm9v", "Zm9v\n",
                          "Zm9v====", "Zm9-", "Zm9_", "====", "Z===", "Zm=v"}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
  EXPECT_EQ(*Base64Decode(""), "");
}

TEST(EncodingTest, HexAndHashHelpers) {
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(*HexDecode("00FF10"), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(HexDecode("0").has_value());
  EXPECT_FALSE(HexDecode("0g").has_value());
  Hash h{};
  h[0] = 0xab;
  h[31] = 0x01;
  EXPECT_EQ(*HashFromHex(HashHex(h)), h);
  EXPECT_EQ(*HashFromBase64(Base64Encode(HashBytes(h))), h);
  EXPECT_EQ(*HashFromBytes(HashBytes(h)), h);
  EXPECT_FALSE(HashFromBytes("short").has_value());
  EXPECT_FALSE(HashFromHex(std::string(62, 'a')).has_value());
  EXPECT_FALSE(HashFromBase64("V3JvbmdMZWFm").has_value());  // 9 bytes
}

}  // namespace
}  // namespace approvald::audit
