// Recipes: short sequences of invocations in which each step uses what the
// step before made (a slot just retyped, a frame just mapped). Single random
// calls rarely line up like this; the kernel's subtle cases (memory handed
// out again while still in use, objects destroyed under a running
// operation, threads losing their bindings) need them. Every argument not
// fixed by the recipe is random, and a step that fails does not stop the
// recipe: the steps after it then test the error paths.
#include <initializer_list>

#include "generator.h"

namespace fuzz {
namespace {

using uapi::Label;
using uapi::MessageInfo;
using uapi::ObjectType;
using uapi::Syscall;

constexpr uint64_t kReadWrite = 3;  // MapPerm Read | Write

uint64_t type(ObjectType t) { return static_cast<uint64_t>(t); }

// A recipe stops short at the thread's call limit, so that a run makes
// exactly as many calls as asked: the steps left return an error.
bool at_limit(const FuzzThread& t) { return t.limit != 0 && t.calls >= t.limit; }
constexpr os::SyscallResult kSkipped = {0, MessageInfo::error(uapi::Error::IllegalOperation), {}};

os::SyscallResult step(FuzzThread& t, Label label, uint64_t cptr, std::initializer_list<uint64_t> mrs,
                       std::initializer_list<uint64_t> caps = {}) {
  if (at_limit(t)) return kSkipped;
  Call c{};
  c.number = static_cast<uint64_t>(Syscall::Call);
  c.cptr = cptr;
  c.template_label = static_cast<uint64_t>(label);
  size_t i = 0;
  for (uint64_t v : mrs) c.mr[i++] = v;
  size_t k = 0;
  for (uint64_t cap : caps) t.buffer->caps[k++] = cap;
  t.buffer->receive_slot = 0;
  c.info = MessageInfo::make(static_cast<uint64_t>(label), mrs.size(), caps.size());
  return issue(t, c);
}

os::SyscallResult syscall(FuzzThread& t, Syscall number, uint64_t cptr, MessageInfo info, uint64_t mr0 = 0) {
  if (at_limit(t)) return kSkipped;
  Call c{};
  c.number = static_cast<uint64_t>(number);
  c.cptr = cptr;
  c.info = info;
  c.mr[0] = mr0;
  t.buffer->receive_slot = percent(t, 50) ? dest_slot(t) : 0;
  return issue(t, c);
}

uint64_t cnode(FuzzThread& t) { return home_slot(t, ObjectType::CNode); }
uint64_t untyped(FuzzThread& t) { return home_slot(t, ObjectType::Untyped); }
uint64_t window_page(FuzzThread& t) { return kSandboxWindow + below(t, 64) * 4096; }

// Frames from a fresh Untyped are mapped, then the Untyped is revoked: the
// frame caps go, the mappings stay, so that memory must not be handed out
// again. Then the Untyped is retyped again, or given to a VSpace as its
// table pool (whose page tables would land on the mapped frames).
void stale_frames(FuzzThread& t) {
  const uint64_t cn = cnode(t);
  const uint64_t u = dest_slot(t);
  const uint64_t f = dest_slot(t);
  const uint64_t count = 1 + below(t, 2);
  step(t, Label::UntypedRetype, untyped(t), {type(ObjectType::Untyped), 12 + below(t, 3), 1, u}, {cn});
  step(t, Label::UntypedRetype, u, {type(ObjectType::Frame), 0, count, f}, {cn});
  step(t, Label::VSpaceMap, home_slot(t, ObjectType::VSpace), {window_page(t), f, count, kReadWrite}, {cn});
  step(t, Label::CNodeRevoke, cn, {u});
  if (percent(t, 50)) {
    static constexpr ObjectType kTypes[] = {ObjectType::Frame, ObjectType::Endpoint, ObjectType::Tcb,
                                            ObjectType::CNode, ObjectType::VSpace};
    const ObjectType again = kTypes[below(t, 5)];
    step(t, Label::UntypedRetype, u, {type(again), again == ObjectType::CNode ? 2 + below(t, 4) : 0, 1, f}, {cn});
    step(t, Label::VSpaceMap, home_slot(t, ObjectType::VSpace), {window_page(t), f, 1, kReadWrite}, {cn});
  } else {
    const uint64_t vs = home_slot(t, ObjectType::VSpace);
    step(t, Label::VSpaceSetTablePool, vs, {}, {u});
    step(t, Label::VSpaceMap, vs, {user_va(t), home_slot(t, ObjectType::Frame), 1, kReadWrite}, {cn});
  }
}

// A VSpace whose table pool is a grandchild of an Untyped that is not the
// VSpace's ancestor: revoking that Untyped takes the pool's capability
// away while the VSpace and its page tables live on, and the Untyped's
// memory is then used again.
void orphan_pool(FuzzThread& t) {
  const uint64_t cn = cnode(t);
  const uint64_t parent = dest_slot(t);
  const uint64_t pool = dest_slot(t);
  const uint64_t vs = dest_slot(t);
  step(t, Label::UntypedRetype, untyped(t), {type(ObjectType::Untyped), 14 + below(t, 2), 1, parent}, {cn});
  step(t, Label::UntypedRetype, parent, {type(ObjectType::Untyped), 12 + below(t, 2), 1, pool}, {cn});
  step(t, Label::UntypedRetype, untyped(t), {type(ObjectType::VSpace), 0, 1, vs}, {cn});
  step(t, Label::VSpaceSetTablePool, vs, {}, {pool});
  step(t, Label::VSpaceMap, vs, {user_va(t), home_slot(t, ObjectType::Frame), 1 + below(t, 3), kReadWrite}, {cn});
  step(t, Label::CNodeRevoke, cn, {parent});
  step(t, Label::UntypedRetype, parent, {type(ObjectType::Frame), 0, 1 + below(t, 4), dest_slot(t)}, {cn});
  step(t, Label::VSpaceMap, vs, {user_va(t), home_slot(t, ObjectType::Frame), 1, kReadWrite}, {cn});
  if (percent(t, 50)) step(t, Label::VSpaceUnmap, vs, {kSandboxWindow, 64 * 4096});
  if (percent(t, 50)) step(t, Label::CNodeDelete, cn, {vs});
}

// The sandbox thread through a life: bound, given registers and a
// priority, resumed; its fault caught on an endpoint and answered (resumed
// at a new pc, or left stopped); then suspended, or its objects deleted or
// revoked under it.
void thread_life(FuzzThread& t) {
  const uint64_t cn = cnode(t);
  const uint64_t tcb = home_slot(t, ObjectType::Tcb);
  const uint64_t ep = home_slot(t, ObjectType::Endpoint);
  step(t, Label::TcbConfigure, tcb, {window_page(t), percent(t, 80) ? ep : 0},
       {cn, home_slot(t, ObjectType::VSpace), home_slot(t, ObjectType::Frame)});
  step(t, Label::TcbWriteRegisters, tcb, {percent(t, 70) ? window_page(t) : user_va(t), next(t), next(t)});
  step(t, Label::TcbSetPriority, tcb, {below(t, 101), below(t, 101)});
  step(t, Label::TcbResume, tcb, {});
  if (percent(t, 50)) syscall(t, Syscall::Yield, 0, MessageInfo{});
  const os::SyscallResult r = syscall(t, Syscall::NBRecv, ep, MessageInfo{});
  if (!r.info.is_error() && percent(t, 80)) {
    // Label 0 resumes the faulted thread (at mr0 if sent), others stop it.
    const uint64_t label = percent(t, 70) ? 0 : 1 + below(t, 3);
    syscall(t, Syscall::Reply, 0, MessageInfo::make(label, below(t, 2)), window_page(t));
  }
  switch (below(t, 5)) {
    case 0: step(t, Label::TcbSuspend, tcb, {}); break;
    case 1: step(t, Label::CNodeRevoke, cn, {home_slot(t, ObjectType::VSpace)}); break;
    case 2: step(t, Label::CNodeDelete, cn, {tcb}); break;
    case 3: step(t, Label::CNodeRevoke, cn, {cn}); break;  // the thread's CSpace binding too
    default: step(t, Label::TcbReadRegisters, tcb, {}); break;
  }
}

// A fault received and its reply saved in a Reply object (a home one, or
// one just made), then answered through it (resumed, maybe at a new pc, or
// stopped), or left there while the thread is suspended or destroyed or
// the Reply object is deleted, before a late answer.
void deferred_reply(FuzzThread& t) {
  const uint64_t cn = cnode(t);
  const uint64_t tcb = home_slot(t, ObjectType::Tcb);
  const uint64_t ep = home_slot(t, ObjectType::Endpoint);
  uint64_t reply = home_slot(t, ObjectType::Reply);
  if (percent(t, 30)) {
    reply = dest_slot(t);
    step(t, Label::UntypedRetype, untyped(t), {type(ObjectType::Reply), 0, 1, reply}, {cn});
  }
  step(t, Label::TcbConfigure, tcb, {window_page(t), ep}, {cn, home_slot(t, ObjectType::VSpace)});
  step(t, Label::TcbWriteRegisters, tcb, {percent(t, 70) ? window_page(t) : user_va(t), next(t), next(t)});
  // At the fuzzing thread's own priority (its maximum), the Yield lets the
  // thread run into its fault.
  step(t, Label::TcbSetPriority, tcb, {100, 100});
  step(t, Label::TcbResume, tcb, {});
  syscall(t, Syscall::Yield, 0, MessageInfo{});
  syscall(t, Syscall::NBRecv, ep, MessageInfo{});
  syscall(t, Syscall::SaveReply, reply, MessageInfo{});
  if (percent(t, 30)) syscall(t, Syscall::Reply, 0, MessageInfo::make(0, 0));  // owes nothing now
  switch (below(t, 5)) {
    case 0: step(t, Label::TcbSuspend, tcb, {}); break;
    case 1: step(t, Label::CNodeDelete, cn, {reply}); break;
    case 2: step(t, Label::CNodeDelete, cn, {tcb}); break;
    default: break;
  }
  const uint64_t label = percent(t, 70) ? 0 : 1 + below(t, 3);
  syscall(t, percent(t, 50) ? Syscall::Send : Syscall::NBSend, reply, MessageInfo::make(label, below(t, 2)),
          window_page(t));
}

// A CNode filled with copies (of the sandbox's objects and of itself),
// some moved back out, then deleted or revoked whole.
void cnode_tree(FuzzThread& t) {
  const uint64_t cn = cnode(t);
  const uint64_t inner = dest_slot(t);
  const uint64_t radix = 2 + below(t, 3);
  step(t, Label::UntypedRetype, untyped(t), {type(ObjectType::CNode), radix, 1, inner}, {cn});
  const uint64_t slots = uint64_t{1} << radix;
  for (uint64_t i = 0, n = 1 + below(t, 4); i < n; ++i) {
    const ObjectType what = static_cast<ObjectType>(2 + below(t, 6));
    step(t, Label::CNodeCopy, inner, {1 + below(t, slots - 1), home_slot(t, what), below(t, 8)}, {cn});
  }
  step(t, Label::CNodeMint, inner, {1 + below(t, slots - 1), home_slot(t, ObjectType::Endpoint), 7, 1 + below(t, 99)},
       {cn});
  step(t, Label::CNodeCopy, inner, {1 + below(t, slots - 1), inner, 7}, {cn});  // a cap to itself inside
  if (percent(t, 50)) step(t, Label::CNodeMove, cn, {dest_slot(t), 1 + below(t, slots - 1)}, {inner});
  switch (below(t, 3)) {
    case 0: step(t, Label::CNodeDelete, cn, {inner}); break;
    case 1: step(t, Label::CNodeRevoke, cn, {inner}); break;
    default: step(t, Label::CNodeRevoke, cn, {untyped(t)}); break;
  }
}

}  // namespace

void run_recipe(FuzzThread& t) {
  switch (below(t, 5)) {
    case 0: return stale_frames(t);
    case 1: return orphan_pool(t);
    case 2: return thread_life(t);
    case 3: return deferred_reply(t);
    default: return cnode_tree(t);
  }
}

}  // namespace fuzz
