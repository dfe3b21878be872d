/* Wide characters, "C" locale: every byte is one character with its own
 * value, so conversions are one byte each way and nothing is ever in a
 * shift state. libstdc++'s <cwchar> (which <string_view> and <string>
 * include) takes all of these names into std, so all are declared.
 *
 * In the library: the wmem and wcs string functions below the first
 * group, and the conversions btowc, wctob, mbsinit, mbrlen, mbrtowc,
 * wcrtomb. Declared only (a call fails to link): wide stdio, wide printf
 * and scanf, wcsto*, wcsftime, wcstok, wcscoll, wcsxfrm, wcspbrk, wcsspn,
 * wcscspn, wcsstr, mbsrtowcs and wcsrtombs: nothing here uses wide text. */
#ifndef _UKOS_WCHAR_H
#define _UKOS_WCHAR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned int wint_t;
typedef struct {
  int __unused;
} mbstate_t;
typedef struct __ukos_file FILE;
struct tm;

#define WEOF ((wint_t)0xffffffffu)
#ifndef WCHAR_MIN
#define WCHAR_MIN __WCHAR_MIN__
#define WCHAR_MAX __WCHAR_MAX__
#endif

wchar_t* wmemchr(const wchar_t* s, wchar_t c, size_t n);
int wmemcmp(const wchar_t* a, const wchar_t* b, size_t n);
wchar_t* wmemcpy(wchar_t* __restrict dst, const wchar_t* __restrict src, size_t n);
wchar_t* wmemmove(wchar_t* dst, const wchar_t* src, size_t n);
wchar_t* wmemset(wchar_t* dst, wchar_t c, size_t n);
size_t wcslen(const wchar_t* s);
int wcscmp(const wchar_t* a, const wchar_t* b);
int wcsncmp(const wchar_t* a, const wchar_t* b, size_t n);
wchar_t* wcschr(const wchar_t* s, wchar_t c);
wchar_t* wcsrchr(const wchar_t* s, wchar_t c);
wchar_t* wcscpy(wchar_t* __restrict dst, const wchar_t* __restrict src);
wchar_t* wcsncpy(wchar_t* __restrict dst, const wchar_t* __restrict src, size_t n);
wchar_t* wcscat(wchar_t* __restrict dst, const wchar_t* __restrict src);
wchar_t* wcsncat(wchar_t* __restrict dst, const wchar_t* __restrict src, size_t n);

wint_t btowc(int c);
int wctob(wint_t c);
int mbsinit(const mbstate_t* state);
size_t mbrlen(const char* __restrict s, size_t n, mbstate_t* __restrict state);
size_t mbrtowc(wchar_t* __restrict wc, const char* __restrict s, size_t n, mbstate_t* __restrict state);
size_t wcrtomb(char* __restrict s, wchar_t wc, mbstate_t* __restrict state);

/* Declared only. */
size_t mbsrtowcs(wchar_t* __restrict dst, const char** __restrict src, size_t n, mbstate_t* __restrict state);
size_t wcsrtombs(char* __restrict dst, const wchar_t** __restrict src, size_t n, mbstate_t* __restrict state);
int wcscoll(const wchar_t* a, const wchar_t* b);
size_t wcsxfrm(wchar_t* __restrict dst, const wchar_t* __restrict src, size_t n);
size_t wcscspn(const wchar_t* s, const wchar_t* reject);
size_t wcsspn(const wchar_t* s, const wchar_t* accept);
wchar_t* wcspbrk(const wchar_t* s, const wchar_t* accept);
wchar_t* wcsstr(const wchar_t* haystack, const wchar_t* needle);
wchar_t* wcstok(wchar_t* __restrict s, const wchar_t* __restrict delimiters, wchar_t** __restrict state);
double wcstod(const wchar_t* __restrict s, wchar_t** __restrict end);
float wcstof(const wchar_t* __restrict s, wchar_t** __restrict end);
long double wcstold(const wchar_t* __restrict s, wchar_t** __restrict end);
long wcstol(const wchar_t* __restrict s, wchar_t** __restrict end, int base);
long long wcstoll(const wchar_t* __restrict s, wchar_t** __restrict end, int base);
unsigned long wcstoul(const wchar_t* __restrict s, wchar_t** __restrict end, int base);
unsigned long long wcstoull(const wchar_t* __restrict s, wchar_t** __restrict end, int base);
size_t wcsftime(wchar_t* __restrict s, size_t max, const wchar_t* __restrict fmt, const struct tm* __restrict time);
wint_t fgetwc(FILE* stream);
wint_t getwc(FILE* stream);
wint_t getwchar(void);
wint_t ungetwc(wint_t c, FILE* stream);
wchar_t* fgetws(wchar_t* __restrict s, int n, FILE* __restrict stream);
wint_t fputwc(wchar_t c, FILE* stream);
wint_t putwc(wchar_t c, FILE* stream);
wint_t putwchar(wchar_t c);
int fputws(const wchar_t* __restrict s, FILE* __restrict stream);
int fwide(FILE* stream, int mode);
int fwprintf(FILE* __restrict stream, const wchar_t* __restrict fmt, ...);
int wprintf(const wchar_t* __restrict fmt, ...);
int swprintf(wchar_t* __restrict s, size_t n, const wchar_t* __restrict fmt, ...);
int vfwprintf(FILE* __restrict stream, const wchar_t* __restrict fmt, va_list ap);
int vwprintf(const wchar_t* __restrict fmt, va_list ap);
int vswprintf(wchar_t* __restrict s, size_t n, const wchar_t* __restrict fmt, va_list ap);
int fwscanf(FILE* __restrict stream, const wchar_t* __restrict fmt, ...);
int wscanf(const wchar_t* __restrict fmt, ...);
int swscanf(const wchar_t* __restrict s, const wchar_t* __restrict fmt, ...);
int vfwscanf(FILE* __restrict stream, const wchar_t* __restrict fmt, va_list ap);
int vwscanf(const wchar_t* __restrict fmt, va_list ap);
int vswscanf(const wchar_t* __restrict s, const wchar_t* __restrict fmt, va_list ap);

#ifdef __cplusplus
}
#endif

#endif
