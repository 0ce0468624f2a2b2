#include "pipeline/glob.h"

#include <gtest/gtest.h>

namespace we {
namespace {

// Globs as fnmatch(3) without flags, over code points (as the page's script matches them).
TEST(GlobMatch, FnmatchRulesOverCodePoints) {
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  };
  const Case cases[] = {
      {"web*", "web-1", true},
      {"web*", "we", false},
      {"*", "", true},
      {"a*b*c", "axxbyyc", true},
      {"a*b*c", "axxbyy", false},
      {"*-vm", "flask-vm-vm", true},  // the star takes as much as it must
      {"?", "a", true},
      {"?", "", false},
      {"?", "\xc3\xa9", true},    // é: one character, two bytes
      {"??", "\xc3\xa9", false},  // fnmatch in the C locale would say true
      {"caf?", "caf\xc3\xa9", true},
      {"?", "\xf0\x9f\x90\xb3", true},  // an emoji: one character, four bytes
      {"[a-c]x", "bx", true},
      {"[a-c]x", "dx", false},
      {"[!a-c]x", "dx", true},
      {"[^a-c]x", "ax", false},
      {"[]]", "]", true},
      {"[!]]", "a", true},
      {"[\xc3\xa0-\xc3\xbf]", "\xc3\xa9", true},  // a range of code points: à-ÿ holds é
      {"[", "[", true},                           // no closing ]: a literal [
      {"a[", "a[", true},
      {"\\*", "*", true},
      {"\\*", "x", false},
      {"x\\", "x\\", true},  // a trailing backslash is itself
      {"?", "\xff", true},   // a stray byte is a character of its own
      {"\xff", "\xff", true},
      {"\xff", "\xfe", false},
  };
  for (const Case& c : cases) EXPECT_EQ(GlobMatch(c.pattern, c.text), c.match) << c.pattern << " ~ " << c.text;
}

}  // namespace
}  // namespace we
