#include "tools/report.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "collectors/json.h"
#include "config/duration.h"

namespace we {
namespace {

namespace bj = json::bj;

struct Row {
  const char* label;
  const char* key;  // in the window object, or top level for startup
  double scale;     // bytes -> MiB
  bool windowed;
};

const Row kRows[] = {
    {"Startup time (s)", "startup_seconds", 1, false},
    {"Idle memory (MiB)", "memory_idle_bytes", 1.0 / (1 << 20), true},
    {"Peak memory (MiB)", "memory_peak_bytes", 1.0 / (1 << 20), true},
    {"Idle CPU (cores)", "cpu_idle_cores", 1, true},
    {"Peak CPU (cores)", "cpu_peak_cores", 1, true},
};

std::optional<double> Get(const bj::value& workload, const Row& row, const std::string& window) {
  const bj::value* v =
      row.windowed ? json::Find(workload, {"windows", window, row.key}) : json::Find(workload, {row.key});
  const auto n = json::Number(v);
  return n ? std::optional<double>(*n * row.scale) : std::nullopt;
}

std::string Text(const bj::value& object, std::string_view key) {
  return std::string(json::String(json::Find(object, {key})).value_or(""));
}

std::string Format(std::optional<double> v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, std::abs(*v) >= 100 ? "%.0f" : std::abs(*v) >= 1 ? "%.2f" : "%.3f", *v);
  return buf;
}

std::string Difference(std::optional<double> vm, std::optional<double> container) {
  if (!vm || !container || *vm == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.0f%%", (*container - *vm) / *vm * 100);
  return buf;
}

std::string Table(const std::vector<std::vector<std::string>>& rows, bool markdown) {
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (std::size_t n = 0; n < rows.size(); ++n) {
    std::string line = markdown ? "|" : "";
    for (std::size_t i = 0; i < rows[n].size(); ++i) {
      std::string cell = rows[n][i];
      cell.resize(width[i], ' ');
      line += markdown ? " " + cell + " |" : cell + (i + 1 < rows[n].size() ? "  " : "");
    }
    while (!markdown && !line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (n == 0 && markdown) {
      out += "|";
      for (std::size_t i = 0; i < rows[n].size(); ++i) out += std::string(width[i] + 2, '-') + "|";
      out += "\n";
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> RenderReport(const std::string& json, const std::string& format, std::string* error) {
  if (format != "table" && format != "markdown" && format != "json") {
    *error = "--format must be table, markdown or json, got \"" + format + "\"";
    return std::nullopt;
  }
  // Lenient about UTF-8: a name with a stray byte must not cost the whole report.
  auto doc = json::Parse(json, error, /*allow_invalid_utf8=*/true);
  if (!doc) {
    *error = "cannot read the daemon's answer: " + *error;
    return std::nullopt;
  }
  // The longest window.
  std::string window;
  std::chrono::milliseconds longest{0};
  if (const bj::value* windows = json::Find(*doc, {"windows"}); windows != nullptr && windows->is_array()) {
    for (const bj::value& w : windows->get_array()) {
      const auto label = json::String(&w);
      const auto d = label ? ParseDuration(*label) : std::nullopt;
      if (d && *d > longest) {
        longest = *d;
        window = *label;
      }
    }
  }
  // Per kind: sums and counts of each row.
  std::map<std::string, std::map<std::string, std::pair<double, int>>> by_kind;
  std::vector<std::vector<std::string>> workloads = {
      {"KIND", "RUNTIME", "NAME", "STARTUP (s)", "IDLE MEM (MiB)", "PEAK MEM (MiB)", "IDLE CPU", "PEAK CPU"}};
  bj::array json_workloads;
  if (const bj::value* list = json::Find(*doc, {"workloads"}); list != nullptr && list->is_array()) {
    for (const bj::value& w : list->get_array()) {
      const std::string kind = Text(w, "kind"), name = Text(w, "name");
      std::vector<std::string> row = {kind, Text(w, "runtime"), name};
      bj::object json_row{{"kind", kind}, {"name", name}};
      for (const Row& r : kRows) {
        const auto v = Get(w, r, window);
        row.push_back(Format(v));
        json_row[r.key] = json::Figure(v);
        if (v) {
          auto& [sum, n] = by_kind[kind][r.key];
          sum += *v;
          ++n;
        }
      }
      workloads.push_back(row);
      json_workloads.emplace_back(std::move(json_row));
    }
  }
  auto mean = [&](const std::string& kind, const Row& r) -> std::optional<double> {
    auto k = by_kind.find(kind);
    if (k == by_kind.end()) return std::nullopt;
    auto it = k->second.find(r.key);
    if (it == k->second.end() || it->second.second == 0) return std::nullopt;
    return it->second.first / it->second.second;
  };
  std::vector<std::vector<std::string>> comparison = {{"Metric", "VM", "Container", "Difference"}};
  bj::object json_kinds;
  for (const Row& r : kRows) {
    const auto vm = mean("vm", r), container = mean("container", r);
    comparison.push_back({r.label, Format(vm), Format(container), Difference(vm, container)});
    json_kinds[r.key] = bj::object{{"vm", json::Figure(vm)}, {"container", json::Figure(container)}};
  }
  if (format == "json") {
    return json::Serialize(
        bj::object{{"window", window}, {"kinds", std::move(json_kinds)}, {"workloads", std::move(json_workloads)}});
  }
  const bool md = format == "markdown";
  std::string out = (md ? "## VM vs container (window " : "VM vs container (window ") + window + ", mean per kind)\n\n";
  out += Table(comparison, md);
  out += md ? "\n## Workloads\n\n" : "\nWorkloads:\n\n";
  out += Table(workloads, md);
  return out;
}

std::optional<std::string> FetchWorkloadsJson(const std::string& url, FetchTimeouts timeouts, std::string* error) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  // http://host:port[/...]
  std::string rest = url.rfind("http://", 0) == 0 ? url.substr(7) : url;
  rest = rest.substr(0, rest.find('/'));
  std::string host = rest, port = "80";
  if (!rest.empty() && rest.front() == '[') {
    host = rest.substr(1, rest.find(']') - 1);
    if (auto c = rest.find("]:"); c != std::string::npos) port = rest.substr(c + 2);
  } else if (auto c = rest.rfind(':'); c != std::string::npos) {
    host = rest.substr(0, c);
    port = rest.substr(c + 1);
  }
  const std::string where = "http://" + rest + "/api/v1/workloads";
  auto fail = [&](const std::string& what) -> std::optional<std::string> {
    *error = where + ": " + what;
    return std::nullopt;
  };

  asio::io_context io;
  beast::error_code ec;
  // Synchronous: getaddrinfo is bounded by the resolver's own timeouts, and Asio's asynchronous
  // resolve cannot cut it short either.
  const auto endpoints = asio::ip::tcp::resolver(io).resolve(host, port, ec);
  if (ec) return fail(ec.message());

  // One timer per phase on the stream: when it fires, the pending operation ends with `timeout`.
  beast::tcp_stream stream(io);
  stream.expires_after(timeouts.connect);
  stream.async_connect(endpoints, [&](beast::error_code e, const asio::ip::tcp::endpoint&) { ec = e; });
  io.run();
  if (ec == beast::error::timeout) return fail("cannot connect within " + FormatDuration(timeouts.connect));
  if (ec) return fail("cannot connect: " + ec.message());

  http::request<http::empty_body> request{http::verb::get, "/api/v1/workloads", 11};
  request.set(http::field::host, rest);
  request.set(http::field::user_agent, "workload_exporter report");
  request.keep_alive(false);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  // No limit: the document is ~600 bytes a workload with three windows, so 10,000 workloads with a
  // few more windows pass Beast's default limit of 8 MB.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  stream.expires_after(timeouts.read);
  http::async_write(stream, request, [&](beast::error_code e, std::size_t) {
    ec = e;
    if (!e) http::async_read(stream, buffer, parser, [&](beast::error_code e2, std::size_t) { ec = e2; });
  });
  io.restart();
  io.run();
  if (ec == beast::error::timeout) return fail("no answer within " + FormatDuration(timeouts.read));
  if (ec) return fail(ec.message());
  const auto& response = parser.get();
  if (response.result() != http::status::ok) {
    return fail("HTTP " + std::to_string(response.result_int()) + " " + std::string(response.reason()));
  }
  return std::move(parser.release().body());
}

int RunReport(const std::vector<std::string>& args) {
  constexpr const char* kUsage =
      "usage: workload_exporter report [--url http://host:port] [--format table|markdown|json] [--timeout 10s]\n";
  std::string url = "http://localhost:9746", format = "table";
  FetchTimeouts timeouts;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    }
    if (a == "--url") {
      url = value;
    } else if (a == "--format") {
      format = value;
    } else if (a == "--timeout") {
      const auto d = ParseDuration(value);
      if (!d || d->count() == 0) {
        std::fprintf(stderr, "workload_exporter report: --timeout must be a duration such as 10s, got \"%s\"\n",
                     value.c_str());
        return 2;
      }
      timeouts = {*d, *d};
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (format != "table" && format != "markdown" && format != "json") {
    std::fprintf(stderr, "workload_exporter report: --format must be table, markdown or json, got \"%s\"\n",
                 format.c_str());
    return 2;
  }
  std::string error;
  const auto body = FetchWorkloadsJson(url, timeouts, &error);
  if (!body) {
    std::fprintf(stderr, "workload_exporter report: %s\n", error.c_str());
    return 1;
  }
  auto text = RenderReport(*body, format, &error);
  if (!text) {
    std::fprintf(stderr, "workload_exporter report: %s\n", error.c_str());
    return 1;
  }
  std::fputs(text->c_str(), stdout);
  return 0;
}

}  // namespace we
