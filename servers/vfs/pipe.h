// A pipe: a bounded ring buffer of one page between a set of readers and a
// set of writers, counted separately because the Unix answers depend on
// whether the other side still exists. Nothing here blocks: read and write
// say "would block" (Errno::Again) and the server parks the request; after
// any change it asks read_ready()/write_ready() which parked requests can now
// proceed, and retries them. The rules:
//   read:  data -> up to the request; empty with writers -> Again;
//          empty without writers -> 0 (end of file).
//   write: no readers -> BrokenPipe (the server then raises SIGPIPE);
//          a write of at most kPipeAtomic bytes goes in whole or not at all
//          (POSIX PIPE_BUF), a larger one takes what fits and the caller keeps
//          the rest pending; nothing fits -> Again.
// The pipe frees itself (struct and page) when its last end is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "errno.h"
#include "heap.h"

namespace vfs {

inline constexpr size_t kPipeCapacity = kPageSize;
inline constexpr size_t kPipeAtomic = 512;

class Pipe {
 public:
  // A new pipe with one reader and one writer. NoMemory when the heap or the
  // page source is dry; nothing is left allocated then.
  static Result<Pipe*> create(Heap& heap);

  // Copy out up to buf.size() bytes; see the file comment for the answers.
  Result<size_t> read(std::span<std::byte> buf);
  // The two halves of a read that gets an answer (read_ready()): copy out
  // up to buf.size() bytes, leaving them buffered (0 at end of file), then
  // drop the first n (at most what peek gave). For the server, which sends
  // a parked reader its bytes before it takes them out.
  size_t peek(std::span<std::byte> buf) const;
  void consume(size_t n);
  // Copy in what the rules allow; returns the number of bytes taken (> 0),
  // or Again / BrokenPipe. An empty write returns 0 (BrokenPipe without readers).
  Result<size_t> write(std::span<const std::byte> data);

  // Whether a read, or a write of `size` bytes, would now get an answer other
  // than Again: what the server asks before retrying a parked request.
  bool read_ready() const { return m_count > 0 || m_writers == 0; }
  bool write_ready(size_t size) const;

  void add_reader() { ++m_readers; }
  void add_writer() { ++m_writers; }
  // Drop one end; the last drop of both frees the pipe, so `this` may be gone
  // on return.
  void drop_reader();
  void drop_writer();

  size_t readers() const { return m_readers; }
  size_t writers() const { return m_writers; }
  size_t buffered() const { return m_count; }
  size_t space() const { return kPipeCapacity - m_count; }

 private:
  Pipe(Heap& heap, std::byte* ring) : m_heap(heap), m_ring(ring) {}
  friend class Heap;
  void destroy_if_unused();

  Heap& m_heap;
  std::byte* m_ring;    // one page
  size_t m_head = 0;    // index of the oldest byte
  size_t m_count = 0;   // bytes buffered
  size_t m_readers = 1;
  size_t m_writers = 1;
};

}  // namespace vfs
