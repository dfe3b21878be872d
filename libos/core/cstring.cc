// Byte-loop implementations of the C string and memory functions and of
// strtol's family (see cstring.h). Comparisons go through unsigned char, as C
// requires; nothing here allocates or touches global state.
#include "cstring.h"

#include <climits>
#include <cstdint>

namespace os::libc {

// Character classes. Plain comparisons rather than a 256-entry table: the C
// locale is the only one, and the ranges are short.
bool isdigit(int c) { return c >= '0' && c <= '9'; }
bool isxdigit(int c) { return isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool isspace(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool isupper(int c) { return c >= 'A' && c <= 'Z'; }
bool islower(int c) { return c >= 'a' && c <= 'z'; }
bool isalpha(int c) { return isupper(c) || islower(c); }
bool isalnum(int c) { return isalpha(c) || isdigit(c); }
bool isprint(int c) { return c >= 0x20 && c < 0x7f; }
bool ispunct(int c) { return isprint(c) && c != ' ' && !isalnum(c); }
bool isblank(int c) { return c == ' ' || c == '\t'; }
bool iscntrl(int c) { return (c >= 0 && c < 0x20) || c == 0x7f; }
bool isgraph(int c) { return isprint(c) && c != ' '; }
int toupper(int c) { return islower(c) ? c - 'a' + 'A' : c; }
int tolower(int c) { return isupper(c) ? c - 'A' + 'a' : c; }

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

size_t strnlen(const char* s, size_t max) {
  size_t n = 0;
  while (n < max && s[n] != '\0') ++n;
  return n;
}

int strcmp(const char* a, const char* b) {
  const auto* x = reinterpret_cast<const unsigned char*>(a);
  const auto* y = reinterpret_cast<const unsigned char*>(b);
  while (*x != '\0' && *x == *y) {
    ++x;
    ++y;
  }
  return int(*x) - int(*y);
}

int strncmp(const char* a, const char* b, size_t n) {
  const auto* x = reinterpret_cast<const unsigned char*>(a);
  const auto* y = reinterpret_cast<const unsigned char*>(b);
  for (; n > 0; --n, ++x, ++y) {
    if (*x != *y || *x == '\0') return int(*x) - int(*y);
  }
  return 0;
}

// strchr(s, '\0') finds the terminator, so the test comes after the match.
char* strchr(const char* s, int c) {
  const char ch = char(c);
  for (;; ++s) {
    if (*s == ch) return const_cast<char*>(s);
    if (*s == '\0') return nullptr;
  }
}

char* strrchr(const char* s, int c) {
  const char ch = char(c);
  const char* found = nullptr;
  for (;; ++s) {
    if (*s == ch) found = s;
    if (*s == '\0') return const_cast<char*>(found);
  }
}

// Quadratic in the worst case; the inputs here are command lines and paths.
char* strstr(const char* haystack, const char* needle) {
  const size_t n = strlen(needle);
  for (; *haystack != '\0' || n == 0; ++haystack) {
    if (strncmp(haystack, needle, n) == 0) return const_cast<char*>(haystack);
  }
  return nullptr;
}

size_t strspn(const char* s, const char* accept) {
  size_t n = 0;
  while (s[n] != '\0' && strchr(accept, s[n]) != nullptr) ++n;
  return n;
}

size_t strcspn(const char* s, const char* reject) {
  size_t n = 0;
  while (s[n] != '\0' && strchr(reject, s[n]) == nullptr) ++n;
  return n;
}

char* strpbrk(const char* s, const char* accept) {
  s += strcspn(s, accept);
  return *s != '\0' ? const_cast<char*>(s) : nullptr;
}

char* strcpy(char* dst, const char* src) {
  char* d = dst;
  while ((*d++ = *src++) != '\0') {
  }
  return dst;
}

// C's strncpy: copies at most n bytes and pads with NULs up to n, so the
// result is not terminated when src is n bytes or longer.
char* strncpy(char* dst, const char* src, size_t n) {
  size_t i = 0;
  for (; i < n && src[i] != '\0'; ++i) dst[i] = src[i];
  for (; i < n; ++i) dst[i] = '\0';
  return dst;
}

char* strcat(char* dst, const char* src) {
  strcpy(dst + strlen(dst), src);
  return dst;
}

// Appends at most n bytes of src and always a terminator.
char* strncat(char* dst, const char* src, size_t n) {
  char* d = dst + strlen(dst);
  size_t i = 0;
  for (; i < n && src[i] != '\0'; ++i) d[i] = src[i];
  d[i] = '\0';
  return dst;
}

char* strtok_r(char* s, const char* delimiters, char** state) {
  if (s == nullptr) s = *state;
  if (s == nullptr) return nullptr;
  s += strspn(s, delimiters);
  if (*s == '\0') {
    *state = nullptr;
    return nullptr;
  }
  char* end = s + strcspn(s, delimiters);
  if (*end == '\0') {
    *state = nullptr;
  } else {
    *end = '\0';
    *state = end + 1;
  }
  return s;
}

int strcoll(const char* a, const char* b) { return strcmp(a, b); }

size_t strxfrm(char* dst, const char* src, size_t n) {
  const size_t length = strlen(src);
  if (length < n) memcpy(dst, src, length + 1);
  return length;
}

int strcasecmp(const char* a, const char* b) { return strncasecmp(a, b, size_t(-1)); }

int strncasecmp(const char* a, const char* b, size_t n) {
  const auto* x = reinterpret_cast<const unsigned char*>(a);
  const auto* y = reinterpret_cast<const unsigned char*>(b);
  for (; n > 0; --n, ++x, ++y) {
    const int cx = tolower(*x);
    const int cy = tolower(*y);
    if (cx != cy || cx == '\0') return cx - cy;
  }
  return 0;
}

void* memchr(const void* s, int c, size_t n) {
  const auto* p = static_cast<const unsigned char*>(s);
  const auto ch = static_cast<unsigned char>(c);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] == ch) return const_cast<unsigned char*>(p + i);
  }
  return nullptr;
}

int memcmp(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return int(x[i]) - int(y[i]);
  }
  return 0;
}

namespace {

// Words that may alias anything, for the word loops of memcpy and memset.
using Word = unsigned long __attribute__((may_alias));
constexpr size_t kWordBytes = sizeof(Word);
static_assert(kWordBytes == 8);

bool word_aligned(const void* p) { return (reinterpret_cast<uintptr_t>(p) & (kWordBytes - 1)) == 0; }

}  // namespace

// Byte by byte up to the first word boundary when source and destination
// share their misalignment, then eight words a turn (a page is 64 turns,
// about 1,100 instructions instead of 20,000 byte by byte: every
// copy-on-write fault copies one), then the tail by bytes.
void* memcpy(void* dst, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  if (((reinterpret_cast<uintptr_t>(d) ^ reinterpret_cast<uintptr_t>(s)) & (kWordBytes - 1)) == 0) {
    while (n > 0 && !word_aligned(d)) {
      *d++ = *s++;
      --n;
    }
    auto* dw = reinterpret_cast<Word*>(d);
    const auto* sw = reinterpret_cast<const Word*>(s);
    for (; n >= 8 * kWordBytes; n -= 8 * kWordBytes, dw += 8, sw += 8) {
      const Word w0 = sw[0], w1 = sw[1], w2 = sw[2], w3 = sw[3], w4 = sw[4], w5 = sw[5], w6 = sw[6], w7 = sw[7];
      dw[0] = w0, dw[1] = w1, dw[2] = w2, dw[3] = w3, dw[4] = w4, dw[5] = w5, dw[6] = w6, dw[7] = w7;
    }
    for (; n >= kWordBytes; n -= kWordBytes) *dw++ = *sw++;
    d = reinterpret_cast<unsigned char*>(dw);
    s = reinterpret_cast<const unsigned char*>(sw);
  }
  for (size_t i = 0; i < n; ++i) d[i] = s[i];
  return dst;
}

// Copies backwards when the destination starts inside the source, so each
// byte is read before it is overwritten.
void* memmove(void* dst, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  if (d <= s || d >= s + n) return memcpy(dst, src, n);
  for (size_t i = n; i > 0; --i) d[i - 1] = s[i - 1];
  return dst;
}

// As memcpy: bytes to a word boundary, eight words a turn, the tail.
void* memset(void* dst, int c, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto byte = static_cast<unsigned char>(c);
  while (n > 0 && !word_aligned(d)) {
    *d++ = byte;
    --n;
  }
  const Word w = Word{byte} * 0x0101010101010101UL;
  auto* dw = reinterpret_cast<Word*>(d);
  for (; n >= 8 * kWordBytes; n -= 8 * kWordBytes, dw += 8) {
    dw[0] = w, dw[1] = w, dw[2] = w, dw[3] = w, dw[4] = w, dw[5] = w, dw[6] = w, dw[7] = w;
  }
  for (; n >= kWordBytes; n -= kWordBytes) *dw++ = w;
  d = reinterpret_cast<unsigned char*>(dw);
  for (size_t i = 0; i < n; ++i) d[i] = byte;
  return dst;
}

namespace {

static_assert(sizeof(long long) == sizeof(long), "strtoll forwards to strtol (LP64)");

// The value of digit character c, or 36 (larger than any base) if it is none.
int digit_value(int c) {
  if (isdigit(c)) return c - '0';
  if (islower(c)) return c - 'a' + 10;
  if (isupper(c)) return c - 'A' + 10;
  return 36;
}

// The part strtol and strtoul share: the magnitude as an unsigned long,
// saturated at `limit`, the sign, and where parsing stopped.
struct Magnitude {
  unsigned long value;
  bool negative;
  bool saturated;
  const char* end;
  bool bad_base;
};

Magnitude parse_magnitude(const char* s, int base, unsigned long limit) {
  if (base < 0 || base == 1 || base > 36) return {0, false, false, s, true};
  const char* p = s;
  while (isspace(*p)) ++p;
  bool negative = false;
  if (*p == '+' || *p == '-') negative = *p++ == '-';
  // "0x" counts as a prefix only when a hex digit follows; otherwise the
  // "0" alone is the number and parsing stops at the 'x'.
  const bool hex_prefix = p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16;
  if (base == 0) base = hex_prefix ? 16 : p[0] == '0' ? 8 : 10;
  if (base == 16 && hex_prefix) p += 2;

  const unsigned long ubase = unsigned(base);
  unsigned long value = 0;
  bool saturated = false;
  const char* digits = p;
  for (int d; (d = digit_value(*p)) < base; ++p) {
    if (saturated || value > (limit - unsigned(d)) / ubase) {
      saturated = true;
      continue;
    }
    value = value * ubase + unsigned(d);
  }
  if (p == digits) return {0, false, false, s, false};
  return {saturated ? limit : value, negative, saturated, p, false};
}

}  // namespace

ParsedNumber<long> parse_long(const char* s, int base) {
  using Error = ParsedNumber<long>::Error;
  // The magnitude of LONG_MIN is one more than LONG_MAX; allow it and decide
  // after the sign is known.
  const unsigned long limit = static_cast<unsigned long>(LONG_MAX) + 1;
  const Magnitude m = parse_magnitude(s, base, limit);
  if (m.bad_base) return {0, s, Error::BadBase};
  if (m.negative) {
    if (m.saturated) return {LONG_MIN, m.end, Error::OutOfRange};
    return {m.value == limit ? LONG_MIN : -static_cast<long>(m.value), m.end, Error::None};
  }
  if (m.saturated || m.value == limit) return {LONG_MAX, m.end, Error::OutOfRange};
  return {static_cast<long>(m.value), m.end, Error::None};
}

ParsedNumber<unsigned long> parse_unsigned_long(const char* s, int base) {
  using Error = ParsedNumber<unsigned long>::Error;
  const Magnitude m = parse_magnitude(s, base, ULONG_MAX);
  if (m.bad_base) return {0, s, Error::BadBase};
  if (m.saturated) return {ULONG_MAX, m.end, Error::OutOfRange};
  return {m.negative ? 0 - m.value : m.value, m.end, Error::None};
}

long strtol(const char* s, char** endptr, int base) {
  const ParsedNumber<long> r = parse_long(s, base);
  if (endptr != nullptr) *endptr = const_cast<char*>(r.end);
  return r.value;
}

unsigned long strtoul(const char* s, char** endptr, int base) {
  const ParsedNumber<unsigned long> r = parse_unsigned_long(s, base);
  if (endptr != nullptr) *endptr = const_cast<char*>(r.end);
  return r.value;
}

long long strtoll(const char* s, char** endptr, int base) { return strtol(s, endptr, base); }

unsigned long long strtoull(const char* s, char** endptr, int base) { return strtoul(s, endptr, base); }

// As in glibc, atoi is strtol truncated to int; C leaves overflow undefined.
int atoi(const char* s) { return static_cast<int>(strtol(s, nullptr, 10)); }

long atol(const char* s) { return strtol(s, nullptr, 10); }

}  // namespace os::libc
