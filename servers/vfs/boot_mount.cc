// The boot archive's bin/ files as memfs RomFiles; see boot_mount.h.
#include "boot_mount.h"

namespace vfs {

Result<size_t> collect_boot_files(const kern::cpio::Archive& archive, std::span<RomFile> out) {
  constexpr std::string_view kPrefix = "bin/";
  size_t count = 0;
  for (size_t i = 0; i < archive.count(); ++i) {
    auto entry = archive.entry(i);
    if (!entry) return fail(Errno::Io);
    if (!entry->is_regular() || !entry->name.starts_with(kPrefix) || entry->name.size() == kPrefix.size()) continue;
    if (count == out.size()) return fail(Errno::NoSpace);
    std::string_view path = entry->name;
    path.remove_prefix(kPrefix.size());
    out[count++] = RomFile{path, std::as_bytes(entry->data)};
  }
  return count;
}

}  // namespace vfs
