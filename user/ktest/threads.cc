// Test threads (threads.h).
#include "threads.h"

namespace kt {
namespace {

using uapi::MessageInfo;
using uapi::Syscall;

// TcbWriteRegisters: mr0 = pc, mr[i] = x_i.
constexpr size_t kRegRa = 1, kRegSp = 2, kRegGp = 3, kRegTp = 4, kRegA0 = 10, kRegA1 = 11, kRegA2 = 12;

// The kernel's name for a fault label, or ours for anything else.
const char* fault_name(uint64_t label) {
  const char* name = uapi::fault_name(label);
  return name != nullptr ? name : "unknown message";
}

}  // namespace

void thread_entry(ThreadFn fn, uint64_t arg, uint64_t done_cap) {
  const uint64_t result = fn(arg);
  // Never answered: the thread waits here until it is destroyed.
  for (;;) sys(Syscall::Call, done_cap, MessageInfo::make(kDoneLabel, 1), result);
}

Result<Thread> spawn(Test& t, ThreadFn fn, uint64_t arg, const ThreadOptions& options) {
  Thread thread;
  const uint64_t control = TRY_RESULT(t.control());
  thread.tcb = TRY_RESULT(t.make(ObjectType::Tcb));
  // Stack pages, then the IPC buffer page.
  const uint64_t frames = TRY_RESULT(t.make(ObjectType::Frame, 0, kStackPages + 1));
  const uint64_t va = t.va(kStackPages + 1);
  thread.stack_top = va + kStackPages * kPage;
  thread.buffer_va = thread.stack_top;
  thread.buffer_frame = frames + kStackPages;
  TRY_ERROR(map(options.vspace, va, frames, kStackPages, kRW));
  TRY_ERROR(map(options.vspace, thread.buffer_va, thread.buffer_frame, 1, kRW));

  thread.badge = t.next_badge();
  const uint64_t badged = t.slot();
  TRY_ERROR(mint(badged, control, Rights::Write, thread.badge));
  uint64_t done_cap = badged;
  if (options.cspace != kRootCNode) {
    TRY_ERROR(copy(options.done_slot, badged, Rights::All, options.cspace));
    done_cap = options.done_slot;
  }
  const uint64_t fault_ep = !options.fault_handler ? 0 : options.fault_ep != 0 ? options.fault_ep : badged;
  TRY_ERROR(configure(thread.tcb, options.cspace, options.vspace, thread.buffer_frame, thread.buffer_va, fault_ep));
  // Its maximum is its priority: it cannot raise itself or others above it.
  TRY_ERROR(set_priority(thread.tcb, options.priority, options.priority));

  uint64_t regs[kRegA2 + 1] = {};
  regs[0] = reinterpret_cast<uint64_t>(&thread_entry);
  regs[kRegRa] = 0;
  regs[kRegSp] = thread.stack_top;
  regs[kRegGp] = cpu::read_gp();
  regs[kRegTp] = thread.buffer_va;
  regs[kRegA0] = reinterpret_cast<uint64_t>(fn);
  regs[kRegA1] = arg;
  regs[kRegA2] = done_cap;
  TRY_ERROR(error_of(call_raw(thread.tcb, uint64_t(Label::TcbWriteRegisters), kRegA2 + 1, regs)));
  if (options.start) TRY_ERROR(resume(thread.tcb));
  return thread;
}

Result<Event> next_event(Test& t) {
  const uint64_t control = TRY_RESULT(t.control());
  const Message m = recv(control);
  if (m.info.is_error()) return std::unexpected(m.error());
  Event e;
  e.badge = m.badge;
  e.label = m.info.label();
  e.length = m.info.length();
  for (size_t i = 0; i < 6; ++i) e.mr[i] = m.mr[i];
  return e;
}

Result<uint64_t> join(Test& t, const Thread& thread) {
  while (true) {
    if (auto result = t.take_done(thread.badge)) return *result;
    const Event e = TRY_RESULT(next_event(t));
    if (e.is_done()) {
      t.note_done(e.badge, e.mr[0]);
      continue;
    }
    t.fail(__FILE_NAME__, __LINE__, "thread {} took a {} (label {}): pc {:#x}, mr1 {:#x}, mr2 {:#x}", e.badge,
           fault_name(e.label), e.label, e.mr[0], e.mr[1], e.mr[2]);
    return std::unexpected(Error::IllegalOperation);
  }
}

Status share_code(uint64_t vspace) {
  // The image starts at 64 KiB (libos/user.ld) and is mapped without holes
  // up to the end of .bss.
  for (uint64_t va = 0x10000;; va += kPage) {
    const os::Reply page = lookup(kRootVSpace, va);
    if (error_of(page) != Error::Ok) break;
    if ((page.mr[1] & kW) != 0) continue;  // data: stays private
    const os::Reply copied = copy_range(kRootVSpace, vspace, va, kPage, uapi::CopyMode::Share);
    if (error_of(copied) != Error::Ok) return std::unexpected(error_of(copied));
  }
  return {};
}

}  // namespace kt
