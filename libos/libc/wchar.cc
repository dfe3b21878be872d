// <wchar.h>'s wide string functions and the "C" locale's one-byte
// conversions; see the header for what is declared but not here.
#include <errno.h>
#include <wchar.h>

extern "C" {

wchar_t* wmemchr(const wchar_t* s, wchar_t c, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (s[i] == c) return const_cast<wchar_t*>(s + i);
  }
  return nullptr;
}

int wmemcmp(const wchar_t* a, const wchar_t* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

wchar_t* wmemcpy(wchar_t* dst, const wchar_t* src, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = src[i];
  return dst;
}

wchar_t* wmemmove(wchar_t* dst, const wchar_t* src, size_t n) {
  if (dst <= src || dst >= src + n) return wmemcpy(dst, src, n);
  for (size_t i = n; i > 0; --i) dst[i - 1] = src[i - 1];
  return dst;
}

wchar_t* wmemset(wchar_t* dst, wchar_t c, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = c;
  return dst;
}

size_t wcslen(const wchar_t* s) {
  size_t n = 0;
  while (s[n] != 0) ++n;
  return n;
}

int wcscmp(const wchar_t* a, const wchar_t* b) { return wcsncmp(a, b, static_cast<size_t>(-1)); }

int wcsncmp(const wchar_t* a, const wchar_t* b, size_t n) {
  for (; n > 0; --n, ++a, ++b) {
    if (*a != *b) return *a < *b ? -1 : 1;
    if (*a == 0) return 0;
  }
  return 0;
}

wchar_t* wcschr(const wchar_t* s, wchar_t c) {
  for (;; ++s) {
    if (*s == c) return const_cast<wchar_t*>(s);
    if (*s == 0) return nullptr;
  }
}

wchar_t* wcsrchr(const wchar_t* s, wchar_t c) {
  const wchar_t* found = nullptr;
  for (;; ++s) {
    if (*s == c) found = s;
    if (*s == 0) return const_cast<wchar_t*>(found);
  }
}

wchar_t* wcscpy(wchar_t* dst, const wchar_t* src) { return wmemcpy(dst, src, wcslen(src) + 1); }

wchar_t* wcsncpy(wchar_t* dst, const wchar_t* src, size_t n) {
  size_t i = 0;
  for (; i < n && src[i] != 0; ++i) dst[i] = src[i];
  for (; i < n; ++i) dst[i] = 0;
  return dst;
}

wchar_t* wcscat(wchar_t* dst, const wchar_t* src) {
  wcscpy(dst + wcslen(dst), src);
  return dst;
}

wchar_t* wcsncat(wchar_t* dst, const wchar_t* src, size_t n) {
  wchar_t* d = dst + wcslen(dst);
  size_t i = 0;
  for (; i < n && src[i] != 0; ++i) d[i] = src[i];
  d[i] = 0;
  return dst;
}

wint_t btowc(int c) { return c < 0 || c > 0xff ? WEOF : static_cast<wint_t>(c); }

int wctob(wint_t c) { return c > 0xff ? -1 : static_cast<int>(c); }

int mbsinit(const mbstate_t*) { return 1; }

size_t mbrtowc(wchar_t* wc, const char* s, size_t n, mbstate_t*) {
  if (s == nullptr) return 0;
  if (n == 0) return static_cast<size_t>(-2);  // incomplete: no byte to look at
  if (wc != nullptr) *wc = static_cast<unsigned char>(*s);
  return *s != '\0' ? 1 : 0;
}

size_t mbrlen(const char* s, size_t n, mbstate_t* state) { return mbrtowc(nullptr, s, n, state); }

size_t wcrtomb(char* s, wchar_t wc, mbstate_t*) {
  if (s == nullptr) return 1;
  if (wc < 0 || wc > 0xff) {
    errno = EILSEQ;
    return static_cast<size_t>(-1);
  }
  *s = static_cast<char>(wc);
  return 1;
}

}  // extern "C"
