// Starting the boot servers, pager and vfs, from the boot archive: each in
// its own CSpace and VSpace with exactly the capabilities
// servers/common/boot_caps.h lists (DESIGN.md §2).
#pragma once

#include <cstdint>

#include "lib/cpio.h"
#include "os/boot_info.h"

namespace procmgr {

struct Server {
  const char* name;
  const char* path;        // in the boot archive
  uint64_t fault_badge;    // of its threads' faults on procmgr's endpoint
  uint64_t helper_badge;   // of its helper's calls to procmgr (msg::k...Badge)
  uint64_t cnode_radix = 8;
  uint64_t cnode = 0, vspace = 0, tcb = 0, helper = 0, endpoint = 0;
  uint64_t client = 0;     // procmgr's Write copy of the service endpoint (badge kProcmgrBadge)
};

struct BootServers {
  Server pager{.name = "pager", .path = "bin/pager", .fault_badge = 0, .helper_badge = 0};
  Server vfs{.name = "vfs", .path = "bin/vfs", .fault_badge = 0, .helper_badge = 0};
  // procmgr's side of the pager's exchange area, and the mailbox CNode.
  uint64_t exchange_va = 0;
  uint64_t mailbox = 0;
};

// Starts the pager, then vfs, pinging each. `endpoint` is procmgr's own
// service endpoint (servers' faults and helpers come there).
bool start_servers(const uapi::BootInfo& info, const kern::cpio::Archive& archive, uint64_t endpoint,
                   BootServers& out);

}  // namespace procmgr
