// vfs's IPC protocol: message labels and layouts on vfs's service
// endpoint. The one header vfs and libos (and procmgr, its first client)
// share (DESIGN.md §2).
#pragma once

#include <cstdint>

namespace vfs::protocol {

enum class Label : uint64_t {
  // mr0 = any word; reply label 0, mr0 = the same word. Liveness check.
  Ping = 1,
};

// Reply label for a request vfs does not know: mr0 = posix ENOSYS.
inline constexpr uint64_t kErrorLabel = 0xfff;

}  // namespace vfs::protocol
