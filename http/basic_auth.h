#pragma once
// HTTP basic authentication against exporter-toolkit's bcrypt hashes (config/web_config.h's
// basic_auth_users).
//
// Thread-safety: any thread. BcryptMatches costs what the hash's cost factor says (BENCHMARKS.md
// has the figure at cost 10): never call it on the event loop (HttpServer runs it on a worker
// thread and caches successes).

#include <string>
#include <string_view>

namespace we {

// Whether `password` hashes to `hash` (libxcrypt's crypt_r), comparing in constant time. False
// for anything that is not a bcrypt hash (IsBcryptHash), and for a password with a NUL byte,
// which crypt() cannot see past.
bool BcryptMatches(std::string_view password, const std::string& hash);

}  // namespace we
