// vfs, started by procmgr from the boot archive (bin/vfs). Today it finds
// its console (the UART frame procmgr mapped for it) and answers Ping on its
// service endpoint; descriptors, files, pipes and the console's line
// discipline (servers/vfs) come next. Its capabilities are the ones
// servers/common/boot_caps.h lists.
#include <cstdint>

#include "common/boot_caps.h"
#include "common/message.h"
#include "common/posix_errno.h"
#include "os/kernel.h"
#include "os/print.h"
#include "os/syscall.h"
#include "vfs/protocol.h"

namespace {

using uapi::MessageInfo;
using uapi::Syscall;

}  // namespace

int main(uint64_t) {
  os::set_ipc_buffer(reinterpret_cast<uapi::IpcBuffer*>(boot_caps::kIpcBufferVa));
  // The UART's physical address, from the frame itself: proof the cap in
  // the documented slot is the console's.
  auto uart = os::invoke(boot_caps::kVfsUartFrame, uapi::Label::FrameGetInfo, {});
  if (!uart) {
    os::print("vfs: no UART frame: error {}\n", static_cast<uint64_t>(uart.error()));
    return 1;
  }
  os::print("vfs: up, console at {:#x}\n", uart->mr[0]);

  // Serve: each request is a Call, answered by the reply half of the next
  // ReplyRecv, so one system call per request.
  os::SyscallResult request = os::syscall(Syscall::Recv, boot_caps::kServiceEndpoint, MessageInfo{});
  for (;;) {
    MessageInfo reply = MessageInfo::make(0, 1);
    uint64_t mr0 = 0;
    switch (static_cast<vfs::protocol::Label>(request.info.label())) {
      case vfs::protocol::Label::Ping:
        mr0 = request.mr[0];
        break;
      default:
        mr0 = msg::result_word(-static_cast<int64_t>(posix::Errno::NoSys));
        break;
    }
    request = os::syscall(Syscall::ReplyRecv, boot_caps::kServiceEndpoint, reply, mr0);
  }
}
