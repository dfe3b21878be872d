// TCB invocations: Configure (CSpace, VSpace, IPC buffer, fault endpoint),
// SetPriority (bounded by the invoker's own maximum), Read/WriteRegisters,
// Resume and Suspend, and a second thread in the root task's address space
// built by hand, step by step.
#include <atomic>

#include "ktest.h"
#include "threads.h"

namespace {

using namespace kt;
using uapi::Syscall;

// --- a thread built by hand ---------------------------------------------------

std::atomic<uint64_t> g_manual_value = 0;

// Runs with no IPC buffer: only register-sized system calls. Signals the
// notification passed in a1 and stops.
[[noreturn]] void manual_thread(uint64_t value, uint64_t notification) {
  g_manual_value = value;
  sys(Syscall::Send, notification);
  for (;;) sys(Syscall::Recv, notification);
}

KTEST(tcb, second_thread_by_hand) {
  const uint64_t tcb = t.slot(), stack = t.slot(), ntfn = t.slot();
  CHECK_OK(retype(t.untyped(), ObjectType::Tcb, 0, 1, tcb));
  CHECK_OK(retype(t.untyped(), ObjectType::Frame, 0, 1, stack));
  CHECK_OK(retype(t.untyped(), ObjectType::Notification, 0, 1, ntfn));
  const uint64_t stack_va = t.va(1);
  CHECK_OK(map(kRootVSpace, stack_va, stack, 1, kRW));
  // Only a CSpace and a VSpace: no IPC buffer, no fault endpoint.
  CHECK_OK(call(tcb, Label::TcbConfigure, {}, {kRootCNode, kRootVSpace}));
  CHECK_OK(set_priority(tcb, 10, 10));
  // pc, ra, sp, gp, tp, t0, t1, t2, s0, s1, a0, a1
  CHECK_OK(call(tcb, Label::TcbWriteRegisters,
                {reinterpret_cast<uint64_t>(&manual_thread), 0, stack_va + kPage, cpu::read_gp(), 0, 0, 0, 0, 0,
                 0, 0x1234, ntfn}));
  CHECK_OK(resume(tcb));
  CHECK_EQ(wait(ntfn).badge, 1);
  CHECK_EQ(g_manual_value.load(), 0x1234);
  CHECK_OK(resume(tcb));  // resuming a thread that is not inactive changes nothing
}

// --- Configure ----------------------------------------------------------------

KTEST(tcb, configure_errors) {
  const uint64_t tcb = KT_TRY(t.make(ObjectType::Tcb));
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  const uint64_t vspace = KT_TRY(t.make_vspace());
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t va = 0x100000;
  // Each cap must be of its type, in the order CSpace, VSpace, buffer.
  CHECK_ERR(configure(tcb, frame, vspace, frame, va, 0), Error::InvalidCapability);
  CHECK_ERR(configure(tcb, kRootCNode, frame, frame, va, 0), Error::InvalidCapability);
  CHECK_ERR(configure(tcb, kRootCNode, vspace, vspace, va, 0), Error::InvalidCapability);
  CHECK_ERR(configure(tcb, t.slot(), vspace, frame, va, 0), Error::FailedLookup);
  // The buffer address: page aligned, in the user half.
  CHECK_ERR(configure(tcb, kRootCNode, vspace, frame, va + 8, 0), Error::AlignmentError);
  CHECK_ERR(configure(tcb, kRootCNode, vspace, frame, kUserTop, 0), Error::RangeError);
  CHECK_ERR(configure(tcb, kRootCNode, vspace, frame, 0xffff'ffc0'0000'0000, 0), Error::RangeError);
  // The buffer frame needs Read and Write.
  const uint64_t ro_frame = t.slot();
  CHECK_OK(copy(ro_frame, frame, Rights::Read));
  CHECK_ERR(configure(tcb, kRootCNode, vspace, ro_frame, va, 0), Error::IllegalOperation);
  // The fault endpoint: an endpoint with Write, by cptr.
  CHECK_ERR(configure(tcb, kRootCNode, vspace, frame, va, t.slot()), Error::FailedLookup);
  CHECK_ERR(configure(tcb, kRootCNode, vspace, frame, va, ntfn), Error::InvalidCapability);
  CHECK_ERR(configure(tcb, kRootCNode, vspace, frame, va, uint64_t{1} << 40), Error::RangeError);
  const uint64_t ro_ep = t.slot();
  CHECK_OK(copy(ro_ep, ep, Rights::Read));
  CHECK_ERR(configure(tcb, kRootCNode, vspace, frame, va, ro_ep), Error::IllegalOperation);
  // With a buffer frame, its address must be given.
  CHECK_ERR(call(tcb, Label::TcbConfigure, {}, {kRootCNode, kRootVSpace, frame}), Error::TruncatedMessage);
  // Configuring needs Write on the TCB.
  const uint64_t ro_tcb = t.slot();
  CHECK_OK(copy(ro_tcb, tcb, Rights::Read));
  CHECK_ERR(configure(ro_tcb, kRootCNode, vspace, frame, va, 0), Error::IllegalOperation);
  // None of these bound anything: the thread still cannot run.
  CHECK_ERR(resume(tcb), Error::IllegalOperation);
  // Everything right, including "no fault endpoint" (0) and removing it (~0).
  CHECK_OK(configure(tcb, kRootCNode, vspace, frame, va, ep));
  CHECK_OK(configure(tcb, kRootCNode, vspace, frame, va, ~uint64_t{0}));
  CHECK_OK(call(tcb, Label::TcbConfigure, {}, {}));  // nothing to change
}

uint64_t idle_thread(uint64_t) {
  for (;;) os::yield();
}

// A thread runs only with a CSpace and a VSpace; losing them (their caps
// deleted) stops it being scheduled, it is not a crash.
KTEST(tcb, resume_needs_bindings) {
  const uint64_t tcb = KT_TRY(t.make(ObjectType::Tcb));
  CHECK_ERR(resume(tcb), Error::IllegalOperation);
  CHECK_OK(call(tcb, Label::TcbConfigure, {}, {kRootCNode}));
  CHECK_ERR(resume(tcb), Error::IllegalOperation);
  // Configured by spawn but not started: resume works.
  ThreadOptions options;
  options.start = false;
  const Thread th = KT_TRY(spawn(t, idle_thread, 0, options));
  CHECK_OK(resume(th.tcb));
  CHECK_OK(suspend(th.tcb));
  // Missing Write on the TCB.
  const uint64_t ro = t.slot();
  CHECK_OK(copy(ro, th.tcb, Rights::Read));
  CHECK_ERR(resume(ro), Error::IllegalOperation);
  CHECK_ERR(suspend(ro), Error::IllegalOperation);
}

// --- Priorities ----------------------------------------------------------------

struct PriorityProbe {
  uint64_t self;
  uint64_t other;
  Error above_max;     // set another thread above this thread's maximum
  Error at_max;
  Error max_above;     // give another thread a maximum above its own
  Error lowered_self;  // lower its own priority
  Error raised_back;   // and raise it again, up to its maximum
  Error self_above;    // and above it
};
PriorityProbe g_probe;

uint64_t priority_thread(uint64_t) {
  g_probe.above_max = set_priority(g_probe.other, 101);
  g_probe.at_max = set_priority(g_probe.other, 100);
  g_probe.max_above = set_priority(g_probe.other, 50, 101);
  g_probe.lowered_self = set_priority(g_probe.self, 60);
  g_probe.raised_back = set_priority(g_probe.self, 100);
  g_probe.self_above = set_priority(g_probe.self, 101, 101);
  return 0;
}

KTEST(tcb, set_priority) {
  const uint64_t other = KT_TRY(t.make(ObjectType::Tcb));
  CHECK_OK(set_priority(other, 0));
  CHECK_OK(set_priority(other, 255, 255));  // the root thread's own maximum
  CHECK_ERR(set_priority(other, 256), Error::RangeError);
  CHECK_ERR(set_priority(other, 1, 256), Error::RangeError);
  CHECK_ERR(set_priority(other, ~uint64_t{0}), Error::RangeError);
  CHECK_ERR(call(other, Label::TcbSetPriority, {}), Error::TruncatedMessage);
  const uint64_t ro = t.slot();
  CHECK_OK(copy(ro, other, Rights::Read));
  CHECK_ERR(set_priority(ro, 1), Error::IllegalOperation);

  // A thread whose maximum is 100 (spawn gives it its priority as
  // maximum) cannot give more than that to anyone, itself included; below
  // it, it may move freely.
  ThreadOptions options;
  options.start = false;
  const Thread th = KT_TRY(spawn(t, priority_thread, 0, options));
  g_probe = PriorityProbe{th.tcb, other, Error::Ok, Error::Ok, Error::Ok, Error::Ok, Error::Ok, Error::Ok};
  CHECK_OK(resume(th.tcb));
  KT_TRY(join(t, th));
  CHECK_ERR(g_probe.above_max, Error::RangeError);
  CHECK_OK(g_probe.at_max);
  CHECK_ERR(g_probe.max_above, Error::RangeError);
  CHECK_OK(g_probe.lowered_self);
  CHECK_OK(g_probe.raised_back);
  CHECK_ERR(g_probe.self_above, Error::RangeError);
}

// --- Registers -------------------------------------------------------------------

KTEST(tcb, read_write_registers) {
  ThreadOptions options;
  options.start = false;
  const Thread th = KT_TRY(spawn(t, idle_thread, 0, options));
  uint64_t values[32];
  for (uint64_t i = 0; i < 32; ++i) values[i] = 0x1000 + i * 0x11;
  CHECK_OK(call_raw(th.tcb, uint64_t(Label::TcbWriteRegisters), 32, values));
  const os::Reply regs = read_registers(th.tcb);
  CHECK_OK(regs);
  CHECK_EQ(regs.info.length(), 32);
  for (uint64_t i = 0; i < 32; ++i) CHECK_EQ(regs.mr[i], values[i]);
  // A shorter write changes only the registers it names.
  const uint64_t partial[3] = {0xaaa0, 0xbbb0, 0xccc0};
  CHECK_OK(call_raw(th.tcb, uint64_t(Label::TcbWriteRegisters), 3, partial));
  const os::Reply after = read_registers(th.tcb);
  CHECK_EQ(after.mr[0], 0xaaa0);
  CHECK_EQ(after.mr[2], 0xccc0);
  CHECK_EQ(after.mr[3], values[3]);
  CHECK_EQ(after.mr[31], values[31]);
  // Errors: no registers given, missing rights.
  CHECK_ERR(call(th.tcb, Label::TcbWriteRegisters, {}), Error::TruncatedMessage);
  const uint64_t ro = t.slot(), wo = t.slot();
  CHECK_OK(copy(ro, th.tcb, Rights::Read));
  CHECK_OK(copy(wo, th.tcb, Rights::Write));
  CHECK_ERR(call(ro, Label::TcbWriteRegisters, {1}), Error::IllegalOperation);
  CHECK_ERR(read_registers(wo), Error::IllegalOperation);
  CHECK_OK(read_registers(ro));
  CHECK_ERR(read_counters(wo), Error::IllegalOperation);
}

// The root thread reads its own registers: the pc is in this program's
// text and sp on its stack.
KTEST(tcb, read_own_registers) {
  const os::Reply regs = read_registers(kRootTcb);
  CHECK_OK(regs);
  CHECK(regs.mr[0] >= 0x10000 && regs.mr[0] < 0x1000'0000);
  CHECK(regs.mr[2] <= uapi::kRootStackTop && regs.mr[2] > uapi::kRootStackTop - uapi::kRootStackPages * kPage);
  CHECK_EQ(regs.mr[4], cpu::read_tp());
}

// --- Suspend and resume -------------------------------------------------------------

// Shared with the spinner thread.
std::atomic<uint64_t> g_spins = 0;
std::atomic<bool> g_stop_spinning = false;

// Counts, signalling the notification (arg) every 2^16 iterations.
uint64_t spinner(uint64_t ntfn) {
  while (!g_stop_spinning) {
    if ((g_spins.fetch_add(1) & 0xffff) == 0xffff) sys(Syscall::Send, ntfn);
  }
  return 0;
}

// Busy for `ticks` timer periods (at least), then returns.
uint64_t busy_for(uint64_t ticks) {
  const uint64_t end = cpu::rdtime() + ticks * (env().info->timebase_frequency / 100);
  while (cpu::rdtime() < end) {
  }
  return 0;
}

KTEST(tcb, suspend_resume) {
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  g_spins = 0;
  g_stop_spinning = false;
  const Thread spin = KT_TRY(spawn(t, spinner, ntfn));
  wait(ntfn);  // it runs
  CHECK_OK(suspend(spin.tcb));
  const uint64_t frozen = g_spins.load();
  // Another thread at the same priority runs for a few ticks; the
  // suspended one gets none of them.
  const Thread other = KT_TRY(spawn(t, busy_for, 5));
  KT_TRY(join(t, other));
  CHECK_EQ(g_spins.load(), frozen);
  CHECK_OK(suspend(spin.tcb));  // suspending twice is fine
  CHECK_OK(resume(spin.tcb));
  wait(ntfn);
  CHECK(g_spins.load() > frozen);
  g_stop_spinning = true;
  KT_TRY(join(t, spin));
}

// A thread suspended while blocked in a system call re-executes the call
// when resumed (as in seL4): it does not return from it with stale
// registers as if it had received something.
uint64_t receiver(uint64_t ep) {
  const Message m = recv(ep);
  return m.error() == Error::Ok && m.info.label() == 0x77 ? m.mr[0] : 0xdead;
}
uint64_t late_sender(uint64_t ep) {
  send(ep, 0x77, {42});
  return 0;
}

KTEST(tcb, suspend_while_blocked) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const Thread rx = KT_TRY(spawn(t, receiver, ep));
  // Let it block in Recv: a lower-priority thread runs only after that.
  ThreadOptions low;
  low.priority = kThreadPriority - 10;
  const Thread probe = KT_TRY(spawn(t, busy_for, 0, low));
  KT_TRY(join(t, probe));
  CHECK_OK(suspend(rx.tcb));
  // No receiver now: a non-blocking send is dropped.
  CHECK_OK(nb_send(ep, 0x77, {1}));
  CHECK_OK(resume(rx.tcb));
  const Thread tx = KT_TRY(spawn(t, late_sender, ep, low));
  CHECK_EQ(KT_TRY(join(t, rx)), 42);
  KT_TRY(join(t, tx));
}

// A Call whose reply was lost (the server took another Call before
// answering) is restarted too; a fault whose reply was lost is not (the
// thread is at the faulting instruction already).
uint64_t call_once_more(uint64_t ep) {
  const Message r = ipc_call(ep, 0x11, {0x10});
  return r.error() == Error::Ok ? r.info.label() << 8 | r.mr[0] : 0xdead;
}
uint64_t load_from(uint64_t address) { return *reinterpret_cast<volatile uint64_t*>(address); }

// Lets every thread above kThreadPriority - 10 run until it blocks.
Status settle(Test& t) {
  ThreadOptions low;
  low.priority = kThreadPriority - 10;
  TRY_RESULT(join(t, TRY_RESULT(spawn(t, busy_for, 0, low))));
  return {};
}

KTEST(tcb, suspend_after_lost_reply) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const Thread a = KT_TRY(spawn(t, call_once_more, ep));
  CHECK_OK(settle(t));
  CHECK_EQ(recv(ep).info.label(), 0x11);
  const Thread b = KT_TRY(spawn(t, call_once_more, ep));
  CHECK_OK(settle(t));
  CHECK_EQ(recv(ep).info.label(), 0x11);  // b's Call: a's reply is lost
  CHECK_OK(suspend(a.tcb));
  CHECK_OK(resume(a.tcb));
  CHECK_OK(reply(0x2, {0x22}));  // to b
  CHECK_EQ(KT_TRY(join(t, b)), 0x2 << 8 | 0x22);
  const Message again = recv(ep);  // a called again
  CHECK_EQ(again.info.label(), 0x11);
  CHECK_EQ(again.mr[0], 0x10);
  CHECK_OK(reply(0x3, {0x33}));
  CHECK_EQ(KT_TRY(join(t, a)), 0x3 << 8 | 0x33);

  // A page fault received, then its reply lost the same way.
  ThreadOptions faulting;
  faulting.fault_ep = ep;
  const Thread f = KT_TRY(spawn(t, load_from, t.va(1), faulting));
  CHECK_OK(settle(t));
  const Message fault = recv(ep);
  CHECK_EQ(fault.info.label(), uint64_t(uapi::FaultLabel::PageFault));
  const Thread c = KT_TRY(spawn(t, call_once_more, ep));
  CHECK_OK(settle(t));
  CHECK_EQ(recv(ep).info.label(), 0x11);  // the fault reply is lost
  CHECK_OK(suspend(f.tcb));
  CHECK_EQ(read_registers(f.tcb).mr[0], fault.mr[0]);  // not moved back
  CHECK_OK(reply(0x4, {0x44}));
  CHECK_EQ(KT_TRY(join(t, c)), 0x4 << 8 | 0x44);
}

// Suspending the root thread's own TCB from another thread, then resuming
// it, works like for any thread.
uint64_t suspend_root_then_resume(uint64_t) {
  const Error s = suspend(kRootTcb);
  const Error r = resume(kRootTcb);
  return uint64_t(s) | uint64_t(r) << 8;
}

KTEST(tcb, suspend_self_and_others) {
  // The thread at 100 runs while the root waits for it; the root is
  // resumed before the thread's report arrives.
  const Thread th = KT_TRY(spawn(t, suspend_root_then_resume, 0));
  CHECK_EQ(KT_TRY(join(t, th)), 0);
}

// A thread deletes the last cap to its own TCB: it is destroyed in the
// middle of its own system call, and the system goes on.
uint64_t delete_self(uint64_t tcb) {
  del(tcb);
  return 0xdead;  // never reached
}

// A thread replaces its own CSpace while its binding is the last cap to the
// old CNode. The new CNode's cap lives in the old one, so the old binding
// may only be deleted (destroying the old CNode) once the new one is in
// place: the kernel once panicked here. cptrs in the old CSpace: 2 = its
// own TCB, 3 = the new CNode, which holds its done cap at 1 as well.
uint64_t replace_own_cspace(uint64_t) {
  return static_cast<uint64_t>(error_of(call(2, Label::TcbConfigure, {0, 0}, {3})));
}

KTEST(tcb, replace_own_last_cspace) {
  const uint64_t old_cspace = KT_TRY(t.make(ObjectType::CNode, 4));
  const uint64_t new_cspace = KT_TRY(t.make(ObjectType::CNode, 4));
  const Thread th = KT_TRY(
      spawn(t, replace_own_cspace, 0, ThreadOptions{.cspace = old_cspace, .done_slot = 1, .start = false}));
  CHECK_OK(copy(2, th.tcb, Rights::All, old_cspace));
  CHECK_OK(copy(3, new_cspace, Rights::All, old_cspace));
  CHECK_OK(copy(1, 1, Rights::All, new_cspace, old_cspace));
  CHECK_OK(del(old_cspace));  // the thread's binding is now the last cap to it
  CHECK_OK(resume(th.tcb));
  CHECK_EQ(KT_TRY(join(t, th)), static_cast<uint64_t>(Error::Ok));
}

KTEST(tcb, delete_own_tcb) {
  const Thread th = KT_TRY(spawn(t, delete_self, 0, ThreadOptions{.start = false}));
  // a1 = its TCB cptr, the argument of delete_self, known only now.
  os::Reply regs = read_registers(th.tcb);
  regs.mr[11] = th.tcb;
  CHECK_OK(call_raw(th.tcb, uint64_t(Label::TcbWriteRegisters), 32, regs.mr));
  CHECK_OK(resume(th.tcb));
  // It runs (the probe below it runs only after), and is gone.
  KT_TRY(join(t, KT_TRY(spawn(t, busy_for, 0, ThreadOptions{.priority = kThreadPriority - 1}))));
  CHECK_ERR(read_registers(th.tcb), Error::FailedLookup);
  // No completion came from it: the next event is the probe's.
  const Thread again = KT_TRY(spawn(t, busy_for, 0));
  CHECK_EQ(KT_TRY(join(t, again)), 0);
}

}  // namespace
