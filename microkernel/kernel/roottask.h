// Boot's last step: hand the machine to the first user program. All memory
// the kernel does not need becomes Untyped capabilities, the root task's
// objects are carved from them, its ELF (from the boot archive) is loaded,
// and it gets every capability there is, listed in its boot-info page.
#pragma once

#include <string_view>

#include "lib/platform.h"
#include "lib/result.h"

namespace kern {

// `path` names the program in the boot archive. Errors: NotFound (no
// archive, or no such file), Malformed (not a valid ELF), NotEnoughMemory.
Status start_root_task(const PlatformInfo& platform, std::string_view path);

}  // namespace kern
