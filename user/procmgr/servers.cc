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
  s.cnode = make(ObjectType::CNode, s.cnode_radix, 1, "server cnode");
  s.vspace = s.cnode ? make(ObjectType::VSpace, 0, 1, "server vspace") : 0;
  const uint64_t pool = s.vspace ? make(ObjectType::Untyped, table_bits, 1, "server table pool") : 0;
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
  vfs.helper_badge = msg::kConsoleBadge;

  // The pager's pool: the largest RAM Untyped procmgr does not carve from,
  // moved whole into the pager's CNode (Untyped caps cannot be copied). Its
  // CNode has a slot per page of the pool.
  const auto choice = os::largest_ram_untyped(info, untyped());
  if (!choice) {
    os::print("procmgr: pager: no RAM Untyped left for its pool\n");
    return false;
  }
  const uint64_t pool_bits = choice->size_bits;
  pager.cnode_radix = pool_bits - 12 + 1 < 20 ? pool_bits - 12 + 1 : 20;
  if (pager.cnode_radix < boot_caps::kCNodeRadix) pager.cnode_radix = boot_caps::kCNodeRadix;

  os::print("procmgr: starting pager\n");
  uint64_t entry = 0;
  if (!build(pager, archive, endpoint, table_pool_bits(uint64_t{1} << pool_bits), entry) ||
      !check(os::cnode_move(pager.cnode, boot_caps::kPool, kRoot, choice->slot), pager.name, "give memory pool") ||
      !give_pager_exchange(pager, out) || !start(pager, entry, pool_bits, pager.cnode_radix) || !ping(pager)) {
    return false;
  }

  // vfs's memory for files: an eighth of procmgr's Untyped, at most 16 MiB.
  uint64_t untyped_bits = 0;
  for (uint64_t i = 0; i < info.untyped.count; ++i) {
    if (info.untyped.first + i == untyped()) untyped_bits = info.untyped_list[i].size_bits;
  }
  const uint64_t vfs_bits = untyped_bits - 3 < 24 ? untyped_bits - 3 : 24;
  os::print("procmgr: starting vfs\n");
  const uint64_t vfs_pool = make(ObjectType::Untyped, vfs_bits, 1, "vfs pool");
  if (vfs_pool == 0 ||
      !build(vfs, archive, endpoint, table_pool_bits((uint64_t{1} << vfs_bits) + info.archive_size), entry) ||
      !check(os::cnode_move(vfs.cnode, boot_caps::kPool, kRoot, vfs_pool), vfs.name, "give memory pool") ||
      !give_vfs_caps(vfs, info) || !start(vfs, entry, vfs_bits, info.archive_size) || !ping(vfs)) {
    return false;
  }
  return true;
}

}  // namespace procmgr
