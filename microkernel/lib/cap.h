// Capabilities, slots and the capability derivation tree (CDT).
//
// A capability is two words: the object's type, rights and physical address,
// and one word whose meaning depends on the type (badge, untyped watermark,
// CNode radix, ASID, IRQ number). It lives in a Slot, which adds the two
// links of the CDT.
//
// The CDT is one doubly linked list of all non-empty slots in pre-order, each
// slot carrying its depth: the descendants of a slot are exactly the slots
// that follow it with a greater depth. Copy and Mint insert the new cap right
// after its source, one level deeper; Retype inserts the new objects' caps
// right after the Untyped, one level deeper; Move keeps the place. So every
// capability to one object forms one contiguous run of the list (all derive
// from the cap Retype made), and a capability is *final* (the last one to its
// object) when neither neighbour refers to the same object. Deleting a slot
// leaves its descendants in place but one level up, so that they become
// descendants of its parent: left at their depth, they would look like
// descendants of the slot before it, which may be a sibling.
//
// Word layouts (BitField, never shifted by hand):
//   word0: type [0..4], rights [5..7], object physical address [8..55],
//          CDT depth [56..63] (a property of the slot, kept out of copies)
//   word1: Untyped:  size_bits [0..5], watermark in 16-byte units [6..50],
//                    device [51] (MMIO: retype only into frames, never zeroed)
//          CNode:    radix [0..5]
//          Endpoint, Notification: badge [0..63]
//          VSpace:   asid [0..15]
//          IrqHandler: irq [0..15]
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "abi/abi.h"
#include "bitfield.h"
#include "result.h"
#include "types.h"

namespace kern {

using uapi::ObjectType;
using uapi::Rights;

inline constexpr unsigned kSlotSizeBits = 5;  // sizeof(Slot) == 32
inline constexpr unsigned kMaxDepth = 255;
inline constexpr unsigned kMinUntypedBits = 4;
inline constexpr unsigned kMaxUntypedBits = 47;
inline constexpr unsigned kMinCNodeRadix = 1;
inline constexpr unsigned kMaxCNodeRadix = 20;

class Capability {
 public:
  using Type = BitField<0, 5>;
  using RightsBits = BitField<5, 3>;
  using Object = BitField<8, 48>;
  using Depth = BitField<56, 8>;

  using UntypedSizeBits = BitField<0, 6>;
  using UntypedWatermark = BitField<6, 45>;  // bytes / 16
  using UntypedDevice = BitFlag<51>;
  using CNodeRadix = BitField<0, 6>;
  using VSpaceAsid = BitField<0, 16>;
  using IrqNumber = BitField<0, 16>;

  constexpr Capability() = default;
  constexpr Capability(uint64_t w0, uint64_t w1) : m_word0(w0), m_word1(w1) {}

  static constexpr Capability make(ObjectType type, PhysAddr object, Rights rights, uint64_t word1 = 0) {
    uint64_t w0 = Type::set(0, static_cast<uint64_t>(type));
    w0 = RightsBits::set(w0, static_cast<uint64_t>(rights));
    w0 = Object::set(w0, object.value());
    return Capability(w0, word1);
  }
  static constexpr Capability untyped(PhysAddr base, unsigned size_bits, bool device) {
    return make(ObjectType::Untyped, base, Rights::All,
                UntypedDevice::set(UntypedSizeBits::set(0, size_bits), device ? 1 : 0));
  }

  constexpr ObjectType type() const { return static_cast<ObjectType>(Type::get(m_word0)); }
  constexpr bool is_null() const { return type() == ObjectType::Null; }
  constexpr Rights rights() const { return static_cast<Rights>(RightsBits::get(m_word0)); }
  constexpr PhysAddr object() const { return PhysAddr(Object::get(m_word0)); }
  constexpr uint64_t word1() const { return m_word1; }

  constexpr Capability with_rights(Rights r) const { return Capability(RightsBits::set(m_word0, uint64_t(r)), m_word1); }
  constexpr Capability with_word1(uint64_t w1) const { return Capability(m_word0, w1); }
  // The capability as copied into another slot: no CDT depth.
  constexpr Capability value() const { return Capability(Depth::set(m_word0, 0), m_word1); }

  // Type-specific views.
  constexpr uint64_t badge() const { return m_word1; }
  constexpr unsigned untyped_size_bits() const { return unsigned(UntypedSizeBits::get(m_word1)); }
  constexpr uint64_t untyped_watermark() const { return UntypedWatermark::get(m_word1) << 4; }
  constexpr bool untyped_device() const { return UntypedDevice::get(m_word1); }
  constexpr unsigned cnode_radix() const { return unsigned(CNodeRadix::get(m_word1)); }
  constexpr uint16_t vspace_asid() const { return uint16_t(VSpaceAsid::get(m_word1)); }
  constexpr uint16_t irq() const { return uint16_t(IrqNumber::get(m_word1)); }

  // Two caps name the same object (same type and address; for Untyped also
  // the same size, since an Untyped and its first child share an address).
  constexpr bool same_object(const Capability& other) const {
    if (type() != other.type() || object() != other.object() || is_null()) return false;
    return type() != ObjectType::Untyped || untyped_size_bits() == other.untyped_size_bits();
  }

 private:
  friend struct Slot;
  uint64_t m_word0 = 0;
  uint64_t m_word1 = 0;
};

struct Slot {
  Capability cap;
  Slot* prev = nullptr;  // CDT neighbours; null at the ends
  Slot* next = nullptr;

  bool empty() const { return cap.is_null(); }
  unsigned depth() const { return unsigned(Capability::Depth::get(cap.m_word0)); }
  void set_depth(unsigned d) { cap.m_word0 = Capability::Depth::set(cap.m_word0, d); }
};
static_assert(sizeof(Slot) == (1u << kSlotSizeBits));

// What the capability core needs from the rest of the kernel, so that it can
// be tested on the host with a fake.
class ObjectHooks {
 public:
  // Slots inside the object that must be emptied before it is destroyed (a
  // CNode's slots, a TCB's binding slots); empty for other types.
  virtual std::span<Slot> contained_slots(const Capability& cap) = 0;
  // Per-object flag used while destroying: true once the object's last cap
  // is gone and its contained slots are being emptied. Only objects with
  // contained slots are ever marked. push_dying(cap, next) marks it and stores the
  // link of the core's stack of objects being destroyed (an object's own
  // header keeps it; the core allocates nothing).
  virtual bool is_dying(const Capability& cap) = 0;
  virtual void push_dying(const Capability& cap, const Capability& next) = 0;
  virtual Capability dying_next(const Capability& cap) = 0;
  // The last capability to the object is gone and its contained slots are
  // empty: release it (wake blocked threads, unmap, free the ASID ...).
  // Cannot fail.
  virtual void destroy(const Capability& cap) = 0;
  // A fresh object of `type` (size 2^size_bits bytes) was carved at
  // `object`; its memory is already zeroed (except device memory).
  virtual void init_object(ObjectType type, PhysAddr object, unsigned size_bits) = 0;
  // May this Untyped's watermark go back to 0 (it has no descendants)? The
  // kernel answers no while any frame in [base, base + size) is still
  // mapped: a mapped frame is never handed out again.
  virtual bool can_reset_untyped(PhysAddr base, uint64_t size) = 0;

 protected:
  ~ObjectHooks() = default;
};

// --- The CDT ---------------------------------------------------------------

// True if `slot` has at least one descendant.
bool has_descendants(const Slot& slot);
// True if no other slot in the CDT holds a cap to the same object.
bool is_final(const Slot& slot);

// Put `cap` into the empty slot `dest` as a root of the CDT (depth 0, no
// neighbours). For boot: the kernel's initial caps to all memory, devices
// and control objects.
void cdt_insert_root(Slot& dest, const Capability& cap);

// --- Operations --------------------------------------------------------------
// Each validates everything first and changes nothing on error; after the
// checks the change itself cannot fail.

// Copy src into the empty slot dest with rights reduced to src & mask.
// Errors: FailedLookup if src is empty; DeleteFirst if dest is not empty;
// IllegalOperation for Untyped (two caps would carve the same memory) or
// IrqControl/SystemControl (unique); RangeError if the tree would get deeper
// than kMaxDepth.
Status cap_copy(Slot& src, Slot& dest, Rights mask);
// Copy with a badge (Endpoint, Notification; src must be unbadged) or, for
// other types, like cap_copy. IllegalOperation for a badge on a badged cap or
// on a type without badges (badge != 0).
Status cap_mint(Slot& src, Slot& dest, Rights mask, uint64_t badge);
// Move src's cap to the empty dest, keeping its place in the CDT.
// FailedLookup if src is empty, DeleteFirst if dest is not, InvalidArgument
// if src == dest.
Status cap_move(Slot& src, Slot& dest);
// Delete the cap in `slot`. If it was the last cap to its object, the object
// is destroyed, and with it every cap in its contained slots, and so on,
// without recursion (a stack of dying objects threaded through the objects
// themselves; cycles of CNodes holding each other are handled). An empty
// slot is not an error. Cannot fail.
void cap_delete(Slot& slot, ObjectHooks& hooks);
// Delete every descendant of `slot` (in any order that keeps the CDT valid).
// For an Untyped this destroys every object made from it. Cannot fail.
void cap_revoke(Slot& slot, ObjectHooks& hooks);

struct RetypeRequest {
  ObjectType type = ObjectType::Null;
  unsigned size_bits = 0;   // Untyped: log2 bytes; CNode: radix; else ignored
  size_t count = 0;         // objects to make, 1..
};

// Size in bytes of one object of the request; 0 if the type/size is invalid.
uint64_t retype_object_size(const RetypeRequest& request);

// Carve `count` objects from the Untyped in `untyped` and put their caps in
// the empty slots `dests` (dests.size() == count), as children of the
// Untyped. Objects are aligned to their size; the watermark advances past
// them. If the Untyped has no descendants, the watermark first goes back to
// 0 (when hooks.can_reset_untyped allows). Objects are zeroed (not from a
// device Untyped, and not a child Untyped: what is carved from it later
// is), then hooks.init_object is called for each.
// Errors: InvalidCapability if `untyped` is not an Untyped; InvalidArgument
// for Null/IrqControl/IrqHandler/SystemControl, a size out of range
// (Untyped kMinUntypedBits..kMaxUntypedBits, CNode radix
// kMinCNodeRadix..kMaxCNodeRadix, and an Untyped smaller than its parent),
// count 0 or != dests.size(), a null dest, or a type other than Frame and
// Untyped from device memory (device Untyped children stay device);
// DeleteFirst if a dest slot is not empty (or dests repeat a slot);
// NotEnoughMemory if the objects do not fit after the watermark; RangeError
// if the CDT would get too deep.
Status untyped_retype(Slot& untyped, const RetypeRequest& request, std::span<Slot* const> dests,
                      ObjectHooks& hooks);

// --- CNodes -------------------------------------------------------------------
// A CNode of radix r is 2^r slots; slot 0 is reserved for the CNode's own
// header (the dying flag and link) and never holds a capability, so cptr 0 is
// always "no capability".

struct CNodeHeader {
  uint64_t dying = 0;       // non-zero while being destroyed
  Capability dying_next;    // next on the core's dying stack
};
static_assert(sizeof(CNodeHeader) <= sizeof(Slot));

CNodeHeader& cnode_header(const Capability& cnode);
std::span<Slot> cnode_slots(const Capability& cnode);  // slots 1..2^r-1

// The slot `index` of the CNode `cnode`. InvalidCapability if `cnode` is not a
// CNode; RangeError if index is 0 or >= 2^radix.
Result<Slot*> cnode_lookup(const Capability& cnode, uint64_t index);

// Invariant check for tests: the CDT list is well formed from `first`
// (prev/next agree, depths never jump by more than one going down, all caps
// to one object contiguous). Returns false on the first violation.
bool check_cdt(const Slot* first);

}  // namespace kern
