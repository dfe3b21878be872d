// Group "memory": what fork gives the child (the parent's memory as it was,
// then each on its own), the heap (malloc, sbrk), faults that must end a
// process with SIGSEGV (or SIGILL), and fork/exit/wait leaving the pager's
// pool as it found it.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <ukos.h>
#include <unistd.h>

#include "posixtest.h"

namespace {

constexpr size_t kPage = 4096;

struct Pipe {
  int r = -1, w = -1;
};

// Memory in every region the loader makes: data, bss.
int g_data = 0x5eed;
unsigned char g_bss[16 * 1024];
// A `ret` instruction in a writable data page: executing it must fault.
uint32_t g_code_in_data[4] = {0x00008067, 0x00008067, 0x00008067, 0x00008067};

// An address the compiler cannot see through (a constant null store would
// be turned into a trap instruction at compile time).
template <typename T>
T opaque(uintptr_t value) {
  asm volatile("" : "+r"(value));
  return reinterpret_cast<T>(value);
}

unsigned char pattern(size_t i, unsigned seed) { return static_cast<unsigned char>((i * 131 + seed * 7 + (i >> 9)) & 0xff); }

void paint(volatile unsigned char* p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i) p[i] = pattern(i, seed);
}

// The first index where p differs from the pattern, or n.
size_t first_difference(const volatile unsigned char* p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != pattern(i, seed)) return i;
  }
  return n;
}

// The regions a fork test paints: data, bss, stack, malloc heap, sbrk heap.
struct Regions {
  volatile unsigned char* stack;
  unsigned char* heap;
  unsigned char* brk;
  static constexpr size_t kStackBytes = 8 * 1024;
  static constexpr size_t kHeapBytes = 64 * 1024;
  static constexpr size_t kBrkBytes = 16 * 1024 + 100;
};

void paint_all(const Regions& r, unsigned seed) {
  g_data = static_cast<int>(0x10000 + seed);
  paint(g_bss, sizeof g_bss, seed);
  paint(r.stack, Regions::kStackBytes, seed);
  paint(r.heap, Regions::kHeapBytes, seed);
  paint(r.brk, Regions::kBrkBytes, seed);
}

// Checks every region holds `seed`'s pattern, from inside a test or child.
#define CHECK_PAINTED(r, seed)                                                                          \
  do {                                                                                                  \
    CHECK_EQ(g_data, static_cast<int>(0x10000 + (seed)));                                               \
    CHECK_EQ(first_difference(g_bss, sizeof g_bss, (seed)), sizeof g_bss);                              \
    CHECK_EQ(first_difference((r).stack, Regions::kStackBytes, (seed)), Regions::kStackBytes);          \
    CHECK_EQ(first_difference((r).heap, Regions::kHeapBytes, (seed)), Regions::kHeapBytes);             \
    CHECK_EQ(first_difference((r).brk, Regions::kBrkBytes, (seed)), Regions::kBrkBytes);                \
  } while (0)

// A child that does `fault()`, which must end it with `sig`; it exits 0 if it
// survives.
template <typename Fault>
pid_t spawn_faulting(Fault fault) {
  return pt::spawn([&] {
    fault();
    pt::Line() << "  (child " << getpid() << ") survived the access";
  });
}

[[gnu::noinline]] int recurse(int depth) {
  volatile char frame[kPage];
  frame[0] = static_cast<char>(depth);
  frame[kPage - 1] = frame[0];
  if (depth > (1 << 24)) return 0;  // never: the stack ends long before
  return recurse(depth + 1) + frame[kPage - 1];
}

[[gnu::noinline]] void some_function() { asm volatile(""); }

// The fork test proper, run in a child P of the runner (P is the parent
// here), so that the heap it grows goes away with P.
void memory_as_of_fork() {
  volatile unsigned char stack[Regions::kStackBytes];
  Regions r{stack, static_cast<unsigned char*>(malloc(Regions::kHeapBytes)), nullptr};
  CHECK(r.heap != nullptr);
  void* brk = sbrk(static_cast<intptr_t>(Regions::kBrkBytes));
  CHECK(brk != reinterpret_cast<void*>(-1));
  r.brk = static_cast<unsigned char*>(brk);
  paint_all(r, 1);

  Pipe to_child, to_parent;
  CHECK_OK(pipe(&to_child.r));
  CHECK_OK(pipe(&to_parent.r));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_PAINTED(r, 1);  // the parent's memory as of the fork
    CHECK_EQ(pt::wait_token(to_child.r), '.');
    CHECK_PAINTED(r, 1);  // not the parent's later writes
    paint_all(r, 3);
    CHECK_PAINTED(r, 3);
    CHECK(pt::send_token(to_parent.w));
  }));
  paint_all(r, 2);
  CHECK(pt::send_token(to_child.w));
  CHECK_EQ(pt::wait_token(to_parent.r), '.');
  CHECK_PAINTED(r, 2);  // not the child's writes
  CHECK_EXITS(child, 0);
  CHECK_PAINTED(r, 2);
  for (int fd : {to_child.r, to_child.w, to_parent.r, to_parent.w}) CHECK_OK(close(fd));
  CHECK(sbrk(-static_cast<intptr_t>(Regions::kBrkBytes)) == r.brk + Regions::kBrkBytes);
  free(r.heap);
}

void heap_1mib() {
  constexpr size_t kBytes = 1024 * 1024;
  auto* buf = static_cast<unsigned char*>(malloc(kBytes));
  CHECK(buf != nullptr);
  paint(buf, kBytes, 5);
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_EQ(first_difference(buf, kBytes, 5), kBytes);
    paint(buf, kBytes, 6);
    CHECK_EQ(first_difference(buf, kBytes, 6), kBytes);
  }));
  CHECK_EXITS(child, 0);
  CHECK_EQ(first_difference(buf, kBytes, 5), kBytes);
  // And the other way round: the parent writes while the child reads.
  Pipe go;
  CHECK_OK(pipe(&go.r));
  CHECK_OK(child = pt::spawn([&] {
    CHECK_EQ(pt::wait_token(go.r), '.');
    CHECK_EQ(first_difference(buf, kBytes, 5), kBytes);
  }));
  paint(buf, kBytes, 7);
  CHECK(pt::send_token(go.w));
  CHECK_EXITS(child, 0);
  CHECK_EQ(first_difference(buf, kBytes, 7), kBytes);
  CHECK_OK(close(go.r));
  CHECK_OK(close(go.w));
  free(buf);
}

}  // namespace

PTEST(memory, child_sees_parent_memory_at_fork_then_its_own) {
  pid_t p;
  CHECK_OK(p = pt::spawn(memory_as_of_fork));
  CHECK_EXITS(p, 0);
}

PTEST(memory, heap_1mib_pattern_in_both) {
  // The parent of this test is a child P of the runner, as above.
  pid_t p;
  CHECK_OK(p = pt::spawn(heap_1mib));
  CHECK_EXITS(p, 0);
}

PTEST(memory, sbrk_grows_and_shrinks) {
  auto* const start = static_cast<unsigned char*>(sbrk(0));
  CHECK(start != reinterpret_cast<void*>(-1));
  constexpr intptr_t kGrow = 3 * kPage + 100;
  CHECK(sbrk(kGrow) == start);
  CHECK(sbrk(0) == start + kGrow);
  paint(start, kGrow, 9);  // every byte is usable
  CHECK_EQ(first_difference(start, kGrow, 9), static_cast<size_t>(kGrow));
  CHECK(sbrk(-kGrow) == start + kGrow);  // returns the old break
  CHECK(sbrk(0) == start);

  // Past the break nothing is mapped any more: a whole page above it faults.
  const uintptr_t beyond = (reinterpret_cast<uintptr_t>(start) + kPage - 1) / kPage * kPage + kPage;
  pid_t child;
  CHECK_OK(child = spawn_faulting([&] { *opaque<volatile unsigned char*>(beyond) = 1; }));
  CHECK_KILLED(child, SIGSEGV);

  // Too much, or below the heap's start: ENOMEM, and the break stays.
  CHECK_FAILS(sbrk(intptr_t{1} << 40) == reinterpret_cast<void*>(-1), ENOMEM);
  CHECK(sbrk(0) == start);
  CHECK_FAILS(sbrk(-(intptr_t{1} << 40)) == reinterpret_cast<void*>(-1), ENOMEM);
  CHECK(sbrk(0) == start);
  // Growing again after a shrink works.
  CHECK(sbrk(kPage) == start);
  paint(start, kPage, 10);
  CHECK_EQ(first_difference(start, kPage, 10), kPage);
  CHECK(sbrk(-static_cast<intptr_t>(kPage)) == start + kPage);
}

PTEST(memory, segv_write_null) {
  pid_t child;
  CHECK_OK(child = spawn_faulting([] { *opaque<volatile int*>(0) = 1; }));
  CHECK_KILLED(child, SIGSEGV);
}

PTEST(memory, segv_read_null) {
  pid_t child;
  CHECK_OK(child = spawn_faulting([] { (void)*opaque<volatile int*>(8); }));
  CHECK_KILLED(child, SIGSEGV);
}

PTEST(memory, segv_write_text) {
  pid_t child;
  CHECK_OK(child = spawn_faulting(
               [] { *opaque<volatile uint32_t*>(reinterpret_cast<uintptr_t>(&some_function)) = 0; }));
  CHECK_KILLED(child, SIGSEGV);
  some_function();  // still intact here
}

PTEST(memory, segv_write_rodata) {
  static const char kConstant[] = "read-only data";
  pid_t child;
  CHECK_OK(child = spawn_faulting([] { *opaque<volatile char*>(reinterpret_cast<uintptr_t>(kConstant)) = 'R'; }));
  CHECK_KILLED(child, SIGSEGV);
}

PTEST(memory, segv_call_null) {
  pid_t child;
  CHECK_OK(child = spawn_faulting([] { opaque<void (*)()>(0)(); }));
  CHECK_KILLED(child, SIGSEGV);
}

PTEST(memory, segv_execute_data) {
  pid_t child;
  CHECK_OK(child = spawn_faulting(
               [] { opaque<void (*)()>(reinterpret_cast<uintptr_t>(g_code_in_data))(); }));
  CHECK_KILLED(child, SIGSEGV);
}

PTEST(memory, segv_stack_overflow) {
  // Recursion with 4 KiB frames runs into the guard page under the stack.
  pid_t child;
  CHECK_OK(child = spawn_faulting([] { (void)recurse(0); }));
  CHECK_KILLED(child, SIGSEGV);
}

PTEST(memory, segv_write_far_below_stack) {
  pid_t child;
  CHECK_OK(child = spawn_faulting([] {
    volatile char here = 0;
    const uintptr_t sp = reinterpret_cast<uintptr_t>(&here) & ~uintptr_t{kPage - 1};
    *opaque<volatile char*>(sp - 64 * 1024 * 1024) = 1;
  }));
  CHECK_KILLED(child, SIGSEGV);
}

PTEST(memory, segv_kernel_address) {
  pid_t child;
  CHECK_OK(child = spawn_faulting([] { *opaque<volatile int*>(0xffffffc000000000ULL) = 1; }));
  CHECK_KILLED(child, SIGSEGV);
  CHECK_OK(child = spawn_faulting([] { (void)*opaque<volatile int*>(0xffffffc000100000ULL); }));
  CHECK_KILLED(child, SIGSEGV);
}

PTEST(memory, illegal_instruction_sigill) {
  pid_t child;
  CHECK_OK(child = spawn_faulting([] { asm volatile(".word 0"); }));
  CHECK_KILLED(child, SIGILL);
}

PTEST(memory, fork_exit_wait_1000_times_frees_everything) {
  // A few rounds first, so the parent's own pages are settled.
  for (int i = 0; i < 3; ++i) {
    pid_t child;
    CHECK_OK(child = fork());
    if (child == 0) _exit(0);
    CHECK_EXITS(child, 0);
  }
  unsigned long before = 0, after = 0, total = 0;
  CHECK_OK(ukos_meminfo(&before, &total));
  CHECK(before > 0 && before <= total);
  const uint64_t start = pt::now_ms();
  for (int i = 0; i < 1000; ++i) {
    pid_t child;
    CHECK_M((child = fork()) >= 0, "fork number " << i + 1 << " failed: " << pt::errno_name(errno));
    if (child == 0) _exit(i & 0x7f);
    int status = -1;
    CHECK_M(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == (i & 0x7f),
            "round " << i + 1 << ": child " << child << " status " << status);
  }
  const uint64_t elapsed = pt::now_ms() - start;
  CHECK_OK(ukos_meminfo(&after, nullptr));
  pt::Line() << "  memory: free bytes before 1000 forks " << before << ", after " << after << " (of " << total
             << "); " << elapsed << " ms";
  CHECK_EQ(after, before);
}

PTEST(memory, fork_fails_cleanly_when_memory_runs_out) {
  // A child P forks children (each waits on a pipe) until fork fails: it
  // must fail cleanly, with ENOMEM or EAGAIN (memory, or the pager's 512
  // address spaces, run out), and once they are all gone the pool is as it
  // was, so the failed fork left nothing behind.
  unsigned long before = 0, after = 0;
  CHECK_OK(ukos_meminfo(&before, nullptr));
  Pipe gate, report;
  CHECK_OK(pipe(&gate.r));
  CHECK_OK(pipe(&report.r));
  constexpr int kMost = 2000;
  pid_t p;
  CHECK_OK(p = pt::spawn([&] {
    (void)close(report.r);
    int forked = 0, e = 0;
    for (; forked < kMost; ++forked) {
      errno = 0;
      const pid_t c = fork();
      e = errno;
      if (c < 0) break;
      if (c == 0) {
        (void)close(gate.w);
        (void)pt::wait_token(gate.r);
        _exit(0);
      }
    }
    const int result[2] = {forked, e};
    CHECK(pt::write_all(report.w, result, sizeof result));
    (void)close(gate.w);
    (void)close(gate.r);
    for (int i = 0; i < forked; ++i) CHECK_EXITS(-1, 0);
  }));
  CHECK_OK(close(report.w));
  int result[2] = {0, 0};
  const long got = pt::read_full(report.r, result, sizeof result);
  CHECK_OK(close(report.r));
  CHECK_OK(close(gate.w));  // lets P's children go
  CHECK_OK(close(gate.r));
  CHECK_EXITS(p, 0);
  CHECK_OK(ukos_meminfo(&after, nullptr));
  pt::Line() << "  memory: fork failed after " << result[0] << " children with " << pt::errno_name(result[1])
             << "; free bytes before " << before << ", after " << after;
  CHECK_EQ(got, static_cast<long>(sizeof result));
  CHECK_M(result[0] < kMost, kMost << " forks and no failure");
  CHECK_M(result[1] == EAGAIN || result[1] == ENOMEM, "fork failed with " << pt::errno_name(result[1]));
  CHECK(result[0] > 0);
  CHECK_EQ(after, before);
}

PTEST(memory, touching_more_than_memory_kills_only_the_toucher) {
  // A child grows its heap past the pool and writes every page: the pager
  // must end it (SIGKILL, as Linux's OOM killer does) rather than hang or
  // harm anyone else; afterwards the pool is as it was.
  unsigned long before = 0, total = 0, after = 0;
  CHECK_OK(ukos_meminfo(&before, &total));
  const unsigned long want = total + 4 * 1024 * 1024;
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    auto* heap = static_cast<volatile unsigned char*>(sbrk(static_cast<intptr_t>(want)));
    CHECK(heap != reinterpret_cast<void*>(-1));
    for (unsigned long i = 0; i < want; i += kPage) heap[i] = 1;
    pt::Line() << "  (child " << getpid() << ") wrote " << want << " bytes, more than the pool's " << total;
  }));
  CHECK_KILLED(child, SIGKILL);
  CHECK_OK(ukos_meminfo(&after, nullptr));
  CHECK_EQ(after, before);
  // Everyone else still works.
  CHECK_OK(child = fork());
  if (child == 0) _exit(0);
  CHECK_EXITS(child, 0);
}
