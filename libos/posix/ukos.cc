// ukos.h: what this system offers beyond POSIX, as requests to the three
// servers. The process list and policy changes come from procmgr
// (procmgr/protocol.h), memory figures and policy names from the pager
// (pager/protocol.h), and the counters from all three (each one's Stats).
#include <errno.h>
#include <ukos.h>

#include "calls.h"
#include "pager/protocol.h"
#include "vfs/protocol.h"

using posix_calls::call;
using posix_calls::ret;
using posix_calls::Server;
namespace proto = procmgr::protocol;
namespace pproto = pager::protocol;

namespace {

uint64_t label(proto::Label l) { return static_cast<uint64_t>(l); }
uint64_t label(pproto::Label l) { return static_cast<uint64_t>(l); }
uint64_t label(vfs::protocol::Label l) { return static_cast<uint64_t>(l); }

// The pager's name of policy `index`: its length (the bytes in name, not
// NUL-terminated; room for kPolicyNameMax), or -1 with errno.
int64_t policy_name(uint64_t index, char* name) {
  const os::Reply r = call(Server::Pager, label(pproto::Label::PolicyName), {index});
  const int64_t n = ret(r);
  if (n < 0) return -1;
  if (static_cast<uint64_t>(n) > pproto::kPolicyNameMax ||
      r.info.length() < 1 + msg::words_for(static_cast<size_t>(n))) {
    posix_calls::set_errno(EIO);  // a pager that breaks its protocol
    return -1;
  }
  msg::unpack(name, r.mr + 1, static_cast<size_t>(n));
  return n;
}

// The counters of a Stats answer (the words after mr0), `count` of them:
// true, or false with errno.
template <size_t kCount>
bool read_stats(Server server, uint64_t stats_label, std::initializer_list<uint64_t> group,
                unsigned long (&out)[kCount]) {
  const os::Reply r = call(server, stats_label, group);
  if (ret(r) < 0) return false;
  if (r.info.length() < 1 + kCount) {
    posix_calls::set_errno(EIO);
    return false;
  }
  for (size_t i = 0; i < kCount; ++i) out[i] = r.mr[1 + i];
  return true;
}

}  // namespace

extern "C" {

int ukos_procinfo(pid_t cursor, struct ukos_procinfo* out) {
  if (posix_calls::bad_range(out, sizeof *out, true)) return -1;
  const os::Reply r = call(Server::Procmgr, label(proto::Label::ProcInfo),
                           {static_cast<uint64_t>(cursor < 0 ? 0 : cursor)});
  const int64_t pid = ret(r);
  if (pid <= 0) return static_cast<int>(pid);
  out->pid = static_cast<pid_t>(pid);
  out->ppid = static_cast<pid_t>(r.mr[1]);
  out->state = static_cast<char>(r.mr[2] & 0xff);
  out->policy = static_cast<int>((r.mr[2] >> 8) & 0xff);
  out->pgid = static_cast<pid_t>(r.mr[3]);
  uint64_t n = r.mr[4] < sizeof out->name - 1 ? r.mr[4] : sizeof out->name - 1;
  msg::unpack(out->name, r.mr + 5, n);
  out->name[n] = '\0';
  return 1;
}

int ukos_meminfo(unsigned long* free_bytes, unsigned long* total_bytes) {
  if ((free_bytes != nullptr && posix_calls::bad_range(free_bytes, sizeof *free_bytes, true)) ||
      (total_bytes != nullptr && posix_calls::bad_range(total_bytes, sizeof *total_bytes, true))) {
    return -1;
  }
  const os::Reply r = call(Server::Pager, label(pproto::Label::MemInfo), {});
  if (ret(r) < 0) return -1;
  if (free_bytes != nullptr) *free_bytes = r.mr[0];
  if (total_bytes != nullptr) *total_bytes = r.mr[1];
  return 0;
}

int ukos_policy_name(int index, char* name, size_t size) {
  if (index < 0) {
    posix_calls::set_errno(ENOENT);
    return -1;
  }
  if (size > 0 && posix_calls::bad_range(name, size, true)) return -1;
  char bytes[pproto::kPolicyNameMax];
  const int64_t n = policy_name(static_cast<uint64_t>(index), bytes);
  if (n < 0) return -1;
  if (static_cast<size_t>(n) >= size) {
    posix_calls::set_errno(ERANGE);
    return -1;
  }
  for (int64_t i = 0; i < n; ++i) name[i] = bytes[i];
  name[n] = '\0';
  return 0;
}

int ukos_policy_index(const char* name) {
  const int64_t length = posix_calls::checked_strlen(name, pproto::kPolicyNameMax);
  if (length < 0) return -1;
  // Longer than any name: no policy has it (nor has the empty name).
  if (length == 0 || static_cast<uint64_t>(length) > pproto::kPolicyNameMax) {
    posix_calls::set_errno(EINVAL);
    return -1;
  }
  char bytes[pproto::kPolicyNameMax];
  for (int index = 0; index < 256; ++index) {
    const int64_t n = policy_name(static_cast<uint64_t>(index), bytes);
    if (n < 0) {
      if (errno == ENOENT) break;
      return -1;  // the pager cannot be asked: its errno
    }
    bool same = n == length;
    for (int64_t i = 0; same && i < n; ++i) same = bytes[i] == name[i];
    if (same) return index;
  }
  posix_calls::set_errno(EINVAL);
  return -1;
}

int ukos_set_policy(pid_t pid, const char* name) {
  const int index = ukos_policy_index(name);
  if (index < 0) return -1;
  return static_cast<int>(ret(call(Server::Procmgr, label(proto::Label::SetPolicy),
                                   {static_cast<uint64_t>(static_cast<int64_t>(pid)),
                                    static_cast<uint64_t>(index)})));
}

int ukos_stats(struct ukos_stats* out) {
  if (posix_calls::bad_range(out, sizeof *out, true)) return -1;
  const uint64_t pager_stats = label(pproto::Label::Stats);
  const uint64_t procmgr_stats = label(proto::Label::Stats);
  auto group = [](auto g) { return static_cast<uint64_t>(g); };
  unsigned long fork[5], faults[5], pager_messages[3], procmgr_messages[5], vfs_messages[2], instructions[5];
  // The instructions last, so that they cover the other requests.
  if (!read_stats(Server::Pager, pager_stats, {group(pproto::StatsGroup::Fork)}, fork) ||
      !read_stats(Server::Pager, pager_stats, {group(pproto::StatsGroup::Faults)}, faults) ||
      !read_stats(Server::Pager, pager_stats, {group(pproto::StatsGroup::Messages)}, pager_messages) ||
      !read_stats(Server::Procmgr, procmgr_stats, {group(proto::StatsGroup::Messages)}, procmgr_messages) ||
      !read_stats(Server::Vfs, label(vfs::protocol::Label::Stats), {}, vfs_messages) ||
      !read_stats(Server::Procmgr, procmgr_stats, {group(proto::StatsGroup::Instructions)}, instructions)) {
    return -1;
  }
  // Filled whole or not at all.
  *out = {
      .pager_forks = fork[0],
      .pager_fork_pages_copied = fork[1],
      .pager_fork_pages_shared = fork[2],
      .pager_releases = fork[3],
      .pager_spaces = fork[4],
      .pager_zero_fills = faults[0],
      .pager_cow_copies = faults[1],
      .pager_cow_made_writable = faults[2],
      .pager_spurious_faults = faults[3],
      .pager_faults_reported = faults[4],
      .pager_from_procmgr = pager_messages[0],
      .pager_from_processes = pager_messages[1],
      .pager_faults = pager_messages[2],
      .procmgr_from_processes = procmgr_messages[0],
      .procmgr_calls_to_pager = procmgr_messages[1],
      .procmgr_calls_to_vfs = procmgr_messages[2],
      .procmgr_fault_reports = procmgr_messages[3],
      .procmgr_forks = procmgr_messages[4],
      .vfs_from_procmgr = vfs_messages[0],
      .vfs_from_processes = vfs_messages[1],
      .instr_kernel = instructions[0],
      .instr_procmgr = instructions[1],
      .instr_pager = instructions[2],
      .instr_vfs = instructions[3],
      .instr_total = instructions[4],
  };
  return 0;
}

}  // extern "C"
