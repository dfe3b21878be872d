// The process manager proper: the process table (servers/procmgr) plus
// what each process holds in the kernel (a thread and a CSpace carved from
// its chunk), in the pager (an address space) and in vfs (a descriptor
// table), kept in step; and the protocol of servers/procmgr/protocol.h.
#pragma once

#include <cstdint>

#include "servers.h"

namespace procmgr {

struct Config {
  const char* init_path;       // "/bin/init" unless bootargs say init=PATH
  const char* init_args;       // extra words for init's argv (bootargs init.args=...)
  const char* pager_policy;    // init's pager policy by name (bootargs pager.policy=...), null: the default
  bool power_off_with_init;    // init's exit powers the machine off with its status
  uint64_t system_control;
};

// Starts init (pid 1) and serves requests on `endpoint` for ever.
[[noreturn]] void run(BootServers& servers, uint64_t endpoint, const Config& config);

}  // namespace procmgr
