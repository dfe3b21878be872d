// Kernel invocations and system calls as the tests use them, from any thread
// of the test program: each thread's IPC buffer is found through tp (see
// cpu.h), so these work in spawned threads too, unlike libos's single-buffer
// wrappers. Operations return the kernel's error code (Error::Ok on success)
// or, when they reply with values, the whole os::Reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "abi/abi.h"
#include "cpu.h"
#include "os/kernel.h"
#include "os/syscall.h"

namespace kt {

using uapi::Error;
using uapi::Label;
using uapi::ObjectType;
using uapi::Rights;

// The root task's fixed slots (uapi::BootSlot) as plain cptrs.
inline constexpr uint64_t kRootCNode = uint64_t(uapi::BootSlot::RootCNode);
inline constexpr uint64_t kRootVSpace = uint64_t(uapi::BootSlot::RootVSpace);
inline constexpr uint64_t kRootTcb = uint64_t(uapi::BootSlot::RootTcb);
inline constexpr uint64_t kIrqControl = uint64_t(uapi::BootSlot::IrqControl);
inline constexpr uint64_t kSystemControl = uint64_t(uapi::BootSlot::SystemControl);
inline constexpr uint64_t kRootIpcFrame = uint64_t(uapi::BootSlot::IpcBufferFrame);
inline constexpr uint64_t kBootInfoFrame = uint64_t(uapi::BootSlot::BootInfoFrame);

inline constexpr uint64_t kPage = 4096;
inline constexpr uint64_t kUserTop = uint64_t{1} << 38;  // the user half of Sv39
inline constexpr uint64_t kR = uint64_t(uapi::MapPerm::Read);
inline constexpr uint64_t kW = uint64_t(uapi::MapPerm::Write);
inline constexpr uint64_t kX = uint64_t(uapi::MapPerm::Execute);
inline constexpr uint64_t kRW = kR | kW;

const char* error_name(Error error);

// The calling thread's IPC buffer.
inline uapi::IpcBuffer* my_buffer() { return reinterpret_cast<uapi::IpcBuffer*>(cpu::read_tp()); }

inline Error error_of(Error e) { return e; }
using os::error_of;  // for an os::Reply
template <typename T>
Error error_of(const os::Result<T>& r) {
  return r ? Error::Ok : r.error();
}

// Call `cptr` with any label, message and extra caps.
os::Reply call_raw(uint64_t cptr, uint64_t label, size_t length, const uint64_t* mrs, size_t caps = 0,
                   const uint64_t* cap_cptrs = nullptr);
os::Reply call(uint64_t cptr, Label label, std::initializer_list<uint64_t> mrs,
               std::initializer_list<uint64_t> caps = {});

// --- Untyped, CNode -----------------------------------------------------------
Error retype(uint64_t untyped, ObjectType type, uint64_t size_bits, uint64_t count, uint64_t first,
             uint64_t cnode = kRootCNode);
Error copy(uint64_t dest, uint64_t src, Rights mask, uint64_t cnode = kRootCNode, uint64_t src_cnode = kRootCNode);
Error mint(uint64_t dest, uint64_t src, Rights mask, uint64_t badge, uint64_t cnode = kRootCNode,
           uint64_t src_cnode = kRootCNode);
Error move(uint64_t dest, uint64_t src, uint64_t cnode = kRootCNode, uint64_t src_cnode = kRootCNode);
Error del(uint64_t slot, uint64_t cnode = kRootCNode);
Error revoke(uint64_t slot, uint64_t cnode = kRootCNode);

// --- TCB ------------------------------------------------------------------------
Error configure(uint64_t tcb, uint64_t cspace, uint64_t vspace, uint64_t buffer_frame, uint64_t buffer_va,
                uint64_t fault_ep);
// With `max`, also the thread's new maximum priority (mr1).
Error set_priority(uint64_t tcb, uint64_t priority);
Error set_priority(uint64_t tcb, uint64_t priority, uint64_t max);
Error resume(uint64_t tcb);
Error suspend(uint64_t tcb);
os::Reply read_registers(uint64_t tcb);       // mr0 pc, mr[i] = x_i
os::Reply read_counters(uint64_t tcb);        // uapi::Counter order
inline uint64_t counter(const os::Reply& r, uapi::Counter c) { return r.mr[size_t(c)]; }

// --- VSpace, Frame --------------------------------------------------------------
Error set_pool(uint64_t vspace, uint64_t untyped);
Error map(uint64_t vspace, uint64_t va, uint64_t first_frame, uint64_t count, uint64_t perm,
          uint64_t cnode = kRootCNode);
os::Reply unmap(uint64_t vspace, uint64_t va, uint64_t length);           // mr0 pages unmapped
os::Reply protect(uint64_t vspace, uint64_t va, uint64_t length, uint64_t perm);  // mr0 pages
os::Reply copy_range(uint64_t src, uint64_t dst, uint64_t va, uint64_t length, uapi::CopyMode mode);
os::Reply lookup(uint64_t vspace, uint64_t va);  // mr0 frame, mr1 perm, mr2 cow, mr3 map count
os::Reply copy_page(uint64_t vspace, uint64_t va, uint64_t perm, uint64_t frame);  // mr0 old frame
os::Reply frame_info(uint64_t frame);            // mr0 paddr, mr1 map count
// mr0 where it stopped, mr1 mapped pages visited, mr2 n, mr3.. n entries
os::Reply scan(uint64_t vspace, uint64_t va, uint64_t length, uint64_t flags, uint64_t threshold);

// --- SystemControl --------------------------------------------------------------
// mr0 instructions retired in S-mode since boot, mr1 instret now.
os::Reply system_counters(uint64_t system = kSystemControl);

// --- IRQ ------------------------------------------------------------------------
Error irq_get(uint64_t irq, uint64_t dest, uint64_t cnode = kRootCNode);
Error irq_set_notification(uint64_t handler, uint64_t notification);
Error irq_ack(uint64_t handler);
Error irq_clear(uint64_t handler);

// --- IPC system calls -----------------------------------------------------------
// Message words beyond the fourth go through the caller's IPC buffer.
struct Message {
  uint64_t badge = 0;
  uapi::MessageInfo info;
  uint64_t mr[uapi::kMaxMessageLength] = {};
  Error error() const { return info.is_error() ? Error(info.label()) : Error::Ok; }
};

inline Error error_of(const Message& m) { return m.error(); }

os::SyscallResult sys(uapi::Syscall number, uint64_t cptr, uapi::MessageInfo info = {}, uint64_t mr0 = 0,
                      uint64_t mr1 = 0, uint64_t mr2 = 0, uint64_t mr3 = 0);
// The received message, with words 4.. copied out of the IPC buffer.
Message message_of(const os::SyscallResult& r);

Message send(uint64_t cptr, uint64_t label, std::initializer_list<uint64_t> mrs);
Message nb_send(uint64_t cptr, uint64_t label, std::initializer_list<uint64_t> mrs);
Message ipc_call(uint64_t cptr, uint64_t label, std::initializer_list<uint64_t> mrs);
Message recv(uint64_t cptr);
Message nb_recv(uint64_t cptr);
Message reply_recv(uint64_t cptr, uint64_t label, std::initializer_list<uint64_t> mrs);
Message reply(uint64_t label, std::initializer_list<uint64_t> mrs);
Error signal(uint64_t notification);
Message wait(uint64_t notification);
Message poll(uint64_t notification);

}  // namespace kt
