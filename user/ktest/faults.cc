// Fault delivery: a page fault, an unknown system call or an exception
// becomes a message (pc, address or cause, access) to the thread's fault
// endpoint, and the reply resumes the thread: label 0 at its pc (or at a
// new pc given in mr0), any other label leaves it suspended. A thread with
// no fault endpoint is suspended and the kernel says so on the console.
//
// Spawned threads have the test's control endpoint as fault endpoint, so
// the root thread is their fault handler: next_event() receives the fault
// and reply() answers it.
#include <atomic>

#include "ktest.h"
#include "threads.h"

namespace {

using namespace kt;
using uapi::FaultAccess;
using uapi::FaultLabel;

constexpr uint64_t kLowPriority = kThreadPriority - 10;

uint64_t load(uint64_t address) { return *reinterpret_cast<volatile uint64_t*>(address); }
uint64_t store(uint64_t address) {
  *reinterpret_cast<volatile uint64_t*>(address) = 0xfeed;
  return 1;
}

// The next event must be a fault of `thread` with `label`.
Result<Event> expect_fault(Test& t, const Thread& thread, FaultLabel label) {
  const Event e = TRY_RESULT(next_event(t));
  if (e.badge != thread.badge || e.label != uint64_t(label)) {
    t.fail(__FILE_NAME__, __LINE__, "expected fault {} of thread {}, got label {:#x} from {} (mr0 {:#x} mr1 {:#x})",
           uint64_t(label), thread.badge, e.label, e.badge, e.mr[0], e.mr[1]);
    return std::unexpected(Error::InvalidArgument);
  }
  return e;
}

// Lets every thread above kLowPriority run until it blocks.
Status settle(Test& t) {
  ThreadOptions low;
  low.priority = kLowPriority;
  TRY_RESULT(join(t, TRY_RESULT(spawn(t, [](uint64_t) -> uint64_t { return 0; }, 0, low))));
  return {};
}

KTEST(faults, page_fault_read) {
  // The page exists, mapped elsewhere with a value in it; the thread reads
  // it at an address where nothing is mapped yet.
  const auto data = KT_TRY(t.map_new(1));
  *reinterpret_cast<volatile uint64_t*>(data.va + 8) = 0xabcdef;
  const uint64_t target = t.va(1);
  const Thread th = KT_TRY(spawn(t, load, target + 8));
  const Event e = KT_TRY(expect_fault(t, th, FaultLabel::PageFault));
  CHECK_EQ(e.length, 3);
  CHECK(e.mr[0] >= 0x10000 && e.mr[0] < 0x1000'0000);  // pc: in the program's text
  CHECK_EQ(e.mr[1], target + 8);                       // the address
  CHECK_EQ(e.mr[2], uint64_t(FaultAccess::Read));
  // The faulted thread's registers say the same pc.
  CHECK_EQ(read_registers(th.tcb).mr[0], e.mr[0]);
  // Map the page and resume the thread at the same instruction.
  CHECK_OK(map(kRootVSpace, target, data.first_frame, 1, kR));
  CHECK_OK(reply(0, {}));
  CHECK_EQ(KT_TRY(join(t, th)), 0xabcdef);
}

KTEST(faults, page_fault_write) {
  const auto data = KT_TRY(t.map_new(1));
  const uint64_t target = t.va(1);
  const Thread th = KT_TRY(spawn(t, store, target));
  const Event e = KT_TRY(expect_fault(t, th, FaultLabel::PageFault));
  CHECK_EQ(e.mr[1], target);
  CHECK_EQ(e.mr[2], uint64_t(FaultAccess::Write));
  // Read-only first: the write faults again, on the same address.
  CHECK_OK(map(kRootVSpace, target, data.first_frame, 1, kR));
  CHECK_OK(reply(0, {}));
  const Event again = KT_TRY(expect_fault(t, th, FaultLabel::PageFault));
  CHECK_EQ(again.mr[0], e.mr[0]);
  CHECK_EQ(again.mr[2], uint64_t(FaultAccess::Write));
  CHECK_EQ(unmap(kRootVSpace, target, kPage).mr[0], 1);
  CHECK_OK(map(kRootVSpace, target, data.first_frame, 1, kRW));
  CHECK_OK(reply(0, {}));
  CHECK_EQ(KT_TRY(join(t, th)), 1);
  CHECK_EQ(*reinterpret_cast<volatile uint64_t*>(data.va), 0xfeed);
}

// An instruction fetch from an unmapped address: the handler answers with
// a new pc, the return address the thread's call left in ra, so the
// thread goes on as if the call had returned.
uint64_t jump(uint64_t address) {
  reinterpret_cast<void (*)()>(address)();
  return 7;
}

KTEST(faults, page_fault_execute_new_pc) {
  const uint64_t target = t.va(1);
  const Thread th = KT_TRY(spawn(t, jump, target));
  const Event e = KT_TRY(expect_fault(t, th, FaultLabel::PageFault));
  CHECK_EQ(e.mr[0], target);
  CHECK_EQ(e.mr[1], target);
  CHECK_EQ(e.mr[2], uint64_t(FaultAccess::Execute));
  const os::Reply regs = read_registers(th.tcb);
  CHECK_OK(regs);
  const uint64_t ra = regs.mr[1];
  CHECK(ra >= 0x10000 && ra < 0x1000'0000);
  CHECK_OK(reply(0, {ra}));
  CHECK_EQ(KT_TRY(join(t, th)), 7);
}

// An unknown system call: the handler sees the number and arguments and
// may emulate it (here: set a0) and resume after the ecall.
uint64_t bad_syscall(uint64_t arg) { return cpu::ecall(99, arg); }

KTEST(faults, unknown_syscall) {
  const Thread th = KT_TRY(spawn(t, bad_syscall, 0x55));
  const Event e = KT_TRY(expect_fault(t, th, FaultLabel::UnknownSyscall));
  CHECK_EQ(e.length, 6);
  CHECK_EQ(e.mr[1], 99);    // the number (a7)
  CHECK_EQ(e.mr[2], 0x55);  // a0
  // pc is the ecall; the thread's own pc is past it.
  os::Reply regs = read_registers(th.tcb);
  CHECK_EQ(regs.mr[0], e.mr[0] + 4);
  CHECK_EQ(regs.mr[17], 99);
  // Emulate: the "system call" returns 0x77 in a0.
  regs.mr[10] = 0x77;
  CHECK_OK(call_raw(th.tcb, uint64_t(Label::TcbWriteRegisters), 32, regs.mr));
  CHECK_OK(reply(0, {}));
  CHECK_EQ(KT_TRY(join(t, th)), 0x77);
}

uint64_t illegal(uint64_t) {
  cpu::illegal_instruction();
  return 3;
}
uint64_t breakpoint(uint64_t) {
  cpu::breakpoint();
  return 4;
}

// An illegal instruction: an Exception with scause and stval; the handler
// skips it with a new pc.
KTEST(faults, illegal_instruction) {
  const Thread th = KT_TRY(spawn(t, illegal, 0));
  const Event e = KT_TRY(expect_fault(t, th, FaultLabel::Exception));
  CHECK_EQ(e.length, 3);
  CHECK_EQ(e.mr[1], 2);  // scause: illegal instruction
  CHECK(e.mr[2] == cpu::kIllegalInstructionBits || e.mr[2] == 0);  // stval: the instruction, if the hart tells
  CHECK_EQ(read_registers(th.tcb).mr[0], e.mr[0]);
  CHECK_OK(reply(0, {e.mr[0] + 4}));
  CHECK_EQ(KT_TRY(join(t, th)), 3);
}

KTEST(faults, breakpoint) {
  const Thread th = KT_TRY(spawn(t, breakpoint, 0));
  const Event e = KT_TRY(expect_fault(t, th, FaultLabel::Exception));
  CHECK_EQ(e.mr[1], 3);  // scause: breakpoint
  CHECK_OK(reply(0, {e.mr[0] + 4}));
  CHECK_EQ(KT_TRY(join(t, th)), 4);
}

// A reply with a label other than 0 leaves the thread suspended; Resume
// lets it retry (and fault again).
KTEST(faults, reply_error_label_suspends) {
  const uint64_t target = t.va(1);
  const Thread th = KT_TRY(spawn(t, load, target));
  const Event e = KT_TRY(expect_fault(t, th, FaultLabel::PageFault));
  CHECK_OK(reply(1, {}));
  CHECK_OK(settle(t));  // it would run now if it could
  CHECK_EQ(read_registers(th.tcb).mr[0], e.mr[0]);
  CHECK_OK(resume(th.tcb));
  const Event again = KT_TRY(expect_fault(t, th, FaultLabel::PageFault));
  CHECK_EQ(again.mr[1], target);
  // Handled this time.
  const auto data = KT_TRY(t.map_new(1));
  *reinterpret_cast<volatile uint64_t*>(data.va) = 0x42;
  CHECK_OK(map(kRootVSpace, target, data.first_frame, 1, kR));
  CHECK_OK(reply(0, {}));
  CHECK_EQ(KT_TRY(join(t, th)), 0x42);
}

// Without a fault endpoint the thread is suspended, the kernel prints a
// line (the system test checks it), and everything else goes on.
std::atomic<uint64_t> g_after_fault = 0;
uint64_t fault_then_count(uint64_t address) {
  load(address);
  g_after_fault.fetch_add(1);
  return 0;
}

KTEST(faults, no_fault_endpoint) {
  g_after_fault = 0;
  ThreadOptions options;
  options.fault_handler = false;
  const uint64_t target = t.va(1);
  const Thread th = KT_TRY(spawn(t, fault_then_count, target, options));
  CHECK_OK(settle(t));
  const os::Reply regs = read_registers(th.tcb);
  CHECK(regs.mr[0] >= 0x10000 && regs.mr[0] < 0x1000'0000);
  CHECK_OK(settle(t));
  CHECK_EQ(g_after_fault.load(), 0);
  CHECK_EQ(read_registers(th.tcb).mr[0], regs.mr[0]);
  // Other threads still run, and so does this one once the cause is gone.
  const auto data = KT_TRY(t.map_new(1));
  CHECK_OK(map(kRootVSpace, target, data.first_frame, 1, kR));
  CHECK_OK(resume(th.tcb));
  CHECK_EQ(KT_TRY(join(t, th)), 0);
  CHECK_EQ(g_after_fault.load(), 1);
  // Removing the fault endpoint (~0) has the same effect: no fault message
  // reaches the control endpoint (settle would fail on one).
  ThreadOptions paused;
  paused.start = false;
  const Thread th2 = KT_TRY(spawn(t, fault_then_count, t.va(1), paused));
  CHECK_OK(call(th2.tcb, Label::TcbConfigure, {0, ~uint64_t{0}}));
  CHECK_OK(resume(th2.tcb));
  CHECK_OK(settle(t));
  CHECK_EQ(g_after_fault.load(), 1);
}

// A fault handler that is a thread of its own, like a pager: it maps a
// fresh frame at each faulting page and answers with ReplyRecv.
struct PagerState {
  uint64_t frames;        // first of the frames it hands out
  std::atomic<uint64_t> used;
};
PagerState g_pager;

uint64_t pager(uint64_t ep) {
  Message m = recv(ep);
  while (m.error() == Error::Ok && m.info.label() == uint64_t(FaultLabel::PageFault)) {
    const uint64_t page = m.mr[1] & ~(kPage - 1);
    if (map(kRootVSpace, page, g_pager.frames + g_pager.used.fetch_add(1), 1, kRW) != Error::Ok) break;
    m = reply_recv(ep, 0, {});
  }
  return 0xbad;
}

uint64_t touch_pages(uint64_t base) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < 4; ++i) *reinterpret_cast<volatile uint64_t*>(base + i * kPage) = i + 1;
  for (uint64_t i = 0; i < 4; ++i) sum += *reinterpret_cast<volatile uint64_t*>(base + i * kPage);
  return sum;
}

KTEST(faults, pager_thread) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  g_pager.frames = KT_TRY(t.make(ObjectType::Frame, 0, 4));
  g_pager.used = 0;
  ThreadOptions high;
  high.priority = kThreadPriority + 10;
  KT_TRY(spawn(t, pager, ep, high));
  ThreadOptions paged;
  paged.fault_ep = ep;
  const Thread th = KT_TRY(spawn(t, touch_pages, t.va(4), paged));
  CHECK_EQ(KT_TRY(join(t, th)), 10);
  CHECK_EQ(g_pager.used.load(), 4);
  const os::Reply counters = read_counters(th.tcb);
  CHECK_EQ(counter(counters, uapi::Counter::Faults), 4);
}

// While a fault waits in its endpoint's queue the faulted thread's
// registers are its own: destroying the endpoint must not write an error
// code into them as it does for a thread blocked in a system call. The
// thread retries the instruction and, with no fault endpoint now, stops.
KTEST(faults, fault_endpoint_destroyed) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  ThreadOptions options;
  options.fault_ep = ep;
  const Thread th = KT_TRY(spawn(t, load, t.va(1), options));
  CHECK_OK(settle(t));  // it faulted; nobody receives on ep
  const os::Reply before = read_registers(th.tcb);
  CHECK_OK(call(th.tcb, Label::TcbConfigure, {0, ~uint64_t{0}}));
  CHECK_OK(del(ep));  // the last cap: the endpoint is destroyed
  CHECK_OK(settle(t));
  const os::Reply after = read_registers(th.tcb);
  for (size_t i = 0; i < 32; ++i) CHECK_EQ(after.mr[i], before.mr[i]);
}

}  // namespace
