// Isolation: a thread in another address space sees only what is mapped
// there (the root task's memory is not), and a thread with another CSpace
// can name only the capabilities in it. Also the copy-on-write fault flow
// of DESIGN.md §6, with the root thread as the pager of a thread in a
// forked address space.
//
// The threads here run the program's code through a shared read-only copy
// of its text (share_code) and so must not touch global variables: those
// live in the root task's private data pages.
#include "ktest.h"
#include "threads.h"

namespace {

using namespace kt;
using uapi::FaultAccess;
using uapi::FaultLabel;

uint64_t g_secret = 0x5ec4e7;

uint64_t load(uint64_t address) { return *reinterpret_cast<volatile uint64_t*>(address); }

Result<Event> expect_fault(Test& t, const Thread& thread) {
  const Event e = TRY_RESULT(next_event(t));
  if (e.badge != thread.badge || e.label != uint64_t(FaultLabel::PageFault)) {
    t.fail(__FILE_NAME__, __LINE__, "expected a page fault of thread {}, got label {:#x} from {} (mr1 {:#x})",
           thread.badge, e.label, e.badge, e.mr[1]);
    return std::unexpected(Error::InvalidArgument);
  }
  return e;
}

KTEST(isolation, cannot_read_root_memory) {
  const uint64_t vs = KT_TRY(t.make_vspace());
  KT_TRY(share_code(vs));
  ThreadOptions options;
  options.vspace = vs;
  const uint64_t secret = reinterpret_cast<uint64_t>(&g_secret);
  const Thread th = KT_TRY(spawn(t, load, secret, options));
  const Event e = KT_TRY(expect_fault(t, th));
  CHECK_EQ(e.mr[1], secret);
  CHECK_EQ(e.mr[2], uint64_t(FaultAccess::Read));
  // The code it runs is shared, read-only: writing it faults too.
  CHECK_EQ(lookup(vs, e.mr[0] & ~(kPage - 1)).mr[1] & kW, 0);
  // The root task reads the same address without trouble.
  CHECK_EQ(load(secret), 0x5ec4e7);
  // Handled by mapping a page of the thread's own there: it reads that,
  // not the root's value.
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  CHECK_OK(map(vs, secret & ~(kPage - 1), frame, 1, kR));
  CHECK_OK(reply(0, {}));
  CHECK_EQ(KT_TRY(join(t, th)), 0);
}

uint64_t write_text(uint64_t address) {
  *reinterpret_cast<volatile uint64_t*>(address) = 0;
  return 1;
}

KTEST(isolation, shared_code_is_read_only) {
  const uint64_t vs = KT_TRY(t.make_vspace());
  KT_TRY(share_code(vs));
  ThreadOptions options;
  options.vspace = vs;
  const uint64_t text = reinterpret_cast<uint64_t>(&write_text);
  const Thread th = KT_TRY(spawn(t, write_text, text, options));
  const Event e = KT_TRY(expect_fault(t, th));
  CHECK_EQ(e.mr[1], text);
  CHECK_EQ(e.mr[2], uint64_t(FaultAccess::Write));
}

// What a thread with its own CSpace can name: only its own slots. Its one
// cap (the control endpoint, to report) sits in the last slot, away from
// the root CSpace's fixed slots.
constexpr uint64_t kDoneSlot = 15;

uint64_t probe_cspace(uint64_t) {
  uint64_t result = 0;
  // Slot 5 is SystemControl in the root's CSpace; here it is empty.
  result |= uint64_t(error_of(call(kSystemControl, Label::SystemShutdown, {1})));
  result |= uint64_t(error_of(call(kRootTcb, Label::TcbSuspend, {}))) << 8;
  result |= uint64_t(error_of(call(kRootCNode, Label::CNodeDelete, {1}))) << 16;
  result |= uint64_t(error_of(call(100, Label::TcbSuspend, {}))) << 24;  // beyond its 16 slots
  result |= uint64_t(nb_recv(kDoneSlot).error()) << 32;  // its done cap: Write only
  return result;
}

KTEST(isolation, own_cspace) {
  const uint64_t vs = KT_TRY(t.make_vspace());
  KT_TRY(share_code(vs));
  const uint64_t cnode = KT_TRY(t.make(ObjectType::CNode, 4));
  ThreadOptions options;
  options.vspace = vs;
  options.cspace = cnode;
  options.done_slot = kDoneSlot;
  const Thread th = KT_TRY(spawn(t, probe_cspace, 0, options));
  const uint64_t r = KT_TRY(join(t, th));
  CHECK_EQ(r & 0xff, uint64_t(Error::FailedLookup));
  CHECK_EQ(r >> 8 & 0xff, uint64_t(Error::FailedLookup));
  CHECK_EQ(r >> 16 & 0xff, uint64_t(Error::FailedLookup));
  CHECK_EQ(r >> 24 & 0xff, uint64_t(Error::RangeError));
  CHECK_EQ(r >> 32 & 0xff, uint64_t(Error::IllegalOperation));
}

// A thread in another VSpace but the root's CSpace: capabilities belong to
// the CSpace, not the address space.
uint64_t signal_from_elsewhere(uint64_t ntfn) { return uint64_t(signal(ntfn)); }

KTEST(isolation, caps_follow_cspace) {
  const uint64_t vs = KT_TRY(t.make_vspace());
  KT_TRY(share_code(vs));
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  ThreadOptions options;
  options.vspace = vs;
  const Thread th = KT_TRY(spawn(t, signal_from_elsewhere, ntfn, options));
  CHECK_EQ(KT_TRY(join(t, th)), 0);
  CHECK_EQ(poll(ntfn).badge, 1);
}

// fork, the copy-on-write way: a parent space's writable page is copied
// COW into a child space; the child's write faults; the pager (here the
// root thread) copies the page with CopyPage and resumes it. The parent
// keeps its data.
uint64_t child_writes(uint64_t address) {
  const uint64_t before = *reinterpret_cast<volatile uint64_t*>(address);
  *reinterpret_cast<volatile uint64_t*>(address) = 0xc41d;
  return before;
}

KTEST(isolation, cow_fault_flow) {
  // The parent's page, also mapped in the root task so its contents can be
  // written and checked.
  const auto page = KT_TRY(t.map_new(1));
  *reinterpret_cast<volatile uint64_t*>(page.va) = 0x9a7e;
  const uint64_t parent = KT_TRY(t.make_vspace());
  const uint64_t child = KT_TRY(t.make_vspace());
  constexpr uint64_t kData = 0x80'0000;
  CHECK_OK(map(parent, kData, page.first_frame, 1, kRW));
  const os::Reply copied = copy_range(parent, child, kData, kPage, uapi::CopyMode::Cow);
  CHECK_EQ(copied.mr[1], 1);
  KT_TRY(share_code(child));
  ThreadOptions options;
  options.vspace = child;
  const Thread th = KT_TRY(spawn(t, child_writes, kData, options));
  const Event e = KT_TRY(expect_fault(t, th));
  CHECK_EQ(e.mr[1], kData);
  CHECK_EQ(e.mr[2], uint64_t(FaultAccess::Write));
  // The pager's decision: a COW page still shared (count 3: parent, child,
  // root) gets a private copy.
  const os::Reply info = lookup(child, kData);
  CHECK_EQ(info.mr[2], 1);
  CHECK_EQ(info.mr[3], 3);
  const uint64_t fresh = KT_TRY(t.make(ObjectType::Frame));
  CHECK_OK(copy_page(child, kData, kRW, fresh));
  CHECK_OK(reply(0, {}));
  CHECK_EQ(KT_TRY(join(t, th)), 0x9a7e);  // it read the parent's data before writing
  CHECK_EQ(*reinterpret_cast<volatile uint64_t*>(page.va), 0x9a7e);  // the parent's copy is untouched
  const uint64_t check = t.va(1);
  CHECK_OK(map(kRootVSpace, check, fresh, 1, kR));
  CHECK_EQ(*reinterpret_cast<volatile uint64_t*>(check), 0xc41d);
  // The parent's side, last owner of the old frame besides the root task:
  // Protect makes it writable again (no copy needed).
  CHECK_EQ(protect(parent, kData, kPage, kRW).mr[0], 1);
  CHECK_EQ(lookup(parent, kData).mr[2], 0);
}

}  // namespace
