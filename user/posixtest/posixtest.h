// posixtest's framework: a test is a function registered with
// PTEST(group, name); CHECK macros end it at the first failure and record
// what went wrong, and the runner (main.cc) prints "PASS group.name" or
// "FAIL group.name: what" for it.
//
// Tests fork. A child runs a lambda under pt::spawn(): the same CHECK
// macros work there (they return from the lambda); the child prints what
// failed and exits with kChildCheckFailed, which the parent's
// CHECK_EXITS/CHECK_KILLED report. A child never returns into the runner.
//
// Output goes through write(2) one whole line at a time (pt::Line), never
// through stdio: a buffer inherited over fork would be printed twice, and
// lines of parent and child must not interleave.
#pragma once

#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

namespace pt {

// ---- registration ----

struct Test {
  const char* group;
  const char* name;
  void (*fn)();
  Test* next;
};

void register_test(Test& test);

struct Registrar {
  explicit Registrar(Test& test) { register_test(test); }
};

#define PTEST(group, name)                                                        \
  static void pt_test_##group##_##name();                                         \
  static pt::Test pt_record_##group##_##name{#group, #name, pt_test_##group##_##name, nullptr}; \
  static pt::Registrar pt_registrar_##group##_##name(pt_record_##group##_##name); \
  static void pt_test_##group##_##name()

// ---- text ----

// A bounded text buffer with << for strings, characters, integers and
// pointers (hex). What does not fit is cut off.
class Text {
 public:
  Text& operator<<(const char* s);
  Text& operator<<(char c);
  Text& operator<<(bool b) { return *this << (b ? "true" : "false"); }
  Text& operator<<(const void* p);
  template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
  Text& operator<<(T v) {
    if constexpr (std::is_signed_v<T>) return signed_number(static_cast<long long>(v));
    else return unsigned_number(static_cast<unsigned long long>(v));
  }
  Text& hex(unsigned long long v);
  // Bytes as a C string literal would show them ("ab\n\x03"), at most n.
  Text& quoted(const void* bytes, size_t n);

  const char* c_str() const { return m_buf; }
  size_t size() const { return m_len; }

 protected:
  Text& signed_number(long long v);
  Text& unsigned_number(unsigned long long v);
  char m_buf[480] = {};
  size_t m_len = 0;
};

// A line of output, written with one write(2) when it goes out of scope.
class Line : public Text {
 public:
  Line() = default;
  Line(const Line&) = delete;
  ~Line();
};

// The message of a failed check, recorded when it goes out of scope: in a
// test, as the test's failure; in a child, printed at once.
class Failure : public Text {
 public:
  Failure(const char* file, int line);
  Failure(const Failure&) = delete;
  ~Failure();
};

const char* errno_name(int e);
const char* signal_name(int sig);
// A wait status as words: "exited 3", "killed by SIGSEGV", ...
void describe_status(Text& out, int status);

// ---- checks ----

template <typename A, typename B>
bool equal(const A& a, const B& b) {
  if constexpr (std::is_integral_v<A> && std::is_integral_v<B>)
    return static_cast<long long>(a) == static_cast<long long>(b);
  else
    return a == b;
}

bool same_string(const char* a, const char* b);

}  // namespace pt

#define PT_FAIL() pt::Failure(__FILE__, __LINE__)

#define CHECK(cond)                                   \
  do {                                                \
    if (!(cond)) {                                    \
      PT_FAIL() << "CHECK(" << #cond << ") failed";   \
      return;                                         \
    }                                                 \
  } while (0)

// CHECK with a message: CHECK_M(n > 0, "n = " << n).
#define CHECK_M(cond, message)                        \
  do {                                                \
    if (!(cond)) {                                    \
      PT_FAIL() << #cond << ": " << message;          \
      return;                                         \
    }                                                 \
  } while (0)

#define CHECK_EQ(a, b)                                                     \
  do {                                                                     \
    const auto pt_a = (a);                                                 \
    const auto pt_b = (b);                                                 \
    if (!pt::equal(pt_a, pt_b)) {                                          \
      PT_FAIL() << #a << " == " << #b << ": " << pt_a << " != " << pt_b;   \
      return;                                                              \
    }                                                                      \
  } while (0)

#define CHECK_STREQ(a, b)                                                                  \
  do {                                                                                     \
    const char* pt_a = (a);                                                                \
    const char* pt_b = (b);                                                                \
    if (!pt::same_string(pt_a, pt_b)) {                                                    \
      PT_FAIL() << #a << ": \"" << (pt_a ? pt_a : "(null)") << "\", expected \"" << pt_b << "\""; \
      return;                                                                              \
    }                                                                                      \
  } while (0)

// A call that must succeed (return >= 0): CHECK_OK(fd = open(...)).
#define CHECK_OK(expr)                                                                             \
  do {                                                                                             \
    errno = 0;                                                                                     \
    const long pt_r = static_cast<long>(expr);                                                     \
    if (pt_r < 0) {                                                                                \
      const int pt_e = errno;                                                                      \
      PT_FAIL() << #expr << ": returned " << pt_r << ", errno " << pt::errno_name(pt_e);           \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

// A call that must fail with -1 and errno e.
#define CHECK_ERR(expr, e)                                                                         \
  do {                                                                                             \
    errno = 0;                                                                                     \
    const long pt_r = static_cast<long>(expr);                                                     \
    const int pt_e = errno;                                                                        \
    if (pt_r != -1 || pt_e != (e)) {                                                               \
      PT_FAIL() << #expr << ": returned " << pt_r << ", errno " << pt::errno_name(pt_e)            \
                << "; expected -1, errno " << pt::errno_name(e);                                   \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

// The same where POSIX allows either of two errors (e.g. EROFS or EACCES).
#define CHECK_ERR2(expr, e1, e2)                                                                   \
  do {                                                                                             \
    errno = 0;                                                                                     \
    const long pt_r = static_cast<long>(expr);                                                     \
    const int pt_e = errno;                                                                        \
    if (pt_r != -1 || (pt_e != (e1) && pt_e != (e2))) {                                            \
      PT_FAIL() << #expr << ": returned " << pt_r << ", errno " << pt::errno_name(pt_e)            \
                << "; expected -1, errno " << pt::errno_name(e1) << " or " << pt::errno_name(e2);  \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

// A call whose failure is not -1 (opendir's NULL, sbrk's (void*)-1): the
// condition says it failed, then errno must be e.
#define CHECK_FAILS(failed, e)                                                                     \
  do {                                                                                             \
    errno = 0;                                                                                     \
    const bool pt_f = (failed);                                                                    \
    const int pt_e = errno;                                                                        \
    if (!pt_f || pt_e != (e)) {                                                                    \
      PT_FAIL() << #failed << ": " << (pt_f ? "true" : "false") << ", errno "                     \
                << pt::errno_name(pt_e) << "; expected true, errno " << pt::errno_name(e);        \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

// Reap child `pid` (waitpid(pid, &status, 0); -1 for any child) and
// require an exit with `code` / a death by signal `sig`.
#define CHECK_EXITS(pid, code)                                                                     \
  do {                                                                                             \
    if (!pt::reaped_with(__FILE__, __LINE__, (pid), false, (code))) return;                        \
  } while (0)
#define CHECK_KILLED(pid, sig)                                                                     \
  do {                                                                                             \
    if (!pt::reaped_with(__FILE__, __LINE__, (pid), true, (sig))) return;                          \
  } while (0)

namespace pt {

// The exit status of a child whose CHECK failed.
inline constexpr int kChildCheckFailed = 99;
// The exit status of a child whose exec failed.
inline constexpr int kExecFailed = 127;

bool in_child();
bool child_failed();
void enter_child();

// Forks; the child runs body() and exits with 0, or kChildCheckFailed if
// a check in it failed. Returns the child's pid to the parent, -1 (errno
// set) if fork failed.
template <typename Body>
pid_t spawn(Body&& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    enter_child();
    body();
    _exit(child_failed() ? kChildCheckFailed : 0);
  }
  return pid;
}

bool reaped_with(const char* file, int line, pid_t pid, bool by_signal, int value);

// ---- helpers ----

// Writes all n bytes (write(2) in a loop); false on an error.
bool write_all(int fd, const void* buf, size_t n);
// Reads until n bytes or end of file; the count, or -1 on an error.
long read_full(int fd, void* buf, size_t n);
bool write_text(int fd, const char* s);
// One byte through a pipe, for handshakes between parent and child.
bool send_token(int fd, char c = '.');
// The byte, or -1 at end of file or on an error.
int wait_token(int fd);
// Lets other processes run for about `ms` milliseconds (yielding through
// system calls; there is no timer service to sleep on).
void pause_ms(unsigned ms);
// Milliseconds since some fixed moment (the time CSR), for reporting.
uint64_t now_ms();
// A C string's length and equality of n bytes, without libc.
size_t length(const char* s);
bool same_bytes(const void* a, const void* b, size_t n);
void fill(void* p, unsigned char value, size_t n);
// A decimal number from text; false if it is not one.
bool parse_long(const char* s, long& out);

// A path below the running test's scratch directory (an empty directory
// made for each test and removed after it): Path("f") is "/tmp/ptNNN/group.name/f".
class Path {
 public:
  explicit Path(const char* name = "");
  operator const char*() const { return m_buf; }
  const char* c_str() const { return m_buf; }

 private:
  char m_buf[256];
};

// The scratch directory of the running test, without a trailing slash.
const char* scratch_dir();

// A file with these contents (created or truncated, with `mode` if
// created); false on an error.
bool make_file(const char* path, const char* contents, mode_t mode = 0644);

// The program's own path, for exec ("/bin/posixtest").
const char* self_path();

}  // namespace pt
