#include "os/print.h"

#include "os/syscall.h"

namespace os {
namespace {

class DebugSink final : public kern::FormatSink {
 public:
  void put(std::string_view text) override {
    for (char c : text) debug_putc(c);
  }
};

DebugSink g_sink;

}  // namespace

kern::FormatSink& debug_sink() { return g_sink; }

}  // namespace os
