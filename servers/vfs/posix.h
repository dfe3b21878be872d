// The POSIX constants of the file interface as the vfs protocol carries them:
// open(2) flags, lseek whence values and st_mode type bits, with Linux's
// numbers (as for errno.h). Named kOpen... instead of O_... because the host
// C library defines the POSIX spellings as macros.
#pragma once

#include <cstdint>

namespace vfs {

inline constexpr uint32_t kOpenReadOnly = 00;
inline constexpr uint32_t kOpenWriteOnly = 01;
inline constexpr uint32_t kOpenReadWrite = 02;
inline constexpr uint32_t kOpenAccessMask = 03;
inline constexpr uint32_t kOpenCreate = 0100;
inline constexpr uint32_t kOpenExclusive = 0200;
inline constexpr uint32_t kOpenTruncate = 01000;
inline constexpr uint32_t kOpenAppend = 02000;
inline constexpr uint32_t kOpenDirectory = 0200000;
// Every flag this server understands; others are rejected with EINVAL rather
// than silently ignored.
inline constexpr uint32_t kOpenKnownFlags =
    kOpenAccessMask | kOpenCreate | kOpenExclusive | kOpenTruncate | kOpenAppend | kOpenDirectory;

constexpr bool open_readable(uint32_t flags) {
  return (flags & kOpenAccessMask) == kOpenReadOnly || (flags & kOpenAccessMask) == kOpenReadWrite;
}
constexpr bool open_writable(uint32_t flags) {
  return (flags & kOpenAccessMask) == kOpenWriteOnly || (flags & kOpenAccessMask) == kOpenReadWrite;
}

enum class Whence : uint8_t { Set = 0, Current = 1, End = 2 };

inline constexpr uint32_t kModeTypeMask = 0170000;
inline constexpr uint32_t kModeFifo = 0010000;
inline constexpr uint32_t kModeCharDevice = 0020000;
inline constexpr uint32_t kModeDirectory = 0040000;
inline constexpr uint32_t kModeRegular = 0100000;

// What fstat/stat report. Permissions are fixed (no users yet): 0755 for
// directories, 0644 for writable files, 0555 for the read-only boot files.
struct Stat {
  uint64_t inode = 0;
  uint32_t mode = 0;
  uint32_t links = 0;
  uint64_t size = 0;
  uint64_t blocks = 0;  // 512-byte units actually backed by memory
};

}  // namespace vfs
