#pragma once
// The report model (report_model.h) as text: a terminal table, a Markdown table, JSON or CSV.
// Every format carries the same facts: per group and kind each figure's mean, how many workloads
// it is the mean of and how many were in the cell, why the others have none, the window and how
// much of it each workload covers, and how many samples the window held (when the daemon says).
//
//   table     aligned columns for a terminal; control characters in names shown as \xNN
//   markdown  GitHub tables; '|' and '\' in cells escaped, so every row has the header's cells
//   json      one object through Boost.JSON (any name stays valid JSON):
//             {"source", "window", "time", "total", "selected", "selectors", "grouping", "ungrouped",
//              "kinds": {"<figure>": {"vm": n|null, "container": n|null}},  (every selected workload)
//              "groups": [{"group", "figures": {"<figure>": {"vm": {"mean", "workloads",
//                          "with_figure", "samples_min", "samples_max", "missing": {"<why>": n}},
//                          "container": {...},
//                          "difference": fraction|null}}}],
//              "runtimes": [{"kind", "runtime", "figures": {"<figure>": {"mean", ...}}}],
//              "workloads": [{"kind", "runtime", "id", "name", "groups", "age_seconds",
//                             "covered_seconds", "samples", "<figure>": n|null,
//                             "missing": {"<figure>": why}}]}
//             Figures are in the table's units (MiB for memory, cores, seconds); the sizing
//             figures (report_sizing.h) are figures like the others: vpa_cpu_request_cores,
//             vpa_memory_request_bytes, krr_cpu_request_cores, krr_memory_bytes.
//   csv       RFC 4180 (CRLF, fields quoted where needed), one row per figure of each cell:
//             section,group,kind,runtime,name,figure,value,with_figure,workloads,window,
//             samples_min,samples_max,missing
//             section is "group", "runtime" or "workload".
//
// Thread-safety: every function is pure.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/report_model.h"

namespace we {

// True for the four names above.
bool IsReportFormat(std::string_view format);

// `format` must satisfy IsReportFormat.
std::string FormatReport(const ReportModel& model, std::string_view format);

// One CSV field as RFC 4180 wants it: quoted when it holds a comma, a quote, CR or LF, with
// quotes doubled.
std::string CsvField(std::string_view text);

// One Markdown table cell's text: '\' and '|' escaped, line breaks and other control characters
// as \xNN, so that the cell stays on its row.
std::string MarkdownCell(std::string_view text);

}  // namespace we
