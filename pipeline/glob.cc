#include "pipeline/glob.h"

#include <vector>

namespace we {
namespace {

// The code points of UTF-8 text; a byte of no valid sequence stands for itself, above the
// Unicode range so that it matches nothing but its own byte.
std::vector<char32_t> CodePoints(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    const int n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    char32_t c = n == 1 ? b : n == 2 ? b & 0x1F : n == 3 ? b & 0x0F : b & 0x07;
    bool ok = n > 0 && i + static_cast<std::size_t>(n) <= text.size();
    for (int k = 1; ok && k < n; ++k) {
      const auto cont = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
      ok = (cont & 0xC0) == 0x80;
      c = (c << 6) | (cont & 0x3F);
    }
    // Overlong forms and surrogates are not valid UTF-8 either.
    ok = ok && !(n == 2 && c < 0x80) && !(n == 3 && c < 0x800) && !(n == 4 && (c < 0x10000 || c > 0x10FFFF)) &&
         !(c >= 0xD800 && c <= 0xDFFF);
    if (ok) {
      out.push_back(c);
      i += static_cast<std::size_t>(n);
    } else {
      out.push_back(0x110000 + b);
      ++i;
    }
  }
  return out;
}

// Whether c is in the set p[from, to) (the text between [ and ], negation already taken off).
bool InSet(const std::vector<char32_t>& p, std::size_t from, std::size_t to, char32_t c) {
  for (std::size_t i = from; i < to; ++i) {
    if (i + 2 < to && p[i + 1] == U'-') {
      if (p[i] <= c && c <= p[i + 2]) return true;
      i += 2;
    } else if (p[i] == c) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  const std::vector<char32_t> p = CodePoints(pattern), t = CodePoints(text);
  std::size_t pi = 0, ti = 0;
  std::size_t star = std::string_view::npos, resume = 0;  // after the last *, and where its run ends
  while (ti < t.size()) {
    bool step = false;
    std::size_t next = pi + 1;
    if (pi < p.size()) {
      const char32_t c = p[pi];
      if (c == U'*') {
        star = ++pi;
        resume = ti;
        continue;
      }
      if (c == U'?') {
        step = true;
      } else if (c == U'\\' && pi + 1 < p.size()) {
        step = p[pi + 1] == t[ti];
        next = pi + 2;
      } else if (c == U'[') {
        std::size_t j = pi + 1;
        const bool negated = j < p.size() && (p[j] == U'!' || p[j] == U'^');
        if (negated) ++j;
        const std::size_t first = j;
        if (j < p.size() && p[j] == U']') ++j;
        while (j < p.size() && p[j] != U']') ++j;
        if (j < p.size()) {
          step = InSet(p, first, j, t[ti]) != negated;
          next = j + 1;
        } else {
          step = t[ti] == U'[';  // no closing ]: a literal [
        }
      } else {
        step = c == t[ti];
      }
    }
    if (step) {
      pi = next;
      ++ti;
    } else if (star != std::string_view::npos) {
      pi = star;  // let the last * take one more character
      ti = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == U'*') ++pi;
  return pi == p.size();
}

}  // namespace we
