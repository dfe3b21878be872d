// The scanf family's engine, written once for strings and streams: both feed
// vscan() characters through a ScanInput with one character of push-back,
// which is all C promises a stream and all the conversions need.
//
// Supported: white space (skips any), ordinary characters, %%, and the
// conversions d i u o x X p c s [ (with ^ and ranges a-z) n, each with `*`
// (no assignment), a maximum width, and the length modifiers hh h l ll j z
// t. Integers follow strtol's rules for their base, reading at most the
// width, and are stored clamped when out of range (C leaves it undefined).
// Not supported: floating point (e f g a) and %lc/%ls, which end the scan
// as a matching failure, and positional arguments.
#pragma once

#include <cstdarg>

namespace os::libc {

class Stream;

class ScanInput {
 public:
  virtual int get() = 0;  // the next character as an unsigned char, or -1 at the end
  virtual void unget(int c) = 0;  // gives back the character get() returned last

 protected:
  ~ScanInput() = default;
};

// The number of items assigned, or -1 (EOF) when the input ended before
// anything was assigned (glibc's reading of C's "before the first
// conversion": a suppressed conversion does not count).
int vscan(ScanInput& in, const char* fmt, va_list ap);
int vscan_string(const char* s, const char* fmt, va_list ap);
int vscan_stream(Stream& in, const char* fmt, va_list ap);
int scan_string(const char* s, const char* fmt, ...) __attribute__((format(scanf, 2, 3)));

}  // namespace os::libc
