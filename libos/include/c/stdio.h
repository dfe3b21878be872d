/* Buffered streams over file descriptors (libos/core/stream.h has the
 * mechanism). stdin and stdout are line buffered on the console and fully
 * buffered otherwise; stderr is unbuffered. Reading from an interactive
 * stream first writes out line-buffered output, so a prompt shows.
 * printf's conversions are libos/core/cformat.h's: no floating point yet.
 *
 * Declared for libstdc++'s <cstdio> but failing at run time (-1 or NULL with
 * errno ENOSYS): rename (vfs has no rename), tmpfile and tmpnam (no /tmp). */
#ifndef _UKOS_STDIO_H
#define _UKOS_STDIO_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct __ukos_file FILE;
typedef off_t fpos_t;

#define EOF (-1)
#define BUFSIZ 1024
#define _IOFBF 0
#define _IOLBF 1
#define _IONBF 2
#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif
#define FILENAME_MAX 4096
#define FOPEN_MAX 16
#define L_tmpnam 20
#define TMP_MAX 238328

extern FILE* stdin;
extern FILE* stdout;
extern FILE* stderr;
#define stdin stdin
#define stdout stdout
#define stderr stderr

#define __ukos_printf(f, a) __attribute__((format(printf, f, a)))
#define __ukos_scanf(f, a) __attribute__((format(scanf, f, a)))

FILE* fopen(const char* __restrict path, const char* __restrict mode);
FILE* fdopen(int fd, const char* mode);
FILE* freopen(const char* __restrict path, const char* __restrict mode, FILE* __restrict stream);
int fclose(FILE* stream);
int fflush(FILE* stream); /* NULL: every stream */
int fileno(FILE* stream);
void setbuf(FILE* __restrict stream, char* __restrict buffer);
int setvbuf(FILE* __restrict stream, char* __restrict buffer, int mode, size_t size);

size_t fread(void* __restrict buffer, size_t size, size_t count, FILE* __restrict stream);
size_t fwrite(const void* __restrict data, size_t size, size_t count, FILE* __restrict stream);
int fgetc(FILE* stream);
int getc(FILE* stream);
int getchar(void);
int ungetc(int c, FILE* stream);
char* fgets(char* __restrict buffer, int size, FILE* __restrict stream);
ssize_t getline(char** __restrict line, size_t* __restrict capacity, FILE* __restrict stream);
ssize_t getdelim(char** __restrict line, size_t* __restrict capacity, int delimiter, FILE* __restrict stream);
int fputc(int c, FILE* stream);
int putc(int c, FILE* stream);
int putchar(int c);
int fputs(const char* __restrict s, FILE* __restrict stream);
int puts(const char* s);

int fseek(FILE* stream, long offset, int whence);
int fseeko(FILE* stream, off_t offset, int whence);
long ftell(FILE* stream);
off_t ftello(FILE* stream);
void rewind(FILE* stream);
int fgetpos(FILE* __restrict stream, fpos_t* __restrict position);
int fsetpos(FILE* stream, const fpos_t* position);

int feof(FILE* stream);
int ferror(FILE* stream);
void clearerr(FILE* stream);
void perror(const char* prefix);

int printf(const char* __restrict fmt, ...) __ukos_printf(1, 2);
int fprintf(FILE* __restrict stream, const char* __restrict fmt, ...) __ukos_printf(2, 3);
int dprintf(int fd, const char* __restrict fmt, ...) __ukos_printf(2, 3);
int sprintf(char* __restrict buffer, const char* __restrict fmt, ...) __ukos_printf(2, 3);
int snprintf(char* __restrict buffer, size_t size, const char* __restrict fmt, ...) __ukos_printf(3, 4);
int vprintf(const char* __restrict fmt, va_list ap) __ukos_printf(1, 0);
int vfprintf(FILE* __restrict stream, const char* __restrict fmt, va_list ap) __ukos_printf(2, 0);
int vdprintf(int fd, const char* __restrict fmt, va_list ap) __ukos_printf(2, 0);
int vsprintf(char* __restrict buffer, const char* __restrict fmt, va_list ap) __ukos_printf(2, 0);
int vsnprintf(char* __restrict buffer, size_t size, const char* __restrict fmt, va_list ap) __ukos_printf(3, 0);

/* scanf's conversions: d i u o x X c s [ n p %, widths, * and the length
 * modifiers hh h l ll j z t; no floating point. */
int scanf(const char* __restrict fmt, ...) __ukos_scanf(1, 2);
int fscanf(FILE* __restrict stream, const char* __restrict fmt, ...) __ukos_scanf(2, 3);
int sscanf(const char* __restrict s, const char* __restrict fmt, ...) __ukos_scanf(2, 3);
int vscanf(const char* __restrict fmt, va_list ap) __ukos_scanf(1, 0);
int vfscanf(FILE* __restrict stream, const char* __restrict fmt, va_list ap) __ukos_scanf(2, 0);
int vsscanf(const char* __restrict s, const char* __restrict fmt, va_list ap) __ukos_scanf(2, 0);

/* remove() is unlink(), or rmdir() for a directory. */
int remove(const char* path);
int rename(const char* from, const char* to);
FILE* tmpfile(void);
char* tmpnam(char* name);

#ifdef __cplusplus
}
#endif

#endif
