/* Strings and memory, "C" locale. Everything libstdc++'s <cstring> takes
 * into namespace std is here, so C++ code can include either header.
 * strsignal() is in <signal.h>. */
#ifndef _UKOS_STRING_H
#define _UKOS_STRING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void* memchr(const void* s, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
void* memcpy(void* __restrict dst, const void* __restrict src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);

size_t strlen(const char* s);
size_t strnlen(const char* s, size_t max);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t n);
int strcoll(const char* a, const char* b);
size_t strxfrm(char* __restrict dst, const char* __restrict src, size_t n);
char* strchr(const char* s, int c);
char* strrchr(const char* s, int c);
char* strstr(const char* haystack, const char* needle);
char* strpbrk(const char* s, const char* accept);
size_t strspn(const char* s, const char* accept);
size_t strcspn(const char* s, const char* reject);
char* strcpy(char* __restrict dst, const char* __restrict src);
char* strncpy(char* __restrict dst, const char* __restrict src, size_t n);
char* strcat(char* __restrict dst, const char* __restrict src);
char* strncat(char* __restrict dst, const char* __restrict src, size_t n);
char* strtok(char* __restrict s, const char* __restrict delimiters);
char* strtok_r(char* __restrict s, const char* __restrict delimiters, char** __restrict state);

/* Copies in memory from malloc; nullptr and ENOMEM when there is none.
 * strndup copies at most n bytes and always terminates. */
char* strdup(const char* s);
char* strndup(const char* s, size_t n);

/* The text for an error number ("No such file or directory"), or
 * "Unknown error N" in a buffer the next such call overwrites. */
char* strerror(int error_number);

#ifdef __cplusplus
}
#endif

#endif
