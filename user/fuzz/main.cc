// The system-call fuzzer, run as the root task:
//
//   bootargs: roottask=bin/fuzz fuzz.seed=S fuzz.count=N
//             [fuzz.check=K] [fuzz.rebuild=R]
//
// It builds a sandbox (fuzz.h): a CNode holding a few capabilities of every
// type a program gets (Untyped, endpoints, notifications, frames, two
// VSpaces, a TCB, an IRQ handler, Reply objects, the sandbox CNode itself), never
// SystemControl, IRQ control or the root task's own CNode, TCB or VSpace.
// Two fuzzing threads (fuzzer.cc, recipes.cc) use the sandbox as their
// CSpace: the main one (priority 100) makes N random system calls; a
// partner (priority 90, its own random stream) runs whenever the main one
// blocks, so that blocking IPC finds a peer. Their faults come to this task
// on one endpoint (unknown system calls are answered by resuming the thread
// after the ecall; any other fault restarts it and is reported). A
// watchdog thread at priority 10 runs only when neither fuzzing thread can
// run (both blocked): it calls this task, which restarts both; so does the
// partner when it has made fuzz::kPartnerBudget calls while the main thread
// made none. So no random call can stall the run, and no timer is needed.
//
// Every K calls (fuzz.check, default 2000) and at the end this task asks
// the kernel to check its invariants (DebugCheckInvariants) and prints a
// progress line "fuzz: N calls, seed S, ...". Every R calls (fuzz.rebuild,
// default 500; K is a multiple of R) it revokes the sandbox's memory,
// builds a fresh sandbox and checks again (silently unless it fails), so
// that the threads do not run for long in a sandbox they have emptied. The
// last line is "fuzz: done, N calls, invariants OK" and the machine powers
// off with status 0; 1 if the kernel reported a violation, 2 if building
// the sandbox failed (after the first time: the kernel lost memory).
#include <optional>
#include <string_view>
#include <type_traits>

#include "lib/bootargs.h"
#include "fuzz.h"
#include "os/boot_info.h"
#include "os/kernel.h"
#include "os/print.h"
#include "os/syscall.h"

namespace {

using uapi::BootSlot;
using uapi::Label;
using uapi::MessageInfo;
using uapi::ObjectType;
using uapi::Rights;
using uapi::Syscall;

constexpr uint64_t slot(BootSlot s) { return static_cast<uint64_t>(s); }
constexpr uint64_t kRootCNode = slot(BootSlot::RootCNode);
constexpr uint64_t kRootVSpace = slot(BootSlot::RootVSpace);

constexpr uint64_t kSandboxMemoryBits = 18;  // all of the sandbox, the CNode included: 256 KiB
constexpr uint64_t kBigUntypedBits = 17;   // the part the fuzzing threads get: 128 KiB
constexpr uint64_t kSmallUntypedBits = 14;
constexpr uint64_t kPoolBits = 14;         // 4 page tables for the sandbox VSpace
constexpr uint64_t kStackPages = 4;
constexpr uint64_t kThreadArea = 0x3000'0000;  // fuzzing threads' stacks and IPC buffers
constexpr uint64_t kThreadAreaStride = 0x1'0000;

enum Badge : uint64_t { kBadgeMain = 1, kBadgePartner = 2, kBadgeWatchdog = 3 };
constexpr uint8_t kMainPriority = 100;
constexpr uint8_t kPartnerPriority = 90;
constexpr uint8_t kWatchdogPriority = 10;

[[noreturn]] void power_off(uint64_t status) {
  (void)os::system_shutdown(slot(BootSlot::SystemControl), status);
  for (;;) os::syscall(Syscall::Recv, 0, MessageInfo{});
}

template <typename T>
T must(os::Result<T> result, const char* what) {
  if (!result) {
    os::print("fuzz: setup failed: {}: error {}\n", what, static_cast<uint64_t>(result.error()));
    power_off(2);
  }
  if constexpr (!std::is_void_v<T>) return *result;
}

// --- boot arguments ------------------------------------------------------------


uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline uint64_t rdtime() {
  uint64_t v;
  asm volatile("rdtime %0" : "=r"(v));
  return v;
}

// --- the sandbox and the threads ---------------------------------------------------

struct Thread {
  const char* name;
  uint64_t tcb;          // root CNode slot
  uint64_t fault_ep;     // root CNode slot of its badged fault endpoint (0: none)
  uint64_t ipc_frame;    // root CNode slot (0: none)
  uint64_t ipc_va;
  uint64_t stack_top;
  uint64_t entry;
  uint64_t arg;
  uint64_t cspace;       // root CNode slot of its CSpace root
  uint8_t priority;
};

struct Fuzz {
  uint64_t seed = 0;
  uint64_t count = 0;
  uint64_t check_every = 0;
  uint64_t rebuild_every = 0;
  uint64_t next_slot = 0;     // next free slot of the root CNode
  uint64_t memory = 0;        // RAM Untyped everything is carved from
  uint64_t fault_ep = 0;
  uint64_t sandbox_memory = 0;  // root CNode slot of the Untyped the sandbox is made from
  uint64_t sandbox = 0;       // root CNode slot of the sandbox CNode
  uint64_t sandbox_temp = 0;  // first of the root CNode slots objects are made in
  uint64_t rebuilds = 0;
  uint64_t timebase = 1;
  uint64_t started = 0;       // rdtime at the start
  Thread main{}, partner{}, watchdog{};
  uint64_t restarts = 0;      // watchdog rounds
  uint64_t unknown_syscalls = 0;
  uint64_t other_faults = 0;
  uint64_t checks = 0;
};

Fuzz g;
fuzz::FuzzThread g_main_state;
fuzz::FuzzThread g_partner_state;

uint64_t take_slots(uint64_t n) {
  const uint64_t first = g.next_slot;
  g.next_slot += n;
  return first;
}

uint64_t make(ObjectType type, uint64_t size_bits, uint64_t count, const char* what, uint64_t from = 0) {
  const uint64_t first = take_slots(count);
  must(os::retype(from != 0 ? from : g.memory, type, size_bits, count, kRootCNode, first), what);
  return first;
}

// The same into given root slots (the sandbox is built again in the same
// slots: revoking its memory empties them).
uint64_t make_at(uint64_t& at, ObjectType type, uint64_t size_bits, uint64_t count, const char* what, uint64_t from) {
  const uint64_t first = at;
  at += count;
  must(os::retype(from, type, size_bits, count, kRootCNode, first), what);
  return first;
}

void move_into_sandbox(uint64_t dest, uint64_t root_slot) {
  must(os::cnode_move(g.sandbox, dest, kRootCNode, root_slot), "move into the sandbox");
}

// The sandbox, made from g.sandbox_memory in root slots from
// g.sandbox_temp, then moved into the sandbox CNode.
void build_sandbox() {
  if (g.sandbox_memory == 0) {
    g.sandbox_memory = make(ObjectType::Untyped, kSandboxMemoryBits, 1, "sandbox memory");
    g.sandbox_temp = take_slots(24);
  }
  uint64_t at = g.sandbox_temp;
  g.sandbox = make_at(at, ObjectType::CNode, fuzz::kSandboxRadix, 1, "sandbox CNode", g.sandbox_memory);
  const uint64_t big = make_at(at, ObjectType::Untyped, kBigUntypedBits, 1, "sandbox Untyped", g.sandbox_memory);
  const uint64_t small = make_at(at, ObjectType::Untyped, kSmallUntypedBits, 1, "small Untyped", big);
  const uint64_t pool = make_at(at, ObjectType::Untyped, kPoolBits, 1, "table pool", big);
  const uint64_t vspaces = make_at(at, ObjectType::VSpace, 0, 2, "VSpaces", big);
  const uint64_t tcb = make_at(at, ObjectType::Tcb, 0, 1, "sandbox TCB", big);
  const uint64_t endpoints = make_at(at, ObjectType::Endpoint, 0, 2, "endpoints", big);
  const uint64_t notifications = make_at(at, ObjectType::Notification, 0, 2, "notifications", big);
  const uint64_t frames = make_at(at, ObjectType::Frame, 0, fuzz::kFrameCount, "frames", big);
  const uint64_t replies = make_at(at, ObjectType::Reply, 0, 2, "Reply objects", big);
  must(os::vspace_set_table_pool(vspaces, pool), "table pool");
  // The interrupt handler is not made from the sandbox's memory: it goes
  // when the sandbox CNode does, and is asked for again.
  const uint64_t irq = at++;
  must(os::invoke(slot(BootSlot::IrqControl), Label::IrqControlGet, {fuzz::kFuzzIrq, irq}, {kRootCNode}),
       "IRQ handler");

  using namespace fuzz;
  move_into_sandbox(kSlotBigUntyped, big);
  move_into_sandbox(kSlotSmallUntyped, small);
  for (uint64_t i = 0; i < 2; ++i) {
    move_into_sandbox(kSlotVSpace + i, vspaces + i);
    move_into_sandbox(kSlotEndpoint + i, endpoints + i);
    move_into_sandbox(kSlotNotification + i, notifications + i);
    move_into_sandbox(kSlotReply + i, replies + i);
  }
  for (uint64_t i = 0; i < kFrameCount; ++i) move_into_sandbox(kSlotFrame + i, frames + i);
  move_into_sandbox(kSlotTcb, tcb);
  move_into_sandbox(kSlotIrqHandler, irq);
  // Copies inside the sandbox: the CNode itself, badged and reduced caps.
  must(os::cnode_copy(g.sandbox, kSlotSandboxCNode, kRootCNode, g.sandbox, Rights::All), "sandbox self cap");
  must(os::cnode_copy(g.sandbox, kSlotReadOnlyCNode, kRootCNode, g.sandbox, Rights::Read), "read-only CNode");
  for (uint64_t i = 0; i < 2; ++i) {
    must(os::cnode_copy(g.sandbox, kSlotMoreCNodes + i, kRootCNode, g.sandbox, Rights::All), "sandbox self cap");
  }
  must(os::cnode_mint(g.sandbox, kSlotEndpoint + 2, g.sandbox, kSlotEndpoint, Rights::All, 0x42), "badged endpoint");
  must(os::cnode_copy(g.sandbox, kSlotEndpoint + 3, g.sandbox, kSlotEndpoint + 1, Rights::Read), "read-only endpoint");
  must(os::cnode_mint(g.sandbox, kSlotNotification + 2, g.sandbox, kSlotNotification, Rights::All, 0x8),
       "badged notification");
}

// (Re)start a thread from scratch: its bindings, priority and registers.
// Suspending first takes it out of any queue and breaks its reply links.
void start(const Thread& t) {
  must(os::tcb_suspend(t.tcb), "suspend");
  if (t.ipc_frame != 0) {
    must(os::tcb_configure(t.tcb, t.cspace, kRootVSpace, t.ipc_frame, t.ipc_va, t.fault_ep), "configure");
  } else {
    must(os::invoke(t.tcb, Label::TcbConfigure, {0, 0}, {t.cspace, kRootVSpace}), "configure");
  }
  must(os::invoke(t.tcb, Label::TcbSetPriority, {t.priority, t.priority}), "priority");
  must(os::tcb_write_registers(t.tcb, t.entry, t.stack_top, t.arg), "registers");
  must(os::tcb_resume(t.tcb), "resume");
}

[[noreturn]] void watchdog_main(uint64_t endpoint) {
  for (;;) os::syscall(Syscall::Call, endpoint, MessageInfo{});
}

// A thread with its own stack (and IPC buffer, for the fuzzing threads) in
// the root task's address space, at kThreadArea + index * stride.
Thread make_thread(const char* name, uint64_t index, bool ipc_buffer, uint64_t badge, uint8_t priority) {
  Thread t{};
  t.name = name;
  t.priority = priority;
  t.tcb = make(ObjectType::Tcb, 0, 1, "fuzzing TCB");
  const uint64_t base = kThreadArea + index * kThreadAreaStride;
  const uint64_t stack = make(ObjectType::Frame, 0, kStackPages, "stack");
  must(os::vspace_map(kRootVSpace, base, kRootCNode, stack, kStackPages, 3), "map stack");
  t.stack_top = base + kStackPages * 4096;
  if (ipc_buffer) {
    t.ipc_frame = make(ObjectType::Frame, 0, 1, "IPC buffer");
    t.ipc_va = base + (kStackPages + 1) * 4096;
    must(os::vspace_map(kRootVSpace, t.ipc_va, kRootCNode, t.ipc_frame, 1, 3), "map IPC buffer");
  }
  const uint64_t ep = take_slots(1);
  must(os::cnode_mint(kRootCNode, ep, kRootCNode, g.fault_ep, Rights::Write, badge), "badged endpoint");
  t.fault_ep = ep;
  return t;
}

fuzz::FuzzThread fuzz_state(uint64_t seed, uint64_t limit, uint64_t every, const Thread& t) {
  fuzz::FuzzThread s{};
  s.rng = splitmix64(seed) | 1;  // xorshift needs a non-zero state
  s.limit = limit;
  s.checkpoint_every = every;
  s.next_checkpoint = every;
  s.buffer = reinterpret_cast<uapi::IpcBuffer*>(t.ipc_va);
  return s;
}

void build_threads() {
  g.fault_ep = make(ObjectType::Endpoint, 0, 1, "fault endpoint");
  g.main = make_thread("main", 0, true, kBadgeMain, kMainPriority);
  g.partner = make_thread("partner", 1, true, kBadgePartner, kPartnerPriority);
  g.watchdog = make_thread("watchdog", 2, false, kBadgeWatchdog, kWatchdogPriority);
  g_main_state = fuzz_state(g.seed, g.count, g.rebuild_every, g.main);
  g_partner_state = fuzz_state(g.seed ^ 0x5a5a'5a5a'5a5a'5a5a, 0, 0, g.partner);
  g_partner_state.leader = &g_main_state;
  for (Thread* t : {&g.main, &g.partner}) {
    t->cspace = g.sandbox;
    t->entry = reinterpret_cast<uint64_t>(&fuzz::thread_main);
  }
  g.main.arg = reinterpret_cast<uint64_t>(&g_main_state);
  g.partner.arg = reinterpret_cast<uint64_t>(&g_partner_state);
  g.watchdog.cspace = kRootCNode;
  g.watchdog.entry = reinterpret_cast<uint64_t>(&watchdog_main);
  g.watchdog.arg = g.watchdog.fault_ep;  // it calls this task through its badged cap
  g.watchdog.fault_ep = 0;
}

// --- supervision ---------------------------------------------------------------------

// Ask the kernel to check itself; prints a line and returns the violations.
uint64_t check(const char* when) {
  const os::SyscallResult r = os::syscall(Syscall::DebugCheckInvariants, 0, MessageInfo{});
  ++g.checks;
  const uint64_t elapsed_ms = (rdtime() - g.started) * 1000 / g.timebase;
  const fuzz::FuzzThread& m = g_main_state;
  os::print("fuzz: {} calls, seed {}, {}: {} ok, {} errors, partner {} calls, {} restarts, {} unknown-syscall "
            "faults, {} ms: invariants {} ({} caps, {} threads, {} mappings)\n",
            m.calls, g.seed, when, m.ok, m.errors, g_partner_state.calls, g.restarts, g.unknown_syscalls,
            elapsed_ms, r.mr[0] == 0 && !r.info.is_error() ? "OK" : "VIOLATED", r.mr[1], r.mr[2], r.mr[3]);
  return r.info.is_error() ? (r.mr[0] != 0 ? r.mr[0] : 1) : 0;
}

// Which invocations the main thread made and how many succeeded.
void print_coverage() {
  static constexpr struct {
    Label label;
    const char* name;
  } kNames[] = {
#define X(name, number, type) {Label::name, #name},
#include "abi/invocations.def"
#undef X
  };
  const fuzz::FuzzThread& m = g_main_state;
  os::print("fuzz: invocations ok/tried:");
  for (const auto& n : kNames) {
    const uint64_t i = static_cast<uint64_t>(n.label);
    if (i < fuzz::kLabelSlots) os::print(" {} {}/{}", n.name, m.label_ok[i], m.label_tries[i]);
  }
  os::print(" SaveReply {}/{}\n", m.save_reply_ok, m.save_reply_tries);
}

[[noreturn]] void finish() {
  const uint64_t violations = check("end");
  print_coverage();
  os::print("fuzz: {} sandbox rebuilds\n", g.rebuilds);
  if (g.other_faults != 0) os::print("fuzz: {} unexpected faults of the fuzzing threads\n", g.other_faults);
  if (violations != 0) {
    os::print("fuzz: done, {} calls, invariants FAILED ({} violations)\n", g_main_state.calls, violations);
    power_off(1);
  }
  os::print("fuzz: done, {} calls, invariants OK\n", g_main_state.calls);
  power_off(0);
}

// A fresh sandbox: revoking its memory destroys whatever the fuzzing
// threads made of the old one (a test of its own), then the threads start
// again in the new one. The check after it prints only if it fails.
void rebuild() {
  must(os::cnode_revoke(kRootCNode, g.sandbox_memory), "revoke the sandbox");
  build_sandbox();
  ++g.rebuilds;
  for (fuzz::FuzzThread* t : {&g_main_state, &g_partner_state}) {
    for (auto& slots : t->known) {
      for (uint8_t& s : slots) s = 0;
    }
  }
  const os::SyscallResult r = os::syscall(Syscall::DebugCheckInvariants, 0, MessageInfo{});
  if (r.info.is_error()) {
    os::print("fuzz: invariant violation after rebuilding the sandbox, {} calls, seed {}\n", g_main_state.calls, g.seed);
    finish();
  }
  start(g.main);
  start(g.partner);
}

// The main thread is blocked for good (the watchdog ran, or the partner
// kept running without it): start both again.
void restart_both() {
  ++g.restarts;
  start(g.main);
  start(g.partner);
}

// A fault of a fuzzing thread. Returns whether to reply (resume it).
bool on_fault(const Thread& t, uint64_t badge, uint64_t label, const os::SyscallResult& r) {
  if (label == static_cast<uint64_t>(uapi::FaultLabel::UnknownSyscall)) {
    const uint64_t number = r.mr[1];
    if (badge == kBadgeMain && number == fuzz::kCheckpointSyscall) {
      const uint64_t calls = g_main_state.calls;
      if (calls % g.check_every == 0 && check("checkpoint") != 0) {
        os::print("fuzz: invariant violation after {} calls, seed {}\n", g_main_state.calls, g.seed);
        finish();
      }
      if (g_main_state.calls != 0 && g_main_state.calls < g.count) {
        rebuild();
        return false;  // restarted: nothing to reply to
      }
      return true;
    }
    if (badge == kBadgeMain && number == fuzz::kDoneSyscall) finish();
    if (badge == kBadgePartner && number == fuzz::kStalledSyscall) {
      restart_both();
      return false;
    }
    ++g.unknown_syscalls;
    return true;
  }
  // Nothing a fuzzing thread does should make it fault otherwise: report.
  if (g.other_faults++ < 10) {
    os::print("fuzz: {} thread fault {} at pc {:#x}: {:#x} {:#x} (after {} calls)\n", t.name, label, r.mr[0], r.mr[1],
              r.mr[2], g_main_state.calls);
  }
  start(t);
  return false;
}

[[noreturn]] void supervise() {
  bool reply = false;
  for (;;) {
    const os::SyscallResult r = os::syscall(reply ? Syscall::ReplyRecv : Syscall::Recv, g.fault_ep, MessageInfo{});
    reply = false;
    if (r.info.is_error()) {
      os::print("fuzz: receive failed: error {}\n", r.info.label());
      power_off(2);
    }
    switch (r.badge) {
      case kBadgeMain: reply = on_fault(g.main, r.badge, r.info.label(), r); break;
      case kBadgePartner: reply = on_fault(g.partner, r.badge, r.info.label(), r); break;
      case kBadgeWatchdog:
        restart_both();
        reply = true;
        break;
      default:
        os::print("fuzz: message with unexpected badge {}\n", r.badge);
        break;
    }
  }
}

uint64_t find_memory(const uapi::BootInfo& info) {
  const auto best = os::largest_ram_untyped(info);
  if (!best || best->size_bits < 22) {
    os::print("fuzz: no RAM Untyped of 4 MiB\n");
    power_off(2);
  }
  return best->slot;
}

}  // namespace

int main(uint64_t boot_info_address) {
  const auto& info = *reinterpret_cast<const uapi::BootInfo*>(boot_info_address);
  os::set_ipc_buffer(reinterpret_cast<uapi::IpcBuffer*>(info.ipc_buffer));
  const std::string_view bootargs(info.bootargs);
  g.seed = kern::bootarg_number(bootargs, "fuzz.seed").value_or(1);
  g.count = kern::bootarg_number(bootargs, "fuzz.count").value_or(20000);
  g.check_every = kern::bootarg_number(bootargs, "fuzz.check").value_or(2000);
  g.rebuild_every = kern::bootarg_number(bootargs, "fuzz.rebuild").value_or(500);
  if (g.check_every == 0 || g.rebuild_every == 0 || g.check_every % g.rebuild_every != 0) {
    os::print("fuzz: fuzz.check must be a non-zero multiple of fuzz.rebuild\n");
    power_off(2);
  }
  g.timebase = info.timebase_frequency != 0 ? info.timebase_frequency : 1;
  g.next_slot = info.first_free_slot;
  g.memory = find_memory(info);
  os::print("fuzz: seed {}, {} calls, invariants checked every {}\n", g.seed, g.count, g.check_every);

  build_sandbox();
  build_threads();
  if (check("start") != 0) {
    os::print("fuzz: the kernel's invariants fail before fuzzing\n");
    power_off(1);
  }
  g.started = rdtime();
  start(g.watchdog);
  start(g.partner);
  start(g.main);
  supervise();
}
