/* assert(): on failure prints "file:line: function: Assertion `expr'
 * failed." on stderr and aborts. No include guard: C lets a program include
 * it again after changing NDEBUG. */
#undef assert
#ifdef NDEBUG
#define assert(expr) ((void)0)
#else
#define assert(expr) ((expr) ? (void)0 : __assert_fail(#expr, __FILE__, __LINE__, __func__))
#endif

#ifndef _UKOS_ASSERT_H
#define _UKOS_ASSERT_H

#if !defined(__cplusplus) && !defined(static_assert)
#define static_assert _Static_assert
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* glibc's name and signature, so that code and debuggers that know it work. */
__attribute__((noreturn)) void __assert_fail(const char* expr, const char* file, unsigned int line,
                                             const char* function);

#ifdef __cplusplus
}
#endif

#endif
