// ktest: the kernel's guest test suite, run as the root task (bootargs
// roottask=bin/ktest). Bootargs ktest.only=GROUP[,GROUP.NAME...] selects
// tests (default: all); each prints "ktest-user GROUP.NAME: PASS" or
// "... FAIL: reason", then a summary line, and the machine powers off with
// status 0 if nothing failed, 1 otherwise.
//
// Resources: at start the runner carves an arena Untyped out of RAM. Each
// test gets a fresh Untyped from the arena, slots from a range of the root
// CNode and a window of the root VSpace. Afterwards the runner revokes and
// deletes the Untyped (destroying every object made from it), deletes every
// slot the test used (copies of boot caps, IRQ handlers) and unmaps the
// window, so the arena has no children and no mapped frame and the next
// test's retype starts from a clean slate.
#include <string_view>

#include "ktest.h"
#include "lib/bootargs.h"
#include "os/print.h"
#include "threads.h"

namespace kt {
namespace {

constexpr size_t kMaxTests = 256;
constexpr uint64_t kSlotsPerTest = 1024;

TestCase g_tests[kMaxTests];
size_t g_test_count = 0;
Env g_env;

using kern::bootarg;

// `only` is a comma-separated list of groups and group.name entries.
bool selected(const TestCase& test, std::optional<std::string_view> only) {
  if (!only) return true;
  std::string_view list = *only;
  while (!list.empty()) {
    size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    const std::string_view group(test.group);
    if (item == group) return true;
    if (item.size() > group.size() && item.starts_with(group) && item[group.size()] == '.' &&
        item.substr(group.size() + 1) == test.name) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// The arena: the largest Untyped child the RAM untypeds can still give.
bool make_arena(const uapi::BootInfo& info, uint64_t slot) {
  for (unsigned bits = 24; bits >= kTestUntypedBits + 1; --bits) {
    for (uint64_t i = 0; i < info.untyped.count; ++i) {
      const uapi::UntypedDesc& desc = info.untyped_list[i];
      if (desc.device || desc.size_bits < bits) continue;
      if (retype(info.untyped.first + i, ObjectType::Untyped, bits, 1, slot) == Error::Ok) {
        g_env.arena = slot;
        g_env.arena_bits = bits;
        return true;
      }
    }
  }
  return false;
}

// Takes back everything the test had; a failure here fails the test (the
// next one would start dirty).
void cleanup(Test& t) {
  const Env& e = g_env;
  my_buffer()->receive_slot = 0;
  if (Error err = revoke(e.test_untyped); err != Error::Ok) {
    t.fail(__FILE_NAME__, __LINE__, "cleanup: revoke of the test untyped: {}", error_name(err));
  }
  if (Error err = del(e.test_untyped); err != Error::Ok) {
    t.fail(__FILE_NAME__, __LINE__, "cleanup: delete of the test untyped: {}", error_name(err));
  }
  for (uint64_t s = e.first_test_slot; s < t.used_slots_end(); ++s) {
    if (Error err = del(s); err != Error::Ok) {
      t.fail(__FILE_NAME__, __LINE__, "cleanup: delete of slot {}: {}", s, error_name(err));
    }
  }
  if (Error err = error_of(unmap(kRootVSpace, kWindowBase, kWindowSize)); err != Error::Ok) {
    t.fail(__FILE_NAME__, __LINE__, "cleanup: unmap of the window: {}", error_name(err));
  }
}

// The kernel's own consistency check (DebugCheckInvariants), after every
// test: a test can pass while leaving the kernel's structures broken.
void check_kernel_invariants(Test& t) {
  const os::SyscallResult r = sys(uapi::Syscall::DebugCheckInvariants, 0);
  if (r.info.is_error()) {
    t.fail(__FILE_NAME__, __LINE__, "kernel invariants violated after the test: {} (see the INVARIANT lines)",
           r.mr[0]);
  }
}

// The test's Untyped, from the arena. If the arena cannot be reset (a
// previous test left a frame of it mapped, or a kernel bug lost a mapping
// count), the runner says so and takes a new arena: one broken test must
// not fail all the others.
Error make_test_untyped() {
  Error err = retype(g_env.arena, ObjectType::Untyped, kTestUntypedBits, 1, g_env.test_untyped);
  if (err != Error::NotEnoughMemory) return err;
  os::print("ktest-user: the arena cannot be reset after the previous test; taking a new one\n");
  (void)del(g_env.arena);
  if (!make_arena(*g_env.info, g_env.arena)) return err;
  return retype(g_env.arena, ObjectType::Untyped, kTestUntypedBits, 1, g_env.test_untyped);
}

enum class Outcome { Pass, Fail, Skip };

Outcome run_one(const TestCase& test, bool verbose) {
  if (verbose) os::print("ktest-user: running {}.{}\n", test.group, test.name);
  Test t(test, g_env.first_test_slot, g_env.slot_limit);
  if (Error err = make_test_untyped(); err != Error::Ok) {
    t.fail(__FILE_NAME__, __LINE__, "no test untyped: {}", error_name(err));
  } else {
    test.fn(t);
  }
  cleanup(t);
  check_kernel_invariants(t);
  if (t.failed()) {
    os::print("ktest-user {}.{}: FAIL: {}\n", test.group, test.name, t.reason());
    return Outcome::Fail;
  }
  if (t.skipped()) {
    os::print("ktest-user {}.{}: SKIP: {}\n", test.group, test.name, t.skip_reason());
    return Outcome::Skip;
  }
  os::print("ktest-user {}.{}: PASS\n", test.group, test.name);
  return Outcome::Pass;
}

}  // namespace

Registration::Registration(const char* group, const char* name, TestFn fn) {
  if (g_test_count < kMaxTests) g_tests[g_test_count++] = TestCase{group, name, fn};
}

std::span<const TestCase> registered_tests() { return {g_tests, g_test_count}; }
const Env& env() { return g_env; }

Test::Test(const TestCase& test, uint64_t first_slot, uint64_t slot_limit)
    : m_case(test), m_next_slot(first_slot), m_slot_limit(slot_limit) {}

uint64_t Test::slots(size_t count) {
  if (count > m_slot_limit - m_next_slot) {
    fail(__FILE_NAME__, __LINE__, "out of slots");
    return 0;
  }
  const uint64_t first = m_next_slot;
  m_next_slot += count;
  return first;
}

uint64_t Test::va(size_t pages) {
  const uint64_t at = m_next_va;
  m_next_va += (pages + 1) * kPage;
  if (m_next_va > kWindowBase + kWindowSize) fail(__FILE_NAME__, __LINE__, "out of window addresses");
  return at;
}

Result<uint64_t> Test::make(ObjectType type, uint64_t size_bits, size_t count) {
  const uint64_t first = slots(count);
  return as_result(retype(untyped(), type, size_bits, count, first), first);
}

Result<Test::Mapping> Test::map_new(size_t pages, uint64_t perm) {
  const uint64_t frames = TRY_RESULT(make(ObjectType::Frame, 0, pages));
  const uint64_t at = va(pages);
  TRY_ERROR(map(kRootVSpace, at, frames, pages, perm));
  return Mapping{at, frames};
}

Result<uint64_t> Test::make_vspace(unsigned pool_bits) {
  const uint64_t vspace = TRY_RESULT(make(ObjectType::VSpace));
  const uint64_t pool = TRY_RESULT(make_untyped(pool_bits));
  TRY_ERROR(set_pool(vspace, pool));
  return vspace;
}

Result<uint64_t> Test::control() {
  if (m_control == 0) m_control = TRY_RESULT(make(ObjectType::Endpoint));
  return m_control;
}

void Test::note_done(uint64_t badge, uint64_t result) {
  if (badge >= kMaxThreads) return;
  m_done[badge] = true;
  m_result[badge] = result;
}

std::optional<uint64_t> Test::take_done(uint64_t badge) {
  if (badge >= kMaxThreads || !m_done[badge]) return std::nullopt;
  m_done[badge] = false;
  return m_result[badge];
}

}  // namespace kt

int main(uint64_t boot_info_address) {
  using namespace kt;
  const auto& info = *reinterpret_cast<const uapi::BootInfo*>(boot_info_address);
  os::set_ipc_buffer(reinterpret_cast<uapi::IpcBuffer*>(info.ipc_buffer));
  cpu::write_tp(info.ipc_buffer);
  if (info.magic != uapi::kBootInfoMagic) {
    os::print("ktest-user: bad boot info\n");
    return 1;
  }
  g_env.info = &info;
  const std::string_view args(info.bootargs);
  const auto only = bootarg(args, "ktest.only");
  const bool verbose = bootarg(args, "ktest.verbose").has_value();
  if (auto input = bootarg(args, "ktest.uart_input"); input && !input->empty()) {
    g_env.uart_input = true;
    g_env.uart_char = (*input)[0];
  }

  const uint64_t arena_slot = info.first_free_slot;
  g_env.test_untyped = arena_slot + 1;
  g_env.first_test_slot = arena_slot + 2;
  g_env.slot_limit = g_env.first_test_slot + kSlotsPerTest;
  const uint64_t cnode_slots = uint64_t{1} << info.root_cnode_radix;
  if (g_env.slot_limit > cnode_slots) g_env.slot_limit = cnode_slots;
  if (!make_arena(info, arena_slot)) {
    os::print("ktest-user: no RAM for the test arena\n");
    os::system_shutdown(kSystemControl, 1);
    return 1;
  }

  size_t passed = 0, failed = 0, skipped = 0;
  for (const TestCase& test : registered_tests()) {
    if (!selected(test, only)) continue;
    switch (run_one(test, verbose)) {
      case Outcome::Pass: ++passed; break;
      case Outcome::Fail: ++failed; break;
      case Outcome::Skip: ++skipped; break;
    }
  }
  if (passed + failed + skipped == 0) {
    os::print("ktest-user: no test matches ktest.only={}\n", only.value_or(""));
    failed = 1;
  }
  if (skipped != 0) os::print("ktest-user: {} passed, {} failed, {} skipped\n", passed, failed, skipped);
  else os::print("ktest-user: {} passed, {} failed\n", passed, failed);
  (void)os::system_shutdown(kSystemControl, failed != 0 ? 1 : 0);
  return 0;
}
