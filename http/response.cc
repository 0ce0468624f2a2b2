#include "http/response.h"

#include "http/dashboard.h"

#include <array>
#include <ctime>

namespace we::serving {

Reply Literal(http::status status, std::string_view text) {
  Reply reply;
  reply.status = status;
  reply.body.data = text;
  return reply;
}

Reply Owned(http::status status, std::string_view content_type, std::shared_ptr<const std::string> owner) {
  Reply reply;
  reply.status = status;
  reply.content_type = content_type;
  // Bind the view before the pointer is moved into the body (argument order is unspecified).
  const std::string_view view = *owner;
  reply.body = {std::move(owner), view};
  return reply;
}

Reply Owned(http::status status, std::string_view content_type, std::string text) {
  return Owned(status, content_type, std::make_shared<const std::string>(std::move(text)));
}

std::string LandingPage(std::string_view telemetry_path, bool workloads) {
  const std::string metrics = HtmlEscape(telemetry_path);
  std::string page =
      "<!DOCTYPE html>\n"
      "<html lang=\"en\">\n"
      "<head><meta charset=\"utf-8\"><title>workload_exporter</title></head>\n"
      "<body>\n"
      "<h1>workload_exporter</h1>\n"
      "<p>Prometheus exporter of per-workload resource usage.</p>\n"
      "<ul>\n"
      "<li><a href=\"" +
      metrics + "\">Metrics</a> (" + metrics +
      ")</li>\n"
      "<li><a href=\"/-/healthy\">Health</a> (/-/healthy)</li>\n"
      "<li><a href=\"/-/ready\">Readiness</a> (/-/ready)</li>\n";
  if (workloads) {
    page += "<li><a href=\"/api/v1/workloads\">Workloads</a> (/api/v1/workloads)</li>\n";
  }
  page +=
      "</ul>\n"
      "</body>\n"
      "</html>\n";
  return page;
}

std::string HttpDate() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::array<char, 64> text{};
  const std::size_t n = std::strftime(text.data(), text.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(text.data(), n);
}

Response Finish(const Request& req, Reply reply) {
  Response res{reply.status, req.version()};
  res.set(http::field::server, kServerName);
  res.set(http::field::date, HttpDate());
  res.set(http::field::content_type, reply.content_type);
  if (reply.gzip) res.set(http::field::content_encoding, "gzip");
  if (reply.vary) res.set(http::field::vary, "Accept-Encoding");
  if (reply.allow) res.set(http::field::allow, "GET, HEAD");
  if (reply.challenge) res.set(http::field::www_authenticate, "Basic");
  if (reply.retry_after) res.set(http::field::retry_after, "1");
  if (!reply.content_security_policy.empty()) {
    res.set("Content-Security-Policy", reply.content_security_policy);
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
  }
  res.keep_alive(req.keep_alive() && !reply.close);
  res.body() = std::move(reply.body);
  res.prepare_payload();                                  // Content-Length from the body
  if (req.method() == http::verb::head) res.body() = {};  // same headers, no body
  return res;
}

}  // namespace we::serving
