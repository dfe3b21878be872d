// forkbench: the fork benchmark (`./bench fork`, docs/benchmarks.md), a
// process run by init (bootargs init.args=/bin/forkbench) under
// qemu -icount shift=0, where rdinstret counts every instruction the hart
// retires, user and kernel, exactly.
//
//   forkbench           every registered pager policy, heaps of 0, 64 KiB,
//                       1 MiB, 4 MiB and 16 MiB, median of 5 after 1 warm-up
//   forkbench --quick   heaps of 0 and 64 KiB, one run each (the system test)
//
// For each policy (ukos_policy_name 0, 1, ... until ENOENT; set on this
// process with ukos_set_policy, so its children inherit it) and each heap
// size (grown with sbrk, every page written, shrunk back afterwards) it
// prints one line
//
//   forkbench,row,POLICY,HEAP_BYTES,NAME=VALUE,...
//
// (an empty VALUE: not measured; a column error=STAGE:ERRNO instead of the
// figures when the size could not be measured), and once
//
//   forkbench,copy4k,instructions=N,cycles=N        memcpy of one 4 KiB page
//   forkbench,copy4k_words,instructions=N,cycles=N  the same, 8 bytes a time
//
// Every window (docs/benchmarks.md describes each column):
//   fork+exit+wait  rdinstret before fork() to after waitpid() returns in
//                   the parent; the child calls _exit(0) at once;
//   fork            before fork() to its return in the parent; the child
//                   blocks at once on a pipe read (it starts before the
//                   parent returns, see child_ran_in_fork_window);
//   cow fault       the parent writes one word to every heap page while that
//                   child is still blocked, so under cow every page is still
//                   shared; the total divided by the pages;
//   counters        ukos_stats read before and after a window, less what an
//                   empty window (two readings back to back) shows.
// The exit status is 0 when every policy produced its rows and, with
// --quick, none of them carries an error.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <ukos.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "os/cpu.h"

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kFullSizes[] = {0, 64 << 10, 1 << 20, 4 << 20, 16 << 20};
constexpr uint64_t kQuickSizes[] = {0, 64 << 10};
constexpr int kMaxPolicies = 16;
constexpr int kMaxRuns = 16;

struct Options {
  bool quick = false;
  const uint64_t* sizes = kFullSizes;
  int size_count = sizeof kFullSizes / sizeof kFullSizes[0];
  int warmups = 1;
  int runs = 5;
};

// ---- output -----------------------------------------------------------------

// A line built piece by piece and written with one write(2), so that the
// console gets it whole (dprintf writes each piece on its own).
class Line {
 public:
  void add(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    va_list ap;
    va_start(ap, format);
    const int n = vsnprintf(m_text + m_length, sizeof m_text - m_length, format, ap);
    va_end(ap);
    if (n > 0) m_length += static_cast<size_t>(n) < sizeof m_text - m_length ? n : sizeof m_text - m_length - 1;
  }
  // NAME=VALUE, or NAME= when the value is unknown.
  void column(const char* name, bool known, uint64_t value) {
    if (known) {
      add(",%s=%lu", name, static_cast<unsigned long>(value));
    } else {
      add(",%s=", name);
    }
  }
  void emit() {
    add("\n");
    (void)write(STDOUT_FILENO, m_text, m_length);
    m_length = 0;
  }

 private:
  char m_text[1536];
  size_t m_length = 0;
};

const char* errno_name(int e) {
  switch (e) {
    case ENOMEM: return "ENOMEM";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case ENOSYS: return "ENOSYS";
    case EMFILE: return "EMFILE";
    case ECHILD: return "ECHILD";
    default: return "errno";
  }
}

// ---- measuring --------------------------------------------------------------

struct Sample {
  uint64_t instructions = 0;
  uint64_t cycles = 0;
};

struct Window {
  uint64_t i0, c0;
  static Window start() {
    Window w;
    w.i0 = os::read_instret();
    w.c0 = os::read_cycle();
    return w;
  }
  Sample stop() const {
    const uint64_t c1 = os::read_cycle();
    const uint64_t i1 = os::read_instret();
    return {i1 - i0, c1 - c0};
  }
};

// The median by instructions of n samples (sorted in place).
Sample median(Sample* s, int n) {
  for (int i = 1; i < n; ++i) {
    for (int j = i; j > 0 && s[j].instructions < s[j - 1].instructions; --j) {
      const Sample t = s[j];
      s[j] = s[j - 1];
      s[j - 1] = t;
    }
  }
  return s[n / 2];
}

uint64_t median(uint64_t* v, int n) {
  for (int i = 1; i < n; ++i) {
    for (int j = i; j > 0 && v[j] < v[j - 1]; --j) {
      const uint64_t t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  }
  return v[n / 2];
}

// ---- the servers' counters --------------------------------------------------

// ukos_stats as an array of counters too, so that a difference is one loop.
using Stats = struct ukos_stats;
constexpr size_t kCounters = sizeof(Stats) / sizeof(unsigned long);
static_assert(sizeof(Stats) == kCounters * sizeof(unsigned long));

union Counters {
  Stats s;
  unsigned long v[kCounters];
};

bool g_have_stats = false;
Counters g_stats_overhead{};  // what an empty window shows: the readings' own messages and instructions

bool read_stats(Counters& out) {
  if (!g_have_stats) return false;
  return ukos_stats(&out.s) == 0;
}

// after - before - the empty window's figures (clamped at 0).
Counters delta(const Counters& before, const Counters& after) {
  Counters d;
  for (size_t i = 0; i < kCounters; ++i) {
    const unsigned long raw = after.v[i] - before.v[i];
    d.v[i] = raw > g_stats_overhead.v[i] ? raw - g_stats_overhead.v[i] : 0;
  }
  return d;
}

// Two readings back to back, the second pair kept (the first may still
// fault pages of this stack in).
void measure_stats_overhead() {
  g_stats_overhead = {};
  Counters a, b, c;
  if (!read_stats(a) || !read_stats(b) || !read_stats(c)) return;
  for (size_t i = 0; i < kCounters; ++i) g_stats_overhead.v[i] = c.v[i] - b.v[i];
}

// ---- the heap ---------------------------------------------------------------

char* g_heap = nullptr;  // page-aligned; the heap measured is [g_heap, g_heap + g_heap_size)
uint64_t g_heap_size = 0;

bool heap_init() {
  const auto brk = reinterpret_cast<uintptr_t>(sbrk(0));
  if (brk == static_cast<uintptr_t>(-1)) return false;
  const uintptr_t aligned = (brk + kPage - 1) & ~(kPage - 1);
  if (aligned != brk && sbrk(static_cast<intptr_t>(aligned - brk)) == reinterpret_cast<void*>(-1)) return false;
  g_heap = reinterpret_cast<char*>(aligned);
  return true;
}

void touch(char* base, uint64_t bytes, uint64_t value) {
  for (uint64_t off = 0; off < bytes; off += kPage) *reinterpret_cast<volatile uint64_t*>(base + off) = value;
}

// Moves the break to g_heap + size and writes every page of the heap, so
// that each is mapped. 0 or an errno.
int heap_set(uint64_t size) {
  const intptr_t change = static_cast<intptr_t>(size) - static_cast<intptr_t>(g_heap_size);
  if (change != 0 && sbrk(change) == reinterpret_cast<void*>(-1)) return errno;
  g_heap_size = size;
  touch(g_heap, size, 1);
  return 0;
}

// Whether a process may map `size` bytes of heap (page-table space per
// address space is limited): a child grows and writes its own heap and
// exits; a pager that cannot map a page kills it. 0 or an errno (ENOMEM
// also for a child killed).
int heap_probe(uint64_t size) {
  const pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) _exit(heap_set(size) == 0 ? 0 : 1);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return errno;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : ENOMEM;
}

// ---- the measurements -------------------------------------------------------

struct Row {
  int error = 0;
  const char* stage = "";
  Sample fork_exit_wait;
  Sample fork;
  uint64_t fork_to_child = 0;  // before fork() to the child's first instruction
  bool child_first = false;    // did the child start before fork returned in the parent?
  bool have_cow = false;
  Sample cow_per_page;
  bool have_stats = false;
  Counters around_few{};  // one fork+exit+wait
  Counters around_fork{};  // fork alone
  Counters around_cow{};  // the writes of the cow-fault window
};

int fail(Row& row, const char* stage, int error) {
  row.stage = stage;
  row.error = error != 0 ? error : EINVAL;
  return row.error;
}

// fork+exit+wait, the child exiting at once.
int measure_fork_exit_wait(const Options& opt, Row& row) {
  Sample samples[kMaxRuns];
  for (int r = -opt.warmups; r < opt.runs; ++r) {
    const bool last = r == opt.runs - 1;
    Counters before;
    const bool stats = last && read_stats(before);
    const Window w = Window::start();
    const pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0) return fail(row, "fork", errno);
    int status = 0;
    const pid_t reaped = waitpid(pid, &status, 0);
    const Sample s = w.stop();
    if (reaped != pid) return fail(row, "wait", errno);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail(row, "child", ECHILD);
    Counters after;
    if (stats && read_stats(after)) {
      row.have_stats = true;
      row.around_few = delta(before, after);
    }
    if (r >= 0) samples[r] = s;
  }
  row.fork_exit_wait = median(samples, opt.runs);
  return 0;
}

// The child of the fork-alone window: it notes when it first ran, blocks
// on the pipe until the parent has measured, and sends the note back.
[[noreturn]] void blocked_child(int go_fd, int note_fd) {
  const uint64_t first = os::read_instret();
  char c;
  (void)read(go_fd, &c, 1);
  (void)write(note_fd, &first, sizeof first);
  _exit(0);
}

void close_pair(int fds[2]) {
  close(fds[0]);
  close(fds[1]);
}

// fork alone, then the parent's writes to every heap page while the child
// still shares them.
int measure_fork_and_cow(const Options& opt, Row& row) {
  Sample forks[kMaxRuns], cows[kMaxRuns];
  uint64_t to_child[kMaxRuns];
  const uint64_t pages = g_heap_size / kPage;
  int child_first = 0;
  for (int r = -opt.warmups; r < opt.runs; ++r) {
    const bool last = r == opt.runs - 1;
    int go[2], note[2];
    if (pipe(go) != 0) return fail(row, "pipe", errno);
    if (pipe(note) != 0) {
      const int e = errno;
      close_pair(go);
      return fail(row, "pipe", e);
    }
    Counters s0, s1, s2;
    const bool stats = last && read_stats(s0);
    const Window w = Window::start();
    const pid_t pid = fork();
    if (pid == 0) blocked_child(go[0], note[1]);
    const Sample f = w.stop();
    if (pid < 0) {
      const int e = errno;
      close_pair(go);
      close_pair(note);
      return fail(row, "fork", e);
    }
    const bool stats1 = stats && read_stats(s1);
    const Window cw = Window::start();
    touch(g_heap, g_heap_size, static_cast<uint64_t>(r) + 2);
    const Sample c = cw.stop();
    const bool stats2 = stats1 && read_stats(s2);

    (void)write(go[1], "x", 1);
    uint64_t first = 0;
    const bool noted = read(note[0], &first, sizeof first) == static_cast<ssize_t>(sizeof first);
    int status = 0;
    const pid_t reaped = waitpid(pid, &status, 0);
    close_pair(go);
    close_pair(note);
    if (reaped != pid) return fail(row, "wait", errno);
    if (!noted || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail(row, "child", ECHILD);
    if (stats2) {
      row.around_fork = delta(s0, s1);
      row.around_cow = delta(s1, s2);
    }
    if (r >= 0) {
      forks[r] = f;
      cows[r] = pages > 0 ? Sample{c.instructions / pages, c.cycles / pages} : Sample{};
      to_child[r] = first - w.i0;
      if (first < w.i0 + f.instructions) ++child_first;
    }
  }
  row.fork = median(forks, opt.runs);
  row.fork_to_child = median(to_child, opt.runs);
  row.child_first = child_first * 2 > opt.runs;
  row.have_cow = pages > 0;
  if (row.have_cow) row.cow_per_page = median(cows, opt.runs);
  return 0;
}

void print_row(const char* policy, uint64_t heap, const Row& row) {
  Line line;
  line.add("forkbench,row,%s,%lu", policy, static_cast<unsigned long>(heap));
  if (row.error != 0) {
    line.add(",error=%s:%s", row.stage, errno_name(row.error));
    line.emit();
    dprintf(STDOUT_FILENO, "forkbench: %s, heap %lu: %s failed: %s\n", policy, static_cast<unsigned long>(heap),
            row.stage, strerror(row.error));
    return;
  }
  const bool st = row.have_stats;
  const Stats& few = row.around_few.s;
  const Stats& fk = row.around_fork.s;
  const Stats& cow = row.around_cow.s;
  line.column("heap_pages", true, heap / kPage);
  line.column("fork_exit_wait_instructions", true, row.fork_exit_wait.instructions);
  line.column("fork_exit_wait_cycles", true, row.fork_exit_wait.cycles);
  line.column("fork_instructions", true, row.fork.instructions);
  line.column("fork_cycles", true, row.fork.cycles);
  line.column("fork_to_child_instructions", true, row.fork_to_child);
  line.column("child_ran_in_fork_window", true, row.child_first ? 1 : 0);
  line.column("cow_fault_pages", true, row.have_cow ? heap / kPage : 0);
  line.column("cow_fault_instructions", row.have_cow, row.cow_per_page.instructions);
  line.column("cow_fault_cycles", row.have_cow, row.cow_per_page.cycles);
  line.column("cow_fault_copies", st && row.have_cow, cow.pager_cow_copies);
  line.column("cow_fault_made_writable", st && row.have_cow, cow.pager_cow_made_writable);
  // Round trips on the fork path: the window of fork alone.
  const uint64_t rt_procmgr = fk.procmgr_from_processes, rt_pager = fk.procmgr_calls_to_pager,
                 rt_vfs = fk.procmgr_calls_to_vfs, rt_faults = fk.pager_faults;
  line.column("rt_libos_procmgr", st, rt_procmgr);
  line.column("rt_procmgr_pager", st, rt_pager);
  line.column("rt_procmgr_vfs", st, rt_vfs);
  line.column("rt_faults_pager", st, rt_faults);
  line.column("ipc_roundtrips", st, rt_procmgr + rt_pager + rt_vfs + rt_faults);
  // Pages: one fork+exit+wait.
  line.column("pages_copied_fork", st, few.pager_fork_pages_copied);
  line.column("pages_copied_faults", st, few.pager_cow_copies);
  line.column("pages_copied", st, few.pager_fork_pages_copied + few.pager_cow_copies);
  line.column("pages_shared", st, few.pager_fork_pages_shared);
  line.column("faults_after", st, few.pager_faults);
  line.column("zero_fills_after", st, few.pager_zero_fills);
  line.column("made_writable_after", st, few.pager_cow_made_writable);
  // Where the instructions of one fork+exit+wait go.
  line.column("few_rt_libos_procmgr", st, few.procmgr_from_processes);
  line.column("few_rt_procmgr_pager", st, few.procmgr_calls_to_pager);
  line.column("few_rt_procmgr_vfs", st, few.procmgr_calls_to_vfs);
  line.column("instr_total", st, few.instr_total);
  line.column("instr_kernel", st, few.instr_kernel);
  line.column("instr_procmgr", st, few.instr_procmgr);
  line.column("instr_pager", st, few.instr_pager);
  line.column("instr_vfs", st, few.instr_vfs);
  const uint64_t servers = few.instr_kernel + few.instr_procmgr + few.instr_pager + few.instr_vfs;
  // Empty when the parts add up to more than the whole: the servers'
  // counters then include their kernel-mode instructions too.
  line.column("instr_processes", st && few.instr_total >= servers, few.instr_total - servers);
  line.emit();
}

// A page copied 8 bytes at a time, for comparison with libc's memcpy
// (a byte loop today).
[[gnu::noinline]] void copy_words(void* dst, const void* src) {
  auto* d = static_cast<volatile uint64_t*>(dst);
  const auto* s = static_cast<const volatile uint64_t*>(src);
  for (uint64_t i = 0; i < kPage / sizeof(uint64_t); ++i) d[i] = s[i];
}

// Prints forkbench,NAME,instructions=N,cycles=N: the median cost of
// copy(dst, src) for one 4 KiB page, less an empty window.
template <typename Copy>
void measure_copy(const Options& opt, const char* name, Copy&& copy) {
  Sample copies[kMaxRuns], empties[kMaxRuns];
  const int runs = opt.runs < 3 ? 3 : opt.runs;
  for (int r = -1; r < runs; ++r) {
    const Window e = Window::start();
    const Sample empty = e.stop();
    const Window w = Window::start();
    copy(g_heap + kPage, g_heap);
    asm volatile("" ::: "memory");
    const Sample s = w.stop();
    if (r >= 0) {
      copies[r] = s;
      empties[r] = empty;
    }
  }
  const Sample c = median(copies, runs);
  const Sample e = median(empties, runs);
  Line line;
  line.add("forkbench,%s", name);
  line.column("instructions", true, c.instructions - e.instructions);
  line.column("cycles", true, c.cycles - e.cycles);
  line.emit();
}

// The 4 KiB copies, between two mapped heap pages. 0 or an errno.
int measure_copies(const Options& opt) {
  if (const int e = heap_set(2 * kPage); e != 0) return e;
  measure_copy(opt, "copy4k", [](char* dst, const char* src) { memcpy(dst, src, kPage); });
  measure_copy(opt, "copy4k_words", [](char* dst, const char* src) { copy_words(dst, src); });
  return heap_set(0);
}

bool parse(int argc, char** argv, Options& opt) {
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--quick") == 0) {
      opt.quick = true;
      opt.sizes = kQuickSizes;
      opt.size_count = sizeof kQuickSizes / sizeof kQuickSizes[0];
      opt.warmups = 0;
      opt.runs = 1;
    } else {
      dprintf(STDERR_FILENO, "usage: forkbench [--quick]\n");
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse(argc, argv, opt)) return 2;

  char names[kMaxPolicies][UKOS_POLICY_NAME_MAX];
  int policies = 0;
  for (; policies < kMaxPolicies; ++policies) {
    if (ukos_policy_name(policies, names[policies], sizeof names[policies]) != 0) {
      if (errno == ENOENT) break;
      dprintf(STDERR_FILENO, "forkbench: ukos_policy_name(%d): %s\n", policies, strerror(errno));
      return 1;
    }
  }
  if (policies == 0) {
    dprintf(STDERR_FILENO, "forkbench: no pager policy registered\n");
    return 1;
  }
  if (!heap_init()) {
    dprintf(STDERR_FILENO, "forkbench: sbrk: %s\n", strerror(errno));
    return 1;
  }
  {
    Stats probe;
    g_have_stats = ukos_stats(&probe) == 0;
    if (!g_have_stats) dprintf(STDOUT_FILENO, "forkbench: ukos_stats: %s: counter columns left empty\n", strerror(errno));
  }

  Line header;
  header.add("forkbench: %d policies (", policies);
  for (int p = 0; p < policies; ++p) header.add(p == 0 ? "%s" : " %s", names[p]);
  header.add("), heaps of");
  for (int i = 0; i < opt.size_count; ++i) header.add(" %lu", static_cast<unsigned long>(opt.sizes[i]));
  header.add(" bytes; median of %d after %d warm-up%s", opt.runs, opt.warmups, opt.warmups == 1 ? "" : "s");
  header.emit();
  if (const int e = measure_copies(opt); e != 0) {
    dprintf(STDERR_FILENO, "forkbench: heap for the 4 KiB copy: %s\n", strerror(e));
    return 1;
  }

  int rows = 0, errors = 0;
  for (int p = 0; p < policies; ++p) {
    if (ukos_set_policy(0, names[p]) != 0) {
      dprintf(STDERR_FILENO, "forkbench: ukos_set_policy(%s): %s\n", names[p], strerror(errno));
      return 1;
    }
    measure_stats_overhead();
    for (int i = 0; i < opt.size_count; ++i) {
      const uint64_t size = opt.sizes[i];
      Row row;
      if (size > 0) {
        if (const int e = heap_probe(size); e != 0) fail(row, "map", e);
      }
      if (row.error == 0) {
        if (const int e = heap_set(size); e != 0) fail(row, "sbrk", e);
      }
      if (row.error == 0 && measure_fork_exit_wait(opt, row) == 0) measure_fork_and_cow(opt, row);
      print_row(names[p], size, row);
      ++rows;
      if (row.error != 0) ++errors;
      if (const int e = heap_set(0); e != 0) {
        dprintf(STDERR_FILENO, "forkbench: shrinking the heap: %s\n", strerror(e));
        return 1;
      }
    }
  }
  dprintf(STDOUT_FILENO, "forkbench: done, %d policies, %d rows, %d errors\n", policies, rows, errors);
  const bool complete = rows == policies * opt.size_count;
  return complete && (!opt.quick || errors == 0) ? 0 : 1;
}
