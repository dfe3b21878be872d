// See output.h.
#include "output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

namespace sh {
namespace {

void write_all(int fd, const char* text, size_t length) {
  while (length > 0) {
    const ssize_t n = write(fd, text, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    length -= static_cast<size_t>(n);
  }
}

void vsay(int fd, const char* prefix, const char* format, va_list args, const char* suffix) {
  char buffer[1024];
  int used = snprintf(buffer, sizeof buffer, "%s", prefix);
  used += vsnprintf(buffer + used, sizeof buffer - static_cast<size_t>(used), format, args);
  if (used > static_cast<int>(sizeof buffer) - 2) used = static_cast<int>(sizeof buffer) - 2;
  used += snprintf(buffer + used, sizeof buffer - static_cast<size_t>(used), "%s", suffix);
  if (used > static_cast<int>(sizeof buffer) - 1) used = static_cast<int>(sizeof buffer) - 1;
  write_all(fd, buffer, static_cast<size_t>(used));
}

}  // namespace

void say(int fd, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsay(fd, "", format, args, "");
  va_end(args);
}

void complain(const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsay(STDERR_FILENO, "sh: ", format, args, "\n");
  va_end(args);
}

}  // namespace sh
