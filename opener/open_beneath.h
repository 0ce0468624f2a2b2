#pragma once
// Opens an allowlisted file for the daemon (collectors/opener_protocol.h says what is allowed)
// without following a symbolic link anywhere beneath its root: each directory is opened with
// openat(O_NOFOLLOW | O_DIRECTORY) from the one before, the file last with O_NOFOLLOW, and only a
// regular file is handed out. Not openat2(RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH), which would say
// the same in one call: systemd 252's @system-service filter answers openat2 with ENOSYS.
//
// Thread-safety: pure but for the system calls; any thread.

#include "collectors/opener_protocol.h"

namespace we {

// The descriptor (O_CLOEXEC, blocking) of `request`'s file, or -errno: EACCES when the
// allowlist refuses it or it is not a regular file, ELOOP or ENOTDIR at a symbolic link, the
// kernel's errno otherwise (ENOENT when absent, EACCES when even root may not).
int OpenAllowlisted(const OpenerRoots& roots, const OpenRequest& request);

}  // namespace we
