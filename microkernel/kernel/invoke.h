// Invocations: a Call or Send on a capability that is not an endpoint or
// notification asks the kernel to operate on that object. The label names
// the operation (include/abi/invocations.def); arguments are message
// registers and extra capabilities (cptrs in the IPC buffer). Each object
// type has a decoder in its own file that checks every argument and
// returns on the first error without changing anything; only then does it
// act, and that part cannot fail. The result goes back as a reply: label 0
// with message registers, or the error code with MessageInfo::IsError.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/abi.h"
#include "kernel/objects.h"
#include "lib/result.h"

namespace kern {

class Invocation {
 public:
  Invocation(Tcb& thread, Slot& target, uapi::MessageInfo info) : m_thread(thread), m_target(target), m_info(info) {}

  Tcb& thread() const { return m_thread; }
  Slot& target() const { return m_target; }
  const Capability& cap() const { return m_target.cap; }
  uapi::Label label() const { return static_cast<uapi::Label>(m_info.label()); }

  // Message register i of the request. TruncatedMessage if the message is
  // shorter, or i is beyond the registers and the thread has no IPC buffer.
  Result<uint64_t> mr(size_t i) const;
  // The slot named by extra capability i, in the invoker's CSpace.
  // TruncatedMessage if fewer caps were sent; FailedLookup/RangeError from
  // the lookup; FailedLookup if the slot is empty.
  Result<Slot*> extra_cap(size_t i) const;
  size_t extra_caps() const { return m_info.extra_caps(); }
  // A slot of the invoker's CSpace by cptr (may be empty).
  Result<Slot*> lookup(uint64_t cptr) const;

  // Reply message registers (set by the operation).
  void reply(size_t i, uint64_t value);
  // How many reply words reach the invoker: all 64 with an IPC buffer, the
  // four in registers without.
  size_t reply_capacity() const;
  size_t reply_length() const { return m_reply_length; }
  uint64_t reply_mr(size_t i) const { return m_reply[i]; }

 private:
  Tcb& m_thread;
  Slot& m_target;
  uapi::MessageInfo m_info;
  // Not zeroed up front (64 words on every invocation): reply() zeroes a
  // gap it leaves below the word it writes, so [0, m_reply_length) is set.
  uint64_t m_reply[uapi::kMaxMessageLength];
  size_t m_reply_length = 0;
};

// Needs `right` on the invoked cap, else IllegalOperation.
Status require_rights(const Invocation& inv, Rights right);

// Per object type (untyped.cc, cnode.cc, tcb.cc, vspace_object.cc, irq.cc,
// system.cc).
Status invoke_untyped(Invocation& inv);
Status invoke_cnode(Invocation& inv);
Status invoke_tcb(Invocation& inv);
Status invoke_vspace(Invocation& inv);
Status invoke_frame(Invocation& inv);
Status invoke_irq_control(Invocation& inv);
Status invoke_irq_handler(Invocation& inv);
Status invoke_system(Invocation& inv);

// Run the invocation and, for a Call, write the reply into the thread's
// registers and IPC buffer.
void invoke(Tcb& thread, Slot& target, uapi::MessageInfo info, bool is_call);

// The kernel's ObjectHooks (objects.cc).
ObjectHooks& object_hooks();

}  // namespace kern
