// VSpace and Frame invocations, part 1: a second address space (a VSpace
// with an Untyped as its table pool), Map with permissions, Unmap, Protect,
// Lookup, FrameGetInfo mapping counts, and their errors. Copying between
// address spaces (CopyRange COW/SHARE, CopyPage) is in vspace_copy.cc.
#include "ktest.h"

namespace {

using namespace kt;

constexpr uint64_t kVa = 0x20'0000;  // 2 MiB: a fresh leaf table

uint64_t paddr_of(uint64_t frame) { return frame_info(frame).mr[0]; }
uint64_t map_count_of(uint64_t frame) { return frame_info(frame).mr[1]; }

KTEST(vspace, map_lookup_unmap) {
  const uint64_t vs = KT_TRY(t.make_vspace());
  const uint64_t frames = KT_TRY(t.make(ObjectType::Frame, 0, 3));
  CHECK_EQ(map_count_of(frames), 0);
  CHECK_OK(map(vs, kVa, frames, 3, kRW));
  for (uint64_t i = 0; i < 3; ++i) {
    const os::Reply page = lookup(vs, kVa + i * kPage);
    CHECK_OK(page);
    CHECK_EQ(page.mr[0], paddr_of(frames + i));
    CHECK_EQ(page.mr[1], kRW);
    CHECK_EQ(page.mr[2], 0);  // not copy-on-write
    CHECK_EQ(page.mr[3], 1);  // one mapping
    CHECK_EQ(map_count_of(frames + i), 1);
  }
  CHECK_ERR(lookup(vs, kVa + 3 * kPage), Error::FailedLookup);
  CHECK_ERR(lookup(vs, kVa - kPage), Error::FailedLookup);
  // Lookup works on any address in the page; beyond the user half nothing is mapped.
  CHECK_EQ(lookup(vs, kVa + kPage + 123).mr[0], paddr_of(frames + 1));
  CHECK_ERR(lookup(vs, kUserTop), Error::FailedLookup);
  CHECK_ERR(lookup(vs, ~uint64_t{0}), Error::FailedLookup);
  // Unmap the middle page, then the whole range (holes are fine).
  const os::Reply middle = unmap(vs, kVa + kPage, kPage);
  CHECK_OK(middle);
  CHECK_EQ(middle.mr[0], 1);
  CHECK_ERR(lookup(vs, kVa + kPage), Error::FailedLookup);
  CHECK_EQ(map_count_of(frames + 1), 0);
  CHECK_EQ(unmap(vs, kVa, 3 * kPage).mr[0], 2);
  CHECK_EQ(unmap(vs, kVa, 3 * kPage).mr[0], 0);
  for (uint64_t i = 0; i < 3; ++i) CHECK_EQ(map_count_of(frames + i), 0);
  // The frames can be mapped again, elsewhere, with other permissions.
  CHECK_OK(map(vs, 0x4000'0000, frames, 1, kR | kX));
  CHECK_EQ(lookup(vs, 0x4000'0000).mr[1], kR | kX);
  CHECK_OK(map(vs, kUserTop - kPage, frames + 1, 1, kR));  // the last user page
  CHECK_EQ(lookup(vs, kUserTop - kPage).mr[0], paddr_of(frames + 1));
}

KTEST(vspace, map_errors) {
  const uint64_t vs = KT_TRY(t.make_vspace());
  const uint64_t frames = KT_TRY(t.make(ObjectType::Frame, 0, 2));
  CHECK_OK(map(vs, kVa, frames, 1, kRW));
  // Something mapped in the way, even partly.
  CHECK_ERR(map(vs, kVa, frames, 1, kRW), Error::DeleteFirst);
  CHECK_ERR(map(vs, kVa - kPage, frames, 2, kRW), Error::DeleteFirst);
  CHECK_ERR(lookup(vs, kVa - kPage), Error::FailedLookup);  // all or nothing
  // Addresses: misaligned, beyond the user half, kernel half, running past the top.
  CHECK_ERR(map(vs, kVa + 0x800, frames + 1, 1, kRW), Error::AlignmentError);
  CHECK_ERR(map(vs, kVa + 1, frames + 1, 1, kRW), Error::AlignmentError);
  CHECK_ERR(map(vs, kUserTop, frames + 1, 1, kRW), Error::RangeError);
  CHECK_ERR(map(vs, 0xffff'ffc0'0000'0000, frames + 1, 1, kRW), Error::RangeError);
  CHECK_ERR(map(vs, 0xffff'ffff'ffff'f000, frames + 1, 1, kRW), Error::RangeError);
  CHECK_ERR(map(vs, kUserTop - kPage, frames, 2, kRW), Error::RangeError);
  // Counts.
  CHECK_ERR(map(vs, 0x40'0000, frames + 1, 0, kRW), Error::RangeError);
  CHECK_ERR(map(vs, 0x40'0000, frames + 1, 257, kRW), Error::RangeError);
  // Permissions: none, unknown bits, W without R, W+X without R.
  for (uint64_t perm : {uint64_t{0}, uint64_t{8}, kW, kW | kX, uint64_t{0xff}}) {
    CHECK_ERR(map(vs, 0x40'0000, frames + 1, 1, perm), Error::InvalidArgument);
  }
  // The frame cap's rights bound the mapping.
  const uint64_t ro = t.slot(), none = t.slot();
  CHECK_OK(copy(ro, frames + 1, Rights::Read));
  CHECK_OK(copy(none, frames + 1, Rights::Write));
  CHECK_ERR(map(vs, 0x40'0000, ro, 1, kRW), Error::IllegalOperation);
  CHECK_ERR(map(vs, 0x40'0000, none, 1, kR), Error::IllegalOperation);
  // The CNode the frames are named in needs Read.
  const uint64_t wo_cnode = t.slot();
  CHECK_OK(copy(wo_cnode, kRootCNode, Rights::Write));
  CHECK_ERR(map(vs, 0x40'0000, frames + 1, 1, kR, wo_cnode), Error::IllegalOperation);
  CHECK_ERR(lookup(vs, 0x40'0000), Error::FailedLookup);
  // Not frames: another object, an empty slot, slots beyond the CNode.
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  CHECK_ERR(map(vs, 0x40'0000, ep, 1, kR), Error::InvalidCapability);
  CHECK_ERR(map(vs, 0x40'0000, t.slot(), 1, kR), Error::InvalidCapability);
  const uint64_t beyond = uint64_t{1} << env().info->root_cnode_radix;
  CHECK_ERR(map(vs, 0x40'0000, beyond, 1, kR), Error::RangeError);
  CHECK_ERR(map(vs, 0x40'0000, 0, 1, kR), Error::RangeError);
  // The CNode argument.
  CHECK_ERR(map(vs, 0x40'0000, frames + 1, 1, kR, ep), Error::InvalidCapability);
  CHECK_ERR(call(vs, Label::VSpaceMap, {0x40'0000, frames + 1, 1, kR}), Error::TruncatedMessage);
  CHECK_ERR(call(vs, Label::VSpaceMap, {0x40'0000, frames + 1, 1}, {kRootCNode}), Error::TruncatedMessage);
  // The VSpace cap's rights: Write to change, Read to look up.
  const uint64_t vs_ro = t.slot(), vs_wo = t.slot();
  CHECK_OK(copy(vs_ro, vs, Rights::Read));
  CHECK_OK(copy(vs_wo, vs, Rights::Write));
  CHECK_ERR(map(vs_ro, 0x40'0000, ro, 1, kR), Error::IllegalOperation);
  CHECK_ERR(unmap(vs_ro, kVa, kPage), Error::IllegalOperation);
  CHECK_ERR(protect(vs_ro, kVa, kPage, kR), Error::IllegalOperation);
  CHECK_ERR(lookup(vs_wo, kVa), Error::IllegalOperation);
  CHECK_OK(lookup(vs_ro, kVa));
  CHECK_ERR(call(vs, Label::VSpaceLookup, {}), Error::TruncatedMessage);
  // After all these, only the first mapping exists.
  CHECK_ERR(lookup(vs, 0x40'0000), Error::FailedLookup);
  CHECK_EQ(map_count_of(frames + 1), 0);
  CHECK_EQ(map_count_of(frames), 1);
}

KTEST(vspace, unmap_protect_errors) {
  const uint64_t vs = KT_TRY(t.make_vspace());
  CHECK_ERR(unmap(vs, kVa + 4, kPage), Error::AlignmentError);
  CHECK_ERR(unmap(vs, kVa, 100), Error::AlignmentError);
  CHECK_ERR(unmap(vs, kVa, 0), Error::RangeError);
  CHECK_ERR(unmap(vs, kUserTop, kPage), Error::RangeError);
  CHECK_ERR(unmap(vs, kUserTop - kPage, 2 * kPage), Error::RangeError);
  CHECK_ERR(unmap(vs, 0, ~uint64_t{0} & ~(kPage - 1)), Error::RangeError);
  CHECK_ERR(call(vs, Label::VSpaceUnmap, {kVa}), Error::TruncatedMessage);
  CHECK_ERR(protect(vs, kVa + 4, kPage, kR), Error::AlignmentError);
  CHECK_ERR(protect(vs, kVa, 0, kR), Error::RangeError);
  CHECK_ERR(protect(vs, 0xffff'ffc0'0000'0000, kPage, kR), Error::RangeError);
  CHECK_ERR(protect(vs, kVa, kPage, 0), Error::InvalidArgument);
  CHECK_ERR(protect(vs, kVa, kPage, kW), Error::InvalidArgument);
  CHECK_ERR(call(vs, Label::VSpaceProtect, {kVa, kPage}), Error::TruncatedMessage);
  // Whole user half, nothing mapped: nothing to do.
  CHECK_EQ(unmap(vs, 0, kUserTop).mr[0], 0);
  CHECK_EQ(protect(vs, 0, kUserTop, kR).mr[0], 0);
}

KTEST(vspace, protect) {
  const uint64_t vs = KT_TRY(t.make_vspace());
  const uint64_t frames = KT_TRY(t.make(ObjectType::Frame, 0, 4));
  CHECK_OK(map(vs, kVa, frames, 2, kRW));
  CHECK_OK(map(vs, kVa + 3 * kPage, frames + 3, 1, kRW));  // a hole at page 2
  const os::Reply r = protect(vs, kVa, 4 * kPage, kR);
  CHECK_OK(r);
  CHECK_EQ(r.mr[0], 3);  // mapped pages in the range
  for (uint64_t p : {uint64_t{0}, uint64_t{1}, uint64_t{3}}) CHECK_EQ(lookup(vs, kVa + p * kPage).mr[1], kR);
  CHECK_ERR(lookup(vs, kVa + 2 * kPage), Error::FailedLookup);  // holes stay holes
  CHECK_EQ(protect(vs, kVa, kPage, kR | kX).mr[0], 1);
  CHECK_EQ(lookup(vs, kVa).mr[1], kR | kX);
  // Back to writable: these pages were mapped writable.
  CHECK_EQ(protect(vs, kVa, 4 * kPage, kRW).mr[0], 3);
  CHECK_EQ(lookup(vs, kVa + kPage).mr[1], kRW);
  // A page mapped from a read-only frame cap cannot be made writable by
  // Protect (it names no frame cap, but the rights stay the limit).
  const uint64_t ro = t.slot();
  CHECK_OK(copy(ro, frames + 2, Rights::Read));
  CHECK_OK(map(vs, kVa + 2 * kPage, ro, 1, kR));
  CHECK_ERR(protect(vs, kVa, 4 * kPage, kRW), Error::IllegalOperation);
  CHECK_EQ(lookup(vs, kVa).mr[1], kRW);  // nothing changed, not even the other pages
  CHECK_EQ(lookup(vs, kVa + 2 * kPage).mr[1], kR);
  CHECK_EQ(protect(vs, kVa + 2 * kPage, kPage, kR | kX).mr[0], 1);
}

KTEST(vspace, frame_info) {
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  const os::Reply info = frame_info(frame);
  CHECK_OK(info);
  CHECK_EQ(info.info.length(), 2);
  CHECK_EQ(info.mr[0] % kPage, 0);
  CHECK_EQ(info.mr[1], 0);
  // One count per mapping, whichever address space.
  const uint64_t a = KT_TRY(t.make_vspace());
  const uint64_t b = KT_TRY(t.make_vspace());
  CHECK_OK(map(a, kVa, frame, 1, kR));
  CHECK_OK(map(a, kVa + kPage, frame, 1, kR));  // twice in one space
  CHECK_OK(map(b, kVa, frame, 1, kRW));
  const uint64_t root_va = t.va(1);
  CHECK_OK(map(kRootVSpace, root_va, frame, 1, kR));
  CHECK_EQ(map_count_of(frame), 4);
  CHECK_EQ(lookup(b, kVa).mr[3], 4);
  CHECK_EQ(unmap(a, kVa, 2 * kPage).mr[0], 2);
  CHECK_EQ(map_count_of(frame), 2);
  // Destroying an address space drops the counts of what it mapped.
  CHECK_OK(del(b));
  CHECK_EQ(map_count_of(frame), 1);
  // Rights: FrameGetInfo needs Read.
  const uint64_t wo = t.slot();
  CHECK_OK(copy(wo, frame, Rights::Write));
  CHECK_ERR(frame_info(wo), Error::IllegalOperation);
  // The boot info and IPC buffer frames are mapped once, in the root task.
  CHECK_EQ(map_count_of(kBootInfoFrame), 1);
  CHECK_EQ(map_count_of(kRootIpcFrame), 1);
  CHECK_EQ(paddr_of(kRootIpcFrame), lookup(kRootVSpace, env().info->ipc_buffer).mr[0]);
}

// --- the table pool ---------------------------------------------------------

KTEST(vspace, set_pool_errors) {
  const uint64_t vs = KT_TRY(t.make(ObjectType::VSpace));
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  // No pool yet: nothing can be mapped.
  CHECK_ERR(map(vs, kVa, frame, 1, kR), Error::NotEnoughMemory);
  CHECK_ERR(set_pool(vs, frame), Error::InvalidCapability);
  CHECK_ERR(set_pool(vs, t.slot()), Error::FailedLookup);
  CHECK_ERR(call(vs, Label::VSpaceSetTablePool, {}), Error::TruncatedMessage);
  // Smaller than a page.
  const uint64_t tiny = KT_TRY(t.make_untyped(4));
  CHECK_ERR(set_pool(vs, tiny), Error::InvalidArgument);
  // An Untyped with children: its memory is in use.
  const uint64_t parent = KT_TRY(t.make_untyped(14));
  CHECK_OK(retype(parent, ObjectType::Frame, 0, 1, t.slot()));
  CHECK_ERR(set_pool(vs, parent), Error::IllegalOperation);
  const uint64_t ro_vs = t.slot();
  CHECK_OK(copy(ro_vs, vs, Rights::Read));
  const uint64_t pool = KT_TRY(t.make_untyped(14));
  CHECK_ERR(set_pool(ro_vs, pool), Error::IllegalOperation);
  CHECK_OK(set_pool(vs, pool));
  // The Untyped moved into the VSpace: its slot is empty now.
  CHECK_ERR(retype(pool, ObjectType::Frame, 0, 1, t.slot()), Error::FailedLookup);
  const uint64_t second = KT_TRY(t.make_untyped(14));
  CHECK_ERR(set_pool(vs, second), Error::DeleteFirst);
  CHECK_OK(map(vs, kVa, frame, 1, kR));
}

// A pool pays for the tables, and runs out.
KTEST(vspace, pool_too_small) {
  const uint64_t frames = KT_TRY(t.make(ObjectType::Frame, 0, 2));
  // One page: a level-1 table, but no leaf table for it.
  const uint64_t one = KT_TRY(t.make_vspace(12));
  CHECK_ERR(map(one, kVa, frames, 1, kR), Error::NotEnoughMemory);
  CHECK_ERR(lookup(one, kVa), Error::FailedLookup);
  CHECK_EQ(map_count_of(frames), 0);
  // Two pages: one 2 MiB region, not a second one in another GiB.
  const uint64_t two = KT_TRY(t.make_vspace(13));
  CHECK_OK(map(two, kVa, frames, 1, kR));
  CHECK_OK(map(two, kVa + kPage, frames + 1, 1, kR));  // same leaf table: free
  CHECK_ERR(map(two, 0x4000'0000, frames, 1, kR), Error::NotEnoughMemory);
  CHECK_ERR(map(two, kVa + 0x20'0000, frames, 1, kR), Error::NotEnoughMemory);
  // Unmapping gives the tables back to the pool: another region fits then.
  CHECK_EQ(unmap(two, kVa, 2 * kPage).mr[0], 2);
  CHECK_OK(map(two, 0x4000'0000, frames, 2, kR));
  // Over and over, without leaking table pages.
  for (uint64_t round = 0; round < 64; ++round) {
    const uint64_t va = (round % 2 == 0 ? 0x1'0000'0000 : 0x8000'0000) + round * 0x20'0000;
    CHECK_EQ(unmap(two, 0, kUserTop).mr[0], 2);
    CHECK_OK(map(two, va, frames, 2, kR));
  }
}

// Up to 256 frames in one call, across leaf tables.
KTEST(vspace, map_many) {
  const uint64_t vs = KT_TRY(t.make_vspace());
  const uint64_t frames = KT_TRY(t.make(ObjectType::Frame, 0, 256));
  const uint64_t va = 0x1f0000;  // crosses the 2 MiB boundary
  CHECK_OK(map(vs, va, frames, 256, kRW));
  for (uint64_t i : {uint64_t{0}, uint64_t{15}, uint64_t{16}, uint64_t{255}}) {
    CHECK_EQ(lookup(vs, va + i * kPage).mr[0], paddr_of(frames + i));
  }
  CHECK_EQ(protect(vs, va, 256 * kPage, kR).mr[0], 256);
  CHECK_EQ(unmap(vs, 0, kUserTop).mr[0], 256);
  CHECK_EQ(map_count_of(frames + 100), 0);
}

// The Untyped that pays for a VSpace's tables lives inside the VSpace, but
// revoking its parent deletes it like any descendant. Then everything made
// from that memory goes: the VSpace loses its tables and mappings (the
// frames' counts drop) and has no pool, and the memory is free for new
// objects, which must not find live page tables in it.
KTEST(vspace, pool_revoked_from_outside) {
  const uint64_t parent = KT_TRY(t.make_untyped(16));
  const uint64_t probe = t.slot();
  CHECK_OK(retype(parent, ObjectType::Frame, 0, 1, probe));
  const uint64_t base = paddr_of(probe);
  CHECK_OK(del(probe));
  const uint64_t pool = t.slot();
  CHECK_OK(retype(parent, ObjectType::Untyped, 15, 1, pool));  // at `base` (parent was empty)
  const uint64_t vs = KT_TRY(t.make(ObjectType::VSpace));
  CHECK_OK(set_pool(vs, pool));
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  CHECK_OK(map(vs, kVa, frame, 1, kRW));
  CHECK_OK(map(vs, 0x20'0000'0000 - kPage, frame, 1, kR));  // tables in another GiB too
  CHECK_EQ(map_count_of(frame), 2);
  CHECK_OK(revoke(parent));
  CHECK_ERR(lookup(vs, kVa), Error::FailedLookup);
  CHECK_EQ(map_count_of(frame), 0);
  CHECK_ERR(map(vs, kVa, frame, 1, kRW), Error::NotEnoughMemory);  // no pool any more
  // The memory is handed out again (zeroed, it holds no tables now)...
  const uint64_t reused = t.slots(16);
  CHECK_OK(retype(parent, ObjectType::Frame, 0, 16, reused));
  CHECK_EQ(paddr_of(reused), base);
  // ...and the VSpace works again with a new pool.
  const uint64_t pool2 = KT_TRY(t.make_untyped(14));
  CHECK_OK(set_pool(vs, pool2));
  CHECK_OK(map(vs, kVa, frame, 1, kRW));
  CHECK_EQ(lookup(vs, kVa).mr[0], paddr_of(frame));
  // Destroying a VSpace that lost its pool this way is fine too.
  const uint64_t vs2 = KT_TRY(t.make(ObjectType::VSpace));
  CHECK_OK(revoke(parent));
  const uint64_t pool3 = t.slot();
  CHECK_OK(retype(parent, ObjectType::Untyped, 14, 1, pool3));
  CHECK_OK(set_pool(vs2, pool3));
  CHECK_OK(map(vs2, kVa, frame, 1, kR));
  CHECK_OK(revoke(parent));
  CHECK_OK(del(vs2));
  CHECK_EQ(map_count_of(frame), 1);
}

// A pool must be free memory: an Untyped whose old frames are still mapped
// somewhere cannot become page tables (the mapping would let user space
// write page-table entries).
KTEST(vspace, pool_refuses_mapped_memory) {
  const uint64_t ut = KT_TRY(t.make_untyped(14));
  const uint64_t frame = t.slot();
  CHECK_OK(retype(ut, ObjectType::Frame, 0, 1, frame));
  const uint64_t va = t.va(1);
  CHECK_OK(map(kRootVSpace, va, frame, 1, kRW));
  CHECK_OK(del(frame));  // the Untyped has no children now, but the page is mapped
  const uint64_t vs = KT_TRY(t.make(ObjectType::VSpace));
  CHECK_ERR(set_pool(vs, ut), Error::IllegalOperation);
  CHECK_EQ(unmap(kRootVSpace, va, kPage).mr[0], 1);
  CHECK_OK(set_pool(vs, ut));
}

}  // namespace
