// <stdio.h>: FILE is a libos/core Stream over the POSIX descriptor calls.
// stdin, stdout and stderr are constant-initialised (so they work in any
// constructor), and join the list of open streams before every other
// constructor runs. getchar, printf and the like go through the variables
// stdin and stdout, which a program may point at another FILE.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <new>

#include "cformat.h"
#include "internal.h"
#include "scan.h"
#include "stream.h"

namespace libc = os::libc;
using libc::Buffering;
using libc::Stream;

static_assert(libc::kErrorBadFd == EBADF && libc::kErrorInvalid == EINVAL && libc::kErrorNoMemory == ENOMEM &&
              libc::kErrorOverflow == EOVERFLOW);
static_assert(libc::kOpenReadOnly == O_RDONLY && libc::kOpenWriteOnly == O_WRONLY &&
              libc::kOpenReadWrite == O_RDWR && libc::kOpenCreate == O_CREAT && libc::kOpenExclusive == O_EXCL &&
              libc::kOpenTruncate == O_TRUNC && libc::kOpenAppend == O_APPEND);
static_assert(libc::kSeekSet == SEEK_SET && libc::kSeekCur == SEEK_CUR && libc::kSeekEnd == SEEK_END);
static_assert(int(Buffering::Full) == _IOFBF && int(Buffering::Line) == _IOLBF && int(Buffering::None) == _IONBF);
static_assert(Stream::kBufferSize == BUFSIZ && Stream::kEof == EOF);

struct __ukos_file {
  Stream stream;
  bool allocated;  // by fopen or fdopen: fclose frees it
};

namespace {

class DescriptorIo final : public libc::FileIo {
 public:
  long read(int fd, void* buffer, size_t size) override { return ::read(fd, buffer, size); }
  long write(int fd, const void* data, size_t size) override { return ::write(fd, data, size); }
  long seek(int fd, long offset, int whence) override { return ::lseek(fd, offset, whence); }
  int close(int fd) override { return ::close(fd); }
  // isatty sets ENOTTY for a file; deciding a stream's buffering must not
  // change errno under the program's feet.
  bool is_terminal(int fd) override {
    const int saved = errno;
    const bool terminal = ::isatty(fd) == 1;
    errno = saved;
    return terminal;
  }
  void report_error(int error_number) override { errno = error_number; }
};

constinit DescriptorIo g_io;
constinit libc::StreamList g_open;
constinit __ukos_file g_stdin{{g_io, STDIN_FILENO, true, false, Buffering::Auto}, false};
constinit __ukos_file g_stdout{{g_io, STDOUT_FILENO, false, true, Buffering::Auto}, false};
constinit __ukos_file g_stderr{{g_io, STDERR_FILENO, false, true, Buffering::None}, false};

// Priority 101, the first a program may use: before any constructor
// without a priority, which may already print.
__attribute__((constructor(101))) void open_standard_streams() {
  g_open.add(g_stderr.stream);
  g_open.add(g_stdout.stream);
  g_open.add(g_stdin.stream);
}

FILE* new_file(int fd, const libc::OpenMode& mode) {
  void* memory = malloc(sizeof(__ukos_file));
  if (memory == nullptr) return nullptr;
  auto* f = new (memory) __ukos_file{{g_io, fd, mode.readable, mode.writable, Buffering::Auto}, true};
  g_open.add(f->stream);
  return f;
}

bool multiply(size_t size, size_t count, size_t* bytes) {
  if (__builtin_mul_overflow(size, count, bytes)) {
    errno = EOVERFLOW;
    return false;
  }
  return true;
}

// A formatting result: -1 with EOVERFLOW when the count passed INT_MAX.
int formatted(int n) {
  if (n < 0) errno = EOVERFLOW;
  return n;
}

}  // namespace

int os::libc::flush_all_streams() { return g_open.flush_all(); }

extern "C" {

FILE* stdin = &g_stdin;
FILE* stdout = &g_stdout;
FILE* stderr = &g_stderr;

FILE* fopen(const char* path, const char* mode) {
  const libc::OpenMode m = libc::parse_open_mode(mode);
  if (!m.valid) {
    errno = EINVAL;
    return nullptr;
  }
  const int fd = open(path, m.flags, 0666);
  if (fd < 0) return nullptr;
  FILE* f = new_file(fd, m);
  if (f == nullptr) close(fd);  // errno is malloc's ENOMEM
  return f;
}

FILE* fdopen(int fd, const char* mode) {
  const libc::OpenMode m = libc::parse_open_mode(mode);
  if (!m.valid || fd < 0) {
    errno = m.valid ? EBADF : EINVAL;
    return nullptr;
  }
  return new_file(fd, m);
}

// The stream is rebuilt in place on the new descriptor, keeping its memory
// (and, for stdin, stdout and stderr, their names). A null path would mean
// "the same file, another mode", which needs fcntl: EBADF.
FILE* freopen(const char* path, const char* mode, FILE* f) {
  const libc::OpenMode m = libc::parse_open_mode(mode);
  g_open.remove(f->stream);
  f->stream.close();
  if (path == nullptr || !m.valid) {
    errno = path == nullptr ? EBADF : EINVAL;
    return nullptr;
  }
  const int fd = open(path, m.flags, 0666);
  if (fd < 0) return nullptr;
  f->stream.~Stream();
  new (&f->stream) Stream(g_io, fd, m.readable, m.writable, Buffering::Auto);
  g_open.add(f->stream);
  return f;
}

int fclose(FILE* f) {
  g_open.remove(f->stream);
  const int result = f->stream.close();
  if (f->allocated) {
    f->~__ukos_file();
    free(f);
  }
  return result;
}

int fflush(FILE* f) { return f == nullptr ? g_open.flush_all() : f->stream.flush(); }

int fileno(FILE* f) { return f->stream.fd(); }

int setvbuf(FILE* f, char* buffer, int mode, size_t size) {
  return f->stream.set_buffering(buffer, static_cast<Buffering>(mode), size);
}

void setbuf(FILE* f, char* buffer) { setvbuf(f, buffer, buffer != nullptr ? _IOFBF : _IONBF, BUFSIZ); }

size_t fread(void* buffer, size_t size, size_t count, FILE* f) {
  size_t bytes;
  if (size == 0 || count == 0 || !multiply(size, count, &bytes)) return 0;
  return f->stream.read(buffer, bytes) / size;
}

size_t fwrite(const void* data, size_t size, size_t count, FILE* f) {
  size_t bytes;
  if (size == 0 || count == 0 || !multiply(size, count, &bytes)) return 0;
  return f->stream.write(data, bytes) / size;
}

int fgetc(FILE* f) { return f->stream.get(); }
int getc(FILE* f) { return f->stream.get(); }
int getchar(void) { return fgetc(stdin); }
int ungetc(int c, FILE* f) { return f->stream.unget(c); }
char* fgets(char* buffer, int size, FILE* f) { return f->stream.get_line(buffer, size); }

ssize_t getdelim(char** line, size_t* capacity, int delimiter, FILE* f) {
  return libc::get_delimited(f->stream, line, capacity, delimiter, realloc);
}

ssize_t getline(char** line, size_t* capacity, FILE* f) { return getdelim(line, capacity, '\n', f); }

int fputc(int c, FILE* f) { return f->stream.put(c); }
int putc(int c, FILE* f) { return f->stream.put(c); }
int putchar(int c) { return fputc(c, stdout); }

int fputs(const char* s, FILE* f) {
  const size_t n = strlen(s);
  return f->stream.write(s, n) == n ? 0 : EOF;
}

int puts(const char* s) {
  Stream& out = stdout->stream;
  const size_t n = strlen(s);
  return out.write(s, n) == n && out.put('\n') != EOF ? 0 : EOF;
}

int fseek(FILE* f, long offset, int whence) { return f->stream.seek(offset, whence); }
int fseeko(FILE* f, off_t offset, int whence) { return f->stream.seek(offset, whence); }
long ftell(FILE* f) { return f->stream.tell(); }
off_t ftello(FILE* f) { return f->stream.tell(); }

void rewind(FILE* f) {
  f->stream.seek(0, SEEK_SET);
  f->stream.clear();
}

int fgetpos(FILE* f, fpos_t* position) {
  const off_t at = f->stream.tell();
  if (at < 0) return -1;
  *position = at;
  return 0;
}

int fsetpos(FILE* f, const fpos_t* position) { return f->stream.seek(*position, SEEK_SET); }

int feof(FILE* f) { return f->stream.eof(); }
int ferror(FILE* f) { return f->stream.error(); }
void clearerr(FILE* f) { f->stream.clear(); }

void perror(const char* prefix) {
  const char* text = strerror(errno);
  if (prefix != nullptr && prefix[0] != '\0') {
    fprintf(stderr, "%s: %s\n", prefix, text);
  } else {
    fprintf(stderr, "%s\n", text);
  }
}

int vfprintf(FILE* f, const char* fmt, va_list ap) { return libc::vprint(f->stream, fmt, ap); }
int vprintf(const char* fmt, va_list ap) { return libc::vprint(stdout->stream, fmt, ap); }

int vdprintf(int fd, const char* fmt, va_list ap) {
  Stream out(g_io, fd, false, true, Buffering::None);
  return libc::vprint(out, fmt, ap);
}

int vsnprintf(char* buffer, size_t size, const char* fmt, va_list ap) {
  return formatted(libc::vsnprintf(buffer, size, fmt, ap));
}

int vsprintf(char* buffer, const char* fmt, va_list ap) {
  return formatted(libc::vsnprintf(buffer, static_cast<size_t>(-1), fmt, ap));
}

int fprintf(FILE* f, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vfprintf(f, fmt, ap);
  va_end(ap);
  return n;
}

int printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}

int dprintf(int fd, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vdprintf(fd, fmt, ap);
  va_end(ap);
  return n;
}

int sprintf(char* buffer, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vsprintf(buffer, fmt, ap);
  va_end(ap);
  return n;
}

int snprintf(char* buffer, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vsnprintf(buffer, size, fmt, ap);
  va_end(ap);
  return n;
}

int vfscanf(FILE* f, const char* fmt, va_list ap) { return libc::vscan_stream(f->stream, fmt, ap); }
int vscanf(const char* fmt, va_list ap) { return libc::vscan_stream(stdin->stream, fmt, ap); }
int vsscanf(const char* s, const char* fmt, va_list ap) { return libc::vscan_string(s, fmt, ap); }

int fscanf(FILE* f, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vfscanf(f, fmt, ap);
  va_end(ap);
  return n;
}

int scanf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vscanf(fmt, ap);
  va_end(ap);
  return n;
}

int sscanf(const char* s, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vsscanf(s, fmt, ap);
  va_end(ap);
  return n;
}

// vfs removes a directory only with rmdir, and unlink says EISDIR.
int remove(const char* path) {
  if (unlink(path) == 0) return 0;
  if (errno != EISDIR) return -1;
  return rmdir(path);
}

// FIXME: vfs has no rename request yet, nor a /tmp that tmpfile could use.
int rename(const char*, const char*) {
  errno = ENOSYS;
  return -1;
}

FILE* tmpfile(void) {
  errno = ENOSYS;
  return nullptr;
}

char* tmpnam(char*) {
  errno = ENOSYS;
  return nullptr;
}

}  // extern "C"
