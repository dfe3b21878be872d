// Saved replies: SaveReply moves the reply a thread owes into a Reply
// object, and a Send on the object answers the caller later, while the
// server goes on receiving. Every error of SaveReply and of a Send on a
// Reply cap; what happens when the caller is suspended or destroyed, or
// the Reply object is deleted, while a reply is saved; saved fault
// replies; long replies through the IPC buffer; and the fast path still
// serving ordinary calls afterwards.
//
// Unless a test says otherwise the root thread is the server: a spawned
// caller blocks in its Call on the test's endpoint (settle), the root
// receives it, and so owes the reply.
#include <atomic>
#include <string_view>

#include "ktest.h"
#include "lib/bootargs.h"
#include "threads.h"

namespace {

using namespace kt;
using uapi::MessageInfo;
using uapi::Syscall;

constexpr uint64_t kAsk = 0x5;
constexpr uint64_t kFailed = uint64_t{1} << 63;
constexpr uint64_t kLowPriority = kThreadPriority - 10;

// Lets every thread above kLowPriority run until it blocks.
Status settle(Test& t) {
  ThreadOptions low;
  low.priority = kLowPriority;
  TRY_RESULT(join(t, TRY_RESULT(spawn(t, [](uint64_t) -> uint64_t { return 0; }, 0, low))));
  return {};
}

Error invariants() {
  return sys(Syscall::DebugCheckInvariants, 0).info.is_error() ? Error::Malformed : Error::Ok;
}

Error save(uint64_t reply) { return error_of(os::save_reply(reply)); }
Error answer(uint64_t reply, uint64_t label, uint64_t mr0 = 0, uint64_t mr1 = 0) {
  return error_of(os::send_reply(reply, MessageInfo::make(label, 2), mr0, mr1));
}

// What a caller got back, in one word (each field small).
constexpr uint64_t encode(uint64_t label, uint64_t length, uint64_t mr0, uint64_t mr1) {
  return label << 32 | length << 24 | (mr0 & 0xfff) << 12 | (mr1 & 0xfff);
}

// The endpoint the callers call, and which of them have returned (bit id).
std::atomic<uint64_t> g_ep = 0;
std::atomic<uint64_t> g_returned = 0;

// Calls g_ep once (label kAsk, mr0 = id) and returns the reply, encoded.
uint64_t caller(uint64_t id) {
  const Message r = ipc_call(g_ep, kAsk, {id});
  g_returned.fetch_or(uint64_t{1} << id);
  if (r.error() != Error::Ok) return kFailed | uint64_t(r.error());
  return encode(r.info.label(), r.info.length(), r.mr[0], r.mr[1]);
}

bool returned(uint64_t id) { return (g_returned.load() >> id & 1) != 0; }

// A caller that has called (and is blocked), for tests that serve it.
Result<Thread> blocked_caller(Test& t, uint64_t id) {
  const Thread th = TRY_RESULT(spawn(t, caller, id));
  TRY_RESULT(settle(t));
  return th;
}

// Receives the next message on g_ep, which must be the call of `id`.
Status receive_call(Test& t, uint64_t id) {
  const Message m = recv(g_ep);
  if (m.error() != Error::Ok || m.info.label() != kAsk || m.mr[0] != id) {
    t.fail(__FILE_NAME__, __LINE__, "expected the call of {}: error {}, label {:#x}, mr0 {:#x}", id,
           error_name(m.error()), m.info.label(), m.mr[0]);
    return std::unexpected(Error::InvalidArgument);
  }
  return {};
}

void start(Test& t) {
  g_ep = KT_TRY(t.make(ObjectType::Endpoint));
  g_returned = 0;
}

KTEST(reply, save_then_reply_later) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  const Thread a = KT_TRY(blocked_caller(t, 1));
  KT_TRY(receive_call(t, 1));
  const uint64_t received_before = counter(read_counters(a.tcb), uapi::Counter::IpcReceived);
  CHECK_OK(save(r));
  CHECK_OK(invariants());  // a saved caller, linked both ways
  // The root owes nothing now: a Reply goes nowhere, a second save finds
  // nothing, and the saved caller is still waiting.
  CHECK_OK(reply(0xbad, {0xbad}));
  const uint64_t other = KT_TRY(t.make(ObjectType::Reply));
  CHECK_ERR(save(other), Error::FailedLookup);
  CHECK_ERR(save(r), Error::DeleteFirst);
  CHECK_OK(settle(t));
  CHECK(!returned(1));
  // Answered later, with label and words of the server's choosing.
  CHECK_OK(answer(r, 0x9, 0x42, 0x43));
  CHECK_EQ(KT_TRY(join(t, a)), encode(0x9, 2, 0x42, 0x43));
  CHECK_EQ(counter(read_counters(a.tcb), uapi::Counter::IpcReceived), received_before + 1);
  // Used up: empty again.
  CHECK_ERR(answer(r, 0x9), Error::FailedLookup);
  CHECK_OK(invariants());
}

// The Reply object, not the server thread, holds the reply: it outlives the
// thread that saved it, and any holder of a cap with Write may answer.
uint64_t save_and_exit(uint64_t arg) {
  const uint64_t ep = arg & 0xffff, r = arg >> 16;
  const Message m = recv(ep);
  if (m.error() != Error::Ok) return kFailed | uint64_t(m.error());
  return uint64_t(save(r));
}

KTEST(reply, outlives_the_server) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  ThreadOptions high;
  high.priority = kThreadPriority + 10;
  const Thread server = KT_TRY(spawn(t, save_and_exit, g_ep | r << 16, high));
  const Thread a = KT_TRY(blocked_caller(t, 1));
  CHECK_EQ(KT_TRY(join(t, server)), 0);
  CHECK_OK(del(server.tcb));  // the server thread is destroyed
  CHECK_OK(settle(t));
  CHECK(!returned(1));
  CHECK_OK(answer(r, 0x3, 0x7));
  CHECK_EQ(KT_TRY(join(t, a)), encode(0x3, 2, 0x7, 0));
}

// A server thread keeps two callers waiting while it goes on receiving,
// then answers them in reverse order. Its ReplyRecv after each SaveReply
// owes nothing: the reply half (label 0xbad) must reach nobody.
constexpr uint64_t kAnswerAll = 0xa11;

uint64_t deferring_server(uint64_t arg) {
  const uint64_t ep = arg & 0xffff, r1 = arg >> 16 & 0xffff, r2 = arg >> 32;
  Message m = recv(ep);
  const uint64_t first = m.mr[0];
  if (m.error() != Error::Ok || save(r1) != Error::Ok) return 1;
  m = reply_recv(ep, 0xbad, {0xbad, 0xbad});
  const uint64_t second = m.mr[0];
  if (m.error() != Error::Ok || save(r2) != Error::Ok) return 2;
  m = reply_recv(ep, 0xbad, {0xbad, 0xbad});
  if (m.error() != Error::Ok || m.info.label() != kAnswerAll) return 3;
  // mr0: the order of the answer; mr1: the caller's own id.
  if (answer(r2, 0x22, 1, second) != Error::Ok) return 4;
  if (answer(r1, 0x11, 2, first) != Error::Ok) return 5;
  m = reply_recv(ep, 0x33, {3, m.mr[0]});
  if (m.error() != Error::Ok) return 6;
  reply(0, {});  // the root's quit
  return 0x600d;
}

uint64_t answer_all_caller(uint64_t id) {
  const Message r = ipc_call(g_ep, kAnswerAll, {id});
  if (r.error() != Error::Ok) return kFailed | uint64_t(r.error());
  return encode(r.info.label(), r.info.length(), r.mr[0], r.mr[1]);
}

KTEST(reply, two_callers_answered_in_reverse) {
  start(t);
  const uint64_t r1 = KT_TRY(t.make(ObjectType::Reply));
  const uint64_t r2 = KT_TRY(t.make(ObjectType::Reply));
  ThreadOptions high;
  high.priority = kThreadPriority + 10;
  const Thread server = KT_TRY(spawn(t, deferring_server, g_ep | r1 << 16 | r2 << 32, high));
  const Thread a = KT_TRY(blocked_caller(t, 1));
  const Thread b = KT_TRY(blocked_caller(t, 2));
  CHECK_OK(invariants());  // two saved callers
  CHECK(!returned(1) && !returned(2));
  const Thread c = KT_TRY(spawn(t, answer_all_caller, 3));
  CHECK_EQ(KT_TRY(join(t, c)), encode(0x33, 2, 3, 3));
  CHECK_EQ(KT_TRY(join(t, b)), encode(0x22, 2, 1, 2));
  CHECK_EQ(KT_TRY(join(t, a)), encode(0x11, 2, 2, 1));
  CHECK_OK(ipc_call(g_ep, 0x99, {}));
  CHECK_EQ(KT_TRY(join(t, server)), 0x600d);
}

KTEST(reply, reuse) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  for (uint64_t id = 1; id <= 3; ++id) {
    const Thread th = KT_TRY(blocked_caller(t, id));
    KT_TRY(receive_call(t, id));
    CHECK_OK(save(r));
    CHECK_OK(answer(r, 0x40 + id, id));
    CHECK_EQ(KT_TRY(join(t, th)), encode(0x40 + id, 2, id, 0));
    CHECK_ERR(answer(r, 0x40), Error::FailedLookup);
  }
}

// SaveReply's errors, in their order: lookup, InvalidCapability,
// IllegalOperation, DeleteFirst, FailedLookup.
KTEST(reply, save_errors) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  const uint64_t read_only = t.slot();
  CHECK_OK(copy(read_only, r, Rights::Read | Rights::Grant));
  const uint64_t frame = KT_TRY(t.make(ObjectType::Frame));
  CHECK_ERR(save(0), Error::RangeError);
  CHECK_ERR(save(uint64_t{1} << env().info->root_cnode_radix), Error::RangeError);
  CHECK_ERR(save(t.slot()), Error::FailedLookup);
  // Nothing is owed, so each error below comes before FailedLookup.
  CHECK_ERR(save(g_ep), Error::InvalidCapability);
  CHECK_ERR(save(frame), Error::InvalidCapability);
  CHECK_ERR(save(read_only), Error::IllegalOperation);
  CHECK_ERR(save(r), Error::FailedLookup);

  // With a reply owed: the failed saves leave it owed.
  const Thread a = KT_TRY(blocked_caller(t, 1));
  KT_TRY(receive_call(t, 1));
  CHECK_ERR(save(g_ep), Error::InvalidCapability);
  CHECK_ERR(save(read_only), Error::IllegalOperation);
  CHECK_OK(save(r));
  // A full object: DeleteFirst, with or without a reply owed.
  CHECK_ERR(save(r), Error::DeleteFirst);
  const Thread b = KT_TRY(blocked_caller(t, 2));
  KT_TRY(receive_call(t, 2));
  CHECK_ERR(save(r), Error::DeleteFirst);
  // The reply to b is still owed (the implicit way), a's still saved.
  CHECK_OK(reply(0x2, {0x20}));
  CHECK_EQ(KT_TRY(join(t, b)), encode(0x2, 1, 0x20, 0));
  CHECK_OK(answer(r, 0x1, 0x10));
  CHECK_EQ(KT_TRY(join(t, a)), encode(0x1, 2, 0x10, 0));
}

// Send and NBSend on a Reply cap: FailedLookup when it holds nobody,
// IllegalOperation without Write or for a Call. Receiving on it is
// refused like on any object that is not an endpoint or notification.
KTEST(reply, send_errors) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  const uint64_t read_only = t.slot();
  CHECK_OK(copy(read_only, r, Rights::Read));
  CHECK_ERR(send(r, 1, {}), Error::FailedLookup);
  CHECK_ERR(nb_send(r, 1, {}), Error::FailedLookup);
  CHECK_ERR(send(read_only, 1, {}), Error::IllegalOperation);
  CHECK_ERR(ipc_call(r, 1, {}), Error::IllegalOperation);
  CHECK_ERR(nb_recv(r), Error::InvalidCapability);
  CHECK_ERR(recv(r), Error::InvalidCapability);
  CHECK_ERR(reply_recv(r, 0, {}), Error::InvalidCapability);
  CHECK_ERR(nb_recv(read_only), Error::InvalidCapability);

  // With a caller saved: none of these errors delivers anything.
  const Thread a = KT_TRY(blocked_caller(t, 1));
  KT_TRY(receive_call(t, 1));
  CHECK_OK(save(r));
  CHECK_ERR(send(read_only, 0xbad, {}), Error::IllegalOperation);
  CHECK_ERR(nb_send(read_only, 0xbad, {}), Error::IllegalOperation);
  CHECK_ERR(ipc_call(r, 0xbad, {}), Error::IllegalOperation);
  CHECK_ERR(nb_recv(r), Error::InvalidCapability);
  CHECK_OK(settle(t));
  CHECK(!returned(1));
  // NBSend delivers like Send.
  CHECK_OK(nb_send(r, 0x6, {0x60}));
  CHECK_EQ(KT_TRY(join(t, a)), encode(0x6, 1, 0x60, 0));
  CHECK_ERR(nb_send(r, 0x6, {}), Error::FailedLookup);
}

// Reply caps copy like endpoint caps (no badge); every copy names the one
// object, and the object lives while any copy does.
KTEST(reply, copies_share_the_object) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  const uint64_t copy1 = t.slot(), badged = t.slot();
  CHECK_OK(copy(copy1, r, Rights::All));
  CHECK_ERR(mint(badged, r, Rights::All, 5), Error::IllegalOperation);
  const Thread a = KT_TRY(blocked_caller(t, 1));
  KT_TRY(receive_call(t, 1));
  CHECK_OK(save(copy1));
  CHECK_ERR(save(r), Error::DeleteFirst);  // the same object, now full
  CHECK_OK(del(r));                          // copy1 keeps the object
  CHECK_OK(invariants());
  CHECK_OK(answer(copy1, 0x8, 0x80));
  CHECK_EQ(KT_TRY(join(t, a)), encode(0x8, 2, 0x80, 0));
}

// The saved caller is suspended: the object empties (a Send finds nobody),
// and when resumed the caller's Call starts again: the server receives it
// a second time and this reply reaches it.
KTEST(reply, caller_suspended) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  const Thread a = KT_TRY(blocked_caller(t, 1));
  KT_TRY(receive_call(t, 1));
  CHECK_OK(save(r));
  CHECK_OK(suspend(a.tcb));
  CHECK_OK(invariants());
  CHECK_ERR(answer(r, 0xbad), Error::FailedLookup);
  CHECK_ERR(save(r), Error::FailedLookup);
  CHECK_OK(resume(a.tcb));
  CHECK_OK(settle(t));
  CHECK(!returned(1));
  KT_TRY(receive_call(t, 1));  // the Call again
  CHECK_OK(save(r));            // the object can be used again
  CHECK_OK(answer(r, 0x4, 0x44));
  CHECK_EQ(KT_TRY(join(t, a)), encode(0x4, 2, 0x44, 0));
}

// The saved caller is destroyed: the object empties and a Send finds
// nobody (it must not touch the dead thread's memory).
KTEST(reply, caller_destroyed) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  const Thread a = KT_TRY(blocked_caller(t, 1));
  KT_TRY(receive_call(t, 1));
  CHECK_OK(save(r));
  CHECK_OK(del(a.tcb));
  CHECK_OK(invariants());
  CHECK_ERR(answer(r, 0xbad), Error::FailedLookup);
  // Still usable.
  const Thread b = KT_TRY(blocked_caller(t, 2));
  KT_TRY(receive_call(t, 2));
  CHECK_OK(save(r));
  CHECK_OK(answer(r, 0x2, 0x22));
  CHECK_EQ(KT_TRY(join(t, b)), encode(0x2, 2, 0x22, 0));
}

// The Reply object is destroyed (its last cap deleted, or its Untyped
// revoked) while it holds a caller: that caller's reply is lost, as an
// implicit reply is; the caller stays blocked until suspended, and then
// restarts its Call.
KTEST(reply, object_destroyed) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  const Thread a = KT_TRY(blocked_caller(t, 1));
  KT_TRY(receive_call(t, 1));
  CHECK_OK(save(r));
  CHECK_OK(del(r));
  CHECK_OK(invariants());
  const uint64_t untyped = KT_TRY(t.make_untyped(12));
  const uint64_t r2 = t.slot();
  CHECK_OK(retype(untyped, ObjectType::Reply, 0, 1, r2));
  const Thread b = KT_TRY(blocked_caller(t, 2));
  KT_TRY(receive_call(t, 2));
  CHECK_OK(save(r2));
  CHECK_OK(revoke(untyped));  // destroys the Reply object
  CHECK_ERR(answer(r2, 0xbad), Error::FailedLookup);  // its slot is empty now
  CHECK_OK(invariants());
  CHECK_OK(reply(0xbad, {}));  // nothing owed either
  CHECK_OK(settle(t));
  CHECK(!returned(1) && !returned(2));
  // The memory is used again: a fresh object there holds nobody.
  CHECK_OK(retype(untyped, ObjectType::Reply, 0, 1, r2));
  CHECK_ERR(answer(r2, 0xbad), Error::FailedLookup);
  for (const Thread* th : {&a, &b}) {
    CHECK_OK(suspend(th->tcb));
    CHECK_OK(resume(th->tcb));
  }
  CHECK_OK(settle(t));
  KT_TRY(receive_call(t, 1));
  CHECK_OK(save(r2));
  KT_TRY(receive_call(t, 2));
  CHECK_OK(reply(0x2, {0x20}));
  CHECK_OK(answer(r2, 0x1, 0x10));
  CHECK_EQ(KT_TRY(join(t, a)), encode(0x1, 2, 0x10, 0));
  CHECK_EQ(KT_TRY(join(t, b)), encode(0x2, 1, 0x20, 0));
}

// --- fault replies ------------------------------------------------------------------

uint64_t load(uint64_t address) { return *reinterpret_cast<volatile uint64_t*>(address); }
uint64_t jump(uint64_t address) {
  reinterpret_cast<void (*)()>(address)();
  return 7;
}

// A thread whose fault endpoint is g_ep, running fn(arg); the root
// receives its fault (and owes the fault reply).
Result<Thread> faulted(Test& t, ThreadFn fn, uint64_t arg, Message& fault) {
  ThreadOptions options;
  options.fault_ep = g_ep;
  const Thread th = TRY_RESULT(spawn(t, fn, arg, options));
  TRY_RESULT(settle(t));
  fault = recv(g_ep);
  if (fault.error() != Error::Ok || fault.info.label() != uint64_t(uapi::FaultLabel::PageFault)) {
    t.fail(__FILE_NAME__, __LINE__, "expected a page fault: error {}, label {}", error_name(fault.error()),
           fault.info.label());
    return std::unexpected(Error::InvalidArgument);
  }
  return th;
}

// A page fault handled later: the server saves the fault reply, serves a
// Call meanwhile, maps the page and resumes the thread with label 0 (the
// instruction runs again).
KTEST(reply, saved_fault_reply) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  const auto data = KT_TRY(t.map_new(1));
  *reinterpret_cast<volatile uint64_t*>(data.va) = 0x5eed;
  const uint64_t target = t.va(1);
  Message fault;
  const Thread th = KT_TRY(faulted(t, load, target, fault));
  CHECK_EQ(fault.mr[1], target);
  CHECK_OK(save(r));
  CHECK_OK(invariants());
  const Thread b = KT_TRY(blocked_caller(t, 2));
  KT_TRY(receive_call(t, 2));
  CHECK_OK(reply(0x2, {0x20}));
  CHECK_EQ(KT_TRY(join(t, b)), encode(0x2, 1, 0x20, 0));
  CHECK_OK(map(kRootVSpace, target, data.first_frame, 1, kR));
  CHECK_OK(os::send_reply(r, MessageInfo::make(0, 0)));
  CHECK_EQ(KT_TRY(join(t, th)), 0x5eed);
}

// Label 0 with mr0: the thread resumes at the new pc (here the return
// address of its call to an unmapped page).
KTEST(reply, saved_fault_reply_new_pc) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  const uint64_t target = t.va(1);
  Message fault;
  const Thread th = KT_TRY(faulted(t, jump, target, fault));
  CHECK_EQ(fault.mr[0], target);
  CHECK_OK(save(r));
  const uint64_t ra = read_registers(th.tcb).mr[1];
  CHECK(ra >= 0x10000 && ra < 0x1000'0000);
  CHECK_OK(os::send_reply(r, MessageInfo::make(0, 1), ra));
  CHECK_EQ(KT_TRY(join(t, th)), 7);
}

// Another label leaves the thread stopped at the faulting instruction; a
// saved faulted thread that is suspended is not moved back like a system
// call would be.
KTEST(reply, saved_fault_reply_stops_and_suspend) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  const auto data = KT_TRY(t.map_new(1));
  *reinterpret_cast<volatile uint64_t*>(data.va) = 0x77;
  const uint64_t target = t.va(1);
  Message fault;
  const Thread th = KT_TRY(faulted(t, load, target, fault));
  CHECK_OK(save(r));
  CHECK_OK(os::send_reply(r, MessageInfo::make(1, 0)));
  CHECK_OK(settle(t));  // it would run now if it could
  CHECK_EQ(read_registers(th.tcb).mr[0], fault.mr[0]);
  CHECK_OK(resume(th.tcb));  // faults again
  CHECK_OK(settle(t));
  const Message again = recv(g_ep);
  CHECK_OK(again);
  CHECK_EQ(again.mr[0], fault.mr[0]);
  CHECK_OK(save(r));
  CHECK_OK(suspend(th.tcb));
  CHECK_ERR(os::send_reply(r, MessageInfo::make(0, 0)), Error::FailedLookup);
  CHECK_EQ(read_registers(th.tcb).mr[0], fault.mr[0]);  // not moved back by 4
  CHECK_OK(map(kRootVSpace, target, data.first_frame, 1, kR));
  CHECK_OK(resume(th.tcb));
  CHECK_EQ(KT_TRY(join(t, th)), 0x77);
}

// --- long replies ---------------------------------------------------------------------

// Calls g_ep with one word; checks that the reply holds words 0x2000 + i.
// Returns the delivered length, the label and the wrong words.
uint64_t long_caller(uint64_t) {
  const Message r = ipc_call(g_ep, kAsk, {0});
  if (r.error() != Error::Ok) return kFailed | uint64_t(r.error());
  uint64_t wrong = 0;
  for (uint64_t i = 0; i < r.info.length(); ++i) wrong += r.mr[i] != 0x2000 + i;
  return r.info.label() << 32 | wrong << 16 | r.info.length();
}

// Send (or NBSend) on a Reply cap with `length` words, 4.. from the
// root's IPC buffer.
Error send_long(Syscall how, uint64_t reply, uint64_t label, uint64_t length) {
  for (uint64_t i = 4; i < uapi::kMaxMessageLength; ++i) my_buffer()->mr[i] = 0x2000 + i;
  return message_of(sys(how, reply, MessageInfo::make(label, length), 0x2000, 0x2001, 0x2002, 0x2003)).error();
}

KTEST(reply, long_message) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  struct Case {
    Syscall how;
    uint64_t length;
    uint64_t delivered;
  };
  for (const Case c : {Case{Syscall::Send, 30, 30}, Case{Syscall::NBSend, 5, 5},
                       Case{Syscall::Send, uapi::kMaxMessageLength, uapi::kMaxMessageLength},
                       Case{Syscall::Send, 100, uapi::kMaxMessageLength}}) {
    const Thread th = KT_TRY(spawn(t, long_caller, 0));
    CHECK_OK(settle(t));
    CHECK_OK(recv(g_ep));
    CHECK_OK(save(r));
    CHECK_OK(send_long(c.how, r, 0x66, c.length));
    CHECK_EQ(KT_TRY(join(t, th)), uint64_t{0x66} << 32 | c.delivered);
  }
}

// --- the fast path ---------------------------------------------------------------------

// An echo server (label + 1, mr0 + 1, same length) that on kSave saves the
// caller's reply in `r` and on kAnswerSaved answers it, then goes on.
constexpr uint64_t kSave = 0x51, kAnswerSaved = 0x52, kQuit = 0x99;

// The round trips use the raw system call results, not Message: copying
// a Message (64 words) would cost more than the IPC measured.
uint64_t saving_echo_server(uint64_t arg) {
  const uint64_t ep = arg & 0xffff, r = arg >> 16;
  os::SyscallResult m = sys(Syscall::Recv, ep);
  uint64_t served = 0;
  while (!m.info.is_error() && m.info.label() != kQuit) {
    ++served;
    uint64_t label = m.info.label() + 1;
    if (m.info.label() == kSave) {
      if (save(r) != Error::Ok) return kFailed | 1;
      label = 0xbad;  // this reply half owes nothing
    } else if (m.info.label() == kAnswerSaved) {
      if (answer(r, 0x5a, 77) != Error::Ok) return kFailed | 2;
    }
    m = sys(Syscall::ReplyRecv, ep, MessageInfo::make(label, m.info.length()), m.mr[0] + 1, m.mr[1], m.mr[2],
            m.mr[3]);
  }
  reply(0, {});
  return served;
}

uint64_t save_caller(uint64_t) {
  const Message r = ipc_call(g_ep, kSave, {0});
  if (r.error() != Error::Ok) return kFailed | uint64_t(r.error());
  return encode(r.info.label(), r.info.length(), r.mr[0], 0);
}

uint64_t instructions(uint64_t tcb) { return counter(read_counters(tcb), uapi::Counter::Instructions); }

// Instructions the root and the server spend on `rounds` round trips of
// `length` words.
Result<uint64_t> round_trips(Test& t, const Thread& server, uint64_t length, uint64_t rounds) {
  const uint64_t before = instructions(kRootTcb) + instructions(server.tcb);
  for (uint64_t i = 0; i < rounds; ++i) {
    const os::SyscallResult m = sys(Syscall::Call, g_ep, MessageInfo::make(1, length), i);
    if (m.info.is_error() || m.info.label() != 2 || m.info.length() != length || m.mr[0] != i + 1) {
      t.fail(__FILE_NAME__, __LINE__, "round trip {}: info {:#x}, mr0 {}", i, m.info.raw, m.mr[0]);
      return std::unexpected(Error::InvalidArgument);
    }
  }
  return instructions(kRootTcb) + instructions(server.tcb) - before;
}

// After a SaveReply (and the slow ReplyRecv that follows it, owing
// nothing), ordinary short Call/ReplyRecv round trips take the fast path
// again: they cost far fewer instructions than round trips of five words,
// which the fast path never takes. Instructions are counted exactly only
// under qemu -icount (bootargs ktest.icount say so; without it instret
// follows the host's clock), and with kernel.fastpath=0 both kinds are
// slow: then only the messages are checked.
KTEST(reply, fast_path_after_save) {
  start(t);
  const uint64_t r = KT_TRY(t.make(ObjectType::Reply));
  const Thread server = KT_TRY(spawn(t, saving_echo_server, g_ep | r << 16));
  const Thread saved = KT_TRY(spawn(t, save_caller, 0, ThreadOptions{.priority = kLowPriority + 5}));
  CHECK_OK(settle(t));  // its Call is saved, the server receives again
  constexpr uint64_t kRounds = 32;
  const uint64_t fast = KT_TRY(round_trips(t, server, 1, kRounds));
  const uint64_t slow = KT_TRY(round_trips(t, server, 5, kRounds));
  const std::string_view bootargs(env().info->bootargs);
  const bool exact = kern::bootarg(bootargs, "ktest.icount").has_value();
  const bool fastpath_on = kern::bootarg_number(bootargs, "kernel.fastpath").value_or(1) != 0;
  // Both halves fast: about 45 %; one of them slow: about 70 %.
  if (exact && fastpath_on && fast * 20 > slow * 11) {
    KT_FAIL("short round trips cost {} instructions, five-word ones {}: no fast path", fast / kRounds,
            slow / kRounds);
  }
  // The saved caller is answered at the end.
  CHECK_OK(ipc_call(g_ep, kAnswerSaved, {0}));
  CHECK_EQ(KT_TRY(join(t, saved)), encode(0x5a, 2, 77, 0));
  CHECK_OK(ipc_call(g_ep, kQuit, {}));
  CHECK_EQ(KT_TRY(join(t, server)), 1 + 2 * kRounds + 1);
}

}  // namespace
