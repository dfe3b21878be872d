// The printf family's formatter, written once for every output path: the C
// entry points (printf to the console, fprintf to a FILE buffer, snprintf to
// memory) all feed vformat() a Sink and differ only in where the characters
// go. Pure code with no libc underneath, so it builds natively for the unit
// tests and freestanding for the target; the names live in os::libc so they
// never clash with the host's libc (the global `printf` and friends that wrap
// these are target-only).
//
// Supported: conversions d i u x X o c s p %, flags - + space 0 #, width and
// precision (decimal or `*`, a negative `*` width meaning `-`, a negative `*`
// precision meaning none), length modifiers hh h l ll z t j. Output matches
// glibc's byte for byte for these, including its choices where C leaves the
// result open: a null %s prints "(null)" (or nothing if the precision is
// below 6), a null %p prints "(nil)", %p is %#lx with the flags honoured.
//
// Not supported, printed verbatim so the gap is visible in the output rather
// than silently wrong: floating point (e E f F g G a A, whose double or long
// double argument is consumed so later arguments still line up), %n (never
// writes through the pointer: it is consumed and ignored, the classic
// format-string attack has nothing to write with), wide %lc and %ls (argument
// consumed), positional arguments (%1$d: nothing consumed), and unknown
// conversion characters.
//
// FIXME: floating point is missing because nothing in the system prints
// floats yet and a correctly rounded %f/%e/%g is several hundred lines of its
// own; add it (e.g. from picolibc or a Ryu port) when a program needs it.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace os::libc {

// Where formatted characters go. put() receives the text in pieces of any
// length (possibly zero) and cannot fail: a sink that runs out of room drops
// the rest and the formatter still reports the full length, as snprintf must.
class Sink {
 public:
  virtual void put(const char* text, size_t length) = 0;

 protected:
  ~Sink() = default;
};

// Formats `fmt` with the arguments in `ap` into `out`. Returns the number of
// characters produced, or -1 if that number would exceed INT_MAX (C's
// EOVERFLOW case; the caller sets errno). Output stops at that point.
int vformat(Sink& out, const char* fmt, va_list ap);
int format(Sink& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// C99 snprintf: writes at most size - 1 characters and a NUL when size > 0
// (buf may be null when size is 0), returns the length the whole output
// would have had, or -1 on overflow as above.
int vsnprintf(char* buf, size_t size, const char* fmt, va_list ap);
int snprintf(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

}  // namespace os::libc
