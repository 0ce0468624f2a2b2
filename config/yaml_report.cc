#include "config/yaml_report.h"

#include <yaml-cpp/eventhandler.h>

#include <map>
#include <sstream>

namespace we::yaml_report {

std::string Quote(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const char c = text[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  if (text.size() > kMaxShown) out += "...";
  out += '"';
  return out;
}

int OneBased(int zero_based) { return zero_based >= 0 ? zero_based + 1 : 0; }

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "scalar " + Quote(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string JoinKeyPath(const std::string& parent, std::string_view name) {
  return parent.empty() ? std::string(name) : parent + "." + std::string(name);
}

void ForEachEntry(const YAML::Node& node, const std::string& parent, Reporter& reporter,
                  const std::function<void(const Entry&)>& visit) {
  std::map<std::string, YAML::Mark, std::less<>> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies (cheap handles): it-> returns a proxy that dies at the end of the expression.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      reporter.Add(key.Mark(), parent, "expected a string key, got " + Describe(key));
      continue;
    }
    std::string path = JoinKeyPath(parent, key.Scalar());
    const auto [first, inserted] = seen.emplace(key.Scalar(), key.Mark());
    if (!inserted) {
      reporter.Add(key.Mark(), path,
                   "duplicate key (first set at line " + std::to_string(OneBased(first->second.line)) + ", column " +
                       std::to_string(OneBased(first->second.column)) + ")");
      continue;
    }
    visit(Entry{key, value, std::move(path)});
  }
}

namespace {

// Where each document starts; the events themselves are not needed.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  std::vector<YAML::Mark> starts;
};

}  // namespace

Documents LoadAtMostTwoDocuments(const std::string& text) {
  Documents out;
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
  }
  if (counter.starts.empty()) return out;
  out.first = YAML::Load(text);
  if (counter.starts.size() > 1) out.second = counter.starts[1];
  return out;
}

}  // namespace we::yaml_report
