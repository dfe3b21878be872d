// The pager's IPC protocol: message labels and layouts on the pager's
// service endpoint. The one header the pager and libos (and procmgr, its
// first client) share (DESIGN.md §2).
#pragma once

#include <cstdint>

namespace pager::protocol {

enum class Label : uint64_t {
  // mr0 = any word; reply label 0, mr0 = the same word. Liveness check.
  Ping = 1,
};

// Reply label for a request the pager does not know: mr0 = posix ENOSYS.
inline constexpr uint64_t kErrorLabel = 0xfff;

}  // namespace pager::protocol
