#pragma once
// A real OCI container for the integration tests: a busybox bundle in a TempTree and a container
// run from it by runc (RIGS.md: runc works on this hybrid host, crun does not), removed with every
// cgroup directory runc made for it. runc uses the container's cgroupsPath in every hierarchy;
// the directories it is about to create are noted before it runs, so that only those are removed.
//
// Ownership: a RuncContainer owns its container (killed and deleted on destruction) and the cgroup
// directories runc created for it; the bundle must outlive it. Needs root.
// Thread-safety: none; one test thread.

#include <string>
#include <vector>

#include "test_util/temp_tree.h"

namespace we::test_util {

// The first of /usr/sbin, /usr/bin, /sbin and /bin that holds an executable `name`; "" for none.
std::string Which(const char* name);

// Runs `command` with /bin/sh; its exit status as system(3) returns it.
int Shell(const std::string& command);

// Fills `bundle` with a rootfs holding busybox at /bin/busybox (and empty tmp, proc, dev, sys)
// and runc's default config.json. False, with `error` naming the step, when a step fails.
bool MakeBusyboxBundle(const TempTree& bundle, const std::string& runc, std::string* error);

// Replaces the first `from` in a config.json's text with `to`; false when there is none.
bool ReplaceInSpec(std::string* spec, const std::string& from, const std::string& to);

class RuncContainer {
 public:
  // Starts `name` from the bundle (runc run -d) in the cgroup `cgroup` (the path in every
  // hierarchy, as its config.json's cgroupsPath says). started() says whether runc succeeded; its
  // output is in the bundle's runc.log.
  RuncContainer(const std::string& runc, const TempTree& bundle, const std::string& name, const std::string& cgroup);
  ~RuncContainer();
  RuncContainer(const RuncContainer&) = delete;
  RuncContainer& operator=(const RuncContainer&) = delete;

  bool started() const { return started_; }

 private:
  std::string runc_, name_;
  std::vector<std::string> created_;
  bool started_ = false;
};

}  // namespace we::test_util
