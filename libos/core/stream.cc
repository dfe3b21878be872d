// Buffered streams (see stream.h). The buffer holds input or output, never
// both: every read path starts with prepare_read(), which writes pending
// output, and every write path gives unread input back first.
#include "stream.h"

#include "cformat.h"
#include "cstring.h"

namespace os::libc {

OpenMode parse_open_mode(const char* mode) {
  OpenMode m{false, 0, false, false};
  if (mode == nullptr) return m;
  switch (mode[0]) {
    case 'r':
      m = {true, kOpenReadOnly, true, false};
      break;
    case 'w':
      m = {true, kOpenWriteOnly | kOpenCreate | kOpenTruncate, false, true};
      break;
    case 'a':
      m = {true, kOpenWriteOnly | kOpenCreate | kOpenAppend, false, true};
      break;
    default:
      return m;
  }
  for (const char* p = mode + 1; *p != '\0'; ++p) {
    if (*p == '+') {
      m.flags = (m.flags & ~(kOpenWriteOnly | kOpenReadWrite)) | kOpenReadWrite;
      m.readable = m.writable = true;
    } else if (*p == 'x') {
      m.flags |= kOpenExclusive;
    }
  }
  return m;
}

Buffering Stream::buffering() {
  if (m_buffering == Buffering::Auto) {
    m_buffering = m_io.is_terminal(m_fd) ? Buffering::Line : Buffering::Full;
  }
  return m_buffering;
}

void Stream::drop_input() {
  m_read_pos = m_read_end = 0;
  m_pushback = -1;
}

// Moves the descriptor's offset back over the input read ahead, so that the
// next reader of the descriptor (another process after fork, or the program
// through read(2)) starts where this stream's reader stopped. False when
// the descriptor cannot seek (a pipe, the console); the input is kept.
bool Stream::give_back_input() {
  const size_t n = unread();
  if (n == 0) {
    drop_input();
    return true;
  }
  if (m_io.seek(m_fd, -static_cast<long>(n), kSeekCur) < 0) return false;
  drop_input();
  return true;
}

// What every read does before it touches the descriptor: pending output
// goes out first, and so does every line-buffered stream's when this one is
// interactive. False after a write error.
bool Stream::prepare_read() {
  if (m_pending > 0 && flush() != 0) return false;
  if (buffering() != Buffering::Full && m_list != nullptr) m_list->flush_line_buffered();
  return true;
}

// Refills the empty buffer. False at end of file or on an error, with the
// indicator set.
bool Stream::fill() {
  if (!prepare_read()) return false;
  const size_t want = m_buffering == Buffering::None ? 1 : m_capacity;
  const long n = m_io.read(m_fd, m_buffer, want);
  if (n < 0) {
    m_error = true;
    return false;
  }
  if (n == 0) {
    m_eof = true;
    return false;
  }
  m_read_pos = 0;
  m_read_end = size_t(n);
  return true;
}

int Stream::get() {
  if (!m_readable) {
    m_error = true;
    m_io.report_error(kErrorBadFd);
    return kEof;
  }
  if (m_pushback >= 0) {
    const int c = m_pushback;
    m_pushback = -1;
    return c;
  }
  if (m_eof) return kEof;
  if (m_read_pos == m_read_end && !fill()) return kEof;
  return static_cast<unsigned char>(m_buffer[m_read_pos++]);
}

size_t Stream::read(void* buffer, size_t size) {
  if (size == 0) return 0;
  if (!m_readable) {
    m_error = true;
    m_io.report_error(kErrorBadFd);
    return 0;
  }
  auto* out = static_cast<char*>(buffer);
  size_t done = 0;
  if (m_pushback >= 0) {
    out[done++] = char(m_pushback);
    m_pushback = -1;
  }
  while (done < size) {
    if (m_read_pos < m_read_end) {
      const size_t available = m_read_end - m_read_pos;
      const size_t n = size - done < available ? size - done : available;
      memcpy(out + done, m_buffer + m_read_pos, n);
      m_read_pos += n;
      done += n;
      continue;
    }
    if (m_eof) break;
    // A request at least a buffer long (or any, unbuffered) goes straight
    // into the caller's memory instead of through the buffer.
    if (size - done >= m_capacity || buffering() == Buffering::None) {
      if (!prepare_read()) break;
      const long n = m_io.read(m_fd, out + done, size - done);
      if (n < 0) {
        m_error = true;
        break;
      }
      if (n == 0) {
        m_eof = true;
        break;
      }
      done += size_t(n);
      continue;
    }
    if (!fill()) break;
  }
  return done;
}

char* Stream::get_line(char* buffer, int size) {
  if (size <= 0) return nullptr;
  const bool had_error = m_error;
  int n = 0;
  while (n < size - 1) {
    const int c = get();
    if (c == kEof) {
      if (m_error && !had_error) return nullptr;
      break;
    }
    buffer[n++] = char(c);
    if (c == '\n') break;
  }
  if (n == 0 && size > 1) return nullptr;
  buffer[n] = '\0';
  return buffer;
}

int Stream::unget(int c) {
  if (c == kEof || m_pushback >= 0) return kEof;
  m_pushback = static_cast<unsigned char>(c);
  m_eof = false;
  return m_pushback;
}

// Writes all of data to the descriptor, looping over short writes. The
// bytes written: short only on an error, with the indicator set.
size_t Stream::write_through(const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const long n = m_io.write(m_fd, data + done, size - done);
    if (n <= 0) {
      // A write of nothing would loop forever; it is reported as an error.
      m_error = true;
      break;
    }
    done += size_t(n);
  }
  return done;
}

size_t Stream::write(const void* data, size_t size) {
  if (size == 0) return 0;
  if (!m_writable) {
    m_error = true;
    m_io.report_error(kErrorBadFd);
    return 0;
  }
  // Input read ahead is given back if it can be and dropped otherwise: the
  // buffer is needed for output, and C asks for a seek between the two.
  if (m_read_end > 0 || m_pushback >= 0) {
    give_back_input();
    drop_input();
  }
  const auto* in = static_cast<const char*>(data);
  const Buffering mode = buffering();
  if (mode == Buffering::None) return write_through(in, size);
  if (size > m_capacity - m_pending) {
    if (flush() != 0) return 0;
    if (size >= m_capacity) return write_through(in, size);
  }
  memcpy(m_buffer + m_pending, in, size);
  m_pending += size;
  if (m_pending == m_capacity || (mode == Buffering::Line && memchr(in, '\n', size) != nullptr)) {
    const size_t before = m_pending - size;
    const size_t total = m_pending;
    m_pending = 0;
    const size_t written = write_through(m_buffer, total);
    if (written < total) return written > before ? written - before : 0;
  }
  return size;
}

int Stream::put(int c) {
  const char byte = char(c);
  return write(&byte, 1) == 1 ? static_cast<unsigned char>(byte) : kEof;
}

int Stream::flush() {
  if (m_pending > 0) {
    const size_t total = m_pending;
    m_pending = 0;
    return write_through(m_buffer, total) == total ? 0 : kEof;
  }
  if (m_read_end > 0 || m_pushback >= 0) give_back_input();
  return 0;
}

int Stream::seek(long offset, int whence) {
  if (m_pending > 0 && flush() != 0) return -1;
  if (whence == kSeekCur) offset -= static_cast<long>(unread());
  if (m_io.seek(m_fd, offset, whence) < 0) return -1;
  drop_input();
  m_eof = false;
  return 0;
}

long Stream::tell() {
  const long position = m_io.seek(m_fd, 0, kSeekCur);
  if (position < 0) return -1;
  return position - static_cast<long>(unread()) + static_cast<long>(m_pending);
}

int Stream::set_buffering(char* buffer, Buffering mode, size_t size) {
  if (mode != Buffering::Full && mode != Buffering::Line && mode != Buffering::None) {
    m_io.report_error(kErrorInvalid);
    return -1;
  }
  // Input still in the buffer would be lost with it: refused, as C makes
  // setvbuf after reading undefined anyway.
  if (flush() != 0 || m_read_pos < m_read_end) return -1;
  drop_input();
  if (buffer != nullptr && size > 0) {
    m_buffer = buffer;
    m_capacity = size;
  } else {
    m_buffer = m_own;
    m_capacity = kBufferSize;
  }
  m_buffering = mode;
  return 0;
}

int Stream::close() {
  const int flushed = flush();
  const int closed = m_io.close(m_fd);
  return flushed == 0 && closed == 0 ? 0 : kEof;
}

void StreamList::add(Stream& s) {
  s.m_list = this;
  s.m_next = m_head;
  m_head = &s;
}

void StreamList::remove(Stream& s) {
  for (Stream** link = &m_head; *link != nullptr; link = &(*link)->m_next) {
    if (*link == &s) {
      *link = s.m_next;
      s.m_next = nullptr;
      s.m_list = nullptr;
      return;
    }
  }
}

int StreamList::flush_all() {
  int result = 0;
  for (Stream* s = m_head; s != nullptr; s = s->m_next) {
    if (s->flush() != 0) result = Stream::kEof;
  }
  return result;
}

void StreamList::flush_line_buffered() {
  for (Stream* s = m_head; s != nullptr; s = s->m_next) {
    if (s->m_pending > 0 && s->m_buffering == Buffering::Line) s->flush();
  }
}

namespace {

// Hands the formatter's pieces to the stream. For an unbuffered stream it
// gathers them in a small buffer of its own first, so that one printf is
// one or a few writes (glibc does the same), not one per conversion.
class StreamSink final : public Sink {
 public:
  StreamSink(Stream& stream, bool gather) : m_stream(stream), m_gather(gather) {}

  void put(const char* text, size_t length) override {
    if (!m_gather) {
      if (!m_failed && m_stream.write(text, length) != length) m_failed = true;
      return;
    }
    while (length > 0) {
      const size_t room = sizeof m_local - m_used;
      const size_t n = length < room ? length : room;
      memcpy(m_local + m_used, text, n);
      m_used += n;
      text += n;
      length -= n;
      if (m_used == sizeof m_local) drain();
    }
  }

  void drain() {
    if (m_used > 0 && !m_failed && m_stream.write(m_local, m_used) != m_used) m_failed = true;
    m_used = 0;
  }

  bool failed() const { return m_failed; }

 private:
  Stream& m_stream;
  bool m_gather;
  bool m_failed = false;
  size_t m_used = 0;
  char m_local[256];
};

}  // namespace

int vprint(Stream& out, const char* fmt, va_list ap) {
  StreamSink sink(out, out.buffering() == Buffering::None);
  const int n = vformat(sink, fmt, ap);
  sink.drain();
  if (sink.failed()) return -1;
  if (n < 0) out.report_error(kErrorOverflow);
  return n;
}

long get_delimited(Stream& in, char** line, size_t* capacity, int delimiter, Reallocate grow) {
  if (line == nullptr || capacity == nullptr) {
    in.report_error(kErrorInvalid);
    return -1;
  }
  if (*line == nullptr) *capacity = 0;
  const int stop = static_cast<unsigned char>(delimiter);
  size_t n = 0;
  for (;;) {
    const int c = in.get();
    if (c == Stream::kEof) break;
    if (n + 2 > *capacity) {  // room for c and the terminator
      const size_t want = *capacity < 64 ? 128 : *capacity * 2;
      auto* bigger = static_cast<char*>(grow(*line, want));
      if (bigger == nullptr) {
        in.report_error(kErrorNoMemory);
        return -1;
      }
      *line = bigger;
      *capacity = want;
    }
    (*line)[n++] = char(c);
    if (c == stop) break;
  }
  if (n == 0) return -1;
  (*line)[n] = '\0';
  return static_cast<long>(n);
}

}  // namespace os::libc
