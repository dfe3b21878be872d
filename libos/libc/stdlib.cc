// <stdlib.h> (and assert.h's failure path): the heap over sbrk(2), exit and
// its handlers, number parsing with errno, the environment, sorting, rand,
// system, and the "C" locale's one-byte multibyte conversions.
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cstring.h"
#include "env.h"
#include "internal.h"
#include "malloc.h"
#include "sort.h"

namespace libc = os::libc;

static_assert(libc::Environment::kInvalid == EINVAL && libc::Environment::kNoMemory == ENOMEM);

namespace {

class SbrkCore final : public libc::MoreCore {
 public:
  void* grow(size_t bytes) override {
    if (bytes > static_cast<size_t>(INTPTR_MAX)) return nullptr;
    void* old = sbrk(static_cast<intptr_t>(bytes));
    return old == reinterpret_cast<void*>(-1) ? nullptr : old;
  }
};

class MallocAllocator final : public libc::Allocator {
 public:
  void* allocate(size_t size) override { return malloc(size); }
  void release(void* ptr) override { free(ptr); }
};

constinit SbrkCore g_core;
constinit libc::Heap g_heap{g_core};
constinit MallocAllocator g_env_allocator;
constinit libc::Environment g_environment{environ, g_env_allocator};

// C asks for room for at least 32 handlers each. Global destructors are
// registered here too (the compiler calls atexit for them).
constexpr int kHandlers = 64;
void (*g_at_exit[kHandlers])(void);
int g_at_exit_count;
void (*g_at_quick_exit[kHandlers])(void);
int g_at_quick_exit_count;

uint64_t g_rand_state = 1;

template <typename T>
T number(const libc::ParsedNumber<T>& parsed, char** end) {
  using Error = typename libc::ParsedNumber<T>::Error;
  if (end != nullptr) *end = const_cast<char*>(parsed.end);
  if (parsed.error == Error::OutOfRange) errno = ERANGE;
  if (parsed.error == Error::BadBase) errno = EINVAL;
  return parsed.value;
}

template <typename T>
T absolute(T n) {
  return n < 0 ? -n : n;
}

}  // namespace

extern "C" {

void* malloc(size_t size) {
  void* p = g_heap.malloc(size);
  if (p == nullptr) errno = ENOMEM;
  return p;
}

void* calloc(size_t count, size_t size) {
  void* p = g_heap.calloc(count, size);
  if (p == nullptr) errno = ENOMEM;
  return p;
}

void* realloc(void* ptr, size_t size) {
  void* p = g_heap.realloc(ptr, size);
  if (p == nullptr && size > 0) errno = ENOMEM;
  return p;
}

void free(void* ptr) { g_heap.free(ptr); }

void* aligned_alloc(size_t alignment, size_t size) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > libc::Heap::kAlignment) {
    errno = EINVAL;
    return nullptr;
  }
  return malloc(size);
}

int atexit(void (*function)(void)) {
  if (g_at_exit_count == kHandlers) return -1;
  g_at_exit[g_at_exit_count++] = function;
  return 0;
}

int at_quick_exit(void (*function)(void)) {
  if (g_at_quick_exit_count == kHandlers) return -1;
  g_at_quick_exit[g_at_quick_exit_count++] = function;
  return 0;
}

// A handler that registers another gets it run too: the table is read from
// the top each time.
void exit(int status) {
  while (g_at_exit_count > 0) g_at_exit[--g_at_exit_count]();
  libc::flush_all_streams();
  _exit(status);
}

void quick_exit(int status) {
  while (g_at_quick_exit_count > 0) g_at_quick_exit[--g_at_quick_exit_count]();
  _exit(status);
}

void _Exit(int status) { _exit(status); }

// Streams are not flushed: the program is in a state it did not expect.
void abort(void) {
  raise(SIGABRT);
  _exit(128 + SIGABRT);
}

void __assert_fail(const char* expr, const char* file, unsigned int line, const char* function) {
  fprintf(stderr, "%s:%u: %s: Assertion `%s' failed.\n", file, line, function, expr);
  abort();
}

long strtol(const char* s, char** end, int base) { return number(libc::parse_long(s, base), end); }
unsigned long strtoul(const char* s, char** end, int base) {
  return number(libc::parse_unsigned_long(s, base), end);
}
long long strtoll(const char* s, char** end, int base) { return strtol(s, end, base); }
unsigned long long strtoull(const char* s, char** end, int base) { return strtoul(s, end, base); }
int atoi(const char* s) { return libc::atoi(s); }
long atol(const char* s) { return libc::atol(s); }
long long atoll(const char* s) { return libc::atol(s); }

char* getenv(const char* name) { return g_environment.get(name); }

int setenv(const char* name, const char* value, int overwrite) {
  const int error = g_environment.set(name, value, overwrite != 0);
  if (error == 0) return 0;
  errno = error;
  return -1;
}

int unsetenv(const char* name) {
  const int error = g_environment.unset(name);
  if (error == 0) return 0;
  errno = error;
  return -1;
}

// POSIX's system(): the caller ignores SIGINT and SIGQUIT while the command
// runs (the command gets them), and a child that cannot exec the shell
// exits 127.
int system(const char* command) {
  if (command == nullptr) {
    struct stat shell;
    return stat("/bin/sh", &shell) == 0 ? 1 : 0;
  }
  sighandler_t old_int = signal(SIGINT, SIG_IGN);
  sighandler_t old_quit = signal(SIGQUIT, SIG_IGN);
  int status = -1;
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGINT, old_int);
    signal(SIGQUIT, old_quit);
    char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(command), nullptr};
    execv("/bin/sh", argv);
    _exit(127);
  }
  if (pid > 0) {
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) {
        status = -1;
        break;
      }
    }
  }
  signal(SIGINT, old_int);
  signal(SIGQUIT, old_quit);
  return status;
}

int abs(int n) { return absolute(n); }
long labs(long n) { return absolute(n); }
long long llabs(long long n) { return absolute(n); }
div_t div(int numerator, int denominator) { return {numerator / denominator, numerator % denominator}; }
ldiv_t ldiv(long numerator, long denominator) { return {numerator / denominator, numerator % denominator}; }
lldiv_t lldiv(long long numerator, long long denominator) {
  return {numerator / denominator, numerator % denominator};
}

void qsort(void* base, size_t count, size_t size, int (*compare)(const void*, const void*)) {
  libc::sort(base, count, size, compare);
}

void* bsearch(const void* key, const void* base, size_t count, size_t size,
              int (*compare)(const void*, const void*)) {
  return libc::binary_search(key, base, count, size, compare);
}

// A 64-bit linear congruential generator (Knuth's MMIX constants); the top
// 31 bits are the result, the low bits of an LCG being poor.
int rand(void) {
  g_rand_state = g_rand_state * 6364136223846793005u + 1442695040888963407u;
  return static_cast<int>(g_rand_state >> 33);
}

void srand(unsigned int seed) { g_rand_state = seed; }

int mblen(const char* s, size_t n) { return mbtowc(nullptr, s, n); }

int mbtowc(wchar_t* wc, const char* s, size_t n) {
  if (s == nullptr) return 0;  // no shift states
  if (n == 0) return -1;
  if (wc != nullptr) *wc = static_cast<unsigned char>(*s);
  return *s != '\0' ? 1 : 0;
}

int wctomb(char* s, wchar_t wc) {
  if (s == nullptr) return 0;
  if (wc < 0 || wc > 0xff) {
    errno = EILSEQ;
    return -1;
  }
  *s = static_cast<char>(wc);
  return 1;
}

size_t mbstowcs(wchar_t* dst, const char* src, size_t n) {
  size_t i = 0;
  for (; (dst == nullptr || i < n) && src[i] != '\0'; ++i) {
    if (dst != nullptr) dst[i] = static_cast<unsigned char>(src[i]);
  }
  if (dst != nullptr && i < n) dst[i] = 0;
  return i;
}

size_t wcstombs(char* dst, const wchar_t* src, size_t n) {
  size_t i = 0;
  for (; (dst == nullptr || i < n) && src[i] != 0; ++i) {
    if (src[i] < 0 || src[i] > 0xff) {
      errno = EILSEQ;
      return static_cast<size_t>(-1);
    }
    if (dst != nullptr) dst[i] = static_cast<char>(src[i]);
  }
  if (dst != nullptr && i < n) dst[i] = '\0';
  return i;
}

}  // extern "C"
