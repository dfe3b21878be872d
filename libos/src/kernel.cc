// Kernel invocation clients (os/kernel.h).
#include "os/kernel.h"

#include "os/cpu.h"
#include "os/syscall.h"

namespace os {
namespace {

uapi::IpcBuffer* g_ipc_buffer = nullptr;

Status status_of(const Result<Reply>& r) {
  if (!r) return std::unexpected(r.error());
  return {};
}

Status status_of(const SyscallResult& r) {
  if (r.info.is_error()) return std::unexpected(static_cast<uapi::Error>(r.info.label()));
  return {};
}

}  // namespace

uapi::IpcBuffer* ipc_buffer() { return g_ipc_buffer; }
void set_ipc_buffer(uapi::IpcBuffer* buffer) { g_ipc_buffer = buffer; }

namespace {

// Words a reply did not carry read as zero up to kClearedWords (callers look
// at a few words past a short answer); beyond that they are left as they
// are: zeroing all 64 on every call was a tenth of a fork's instructions.
constexpr size_t kClearedWords = 8;
void clear_unsent(Reply& reply, size_t sent) {
  for (size_t i = sent; i < kClearedWords; ++i) reply.mr[i] = 0;
}

}  // namespace

Reply call_raw(uint64_t cptr, uint64_t label, size_t length, const uint64_t* mrs, size_t caps,
               const uint64_t* cap_cptrs) {
  uapi::IpcBuffer* buffer = g_ipc_buffer;
  uint64_t regs[4] = {};
  for (size_t i = 0; i < length; ++i) {
    if (i < 4) regs[i] = mrs[i];
    else if (buffer != nullptr && i < uapi::kMaxMessageLength) buffer->mr[i] = mrs[i];
  }
  for (size_t i = 0; i < caps && i < uapi::kMaxExtraCaps && buffer != nullptr; ++i) buffer->caps[i] = cap_cptrs[i];
  const auto info = uapi::MessageInfo::make(label, length, caps);
  const SyscallResult r = syscall(uapi::Syscall::Call, cptr, info, regs[0], regs[1], regs[2], regs[3]);
  Reply reply;
  reply.info = r.info;
  const size_t n = r.info.length() < uapi::kMaxMessageLength ? r.info.length() : uapi::kMaxMessageLength;
  for (size_t i = 0; i < n; ++i) reply.mr[i] = i < 4 ? r.mr[i] : (buffer != nullptr ? buffer->mr[i] : 0);
  clear_unsent(reply, n);
  return reply;
}

Reply call_raw(uapi::IpcBuffer* buffer, uint64_t cptr, uint64_t label, size_t length, const uint64_t* mrs,
               size_t caps, const uint64_t* cap_cptrs) {
  // Without a buffer only the four register words travel, and no caps.
  if (buffer == nullptr && length > uapi::kMessageRegistersInCpu) length = uapi::kMessageRegistersInCpu;
  if (buffer == nullptr) caps = 0;
  if (length > uapi::kMaxMessageLength) length = uapi::kMaxMessageLength;
  if (caps > uapi::kMaxExtraCaps) caps = uapi::kMaxExtraCaps;
  uint64_t regs[uapi::kMessageRegistersInCpu] = {};
  for (size_t i = 0; i < length; ++i) {
    if (i < uapi::kMessageRegistersInCpu) regs[i] = mrs[i];
    else buffer->mr[i] = mrs[i];
  }
  for (size_t i = 0; i < caps; ++i) buffer->caps[i] = cap_cptrs[i];
  const auto info = uapi::MessageInfo::make(label, length, caps);
  const SyscallResult r = syscall(uapi::Syscall::Call, cptr, info, regs[0], regs[1], regs[2], regs[3]);
  Reply reply;
  reply.info = r.info;
  size_t n = r.info.length() < uapi::kMaxMessageLength ? r.info.length() : uapi::kMaxMessageLength;
  if (buffer == nullptr && n > uapi::kMessageRegistersInCpu) n = uapi::kMessageRegistersInCpu;
  for (size_t i = 0; i < n; ++i) reply.mr[i] = i < uapi::kMessageRegistersInCpu ? r.mr[i] : buffer->mr[i];
  clear_unsent(reply, n);
  return reply;
}

Result<Reply> invoke(uint64_t cptr, uapi::Label label, std::initializer_list<uint64_t> mrs,
                     std::initializer_list<uint64_t> caps) {
  Reply reply = call_raw(cptr, static_cast<uint64_t>(label), mrs.size(), mrs.begin(), caps.size(), caps.begin());
  if (reply.info.is_error()) return std::unexpected(static_cast<uapi::Error>(reply.info.label()));
  return reply;
}

Status save_reply(uint64_t reply_cptr) {
  return status_of(syscall(uapi::Syscall::SaveReply, reply_cptr, uapi::MessageInfo{}));
}

Status send_reply(uint64_t reply_cptr, uapi::MessageInfo info, uint64_t mr0, uint64_t mr1, uint64_t mr2,
                  uint64_t mr3) {
  return status_of(syscall(uapi::Syscall::Send, reply_cptr, info, mr0, mr1, mr2, mr3));
}

Status retype(uint64_t untyped, uapi::ObjectType type, uint64_t size_bits, uint64_t count, uint64_t dest_cnode,
              uint64_t first_slot) {
  return status_of(invoke(untyped, uapi::Label::UntypedRetype,
                          {static_cast<uint64_t>(type), size_bits, count, first_slot}, {dest_cnode}));
}

Status cnode_copy(uint64_t cnode, uint64_t dest, uint64_t src_cnode, uint64_t src, uapi::Rights mask) {
  return status_of(invoke(cnode, uapi::Label::CNodeCopy, {dest, src, static_cast<uint64_t>(mask)}, {src_cnode}));
}

Status cnode_mint(uint64_t cnode, uint64_t dest, uint64_t src_cnode, uint64_t src, uapi::Rights mask, uint64_t badge) {
  return status_of(
      invoke(cnode, uapi::Label::CNodeMint, {dest, src, static_cast<uint64_t>(mask), badge}, {src_cnode}));
}

Status cnode_move(uint64_t cnode, uint64_t dest, uint64_t src_cnode, uint64_t src) {
  return status_of(invoke(cnode, uapi::Label::CNodeMove, {dest, src}, {src_cnode}));
}

Status cnode_delete(uint64_t cnode, uint64_t slot) { return status_of(invoke(cnode, uapi::Label::CNodeDelete, {slot})); }
Status cnode_revoke(uint64_t cnode, uint64_t slot) { return status_of(invoke(cnode, uapi::Label::CNodeRevoke, {slot})); }

Status tcb_configure(uint64_t tcb, uint64_t cspace, uint64_t vspace, uint64_t buffer_frame, uint64_t buffer_va,
                     uint64_t fault_ep) {
  return status_of(invoke(tcb, uapi::Label::TcbConfigure, {buffer_va, fault_ep}, {cspace, vspace, buffer_frame}));
}

Status tcb_set_priority(uint64_t tcb, uint64_t priority) {
  return status_of(invoke(tcb, uapi::Label::TcbSetPriority, {priority}));
}

Status tcb_write_registers(uint64_t tcb, uint64_t pc, uint64_t sp, uint64_t a0) {
  // mr0 = pc, mr1.. = x1..: ra = 0, sp, gp, tp, t0..t2, s0, s1, a0.
  return status_of(invoke(tcb, uapi::Label::TcbWriteRegisters, {pc, 0, sp, read_gp(), 0, 0, 0, 0, 0, 0, a0}));
}

Status tcb_resume(uint64_t tcb) { return status_of(invoke(tcb, uapi::Label::TcbResume, {})); }
Status tcb_suspend(uint64_t tcb) { return status_of(invoke(tcb, uapi::Label::TcbSuspend, {})); }
Result<Reply> tcb_read_counters(uint64_t tcb) { return invoke(tcb, uapi::Label::TcbReadCounters, {}); }

Status vspace_set_table_pool(uint64_t vspace, uint64_t untyped) {
  return status_of(invoke(vspace, uapi::Label::VSpaceSetTablePool, {}, {untyped}));
}

Status vspace_map(uint64_t vspace, uint64_t va, uint64_t frames_cnode, uint64_t first, uint64_t count,
                  uint64_t perm) {
  return status_of(invoke(vspace, uapi::Label::VSpaceMap, {va, first, count, perm}, {frames_cnode}));
}

Result<uint64_t> vspace_unmap(uint64_t vspace, uint64_t va, uint64_t length) {
  auto r = invoke(vspace, uapi::Label::VSpaceUnmap, {va, length});
  if (!r) return std::unexpected(r.error());
  return r->mr[0];
}

Status system_shutdown(uint64_t system_control, uint64_t status) {
  return status_of(invoke(system_control, uapi::Label::SystemShutdown, {status}));
}

Result<Reply> vspace_copy_range(uint64_t src_vspace, uint64_t dst_vspace, uint64_t va, uint64_t length,
                                uapi::CopyMode mode) {
  return invoke(src_vspace, uapi::Label::VSpaceCopyRange, {va, length, static_cast<uint64_t>(mode)}, {dst_vspace});
}

}  // namespace os
