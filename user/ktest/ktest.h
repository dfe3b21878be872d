// The guest test framework: a registry of tests (KTEST), the per-test
// context (Test) that hands out resources and records the first failure, and
// the CHECK macros. The runner (main.cc) gives every test a fresh Untyped,
// a range of empty slots and a window of the root VSpace, and takes all of
// it back afterwards, so tests do not see each other's objects.
//
// A test body is `void f(kt::Test& t)`; the macros return from it on the
// first failed check (no exceptions), so helper results are taken with
// KT_TRY, which fails the test with the error's name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "calls.h"
#include "lib/format.h"

namespace kt {

template <typename T>
using Result = os::Result<T>;
using Status = os::Status;

inline Result<uint64_t> as_result(Error e, uint64_t value) {
  if (e != Error::Ok) return std::unexpected(e);
  return value;
}

class Test;
using TestFn = void (*)(Test&);

struct TestCase {
  const char* group;
  const char* name;
  TestFn fn;
};

// Static registration: each KTEST adds itself before main runs. The list is
// a fixed array (no heap); the order is link order, then file order.
struct Registration {
  Registration(const char* group, const char* name, TestFn fn);
};
std::span<const TestCase> registered_tests();

// What the runner set up for the whole run (main.cc).
struct Env {
  const uapi::BootInfo* info = nullptr;
  uint64_t arena = 0;             // Untyped the per-test untypeds come from
  unsigned arena_bits = 0;
  uint64_t test_untyped = 0;      // slot of the current test's Untyped
  uint64_t first_test_slot = 0;   // slots from here are the tests'
  uint64_t slot_limit = 0;
  bool uart_input = false;        // bootargs ktest.uart_input=C: the harness types C
  char uart_char = 0;
};
const Env& env();

// The root VSpace window the tests map into; the runner unmaps all of it
// after each test (a frame stays mapped otherwise and its memory could
// never be reset).
inline constexpr uint64_t kWindowBase = 0x4000'0000;
inline constexpr uint64_t kWindowSize = 0x4000'0000;
inline constexpr unsigned kTestUntypedBits = 22;  // 4 MiB per test

class Test {
 public:
  Test(const TestCase& test, uint64_t first_slot, uint64_t slot_limit);

  const TestCase& test_case() const { return m_case; }

  // Records the failure (the first one wins) and returns void so a test can
  // `return t.fail(...)`.
  template <typename... Args>
  void fail(const char* file, int line, std::string_view fmt, const Args&... args) {
    if (m_failed) return;
    m_failed = true;
    kern::BufferSink sink(m_reason);
    kern::format(sink, "{}:{}: ", file, line);
    kern::format(sink, fmt, args...);
  }
  bool failed() const { return m_failed; }
  const char* reason() const { return m_reason; }
  // The test cannot run here (missing hardware, input, ...): neither
  // passed nor failed.
  void skip(const char* why) {
    m_skipped = true;
    m_skip_reason = why;
  }
  bool skipped() const { return m_skipped && !m_failed; }
  const char* skip_reason() const { return m_skip_reason; }

  // --- resources, all taken back after the test ---
  // An empty slot of the root CNode (0 and a failure when they run out).
  uint64_t slot() { return slots(1); }
  uint64_t slots(size_t count);
  uint64_t used_slots_end() const { return m_next_slot; }
  // This test's Untyped: 2^kTestUntypedBits bytes of RAM.
  uint64_t untyped() const { return env().test_untyped; }
  // `pages` free pages of the root VSpace's test window (unmapped, with an
  // unmapped guard page after them).
  uint64_t va(size_t pages);
  // `count` new objects from the test's Untyped in consecutive fresh slots;
  // returns the first slot.
  Result<uint64_t> make(ObjectType type, uint64_t size_bits = 0, size_t count = 1);
  // A child Untyped of 2^bits bytes.
  Result<uint64_t> make_untyped(unsigned bits) { return make(ObjectType::Untyped, bits); }
  // `pages` fresh frames mapped (R+W by default) in the root VSpace at a
  // new window address.
  struct Mapping {
    uint64_t va;
    uint64_t first_frame;
  };
  Result<Mapping> map_new(size_t pages, uint64_t perm = kRW);
  // A VSpace with a table pool of 2^pool_bits bytes.
  Result<uint64_t> make_vspace(unsigned pool_bits = 16);

  // The test's control endpoint: spawned threads report completion and
  // faults here (threads.h). Made on first use.
  Result<uint64_t> control();
  uint64_t next_badge() { return ++m_badges; }
  // Completions received while waiting for another thread (threads.cc).
  void note_done(uint64_t badge, uint64_t result);
  std::optional<uint64_t> take_done(uint64_t badge);

 private:
  const TestCase& m_case;
  bool m_failed = false;
  char m_reason[200] = {};
  bool m_skipped = false;
  const char* m_skip_reason = "";
  uint64_t m_next_slot;
  uint64_t m_slot_limit;
  uint64_t m_next_va = kWindowBase;
  uint64_t m_control = 0;
  uint64_t m_badges = 0;
  static constexpr size_t kMaxThreads = 32;
  bool m_done[kMaxThreads] = {};
  uint64_t m_result[kMaxThreads] = {};
};

}  // namespace kt

#define KTEST_CAT2(a, b) a##b
#define KTEST_CAT(a, b) KTEST_CAT2(a, b)
// KTEST(group, name) { ...body using `t`... }
#define KTEST(group, name)                                                          \
  static void KTEST_CAT(ktest_##group##_, name)(::kt::Test & t);                    \
  static ::kt::Registration KTEST_CAT(ktest_reg_##group##_, name)(#group, #name,    \
                                                                   KTEST_CAT(ktest_##group##_, name)); \
  static void KTEST_CAT(ktest_##group##_, name)(::kt::Test & t)

#define KT_FAIL(...) return t.fail(__FILE_NAME__, __LINE__, __VA_ARGS__)

#define CHECK(cond)                             \
  do {                                          \
    if (!(cond)) KT_FAIL("CHECK({}) failed", #cond); \
  } while (0)

#define CHECK_EQ(a, b)                                                   \
  do {                                                                   \
    const uint64_t kt_a_ = static_cast<uint64_t>(a);                     \
    const uint64_t kt_b_ = static_cast<uint64_t>(b);                     \
    if (kt_a_ != kt_b_) KT_FAIL("{} == {}: {:#x} != {:#x}", #a, #b, kt_a_, kt_b_); \
  } while (0)

#define CHECK_NE(a, b)                                                   \
  do {                                                                   \
    const uint64_t kt_a_ = static_cast<uint64_t>(a);                     \
    const uint64_t kt_b_ = static_cast<uint64_t>(b);                     \
    if (kt_a_ == kt_b_) KT_FAIL("{} != {}: both {:#x}", #a, #b, kt_a_);  \
  } while (0)

// The error code of `expr` (an Error, an os::Reply, a kt::Message or a
// Result) must be `err`.
#define CHECK_ERR(expr, err)                                                              \
  do {                                                                                    \
    const ::kt::Error kt_e_ = ::kt::error_of(expr);                                       \
    const ::kt::Error kt_want_ = (err);                                                   \
    if (kt_e_ != kt_want_)                                                                \
      KT_FAIL("{}: {}, expected {}", #expr, ::kt::error_name(kt_e_), ::kt::error_name(kt_want_)); \
  } while (0)
#define CHECK_OK(expr) CHECK_ERR(expr, ::kt::Error::Ok)

// The value of a Result, or fail the test with its error.
#define KT_TRY(expr)                                                           \
  ({                                                                           \
    auto&& kt_r_ = (expr);                                                     \
    if (!kt_r_) KT_FAIL("{}: {}", #expr, ::kt::error_name(kt_r_.error()));     \
    *std::move(kt_r_);                                                         \
  })

// In helpers that return a Result: propagate the error of a Result or of
// an Error code to the caller.
#define TRY_RESULT(expr)                                            \
  ({                                                                \
    auto&& kt_r_ = (expr);                                          \
    if (!kt_r_) return std::unexpected(kt_r_.error());              \
    *std::move(kt_r_);                                              \
  })
#define TRY_ERROR(expr)                                             \
  do {                                                              \
    const ::kt::Error kt_e_ = ::kt::error_of(expr);                 \
    if (kt_e_ != ::kt::Error::Ok) return std::unexpected(kt_e_);    \
  } while (0)
