#include "console.h"

#include "arch/riscv/sbi.h"
#include "arch/riscv/uart_ns16550.h"

namespace kern {
namespace {

arch::Ns16550 g_uart;

void put_char(char c) {
  if (g_uart.ready()) g_uart.put(c);
  else arch::sbi::legacy_putchar(c);
}

class ConsoleSink final : public FormatSink {
 public:
  void put(std::string_view text) override { console_write(text); }
};

ConsoleSink g_sink;

}  // namespace

void console_use_uart(uintptr_t base) { g_uart.init(base); }

void console_write(std::string_view text) {
  for (char c : text) {
    if (c == '\n') put_char('\r');
    put_char(c);
  }
}

FormatSink& console_sink() { return g_sink; }

}  // namespace kern
