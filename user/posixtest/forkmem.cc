// Group "forkmem": what fork promises about memory, which must hold under
// every pager policy (DESIGN.md §7). tests/system/meson.build runs this group
// once per policy registered in servers/pager/policies/policies.def
// (forksuite-NAME), so each test is written to fail if a policy broke it.
// This file: isolation page by page in the heap, the data segment, bss and
// the stack; shared text; one page held by three generations, written in
// every order; forks taken while a sibling is in the middle of its copy
// faults. forkmem_scarce.cc: running out of memory, 1,000 forks.
//
// Most tests run in a child P of the runner (RUN_IN_CHILD), so the memory
// they grow and paint goes away with P.
#include "forkmem.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <ukos.h>
#include <unistd.h>

#include "posixtest.h"
#include "runner.h"

namespace fm {

void paint(const Memory& m, unsigned seed) {
  for (size_t i = 0; i < m.count; ++i) m.words[i] = word_value(seed, m.words + i);
}

size_t first_wrong(const Memory& m, unsigned seed) {
  for (size_t i = 0; i < m.count; ++i) {
    if (m.words[i] != word_value(seed, m.words + i)) return i;
  }
  return m.count;
}

void describe_word(pt::Text& out, const Memory& m, size_t i) {
  const uint64_t v = m.words[i];
  out << "word " << i << " (page " << i / kWordsPerPage << " of " << (m.count + kWordsPerPage - 1) / kWordsPerPage
      << ", at " << const_cast<const uint64_t*>(m.words + i) << ") holds 0x";
  out.hex(v);
  const uint64_t other = v ^ word_value(0, m.words + i);
  if ((other & ((uint64_t{1} << 48) - 1)) == 0) out << ", painting " << (other >> 48) << "'s";
  else out << ", no painting's value for that word";
}

volatile uint64_t* grow_heap(size_t pages) {
  const auto brk = reinterpret_cast<uintptr_t>(sbrk(0));
  if (sbrk(static_cast<intptr_t>(page_up(brk) - brk)) == reinterpret_cast<void*>(-1)) return nullptr;
  void* p = sbrk(static_cast<intptr_t>(pages * kPage));
  return p == reinterpret_cast<void*>(-1) ? nullptr : static_cast<volatile uint64_t*>(p);
}

bool read_image(Image& out) {
  static unsigned char head[2048];  // static: the tests count the stack pages they map
  const int fd = open(pt::self_path(), O_RDONLY);
  if (fd < 0) return false;
  const long n = pt::read_full(fd, head, sizeof head);
  (void)close(fd);
  auto u16 = [&](uint64_t at) { return static_cast<uint64_t>(head[at] | head[at + 1] << 8); };
  auto u64 = [&](uint64_t at) {
    uint64_t v = 0;
    for (uint64_t i = 8; i-- > 0;) v = v << 8 | head[at + i];
    return v;
  };
  if (n < 64 || head[0] != 0x7f || head[1] != 'E' || head[4] != 2 /* ELFCLASS64 */) return false;
  const uint64_t phoff = u64(32), phentsize = u16(54), phnum = u16(56);
  if (phentsize < 56 || phoff + phnum * phentsize > static_cast<uint64_t>(n)) return false;
  int found = 0;
  for (uint64_t i = 0; i < phnum; ++i) {
    const uint64_t ph = phoff + i * phentsize;
    if ((u64(ph) & 0xffffffff) != 1 /* PT_LOAD */) continue;
    const uint64_t flags = u64(ph) >> 32, vaddr = u64(ph + 16), filesz = u64(ph + 32), memsz = u64(ph + 40);
    Segment* s = flags == 5 ? &out.text : flags == 4 ? &out.rodata : flags == 6 ? &out.data : nullptr;
    if (s == nullptr) return false;
    *s = {vaddr, vaddr + filesz, vaddr + memsz};
    ++found;
  }
  return found == 3;
}

uint64_t checksum(uintptr_t start, uintptr_t end) {
  uint64_t sum = 0;
  for (auto* p = reinterpret_cast<const volatile uint64_t*>(start); reinterpret_cast<uintptr_t>(p) < end; ++p) {
    sum = (sum ^ *p) * 0x100000001b3ULL;
  }
  return sum;
}

const char* current_policy() {
  static char name[UKOS_POLICY_NAME_MAX];
  struct ukos_procinfo info;
  if (ukos_procinfo(getpid(), &info) != 1 || info.pid != getpid() ||
      ukos_policy_name(info.policy, name, sizeof name) != 0) {
    return "?";
  }
  return name;
}

void settle() {
  volatile char below[16 * 1024];
  for (size_t i = 0; i < sizeof below; i += kPage) below[i] = 0;
  const pid_t child = fork();
  if (child == 0) _exit(0);
  if (child > 0) (void)waitpid(child, nullptr, 0);
}

Handshake::~Handshake() {
  for (int fd : {m_down[0], m_down[1], m_up[0], m_up[1]}) {
    if (fd >= 0) (void)close(fd);
  }
}

bool Handshake::open() { return pipe(m_down) == 0 && pipe(m_up) == 0; }

void Handshake::keep(int in, int out) {
  for (int* fd : {&m_down[0], &m_down[1], &m_up[0], &m_up[1]}) {
    if (*fd != in && *fd != out) {
      (void)close(*fd);
      *fd = -1;
    }
  }
  m_in = in;
  m_out = out;
}

}  // namespace fm

namespace {

using namespace fm;

// Several pages of the data segment (a non-zero initialiser keeps the array
// out of bss) and of bss.
uint64_t g_data_pages[5 * kWordsPerPage + 3] = {0xda7a};
uint64_t g_bss_pages[6 * kWordsPerPage + 5];

// A whole page inside an array.
Memory page_in(uint64_t* array, size_t words) {
  const uintptr_t page = page_up(reinterpret_cast<uintptr_t>(array));
  return page + kPage <= reinterpret_cast<uintptr_t>(array + words)
             ? Memory{reinterpret_cast<volatile uint64_t*>(page), kWordsPerPage}
             : Memory{nullptr, 0};
}

// ---- isolation ----

constexpr size_t kStackWords = 12 * kWordsPerPage + 9;

// Both directions for m (or, when m is empty, for a local array of this
// frame, the one that forks): the child reads the parent's painting as of
// the fork and then its own; the parent never sees the child's, while the
// child lives or after; and the same with the parent writing after the fork.
[[gnu::noinline]] void check_isolation(Memory m) {
  volatile uint64_t local[kStackWords];
  if (m.words == nullptr) m = {local, kStackWords};
  paint(m, 1);
  {
    Handshake h;
    CHECK(h.open());
    pid_t child;
    CHECK_OK(child = pt::spawn([&] {
      h.child_side();
      CHECK_PAINTED(m, 1);  // the parent's memory as of the fork
      paint(m, 2);
      CHECK_PAINTED(m, 2);
      CHECK(h.tell());
      CHECK(h.hear());  // the parent has checked its own meanwhile
      CHECK_PAINTED(m, 2);
    }));
    h.parent_side();
    CHECK(h.hear());
    CHECK_PAINTED(m, 1);  // not the child's writes, while it lives
    CHECK(h.tell());
    CHECK_EXITS(child, 0);
    CHECK_PAINTED(m, 1);  // nor once it is gone
  }
  {
    Handshake h;
    CHECK(h.open());
    pid_t child;
    CHECK_OK(child = pt::spawn([&] {
      h.child_side();
      CHECK(h.hear());      // the parent has painted 3
      CHECK_PAINTED(m, 1);  // the memory as of the fork, not the parent's later writes
      paint(m, 4);
      CHECK_PAINTED(m, 4);
      CHECK(h.tell());
      CHECK(h.hear());
      CHECK_PAINTED(m, 4);
    }));
    h.parent_side();
    paint(m, 3);
    CHECK(h.tell());
    CHECK(h.hear());
    CHECK_PAINTED(m, 3);  // not the child's
    CHECK(h.tell());
    CHECK_EXITS(child, 0);
    CHECK_PAINTED(m, 3);
  }
}

// ---- three generations ----

// One of P (role 0), its child C (1) and C's child G (2), which all hold
// `pages` as P painted them (1) before the forks. In `order` each checks it
// still reads painting 1 (no earlier writer's shows), paints its own
// (10 + role) and passes the turn on through the pipes; in a second round,
// in the same order, each checks it still reads its own (no later writer's
// shows). A role keeps only the pipe ends it uses, so one that dies ends
// the others' waits.
void take_turns(int role, const int (&order)[3], const Memory (&pages)[3], int (&turn)[3][2]) {
  int position = 0;
  while (order[position] != role) ++position;
  const int next = order[(position + 1) % 3];
  for (int r = 0; r < 3; ++r) {
    if (r != role) (void)close(turn[r][0]);
    if (r != next) (void)close(turn[r][1]);
  }
  // Closed however this returns, so the next one never waits for ever.
  struct Ends {
    int in, out;
    ~Ends() {
      (void)close(in);
      (void)close(out);
    }
  } ends{turn[role][0], turn[next][1]};
  const unsigned mine = 10 + static_cast<unsigned>(role);
  for (int round = 0; round < 2; ++round) {
    if (round > 0 || position > 0) {
      CHECK_M(pt::wait_token(ends.in) == '.', "role " << role << ": the one before it died");
    }
    if (round == 0) {
      for (const Memory& p : pages) CHECK_PAINTED(p, 1);
      for (const Memory& p : pages) paint(p, mine);
    }
    for (const Memory& p : pages) CHECK_PAINTED(p, mine);
    if (round == 0 || position < 2) CHECK(pt::send_token(ends.out));
  }
}

void three_generations(const int (&order)[3]) {
  volatile uint64_t* heap = grow_heap(1);
  CHECK(heap != nullptr);
  const Memory pages[3] = {{heap, kWordsPerPage},
                           page_in(g_data_pages, sizeof g_data_pages / sizeof g_data_pages[0]),
                           page_in(g_bss_pages, sizeof g_bss_pages / sizeof g_bss_pages[0])};
  for (const Memory& p : pages) {
    CHECK(p.count == kWordsPerPage);
    paint(p, 1);
  }
  int turn[3][2];
  for (auto& fds : turn) CHECK_OK(pipe(fds));
  pid_t c;
  CHECK_OK(c = pt::spawn([&] {
    pid_t g;
    CHECK_OK(g = pt::spawn([&] { take_turns(2, order, pages, turn); }));
    take_turns(1, order, pages, turn);
    CHECK_EXITS(g, 0);
  }));
  take_turns(0, order, pages, turn);
  CHECK_EXITS(c, 0);
}

// ---- forks during copy faults ----

// P paints a heap of kPages; its child W repaints it chunk by chunk
// (copy-on-write faults, under a policy that shares), telling P after each
// chunk and running at most one chunk ahead of P's answers. After each of
// W's chunks P forks a child G, which checks that a page of every chunk
// (those W has repainted and those it has not) reads P's painting, paints a
// few of its own and exits; P reaps the previous G, so two are alive at most.
// W keeps painting while P forks. At the end each reads only its own.
void forks_during_copy_faults() {
  constexpr size_t kPages = 1024, kForks = 20, kChunks = kForks + 1;
  constexpr size_t kChunkPages = (kPages + kChunks - 1) / kChunks;
  volatile uint64_t* heap = grow_heap(kPages);
  CHECK(heap != nullptr);
  const Memory all{heap, kPages * kWordsPerPage};
  auto chunk = [&](size_t k) {
    const size_t first = k * kChunkPages, last = first + kChunkPages < kPages ? first + kChunkPages : kPages;
    return Memory{heap + first * kWordsPerPage, (last - first) * kWordsPerPage};
  };
  // P's painting 1, W's 2, G number k's 100 + k on the first page of each chunk
  paint(all, 1);
  Handshake h;
  CHECK(h.open());
  pid_t w;
  CHECK_OK(w = pt::spawn([&] {
    h.child_side();
    for (size_t k = 0; k < kChunks; ++k) {
      paint(chunk(k), 2);
      CHECK(h.tell());
      if (k > 0) CHECK(h.hear());  // P has seen chunk k - 1
    }
    CHECK(h.hear());
    CHECK_PAINTED(all, 2);
  }));
  h.parent_side();
  pid_t previous = 0;
  for (size_t k = 0; k < kChunks; ++k) {
    CHECK_M(h.hear(), "W died after " << k << " chunks");
    if (k < kForks) {
      pid_t g;
      CHECK_OK(g = pt::spawn([&] {
        for (size_t j = 0; j < kChunks; ++j) {
          const Memory c = chunk(j);
          const Memory first{c.words, kWordsPerPage};
          const Memory last{c.words + c.count - kWordsPerPage, kWordsPerPage};
          CHECK_PAINTED(first, 1);
          CHECK_PAINTED(last, 1);
        }
        for (size_t j = 0; j < kChunks; j += 3) {
          const Memory first{chunk(j).words, kWordsPerPage};
          paint(first, 100 + static_cast<unsigned>(k));
          CHECK_PAINTED(first, 100 + static_cast<unsigned>(k));
        }
        const Memory untouched{chunk(1).words, kWordsPerPage};
        CHECK_PAINTED(untouched, 1);
      }));
      if (previous > 0) CHECK_EXITS(previous, 0);
      previous = g;
    }
    CHECK(h.tell());
  }
  CHECK_EXITS(previous, 0);
  CHECK_EXITS(w, 0);
  CHECK_PAINTED(all, 1);
}

// ---- shared text, counted ----

constexpr size_t kStackSlack = 16 * 1024;  // below one frame: the calls libos makes

// In a fresh image (text_shared_not_copied execs it): one fork, and the
// pager's counters of the pages that fork copied and shared, against what
// this image maps for sure and at most.
[[gnu::noinline]] void one_fork_counted() {
  Image image;
  CHECK(read_image(image));
  volatile uint64_t local[4 * kWordsPerPage];
  const Memory stack{local, 4 * kWordsPerPage};
  const Memory bss{g_bss_pages, sizeof g_bss_pages / sizeof g_bss_pages[0]};
  volatile uint64_t* heap_words = grow_heap(16);
  CHECK(heap_words != nullptr);
  const Memory heap{heap_words, 16 * kWordsPerPage};
  for (const Memory* m : {&stack, &bss, &heap}) paint(*m, 1);

  const size_t read_only = image.text.pages() + image.rodata.pages();
  // Writable pages surely mapped: the data segment's file bytes (mapped at
  // load) and bss array (both in the data segment: counted as one span),
  // the heap and the stack array painted above...
  const auto bss_at = reinterpret_cast<uintptr_t>(g_bss_pages), bss_end = bss_at + sizeof g_bss_pages;
  const uintptr_t file_pages_end = page_up(image.data.file_end);
  CHECK(bss_at >= image.data.file_end && bss_end <= image.data.end && bss_end > file_pages_end);
  const size_t writable_least =
      pages_between(image.data.start, image.data.file_end) +
      pages_between(bss_at > file_pages_end ? bss_at : file_pages_end, bss_end) + 16 +
      pages_between(reinterpret_cast<uintptr_t>(local), reinterpret_cast<uintptr_t>(local + stack.count));
  // ... and at most: the whole data segment, the heap up to the break, the
  // stack from a little below this frame to its top.
  const uintptr_t heap_start = page_up(image.data.end);
  const auto brk = reinterpret_cast<uintptr_t>(sbrk(0));
  const uintptr_t stack_low = page_down(reinterpret_cast<uintptr_t>(local) - kStackSlack);
  const size_t writable_most = image.data.pages() + pages_between(heap_start, brk) + (kStackTop - stack_low) / kPage;
  const uint64_t text_sum = checksum(image.text.start, image.text.end);
  const uint64_t self_sum = checksum(reinterpret_cast<uintptr_t>(&one_fork_counted),
                                     reinterpret_cast<uintptr_t>(&one_fork_counted) + 256);

  struct ukos_stats before, after;
  CHECK_OK(ukos_stats(&before));
  pid_t child;
  CHECK_OK(child = pt::spawn([&] {
    CHECK_EQ(checksum(reinterpret_cast<uintptr_t>(&one_fork_counted),
                      reinterpret_cast<uintptr_t>(&one_fork_counted) + 256),
             self_sum);
    CHECK_EQ(checksum(image.text.start, image.text.end), text_sum);
    for (const Memory* m : {&stack, &bss, &heap}) CHECK_PAINTED(*m, 1);
  }));
  CHECK_OK(ukos_stats(&after));
  CHECK_EXITS(child, 0);
  const unsigned long forks = after.pager_forks - before.pager_forks;
  const unsigned long copied = after.pager_fork_pages_copied - before.pager_fork_pages_copied;
  const unsigned long shared = after.pager_fork_pages_shared - before.pager_fork_pages_shared;
  const char* policy = current_policy();
  pt::Line() << "  forkmem: one fork under " << policy << ": " << copied << " pages copied, " << shared
             << " shared; text " << image.text.pages() << " pages, rodata " << image.rodata.pages()
             << ", writable mapped at least " << writable_least << " and at most " << writable_most;
  CHECK_EQ(forks, 1);
  CHECK_M(shared >= image.text.pages() + image.rodata.pages(), "text and rodata were not all shared");
  CHECK_M(copied <= writable_most, "more pages copied than writable ones mapped");
  CHECK_M(copied + shared >= read_only + writable_least, "mapped pages the child got neither way");
  CHECK_M(copied + shared <= read_only + writable_most, "more pages than are mapped");
  if (pt::same_string(policy, "eager")) CHECK_M(copied >= writable_least, "eager left writable pages uncopied");
}

}  // namespace

namespace pt {

int fork_stats_helper() {
  enter_child();
  one_fork_counted();
  return child_failed() ? kChildCheckFailed : kHelperOk;
}

}  // namespace pt

PTEST(forkmem, heap_4mib_every_page_isolated) {
  RUN_IN_CHILD([] {
    constexpr size_t kPages = 1024;
    volatile uint64_t* heap = grow_heap(kPages);
    CHECK(heap != nullptr);
    check_isolation({heap, kPages * kWordsPerPage});
  });
}

PTEST(forkmem, data_pages_isolated) {
  RUN_IN_CHILD([] {
    Image image;
    CHECK(read_image(image));
    const auto at = reinterpret_cast<uintptr_t>(g_data_pages);
    CHECK_M(at >= image.data.start && at + sizeof g_data_pages <= image.data.file_end,
            "g_data_pages at " << g_data_pages << " is not in the data segment's file bytes");
    CHECK_EQ(g_data_pages[0], 0xda7a);  // as initialised: the runner never writes it
    check_isolation({g_data_pages, sizeof g_data_pages / sizeof g_data_pages[0]});
  });
}

PTEST(forkmem, bss_pages_isolated) {
  RUN_IN_CHILD([] {
    Image image;
    CHECK(read_image(image));
    const auto at = reinterpret_cast<uintptr_t>(g_bss_pages);
    CHECK_M(at >= image.data.file_end && at + sizeof g_bss_pages <= image.data.end,
            "g_bss_pages at " << g_bss_pages << " is not in bss");
    check_isolation({g_bss_pages, sizeof g_bss_pages / sizeof g_bss_pages[0]});
  });
}

PTEST(forkmem, stack_pages_isolated) {
  RUN_IN_CHILD([] { check_isolation({nullptr, 0}); });
}

PTEST(forkmem, text_shared_not_copied) {
  // In a fresh image, whose mappings the helper can bound.
  pid_t child;
  CHECK_OK(child = pt::spawn([] {
    char* argv[] = {const_cast<char*>("posixtest"), const_cast<char*>("--child-exec"),
                    const_cast<char*>("forkstats"), nullptr};
    execve(pt::self_path(), argv, environ);
    _exit(pt::kExecFailed);
  }));
  CHECK_EXITS(child, pt::kHelperOk);
}

PTEST(forkmem, page_of_three_generations_written_in_every_order) {
  const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  for (const auto& order : orders) RUN_IN_CHILD([&] { three_generations(order); });
}

PTEST(forkmem, forks_while_a_sibling_takes_copy_faults) {
  RUN_IN_CHILD(forks_during_copy_faults);
}
