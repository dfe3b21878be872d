// Group "forkmem", the tests where memory runs out (forkmem.cc has the
// others): a fork that finds no memory fails with ENOMEM and leaves nothing
// behind; a copy-on-write fault that finds none kills only the writer; and
// 1,000 forks leave the pager's pool exactly as it was.
//
// To make memory scarce a test's process P forks "ballast" children, each
// of which grows its heap and touches it until the pager's free memory
// (ukos_meminfo) is down to a target. Under a policy that shares pages at
// fork, the first write to a shared page needs a frame in whichever process
// writes first; so P first maps every page it will write from then on (its
// data segment and the top of its stack), writes each again after every
// fork of its own (privatize), and a ballast child starts taking memory only
// once P has done so. Then P never needs a frame while memory is scarce.
#include <signal.h>
#include <sys/wait.h>
#include <ukos.h>
#include <unistd.h>

#include "forkmem.h"
#include "posixtest.h"

namespace {

using namespace fm;

constexpr unsigned long kMiB = 1024 * 1024;

// Free bytes in the pager's pool; 0 if it cannot be asked.
unsigned long free_bytes() {
  unsigned long bytes = 0;
  return ukos_meminfo(&bytes, nullptr) == 0 ? bytes : 0;
}

// ---- P's own pages ----

// How much stack P may use below the frame that calls claim_stack().
constexpr size_t kStackReserve = 32 * 1024;
uintptr_t g_stack_low;

[[gnu::noinline]] void claim_stack() {
  volatile char here = 0;
  g_stack_low = page_down(reinterpret_cast<uintptr_t>(&here) - kStackReserve);
}

// Writes every page of the data segment and of the stack from g_stack_low
// up back with what it holds: the first call maps each, a call after a fork
// gives P its own copy of each page it shares with the child. False if the
// program's segments cannot be read.
[[gnu::noinline]] bool privatize() {
  static Image image;
  static bool known = false;
  if (!known) known = read_image(image);
  if (!known || g_stack_low == 0) return false;
  auto rewrite = [](uintptr_t start, uintptr_t end) {
    for (uintptr_t a = page_down(start); a < end; a += kPage) {
      auto* p = reinterpret_cast<volatile unsigned char*>(a);
      *p = *p;
    }
  };
  rewrite(image.data.start, image.data.end);
  rewrite(g_stack_low, kStackTop);
  return true;
}

// ---- ballast ----

// Children that hold memory until let go: each touches heap pages until the
// pager's free memory is at most its goal, or it holds kMost (with kRoom
// more for the last one: a process maps little more than 16 MiB,
// docs/pager.md §7).
class Ballast {
 public:
  Ballast() = default;
  Ballast(const Ballast&) = delete;
  ~Ballast() { (void)release(); }

  // Forks children until free memory is at most `target`. False, having
  // said why, if it cannot.
  bool fill_to(unsigned long target);
  // Lets every child go and reaps it; false if one did not exit 0.
  bool release();

 private:
  [[noreturn]] static void hold(unsigned long goal, unsigned long most, Handshake& h, int gate);

  static constexpr int kMax = 96;
  static constexpr unsigned long kMost = 8 * kMiB, kRoom = 2 * kMiB;
  int m_gate[2] = {-1, -1};  // the children wait for end of file on m_gate[0]
  pid_t m_pids[kMax] = {};
  int m_count = 0;
};

void Ballast::hold(unsigned long goal, unsigned long most, Handshake& h, int gate) {
  if (!h.hear()) _exit(1);  // P has privatized its pages
  unsigned long held = 0;
  for (;;) {
    unsigned long now = 0;
    if (ukos_meminfo(&now, nullptr) != 0) _exit(2);
    if (now <= goal || held >= most) break;
    unsigned long step = page_down((now - goal) / 2);
    if (step < kPage) step = kPage;
    if (step > most - held) step = most - held;
    volatile uint64_t* p = grow_heap(step / kPage);
    if (p == nullptr) _exit(3);
    for (size_t i = 0; i < step / sizeof *p; i += kWordsPerPage) p[i] = 1;
    held += step;
  }
  if (!h.tell()) _exit(4);
  (void)pt::wait_token(gate);
  _exit(0);
}

bool Ballast::fill_to(unsigned long target) {
  if (m_gate[0] < 0 && pipe(m_gate) != 0) {
    PT_FAIL() << "ballast: pipe: " << pt::errno_name(errno);
    return false;
  }
  for (;;) {
    const unsigned long now = free_bytes();
    if (now <= target) return true;
    if (m_count == kMax) {
      PT_FAIL() << "ballast: " << kMax << " children and still " << now << " bytes free";
      return false;
    }
    const unsigned long goal = now - target > kMost + kRoom ? now - kMost : target;
    Handshake h;
    if (!h.open()) {
      PT_FAIL() << "ballast: pipe: " << pt::errno_name(errno);
      return false;
    }
    const pid_t pid = fork();
    if (pid == 0) {
      h.child_side();
      (void)close(m_gate[1]);
      hold(goal, kMost + kRoom, h, m_gate[0]);
    }
    if (pid < 0) {
      PT_FAIL() << "ballast: fork number " << m_count + 1 << " with " << now
                << " bytes free: " << pt::errno_name(errno);
      return false;
    }
    m_pids[m_count++] = pid;
    h.parent_side();
    if (!privatize() || !h.tell() || !h.hear()) {
      PT_FAIL() << "ballast: child " << pid << " died before it held its memory";
      return false;
    }
  }
}

bool Ballast::release() {
  for (int& fd : m_gate) {
    if (fd >= 0) (void)close(fd);
    fd = -1;
  }
  bool ok = true;
  for (int i = 0; i < m_count; ++i) {
    int status = 0;
    if (waitpid(m_pids[i], &status, 0) != m_pids[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      pt::Failure f(__FILE__, __LINE__);
      f << "ballast child " << m_pids[i] << " ";
      pt::describe_status(f, status);
      ok = false;
    }
  }
  m_count = 0;
  return ok;
}

// ---- the tests' bodies, each run in P ----

// What is left free when a fork must find no memory: less than one 128 KiB
// chunk, the least an address space costs (docs/pager.md §1), whatever the
// policy.
constexpr unsigned long kScarce = 64 * 1024;

void fork_finds_no_memory() {
  claim_stack();
  CHECK(privatize());
  const unsigned long before = free_bytes();
  CHECK(before > 0);
  Ballast ballast;
  CHECK(ballast.fill_to(kScarce));
  const unsigned long scarce = free_bytes();
  for (int attempt = 1; attempt <= 3; ++attempt) {
    errno = 0;
    const pid_t pid = fork();
    if (pid == 0) _exit(0);
    const int e = errno;
    if (pid > 0) (void)waitpid(pid, nullptr, 0);
    CHECK_M(pid == -1 && e == ENOMEM, "fork number " << attempt << " with " << scarce << " bytes free returned "
                                                      << pid << ", errno " << pt::errno_name(e));
    CHECK_EQ(free_bytes(), scarce);  // the failed fork left nothing behind
  }
  CHECK(ballast.release());
  const unsigned long after = free_bytes();
  pt::Line() << "  forkmem: fork with " << scarce << " bytes free: ENOMEM; free bytes before " << before
             << ", after " << after;
  CHECK_EQ(after, before);
  pid_t child;
  CHECK_OK(child = fork());  // and fork works again
  if (child == 0) _exit(0);
  CHECK_EXITS(child, 0);
}

// Free memory left when P builds its heap: two thirds go into the heap, so
// the heap is more than half of what is free and no copy of it can fit.
constexpr unsigned long kLeftForHeap = 12 * kMiB;

void copy_fault_finds_no_memory() {
  claim_stack();
  CHECK(privatize());
  const unsigned long before = free_bytes();
  CHECK(before > kLeftForHeap);
  Ballast ballast;
  CHECK(ballast.fill_to(kLeftForHeap));
  const size_t pages = free_bytes() * 2 / 3 / kPage;
  volatile uint64_t* heap = grow_heap(pages);
  CHECK(heap != nullptr);
  const Memory m{heap, pages * kWordsPerPage};
  paint(m, 1);
  CHECK(privatize());
  const unsigned long at_fork = free_bytes();
  CHECK_M(at_fork < pages * kPage, "a copy of the " << pages * kPage << "-byte heap fits in " << at_fork);

  Handshake h;
  CHECK(h.open());
  errno = 0;
  const pid_t child = fork();
  if (child == 0) {
    h.child_side();
    if (!h.hear()) _exit(3);
    for (size_t i = 0; i < m.count; i += kWordsPerPage) m.words[i] = word_value(2, m.words + i);
    _exit(0);  // it wrote more memory than there is
  }
  const int e = errno;
  const char* policy = current_policy();
  pt::Text outcome;
  if (child < 0) {
    CHECK_M(e == ENOMEM, "fork failed with " << pt::errno_name(e));
    outcome << "fork failed with ENOMEM";
  } else {
    h.parent_side();
    CHECK(privatize());  // before the child takes every frame
    CHECK(h.tell());
    int status = 0;
    CHECK_EQ(waitpid(child, &status, 0), child);
    outcome << "the child ";
    pt::describe_status(outcome, status);
    CHECK_M(WIFSIGNALED(status) && (WTERMSIG(status) == SIGKILL || WTERMSIG(status) == SIGSEGV),
            "the child writing its " << pages << "-page heap: " << outcome.c_str());
  }
  const unsigned long after_fork = free_bytes();
  pt::Line() << "  forkmem: " << policy << ", a " << pages * kPage << "-byte heap, " << at_fork
             << " bytes free: " << outcome.c_str() << "; free bytes then " << after_fork;
  CHECK_PAINTED(m, 1);
  CHECK_EQ(after_fork, at_fork);
  // eager copies at fork; cow and hotcopy share the heap, so the fork fits.
  if (pt::same_string(policy, "eager")) CHECK_M(child < 0, "eager's fork did not fail");
  if (pt::same_string(policy, "cow") || pt::same_string(policy, "hotcopy")) {
    CHECK_M(child > 0, policy << "'s fork failed");
  }
  CHECK(ballast.release());
  CHECK(sbrk(-static_cast<intptr_t>(pages * kPage)) != reinterpret_cast<void*>(-1));
  CHECK_EQ(free_bytes(), before);
}

uint64_t g_word;  // a word of bss

// 1,000 rounds of fork, exit and wait. The child checks and then writes a
// word of the heap, of bss and of the stack (copy-on-write faults under a
// sharing policy); the parent writes them too, in odd rounds while the
// child may still run, in even ones once it is gone.
void thousand_forks() {
  volatile uint64_t* heap = grow_heap(1);
  CHECK(heap != nullptr);
  volatile uint64_t local = 0;
  volatile uint64_t* words[3] = {heap, &g_word, &local};
  auto set = [&](uint64_t v) {
    for (volatile uint64_t* w : words) *w = v;
  };
  set(0);
  for (int i = 0; i < 3; ++i) {  // settle the parent's own pages first
    pid_t child;
    CHECK_OK(child = fork());
    if (child == 0) _exit(0);
    CHECK_EXITS(child, 0);
  }
  const unsigned long before = free_bytes();
  const uint64_t start = pt::now_ms();
  for (uint64_t i = 0; i < 1000; ++i) {
    const pid_t child = fork();
    if (child == 0) {
      bool saw = true;
      for (volatile uint64_t* w : words) saw = saw && *w == i;
      set(~i);
      _exit(saw ? 0 : 1);
    }
    CHECK_M(child > 0, "fork number " << i + 1 << ": " << pt::errno_name(errno));
    if (i % 2 == 1) set(i + 1);
    int status = -1;
    CHECK_M(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
            "round " << i + 1 << ": child " << child << " status 0x" << status);
    if (i % 2 == 0) set(i + 1);
  }
  const uint64_t elapsed = pt::now_ms() - start;
  for (volatile uint64_t* w : words) CHECK_EQ(*w, 1000);
  const unsigned long after = free_bytes();
  pt::Line() << "  forkmem: 1000 forks under " << current_policy() << " in " << elapsed << " ms; free bytes before "
             << before << ", after " << after;
  CHECK_EQ(after, before);
}

}  // namespace

PTEST(forkmem, fork_without_memory_is_enomem_and_leaks_nothing) {
  RUN_IN_CHILD(fork_finds_no_memory);
}

PTEST(forkmem, copy_fault_without_memory_kills_only_the_writer) {
  RUN_IN_CHILD(copy_fault_finds_no_memory);
}

PTEST(forkmem, fork_exit_wait_1000_times_leaks_nothing) {
  RUN_IN_CHILD(thousand_forks);
}
