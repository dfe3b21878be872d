// The Instructions group of Stats (protocol.h): the kernel's counters of
// every boot server's threads and of the hart, read when asked.
#pragma once

#include <cstdint>

#include "common/posix_errno.h"
#include "procmgr/stats.h"
#include "servers.h"

namespace procmgr {

// Reads, in this order, the counters of procmgr's own thread, the pager's
// two threads, vfs's two threads (TcbReadCounters), then the kernel's share
// and the hart's instret (SystemReadCounters on `system_control`), so the
// total is read last and covers the parts. NoSys when the kernel does not
// count instructions in S-mode (no KernelInstructions word, no
// SystemReadCounters); Io when it refuses a read.
posix::Result<InstructionCounts> read_instruction_counts(const BootServers& servers, uint64_t system_control);

}  // namespace procmgr
