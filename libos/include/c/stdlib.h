/* Memory, process exit, number parsing, the environment, sorting. The heap
 * is libos/core/malloc.h's over sbrk(2); "C" locale only.
 *
 * Declared for libstdc++'s <cstdlib> but not in the library (a call fails
 * to link): strtod, strtof, strtold and atof. There is no floating point
 * in the C library yet (see libos/core/cformat.h). */
#ifndef _UKOS_STDLIB_H
#define _UKOS_STDLIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX 2147483647
#define MB_CUR_MAX ((size_t)1)

typedef struct {
  int quot;
  int rem;
} div_t;
typedef struct {
  long quot;
  long rem;
} ldiv_t;
typedef struct {
  long long quot;
  long long rem;
} lldiv_t;

void* malloc(size_t size);
void* calloc(size_t count, size_t size);
void* realloc(void* ptr, size_t size);
void free(void* ptr);
/* Alignments up to 16 (every block's); larger ones give NULL and EINVAL. */
void* aligned_alloc(size_t alignment, size_t size);

/* exit: the atexit functions in reverse order, every stream flushed, then
 * _exit. abort: SIGABRT's default action, else _exit(134). */
__attribute__((noreturn)) void exit(int status);
__attribute__((noreturn)) void _Exit(int status);
__attribute__((noreturn)) void abort(void);
__attribute__((noreturn)) void quick_exit(int status);
int atexit(void (*function)(void));
int at_quick_exit(void (*function)(void));

int atoi(const char* s);
long atol(const char* s);
long long atoll(const char* s);
long strtol(const char* __restrict s, char** __restrict end, int base);
unsigned long strtoul(const char* __restrict s, char** __restrict end, int base);
long long strtoll(const char* __restrict s, char** __restrict end, int base);
unsigned long long strtoull(const char* __restrict s, char** __restrict end, int base);
double atof(const char* s);
double strtod(const char* __restrict s, char** __restrict end);
float strtof(const char* __restrict s, char** __restrict end);
long double strtold(const char* __restrict s, char** __restrict end);

char* getenv(const char* name);
int setenv(const char* name, const char* value, int overwrite);
int unsetenv(const char* name);
/* fork, then sh -c command in the child; the status as waitpid gives it,
 * or -1. system(NULL) says whether there is a shell (1). */
int system(const char* command);

int abs(int n);
long labs(long n);
long long llabs(long long n);
div_t div(int numerator, int denominator);
ldiv_t ldiv(long numerator, long denominator);
lldiv_t lldiv(long long numerator, long long denominator);

void qsort(void* base, size_t count, size_t size, int (*compare)(const void*, const void*));
void* bsearch(const void* key, const void* base, size_t count, size_t size,
              int (*compare)(const void*, const void*));

int rand(void);
void srand(unsigned int seed);

/* Multibyte characters in the "C" locale: one byte each (wchar_t is
 * <stddef.h>'s). */
int mblen(const char* s, size_t n);
int mbtowc(wchar_t* __restrict wc, const char* __restrict s, size_t n);
int wctomb(char* s, wchar_t wc);
size_t mbstowcs(wchar_t* __restrict dst, const char* __restrict src, size_t n);
size_t wcstombs(char* __restrict dst, const wchar_t* __restrict src, size_t n);

#ifdef __cplusplus
}
#endif

#endif
