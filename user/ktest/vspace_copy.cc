// VSpace invocations, part 2: copying mappings between address spaces, the
// mechanism behind fork. CopyRange in COW mode makes writable pages
// read-only and marks them copy-on-write on both sides; SHARE copies the
// entries as they are. CopyPage does a COW fault's work in one call. The
// results are read back with Lookup (frame, permissions, COW mark, mapping
// count) and FrameGetInfo.
#include "ktest.h"

namespace {

using namespace kt;

constexpr uint64_t kVa = 0x20'0000;

uint64_t paddr_of(uint64_t frame) { return frame_info(frame).mr[0]; }
uint64_t map_count_of(uint64_t frame) { return frame_info(frame).mr[1]; }

// src: pages 0, 1 writable, page 2 read-only (text), page 3 a hole, page 4 writable.
struct Source {
  uint64_t vspace;
  uint64_t frames;  // 5 frames, frame i for page i (frame 3 unused)
};

Result<Source> make_source(Test& t) {
  Source s;
  s.vspace = TRY_RESULT(t.make_vspace());
  s.frames = TRY_RESULT(t.make(ObjectType::Frame, 0, 5));
  TRY_ERROR(map(s.vspace, kVa, s.frames, 2, kRW));
  TRY_ERROR(map(s.vspace, kVa + 2 * kPage, s.frames + 2, 1, kR | kX));
  TRY_ERROR(map(s.vspace, kVa + 4 * kPage, s.frames + 4, 1, kRW));
  return s;
}

KTEST(vspace, copy_range_cow) {
  const Source src = KT_TRY(make_source(t));
  const uint64_t dst = KT_TRY(t.make_vspace());
  const os::Reply r = copy_range(src.vspace, dst, kVa, 5 * kPage, uapi::CopyMode::Cow);
  CHECK_OK(r);
  CHECK_EQ(r.mr[0], 4);  // pages copied
  CHECK_EQ(r.mr[1], 3);  // writable pages made copy-on-write
  for (uint64_t p : {uint64_t{0}, uint64_t{1}, uint64_t{4}}) {
    const os::Reply a = lookup(src.vspace, kVa + p * kPage);
    const os::Reply b = lookup(dst, kVa + p * kPage);
    CHECK_EQ(a.mr[0], paddr_of(src.frames + p));
    CHECK_EQ(b.mr[0], a.mr[0]);  // the same frame, no data copied
    CHECK_EQ(a.mr[1], kR);       // read-only on both sides...
    CHECK_EQ(b.mr[1], kR);
    CHECK_EQ(a.mr[2], 1);        // ...and marked copy-on-write
    CHECK_EQ(b.mr[2], 1);
    CHECK_EQ(b.mr[3], 2);        // two mappings
  }
  // Read-only text is shared as it is, not marked.
  const os::Reply text = lookup(dst, kVa + 2 * kPage);
  CHECK_EQ(text.mr[1], kR | kX);
  CHECK_EQ(text.mr[2], 0);
  CHECK_EQ(map_count_of(src.frames + 2), 2);
  CHECK_ERR(lookup(dst, kVa + 3 * kPage), Error::FailedLookup);  // the hole stays one
  // Copying a COW page again (a second fork) keeps it COW, three mappings.
  const uint64_t third = KT_TRY(t.make_vspace());
  const os::Reply again = copy_range(dst, third, kVa, kPage, uapi::CopyMode::Cow);
  CHECK_EQ(again.mr[0], 1);
  CHECK_EQ(again.mr[1], 0);  // already read-only: nothing newly made COW
  CHECK_EQ(lookup(third, kVa).mr[2], 1);
  CHECK_EQ(map_count_of(src.frames), 3);
  // Protect back to writable clears the mark (the last owner's fault path).
  CHECK_EQ(protect(third, kVa, kPage, kRW).mr[0], 1);
  const os::Reply owned = lookup(third, kVa);
  CHECK_EQ(owned.mr[1], kRW);
  CHECK_EQ(owned.mr[2], 0);
  // Destroying a copy drops its counts.
  CHECK_OK(del(third));
  CHECK_OK(del(dst));
  CHECK_EQ(map_count_of(src.frames), 1);
  CHECK_EQ(map_count_of(src.frames + 2), 1);
}

KTEST(vspace, copy_range_share) {
  const Source src = KT_TRY(make_source(t));
  const uint64_t dst = KT_TRY(t.make_vspace());
  const os::Reply r = copy_range(src.vspace, dst, kVa, 5 * kPage, uapi::CopyMode::Share);
  CHECK_OK(r);
  CHECK_EQ(r.mr[0], 4);
  CHECK_EQ(r.mr[1], 0);
  for (uint64_t p : {uint64_t{0}, uint64_t{1}, uint64_t{2}, uint64_t{4}}) {
    const os::Reply a = lookup(src.vspace, kVa + p * kPage);
    const os::Reply b = lookup(dst, kVa + p * kPage);
    CHECK_EQ(b.mr[0], a.mr[0]);
    CHECK_EQ(b.mr[1], a.mr[1]);  // same permissions, writable stays writable
    CHECK_EQ(a.mr[2], 0);
    CHECK_EQ(b.mr[2], 0);
    CHECK_EQ(b.mr[3], 2);
  }
  CHECK_EQ(lookup(src.vspace, kVa).mr[1], kRW);
  // Shared with the root task too: a write there is the same memory.
  const uint64_t root_va = t.va(1);
  CHECK_OK(map(kRootVSpace, root_va, src.frames, 1, kRW));
  *reinterpret_cast<volatile uint64_t*>(root_va) = 0x5ca1ab1e;
  CHECK_EQ(lookup(dst, kVa).mr[0], lookup(kRootVSpace, root_va).mr[0]);
  CHECK_EQ(map_count_of(src.frames), 3);
  // Partial range: only pages inside it.
  const uint64_t other = KT_TRY(t.make_vspace());
  CHECK_EQ(copy_range(src.vspace, other, kVa + kPage, 2 * kPage, uapi::CopyMode::Share).mr[0], 2);
  CHECK_ERR(lookup(other, kVa), Error::FailedLookup);
  // An empty range copies nothing.
  CHECK_EQ(copy_range(src.vspace, other, 0x4000'0000, 16 * kPage, uapi::CopyMode::Share).mr[0], 0);
}

KTEST(vspace, copy_range_errors) {
  const Source src = KT_TRY(make_source(t));
  const uint64_t dst = KT_TRY(t.make_vspace());
  const uapi::CopyMode cow = uapi::CopyMode::Cow;
  CHECK_OK(copy_range(src.vspace, dst, kVa, kPage, cow));
  // Anything mapped in the destination range: DeleteFirst, nothing copied.
  CHECK_ERR(copy_range(src.vspace, dst, kVa, 2 * kPage, cow), Error::DeleteFirst);
  CHECK_ERR(lookup(dst, kVa + kPage), Error::FailedLookup);
  CHECK_EQ(lookup(src.vspace, kVa + kPage).mr[1], kRW);  // source untouched as well
  // Into itself, bad modes.
  CHECK_ERR(copy_range(src.vspace, src.vspace, kVa, kPage, cow), Error::InvalidArgument);
  CHECK_ERR(call(src.vspace, Label::VSpaceCopyRange, {kVa, kPage, 0}, {dst}), Error::InvalidArgument);
  CHECK_ERR(call(src.vspace, Label::VSpaceCopyRange, {kVa, kPage, 3}, {dst}), Error::InvalidArgument);
  // Ranges.
  CHECK_ERR(copy_range(src.vspace, dst, kVa + 8, kPage, cow), Error::AlignmentError);
  CHECK_ERR(copy_range(src.vspace, dst, kVa, 10, cow), Error::AlignmentError);
  CHECK_ERR(copy_range(src.vspace, dst, kVa, 0, cow), Error::RangeError);
  CHECK_ERR(copy_range(src.vspace, dst, kUserTop, kPage, cow), Error::RangeError);
  CHECK_ERR(copy_range(src.vspace, dst, 0xffff'ffc0'0000'0000, kPage, cow), Error::RangeError);
  // The destination: a VSpace with Write.
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  CHECK_ERR(copy_range(src.vspace, frame, kVa + kPage, kPage, cow), Error::InvalidCapability);
  const uint64_t ro = t.slot();
  CHECK_OK(copy(ro, dst, Rights::Read));
  CHECK_ERR(copy_range(src.vspace, ro, kVa + kPage, kPage, cow), Error::IllegalOperation);
  CHECK_ERR(copy_range(ro, src.vspace, kVa + kPage, kPage, cow), Error::IllegalOperation);
  CHECK_ERR(call(src.vspace, Label::VSpaceCopyRange, {kVa, kPage, 1}), Error::TruncatedMessage);
  CHECK_ERR(call(src.vspace, Label::VSpaceCopyRange, {kVa, kPage}, {dst}), Error::TruncatedMessage);
  // The destination's pool must hold the tables: one page is not enough.
  const uint64_t small = KT_TRY(t.make_vspace(12));
  CHECK_ERR(copy_range(src.vspace, small, kVa, 5 * kPage, cow), Error::NotEnoughMemory);
  CHECK_EQ(lookup(src.vspace, kVa + kPage).mr[2], 0);  // nothing became COW
  // A destination without a pool at all.
  const uint64_t no_pool = KT_TRY(t.make(ObjectType::VSpace));
  CHECK_ERR(copy_range(src.vspace, no_pool, kVa, kPage, cow), Error::NotEnoughMemory);
}

// CopyPage: the copy-on-write fault's work. The page at va is copied into
// a fresh frame which replaces it there, writable and no longer COW; the
// other side keeps the old frame.
KTEST(vspace, copy_page) {
  const Source src = KT_TRY(make_source(t));
  // Content, written through a root-task mapping of the frame.
  const uint64_t root_va = t.va(1);
  CHECK_OK(map(kRootVSpace, root_va, src.frames, 1, kR | kW));
  auto* words = reinterpret_cast<volatile uint64_t*>(root_va);
  for (uint64_t i = 0; i < kPage / 8; ++i) words[i] = 0xc0de'0000'0000 + i;
  const uint64_t child = KT_TRY(t.make_vspace());
  CHECK_OK(copy_range(src.vspace, child, kVa, 2 * kPage, uapi::CopyMode::Cow));
  CHECK_EQ(map_count_of(src.frames), 3);

  const uint64_t fresh = KT_TRY(t.make(ObjectType::Frame));
  const os::Reply r = copy_page(child, kVa, kRW, fresh);
  CHECK_OK(r);
  CHECK_EQ(r.mr[0], paddr_of(src.frames));  // the old frame
  const os::Reply page = lookup(child, kVa);
  CHECK_EQ(page.mr[0], paddr_of(fresh));
  CHECK_EQ(page.mr[1], kRW);
  CHECK_EQ(page.mr[2], 0);
  CHECK_EQ(page.mr[3], 1);
  CHECK_EQ(map_count_of(src.frames), 2);  // the source and the root task
  CHECK_EQ(lookup(src.vspace, kVa).mr[2], 1);  // the source side is still COW
  // The data came along.
  const uint64_t check_va = t.va(1);
  CHECK_OK(map(kRootVSpace, check_va, fresh, 1, kR));
  const auto* copied = reinterpret_cast<const volatile uint64_t*>(check_va);
  for (uint64_t i = 0; i < kPage / 8; ++i) CHECK_EQ(copied[i], 0xc0de'0000'0000 + i);

  // Errors: nothing mapped there, the same frame, not a frame, rights, perms.
  const uint64_t other = KT_TRY(t.make(ObjectType::Frame));
  CHECK_ERR(copy_page(child, kVa + 8 * kPage, kRW, other), Error::FailedLookup);
  CHECK_ERR(copy_page(child, kVa, kRW, fresh), Error::InvalidArgument);
  CHECK_ERR(copy_page(child, kVa + kPage, kRW, child), Error::InvalidCapability);
  CHECK_ERR(copy_page(child, kVa + kPage, 0, other), Error::InvalidArgument);
  CHECK_ERR(copy_page(child, kVa + kPage, kW, other), Error::InvalidArgument);
  const uint64_t ro = t.slot();
  CHECK_OK(copy(ro, other, Rights::Read));
  CHECK_ERR(copy_page(child, kVa + kPage, kRW, ro), Error::IllegalOperation);
  CHECK_ERR(copy_page(child, kUserTop, kRW, other), Error::FailedLookup);
  CHECK_ERR(call(child, Label::VSpaceCopyPage, {kVa + kPage, kRW}), Error::TruncatedMessage);
  CHECK_ERR(call(child, Label::VSpaceCopyPage, {kVa + kPage}, {other}), Error::TruncatedMessage);
  CHECK_EQ(lookup(child, kVa + kPage).mr[2], 1);  // untouched by the failures
  // A read-only frame cap can still take a read-only copy.
  CHECK_OK(copy_page(child, kVa + kPage, kR, ro));
  CHECK_EQ(lookup(child, kVa + kPage).mr[1], kR);
}

}  // namespace
