#include "roottask.h"

#include <bit>
#include <cstring>

#include "arch/riscv/memlayout.h"
#include "kernel/console.h"
#include "kernel/hart.h"
#include "kernel/invoke.h"
#include "kernel/irq.h"
#include "kernel/memory.h"
#include "kernel/sched.h"
#include "kernel/vm.h"
#include "lib/cpio.h"
#include "lib/elf.h"

namespace kern {
namespace {

using uapi::BootSlot;
using sv39::Perm;

constexpr unsigned kRootCNodeRadix = 12;
constexpr unsigned kTablePoolBits = 17;  // 128 KiB: 32 page-table pages for the root task
constexpr size_t kBootSlots = uapi::kMaxBootUntyped + 8;

// Untyped caps wait here until the root CNode exists. Reached through the
// direct map like every slot (one address per slot in the CDT).
Slot g_boot_slots[kBootSlots];

Slot& boot_slot(size_t i) { return *phys_to_ptr<Slot>(arch::kernel_virt_to_phys(&g_boot_slots[i])); }

struct Builder {
  const PlatformInfo& platform;
  uapi::BootInfo* info = nullptr;
  size_t untyped_count = 0;
  size_t largest = 0;           // boot slot of the largest RAM untyped
  Capability cnode;
  uint64_t next_slot = static_cast<uint64_t>(BootSlot::FirstFree);

  Slot& root(uint64_t index) { return **cnode_lookup(cnode, index); }
};

// Split [base, end) into naturally aligned power-of-two blocks.
Status add_untyped_range(Builder& b, PhysAddr base, PhysAddr end, bool device) {
  uint64_t at = base.value();
  while (at < end.value()) {
    unsigned bits = std::countr_zero(at);
    const unsigned fit = 63 - std::countl_zero(end.value() - at);
    if (fit < bits) bits = fit;
    if (bits > kMaxUntypedBits) bits = kMaxUntypedBits;
    if (b.untyped_count == uapi::kMaxBootUntyped) {
      kprint("  warning: more than {} untyped regions; memory from {:#x} is not handed out\n",
             uapi::kMaxBootUntyped, at);
      return {};
    }
    const size_t i = b.untyped_count++;
    cdt_insert_root(boot_slot(i), Capability::untyped(PhysAddr(at), bits, device));
    if (!device && bits > boot_slot(b.largest).cap.untyped_size_bits()) b.largest = i;
    at += uint64_t{1} << bits;
  }
  return {};
}

// Every frame still free in the boot allocator becomes Untyped memory; the
// kernel allocates nothing after boot.
Status collect_free_memory(Builder& b) {
  PageAllocator& allocator = page_allocator();
  const PhysAddr base = allocator.base();
  const size_t frames = allocator.total_frames();
  size_t i = 0;
  while (i < frames) {
    if (!allocator.is_free(base + i * kPageSize)) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < frames && allocator.is_free(base + j * kPageSize)) ++j;
    const PhysRange run{base + i * kPageSize, (j - i) * kPageSize};
    allocator.reserve_range(run);
    TRY(add_untyped_range(b, run.base, run.end(), false));
    i = j;
  }
  return {};
}

Status retype_into(Builder& b, Slot& untyped, ObjectType type, unsigned size_bits, uint64_t first, size_t count) {
  Slot* dests[256];
  if (count > 256) return fail(Error::RangeError);
  for (size_t i = 0; i < count; ++i) dests[i] = &b.root(first + i);
  return untyped_retype(untyped, RetypeRequest{type, size_bits, count}, std::span<Slot* const>(dests, count),
                        object_hooks());
}

// Frames for `count` pages into consecutive root slots; returns the first slot.
Result<uint64_t> make_frames(Builder& b, Slot& untyped, size_t count) {
  const uint64_t first = b.next_slot;
  size_t done = 0;
  while (done < count) {
    const size_t n = count - done < 256 ? count - done : 256;
    TRY(retype_into(b, untyped, ObjectType::Frame, 0, first + done, n));
    done += n;
  }
  b.next_slot += count;
  return first;
}

Status map_frames(Builder& b, uint64_t va, uint64_t first_slot, size_t count, Perm perm) {
  UserSpace space = user_space(b.root(uint64_t(BootSlot::RootVSpace)).cap);
  for (size_t i = 0; i < count; ++i) {
    const PhysAddr frame = b.root(first_slot + i).cap.object();
    TRY(space.map(VirtAddr(va + i * kPageSize), std::span<const PhysAddr>(&frame, 1), perm));
  }
  return {};
}

Status load_image(Builder& b, const elf::Image& image, Slot& memory) {
  const uint64_t first = b.next_slot;
  for (size_t s = 0; s < image.segment_count; ++s) {
    const elf::Segment& seg = image.segments[s];
    const uint64_t start = align_down(seg.vaddr, kPageSize);
    const uint64_t end = align_up(seg.vaddr + seg.memsz, kPageSize);
    const size_t pages = (end - start) / kPageSize;
    const uint64_t slot = TRY(make_frames(b, memory, pages));
    const auto bytes = image.file_bytes(s);
    for (size_t p = 0; p < pages; ++p) {  // frames are zeroed; copy the file part
      uint8_t* page = phys_to_ptr<uint8_t>(b.root(slot + p).cap.object());
      const uint64_t page_va = start + p * kPageSize;
      for (uint64_t off = 0; off < kPageSize; ++off) {
        const uint64_t va = page_va + off;
        if (va >= seg.vaddr && va - seg.vaddr < seg.filesz) page[off] = bytes[va - seg.vaddr];
      }
    }
    Perm perm = Perm::U;
    if (seg.read) perm = perm | Perm::R;
    if (seg.write) perm = perm | Perm::W | Perm::R;
    if (seg.execute) perm = perm | Perm::X;
    TRY(map_frames(b, start, slot, pages, perm));
  }
  b.info->image_frames = {first, b.next_slot - first};
  return {};
}

}  // namespace

Status start_root_task(const PlatformInfo& platform, std::string_view path) {
  if (!platform.initrd) {
    kprint("  no boot archive (QEMU -initrd): nothing to start\n");
    return fail(Error::NotFound);
  }
  const PhysRange initrd = *platform.initrd;
  const std::span<const uint8_t> archive_bytes(phys_to_ptr<const uint8_t>(initrd.base), initrd.size);
  const cpio::Archive archive = TRY(cpio::Archive::parse(archive_bytes));
  auto file = archive.find(path);
  if (!file) {
    kprint("  boot archive has no '{}'\n", path);
    return fail(Error::NotFound);
  }
  // The image must stay below the stack and the other fixed areas.
  const elf::Image image = TRY(elf::parse(file->data, uapi::kRootStackTop - uapi::kRootStackPages * kPageSize));

  Builder b{platform, nullptr, 0, 0, Capability(), static_cast<uint64_t>(BootSlot::FirstFree)};
  TRY(collect_free_memory(b));
  if (b.untyped_count == 0) return fail(Error::NotEnoughMemory);
  Slot& memory = boot_slot(b.largest);
  const size_t ram_untyped = b.untyped_count;

  // The root CNode first (the largest object), in a boot slot until it can
  // hold its own cap.
  Slot& cnode_slot = boot_slot(kBootSlots - 1);
  Slot* cnode_dest = &cnode_slot;
  TRY(untyped_retype(memory, RetypeRequest{ObjectType::CNode, kRootCNodeRadix, 1},
                     std::span<Slot* const>(&cnode_dest, 1), object_hooks()));
  b.cnode = cnode_slot.cap;

  TRY(retype_into(b, memory, ObjectType::VSpace, 0, uint64_t(BootSlot::RootVSpace), 1));
  TRY(retype_into(b, memory, ObjectType::Tcb, 0, uint64_t(BootSlot::RootTcb), 1));
  TRY(retype_into(b, memory, ObjectType::Frame, 0, uint64_t(BootSlot::IpcBufferFrame), 1));
  TRY(retype_into(b, memory, ObjectType::Frame, 0, uint64_t(BootSlot::BootInfoFrame), 1));

  // Page tables of the root task: an Untyped moved into its VSpace.
  {
    Slot& pool_tmp = b.root(uint64_t(BootSlot::FaultEndpointSpare));
    TRY(retype_into(b, memory, ObjectType::Untyped, kTablePoolBits, uint64_t(BootSlot::FaultEndpointSpare), 1));
    VSpaceMeta& meta = vspace_meta(b.root(uint64_t(BootSlot::RootVSpace)).cap);
    TRY(cap_move(pool_tmp, meta.pool_slot));
    meta.pool.base = meta.pool_slot.cap.object();
    meta.pool.size = uint64_t{1} << kTablePoolBits;
    pool_attach(b.root(uint64_t(BootSlot::RootVSpace)).cap.object());
  }

  auto* info = phys_to_ptr<uapi::BootInfo>(b.root(uint64_t(BootSlot::BootInfoFrame)).cap.object());
  b.info = info;
  info->magic = uapi::kBootInfoMagic;
  info->root_cnode_radix = kRootCNodeRadix;

  TRY(load_image(b, image, memory));
  const uint64_t stack_first = TRY(make_frames(b, memory, uapi::kRootStackPages));
  TRY(map_frames(b, uapi::kRootStackTop - uapi::kRootStackPages * kPageSize, stack_first, uapi::kRootStackPages,
                 Perm::U | Perm::R | Perm::W));
  info->image_frames.count = b.next_slot - info->image_frames.first;
  TRY(map_frames(b, uapi::kRootIpcBuffer, uint64_t(BootSlot::IpcBufferFrame), 1, Perm::U | Perm::R | Perm::W));
  TRY(map_frames(b, uapi::kRootBootInfo, uint64_t(BootSlot::BootInfoFrame), 1, Perm::U | Perm::R));

  // The boot archive: its pages become frames (device untyped: not zeroed),
  // mapped read-only.
  {
    const PhysAddr start = initrd.base.align_down(kPageSize);
    const PhysAddr end = initrd.end().align_up(kPageSize);
    const size_t first_archive_untyped = b.untyped_count;
    TRY(add_untyped_range(b, start, end, true));
    const uint64_t first = b.next_slot;
    for (size_t u = first_archive_untyped; u < b.untyped_count; ++u) {
      Slot& region = boot_slot(u);
      TRY(make_frames(b, region, (uint64_t{1} << region.cap.untyped_size_bits()) / kPageSize));
    }
    const size_t pages = b.next_slot - first;
    TRY(map_frames(b, uapi::kRootArchive, first, pages, Perm::U | Perm::R));
    info->archive_frames = {first, pages};
    info->archive_va = uapi::kRootArchive + (initrd.base - start);
    info->archive_size = initrd.size;
  }
  // Devices the root task may drive, as device untyped: the UART. The PLIC
  // stays the kernel's (user space gets interrupts through IrqHandler caps).
  if (platform.uart) {
    TRY(add_untyped_range(b, platform.uart->mmio.base.align_down(kPageSize),
                          platform.uart->mmio.end().align_up(kPageSize), true));
  }

  // Control caps: no memory behind them.
  cdt_insert_root(b.root(uint64_t(BootSlot::IrqControl)), Capability::make(ObjectType::IrqControl, PhysAddr(0), Rights::All));
  cdt_insert_root(b.root(uint64_t(BootSlot::SystemControl)),
                  Capability::make(ObjectType::SystemControl, PhysAddr(0), Rights::All));

  // Every untyped (RAM, archive, devices) into the root CNode, described in
  // the boot info. Archive untypeds keep their frames as children.
  info->untyped.first = b.next_slot;
  for (size_t u = 0; u < b.untyped_count; ++u) {
    Slot& from = boot_slot(u);
    info->untyped_list[u] = {from.cap.object().value(), static_cast<uint8_t>(from.cap.untyped_size_bits()),
                             static_cast<uint8_t>(from.cap.untyped_device() ? 1 : 0), {}};
    TRY(cap_move(from, b.root(b.next_slot++)));
  }
  info->untyped.count = b.untyped_count;
  (void)ram_untyped;
  TRY(cap_move(cnode_slot, b.root(uint64_t(BootSlot::RootCNode))));
  info->first_free_slot = b.next_slot;

  info->ipc_buffer = uapi::kRootIpcBuffer;
  info->stack_top = uapi::kRootStackTop;
  if (platform.uart) {
    info->uart_paddr = platform.uart->mmio.base.value();
    info->uart_irq = platform.uart->irq;
  }
  if (platform.plic) info->plic_paddr = platform.plic->mmio.base.value();
  info->irq_sources = irq_source_count();  // what IrqControlGet accepts (the kernel's table may be smaller)
  info->timebase_frequency = platform.timebase_frequency;
  info->hart_id = this_hart().id;
  const size_t n = platform.bootargs.size() < sizeof(info->bootargs) - 1 ? platform.bootargs.size()
                                                                          : sizeof(info->bootargs) - 1;
  std::memcpy(info->bootargs, platform.bootargs.data(), n);

  // The thread: bindings are copies, as TcbConfigure makes them.
  Tcb& tcb = object_of<Tcb>(b.root(uint64_t(BootSlot::RootTcb)).cap);
  TRY(cap_copy(b.root(uint64_t(BootSlot::RootCNode)), tcb_slot(tcb, TcbSlot::CSpace), Rights::All));
  TRY(cap_copy(b.root(uint64_t(BootSlot::RootVSpace)), tcb_slot(tcb, TcbSlot::VSpace), Rights::All));
  tcb.satp = vspace_satp(b.root(uint64_t(BootSlot::RootVSpace)).cap);
  TRY(cap_copy(b.root(uint64_t(BootSlot::IpcBufferFrame)), tcb_slot(tcb, TcbSlot::IpcBuffer), Rights::All));
  tcb.ipc_buffer_va = uapi::kRootIpcBuffer;
  tcb.max_priority = 255;
  set_priority(tcb, 255);
  tcb.context.pc = image.entry;
  tcb.context.regs[static_cast<size_t>(arch::Reg::Sp)] = uapi::kRootStackTop;
  tcb.context.regs[static_cast<size_t>(arch::Reg::A0)] = uapi::kRootBootInfo;
  make_runnable(tcb);

  kprint("  root task: {} ({} segments, entry {:#x}), {} untyped regions, {} free slots from {}\n", path,
         image.segment_count, image.entry, b.untyped_count, (uint64_t{1} << kRootCNodeRadix) - b.next_slot,
         b.next_slot);
  return {};
}

}  // namespace kern
