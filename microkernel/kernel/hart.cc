#include "hart.h"

#include "arch/riscv/cpu.h"

namespace kern {
namespace {
Hart g_harts[kMaxHarts];
}

void hart_init_boot(uint64_t hart_id) {
  g_harts[0].id = hart_id;
  arch::write_thread_pointer(&g_harts[0]);
}

Hart& this_hart() {
  auto* self = static_cast<Hart*>(arch::read_thread_pointer());
  return self != nullptr ? *self : g_harts[0];
}

}  // namespace kern
