// The capability core: the CDT list, the operations on slots, Retype and
// CNode lookup. cap.h describes the list and the word layouts.
//
// Removing a cap from the list moves its descendants up one level. Without
// that, they would look like descendants of whatever slot came before the
// removed one. When that is a sibling, revoking the sibling would delete caps
// it never derived.
//
// Deleting the last cap to an object that holds slots (a CNode, a TCB, a
// VSpace) has to empty those slots first. Their caps may be the last caps to
// more such objects, in chains or cycles as long as memory allows, so this is
// a loop over a stack of dying objects and never recursion. The stack is
// linked through the objects' own headers (ObjectHooks::push_dying), and
// nothing is allocated. Each time an object comes to the top, its slots are
// swept from first to last. Containers found there are pushed and handled
// before it. An object is destroyed once a sweep finds nothing new to push.
// So every object is swept at most twice, and children are destroyed before
// the object that held them. Cycles end because a final cap leaves its slot
// before its object is pushed: by the time a sweep comes back round to that
// slot, it is empty. So a sound CDT never shows a sweep a cap to a dying
// object. If one shows up anyway (a cap kept outside the list), it is only
// removed. Pushing the object a second time would loop the stack.
#include "cap.h"

#include <cstring>

#include "kmem.h"

namespace kern {

namespace {

constexpr uint64_t kWatermarkUnit = 16;  // UntypedWatermark counts 16-byte units

// Put `cap` into the empty, unlinked `slot` at `depth`, right after `after`.
void link_after(Slot& after, Slot& slot, const Capability& cap, unsigned depth) {
  slot.cap = cap.value();
  slot.set_depth(depth);
  slot.prev = &after;
  slot.next = after.next;
  if (after.next != nullptr) after.next->prev = &slot;
  after.next = &slot;
}

// Take the cap out of `slot` and out of the list. Its descendants move up one
// level, so they become children of its parent (see the file comment). The
// slot is left all zero, which is what every empty slot looks like.
void cdt_remove(Slot& slot) {
  unsigned depth = slot.depth();
  for (Slot* d = slot.next; d != nullptr && d->depth() > depth; d = d->next) d->set_depth(d->depth() - 1);
  if (slot.prev != nullptr) slot.prev->next = slot.next;
  if (slot.next != nullptr) slot.next->prev = slot.prev;
  slot = Slot{};
}

bool has_contained_slots(const Capability& cap, ObjectHooks& hooks) {
  return !hooks.contained_slots(cap).empty();
}

// Empty and destroy every object on the dying stack whose top is `top`. No
// cap to any of them is left anywhere. Below the bottom object the link is a
// null cap.
void destroy_dying(Capability top, ObjectHooks& hooks) {
  while (!top.is_null()) {
    const Capability current = top;
    for (Slot& slot : hooks.contained_slots(current)) {
      if (slot.empty()) continue;
      const Capability cap = slot.cap.value();
      const bool final = is_final(slot);
      cdt_remove(slot);
      if (!final) continue;
      if (!has_contained_slots(cap, hooks)) {
        hooks.destroy(cap);
      } else if (!hooks.is_dying(cap)) {
        hooks.push_dying(cap, top);
        top = cap;
      }
    }
    // A sweep that pushed nothing leaves `current` empty and on top.
    if (top.same_object(current)) {
      top = hooks.dying_next(current);
      hooks.destroy(current);
    }
  }
}

bool is_badged_type(ObjectType type) { return type == ObjectType::Endpoint || type == ObjectType::Notification; }

// Checks shared by Copy and Mint; on success returns the depth of the copy.
Result<unsigned> check_copy(const Slot& src, const Slot& dest) {
  if (src.empty()) return fail(Error::FailedLookup);
  if (!dest.empty()) return fail(Error::DeleteFirst);
  switch (src.cap.type()) {
    case ObjectType::Untyped:        // two caps would carve the same memory
    case ObjectType::IrqControl:     // unique authorities
    case ObjectType::SystemControl:
      return fail(Error::IllegalOperation);
    default:
      break;
  }
  if (src.depth() >= kMaxDepth) return fail(Error::RangeError);
  return src.depth() + 1;
}

// log2 of the size of one object of the request; 0 if the type or the size
// is invalid.
unsigned retype_size_bits(const RetypeRequest& request) {
  switch (request.type) {
    case ObjectType::Untyped:
      if (request.size_bits < kMinUntypedBits || request.size_bits > kMaxUntypedBits) return 0;
      return request.size_bits;
    case ObjectType::CNode:
      if (request.size_bits < kMinCNodeRadix || request.size_bits > kMaxCNodeRadix) return 0;
      return request.size_bits + kSlotSizeBits;
    case ObjectType::Tcb:
    case ObjectType::Endpoint:
    case ObjectType::Notification:
    case ObjectType::VSpace:
    case ObjectType::Frame:
    case ObjectType::Reply:
      return uapi::object_size_bits(request.type);
    default:  // Null, IrqControl, IrqHandler, SystemControl: not made from memory
      return 0;
  }
}

// Word 1 of the cap to a fresh object.
uint64_t fresh_word1(const RetypeRequest& request, bool device) {
  switch (request.type) {
    case ObjectType::Untyped:
      return Capability::untyped(PhysAddr(0), request.size_bits, device).word1();
    case ObjectType::CNode:
      return Capability::CNodeRadix::set(0, request.size_bits);
    default:
      return 0;
  }
}

// DeleteFirst unless every slot in `dests` is empty and none repeats. A
// pairwise comparison would be quadratic in the count, so each slot is marked
// by pointing its prev link at itself: an empty slot's links are null, so a
// marked slot met again is a repeat. Every mark is undone before returning.
Status check_dests(std::span<Slot* const> dests) {
  Status status;
  size_t marked = 0;
  for (Slot* dest : dests) {
    if (!dest->empty() || dest->prev == dest) {
      status = fail(Error::DeleteFirst);
      break;
    }
    dest->prev = dest;
    ++marked;
  }
  for (size_t i = 0; i < marked; ++i) dests[i]->prev = nullptr;
  return status;
}

// Where Retype puts the objects, worked out without changing anything.
struct RetypePlan {
  unsigned size_bits;   // of one object
  PhysAddr first;       // the first object; the others follow contiguously
  uint64_t end_offset;  // new watermark: end of the last object, from the base
};

Result<RetypePlan> decode_retype(const Slot& untyped, const RetypeRequest& request,
                                 std::span<Slot* const> dests, ObjectHooks& hooks) {
  const Capability& ut = untyped.cap;
  if (ut.type() != ObjectType::Untyped) return fail(Error::InvalidCapability);

  const unsigned bits = retype_size_bits(request);
  if (bits == 0) return fail(Error::InvalidArgument);
  // A child Untyped as large as its parent would share base and size with
  // it, and Capability::same_object could not tell the two apart.
  if (request.type == ObjectType::Untyped && request.size_bits >= ut.untyped_size_bits()) {
    return fail(Error::InvalidArgument);
  }
  // Device memory is not RAM: it holds no kernel object.
  if (ut.untyped_device() && request.type != ObjectType::Frame && request.type != ObjectType::Untyped) {
    return fail(Error::InvalidArgument);
  }
  if (request.count == 0 || request.count != dests.size()) return fail(Error::InvalidArgument);
  for (Slot* dest : dests) {
    if (dest == nullptr) return fail(Error::InvalidArgument);
  }
  TRY(check_dests(dests));

  const PhysAddr base = ut.object();
  const uint64_t size = uint64_t{1} << ut.untyped_size_bits();
  uint64_t watermark = ut.untyped_watermark();
  // Nothing made from this Untyped has a cap left: its memory is free again,
  // unless the kernel still has a frame in it mapped.
  if (watermark != 0 && !has_descendants(untyped) && hooks.can_reset_untyped(base, size)) watermark = 0;

  // No overflow: the watermark is below 2^49 and the object size at most
  // 2^47, so `start` is below 2^50. The count is checked by division, so
  // count * object_size <= size - start.
  const uint64_t object_size = uint64_t{1} << bits;
  const uint64_t start = align_up(watermark, object_size);
  if (start > size || request.count > (size - start) / object_size) return fail(Error::NotEnoughMemory);
  if (untyped.depth() >= kMaxDepth) return fail(Error::RangeError);

  return RetypePlan{bits, base + start, start + request.count * object_size};
}

}  // namespace

// --- The CDT ---------------------------------------------------------------

bool has_descendants(const Slot& slot) {
  return !slot.empty() && slot.next != nullptr && slot.next->depth() > slot.depth();
}

// An empty slot holds nothing, so it holds no final cap either.
bool is_final(const Slot& slot) {
  if (slot.empty()) return false;
  if (slot.prev != nullptr && slot.prev->cap.same_object(slot.cap)) return false;
  return slot.next == nullptr || !slot.next->cap.same_object(slot.cap);
}

void cdt_insert_root(Slot& dest, const Capability& cap) {
  dest.cap = cap.value();
  dest.prev = nullptr;
  dest.next = nullptr;
}

// --- Operations --------------------------------------------------------------

Status cap_copy(Slot& src, Slot& dest, Rights mask) {
  const unsigned depth = TRY(check_copy(src, dest));
  link_after(src, dest, src.cap.with_rights(src.cap.rights() & mask), depth);
  return {};
}

Status cap_mint(Slot& src, Slot& dest, Rights mask, uint64_t badge) {
  const unsigned depth = TRY(check_copy(src, dest));
  Capability cap = src.cap.with_rights(src.cap.rights() & mask);
  if (badge != 0) {
    // A badge identifies the sender to the receiver; a badged cap cannot be
    // rebadged, or its holder could pose as someone else.
    if (!is_badged_type(cap.type()) || cap.badge() != 0) return fail(Error::IllegalOperation);
    cap = cap.with_word1(badge);
  }
  link_after(src, dest, cap, depth);
  return {};
}

Status cap_move(Slot& src, Slot& dest) {
  if (&src == &dest) return fail(Error::InvalidArgument);
  if (src.empty()) return fail(Error::FailedLookup);
  if (!dest.empty()) return fail(Error::DeleteFirst);
  dest = src;  // cap with its depth, and both links
  if (dest.prev != nullptr) dest.prev->next = &dest;
  if (dest.next != nullptr) dest.next->prev = &dest;
  src = Slot{};
  return {};
}

void cap_delete(Slot& slot, ObjectHooks& hooks) {
  if (slot.empty()) return;
  const Capability cap = slot.cap.value();
  const bool final = is_final(slot);
  // Emptied before the object's own slots are looked at: the slot may be
  // one of them (a CNode holding the last cap to itself).
  cdt_remove(slot);
  if (!final) return;
  if (!has_contained_slots(cap, hooks)) {
    hooks.destroy(cap);
    return;
  }
  // The last cap is gone, so nothing can have marked the object dying yet.
  hooks.push_dying(cap, Capability{});
  destroy_dying(cap, hooks);
}

// Always the first descendant, looked up again after each delete: a delete
// can destroy objects whose slots hold further descendants, or `slot` itself
// (an Untyped kept in a CNode made from it), and then those are gone.
void cap_revoke(Slot& slot, ObjectHooks& hooks) {
  while (has_descendants(slot)) cap_delete(*slot.next, hooks);
}

uint64_t retype_object_size(const RetypeRequest& request) {
  const unsigned bits = retype_size_bits(request);
  return bits == 0 ? 0 : uint64_t{1} << bits;
}

Status untyped_retype(Slot& untyped, const RetypeRequest& request, std::span<Slot* const> dests,
                      ObjectHooks& hooks) {
  const RetypePlan plan = TRY(decode_retype(untyped, request, dests, hooks));

  const bool device = untyped.cap.untyped_device();
  const uint64_t object_size = uint64_t{1} << plan.size_bits;
  // MMIO registers must not be written just because a frame is made of them.
  // A child Untyped is not zeroed either: whatever is carved from it later
  // is, so zeroing it now would only double the work.
  if (!device && request.type != ObjectType::Untyped) {
    std::memset(phys_to_ptr<uint8_t>(plan.first), 0, request.count * object_size);
  }
  for (size_t i = 0; i < request.count; ++i) {
    hooks.init_object(request.type, plan.first + i * object_size, plan.size_bits);
  }

  const uint64_t word1 = fresh_word1(request, device);
  const unsigned depth = untyped.depth() + 1;
  Slot* prev = &untyped;
  for (size_t i = 0; i < request.count; ++i) {
    const PhysAddr object = plan.first + i * object_size;
    link_after(*prev, *dests[i], Capability::make(request.type, object, Rights::All, word1), depth);
    prev = dests[i];
  }

  const uint64_t ut_word1 = Capability::UntypedWatermark::set(untyped.cap.word1(), plan.end_offset / kWatermarkUnit);
  untyped.cap = untyped.cap.with_word1(ut_word1);
  return {};
}

// --- CNodes -------------------------------------------------------------------

CNodeHeader& cnode_header(const Capability& cnode) { return *phys_to_ptr<CNodeHeader>(cnode.object()); }

std::span<Slot> cnode_slots(const Capability& cnode) {
  const size_t slots = size_t{1} << cnode.cnode_radix();
  return std::span<Slot>(phys_to_ptr<Slot>(cnode.object()) + 1, slots - 1);
}

Result<Slot*> cnode_lookup(const Capability& cnode, uint64_t index) {
  if (cnode.type() != ObjectType::CNode) return fail(Error::InvalidCapability);
  if (index == 0 || index >= (uint64_t{1} << cnode.cnode_radix())) return fail(Error::RangeError);
  return phys_to_ptr<Slot>(cnode.object()) + index;
}

// --- Invariants ---------------------------------------------------------------

namespace {

// True if a slot after the run of caps to `slot`'s object, which ends at
// `run_end`, names that object again.
bool reappears_after(const Slot& slot, const Slot* run_end) {
  for (const Slot* s = run_end->next; s != nullptr; s = s->next) {
    if (s->cap.same_object(slot.cap)) return true;
  }
  return false;
}

}  // namespace

// Quadratic in the length of the list (the contiguity check): for tests.
bool check_cdt(const Slot* first) {
  if (first == nullptr) return true;
  if (first->prev != nullptr && first->prev->next != first) return false;
  // A list's first slot has no parent in it, so it is at depth 0.
  if (first->prev == nullptr && first->depth() != 0) return false;
  for (const Slot* s = first; s != nullptr; s = s->next) {
    if (s->empty()) return false;
    const Slot* next = s->next;
    if (next == nullptr) break;
    if (next == first || next->prev != s) return false;
    if (next->depth() > s->depth() + 1) return false;
  }
  // Each run of caps to one object is checked once, from its first slot.
  for (const Slot* s = first; s != nullptr; s = s->next) {
    if (s->prev != nullptr && s->prev->cap.same_object(s->cap)) continue;
    const Slot* run_end = s;
    while (run_end->next != nullptr && run_end->next->cap.same_object(s->cap)) run_end = run_end->next;
    if (reappears_after(*s, run_end)) return false;
  }
  return true;
}

}  // namespace kern
