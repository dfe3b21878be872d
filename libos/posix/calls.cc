#include "calls.h"

#include "vfs/protocol.h"

extern "C" int errno;
extern "C" int __os_probe(const volatile void* p, size_t n, int write);

namespace posix_calls {

void set_errno(int value) { errno = value; }

os::Reply call(Server server, uint64_t label, std::initializer_list<uint64_t> words, const void* bytes,
               size_t byte_count) {
  uint64_t w[msg::kWords] = {};
  const size_t n = msg::compose(w, words, bytes, byte_count);
  return os::call_raw(static_cast<uint64_t>(server), label, n, w, 0, nullptr);
}

int64_t ret(const os::Reply& reply) {
  // A kernel error (the server's cap is gone) is an I/O error to the caller.
  const int64_t value = reply.info.is_error() ? -5 : msg::result_of(reply.mr[0]);
  if (value < 0) {
    set_errno(static_cast<int>(-value));
    return -1;
  }
  return value;
}

bool bad_range(const void* p, size_t n, bool write) {
  const auto start = reinterpret_cast<uint64_t>(p);
  const bool bad = start < 0x10000 || start + n < start || start + n > (uint64_t{1} << 38) ||
                   (n > 0 && __os_probe(p, n, write ? 1 : 0) != 0);
  if (bad) set_errno(14);  // EFAULT
  return bad;
}

int64_t checked_strlen(const char* s, size_t max) {
  size_t n = 0;
  // Probe the page each time the string enters a new one.
  for (;; ++n) {
    const auto at = reinterpret_cast<uint64_t>(s + n);
    if ((n == 0 || at % 4096 == 0) && bad_range(s + n, 1)) return -1;
    if (s[n] == '\0' || n > max) return static_cast<int64_t>(n);
  }
}

int64_t path_length(const char* path) {
  const int64_t length = checked_strlen(path, vfs::protocol::kPathMax);
  if (length < 0) return -1;
  const auto n = static_cast<size_t>(length);
  if (n > vfs::protocol::kPathMax) {
    set_errno(36);  // ENAMETOOLONG
    return -1;
  }
  if (n == 0) {
    set_errno(2);  // ENOENT, as for open("")
    return -1;
  }
  return static_cast<int64_t>(n);
}

}  // namespace posix_calls
