#include "tools/report.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "config/duration.h"
#include "tools/report_format.h"

namespace we {

const char* const kReportUsage =
    "usage: workload_exporter report [options]\n"
    "  --url URL               the daemon, http://host:port or https://host:port (default http://localhost:9746)\n"
    "  --prometheus URL        instead: Prometheus (http[s]://host:port[/path]), over --range\n"
    "  --range DURATION        with --prometheus: the range, e.g. 24h or 7d\n"
    "  --end TIME              with --prometheus: the range's end, RFC 3339 or Unix seconds (default now)\n"
    "  --format FORMAT         table (default), markdown, json or csv\n"
    "  --select EXPR           keep workloads whose label matches: key=value, key!=value (globs: name=web*),\n"
    "                          key=~regex, key!~regex; keys name, id, runtime, kind, image, namespace, pod,\n"
    "                          container, label_<x>; repeatable, all must hold\n"
    "  --group-by KEY          one row per value of the label KEY (e.g. label_app)\n"
    "  --group-pattern REGEX   with --group-by (default name): the group is REGEX's first capture group\n"
    "                          of the value, e.g. '(.*)-(vm|ctr)'\n"
    "  --compare vm:NAME container:NAME\n"
    "                          one row of that VM against that container (names or globs); repeatable\n"
    "  --ca-file FILE          https: the CA certificates (PEM) to verify the daemon with\n"
    "  --insecure              https: do not verify the certificate or its host name\n"
    "  --user NAME             basic auth, with --password-file FILE: the password is the file's text,\n"
    "  --password-file FILE    without one trailing newline (never a password on the command line)\n"
    "  --timeout DURATION      both timeouts below (default 10s each)\n"
    "  --connect-timeout DURATION, --read-timeout DURATION\n";

std::optional<std::string> RenderReport(const std::string& json, const ReportOptions& options, std::string* error) {
  if (!IsReportFormat(options.format)) {
    *error = "--format must be table, markdown, json or csv, got \"" + options.format + "\"";
    return std::nullopt;
  }
  auto model = BuildReportModel(json, options.selectors, options.grouping, error);
  if (!model) return std::nullopt;
  return FormatReport(*model, options.format);
}

std::optional<std::string> FetchWorkloadsJson(const std::string& url, const HttpGetOptions& options,
                                              std::string* error) {
  return HttpGet(url, "/api/v1/workloads", options, error);
}

std::optional<double> ParseReportTime(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789.") == std::string::npos) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (*end != '\0' || !std::isfinite(v)) return std::nullopt;
    return v;
  }
  // YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM); 't' and ' ' for 'T', 'z' for 'Z' as RFC 3339 allows.
  int year, month, day, hour, minute, second, used = 0;
  char sep;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &month, &day, &sep, &hour, &minute, &second,
                  &used) != 7 ||
      used != 19 || (sep != 'T' && sep != 't' && sep != ' ')) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::size_t at = 19;
  double fraction = 0;
  if (at < text.size() && text[at] == '.') {
    const std::size_t digits = text.find_first_not_of("0123456789", at + 1);
    if (digits == at + 1) return std::nullopt;
    fraction = std::strtod(text.substr(at, (digits == std::string::npos ? text.size() : digits) - at).c_str(), nullptr);
    at = digits == std::string::npos ? text.size() : digits;
  }
  const std::string zone = text.substr(at);
  int offset = 0;
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
             std::isdigit(static_cast<unsigned char>(zone[1])) && std::isdigit(static_cast<unsigned char>(zone[2])) &&
             std::isdigit(static_cast<unsigned char>(zone[4])) && std::isdigit(static_cast<unsigned char>(zone[5]))) {
    offset = (std::stoi(zone.substr(1, 2)) * 60 + std::stoi(zone.substr(4, 2))) * 60 * (zone[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<double>(timegm(&tm)) + fraction - offset;
}

namespace {

// The password file's text without one trailing newline ("\n" or "\r\n").
std::optional<std::string> ReadPasswordFile(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "--password-file " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string password = text.str();
  if (password.ends_with("\r\n")) {
    password.resize(password.size() - 2);
  } else if (password.ends_with('\n')) {
    password.pop_back();
  }
  return password;
}

}  // namespace

std::optional<ReportArgs> ParseReportArgs(const std::vector<std::string>& args, std::string* error) {
  ReportArgs out;
  auto fail = [&](const std::string& why) -> std::optional<ReportArgs> {
    *error = why;
    return std::nullopt;
  };
  std::string password_file, group_by, group_pattern;
  bool group_by_given = false, url_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], value;
    bool has_value = false;
    if (a.starts_with("--") && a.find('=') != std::string::npos) {
      const auto eq = a.find('=');
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    if (a == "--help" || a == "-h") {
      out.help = true;
      continue;
    }
    if (a == "--insecure") {
      if (has_value) return fail("--insecure takes no value");
      out.http.insecure = true;
      continue;
    }
    static const char* const kWithValue[] = {
        "--url",  "--format",        "--select",  "--group-by",        "--group-pattern", "--compare",    "--ca-file",
        "--user", "--password-file", "--timeout", "--connect-timeout", "--read-timeout",  "--prometheus", "--range",
        "--end"};
    if (std::find(std::begin(kWithValue), std::end(kWithValue), a) == std::end(kWithValue)) {
      return fail("unknown argument \"" + args[i] + "\"");
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return fail(a + " needs a value");
      value = args[++i];
    }
    auto duration = [&](std::chrono::milliseconds* to) -> bool {
      const auto d = ParseDuration(value);
      if (!d || d->count() == 0) {
        *error = a + " must be a duration such as 10s, got \"" + value + "\"";
        return false;
      }
      *to = *d;
      return true;
    };
    if (a == "--url") {
      out.url = value;
      url_given = true;
    } else if (a == "--prometheus") {
      out.from_prometheus = true;
      out.range.url = value;
    } else if (a == "--range") {
      const auto d = ParseDuration(value);
      if (!d || d->count() < 1000)
        return fail("--range must be a duration of at least 1s such as 24h, got \"" + value + "\"");
      out.range.range_seconds = std::chrono::duration<double>(*d).count();
      out.range.range_label = FormatDuration(*d);
    } else if (a == "--end") {
      const auto t = ParseReportTime(value);
      if (!t) return fail("--end must be RFC 3339 (2026-12-03T12:00:00Z) or Unix seconds, got \"" + value + "\"");
      out.range.end_seconds = *t;
      out.end_given = true;
    } else if (a == "--format") {
      if (!IsReportFormat(value)) return fail("--format must be table, markdown, json or csv, got \"" + value + "\"");
      out.report.format = value;
    } else if (a == "--select") {
      auto s = ParseSelector(value, error);
      if (!s) return std::nullopt;
      out.report.selectors.push_back(std::move(*s));
    } else if (a == "--group-by") {
      group_by = value;
      group_by_given = true;
    } else if (a == "--group-pattern") {
      group_pattern = value;
    } else if (a == "--compare") {
      if (i + 1 >= args.size()) return fail("--compare needs two values: vm:NAME container:NAME");
      auto pair = ParseComparePair(value, args[++i], error);
      if (!pair) return std::nullopt;
      out.report.grouping.pairs.push_back(std::move(*pair));
    } else if (a == "--ca-file") {
      out.http.ca_file = value;
    } else if (a == "--user") {
      out.http.user = value;
    } else if (a == "--password-file") {
      password_file = value;
    } else if (a == "--timeout") {
      if (!duration(&out.http.connect)) return std::nullopt;
      out.http.read = out.http.connect;
    } else if (a == "--connect-timeout") {
      if (!duration(&out.http.connect)) return std::nullopt;
    } else if (a == "--read-timeout") {
      if (!duration(&out.http.read)) return std::nullopt;
    }
  }
  if (out.help) return out;

  // Grouping: --compare, or --group-by [--group-pattern], not both.
  if (!group_pattern.empty() && !group_by_given) group_by = "name";
  if (!out.report.grouping.pairs.empty() && (group_by_given || !group_pattern.empty())) {
    return fail("--compare makes its own groups: it cannot be combined with --group-by or --group-pattern");
  }
  if (group_by_given) {
    std::string probe = group_by + "=x";
    if (!ParseSelector(probe, error))
      return fail("--group-by \"" + group_by + "\": a key is a label name ([A-Za-z0-9_]+)");
  }
  out.report.grouping.key = group_by;
  if (!group_pattern.empty()) {
    auto re = ParseGroupPattern(group_pattern, error);
    if (!re) return std::nullopt;
    out.report.grouping.pattern = std::move(*re);
    out.report.grouping.pattern_text = group_pattern;
  }

  // Where from: the daemon, or Prometheus over a range.
  if (out.from_prometheus) {
    if (url_given) return fail("--url and --prometheus exclude each other: the report reads one of them");
    if (out.range.range_seconds == 0) return fail("--prometheus needs --range, e.g. --range 24h");
  } else if (out.range.range_seconds != 0 || out.end_given) {
    return fail(std::string(out.end_given ? "--end" : "--range") + " is for --prometheus");
  }
  const std::string& server = out.from_prometheus ? out.range.url : out.url;
  const char* server_flag = out.from_prometheus ? "--prometheus" : "--url";

  // The client: TLS options only for https, both halves of basic auth or neither.
  auto url = ParseHttpUrl(server, error);
  if (!url) return fail(std::string(server_flag) + " " + *error);
  if (!url->tls && (!out.http.ca_file.empty() || out.http.insecure)) {
    return fail(std::string(out.http.insecure ? "--insecure" : "--ca-file") + " is for https URLs, and " + server_flag +
                " is " + server);
  }
  if (out.http.insecure && !out.http.ca_file.empty()) return fail("--insecure and --ca-file exclude each other");
  if (out.http.user.empty() != password_file.empty()) {
    return fail(out.http.user.empty() ? "--password-file needs --user"
                                      : "--user needs --password-file (a password is never given on the command line)");
  }
  if (!password_file.empty()) {
    auto password = ReadPasswordFile(password_file, error);
    if (!password) return std::nullopt;
    out.http.password = std::move(*password);
  }
  return out;
}

int RunReport(const std::vector<std::string>& args) {
  std::string error;
  auto parsed = ParseReportArgs(args, &error);
  if (!parsed) {
    std::fprintf(stderr, "workload_exporter report: %s\n(workload_exporter report --help lists the options)\n",
                 error.c_str());
    return 2;
  }
  if (parsed->help) {
    std::fputs(kReportUsage, stdout);
    return 0;
  }
  if (parsed->from_prometheus && !parsed->end_given) {
    parsed->range.end_seconds =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  const auto body = parsed->from_prometheus
                        ? FetchPrometheusWorkloadsJson(parsed->range, parsed->report.selectors, parsed->http, &error)
                        : FetchWorkloadsJson(parsed->url, parsed->http, &error);
  if (!body) {
    std::fprintf(stderr, "workload_exporter report: %s\n", error.c_str());
    return 1;
  }
  auto text = RenderReport(*body, parsed->report, &error);
  if (!text) {
    std::fprintf(stderr, "workload_exporter report: %s\n", error.c_str());
    return 1;
  }
  std::fputs(text->c_str(), stdout);
  return 0;
}

}  // namespace we
