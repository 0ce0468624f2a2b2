#pragma once
// Shell-style globs, one grammar for every place a user writes one: the report's --select and
// --compare (tools/report_select.h), the page's selection (http/dashboard.cc implements the same
// in JavaScript) and the probes' match terms (pipeline/probe_rules.h).
//
// Thread-safety: pure.

#include <string_view>

namespace we {

// `text` matches the glob `pattern` whole: * any run of characters, ? one, [set] one of the set
// ([!set] or [^set] not; a ] first in the set is literal; a-b a range; a [ without its ] is
// literal), \c the character c. Characters are UTF-8 code points; a byte that is not part of
// valid UTF-8 is a character of its own.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace we
