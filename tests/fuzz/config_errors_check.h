#pragma once
// What the fuzz targets of the config parsers (config_loader, web_config) check of a result's
// errors: the same contract, config/config_error.h's, whichever file format was parsed.

#include <string>

#include "config/config_error.h"
#include "tests/fuzz/fuzz_check.h"

namespace we::fuzz {

// `result` (a LoadResult, a WebConfigResult: ok() and errors) holds a config or at least one
// error, never both and never neither; and every error names `file_name`, has no negative
// position, says what was wrong, and prints starting with "<file_name>:".
template <typename Result>
void CheckConfigErrors(const Result& result, const std::string& file_name) {
  FUZZ_CHECK(result.ok() == result.errors.empty());
  for (const ConfigError& e : result.errors) {
    FUZZ_CHECK(e.file == file_name);
    FUZZ_CHECK(e.line >= 0 && e.column >= 0);
    FUZZ_CHECK(!e.message.empty());
    FUZZ_CHECK(e.ToString().rfind(file_name + ":", 0) == 0);
  }
}

}  // namespace we::fuzz
