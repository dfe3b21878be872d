// procmgr, the process manager, run as the root task (bootargs
// roottask=bin/procmgr). Today it does the first step of booting the system
// (issue 4, item 1): it starts the pager and vfs from the boot archive, each
// in its own CSpace and VSpace with only the capabilities
// servers/common/boot_caps.h lists, pings each over its protocol, and then
// either powers off (bootargs "procmgr.exit", for the system test) or
// receives the servers' faults and reports them.
//
// Every object comes from the largest RAM Untyped, carved in procmgr's own
// CNode and then copied, minted or moved into a server's CNode: the kernel
// looks up a cptr only in the caller's CSpace, so procmgr can invoke only
// what sits in its own.
#include <cstdint>
#include <span>
#include <string_view>

#include "common/boot_caps.h"
#include "lib/cpio.h"
#include "lib/result.h"
#include "lib/bootargs.h"
#include "os/boot_info.h"
#include "os/kernel.h"
#include "os/print.h"
#include "os/syscall.h"
#include "pager/protocol.h"
#include "procmgr/loader.h"
#include "vfs/protocol.h"

namespace {

using uapi::BootSlot;
using uapi::MessageInfo;
using uapi::ObjectType;
using uapi::Rights;
using uapi::Syscall;

constexpr uint64_t slot(BootSlot s) { return static_cast<uint64_t>(s); }
constexpr uint64_t kRoot = slot(BootSlot::RootCNode);
constexpr uint64_t kRootVSpace = slot(BootSlot::RootVSpace);
constexpr uint64_t kPage = kern::kPageSize;

// procmgr's window onto frames it fills before handing them to a server:
// above the archive (kRootArchive) with room for the largest batch, 256
// pages (the most one VSpaceMap takes).
constexpr uint64_t kWindowVa = 0x4000'0000;
constexpr uint64_t kMaxBatch = 256;

// Below procmgr (255), so a server runs only while procmgr waits on it,
// and the boot log stays in order.
constexpr uint64_t kServerPriority = 100;
// Each server VSpace's page-table pool: 16 tables, ample for an image, a
// stack and a few device pages (each table maps 2 MiB).
constexpr uint64_t kTablePoolBits = 16;

constexpr uint64_t kRW = uint64_t(uapi::MapPerm::Read) | uint64_t(uapi::MapPerm::Write);
constexpr uint64_t kRX = uint64_t(uapi::MapPerm::Read) | uint64_t(uapi::MapPerm::Execute);
constexpr uint64_t kR = uint64_t(uapi::MapPerm::Read);
constexpr uint64_t kRWX = kRW | uint64_t(uapi::MapPerm::Execute);

// Badges: on each server's service endpoint, procmgr's calls carry this one
// (later, libos clients get their own); on procmgr's fault endpoint, each
// server's faults carry its Server::badge.
constexpr uint64_t kProcmgrClientBadge = 1;
constexpr uint64_t kPingWord = 0x70696e67;  // "ping"


const char* error_text(uapi::Error e) { return kern::error_name(static_cast<kern::Error>(e)); }

// Reports a failed step; callers chain steps with && and stop at the first.
bool check(const os::Status& s, const char* server, const char* what) {
  if (!s) os::print("procmgr: {}: {} failed: {}\n", server, what, error_text(s.error()));
  return static_cast<bool>(s);
}

template <typename T>
os::Status status(const os::Result<T>& r) {
  if (!r) return std::unexpected(r.error());
  return {};
}

// Slots of procmgr's CNode and the Untyped objects are carved from.
struct Allocator {
  uint64_t next_slot;
  uint64_t limit;
  uint64_t untyped;
  uint64_t untyped_bits;

  // `count` consecutive free slots, 0 when the CNode is full.
  uint64_t take(uint64_t count = 1) {
    if (next_slot + count > limit) return 0;
    const uint64_t first = next_slot;
    next_slot += count;
    return first;
  }
  // `count` new objects in fresh slots of procmgr's CNode; 0 on failure.
  uint64_t make(ObjectType type, uint64_t size_bits, uint64_t count, const char* server, const char* what) {
    const uint64_t first = take(count);
    if (first == 0) {
      os::print("procmgr: {}: {}: out of slots\n", server, what);
      return 0;
    }
    return check(os::retype(untyped, type, size_bits, count, kRoot, first), server, what) ? first : 0;
  }
};

struct Server {
  const char* name;
  const char* path;   // in the boot archive
  uint64_t badge;     // of its faults on procmgr's fault endpoint
  uint64_t cnode = 0, vspace = 0, tcb = 0, endpoint = 0;
  uint64_t client = 0;  // procmgr's badged Write copy of the service endpoint
  uint64_t ipc_frame = 0;
};

uint64_t perm_of(const procmgr::LoadRegion& region) {
  if (region.write_execute) return kRWX;
  switch (region.kind) {
    case procmgr::RegionKind::Text: return kRX;
    case procmgr::RegionKind::Rodata: return kR;
    case procmgr::RegionKind::Data:
    case procmgr::RegionKind::Bss: return kRW;
  }
  return kR;
}

// Loads the server's ELF into fresh frames mapped in its VSpace with each
// region's permissions. Returns the entry point, 0 on failure. The frames
// are filled through procmgr's window, then unmapped from it, so procmgr
// keeps no mapping of the server's memory.
uint64_t load_image(Allocator& alloc, Server& s, std::span<const uint8_t> file) {
  // The image must end below the stack's guard page.
  const procmgr::LoadLimits limits{
      .image_top = kern::VirtAddr(boot_caps::kStackTop - (boot_caps::kStackPages + 1) * kPage)};
  auto plan = procmgr::make_load_plan(file, limits);
  if (!plan) {
    os::print("procmgr: {}: not a loadable ELF: {}\n", s.name, posix::errno_name(plan.error()));
    return 0;
  }
  for (const procmgr::LoadRegion& region : plan->load_regions()) {
    const uint64_t pages = region.page_count();
    if (pages > kMaxBatch) {
      os::print("procmgr: {}: region at {:#x} too large ({} pages)\n", s.name, region.start.value(), pages);
      return 0;
    }
    const uint64_t frames = alloc.make(ObjectType::Frame, 0, pages, s.name, "image frames");
    if (frames == 0) return 0;
    if (!check(os::vspace_map(kRootVSpace, kWindowVa, kRoot, frames, pages, kRW), s.name, "map window")) return 0;
    auto* window = reinterpret_cast<uint8_t*>(kWindowVa);
    for (uint64_t i = 0; i < pages; ++i) {
      procmgr::fill_page(region, region.start + i * kPage, file,
                         std::span<uint8_t, procmgr::kPageSize>(window + i * kPage, kPage));
    }
    if (!check(status(os::vspace_unmap(kRootVSpace, kWindowVa, pages * kPage)), s.name, "unmap window")) return 0;
    if (!check(os::vspace_map(s.vspace, region.start.value(), kRoot, frames, pages, perm_of(region)), s.name,
               "map image")) {
      return 0;
    }
  }
  return plan->entry.value();
}

// The objects every server has: CNode, VSpace with its table pool, TCB,
// service endpoint (Read only in its CNode; procmgr keeps a badged Write
// copy), image, stack and IPC buffer. The thread is configured but not
// started: the server-specific caps go in first.
bool build(Allocator& alloc, Server& s, const kern::cpio::Archive& archive, uint64_t fault_ep, uint64_t& entry) {
  const auto file = archive.find(s.path);
  if (!file) {
    os::print("procmgr: {}: {} is not in the boot archive\n", s.name, s.path);
    return false;
  }
  s.cnode = alloc.make(ObjectType::CNode, boot_caps::kCNodeRadix, 1, s.name, "cnode");
  s.vspace = s.cnode ? alloc.make(ObjectType::VSpace, 0, 1, s.name, "vspace") : 0;
  const uint64_t pool = s.vspace ? alloc.make(ObjectType::Untyped, kTablePoolBits, 1, s.name, "table pool") : 0;
  if (pool == 0 || !check(os::vspace_set_table_pool(s.vspace, pool), s.name, "set table pool")) return false;
  s.tcb = alloc.make(ObjectType::Tcb, 0, 1, s.name, "tcb");
  s.endpoint = s.tcb ? alloc.make(ObjectType::Endpoint, 0, 1, s.name, "endpoint") : 0;
  s.client = s.endpoint ? alloc.take() : 0;
  const uint64_t fault_cap = s.client ? alloc.take() : 0;
  if (fault_cap == 0 ||
      !check(os::cnode_copy(s.cnode, boot_caps::kServiceEndpoint, kRoot, s.endpoint, Rights::Read), s.name,
             "give endpoint") ||
      !check(os::cnode_mint(kRoot, s.client, kRoot, s.endpoint, Rights::Write, kProcmgrClientBadge), s.name,
             "mint client cap") ||
      !check(os::cnode_mint(kRoot, fault_cap, kRoot, fault_ep, Rights::Write, s.badge), s.name, "mint fault cap")) {
    return false;
  }

  entry = load_image(alloc, s, file->data);
  if (entry == 0) return false;

  // Stack pages, then the IPC buffer page (boot_caps.h puts an unmapped
  // page between them, and make_load_plan's image_top keeps one below).
  const uint64_t frames = alloc.make(ObjectType::Frame, 0, boot_caps::kStackPages + 1, s.name, "stack frames");
  if (frames == 0) return false;
  s.ipc_frame = frames + boot_caps::kStackPages;
  return check(os::vspace_map(s.vspace, boot_caps::kStackTop - boot_caps::kStackPages * kPage, kRoot, frames,
                              boot_caps::kStackPages, kRW),
               s.name, "map stack") &&
         check(os::vspace_map(s.vspace, boot_caps::kIpcBufferVa, kRoot, s.ipc_frame, 1, kRW), s.name,
               "map ipc buffer") &&
         check(os::tcb_configure(s.tcb, s.cnode, s.vspace, s.ipc_frame, boot_caps::kIpcBufferVa, fault_cap), s.name,
               "configure tcb") &&
         // Its maximum is its priority: it cannot raise itself.
         check(status(os::invoke(s.tcb, uapi::Label::TcbSetPriority, {kServerPriority, kServerPriority})), s.name,
               "set priority");
}

bool start(Server& s, uint64_t entry, uint64_t arg) {
  return check(os::tcb_write_registers(s.tcb, entry, boot_caps::kStackTop, arg), s.name, "write registers") &&
         check(os::tcb_resume(s.tcb), s.name, "resume");
}

// The pager's own caps: its CNode and VSpace (to carve from its pool and
// map into itself) and the pool: the largest RAM Untyped procmgr does not
// carve from, moved whole into the pager's CNode (Untyped caps cannot be
// copied, and a move leaves procmgr no way to touch that memory). Returns
// log2 of the pool's size, 0 on failure.
uint64_t give_pager_caps(const Allocator& alloc, Server& s, const uapi::BootInfo& info) {
  const auto choice = os::largest_ram_untyped(info, alloc.untyped);
  const uint64_t pool = choice ? choice->slot : 0;
  const uint64_t bits = choice ? choice->size_bits : 0;
  if (pool == 0) {
    os::print("procmgr: pager: no RAM Untyped left for its pool\n");
    return 0;
  }
  const bool ok =
      check(os::cnode_copy(s.cnode, boot_caps::kSelfCNode, kRoot, s.cnode, Rights::All), s.name, "give cnode") &&
      check(os::cnode_copy(s.cnode, boot_caps::kSelfVSpace, kRoot, s.vspace, Rights::All), s.name, "give vspace") &&
      check(os::cnode_move(s.cnode, boot_caps::kPool, kRoot, pool), s.name, "give memory pool");
  return ok ? bits : 0;
}

// vfs's console: the UART's registers as a Frame from the device Untyped
// that covers them, mapped at kVfsUartVa and then moved to vfs (procmgr
// keeps no cap to the device); the UART's IrqHandler, bound to a
// notification vfs may only wait on.
bool give_vfs_caps(Allocator& alloc, Server& s, const uapi::BootInfo& info) {
  uint64_t device = 0;
  for (uint64_t i = 0; i < info.untyped.count; ++i) {
    const auto& u = info.untyped_list[i];
    if (u.device && u.paddr == info.uart_paddr) device = info.untyped.first + i;
  }
  if (device == 0) {
    os::print("procmgr: vfs: no device Untyped at the UART ({:#x})\n", info.uart_paddr);
    return false;
  }
  const uint64_t uart = alloc.take();
  const uint64_t handler = alloc.take();
  if (handler == 0 || !check(os::retype(device, ObjectType::Frame, 0, 1, kRoot, uart), s.name, "uart frame")) {
    return false;
  }
  const uint64_t notification = alloc.make(ObjectType::Notification, 0, 1, s.name, "uart notification");
  return notification != 0 &&
         check(os::vspace_map(s.vspace, boot_caps::kVfsUartVa, kRoot, uart, 1, kRW), s.name, "map uart") &&
         check(os::cnode_move(s.cnode, boot_caps::kVfsUartFrame, kRoot, uart), s.name, "give uart frame") &&
         check(status(os::invoke(slot(BootSlot::IrqControl), uapi::Label::IrqControlGet, {info.uart_irq, handler},
                                 {kRoot})),
               s.name, "get uart irq") &&
         check(status(os::invoke(handler, uapi::Label::IrqHandlerSetNotification, {}, {notification})), s.name,
               "bind uart irq") &&
         check(os::cnode_move(s.cnode, boot_caps::kVfsUartIrq, kRoot, handler), s.name, "give uart irq") &&
         check(os::cnode_copy(s.cnode, boot_caps::kVfsUartNotification, kRoot, notification, Rights::Read), s.name,
               "give uart notification");
}

// A Ping over the server's protocol: both protocols define it the same way.
bool ping(const Server& s, uint64_t label) {
  const os::SyscallResult r = os::syscall(Syscall::Call, s.client, MessageInfo::make(label, 1), kPingWord);
  if (r.info.is_error() || r.info.label() != 0 || r.mr[0] != kPingWord) {
    os::print("procmgr: {} gave a bad answer to ping (label {}, mr0 {:#x})\n", s.name, r.info.label(), r.mr[0]);
    return false;
  }
  os::print("procmgr: {} answered\n", s.name);
  return true;
}

// The kernel's name for a fault label, or ours for anything else.
const char* fault_name(uint64_t label) {
  const char* name = uapi::fault_name(label);
  return name != nullptr ? name : "unknown fault";
}

// The largest RAM Untyped: procmgr's source of every object (the kernel
// retyped procmgr's own objects from it, but it is still the roomiest).
bool pick_untyped(const uapi::BootInfo& info, Allocator& alloc) {
  const auto best = os::largest_ram_untyped(info);
  if (!best) return false;
  alloc.untyped = best->slot;
  alloc.untyped_bits = best->size_bits;
  return true;
}

}  // namespace

int main(uint64_t boot_info_address) {
  const auto& info = *reinterpret_cast<const uapi::BootInfo*>(boot_info_address);
  os::set_ipc_buffer(reinterpret_cast<uapi::IpcBuffer*>(info.ipc_buffer));
  if (info.magic != uapi::kBootInfoMagic) {
    os::print("procmgr: bad boot info magic\n");
    return 1;
  }
  os::print("procmgr: starting, archive {} bytes\n", info.archive_size);
  const uint64_t system_control = slot(BootSlot::SystemControl);
  const bool exit_when_up = kern::bootarg(info.bootargs, "procmgr.exit").has_value();
  auto fail = [&]() {
    os::print("procmgr: boot failed\n");
    if (exit_when_up) (void)os::system_shutdown(system_control, 1);
    return 1;
  };

  Allocator alloc{info.first_free_slot, uint64_t{1} << info.root_cnode_radix, 0, 0};
  if (!pick_untyped(info, alloc)) {
    os::print("procmgr: no RAM Untyped\n");
    return fail();
  }
  auto archive = kern::cpio::Archive::parse(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(info.archive_va), info.archive_size));
  if (!archive) {
    os::print("procmgr: malformed boot archive\n");
    return fail();
  }
  // Every server's faults come here, told apart by badge.
  const uint64_t fault_ep = alloc.make(ObjectType::Endpoint, 0, 1, "procmgr", "fault endpoint");
  if (fault_ep == 0) return fail();

  Server pager{.name = "pager", .path = "bin/pager", .badge = 1};
  Server vfs{.name = "vfs", .path = "bin/vfs", .badge = 2};

  // Each server is pinged as soon as it starts: it runs only while procmgr
  // waits for its answer, so the log shows each step in order.
  os::print("procmgr: starting pager\n");
  uint64_t entry = 0;
  if (!build(alloc, pager, *archive, fault_ep, entry)) return fail();
  const uint64_t pool_bits = give_pager_caps(alloc, pager, info);
  if (pool_bits == 0 || !start(pager, entry, pool_bits) ||
      !ping(pager, static_cast<uint64_t>(pager::protocol::Label::Ping))) {
    return fail();
  }

  os::print("procmgr: starting vfs\n");
  if (!build(alloc, vfs, *archive, fault_ep, entry) || !give_vfs_caps(alloc, vfs, info) || !start(vfs, entry, 0) ||
      !ping(vfs, static_cast<uint64_t>(vfs::protocol::Label::Ping))) {
    return fail();
  }
  os::print("procmgr: servers up\n");

  if (exit_when_up) {
    os::print("procmgr: powering off\n");
    (void)os::system_shutdown(system_control, 0);
  }
  // Report faults; the faulting server stays suspended (no reply), since a
  // boot server that faults has nothing sensible to resume to.
  for (;;) {
    const os::SyscallResult f = os::syscall(Syscall::Recv, fault_ep, MessageInfo{});
    const char* name = f.badge == pager.badge ? pager.name : f.badge == vfs.badge ? vfs.name : "unknown";
    os::print("procmgr: {} took a {}: pc {:#x}, {:#x}, {:#x}; left suspended\n", name, fault_name(f.info.label()),
              f.mr[0], f.mr[1], f.mr[2]);
  }
}
