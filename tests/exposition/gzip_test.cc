#include "exposition/gzip.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace we {
namespace {

TEST(GzipTest, RoundTripsText) {
  const std::string text = "# HELP we_up 1 when the exporter works.\n# TYPE we_up gauge\nwe_up 1\n";
  const std::string gz = GzipCompress(text);
  ASSERT_FALSE(gz.empty());
  // The gzip magic number and the deflate method (RFC 1952 section 2.3.1).
  ASSERT_GE(gz.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_EQ(static_cast<unsigned char>(gz[2]), 8);
  EXPECT_EQ(GzipDecompress(gz), text);
}

TEST(GzipTest, EmptyInputMakesAValidNonEmptyStream) {
  const std::string gz = GzipCompress("");
  EXPECT_FALSE(gz.empty());
  EXPECT_EQ(GzipDecompress(gz), std::string());
}

TEST(GzipTest, RoundTripsOneMegabyteOfRepetitiveText) {
  std::string text;
  for (int i = 0; text.size() < (1u << 20); ++i) {
    text += "we_workload_cpu_seconds_total{workload=\"pod-" + std::to_string(i % 997) + "\"} " +
            std::to_string(i * 37) + "\n";
  }
  const std::string gz = GzipCompress(text);
  EXPECT_LT(gz.size(), text.size() / 4);  // exposition text compresses well
  EXPECT_EQ(GzipDecompress(gz), text);
}

TEST(GzipTest, RoundTripsOneMegabyteOfIncompressibleBytes) {
  std::mt19937 random(42);
  std::string bytes(1u << 20, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  for (int level : {0, 1, 6, 9, -1}) {
    const std::string gz = GzipCompress(bytes, level);
    ASSERT_FALSE(gz.empty()) << "level " << level;
    EXPECT_EQ(GzipDecompress(gz), bytes) << "level " << level;
  }
}

TEST(GzipTest, InvalidLevelYieldsEmpty) {
  EXPECT_EQ(GzipCompress("x", 10), "");
  EXPECT_EQ(GzipCompress("x", -2), "");
}

TEST(GzipTest, DecompressRejectsCorruptTruncatedAndTrailingInput) {
  const std::string gz = GzipCompress("hello, hello, hello, hello");
  EXPECT_EQ(GzipDecompress("not gzip at all"), std::nullopt);
  EXPECT_EQ(GzipDecompress(""), std::nullopt);
  EXPECT_EQ(GzipDecompress(gz.substr(0, gz.size() - 4)), std::nullopt);
  EXPECT_EQ(GzipDecompress(gz + "junk"), std::nullopt);
  std::string flipped = gz;
  flipped[gz.size() - 6] ^= 0x55;  // inside the CRC-32 trailer
  EXPECT_EQ(GzipDecompress(flipped), std::nullopt);
}

// igzip (ISA-L), where the build has it: valid gzip that zlib decompresses, at every level, for
// text and incompressible bytes, written piece by piece from one buffer that is overwritten after
// each Write (as the /metrics text writer reuses its 64 KiB piece).
class IgzipTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (!HaveIgzip()) GTEST_SKIP() << "built without ISA-L (libisal-dev)";
  }
};

TEST_P(IgzipTest, StreamsPiecesFromAReusedBufferIntoGzipThatZlibReads) {
  std::string text;
  for (int i = 0; text.size() < (3u << 20); ++i) {
    text += "workload_cpu_seconds_total{id=\"" + std::to_string(i % 1009) + "\",mode=\"user\"} " +
            std::to_string(i * 37) + "\n";
  }
  std::string out = "prefix";  // appended after what *out holds
  GzipStream gz(&out, GzipMethod{GzipMethod::Encoder::kIgzip, GetParam()});
  std::string piece;
  for (std::size_t pos = 0; pos < text.size(); pos += 65536) {
    piece.assign(text, pos, 65536);
    ASSERT_TRUE(gz.Write(piece));
    piece.assign(piece.size(), '#');  // the writer reuses its buffer
  }
  ASSERT_TRUE(gz.Finish());
  ASSERT_EQ(out.substr(0, 6), "prefix");
  EXPECT_LT(out.size(), text.size() / 4);
  EXPECT_EQ(GzipDecompress(std::string_view(out).substr(6)), text);
  EXPECT_FALSE(gz.Write("after the end"));
}

TEST_P(IgzipTest, RoundTripsIncompressibleAndEmptyInput) {
  std::mt19937 random(7);
  std::string bytes(1u << 20, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  const GzipMethod method{GzipMethod::Encoder::kIgzip, GetParam()};
  const std::string gz = GzipCompress(bytes, method);
  ASSERT_FALSE(gz.empty());
  EXPECT_EQ(GzipDecompress(gz), bytes);
  const std::string empty = GzipCompress("", method);
  ASSERT_FALSE(empty.empty());
  EXPECT_EQ(static_cast<unsigned char>(empty[0]), 0x1f);
  EXPECT_EQ(GzipDecompress(empty), std::string());
}

INSTANTIATE_TEST_SUITE_P(Levels, IgzipTest, ::testing::Values(0, 1, 2, 3));

TEST(GzipTest, IgzipRejectsLevelsOutsideItsRange) {
  EXPECT_EQ(GzipCompress("x", GzipMethod{GzipMethod::Encoder::kIgzip, 4}), "");
  EXPECT_EQ(GzipCompress("x", GzipMethod{GzipMethod::Encoder::kIgzip, -1}), "");
}

TEST(GzipTest, MetricsMethodIsIgzipWhereBuiltWithIt) {
  const GzipMethod method = MetricsGzipMethod();
  EXPECT_EQ(method.encoder, HaveIgzip() ? GzipMethod::Encoder::kIgzip : GzipMethod::Encoder::kZlib);
  EXPECT_EQ(method.level, 1);
  EXPECT_EQ(GzipDecompress(GzipCompress("we_up 1\n", method)), "we_up 1\n");
}

}  // namespace
}  // namespace we
