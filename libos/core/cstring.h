// The C library's string, memory, number-parsing and character-class
// functions, in the "C" locale only. Pure code over byte loops, so it builds
// natively for the unit tests and freestanding for the target; the names live
// in os::libc so they never clash with the host's libc (the global entry
// points that forward here are target-only). Each function has the contract of
// its C namesake, including undefined behaviour for null pointers and
// overlapping copies where C says so (memmove is the one that allows overlap).
//
// Byte loops are deliberate: the heavy copies in this system are whole pages
// done by the pager, and a word-at-a-time version is an optimisation to make
// after it shows up in a profile.
#pragma once

#include <cstddef>

namespace os::libc {

// Character classes, C locale. The argument is an unsigned char value or EOF
// (-1), as in <ctype.h>; anything else is classified as nothing.
bool isdigit(int c);
bool isxdigit(int c);
bool isspace(int c);
bool isupper(int c);
bool islower(int c);
bool isalpha(int c);
bool isalnum(int c);
bool isprint(int c);
bool ispunct(int c);
bool isblank(int c);
bool iscntrl(int c);
bool isgraph(int c);
int toupper(int c);
int tolower(int c);

size_t strlen(const char* s);
size_t strnlen(const char* s, size_t max);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t n);
char* strchr(const char* s, int c);
char* strrchr(const char* s, int c);
char* strstr(const char* haystack, const char* needle);
size_t strspn(const char* s, const char* accept);
size_t strcspn(const char* s, const char* reject);
char* strpbrk(const char* s, const char* accept);
char* strcpy(char* dst, const char* src);
char* strncpy(char* dst, const char* src, size_t n);
char* strcat(char* dst, const char* src);
char* strncat(char* dst, const char* src, size_t n);

// strtok with its position in `*state` instead of a static, so that it is
// pure and re-entrant (POSIX's strtok_r): the first call passes the string,
// later ones nullptr and the same state.
char* strtok_r(char* s, const char* delimiters, char** state);

// The "C" locale's collation is byte order: strcoll is strcmp, and strxfrm
// copies (at most n bytes, terminator included) and returns strlen(src).
int strcoll(const char* a, const char* b);
size_t strxfrm(char* dst, const char* src, size_t n);

// <strings.h>: comparisons ignoring ASCII case.
int strcasecmp(const char* a, const char* b);
int strncasecmp(const char* a, const char* b, size_t n);

void* memchr(const void* s, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);

// The full result of strtol/strtoul, errno included as a value: the target's
// wrappers set errno from `error`, the pure code keeps no global state.
template <typename T>
struct ParsedNumber {
  enum class Error { None, OutOfRange, BadBase };
  T value;
  const char* end;  // first character not parsed; the input itself if no digits
  Error error;
};

// Parses like strtol/strtoul: optional white space, an optional sign, then
// digits in `base` (0 picks 8, 10 or 16 from a "0" or "0x" prefix; 16 accepts
// "0x"; 2 to 36 otherwise). Out of range values clamp (LONG_MIN/LONG_MAX,
// ULONG_MAX) with Error::OutOfRange, all digits still consumed. strtoul
// negates a leading '-' in unsigned arithmetic, as C says. A bad base gives 0,
// `end` at the input and Error::BadBase (POSIX's EINVAL).
ParsedNumber<long> parse_long(const char* s, int base);
ParsedNumber<unsigned long> parse_unsigned_long(const char* s, int base);

// The C functions without errno: see parse_long for the semantics.
long strtol(const char* s, char** endptr, int base);
unsigned long strtoul(const char* s, char** endptr, int base);
long long strtoll(const char* s, char** endptr, int base);
unsigned long long strtoull(const char* s, char** endptr, int base);
int atoi(const char* s);
long atol(const char* s);

}  // namespace os::libc
