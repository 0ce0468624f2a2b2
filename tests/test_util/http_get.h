#pragma once
// A small blocking HTTP/1.1 client for tests, on plain POSIX sockets so that it shares no code
// with the server under test. It can send well-formed requests or raw bytes, read responses with
// Content-Length or chunked bodies, and tell when the server closes the connection.
//
// Thread-safety: an HttpConnection is used by one thread; the free functions are reentrant.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace we::test_util {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::string body;                                          // raw bytes as sent (not decompressed)

  // The first header of that name (case-insensitive), or "" when absent.
  std::string header(const std::string& name) const;
  bool has_header(const std::string& name) const;
};

class HttpConnection {
 public:
  explicit HttpConnection(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Connects to host (a name or a literal address, IPv4 or IPv6) and port.
  bool Connect(const std::string& host, uint16_t port, std::string* error = nullptr);

  // Sends bytes as they are.
  bool WriteRaw(const std::string& bytes, std::string* error = nullptr);

  // Reads one response; `head` says it answers a HEAD request (no body follows).
  std::optional<HttpResponse> ReadResponse(bool head = false, std::string* error = nullptr);

  // Sends a request (Host is added) and reads its response.
  std::optional<HttpResponse> Request(const std::string& method, const std::string& target,
                                      const std::map<std::string, std::string>& headers = {},
                                      std::string* error = nullptr);

  // Reads until the server closes the connection and returns what came before the close
  // (a reset counts as a close); nullopt when the connection stays open past the timeout.
  std::optional<std::string> ReadUntilClosed(std::string* error = nullptr);

  void Close();

 private:
  bool Fill(std::string* error);  // reads more bytes into buffer_; false on EOF, error or timeout
  bool ReadLine(std::string* line, std::string* error);
  bool ReadExactly(std::size_t n, std::string* out, std::string* error);

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string host_;
  std::string buffer_;
  bool eof_ = false;
};

// One request on a fresh connection, closed afterwards.
std::optional<HttpResponse> HttpRequest(const std::string& host, uint16_t port, const std::string& method,
                                        const std::string& target,
                                        const std::map<std::string, std::string>& headers = {},
                                        std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                        std::string* error = nullptr);

// GET on a fresh connection.
std::optional<HttpResponse> HttpGet(const std::string& host, uint16_t port, const std::string& target,
                                    const std::map<std::string, std::string>& headers = {});

}  // namespace we::test_util
