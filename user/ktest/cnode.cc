// CNode invocations: Copy (with a rights mask), Mint (badges), Move, Delete
// and Revoke, on the root CNode and on CNodes made by the test, with their
// error paths. Endpoint caps serve as the objects: NBRecv tells whether a
// cap is there (WouldBlock) and whether it has Read (IllegalOperation).
#include "ktest.h"

namespace {

using namespace kt;

// Distinguishes an endpoint cap with Read (WouldBlock), without Read
// (IllegalOperation) and no cap (FailedLookup).
Error probe(uint64_t cptr) { return nb_recv(cptr).error(); }

KTEST(cnode, copy) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t copy_all = t.slot();
  const uint64_t copy_write = t.slot();
  CHECK_OK(copy(copy_all, ep, Rights::All));
  CHECK_OK(copy(copy_write, ep, Rights::Write));
  CHECK_ERR(probe(copy_all), Error::WouldBlock);
  // Without Read the copy cannot receive; with Write it can still send.
  CHECK_ERR(probe(copy_write), Error::IllegalOperation);
  CHECK_OK(nb_send(copy_write, 1, {}));
  // A copy of the reduced copy cannot get Read back.
  const uint64_t regrown = t.slot();
  CHECK_OK(copy(regrown, copy_write, Rights::All));
  CHECK_ERR(probe(regrown), Error::IllegalOperation);
  // A copy with no rights at all can do nothing.
  const uint64_t none = t.slot();
  CHECK_OK(copy(none, ep, Rights::None));
  CHECK_ERR(nb_send(none, 1, {}), Error::IllegalOperation);
  CHECK_ERR(probe(none), Error::IllegalOperation);
  // Deleting the original leaves the copies working.
  CHECK_OK(del(ep));
  CHECK_ERR(probe(copy_all), Error::WouldBlock);
}

KTEST(cnode, copy_errors) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  const uint64_t dest = t.slot();
  const uint64_t beyond = uint64_t{1} << env().info->root_cnode_radix;
  CHECK_ERR(copy(dest, t.slot(), Rights::All), Error::FailedLookup);  // empty source
  CHECK_ERR(copy(frame, ep, Rights::All), Error::DeleteFirst);         // occupied destination
  CHECK_ERR(copy(ep, ep, Rights::All), Error::DeleteFirst);
  CHECK_ERR(copy(0, ep, Rights::All), Error::RangeError);
  CHECK_ERR(copy(beyond, ep, Rights::All), Error::RangeError);
  CHECK_ERR(copy(dest, beyond, Rights::All), Error::RangeError);
  CHECK_ERR(copy(dest, 0, Rights::All), Error::RangeError);
  CHECK_ERR(copy(dest, ep, Rights(8)), Error::InvalidArgument);  // no such right
  // The source CNode must be a CNode; the invoked one needs Write.
  CHECK_ERR(copy(dest, ep, Rights::All, kRootCNode, frame), Error::InvalidCapability);
  CHECK_ERR(copy(dest, ep, Rights::All, kRootCNode, t.slot()), Error::FailedLookup);
  const uint64_t ro_cnode = t.slot();
  CHECK_OK(copy(ro_cnode, kRootCNode, Rights::Read));
  CHECK_ERR(copy(dest, ep, Rights::All, ro_cnode), Error::IllegalOperation);
  // Copying or minting *from* a CNode needs Read on it, not Write.
  CHECK_OK(copy(dest, ep, Rights::All, kRootCNode, ro_cnode));
  CHECK_OK(del(dest));
  const uint64_t wo_cnode = t.slot();
  CHECK_OK(copy(wo_cnode, kRootCNode, Rights::Write));
  CHECK_ERR(copy(dest, ep, Rights::All, kRootCNode, wo_cnode), Error::IllegalOperation);
  CHECK_ERR(probe(dest), Error::FailedLookup);
  // Missing arguments.
  CHECK_ERR(call(kRootCNode, Label::CNodeCopy, {dest, ep}, {kRootCNode}), Error::TruncatedMessage);
  CHECK_ERR(call(kRootCNode, Label::CNodeCopy, {dest, ep, 7}), Error::TruncatedMessage);
  CHECK_ERR(call(kRootCNode, Label::CNodeCopy, {}), Error::TruncatedMessage);
  CHECK_ERR(probe(dest), Error::FailedLookup);
}

KTEST(cnode, mint_badges) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t badged = t.slot();
  CHECK_OK(mint(badged, ep, Rights::All, 0xbad6e));
  // The badge reaches the receiver: send through the badged cap, receive
  // through the original.
  CHECK_OK(nb_send(badged, 1, {}));  // no receiver: dropped
  // A badged cap cannot be rebadged (its holder could pose as another)...
  CHECK_ERR(mint(t.slot(), badged, Rights::All, 7), Error::IllegalOperation);
  // ...but can be copied, or minted with badge 0 (a plain copy), with fewer rights.
  const uint64_t again = t.slot();
  CHECK_OK(mint(again, badged, Rights::Write, 0));
  CHECK_ERR(probe(again), Error::IllegalOperation);
  // Badges are for endpoints and notifications only.
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  CHECK_ERR(mint(t.slot(), frame, Rights::All, 5), Error::IllegalOperation);
  const uint64_t plain = t.slot();
  CHECK_OK(mint(plain, frame, Rights::Read, 0));
  CHECK_OK(frame_info(plain));
  // Notifications: the badge is what a signal ORs into the word.
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t n2 = t.slot(), n8 = t.slot();
  CHECK_OK(mint(n2, ntfn, Rights::Write, 2));
  CHECK_OK(mint(n8, ntfn, Rights::Write, 8));
  CHECK_OK(signal(n2));
  CHECK_OK(signal(n8));
  CHECK_EQ(poll(ntfn).badge, 10);
  // Missing badge.
  CHECK_ERR(call(kRootCNode, Label::CNodeMint, {t.slot(), ep, 7}, {kRootCNode}), Error::TruncatedMessage);
}

KTEST(cnode, move) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t copy_of = t.slot();
  CHECK_OK(copy(copy_of, ep, Rights::Read));
  const uint64_t dest = t.slot();
  CHECK_OK(move(dest, ep));
  CHECK_ERR(probe(ep), Error::FailedLookup);
  CHECK_ERR(probe(dest), Error::WouldBlock);
  // The moved cap keeps its place in the derivation tree: revoking it
  // still removes the copy made before the move.
  CHECK_OK(revoke(dest));
  CHECK_ERR(probe(copy_of), Error::FailedLookup);
  // Errors: empty source, occupied destination, the same slot.
  CHECK_ERR(move(t.slot(), ep), Error::FailedLookup);
  const uint64_t other = KT_TRY(t.make(ObjectType::Notification));
  CHECK_ERR(move(other, dest), Error::DeleteFirst);
  CHECK_ERR(move(dest, dest), Error::InvalidArgument);
  CHECK_ERR(move(0, dest), Error::RangeError);
  // Taking a cap out of a CNode needs Write on that CNode.
  const uint64_t ro_cnode = t.slot();
  CHECK_OK(copy(ro_cnode, kRootCNode, Rights::Read));
  CHECK_ERR(move(t.slot(), dest, kRootCNode, ro_cnode), Error::IllegalOperation);
  CHECK_ERR(call(kRootCNode, Label::CNodeMove, {t.slot(), dest}), Error::TruncatedMessage);
  CHECK_ERR(probe(dest), Error::WouldBlock);
}

// Caps can live in any CNode: copy into a CNode made by the test and move
// them back; its indices are bounded by its own radix.
KTEST(cnode, other_cnode) {
  const uint64_t cnode = KT_TRY(t.make(ObjectType::CNode, 3));  // 8 slots
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  CHECK_OK(copy(5, ep, Rights::All, cnode));
  CHECK_ERR(copy(5, ep, Rights::All, cnode), Error::DeleteFirst);
  CHECK_ERR(copy(8, ep, Rights::All, cnode), Error::RangeError);
  CHECK_ERR(copy(0, ep, Rights::All, cnode), Error::RangeError);
  // From the small CNode back into the root one.
  const uint64_t back = t.slot();
  CHECK_OK(move(back, 5, kRootCNode, cnode));
  CHECK_ERR(probe(back), Error::WouldBlock);
  CHECK_ERR(move(t.slot(), 5, kRootCNode, cnode), Error::FailedLookup);
  CHECK_ERR(del(8, cnode), Error::RangeError);
  CHECK_OK(del(5, cnode));  // an empty slot: nothing to do
  // Deleting the last cap to a CNode destroys it with the caps in it; the
  // objects they named live on while other caps name them.
  CHECK_OK(copy(1, back, Rights::All, cnode));
  CHECK_OK(del(cnode));
  CHECK_ERR(copy(2, ep, Rights::All, cnode), Error::FailedLookup);
  CHECK_ERR(probe(back), Error::WouldBlock);
  CHECK_ERR(probe(ep), Error::WouldBlock);
}

KTEST(cnode, delete) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t c = t.slot();
  CHECK_OK(copy(c, ep, Rights::All));
  CHECK_OK(del(c));
  CHECK_ERR(probe(c), Error::FailedLookup);
  CHECK_ERR(probe(ep), Error::WouldBlock);
  CHECK_OK(del(c));  // deleting an empty slot is not an error
  CHECK_OK(del(ep));
  CHECK_ERR(probe(ep), Error::FailedLookup);
  // The slot can be used again.
  CHECK_OK(retype(t.untyped(), ObjectType::Notification, 0, 1, ep));
  CHECK_ERR(del(0), Error::RangeError);
  CHECK_ERR(del(uint64_t{1} << env().info->root_cnode_radix), Error::RangeError);
  CHECK_ERR(call(kRootCNode, Label::CNodeDelete, {}), Error::TruncatedMessage);
  const uint64_t ro_cnode = t.slot();
  CHECK_OK(copy(ro_cnode, kRootCNode, Rights::Read));
  CHECK_ERR(del(ep, ro_cnode), Error::IllegalOperation);
  CHECK_ERR(revoke(ep, ro_cnode), Error::IllegalOperation);
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  CHECK_ERR(call(frame, Label::CNodeDelete, {ep}), Error::IllegalOperation);
}

// Revoke deletes every cap derived from a slot (copies, mints, copies of
// those), not the slot itself and not its siblings.
KTEST(cnode, revoke) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  const uint64_t s = t.slots(5);
  CHECK_OK(copy(s, ep, Rights::All));          // child
  CHECK_OK(mint(s + 1, ep, Rights::All, 9));   // child
  CHECK_OK(copy(s + 2, s + 1, Rights::Read));  // grandchild
  CHECK_OK(copy(s + 3, s, Rights::All));       // grandchild
  const uint64_t other = KT_TRY(t.make(ObjectType::Endpoint));
  CHECK_OK(copy(s + 4, other, Rights::All));
  // Revoking a child takes its subtree only.
  CHECK_OK(revoke(s));
  CHECK_ERR(probe(s + 3), Error::FailedLookup);
  CHECK_ERR(probe(s), Error::WouldBlock);
  CHECK_ERR(probe(s + 2), Error::WouldBlock);
  CHECK_OK(revoke(ep));
  for (uint64_t i = 0; i < 4; ++i) CHECK_ERR(probe(s + i), Error::FailedLookup);
  CHECK_ERR(probe(ep), Error::WouldBlock);
  CHECK_ERR(probe(s + 4), Error::WouldBlock);  // another object's copy
  CHECK_OK(revoke(ep));                        // nothing left to revoke
  CHECK_OK(revoke(t.slot()));                  // an empty slot
  CHECK_ERR(revoke(0), Error::RangeError);
  CHECK_ERR(call(kRootCNode, Label::CNodeRevoke, {}), Error::TruncatedMessage);
}

// A copy made after a revoke is a fresh child; a copy of a copy of a copy
// is still found by revoking the first one.
KTEST(cnode, revoke_deep_chain) {
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  constexpr size_t kChain = 40;
  const uint64_t s = t.slots(kChain);
  uint64_t from = ep;
  for (size_t i = 0; i < kChain; ++i) {
    CHECK_OK(copy(s + i, from, Rights::All));
    from = s + i;
  }
  // Deleting a middle link keeps the ones below it revocable from above.
  CHECK_OK(del(s + kChain / 2));
  CHECK_OK(revoke(s));
  for (size_t i = 1; i < kChain; ++i) CHECK_ERR(probe(s + i), Error::FailedLookup);
  CHECK_ERR(probe(s), Error::WouldBlock);
}

// CNodes that hold the last caps to themselves or to each other are
// unreachable but still objects: revoking their Untyped destroys them (the
// runner's invariant check after the test looks at what is left).
KTEST(cnode, self_and_cycles) {
  const uint64_t ut = KT_TRY(t.make_untyped(16));
  const uint64_t s = t.slots(3);
  CHECK_OK(retype(ut, ObjectType::CNode, 2, 3, s));
  // s holds its own last cap.
  CHECK_OK(copy(1, s, Rights::All, s));
  CHECK_OK(del(s));
  // s+1 and s+2 hold each other's last caps.
  CHECK_OK(copy(1, s + 2, Rights::All, s + 1));
  CHECK_OK(copy(1, s + 1, Rights::All, s + 2));
  const uint64_t ep = KT_TRY(t.make(ObjectType::Endpoint));
  CHECK_OK(copy(2, ep, Rights::All, s + 1));
  CHECK_OK(del(s + 1));
  CHECK_OK(del(s + 2));
  // The endpoint copy inside the cycle is a descendant of `ep`: revoke finds it.
  CHECK_OK(revoke(ep));
  CHECK_OK(revoke(ut));
  CHECK_OK(retype(ut, ObjectType::Untyped, 15, 2, s));
}

}  // namespace
