// The fuzzing threads' generator, shared by fuzzer.cc (single random calls)
// and recipes.cc (short sequences of calls that build on each other).
#pragma once

#include <cstdint>

#include "fuzz.h"
#include "os/syscall.h"

namespace fuzz {

// The thread's seeded random stream.
uint64_t next(FuzzThread& t);
uint64_t below(FuzzThread& t, uint64_t n);
bool percent(FuzzThread& t, uint64_t p);

// A slot that held an object of `type` when last seen, or a home slot.
uint64_t home_slot(FuzzThread& t, uapi::ObjectType type);
// A slot after the home slots (likely empty).
uint64_t dest_slot(FuzzThread& t);
// A user address, mostly page aligned in the sandbox window.
uint64_t user_va(FuzzThread& t);

// One system call: registers a0..a5 and a7; message registers beyond the
// fourth go to the IPC buffer (extra-cap cptrs are written there directly).
struct Call {
  uint64_t number;
  uint64_t cptr;
  uapi::MessageInfo info;
  uint64_t mr[uapi::kMaxMessageLength];
  uint64_t template_label;  // the invocation's label when it is one, else 0
};

// Make the call (it counts toward t.calls) and learn from its result.
os::SyscallResult issue(FuzzThread& t, const Call& c);

// Run one recipe (recipes.cc), chosen at random.
void run_recipe(FuzzThread& t);

}  // namespace fuzz
