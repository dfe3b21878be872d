// The invariant checker (see invariants.h). One pass gathers what the
// caller's CSpace reaches, then each kind of object is checked:
//
//  1. The page allocator's and the run queue's own check_invariants.
//  2. The CDT: for every slot of the caller's CNode (and, later, of every
//     reachable CNode and every TCB's binding slots) walk prev to the head of
//     its list; each list is checked once with check_cdt and walked to
//     collect the objects its capabilities name (each object once: at the
//     first cap of its run, since caps to one object are contiguous). Empty
//     slots must have no CDT links. From the root task's CNode these lists
//     hold every capability there is: each derives from a boot Untyped, and
//     the boot Untypeds all start in that CNode.
//  3. Threads: a Runnable thread is the current one or queued; a queued one
//     is Runnable; a blocked one sits in the queue of the endpoint or
//     notification it names, and no other thread has IPC links; reply links
//     go both ways (to the thread that owes the reply, or to the Reply
//     object it was saved in, never both), and only a thread waiting for a
//     reply waits for a fault reply; bindings have the right types; the
//     cached satp is the bound VSpace's.
//  4. Endpoints and notifications: well-formed queues whose threads are in
//     the matching state; a notification with waiters has no pending bits.
//     Reply objects: a saved caller is a live thread, BlockedOnReply, whose
//     reply_object is that object.
//  5. VSpaces: the kernel half equals the kernel's table; the user half
//     has table pages from the VSpace's own pool, no superpages, only user
//     leaves; tables in use + the pool's free list = pages carved; the pool
//     still holds its Untyped while it has pages out; ASIDs are unique.
//  6. Frames: the mappings found in every reachable VSpace, counted per
//     frame, equal FrameTable::map_count; the counts over all RAM add up to
//     the mappings found (nothing counted that is mapped nowhere); no page
//     table page is also mapped as a frame.
//  7. IRQ handlers: the source is issued, the binding is a notification
//     (and, like every capability, in a well-formed CDT list).
//  8. Untyped memory: every descendant of an Untyped lies inside it, its
//     children below its watermark, and together they take no more than
//     the watermark (memory handed out twice would).
//
// Not checked: the PLIC's state; objects overlapping in memory beyond what
// 8. and the table-page check catch; the TLB; a pool's free list page by
// page against the tables in use; the ASID allocator's own count (only
// uniqueness among reached VSpaces); objects no capability reachable from
// the caller names.
#include "invariants.h"

#include "kernel/console.h"
#include "kernel/hart.h"
#include "kernel/ipc.h"
#include "kernel/irq.h"
#include "kernel/memory.h"
#include "kernel/sched.h"
#include "kernel/vm.h"
#include "lib/sv39.h"

namespace kern {
namespace {

using sv39::Pte;

// Fixed tables: the checker runs inside one system call on one hart and
// allocates nothing. Past a table's size the rest is skipped and said so.
constexpr size_t kMaxLists = 512;
constexpr size_t kMaxTcbs = 512;
constexpr size_t kMaxEndpoints = 1024;
constexpr size_t kMaxVSpaces = 128;
constexpr size_t kMaxCNodes = 256;
constexpr size_t kMaxIrqHandlers = kMaxIrqs;
constexpr size_t kFrameBuckets = 8192;           // power of two (open addressing)
constexpr uint64_t kMaxWalk = uint64_t{1} << 22;  // steps along one CDT list
constexpr size_t kMaxReports = 40;                // console lines per check
constexpr uint64_t kCNodeSlotBudget = uint64_t{1} << 18;

struct Census {
  const Slot* lists[kMaxLists];
  size_t list_count;
  Tcb* tcbs[kMaxTcbs];
  size_t tcb_count;
  PhysAddr endpoints[kMaxEndpoints];
  size_t endpoint_count;
  PhysAddr notifications[kMaxEndpoints];
  size_t notification_count;
  PhysAddr replies[kMaxEndpoints];
  size_t reply_count;
  Capability vspaces[kMaxVSpaces];
  size_t vspace_count;
  Capability cnodes[kMaxCNodes];
  size_t cnode_count;
  Capability irq_handlers[kMaxIrqHandlers];
  size_t irq_handler_count;
  bool truncated;          // some table overflowed: membership checks are off
  uint64_t caps;           // capabilities visited
  uint64_t violations;
  uint64_t cnode_slots_scanned;
  // Frame mapping counts found in the page tables.
  uint64_t frame_keys[kFrameBuckets];  // frame address + 1 (0 = empty)
  uint32_t frame_counts[kFrameBuckets];
  uint64_t frames_distinct;
  uint64_t leaves;         // tracked leaves found
  bool frames_overflow;
};

Census g_census;

template <typename... Args>
void violation(std::string_view fmt, const Args&... args) {
  Census& c = g_census;
  if (c.violations++ < kMaxReports) {
    kprint("INVARIANT VIOLATED: ");
    kprint(fmt, args...);
    kprint("\n");
  }
}

template <typename T, size_t N>
bool contains(const T (&table)[N], size_t count, const T& value) {
  for (size_t i = 0; i < count; ++i) {
    if (table[i] == value) return true;
  }
  return false;
}

template <typename T, size_t N>
void add_unique(T (&table)[N], size_t& count, const T& value) {
  if (contains(table, count, value)) return;
  if (count == N) {
    g_census.truncated = true;
    return;
  }
  table[count++] = value;
}

bool known_tcb(const Tcb* t) {
  const Census& c = g_census;
  return c.truncated || contains(c.tcbs, c.tcb_count, const_cast<Tcb*>(t));
}

// --- 2. the CDT -------------------------------------------------------------

// Objects named by a capability (CNodes and VSpaces keep the cap: their
// size or radix is in it).
template <size_t N>
void add_unique_cap(Capability (&table)[N], size_t& count, const Capability& cap) {
  for (size_t i = 0; i < count; ++i) {
    if (table[i].object() == cap.object()) return;
  }
  if (count == N) g_census.truncated = true;
  else table[count++] = cap.value();
}

void note_object(const Capability& cap) {
  Census& c = g_census;
  switch (cap.type()) {
    case ObjectType::Tcb: return add_unique(c.tcbs, c.tcb_count, &object_of<Tcb>(cap));
    case ObjectType::Endpoint: return add_unique(c.endpoints, c.endpoint_count, cap.object());
    case ObjectType::Notification: return add_unique(c.notifications, c.notification_count, cap.object());
    case ObjectType::Reply: return add_unique(c.replies, c.reply_count, cap.object());
    case ObjectType::VSpace: return add_unique_cap(c.vspaces, c.vspace_count, cap);
    case ObjectType::CNode: return add_unique_cap(c.cnodes, c.cnode_count, cap);
    case ObjectType::IrqHandler: return add_unique_cap(c.irq_handlers, c.irq_handler_count, cap);
    default: return;
  }
}

// Bytes of memory the object of a cap takes (0: no memory of its own).
uint64_t object_bytes(const Capability& cap) {
  switch (cap.type()) {
    case ObjectType::Untyped: return retype_object_size({cap.type(), cap.untyped_size_bits(), 1});
    case ObjectType::CNode: return retype_object_size({cap.type(), cap.cnode_radix(), 1});
    case ObjectType::Tcb:
    case ObjectType::Endpoint:
    case ObjectType::Notification:
    case ObjectType::VSpace:
    case ObjectType::Frame:
    case ObjectType::Reply: return retype_object_size({cap.type(), 0, 1});
    default: return 0;
  }
}

// Every descendant of an Untyped lies in its memory; its children (each
// object once) lie below its watermark and take no more than it: objects
// carved twice from the same memory would take more.
void check_untyped(const Slot& untyped) {
  const PhysAddr base = untyped.cap.object();
  const uint64_t size = object_bytes(untyped.cap);
  const uint64_t watermark = untyped.cap.untyped_watermark();
  if (watermark > size) violation("Untyped {}: watermark {:#x} beyond its size {:#x}", base, watermark, size);
  uint64_t children = 0;
  uint64_t steps = 0;
  for (const Slot* s = untyped.next; s != nullptr && s->depth() > untyped.depth() && steps < kMaxWalk;
       s = s->next, ++steps) {
    const uint64_t bytes = object_bytes(s->cap);
    const PhysAddr at = s->cap.object();
    if (bytes == 0 || s->prev->cap.same_object(s->cap)) continue;  // each object once
    if (at < base || at - base > size - bytes) {
      violation("Untyped {}: descendant {} (type {}) lies outside it", base, at, s->cap.type());
    } else if (s->depth() == untyped.depth() + 1) {
      if (at - base > watermark - bytes || bytes > watermark) {
        violation("Untyped {}: child {} (type {}) lies beyond its watermark {:#x}", base, at, s->cap.type(), watermark);
      }
      children += bytes;
    }
  }
  if (children > watermark) {
    violation("Untyped {}: its children take {:#x} bytes, more than its watermark {:#x}", base, children, watermark);
  }
}

// The list `slot` is in: found by walking prev to its head, checked and
// walked once.
void visit_list(const Slot& slot) {
  Census& c = g_census;
  if (slot.empty()) {
    if (slot.prev != nullptr || slot.next != nullptr) violation("empty slot {} has CDT links", &slot);
    return;
  }
  const Slot* head = &slot;
  for (uint64_t steps = 0; head->prev != nullptr; head = head->prev) {
    if (++steps > kMaxWalk || head->prev->next != head) {
      violation("CDT list through slot {} is broken or cyclic going back (at {})", &slot, head);
      return;
    }
  }
  if (contains(c.lists, c.list_count, head)) return;
  if (c.list_count == kMaxLists) {
    c.truncated = true;
    return;
  }
  c.lists[c.list_count++] = head;
  if (!check_cdt(head)) {
    violation("check_cdt fails on the list headed by slot {} (type {})", head, head->cap.type());
    return;  // the walk below could loop
  }
  uint64_t steps = 0;
  for (const Slot* s = head; s != nullptr && steps < kMaxWalk; s = s->next, ++steps) {
    ++c.caps;
    if (s->prev == nullptr || !s->prev->cap.same_object(s->cap)) note_object(s->cap);
    if (s->cap.type() == ObjectType::Untyped) check_untyped(*s);
  }
}

// A slot linked both ways to a slot of this CNode already visited is in a
// list already visited: skipping it saves walking back to the head from
// every one of a long run of slots (the boot archive's frames, say).
void visit_cnode(const Capability& cnode) {
  Census& c = g_census;
  const std::span<Slot> slots = cnode_slots(cnode);
  for (const Slot& s : slots) {
    if (++c.cnode_slots_scanned > kCNodeSlotBudget) {
      c.truncated = true;
      return;
    }
    const auto visited = [&](const Slot* p) { return p >= slots.data() && p < &s; };
    if ((visited(s.prev) && s.prev->next == &s) || (visited(s.next) && s.next->prev == &s)) continue;
    visit_list(s);
  }
}

// --- 3. threads ---------------------------------------------------------------

bool in_queue(Tcb* head, const Tcb& thread) {
  uint64_t steps = 0;
  for (Tcb* t = head; t != nullptr && steps <= kMaxTcbs; t = t->ipc_next, ++steps) {
    if (t == &thread) return true;
  }
  return false;
}

void check_binding(Tcb& t, TcbSlot which, ObjectType type) {
  const Slot& s = tcb_slot(t, which);
  if (!s.empty() && s.cap.type() != type) {
    violation("thread {}: binding {} holds a cap of type {}", &t, static_cast<unsigned>(which), s.cap.type());
  }
}

void check_thread(Tcb& t) {
  const Tcb* current = this_hart().current;
  const bool bound = !tcb_slot(t, TcbSlot::CSpace).empty() && !tcb_slot(t, TcbSlot::VSpace).empty();
  switch (t.state) {
    case ThreadState::Runnable:
      // A thread that lost a binding may still sit in the queue: the
      // scheduler drops (suspends) it when it comes up.
      if (&t != current && !t.run.queued) violation("thread {} is Runnable but not in the run queue", &t);
      if (&t == current && !bound) violation("the current thread {} runs without CSpace/VSpace", &t);
      break;
    case ThreadState::Inactive:
    case ThreadState::BlockedOnReply:
      break;
    case ThreadState::BlockedOnSend:
    case ThreadState::BlockedOnReceive: {
      const Census& c = g_census;
      if (!c.truncated && !contains(c.endpoints, c.endpoint_count, t.blocked_on)) {
        violation("thread {} blocked on {}, which is no live endpoint", &t, t.blocked_on);
        break;
      }
      const Endpoint& ep = *phys_to_ptr<Endpoint>(t.blocked_on);
      const auto want = t.state == ThreadState::BlockedOnSend ? Endpoint::Queue::Senders : Endpoint::Queue::Receivers;
      if (ep.queue != want || !in_queue(ep.head, t)) {
        violation("thread {} (state {}) is not in the matching queue of endpoint {}", &t, t.state, t.blocked_on);
      }
      break;
    }
    case ThreadState::BlockedOnNotification: {
      const Census& c = g_census;
      if (!c.truncated && !contains(c.notifications, c.notification_count, t.blocked_on)) {
        violation("thread {} waits on {}, which is no live notification", &t, t.blocked_on);
        break;
      }
      if (!in_queue(phys_to_ptr<Notification>(t.blocked_on)->head, t)) {
        violation("thread {} is not in the queue of notification {}", &t, t.blocked_on);
      }
      break;
    }
    default:
      violation("thread {} has an unknown state {}", &t, t.state);
      return;
  }
  const bool queued_on_ipc = t.state == ThreadState::BlockedOnSend || t.state == ThreadState::BlockedOnReceive ||
                             t.state == ThreadState::BlockedOnNotification;
  if (!queued_on_ipc && (t.ipc_next != nullptr || t.ipc_prev != nullptr || t.blocked_on != PhysAddr(0))) {
    violation("thread {} (state {}) keeps IPC queue links", &t, t.state);
  }
  if (t.run.queued && t.state != ThreadState::Runnable) violation("thread {} is queued but in state {}", &t, t.state);
  if (t.fault_pending && t.state != ThreadState::BlockedOnSend) {
    violation("thread {} has a pending fault but is in state {}", &t, t.state);
  }
  if (Tcb* caller = t.reply_to) {
    if (!known_tcb(caller) || caller->reply_from != &t || caller->state != ThreadState::BlockedOnReply) {
      violation("thread {}: reply_to {} does not wait for its reply", &t, caller);
    }
  }
  if (Tcb* callee = t.reply_from) {
    if (!known_tcb(callee) || callee->reply_to != &t || t.state != ThreadState::BlockedOnReply) {
      violation("thread {}: reply_from {} is not a matching callee", &t, callee);
    }
  }
  if (Reply* saved = t.reply_object) {
    const Census& c = g_census;
    const PhysAddr at = ptr_to_phys(saved);
    if (!c.truncated && !contains(c.replies, c.reply_count, at)) {
      violation("thread {}: its reply is saved in {}, which is no live Reply object", &t, at);
    } else if (saved->caller != &t || t.state != ThreadState::BlockedOnReply || t.reply_from != nullptr) {
      violation("thread {} (state {}): Reply object {} holds {}, or the thread also has reply_from {}", &t, t.state,
                at, saved->caller, t.reply_from);
    }
  }
  if (t.awaiting_fault_reply && t.state != ThreadState::BlockedOnReply) {
    violation("thread {} waits for a fault reply but is in state {}", &t, t.state);
  }
  check_binding(t, TcbSlot::CSpace, ObjectType::CNode);
  check_binding(t, TcbSlot::VSpace, ObjectType::VSpace);
  const Slot& vspace = tcb_slot(t, TcbSlot::VSpace);
  if (!vspace.empty() && vspace.cap.type() == ObjectType::VSpace && t.satp != vspace_satp(vspace.cap)) {
    violation("thread {}: cached satp {:#x} is not its VSpace's {:#x}", &t, t.satp, vspace_satp(vspace.cap));
  }
  check_binding(t, TcbSlot::IpcBuffer, ObjectType::Frame);
  check_binding(t, TcbSlot::FaultEndpoint, ObjectType::Endpoint);
}

// Gathering: a thread's bindings are capabilities too.
void visit_bindings(Tcb& t) {
  for (const Slot& s : t.slots) visit_list(s);
}

// --- 4. wait queues -----------------------------------------------------------

template <typename Object>
void check_queue(const Object& object, PhysAddr address, ThreadState want, const char* what) {
  const Tcb* prev = nullptr;
  size_t steps = 0;
  for (Tcb* t = object.head; t != nullptr; prev = t, t = t->ipc_next) {
    if (++steps > kMaxTcbs || !known_tcb(t)) {
      violation("{} {}: queue reaches {}, no live thread (or loops)", what, address, t);
      return;
    }
    if (t->ipc_prev != prev || t->state != want || t->blocked_on != address) {
      violation("{} {}: queued thread {} has state {}, blocked_on {}, bad links", what, address, t, t->state,
                t->blocked_on);
    }
  }
  if (object.tail != prev) violation("{} {}: tail {} is not the last thread {}", what, address, object.tail, prev);
}

void check_endpoint(PhysAddr address) {
  const Endpoint& ep = *phys_to_ptr<Endpoint>(address);
  switch (ep.queue) {
    case Endpoint::Queue::Idle:
      if (ep.head != nullptr || ep.tail != nullptr) violation("endpoint {} is idle with a queue", address);
      return;
    case Endpoint::Queue::Senders:
    case Endpoint::Queue::Receivers:
      if (ep.head == nullptr) violation("endpoint {} has a queue direction but no thread", address);
      check_queue(ep, address,
                  ep.queue == Endpoint::Queue::Senders ? ThreadState::BlockedOnSend : ThreadState::BlockedOnReceive,
                  "endpoint");
      return;
    default:
      violation("endpoint {} has an unknown queue state", address);
  }
}

void check_reply(PhysAddr address) {
  const Reply& reply = *phys_to_ptr<Reply>(address);
  Tcb* caller = reply.caller;
  if (caller == nullptr) return;
  if (!known_tcb(caller)) {
    violation("Reply object {}: its caller {} is no live thread", address, caller);
    return;
  }
  if (caller->reply_object != &reply || caller->state != ThreadState::BlockedOnReply) {
    violation("Reply object {}: caller {} (state {}) does not wait on it (its reply_object is {})", address, caller,
              caller->state, caller->reply_object);
  }
}

void check_notification(PhysAddr address) {
  const Notification& n = *phys_to_ptr<Notification>(address);
  if (n.head != nullptr && n.word != 0) violation("notification {} has waiters and pending bits {:#x}", address, n.word);
  check_queue(n, address, ThreadState::BlockedOnNotification, "notification");
}

// A handler cap exists, so its source is issued; its binding is a
// notification.
void check_irq_handler(const Capability& handler) {
  const IrqEntry& entry = irq_entry_of(handler);
  if (!entry.issued) violation("IRQ {}: a handler cap exists but the source is not issued", handler.irq());
  if (!entry.binding.empty() && entry.binding.cap.type() != ObjectType::Notification) {
    violation("IRQ {}: bound to a cap of type {}", handler.irq(), entry.binding.cap.type());
  }
}

// --- 5./6. address spaces and frames -------------------------------------------

void count_frame(PhysAddr frame) {
  Census& c = g_census;
  ++c.leaves;
  const uint64_t key = frame.value() + 1;
  size_t i = (frame.value() >> kPageShift) * 0x9e3779b97f4a7c15ull >> 51 & (kFrameBuckets - 1);
  for (size_t probes = 0; probes < kFrameBuckets; ++probes, i = (i + 1) & (kFrameBuckets - 1)) {
    if (c.frame_keys[i] == key) {
      ++c.frame_counts[i];
      return;
    }
    if (c.frame_keys[i] == 0) {
      if (c.frames_distinct * 4 >= kFrameBuckets * 3) break;  // keep probes short
      c.frame_keys[i] = key;
      c.frame_counts[i] = 1;
      ++c.frames_distinct;
      return;
    }
  }
  c.frames_overflow = true;
}

bool in_pool(const TablePoolState& pool, PhysAddr page) {
  return page >= pool.base && page - pool.base < pool.watermark;
}

// Walks the user half; returns the number of table pages below the root.
uint64_t walk_user_half(const Capability& vspace, const TablePoolState& pool) {
  const uint64_t* root = phys_to_ptr<const uint64_t>(vspace.object());
  FrameTable& frames = frame_table();
  uint64_t tables = 0;
  const size_t user_entries = static_cast<size_t>(kUserTop >> (kPageShift + 18));
  for (size_t i2 = 0; i2 < user_entries; ++i2) {
    const Pte e2(root[i2]);
    if (!e2.valid()) continue;
    if (!e2.is_table()) {
      violation("VSpace {}: root entry {} is a superpage or malformed ({:#x})", vspace.object(), i2, e2.raw());
      continue;
    }
    ++tables;
    if (!in_pool(pool, e2.phys())) violation("VSpace {}: table {} is not from its pool", vspace.object(), e2.phys());
    const uint64_t* l1 = phys_to_ptr<const uint64_t>(e2.phys());
    for (size_t i1 = 0; i1 < sv39::kEntriesPerTable; ++i1) {
      const Pte e1(l1[i1]);
      if (!e1.valid()) continue;
      if (!e1.is_table()) {
        violation("VSpace {}: level-1 entry {}/{} is a superpage or malformed", vspace.object(), i2, i1);
        continue;
      }
      ++tables;
      if (!in_pool(pool, e1.phys())) violation("VSpace {}: table {} is not from its pool", vspace.object(), e1.phys());
      const uint64_t* l0 = phys_to_ptr<const uint64_t>(e1.phys());
      for (size_t i0 = 0; i0 < sv39::kEntriesPerTable; ++i0) {
        const Pte leaf(l0[i0]);
        if (!leaf.valid()) continue;
        if (!leaf.is_leaf() || !sv39::has(leaf.perm(), sv39::Perm::U) || sv39::has(leaf.perm(), sv39::Perm::G)) {
          violation("VSpace {}: entry {}/{}/{} is no user leaf ({:#x})", vspace.object(), i2, i1, i0, leaf.raw());
          continue;
        }
        if (frames.tracks(leaf.phys())) count_frame(leaf.phys());
      }
    }
  }
  return tables;
}

void check_vspace(const Capability& vspace) {
  const VSpaceMeta& meta = vspace_meta(vspace);
  const uint64_t* root = phys_to_ptr<const uint64_t>(vspace.object());
  const uint64_t* kernel_root = kernel_root_table();
  for (size_t i = sv39::kEntriesPerTable / 2; i < sv39::kEntriesPerTable; ++i) {
    if (root[i] != kernel_root[i]) {
      violation("VSpace {}: kernel-half entry {} differs from the kernel's table", vspace.object(), i);
      break;
    }
  }
  const TablePoolState& pool = meta.pool;
  if (pool.watermark > pool.size || pool.free_count > pool.watermark / kPageSize) {
    violation("VSpace {}: pool watermark {:#x} / free {} beyond its size {:#x}", vspace.object(), pool.watermark,
              pool.free_count, pool.size);
    return;
  }
  if (pool.size != 0 && meta.pool_slot.empty()) {
    // The Untyped that accounts for the table pages is gone (revoked from
    // an ancestor) while the tables still live in its memory.
    violation("VSpace {}: table pool at {} lost its Untyped", vspace.object(), pool.base);
  }
  if (!meta.pool_slot.empty() &&
      (meta.pool_slot.cap.type() != ObjectType::Untyped || meta.pool_slot.cap.object() != pool.base)) {
    violation("VSpace {}: pool slot does not hold the pool's Untyped", vspace.object());
  }
  uint64_t free = 0;
  for (PhysAddr page = pool.free_list; page != PhysAddr(0) && free <= pool.free_count;
       page = PhysAddr(*phys_to_ptr<const uint64_t>(page))) {
    if (!in_pool(pool, page)) {
      violation("VSpace {}: free table {} is outside the pool", vspace.object(), page);
      break;
    }
    ++free;
  }
  if (free != pool.free_count) violation("VSpace {}: free list has {} pages, count says {}", vspace.object(), free, pool.free_count);
  const uint64_t tables = walk_user_half(vspace, pool);
  if (tables + pool.free_count != pool.watermark / kPageSize) {
    violation("VSpace {}: {} tables in use + {} free != {} carved from the pool", vspace.object(), tables,
              pool.free_count, pool.watermark / kPageSize);
  }
}

// Table pages must not be mapped as frames anywhere (user space would
// write page tables).
void check_tables_not_mapped(const Capability& vspace) {
  const uint64_t* root = phys_to_ptr<const uint64_t>(vspace.object());
  const size_t user_entries = static_cast<size_t>(kUserTop >> (kPageShift + 18));
  FrameTable& frames = frame_table();
  for (size_t i2 = 0; i2 < user_entries; ++i2) {
    const Pte e2(root[i2]);
    if (!e2.is_table()) continue;
    if (frames.map_count(e2.phys()) != 0) violation("VSpace {}: table page {} is mapped as a frame", vspace.object(), e2.phys());
    const uint64_t* l1 = phys_to_ptr<const uint64_t>(e2.phys());
    for (size_t i1 = 0; i1 < sv39::kEntriesPerTable; ++i1) {
      const Pte e1(l1[i1]);
      if (e1.is_table() && frames.map_count(e1.phys()) != 0) {
        violation("VSpace {}: table page {} is mapped as a frame", vspace.object(), e1.phys());
      }
    }
  }
  if (frames.map_count(vspace.object()) != 0) violation("VSpace {}: its root table is mapped as a frame", vspace.object());
}

void check_frames() {
  Census& c = g_census;
  if (c.frames_overflow) {
    kprint("invariants: more than {} mapped frames: frame counts not checked\n", kFrameBuckets * 3 / 4);
    return;
  }
  FrameTable& frames = frame_table();
  for (size_t i = 0; i < kFrameBuckets; ++i) {
    if (c.frame_keys[i] == 0) continue;
    const PhysAddr frame(c.frame_keys[i] - 1);
    if (frames.map_count(frame) != c.frame_counts[i]) {
      violation("frame {}: map_count {} but {} mappings found", frame, frames.map_count(frame), c.frame_counts[i]);
    }
  }
  if (c.truncated) return;  // some VSpace may not have been walked
  const PageAllocator& ram = page_allocator();
  uint64_t total = 0;
  for (size_t i = 0; i < ram.total_frames(); ++i) total += frames.map_count(ram.base() + i * kPageSize);
  if (total != c.leaves) violation("frame table counts {} mappings in all, the page tables hold {}", total, c.leaves);
}

void reset_census() {
  Census& c = g_census;
  c.list_count = c.tcb_count = c.endpoint_count = c.notification_count = c.vspace_count = c.cnode_count = 0;
  c.reply_count = 0;
  c.irq_handler_count = 0;
  c.truncated = c.frames_overflow = false;
  c.caps = c.violations = c.cnode_slots_scanned = c.frames_distinct = c.leaves = 0;
  for (size_t i = 0; i < kFrameBuckets; ++i) c.frame_keys[i] = 0;
}

}  // namespace

void debug_check_invariants(Tcb& caller) {
  Census& c = g_census;
  reset_census();
  if (!page_allocator().check_invariants()) violation("page allocator: bitmap and free count disagree");
  if (!run_queue().check_invariants()) violation("run queue: bitmaps, lists or links are inconsistent");

  // Gather: the caller's CNode; every CNode, thread (bindings) and VSpace
  // (pool slot) found adds more capabilities; go on until nothing new turns
  // up. Then check, with the sets of live objects complete.
  const Slot& cspace = tcb_slot(caller, TcbSlot::CSpace);
  if (!cspace.empty() && cspace.cap.type() == ObjectType::CNode) note_object(cspace.cap);
  size_t cnodes_done = 0;
  size_t tcbs_done = 0;
  size_t vspaces_done = 0;
  size_t irqs_done = 0;
  while (cnodes_done < c.cnode_count || tcbs_done < c.tcb_count || vspaces_done < c.vspace_count ||
         irqs_done < c.irq_handler_count) {
    if (cnodes_done < c.cnode_count) visit_cnode(c.cnodes[cnodes_done++]);
    else if (tcbs_done < c.tcb_count) visit_bindings(*c.tcbs[tcbs_done++]);
    else if (vspaces_done < c.vspace_count) visit_list(vspace_meta(c.vspaces[vspaces_done++]).pool_slot);
    else visit_list(irq_entry_of(c.irq_handlers[irqs_done++]).binding);
  }
  if (c.truncated) kprint("invariants: tables full, some objects not checked (membership checks off)\n");

  for (size_t i = 0; i < c.tcb_count; ++i) check_thread(*c.tcbs[i]);
  for (size_t i = 0; i < c.endpoint_count; ++i) check_endpoint(c.endpoints[i]);
  for (size_t i = 0; i < c.notification_count; ++i) check_notification(c.notifications[i]);
  for (size_t i = 0; i < c.reply_count; ++i) check_reply(c.replies[i]);
  for (size_t i = 0; i < c.irq_handler_count; ++i) check_irq_handler(c.irq_handlers[i]);
  for (size_t i = 0; i < c.vspace_count; ++i) check_vspace(c.vspaces[i]);
  for (size_t i = 0; i < c.vspace_count; ++i) {
    check_tables_not_mapped(c.vspaces[i]);
    const uint16_t asid = vspace_meta(c.vspaces[i]).asid;
    for (size_t j = 0; j < i && asid != 0; ++j) {
      if (vspace_meta(c.vspaces[j]).asid == asid) violation("VSpaces {} and {} share ASID {}", c.vspaces[j].object(), c.vspaces[i].object(), asid);
    }
  }
  check_frames();

  uapi::MessageInfo info = c.violations == 0 ? uapi::MessageInfo{} : uapi::MessageInfo::error(uapi::Error::Malformed);
  info.raw = uapi::MessageInfo::Length::set(info.raw, 4);
  set_result(caller, info);
  auto& regs = caller.context.regs;
  const size_t mr0 = static_cast<size_t>(arch::Reg::A2);
  regs[mr0] = c.violations;
  regs[mr0 + 1] = c.caps;
  regs[mr0 + 2] = c.tcb_count;
  regs[mr0 + 3] = c.leaves;
}

}  // namespace kern
