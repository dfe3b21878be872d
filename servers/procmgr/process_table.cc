// The process table's mechanisms (see process_table.h for the contract): the
// tree operations, the slab that holds records in pool pages, and the radix
// pid index. Each public operation first validates and acquires every page it
// may need, and only then links anything in, so the mutating tail cannot fail
// and an error leaves the table as it was.
#include "process_table.h"

#include <new>

namespace procmgr {

namespace {

// Radix index: 3 levels of 256 slots cover pids below 2^24. Level 0 is the
// leaf, whose slots point at records; higher levels point at nodes.
constexpr int kRadixBits = 8;
constexpr size_t kFanout = size_t{1} << kRadixBits;
constexpr int kLevels = 3;

constexpr size_t slot_index(uint64_t pid, int level) { return (pid >> (kRadixBits * level)) & (kFanout - 1); }
// Pids covered by one node of this level, and by one of its slots.
constexpr uint64_t node_span(int level) { return uint64_t{1} << (kRadixBits * (level + 1)); }
constexpr uint64_t slot_span(int level) { return uint64_t{1} << (kRadixBits * level); }

constexpr uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
constexpr uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

void copy_name(char (&dest)[kNameCapacity], std::string_view src) {
  size_t n = src.size() < kNameCapacity - 1 ? src.size() : kNameCapacity - 1;
  for (size_t i = 0; i < n; ++i) dest[i] = src[i];
  for (size_t i = n; i < kNameCapacity; ++i) dest[i] = '\0';
}

bool valid_wait_status(int status) {
  if (wstatus::if_exited(status)) return (status & ~0xff00) == 0;
  return (status & ~0x7f) == 0 && wstatus::term_sig(status) <= kMaxSignal && wstatus::if_signaled(status);
}

}  // namespace

struct table_detail::RadixNode {
  uint32_t count = 0;  // pids present below this node; a node at 0 is freed
  void* slots[kFanout] = {};
};
static_assert(sizeof(table_detail::RadixNode) <= kPageSize);

namespace {
struct FreeSlot {
  FreeSlot* next;
};
}  // namespace

// Header at the start of every slab page; the slots follow it.
struct table_detail::SlabPage {
  SlabPage* next = nullptr;  // in m_partial_pages or m_full_pages
  SlabPage* prev = nullptr;
  FreeSlot* free = nullptr;
  uint32_t used = 0;
};

namespace {
constexpr size_t kSlotAlign = alignof(Process) > alignof(void*) ? alignof(Process) : alignof(void*);
constexpr size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }
constexpr size_t kSlotSize = round_up(sizeof(Process), kSlotAlign);
}  // namespace

constexpr size_t kSlotsOffset = round_up(sizeof(table_detail::SlabPage), kSlotAlign);
constexpr size_t kSlotsPerPage = (kPageSize - kSlotsOffset) / kSlotSize;
static_assert(kSlotsPerPage >= 8, "a process record should be small");

namespace {

template <typename Page>
void list_push(Page*& head, Page* page) {
  page->prev = nullptr;
  page->next = head;
  if (head) head->prev = page;
  head = page;
}

template <typename Page>
void list_remove(Page*& head, Page* page) {
  if (page->prev) page->prev->next = page->next;
  else head = page->next;
  if (page->next) page->next->prev = page->prev;
  page->next = page->prev = nullptr;
}

template <typename Page>
Page* page_of(const void* slot) {
  return reinterpret_cast<Page*>(reinterpret_cast<uintptr_t>(slot) & ~uintptr_t{kPageSize - 1});
}

}  // namespace

SignalAction default_signal_action(int signal) {
  switch (signal) {
    // POSIX default "ignore".
    case kSigChld:
    case kSigUrg:
    case kSigWinch:
    // FIXME: no job control yet, so stop and continue do nothing rather than
    // terminate; they become Stop/Continue actions with the shell's jobs.
    case kSigCont:
    case kSigStop:
    case kSigTstp:
    case kSigTtin:
    case kSigTtou:
      return SignalAction::None;
    default:
      // Everything else terminates (no core dumps, so "core" does too).
      return SignalAction::Terminate;
  }
}

Pid Process::parent_pid() const { return m_parent ? m_parent->m_pid : 0; }

void PendingFork::commit() {
  if (!m_child) return;
  m_table->commit_fork(std::exchange(m_child, nullptr));
}

void PendingFork::abort() {
  if (!m_child) return;
  m_table->abort_fork(std::exchange(m_child, nullptr));
}

ProcessTable::ProcessTable(RecordPool& pool, Pid pid_limit)
    : m_pool(pool),
      // A limit out of range is clamped rather than refused: it is set once,
      // by the server's own code, and a constructor cannot fail.
      m_pid_limit(pid_limit < kFirstRecycledPid + 1 ? kFirstRecycledPid + 1
                  : pid_limit > kMaxPidLimit       ? kMaxPidLimit
                                                   : pid_limit) {}

ProcessTable::~ProcessTable() {
  free_radix(m_root, kLevels - 1);
  for (SlabPage* list : {m_partial_pages, m_full_pages}) {
    while (list) {
      SlabPage* next = list->next;
      m_pool.free_page(list);
      list = next;
    }
  }
}

// ---- Operations -------------------------------------------------------------

Result<Process*> ProcessTable::create_init(std::string_view name) {
  if (m_init || m_records != 0) return fail(Errno::Busy);
  Process* init = PROCMGR_TRY(alloc_record());
  if (auto reserved = index_reserve(kInitPid); !reserved) {
    free_record(init);
    return fail(reserved.error());
  }
  init->m_pid = kInitPid;
  init->m_pgid = kInitPid;
  init->m_state = ProcessState::Running;
  copy_name(init->m_name, name);
  index_insert(init);
  m_init = init;
  m_next_pid = kFirstRecycledPid;
  return init;
}

Result<PendingFork> ProcessTable::fork(Pid parent_pid) {
  Process* parent = find(parent_pid);
  if (!parent || parent->m_state != ProcessState::Running) return fail(Errno::NoSuchProcess);
  std::optional<Pid> pid = pick_pid();
  if (!pid) return fail(Errno::Again);
  Process* child = PROCMGR_TRY(alloc_record());
  if (auto reserved = index_reserve(*pid); !reserved) {
    free_record(child);
    return fail(reserved.error());
  }
  // Nothing below can fail.
  child->m_pid = *pid;
  child->m_pgid = parent->m_pgid;
  child->m_ignored = parent->m_ignored;
  child->m_state = ProcessState::Building;
  child->m_parent = parent;
  for (size_t i = 0; i < kNameCapacity; ++i) child->m_name[i] = parent->m_name[i];
  child->resources.pager_policy = parent->resources.pager_policy;
  index_insert(child);
  ++parent->m_children_building;
  m_next_pid = *pid + 1 < m_pid_limit ? *pid + 1 : kFirstRecycledPid;
  return PendingFork(this, child);
}

void ProcessTable::commit_fork(Process* child) {
  child->m_state = ProcessState::Running;
  --child->m_parent->m_children_building;
  link_child(child->m_parent, child);
}

void ProcessTable::abort_fork(Process* child) {
  --child->m_parent->m_children_building;
  index_remove(child->m_pid);
  free_record(child);
}

Result<ExitNotice> ProcessTable::exit(Pid pid, int status) {
  Process* p = find(pid);
  if (!p || p->m_state != ProcessState::Running) return fail(Errno::NoSuchProcess);
  if (p == m_init) return fail(Errno::NotPermitted);
  if (p->m_children_building != 0) return fail(Errno::Busy);
  if (!valid_wait_status(status)) return fail(Errno::Invalid);

  // Orphans go to init, which reaps them in its wait loop.
  bool zombies_to_init = false;
  while (Process* child = p->m_first_child) {
    unlink_child(child);
    zombies_to_init |= child->m_state == ProcessState::Zombie;
    link_child(m_init, child);
  }
  p->m_state = ProcessState::Zombie;
  p->m_wait_status = status;
  return ExitNotice{p->m_parent->m_pid, zombies_to_init};
}

Result<WaitOutcome> ProcessTable::wait(Pid parent_pid, Pid selector, int options) {
  Process* parent = find(parent_pid);
  if (!parent || parent->m_state != ProcessState::Running) return fail(Errno::NoSuchProcess);
  if ((options & ~(kWNoHang | kWUntraced | kWContinued)) != 0) return fail(Errno::Invalid);
  // -INT_MIN has no pid to name; Linux answers ESRCH too.
  if (selector == INT32_MIN) return fail(Errno::NoSuchProcess);

  auto matches = [&](const Process* child) {
    if (selector > 0) return child->m_pid == selector;
    if (selector == -1) return true;
    Pid group = selector == 0 ? parent->m_pgid : -selector;
    return child->m_pgid == group;
  };
  bool any_match = false;
  for (Process* child = parent->m_first_child; child; child = child->m_next_sibling) {
    if (!matches(child)) continue;
    any_match = true;
    if (child->m_state == ProcessState::Zombie) {
      WaitOutcome reaped{WaitKind::Reaped, child->m_pid, child->m_wait_status};
      reap(child);
      return reaped;
    }
  }
  if (!any_match) return fail(Errno::NoChild);
  return WaitOutcome{(options & kWNoHang) ? WaitKind::NothingYet : WaitKind::MustBlock};
}

void ProcessTable::reap(Process* zombie) {
  unlink_child(zombie);
  index_remove(zombie->m_pid);
  free_record(zombie);
}

Result<SignalAction> ProcessTable::kill(Pid pid, int signal) const {
  if (signal < 0 || signal > kMaxSignal || pid <= 0) return fail(Errno::Invalid);
  const Process* p = find(pid);
  if (!p) return fail(Errno::NoSuchProcess);
  if (signal == 0 || p->m_state == ProcessState::Zombie || p == m_init) return SignalAction::None;
  if (signal != kSigKill && (p->m_ignored & (uint64_t{1} << (signal - 1))) != 0) return SignalAction::None;
  return default_signal_action(signal);
}

Status ProcessTable::set_process_group(Pid caller, Pid pid, Pid pgid) {
  if (pgid < 0 || pid < 0) return fail(Errno::Invalid);
  Process* self = find(caller);
  if (!self || self->m_state != ProcessState::Running) return fail(Errno::NoSuchProcess);
  if (pid == 0) pid = caller;
  Process* target = find(pid);
  if (!target || target->m_state != ProcessState::Running ||
      (target != self && target->m_parent != self)) {
    return fail(Errno::NoSuchProcess);
  }
  if (target != self && target->m_execed) return fail(Errno::Access);
  if (pgid == 0) pgid = pid;
  if (pgid != pid) {
    // The group must exist: some Running process carries it.
    bool exists = false;
    for (const Process* p = next_after(0); p && !exists; p = next_after(p->pid())) {
      exists = p->m_state == ProcessState::Running && p->m_pgid == pgid;
    }
    if (!exists) return fail(Errno::NotPermitted);
  }
  target->m_pgid = pgid;
  return {};
}

void ProcessTable::mark_exec(Pid pid) {
  if (Process* p = find(pid)) p->m_execed = true;
}

Result<bool> ProcessTable::set_ignored(Pid pid, int signal, bool ignore) {
  if (signal < 1 || signal > kMaxSignal || (signal == kSigKill && ignore)) return fail(Errno::Invalid);
  Process* p = find(pid);
  if (!p || p->m_state != ProcessState::Running) return fail(Errno::NoSuchProcess);
  const uint64_t bit = uint64_t{1} << (signal - 1);
  const bool was = (p->m_ignored & bit) != 0;
  p->m_ignored = ignore ? (p->m_ignored | bit) : (p->m_ignored & ~bit);
  return was;
}

Result<Pid> ProcessTable::getppid(Pid pid) const {
  const Process* p = find(pid);
  if (!p) return fail(Errno::NoSuchProcess);
  return p->parent_pid();
}

Status ProcessTable::set_name(Pid pid, std::string_view name) {
  Process* p = find(pid);
  if (!p) return fail(Errno::NoSuchProcess);
  copy_name(p->m_name, name);
  return {};
}

Process* ProcessTable::find(Pid pid) {
  Process* p = index_find(pid);
  return p && p->m_state != ProcessState::Building ? p : nullptr;
}

const Process* ProcessTable::find(Pid pid) const { return const_cast<ProcessTable*>(this)->find(pid); }

const Process* ProcessTable::next_after(Pid pid) const {
  uint64_t from = pid < 0 ? 1 : uint64_t(pid) + 1;
  const Process* p = first_used(m_root, kLevels - 1, 0, from);
  while (p && p->m_state == ProcessState::Building) p = first_used(m_root, kLevels - 1, 0, uint64_t(p->m_pid) + 1);
  return p;
}

// Children are pushed at the head: O(1), and the order wait scans in does not
// matter to POSIX.
void ProcessTable::link_child(Process* parent, Process* child) {
  child->m_parent = parent;
  child->m_prev_sibling = nullptr;
  child->m_next_sibling = parent->m_first_child;
  if (parent->m_first_child) parent->m_first_child->m_prev_sibling = child;
  parent->m_first_child = child;
}

void ProcessTable::unlink_child(Process* child) {
  if (child->m_prev_sibling) child->m_prev_sibling->m_next_sibling = child->m_next_sibling;
  else child->m_parent->m_first_child = child->m_next_sibling;
  if (child->m_next_sibling) child->m_next_sibling->m_prev_sibling = child->m_prev_sibling;
  child->m_next_sibling = child->m_prev_sibling = nullptr;
}

// ---- Slab of records --------------------------------------------------------

Result<Process*> ProcessTable::alloc_record() {
  if (!m_partial_pages) {
    auto memory = m_pool.alloc_page();
    if (!memory) return fail(to_errno(memory.error()));
    auto* page = new (*memory) SlabPage{};
    auto* slots = static_cast<char*>(*memory) + kSlotsOffset;
    // Pushed in reverse so slots are handed out in address order.
    for (size_t i = kSlotsPerPage; i-- > 0;) page->free = new (slots + i * kSlotSize) FreeSlot{page->free};
    list_push(m_partial_pages, page);
    ++m_slab_pages;
  }
  SlabPage* page = m_partial_pages;
  FreeSlot* slot = page->free;
  page->free = slot->next;
  if (++page->used == kSlotsPerPage) {
    list_remove(m_partial_pages, page);
    list_push(m_full_pages, page);
  }
  ++m_records;
  return new (slot) Process();
}

// A page goes back to the pool with its last record: the pool is shared with
// other users and a burst of forks should not hold memory forever.
void ProcessTable::free_record(Process* record) {
  auto* page = page_of<SlabPage>(record);
  record->~Process();
  page->free = new (record) FreeSlot{page->free};
  if (page->used-- == kSlotsPerPage) {
    list_remove(m_full_pages, page);
    list_push(m_partial_pages, page);
  }
  if (page->used == 0) {
    list_remove(m_partial_pages, page);
    m_pool.free_page(page);
    --m_slab_pages;
  }
  --m_records;
}

// ---- Pid index --------------------------------------------------------------

Process* ProcessTable::index_find(Pid pid) const {
  if (pid <= 0 || pid >= m_pid_limit) return nullptr;
  const RadixNode* node = m_root;
  for (int level = kLevels - 1; node && level > 0; --level) {
    node = static_cast<const RadixNode*>(node->slots[slot_index(pid, level)]);
  }
  return node ? static_cast<Process*>(node->slots[slot_index(pid, 0)]) : nullptr;
}

Result<ProcessTable::RadixNode*> ProcessTable::new_radix_node() {
  auto memory = m_pool.alloc_page();
  if (!memory) return fail(to_errno(memory.error()));
  ++m_radix_pages;
  return new (*memory) RadixNode{};
}

// Makes sure every node on pid's path exists, so index_insert cannot fail.
// On failure the nodes made here are freed again.
Status ProcessTable::index_reserve(Pid pid) {
  if (!m_root) m_root = PROCMGR_TRY(new_radix_node());
  RadixNode* node = m_root;
  for (int level = kLevels - 1; level > 0; --level) {
    void*& slot = node->slots[slot_index(pid, level)];
    if (!slot) {
      auto made = new_radix_node();
      if (!made) {
        index_prune(pid);
        return fail(made.error());
      }
      slot = *made;
    }
    node = static_cast<RadixNode*>(slot);
  }
  return {};
}

void ProcessTable::index_insert(Process* record) {
  RadixNode* node = m_root;
  for (int level = kLevels - 1; level > 0; --level) {
    ++node->count;
    node = static_cast<RadixNode*>(node->slots[slot_index(record->m_pid, level)]);
  }
  ++node->count;
  node->slots[slot_index(record->m_pid, 0)] = record;
}

void ProcessTable::index_remove(Pid pid) {
  RadixNode* node = m_root;
  for (int level = kLevels - 1; level > 0; --level) {
    --node->count;
    node = static_cast<RadixNode*>(node->slots[slot_index(pid, level)]);
  }
  --node->count;
  node->slots[slot_index(pid, 0)] = nullptr;
  index_prune(pid);
}

// Frees the nodes on pid's path that hold no pid, bottom up, so an empty
// table holds no pages.
void ProcessTable::index_prune(Pid pid) {
  RadixNode* path[kLevels] = {};
  RadixNode* node = m_root;
  for (int level = kLevels - 1; node && level >= 0; --level) {
    path[level] = node;
    node = level > 0 ? static_cast<RadixNode*>(node->slots[slot_index(pid, level)]) : nullptr;
  }
  for (int level = 0; level < kLevels; ++level) {
    if (!path[level]) continue;  // never made: index_reserve ran out here
    // Counts grow towards the root, so the first non-empty node ends it.
    if (path[level]->count != 0) break;
    if (level == kLevels - 1) {
      m_root = nullptr;
    } else {
      path[level + 1]->slots[slot_index(pid, level + 1)] = nullptr;
    }
    m_pool.free_page(path[level]);
    --m_radix_pages;
  }
}

// Valid pids in the node of this level starting at base.
uint64_t ProcessTable::capacity(uint64_t base, int level) const {
  uint64_t lo = max_u64(base, 1);
  uint64_t hi = min_u64(base + node_span(level), uint64_t(m_pid_limit));
  return hi > lo ? hi - lo : 0;
}

// The smallest pid in [from, to) with no record, searching the node of this
// level that starts at base. Full subtrees are skipped by their count, so the
// cost is bounded by the fanout times the depth, not by the number of pids.
std::optional<Pid> ProcessTable::first_free(const RadixNode* node, int level, uint64_t base, uint64_t from,
                                            uint64_t to) const {
  from = max_u64(from, base);
  to = min_u64(to, base + node_span(level));
  if (from >= to) return std::nullopt;
  if (!node) return Pid(from);
  if (node->count == capacity(base, level)) return std::nullopt;
  for (size_t i = (from - base) / slot_span(level); i < kFanout; ++i) {
    uint64_t slot_base = base + i * slot_span(level);
    if (slot_base >= to) break;
    if (level == 0) {
      if (!node->slots[i]) return Pid(slot_base);
      continue;
    }
    auto* child = static_cast<const RadixNode*>(node->slots[i]);
    if (auto pid = first_free(child, level - 1, slot_base, from, to)) return pid;
  }
  return std::nullopt;
}

// Increasing from the last pid handed out, then wrapping to the bottom.
std::optional<Pid> ProcessTable::pick_pid() const {
  if (auto pid = first_free(m_root, kLevels - 1, 0, m_next_pid, m_pid_limit)) return pid;
  return first_free(m_root, kLevels - 1, 0, kFirstRecycledPid, m_next_pid);
}

// The record with the smallest pid >= from below this node, any state.
const Process* ProcessTable::first_used(const RadixNode* node, int level, uint64_t base, uint64_t from) const {
  if (!node || from >= base + node_span(level)) return nullptr;
  size_t first = from > base ? (from - base) / slot_span(level) : 0;
  for (size_t i = first; i < kFanout; ++i) {
    if (!node->slots[i]) continue;
    if (level == 0) return static_cast<const Process*>(node->slots[i]);
    auto* child = static_cast<const RadixNode*>(node->slots[i]);
    if (auto* p = first_used(child, level - 1, base + i * slot_span(level), from)) return p;
  }
  return nullptr;
}

void ProcessTable::free_radix(RadixNode* node, int level) {
  if (!node) return;
  if (level > 0) {
    for (void* slot : node->slots) free_radix(static_cast<RadixNode*>(slot), level - 1);
  }
  m_pool.free_page(node);
}

// ---- Invariants ---------------------------------------------------------------

std::string_view ProcessTable::check_invariants() const {
  size_t slab_pages = 0, used = 0;
  if (auto bad = check_slab_list(m_partial_pages, false, slab_pages, used); !bad.empty()) return bad;
  if (auto bad = check_slab_list(m_full_pages, true, slab_pages, used); !bad.empty()) return bad;
  if (slab_pages != m_slab_pages) return "slab page count differs from the lists";
  if (used != m_records) return "slab slots in use differ from the record count";

  CheckCounts counts;
  size_t pids = 0;
  if (m_root && m_root->count == 0) return "empty radix root not freed";
  if (auto bad = check_radix(m_root, kLevels - 1, 0, counts, pids); !bad.empty()) return bad;
  if (counts.nodes != m_radix_pages) return "radix page count differs from the tree";
  if (pids != m_records) return "pid index size differs from the record count";
  // Every child-list entry points back at its parent (check_record), so with
  // the right total each committed process is listed exactly once.
  if (counts.listed + counts.building + (m_init ? 1 : 0) != m_records) return "child lists miss processes";
  if (counts.building != counts.building_counted) return "pending children differ from the parents' counts";

  if (m_records != 0 && (!m_init || index_find(kInitPid) != m_init)) return "records but no init";
  if (m_records == 0 && m_init) return "init without a record";
  if (m_next_pid < kFirstRecycledPid || m_next_pid >= m_pid_limit) return "next pid out of range";
  return {};
}

// Every record in the index: its tree links and counters agree.
std::string_view ProcessTable::check_record(const Process* p, CheckCounts& counts) const {
  if (p == m_init) {
    if (p->m_parent) return "init has a parent";
    if (p->m_state != ProcessState::Running) return "init is not running";
  } else {
    if (!p->m_parent) return "process without a parent";
    // Zombies' children were handed to init, so every parent is alive.
    if (p->m_parent->m_state != ProcessState::Running) return "parent is not running";
    if (index_find(p->m_parent->m_pid) != p->m_parent) return "parent not in the pid index";
  }
  if (p->m_state == ProcessState::Building) {
    if (p->m_first_child || p->m_children_building) return "child being built has children";
    if (p->m_parent->m_children_building == 0) return "pending child not counted";
    ++counts.building;
  }
  counts.building_counted += p->m_children_building;
  if (p->m_state == ProcessState::Zombie) {
    if (p->m_first_child || p->m_children_building) return "zombie has children";
    if (!valid_wait_status(p->m_wait_status)) return "zombie with a bad wait status";
  }
  const Process* prev = nullptr;
  for (const Process* c = p->m_first_child; c; prev = c, c = c->m_next_sibling) {
    if (++counts.listed > m_records) return "child list loops";
    if (index_find(c->m_pid) != c) return "listed child not in the pid index";
    if (c->m_parent != p) return "child's parent link is wrong";
    if (c->m_prev_sibling != prev) return "sibling back link is wrong";
    if (c->m_state == ProcessState::Building) return "child being built is in a child list";
  }
  if (p->m_name[kNameCapacity - 1] != '\0') return "name not terminated";
  return {};
}

std::string_view ProcessTable::check_radix(const RadixNode* node, int level, uint64_t base, CheckCounts& counts,
                                           size_t& pids) const {
  if (!node) return {};
  ++counts.nodes;
  if (node->count == 0) return "empty radix node not freed";
  size_t below = 0;
  for (size_t i = 0; i < kFanout; ++i) {
    if (!node->slots[i]) continue;
    uint64_t slot_base = base + i * slot_span(level);
    if (level > 0) {
      auto* child = static_cast<const RadixNode*>(node->slots[i]);
      size_t child_pids = 0;
      if (auto bad = check_radix(child, level - 1, slot_base, counts, child_pids); !bad.empty()) return bad;
      below += child_pids;
      continue;
    }
    auto* p = static_cast<const Process*>(node->slots[i]);
    if (uint64_t(p->m_pid) != slot_base) return "record under the wrong pid";
    if (p->m_pid <= 0 || p->m_pid >= m_pid_limit) return "pid out of range";
    if (auto bad = check_record(p, counts); !bad.empty()) return bad;
    ++below;
  }
  if (below != node->count) return "radix count differs from its subtree";
  pids += below;
  return {};
}

std::string_view ProcessTable::check_slab_list(const SlabPage* list, bool full, size_t& pages, size_t& used) const {
  const SlabPage* prev = nullptr;
  for (const SlabPage* page = list; page; prev = page, page = page->next) {
    if (reinterpret_cast<uintptr_t>(page) % kPageSize != 0) return "slab page not page-aligned";
    if (page->prev != prev) return "slab list back link is wrong";
    if (page->used == 0) return "empty slab page not freed";
    if (full != (page->used == kSlotsPerPage)) return "slab page on the wrong list";
    size_t free_slots = 0;
    for (const FreeSlot* slot = page->free; slot; slot = slot->next) {
      if (page_of<SlabPage>(slot) != page) return "free slot outside its page";
      if (++free_slots > kSlotsPerPage) return "slab free list loops";
    }
    if (free_slots + page->used != kSlotsPerPage) return "slab free list length differs from its count";
    ++pages;
    used += page->used;
  }
  return {};
}

}  // namespace procmgr
