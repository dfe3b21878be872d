// Which files of the boot archive vfs shows under /bin: every regular file
// the archive stores as "bin/NAME" (or deeper, "bin/dir/NAME"), mounted
// read-only with its bytes left where they are (memfs.h's RomFile).
// Directories, other prefixes and the rest of the archive are not shown.
#pragma once

#include <cstddef>
#include <span>

#include "cpio.h"
#include "errno.h"
#include "memfs.h"

namespace vfs {

inline constexpr std::string_view kBootMountPoint = "/bin";

// Fills `out` with the archive's files under bin/, paths relative to the
// mount point. Returns how many; NoSpace if `out` is too small (nothing
// useful to mount half), Io if the archive cannot be read.
Result<size_t> collect_boot_files(const kern::cpio::Archive& archive, std::span<RomFile> out);

}  // namespace vfs
