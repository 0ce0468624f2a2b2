#include "test_util/temp_tree.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace we::test_util {

namespace fs = std::filesystem;

TempTree::TempTree() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/we-tree-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    throw std::runtime_error(pattern + ": mkdtemp: " + std::strerror(errno));
  }
  root_ = buffer.data();
}

TempTree::~TempTree() {
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string TempTree::Path(const std::string& rel) const {
  if (rel.empty()) return root_;
  return rel.front() == '/' ? root_ + rel : root_ + "/" + rel;
}

void TempTree::Write(const std::string& rel, const std::string& content) const {
  const fs::path path = Path(rel);
  fs::create_directories(path.parent_path());
  const fs::path staging = path.string() + ".tmp-write";
  {
    std::ofstream out(staging, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) throw std::runtime_error(staging.string() + ": cannot write");
  }
  fs::rename(staging, path);
}

void TempTree::Overwrite(const std::string& rel, const std::string& content) const {
  const fs::path path = Path(rel);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out.flush()) throw std::runtime_error(path.string() + ": cannot overwrite");
}

void TempTree::MakeDir(const std::string& rel) const { fs::create_directories(Path(rel)); }

void TempTree::Remove(const std::string& rel) const {
  std::error_code ec;
  fs::remove_all(Path(rel), ec);
  if (ec) throw std::runtime_error(Path(rel) + ": remove: " + ec.message());
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace we::test_util
