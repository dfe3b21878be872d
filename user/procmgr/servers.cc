#include "servers.h"

#include <span>

#include "common/boot_caps.h"
#include "common/message.h"
#include "os/kernel.h"
#include "os/print.h"
#include "os/syscall.h"
#include "pager/protocol.h"
#include "procmgr/loader.h"
#include "resources.h"
#include "vfs/protocol.h"

namespace procmgr {

namespace {

using uapi::MessageInfo;
using uapi::ObjectType;
using uapi::Rights;
using uapi::Syscall;

// procmgr's window onto frames it fills before handing them to a server,
// and its side of the exchange area.
constexpr uint64_t kWindowVa = 0x4000'0000;
constexpr uint64_t kExchangeVa = 0x4800'0000;
constexpr uint64_t kMaxBatch = 256;

// Below procmgr (255), so a server runs only while procmgr waits on it and
// the boot log stays in order. The helpers run above their server: vfs's
// console thread must see input while vfs is busy.
constexpr uint64_t kServerPriority = 100;
constexpr uint64_t kHelperPriority = 101;

constexpr uint64_t kRW = uint64_t(uapi::MapPerm::Read) | uint64_t(uapi::MapPerm::Write);
constexpr uint64_t kRX = uint64_t(uapi::MapPerm::Read) | uint64_t(uapi::MapPerm::Execute);
constexpr uint64_t kR = uint64_t(uapi::MapPerm::Read);
constexpr uint64_t kRWX = kRW | uint64_t(uapi::MapPerm::Execute);

constexpr uint64_t kPingWord = 0x70696e67;  // "ping"

const char* error_text(uapi::Error e) { return kern::error_name(static_cast<kern::Error>(e)); }

bool check(const os::Status& s, const char* server, const char* what) {
  if (!s) os::print("procmgr: {}: {} failed: {}\n", server, what, error_text(s.error()));
  return static_cast<bool>(s);
}

template <typename T>
os::Status status(const os::Result<T>& r) {
  if (!r) return std::unexpected(r.error());
  return {};
}

uint64_t ceil_log2(uint64_t n) {
  uint64_t bits = 0;
  while ((uint64_t{1} << bits) < n) ++bits;
  return bits;
}

// Page-table pool (log2 bytes) for a VSpace that maps `bytes` beyond its
// image, stack and IPC buffers: a table per 2 MiB plus a margin.
uint64_t table_pool_bits(uint64_t bytes) { return ceil_log2(((bytes >> 21) + 12) * kPage); }

// The pager carves its pools into chunks of 2^17 bytes (pager::MemoryPool::
// kChunkBits): an Untyped with less room than that is of no use to it.
constexpr uint64_t kPagerChunkBits = 17;
constexpr uint64_t kPagerChunk = uint64_t{1} << kPagerChunkBits;
// Slots the pager's CNode needs per chunk: its Untyped and 32 objects.
constexpr uint64_t kPagerSlotsPerChunk = 33;
constexpr uint64_t kMaxCNodeRadix = 20;  // docs/kernel.md §1

// Every RAM Untyped but procmgr's own, while they are still in procmgr's
// CNode. The objects whose size grows with memory (the pager's CNode and
// table pool, vfs's pool) are carved from them best fit, each from the
// smallest one it fits whole, at its start (no alignment lost); what is left
// of every block with room for a pager chunk then goes to the pager. The
// largest block is not fresh (the kernel carved procmgr's boot objects from
// it, and its watermark is not reported), so nothing is carved from it here.
class RamBlocks {
 public:
  void init(const uapi::BootInfo& info, uint64_t own) {
    m_count = 0;
    const auto largest = os::largest_ram_untyped(info);
    for (uint64_t i = 0; i < info.untyped.count; ++i) {
      const uapi::UntypedDesc& u = info.untyped_list[i];
      const uint64_t slot = info.untyped.first + i;
      if (u.device || slot == own) continue;
      m_blocks[m_count++] = Block{slot, u.size_bits, 0, !(largest && largest->slot == slot), false};
    }
    // Largest first: the pager numbers its chunks in this order.
    for (uint64_t i = 1; i < m_count; ++i) {
      for (uint64_t j = i; j > 0 && m_blocks[j - 1].bits < m_blocks[j].bits; --j) {
        const Block t = m_blocks[j];
        m_blocks[j] = m_blocks[j - 1];
        m_blocks[j - 1] = t;
      }
    }
  }

  // One object of 2^bytes_bits bytes (`size_bits` as retype takes it) from
  // the smallest fresh block it fits, or from procmgr's own Untyped when
  // none does. 0 on failure (printed).
  uint64_t carve(ObjectType type, uint64_t size_bits, uint64_t bytes_bits, const char* what) {
    const uint64_t size = uint64_t{1} << bytes_bits;
    Block* best = nullptr;
    for (uint64_t i = 0; i < m_count; ++i) {
      Block& b = m_blocks[i];
      const uint64_t start = kern::align_up(b.used, size);
      // An Untyped cannot be carved from one of its own size (kernel.md §7.1).
      const bool fits = b.fresh && !b.given && start + size <= (uint64_t{1} << b.bits) &&
                        (type != ObjectType::Untyped || bytes_bits < b.bits);
      if (fits && (best == nullptr || b.bits < best->bits)) best = &b;
    }
    if (best == nullptr) return make(type, size_bits, 1, what);
    const uint64_t slot = slots().take();
    if (slot == 0) {
      os::print("procmgr: {}: out of slots\n", what);
      return 0;
    }
    if (const os::Status made = os::retype(best->slot, type, size_bits, 1, kRoot, slot); !made) {
      os::print("procmgr: {}: retype failed: {}\n", what, error_text(made.error()));
      slots().give(slot);
      return 0;
    }
    best->used = kern::align_up(best->used, size) + size;
    return slot;
  }

  // Whether block i has room for a pager chunk (an Untyped cannot be carved
  // into one of its own size).
  bool has_chunk(uint64_t i) const {
    const Block& b = m_blocks[i];
    return !b.given && b.bits > kPagerChunkBits &&
           kern::align_up(b.used, kPagerChunk) + kPagerChunk <= (uint64_t{1} << b.bits);
  }
  // Block i moved out of procmgr's CNode.
  void given(uint64_t i) { m_blocks[i].given = true; }
  // The chunks the pager will get at most (the largest block counted whole).
  uint64_t pager_chunks() const {
    uint64_t n = 0;
    for (uint64_t i = 0; i < m_count; ++i) {
      if (has_chunk(i)) n += ((uint64_t{1} << m_blocks[i].bits) - kern::align_up(m_blocks[i].used, kPagerChunk)) >> kPagerChunkBits;
    }
    return n;
  }
  uint64_t count() const { return m_count; }
  uint64_t slot(uint64_t i) const { return m_blocks[i].slot; }

 private:
  struct Block {
    uint64_t slot;
    uint64_t bits;
    uint64_t used;  // bytes carved here from its start
    bool fresh;     // nothing was carved from it before procmgr
    bool given;     // moved to the pager
  };
  Block m_blocks[uapi::kMaxBootUntyped] = {};
  uint64_t m_count = 0;
};

RamBlocks g_blocks;

uint64_t perm_of(const LoadRegion& region) {
  if (region.write_execute) return kRWX;
  switch (region.kind) {
    case RegionKind::Text: return kRX;
    case RegionKind::Rodata: return kR;
    case RegionKind::Data:
    case RegionKind::Bss: return kRW;
  }
  return kR;
}

// Loads the server's ELF into fresh frames mapped in its VSpace with each
// region's permissions; returns the entry point, 0 on failure. The frames are
// filled through procmgr's window, then unmapped from it.
uint64_t load_image(Server& s, std::span<const uint8_t> file) {
  const LoadLimits limits{
      .image_top = kern::VirtAddr(boot_caps::kStackTop - (boot_caps::kStackPages + 1) * kPage)};
  auto plan = make_load_plan(file, limits);
  if (!plan) {
    os::print("procmgr: {}: not a loadable ELF: {}\n", s.name, posix::errno_name(plan.error()));
    return 0;
  }
  for (const LoadRegion& region : plan->load_regions()) {
    const uint64_t pages = region.page_count();
    if (pages > kMaxBatch) {
      os::print("procmgr: {}: region at {:#x} too large ({} pages)\n", s.name, region.start.value(), pages);
      return 0;
    }
    const uint64_t frames = make(ObjectType::Frame, 0, pages, "image frames");
    if (frames == 0) return 0;
    if (!check(os::vspace_map(kRootVSpace, kWindowVa, kRoot, frames, pages, kRW), s.name, "map window")) return 0;
    auto* window = reinterpret_cast<uint8_t*>(kWindowVa);
    for (uint64_t i = 0; i < pages; ++i) {
      fill_page(region, region.start + i * kPage, file, std::span<uint8_t, kPageSize>(window + i * kPage, kPage));
    }
    if (!check(status(os::vspace_unmap(kRootVSpace, kWindowVa, pages * kPage)), s.name, "unmap window")) return 0;
    if (!check(os::vspace_map(s.vspace, region.start.value(), kRoot, frames, pages, perm_of(region)), s.name,
               "map image")) {
      return 0;
    }
  }
  return plan->entry.value();
}

// The objects every server has: CNode, VSpace with its table pool, main
// thread and helper thread (configured, not started), service endpoint (Read
// only in its CNode; procmgr keeps a badged Write copy), its own CNode and
// VSpace caps, a cap to procmgr's endpoint for its helper, image, stack and
// the two IPC buffers.
bool build(Server& s, const kern::cpio::Archive& archive, uint64_t procmgr_ep, uint64_t table_bits,
           uint64_t& entry) {
  const auto file = archive.find(s.path);
  if (!file) {
    os::print("procmgr: {}: {} is not in the boot archive\n", s.name, s.path);
    return false;
  }
  s.cnode = g_blocks.carve(ObjectType::CNode, s.cnode_radix, s.cnode_radix + 5, "server cnode");
  s.vspace = s.cnode ? make(ObjectType::VSpace, 0, 1, "server vspace") : 0;
  const uint64_t pool = s.vspace ? g_blocks.carve(ObjectType::Untyped, table_bits, table_bits, "server table pool") : 0;
  if (pool == 0 || !check(os::vspace_set_table_pool(s.vspace, pool), s.name, "set table pool")) return false;
  s.tcb = make(ObjectType::Tcb, 0, 2, "server threads");
  s.helper = s.tcb + 1;
  s.endpoint = s.tcb ? make(ObjectType::Endpoint, 0, 1, "server endpoint") : 0;
  s.client = s.endpoint ? slots().take() : 0;
  const uint64_t fault_cap = s.client ? slots().take() : 0;
  if (fault_cap == 0 ||
      !check(os::cnode_copy(s.cnode, boot_caps::kServiceEndpoint, kRoot, s.endpoint, Rights::Read), s.name,
             "give endpoint") ||
      !check(os::cnode_mint(kRoot, s.client, kRoot, s.endpoint, Rights::Write, msg::kProcmgrBadge), s.name,
             "mint client cap") ||
      !check(os::cnode_mint(kRoot, fault_cap, kRoot, procmgr_ep, Rights::Write, s.fault_badge), s.name,
             "mint fault cap") ||
      !check(os::cnode_copy(s.cnode, boot_caps::kSelfCNode, kRoot, s.cnode, Rights::All), s.name, "give cnode") ||
      !check(os::cnode_copy(s.cnode, boot_caps::kSelfVSpace, kRoot, s.vspace, Rights::All), s.name,
             "give vspace") ||
      !check(os::cnode_mint(s.cnode, boot_caps::kProcmgrEndpoint, kRoot, procmgr_ep, Rights::Write, s.helper_badge),
             s.name, "give procmgr endpoint")) {
    return false;
  }

  entry = load_image(s, file->data);
  if (entry == 0) return false;

  // Stack pages, then the two IPC buffer pages (boot_caps.h puts an unmapped
  // page between the stack and them).
  const uint64_t frames = make(ObjectType::Frame, 0, boot_caps::kStackPages + 2, "stack frames");
  if (frames == 0) return false;
  const uint64_t ipc = frames + boot_caps::kStackPages;
  const uint64_t helper_ipc = ipc + 1;
  const bool ok =
      check(os::vspace_map(s.vspace, boot_caps::kStackTop - boot_caps::kStackPages * kPage, kRoot, frames,
                           boot_caps::kStackPages, kRW),
            s.name, "map stack") &&
      check(os::vspace_map(s.vspace, boot_caps::kIpcBufferVa, kRoot, ipc, 2, kRW), s.name, "map ipc buffers") &&
      check(os::tcb_configure(s.tcb, s.cnode, s.vspace, ipc, boot_caps::kIpcBufferVa, fault_cap), s.name,
            "configure thread") &&
      check(os::tcb_configure(s.helper, s.cnode, s.vspace, helper_ipc, boot_caps::kHelperIpcBufferVa, fault_cap),
            s.name, "configure helper") &&
      // Its maximum is its priority: it cannot raise itself.
      check(status(os::invoke(s.tcb, uapi::Label::TcbSetPriority, {kServerPriority, kServerPriority})), s.name,
            "set priority") &&
      check(status(os::invoke(s.helper, uapi::Label::TcbSetPriority, {kHelperPriority, kHelperPriority})), s.name,
            "set helper priority") &&
      check(os::cnode_copy(s.cnode, boot_caps::kHelperTcb, kRoot, s.helper, Rights::All), s.name, "give helper");
  (void)os::cnode_delete(kRoot, fault_cap);
  return ok;
}

bool start(Server& s, uint64_t entry, uint64_t a0, uint64_t a1) {
  // mr0 = pc, mr1.. = x1..: ra, sp, gp, tp, t0..t2, s0, s1, a0, a1.
  return check(status(os::invoke(s.tcb, uapi::Label::TcbWriteRegisters,
                                 {entry, 0, boot_caps::kStackTop, 0, 0, 0, 0, 0, 0, 0, a0, a1})),
               s.name, "write registers") &&
         check(os::tcb_resume(s.tcb), s.name, "resume");
}

bool ping(const Server& s) {
  const os::SyscallResult r = os::syscall(Syscall::Call, s.client, MessageInfo::make(1, 1), kPingWord);
  if (r.info.is_error() || r.info.label() != 0 || r.mr[0] != kPingWord) {
    os::print("procmgr: {} gave a bad answer to ping (label {}, mr0 {:#x})\n", s.name, r.info.label(), r.mr[0]);
    return false;
  }
  os::print("procmgr: {} answered\n", s.name);
  return true;
}

// The exchange area and the mailbox, shared with the pager.
bool give_pager_exchange(Server& s, BootServers& out) {
  const uint64_t pages = pager::protocol::kExchangePages;
  const uint64_t frames = make(ObjectType::Frame, 0, pages, "exchange frames");
  out.mailbox = make(ObjectType::CNode, pager::protocol::kMailboxRadix, 1, "mailbox");
  if (frames == 0 || out.mailbox == 0 ||
      !check(os::vspace_map(kRootVSpace, kExchangeVa, kRoot, frames, pages, kRW), s.name, "map exchange") ||
      !check(os::cnode_copy(s.cnode, boot_caps::kPagerMailbox, kRoot, out.mailbox, Rights::All), s.name,
             "give mailbox")) {
    return false;
  }
  for (uint64_t i = 0; i < pages; ++i) {
    if (!check(os::cnode_copy(s.cnode, boot_caps::kPagerExchangeFirst + i, kRoot, frames + i, Rights::All), s.name,
               "give exchange frame")) {
      return false;
    }
  }
  out.exchange_va = kExchangeVa;
  return true;
}

// vfs's console (the UART's registers as a Frame from the device Untyped
// that covers them, and its IrqHandler bound to a notification vfs may only
// wait on), a Write cap to its own endpoint for its console thread, and the
// boot archive mapped read-only.
bool give_vfs_caps(Server& s, const uapi::BootInfo& info) {
  uint64_t device = 0;
  for (uint64_t i = 0; i < info.untyped.count; ++i) {
    const auto& u = info.untyped_list[i];
    if (u.device && u.paddr == info.uart_paddr) device = info.untyped.first + i;
  }
  if (device == 0) {
    os::print("procmgr: vfs: no device Untyped at the UART ({:#x})\n", info.uart_paddr);
    return false;
  }
  const uint64_t uart = slots().take();
  const uint64_t handler = slots().take();
  if (handler == 0 || !check(os::retype(device, ObjectType::Frame, 0, 1, kRoot, uart), s.name, "uart frame")) {
    return false;
  }
  const uint64_t notification = make(ObjectType::Notification, 0, 1, "uart notification");
  if (notification == 0 ||
      !check(os::vspace_map(s.vspace, boot_caps::kVfsUartVa, kRoot, uart, 1, kRW), s.name, "map uart") ||
      !check(os::cnode_move(s.cnode, boot_caps::kVfsUartFrame, kRoot, uart), s.name, "give uart frame") ||
      !check(status(os::invoke(static_cast<uint64_t>(uapi::BootSlot::IrqControl), uapi::Label::IrqControlGet,
                               {info.uart_irq, handler}, {kRoot})),
             s.name, "get uart irq") ||
      !check(status(os::invoke(handler, uapi::Label::IrqHandlerSetNotification, {}, {notification})), s.name,
             "bind uart irq") ||
      !check(os::cnode_move(s.cnode, boot_caps::kVfsUartIrq, kRoot, handler), s.name, "give uart irq") ||
      !check(os::cnode_copy(s.cnode, boot_caps::kVfsUartNotification, kRoot, notification, Rights::Read), s.name,
             "give uart notification") ||
      !check(os::cnode_mint(s.cnode, boot_caps::kVfsConsoleEndpoint, kRoot, s.endpoint, Rights::Write,
                            msg::kConsoleBadge),
             s.name, "give console endpoint")) {
    return false;
  }
  for (uint64_t done = 0; done < info.archive_frames.count; done += kMaxBatch) {
    const uint64_t n = info.archive_frames.count - done < kMaxBatch ? info.archive_frames.count - done : kMaxBatch;
    if (!check(os::vspace_map(s.vspace, boot_caps::kVfsArchiveVa + done * kPage, kRoot,
                              info.archive_frames.first + done, n, kR),
               s.name, "map archive")) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool start_servers(const uapi::BootInfo& info, const kern::cpio::Archive& archive, uint64_t endpoint,
                   BootServers& out) {
  Server& pager = out.pager;
  pager.fault_badge = msg::kServerBit | 0x10;
  pager.helper_badge = msg::kPagerBadge;
  Server& vfs = out.vfs;
  vfs.fault_badge = msg::kServerBit | 0x11;
  vfs.cnode_radix = boot_caps::kVfsCNodeRadix;
  vfs.helper_badge = msg::kConsoleBadge;

  // Memory (docs/boot.md, "How memory is split"): vfs's pool first, an
  // Untyped of 1/64 of RAM (rounded up to a power of two), at most 16 MiB;
  // then the pager's CNode, with a slot per page of the rest and more, and
  // its table pool, for a direct map of all of it; then every block with
  // room for a chunk, moved whole into the pager's CNode (Untyped caps
  // cannot be copied), largest first, a0 = how many.
  g_blocks.init(info, untyped());
  uint64_t ram = 0;
  for (uint64_t i = 0; i < info.untyped.count; ++i) {
    if (!info.untyped_list[i].device) ram += uint64_t{1} << info.untyped_list[i].size_bits;
  }
  const uint64_t vfs_bits = ceil_log2(ram) - 6 < 24 ? ceil_log2(ram) - 6 : 24;
  const uint64_t vfs_pool = g_blocks.carve(ObjectType::Untyped, vfs_bits, vfs_bits, "vfs pool");
  if (vfs_pool == 0) return false;

  const uint64_t chunks = g_blocks.pager_chunks();
  const uint64_t radix = ceil_log2(boot_caps::kPagerFirstFree + kPagerSlotsPerChunk * chunks + 32);
  pager.cnode_radix = radix < kMaxCNodeRadix ? radix : kMaxCNodeRadix;
  if (pager.cnode_radix < boot_caps::kCNodeRadix) pager.cnode_radix = boot_caps::kCNodeRadix;

  os::print("procmgr: starting pager\n");
  uint64_t entry = 0;
  if (!build(pager, archive, endpoint, table_pool_bits(chunks * kPagerChunk), entry)) return false;
  uint64_t pools = 0;
  for (uint64_t i = 0; i < g_blocks.count() && pools < boot_caps::kPagerMaxPools; ++i) {
    if (!g_blocks.has_chunk(i)) continue;
    if (!check(os::cnode_move(pager.cnode, boot_caps::kPagerPoolFirst + pools, kRoot, g_blocks.slot(i)), pager.name,
               "give memory pool")) {
      return false;
    }
    g_blocks.given(i);
    ++pools;
  }
  if (pools == 0) {
    os::print("procmgr: pager: no RAM Untyped left for its pool\n");
    return false;
  }
  if (!give_pager_exchange(pager, out) || !start(pager, entry, pools, pager.cnode_radix) || !ping(pager)) {
    return false;
  }

  os::print("procmgr: starting vfs\n");
  if (!build(vfs, archive, endpoint, table_pool_bits((uint64_t{1} << vfs_bits) + info.archive_size), entry) ||
      !check(os::cnode_move(vfs.cnode, boot_caps::kPool, kRoot, vfs_pool), vfs.name, "give memory pool") ||
      !give_vfs_caps(vfs, info) || !start(vfs, entry, vfs_bits, info.archive_size) || !ping(vfs)) {
    return false;
  }
  return true;
}

}  // namespace procmgr
