#pragma once
// TempTree: a directory under $TMPDIR (or /tmp) that a test fills with files written from code,
// removed with everything in it when the TempTree goes away. The second kind of fixture tree
// (the first is checked in under tests/fixtures/).
//
// Thread-safety: not thread-safe. Methods throw std::runtime_error naming the path on failure,
// which gtest reports as a test failure.

#include <string>

namespace we::test_util {

class TempTree {
 public:
  TempTree();
  ~TempTree();
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  // The tree's absolute root, without a trailing '/'.
  const std::string& root() const { return root_; }

  // The absolute path of `rel` inside the tree.
  std::string Path(const std::string& rel) const;

  // Writes `content` to `rel`, creating parent directories; replaces an existing file whole
  // (written to a temporary name and renamed, so a concurrent reader never sees half a file).
  void Write(const std::string& rel, const std::string& content) const;

  // Rewrites the existing file `rel` in place (truncated, then written), as the kernel changes a
  // cgroup or proc file: a descriptor kept open on it reads the new content, which after Write
  // (a new file) it would not.
  void Overwrite(const std::string& rel, const std::string& content) const;

  // Creates the directory `rel` and its parents.
  void MakeDir(const std::string& rel) const;

  // Removes `rel` and everything beneath it; a missing path is not an error.
  void Remove(const std::string& rel) const;

 private:
  std::string root_;
};

// The whole content of a file, or "" when it cannot be read (a cgroup or process that has gone):
// for tests that compare with the kernel's files and let a missing one fail their own check.
std::string ReadFileOrEmpty(const std::string& path);

// The whole content of a file; throws std::runtime_error naming the file when it cannot be read.
std::string ReadFileOrDie(const std::string& path);

}  // namespace we::test_util
