#include "selftest.h"

#include "arch/riscv/cpu.h"
#include "arch/riscv/memlayout.h"
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/timer.h"

extern "C" char __kernel_start[], __text_end[], __rodata_end[], __kernel_end[];

namespace kern {
namespace {

ExitCode verdict(std::string_view name, bool ok) {
  kprint("ktest {}: {}\n", name, ok ? "PASS" : "FAIL");
  return ok ? ExitCode::Success : ExitCode::TestFailure;
}

// The timer interrupt arrives and is counted, no faster than programmed.
ExitCode test_ticks() {
  constexpr uint64_t kWanted = 10;
  const uint64_t interval = timer_interval();
  const uint64_t start_ticks = timer_ticks();
  const uint64_t start = arch::read_time();
  const uint64_t give_up = start + 100 * kWanted * interval;
  arch::enable_interrupts();
  while (timer_ticks() - start_ticks < kWanted && arch::read_time() < give_up) arch::wait_for_interrupt();
  arch::disable_interrupts();
  const uint64_t ticks = timer_ticks() - start_ticks;
  const uint64_t elapsed = arch::read_time() - start;
  kprint("ktest ticks: {} ticks in {} time units (interval {})\n", ticks, elapsed, interval);
  // The first tick may come up to one interval early (it was armed before
  // `start`); after that each needs a full interval.
  return verdict("ticks", ticks >= kWanted && elapsed >= (kWanted - 1) * interval);
}

bool in_any(const PhysRange* ranges, size_t count, PhysAddr frame) {
  for (size_t i = 0; i < count; ++i) {
    if (ranges[i].contains(frame) || ranges[i].contains(frame + kPageSize - 1)) return true;
  }
  return false;
}

// Every free frame can be allocated exactly once, lies in RAM outside the
// kernel and reserved regions, holds data through the direct map; freeing
// them all restores the count. The final page table has the permissions
// memory.h promises.
ExitCode test_memory(const PlatformInfo& platform, const MemoryLayout& layout) {
  PageAllocator& allocator = page_allocator();
  const size_t free_before = allocator.free_frames();
  bool ok = free_before > 0;
  size_t allocated = 0;
  PhysAddr previous;
  // Frames are linked into a list through their own first word, so the test
  // needs no memory of its own.
  while (auto frame = allocator.alloc()) {
    ++allocated;
    const PhysAddr f = *frame;
    if (!f.is_aligned(kPageSize) || !in_any(platform.memory.data(), platform.memory_count, f) ||
        in_any(platform.reserved.data(), platform.reserved_count, f) || layout.kernel_image.contains(f) ||
        layout.frame_bitmap.contains(f)) {
      kprint("ktest memory: bad frame {}\n", f);
      ok = false;
    }
    auto* words = arch::phys_ptr<uint64_t>(f);
    words[0] = previous.value();
    words[kPageSize / 8 - 1] = ~f.value();
    previous = f;
  }
  size_t freed = 0;
  while (previous != PhysAddr(0)) {
    auto* words = arch::phys_ptr<uint64_t>(previous);
    if (words[kPageSize / 8 - 1] != ~previous.value()) {
      kprint("ktest memory: frame {} lost its contents\n", previous);
      ok = false;
    }
    const PhysAddr next(words[0]);
    if (!allocator.free(previous)) ok = false;
    ++freed;
    previous = next;
  }
  ok = ok && allocated == free_before && freed == allocated && allocator.free_frames() == free_before &&
       allocator.check_invariants();
  kprint("ktest memory: {} frames allocated, written and freed ({} MiB)\n", allocated, allocated * kPageSize >> 20);

  using sv39::Perm;
  sv39::PageTable& table = kernel_page_table();
  auto text = table.translate(VirtAddr(reinterpret_cast<uint64_t>(__kernel_start)));
  auto rodata = table.translate(VirtAddr(reinterpret_cast<uint64_t>(__text_end)));
  auto data = table.translate(VirtAddr(reinterpret_cast<uint64_t>(__rodata_end)));
  auto ram = table.translate(arch::phys_to_virt(platform.memory[0].base));
  const bool perms_ok = text && rodata && data && ram && has(text->perm, Perm::X) && !has(text->perm, Perm::W) &&
                        !has(rodata->perm, Perm::W) && !has(rodata->perm, Perm::X) && has(data->perm, Perm::W) &&
                        !has(data->perm, Perm::X) && has(ram->perm, Perm::W) && !has(ram->perm, Perm::X) &&
                        text->pa == layout.kernel_image.base && ram->pa == platform.memory[0].base;
  kprint("ktest memory: kernel text {}, rodata {}, data {}, direct map {}\n",
         text && !has(text->perm, Perm::W) ? "R-X" : "bad", rodata && !has(rodata->perm, Perm::W) ? "R--" : "bad",
         data && has(data->perm, Perm::W) ? "RW-" : "bad", ram && has(ram->perm, Perm::W) ? "RW-" : "bad");
  return verdict("memory", ok && perms_ok);
}

__attribute__((noinline)) void selftest_deliberate_panic() { panic("deliberate panic (ktest=panic)"); }

__attribute__((noinline)) uint64_t selftest_deliberate_fault() {
  // The hole between the direct map's 64 GiB and the kernel image is never
  // mapped.
  auto* unmapped = reinterpret_cast<volatile uint64_t*>(arch::kDirectMapBase + arch::kDirectMapSpan + 0x1000);
  return *unmapped;
}

__attribute__((noinline)) void selftest_write_text() {
  auto* text = reinterpret_cast<volatile uint32_t*>(reinterpret_cast<uint64_t>(&selftest_write_text));
  *text = 0;
}

}  // namespace

ExitCode run_selftest(std::string_view name, const PlatformInfo& platform, const MemoryLayout& layout) {
  kprint("ktest {}: start\n", name);
  if (name == "boot") return verdict("boot", true);
  if (name == "ticks") return test_ticks();
  if (name == "memory") return test_memory(platform, layout);
  if (name == "panic") selftest_deliberate_panic();
  if (name == "fault") {
    const uint64_t value = selftest_deliberate_fault();
    kprint("ktest fault: read {:#x} from an unmapped address\n", value);
    return verdict("fault", false);
  }
  if (name == "wx") {
    selftest_write_text();
    kprint("ktest wx: kernel text is writable\n");
    return verdict("wx", false);
  }
  kprint("ktest: unknown test '{}' (known: boot ticks memory panic fault wx)\n", name);
  return ExitCode::TestFailure;
}

}  // namespace kern
