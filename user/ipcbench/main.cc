// The IPC benchmark, run as the root task (bootargs roottask=bin/ipcbench)
// by `./bench ipc` under qemu -icount shift=0, where rdinstret counts
// instructions exactly. It measures, in instructions and cycles per
// operation (the median over kRuns runs of kIterations each):
//   call_replyrecv_roundtrip  Call from this thread to a server thread in a
//                             second address space, which answers with
//                             ReplyRecv: one round trip
//   send_recv_oneway          Send to a higher-priority server blocked in
//                             Recv (it takes the message and waits again)
//   notification_signal_wait  Signal a notification a higher-priority
//                             thread waits on (it wakes and waits again)
//   null_syscall              the Null system call: kernel entry and exit
// and prints "ipcbench,NAME,INSTRUCTIONS,CYCLES" lines for the script.
#include <cstdint>

#include "os/boot_info.h"
#include "os/cpu.h"
#include "os/kernel.h"
#include "os/print.h"
#include "os/syscall.h"

extern "C" char __image_end[];

namespace {

using uapi::BootSlot;
using uapi::MessageInfo;
using uapi::Syscall;

constexpr int kRuns = 11;
constexpr int kIterations = 200;
constexpr uint64_t kServerStackTop = 0x0800'0000;
constexpr uint64_t kServerStackPages = 4;
constexpr uint64_t kServerIpcBuffer = 0x0810'0000;

constexpr uint64_t slot(BootSlot s) { return static_cast<uint64_t>(s); }

struct Sample {
  uint64_t instructions;
  uint64_t cycles;
};

template <typename F>
Sample measure(F&& operation) {
  Sample runs[kRuns];
  for (auto& run : runs) {
    operation();  // warm up (first-touch faults, TLB)
    const uint64_t i0 = os::read_instret();
    const uint64_t c0 = os::read_cycle();
    for (int i = 0; i < kIterations; ++i) operation();
    const uint64_t c1 = os::read_cycle();
    const uint64_t i1 = os::read_instret();
    run = {(i1 - i0) / kIterations, (c1 - c0) / kIterations};
  }
  // Median by instructions (insertion sort: 11 entries).
  for (int i = 1; i < kRuns; ++i) {
    for (int j = i; j > 0 && runs[j].instructions < runs[j - 1].instructions; --j) {
      const Sample t = runs[j];
      runs[j] = runs[j - 1];
      runs[j - 1] = t;
    }
  }
  return runs[kRuns / 2];
}

// --- the servers, running in the second address space ----------------------

[[noreturn]] void replyrecv_server(uint64_t endpoint) {
  os::SyscallResult r = os::syscall(Syscall::Recv, endpoint, MessageInfo{});
  for (;;) r = os::syscall(Syscall::ReplyRecv, endpoint, MessageInfo::make(0, 1), r.mr[0] + 1);
}

[[noreturn]] void recv_server(uint64_t endpoint) {
  for (;;) os::syscall(Syscall::Recv, endpoint, MessageInfo{});
}

[[noreturn]] void wait_server(uint64_t notification) {
  for (;;) os::syscall(Syscall::Recv, notification, MessageInfo{});
}

struct Setup {
  uint64_t next_slot;
  uint64_t untyped;
  uint64_t endpoint, notification, tcb, vspace;

  uint64_t take(uint64_t n = 1) {
    const uint64_t s = next_slot;
    next_slot += n;
    return s;
  }
};

os::Status status(const os::Result<os::Reply>& r) {
  if (!r) return std::unexpected(r.error());
  return {};
}

bool check(const os::Status& s, const char* what) {
  if (!s) os::print("ipcbench: {} failed: error {}\n", what, static_cast<uint64_t>(s.error()));
  return static_cast<bool>(s);
}

// Builds the second address space: the program's image shared, its own
// stack and IPC buffer; and the server thread, not yet started.
bool build(Setup& s) {
  const uint64_t root = slot(BootSlot::RootCNode);
  s.endpoint = s.take();
  s.notification = s.take();
  s.tcb = s.take();
  s.vspace = s.take();
  const uint64_t pool = s.take();
  const uint64_t frames = s.take(kServerStackPages + 1);
  return check(os::retype(s.untyped, uapi::ObjectType::Endpoint, 0, 1, root, s.endpoint), "endpoint") &&
         check(os::retype(s.untyped, uapi::ObjectType::Notification, 0, 1, root, s.notification), "notification") &&
         check(os::retype(s.untyped, uapi::ObjectType::Tcb, 0, 1, root, s.tcb), "tcb") &&
         check(os::retype(s.untyped, uapi::ObjectType::VSpace, 0, 1, root, s.vspace), "vspace") &&
         check(os::retype(s.untyped, uapi::ObjectType::Untyped, 16, 1, root, pool), "pool") &&
         check(os::retype(s.untyped, uapi::ObjectType::Frame, 0, kServerStackPages + 1, root, frames), "frames") &&
         check(os::vspace_set_table_pool(s.vspace, pool), "table pool") &&
         check(status(os::vspace_copy_range(slot(BootSlot::RootVSpace), s.vspace, 0x10000,
                                            reinterpret_cast<uint64_t>(__image_end) - 0x10000, uapi::CopyMode::Share)),
               "share image") &&
         check(os::vspace_map(s.vspace, kServerStackTop - kServerStackPages * 4096, root, frames, kServerStackPages,
                              uint64_t(uapi::MapPerm::Read) | uint64_t(uapi::MapPerm::Write)),
               "map stack") &&
         check(os::vspace_map(s.vspace, kServerIpcBuffer, root, frames + kServerStackPages, 1,
                              uint64_t(uapi::MapPerm::Read) | uint64_t(uapi::MapPerm::Write)),
               "map ipc buffer") &&
         check(os::tcb_configure(s.tcb, root, s.vspace, frames + kServerStackPages, kServerIpcBuffer, 0), "configure") &&
         check(os::tcb_set_priority(slot(BootSlot::RootTcb), 100), "client priority");
}

bool start_server(const Setup& s, void (*entry)(uint64_t), uint64_t arg, uint64_t priority) {
  return check(os::tcb_suspend(s.tcb), "suspend") && check(os::tcb_set_priority(s.tcb, priority), "priority") &&
         check(os::tcb_write_registers(s.tcb, reinterpret_cast<uint64_t>(entry), kServerStackTop, arg), "registers") &&
         check(os::tcb_resume(s.tcb), "resume");
}

void report(const char* name, Sample sample) {
  os::print("ipcbench,{},{},{}\n", name, sample.instructions, sample.cycles);
}

}  // namespace

int main(uint64_t boot_info_address) {
  const auto& info = *reinterpret_cast<const uapi::BootInfo*>(boot_info_address);
  os::set_ipc_buffer(reinterpret_cast<uapi::IpcBuffer*>(info.ipc_buffer));
  Setup s{info.first_free_slot, 0, 0, 0, 0, 0};
  if (const auto best = os::largest_ram_untyped(info)) s.untyped = best->slot;
  int status = 1;
  if (build(s)) {
    os::print("ipcbench: {} runs x {} iterations, median per operation\n", kRuns, kIterations);
    const uint64_t ep = s.endpoint;
    // Call/ReplyRecv: the server at the client's priority (Call blocks the client).
    if (start_server(s, reinterpret_cast<void (*)(uint64_t)>(&replyrecv_server), ep, 100)) {
      report("call_replyrecv_roundtrip",
             measure([ep] { os::syscall(Syscall::Call, ep, MessageInfo::make(1, 1), 42); }));
    }
    // One-way Send: the server above the client, so each Send runs it at once.
    if (start_server(s, reinterpret_cast<void (*)(uint64_t)>(&recv_server), ep, 101)) {
      report("send_recv_oneway", measure([ep] { os::syscall(Syscall::Send, ep, MessageInfo::make(1, 1), 7); }));
    }
    const uint64_t n = s.notification;
    if (start_server(s, reinterpret_cast<void (*)(uint64_t)>(&wait_server), n, 101)) {
      report("notification_signal_wait", measure([n] { os::syscall(Syscall::Send, n, MessageInfo{}); }));
    }
    report("null_syscall", measure([] { os::syscall(Syscall::Null, 0, MessageInfo{}); }));
    (void)os::tcb_suspend(s.tcb);
    os::print("ipcbench: done\n");
    status = 0;
  }
  (void)os::system_shutdown(slot(BootSlot::SystemControl), status);
  return status;
}
