// The pager, started by procmgr from the boot archive (bin/pager). Today it
// announces its memory pool and answers Ping on its service endpoint; the
// regions, page faults and fork policies (servers/pager) come next. Its
// capabilities are the ones servers/common/boot_caps.h lists; a0 is log2 of
// its pool's size.
#include <cstdint>

#include "common/boot_caps.h"
#include "common/message.h"
#include "common/posix_errno.h"
#include "os/kernel.h"
#include "os/print.h"
#include "os/syscall.h"
#include "pager/protocol.h"

namespace {

using uapi::MessageInfo;
using uapi::Syscall;

}  // namespace

int main(uint64_t pool_size_bits) {
  os::set_ipc_buffer(reinterpret_cast<uapi::IpcBuffer*>(boot_caps::kIpcBufferVa));
  os::print("pager: up, {} KiB of memory\n", (uint64_t{1} << pool_size_bits) >> 10);

  // Serve: each request is a Call, answered by the reply half of the next
  // ReplyRecv, so one system call per request.
  os::SyscallResult request = os::syscall(Syscall::Recv, boot_caps::kServiceEndpoint, MessageInfo{});
  for (;;) {
    MessageInfo reply = MessageInfo::make(0, 1);
    uint64_t mr0 = 0;
    switch (static_cast<pager::protocol::Label>(request.info.label())) {
      case pager::protocol::Label::Ping:
        mr0 = request.mr[0];
        break;
      default:
        mr0 = msg::result_word(-static_cast<int64_t>(posix::Errno::NoSys));
        break;
    }
    request = os::syscall(Syscall::ReplyRecv, boot_caps::kServiceEndpoint, reply, mr0);
  }
}
