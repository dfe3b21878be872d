// VSpace and Frame invocations: the mechanism behind the pager.
//   SetTablePool: cap0 an Untyped with no children and no frame of it
//                 still mapped (IllegalOperation), moved into the VSpace:
//                 its memory pays for this address space's page tables.
//                 Revoking an ancestor of that Untyped deletes it, and with
//                 it every table and mapping of the VSpace (vm.h)
//   Map:      mr0 va, mr1 first slot, mr2 count, mr3 MapPerm bits;
//             cap0 the CNode (Read) holding the Frame caps in slots
//             first..first+count-1
//   Unmap:    mr0 va, mr1 length
//   Protect:  mr0 va, mr1 length, mr2 MapPerm bits; W only for pages that
//             were mapped writable (IllegalOperation otherwise): the frame
//             cap's rights stay the limit
//   CopyRange: invoked: the source; cap0 the destination VSpace; mr0 va,
//             mr1 length, mr2 CopyMode; reply mr0 pages copied, mr1 pages
//             made copy-on-write
//   Lookup:   mr0 va; reply mr0 frame address, mr1 MapPerm bits, mr2 COW,
//             mr3 mapping count of the frame
//   CopyPage: mr0 va, mr1 MapPerm bits; cap0 a Frame: the page at va is
//             copied into it and va remapped to it (the copy-on-write
//             fault's work in one call); reply mr0 the old frame's address
//   Scan:     mr0 va, mr1 length, mr2 ScanFlag bits, mr3 threshold; reply
//             mr0 where the scan stopped, mr1 mapped pages visited, mr2 n,
//             mr3.. n entries (frames, or with ReportAddresses virtual
//             addresses, of the pages whose frame's count is <= threshold)
//   FrameGetInfo: reply mr0 physical address, mr1 mapping count
#include <algorithm>
#include <cstring>

#include "kernel/invoke.h"
#include "kernel/vm.h"

namespace kern {
namespace {

constexpr uint64_t kMaxMapCount = 256;  // the frame list lives on the kernel stack

using sv39::Perm;

Result<Perm> user_perm(uint64_t bits, const Capability* frame) {
  if (bits == 0 || bits > 7) return fail(Error::InvalidArgument);
  Perm perm = Perm::U;
  if (bits & uint64_t(uapi::MapPerm::Read)) perm = perm | Perm::R;
  if (bits & uint64_t(uapi::MapPerm::Write)) perm = perm | Perm::W;
  if (bits & uint64_t(uapi::MapPerm::Execute)) perm = perm | Perm::X;
  // Sv39 reserves W without R.
  if (has(perm, Perm::W) && !has(perm, Perm::R)) return fail(Error::InvalidArgument);
  if (frame != nullptr) {
    if (has(perm, Perm::W) && !uapi::has(frame->rights(), Rights::Write)) return fail(Error::IllegalOperation);
    if (!uapi::has(frame->rights(), Rights::Read)) return fail(Error::IllegalOperation);
  }
  return perm;
}

uint64_t perm_bits(Perm perm) {
  return (has(perm, Perm::R) ? uint64_t(uapi::MapPerm::Read) : 0) |
         (has(perm, Perm::W) ? uint64_t(uapi::MapPerm::Write) : 0) |
         (has(perm, Perm::X) ? uint64_t(uapi::MapPerm::Execute) : 0);
}

Result<Slot*> vspace_cap(Invocation& inv, size_t index) {
  Slot* slot = TRY(inv.extra_cap(index));
  if (slot->cap.type() != ObjectType::VSpace) return fail(Error::InvalidCapability);
  return slot;
}

Status set_table_pool(Invocation& inv) {
  Slot* untyped = TRY(inv.extra_cap(0));
  if (untyped->cap.type() != ObjectType::Untyped) return fail(Error::InvalidCapability);
  if (untyped->cap.untyped_device() || has_descendants(*untyped)) return fail(Error::IllegalOperation);
  VSpaceMeta& meta = vspace_meta(inv.cap());
  if (!meta.pool_slot.empty()) return fail(Error::DeleteFirst);
  const uint64_t size = uint64_t{1} << untyped->cap.untyped_size_bits();
  if (size < kPageSize) return fail(Error::InvalidArgument);
  // No children, but a frame once made from it may still be mapped: as
  // page-table memory, that mapping would let user space write PTEs. Its
  // memory is not free yet (the rule can_reset_untyped applies to retype).
  if (frame_table().any_mapped(untyped->cap.object(), size)) return fail(Error::IllegalOperation);
  TRY(cap_move(*untyped, meta.pool_slot));
  meta.pool = TablePoolState{};
  meta.pool.base = meta.pool_slot.cap.object();
  meta.pool.size = size;
  pool_attach(inv.cap().object());
  return {};
}

Status map(Invocation& inv) {
  const uint64_t va = TRY(inv.mr(0));
  const uint64_t first = TRY(inv.mr(1));
  const uint64_t count = TRY(inv.mr(2));
  const uint64_t bits = TRY(inv.mr(3));
  Slot* cnode = TRY(inv.extra_cap(0));
  if (cnode->cap.type() != ObjectType::CNode) return fail(Error::InvalidCapability);
  if (!uapi::has(cnode->cap.rights(), Rights::Read)) return fail(Error::IllegalOperation);
  if (count == 0 || count > kMaxMapCount) return fail(Error::RangeError);
  PhysAddr frames[kMaxMapCount];
  Perm perm = Perm::None;
  for (uint64_t i = 0; i < count; ++i) {
    Slot* slot = TRY(cnode_lookup(cnode->cap, first + i));
    if (slot->cap.type() != ObjectType::Frame) return fail(Error::InvalidCapability);
    perm = TRY(user_perm(bits, &slot->cap));
    frames[i] = slot->cap.object();
  }
  return user_space(inv.cap()).map(VirtAddr(va), std::span<const PhysAddr>(frames, count), perm);
}

Status copy_range(Invocation& inv) {
  Slot* dst = TRY(vspace_cap(inv, 0));
  if (!uapi::has(dst->cap.rights(), Rights::Write)) return fail(Error::IllegalOperation);
  const uint64_t va = TRY(inv.mr(0));
  const uint64_t length = TRY(inv.mr(1));
  const uint64_t mode = TRY(inv.mr(2));
  if (mode != uint64_t(uapi::CopyMode::Cow) && mode != uint64_t(uapi::CopyMode::Share)) {
    return fail(Error::InvalidArgument);
  }
  UserSpace destination = user_space(dst->cap);
  const CopyStats stats = TRY(user_space(inv.cap())
                                  .copy_range(destination, VirtAddr(va), length, static_cast<CopyMode>(mode)));
  inv.reply(0, stats.pages);
  inv.reply(1, stats.made_cow);
  return {};
}

Status copy_page(Invocation& inv) {
  const uint64_t va = TRY(inv.mr(0));
  Slot* frame = TRY(inv.extra_cap(0));
  if (frame->cap.type() != ObjectType::Frame) return fail(Error::InvalidCapability);
  const Perm perm = TRY(user_perm(TRY(inv.mr(1)), &frame->cap));
  if (!is_aligned(va, kPageSize)) return fail(Error::AlignmentError);
  UserSpace space = user_space(inv.cap());
  const PageInfo old = TRY(space.lookup(VirtAddr(va)));
  if (old.frame == frame->cap.object()) return fail(Error::InvalidArgument);
  // Every check is done: replace_page cannot fail now, so the copy below
  // never lands in a frame whose invocation then reports an error.
  std::memcpy(phys_to_ptr<uint8_t>(frame->cap.object()), phys_to_ptr<const uint8_t>(old.frame), kPageSize);
  inv.reply(0, TRY(space.replace_page(VirtAddr(va), frame->cap.object(), perm)).value());
  return {};
}

static_assert(uint64_t(uapi::ScanFlag::Unmap) == uint64_t(ScanFlag::Unmap));
static_assert(uint64_t(uapi::ScanFlag::ReportAddresses) == uint64_t(ScanFlag::ReportAddresses));

// Rights first: Write with Unmap, else Read. A missing mr2 counts as no
// Unmap here; TruncatedMessage follows at once.
Status scan(Invocation& inv) {
  const uint64_t unmap_bit = inv.mr(2).value_or(0) & uint64_t(uapi::ScanFlag::Unmap);
  TRY(require_rights(inv, unmap_bit != 0 ? Rights::Write : Rights::Read));
  const uint64_t va = TRY(inv.mr(0));
  const uint64_t length = TRY(inv.mr(1));
  const uint64_t flags = TRY(inv.mr(2));
  const uint64_t threshold = TRY(inv.mr(3));
  // No more entries than reach the caller: one without an IPC buffer.
  constexpr size_t kFirstEntry = 3;
  uint64_t entries[uapi::kScanMaxReport];
  const size_t room = std::min(uapi::kScanMaxReport, inv.reply_capacity() - kFirstEntry);
  const ScanResult r = TRY(user_space(inv.cap()).scan(VirtAddr(va), length, flags, threshold,
                                                      std::span<uint64_t>(entries, room)));
  inv.reply(0, r.next.value());
  inv.reply(1, r.visited);
  inv.reply(2, r.reported);
  for (size_t i = 0; i < r.reported; ++i) inv.reply(kFirstEntry + i, entries[i]);
  return {};
}

}  // namespace

Status invoke_vspace(Invocation& inv) {
  if (inv.label() == uapi::Label::VSpaceScan) return scan(inv);
  if (inv.label() == uapi::Label::VSpaceLookup) {
    TRY(require_rights(inv, Rights::Read));
    const PageInfo info = TRY(user_space(inv.cap()).lookup(VirtAddr(TRY(inv.mr(0)))));
    inv.reply(0, info.frame.value());
    inv.reply(1, perm_bits(info.perm));
    inv.reply(2, info.cow ? 1 : 0);
    inv.reply(3, info.map_count);
    return {};
  }
  TRY(require_rights(inv, Rights::Write));
  switch (inv.label()) {
    case uapi::Label::VSpaceSetTablePool:
      return set_table_pool(inv);
    case uapi::Label::VSpaceMap:
      return map(inv);
    case uapi::Label::VSpaceUnmap: {
      const uint64_t va = TRY(inv.mr(0));
      inv.reply(0, TRY(user_space(inv.cap()).unmap(VirtAddr(va), TRY(inv.mr(1)))));
      return {};
    }
    case uapi::Label::VSpaceProtect: {
      const uint64_t va = TRY(inv.mr(0));
      const uint64_t length = TRY(inv.mr(1));
      const Perm perm = TRY(user_perm(TRY(inv.mr(2)), nullptr));
      inv.reply(0, TRY(user_space(inv.cap()).protect(VirtAddr(va), length, perm)));
      return {};
    }
    case uapi::Label::VSpaceCopyRange:
      return copy_range(inv);
    case uapi::Label::VSpaceCopyPage:
      return copy_page(inv);
    default:
      return fail(Error::IllegalOperation);
  }
}

Status invoke_frame(Invocation& inv) {
  TRY(require_rights(inv, Rights::Read));
  inv.reply(0, inv.cap().object().value());
  inv.reply(1, frame_table().map_count(inv.cap().object()));
  return {};
}

}  // namespace kern
