// scanf's engine (see scan.h). A conversion that needs a number collects the
// longest prefix of the input that can still be part of one (sign, "0x",
// digits of the base) into a small buffer, then lets parse_long or
// parse_unsigned_long judge and convert it.
#include "scan.h"

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "cstring.h"
#include "stream.h"

namespace os::libc {
namespace {

// As in cformat.cc: a va_list passed by reference to helpers.
struct Args {
  va_list list;
};

enum class Length { None, Char, Short, Long, LongLong, Max, Size, PtrDiff };

// Counts what it consumes, for %n.
class Counted {
 public:
  explicit Counted(ScanInput& in) : m_in(in) {}
  int get() {
    const int c = m_in.get();
    if (c >= 0) ++m_count;
    return c;
  }
  void unget(int c) {
    if (c < 0) return;
    m_in.unget(c);
    --m_count;
  }
  // Skips white space; false when the input ended.
  bool skip_space() {
    int c;
    while ((c = get()) >= 0 && isspace(c)) {
    }
    unget(c);
    return c >= 0;
  }
  long count() const { return m_count; }

 private:
  ScanInput& m_in;
  long m_count = 0;
};

// Stores an integer conversion's value through the pointer argument whose
// type the length modifier names (signed or unsigned as T is).
template <typename T>
void store(Args& args, T value, Length length) {
  constexpr bool kSigned = std::is_signed_v<T>;
  using Char = std::conditional_t<kSigned, signed char, unsigned char>;
  using Short = std::conditional_t<kSigned, short, unsigned short>;
  using Int = std::conditional_t<kSigned, int, unsigned>;
  switch (length) {
    case Length::Char: *va_arg(args.list, Char*) = static_cast<Char>(value); break;
    case Length::Short: *va_arg(args.list, Short*) = static_cast<Short>(value); break;
    case Length::None: *va_arg(args.list, Int*) = static_cast<Int>(value); break;
    default: *va_arg(args.list, T*) = value; break;  // all 64 bits wide (LP64)
  }
}

// Whether c belongs to the scanset that starts after '[' at p; `end` is
// set past the closing ']'. A ']' right after '[' or '[^' is a member.
bool in_scanset(const char* p, int c, const char** end) {
  bool negate = false;
  if (*p == '^') {
    negate = true;
    ++p;
  }
  bool found = false;
  const char* q = p;
  if (*q == ']') {
    found = c == ']';
    ++q;
  }
  for (; *q != '\0' && *q != ']'; ++q) {
    if (q[1] == '-' && q[2] != ']' && q[2] != '\0') {
      if (c >= static_cast<unsigned char>(q[0]) && c <= static_cast<unsigned char>(q[2])) found = true;
      q += 2;
    } else if (c == static_cast<unsigned char>(*q)) {
      found = true;
    }
  }
  *end = *q == ']' ? q + 1 : q;
  return found != negate;
}

int digit_value(int c) {
  if (isdigit(c)) return c - '0';
  if (islower(c)) return c - 'a' + 10;
  if (isupper(c)) return c - 'A' + 10;
  return 36;
}

// Reads a number's characters (at most width) into text. Returns false on
// a matching failure (nothing that starts a number).
bool collect_number(Counted& in, int base, size_t width, char* text, size_t room) {
  size_t n = 0;
  auto take = [&](int c) {
    if (n + 1 < room) text[n++] = char(c);
  };
  int c = in.get();
  if ((c == '+' || c == '-') && n < width) {
    take(c);
    c = in.get();
  }
  if ((base == 0 || base == 16) && c == '0' && n < width) {
    take(c);
    c = in.get();
    if ((c == 'x' || c == 'X') && n < width) {
      take(c);
      c = in.get();
      base = 16;
    } else if (base == 0) {
      base = 8;
    }
  } else if (base == 0) {
    base = 10;
  }
  while (n < width && c >= 0 && digit_value(c) < base) {
    take(c);
    c = in.get();
  }
  in.unget(c);
  text[n] = '\0';
  // "0x" alone: strtol reads it as 0, and so does this.
  for (size_t i = 0; i < n; ++i) {
    if (isxdigit(text[i])) return true;
  }
  return false;
}

}  // namespace

int vscan(ScanInput& raw, const char* fmt, va_list ap) {
  Counted in(raw);
  Args args;
  va_copy(args.list, ap);
  int assigned = 0;
  // As glibc: the input ending before anything was assigned (a suppressed
  // conversion does not count) is EOF.
  auto input_failure = [&] { return assigned > 0 ? assigned : -1; };
  int result = -2;  // set when the scan ends early

  for (const char* p = fmt; *p != '\0' && result == -2;) {
    const unsigned char f = static_cast<unsigned char>(*p);
    if (isspace(f)) {
      in.skip_space();
      ++p;
      continue;
    }
    if (f != '%' || p[1] == '%') {
      if (f == '%') {
        in.skip_space();
        ++p;
      }
      const int c = in.get();
      if (c < 0) {
        result = input_failure();
      } else if (c != static_cast<unsigned char>(*p)) {
        in.unget(c);
        result = assigned;
      }
      ++p;
      continue;
    }

    ++p;
    const bool suppress = *p == '*';
    if (suppress) ++p;
    size_t width = 0;
    while (isdigit(*p)) width = width * 10 + size_t(*p++ - '0');
    Length length = Length::None;
    switch (*p) {
      case 'h':
        length = p[1] == 'h' ? Length::Char : Length::Short;
        p += p[1] == 'h' ? 2 : 1;
        break;
      case 'l':
        length = p[1] == 'l' ? Length::LongLong : Length::Long;
        p += p[1] == 'l' ? 2 : 1;
        break;
      case 'j': length = Length::Max; ++p; break;
      case 'z': length = Length::Size; ++p; break;
      case 't': length = Length::PtrDiff; ++p; break;
      default: break;
    }
    const char conversion = *p++;

    if (conversion == 'n') {
      if (!suppress) store<long>(args, in.count(), length);
      continue;
    }
    if (conversion != 'c' && conversion != '[' && !in.skip_space()) {
      result = input_failure();
      continue;
    }

    switch (conversion) {
      case 'd':
      case 'i':
      case 'u':
      case 'o':
      case 'x':
      case 'X':
      case 'p': {
        const int base = conversion == 'd' || conversion == 'u' ? 10
                         : conversion == 'i'                    ? 0
                         : conversion == 'o'                    ? 8
                                                                : 16;
        char text[80];
        if (!collect_number(in, base, width == 0 ? size_t(-1) : width, text, sizeof text)) {
          result = assigned;
          break;
        }
        if (suppress) break;
        if (conversion == 'p') {
          *va_arg(args.list, void**) = reinterpret_cast<void*>(parse_unsigned_long(text, 16).value);
        } else if (conversion == 'd' || conversion == 'i') {
          store<long>(args, parse_long(text, base).value, length);
        } else {
          store<unsigned long>(args, parse_unsigned_long(text, base).value, length);
        }
        ++assigned;
        break;
      }
      case 'c': {
        if (width == 0) width = 1;
        char* out = suppress ? nullptr : va_arg(args.list, char*);
        size_t n = 0;
        for (int c; n < width && (c = in.get()) >= 0; ++n) {
          if (out != nullptr) out[n] = char(c);
        }
        // Fewer characters than the width: glibc keeps what it read.
        if (n == 0) {
          result = input_failure();
          break;
        }
        if (!suppress) ++assigned;
        if (n < width) result = assigned;
        break;
      }
      case 's':
      case '[': {
        const char* set = p;
        const char* after = p;
        if (conversion == '[') in_scanset(set, 0, &after);
        char* out = suppress ? nullptr : va_arg(args.list, char*);
        size_t n = 0;
        int c = 0;
        while ((width == 0 || n < width) && (c = in.get()) >= 0) {
          const bool member = conversion == 's' ? !isspace(c) : in_scanset(set, c, &after);
          if (!member) {
            in.unget(c);
            break;
          }
          if (out != nullptr) out[n] = char(c);
          ++n;
        }
        p = after;
        if (n == 0) {
          result = c < 0 ? input_failure() : assigned;
          break;
        }
        if (out != nullptr) out[n] = '\0';
        if (!suppress) ++assigned;
        break;
      }
      default:
        // Floating point, wide characters or an unknown conversion.
        result = assigned;
        break;
    }
  }
  va_end(args.list);
  return result == -2 ? assigned : result;
}

namespace {

class StringInput final : public ScanInput {
 public:
  explicit StringInput(const char* s) : m_p(s) {}
  int get() override { return *m_p == '\0' ? -1 : static_cast<unsigned char>(*m_p++); }
  void unget(int) override { --m_p; }

 private:
  const char* m_p;
};

class StreamInput final : public ScanInput {
 public:
  explicit StreamInput(Stream& s) : m_stream(s) {}
  int get() override { return m_stream.get(); }
  void unget(int c) override { m_stream.unget(c); }

 private:
  Stream& m_stream;
};

}  // namespace

int vscan_string(const char* s, const char* fmt, va_list ap) {
  StringInput in(s);
  return vscan(in, fmt, ap);
}

int vscan_stream(Stream& s, const char* fmt, va_list ap) {
  StreamInput in(s);
  return vscan(in, fmt, ap);
}

int scan_string(const char* s, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vscan_string(s, fmt, ap);
  va_end(ap);
  return n;
}

}  // namespace os::libc
