#include "counters.h"

#include <span>

#include "os/kernel.h"
#include "resources.h"

namespace procmgr {

namespace {

using posix::Errno;
using posix::fail;

Errno refused(const os::Reply& r) {
  return os::error_of(r) == uapi::Error::IllegalOperation ? Errno::NoSys : Errno::Io;
}

// User-mode instructions of the threads `tcbs`.
posix::Result<uint64_t> user_mode(std::initializer_list<uint64_t> tcbs) {
  uint64_t sum = 0;
  for (uint64_t tcb : tcbs) {
    const os::Result<os::Reply> r = os::tcb_read_counters(tcb);
    if (!r) return fail(Errno::Io);
    const std::optional<uint64_t> user = user_instructions(std::span(r->mr, r->info.length()));
    if (!user) return fail(Errno::NoSys);
    sum += *user;
  }
  return sum;
}

}  // namespace

posix::Result<InstructionCounts> read_instruction_counts(const BootServers& servers, uint64_t system_control) {
  InstructionCounts c;
  c.procmgr = POSIX_TRY(user_mode({kRootTcb}));
  c.pager = POSIX_TRY(user_mode({servers.pager.tcb, servers.pager.helper}));
  c.vfs = POSIX_TRY(user_mode({servers.vfs.tcb, servers.vfs.helper}));
  const os::Reply sys = os::call_raw(system_control, static_cast<uint64_t>(uapi::Label::SystemReadCounters), 0,
                                     nullptr, 0, nullptr);
  if (sys.info.is_error()) return fail(refused(sys));
  const std::optional<SystemCounters> now = system_counters(std::span(sys.mr, sys.info.length()));
  if (!now) return fail(Errno::NoSys);
  c.kernel = now->kernel_instructions;
  c.total = now->instret;
  return c;
}

}  // namespace procmgr
