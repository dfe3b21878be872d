// POSIX error numbers as the vfs server puts them in its replies. The values
// are Linux's (asm-generic/errno-base.h), so a C library built for Linux
// conventions needs no translation table. The enumerators are spelled in
// CamelCase rather than EBADF & co. because the host's <errno.h> defines those
// names as macros and the logic here is also compiled natively for the tests.
// Internal failures that are not yet a POSIX answer (the page allocator's
// NotEnoughMemory) are kern::Error and are mapped once, by to_errno().
#pragma once

#include <cstdint>
#include <expected>
#include <utility>

#include "result.h"

// X(Name, number, "POSIX name")
#define VFS_ERRNO_LIST(X)            \
  X(NotPermitted, 1, "EPERM")        \
  X(NoEntry, 2, "ENOENT")            \
  X(Io, 5, "EIO")                    \
  X(BadFd, 9, "EBADF")               \
  X(Again, 11, "EAGAIN")             \
  X(NoMemory, 12, "ENOMEM")          \
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
  X(NotEmpty, 39, "ENOTEMPTY")

namespace vfs {

enum class Errno : int32_t {
#define VFS_ERRNO_ENUM(name, number, text) name = number,
  VFS_ERRNO_LIST(VFS_ERRNO_ENUM)
#undef VFS_ERRNO_ENUM
};

// "EBADF" for an Errno, "E?" for a number not in the list (logs and tests).
constexpr const char* errno_name(Errno e) {
  switch (e) {
#define VFS_ERRNO_CASE(name, number, text) \
  case Errno::name:                        \
    return text;
    VFS_ERRNO_LIST(VFS_ERRNO_CASE)
#undef VFS_ERRNO_CASE
  }
  return "E?";
}

// What every vfs operation returns: a value or the errno for the reply.
template <typename T>
using Result = std::expected<T, Errno>;
using Status = Result<void>;

inline constexpr std::unexpected<Errno> fail(Errno e) { return std::unexpected(e); }

// The one place where kernel-style errors become POSIX ones. Only memory
// exhaustion is expected here; anything else is a bug reported as EIO.
constexpr Errno to_errno(kern::Error e) { return e == kern::Error::NotEnoughMemory ? Errno::NoMemory : Errno::Io; }

}  // namespace vfs

// TRY for vfs::Result: kern's TRY builds a kern::Error, so the vfs code
// propagates its own errors with this one.
#define VFS_TRY(expr)                                           \
  ({                                                            \
    auto&& vfs_try_result_ = (expr);                            \
    if (!vfs_try_result_) return ::vfs::fail(vfs_try_result_.error()); \
    *std::move(vfs_try_result_);                                \
  })
