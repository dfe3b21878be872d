// The pager, started by procmgr from the boot archive (bin/pager): it owns
// the memory pool and every process's address space (servers/pager). This
// file is the part that touches the kernel: the invocations as os::invoke
// calls, start-up, the receive loop, and the helper thread that reports
// fatal faults to procmgr.
//
// Start-up (servers/common/boot_caps.h): a0 = the number of pool Untypeds,
// in kPagerPoolFirst on. The CNode's radix is found by probing (a CNodeCopy
// of a slot onto itself changes nothing and fails with RangeError only
// beyond the CNode), so the pager does not depend on a1. The exchange frames
// are mapped at kPagerExchangeVa, the pools are carved (MemoryPool), a
// notification made for the helper, which is then started.
//
// Threads. The main thread serves the endpoint and never calls procmgr:
// procmgr may be blocked in a Call to the pager at that moment. A fault it
// cannot resolve is left without a reply (the thread stays blocked until
// procmgr destroys it) and queued for the helper, which Calls procmgr with
// Label::Fault, one report at a time.
#include <cstdint>
#include <new>

#include "common/boot_caps.h"
#include "common/message.h"
#include "common/posix_errno.h"
#include "os/kernel.h"
#include "os/print.h"
#include "os/syscall.h"
#include "pager/fault_report.h"
#include "pager/invocations.h"
#include "pager/memory_pool.h"
#include "pager/policy.h"
#include "pager/protocol.h"
#include "pager/server.h"
#include "procmgr/protocol.h"

namespace {

using uapi::Label;
using uapi::MessageInfo;
using uapi::Syscall;

// ---- The invocations ---------------------------------------------------------

kern::Error error_of(uapi::Error e) { return static_cast<kern::Error>(static_cast<uint8_t>(e)); }

template <typename T>
kern::Status status_of(const os::Result<T>& r) {
  if (!r) return kern::fail(error_of(r.error()));
  return {};
}

class KernelInvocations final : public pager::Invocations {
 public:
  kern::Status retype(uint64_t untyped, uapi::ObjectType type, uint64_t size_bits, uint64_t count, uint64_t cnode,
                      uint64_t first_slot) override {
    return status_of(os::invoke(untyped, Label::UntypedRetype,
                                {static_cast<uint64_t>(type), size_bits, count, first_slot}, {cnode}));
  }
  kern::Status cnode_copy(uint64_t cnode, uint64_t dest, uint64_t src_cnode, uint64_t src) override {
    return status_of(
        os::invoke(cnode, Label::CNodeCopy, {dest, src, static_cast<uint64_t>(uapi::Rights::All)}, {src_cnode}));
  }
  kern::Status cnode_delete(uint64_t cnode, uint64_t index) override {
    return status_of(os::invoke(cnode, Label::CNodeDelete, {index}));
  }
  kern::Status cnode_revoke(uint64_t cnode, uint64_t index) override {
    return status_of(os::invoke(cnode, Label::CNodeRevoke, {index}));
  }
  kern::Result<uint64_t> frame_paddr(uint64_t frame) override {
    const auto r = os::invoke(frame, Label::FrameGetInfo, {});
    if (!r) return kern::fail(error_of(r.error()));
    return r->mr[0];
  }
  kern::Status set_table_pool(uint64_t vspace, uint64_t untyped) override {
    return status_of(os::invoke(vspace, Label::VSpaceSetTablePool, {}, {untyped}));
  }
  kern::Status map(uint64_t vspace, uint64_t va, uint64_t cnode, uint64_t first, uint64_t count,
                   uint64_t perm) override {
    return status_of(os::invoke(vspace, Label::VSpaceMap, {va, first, count, perm}, {cnode}));
  }
  kern::Result<uint64_t> unmap(uint64_t vspace, uint64_t va, uint64_t length) override {
    const auto r = os::invoke(vspace, Label::VSpaceUnmap, {va, length});
    if (!r) return kern::fail(error_of(r.error()));
    return r->mr[0];
  }
  kern::Result<uint64_t> protect(uint64_t vspace, uint64_t va, uint64_t length, uint64_t perm) override {
    const auto r = os::invoke(vspace, Label::VSpaceProtect, {va, length, perm});
    if (!r) return kern::fail(error_of(r.error()));
    return r->mr[0];
  }
  kern::Result<pager::CopyRangeResult> copy_range(uint64_t src, uint64_t dst, uint64_t va, uint64_t length,
                                                  uapi::CopyMode mode) override {
    const auto r = os::invoke(src, Label::VSpaceCopyRange, {va, length, static_cast<uint64_t>(mode)}, {dst});
    if (!r) return kern::fail(error_of(r.error()));
    return pager::CopyRangeResult{r->mr[0], r->mr[1]};
  }
  kern::Result<pager::RawPageInfo> lookup(uint64_t vspace, uint64_t va) override {
    const auto r = os::invoke(vspace, Label::VSpaceLookup, {va});
    if (!r) return kern::fail(error_of(r.error()));
    return pager::RawPageInfo{r->mr[0], r->mr[1], r->mr[2] != 0, r->mr[3]};
  }
  kern::Result<uint64_t> copy_page(uint64_t vspace, uint64_t va, uint64_t frame, uint64_t perm) override {
    const auto r = os::invoke(vspace, Label::VSpaceCopyPage, {va, perm}, {frame});
    if (!r) return kern::fail(error_of(r.error()));
    return r->mr[0];
  }
  kern::Result<pager::RawScan> scan(uint64_t vspace, uint64_t va, uint64_t length, uint64_t flags,
                                    uint64_t threshold, std::span<uint64_t, pager::kScanMaxReport> out) override {
    const auto r = os::invoke(vspace, Label::VSpaceScan, {va, length, flags, threshold});
    if (!r) return kern::fail(error_of(r.error()));
    const uint64_t count = r->mr[2] < out.size() ? r->mr[2] : out.size();
    for (uint64_t i = 0; i < count; ++i) out[i] = r->mr[3 + i];
    return pager::RawScan{r->mr[0], r->mr[1], count};
  }
};

// ---- Fault reports and the helper thread --------------------------------------

// More than one report per address space can be pending only when an id is
// reused before the helper got to the old one: twice the table is ample.
constexpr size_t kRingCapacity = 2 * 512;
static_assert(kRingCapacity >= 2 * pager::SpaceTable::kMaxSpaces);

pager::FaultRing<kRingCapacity> g_ring;
uint64_t g_notification = 0;

class RingSink final : public pager::FaultSink {
 public:
  void report(const pager::FaultReport& r) override {
    if (!g_ring.push(r)) {
      os::print("pager: fault report ring full, lost the report of space {} (signal {})\n", r.id, r.signal);
      return;
    }
    // Send on a notification signals it and never blocks.
    os::syscall(Syscall::Send, g_notification, MessageInfo{});
  }
};

constexpr size_t kHelperStackBytes = 8192;
alignas(16) uint8_t g_helper_stack[kHelperStackBytes];

[[noreturn]] void helper_main(uint64_t notification) {
  auto* buffer = reinterpret_cast<uapi::IpcBuffer*>(boot_caps::kHelperIpcBufferVa);
  const uint64_t label = static_cast<uint64_t>(procmgr::protocol::Label::Fault);
  for (;;) {
    os::syscall(Syscall::Recv, notification, MessageInfo{});
    while (const auto report = g_ring.pop()) {
      const uint64_t words[4] = {report->id, report->signal, report->pc, report->address};
      const os::Reply r = os::call_raw(buffer, boot_caps::kProcmgrEndpoint, label, 4, words, 0, nullptr);
      if (r.info.is_error() || msg::result_of(r.mr[0]) < 0) {
        os::print("pager: procmgr refused the fault report of space {}\n", report->id);
      }
    }
  }
}

bool start_helper(uint64_t notification) {
  const uint64_t pc = reinterpret_cast<uint64_t>(&helper_main);
  const uint64_t sp = reinterpret_cast<uint64_t>(g_helper_stack + kHelperStackBytes);
  return os::tcb_write_registers(boot_caps::kHelperTcb, pc, sp, notification) &&
         os::tcb_resume(boot_caps::kHelperTcb);
}

// ---- Start-up --------------------------------------------------------------

// Whether slot `index` exists in the pager's CNode: a copy of the slot onto
// itself is refused with RangeError beyond the CNode, and otherwise with
// FailedLookup (empty) or DeleteFirst (occupied), changing nothing.
bool slot_exists(uint64_t index) {
  const auto r = os::invoke(boot_caps::kSelfCNode, Label::CNodeCopy,
                            {index, index, static_cast<uint64_t>(uapi::Rights::All)}, {boot_caps::kSelfCNode});
  return r || r.error() != uapi::Error::RangeError;
}

uint64_t probe_radix() {
  uint64_t radix = 0;
  for (uint64_t bits = 1; bits <= 20; ++bits) {
    if (!slot_exists((uint64_t{1} << bits) - 1)) break;
    radix = bits;
  }
  return radix;
}

// Static storage for the big objects: no constructors run before main, none
// at exit (the server never returns).
alignas(pager::MemoryPool) unsigned char g_pool_storage[sizeof(pager::MemoryPool)];
alignas(pager::Server) unsigned char g_server_storage[sizeof(pager::Server)];
KernelInvocations g_kernel;
RingSink g_sink;

pager::Request receive_request(const os::SyscallResult& r) {
  pager::Request request{.badge = r.badge, .label = r.info.label(), .length = r.info.length(), .mr = {}};
  if (request.length > uapi::kMaxMessageLength) request.length = uapi::kMaxMessageLength;
  for (uint64_t i = 0; i < 4; ++i) request.mr[i] = r.mr[i];
  const uapi::IpcBuffer* buffer = os::ipc_buffer();
  for (uint64_t i = 4; i < 6 && i < request.length; ++i) request.mr[i] = buffer->mr[i];
  return request;
}

}  // namespace

int main(uint64_t pool_count) {
  os::set_ipc_buffer(reinterpret_cast<uapi::IpcBuffer*>(boot_caps::kIpcBufferVa));

  const uint64_t radix = probe_radix();
  const os::Status exchange_mapped =
      os::vspace_map(boot_caps::kSelfVSpace, boot_caps::kPagerExchangeVa, boot_caps::kSelfCNode,
                     boot_caps::kPagerExchangeFirst, pager::protocol::kExchangePages,
                     uint64_t(uapi::MapPerm::Read) | uint64_t(uapi::MapPerm::Write));
  if (!exchange_mapped) {
    os::print("pager: cannot map the exchange area: {}\n",
              kern::error_name(error_of(exchange_mapped.error())));
  }

  auto* pool = new (g_pool_storage) pager::MemoryPool();
  static_assert(boot_caps::kPagerPoolFirst == boot_caps::kPagerExchangeFirst + pager::protocol::kExchangePages);
  static_assert(boot_caps::kPagerMaxPools == pager::MemoryPool::kMaxPools);
  const pager::PoolConfig config{
      .first_pool = boot_caps::kPagerPoolFirst,
      .pool_count = pool_count,
      .cnode = boot_caps::kSelfCNode,
      .vspace = boot_caps::kSelfVSpace,
      .first_slot = boot_caps::kPagerFirstFree,
      .slot_limit = uint64_t{1} << radix,
      .direct_map_va = boot_caps::kServerHeapVa,
      .direct_map = reinterpret_cast<uint8_t*>(boot_caps::kServerHeapVa),
  };
  if (const kern::Status s = pool->init(g_kernel, config); !s) {
    os::print("pager: cannot carve the pool ({} Untypeds, CNode radix {}): {}\n", pool_count, radix,
              kern::error_name(s.error()));
  }

  const auto notification = pool->make_object(uapi::ObjectType::Notification, 0);
  if (notification) {
    g_notification = *notification;
    if (!start_helper(*notification)) os::print("pager: cannot start the helper thread\n");
  } else {
    os::print("pager: no notification for the helper: fatal faults will not be reported\n");
  }

  auto* server = new (g_server_storage) pager::Server(
      g_kernel, *pool, g_sink,
      pager::ServerConfig{.cnode = boot_caps::kSelfCNode,
                          .mailbox = boot_caps::kPagerMailbox,
                          .exchange = {reinterpret_cast<uint8_t*>(boot_caps::kPagerExchangeVa),
                                       exchange_mapped ? pager::protocol::kExchangeBytes : 0}});
  os::print("pager: up, {} KiB of memory, {} policies\n", pool->total_bytes() >> 10,
            pager::registered_policies().size());

  // Serve: a request answered is replied to by the reply half of the next
  // ReplyRecv; a fault left unanswered is followed by a plain Recv, which
  // drops the faulting thread's reply link (it stays blocked).
  uint64_t reported_errors = 0;
  os::SyscallResult message = os::syscall(Syscall::Recv, boot_caps::kServiceEndpoint, MessageInfo{});
  for (;;) {
    if (message.info.is_error()) {
      message = os::syscall(Syscall::Recv, boot_caps::kServiceEndpoint, MessageInfo{});
      continue;
    }
    const pager::Response response = server->handle(receive_request(message));
    const uint64_t errors = server->internal_errors() + pool->bad_frees();
    if (errors != reported_errors) {
      os::print("pager: {} internal errors so far (kernel failures while releasing, bad frees)\n", errors);
      reported_errors = errors;
    }
    if (!response.send) {
      message = os::syscall(Syscall::Recv, boot_caps::kServiceEndpoint, MessageInfo{});
      continue;
    }
    uapi::IpcBuffer* buffer = os::ipc_buffer();
    for (uint64_t i = 4; i < response.length; ++i) buffer->mr[i] = response.mr[i];
    message = os::syscall(Syscall::ReplyRecv, boot_caps::kServiceEndpoint, MessageInfo::make(0, response.length),
                          response.mr[0], response.mr[1], response.mr[2], response.mr[3]);
  }
}
