#include "collectors/parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace we {

std::string_view Trim(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> SplitNonEmpty(std::string_view text, char delimiter) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(delimiter, start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::optional<uint64_t> ParseU64(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> ParseI64(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<MaxOrValue> ParseMaxOrU64(std::string_view text, std::string* error) {
  std::string_view t = Trim(text);
  if (t == "max") return MaxOrValue{};
  if (auto v = ParseU64(t)) return MaxOrValue{*v};
  *error = "expected an unsigned integer or \"max\", got \"" + std::string(t.substr(0, 64)) + "\"";
  return std::nullopt;
}

std::optional<uint64_t> FlatKeyed::Get(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return v;
  }
  return std::nullopt;
}

namespace {

// Walks "key value" lines as ParseFlatKeyed defines them (line numbers count non-empty lines),
// calling visit(key, value) for each; false with *error at the first malformed line.
template <typename Visit>
bool ScanFlatKeyed(std::string_view text, std::string* error, Visit visit) {
  PieceReader lines(text, '\n');
  int line_number = 0;
  for (std::string_view line; lines.Next(&line);) {
    ++line_number;
    line = Trim(line);
    if (line.empty()) continue;
    // find_first_of(" \t") would call memchr once per character of the key (a third of a
    // tick's user time went there): look at each character once instead.
    size_t space = 0;
    while (space < line.size() && line[space] != ' ' && line[space] != '\t') ++space;
    if (space == line.size()) space = std::string_view::npos;
    std::optional<uint64_t> value;
    if (space != std::string_view::npos) value = ParseU64(line.substr(space + 1));
    if (!value) {
      *error = "line " + std::to_string(line_number) + ": expected \"key <unsigned integer>\", got \"" +
               std::string(line.substr(0, 80)) + "\"";
      return false;
    }
    visit(line.substr(0, space), *value);
  }
  return true;
}

}  // namespace

std::optional<FlatKeyed> ParseFlatKeyed(std::string_view text, std::string* error) {
  FlatKeyed result;
  if (!ScanFlatKeyed(text, error, [&](std::string_view key, uint64_t value) { result.Add(std::string(key), value); })) {
    return std::nullopt;
  }
  return result;
}

bool ParseFlatKeyedPick(std::string_view text, std::span<const std::string_view> keys,
                        std::span<std::optional<uint64_t>> out, std::string* error) {
  for (auto& v : out) v.reset();
  return ScanFlatKeyed(text, error, [&](std::string_view key, uint64_t value) {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!out[i] && key == keys[i]) {
        out[i] = value;
        return;
      }
    }
  });
}

std::optional<std::optional<double>> ParseCpuMax(std::string_view text, std::string* error) {
  PieceReader reader(Trim(text), ' ');
  std::string_view fields[2], extra;
  const bool two = reader.Next(&fields[0]) && reader.Next(&fields[1]) && !reader.Next(&extra);
  if (!two) {
    *error = "expected \"<quota|max> <period>\", got \"" + std::string(Trim(text).substr(0, 64)) + "\"";
    return std::nullopt;
  }
  auto period = ParseU64(fields[1]);
  if (!period || *period == 0) {
    *error = "invalid period \"" + std::string(fields[1]) + "\"";
    return std::nullopt;
  }
  if (fields[0] == "max") return std::optional<double>{};
  auto quota = ParseU64(fields[0]);
  if (!quota) {
    *error = "invalid quota \"" + std::string(fields[0]) + "\"";
    return std::nullopt;
  }
  return std::optional<double>{static_cast<double>(*quota) / static_cast<double>(*period)};
}

std::optional<PressureFigures> ParsePressure(std::string_view text, std::string* error) {
  PressureFigures result;
  PieceReader lines(text, '\n');
  int line_number = 0;
  for (std::string_view line; lines.Next(&line);) {
    ++line_number;
    PieceReader fields(Trim(line), ' ');
    std::string_view kind;
    if (!fields.Next(&kind)) continue;
    std::optional<uint64_t> total_usec;
    for (std::string_view field; fields.Next(&field);) {
      if (field.substr(0, 6) == "total=") total_usec = ParseU64(field.substr(6));
    }
    const bool known = kind == "some" || kind == "full";
    if (!known || !total_usec) {
      *error = "line " + std::to_string(line_number) +
               ": expected \"some|full avg10=.. avg60=.. avg300=.. total=<usec>\", got \"" +
               std::string(Trim(line).substr(0, 80)) + "\"";
      return std::nullopt;
    }
    const double seconds = static_cast<double>(*total_usec) / 1e6;
    (kind == "some" ? result.some_seconds : result.full_seconds) = seconds;
  }
  return result;
}

std::optional<std::vector<ProcCgroupEntry>> ParseProcCgroup(std::string_view text, std::string* error) {
  std::vector<ProcCgroupEntry> entries;
  int line_number = 0;
  for (std::string_view line : SplitNonEmpty(text, '\n')) {
    ++line_number;
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    int id = -1;
    if (second != std::string_view::npos) {
      auto v = ParseU64(line.substr(0, first));
      if (v && *v < 1u << 16) id = static_cast<int>(*v);
    }
    if (id < 0 || line.substr(second + 1).empty() || line[second + 1] != '/') {
      *error = "line " + std::to_string(line_number) + ": expected \"id:controllers:/path\", got \"" +
               std::string(line.substr(0, 80)) + "\"";
      return std::nullopt;
    }
    ProcCgroupEntry entry;
    entry.hierarchy_id = id;
    for (auto c : SplitNonEmpty(line.substr(first + 1, second - first - 1), ',')) {
      entry.controllers.emplace_back(c);
    }
    entry.path = std::string(line.substr(second + 1));
    entries.push_back(std::move(entry));
  }
  return entries;
}

uint64_t CountNonEmptyLines(std::string_view text) {
  uint64_t count = 0;
  PieceReader lines(text, '\n');
  for (std::string_view line; lines.Next(&line);) {
    if (!Trim(line).empty()) ++count;
  }
  return count;
}

}  // namespace we

namespace we {

std::optional<IoFigures> ParseIoStat(std::string_view text, std::string* error) {
  IoFigures io{.read_bytes = 0, .write_bytes = 0, .reads = 0, .writes = 0};
  int line_no = 0;
  PieceReader lines(text, '\n');
  for (std::string_view line; lines.Next(&line);) {
    ++line_no;
    PieceReader fields(line, ' ');
    std::string_view device;
    if (!fields.Next(&device) || device.find(':') == std::string_view::npos) {
      *error = "line " + std::to_string(line_no) + ": expected \"MAJ:MIN key=value ...\", got \"" +
               std::string(line.substr(0, 64)) + "\"";
      return std::nullopt;
    }
    for (std::string_view field; fields.Next(&field);) {
      const std::size_t eq = field.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string_view key = field.substr(0, eq);
      std::optional<uint64_t>* into = key == "rbytes"   ? &io.read_bytes
                                      : key == "wbytes" ? &io.write_bytes
                                      : key == "rios"   ? &io.reads
                                      : key == "wios"   ? &io.writes
                                                        : nullptr;
      if (into == nullptr) continue;
      auto v = ParseU64(field.substr(eq + 1));
      if (!v) {
        *error = "line " + std::to_string(line_no) + ": " + std::string(key) + " is not a number";
        return std::nullopt;
      }
      *into = into->value_or(0) + *v;
    }
  }
  return io;
}

std::optional<std::pair<uint64_t, uint64_t>> ParseBlkioThrottle(std::string_view text, std::string* error) {
  uint64_t read = 0, write = 0;
  int line_no = 0;
  for (std::string_view line : SplitNonEmpty(text, '\n')) {
    ++line_no;
    auto fields = SplitNonEmpty(line, ' ');
    if (fields.size() == 2 && fields[0] == "Total") continue;
    if (fields.size() != 3) {
      *error = "line " + std::to_string(line_no) + ": expected \"MAJ:MIN Op N\", got \"" +
               std::string(line.substr(0, 64)) + "\"";
      return std::nullopt;
    }
    auto v = ParseU64(fields[2]);
    if (!v) {
      *error = "line " + std::to_string(line_no) + ": \"" + std::string(fields[2]) + "\" is not a number";
      return std::nullopt;
    }
    if (fields[1] == "Read") read += *v;
    if (fields[1] == "Write") write += *v;
  }
  return std::make_pair(read, write);
}

std::optional<NetworkFigures> ParseNetDev(std::string_view text, std::string* error) {
  NetworkFigures net{0, 0, 0, 0, 0, 0};
  int line_no = 0;
  for (std::string_view line : SplitNonEmpty(text, '\n')) {
    ++line_no;
    const std::size_t colon = line.find(':');
    if (line_no <= 2 && line.find('|') != std::string_view::npos) continue;  // the two header lines
    if (colon == std::string_view::npos) {
      *error = "line " + std::to_string(line_no) + ": expected \"interface: counters\"";
      return std::nullopt;
    }
    if (Trim(line.substr(0, colon)) == "lo") continue;
    auto fields = SplitNonEmpty(line.substr(colon + 1), ' ');
    if (fields.size() < 16) {
      *error = "line " + std::to_string(line_no) + ": expected 16 counters, got " + std::to_string(fields.size());
      return std::nullopt;
    }
    std::optional<uint64_t> v[16];
    for (int i = 0; i < 16; ++i) {
      v[i] = ParseU64(fields[static_cast<std::size_t>(i)]);
      if (!v[i]) {
        *error = "line " + std::to_string(line_no) + ": counter " + std::to_string(i + 1) + " is not a number";
        return std::nullopt;
      }
    }
    *net.receive_bytes += *v[0];
    *net.receive_packets += *v[1];
    *net.receive_errors += *v[2];
    *net.transmit_bytes += *v[8];
    *net.transmit_packets += *v[9];
    *net.transmit_errors += *v[10];
  }
  return net;
}

std::optional<TcpListeners> ParseTcpListeners(std::string_view text, std::string* error) {
  TcpListeners out;
  int line_no = 0;
  PieceReader lines(text, '\n');
  std::string_view line;
  while (lines.Next(&line)) {
    ++line_no;
    if (Trim(line).empty()) continue;
    if (line_no == 1 && line.find("local_address") != std::string_view::npos) continue;  // the header
    // Columns: sl, local, remote, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode.
    PieceReader fields(line, ' ');
    std::string_view f[10];
    int n = 0;
    while (n < 10 && fields.Next(&f[n])) ++n;
    if (n < 10 || f[0].empty() || f[0].back() != ':' || f[1].find(':') == std::string_view::npos) {
      *error = "line " + std::to_string(line_no) + ": expected \"sl local rem st ... inode\"";
      return std::nullopt;
    }
    if (f[3].size() != 2 || !std::isxdigit(static_cast<unsigned char>(f[3][0])) ||
        !std::isxdigit(static_cast<unsigned char>(f[3][1]))) {
      *error = "line " + std::to_string(line_no) + ": state " + std::string(f[3]) + " is not a hex byte";
      return std::nullopt;
    }
    const std::optional<uint64_t> inode = ParseU64(f[9]);
    if (!inode) {
      *error = "line " + std::to_string(line_no) + ": inode " + std::string(f[9]) + " is not a number";
      return std::nullopt;
    }
    if (f[3] == "0A" || f[3] == "0a") out.inodes.push_back(*inode);  // TCP_LISTEN
  }
  return out;
}

std::optional<uint32_t> ParseIpv4(std::string_view text) {
  uint32_t address = 0;
  for (int part = 0; part < 4; ++part) {
    const std::size_t end = text.find('.');
    // Exactly four pieces: a dot after each of the first three, none after the last.
    if ((part < 3) == (end == std::string_view::npos)) return std::nullopt;
    const std::string_view piece = text.substr(0, end);
    if (piece.empty() || piece.size() > 3) return std::nullopt;
    uint32_t v = 0;
    for (char c : piece) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<uint32_t>(c - '0');
    }
    if (v > 255) return std::nullopt;
    address = (address << 8) | v;
    if (end != std::string_view::npos) text.remove_prefix(end + 1);
  }
  return address;
}

std::string FormatIpv4(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." + std::to_string((a >> 8) & 0xff) +
         "." + std::to_string(a & 0xff);
}

std::vector<uint32_t> ParseFibTrieLocalAddresses(std::string_view text) {
  // A leaf is "|-- a.b.c.d" followed by one line per prefix: "/32 host LOCAL" marks an address
  // of the namespace itself (the other leaves are networks, broadcasts and routes).
  std::vector<uint32_t> out;
  // The current leaf's address, when it is one (a plain pair: GCC 12 takes an optional here for
  // maybe-uninitialized).
  bool have_leaf = false;
  uint32_t leaf = 0;
  PieceReader lines(text, '\n');
  std::string_view line;
  while (lines.Next(&line)) {
    const std::string_view t = Trim(line);
    if (t.starts_with("|-- ")) {
      const std::optional<uint32_t> a = ParseIpv4(Trim(t.substr(4)));
      have_leaf = a.has_value();
      leaf = a.value_or(0);
    } else if (t.starts_with("+-- ") || t.ends_with(":")) {
      have_leaf = false;
    } else if (have_leaf && t.starts_with("/32 ") && t.find(" host ") != std::string_view::npos &&
               t.ends_with("LOCAL")) {
      out.push_back(leaf);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string FirstNonLoopbackIpv4(std::string_view fib_trie) {
  for (uint32_t a : ParseFibTrieLocalAddresses(fib_trie)) {
    if ((a >> 24) != 127) return FormatIpv4(a);
  }
  return "";
}

std::optional<ProcPidStat> ParseProcPidStat(std::string_view text, std::string* error) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    *error = "expected \"pid (comm) state ...\"";
    return std::nullopt;
  }
  ProcPidStat st;
  st.comm = std::string(text.substr(open + 1, close - open - 1));
  // Fields after ')' start with field 3 (state).
  auto fields = SplitNonEmpty(Trim(text.substr(close + 1)), ' ');
  if (fields.size() < 22) {
    *error = "expected at least 24 fields, got " + std::to_string(fields.size() + 2);
    return std::nullopt;
  }
  st.state = fields[0].empty() ? '?' : fields[0][0];
  auto field = [&](int n) { return ParseU64(fields[static_cast<size_t>(n - 3)]); };
  auto utime = field(14), stime = field(15), start = field(22), vsize = field(23), rss = field(24);
  if (!utime || !stime || !start || !vsize || !rss) {
    *error = "a numeric field (utime, stime, starttime, vsize or rss) is not a number";
    return std::nullopt;
  }
  st.utime_ticks = *utime;
  st.stime_ticks = *stime;
  st.starttime_ticks = *start;
  st.vsize_bytes = *vsize;
  st.rss_pages = *rss;
  return st;
}

std::optional<uint64_t> ParseBootTime(std::string_view proc_stat, std::string* error) {
  for (std::string_view line : SplitNonEmpty(proc_stat, '\n')) {
    if (line.substr(0, 6) == "btime ") {
      if (auto v = ParseU64(line.substr(6))) return v;
      *error = "invalid btime line \"" + std::string(line.substr(0, 64)) + "\"";
      return std::nullopt;
    }
  }
  *error = "no btime line";
  return std::nullopt;
}

double PreciseBootTime(uint64_t btime, std::optional<double> clock_boot_time) {
  const double whole = static_cast<double>(btime);
  // A little slack either side: the two clocks are read a few hundred nanoseconds apart.
  if (clock_boot_time && *clock_boot_time > whole - 0.01 && *clock_boot_time < whole + 1.01) return *clock_boot_time;
  return whole;
}

std::optional<std::optional<uint64_t>> ParseMaxOpenFiles(std::string_view limits, std::string* error) {
  for (std::string_view line : SplitNonEmpty(limits, '\n')) {
    if (line.substr(0, 14) != "Max open files") continue;
    auto fields = SplitNonEmpty(line.substr(14), ' ');
    if (fields.empty()) break;
    if (fields[0] == "unlimited") return std::optional<uint64_t>{};
    if (auto v = ParseU64(fields[0])) return std::optional<uint64_t>{*v};
    break;
  }
  *error = "no valid \"Max open files\" line";
  return std::nullopt;
}

}  // namespace we
