#include "hart.h"

#include "arch/riscv/cpu.h"

extern "C" char boot_stack_top[];

namespace kern {
namespace {
Hart g_harts[kMaxHarts];
}

void hart_init_boot(uint64_t hart_id, uint64_t boot_instret) {
  g_harts[0].id = hart_id;
  g_harts[0].boot_instret = boot_instret;
  // The boot stack becomes the hart's kernel stack once kmain hands over to
  // the first thread (nothing of kmain's frames is needed after that).
  g_harts[0].kernel_stack_top = reinterpret_cast<uint64_t>(boot_stack_top);
  arch::write_thread_pointer(&g_harts[0]);
}


}  // namespace kern
