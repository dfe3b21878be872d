// Per-thread counters (TcbReadCounters: system calls, IPC messages sent and
// received, faults, context switches, instructions and cycles, and the part
// of the instructions retired in the kernel), the kernel's total
// (SystemReadCounters) and the hardware counters user mode may read itself
// (rdcycle, rdtime, rdinstret).
#include "ktest.h"
#include "lib/bootargs.h"
#include "threads.h"

namespace {

using namespace kt;
using uapi::Counter;

KTEST(counters, syscalls) {
  const os::Reply before = read_counters(kRootTcb);
  CHECK_OK(before);
  CHECK_EQ(before.info.length(), uint64_t(Counter::Count));
  for (int i = 0; i < 10; ++i) os::yield();
  const os::Reply after = read_counters(kRootTcb);
  // The ten yields and the second read itself.
  CHECK_EQ(counter(after, Counter::Syscalls) - counter(before, Counter::Syscalls), 11);
  CHECK(counter(after, Counter::Instructions) > counter(before, Counter::Instructions));
  CHECK(counter(after, Counter::Cycles) > counter(before, Counter::Cycles));
  CHECK(counter(before, Counter::Instructions) > 0);
  CHECK(counter(before, Counter::Cycles) > 0);
}

constexpr uint64_t kQuit = 0x99;

uint64_t echo(uint64_t ep) {
  Message m = recv(ep);
  while (m.info.label() != kQuit) m = reply_recv(ep, 0, {m.mr[0]});
  reply(0, {});
  return 0;
}

KTEST(counters, ipc_and_switches) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const Thread server = KT_TRY(spawn(t, echo, ep));
  const os::Reply before = read_counters(kRootTcb);
  for (uint64_t i = 0; i < 5; ++i) CHECK_OK(ipc_call(ep, 1, {i}));
  const os::Reply after = read_counters(kRootTcb);
  CHECK_EQ(counter(after, Counter::IpcSent) - counter(before, Counter::IpcSent), 5);
  CHECK_EQ(counter(after, Counter::IpcReceived) - counter(before, Counter::IpcReceived), 5);
  // Each call switched to the server and back.
  CHECK(counter(after, Counter::ContextSwitches) - counter(before, Counter::ContextSwitches) >= 5);
  CHECK_OK(ipc_call(ep, kQuit, {}));
  KT_TRY(join(t, server));
  // The server: 6 received (with the quit), 6 replies sent, plus its
  // completion message.
  const os::Reply s = read_counters(server.tcb);
  CHECK_EQ(counter(s, Counter::IpcReceived), 6);
  CHECK_EQ(counter(s, Counter::IpcSent), 7);
  CHECK(counter(s, Counter::ContextSwitches) >= 6);
  CHECK(counter(s, Counter::Syscalls) >= 8);
  CHECK(counter(s, Counter::Instructions) > 0);
  CHECK(counter(s, Counter::Cycles) > 0);
  CHECK_EQ(counter(s, Counter::Faults), 0);
}

uint64_t fault_once(uint64_t address) { return *reinterpret_cast<volatile uint64_t*>(address); }

KTEST(counters, faults) {
  const uint64_t target = t.va(1);
  const Thread th = KT_TRY(spawn(t, fault_once, target));
  const Event e = KT_TRY(next_event(t));
  CHECK_EQ(e.label, uint64_t(uapi::FaultLabel::PageFault));
  CHECK_EQ(counter(read_counters(th.tcb), Counter::Faults), 1);
  const auto page = KT_TRY(t.map_new(1));
  CHECK_OK(map(kRootVSpace, target, page.first_frame, 1, kR));
  CHECK_OK(reply(0, {}));
  KT_TRY(join(t, th));
  CHECK_EQ(counter(read_counters(th.tcb), Counter::Faults), 1);
}

// A thread that never ran has counted nothing.
KTEST(counters, fresh_thread) {
  const uint64_t tcb = KT_TRY(t.make(ObjectType::Tcb));
  const os::Reply c = read_counters(tcb);
  CHECK_OK(c);
  for (size_t i = 0; i < size_t(Counter::Count); ++i) CHECK_EQ(c.mr[i], 0);
}

uint64_t yields(uint64_t count) {
  for (uint64_t i = 0; i < count; ++i) os::yield();
  return 0;
}

// KernelInstructions: the part of Instructions retired in S-mode. System
// calls make it grow; the rest (user mode) grows by a loop in user mode.
KTEST(counters, kernel_instructions) {
  const os::Reply before = read_counters(kRootTcb);
  yields(20);
  uint64_t sink = 0;
  for (uint64_t i = 0; i < 10000; ++i) asm volatile("add %0, %0, %1" : "+r"(sink) : "r"(i));
  const os::Reply after = read_counters(kRootTcb);
  const uint64_t k0 = counter(before, Counter::KernelInstructions), i0 = counter(before, Counter::Instructions);
  const uint64_t k1 = counter(after, Counter::KernelInstructions), i1 = counter(after, Counter::Instructions);
  CHECK(k0 > 0);
  CHECK(k0 < i0);
  CHECK(k1 > k0);
  CHECK(k1 < i1);
  CHECK((i1 - k1) - (i0 - k0) >= 10000);
  // A thread of its own: its system calls count as its kernel part.
  const Thread th = KT_TRY(spawn(t, yields, 50));
  KT_TRY(join(t, th));
  const os::Reply c = read_counters(th.tcb);
  CHECK(counter(c, Counter::Syscalls) >= 51);
  CHECK(counter(c, Counter::KernelInstructions) > 0);
  CHECK(counter(c, Counter::KernelInstructions) < counter(c, Counter::Instructions));
}

// SystemReadCounters: the kernel's instructions since boot, below instret,
// and growing with the system calls made.
KTEST(counters, system_counters) {
  const os::Reply s0 = system_counters();
  CHECK_OK(s0);
  CHECK_EQ(s0.info.length(), 2);
  CHECK(s0.mr[0] > 0);
  CHECK(s0.mr[0] < s0.mr[1]);
  const os::Reply c0 = read_counters(kRootTcb);
  yields(20);
  const os::Reply c1 = read_counters(kRootTcb);
  const os::Reply s1 = system_counters();
  CHECK(s1.mr[0] > s0.mr[0]);
  CHECK(s1.mr[1] > s0.mr[1]);
  CHECK(s1.mr[0] < s1.mr[1]);
  CHECK(s1.mr[0] - s0.mr[0] < s1.mr[1] - s0.mr[1]);
  // The root thread's kernel part in between is part of the total.
  CHECK(s1.mr[0] - s0.mr[0] >= counter(c1, Counter::KernelInstructions) - counter(c0, Counter::KernelInstructions));
  // It needs Read, which the one SystemControl cap has (it cannot be
  // copied, so no cap without Read can be made to try). Other objects do
  // not know the label.
  CHECK_ERR(call(kRootTcb, Label::SystemReadCounters, {}), Error::IllegalOperation);
}

// Under qemu -icount the count is exact to the instruction: between two
// calls whose ecalls only `kGap` user instructions separate, the user-mode
// instructions (instret less the kernel's, hart-wide; Instructions less
// KernelInstructions, per thread) grow by exactly that (the ecall counts as
// the thread's: QEMU retires it). Without -icount, instret follows the
// host's clock and nothing is exact.
constexpr uint64_t kGap = 5;  // the four instructions between, and the ecall

KTEST(counters, exact_under_icount) {
  if (!kern::bootarg(env().info->bootargs, "ktest.icount")) return t.skip("needs qemu -icount (bootargs ktest.icount)");
  const uint64_t info = uapi::MessageInfo::make(uint64_t(Label::SystemReadCounters), 0).raw;
  uint64_t k1, i1, k2, i2;
  asm volatile(
      "mv a0, %[cptr]\n"
      "mv a1, %[info]\n"
      "li a7, %[call]\n"
      "ecall\n"
      "mv %[k1], a2\n"
      "mv %[i1], a3\n"
      "mv a0, %[cptr]\n"
      "mv a1, %[info]\n"
      "ecall\n"
      "mv %[k2], a2\n"
      "mv %[i2], a3\n"
      : [k1] "=&r"(k1), [i1] "=&r"(i1), [k2] "=&r"(k2), [i2] "=&r"(i2)
      : [cptr] "r"(kSystemControl), [info] "r"(info), [call] "i"(uint64_t(uapi::Syscall::Call))
      : "a0", "a1", "a2", "a3", "a4", "a5", "a7", "memory");
  CHECK_EQ((i2 - k2) - (i1 - k1), kGap);
  // The same for the thread: TcbReadCounters on itself, the two counters
  // taken from the IPC buffer (mr5, mr7) between the calls.
  static_assert(size_t(Counter::Instructions) == 5 && size_t(Counter::KernelInstructions) == 7);
  const uint64_t tcb_info = uapi::MessageInfo::make(uint64_t(Label::TcbReadCounters), 0).raw;
  const uint64_t* words = my_buffer()->mr;
  uint64_t ti1, tk1;
  asm volatile(
      "mv a0, %[cptr]\n"
      "mv a1, %[info]\n"
      "li a7, %[call]\n"
      "ecall\n"
      "ld %[i1], 40(%[words])\n"
      "ld %[k1], 56(%[words])\n"
      "mv a0, %[cptr]\n"
      "mv a1, %[info]\n"
      "ecall\n"
      : [k1] "=&r"(tk1), [i1] "=&r"(ti1)
      : [cptr] "r"(kRootTcb), [info] "r"(tcb_info), [words] "r"(words),
        [call] "i"(uint64_t(uapi::Syscall::Call))
      : "a0", "a1", "a2", "a3", "a4", "a5", "a7", "memory");
  const uint64_t ti2 = words[5], tk2 = words[7];
  CHECK_EQ((ti2 - tk2) - (ti1 - tk1), kGap);
}

// User mode reads cycle, time and instret directly.
KTEST(counters, user_counters) {
  const uint64_t cycle0 = cpu::rdcycle(), time0 = cpu::rdtime(), instret0 = cpu::rdinstret();
  CHECK(cycle0 > 0);
  CHECK(time0 > 0);
  CHECK(instret0 > 0);
  uint64_t sink = 0;
  for (uint64_t i = 0; i < 10000; ++i) asm volatile("add %0, %0, %1" : "+r"(sink) : "r"(i));
  const uint64_t cycle1 = cpu::rdcycle(), instret1 = cpu::rdinstret();
  CHECK(instret1 - instret0 >= 10000);
  CHECK(cycle1 > cycle0);
  // Time advances too (the timebase is in the boot info).
  const uint64_t end = cpu::rdtime() + env().info->timebase_frequency / 1000;
  while (cpu::rdtime() < end) {
  }
  CHECK(cpu::rdtime() > time0);
}

}  // namespace
