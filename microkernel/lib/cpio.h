// The boot archive: a cpio "newc" archive (magic "070701", 110-byte ASCII
// hex header, name and data each padded to 4 bytes, ended by
// "TRAILER!!!"). Read-only and untrusted: every field is checked, a
// malformed archive gives Error::Malformed, never a read outside the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "result.h"

namespace kern::cpio {

struct Entry {
  std::string_view name;            // as stored, without a leading "./" or "/"
  uint32_t mode = 0;                // file type and permission bits
  std::span<const uint8_t> data;
  bool is_regular() const { return (mode & 0170000) == 0100000; }
  bool is_directory() const { return (mode & 0170000) == 0040000; }
};

class Archive {
 public:
  // Validates the whole archive once (every header, up to the trailer).
  static Result<Archive> parse(std::span<const uint8_t> bytes);
  // Entries in archive order; index < count().
  size_t count() const { return m_count; }
  Result<Entry> entry(size_t index) const;
  // The regular file with this name ("bin/init" or "/bin/init").
  std::optional<Entry> find(std::string_view name) const;

 private:
  std::span<const uint8_t> m_bytes;
  size_t m_count = 0;
};

}  // namespace kern::cpio
