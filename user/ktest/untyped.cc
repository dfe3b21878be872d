// Untyped memory: Retype of every object type, its argument checks, the
// watermark, and Revoke, which destroys everything made from an Untyped so
// that its memory can be retyped again (but not while a frame of it is
// still mapped).
#include "ktest.h"

namespace {

using namespace kt;

uint64_t paddr_of(uint64_t frame) { return frame_info(frame).mr[0]; }

KTEST(untyped, retype_each_type) {
  const uint64_t ut = t.untyped();
  const uint64_t s = t.slots(8);
  CHECK_OK(retype(ut, ObjectType::Untyped, 12, 1, s));
  CHECK_OK(retype(ut, ObjectType::CNode, 4, 1, s + 1));
  CHECK_OK(retype(ut, ObjectType::Tcb, 0, 1, s + 2));
  CHECK_OK(retype(ut, ObjectType::Endpoint, 0, 1, s + 3));
  CHECK_OK(retype(ut, ObjectType::Notification, 0, 1, s + 4));
  CHECK_OK(retype(ut, ObjectType::VSpace, 0, 1, s + 5));
  CHECK_OK(retype(ut, ObjectType::Frame, 0, 1, s + 6));
  // Each new cap names an object of its type: an operation of that type
  // works on it.
  CHECK_OK(retype(s, ObjectType::Frame, 0, 1, s + 7));                 // Untyped
  CHECK_OK(copy(1, s + 3, Rights::All, s + 1));                        // CNode (radix 4)
  CHECK_OK(read_registers(s + 2));                                     // TCB
  CHECK_ERR(nb_recv(s + 3), Error::WouldBlock);                        // Endpoint
  CHECK_OK(signal(s + 4));                                             // Notification
  CHECK_EQ(poll(s + 4).badge, 1);
  CHECK_ERR(lookup(s + 5, 0x1000), Error::FailedLookup);               // VSpace
  CHECK_OK(frame_info(s + 6));                                         // Frame
  // A fresh frame is zeroed.
  const uint64_t va = t.va(1);
  CHECK_OK(map(kRootVSpace, va, s + 6, 1, kR));
  const auto* words = reinterpret_cast<const volatile uint64_t*>(va);
  for (size_t i = 0; i < kPage / 8; ++i) CHECK_EQ(words[i], 0);
}

KTEST(untyped, retype_many) {
  const uint64_t first = t.slots(16);
  CHECK_OK(retype(t.untyped(), ObjectType::Frame, 0, 16, first));
  // Consecutive frames, in consecutive slots, each aligned to its size.
  const uint64_t base = paddr_of(first);
  CHECK_EQ(base % kPage, 0);
  for (uint64_t i = 1; i < 16; ++i) CHECK_EQ(paddr_of(first + i), base + i * kPage);
  // The watermark moved: the next object comes after them, aligned up to
  // its own size (a VSpace is 8 KiB).
  const uint64_t vspace_frame_probe = t.slot();
  CHECK_OK(retype(t.untyped(), ObjectType::Frame, 0, 1, vspace_frame_probe));
  CHECK_EQ(paddr_of(vspace_frame_probe), base + 16 * kPage);
}

KTEST(untyped, retype_errors) {
  const uint64_t ut = t.untyped();
  const uint64_t dest = t.slot();
  const uint64_t radix = env().info->root_cnode_radix;
  const uint64_t type = uint64_t(ObjectType::Endpoint);
  // Object types that are not made from memory, and numbers that are no type.
  for (ObjectType bad : {ObjectType::Null, ObjectType::IrqControl, ObjectType::IrqHandler, ObjectType::SystemControl}) {
    CHECK_ERR(retype(ut, bad, 0, 1, dest), Error::InvalidArgument);
  }
  CHECK_ERR(call(ut, Label::UntypedRetype, {200, 0, 1, dest}, {kRootCNode}), Error::InvalidArgument);
  CHECK_ERR(call(ut, Label::UntypedRetype, {1000, 0, 1, dest}, {kRootCNode}), Error::InvalidArgument);
  // Sizes out of range.
  CHECK_ERR(retype(ut, ObjectType::Untyped, 3, 1, dest), Error::InvalidArgument);
  CHECK_ERR(retype(ut, ObjectType::Untyped, 64, 1, dest), Error::InvalidArgument);
  CHECK_ERR(retype(ut, ObjectType::CNode, 0, 1, dest), Error::InvalidArgument);
  CHECK_ERR(retype(ut, ObjectType::CNode, 21, 1, dest), Error::InvalidArgument);
  // Count 0, and more than one call may make.
  CHECK_ERR(retype(ut, ObjectType::Endpoint, 0, 0, dest), Error::InvalidArgument);
  CHECK_ERR(retype(ut, ObjectType::Endpoint, 0, 257, dest), Error::InvalidArgument);
  // Destination slots: 0, beyond the CNode, running past its end.
  CHECK_ERR(retype(ut, ObjectType::Endpoint, 0, 1, 0), Error::RangeError);
  CHECK_ERR(retype(ut, ObjectType::Endpoint, 0, 1, uint64_t{1} << radix), Error::RangeError);
  CHECK_ERR(retype(ut, ObjectType::Endpoint, 0, 2, (uint64_t{1} << radix) - 1), Error::RangeError);
  // An occupied destination; nothing was made, not even in the empty slot
  // before it.
  const uint64_t pair = t.slots(2);
  CHECK_OK(retype(ut, ObjectType::Endpoint, 0, 1, pair + 1));
  CHECK_ERR(retype(ut, ObjectType::Endpoint, 0, 2, pair), Error::DeleteFirst);
  CHECK_ERR(nb_recv(pair), Error::FailedLookup);
  CHECK_ERR(retype(ut, ObjectType::Endpoint, 0, 1, kRootTcb), Error::DeleteFirst);
  // Not an Untyped, not a CNode as destination, empty and bad cptrs.
  // (Not an endpoint: a Call on one would wait for a receiver.)
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  CHECK_ERR(retype(frame, ObjectType::Endpoint, 0, 1, dest), Error::IllegalOperation);
  CHECK_ERR(retype(ut, ObjectType::Endpoint, 0, 1, dest, pair + 1), Error::InvalidCapability);
  CHECK_ERR(retype(t.slot(), ObjectType::Endpoint, 0, 1, dest), Error::FailedLookup);
  CHECK_ERR(retype(ut, ObjectType::Endpoint, 0, 1, dest, t.slot()), Error::FailedLookup);
  CHECK_ERR(retype(ut, ObjectType::Endpoint, 0, 1, dest, 0), Error::RangeError);
  // Missing arguments.
  CHECK_ERR(call(ut, Label::UntypedRetype, {type, 0, 1}, {kRootCNode}), Error::TruncatedMessage);
  CHECK_ERR(call(ut, Label::UntypedRetype, {type, 0, 1, dest}), Error::TruncatedMessage);
  CHECK_ERR(call(ut, Label::UntypedRetype, {}), Error::TruncatedMessage);
  // A destination CNode without Write.
  const uint64_t ro_cnode = t.slot();
  CHECK_OK(copy(ro_cnode, kRootCNode, Rights::Read));
  CHECK_ERR(retype(ut, ObjectType::Endpoint, 0, 1, dest, ro_cnode), Error::IllegalOperation);
  // An Untyped cannot be copied: two caps would carve the same memory (so
  // its rights cannot be reduced either).
  CHECK_ERR(copy(t.slot(), ut, Rights::Read), Error::IllegalOperation);
  CHECK_ERR(mint(t.slot(), ut, Rights::All, 0), Error::IllegalOperation);
  // After all that, the destination is still empty and usable.
  CHECK_OK(retype(ut, ObjectType::Endpoint, 0, 1, dest));
}

// More than the Untyped holds: NotEnoughMemory, and nothing is made.
KTEST(untyped, retype_too_large) {
  const uint64_t small = KT_TRY(t.make_untyped(13));  // 8 KiB
  const uint64_t s = t.slots(4);
  CHECK_ERR(retype(small, ObjectType::Frame, 0, 3, s), Error::NotEnoughMemory);
  CHECK_ERR(retype(small, ObjectType::CNode, 9, 1, s), Error::NotEnoughMemory);   // 16 KiB
  CHECK_ERR(retype(small, ObjectType::Untyped, 13, 1, s), Error::InvalidArgument);  // as large as its parent
  CHECK_ERR(retype(small, ObjectType::Untyped, 14, 1, s), Error::InvalidArgument);
  CHECK_ERR(frame_info(s), Error::FailedLookup);
  CHECK_OK(retype(small, ObjectType::Frame, 0, 2, s));
  CHECK_ERR(retype(small, ObjectType::Frame, 0, 1, s + 2), Error::NotEnoughMemory);
  CHECK_ERR(retype(small, ObjectType::Endpoint, 0, 1, s + 2), Error::NotEnoughMemory);
  // A VSpace (8 KiB, 8 KiB aligned) after one page does not fit either.
  const uint64_t other = KT_TRY(t.make_untyped(14));
  CHECK_OK(retype(other, ObjectType::Frame, 0, 1, s + 2));
  CHECK_OK(retype(other, ObjectType::VSpace, 0, 1, s + 3));
  CHECK_EQ(lookup(s + 3, 0).info.is_error(), true);
  CHECK_ERR(retype(other, ObjectType::Frame, 0, 1, t.slot()), Error::NotEnoughMemory);
}

// Device memory (MMIO) holds frames only, and they are not zeroed.
KTEST(untyped, device_untyped) {
  const uapi::BootInfo& info = *env().info;
  uint64_t device = 0;
  for (uint64_t i = 0; i < info.untyped.count; ++i) {
    if (info.untyped_list[i].device && info.untyped_list[i].paddr == info.uart_paddr) device = info.untyped.first + i;
  }
  if (device == 0) KT_FAIL("no device untyped at the UART's address {:#x}", info.uart_paddr);
  const uint64_t s = t.slot();
  CHECK_ERR(retype(device, ObjectType::Endpoint, 0, 1, s), Error::InvalidArgument);
  CHECK_ERR(retype(device, ObjectType::Tcb, 0, 1, s), Error::InvalidArgument);
  CHECK_ERR(retype(device, ObjectType::CNode, 2, 1, s), Error::InvalidArgument);
  CHECK_OK(retype(device, ObjectType::Frame, 0, 1, s));
  CHECK_EQ(paddr_of(s), info.uart_paddr);
  // Device memory cannot pay for page tables either.
  const uint64_t vspace = KT_TRY(t.make(ObjectType::VSpace));
  CHECK_OK(del(s));
  CHECK_ERR(set_pool(vspace, device), Error::IllegalOperation);
}

// Revoke destroys every object made from the Untyped (and every copy of
// their caps), after which the same memory is handed out again.
KTEST(untyped, revoke_and_reuse) {
  const uint64_t ut = KT_TRY(t.make_untyped(16));
  const uint64_t s = t.slots(6);
  CHECK_OK(retype(ut, ObjectType::Frame, 0, 2, s));
  CHECK_OK(retype(ut, ObjectType::Endpoint, 0, 1, s + 2));
  CHECK_OK(retype(ut, ObjectType::Tcb, 0, 1, s + 3));
  CHECK_OK(copy(s + 4, s + 2, Rights::All));
  const uint64_t first = paddr_of(s);
  // Retype again without a revoke: the memory is still in use.
  CHECK_OK(retype(ut, ObjectType::Frame, 0, 1, s + 5));
  CHECK(paddr_of(s + 5) != first);
  CHECK_OK(revoke(ut));
  for (uint64_t i = 0; i < 6; ++i) CHECK_ERR(frame_info(s + i), Error::FailedLookup);
  CHECK_ERR(nb_recv(s + 4), Error::FailedLookup);  // the copy is gone too
  CHECK_OK(retype(ut, ObjectType::Frame, 0, 1, s));
  CHECK_EQ(paddr_of(s), first);
  // Revoking an Untyped with nothing made from it is fine.
  CHECK_OK(revoke(ut));
  CHECK_OK(revoke(ut));
}

// A frame that is still mapped keeps its memory: revoking the Untyped
// destroys the frame cap, but the memory is not handed out again until the
// mapping goes.
KTEST(untyped, revoke_keeps_mapped_memory) {
  const uint64_t ut = KT_TRY(t.make_untyped(14));  // 4 pages
  const uint64_t s = t.slots(5);
  CHECK_OK(retype(ut, ObjectType::Frame, 0, 1, s));
  const uint64_t first = paddr_of(s);
  const uint64_t va = t.va(1);
  CHECK_OK(map(kRootVSpace, va, s, 1, kRW));
  *reinterpret_cast<volatile uint64_t*>(va) = 0x5eed;
  CHECK_OK(revoke(ut));
  CHECK_ERR(frame_info(s), Error::FailedLookup);
  // Still mapped, still the same page with the same contents.
  const os::Reply page = lookup(kRootVSpace, va);
  CHECK_OK(page);
  CHECK_EQ(page.mr[0], first);
  CHECK_EQ(page.mr[3], 1);
  CHECK_EQ(*reinterpret_cast<volatile uint64_t*>(va), 0x5eed);
  // The watermark was not reset: the next frames come after it, and the
  // Untyped is full sooner.
  CHECK_OK(retype(ut, ObjectType::Frame, 0, 3, s + 1));
  CHECK_EQ(paddr_of(s + 1), first + kPage);
  CHECK_ERR(retype(ut, ObjectType::Frame, 0, 1, s + 4), Error::NotEnoughMemory);
  // Once unmapped (and the Untyped empty), the memory is free again.
  CHECK_OK(revoke(ut));
  CHECK_EQ(unmap(kRootVSpace, va, kPage).mr[0], 1);
  CHECK_OK(retype(ut, ObjectType::Frame, 0, 4, s + 1));
  CHECK_EQ(paddr_of(s + 1), first);
}

// Revoke reaches grandchildren: objects made from a child Untyped.
KTEST(untyped, revoke_nested) {
  const uint64_t parent = KT_TRY(t.make_untyped(16));
  const uint64_t s = t.slots(3);
  CHECK_OK(retype(parent, ObjectType::Untyped, 14, 1, s));
  CHECK_OK(retype(s, ObjectType::Endpoint, 0, 1, s + 1));
  CHECK_OK(copy(s + 2, s + 1, Rights::Read));
  CHECK_OK(revoke(parent));
  CHECK_ERR(retype(s, ObjectType::Endpoint, 0, 1, s + 1), Error::FailedLookup);
  CHECK_ERR(nb_recv(s + 1), Error::FailedLookup);
  CHECK_ERR(nb_recv(s + 2), Error::FailedLookup);
  CHECK_OK(retype(parent, ObjectType::Untyped, 15, 2, s));
}

// Deleting an object's last capability destroys it: a thread blocked on a
// destroyed endpoint wakes with InvalidCapability. Covered with threads in
// the ipc group; here: deleting an Untyped with children keeps them.
KTEST(untyped, delete_keeps_children) {
  const uint64_t ut = KT_TRY(t.make_untyped(14));
  const uint64_t ep = t.slot();
  CHECK_OK(retype(ut, ObjectType::Endpoint, 0, 1, ep));
  CHECK_OK(del(ut));
  CHECK_ERR(nb_recv(ep), Error::WouldBlock);
  // The test untyped's revoke (the runner's) still reaches the endpoint.
  CHECK_OK(revoke(t.untyped()));
  CHECK_ERR(nb_recv(ep), Error::FailedLookup);
}

}  // namespace
