#pragma once
// ForwardingFileSystem: the base of the fault-injecting and counting FileSystem wrappers tests
// build (collectors/file_system.h: "tests inject faults by wrapping a FileSystem"). It forwards
// the four primitive calls to `inner`; a wrapper overrides the ones it changes. The other methods
// keep FileSystem's defaults, which go through these primitives, so that what a wrapper injects
// reaches every read (Open, CountEntries, OpenResettableWatermark included).
//
// Thread-safety: as `inner`, which must outlive the wrapper.

#include "collectors/file_system.h"

namespace we::test_util {

class ForwardingFileSystem : public FileSystem {
 public:
  explicit ForwardingFileSystem(const FileSystem& inner) : inner_(inner) {}
  ReadResult ReadFile(const std::string& p) const override { return inner_.ReadFile(p); }
  std::optional<std::vector<DirEntry>> ListDir(const std::string& p) const override { return inner_.ListDir(p); }
  std::optional<FileStat> Stat(const std::string& p) const override { return inner_.Stat(p); }
  std::optional<std::string> ReadLink(const std::string& p) const override { return inner_.ReadLink(p); }

 protected:
  const FileSystem& inner() const { return inner_; }

 private:
  const FileSystem& inner_;
};

}  // namespace we::test_util
