// The report from Prometheus (tools/report_prometheus.h): the queries it sends, the answers it
// reads and the table they make. The answers are written by hand from Prometheus' HTTP API
// documentation (https://prometheus.io/docs/prometheus/latest/querying/api/: the instant-query
// envelope {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},
// "value":[<unix time>,"<value as a string>"]}]}}, and {"status":"error","errorType":"bad_data",
// "error":"..."} with HTTP 400 for a bad query, 422 for one that cannot be executed, 503 for a
// timeout), not captured from a server; tests/e2e/prometheus_e2e.sh runs the report against a real
// Prometheus that scraped the real daemon.

#include "tools/report_prometheus.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <thread>

#include "collectors/json.h"
#include "tools/report.h"
#include "tools/report_format.h"
#include "tools/report_model.h"

namespace we {
namespace {

namespace bj = json::bj;
constexpr double kMiB = 1 << 20;
constexpr double kEnd = 1764763200;  // 2025-12-03T12:00:00Z

PrometheusRange Range(double seconds, const std::string& label) {
  PrometheusRange r;
  r.url = "http://prom:9090";
  r.end_seconds = kEnd;
  r.range_seconds = seconds;
  r.range_label = label;
  return r;
}

std::string QueryOf(const std::vector<PromQuery>& qs, const std::string& key) {
  for (const auto& q : qs) {
    if (q.key == key) return q.promql;
  }
  return "(no " + key + ")";
}

TEST(PrometheusQueries, InstantQueriesOverTheRangeWithTheSelectorsEveryoneCarries) {
  std::string error;
  std::vector<Selector> sel;
  for (const char* s : {"instance=h1:9746", "kind!=service", "name=web*", "label_app=flask", "name=~db.*"}) {
    sel.push_back(*ParseSelector(s, &error));
  }
  const auto qs = PrometheusQueries(Range(86400, "1d"), sel);
  // Only the exact (in)equalities on labels every series has: not the glob, the regex, label_app.
  const std::string m = R"({instance="h1:9746",kind!="service"})";
  EXPECT_EQ(QueryOf(qs, "startup"), "last_over_time(workload_startup_seconds" + m + "[86400s])");
  EXPECT_EQ(QueryOf(qs, "cpu_idle"), "quantile_over_time(0.1, workload_cpu_usage_cores" + m + "[86400s])");
  EXPECT_EQ(QueryOf(qs, "cpu_p90"), "quantile_over_time(0.9, workload_cpu_usage_cores" + m + "[86400s])");
  EXPECT_EQ(QueryOf(qs, "cpu_p95"), "quantile_over_time(0.95, workload_cpu_usage_cores" + m + "[86400s])");
  EXPECT_EQ(QueryOf(qs, "cpu_peak"), "max_over_time(workload_cpu_peak_cores" + m + "[86400s])");
  EXPECT_EQ(QueryOf(qs, "memory_idle"), "quantile_over_time(0.1, workload_memory_working_set_bytes" + m +
                                            "[86400s]) or quantile_over_time(0.1, workload_memory_usage_bytes" + m +
                                            "[86400s])");
  EXPECT_EQ(QueryOf(qs, "memory_peak"), "max_over_time(workload_memory_peak_bytes" + m + "[86400s])");
  EXPECT_EQ(QueryOf(qs, "ready"), "last_over_time(workload_ready_seconds" + m + "[86400s])");
  EXPECT_EQ(QueryOf(qs, "probe_response"), "increase(workload_probe_duration_seconds_sum" + m +
                                               "[86400s]) / increase(workload_probe_duration_seconds_count" + m +
                                               "[86400s])");
  for (const auto& q : qs) EXPECT_EQ(q.time, kEnd) << q.key;  // one day: one daily peak, at the end

  // 36 hours: the day ending at --end and the 12 hours before it.
  const auto long_qs = PrometheusQueries(Range(36 * 3600, "1d12h"), {});
  std::vector<PromQuery> days;
  for (const auto& q : long_qs) {
    if (q.key.starts_with("memory_day_")) days.push_back(q);
  }
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].promql, "max_over_time(workload_memory_peak_bytes[86400s])");
  EXPECT_EQ(days[0].time, kEnd);
  EXPECT_EQ(days[1].promql, "max_over_time(workload_memory_peak_bytes[43200s])");
  EXPECT_EQ(days[1].time, kEnd - 86400);
}

TEST(PrometheusQueryTarget, BeneathTheBasePathPercentEncoded) {
  const PromQuery q{"x", R"(up{job="a b"})", kEnd};
  EXPECT_EQ(PrometheusQueryTarget("/", q), "/api/v1/query?query=up%7Bjob%3D%22a%20b%22%7D&time=1764763200.000");
  EXPECT_EQ(PrometheusQueryTarget("/prometheus/", q),
            "/prometheus/api/v1/query?query=up%7Bjob%3D%22a%20b%22%7D&time=1764763200.000");
}

const char* const kWhere = "http://prom:9090/api/v1/query";

TEST(ParsePrometheusAnswer, TheDocumentationsVector) {
  // The API documentation's example of an instant query, NaN and +Inf values added.
  const std::string body = R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"__name__":"up","job":"prometheus","instance":"localhost:9090"},"value":[1435781451.781,"1"]},
      {"metric":{"__name__":"up","job":"node","instance":"localhost:9100"},"value":[1435781451.781,"0"]},
      {"metric":{"job":"x"},"value":[1435781451.781,"NaN"]},
      {"metric":{"job":"y"},"value":[1435781451.781,"+Inf"]}]}})";
  std::string error;
  auto v = ParsePrometheusAnswer(200, "OK", body, kWhere, "up", &error);
  ASSERT_TRUE(v) << error;
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].labels,
            (std::map<std::string, std::string>{{"job", "prometheus"}, {"instance", "localhost:9090"}}));
  EXPECT_EQ((*v)[0].value, 1);
  EXPECT_EQ((*v)[1].value, 0);
}

TEST(ParsePrometheusAnswer, ErrorsNameTheUrlAndTheQuery) {
  std::string error;
  EXPECT_FALSE(ParsePrometheusAnswer(400, "Bad Request",
                                     R"({"status":"error","errorType":"bad_data",)"
                                     R"("error":"1:14: parse error: unexpected end of input"})",
                                     kWhere, "max_over_time(", &error));
  EXPECT_EQ(error,
            "http://prom:9090/api/v1/query: query `max_over_time(`: bad_data: 1:14: parse error: unexpected end of "
            "input (HTTP 400 Bad Request)");
  EXPECT_FALSE(ParsePrometheusAnswer(503, "Service Unavailable",
                                     R"({"status":"error","errorType":"timeout",)"
                                     R"("error":"query timed out in expression evaluation"})",
                                     kWhere, "q", &error));
  EXPECT_EQ(error,
            "http://prom:9090/api/v1/query: query `q`: timeout: query timed out in expression evaluation (HTTP 503 "
            "Service Unavailable)");
  // A proxy's page, not Prometheus' JSON.
  EXPECT_FALSE(ParsePrometheusAnswer(502, "Bad Gateway", "<html>bad gateway</html>", kWhere, "q", &error));
  EXPECT_EQ(error, "http://prom:9090/api/v1/query: query `q`: HTTP 502 Bad Gateway");
  EXPECT_FALSE(ParsePrometheusAnswer(401, "Unauthorized", "Unauthorized\n", kWhere, "q", &error));
  EXPECT_EQ(error,
            "http://prom:9090/api/v1/query: query `q`: HTTP 401 Unauthorized (check --user and --password-file)");
  EXPECT_FALSE(ParsePrometheusAnswer(200, "OK", "{", kWhere, "q", &error));
  EXPECT_TRUE(error.starts_with("http://prom:9090/api/v1/query: query `q`: the answer is not JSON (")) << error;
  // A range query's matrix where an instant vector was asked for.
  EXPECT_FALSE(ParsePrometheusAnswer(200, "OK", R"({"status":"success","data":{"resultType":"matrix","result":[]}})",
                                     kWhere, "q", &error));
  EXPECT_EQ(error, "http://prom:9090/api/v1/query: query `q`: expected an instant vector, got a matrix");
}

TEST(PeakWindow, TheLongest) {
  EXPECT_EQ(PeakWindow({"30s", "1h", "1m", "5m"}), "1h");
  EXPECT_EQ(PeakWindow({"10s", "bogus"}), "10s");
  EXPECT_EQ(PeakWindow({}), "");
}

// One answer per query of a one-day range, written as Prometheus would answer them: host h1 with
// a VM and a container, host h2 with the same container name (another workload).
std::vector<std::vector<PromSample>> Answers(const std::vector<PromQuery>& qs) {
  using L = std::map<std::string, std::string>;
  const L vm{{"instance", "h1:9746"}, {"job", "we"}, {"kind", "vm"},
             {"runtime", "libvirt"},  {"id", "u1"},  {"name", "app-vm"}};
  const L ctr{{"instance", "h1:9746"}, {"job", "we"}, {"kind", "container"},
              {"runtime", "docker"},   {"id", "c1"},  {"name", "app-ctr"}};
  L other = ctr;
  other["instance"] = "h2:9746";
  auto with = [](L l, const char* k, const char* v) {
    l[k] = v;
    return l;
  };
  std::vector<std::vector<PromSample>> out;
  for (const auto& q : qs) {
    std::vector<PromSample> a;
    if (q.key == "info") {
      a = {{with(vm, "cgroup", "/machine/x"), 1}, {with(ctr, "label_app", "app"), 1}, {other, 1}};
    } else if (q.key == "start") {
      a = {{vm, kEnd - 7200}, {ctr, kEnd - 3600}, {other, kEnd - 600}};
    } else if (q.key == "startup") {
      a = {{vm, 21.5}, {ctr, 1.25}};  // h2's was never timed
    } else if (q.key == "cpu_last") {
      a = {{vm, 0.05}, {ctr, 0.001}, {other, 0.002}};
    } else if (q.key == "cpu_count" || q.key == "memory_count") {
      a = {{vm, 5760}, {ctr, 240}, {other, 40}};
    } else if (q.key == "cpu_idle") {
      a = {{vm, 0.04}, {ctr, 0.0}, {other, 0.0}};
    } else if (q.key == "cpu_p90") {
      a = {{vm, 0.2}, {ctr, 0.01}, {other, 0.01}};
    } else if (q.key == "cpu_p95") {
      a = {{vm, 0.3}, {ctr, 0.05}, {other, 0.02}};
    } else if (q.key == "cpu_peak") {
      // Every window's peak: the longest one the workload has is read (PeakWindow).
      a = {{with(vm, "window", "30s"), 0.5}, {with(vm, "window", "1m"), 1.5},  {with(vm, "window", "1h"), 1.7},
           {with(ctr, "window", "1m"), 0.8}, {with(ctr, "window", "1h"), 0.9}, {with(other, "window", "1m"), 0.1}};
    } else if (q.key == "memory_last") {
      a = {{vm, 600 * kMiB}, {ctr, 60 * kMiB}, {other, 10 * kMiB}};
    } else if (q.key == "memory_idle") {
      a = {{vm, 512 * kMiB}, {ctr, 48 * kMiB}, {other, 8 * kMiB}};
    } else if (q.key == "listen") {
      a = {{ctr, 2.25}};
    } else if (q.key == "ready") {
      a = {{vm, 31.5}, {ctr, 3.5}};
    } else if (q.key == "probe_success") {
      a = {{vm, 1}, {ctr, 1}};  // h2's has no probe
    } else if (q.key == "probe_responses") {
      a = {{vm, 5760}, {ctr, 240}};
    } else if (q.key == "probe_response") {
      a = {{vm, 0.0125}, {ctr, 0.002}};
    } else if (q.key == "memory_peak" || q.key.starts_with("memory_day_")) {
      a = {{with(vm, "window", "1m"), 1024 * kMiB},
           {with(vm, "window", "1h"), 1100 * kMiB},
           {with(ctr, "window", "1m"), 256 * kMiB},
           {with(other, "window", "1m"), 12 * kMiB}};
    }
    out.push_back(std::move(a));
  }
  return out;
}

TEST(PrometheusWorkloadsJson, TheSameTableAsFromTheDaemon) {
  const PrometheusRange r = Range(86400, "1d");
  const auto qs = PrometheusQueries(r, {});
  const std::string doc = PrometheusWorkloadsJson(r, qs, Answers(qs));
  std::string error;
  std::vector<Selector> sel{*ParseSelector("instance=h1:9746", &error)};
  auto m = BuildReportModel(doc, sel, {}, &error);
  ASSERT_TRUE(m) << error << doc;
  EXPECT_EQ(m->window, "1d");
  EXPECT_EQ(m->total, 3u);
  ASSERT_EQ(m->workloads.size(), 2u);  // h1's, sorted by (instance, job, kind, ...): container first
  const WorkloadLine& ctr = m->workloads[0];
  const WorkloadLine& vm = m->workloads[1];
  ASSERT_EQ(vm.name, "app-vm");
  EXPECT_EQ(vm.age_seconds, 7200);
  EXPECT_EQ(vm.samples, 5760);
  EXPECT_EQ(vm.figures[0], 21.5);             // startup: the last recorded
  EXPECT_EQ(vm.figures[1], 512);              // idle memory (MiB)
  EXPECT_EQ(vm.figures[2], 1100);             // peak memory of the 1h window
  EXPECT_EQ(vm.figures[3], 0.04);             // idle CPU
  EXPECT_EQ(vm.figures[4], 1.7);              // peak CPU of the 1h window
  EXPECT_EQ(*vm.figures[8], 0.23);            // VPA CPU: 0.2 * 115 / 100
  EXPECT_NEAR(*vm.figures[9], 1265, 1e-9);    // VPA memory: the one day's peak 1100 * 1.15
  EXPECT_EQ(vm.figures[10], 0.3);             // krr CPU: p95
  EXPECT_NEAR(*vm.figures[11], 1265, 1e-9);   // krr memory: peak 1100 * 1.15
  EXPECT_EQ(ctr.figures[8], 0.025);           // 0.0115 under VPA's floor
  EXPECT_EQ(ctr.figures[2], 256);             // its only memory peak window, 1m
  EXPECT_NEAR(*ctr.figures[9], 294.4, 1e-9);  // 256 * 1.15, over the 250 MiB floor
  EXPECT_EQ(ctr.figures[10], 0.05);
  EXPECT_EQ(ctr.figures[5], 2.25);  // startup to listening: the last recorded
  EXPECT_FALSE(vm.figures[5]);      // a VM's sockets are its guest's
  EXPECT_EQ(vm.figures[6], 31.5);   // startup to first response
  EXPECT_EQ(ctr.figures[6], 3.5);
  EXPECT_EQ(vm.figures[7], 12.5);  // response time (ms): the range's mean
  EXPECT_EQ(ctr.figures[7], 2);

  // Every host: h2's container has no startup, and says why; instance and job are labels.
  auto all = BuildReportModel(doc, {}, {}, &error);
  ASSERT_TRUE(all) << error;
  ASSERT_EQ(all->workloads.size(), 3u);
  const WorkloadLine& h2 = all->workloads[2];
  EXPECT_EQ(h2.name, "app-ctr");
  EXPECT_FALSE(h2.figures[0]);
  EXPECT_TRUE(h2.missing[0].starts_with("no workload_startup_seconds in the range")) << h2.missing[0];
  EXPECT_EQ(h2.missing[10], "krr needs 100 data points, the window holds 40");
  EXPECT_EQ(h2.missing[6], "no ready probe configured for it (probes: in the daemon's config)");
  Grouping by_app{.key = "label_app"};
  auto grouped = BuildReportModel(doc, {}, by_app, &error);
  ASSERT_TRUE(grouped) << error;
  ASSERT_EQ(grouped->groups.size(), 1u);  // only h1's container has label_app (from workload_info)
  EXPECT_EQ(grouped->groups[0].name, "app");

  // Every format says where the figures are from.
  const std::string text = FormatReport(*m, "table");
  EXPECT_NE(text.find("VM vs container (range 1d, mean per kind)"), std::string::npos) << text;
  EXPECT_NE(text.find("Figures are Prometheus http://prom:9090, the 1d ending 2025-12-03T12:00:00Z"), std::string::npos)
      << text;
  auto parsed = json::Parse(FormatReport(*m, "json"), &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_TRUE(json::String(json::Find(*parsed, {"source"}))->starts_with("Prometheus http://prom:9090"));
  EXPECT_NEAR(json::Number(json::Find(parsed->at("workloads").at(1), {"vpa_cpu_request_cores"})).value_or(0), 0.23,
              1e-12);
}

// A real HTTP server: every connection is read up to the end of its request header and answered
// with what `answer` makes of the request line, then closed.
class FakePrometheus {
 public:
  explicit FakePrometheus(std::function<std::string(const std::string&)> answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (int c; (c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
        std::string request;
        char buf[4096];
        for (ssize_t n; request.find("\r\n\r\n") == std::string::npos && (n = ::read(c, buf, sizeof buf)) > 0;) {
          request.append(buf, static_cast<std::size_t>(n));
        }
        const std::string response = answer_(request.substr(0, request.find("\r\n")));
        if (::write(c, response.data(), response.size()) < 0) ADD_FAILURE() << "write failed";
        ::close(c);
      }
    });
  }
  ~FakePrometheus() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::function<std::string(const std::string&)> answer_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

std::string Response(int status, const char* reason, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

TEST(FetchPrometheusWorkloadsJson, EveryQueryThroughTheClientAndAnErrorNamed) {
  std::vector<std::string> seen;
  std::mutex mu;
  FakePrometheus prom([&](const std::string& line) {
    std::lock_guard lock(mu);
    seen.push_back(line);
    // The startup query is refused as Prometheus refuses a query it cannot run; the others have
    // an empty vector.
    if (line.find("workload_startup_seconds") != std::string::npos) {
      return Response(422, "Unprocessable Entity",
                      R"({"status":"error","errorType":"execution","error":"expanding series: too many"})");
    }
    return Response(200, "OK", R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  });
  PrometheusRange r = Range(3600, "1h");
  r.url = prom.url() + "/base/";
  std::string error;
  EXPECT_FALSE(FetchPrometheusWorkloadsJson(r, {}, {}, &error));
  EXPECT_EQ(error, prom.url() +
                       "/base/api/v1/query: query `last_over_time(workload_startup_seconds[3600s])`: execution: "
                       "expanding series: too many (HTTP 422 Unprocessable Entity)");
  ASSERT_EQ(seen.size(), 3u);  // info, start, then startup
  EXPECT_TRUE(seen[0].starts_with("GET /base/api/v1/query?query=last_over_time%28workload_info%5B3600s%5D%29&time="))
      << seen[0];

  // Nobody listening: the URL and the query, readable.
  PrometheusRange nobody = Range(3600, "1h");
  nobody.url = "http://127.0.0.1:1";
  EXPECT_FALSE(FetchPrometheusWorkloadsJson(nobody, {}, {}, &error));
  EXPECT_TRUE(
      error.starts_with("http://127.0.0.1:1/api/v1/query: query `last_over_time(workload_info[3600s])`: "
                        "cannot connect: "))
      << error;
}

TEST(FetchPrometheusWorkloadsJson, EmptyAnswersMakeAnEmptyReport) {
  FakePrometheus prom([](const std::string&) {
    return Response(200, "OK", R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  });
  PrometheusRange r = Range(3600, "1h");
  r.url = prom.url();
  std::string error;
  auto doc = FetchPrometheusWorkloadsJson(r, {}, {}, &error);
  ASSERT_TRUE(doc) << error;
  auto m = BuildReportModel(*doc, {}, {}, &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->total, 0u);
  EXPECT_EQ(m->window, "1h");
}

TEST(ParseReportArgs, PrometheusRangeAndEnd) {
  std::string error;
  auto a = ParseReportArgs({"--prometheus", "https://prom:9090", "--range=7d", "--end", "2025-12-03T13:00:00+01:00",
                            "--insecure", "--select", "instance=h1:9746"},
                           &error);
  ASSERT_TRUE(a) << error;
  EXPECT_TRUE(a->from_prometheus);
  EXPECT_EQ(a->range.url, "https://prom:9090");
  EXPECT_EQ(a->range.range_seconds, 7 * 86400);
  EXPECT_EQ(a->range.range_label, "1w");  // FormatDuration's shortest form
  EXPECT_EQ(a->range.end_seconds, kEnd);
  EXPECT_TRUE(a->http.insecure);

  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--prometheus", "http://p:9090"}, "--prometheus needs --range, e.g. --range 24h"},
      {{"--range", "1h"}, "--range is for --prometheus"},
      {{"--end", "1764763200"}, "--end is for --prometheus"},
      {{"--prometheus", "http://p", "--range", "soon"},
       "--range must be a duration of at least 1s such as 24h, got \"soon\""},
      {{"--prometheus", "http://p", "--range", "1h", "--end", "yesterday"},
       "--end must be RFC 3339 (2026-12-03T12:00:00Z) or Unix seconds, got \"yesterday\""},
      {{"--prometheus", "http://p", "--range", "1h", "--url", "http://d"},
       "--url and --prometheus exclude each other: the report reads one of them"},
      {{"--prometheus", "http://p", "--range", "1h", "--ca-file", "ca.pem"},
       "--ca-file is for https URLs, and --prometheus is http://p"},
  };
  for (const auto& [args, message] : cases) {
    EXPECT_FALSE(ParseReportArgs(args, &error)) << message;
    EXPECT_EQ(error, message);
  }
}

TEST(ParseReportTime, Rfc3339AndUnixSeconds) {
  EXPECT_EQ(ParseReportTime("2025-12-03T12:00:00Z"), kEnd);
  EXPECT_EQ(ParseReportTime("2025-12-03t12:00:00.5z"), kEnd + 0.5);
  EXPECT_EQ(ParseReportTime("2025-12-03T07:30:00-04:30"), kEnd);
  EXPECT_EQ(ParseReportTime("1764763200"), kEnd);
  EXPECT_EQ(ParseReportTime("1764763200.25"), kEnd + 0.25);
  for (const char* bad : {"", "2025-12-03", "2025-12-03T12:00:00", "2025-13-03T12:00:00Z", "12:00", "1e9"}) {
    EXPECT_FALSE(ParseReportTime(bad)) << bad;
  }
}

}  // namespace
}  // namespace we
