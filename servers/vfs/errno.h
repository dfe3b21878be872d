// The vfs server's errors: the servers' one POSIX errno list
// (common/posix_errno.h), under the names the vfs code uses.
#pragma once

#include "common/posix_errno.h"

namespace vfs {

using posix::Errno;
using posix::errno_name;
using posix::fail;
using posix::Result;
using posix::Status;
using posix::to_errno;

}  // namespace vfs

#define VFS_TRY(expr) POSIX_TRY(expr)
