// VSpace invocations, part 3: VSpaceScan, which lists the mapped pages of a
// range or unmaps them, reporting up to 60 of them per call (the frames
// left unmapped, or the pages' addresses), so that releasing or listing an
// address space costs in proportion to its mapped pages.
#include "ktest.h"

namespace {

using namespace kt;

constexpr uint64_t kUnmap = uint64_t(uapi::ScanFlag::Unmap);
constexpr uint64_t kAddresses = uint64_t(uapi::ScanFlag::ReportAddresses);
constexpr uint64_t kEveryPage = ~uint64_t{0};
constexpr uint64_t kMax = uapi::kScanMaxReport;
constexpr uint64_t kVa = 0x20'0000;  // 2 MiB: a fresh leaf table

uint64_t paddr_of(uint64_t frame) { return frame_info(frame).mr[0]; }
uint64_t map_count_of(uint64_t frame) { return frame_info(frame).mr[1]; }

// 70 pages from kVa - 30 pages: 30 in one leaf table, 40 in the next. A
// stop after 60 reports falls in the middle of the second.
KTEST(vspace, scan_lists_and_unmaps) {
  const uint64_t vs = KT_TRY(t.make_vspace());
  const uint64_t other = KT_TRY(t.make_vspace());
  const uint64_t frames = KT_TRY(t.make(ObjectType::Frame, 0, 70));
  const uint64_t start = kVa - 30 * kPage;
  const uint64_t end = start + 70 * kPage;
  CHECK_OK(map(vs, start, frames, 70, kRW));
  CHECK_OK(map(other, start, frames, 10, kR));  // the first ten frames mapped twice
  const uint64_t ro = t.slot(), wo = t.slot();
  CHECK_OK(copy(ro, vs, Rights::Read));
  CHECK_OK(copy(wo, vs, Rights::Write));

  // Listing with Read: 60 addresses, in order, then the other 10 from where
  // the first call stopped.
  os::Reply r = scan(ro, 0, kUserTop, kAddresses, kEveryPage);
  CHECK_OK(r);
  CHECK_EQ(r.info.length(), 3 + kMax);
  CHECK_EQ(r.mr[0], start + 60 * kPage);
  CHECK_EQ(r.mr[1], 60);
  CHECK_EQ(r.mr[2], 60);
  for (uint64_t i = 0; i < 60; ++i) CHECK_EQ(r.mr[3 + i], start + i * kPage);
  r = scan(ro, r.mr[0], kUserTop - r.mr[0], kAddresses, kEveryPage);
  CHECK_EQ(r.mr[0], kUserTop);
  CHECK_EQ(r.mr[1], 10);
  CHECK_EQ(r.mr[2], 10);
  CHECK_EQ(r.mr[3 + 9], start + 69 * kPage);
  // Frames, with a threshold: count 1 only (the shared ten have 2).
  r = scan(ro, start, 20 * kPage, 0, 1);
  CHECK_EQ(r.mr[1], 20);
  CHECK_EQ(r.mr[2], 10);
  CHECK_EQ(r.mr[3], paddr_of(frames + 10));
  // Read does not unmap; Write alone does not list.
  CHECK_ERR(scan(ro, start, kPage, kUnmap, 0), Error::IllegalOperation);
  CHECK_ERR(scan(wo, start, kPage, 0, 0), Error::IllegalOperation);
  CHECK_EQ(lookup(vs, start).mr[0], paddr_of(frames));

  // Unmapping with threshold 0: the frames no mapping holds any more. The
  // first call stops after its 60th report, at page 69 (the shared ten are
  // not reported), in the middle of the second leaf table.
  r = scan(wo, 0, kUserTop, kUnmap, 0);
  CHECK_OK(r);
  CHECK_EQ(r.mr[0], end);
  CHECK_EQ(r.mr[1], 70);
  CHECK_EQ(r.mr[2], 60);
  for (uint64_t i = 0; i < 60; ++i) CHECK_EQ(r.mr[3 + i], paddr_of(frames + 10 + i));
  for (uint64_t i = 0; i < 70; ++i) CHECK_EQ(map_count_of(frames + i), i < 10 ? 1 : 0);
  CHECK_ERR(lookup(vs, start), Error::FailedLookup);
  // Nothing left: the rest of the range has nothing to visit.
  r = scan(vs, end, kUserTop - end, kUnmap, 0);
  CHECK_EQ(r.mr[0], kUserTop);
  CHECK_EQ(r.mr[1], 0);
  CHECK_EQ(r.mr[2], 0);
  CHECK_EQ(r.info.length(), 3);
  // The other space's scan leaves the shared frames unmapped.
  r = scan(other, 0, kUserTop, kUnmap, 0);
  CHECK_EQ(r.mr[2], 10);
  CHECK_EQ(map_count_of(frames + 9), 0);
}

// A scan that stops in the middle of a leaf table leaves the pages after
// the stop mapped (and their table); going on from the stop finds them.
// Tables it empties go back to the pool: a two-page pool maps again
// elsewhere afterwards.
KTEST(vspace, scan_stops_and_resumes) {
  const uint64_t vs = KT_TRY(t.make_vspace(13));  // a level-1 table and one leaf table
  const uint64_t frames = KT_TRY(t.make(ObjectType::Frame, 0, 100));
  CHECK_OK(map(vs, kVa, frames, 100, kRW));
  os::Reply r = scan(vs, kVa, 0x20'0000, kUnmap, kEveryPage);
  CHECK_EQ(r.mr[0], kVa + 60 * kPage);
  CHECK_EQ(r.mr[1], 60);
  CHECK_EQ(r.mr[2], 60);
  CHECK_EQ(r.mr[3 + 59], paddr_of(frames + 59));
  CHECK_ERR(lookup(vs, kVa + 59 * kPage), Error::FailedLookup);
  for (uint64_t i = 60; i < 100; ++i) CHECK_EQ(lookup(vs, kVa + i * kPage).mr[0], paddr_of(frames + i));
  CHECK_EQ(map_count_of(frames + 60), 1);
  // The pool is still used up: the leaf table stays.
  CHECK_ERR(map(vs, 0x4000'0000, frames, 1, kR), Error::NotEnoughMemory);
  r = scan(vs, r.mr[0], kVa + 0x20'0000 - r.mr[0], kUnmap, kEveryPage);
  CHECK_EQ(r.mr[0], kVa + 0x20'0000);
  CHECK_EQ(r.mr[1], 40);
  CHECK_EQ(r.mr[2], 40);
  CHECK_EQ(r.mr[3], paddr_of(frames + 60));
  for (uint64_t i = 0; i < 100; i += 9) CHECK_EQ(map_count_of(frames + i), 0);
  // Both tables went back.
  CHECK_OK(map(vs, 0x4000'0000, frames, 1, kR));
  CHECK_EQ(scan(vs, 0, kUserTop, kAddresses, kEveryPage).mr[3], 0x4000'0000);
}

KTEST(vspace, scan_errors) {
  const uint64_t vs = KT_TRY(t.make_vspace());
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  CHECK_OK(map(vs, kVa, frame, 1, kRW));
  const uint64_t ro = t.slot(), wo = t.slot();
  CHECK_OK(copy(ro, vs, Rights::Read));
  CHECK_OK(copy(wo, vs, Rights::Write));
  // Rights first, whatever else is wrong; a missing mr2 asks no Unmap.
  CHECK_ERR(call(ro, Label::VSpaceScan, {kVa + 1, 0, kUnmap | 8}), Error::IllegalOperation);
  CHECK_ERR(call(wo, Label::VSpaceScan, {kVa}), Error::IllegalOperation);
  CHECK_ERR(call(ro, Label::VSpaceScan, {kVa, kPage}), Error::TruncatedMessage);
  // Then the four arguments, the flags, alignment, the range.
  CHECK_ERR(call(vs, Label::VSpaceScan, {kVa + 1, 0, 8}), Error::TruncatedMessage);
  CHECK_ERR(call(wo, Label::VSpaceScan, {kVa, kPage, kUnmap}), Error::TruncatedMessage);
  CHECK_ERR(scan(vs, kVa + 1, 0, 4, 0), Error::InvalidArgument);
  CHECK_ERR(scan(vs, kVa, kPage, kUnmap | kAddresses | 0x100, 0), Error::InvalidArgument);
  CHECK_ERR(scan(vs, kVa + 8, 0, kUnmap, 0), Error::AlignmentError);
  CHECK_ERR(scan(vs, kVa, 0x800, 0, 0), Error::AlignmentError);
  CHECK_ERR(scan(vs, kVa, 0, kUnmap, 0), Error::RangeError);
  CHECK_ERR(scan(vs, kUserTop, kPage, 0, 0), Error::RangeError);
  CHECK_ERR(scan(vs, kUserTop - kPage, 2 * kPage, kUnmap, 0), Error::RangeError);
  CHECK_ERR(scan(vs, 0xffff'ffc0'0000'0000, kPage, 0, 0), Error::RangeError);
  CHECK_ERR(scan(vs, kPage, ~uint64_t{0} & ~(kPage - 1), kUnmap, 0), Error::RangeError);
  // None of them changed anything.
  CHECK_EQ(lookup(vs, kVa).mr[0], paddr_of(frame));
  CHECK_EQ(map_count_of(frame), 1);
  // Extra words are ignored; the scan of the whole user half is fine.
  const os::Reply r = call(wo, Label::VSpaceScan, {0, kUserTop, kUnmap | kAddresses, kEveryPage, 99});
  CHECK_OK(r);
  CHECK_EQ(r.mr[2], 1);
  CHECK_EQ(r.mr[3], kVa);
  CHECK_EQ(map_count_of(frame), 0);
}

}  // namespace
