// kmain: the C++ half of boot. entry.S has zeroed .bss, turned on a coarse
// boot page table and switched to the kernel's linked address. From here:
// read the device tree, bring up the console, print the banner, set up
// physical memory and the final page table, start the tick, then either run
// a boot self-test (bootargs ktest=NAME) or idle.
#include "arch/riscv/cpu.h"
#include "arch/riscv/memlayout.h"
#include "arch/riscv/sbi.h"
#include "kernel/console.h"
#include "kernel/fastpath.h"
#include "kernel/hart.h"
#include "kernel/memory.h"
#include "kernel/panic.h"
#include "kernel/irq.h"
#include "kernel/power.h"
#include "kernel/roottask.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/timer.h"
#include "lib/fdt.h"
#include "lib/platform.h"

#ifndef KERNEL_VERSION
#define KERNEL_VERSION "unknown"
#endif

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

namespace kern {
namespace {

PlatformInfo g_platform;
// The first program, from the boot archive; bootargs roottask=PATH overrides.
constexpr std::string_view kDefaultRootTask = "bin/procmgr";

void run_constructors() {
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) (*ctor)();
}

uintptr_t device_virt(const std::optional<Device>& device) {
  return device ? arch::phys_to_virt(device->mmio.base).value() : 0;
}

void print_banner(uint64_t hart_id, PhysRange dtb) {
  const PlatformInfo& p = g_platform;
  kprint("\nukos " KERNEL_VERSION " (riscv64, Sv39) booting on hart {}\n", hart_id);
  const uint64_t sbi_version = arch::sbi::spec_version();
  const uint64_t impl = arch::sbi::impl_version();
  kprint("  firmware: {} v{}.{}, SBI spec {}.{}\n", arch::sbi::impl_id() == 1 ? "OpenSBI" : "SBI implementation",
         impl >> 16, impl & 0xffff, (sbi_version >> 24) & 0x7f, sbi_version & 0xffffff);
  kprint("  device tree: {} ({} bytes)\n", dtb.base, dtb.size);
  kprint("  RAM: {} MiB\n", p.total_memory() >> 20);
  for (size_t i = 0; i < p.memory_count; ++i) {
    kprint("    {:#x}-{:#x}\n", p.memory[i].base.value(), p.memory[i].end().value());
  }
  for (size_t i = 0; i < p.reserved_count; ++i) {
    kprint("    reserved {:#x}-{:#x}\n", p.reserved[i].base.value(), p.reserved[i].end().value());
  }
  if (p.uart) kprint("  UART: ns16550a at {:#x}, irq {}\n", p.uart->mmio.base.value(), p.uart->irq);
  else kprint("  UART: none found, console through SBI\n");
  if (p.plic) kprint("  PLIC: {:#x}\n", p.plic->mmio.base.value());
  kprint("  harts: {}, timebase: {} Hz\n", p.hart_count, p.timebase_frequency);
  kprint("  bootargs: \"{}\"\n", p.bootargs);
}

}  // namespace
}  // namespace kern

extern "C" [[noreturn]] void kmain(uint64_t hart_id, uint64_t dtb_phys, uint64_t boot_instret) {
  using namespace kern;
  hart_init_boot(hart_id, boot_instret);
  arch::install_trap_vector();
  arch::disable_fpu();
  run_constructors();

  const PhysAddr dtb_base(dtb_phys);
  const auto* dtb = arch::phys_ptr<const uint8_t>(dtb_base);
  auto dtb_size = fdt::Fdt::total_size(dtb);
  if (!dtb_size) panic("no device tree at {:#x}: {}", dtb_phys, error_name(dtb_size.error()));
  auto tree = fdt::Fdt::parse({dtb, *dtb_size});
  if (!tree) panic("device tree at {:#x} is malformed: {}", dtb_phys, error_name(tree.error()));
  auto platform = read_platform(*tree);
  if (!platform) panic("device tree lacks what the kernel needs: {}", error_name(platform.error()));
  g_platform = *platform;

  if (g_platform.uart) console_use_uart(device_virt(g_platform.uart));
  power_init(device_virt(g_platform.test_finisher));
  const PhysRange dtb_range{dtb_base, *dtb_size};
  print_banner(hart_id, dtb_range);

  auto layout = memory_init(g_platform, dtb_range);
  if (!layout) panic("memory setup failed: {}", error_name(layout.error()));
  kprint("  memory: kernel {:#x}-{:#x}, {} page-table frames, {} MiB free\n", layout->kernel_image.base.value(),
         layout->kernel_image.end().value(), layout->page_table_frames,
         page_allocator().free_frames() * kPageSize >> 20);

  timer_init(g_platform.timebase_frequency);
  // Let user mode read cycle, time and instret (bits CY, TM, IR).
  arch::write_scounteren(0b111);

  fastpath_set_enabled(bootarg(g_platform.bootargs, "kernel.fastpath").value_or("1") != "0");
  if (g_platform.plic) irq_init(device_virt(g_platform.plic), hart_id, g_platform.plic_sources);

  if (auto test = bootarg(g_platform.bootargs, "ktest")) power_off(run_selftest(*test, g_platform, *layout));

  const std::string_view root = bootarg(g_platform.bootargs, "roottask").value_or(kDefaultRootTask);
  if (auto started = start_root_task(g_platform, root); !started) {
    kprint("boot complete, but no root task ({}): idling.\n", error_name(started.error()));
  } else {
    kprint("boot complete\n");
  }
  schedule_and_return();
}
