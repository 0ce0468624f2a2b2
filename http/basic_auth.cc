#include "http/basic_auth.h"

#include <crypt.h>

#include <openssl/crypto.h>

#include <cstring>
#include <memory>

#include "config/web_config.h"

namespace we {

bool BcryptMatches(std::string_view password, const std::string& hash) {
  if (!IsBcryptHash(hash) || password.find('\0') != std::string_view::npos) return false;
  // crypt_data is about 32 KiB: on the heap, one per call, so that any thread may call this.
  auto data = std::make_unique<crypt_data>();
  const std::string phrase(password);
  const char* result = crypt_r(phrase.c_str(), hash.c_str(), data.get());
  // libxcrypt returns a "*0"/"*1" failure token (or NULL) rather than a hash on error.
  if (result == nullptr || result[0] != '$') return false;
  const std::size_t n = std::strlen(result);
  const bool same = n == hash.size() && CRYPTO_memcmp(result, hash.data(), n) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return same;
}

}  // namespace we
