// Host tests for taking capabilities away: Delete, finality, Revoke, and the
// destruction of objects that hold slots. Those cases include a CNode that
// holds the last cap to itself, two CNodes that hold each other (also through
// a TCB's binding slot) and chains of 10,000 CNodes. The chains run on a
// 64 KiB stack to show that destruction does not recurse. A seeded random
// run over every slot there is checks the list and a liveness model after
// every step. cap_fixture.h has the simulated memory and the fake kernel.
#include "cap_fixture.h"

#include <algorithm>
#include <optional>
#include <random>
#include <set>

namespace kern {
namespace {

using namespace cap_testing;

// --- Delete, finality, Revoke ----------------------------------------------------

TEST_F(CapTest, OnlyTheLastCapDestroys) {
  Slot& ep = make(ObjectType::Endpoint);
  Slot& copy = host();
  ASSERT_TRUE(ok(cap_copy(ep, copy, Rights::All)));
  EXPECT_FALSE(is_final(ep));
  EXPECT_FALSE(is_final(copy));
  EXPECT_FALSE(is_final(host()));  // empty
  cap_delete(ep, m_hooks);
  EXPECT_TRUE(ep.empty());
  EXPECT_TRUE(m_hooks.destroyed.empty());
  EXPECT_TRUE(is_final(copy));
  cap_delete(copy, m_hooks);
  ASSERT_EQ(m_hooks.destroyed.size(), 1u);
  EXPECT_EQ(m_hooks.destroyed[0].type, ObjectType::Endpoint);
  cap_delete(copy, m_hooks);  // empty: nothing happens
  EXPECT_EQ(m_hooks.destroyed.size(), 1u);
  EXPECT_TRUE(check_cdt(&m_root));
}

TEST_F(CapTest, NeighboursToOtherObjectsDoNotMakeACapNonFinal) {
  Slot& a = make(ObjectType::Endpoint);
  Slot& b = make(ObjectType::Endpoint);
  Slot& frame = make(ObjectType::Frame);
  EXPECT_TRUE(is_final(a));
  EXPECT_TRUE(is_final(b));
  EXPECT_TRUE(is_final(frame));
  EXPECT_TRUE(is_final(m_root));
  Slot& child = host();
  ASSERT_TRUE(ok(retype(m_root, ObjectType::Untyped, 12, {&child})));
  EXPECT_EQ(child.cap.object(), kBase + 2 * kPageSize);
  // Its first child Untyped shares its address, not its size.
  Slot& grandchild = host();
  ASSERT_TRUE(ok(retype(child, ObjectType::Untyped, 11, {&grandchild})));
  EXPECT_EQ(grandchild.cap.object(), child.cap.object());
  EXPECT_TRUE(is_final(child));
  EXPECT_TRUE(is_final(grandchild));
}

// A deleted slot's children move up to its parent, not to the sibling that
// precedes it: revoking that sibling must not take them.
TEST_F(CapTest, DeleteHandsChildrenToParentNotToPreviousSibling) {
  Slot& first = make(ObjectType::Endpoint);
  Slot& second = make(ObjectType::Endpoint);  // list: root, second, first
  Slot& child = host();
  Slot& grandchild = host();
  ASSERT_TRUE(ok(cap_copy(first, child, Rights::All)));
  ASSERT_TRUE(ok(cap_copy(child, grandchild, Rights::All)));
  cap_delete(first, m_hooks);
  EXPECT_TRUE(m_hooks.destroyed.empty());
  EXPECT_EQ(child.depth(), 1u);
  EXPECT_EQ(grandchild.depth(), 2u);
  EXPECT_TRUE(check_cdt(&m_root));
  cap_revoke(second, m_hooks);
  EXPECT_FALSE(child.empty());
  EXPECT_FALSE(grandchild.empty());
  cap_delete(child, m_hooks);  // grandchild moves up to the root's level 1
  EXPECT_EQ(grandchild.depth(), 1u);
  EXPECT_TRUE(is_final(grandchild));
  EXPECT_TRUE(check_cdt(&m_root));
}

TEST_F(CapTest, RevokeDeletesDescendantsOnly) {
  Slot& ep = make(ObjectType::Endpoint);
  Slot& other = make(ObjectType::Notification);
  Slot& a = host();
  Slot& b = host();
  Slot& c = host();
  ASSERT_TRUE(ok(cap_copy(ep, a, Rights::All)));
  ASSERT_TRUE(ok(cap_copy(a, b, Rights::All)));
  ASSERT_TRUE(ok(cap_mint(ep, c, Rights::All, 3)));
  cap_revoke(a, m_hooks);
  EXPECT_TRUE(b.empty());
  EXPECT_FALSE(a.empty());
  EXPECT_FALSE(c.empty());
  cap_revoke(ep, m_hooks);
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(c.empty());
  EXPECT_FALSE(ep.empty());
  EXPECT_FALSE(other.empty());
  EXPECT_TRUE(m_hooks.destroyed.empty());  // ep itself keeps the object
  EXPECT_TRUE(check_cdt(&m_root));
}

TEST_F(CapTest, RevokeOfUntypedDestroysExactlyItsObjectsAndResetsIt) {
  Slot& unrelated = make(ObjectType::Endpoint);
  Slot& ut = host();
  ASSERT_TRUE(ok(retype(m_root, ObjectType::Untyped, 16, {&ut})));
  Slot& cnode = host();
  ASSERT_TRUE(ok(retype(ut, ObjectType::CNode, 3, {&cnode})));
  std::vector<Slot*> made;
  for (ObjectType type : {ObjectType::Tcb, ObjectType::Endpoint, ObjectType::Notification, ObjectType::Frame,
                          ObjectType::VSpace, ObjectType::Untyped}) {
    made.push_back(&host());
    ASSERT_TRUE(ok(retype(ut, type, 8, {made.back()})));
  }
  // Copies inside the CNode and the TCB are descendants too.
  ASSERT_TRUE(ok(cap_copy(*made[1], at(cnode, 1), Rights::All)));
  ASSERT_TRUE(ok(cap_copy(cnode, m_hooks.contained_slots(made[0]->cap)[0], Rights::All)));
  ASSERT_TRUE(ok(cap_copy(unrelated, at(cnode, 2), Rights::All)));
  m_hooks.destroyed.clear();
  cap_revoke(ut, m_hooks);
  EXPECT_EQ(m_hooks.destroyed.size(), 7u);  // the CNode and six objects, once each (the fake checks)
  for (Slot* slot : made) EXPECT_TRUE(slot->empty());
  EXPECT_TRUE(cnode.empty());
  EXPECT_FALSE(has_descendants(ut));
  ASSERT_FALSE(unrelated.empty());
  EXPECT_TRUE(is_final(unrelated));  // its copy went with the CNode
  EXPECT_FALSE(destroyed(unrelated));
  EXPECT_TRUE(check_cdt(&m_root));
  Slot& reused = host();
  ASSERT_TRUE(ok(retype(ut, ObjectType::Frame, 0, {&reused})));
  EXPECT_EQ(reused.cap.object(), ut.cap.object());
}

// The Untyped's own cap lives in a CNode made from it: revoking it destroys
// that CNode, and with it the slot being revoked.
TEST_F(CapTest, RevokeEndsWhenItsSlotIsDestroyed) {
  Slot& ut = host();
  ASSERT_TRUE(ok(retype(m_root, ObjectType::Untyped, 14, {&ut})));
  Slot& cnode = host();
  Slot& ep = host();
  ASSERT_TRUE(ok(retype(ut, ObjectType::CNode, 2, {&cnode})));
  ASSERT_TRUE(ok(cap_move(ut, at(cnode, 3))));
  ASSERT_TRUE(ok(retype(at(cnode, 3), ObjectType::Endpoint, 0, {&ep})));
  m_hooks.destroyed.clear();
  cap_revoke(at(cnode, 3), m_hooks);
  EXPECT_TRUE(cnode.empty());
  EXPECT_TRUE(ep.empty());
  EXPECT_EQ(m_hooks.destroyed.size(), 3u);  // endpoint, Untyped, CNode
  EXPECT_TRUE(check_cdt(&m_root));
  EXPECT_FALSE(has_descendants(m_root));
}

// --- Destroying objects that hold slots -------------------------------------------

TEST_F(CapTest, CNodeHoldingTheLastCapToItself) {
  Slot& cnode = make(ObjectType::CNode, 2);
  Slot& ep = make(ObjectType::Endpoint);
  ASSERT_TRUE(ok(cap_copy(cnode, at(cnode, 1), Rights::All)));
  ASSERT_TRUE(ok(cap_move(ep, at(cnode, 2))));
  Capability cap = cnode.cap;
  cap_delete(cnode, m_hooks);
  EXPECT_TRUE(m_hooks.destroyed.empty());  // its slot 1 still holds a cap to it
  cap_delete(**cnode_lookup(cap, 1), m_hooks);
  ASSERT_EQ(m_hooks.destroyed.size(), 2u);
  EXPECT_EQ(m_hooks.destroyed[0].type, ObjectType::Endpoint);  // contents first
  EXPECT_EQ(m_hooks.destroyed[1], key_of(cap));
  EXPECT_TRUE(check_cdt(&m_root));
  EXPECT_FALSE(has_descendants(m_root));
}

// A holds the last cap to B and B the last cap to A; deleting either slot
// destroys both, each once, contents before holders.
TEST_F(CapTest, TwoCNodesHoldingEachOther) {
  for (int start_in_a : {1, 0}) {
    Slot& a = make(ObjectType::CNode, 1);
    Slot& b = make(ObjectType::CNode, 1);
    Key ka = key_of(a.cap), kb = key_of(b.cap);
    Slot& a_slot = at(a, 1);
    Slot& b_slot = at(b, 1);
    ASSERT_TRUE(ok(cap_copy(a, b_slot, Rights::All)));
    cap_delete(a, m_hooks);
    ASSERT_TRUE(ok(cap_move(b, a_slot)));
    m_hooks.destroyed.clear();
    cap_delete(start_in_a ? a_slot : b_slot, m_hooks);
    std::vector<Key> expected = start_in_a ? std::vector<Key>{ka, kb} : std::vector<Key>{kb, ka};
    EXPECT_EQ(m_hooks.destroyed, expected);
    EXPECT_TRUE(a_slot.empty());
    EXPECT_TRUE(b_slot.empty());
    EXPECT_TRUE(check_cdt(&m_root));
  }
  EXPECT_FALSE(has_descendants(m_root));
}

// A TCB bound to a CNode that holds the only cap to the TCB: a cycle through
// a TCB's binding slot.
TEST_F(CapTest, TcbAndCNodeHoldingEachOther) {
  Slot& tcb = make(ObjectType::Tcb);
  Slot& cnode = make(ObjectType::CNode, 1);
  Slot& binding = m_hooks.contained_slots(tcb.cap)[0];
  ASSERT_TRUE(ok(cap_copy(cnode, binding, Rights::All)));
  ASSERT_TRUE(ok(cap_move(tcb, at(cnode, 1))));
  Key kt = key_of(at(cnode, 1).cap);
  cap_delete(cnode, m_hooks);  // binding still holds the CNode
  EXPECT_TRUE(m_hooks.destroyed.empty());
  cap_delete(binding, m_hooks);
  EXPECT_EQ(m_hooks.destroyed.size(), 2u);
  EXPECT_EQ(m_hooks.destroyed.front(), kt);  // reached from the CNode, so first
  EXPECT_FALSE(has_descendants(m_root));
}

TEST_F(CapTest, NonFinalCapsInADyingCNodeAreJustRemoved) {
  Slot& cnode = make(ObjectType::CNode, 2);
  Slot& inner = make(ObjectType::CNode, 1);
  Slot& ep = make(ObjectType::Endpoint);
  ASSERT_TRUE(ok(cap_copy(inner, at(cnode, 1), Rights::All)));
  ASSERT_TRUE(ok(cap_copy(ep, at(cnode, 2), Rights::All)));
  cap_delete(cnode, m_hooks);
  ASSERT_EQ(m_hooks.destroyed.size(), 1u);
  EXPECT_FALSE(destroyed(inner));
  EXPECT_FALSE(destroyed(ep));
  EXPECT_TRUE(is_final(inner));
  EXPECT_TRUE(is_final(ep));
  EXPECT_EQ(m_hooks.pushes, 1u);
}

// While the CDT is sound no cap to a dying object is left to find (its last
// cap left its slot first). A cap kept outside the list, here a second root,
// must still not push the object twice: that would loop the stack.
TEST_F(CapTest, CapToADyingObjectIsOnlyRemoved) {
  Slot& cnode = make(ObjectType::CNode, 1);
  Slot& inner = at(cnode, 1);
  cdt_insert_root(inner, cnode.cap);
  const Key key = key_of(cnode.cap);
  cap_delete(cnode, m_hooks);
  EXPECT_TRUE(inner.empty());
  EXPECT_EQ(m_hooks.pushes, 1u);
  EXPECT_EQ(m_hooks.destroyed, std::vector<Key>{key});
}

class CapChainTest : public CapTest {
 protected:
  static constexpr size_t kChain = 10'000;
  // kChain CNodes, each slot 1 holding the only cap to the next; the only
  // cap to the first is returned.
  Slot& build_chain() {
    Slot& holder = make(ObjectType::CNode, 14);
    std::vector<Slot*> dests;
    for (size_t i = 1; i <= kChain; ++i) dests.push_back(&at(holder, i));
    EXPECT_TRUE(ok(retype(m_root, ObjectType::CNode, 1, dests)));
    // Each cap moves into the CNode before it, which has itself moved.
    Slot* cnode = dests[0];
    for (size_t i = 1; i < kChain; ++i) {
      Slot& inner = at(*cnode, 1);
      EXPECT_TRUE(ok(cap_move(*dests[i], inner)));
      cnode = &inner;
    }
    return *dests[0];
  }
};

TEST_F(CapChainTest, DeletingTheHeadOfALongChainNeedsNoRecursion) {
  Slot& head = build_chain();
  m_hooks.destroyed.clear();
  run_on_small_stack([&] { cap_delete(head, m_hooks); });
  ASSERT_EQ(m_hooks.destroyed.size(), kChain);
  EXPECT_EQ(m_hooks.pushes, kChain);
  // Innermost first: each CNode is destroyed after what it held.
  for (size_t i = 0; i + 1 < kChain; ++i) EXPECT_GT(m_hooks.destroyed[i].addr, m_hooks.destroyed[i + 1].addr);
  EXPECT_TRUE(check_cdt(&m_root));
}

TEST_F(CapChainTest, RevokingTheUntypedUnderALongChainNeedsNoRecursion) {
  build_chain();
  size_t objects = m_hooks.live.size() - 2;  // less the two root Untyped
  m_hooks.destroyed.clear();
  run_on_small_stack([&] { cap_revoke(m_root, m_hooks); });
  EXPECT_EQ(m_hooks.destroyed.size(), objects);
  EXPECT_EQ(m_hooks.live.size(), 2u);
  EXPECT_EQ(m_root.next, nullptr);
}

// --- Random operations -------------------------------------------------------

// Thousands of random operations on every slot there is: a few host slots,
// plus the slots of every live CNode and TCB, reachable or not. After each
// step the list must pass check_cdt and hold exactly the non-empty slots, and
// the objects that caps name must be exactly the live ones. So every object
// is destroyed when its last cap goes and not before, and never twice (the
// fake checks that). The root Untyped stays put, so it is always the list's
// first slot. It is revoked now and then, which frees everything and lets
// memory be reused.
class CapRandomTest : public CapTest, public testing::WithParamInterface<uint32_t> {
 protected:
  static constexpr int kSteps = 4000;
  static constexpr size_t kHostSlots = 16;
  static constexpr size_t kManySlots = 400;  // above this, make no more CNodes and TCBs

  std::vector<Slot*> all_slots() {
    std::vector<Slot*> slots{&m_root};
    for (size_t i = 0; i < kHostSlots; ++i) slots.push_back(&m_host[i]);
    for (auto& [key, cap] : m_hooks.live) {
      for (Slot& slot : m_hooks.contained_slots(cap)) slots.push_back(&slot);
    }
    return slots;
  }

  void check_model() {
    ASSERT_TRUE(check_cdt(&m_root));
    std::set<const Slot*> in_list;
    for (const Slot* s = &m_root; s != nullptr; s = s->next) in_list.insert(s);
    std::set<Key> named;
    size_t full = 0;
    for (Slot* slot : all_slots()) {
      if (slot->empty()) continue;
      ++full;
      ASSERT_TRUE(in_list.contains(slot)) << "a full slot outside the list";
      named.insert(key_of(slot->cap));
    }
    ASSERT_EQ(full, in_list.size()) << "the list holds slots the model does not know";
    std::set<Key> live;
    for (const auto& [key, cap] : m_hooks.live) live.insert(key);
    ASSERT_EQ(named, live) << "an object outlived its caps, or a cap its object";
  }

  std::mt19937 m_rng{GetParam()};
  std::vector<Slot*> m_slots, m_full, m_empty;  // as the step began

  size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(m_rng); }
  Slot* any(const std::vector<Slot*>& slots) { return slots.empty() ? nullptr : slots[below(slots.size())]; }
  // Mostly a slot that lets the operation succeed, sometimes any slot, so
  // the trees grow and the errors still come up.
  Slot& likely(const std::vector<Slot*>& preferred) {
    Slot* slot = below(10) != 0 ? any(preferred) : nullptr;
    return slot != nullptr ? *slot : *any(m_slots);
  }

  void random_retype() {
    std::vector<Slot*> untyped;
    for (Slot* s : m_full) {
      if (s->cap.type() == ObjectType::Untyped) untyped.push_back(s);
    }
    Slot& ut = *any(untyped);  // the root is always there
    const unsigned ut_bits = ut.cap.untyped_size_bits();
    static constexpr ObjectType kTypes[] = {ObjectType::Untyped, ObjectType::CNode, ObjectType::Tcb,
                                            ObjectType::Endpoint, ObjectType::Notification, ObjectType::Frame,
                                            ObjectType::VSpace};
    ObjectType type = kTypes[below(std::size(kTypes))];
    const bool container = type == ObjectType::CNode || type == ObjectType::Tcb;
    if ((container && m_slots.size() > kManySlots) || (type == ObjectType::Untyped && ut_bits <= kMinUntypedBits)) {
      type = ObjectType::Endpoint;
    }
    unsigned size_bits = 0;
    if (type == ObjectType::CNode) size_bits = unsigned(1 + below(4));
    if (type == ObjectType::Untyped) {
      size_bits = unsigned(kMinUntypedBits + below(std::min(ut_bits - kMinUntypedBits, 12u)));  // < ut_bits
    }
    std::vector<Slot*> dests = m_empty;
    std::shuffle(dests.begin(), dests.end(), m_rng);
    dests.resize(std::min<size_t>(dests.size(), 1 + below(3)));
    if (dests.empty()) return;
    auto before = list_state(&m_root);
    Status status = retype(ut, type, size_bits, dests);
    if (!status) {
      EXPECT_TRUE(fails_with(status, Error::NotEnoughMemory));
      EXPECT_EQ(list_state(&m_root), before);
      return;
    }
    for (Slot* dest : dests) EXPECT_EQ(dest->cap.type(), type);
  }

  void random_copy(bool mint) {
    Slot& src = likely(m_full);
    Slot& dest = likely(m_empty);
    const uint64_t badge = mint && below(2) ? 1 + below(1000) : 0;
    const Rights mask = Rights(below(8));
    const Capability old = src.cap;
    std::optional<Error> expected;  // none: it succeeds
    if (src.empty()) {
      expected = Error::FailedLookup;
    } else if (!dest.empty()) {
      expected = Error::DeleteFirst;
    } else if (old.type() == ObjectType::Untyped) {
      expected = Error::IllegalOperation;
    } else if (badge != 0 && (old.badge() != 0 ||
                              (old.type() != ObjectType::Endpoint && old.type() != ObjectType::Notification))) {
      expected = Error::IllegalOperation;
    } else if (src.depth() == kMaxDepth) {
      expected = Error::RangeError;
    }
    Status status = mint ? cap_mint(src, dest, mask, badge) : cap_copy(src, dest, mask);
    if (expected) {
      EXPECT_TRUE(fails_with(status, *expected));
      return;
    }
    ASSERT_TRUE(ok(status));
    EXPECT_TRUE(dest.cap.same_object(old));
    EXPECT_EQ(dest.cap.rights(), old.rights() & mask);
    EXPECT_EQ(dest.cap.word1(), badge != 0 ? badge : old.word1());
    EXPECT_EQ(src.next, &dest);
  }

  void random_move() {
    Slot& src = likely(m_full);
    Slot& dest = likely(m_empty);
    if (&src == &m_root || &dest == &m_root) return;
    const SlotState old{nullptr, src.cap.type(), src.cap.object().value(), src.cap.word1(), src.cap.rights(),
                        src.depth()};
    const bool dest_full = !dest.empty();
    Status status = cap_move(src, dest);
    if (&src == &dest) {
      EXPECT_TRUE(fails_with(status, Error::InvalidArgument));
    } else if (old.type == ObjectType::Null) {
      EXPECT_TRUE(fails_with(status, Error::FailedLookup));
    } else if (dest_full) {
      EXPECT_TRUE(fails_with(status, Error::DeleteFirst));
    } else {
      ASSERT_TRUE(ok(status));
      EXPECT_EQ((SlotState{nullptr, dest.cap.type(), dest.cap.object().value(), dest.cap.word1(), dest.cap.rights(),
                           dest.depth()}),
                old);
      EXPECT_TRUE(src.empty());
    }
  }
};

TEST_P(CapRandomTest, OperationsKeepTheCdtAndTheLivenessModel) {
  m_hooks.live.erase(key_of(m_device.cap));  // not in this list; left alone
  for (int step = 0; step < kSteps; ++step) {
    SCOPED_TRACE(step);
    m_slots = all_slots();
    m_full.clear();
    m_empty.clear();
    for (Slot* s : m_slots) (s->empty() ? m_empty : m_full).push_back(s);
    std::vector<Slot*> deletable = m_full;
    std::erase(deletable, &m_root);
    // Weights in thousandths: enough building that trees grow deep and wide
    // between the rare revokes of everything.
    const size_t op = below(1000);
    if (op < 330) {
      random_retype();
    } else if (op < 580) {
      random_copy(false);
    } else if (op < 680) {
      random_move();
    } else if (op < 780) {
      random_copy(true);
    } else if (op < 870) {
      if (Slot* s = any(deletable)) cap_delete(*s, m_hooks);
    } else if (op < 998) {
      if (Slot* s = any(m_full)) cap_revoke(*s, m_hooks);
    } else {
      cap_revoke(m_root, m_hooks);
    }
    check_model();
    if (HasFatalFailure()) return;
  }
  // The run did real work: many objects made and destroyed, and many of
  // them objects holding slots.
  EXPECT_GT(m_hooks.inits.size(), size_t{kSteps / 10});
  EXPECT_GT(m_hooks.destroyed.size(), m_hooks.inits.size() / 2);
  EXPECT_GT(m_hooks.pushes, size_t{kSteps / 100});
}

INSTANTIATE_TEST_SUITE_P(Seeds, CapRandomTest, testing::Values(1u, 2u, 3u, 4u, 5u));

}  // namespace
}  // namespace kern
