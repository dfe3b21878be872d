// The pager's requests (protocol.h), as a class that knows nothing of IPC:
// user/pager/main.cc receives a message, hands it to handle() and sends
// the Response back (or nothing, for a fault that kills its thread). The
// kernel is reached through Invocations, memory through the MemoryPool, and
// unresolvable faults leave through a FaultSink, so the host tests run
// every request against fakes.
//
// Every operation validates its arguments before it takes anything, and
// undoes everything it took when a later step fails (a scope guard that the
// last step disarms): a failed Load or Fork leaves no frame, chunk, id or
// region page behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "address_spaces.h"
#include "common/posix_errno.h"
#include "exec_block.h"
#include "fault_report.h"
#include "invocations.h"
#include "memory_pool.h"
#include "policy.h"
#include "pool_kernel_ops.h"
#include "procmgr/loader.h"
#include "protocol.h"

namespace pager {

// A message as received: the badge, the label and up to six words (a fault
// carries six, every request fewer).
struct Request {
  uint64_t badge = 0;
  uint64_t label = 0;
  uint64_t length = 0;  // words actually received
  uint64_t mr[6] = {};
};

// What to send back: a reply with label 0 and `length` words, or nothing
// (send == false: a fault whose thread must not resume).
struct Response {
  bool send = true;
  uint64_t length = 0;
  uint64_t mr[8] = {};
};

class FaultSink {
 public:
  virtual void report(const FaultReport& report) = 0;

 protected:
  ~FaultSink() = default;
};

struct ServerConfig {
  uint64_t cnode = 0;        // the pager's own CNode
  uint64_t mailbox = 0;      // the mailbox CNode cap (protocol.h)
  std::span<uint8_t> exchange;  // the exchange area, kExchangeBytes
};

// The counters of the Stats request (protocol.h StatsGroup), since start.
struct ServerStats {
  uint64_t forks = 0;
  uint64_t fork_pages_copied = 0;
  uint64_t fork_pages_shared = 0;
  uint64_t releases = 0;
  uint64_t zero_fills = 0;
  uint64_t cow_copies = 0;
  uint64_t cow_made_writable = 0;
  uint64_t spurious_faults = 0;
  uint64_t faults_reported = 0;
  uint64_t from_procmgr = 0;
  uint64_t from_processes = 0;
  uint64_t faults = 0;
};

struct LoadResult {
  uint64_t id = 0;
  VirtAddr entry;
  VirtAddr sp;
};

struct ForkResult {
  uint64_t id = 0;
  ForkStats stats;
};

class Server {
 public:
  Server(Invocations& kernel, MemoryPool& pool, FaultSink& faults, const ServerConfig& config);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Decodes and runs one message. Never fails: errors go back as -errno.
  Response handle(const Request& request);

  // ---- The operations, as handle() runs them (public for the tests) ----
  // Load: image at exchange offset 0, exec block at [block_offset, +length).
  posix::Result<LoadResult> load(uint64_t image_size, uint64_t block_offset, uint64_t block_length,
                                 uint64_t policy_index = 0);
  posix::Result<ForkResult> fork(uint64_t parent_id, VirtAddr sp = VirtAddr(0));
  posix::Status set_policy(uint64_t id, uint64_t policy_index);
  posix::Status release(uint64_t id);
  posix::Status read_user(uint64_t id, uint64_t va, uint64_t length, uint64_t exchange_offset);
  posix::Result<uint64_t> sbrk(uint64_t id, int64_t increment);
  // A fault message of address space `id`: a reply with label 0 when the
  // thread may resume (with a new pc for libos's buffer probe), or no reply
  // (send == false) when it was reported to the FaultSink.
  Response fault(uint64_t id, const Request& request);

  SpaceTable& spaces() { return m_spaces; }
  KernelOps& kernel_ops() { return m_ops; }
  MemoryPool& pool() { return *m_pool; }
  // Kernel failures that should never happen while tearing an address space
  // down (logged by main, zero in every test).
  uint64_t internal_errors() const { return m_internal_errors; }
  uint64_t faults_resolved() const { return m_faults_resolved; }
  const ServerStats& stats() const { return m_stats; }
  // Faults of libos's buffer probe, answered with its EFAULT exit.
  uint64_t probe_faults() const { return m_probe_faults; }

  // The limits Load applies to an image: it must end below the heap's
  // reservation, itself below the stack's.
  static procmgr::LoadLimits load_limits();
  // Bytes of the initial stack Load can build: ARG_MAX plus a page for the
  // pointers' NULLs, the auxiliary vector and the padding.
  static constexpr size_t kStackScratchBytes = procmgr::kArgMax + kern::kPageSize;

 private:
  // A new address space: id, chunk with VSpace, IPC buffer mapped.
  posix::Result<AddressSpace*> create_space(const Policy& policy);
  // Undoes create_space and everything added since; the id becomes free.
  void destroy_space(AddressSpace& space);
  posix::Status fill_image(AddressSpace& space, const procmgr::LoadPlan& plan, std::span<const uint8_t> file);
  posix::Status map_stack(AddressSpace& space, const procmgr::InitialStack& stack);
  // Copies the VSpace and IPC-buffer caps into the mailbox.
  posix::Status post_caps(const AddressSpace& space);
  void count(FaultResolution resolution);
  // Every byte of [va, va + length) inside a readable region's accessible part.
  static bool readable(const RegionSet& regions, uint64_t va, uint64_t length);

  Invocations* m_kernel;
  MemoryPool* m_pool;
  FaultSink* m_faults;
  ServerConfig m_config;
  PoolKernelOps m_ops;
  SpaceTable m_spaces;
  uint64_t m_internal_errors = 0;
  uint64_t m_faults_resolved = 0;
  ServerStats m_stats;
  uint64_t m_probe_faults = 0;
  std::string_view m_strings[kMaxExecStrings];
  alignas(16) uint8_t m_stack_scratch[kStackScratchBytes];
};

}  // namespace pager
