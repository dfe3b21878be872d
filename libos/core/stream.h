// The buffered streams behind <stdio.h>'s FILE, over a descriptor layer
// (FileIo) that is read(2), write(2), lseek(2) and close(2) on the target and
// a fake in the tests. A Stream holds one buffer that serves either reading
// or writing at a time:
//
//   reading:  [ consumed | unread: m_read_pos .. m_read_end | ... ]
//   writing:  [ pending: 0 .. m_pending | free ... ]
//
// Switching direction gives the buffer up first: pending output is written,
// unread input is given back to the descriptor with a seek (which a pipe or
// the console refuse; the input is then dropped, as C leaves it undefined).
//
// Buffering is C's: Full writes when the buffer fills, Line also after each
// newline, None writes every call through at once. Auto is decided at the
// first use, Line if the descriptor is a terminal and Full otherwise (what C
// asks of stdin and stdout). Reading from a Line or None stream first
// flushes every Line stream in its StreamList, so that a prompt written
// without a newline appears before the program waits for input.
//
// End of file is sticky, as C11 says: once read() returned 0, reads return
// EOF until clear() (clearerr) or a seek.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace os::libc {

// The descriptor calls a stream needs. Each returns -1 on failure, and on
// the target leaves errno as the call set it. report_error() is how the
// stream reports a failure it found itself (EBADF for writing to a stream
// opened for reading): the target sets errno.
class FileIo {
 public:
  virtual long read(int fd, void* buffer, size_t size) = 0;
  virtual long write(int fd, const void* data, size_t size) = 0;
  virtual long seek(int fd, long offset, int whence) = 0;
  virtual int close(int fd) = 0;
  virtual bool is_terminal(int fd) = 0;
  virtual void report_error(int error_number) = 0;

 protected:
  ~FileIo() = default;
};

// The values of <stdio.h>'s _IOFBF, _IOLBF and _IONBF, and Auto.
enum class Buffering { Full = 0, Line = 1, None = 2, Auto = 3 };

// The error numbers the stream code reports itself (Linux's values, checked
// against <errno.h> in libos/libc/stdio.cc).
inline constexpr int kErrorBadFd = 9;
inline constexpr int kErrorNoMemory = 12;
inline constexpr int kErrorInvalid = 22;
inline constexpr int kErrorOverflow = 75;

// lseek's whence values.
inline constexpr int kSeekSet = 0;
inline constexpr int kSeekCur = 1;
inline constexpr int kSeekEnd = 2;

// open(2) flags fopen needs, Linux's values (checked against <fcntl.h> in
// libos/libc/stdio.cc).
inline constexpr int kOpenReadOnly = 00;
inline constexpr int kOpenWriteOnly = 01;
inline constexpr int kOpenReadWrite = 02;
inline constexpr int kOpenCreate = 0100;
inline constexpr int kOpenExclusive = 0200;
inline constexpr int kOpenTruncate = 01000;
inline constexpr int kOpenAppend = 02000;

// An fopen mode string, decoded: 'r', 'w' or 'a', then in any order '+'
// (read and write) and 'x' (O_EXCL, C11). Other letters after the first are
// ignored, as glibc does ('b': there is no text mode; 't', 'e', ...). A
// null or empty mode or another first letter is invalid (EINVAL).
struct OpenMode {
  bool valid;
  int flags;  // for open(2)
  bool readable;
  bool writable;
};
OpenMode parse_open_mode(const char* mode);

class StreamList;

class Stream {
 public:
  static constexpr size_t kBufferSize = 1024;  // <stdio.h>'s BUFSIZ
  static constexpr int kEof = -1;

  constexpr Stream(FileIo& io, int fd, bool readable, bool writable, Buffering buffering)
      : m_io(io), m_fd(fd), m_readable(readable), m_writable(writable), m_buffering(buffering) {}
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  int fd() const { return m_fd; }
  bool eof() const { return m_eof; }
  bool error() const { return m_error; }
  // clearerr: both indicators.
  void clear() {
    m_eof = false;
    m_error = false;
  }
  // Hands an error number to the descriptor layer (errno on the target).
  void report_error(int error_number) { m_io.report_error(error_number); }
  // The buffering in force, deciding Auto now if it still is.
  Buffering buffering();

  // fread/fwrite in bytes: the number of bytes read or written, short on
  // end of file or error (the indicators tell which).
  size_t read(void* buffer, size_t size);
  size_t write(const void* data, size_t size);

  // fgetc/fputc: the byte as an unsigned char, or kEof.
  int get();
  int put(int c);
  // ungetc: one byte of push-back, guaranteed once between reads. Clears
  // end of file. Returns c, or kEof if c is kEof or the slot is taken.
  int unget(int c);
  // fgets: up to size - 1 bytes, through the first newline, terminated.
  // nullptr if end of file or an error came before any byte.
  char* get_line(char* buffer, int size);

  // fflush: writes pending output; on a stream being read, gives unread
  // input back to the descriptor (POSIX's fflush of an input stream). 0, or
  // kEof after a write error (the pending output is dropped).
  int flush();
  // fseek/ftell on the descriptor, the buffer taken into account. A seek
  // drops unread input and push-back and clears end of file. -1 on error.
  int seek(long offset, int whence);
  long tell();
  // setvbuf: `buffer` of `size` bytes replaces the stream's own (nullptr or
  // a size of 0: keep its own). Flushes first. 0, or -1 for a bad mode.
  int set_buffering(char* buffer, Buffering mode, size_t size);
  // fclose's work: flush, then close the descriptor. 0 or kEof.
  int close();

 private:
  friend class StreamList;

  bool prepare_read();
  bool fill();
  size_t write_through(const char* data, size_t size);
  bool give_back_input();
  void drop_input();
  size_t unread() const { return m_read_end - m_read_pos + (m_pushback >= 0 ? 1 : 0); }

  FileIo& m_io;
  int m_fd;
  bool m_readable;
  bool m_writable;
  bool m_eof = false;
  bool m_error = false;
  Buffering m_buffering;
  char* m_buffer = m_own;
  size_t m_capacity = kBufferSize;
  size_t m_read_pos = 0;
  size_t m_read_end = 0;
  size_t m_pending = 0;
  int m_pushback = -1;
  StreamList* m_list = nullptr;
  Stream* m_next = nullptr;  // in m_list
  char m_own[kBufferSize] = {};
};

// The open streams of a process, for exit()'s flush and for flushing line
// buffered output before input. Intrusive, so it never allocates.
class StreamList {
 public:
  void add(Stream& s);
  void remove(Stream& s);
  // Flushes every stream; 0, or kEof if any flush failed.
  int flush_all();
  void flush_line_buffered();

 private:
  Stream* m_head = nullptr;
};

// vfprintf: formats into the stream (see cformat.h for the conversions).
// The count of bytes written, or -1 after an output error or when the count
// would pass INT_MAX (EOVERFLOW is reported). An unbuffered stream gets
// the output in a few large writes rather than one per piece.
int vprint(Stream& out, const char* fmt, va_list ap);

// getdelim: reads through `delimiter` into *line, growing it with `grow`
// (realloc's contract) and keeping *capacity up to date. The length read,
// terminator excluded, or -1 at end of file before any byte, on an error or
// when memory runs out (ENOMEM is reported).
using Reallocate = void* (*)(void* ptr, size_t size);
long get_delimited(Stream& in, char** line, size_t* capacity, int delimiter, Reallocate grow);

}  // namespace os::libc
