// Formatted output to the kernel's debug console (DebugPutChar), with the
// same "{}" formatting as the kernel (microkernel/lib/format.h). For early
// programs and tests; ordinary programs will write to vfs's console.
#pragma once

#include "lib/format.h"

namespace os {

kern::FormatSink& debug_sink();

template <typename... Args>
void print(std::string_view fmt, const Args&... args) {
  kern::format(debug_sink(), fmt, args...);
}

}  // namespace os
