// Host tests for the capability operations that build the CDT: Copy, Mint,
// Move, Retype (every type, alignment, exhaustion, watermark reset, device
// memory) and CNode lookup, plus the invariant checker itself. Every failing
// call is also checked to have changed nothing. cap_fixture.h has the
// simulated memory and the fake kernel; cap_delete_test.cc covers Delete and
// Revoke.
#include "cap_fixture.h"

namespace kern {
namespace {

using namespace cap_testing;

// --- Copy and Mint -------------------------------------------------------------

TEST_F(CapTest, CopyIsChildOfSourceWithMaskedRights) {
  Slot& ep = make(ObjectType::Endpoint);
  Slot& a = host();
  Slot& b = host();
  ASSERT_TRUE(ok(cap_copy(ep, a, Rights::Read | Rights::Grant)));
  EXPECT_EQ(a.cap.rights(), Rights::Read | Rights::Grant);
  EXPECT_EQ(a.cap.object(), ep.cap.object());
  EXPECT_EQ(a.depth(), ep.depth() + 1);
  // Rights only shrink: copying the copy with every right gives no more.
  ASSERT_TRUE(ok(cap_copy(a, b, Rights::All)));
  EXPECT_EQ(b.cap.rights(), Rights::Read | Rights::Grant);
  EXPECT_EQ(b.depth(), ep.depth() + 2);
  EXPECT_TRUE(has_descendants(ep));
  EXPECT_TRUE(has_descendants(a));
  EXPECT_FALSE(has_descendants(b));
  EXPECT_TRUE(check_cdt(&m_root));
}

TEST_F(CapTest, CopyGoesRightAfterSourceAheadOfOlderChildren) {
  Slot& ep = make(ObjectType::Endpoint);
  Slot& older = host();
  Slot& newer = host();
  ASSERT_TRUE(ok(cap_copy(ep, older, Rights::All)));
  ASSERT_TRUE(ok(cap_copy(ep, newer, Rights::None)));
  EXPECT_EQ(ep.next, &newer);
  EXPECT_EQ(newer.next, &older);
  EXPECT_EQ(newer.depth(), older.depth());
  EXPECT_EQ(newer.cap.rights(), Rights::None);
  EXPECT_TRUE(check_cdt(&m_root));
}

TEST_F(CapTest, CopyErrorsChangeNothing) {
  Slot& ep = make(ObjectType::Endpoint);
  Slot& full = make(ObjectType::Notification);
  Slot& empty = host();
  Slot irq_control, system_control;
  cdt_insert_root(irq_control, Capability::make(ObjectType::IrqControl, PhysAddr(0), Rights::All));
  cdt_insert_root(system_control, Capability::make(ObjectType::SystemControl, PhysAddr(0), Rights::All));
  auto before = list_state(&m_root);
  EXPECT_TRUE(fails_with(cap_copy(empty, host(), Rights::All), Error::FailedLookup));
  EXPECT_TRUE(fails_with(cap_copy(ep, full, Rights::All), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(cap_copy(ep, ep, Rights::All), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(cap_copy(m_root, empty, Rights::All), Error::IllegalOperation));
  EXPECT_TRUE(fails_with(cap_mint(m_root, empty, Rights::All, 0), Error::IllegalOperation));
  EXPECT_TRUE(fails_with(cap_copy(irq_control, empty, Rights::All), Error::IllegalOperation));
  EXPECT_TRUE(fails_with(cap_copy(system_control, empty, Rights::All), Error::IllegalOperation));
  EXPECT_EQ(list_state(&m_root), before);
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.prev, nullptr);
  EXPECT_EQ(irq_control.next, nullptr);
}

TEST_F(CapTest, CopyAndMintStopAtMaxDepth) {
  Slot& cnode = make(ObjectType::CNode, 9);
  Slot* src = &make(ObjectType::Endpoint);
  for (uint64_t i = 1; src->depth() < kMaxDepth; ++i) {
    ASSERT_TRUE(ok(cap_copy(*src, at(cnode, i), Rights::All)));
    src = &at(cnode, i);
  }
  EXPECT_EQ(src->depth(), kMaxDepth);
  EXPECT_TRUE(fails_with(cap_copy(*src, at(cnode, 500), Rights::All), Error::RangeError));
  EXPECT_TRUE(fails_with(cap_mint(*src, at(cnode, 500), Rights::All, 7), Error::RangeError));
  EXPECT_TRUE(at(cnode, 500).empty());
  EXPECT_TRUE(check_cdt(&m_root));
}

TEST_F(CapTest, MintBadgesEndpointsAndNotificationsOnce) {
  for (ObjectType type : {ObjectType::Endpoint, ObjectType::Notification}) {
    Slot& obj = make(type);
    Slot& badged = host();
    Slot& again = host();
    Slot& copy = host();
    ASSERT_TRUE(ok(cap_mint(obj, badged, Rights::Write, 0x1234)));
    EXPECT_EQ(badged.cap.badge(), 0x1234u);
    EXPECT_EQ(badged.cap.rights(), Rights::Write);
    EXPECT_EQ(badged.cap.object(), obj.cap.object());
    // A badge is fixed once given; minting with badge 0 is a plain copy.
    EXPECT_TRUE(fails_with(cap_mint(badged, again, Rights::All, 99), Error::IllegalOperation));
    ASSERT_TRUE(ok(cap_mint(badged, copy, Rights::All, 0)));
    EXPECT_EQ(copy.cap.badge(), 0x1234u);
    EXPECT_EQ(copy.cap.rights(), Rights::Write);
    EXPECT_TRUE(again.empty());
  }
  EXPECT_TRUE(check_cdt(&m_root));
}

TEST_F(CapTest, MintBadgeOnTypeWithoutBadgesIsIllegal) {
  for (ObjectType type : {ObjectType::Frame, ObjectType::Reply}) {
    SCOPED_TRACE(int(type));
    Slot& obj = make(type);
    Slot& dest = host();
    EXPECT_TRUE(fails_with(cap_mint(obj, dest, Rights::All, 1), Error::IllegalOperation));
    EXPECT_TRUE(dest.empty());
    ASSERT_TRUE(ok(cap_mint(obj, dest, Rights::Read, 0)));
    EXPECT_EQ(dest.cap.rights(), Rights::Read);
    EXPECT_EQ(dest.cap.word1(), 0u);
  }
}

// --- Move ------------------------------------------------------------------------

TEST_F(CapTest, MoveKeepsPlaceDepthAndChildren) {
  Slot& ep = make(ObjectType::Endpoint);
  Slot& mid = host();
  Slot& leaf = host();
  Slot& moved = host();
  ASSERT_TRUE(ok(cap_mint(ep, mid, Rights::Read, 5)));
  ASSERT_TRUE(ok(cap_copy(mid, leaf, Rights::All)));
  ASSERT_TRUE(ok(cap_move(mid, moved)));
  EXPECT_TRUE(mid.empty());
  EXPECT_EQ(mid.prev, nullptr);
  EXPECT_EQ(mid.next, nullptr);
  EXPECT_EQ(ep.next, &moved);
  EXPECT_EQ(moved.prev, &ep);
  EXPECT_EQ(moved.next, &leaf);
  EXPECT_EQ(leaf.prev, &moved);
  EXPECT_EQ(moved.depth(), ep.depth() + 1);
  EXPECT_EQ(moved.cap.badge(), 5u);
  EXPECT_EQ(moved.cap.rights(), Rights::Read);
  EXPECT_TRUE(has_descendants(moved));
  EXPECT_TRUE(check_cdt(&m_root));
}

TEST_F(CapTest, MoveOfListHeadAndOfUntyped) {
  Slot& head = host();
  ASSERT_TRUE(ok(cap_move(m_root, head)));
  EXPECT_EQ(head.prev, nullptr);
  EXPECT_TRUE(m_root.empty());
  Slot& frame = host();
  ASSERT_TRUE(ok(retype(head, ObjectType::Frame, 0, {&frame})));
  EXPECT_EQ(head.next, &frame);
  EXPECT_TRUE(check_cdt(&head));
}

TEST_F(CapTest, MoveErrorsChangeNothing) {
  Slot& ep = make(ObjectType::Endpoint);
  Slot& full = make(ObjectType::Endpoint);
  Slot& empty = host();
  auto before = list_state(&m_root);
  EXPECT_TRUE(fails_with(cap_move(ep, ep), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(cap_move(empty, empty), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(cap_move(empty, host()), Error::FailedLookup));
  EXPECT_TRUE(fails_with(cap_move(ep, full), Error::DeleteFirst));
  EXPECT_EQ(list_state(&m_root), before);
}

// --- Retype ---------------------------------------------------------------------

TEST(RetypeObjectSize, SizesOfEveryType) {
  EXPECT_EQ(retype_object_size({ObjectType::Tcb, 0, 1}), 1024u);
  EXPECT_EQ(retype_object_size({ObjectType::Endpoint, 0, 1}), 32u);
  EXPECT_EQ(retype_object_size({ObjectType::Notification, 0, 1}), 32u);
  EXPECT_EQ(retype_object_size({ObjectType::VSpace, 0, 1}), 2 * kPageSize);  // root table + metadata
  EXPECT_EQ(retype_object_size({ObjectType::Frame, 0, 1}), kPageSize);
  EXPECT_EQ(retype_object_size({ObjectType::Reply, 0, 1}), 32u);
  EXPECT_EQ(retype_object_size({ObjectType::Reply, 9, 1}), 32u);  // size_bits ignored, as for the fixed types
  EXPECT_EQ(retype_object_size({ObjectType::CNode, 1, 1}), 64u);
  EXPECT_EQ(retype_object_size({ObjectType::CNode, 20, 1}), uint64_t{32} << 20);
  EXPECT_EQ(retype_object_size({ObjectType::Untyped, 4, 1}), 16u);
  EXPECT_EQ(retype_object_size({ObjectType::Untyped, 47, 1}), uint64_t{1} << 47);
  using R = RetypeRequest;
  for (R bad : {R{ObjectType::Untyped, 3, 1}, R{ObjectType::Untyped, 48, 1}, R{ObjectType::CNode, 0, 1},
                R{ObjectType::CNode, 21, 1}, R{ObjectType::Null, 0, 1}, R{ObjectType::IrqControl, 0, 1},
                R{ObjectType::IrqHandler, 0, 1}, R{ObjectType::SystemControl, 0, 1},
                R{static_cast<ObjectType>(200), 0, 1}}) {
    EXPECT_EQ(retype_object_size(bad), 0u) << int(bad.type) << " " << bad.size_bits;
  }
}

// A child Untyped is not zeroed when made, but everything carved from it is,
// whatever the memory held before.
TEST_F(CapTest, ObjectsFromAChildUntypedAreZeroedOverDirtyMemory) {
  Slot& child = host();
  ASSERT_TRUE(ok(retype(m_root, ObjectType::Untyped, 13, {&child})));
  for (uint64_t i = 0; i < 8192; ++i) mem(child.cap.object())[i] = 0xa5;
  Slot& frame = host();
  Slot& tcb = host();
  ASSERT_TRUE(ok(retype(child, ObjectType::Frame, 0, {&frame})));
  ASSERT_TRUE(ok(retype(child, ObjectType::Tcb, 0, {&tcb})));
  for (uint64_t i = 0; i < 4096; ++i) ASSERT_EQ(mem(frame.cap.object())[i], 0) << "frame byte " << i;
  for (uint64_t i = 0; i < 1024; ++i) ASSERT_EQ(mem(tcb.cap.object())[i], 0) << "tcb byte " << i;
}

TEST_F(CapTest, RetypeMakesEveryTypeAlignedZeroedAndInOrder) {
  struct Case { ObjectType type; unsigned size_bits; };
  for (Case c : {Case{ObjectType::Untyped, 12}, Case{ObjectType::CNode, 3}, Case{ObjectType::Tcb, 0},
                 Case{ObjectType::Endpoint, 0}, Case{ObjectType::Notification, 0}, Case{ObjectType::VSpace, 0},
                 Case{ObjectType::Frame, 0}, Case{ObjectType::Reply, 0}}) {
    SCOPED_TRACE(int(c.type));
    const uint64_t size = retype_object_size({c.type, c.size_bits, 1});
    Slot* old_next = m_root.next;
    const uint64_t old_watermark = m_root.cap.untyped_watermark();
    Slot& a = host();
    Slot& b = host();
    m_hooks.inits.clear();
    ASSERT_TRUE(ok(retype(m_root, c.type, c.size_bits, {&a, &b})));
    EXPECT_EQ(m_root.next, &a);
    EXPECT_EQ(a.next, &b);
    EXPECT_EQ(b.next, old_next);
    EXPECT_EQ(a.cap.object(), kBase + align_up(old_watermark, size));
    EXPECT_EQ(b.cap.object(), a.cap.object() + size);
    EXPECT_TRUE(a.cap.object().is_aligned(size));
    EXPECT_EQ(m_root.cap.untyped_watermark(), (b.cap.object() + size) - kBase);
    EXPECT_EQ(m_hooks.inits, (std::vector<Key>{key_of(a.cap), key_of(b.cap)}));
    for (Slot* s : {&a, &b}) {
      EXPECT_EQ(s->cap.type(), c.type);
      EXPECT_EQ(s->cap.rights(), Rights::All);
      EXPECT_EQ(s->depth(), 1u);
      if (c.type == ObjectType::Untyped) continue;  // not zeroed until objects are carved from it
      for (uint64_t i = 0; i < size; ++i) ASSERT_EQ(mem(s->cap.object())[i], 0) << "byte " << i;
    }
    uint64_t word1 = c.type == ObjectType::Untyped ? Capability::untyped(kBase, 12, false).word1()
                     : c.type == ObjectType::CNode ? 3 : 0;
    EXPECT_EQ(a.cap.word1(), word1);
    if (c.type == ObjectType::Untyped) {
      EXPECT_EQ(a.cap.untyped_watermark(), 0u);
      EXPECT_FALSE(a.cap.untyped_device());
    }
  }
  EXPECT_TRUE(check_cdt(&m_root));
}

TEST_F(CapTest, RetypeAlignsEachObjectToItsSize) {
  Slot& ep = make(ObjectType::Endpoint);
  Slot& frame = make(ObjectType::Frame);
  Slot& ep2 = make(ObjectType::Endpoint);
  EXPECT_EQ(ep.cap.object(), kBase);
  EXPECT_EQ(frame.cap.object(), kBase + kPageSize);
  EXPECT_EQ(ep2.cap.object(), kBase + 2 * kPageSize);
  EXPECT_EQ(m_root.cap.untyped_watermark(), 2 * kPageSize + 32);
  Slot& big = make(ObjectType::CNode, 10);  // 32 KiB
  EXPECT_EQ(big.cap.object(), kBase + 32 * 1024);
}

TEST_F(CapTest, RetypeRunningOutOfMemoryChangesNothing) {
  Slot& ut = host();
  ASSERT_TRUE(ok(retype(m_root, ObjectType::Untyped, 13, {&ut})));  // two frames
  Slot& a = host();
  Slot& b = host();
  Slot& c = host();
  EXPECT_TRUE(fails_with(retype(ut, ObjectType::Frame, 0, {&a, &b, &c}), Error::NotEnoughMemory));
  EXPECT_TRUE(fails_with(retype(ut, ObjectType::CNode, 9, {&a}), Error::NotEnoughMemory));
  EXPECT_TRUE(fails_with(retype(ut, ObjectType::Untyped, 14, {&a}), Error::InvalidArgument));
  ASSERT_TRUE(ok(retype(ut, ObjectType::Endpoint, 0, {&a})));
  auto before = list_state(&m_root);
  m_hooks.inits.clear();
  EXPECT_TRUE(fails_with(retype(ut, ObjectType::Frame, 0, {&b, &c}), Error::NotEnoughMemory));
  EXPECT_EQ(list_state(&m_root), before);
  EXPECT_TRUE(m_hooks.inits.empty());
  EXPECT_TRUE(b.empty());
  ASSERT_TRUE(ok(retype(ut, ObjectType::Frame, 0, {&b})));  // the second page is still there
  EXPECT_EQ(ut.cap.untyped_watermark(), 2 * kPageSize);
  EXPECT_TRUE(fails_with(retype(ut, ObjectType::Untyped, 4, {&c}), Error::NotEnoughMemory));
}

TEST_F(CapTest, RetypeArgumentErrorsChangeNothing) {
  Slot& ep = make(ObjectType::Endpoint);
  Slot& a = host();
  Slot& b = host();
  auto before = list_state(&m_root);
  const uint64_t watermark = m_root.cap.untyped_watermark();
  Slot* one[] = {&a};
  Slot* null_dest[] = {nullptr};
  auto run = [&](Slot& ut, RetypeRequest request, std::span<Slot* const> dests) {
    return untyped_retype(ut, request, dests, m_hooks);
  };
  EXPECT_TRUE(fails_with(run(ep, {ObjectType::Frame, 0, 1}, one), Error::InvalidCapability));
  EXPECT_TRUE(fails_with(run(b, {ObjectType::Frame, 0, 1}, one), Error::InvalidCapability));
  for (ObjectType type : {ObjectType::Null, ObjectType::IrqControl, ObjectType::IrqHandler, ObjectType::SystemControl,
                          static_cast<ObjectType>(31)}) {
    EXPECT_TRUE(fails_with(run(m_root, {type, 0, 1}, one), Error::InvalidArgument)) << int(type);
  }
  for (unsigned bits : {0u, 3u, kRootBits, 47u, 48u, 63u}) {
    EXPECT_TRUE(fails_with(run(m_root, {ObjectType::Untyped, bits, 1}, one), Error::InvalidArgument)) << bits;
  }
  for (unsigned radix : {0u, 21u, 60u}) {
    EXPECT_TRUE(fails_with(run(m_root, {ObjectType::CNode, radix, 1}, one), Error::InvalidArgument)) << radix;
  }
  EXPECT_TRUE(fails_with(run(m_root, {ObjectType::Frame, 0, 0}, {}), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(run(m_root, {ObjectType::Frame, 0, 2}, one), Error::InvalidArgument));
  EXPECT_TRUE(fails_with(run(m_root, {ObjectType::Frame, 0, 1}, null_dest), Error::InvalidArgument));
  EXPECT_EQ(list_state(&m_root), before);
  EXPECT_EQ(m_root.cap.untyped_watermark(), watermark);
  EXPECT_TRUE(a.empty());
}

TEST_F(CapTest, RetypeDestErrorsChangeNothingAndLeaveNoMarks) {
  Slot& full = make(ObjectType::Endpoint);
  Slot& a = host();
  Slot& b = host();
  auto before = list_state(&m_root);
  EXPECT_TRUE(fails_with(retype(m_root, ObjectType::Frame, 0, {&a, &full}), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(retype(m_root, ObjectType::Frame, 0, {&a, &b, &a}), Error::DeleteFirst));
  EXPECT_TRUE(fails_with(retype(m_root, ObjectType::Frame, 0, {&m_root}), Error::DeleteFirst));
  EXPECT_EQ(list_state(&m_root), before);
  for (Slot* s : {&a, &b}) {
    EXPECT_TRUE(s->empty());
    EXPECT_EQ(s->prev, nullptr);
    EXPECT_EQ(s->next, nullptr);
  }
  ASSERT_TRUE(ok(retype(m_root, ObjectType::Frame, 0, {&a, &b})));
  EXPECT_TRUE(check_cdt(&m_root));
}

TEST_F(CapTest, RetypeStopsAtMaxDepth) {
  Slot deep;
  cdt_insert_root(deep, Capability::untyped(kBase + (uint64_t{1} << 21), 12, false));
  deep.set_depth(kMaxDepth);
  Slot& dest = host();
  EXPECT_TRUE(fails_with(retype(deep, ObjectType::Frame, 0, {&dest}), Error::RangeError));
  EXPECT_TRUE(dest.empty());
  deep.set_depth(kMaxDepth - 1);
  ASSERT_TRUE(ok(retype(deep, ObjectType::Frame, 0, {&dest})));
  EXPECT_EQ(dest.depth(), kMaxDepth);
}

TEST_F(CapTest, WatermarkResetsOnlyWithoutDescendantsAndWhenAllowed) {
  Slot& a = make(ObjectType::Frame);
  Slot& b = make(ObjectType::Frame);  // a descendant exists: no reset, no question
  EXPECT_EQ(b.cap.object(), kBase + kPageSize);
  EXPECT_TRUE(m_hooks.reset_queries.empty());
  cap_delete(a, m_hooks);
  Slot& c = make(ObjectType::Frame);
  EXPECT_EQ(c.cap.object(), kBase + 2 * kPageSize);
  EXPECT_TRUE(m_hooks.reset_queries.empty());
  cap_delete(b, m_hooks);
  cap_delete(c, m_hooks);
  m_hooks.allow_reset = false;  // say a frame is still mapped
  Slot& d = make(ObjectType::Frame);
  EXPECT_EQ(d.cap.object(), kBase + 3 * kPageSize);
  EXPECT_EQ(m_hooks.reset_queries, (std::vector<Key>{{ObjectType::Untyped, kBase.value(), kRootBits}}));
  cap_delete(d, m_hooks);
  m_hooks.allow_reset = true;
  Slot& e = make(ObjectType::Frame);
  EXPECT_EQ(e.cap.object(), kBase);
  EXPECT_EQ(m_root.cap.untyped_watermark(), kPageSize);
  EXPECT_EQ(m_hooks.reset_queries.size(), 2u);
}

// A reset that would be allowed does not happen when the request fails.
TEST_F(CapTest, FailedRetypeDoesNotResetWatermark) {
  Slot& ut = host();
  ASSERT_TRUE(ok(retype(m_root, ObjectType::Untyped, 13, {&ut})));
  Slot& frame = host();
  ASSERT_TRUE(ok(retype(ut, ObjectType::Frame, 0, {&frame})));
  cap_delete(frame, m_hooks);
  Slot& a = host();
  Slot& b = host();
  Slot& c = host();
  EXPECT_TRUE(fails_with(retype(ut, ObjectType::Frame, 0, {&a, &b, &c}), Error::NotEnoughMemory));
  EXPECT_EQ(ut.cap.untyped_watermark(), kPageSize);
  ASSERT_TRUE(ok(retype(ut, ObjectType::Frame, 0, {&a, &b})));
  EXPECT_EQ(a.cap.object(), ut.cap.object());
}

TEST_F(CapTest, DeviceUntypedMakesOnlyFramesAndDeviceUntyped) {
  for (ObjectType type : {ObjectType::CNode, ObjectType::Tcb, ObjectType::Endpoint, ObjectType::Notification,
                          ObjectType::VSpace, ObjectType::Reply}) {
    EXPECT_TRUE(fails_with(retype(m_device, type, 2, {&host()}), Error::InvalidArgument)) << int(type);
  }
  Slot& frame = host();
  ASSERT_TRUE(ok(retype(m_device, ObjectType::Frame, 0, {&frame})));
  EXPECT_EQ(frame.cap.object(), kDeviceBase);
  EXPECT_EQ(mem(kDeviceBase)[0], kGarbage);  // registers are not written
  EXPECT_EQ(mem(kDeviceBase)[kPageSize - 1], kGarbage);
  Slot& child = host();
  ASSERT_TRUE(ok(retype(m_device, ObjectType::Untyped, 13, {&child})));
  EXPECT_TRUE(child.cap.untyped_device());
  EXPECT_EQ(child.cap.untyped_size_bits(), 13u);
  EXPECT_TRUE(fails_with(retype(child, ObjectType::Endpoint, 0, {&host()}), Error::InvalidArgument));
  Slot& inner = host();
  ASSERT_TRUE(ok(retype(child, ObjectType::Frame, 0, {&inner})));
  EXPECT_EQ(mem(inner.cap.object())[0], kGarbage);
  EXPECT_TRUE(check_cdt(&m_device));
}

// --- CNodes ---------------------------------------------------------------------

TEST_F(CapTest, CNodeLookupSkipsTheHeaderSlot) {
  Slot& cnode = make(ObjectType::CNode, 3);
  std::span<Slot> slots = cnode_slots(cnode.cap);
  ASSERT_EQ(slots.size(), 7u);
  EXPECT_EQ(reinterpret_cast<uint8_t*>(&cnode_header(cnode.cap)), mem(cnode.cap.object()));
  EXPECT_EQ(reinterpret_cast<uint8_t*>(&slots[0]), mem(cnode.cap.object()) + sizeof(Slot));
  for (uint64_t i = 1; i < 8; ++i) {
    auto slot = cnode_lookup(cnode.cap, i);
    ASSERT_TRUE(slot.has_value());
    EXPECT_EQ(*slot, &slots[i - 1]);
    EXPECT_TRUE((*slot)->empty());
  }
  EXPECT_TRUE(fails_with(cnode_lookup(cnode.cap, 0), Error::RangeError));
  EXPECT_TRUE(fails_with(cnode_lookup(cnode.cap, 8), Error::RangeError));
  EXPECT_TRUE(fails_with(cnode_lookup(cnode.cap, ~uint64_t{0}), Error::RangeError));
  EXPECT_TRUE(fails_with(cnode_lookup(m_root.cap, 1), Error::InvalidCapability));
  EXPECT_TRUE(fails_with(cnode_lookup(Capability(), 1), Error::InvalidCapability));
  EXPECT_EQ(cnode_header(cnode.cap).dying, 0u);
}

TEST(CheckCdt, RejectsBrokenLists) {
  Slot a, b, c;
  cdt_insert_root(a, Capability::make(ObjectType::Endpoint, PhysAddr(0x1000), Rights::All));
  EXPECT_TRUE(check_cdt(&a));
  ASSERT_TRUE(cap_copy(a, b, Rights::All).has_value());
  ASSERT_TRUE(cap_copy(b, c, Rights::All).has_value());
  EXPECT_TRUE(check_cdt(&a));
  c.set_depth(4);  // a jump of two levels
  EXPECT_FALSE(check_cdt(&a));
  c.set_depth(2);
  c.prev = &a;  // links disagree
  EXPECT_FALSE(check_cdt(&a));
  c.prev = &b;
  b.cap = Capability::make(ObjectType::Endpoint, PhysAddr(0x2000), Rights::All).value();
  b.set_depth(1);  // caps to 0x1000 are no longer contiguous
  EXPECT_FALSE(check_cdt(&a));
  b.cap = Capability();  // an empty slot in the list
  EXPECT_FALSE(check_cdt(&a));
  b.cap = a.cap;
  b.set_depth(1);
  c.next = &a;  // a cycle
  EXPECT_FALSE(check_cdt(&a));
  c.next = nullptr;
  EXPECT_TRUE(check_cdt(&a));
  Slot lone;  // the first slot of a list has no parent, so it is at depth 0
  cdt_insert_root(lone, a.cap);
  lone.set_depth(1);
  EXPECT_FALSE(check_cdt(&lone));
}

}  // namespace
}  // namespace kern
