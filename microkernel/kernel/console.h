// The kernel console: formatted output to the UART named by the device tree,
// or through the SBI legacy putchar before the UART is known. Output is
// polled and unbuffered, so what was printed before a panic is on the wire.
#pragma once

#include <cstdint>
#include <string_view>

#include "lib/format.h"

namespace kern {

void console_use_uart(uintptr_t base);
void console_write(std::string_view text);
FormatSink& console_sink();

template <typename... Args>
void kprint(std::string_view fmt, const Args&... args) {
  format(console_sink(), fmt, args...);
}

}  // namespace kern
