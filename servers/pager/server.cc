// The pager's requests (server.h). Each operation checks its arguments
// first, then builds; a scope guard tears down whatever a failed step leaves
// half-made (destroy_space undoes create_space and everything added since),
// so every error path is the release path.
#include "server.h"

#include <utility>

#include "common/message.h"

namespace pager {

namespace {

using kern::kPageSize;
using posix::Errno;
using protocol::Label;

// Runs `undo` at scope exit unless disarmed.
template <typename F>
class ScopeGuard {
 public:
  explicit ScopeGuard(F undo) : m_undo(std::move(undo)) {}
  ~ScopeGuard() {
    if (m_armed) m_undo();
  }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  void disarm() { m_armed = false; }

 private:
  F m_undo;
  bool m_armed = true;
};

constexpr Perm kRWX = kRW | Perm::Execute;

posix::Errno errno_of(Error e) { return posix::to_errno(e); }

Response reply(std::initializer_list<uint64_t> words) {
  Response r;
  for (uint64_t w : words) r.mr[r.length++] = w;
  return r;
}
Response reply_error(Errno e) { return reply({msg::result_word(-int64_t(e))}); }

// The policy registered under `index` (policies.def order), or nullptr.
const Policy* policy_at(uint64_t index) {
  const std::span<const PolicyEntry> all = registered_policies();
  return index < all.size() ? &all[index].get() : nullptr;
}

// Nothing a process maps lies outside its regions but its IPC buffer, and
// that must stay above them all for region_spans (policy.h).
static_assert(protocol::kIpcBufferVa >= protocol::kStackTop);

}  // namespace

Server::Server(Invocations& kernel, MemoryPool& pool, FaultSink& faults, const ServerConfig& config)
    : m_kernel(&kernel), m_pool(&pool), m_faults(&faults), m_config(config), m_ops(kernel, pool, config.cnode),
      m_spaces(pool) {}

procmgr::LoadLimits Server::load_limits() {
  return {.image_top = VirtAddr(protocol::kStackTop - protocol::kStackMax - kPageSize - protocol::kHeapMax),
          .max_bytes = ~uint64_t{0}};
}

// ---- Dispatch ----------------------------------------------------------------

Response Server::handle(const Request& request) {
  const uint64_t badge = request.badge;
  if ((badge & protocol::kFaultBit) != 0 && !msg::is_server_badge(badge)) {
    ++m_stats.faults;
    return fault(badge & ~protocol::kFaultBit, request);
  }
  const bool procmgr = badge == msg::kProcmgrBadge;
  ++(procmgr ? m_stats.from_procmgr : m_stats.from_processes);
  const uint64_t* mr = request.mr;
  const auto need = [&](uint64_t words) { return request.length >= words; };

  switch (static_cast<Label>(request.label)) {
    case Label::Ping:
      if (!need(1)) return reply_error(Errno::Invalid);
      return reply({mr[0]});

    case Label::Load: {
      if (!procmgr) return reply_error(Errno::NotPermitted);
      if (!need(3)) return reply_error(Errno::Invalid);
      const auto r = load(mr[0], mr[1], mr[2], need(4) ? mr[3] : 0);
      if (!r) return reply_error(r.error());
      return reply({r->id, r->entry.value(), r->sp.value()});
    }
    case Label::Fork: {
      if (!procmgr) return reply_error(Errno::NotPermitted);
      if (!need(1)) return reply_error(Errno::Invalid);
      const auto r = fork(mr[0], VirtAddr(need(2) ? mr[1] : 0));
      if (!r) return reply_error(r.error());
      return reply({r->id, r->stats.pages_copied, r->stats.pages_shared});
    }
    case Label::SetPolicy: {
      if (!procmgr) return reply_error(Errno::NotPermitted);
      if (!need(2)) return reply_error(Errno::Invalid);
      const auto r = set_policy(mr[0], mr[1]);
      return r ? reply({0}) : reply_error(r.error());
    }
    case Label::PolicyName: {
      if (!need(1)) return reply_error(Errno::Invalid);
      const Policy* policy = policy_at(mr[0]);
      if (policy == nullptr) return reply_error(Errno::NoEntry);
      const char* name = policy->name();
      size_t length = 0;
      while (name[length] != '\0' && length < protocol::kPolicyNameMax) ++length;
      static_assert(protocol::kPolicyNameMax < 2 * sizeof(uint64_t));
      Response r = reply({length, 0, 0});
      msg::pack(r.mr + 1, name, length);
      return r;
    }
    case Label::Stats: {
      if (!need(1)) return reply_error(Errno::Invalid);
      const ServerStats& s = m_stats;
      switch (static_cast<protocol::StatsGroup>(mr[0])) {
        case protocol::StatsGroup::Fork:
          return reply({0, s.forks, s.fork_pages_copied, s.fork_pages_shared, s.releases, m_spaces.count()});
        case protocol::StatsGroup::Faults:
          return reply({0, s.zero_fills, s.cow_copies, s.cow_made_writable, s.spurious_faults, s.faults_reported});
        case protocol::StatsGroup::Messages:
          return reply({0, s.from_procmgr, s.from_processes, s.faults, 0, 0});
      }
      return reply_error(Errno::Invalid);
    }
    case Label::Release: {
      if (!procmgr) return reply_error(Errno::NotPermitted);
      if (!need(1)) return reply_error(Errno::Invalid);
      const auto r = release(mr[0]);
      return r ? reply({0}) : reply_error(r.error());
    }
    case Label::ReadUser: {
      if (!procmgr) return reply_error(Errno::NotPermitted);
      if (!need(4)) return reply_error(Errno::Invalid);
      const auto r = read_user(mr[0], mr[1], mr[2], mr[3]);
      return r ? reply({0}) : reply_error(r.error());
    }
    case Label::MemInfo:
      return reply({m_pool->free_bytes(), m_pool->total_bytes()});

    case Label::Sbrk: {
      if (msg::is_server_badge(badge) || m_spaces.find(badge) == nullptr) return reply_error(Errno::NotPermitted);
      if (!need(1)) return reply_error(Errno::Invalid);
      const auto r = sbrk(badge, static_cast<int64_t>(mr[0]));
      return r ? reply({*r}) : reply_error(r.error());
    }
  }
  return reply_error(Errno::NoSys);
}

// ---- Address spaces ------------------------------------------------------------

posix::Result<AddressSpace*> Server::create_space(const Policy& policy) {
  AddressSpace* space = m_spaces.create();
  if (space == nullptr) return posix::fail(Errno::NoMemory);
  space->policy = &policy;
  ScopeGuard undo([&] { destroy_space(*space); });

  const Result<uint64_t> chunk = m_pool->alloc_space();
  if (!chunk) return posix::fail(errno_of(chunk.error()));
  space->chunk = *chunk;
  space->vspace = VSpaceRef{m_pool->space_vspace(*chunk)};

  // The IPC buffer: a private frame, in no region, so no policy shares or
  // copies it (the kernel writes it by physical address).
  const Result<FrameRef> ipc = m_pool->alloc_frame();
  if (!ipc) return posix::fail(errno_of(ipc.error()));
  const Status mapped = m_ops.map(space->vspace, VirtAddr(protocol::kIpcBufferVa), {&*ipc, 1}, kRW);
  if (!mapped) {
    m_pool->free_frame(*ipc);
    return posix::fail(errno_of(mapped.error()));
  }
  space->ipc_frame = *ipc;
  undo.disarm();
  return space;
}

void Server::destroy_space(AddressSpace& space) {
  if (space.vspace.handle != 0 && !space.policy->release(m_ops, space.regions, space.vspace)) ++m_internal_errors;
  bool ipc_unmapped = true;
  if (space.ipc_frame.handle != 0) {
    // Every copy of the cap goes (procmgr's, a thread's binding), so no
    // thread can still have the kernel write into the frame once reused.
    if (!m_kernel->cnode_revoke(m_config.cnode, space.ipc_frame.handle)) ++m_internal_errors;
    ipc_unmapped = static_cast<bool>(m_ops.unmap(space.vspace, VirtAddr(protocol::kIpcBufferVa), kPageSize));
  }
  // Revoking the chunk destroys the VSpace, its tables and every copy of
  // its cap.
  if (space.chunk != kNoChunk) m_pool->free_space(space.chunk);
  if (space.ipc_frame.handle != 0) {
    // A frame that might still be mapped is leaked rather than reused.
    if (ipc_unmapped) {
      m_pool->free_frame(space.ipc_frame);
    } else {
      ++m_internal_errors;
    }
  }
  m_spaces.destroy(space.id);
}

posix::Status Server::post_caps(const AddressSpace& space) {
  const std::pair<uint64_t, uint64_t> caps[] = {{protocol::kMailboxVSpace, space.vspace.handle},
                                                 {protocol::kMailboxIpcBuffer, space.ipc_frame.handle}};
  for (const auto& [index, slot] : caps) {
    // An empty slot is not an error: delete whatever procmgr left there.
    const Status cleared = m_kernel->cnode_delete(m_config.mailbox, index);
    if (!cleared) return posix::fail(errno_of(cleared.error()));
    const Status copied = m_kernel->cnode_copy(m_config.mailbox, index, m_config.cnode, slot);
    if (!copied) return posix::fail(errno_of(copied.error()));
  }
  return {};
}

// ---- Load ----------------------------------------------------------------------

posix::Result<LoadResult> Server::load(uint64_t image_size, uint64_t block_offset, uint64_t block_length,
                                       uint64_t policy_index) {
  const Policy* policy = policy_at(policy_index);
  if (policy == nullptr) return posix::fail(Errno::Invalid);
  const std::span<const uint8_t> exchange = m_config.exchange;
  const uint64_t area = exchange.size();
  if (image_size > area || block_offset > area || block_length > area - block_offset) {
    return posix::fail(Errno::Invalid);
  }
  const ExecArgs args = POSIX_TRY(parse_exec_block(exchange.subspan(block_offset, block_length), m_strings));
  const std::span<const uint8_t> file = exchange.first(image_size);
  const procmgr::LoadPlan plan = POSIX_TRY(procmgr::make_load_plan(file, load_limits()));
  const procmgr::InitialStack stack = POSIX_TRY(procmgr::build_initial_stack(
      args.argv, args.envp, procmgr::aux_from_plan(plan), VirtAddr(protocol::kStackTop), m_stack_scratch));

  AddressSpace* space = POSIX_TRY(create_space(*policy));
  ScopeGuard undo([&] { destroy_space(*space); });

  // Region errors here mean an image make_load_plan accepted but the
  // region set cannot hold: out of storage, or a layout it refuses.
  const auto region_error = [](Error e) { return e == Error::NotEnoughMemory ? Errno::NoMemory : Errno::ExecFormat; };
  RegionSet& regions = space->regions;
  for (const procmgr::LoadRegion& r : plan.load_regions()) {
    const Status added = r.write_execute ? regions.add_anon(r.start, r.size(), kRWX)
                                         : regions.add_segment(static_cast<RegionKind>(r.kind), r.start, r.size());
    if (!added) return posix::fail(region_error(added.error()));
  }
  if (const Status s = regions.add_heap(plan.heap_start, protocol::kHeapMax); !s) {
    return posix::fail(region_error(s.error()));
  }
  if (const Status s = regions.add_stack(VirtAddr(protocol::kStackTop), protocol::kStackMax); !s) {
    return posix::fail(region_error(s.error()));
  }

  POSIX_TRY(fill_image(*space, plan, file));
  POSIX_TRY(map_stack(*space, stack));
  POSIX_TRY(post_caps(*space));
  undo.disarm();
  return LoadResult{space->id, plan.entry, stack.sp};
}

// Maps a frame with the file's bytes at every page that has any; pages of
// zeros are left to the first touch. Consecutive pages go to the kernel in
// batches.
posix::Status Server::fill_image(AddressSpace& space, const procmgr::LoadPlan& plan, std::span<const uint8_t> file) {
  constexpr size_t kBatch = 64;
  FrameRef batch[kBatch];
  size_t count = 0;
  VirtAddr batch_va;
  Perm perm = Perm::None;
  const auto discard = [&] {
    for (size_t i = 0; i < count; ++i) m_pool->free_frame(batch[i]);
    count = 0;
  };
  const auto flush = [&]() -> posix::Status {
    if (count == 0) return {};
    const Status mapped = m_ops.map(space.vspace, batch_va, {batch, count}, perm);
    if (!mapped) {
      discard();
      return posix::fail(errno_of(mapped.error()));
    }
    count = 0;
    return {};
  };

  for (const procmgr::LoadRegion& r : plan.load_regions()) {
    perm = space.regions.find(r.start)->perm;
    for (VirtAddr page = r.start; page < r.end; page += kPageSize) {
      if (r.page_fill(page).all_zero() || count == kBatch) POSIX_TRY(flush());
      if (r.page_fill(page).all_zero()) continue;
      const Result<FrameRef> frame = m_pool->alloc_frame();
      if (!frame) {
        discard();
        return posix::fail(errno_of(frame.error()));
      }
      procmgr::fill_page(r, page, file, std::span<uint8_t, kPageSize>(m_pool->frame_bytes(*frame), kPageSize));
      if (count == 0) batch_va = page;
      batch[count++] = *frame;
    }
    POSIX_TRY(flush());
  }
  return {};
}

// The pages of the initial stack, copied from the scratch buffer (which
// holds the top kStackScratchBytes of the stack).
posix::Status Server::map_stack(AddressSpace& space, const procmgr::InitialStack& stack) {
  const uint64_t pages = kern::align_up(stack.size, kPageSize) / kPageSize;
  for (uint64_t i = 1; i <= pages; ++i) {
    const Result<FrameRef> frame = m_pool->alloc_frame();
    if (!frame) return posix::fail(errno_of(frame.error()));
    __builtin_memcpy(m_pool->frame_bytes(*frame), m_stack_scratch + kStackScratchBytes - i * kPageSize, kPageSize);
    const Status mapped = m_ops.map(space.vspace, VirtAddr(protocol::kStackTop - i * kPageSize), {&*frame, 1}, kRW);
    if (!mapped) {
      m_pool->free_frame(*frame);
      return posix::fail(errno_of(mapped.error()));
    }
  }
  return {};
}

// ---- Fork and release --------------------------------------------------------------

posix::Result<ForkResult> Server::fork(uint64_t parent_id, VirtAddr sp) {
  AddressSpace* parent = m_spaces.find(parent_id);
  if (parent == nullptr) return posix::fail(Errno::Invalid);
  AddressSpace* child = POSIX_TRY(create_space(*parent->policy));
  ScopeGuard undo([&] { destroy_space(*child); });

  Result<RegionSet> regions = parent->regions.fork();
  if (!regions) return posix::fail(errno_of(regions.error()));
  child->regions = std::move(*regions);
  const Result<ForkStats> stats =
      parent->policy->fork(m_ops, parent->regions, parent->vspace, child->vspace, ForkHints{sp});
  if (!stats) return posix::fail(errno_of(stats.error()));
  POSIX_TRY(post_caps(*child));
  undo.disarm();
  ++m_stats.forks;
  m_stats.fork_pages_copied += stats->pages_copied;
  m_stats.fork_pages_shared += stats->pages_shared;
  return ForkResult{child->id, *stats};
}

posix::Status Server::release(uint64_t id) {
  AddressSpace* space = m_spaces.find(id);
  if (space == nullptr) return posix::fail(Errno::Invalid);
  destroy_space(*space);
  ++m_stats.releases;
  return {};
}

posix::Status Server::set_policy(uint64_t id, uint64_t policy_index) {
  AddressSpace* space = m_spaces.find(id);
  const Policy* policy = policy_at(policy_index);
  if (space == nullptr || policy == nullptr) return posix::fail(Errno::Invalid);
  space->policy = policy;
  return {};
}

// ---- ReadUser and sbrk ---------------------------------------------------------------

bool Server::readable(const RegionSet& regions, uint64_t va, uint64_t length) {
  if (length == 0) return true;
  if (va + length < va) return false;
  const uint64_t end = va + length;
  for (uint64_t at = va; at < end;) {
    const Region* r = regions.find(VirtAddr(at));
    if (r == nullptr || !r->contains(VirtAddr(at)) || !has(r->perm, Perm::Read)) return false;
    at = r->end.value();
  }
  return true;
}

posix::Status Server::read_user(uint64_t id, uint64_t va, uint64_t length, uint64_t exchange_offset) {
  AddressSpace* space = m_spaces.find(id);
  if (space == nullptr) return posix::fail(Errno::Invalid);
  const uint64_t area = m_config.exchange.size();
  if (exchange_offset > area || length > area - exchange_offset) return posix::fail(Errno::Invalid);
  if (!readable(space->regions, va, length)) return posix::fail(Errno::Fault);

  uint8_t* out = m_config.exchange.data() + exchange_offset;
  for (uint64_t at = va, left = length; left > 0;) {
    const VirtAddr page = VirtAddr(at).align_down(kPageSize);
    const uint64_t in_page = at - page.value();
    const uint64_t n = kPageSize - in_page < left ? kPageSize - in_page : left;
    const Result<PageInfo> info = m_ops.lookup(space->vspace, page);
    if (info) {
      const uint8_t* bytes = m_pool->frame_bytes(info->frame);
      if (bytes == nullptr) return posix::fail(Errno::Fault);
      __builtin_memcpy(out, bytes + in_page, n);
    } else if (info.error() == Error::FailedLookup) {
      __builtin_memset(out, 0, n);  // never touched: zeros, as a read would fault them in
    } else {
      return posix::fail(errno_of(info.error()));
    }
    out += n;
    at += n;
    left -= n;
  }
  return {};
}

posix::Result<uint64_t> Server::sbrk(uint64_t id, int64_t increment) {
  AddressSpace* space = m_spaces.find(id);
  if (space == nullptr) return posix::fail(Errno::Invalid);
  // Beyond the maximum or below the heap's start: ENOMEM either way, as
  // Linux's brk answers (POSIX names no other error for sbrk).
  const Result<SbrkResult> moved = space->regions.sbrk(increment);
  if (!moved) return posix::fail(Errno::NoMemory);
  if (moved->release_start < moved->release_end &&
      !release_range(m_ops, space->vspace, moved->release_start, moved->release_end)) {
    ++m_internal_errors;
  }
  return moved->old_break.value();
}

// ---- Faults ------------------------------------------------------------------------

Response Server::fault(uint64_t id, const Request& request) {
  Response resume;  // label 0, no words: the faulting instruction runs again
  Response stop;
  stop.send = false;
  AddressSpace* space = m_spaces.find(id);
  // No such address space: procmgr destroys a thread (which takes its
  // queued fault off the endpoint) before releasing its address space, so
  // this is a fault of a thread that cannot run again. Nobody to tell.
  if (space == nullptr) return stop;
  const auto label = static_cast<uapi::FaultLabel>(request.label);
  FaultReport report{.id = id, .signal = 0, .pc = request.mr[0], .address = 0};
  if (label == uapi::FaultLabel::PageFault && request.length >= 3) {
    report.address = request.mr[1];
    const Result<FaultResolution> resolved = space->policy->handle_fault(
        m_ops, space->regions, space->vspace, VirtAddr(request.mr[1]), static_cast<Access>(request.mr[2]));
    report.signal = page_fault_signal(resolved);
    if (report.signal == 0) {
      ++m_faults_resolved;
      count(*resolved);
      return resume;
    }
    // libos's buffer probe touched a bad page: not a segfault. The thread
    // resumes where the probe returns -1 (protocol.h kProbeVa), so the call
    // that checked its buffer fails with EFAULT as on Unix.
    if (report.signal == procmgr::protocol::kSigSegv && report.pc >= protocol::kProbeVa &&
        report.pc < protocol::kProbeVa + protocol::kProbeRecover) {
      ++m_probe_faults;
      Response recover;
      recover.length = 1;
      recover.mr[0] = protocol::kProbeVa + protocol::kProbeRecover;
      return recover;
    }
  } else {
    report.signal = fault_signal(label, request.mr[1]);
    if (label == uapi::FaultLabel::Exception) report.address = request.mr[2];
  }
  ++m_stats.faults_reported;
  m_faults->report(report);
  return stop;
}

void Server::count(FaultResolution resolution) {
  switch (resolution) {
    case FaultResolution::ZeroFilled: ++m_stats.zero_fills; break;
    case FaultResolution::Copied: ++m_stats.cow_copies; break;
    case FaultResolution::MadeWritable: ++m_stats.cow_made_writable; break;
    case FaultResolution::Spurious: ++m_stats.spurious_faults; break;
    case FaultResolution::Segfault: break;
  }
}

}  // namespace pager
