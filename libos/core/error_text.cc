// strerror's texts, a switch generated from the list in error_text.h.
#include "error_text.h"

namespace os::libc {

const char* error_text(int number) {
  switch (number) {
    case 0: return "Success";
#define OS_LIBC_ERRNO_TEXT(name, value, text) \
  case value:                                 \
    return text;
    OS_LIBC_ERRNO_LIST(OS_LIBC_ERRNO_TEXT)
#undef OS_LIBC_ERRNO_TEXT
    default: return nullptr;
  }
}

const char* error_name(int number) {
  switch (number) {
#define OS_LIBC_ERRNO_NAME(name, value, text) \
  case value:                                 \
    return #name;
    OS_LIBC_ERRNO_LIST(OS_LIBC_ERRNO_NAME)
#undef OS_LIBC_ERRNO_NAME
    default: return nullptr;
  }
}

}  // namespace os::libc
