#pragma once
// The page at /: what a person looks at first. One self-contained HTML document (no external
// asset: the hosts these daemons run on often reach no internet), whose inline script reads
// /api/v1/workloads and /api/v1/workloads/series from the same origin, with the same TLS and
// credentials as the page, and draws:
//   * the comparison table of `workload_exporter report` (VM against container, per figure, of
//     the daemon's longest window), or one table per group, with a line per runtime beneath;
//   * per selected workload: idle and peak CPU and memory, and small SVG plots of the per-interval
//     CPU and memory the windows' ring holds (the last 5 minutes at the defaults).
// The URL chooses like the report's options do (README.md, "The page"):
//   ?select=EXPR (repeatable)  ?group_by=KEY  ?group_pattern=REGEX  ?compare=vm:A&compare=container:B
//   ?refresh=SECONDS (0: never; default 10)
// The script implements the report's grammar (tools/report_select.h, tools/report_model.h) in
// JavaScript: the report runs outside the daemon, and the page must not cost the daemon more than
// the documents it already builds. tests/e2e/page_browser_test.sh checks that the two agree.
// Names reach the document only through textContent and attributes set from script, never as
// markup, so a workload named <script> is text.
//
// The page is served with a Content-Security-Policy that allows only its own inline script and
// style (by their SHA-256) and fetches from its own origin: no external load, no other script.
//
// Thread-safety: pure functions over constants; any thread.

#include <string>
#include <string_view>

namespace we::serving {

// The document; `telemetry_path` (HTML-escaped here) is linked from its header.
std::string DashboardPage(std::string_view telemetry_path);

// The Content-Security-Policy header value that goes with DashboardPage.
const std::string& DashboardContentSecurityPolicy();

// The inline script and style, as they appear in the page (for the tests' hashes).
std::string_view DashboardScript();
std::string_view DashboardStyle();

// "sha256-<base64>" of `text`, as CSP names a hash source.
std::string CspHash(std::string_view text);

// Text with & < > " ' escaped for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace we::serving
