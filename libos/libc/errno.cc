// errno, strerror, and the check that <errno.h>, the C library's list
// (libos/core/error_text.h) and the servers' (servers/common/posix_errno.h)
// give every error the same number.
#include <errno.h>
#include <string.h>

#include "cformat.h"
#include "common/posix_errno.h"
#include "error_text.h"

#define OS_LIBC_CHECK_MACRO(name, number, text) static_assert(name == number, #name " differs in <errno.h>");
OS_LIBC_ERRNO_LIST(OS_LIBC_CHECK_MACRO)
#undef OS_LIBC_CHECK_MACRO

namespace {
// Each server error has the libc name its posix_errno.h entry gives.
constexpr bool same_name(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}
constexpr bool named_alike(int number, const char* name) {
  switch (number) {
#define OS_LIBC_NAME_CASE(macro, value, text) \
  case value:                                 \
    return same_name(#macro, name);
    OS_LIBC_ERRNO_LIST(OS_LIBC_NAME_CASE)
#undef OS_LIBC_NAME_CASE
    default: return false;
  }
}
#define OS_LIBC_CHECK_SERVER(name, number, text) \
  static_assert(named_alike(number, text), text " is missing from libos/core/error_text.h or differs");
POSIX_ERRNO_LIST(OS_LIBC_CHECK_SERVER)
#undef OS_LIBC_CHECK_SERVER
}  // namespace

extern "C" {

int errno;

char* strerror(int error_number) {
  const char* text = os::libc::error_text(error_number);
  if (text != nullptr) return const_cast<char*>(text);
  static char unknown[32];
  os::libc::snprintf(unknown, sizeof unknown, "Unknown error %d", error_number);
  return unknown;
}

}  // extern "C"
