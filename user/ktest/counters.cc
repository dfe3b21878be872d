// Per-thread counters (TcbReadCounters: system calls, IPC messages sent and
// received, faults, context switches, instructions and cycles) and the
// hardware counters user mode may read itself (rdcycle, rdtime, rdinstret).
#include "ktest.h"
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
