#include "test_util/http_get.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace we::test_util {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

void SetError(std::string* error, const std::string& what) {
  if (error != nullptr) *error = what;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  const std::string key = Lower(name);
  for (const auto& [k, v] : headers) {
    if (k == key) return v;
  }
  return "";
}

bool HttpResponse::has_header(const std::string& name) const {
  const std::string key = Lower(name);
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return h.first == key; });
}

HttpConnection::HttpConnection(std::chrono::milliseconds timeout) : timeout_(timeout) {}

HttpConnection::~HttpConnection() { Close(); }

void HttpConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool HttpConnection::Connect(const std::string& host, uint16_t port, std::string* error) {
  Close();
  buffer_.clear();
  eof_ = false;
  host_ = host;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result);
  if (rc != 0) {
    SetError(error, "resolve " + host + ": " + ::gai_strerror(rc));
    return false;
  }
  std::string last = "connect " + host + ": no address";
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      fd_ = fd;
      break;
    }
    last = "connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(result);
  if (fd_ < 0) SetError(error, last);
  return fd_ >= 0;
}

bool HttpConnection::WriteRaw(const std::string& bytes, std::string* error) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      SetError(error, std::string("send: ") + std::strerror(errno));
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool HttpConnection::Fill(std::string* error) {
  if (fd_ < 0 || eof_) {
    SetError(error, "connection closed");
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout_.count()));
  if (ready == 0) {
    SetError(error, "timed out after " + std::to_string(timeout_.count()) + " ms");
    return false;
  }
  if (ready < 0) {
    SetError(error, std::string("poll: ") + std::strerror(errno));
    return false;
  }
  char chunk[16384];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    eof_ = true;
    SetError(error, n == 0 ? "connection closed by the server" : std::string("recv: ") + std::strerror(errno));
    return false;
  }
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

bool HttpConnection::ReadLine(std::string* line, std::string* error) {
  std::size_t eol;
  while ((eol = buffer_.find("\r\n")) == std::string::npos) {
    if (!Fill(error)) return false;
  }
  *line = buffer_.substr(0, eol);
  buffer_.erase(0, eol + 2);
  return true;
}

bool HttpConnection::ReadExactly(std::size_t n, std::string* out, std::string* error) {
  while (buffer_.size() < n) {
    if (!Fill(error)) return false;
  }
  out->append(buffer_, 0, n);
  buffer_.erase(0, n);
  return true;
}

std::optional<HttpResponse> HttpConnection::ReadResponse(bool head, std::string* error) {
  HttpResponse response;
  std::string line;
  if (!ReadLine(&line, error)) return std::nullopt;
  // "HTTP/1.1 200 OK"
  if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12) {
    SetError(error, "bad status line: " + line);
    return std::nullopt;
  }
  response.status = std::atoi(line.c_str() + 9);
  while (true) {
    if (!ReadLine(&line, error)) return std::nullopt;
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) {
      SetError(error, "bad header line: " + line);
      return std::nullopt;
    }
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    response.headers.emplace_back(Lower(line.substr(0, colon)), value);
  }
  if (head || response.status == 204 || response.status == 304 || response.status / 100 == 1) {
    return response;
  }
  if (Lower(response.header("transfer-encoding")).find("chunked") != std::string::npos) {
    while (true) {
      if (!ReadLine(&line, error)) return std::nullopt;
      const std::size_t size = std::strtoul(line.c_str(), nullptr, 16);
      if (size == 0) {
        while (ReadLine(&line, error) && !line.empty()) {
        }
        break;
      }
      if (!ReadExactly(size, &response.body, error)) return std::nullopt;
      if (!ReadLine(&line, error)) return std::nullopt;
    }
  } else if (response.has_header("content-length")) {
    const std::size_t length = std::strtoull(response.header("content-length").c_str(), nullptr, 10);
    if (!ReadExactly(length, &response.body, error)) return std::nullopt;
  } else {
    // No length: the body runs to the close.
    std::string ignored;
    while (Fill(&ignored)) {
    }
    response.body = std::move(buffer_);
    buffer_.clear();
  }
  return response;
}

std::optional<HttpResponse> HttpConnection::Request(const std::string& method, const std::string& target,
                                                    const std::map<std::string, std::string>& headers,
                                                    std::string* error) {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + "\r\n";
  for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
  request += "\r\n";
  if (!WriteRaw(request, error)) return std::nullopt;
  return ReadResponse(method == "HEAD", error);
}

std::optional<std::string> HttpConnection::ReadUntilClosed(std::string* error) {
  std::string local_error;
  while (Fill(&local_error)) {
  }
  if (!eof_) {
    SetError(error, local_error);
    return std::nullopt;
  }
  std::string rest = std::move(buffer_);
  buffer_.clear();
  return rest;
}

std::optional<HttpResponse> HttpRequest(const std::string& host, uint16_t port, const std::string& method,
                                        const std::string& target, const std::map<std::string, std::string>& headers,
                                        std::chrono::milliseconds timeout, std::string* error) {
  HttpConnection connection(timeout);
  if (!connection.Connect(host, port, error)) return std::nullopt;
  return connection.Request(method, target, headers, error);
}

std::optional<HttpResponse> HttpGet(const std::string& host, uint16_t port, const std::string& target,
                                    const std::map<std::string, std::string>& headers) {
  return HttpRequest(host, port, "GET", target, headers);
}

}  // namespace we::test_util
