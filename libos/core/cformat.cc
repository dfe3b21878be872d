// The printf formatter (see cformat.h). Each conversion specification is
// parsed into a Spec, its argument fetched with the type the length modifier
// names, and the field laid out as
//
//     [spaces] [sign or 0x prefix] [zeros] [digits or text] [spaces]
//
// where the leading spaces come from the width, the zeros from the precision
// (or from the 0 flag when there is no precision), and the trailing spaces
// replace the leading ones under the - flag. Padding is written in runs, never
// built in a buffer, so a width or precision of any size needs no memory.
#include "cformat.h"

#include <climits>
#include <cstdint>
#include <type_traits>

#include "cstring.h"

namespace os::libc {
namespace {

// Forwards to the sink and counts; once the count would pass INT_MAX the
// result can no longer be returned, so output stops and the result is -1.
class Writer {
 public:
  explicit Writer(Sink& sink) : m_sink(sink) {}

  void put(const char* text, size_t length) {
    if (m_overflow) return;
    if (length > size_t(INT_MAX) - m_count) {
      m_overflow = true;
      return;
    }
    m_sink.put(text, length);
    m_count += length;
  }

  void repeat(char c, size_t count) {
    static constexpr size_t kRun = 32;
    char run[kRun];
    for (size_t i = 0; i < kRun; ++i) run[i] = c;
    // Checked up front so that an absurd width fails at once instead of
    // after two billion characters.
    if (count > size_t(INT_MAX) - m_count) m_overflow = true;
    while (count > 0 && !m_overflow) {
      const size_t n = count < kRun ? count : kRun;
      put(run, n);
      count -= n;
    }
  }

  bool overflowed() const { return m_overflow; }
  int result() const { return m_overflow ? -1 : int(m_count); }

 private:
  Sink& m_sink;
  size_t m_count = 0;
  bool m_overflow = false;
};

// A va_list cannot be handed to helpers by value portably (on RISC-V the
// callee's va_arg would not advance the caller's copy), so vformat copies it
// into this and passes a reference.
struct Args {
  va_list list;
};

enum class Length { None, Char, Short, Long, LongLong, Size, PtrDiff, Max, LongDouble };

struct Spec {
  const char* start;  // the '%'
  const char* end;    // one past the conversion character
  bool left = false;
  bool plus = false;
  bool space = false;
  bool zero = false;
  bool alt = false;
  bool positional = false;  // "%1$d", not supported
  size_t width = 0;
  int precision = -1;  // -1: none given
  Length length = Length::None;
  char conversion = '\0';
};

// Reads a decimal field, saturating instead of overflowing: a width past
// INT_MAX fails later as an overflow either way.
int read_decimal(const char*& p) {
  int value = 0;
  for (; isdigit(*p); ++p) {
    const int d = *p - '0';
    value = value > (INT_MAX - d) / 10 ? INT_MAX : value * 10 + d;
  }
  return value;
}

// Parses the specification that starts at the '%' at `p`, fetching `*`
// widths and precisions from `args` as C orders them (width first).
Spec parse_spec(const char* p, Args& args) {
  Spec spec;
  spec.start = p++;
  for (;; ++p) {
    if (*p == '-') spec.left = true;
    else if (*p == '+') spec.plus = true;
    else if (*p == ' ') spec.space = true;
    else if (*p == '0') spec.zero = true;
    else if (*p == '#') spec.alt = true;
    else break;
  }
  if (*p == '*') {
    ++p;
    const int w = va_arg(args.list, int);
    if (w < 0) spec.left = true;
    spec.width = w < 0 ? size_t(0) - size_t(w) : size_t(w);
  } else {
    spec.width = size_t(read_decimal(p));
    if (*p == '$') spec.positional = true;
  }
  if (*p == '.') {
    ++p;
    if (*p == '*') {
      ++p;
      const int prec = va_arg(args.list, int);
      spec.precision = prec < 0 ? -1 : prec;
    } else {
      spec.precision = read_decimal(p);
    }
  }
  switch (*p) {
    case 'h':
      spec.length = p[1] == 'h' ? Length::Char : Length::Short;
      p += p[1] == 'h' ? 2 : 1;
      break;
    case 'l':
      spec.length = p[1] == 'l' ? Length::LongLong : Length::Long;
      p += p[1] == 'l' ? 2 : 1;
      break;
    case 'z': spec.length = Length::Size; break;
    case 't': spec.length = Length::PtrDiff; break;
    case 'j': spec.length = Length::Max; break;
    case 'L': spec.length = Length::LongDouble; break;
    default: break;
  }
  if (*p == 'z' || *p == 't' || *p == 'j' || *p == 'L') ++p;
  spec.conversion = *p;
  spec.end = *p != '\0' ? p + 1 : p;
  return spec;
}

intmax_t fetch_signed(Length length, Args& args) {
  switch (length) {
    case Length::Char: return static_cast<signed char>(va_arg(args.list, int));
    case Length::Short: return static_cast<short>(va_arg(args.list, int));
    case Length::Long: return va_arg(args.list, long);
    case Length::LongLong: return va_arg(args.list, long long);
    case Length::Size: return va_arg(args.list, std::make_signed_t<size_t>);
    case Length::PtrDiff: return va_arg(args.list, ptrdiff_t);
    case Length::Max: return va_arg(args.list, intmax_t);
    default: return va_arg(args.list, int);
  }
}

uintmax_t fetch_unsigned(Length length, Args& args) {
  switch (length) {
    case Length::Char: return static_cast<unsigned char>(va_arg(args.list, unsigned));
    case Length::Short: return static_cast<unsigned short>(va_arg(args.list, unsigned));
    case Length::Long: return va_arg(args.list, unsigned long);
    case Length::LongLong: return va_arg(args.list, unsigned long long);
    case Length::Size: return va_arg(args.list, size_t);
    case Length::PtrDiff: return va_arg(args.list, std::make_unsigned_t<ptrdiff_t>);
    case Length::Max: return va_arg(args.list, uintmax_t);
    default: return va_arg(args.list, unsigned);
  }
}

// Writes `text` as a field: width padding with spaces, on the left unless the
// - flag is set. (glibc ignores the 0 flag here, and so do we.)
void emit_text(Writer& out, const Spec& spec, const char* text, size_t length) {
  const size_t pad = spec.width > length ? spec.width - length : 0;
  if (!spec.left) out.repeat(' ', pad);
  out.put(text, length);
  if (spec.left) out.repeat(' ', pad);
}

// Writes an integer conversion: `magnitude` in `base` behind `prefix` (a sign
// or "0x"), with the precision as a minimum digit count and the 0 flag
// padding with zeros between prefix and digits when no precision is given.
void emit_integer(Writer& out, const Spec& spec, uintmax_t magnitude, unsigned base, const char* prefix) {
  const char* digit_chars = spec.conversion == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  char digits[3 * sizeof(uintmax_t)];  // octal needs 22 for 64 bits
  size_t start = sizeof(digits);
  // C: a zero value with precision 0 has no digits at all.
  if (magnitude != 0 || spec.precision != 0) {
    do {
      digits[--start] = digit_chars[magnitude % base];
      magnitude /= base;
    } while (magnitude != 0);
  }
  const size_t n_digits = sizeof(digits) - start;
  const size_t n_prefix = strlen(prefix);

  size_t zeros = spec.precision > 0 && size_t(spec.precision) > n_digits ? size_t(spec.precision) - n_digits : 0;
  // %#o: the precision grows until the first digit is a 0.
  if (spec.alt && base == 8 && zeros == 0 && (n_digits == 0 || digits[start] != '0')) zeros = 1;
  size_t body = n_prefix + zeros + n_digits;
  if (spec.zero && !spec.left && spec.precision < 0 && spec.width > body) {
    zeros += spec.width - body;
    body = spec.width;
  }
  const size_t pad = spec.width > body ? spec.width - body : 0;
  if (!spec.left) out.repeat(' ', pad);
  out.put(prefix, n_prefix);
  out.repeat('0', zeros);
  out.put(digits + start, n_digits);
  if (spec.left) out.repeat(' ', pad);
}

const char* sign_prefix(const Spec& spec, bool negative) {
  if (negative) return "-";
  if (spec.plus) return "+";
  if (spec.space) return " ";
  return "";
}

// Consumes the argument of an unsupported conversion, so the ones after it
// still line up, and prints the specification itself.
void emit_unsupported(Writer& out, const Spec& spec, Args& args) {
  switch (spec.conversion) {
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
      if (spec.length == Length::LongDouble) {
        (void)va_arg(args.list, long double);
      } else {
        (void)va_arg(args.list, double);
      }
      break;
    case 'n': (void)va_arg(args.list, void*); break;
    case 'c': (void)va_arg(args.list, unsigned); break;  // %lc: wint_t
    case 's': (void)va_arg(args.list, void*); break;     // %ls
    default: break;
  }
  out.put(spec.start, size_t(spec.end - spec.start));
}

void emit_conversion(Writer& out, const Spec& spec, Args& args) {
  switch (spec.conversion) {
    case 'd':
    case 'i': {
      const intmax_t v = fetch_signed(spec.length, args);
      const uintmax_t magnitude = v < 0 ? uintmax_t(0) - uintmax_t(v) : uintmax_t(v);
      emit_integer(out, spec, magnitude, 10, sign_prefix(spec, v < 0));
      return;
    }
    case 'u': emit_integer(out, spec, fetch_unsigned(spec.length, args), 10, ""); return;
    case 'o': emit_integer(out, spec, fetch_unsigned(spec.length, args), 8, ""); return;
    case 'x':
    case 'X': {
      const uintmax_t v = fetch_unsigned(spec.length, args);
      // # adds 0x only to non-zero values.
      const char* prefix = spec.alt && v != 0 ? (spec.conversion == 'x' ? "0x" : "0X") : "";
      emit_integer(out, spec, v, 16, prefix);
      return;
    }
    case 'p': {
      const auto v = reinterpret_cast<uintptr_t>(va_arg(args.list, void*));
      if (v == 0) {
        emit_text(out, spec, "(nil)", 5);
        return;
      }
      // glibc's %p is %#lx, with + and space honoured as for a signed value.
      const char* prefix = spec.plus ? "+0x" : spec.space ? " 0x" : "0x";
      emit_integer(out, spec, v, 16, prefix);
      return;
    }
    case 'c': {
      if (spec.length == Length::Long) break;
      const char c = static_cast<char>(va_arg(args.list, int));
      emit_text(out, spec, &c, 1);
      return;
    }
    case 's': {
      if (spec.length == Length::Long) break;
      const char* s = va_arg(args.list, const char*);
      if (s == nullptr) {
        // glibc prints "(null)" only if it fits in the precision.
        s = spec.precision < 0 || spec.precision >= 6 ? "(null)" : "";
      }
      const size_t n = spec.precision < 0 ? strlen(s) : strnlen(s, size_t(spec.precision));
      emit_text(out, spec, s, n);
      return;
    }
    case '%': out.put("%", 1); return;  // glibc ignores width and flags here
    default: break;
  }
  emit_unsupported(out, spec, args);
}

// Stores what fits of the output in a caller's buffer, keeping the last byte
// for the terminator.
class BufferSink final : public Sink {
 public:
  BufferSink(char* buf, size_t size) : m_buf(buf), m_room(size > 0 ? size - 1 : 0) {}

  void put(const char* text, size_t length) override {
    const size_t n = length < m_room - m_used ? length : m_room - m_used;
    memcpy(m_buf + m_used, text, n);
    m_used += n;
  }

  void terminate() {
    if (m_buf != nullptr) m_buf[m_used] = '\0';
  }

 private:
  char* m_buf;
  size_t m_room;
  size_t m_used = 0;
};

}  // namespace

int vformat(Sink& sink, const char* fmt, va_list ap) {
  Writer out(sink);
  Args args;
  va_copy(args.list, ap);
  const char* p = fmt;
  while (*p != '\0' && !out.overflowed()) {
    if (*p != '%') {
      const char* run = p;
      while (*p != '\0' && *p != '%') ++p;
      out.put(run, size_t(p - run));
      continue;
    }
    const Spec spec = parse_spec(p, args);
    p = spec.end;
    if (spec.positional || spec.conversion == '\0') {
      // Nothing consumed: with positions the order of arguments is unknown.
      out.put(spec.start, size_t(spec.end - spec.start));
      continue;
    }
    emit_conversion(out, spec, args);
  }
  va_end(args.list);
  return out.result();
}

int format(Sink& out, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vformat(out, fmt, ap);
  va_end(ap);
  return n;
}

int vsnprintf(char* buf, size_t size, const char* fmt, va_list ap) {
  BufferSink sink(size > 0 ? buf : nullptr, size);
  const int n = vformat(sink, fmt, ap);
  sink.terminate();
  return n;
}

int snprintf(char* buf, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

}  // namespace os::libc
