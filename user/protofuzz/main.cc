// protofuzz: random requests to the three servers, from a child process, to
// show that no message -- unknown label, short, oversized, nonsense words --
// crashes or stops procmgr, the pager or vfs (issue 4, item 7).
//
//   protofuzz [SEED [COUNT]]
//
// A child sends COUNT requests (default 20000) with random labels (biased
// to each protocol's real ones), random lengths (0 to 64 words, so also
// longer than any operation wants) and random words, through the caps every
// process has (procmgr/protocol.h kProcmgrSlot, kVfsSlot, kPagerSlot). Every
// answer must be a reply with label 0 whose mr0 is a result word; a kernel
// error is a failure. Labels that end or replace the caller (procmgr's Exit,
// Exec, Kill, Fork) are left out so the child survives to count; the pager
// and vfs get everything, their procmgr-only labels included (they must
// refuse them: -EPERM). Afterwards the parent checks that the system still
// works: fork, wait, a pipe, a file, and the pager's free memory back to
// what it was.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ukos.h>
#include <unistd.h>

#include "common/message.h"
#include "os/kernel.h"
#include "os/print.h"
#include "pager/protocol.h"
#include "procmgr/protocol.h"
#include "vfs/protocol.h"

namespace {

uint64_t g_state = 1;
uint64_t next() {
  // xorshift64*
  g_state ^= g_state >> 12;
  g_state ^= g_state << 25;
  g_state ^= g_state >> 27;
  return g_state * 0x2545F4914F6CDD1DULL;
}

uint64_t random_word() {
  switch (next() % 6) {
    case 0: return next() % 8;
    case 1: return static_cast<uint64_t>(-static_cast<int64_t>(next() % 8));
    case 2: return next();
    case 3: return 0x10000 + next() % 0x100000;  // near the image
    case 4: return next() % 600;                  // byte counts, fds, pids
    default: return uint64_t{1} << (next() % 64);
  }
}

int fuzz(uint64_t count) {
  namespace pp = procmgr::protocol;
  const uint64_t servers[] = {pp::kProcmgrSlot, pp::kVfsSlot, pp::kPagerSlot};
  uint64_t words[msg::kWords];
  uint64_t failures = 0, errors = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t server = servers[next() % 3];
    uint64_t label = next() % 4 == 0 ? next() : next() % 48;
    if (server == pp::kProcmgrSlot) {
      const auto l = static_cast<pp::Label>(label);
      if (l == pp::Label::Exit || l == pp::Label::Exec || l == pp::Label::Kill || l == pp::Label::Fork) {
        label = static_cast<uint64_t>(pp::Label::Ping);
      }
    }
    // Nothing that would wait for ever: no pipes (a read of an empty one
    // waits for its writer, this very process); the console descriptors are
    // closed (a read would wait for typing). And no shrinking heap: the
    // child's own malloc arena lives there.
    if (server == pp::kVfsSlot && label == static_cast<uint64_t>(vfs::protocol::Label::Pipe)) {
      label = static_cast<uint64_t>(vfs::protocol::Label::Ping);
    }
    const uint64_t length = next() % 3 == 0 ? next() % 65 : next() % 8;
    for (uint64_t w = 0; w < msg::kWords; ++w) words[w] = random_word();
    if (server == pp::kPagerSlot && label == static_cast<uint64_t>(pager::protocol::Label::Sbrk)) {
      words[0] = next() % 8192;
    }
    const os::Reply r = os::call_raw(server, label, length, words, 0, nullptr);
    if (r.info.is_error()) {
      ++failures;
      if (failures < 10) os::print("protofuzz: request {} to slot {} label {}: kernel error {}\n", i, server, label,
                                   r.info.label());
      continue;
    }
    if (r.info.label() != 0) {
      if (failures < 10) os::print("protofuzz: request {} to slot {} label {}: reply label {}\n", i, server, label,
                                   r.info.label());
      ++failures;
      continue;
    }
    if (msg::result_of(r.mr[0]) < 0) ++errors;
  }
  os::print("protofuzz: {} requests, {} refused with an errno, {} bad answers\n", count, errors, failures);
  return failures == 0 ? 0 : 1;
}

bool system_works() {
  int fds[2];
  if (pipe(fds) != 0) return false;
  const pid_t child = fork();
  if (child < 0) return false;
  if (child == 0) {
    close(fds[0]);
    _exit(write(fds[1], "ok", 2) == 2 ? 7 : 1);
  }
  close(fds[1]);
  char buf[4] = {};
  const ssize_t n = read(fds[0], buf, sizeof buf);
  close(fds[0]);
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 7) return false;
  const int fd = open("/protofuzz.txt", O_CREAT | O_TRUNC | O_RDWR);
  if (fd < 0) return false;
  const bool file_ok = write(fd, "data", 4) == 4 && lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, 4) == 4;
  close(fd);
  unlink("/protofuzz.txt");
  return n == 2 && memcmp(buf, "data", 4) == 0 && file_ok;
}

}  // namespace

int main(int argc, char** argv) {
  g_state = argc > 1 ? strtoull(argv[1], nullptr, 0) | 1 : 1;
  const uint64_t count = argc > 2 ? strtoull(argv[2], nullptr, 0) : 20000;
  unsigned long free_before = 0, free_after = 0, total = 0;
  if (ukos_meminfo(&free_before, &total) != 0) return 2;
  // The fuzzing child runs in its own process group, so stray signals it
  // might cause stay within it.
  const pid_t child = fork();
  if (child == 0) {
    setpgid(0, 0);
    // Its descriptors are fair game for the requests, so it reports
    // through the kernel's debug console (os::print), not stdout.
    for (int fd = 0; fd < 3; ++fd) close(fd);
    _exit(fuzz(count));
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) {
    printf("protofuzz: FAIL: could not run the fuzzing child\n");
    return 1;
  }
  if (!WIFEXITED(status)) {
    printf("protofuzz: FAIL: the fuzzing child died of signal %d\n", WTERMSIG(status));
    return 1;
  }
  const bool works = system_works();
  if (ukos_meminfo(&free_after, &total) != 0) return 2;
  printf("protofuzz: child status %d, system %s, free memory %lu before, %lu after\n", WEXITSTATUS(status),
         works ? "works" : "BROKEN", free_before, free_after);
  return WEXITSTATUS(status) == 0 && works && free_after == free_before ? 0 : 1;
}
