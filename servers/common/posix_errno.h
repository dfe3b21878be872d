// POSIX error numbers, as every server puts them in its replies and libos
// will hand to programs in errno. One list for all servers. The values are
// Linux's (asm-generic/errno-base.h and errno.h), so a C library built for
// Linux conventions needs no translation. The enumerators are CamelCase,
// not EBADF & co., because the host's <errno.h> defines those names as
// macros and this code is also compiled natively for the tests. Internal
// failures that are not yet a POSIX answer (a page source running dry) are
// kern::Error and become errno values in one place, to_errno().
#pragma once

#include <cstdint>
#include <expected>
#include <utility>

#include "result.h"

// X(Name, number, "POSIX name")
#define POSIX_ERRNO_LIST(X) \
  X(NotPermitted, 1, "EPERM")        \
  X(NoEntry, 2, "ENOENT")            \
  X(NoSuchProcess, 3, "ESRCH")       \
  X(Interrupted, 4, "EINTR")         \
  X(Io, 5, "EIO")                    \
  X(ArgListTooLong, 7, "E2BIG")      \
  X(ExecFormat, 8, "ENOEXEC")        \
  X(BadFd, 9, "EBADF")               \
  X(NoChild, 10, "ECHILD")           \
  X(Again, 11, "EAGAIN")             \
  X(NoMemory, 12, "ENOMEM")          \
  X(Access, 13, "EACCES")            \
  X(Fault, 14, "EFAULT")             \
  X(Busy, 16, "EBUSY")               \
  X(Exists, 17, "EEXIST")            \
  X(NotDir, 20, "ENOTDIR")           \
  X(IsDir, 21, "EISDIR")             \
  X(Invalid, 22, "EINVAL")           \
  X(TooManyFiles, 24, "EMFILE")      \
  X(NotTty, 25, "ENOTTY")            \
  X(FileTooBig, 27, "EFBIG")         \
  X(NoSpace, 28, "ENOSPC")           \
  X(IllegalSeek, 29, "ESPIPE")       \
  X(ReadOnlyFs, 30, "EROFS")         \
  X(BrokenPipe, 32, "EPIPE")         \
  X(NameTooLong, 36, "ENAMETOOLONG") \
  X(NoSys, 38, "ENOSYS")             \
  X(NotEmpty, 39, "ENOTEMPTY")

namespace posix {

enum class Errno : int32_t {
#define POSIX_ERRNO_ENUM(name, number, text) name = number,
  POSIX_ERRNO_LIST(POSIX_ERRNO_ENUM)
#undef POSIX_ERRNO_ENUM
};

// "EBADF" for an Errno, "E?" for a number not in the list (logs and tests).
constexpr const char* errno_name(Errno e) {
  switch (e) {
#define POSIX_ERRNO_CASE(name, number, text) \
  case Errno::name:                          \
    return text;
    POSIX_ERRNO_LIST(POSIX_ERRNO_CASE)
#undef POSIX_ERRNO_CASE
  }
  return "E?";
}

// What every server operation returns: a value or the errno for the reply.
template <typename T>
using Result = std::expected<T, Errno>;
using Status = Result<void>;

inline constexpr std::unexpected<Errno> fail(Errno e) { return std::unexpected(e); }

// Kernel-style errors become POSIX ones here only. Running out of memory is
// the one expected failure; anything else is a bug reported as EIO.
constexpr Errno to_errno(kern::Error e) { return e == kern::Error::NotEnoughMemory ? Errno::NoMemory : Errno::Io; }

}  // namespace posix

// TRY for posix::Result (kern's TRY builds a kern::Error).
#define POSIX_TRY(expr)                                                  \
  ({                                                                     \
    auto&& posix_try_result_ = (expr);                                   \
    if (!posix_try_result_) return ::posix::fail(posix_try_result_.error()); \
    *std::move(posix_try_result_);                                       \
  })
