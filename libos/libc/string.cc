// <string.h>, <strings.h> and <ctype.h>: the C names of libos/core/cstring's
// functions. memcpy, memmove, memset, memcmp, memchr and strlen are not
// here: every program needs them, including those without the C library,
// so libos itself defines them (libos/src/memory.cc).
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cstring.h"

namespace libc = os::libc;

extern "C" {

size_t strnlen(const char* s, size_t max) { return libc::strnlen(s, max); }
int strcmp(const char* a, const char* b) { return libc::strcmp(a, b); }
int strncmp(const char* a, const char* b, size_t n) { return libc::strncmp(a, b, n); }
int strcoll(const char* a, const char* b) { return libc::strcoll(a, b); }
size_t strxfrm(char* dst, const char* src, size_t n) { return libc::strxfrm(dst, src, n); }
char* strchr(const char* s, int c) { return libc::strchr(s, c); }
char* strrchr(const char* s, int c) { return libc::strrchr(s, c); }
char* strstr(const char* haystack, const char* needle) { return libc::strstr(haystack, needle); }
char* strpbrk(const char* s, const char* accept) { return libc::strpbrk(s, accept); }
size_t strspn(const char* s, const char* accept) { return libc::strspn(s, accept); }
size_t strcspn(const char* s, const char* reject) { return libc::strcspn(s, reject); }
char* strcpy(char* dst, const char* src) { return libc::strcpy(dst, src); }
char* strncpy(char* dst, const char* src, size_t n) { return libc::strncpy(dst, src, n); }
char* strcat(char* dst, const char* src) { return libc::strcat(dst, src); }
char* strncat(char* dst, const char* src, size_t n) { return libc::strncat(dst, src, n); }
char* strtok_r(char* s, const char* delimiters, char** state) { return libc::strtok_r(s, delimiters, state); }

char* strtok(char* s, const char* delimiters) {
  static char* state;
  return libc::strtok_r(s, delimiters, &state);
}

char* strdup(const char* s) { return strndup(s, static_cast<size_t>(-1)); }

char* strndup(const char* s, size_t n) {
  const size_t length = libc::strnlen(s, n);
  auto* copy = static_cast<char*>(malloc(length + 1));
  if (copy == nullptr) return nullptr;  // malloc set ENOMEM
  libc::memcpy(copy, s, length);
  copy[length] = '\0';
  return copy;
}

int strcasecmp(const char* a, const char* b) { return libc::strcasecmp(a, b); }
int strncasecmp(const char* a, const char* b, size_t n) { return libc::strncasecmp(a, b, n); }

int isalnum(int c) { return libc::isalnum(c); }
int isalpha(int c) { return libc::isalpha(c); }
int isblank(int c) { return libc::isblank(c); }
int iscntrl(int c) { return libc::iscntrl(c); }
int isdigit(int c) { return libc::isdigit(c); }
int isgraph(int c) { return libc::isgraph(c); }
int islower(int c) { return libc::islower(c); }
int isprint(int c) { return libc::isprint(c); }
int ispunct(int c) { return libc::ispunct(c); }
int isspace(int c) { return libc::isspace(c); }
int isupper(int c) { return libc::isupper(c); }
int isxdigit(int c) { return libc::isxdigit(c); }
int tolower(int c) { return libc::tolower(c); }
int toupper(int c) { return libc::toupper(c); }

}  // extern "C"
