// Notifications: Signal (a Send on the cap) ORs the cap's badge into the
// word, Wait (Recv) blocks until it is non-zero and returns and clears it,
// Poll (NBRecv) returns it without blocking. A signal wakes one waiter.
#include "ktest.h"
#include "threads.h"

namespace {

using namespace kt;

KTEST(notification, signal_poll) {
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  // Nothing signalled: Poll returns 0 (not an error), Wait would block.
  const Message empty = poll(ntfn);
  CHECK_OK(empty);
  CHECK_EQ(empty.badge, 0);
  // An unbadged cap signals bit 0.
  CHECK_OK(signal(ntfn));
  CHECK_EQ(poll(ntfn).badge, 1);
  CHECK_EQ(poll(ntfn).badge, 0);  // cleared by the read
  // Signals with no waiter accumulate.
  CHECK_OK(signal(ntfn));
  CHECK_OK(signal(ntfn));
  const Message m = wait(ntfn);  // does not block: the word is set
  CHECK_OK(m);
  CHECK_EQ(m.badge, 1);
}

KTEST(notification, badges_or) {
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t caps = t.slots(4);
  const uint64_t badges[4] = {0x1, 0x4, 0x100, 0x8000'0000'0000'0000};
  for (uint64_t i = 0; i < 4; ++i) CHECK_OK(mint(caps + i, ntfn, Rights::Write, badges[i]));
  for (uint64_t i = 0; i < 4; ++i) CHECK_OK(signal(caps + i));
  CHECK_OK(signal(caps + 1));  // the same bit twice is still one bit
  CHECK_EQ(wait(ntfn).badge, 0x8000'0000'0000'0105);
  CHECK_EQ(poll(ntfn).badge, 0);
}

KTEST(notification, rights) {
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t signal_only = t.slot(), wait_only = t.slot();
  CHECK_OK(copy(signal_only, ntfn, Rights::Write));
  CHECK_OK(copy(wait_only, ntfn, Rights::Read));
  CHECK_ERR(signal(wait_only), Error::IllegalOperation);
  CHECK_ERR(wait(signal_only), Error::IllegalOperation);
  CHECK_ERR(poll(signal_only), Error::IllegalOperation);
  CHECK_OK(signal(signal_only));
  CHECK_EQ(poll(wait_only).badge, 1);
  // A Call on a notification is a signal too (nothing to reply).
  CHECK_OK(ipc_call(ntfn, 5, {1, 2}));
  CHECK_EQ(poll(ntfn).badge, 1);
}

// A blocked waiter is woken by a signal and gets the badge.
uint64_t waiter(uint64_t ntfn) {
  const Message m = wait(ntfn);
  return m.error() == Error::Ok ? m.badge : 0xe000 | uint64_t(m.error());
}

KTEST(notification, wakes_waiter) {
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t badged = t.slot();
  CHECK_OK(mint(badged, ntfn, Rights::Write, 0x30));
  const Thread a = KT_TRY(spawn(t, waiter, ntfn));
  const Thread b = KT_TRY(spawn(t, waiter, ntfn));
  // Let both block (a thread below them runs only then).
  ThreadOptions low;
  low.priority = kThreadPriority - 1;
  KT_TRY(join(t, KT_TRY(spawn(t, [](uint64_t) -> uint64_t { return 0; }, 0, low))));
  // One signal wakes one waiter (the first); the second needs another.
  CHECK_OK(signal(badged));
  CHECK_EQ(KT_TRY(join(t, a)), 0x30);
  CHECK_OK(signal(ntfn));
  CHECK_EQ(KT_TRY(join(t, b)), 1);
  CHECK_EQ(poll(ntfn).badge, 0);
}

// A signal from a lower-priority thread wakes the root at once.
uint64_t signaller(uint64_t ntfn) { return uint64_t(signal(ntfn)); }

KTEST(notification, signal_from_thread) {
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  const uint64_t badged = t.slot();
  CHECK_OK(mint(badged, ntfn, Rights::Write, 0x77));
  const Thread th = KT_TRY(spawn(t, signaller, badged));
  CHECK_EQ(wait(ntfn).badge, 0x77);
  CHECK_EQ(KT_TRY(join(t, th)), 0);
}

// Destroying a notification wakes its waiters with InvalidCapability.
KTEST(notification, destroyed_wakes_waiter) {
  const uint64_t ntfn = KT_TRY(t.make(ObjectType::Notification));
  const Thread th = KT_TRY(spawn(t, waiter, ntfn));
  ThreadOptions low;
  low.priority = kThreadPriority - 1;
  KT_TRY(join(t, KT_TRY(spawn(t, [](uint64_t) -> uint64_t { return 0; }, 0, low))));
  CHECK_OK(del(ntfn));
  CHECK_EQ(KT_TRY(join(t, th)), 0xe000 | uint64_t(Error::InvalidCapability));
}

}  // namespace
