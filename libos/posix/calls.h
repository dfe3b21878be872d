// What the POSIX calls share: a request to one of the three servers through
// the caps procmgr put in every process's CSpace (procmgr/protocol.h), the
// result convention of servers/common/message.h, and errno.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "common/message.h"
#include "os/kernel.h"
#include "procmgr/protocol.h"

namespace posix_calls {

enum class Server : uint64_t {
  Procmgr = procmgr::protocol::kProcmgrSlot,
  Vfs = procmgr::protocol::kVfsSlot,
  Pager = procmgr::protocol::kPagerSlot,
};

void set_errno(int value);

// Calls `server` with `label`, the words, then, when bytes is not null, a
// byte string packed after a count word (msg::compose). The reply's mr0 is the result.
os::Reply call(Server server, uint64_t label, std::initializer_list<uint64_t> words, const void* bytes = nullptr,
               size_t byte_count = 0);

// The result word as a value; a negative one sets errno and becomes -1.
int64_t ret(const os::Reply& reply);

// An address range a call may not use: the unmapped first 64 KiB, the
// kernel half, one that wraps, or one with a page that cannot be read (or,
// with `write`, written) -- checked by touching each page with __os_probe,
// which the pager lets fail without a signal. Sets errno EFAULT.
bool bad_range(const void* p, size_t n, bool write = false);

// A NUL-terminated string's length, at most `max` (max + 1 when longer), or
// -1 with EFAULT when a byte of it is not readable.
int64_t checked_strlen(const char* s, size_t max);

// A C string's length, or -1 (errno ENAMETOOLONG/ENOENT/EFAULT) if it is not
// a usable path.
int64_t path_length(const char* path);

}  // namespace posix_calls
