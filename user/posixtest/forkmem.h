// What the two files of group "forkmem" share (forkmem.cc: isolation,
// shared text, three generations, forks during copy faults;
// forkmem_scarce.cc: running out of memory, 1,000 forks): paintings that
// name themselves, the program's segments, the running policy's name, and a
// handshake between a parent and a child.
#pragma once

#include <sys/types.h>
#include <ukos.h>

#include <cstddef>
#include <cstdint>

#include "posixtest.h"

namespace fm {

inline constexpr size_t kPage = 4096;
inline constexpr size_t kWordsPerPage = kPage / sizeof(uint64_t);
// The top of every process's stack (docs/servers.md §4, the pager's kStackTop).
inline constexpr uintptr_t kStackTop = uintptr_t{1} << 37;

inline uintptr_t page_down(uintptr_t a) { return a & ~uintptr_t{kPage - 1}; }
inline uintptr_t page_up(uintptr_t a) { return page_down(a + kPage - 1); }
inline size_t pages_between(uintptr_t start, uintptr_t end) { return (page_up(end) - page_down(start)) / kPage; }

// ---- paintings ----

// A run of words a test paints and checks.
struct Memory {
  volatile uint64_t* words;
  size_t count;
};

// The value of the word at `at` in painting `seed`: it names both, so a
// word that holds another painting's value, or the right painting's value
// for another place (a page mapped at the wrong address), is told apart.
inline uint64_t word_value(unsigned seed, const volatile uint64_t* at) {
  return (uint64_t{seed} << 48) ^ ((reinterpret_cast<uintptr_t>(at) >> 3) * 0x9e3779b97f4aULL) ^ 0x5eed;
}

void paint(const Memory& m, unsigned seed);
// The first word of m that does not hold painting `seed`, or m.count.
size_t first_wrong(const Memory& m, unsigned seed);
// What word i of m holds, and which painting that is if any.
void describe_word(pt::Text& out, const Memory& m, size_t i);

// Page-aligned heap of `pages` pages (sbrk), or null.
volatile uint64_t* grow_heap(size_t pages);

// ---- the program ----

// A loadable segment: [start, end), its file bytes up to file_end.
struct Segment {
  uintptr_t start = 0, file_end = 0, end = 0;
  size_t pages() const { return pages_between(start, end); }
};
// The program's three segments (libos/user.ld: text R-X, rodata R--, data
// RW- holding .data and .bss), from /bin/posixtest's ELF program headers.
struct Image {
  Segment text, rodata, data;
};
bool read_image(Image& out);

uint64_t checksum(uintptr_t start, uintptr_t end);

// The name of the pager policy the caller runs under, or "?" if the system
// cannot tell.
const char* current_policy();

// ---- handshakes ----

// Two pipes between a parent and one child. After the fork each side keeps
// only its two ends, so the death of one is end of file to the other: no
// test hangs on a dead partner.
class Handshake {
 public:
  Handshake() = default;
  Handshake(const Handshake&) = delete;
  ~Handshake();
  bool open();
  void parent_side() { keep(m_up[0], m_down[1]); }
  void child_side() { keep(m_down[0], m_up[1]); }
  bool tell() { return pt::send_token(m_out); }
  bool hear() { return pt::wait_token(m_in) == '.'; }

 private:
  void keep(int in, int out);
  int m_down[2] = {-1, -1};  // parent to child
  int m_up[2] = {-1, -1};    // child to parent
  int m_in = -1, m_out = -1;
};

// Makes the caller's next fork and wait take no page of its own for the
// first time (a stack page below this frame, a word of libos's data), so
// that free memory measured around them shows only what the child did:
// touches the stack below and forks a child that exits at once.
void settle();

}  // namespace fm

// Requires m to hold painting `seed`, naming the first word that does not.
#define CHECK_PAINTED(m, seed)                                   \
  do {                                                           \
    const size_t pt_wrong = fm::first_wrong((m), (seed));        \
    if (pt_wrong != (m).count) {                                 \
      pt::Failure pt_f(__FILE__, __LINE__);                      \
      pt_f << "expected painting " << (seed) << ": ";            \
      fm::describe_word(pt_f, (m), pt_wrong);                    \
      return;                                                    \
    }                                                            \
  } while (0)

// Runs body in a child P of the test and requires P to exit 0, and the
// pager's free memory to be what it was before P once P is reaped: P's
// heap, data and bss changes go away with it, and none of what P and its
// children did may leak.
#define RUN_IN_CHILD(body)                                                                          \
  do {                                                                                              \
    fm::settle();                                                                                   \
    unsigned long pt_before = 0, pt_after = 0;                                                      \
    CHECK_OK(ukos_meminfo(&pt_before, nullptr));                                                    \
    pid_t pt_p;                                                                                     \
    CHECK_OK(pt_p = pt::spawn(body));                                                               \
    CHECK_EXITS(pt_p, 0);                                                                           \
    CHECK_OK(ukos_meminfo(&pt_after, nullptr));                                                     \
    CHECK_M(pt_after == pt_before, "free bytes " << pt_before << " before the test's process, " << pt_after \
                                                 << " once it is reaped");                          \
  } while (0)
