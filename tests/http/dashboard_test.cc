// The page at / as the server sends it: one document with nothing to fetch from elsewhere, whose
// Content-Security-Policy admits exactly its inline script and style, and whose one server-side
// value (the telemetry path) is escaped. What the script draws is tests/e2e/page_browser_test.sh's.

#include "http/dashboard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace we::serving {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The text between the first `open` and the next `close` after it.
std::string Between(const std::string& text, const std::string& open, const std::string& close) {
  const auto a = text.find(open);
  if (a == std::string::npos) return "";
  const auto b = text.find(close, a + open.size());
  return b == std::string::npos ? "" : text.substr(a + open.size(), b - a - open.size());
}

TEST(DashboardPage, ThePolicyAdmitsExactlyTheInlineScriptAndStyle) {
  const std::string page = DashboardPage("/metrics");
  const std::string script = Between(page, "<script>", "</script>");
  const std::string style = Between(page, "<style>", "</style>");
  ASSERT_FALSE(script.empty());
  ASSERT_FALSE(style.empty());
  EXPECT_EQ(script, DashboardScript());
  EXPECT_EQ(style, DashboardStyle());
  const std::string& policy = DashboardContentSecurityPolicy();
  EXPECT_THAT(policy, HasSubstr("default-src 'none'"));
  EXPECT_THAT(policy, HasSubstr("script-src '" + CspHash(script) + "'"));
  EXPECT_THAT(policy, HasSubstr("style-src '" + CspHash(style) + "'"));
  EXPECT_THAT(policy, HasSubstr("connect-src 'self'"));
  EXPECT_THAT(policy, Not(HasSubstr("unsafe")));
  // One script and one style element: nothing else runs or styles.
  EXPECT_EQ(page.find("<script", page.find("<script") + 1), std::string::npos);
  EXPECT_EQ(page.find("<style", page.find("<style") + 1), std::string::npos);
}

TEST(DashboardPage, CspHashIsTheBase64OfSha256) {
  // printf abc | openssl dgst -sha256 -binary | base64 (and printf "" for the empty text)
  EXPECT_EQ(CspHash("abc"), "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  EXPECT_EQ(CspHash(""), "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

TEST(DashboardPage, NothingIsFetchedFromElsewhere) {
  const std::string page = DashboardPage("/metrics");
  // The only absolute URL is SVG's namespace name, which is never fetched.
  std::string rest = page;
  for (std::string::size_type at; (at = rest.find("http://www.w3.org/2000/svg")) != std::string::npos;) {
    rest.erase(at, 26);
  }
  EXPECT_THAT(rest, Not(HasSubstr("http:")));
  EXPECT_THAT(rest, Not(HasSubstr("https:")));
  EXPECT_THAT(rest, Not(HasSubstr("//")));  // no protocol-relative URL (nor a comment hiding one)
  for (const char* loader : {" src=", "@import", "url(", "<iframe", "<img", "import(", "eval(", "innerHTML"}) {
    EXPECT_THAT(page, Not(HasSubstr(loader))) << loader;
  }
  // One link element: the empty icon, inline, so that no /favicon.ico is asked for.
  const auto link = page.find("<link");
  ASSERT_NE(link, std::string::npos);
  EXPECT_EQ(page.substr(link, 31), "<link rel=\"icon\" href=\"data:,\">");
  EXPECT_EQ(page.find("<link", link + 1), std::string::npos);
  // Small: one request, no build step.
  EXPECT_LT(page.size(), 16u * 1024);
}

TEST(DashboardPage, TheTelemetryPathIsEscaped) {
  const std::string page = DashboardPage("/m\"><script>alert(1)</script>'&\xc3\xa9");
  EXPECT_THAT(page, HasSubstr("href=\"/m&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#39;&amp;\xc3\xa9\""));
  EXPECT_THAT(page, Not(HasSubstr("<script>alert")));
}

TEST(DashboardPage, HtmlEscapeCoversTextAndAttributes) {
  EXPECT_EQ(HtmlEscape("<script>\"x\"&'y'</script> \xc3\xa9"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt; \xc3\xa9");
}

TEST(DashboardPage, NamesReachTheDocumentOnlyAsText) {
  // The script builds every element with createElement and writes names with textContent or
  // attribute setters; it never parses a string as markup.
  const std::string script(DashboardScript());
  for (const char* markup : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser"}) {
    EXPECT_THAT(script, Not(HasSubstr(markup))) << markup;
  }
}

}  // namespace
}  // namespace we::serving
