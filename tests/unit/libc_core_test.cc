// Tests for libos's C-library core (libos/core): the printf formatter and the
// string functions are checked against the host's glibc, which is the
// reference for every supported case; strtol's family for its edge cases;
// the heap with random allocate/free/realloc runs that verify every block's
// contents and the heap's own consistency checker after each step.
#include <gtest/gtest.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <strings.h>

#include "cformat.h"
#include "cstring.h"
#include "malloc.h"

namespace {

// ---- formatter ----------------------------------------------------------

// Formats with both the host's snprintf and ours; returns a description of
// the difference, or an empty string when they agree. The format is not a
// literal, so neither side's compile-time format check applies.
template <typename... A>
std::string compare_with_host(const char* fmt, A... args) {
  char host[512];
  char ours[512];
  std::memset(ours, 0x5a, sizeof ours);
  const int host_n = ::snprintf(host, sizeof host, fmt, args...);
  const int ours_n = os::libc::snprintf(ours, sizeof ours, fmt, args...);
  if (host_n == ours_n && std::strcmp(host, ours) == 0) return {};
  return std::string("format \"") + fmt + "\": host " + std::to_string(host_n) + " [" + host + "], ours " +
         std::to_string(ours_n) + " [" + ours + "]";
}

// Collects mismatches so that a broken case reports a handful, not thousands.
struct Mismatches {
  size_t count = 0;
  size_t checked = 0;
  std::string first;

  template <typename... A>
  void check(const std::string& fmt, A... args) {
    ++checked;
    std::string diff = compare_with_host(fmt.c_str(), args...);
    if (diff.empty()) return;
    if (++count <= 20) first += diff + "\n";
  }
};

const char* const kFlagChars = "-+ 0#";
const char* const kWidths[] = {"", "1", "6", "25"};
const char* const kPrecisions[] = {"", ".", ".0", ".1", ".4", ".30"};

// Every subset of the flags, with every width and precision, for one value.
template <typename T>
void check_all_specs(Mismatches& m, const char* length, char conversion, T value) {
  for (unsigned subset = 0; subset < 32; ++subset) {
    std::string flags;
    for (unsigned f = 0; f < 5; ++f) {
      if (subset >> f & 1) flags += kFlagChars[f];
    }
    for (const char* width : kWidths) {
      for (const char* precision : kPrecisions) {
        m.check("[%" + flags + width + precision + length + conversion + "]", value);
      }
    }
  }
}

// Signed values for d and i; the same bits as unsigned for u o x X.
template <typename Signed>
void check_integer_length(Mismatches& m, const char* length, std::initializer_list<Signed> values) {
  using Unsigned = std::make_unsigned_t<Signed>;
  for (Signed v : values) {
    for (char c : {'d', 'i'}) check_all_specs(m, length, c, v);
    for (char c : {'u', 'o', 'x', 'X'}) check_all_specs(m, length, c, static_cast<Unsigned>(v));
  }
}

TEST(CFormat, IntegersMatchHostForEveryFlagWidthPrecisionAndLength) {
  Mismatches m;
  // hh and h take an int and convert it, so values outside the short range
  // check the truncation.
  check_integer_length<int>(m, "", {0, 1, -1, 7, -42, 255, 4096, INT_MAX, INT_MIN});
  check_integer_length<int>(m, "hh", {0, 127, 128, -129, 300, -1});
  check_integer_length<int>(m, "h", {0, 32767, 32768, 70000, -70000});
  check_integer_length<long>(m, "l", {0, -1, LONG_MAX, LONG_MIN, 0x123456789abcdefL});
  check_integer_length<long long>(m, "ll", {0, 1, LLONG_MAX, LLONG_MIN});
  check_integer_length<intmax_t>(m, "j", {0, -5, INTMAX_MIN});
  check_integer_length<ssize_t>(m, "z", {0, 12345, -12345});
  check_integer_length<ptrdiff_t>(m, "t", {0, PTRDIFF_MAX, PTRDIFF_MIN});
  EXPECT_EQ(m.count, 0u) << m.first;
  EXPECT_GT(m.checked, 100000u);
}

TEST(CFormat, CharsStringsAndPointersMatchHost) {
  Mismatches m;
  // The 0 flag with %c and %s is undefined in C; glibc pads with spaces and
  // so do we, so it stays in the table.
  for (int c : {int{'a'}, int{' '}, 0xe9}) check_all_specs(m, "", 'c', c);
  for (const char* s : {"", "x", "hello", "a longer string than any width here"}) {
    check_all_specs(m, "", 's', s);
  }
  check_all_specs(m, "", 's', static_cast<const char*>(nullptr));
  for (const void* p : {reinterpret_cast<const void*>(0x1234), reinterpret_cast<const void*>(~uintptr_t{0}),
                        static_cast<const void*>(nullptr)}) {
    check_all_specs(m, "", 'p', p);
  }
  EXPECT_EQ(m.count, 0u) << m.first;
}

TEST(CFormat, MixedArgumentsStarsAndPercent) {
  Mismatches m;
  m.check("%d %s %x %c %% %u|%ld", -3, "two", 0xbeefu, 'q', 7u, 1L << 40);
  m.check("[%*d] [%-*d] [%*d]", 6, 42, 6, 42, -6, 42);
  m.check("[%.*d] [%.*d] [%*.*x]", 4, 7, -1, 7, 8, 3, 0xau);
  m.check("[%.*s] [%.*s]", 2, "abcdef", -3, "abcdef");
  m.check("100%% done, %5%|%-5%|");
  m.check("%hhu %hu %lu %llu %zu %ju %tu", 511, 131071, ULONG_MAX, ULLONG_MAX, SIZE_MAX, UINTMAX_MAX,
          ptrdiff_t{-1});
  m.check("trailing text after %d conversions", 2);
  EXPECT_EQ(m.count, 0u) << m.first;
}

TEST(CFormat, PrecisionBoundsStringReads) {
  const char not_terminated[3] = {'a', 'b', 'c'};
  char out[8];
  EXPECT_EQ(os::libc::snprintf(out, sizeof out, "%.3s|", not_terminated), 4);
  EXPECT_STREQ(out, "abc|");
}

TEST(CFormat, TruncationAlwaysTerminatesAndReturnsFullLength) {
  char buf[16];
  const char* fmt = "%s-%d";
  for (size_t size = 0; size <= sizeof buf; ++size) {
    std::memset(buf, '#', sizeof buf);
    const int n = os::libc::snprintf(size == 0 ? nullptr : buf, size, fmt, "hello", 12345);
    EXPECT_EQ(n, 11);
    if (size == 0) {
      EXPECT_EQ(buf[0], '#');
      continue;
    }
    const size_t kept = size - 1 < 11 ? size - 1 : 11;
    EXPECT_EQ(std::string(buf, kept), std::string("hello-12345", kept)) << size;
    EXPECT_EQ(buf[kept], '\0') << size;
    for (size_t i = kept + 1; i < sizeof buf; ++i) EXPECT_EQ(buf[i], '#') << "wrote past the buffer at " << i;
  }
}

TEST(CFormat, UnsupportedConversionsArePrintedAndConsumeTheirArgument) {
  char buf[64];
  EXPECT_EQ(os::libc::snprintf(buf, sizeof buf, "%f|%d", 1.5, 7), 4);
  EXPECT_STREQ(buf, "%f|7");
  EXPECT_EQ(os::libc::snprintf(buf, sizeof buf, "%08.2Lf|%d", static_cast<long double>(2.5), 8), 9);
  EXPECT_STREQ(buf, "%08.2Lf|8");
  int written = -1;
  os::libc::snprintf(buf, sizeof buf, "ab%n|%d", &written, 9);
  EXPECT_STREQ(buf, "ab%n|9");
  EXPECT_EQ(written, -1) << "%n must not write";
  const std::string fmt = "%y|%1$d|%";  // not a literal: GCC would reject it
  os::libc::snprintf(buf, sizeof buf, fmt.c_str(), 5);
  EXPECT_STREQ(buf, "%y|%1$d|%");
}

TEST(CFormat, OverflowPastIntMaxReturnsMinusOne) {
  char buf[8];
  const std::string fmt = "%s%2147483647d";  // not a literal: GCC would reject it
  EXPECT_EQ(os::libc::snprintf(buf, sizeof buf, fmt.c_str(), "ab", 1), -1);
  EXPECT_EQ(buf[sizeof buf - 1], '\0');
}

// A sink that is not a buffer, as the console and FILE sinks will be.
class StringSink final : public os::libc::Sink {
 public:
  void put(const char* text, size_t length) override { value.append(text, length); }
  std::string value;
};

TEST(CFormat, FormatWritesToAnySink) {
  StringSink sink;
  EXPECT_EQ(os::libc::format(sink, "pid %d: %s\n", 42, "ok"), 11);
  EXPECT_EQ(sink.value, "pid 42: ok\n");
  const std::string long_text(1000, 'z');
  sink.value.clear();
  EXPECT_EQ(os::libc::format(sink, "%s%300d", long_text.c_str(), 1), 1300);
  EXPECT_EQ(sink.value.size(), 1300u);
}

// ---- strings and characters ---------------------------------------------

TEST(CString, CharacterClassesMatchHostCLocale) {
  for (int c = -1; c <= 255; ++c) {
    EXPECT_EQ(os::libc::isdigit(c), ::isdigit(c) != 0) << c;
    EXPECT_EQ(os::libc::isxdigit(c), ::isxdigit(c) != 0) << c;
    EXPECT_EQ(os::libc::isspace(c), ::isspace(c) != 0) << c;
    EXPECT_EQ(os::libc::isupper(c), ::isupper(c) != 0) << c;
    EXPECT_EQ(os::libc::islower(c), ::islower(c) != 0) << c;
    EXPECT_EQ(os::libc::isalpha(c), ::isalpha(c) != 0) << c;
    EXPECT_EQ(os::libc::isalnum(c), ::isalnum(c) != 0) << c;
    EXPECT_EQ(os::libc::isprint(c), ::isprint(c) != 0) << c;
    EXPECT_EQ(os::libc::ispunct(c), ::ispunct(c) != 0) << c;
    EXPECT_EQ(os::libc::isblank(c), ::isblank(c) != 0) << c;
    EXPECT_EQ(os::libc::iscntrl(c), ::iscntrl(c) != 0) << c;
    EXPECT_EQ(os::libc::isgraph(c), ::isgraph(c) != 0) << c;
    EXPECT_EQ(os::libc::toupper(c), ::toupper(c)) << c;
    EXPECT_EQ(os::libc::tolower(c), ::tolower(c)) << c;
  }
}

int sign(int v) { return (v > 0) - (v < 0); }

const char* const kStrings[] = {"", "a", "abc", "abd", "ab", "abcabc", "\xff", "\x7f", "hello world", "bca"};

TEST(CString, SearchAndCompareMatchHost) {
  for (const char* a : kStrings) {
    EXPECT_EQ(os::libc::strlen(a), std::strlen(a));
    for (size_t n = 0; n < 5; ++n) EXPECT_EQ(os::libc::strnlen(a, n), ::strnlen(a, n));
    for (int c : {int{'a'}, int{'b'}, int{'c'}, 0, 0xff, int{'z'}}) {
      EXPECT_EQ(os::libc::strchr(a, c), std::strchr(a, c)) << a << " " << c;
      EXPECT_EQ(os::libc::strrchr(a, c), std::strrchr(a, c)) << a << " " << c;
      EXPECT_EQ(os::libc::memchr(a, c, std::strlen(a)), std::memchr(a, c, std::strlen(a)));
    }
    for (const char* b : kStrings) {
      EXPECT_EQ(sign(os::libc::strcmp(a, b)), sign(std::strcmp(a, b))) << a << " vs " << b;
      for (size_t n = 0; n < 5; ++n) {
        EXPECT_EQ(sign(os::libc::strncmp(a, b, n)), sign(std::strncmp(a, b, n))) << a << " vs " << b;
        const size_t len = std::min({n, std::strlen(a) + 1, std::strlen(b) + 1});
        EXPECT_EQ(sign(os::libc::memcmp(a, b, len)), sign(std::memcmp(a, b, len))) << a << " vs " << b;
      }
      EXPECT_EQ(os::libc::strstr(a, b), std::strstr(a, b)) << a << " in " << b;
      EXPECT_EQ(os::libc::strspn(a, b), std::strspn(a, b));
      EXPECT_EQ(os::libc::strcspn(a, b), std::strcspn(a, b));
      EXPECT_EQ(os::libc::strpbrk(a, b), std::strpbrk(a, b));
      EXPECT_EQ(sign(os::libc::strcoll(a, b)), sign(std::strcmp(a, b)));
      EXPECT_EQ(sign(os::libc::strcasecmp(a, b)), sign(::strcasecmp(a, b))) << a << " vs " << b;
      for (size_t n = 0; n < 5; ++n) {
        EXPECT_EQ(sign(os::libc::strncasecmp(a, b, n)), sign(::strncasecmp(a, b, n))) << a << " vs " << b;
      }
    }
  }
  EXPECT_EQ(os::libc::strcasecmp("HeLLo", "hello"), 0);
  EXPECT_LT(os::libc::strcasecmp("abc", "ABD"), 0);
}

TEST(CString, StrtokRSplitsLikeHost) {
  const char* const inputs[] = {"", "   ", "a", " a b  c ", "::a::b:", "a,b;c", ",;,"};
  for (const char* input : inputs) {
    char ours[32];
    char host[32];
    std::strcpy(ours, input);
    std::strcpy(host, input);
    char* ours_state = nullptr;
    char* host_state = nullptr;
    const char* delimiters = " :,;";
    char* a = os::libc::strtok_r(ours, delimiters, &ours_state);
    char* b = ::strtok_r(host, delimiters, &host_state);
    for (int i = 0; i < 8; ++i) {
      ASSERT_EQ(a == nullptr, b == nullptr) << input << " token " << i;
      if (a == nullptr) break;
      EXPECT_EQ(a - ours, b - host) << input << " token " << i;
      EXPECT_STREQ(a, b);
      a = os::libc::strtok_r(nullptr, delimiters, &ours_state);
      b = ::strtok_r(nullptr, delimiters, &host_state);
    }
  }
}

TEST(CString, StrxfrmCopiesInTheCLocale) {
  char buf[8];
  EXPECT_EQ(os::libc::strxfrm(buf, "abc", sizeof buf), 3u);
  EXPECT_STREQ(buf, "abc");
  std::memset(buf, '#', sizeof buf);
  EXPECT_EQ(os::libc::strxfrm(buf, "abcdefghij", sizeof buf), 10u);  // too long: size only
  EXPECT_EQ(buf[0], '#');
}

TEST(CString, CopiesMatchHost) {
  for (const char* src : kStrings) {
    char ours[32];
    char host[32];
    for (size_t n = 0; n < 16; n += 3) {
      std::memset(ours, '#', sizeof ours);
      std::memset(host, '#', sizeof host);
      EXPECT_EQ(os::libc::strncpy(ours, src, n), ours);
      std::strncpy(host, src, n);
      EXPECT_EQ(std::memcmp(ours, host, sizeof ours), 0) << "strncpy " << src << " " << n;

      std::strcpy(ours, "pre");
      std::strcpy(host, "pre");
      EXPECT_EQ(os::libc::strncat(ours, src, n), ours);
      std::strncat(host, src, n);
      EXPECT_EQ(std::memcmp(ours, host, sizeof ours), 0) << "strncat " << src << " " << n;
    }
    EXPECT_STREQ(os::libc::strcpy(ours, src), src);
    EXPECT_STREQ(os::libc::strcat(ours, "++"), (std::string(src) + "++").c_str());
  }
}

// memcpy and memset go by words when they can: every alignment of source and
// destination, every length around the 8-word turn, nothing written outside.
TEST(CString, WordLoopsMatchBytewiseAtEveryAlignment) {
  alignas(8) unsigned char src[160];
  for (size_t i = 0; i < sizeof src; ++i) src[i] = static_cast<unsigned char>(i * 7 + 3);
  for (size_t so = 0; so < 8; ++so) {
    for (size_t dof = 0; dof < 8; ++dof) {
      for (size_t n : {0, 1, 7, 8, 9, 63, 64, 65, 71, 72, 130}) {
        alignas(8) unsigned char ours[160], want[160];
        std::memset(ours, '#', sizeof ours);
        std::memset(want, '#', sizeof want);
        EXPECT_EQ(os::libc::memcpy(ours + dof, src + so, n), ours + dof);
        for (size_t i = 0; i < n; ++i) want[dof + i] = src[so + i];
        ASSERT_EQ(std::memcmp(ours, want, sizeof ours), 0) << "memcpy " << so << " " << dof << " " << n;
        EXPECT_EQ(os::libc::memset(ours + dof, 0x1a5, n), ours + dof);
        for (size_t i = 0; i < n; ++i) want[dof + i] = 0xa5;
        ASSERT_EQ(std::memcmp(ours, want, sizeof ours), 0) << "memset " << dof << " " << n;
      }
    }
  }
}

TEST(CString, MemmoveHandlesOverlapBothWays) {
  for (size_t offset = 0; offset < 8; ++offset) {
    for (int direction : {1, -1}) {
      char ours[32];
      char host[32];
      for (int i = 0; i < 32; ++i) ours[i] = host[i] = char('a' + i % 26);
      char* dst_ours = ours + 8 + direction * int(offset);
      char* dst_host = host + 8 + direction * int(offset);
      os::libc::memmove(dst_ours, ours + 8, 12);
      std::memmove(dst_host, host + 8, 12);
      EXPECT_EQ(std::memcmp(ours, host, sizeof ours), 0) << offset << " " << direction;
    }
  }
  char buf[8] = {};
  EXPECT_EQ(os::libc::memset(buf, 0x1ff, 5), buf);  // converted to unsigned char
  EXPECT_EQ(std::memcmp(buf, "\xff\xff\xff\xff\xff\0\0", 8), 0);
  char copy[8];
  EXPECT_EQ(os::libc::memcpy(copy, buf, 8), copy);
  EXPECT_EQ(std::memcmp(copy, buf, 8), 0);
}

// ---- strtol and friends --------------------------------------------------

const char* const kNumbers[] = {
    "0", "42", "  42", "\t\n\v\f\r -17xyz", "+5", "-", "+", "", "   ", "-+1", "0x1f", "0X1F", "0x", "0xg", "-0x10",
    "  +0x10", "010", "08", "0b101", "777", "129", "zz", "Zz", "ffff", "1_000", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "99999999999999999999999",
    "18446744073709551615", "18446744073709551616", "-18446744073709551615", "-18446744073709551616", "-1",
    "1111111111111111111111111111111111111111111111111111111111111111", "7fffffffffffffff", "8000000000000000",
    "-8000000000000001", "ffffffffffffffff", "1ffffffffffffffff", "3w5e11264sgsf", "3w5e11264sgsg"};

TEST(CStrtol, MatchesHostForEveryBase) {
  for (const char* s : kNumbers) {
    for (int base : {0, 2, 8, 10, 16, 36}) {
      char* host_end = nullptr;
      char* ours_end = nullptr;
      errno = 0;
      const long host = std::strtol(s, &host_end, base);
      const bool host_range = errno == ERANGE;
      EXPECT_EQ(os::libc::strtol(s, &ours_end, base), host) << "strtol " << s << " base " << base;
      EXPECT_EQ(ours_end, host_end) << "strtol end " << s << " base " << base;
      const auto parsed = os::libc::parse_long(s, base);
      EXPECT_EQ(parsed.error == os::libc::ParsedNumber<long>::Error::OutOfRange, host_range) << s << " " << base;

      errno = 0;
      const unsigned long host_u = std::strtoul(s, &host_end, base);
      const bool host_u_range = errno == ERANGE;
      EXPECT_EQ(os::libc::strtoul(s, &ours_end, base), host_u) << "strtoul " << s << " base " << base;
      EXPECT_EQ(ours_end, host_end) << "strtoul end " << s << " base " << base;
      const auto parsed_u = os::libc::parse_unsigned_long(s, base);
      EXPECT_EQ(parsed_u.error == os::libc::ParsedNumber<unsigned long>::Error::OutOfRange, host_u_range) << s;

      EXPECT_EQ(os::libc::strtoll(s, nullptr, base), std::strtoll(s, nullptr, base));
      EXPECT_EQ(os::libc::strtoull(s, nullptr, base), std::strtoull(s, nullptr, base));
    }
    EXPECT_EQ(os::libc::atoi(s), std::atoi(s)) << s;
    EXPECT_EQ(os::libc::atol(s), std::atol(s)) << s;
  }
}

TEST(CStrtol, BadBaseParsesNothing) {
  for (int base : {-1, 1, 37, 100}) {
    const char* s = "123";
    char* end = nullptr;
    EXPECT_EQ(os::libc::strtol(s, &end, base), 0);
    EXPECT_EQ(end, s);
    EXPECT_EQ(os::libc::parse_unsigned_long(s, base).error, os::libc::ParsedNumber<unsigned long>::Error::BadBase);
  }
  EXPECT_EQ(os::libc::strtol("5", nullptr, 10), 5) << "a null endptr is allowed";
}

// ---- heap ------------------------------------------------------------------

// A program break over a private arena. `gap` bytes are skipped before each
// grow after the first, to make the heap's memory non-contiguous; `offset`
// misaligns the initial break.
class FakeCore final : public os::libc::MoreCore {
 public:
  explicit FakeCore(size_t capacity, size_t gap = 0, size_t offset = 0)
      : m_arena(new char[capacity + 64]), m_gap(gap) {
    m_break = m_arena.get() + (64 - reinterpret_cast<uintptr_t>(m_arena.get()) % 16) + offset;
    m_limit = m_arena.get() + capacity;
  }

  void* grow(size_t bytes) override {
    ++calls;
    if (calls > 1) m_break += m_gap;
    if (fail || bytes > size_t(m_limit - m_break)) return nullptr;
    char* old = m_break;
    m_break += bytes;
    return old;
  }

  size_t calls = 0;
  bool fail = false;

 private:
  std::unique_ptr<char[]> m_arena;
  size_t m_gap;
  char* m_break;
  char* m_limit;
};

::testing::AssertionResult consistent(const os::libc::Heap& heap) {
  const auto check = heap.check();
  if (check.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << check.problem << " at " << check.where;
}

bool aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % os::libc::Heap::kAlignment == 0; }

struct Live {
  unsigned char* ptr;
  size_t size;
  unsigned char seed;
};

void fill(const Live& b) {
  for (size_t i = 0; i < b.size; ++i) b.ptr[i] = static_cast<unsigned char>(b.seed + i * 7);
}

// The first `n` bytes of b still hold its pattern.
bool intact(const Live& b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (b.ptr[i] != static_cast<unsigned char>(b.seed + i * 7)) return false;
  }
  return true;
}

size_t random_size(std::mt19937& rng) {
  const unsigned kind = rng() % 100;
  if (kind < 70) return rng() % 600;
  if (kind < 95) return rng() % 8192;
  return rng() % (256 * 1024);
}

void random_run(FakeCore& core, unsigned seed, int steps) {
  os::libc::Heap heap(core);
  std::mt19937 rng(seed);
  std::vector<Live> live;
  for (int step = 0; step < steps; ++step) {
    const unsigned op = rng() % 10;
    if (op < 5 || live.empty()) {
      Live b{nullptr, random_size(rng), static_cast<unsigned char>(rng())};
      b.ptr = static_cast<unsigned char*>(rng() % 8 == 0 ? heap.calloc(1, b.size) : heap.malloc(b.size));
      ASSERT_NE(b.ptr, nullptr) << "step " << step;
      ASSERT_TRUE(aligned(b.ptr));
      ASSERT_GE(heap.usable_size(b.ptr), b.size);
      fill(b);
      live.push_back(b);
    } else if (op < 8) {
      const size_t i = rng() % live.size();
      ASSERT_TRUE(intact(live[i], live[i].size)) << "step " << step;
      heap.free(live[i].ptr);
      live[i] = live.back();
      live.pop_back();
    } else {
      Live& b = live[rng() % live.size()];
      const size_t size = random_size(rng) + 1;
      auto* p = static_cast<unsigned char*>(heap.realloc(b.ptr, size));
      ASSERT_NE(p, nullptr) << "step " << step;
      ASSERT_TRUE(aligned(p));
      b.ptr = p;
      ASSERT_TRUE(intact(b, std::min(b.size, size))) << "realloc lost data at step " << step;
      b.size = size;
      fill(b);
    }
    ASSERT_TRUE(consistent(heap)) << "step " << step;
  }
  for (const Live& b : live) {
    ASSERT_TRUE(intact(b, b.size));
    heap.free(b.ptr);
  }
  ASSERT_TRUE(consistent(heap));
  const auto stats = heap.stats();
  EXPECT_EQ(stats.used_blocks, 0u);
  EXPECT_EQ(stats.free_blocks, stats.segments) << "everything freed must coalesce to one block per segment";
  EXPECT_EQ(stats.invalid_frees, 0u);
}

TEST(Heap, RandomRunContiguous) {
  FakeCore core(64 << 20);
  random_run(core, 1, 6000);
  EXPECT_LT(core.calls, 200u);
}

TEST(Heap, RandomRunWithGapsAndMisalignedBreak) {
  FakeCore core(256 << 20, 4096 + 8, 8);
  random_run(core, 2, 6000);
}

TEST(Heap, MallocZeroAndFreeNull) {
  FakeCore core(1 << 20);
  os::libc::Heap heap(core);
  void* a = heap.malloc(0);
  void* b = heap.malloc(0);
  EXPECT_NE(a, nullptr);
  EXPECT_NE(a, b);
  heap.free(nullptr);
  heap.free(a);
  heap.free(b);
  EXPECT_TRUE(consistent(heap));
  EXPECT_EQ(heap.stats().invalid_frees, 0u);
}

TEST(Heap, CallocZeroesAndRejectsOverflow) {
  FakeCore core(1 << 20);
  os::libc::Heap heap(core);
  auto* dirty = static_cast<unsigned char*>(heap.malloc(256));
  std::memset(dirty, 0xaa, 256);
  heap.free(dirty);
  auto* p = static_cast<unsigned char*>(heap.calloc(16, 16));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(p[i], 0) << i;
  EXPECT_EQ(heap.calloc(SIZE_MAX / 2, 3), nullptr);
  EXPECT_EQ(heap.calloc(size_t(1) << 32, size_t(1) << 32), nullptr);
  EXPECT_NE(heap.calloc(0, 5), nullptr);
  EXPECT_TRUE(consistent(heap));
}

TEST(Heap, HugeRequestsFailCleanly) {
  FakeCore core(1 << 20);
  os::libc::Heap heap(core);
  void* p = heap.malloc(100);
  std::memset(p, 0x33, 100);
  for (size_t n : {SIZE_MAX, SIZE_MAX - 8, SIZE_MAX / 2, size_t(2) << 20}) {
    EXPECT_EQ(heap.malloc(n), nullptr) << n;
    EXPECT_EQ(heap.realloc(p, n), nullptr) << n;
  }
  for (int i = 0; i < 100; ++i) EXPECT_EQ(static_cast<unsigned char*>(p)[i], 0x33) << "failed realloc changed p";
  EXPECT_TRUE(consistent(heap));
}

TEST(Heap, MoreCoreFailureGivesNullptrAndTheHeapRecovers) {
  FakeCore core(256 * 1024);
  os::libc::Heap heap(core);
  std::vector<void*> blocks;
  for (void* p; (p = heap.malloc(1000)) != nullptr;) blocks.push_back(p);
  EXPECT_GT(blocks.size(), 240u) << "the heap should use memory up to the MoreCore's limit";
  EXPECT_TRUE(consistent(heap));
  for (void* p : blocks) heap.free(p);
  EXPECT_TRUE(consistent(heap));
  EXPECT_NE(heap.malloc(100 * 1024), nullptr) << "freed memory must be reusable";

  FakeCore broken(1 << 20);
  broken.fail = true;
  os::libc::Heap empty(broken);
  EXPECT_EQ(empty.malloc(1), nullptr);
  EXPECT_EQ(empty.calloc(1, 1), nullptr);
  EXPECT_EQ(empty.realloc(nullptr, 1), nullptr);
  EXPECT_TRUE(consistent(empty));
}

TEST(Heap, FreeCoalescesNeighbours) {
  FakeCore core(1 << 20);
  os::libc::Heap heap(core);
  void* a = heap.malloc(100);
  void* b = heap.malloc(100);
  void* c = heap.malloc(100);
  heap.free(a);
  heap.free(c);
  EXPECT_EQ(heap.stats().free_blocks, 2u) << "a alone, c merged with the rest of the segment";
  heap.free(b);
  EXPECT_EQ(heap.stats().free_blocks, 1u);
  EXPECT_TRUE(consistent(heap));
}

TEST(Heap, ReallocGrowsAndShrinksInPlace) {
  FakeCore core(8 << 20);
  os::libc::Heap heap(core);
  void* p = heap.malloc(100);
  void* q = heap.malloc(100);
  void* guard = heap.malloc(100);
  heap.free(q);
  EXPECT_EQ(heap.realloc(p, 200), p) << "takes the free block after it";
  EXPECT_EQ(heap.realloc(p, 20), p);
  EXPECT_TRUE(consistent(heap));

  // The block at the top of the heap grows with the heap.
  void* top = heap.malloc(32 * 1024);
  const size_t calls = core.calls;
  EXPECT_EQ(heap.realloc(top, 2 << 20), top);
  EXPECT_GT(core.calls, calls);
  EXPECT_TRUE(consistent(heap));
  heap.free(guard);
  heap.free(p);
  heap.free(top);
  EXPECT_EQ(heap.stats().free_blocks, 1u);
}

TEST(Heap, InvalidFreesAreCountedAndIgnored) {
  FakeCore core(1 << 20);
  os::libc::Heap heap(core);
  int on_stack = 0;
  void* p = heap.malloc(64);
  void* keep = heap.malloc(64);
  heap.free(&on_stack);
  heap.free(static_cast<char*>(p) + 16);
  heap.free(p);
  heap.free(p);  // double free
  EXPECT_EQ(heap.stats().invalid_frees, 3u);
  EXPECT_TRUE(consistent(heap));
  EXPECT_GE(heap.usable_size(keep), 64u);

  // A second free of a block that was merged into the free block before it.
  void* a = heap.malloc(64);
  void* b = heap.malloc(64);
  void* c = heap.malloc(64);
  heap.free(a);
  heap.free(b);
  heap.free(b);
  EXPECT_EQ(heap.stats().invalid_frees, 4u);
  EXPECT_EQ(heap.realloc(b, 10), nullptr);
  EXPECT_EQ(heap.stats().invalid_frees, 5u);
  EXPECT_TRUE(consistent(heap));
  heap.free(c);
}

}  // namespace
