// The fuzzing threads: an endless loop of random system calls. Each call
// picks a system-call number (valid ones mostly, and invalid ones), a cptr
// (mostly a sandbox slot, often one that held the object the operation
// wants: a home slot, or one the thread saw an object in), a message-info
// word, message registers and the IPC buffer's cap cptrs and receive slot.
// Invocations follow a template per label most of the time: each argument
// has a "kind" (a slot, a VA in the sandbox window, a length, a type, ...)
// biased toward the values that reach deep into the kernel, mixed with
// interesting values (0, ~0, powers of two, kernel addresses, values from
// earlier replies). Now and then a recipe (recipes.cc) runs instead: a few
// calls in which each builds on the one before.
//
// The generator is a seeded xorshift64*, so the sequence of calls is the
// same for a seed, and so in practice is the whole run: the other threads
// run at other priorities, and only a timer tick between the main thread
// and a sandbox thread the fuzzer gave the same priority could interleave
// them differently.
#include <cstddef>

#include "generator.h"

namespace fuzz {

using uapi::Label;
using uapi::MessageInfo;
using uapi::ObjectType;
using uapi::Syscall;

// --- randomness ----------------------------------------------------------------

uint64_t next(FuzzThread& t) {
  uint64_t x = t.rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t.rng = x;
  return x * 0x2545f4914f6cdd1dull;
}
uint64_t below(FuzzThread& t, uint64_t n) { return next(t) % n; }
bool percent(FuzzThread& t, uint64_t p) { return below(t, 100) < p; }

namespace {

// --- argument kinds ------------------------------------------------------------

// Slot: any sandbox slot; Dest: one likely empty (the slots after the home
// slots); Src: one likely full (a home slot); FrameSlot: a home frame slot;
// FaultEp: a fault-endpoint cptr for TcbConfigure (0, ~0 or an endpoint).
enum class Kind : uint8_t {
  Any, Slot, Dest, Src, FrameSlot, FaultEp, Type, Bits, Count, Rights, Badge, Va, Length, Perm, Mode, Prio, Small
};

// Home slots of each object type (see fuzz.h).
struct Home {
  ObjectType type;
  uint64_t first;
  uint64_t count;
};
constexpr Home kHomes[] = {
    {ObjectType::CNode, kSlotSandboxCNode, 1},   {ObjectType::Untyped, kSlotBigUntyped, 2},
    {ObjectType::Endpoint, kSlotEndpoint, 4},    {ObjectType::Notification, kSlotNotification, 3},
    {ObjectType::Frame, kSlotFrame, kFrameCount}, {ObjectType::VSpace, kSlotVSpace, 2},
    {ObjectType::Tcb, kSlotTcb, 1},              {ObjectType::CNode, kSlotReadOnlyCNode, 3},
    {ObjectType::IrqHandler, kSlotIrqHandler, 1}, {ObjectType::Reply, kSlotReply, 2},
};

uint64_t any_slot(FuzzThread& t) {
  const uint64_t r = below(t, 100);
  if (r < 92) return below(t, kSandboxSlots);
  if (r < 95) return kSandboxSlots + below(t, 4);  // just out of range
  if (r < 97) return ~uint64_t{0};
  return next(t);
}

}  // namespace

// --- what the thread knows of the sandbox -------------------------------------

size_t type_index(ObjectType type) {
  const auto i = static_cast<size_t>(type);
  return i < kKnownTypes ? i : 0;
}

void learn(FuzzThread& t, ObjectType type, uint64_t slot) {
  const size_t i = type_index(type);
  if (i == 0 || slot == 0 || slot >= kSandboxSlots) return;
  for (uint8_t s : t.known[i]) {
    if (s == slot) return;
  }
  t.known[i][t.known_next[i]] = static_cast<uint8_t>(slot);
  t.known_next[i] = static_cast<uint8_t>((t.known_next[i] + 1) % kKnownPerType);
}

void forget(FuzzThread& t, uint64_t slot) {
  for (auto& slots : t.known) {
    for (uint8_t& s : slots) {
      if (s == slot) s = 0;
    }
  }
}

ObjectType known_type(const FuzzThread& t, uint64_t slot) {
  for (size_t i = 1; i < kKnownTypes; ++i) {
    for (uint8_t s : t.known[i]) {
      if (s == slot) return static_cast<ObjectType>(i);
    }
  }
  return ObjectType::Null;
}

uint64_t learnt_slot(FuzzThread& t, ObjectType type) {
  const size_t i = type_index(type);
  uint64_t n = 0;
  for (uint8_t s : t.known[i]) n += s != 0;
  if (i == 0 || n == 0) return 0;
  uint64_t pick = below(t, n);
  for (uint8_t s : t.known[i]) {
    if (s != 0 && pick-- == 0) return s;
  }
  return 0;
}

uint64_t home_slot(FuzzThread& t, ObjectType type) {
  if (percent(t, 70)) {
    if (const uint64_t s = learnt_slot(t, type); s != 0) return s;
  }
  size_t matches = 0;
  for (const Home& h : kHomes) matches += h.type == type;
  if (matches == 0) return any_slot(t);
  if (type == ObjectType::CNode && percent(t, 85)) {  // rather than the read-only one
    const uint64_t pick = below(t, 3);
    return pick == 0 ? kSlotSandboxCNode : kSlotMoreCNodes + pick - 1;
  }
  size_t pick = below(t, matches);
  for (const Home& h : kHomes) {
    if (h.type != type) continue;
    if (pick-- == 0) return h.first + below(t, h.count);
  }
  return any_slot(t);
}

uint64_t dest_slot(FuzzThread& t) { return kFirstEmptySlot + below(t, kSandboxSlots - kFirstEmptySlot); }

uint64_t user_va(FuzzThread& t) {
  const uint64_t r = below(t, 100);
  if (r < 75) return kSandboxWindow + below(t, 64) * 4096;
  if (r < 82) return 0x10000 + below(t, 64) * 4096;  // where the root task's image is
  if (r < 88) return kUserTop - 4096 * (1 + below(t, 4));
  if (r < 92) return kUserTop + 4096 * below(t, 2);
  if (r < 96) return (next(t) & (kUserTop - 1)) & ~uint64_t{4095};
  return kSandboxWindow + below(t, 64 * 4096);  // unaligned
}

namespace {

uint64_t interesting(FuzzThread& t) {
  switch (below(t, 14)) {
    case 0: return 0;
    case 1: return ~uint64_t{0};
    case 2: return below(t, 8);
    case 3: return below(t, 4096);
    case 4: return any_slot(t);
    case 5: return user_va(t);
    case 6: return 0xffff'ffc0'0000'0000ull + below(t, 1 << 20) * 4096;  // kernel half
    case 7: return next(t);
    case 8: return uint64_t{1} << below(t, 64);
    case 9: return (uint64_t{1} << below(t, 64)) - 1;
    case 10: return t.last_value;
    case 11: return 0x8000'0000 + below(t, 1 << 15) * 4096;  // RAM, physical
    case 12: return ~below(t, 8);                             // small negative
    default: return kUserTop - 8 + below(t, 16);
  }
}

uint64_t value_of(FuzzThread& t, Kind kind) {
  if (kind == Kind::Any || percent(t, 6)) return interesting(t);
  switch (kind) {
    case Kind::Slot: return percent(t, 30) ? home_slot(t, static_cast<ObjectType>(below(t, 8))) : any_slot(t);
    case Kind::Dest: return percent(t, 80) ? dest_slot(t) : any_slot(t);
    case Kind::Src: {
      if (!percent(t, 60)) return any_slot(t);
      return home_slot(t, percent(t, 8) ? ObjectType::Reply : static_cast<ObjectType>(1 + below(t, 7)));
    }
    case Kind::FrameSlot: return percent(t, 80) ? home_slot(t, ObjectType::Frame) : any_slot(t);
    case Kind::FaultEp: {
      const uint64_t r = below(t, 100);
      return r < 40 ? 0 : r < 50 ? ~uint64_t{0} : r < 90 ? home_slot(t, ObjectType::Endpoint) : any_slot(t);
    }
    case Kind::Type: return percent(t, 95) ? below(t, 12) : below(t, 256);
    case Kind::Bits: return percent(t, 85) ? 1 + below(t, 16) : below(t, 64);
    case Kind::Count: return percent(t, 85) ? 1 + below(t, 4) : (percent(t, 50) ? 0 : 255 + below(t, 4));
    case Kind::Rights: return percent(t, 95) ? below(t, 8) : below(t, 64);
    case Kind::Badge: {
      const uint64_t r = below(t, 100);
      return r < 40 ? 0 : r < 85 ? below(t, 1000) : next(t);
    }
    case Kind::Va: return user_va(t);
    case Kind::Length: {
      const uint64_t r = below(t, 100);
      if (r < 80) return below(t, 70) * 4096;
      if (r < 90) return 1 + below(t, 8192);
      return uint64_t{1} << (20 + below(t, 44));
    }
    case Kind::Perm: return percent(t, 95) ? below(t, 8) : next(t);
    case Kind::Mode: return below(t, 4);
    case Kind::Prio: return below(t, 128);
    case Kind::Small: return below(t, 64);
    default: return interesting(t);
  }
}

// --- invocation templates --------------------------------------------------------

struct Template {
  Label label;
  Kind mrs[5];
  uint8_t mr_count;
  ObjectType caps[3];
  uint8_t cap_count;
};

using K = Kind;
using T = ObjectType;
constexpr Template kTemplates[] = {
    {Label::UntypedRetype, {K::Type, K::Bits, K::Count, K::Dest}, 4, {T::CNode}, 1},
    {Label::CNodeCopy, {K::Dest, K::Src, K::Rights}, 3, {T::CNode}, 1},
    {Label::CNodeMint, {K::Dest, K::Src, K::Rights, K::Badge}, 4, {T::CNode}, 1},
    {Label::CNodeMove, {K::Dest, K::Src}, 2, {T::CNode}, 1},
    {Label::CNodeDelete, {K::Src}, 1, {}, 0},
    {Label::CNodeRevoke, {K::Src}, 1, {}, 0},
    {Label::TcbConfigure, {K::Va, K::FaultEp}, 2, {T::CNode, T::VSpace, T::Frame}, 3},
    {Label::TcbSetPriority, {K::Prio, K::Prio}, 2, {}, 0},
    {Label::TcbReadRegisters, {}, 0, {}, 0},
    {Label::TcbWriteRegisters, {K::Va, K::Any, K::Any, K::Any, K::Any}, 5, {}, 0},
    {Label::TcbResume, {}, 0, {}, 0},
    {Label::TcbSuspend, {}, 0, {}, 0},
    {Label::TcbReadCounters, {}, 0, {}, 0},
    {Label::VSpaceSetTablePool, {}, 0, {T::Untyped}, 1},
    {Label::VSpaceMap, {K::Va, K::FrameSlot, K::Count, K::Perm}, 4, {T::CNode}, 1},
    {Label::VSpaceUnmap, {K::Va, K::Length}, 2, {}, 0},
    {Label::VSpaceProtect, {K::Va, K::Length, K::Perm}, 3, {}, 0},
    {Label::VSpaceCopyRange, {K::Va, K::Length, K::Mode}, 3, {T::VSpace}, 1},
    {Label::VSpaceLookup, {K::Va}, 1, {}, 0},
    {Label::VSpaceCopyPage, {K::Va, K::Perm}, 2, {T::Frame}, 1},
    {Label::FrameGetInfo, {}, 0, {}, 0},
    {Label::IrqControlGet, {K::Small, K::Dest}, 2, {T::CNode}, 1},
    {Label::IrqHandlerSetNotification, {}, 0, {T::Notification}, 1},
    {Label::IrqHandlerAck, {}, 0, {}, 0},
    {Label::IrqHandlerClear, {}, 0, {}, 0},
    {Label::SystemShutdown, {K::Small}, 1, {}, 0},
};

// A message length: short mostly, sometimes up to the limit and beyond it
// (the length field has 7 bits, the limit is 64).
uint64_t message_length(FuzzThread& t) {
  const uint64_t r = below(t, 100);
  if (r < 60) return below(t, 5);
  if (r < 85) return 5 + below(t, 12);
  if (r < 95) return below(t, uapi::kMaxMessageLength + 1);
  return uapi::kMaxMessageLength + below(t, 64);
}

void fill_buffer_caps(FuzzThread& t, const Template* tpl) {
  uapi::IpcBuffer& b = *t.buffer;
  for (size_t i = 0; i < uapi::kMaxExtraCaps; ++i) {
    b.caps[i] = tpl != nullptr && i < tpl->cap_count && percent(t, 85) ? home_slot(t, tpl->caps[i]) : any_slot(t);
  }
  const uint64_t r = below(t, 100);
  b.receive_slot = r < 50 ? 0 : r < 92 ? kFirstEmptySlot + below(t, kSandboxSlots - kFirstEmptySlot) : interesting(t);
}

// A message for an invocation: a template (most of the time) gives the
// label, the kind of each argument and the types of the extra caps.
void make_invocation(FuzzThread& t, Call& c) {
  const Template* tpl = percent(t, 85) ? &kTemplates[below(t, sizeof(kTemplates) / sizeof(kTemplates[0]))] : nullptr;
  uint64_t label;
  uint64_t length;
  uint64_t caps;
  if (tpl != nullptr) {
    label = static_cast<uint64_t>(tpl->label);
    c.template_label = label;
    c.cptr = percent(t, 85) ? home_slot(t, uapi::label_object(tpl->label)) : any_slot(t);
    length = percent(t, 85) ? tpl->mr_count : message_length(t);
    if (tpl->label == Label::TcbWriteRegisters && percent(t, 50)) length = 1 + below(t, 32);
    caps = percent(t, 90) ? tpl->cap_count : below(t, 4);
    if (tpl->label == Label::TcbConfigure && percent(t, 30)) caps = below(t, 4);  // bind fewer
  } else {
    label = percent(t, 80) ? below(t, 64) : next(t);
    c.cptr = any_slot(t);
    length = message_length(t);
    caps = below(t, 4);
  }
  for (size_t i = 0; i < length && i < uapi::kMaxMessageLength; ++i) {
    c.mr[i] = value_of(t, tpl != nullptr && i < tpl->mr_count ? tpl->mrs[i] : Kind::Any);
  }
  c.info = MessageInfo::make(label, length, caps);
  fill_buffer_caps(t, tpl);
}

// A message to an endpoint, a notification or a Reply object (or whatever
// is in the slot).
void make_message(FuzzThread& t, Call& c, bool aim_at_ipc) {
  if (aim_at_ipc && percent(t, 85)) {
    const uint64_t r = below(t, 100);
    c.cptr = home_slot(t, r < 65 ? ObjectType::Endpoint : r < 90 ? ObjectType::Notification : ObjectType::Reply);
  } else {
    c.cptr = any_slot(t);
  }
  const uint64_t length = message_length(t);
  for (size_t i = 0; i < length && i < uapi::kMaxMessageLength; ++i) c.mr[i] = interesting(t);
  c.info = MessageInfo::make(percent(t, 70) ? below(t, 8) : next(t), length, percent(t, 70) ? 0 : 1 + below(t, 3));
  fill_buffer_caps(t, nullptr);
}

uint64_t random_syscall_number(FuzzThread& t) {
  // Anything the kernel does not know: the fault goes to the root task,
  // which resumes the thread. Never the debug calls or the fuzzer's own.
  const uint64_t r = below(t, 100);
  uint64_t n = r < 40 ? 0 : r < 70 ? 13 + below(t, 20) : r < 85 ? ~below(t, 4) : next(t);
  if (n == kCheckpointSyscall || n == kDoneSyscall) n = 0;
  return n;
}

void make_call(FuzzThread& t, Call& c) {
  const uint64_t r = below(t, 100);
  if (r < 55) {
    c.number = static_cast<uint64_t>(Syscall::Call);
    make_invocation(t, c);
  } else if (r < 63) {
    c.number = static_cast<uint64_t>(Syscall::NBSend);
    make_message(t, c, true);
  } else if (r < 71) {
    c.number = static_cast<uint64_t>(Syscall::NBRecv);
    make_message(t, c, true);
  } else if (r < 80) {
    // Blocking calls: a partner thread may answer; if no thread at the
    // fuzzers' priorities can run, the root task's watchdog restarts them.
    static constexpr Syscall kBlocking[] = {Syscall::Send, Syscall::Recv, Syscall::Call, Syscall::ReplyRecv};
    c.number = static_cast<uint64_t>(kBlocking[below(t, 4)]);
    make_message(t, c, true);
  } else if (r < 84) {
    c.number = static_cast<uint64_t>(Syscall::Reply);
    make_message(t, c, false);
    if (percent(t, 60)) c.info = MessageInfo::make(0, below(t, 3));  // resume a faulted thread
  } else if (r < 88) {
    c.number = static_cast<uint64_t>(percent(t, 50) ? Syscall::Yield : Syscall::Null);
    make_message(t, c, false);
  } else if (r < 92) {
    c.number = static_cast<uint64_t>(Syscall::Send);  // an invocation without a reply
    make_invocation(t, c);
    if (percent(t, 50)) c.number = static_cast<uint64_t>(Syscall::NBSend);
  } else if (r < 95) {
    // Keep the reply this thread owes (if any) for later: a Send on the
    // Reply object (make_message aims some at one) answers it.
    c.number = static_cast<uint64_t>(Syscall::SaveReply);
    make_message(t, c, false);
    if (percent(t, 85)) c.cptr = home_slot(t, ObjectType::Reply);
  } else {
    c.number = random_syscall_number(t);
    make_message(t, c, false);
  }
}

// What a successful call says about the sandbox.
void learn_from(FuzzThread& t, const Call& c) {
  const auto label = static_cast<Label>(c.template_label);
  learn(t, uapi::label_object(label), c.cptr);
  switch (label) {
    case Label::UntypedRetype:
      for (uint64_t i = 0; i < c.mr[2] && i < kSandboxSlots; ++i) learn(t, static_cast<ObjectType>(c.mr[0]), c.mr[3] + i);
      break;
    case Label::CNodeCopy:
    case Label::CNodeMint:
    case Label::CNodeMove:
      if (t.buffer->caps[0] == kSlotSandboxCNode || t.buffer->caps[0] - kSlotMoreCNodes < 2) {
        const ObjectType moved = known_type(t, c.mr[1]);
        if (label == Label::CNodeMove) forget(t, c.mr[1]);
        learn(t, moved, c.mr[0]);
      }
      break;
    case Label::CNodeDelete:
      forget(t, c.mr[0]);
      break;
    default:
      break;
  }
}

}  // namespace

os::SyscallResult issue(FuzzThread& t, const Call& c) {
  ++t.calls;
  const uint64_t length = c.info.length() < uapi::kMaxMessageLength ? c.info.length() : uapi::kMaxMessageLength;
  for (size_t i = uapi::kMessageRegistersInCpu; i < length; ++i) t.buffer->mr[i] = c.mr[i];
  const os::SyscallResult r =
      os::syscall(static_cast<Syscall>(c.number), c.cptr, c.info, c.mr[0], c.mr[1], c.mr[2], c.mr[3]);
  const bool invocation = c.number == static_cast<uint64_t>(Syscall::Call) && c.template_label != 0 &&
                          c.template_label < kLabelSlots;
  if (invocation) ++t.label_tries[c.template_label];
  const bool save_reply = c.number == static_cast<uint64_t>(Syscall::SaveReply);
  t.save_reply_tries += save_reply;
  t.save_reply_ok += save_reply && !r.info.is_error();
  if (r.info.is_error()) {
    ++t.errors;
  } else {
    ++t.ok;
    if (invocation) {
      ++t.label_ok[c.template_label];
      learn_from(t, c);
    }
    if (r.info.length() > 0 && r.mr[0] != 0) t.last_value = r.mr[0];
  }
  return r;
}

namespace {

void report(uint64_t number) { os::syscall(static_cast<Syscall>(number), 0, MessageInfo{}); }

}  // namespace

void thread_main(FuzzThread* self) {
  FuzzThread& t = *self;
  for (;;) {
    if (t.checkpoint_every != 0 && t.calls >= t.next_checkpoint) {
      t.next_checkpoint += t.checkpoint_every;
      report(kCheckpointSyscall);
    }
    if (t.limit != 0 && t.calls >= t.limit) {
      report(kDoneSyscall);
      continue;  // the root task powers off
    }
    if (t.leader != nullptr) {
      // The partner runs only while the main thread cannot. If it never
      // blocks itself, the watchdog never runs: it reports instead.
      if (t.leader->calls != t.leader_calls) {
        t.leader_calls = t.leader->calls;
        t.calls_then = t.calls;
      } else if (t.calls - t.calls_then >= kPartnerBudget) {
        t.calls_then = t.calls;
        report(kStalledSyscall);
      }
    }
    if (percent(t, 3)) {
      run_recipe(t);
      continue;
    }
    Call c{};
    make_call(t, c);
    // Counted (in issue) before it is made: if the call blocks for good, the
    // thread is restarted here and goes on with the next one.
    issue(t, c);
  }
}

}  // namespace fuzz
