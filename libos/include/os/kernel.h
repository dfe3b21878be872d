// Clients of the kernel's invocations: one function per operation, each
// putting its arguments where docs/kernel.md says and returning the reply or
// the kernel's error code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <initializer_list>

#include "abi/abi.h"

namespace os {

template <typename T>
using Result = std::expected<T, uapi::Error>;
using Status = Result<void>;

// A reply's words: mr[0, length) as sent, the rest of the first 8 zero,
// anything above undefined.
struct Reply {
  uapi::MessageInfo info;
  uint64_t mr[uapi::kMaxMessageLength];
};

// This thread's IPC buffer (set by the runtime at start).
uapi::IpcBuffer* ipc_buffer();
void set_ipc_buffer(uapi::IpcBuffer* buffer);

// Call `cptr` with `label`, message registers and extra caps (cptrs).
Result<Reply> invoke(uint64_t cptr, uapi::Label label, std::initializer_list<uint64_t> mrs,
                     std::initializer_list<uint64_t> caps = {});
// The same, raw: any label, any length (the fuzzer and error tests use it).
Reply call_raw(uint64_t cptr, uint64_t label, size_t length, const uint64_t* mrs, size_t caps,
               const uint64_t* cap_cptrs);
// The same through an explicit IPC buffer, for programs with more than one
// thread: each thread has its own buffer, and the one set_ipc_buffer() keeps
// is only the first thread's.
Reply call_raw(uapi::IpcBuffer* buffer, uint64_t cptr, uint64_t label, size_t length, const uint64_t* mrs,
               size_t caps, const uint64_t* cap_cptrs);
inline uapi::Error error_of(const Reply& reply) {
  return reply.info.is_error() ? static_cast<uapi::Error>(reply.info.label()) : uapi::Error::Ok;
}

// Deferred replies (docs/kernel.md, "Saved replies"). save_reply moves the
// reply this thread owes (from its last received Call or fault) into the
// Reply object `reply_cptr` (Write needed); errors: InvalidCapability,
// IllegalOperation, DeleteFirst (the object holds a caller already),
// FailedLookup (nothing owed). send_reply sends the message as that reply
// and empties the object: `info` gives label and length, mr0..mr3 the
// first words, the rest come from this thread's IPC buffer mr[4..]; no
// capabilities travel. FailedLookup: the object holds no caller (never
// saved, already answered, or the caller was suspended or destroyed).
Status save_reply(uint64_t reply_cptr);
Status send_reply(uint64_t reply_cptr, uapi::MessageInfo info, uint64_t mr0 = 0, uint64_t mr1 = 0, uint64_t mr2 = 0,
                  uint64_t mr3 = 0);

// Convenience wrappers.
Status retype(uint64_t untyped, uapi::ObjectType type, uint64_t size_bits, uint64_t count, uint64_t dest_cnode,
              uint64_t first_slot);
Status cnode_copy(uint64_t cnode, uint64_t dest, uint64_t src_cnode, uint64_t src, uapi::Rights mask);
Status cnode_mint(uint64_t cnode, uint64_t dest, uint64_t src_cnode, uint64_t src, uapi::Rights mask, uint64_t badge);
Status cnode_move(uint64_t cnode, uint64_t dest, uint64_t src_cnode, uint64_t src);
Status cnode_delete(uint64_t cnode, uint64_t slot);
Status cnode_revoke(uint64_t cnode, uint64_t slot);
Status tcb_configure(uint64_t tcb, uint64_t cspace, uint64_t vspace, uint64_t buffer_frame, uint64_t buffer_va,
                     uint64_t fault_ep);
Status tcb_set_priority(uint64_t tcb, uint64_t priority);
Status tcb_write_registers(uint64_t tcb, uint64_t pc, uint64_t sp, uint64_t a0);
Status tcb_resume(uint64_t tcb);
Status tcb_suspend(uint64_t tcb);
Result<Reply> tcb_read_counters(uint64_t tcb);
Status vspace_set_table_pool(uint64_t vspace, uint64_t untyped);
Status vspace_map(uint64_t vspace, uint64_t va, uint64_t frames_cnode, uint64_t first, uint64_t count,
                  uint64_t perm);
Result<uint64_t> vspace_unmap(uint64_t vspace, uint64_t va, uint64_t length);
Status system_shutdown(uint64_t system_control, uint64_t status);
// Reply mr0 = pages copied, mr1 = pages made copy-on-write.
Result<Reply> vspace_copy_range(uint64_t src_vspace, uint64_t dst_vspace, uint64_t va, uint64_t length,
                                uapi::CopyMode mode);

}  // namespace os
