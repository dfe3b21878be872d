// The framework's mechanics (posixtest.h): text and lines, failures in a
// test and in a child, reaping children with an expected status, and the
// small I/O helpers the tests share. Nothing here uses stdio or the heap.
#include "posixtest.h"

#include <fcntl.h>
#include <unistd.h>

#include "runner.h"

namespace pt {

// ---- text ----

Text& Text::operator<<(const char* s) {
  if (s == nullptr) s = "(null)";
  while (*s != '\0' && m_len + 1 < sizeof m_buf) m_buf[m_len++] = *s++;
  m_buf[m_len] = '\0';
  return *this;
}

Text& Text::operator<<(char c) {
  const char s[2] = {c, '\0'};
  return *this << s;
}

Text& Text::operator<<(const void* p) {
  *this << "0x";
  return hex(reinterpret_cast<uintptr_t>(p));
}

Text& Text::unsigned_number(unsigned long long v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *this << digits[--n];
  return *this;
}

Text& Text::signed_number(long long v) {
  if (v < 0) {
    *this << '-';
    return unsigned_number(0ULL - static_cast<unsigned long long>(v));
  }
  return unsigned_number(static_cast<unsigned long long>(v));
}

Text& Text::hex(unsigned long long v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  while (n > 0) *this << digits[--n];
  return *this;
}

Text& Text::quoted(const void* bytes, size_t n) {
  const auto* b = static_cast<const unsigned char*>(bytes);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = b[i];
    if (c == '\n') {
      *this << "\\n";
    } else if (c == '"' || c == '\\') {
      *this << '\\' << static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      *this << "\\x" << "0123456789abcdef"[c >> 4] << "0123456789abcdef"[c & 15];
    } else {
      *this << static_cast<char>(c);
    }
  }
  return *this;
}

Line::~Line() {
  m_buf[m_len] = '\n';
  (void)write_all(STDOUT_FILENO, m_buf, m_len + 1);
}

// ---- failures and children ----

namespace {
bool g_in_child = false;
bool g_child_failed = false;
}  // namespace

bool in_child() { return g_in_child; }
bool child_failed() { return g_child_failed; }
void enter_child() {
  g_in_child = true;
  g_child_failed = false;
}

Failure::Failure(const char* file, int line) {
  const char* base = file;
  for (const char* p = file; *p != '\0'; ++p) {
    if (*p == '/') base = p + 1;
  }
  *this << base << ':' << line << ": ";
}

Failure::~Failure() {
  if (g_in_child) {
    g_child_failed = true;
    Line() << "  (child " << getpid() << ") " << c_str();
  } else {
    record_failure(c_str());
  }
}

const char* errno_name(int e) {
  switch (e) {
    case 0: return "0 (none)";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EPIPE: return "EPIPE";
    case ERANGE: return "ERANGE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    default: {
      static char unknown[24];
      Text t;
      t << "errno " << e;
      for (size_t i = 0; i <= t.size(); ++i) unknown[i] = t.c_str()[i];
      return unknown;
    }
  }
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGPIPE: return "SIGPIPE";
    case SIGTERM: return "SIGTERM";
    case SIGCHLD: return "SIGCHLD";
    default: return "signal ?";
  }
}

void describe_status(Text& out, int status) {
  if (WIFEXITED(status)) {
    out << "exited " << WEXITSTATUS(status);
    if (WEXITSTATUS(status) == kChildCheckFailed) out << " (a check failed in the child, see above)";
    if (WEXITSTATUS(status) == kExecFailed) out << " (its exec failed)";
  } else {
    out << "killed by " << signal_name(WTERMSIG(status)) << " (" << WTERMSIG(status) << ")";
  }
  out << " [status 0x";
  out.hex(static_cast<unsigned>(status));
  out << ']';
}

bool reaped_with(const char* file, int line, pid_t pid, bool by_signal, int value) {
  int status = 0;
  errno = 0;
  const pid_t got = waitpid(pid, &status, 0);
  if (got <= 0 || (pid > 0 && got != pid)) {
    const int e = errno;
    Failure(file, line) << "waitpid(" << pid << ") returned " << got << ", errno " << errno_name(e);
    return false;
  }
  const bool ok = by_signal ? WIFSIGNALED(status) && WTERMSIG(status) == value
                            : WIFEXITED(status) && WEXITSTATUS(status) == value;
  if (!ok) {
    Failure f(file, line);
    f << "child " << got << " ";
    describe_status(f, status);
    f << "; expected ";
    if (by_signal) f << "killed by " << signal_name(value);
    else f << "exited " << value;
  }
  return ok;
}

bool same_string(const char* a, const char* b) {
  if (a == nullptr || b == nullptr) return a == b;
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

// ---- helpers ----

bool write_all(int fd, const void* buf, size_t n) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

long read_full(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < n) {
    const ssize_t r = read(fd, p + got, n - got);
    if (r < 0) return -1;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<long>(got);
}

bool write_text(int fd, const char* s) { return write_all(fd, s, length(s)); }

bool send_token(int fd, char c) { return write(fd, &c, 1) == 1; }

int wait_token(int fd) {
  unsigned char c = 0;
  return read(fd, &c, 1) == 1 ? c : -1;
}

void pause_ms(unsigned ms) {
  // The time CSR counts at QEMU virt's 10 MHz timebase (as libos's sleep()
  // assumes); a system call per round lets the scheduler run the others.
  uint64_t start, now;
  asm volatile("rdtime %0" : "=r"(start));
  const uint64_t end = start + uint64_t{ms} * 10'000;
  do {
    (void)getppid();
    asm volatile("rdtime %0" : "=r"(now));
  } while (now < end);
}

uint64_t now_ms() {
  uint64_t now;
  asm volatile("rdtime %0" : "=r"(now));
  return now / 10'000;
}

size_t length(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

bool same_bytes(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

void fill(void* p, unsigned char value, size_t n) {
  auto* b = static_cast<volatile unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) b[i] = value;
}

bool parse_long(const char* s, long& out) {
  bool negative = false;
  if (*s == '-') {
    negative = true;
    ++s;
  }
  if (*s == '\0') return false;
  long v = 0;
  for (; *s != '\0'; ++s) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + (*s - '0');
  }
  out = negative ? -v : v;
  return true;
}

Path::Path(const char* name) {
  Text t;
  t << scratch_dir();
  if (name[0] != '\0') t << '/' << name;
  for (size_t i = 0; i <= t.size() && i < sizeof m_buf; ++i) m_buf[i] = t.c_str()[i];
  m_buf[sizeof m_buf - 1] = '\0';
}

bool make_file(const char* path, const char* contents, mode_t mode) {
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) return false;
  const bool ok = write_all(fd, contents, length(contents));
  return close(fd) == 0 && ok;
}

const char* self_path() { return "/bin/posixtest"; }

}  // namespace pt
