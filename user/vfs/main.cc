// vfs, the file server, started by procmgr from the boot archive (bin/vfs)
// with the capabilities servers/common/boot_caps.h lists. Its logic (files,
// pipes, the console's line discipline, request handling) is in
// servers/vfs; this file is the IPC around it:
//
// The main thread receives every request on the service endpoint, hands it
// to vfs::Service, and answers with the reply half of the next ReplyRecv,
// or, for a request that must wait, only receives the next one (the reply
// was saved in a Reply object and goes out when the request can proceed).
// It never calls anyone: procmgr calls vfs during fork and exit, and a call
// the other way could deadlock.
//
// The console thread (the helper TCB procmgr configured) waits for the
// UART's receive interrupt, drains the receive register, acknowledges the
// interrupt and calls the main thread with ConsoleInput. When the answer
// names a process group (Ctrl-C typed with a foreground group set) it asks
// procmgr to send SIGINT to the group. Only this thread calls procmgr, and
// the main thread never waits for it.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/boot_caps.h"
#include "common/message.h"
#include "cpio.h"
#include "kernel_objects.h"
#include "os/kernel.h"
#include "os/print.h"
#include "os/syscall.h"
#include "procmgr/protocol.h"
#include "uart.h"
#include "vfs/boot_mount.h"
#include "vfs/protocol.h"
#include "vfs/service.h"

namespace {

using uapi::MessageInfo;
using uapi::Syscall;
using Label = vfs::protocol::Label;

constexpr size_t kMaxBootFiles = 256;

// ---- The console thread ----

alignas(16) uint8_t g_console_stack[16 * 1024];

// Bytes typed go to the main thread in ConsoleInput messages of at most
// this many bytes (mr0 the count, the bytes after it).
constexpr size_t kInputChunk = msg::max_bytes_after(1);

// SIGINT to process group `pgid` through procmgr's Kill. Kill names a
// group by -pgid, but -1 means "every process": group 1 (init's) is asked
// of init itself instead.
void interrupt_group(uapi::IpcBuffer* buffer, uint64_t pgid) {
  const int64_t target = pgid == 1 ? 1 : -static_cast<int64_t>(pgid);
  const uint64_t words[2] = {static_cast<uint64_t>(target), static_cast<uint64_t>(procmgr::protocol::kSigInt)};
  const os::Reply r = os::call_raw(buffer, boot_caps::kProcmgrEndpoint,
                                   static_cast<uint64_t>(procmgr::protocol::Label::Kill), 2, words, 0, nullptr);
  if (r.info.is_error() || msg::result_of(r.mr[0]) < 0) {
    os::print("vfs: console: SIGINT to group {} failed ({})\n", pgid, static_cast<int64_t>(r.mr[0]));
  }
}

[[noreturn]] void console_thread(uint64_t uart_address) {
  auto* buffer = reinterpret_cast<uapi::IpcBuffer*>(boot_caps::kHelperIpcBufferVa);
  const auto& uart = *reinterpret_cast<const vfs::Uart*>(uart_address);
  uint64_t words[msg::kWords];
  for (;;) {
    // Wait for the interrupt; a signal with nothing to read (the PLIC can
    // latch the line again while it is claimed) just goes round again.
    (void)os::syscall(Syscall::Recv, boot_caps::kVfsUartNotification, MessageInfo{});
    uint8_t typed[kInputChunk];
    size_t n = 0;
    while (n < kInputChunk && uart.has_input()) typed[n++] = uart.get();
    // Acknowledge once the receive register is drained (or a chunk is full:
    // the line stays raised and the interrupt comes straight back).
    (void)os::call_raw(buffer, boot_caps::kVfsUartIrq, static_cast<uint64_t>(uapi::Label::IrqHandlerAck), 0,
                       nullptr, 0, nullptr);
    if (n == 0) continue;
    words[0] = n;
    msg::pack(&words[1], typed, n);
    const os::Reply r = os::call_raw(buffer, boot_caps::kVfsConsoleEndpoint, static_cast<uint64_t>(Label::ConsoleInput),
                                     1 + msg::words_for(n), words, 0, nullptr);
    const int64_t pgid = msg::result_of(r.mr[0]);
    if (!r.info.is_error() && pgid > 0) interrupt_group(buffer, static_cast<uint64_t>(pgid));
  }
}

// ---- The main thread ----

// The request just received, whole: four words from registers, the rest
// from the IPC buffer.
vfs::Message received(const os::SyscallResult& r, const uapi::IpcBuffer& buffer) {
  vfs::Message m;
  m.label = r.info.label();
  m.length = r.info.length() < msg::kWords ? r.info.length() : msg::kWords;
  for (size_t i = 0; i < m.length; ++i) m.mr[i] = i < uapi::kMessageRegistersInCpu ? r.mr[i] : buffer.mr[i];
  return m;
}

[[noreturn]] void serve(vfs::Service& service) {
  uapi::IpcBuffer& buffer = *os::ipc_buffer();
  buffer.receive_slot = 0;  // vfs takes no capabilities
  os::SyscallResult r = os::syscall(Syscall::Recv, boot_caps::kServiceEndpoint, MessageInfo{});
  for (;;) {
    if (r.info.is_error()) {
      // The receive itself failed: nothing to answer.
      r = os::syscall(Syscall::Recv, boot_caps::kServiceEndpoint, MessageInfo{});
      continue;
    }
    const std::optional<vfs::Message> reply = service.handle(r.badge, received(r, buffer));
    if (!reply) {
      r = os::syscall(Syscall::Recv, boot_caps::kServiceEndpoint, MessageInfo{});
      continue;
    }
    for (size_t i = uapi::kMessageRegistersInCpu; i < reply->length; ++i) buffer.mr[i] = reply->mr[i];
    r = os::syscall(Syscall::ReplyRecv, boot_caps::kServiceEndpoint, MessageInfo::make(reply->label, reply->length),
                    reply->mr[0], reply->mr[1], reply->mr[2], reply->mr[3]);
  }
}

// The boot archive's programs under /bin. Returns how many, or fails.
vfs::Result<size_t> boot_files(uint64_t archive_size, std::span<vfs::RomFile> out) {
  auto archive = kern::cpio::Archive::parse(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(boot_caps::kVfsArchiveVa), archive_size));
  if (!archive) return vfs::fail(vfs::Errno::Io);
  return vfs::collect_boot_files(*archive, out);
}

[[noreturn]] void stop(const char* why) {
  os::print("vfs: {}; stopping\n", why);
  for (;;) asm volatile("ebreak");
}

[[noreturn]] void run(uint64_t pool_bits, uint64_t archive_size) {
  os::set_ipc_buffer(reinterpret_cast<uapi::IpcBuffer*>(boot_caps::kIpcBufferVa));
  auto uart_frame = os::invoke(boot_caps::kVfsUartFrame, uapi::Label::FrameGetInfo, {});
  if (!uart_frame) stop("no UART frame");

  // Memory: Reply objects first, then pages in batches (kernel_objects.h).
  // run() never returns, so its locals live as long as the server.
  vfs::ObjectReplies replies;
  if (!replies.create()) os::print("vfs: no Reply objects: reads and writes cannot wait\n");
  vfs::PoolMapper mapper(pool_bits);
  const size_t pool_pages = pool_bits >= 12 ? size_t{1} << (pool_bits - 12) : 0;
  vfs::PoolPageSource pages(mapper, boot_caps::kServerHeapVa, pool_pages, /*first_batch=*/1);
  vfs::Heap heap(pages);
  vfs::MemFs fs(heap);

  static vfs::RomFile files[kMaxBootFiles];
  auto count = boot_files(archive_size, files);
  if (!count) {
    os::print("vfs: boot archive unreadable ({}): /bin is empty\n", vfs::errno_name(count.error()));
    count = 0;
  }
  if (auto mounted = fs.init(vfs::kBootMountPoint, std::span(files, *count)); !mounted) {
    os::print("vfs: cannot mount /bin ({})\n", vfs::errno_name(mounted.error()));
    if (!fs.root()) stop("no root directory");
    count = 0;
  }

  vfs::Uart uart(boot_caps::kVfsUartVa);
  vfs::Console console(uart);
  vfs::Service service(heap, fs, console, replies);

  // Input: the UART interrupts on each character; the console thread takes it.
  uart.enable_receive_interrupt();
  const auto stack_top = reinterpret_cast<uint64_t>(g_console_stack + sizeof(g_console_stack));
  if (!os::tcb_write_registers(boot_caps::kHelperTcb, reinterpret_cast<uint64_t>(&console_thread), stack_top,
                               reinterpret_cast<uint64_t>(&uart)) ||
      !os::tcb_resume(boot_caps::kHelperTcb)) {
    os::print("vfs: console thread did not start: no console input\n");
  }

  os::print("vfs: up, console at {:#x}, {} files in /bin\n", uart_frame->mr[0], *count);
  serve(service);
}

}  // namespace

// vfs starts here rather than at libos's os_start (crt0 calls os_start with
// the start registers a0 and a1 untouched): procmgr passes two arguments,
// a0 = log2 of the pool's size and a1 = the archive's size, and libos's
// start-up hands main only a0. Defining os_start here keeps libos's from
// being linked.
extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

extern "C" [[noreturn]] void os_start(uint64_t pool_bits, uint64_t archive_size) {
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) (*ctor)();
  run(pool_bits, archive_size);
}
