// Pipe ring buffer and end counting; the rules are in pipe.h.
#include "pipe.h"

namespace vfs {

Result<Pipe*> Pipe::create(Heap& heap) {
  auto page = heap.alloc(kPipeCapacity);
  if (!page) return fail(to_errno(page.error()));
  auto pipe = heap.make<Pipe>(heap, static_cast<std::byte*>(*page));
  if (!pipe) {
    heap.free(*page, kPipeCapacity);
    return fail(to_errno(pipe.error()));
  }
  return *pipe;
}

Result<size_t> Pipe::read(std::span<std::byte> buf) {
  if (buf.empty()) return 0;
  if (m_count == 0) {
    if (m_writers > 0) return fail(Errno::Again);
    return 0;
  }
  size_t n = peek(buf);
  consume(n);
  return n;
}

size_t Pipe::peek(std::span<std::byte> buf) const {
  size_t n = buf.size() < m_count ? buf.size() : m_count;
  // At most two pieces: up to the end of the page, then from its start.
  size_t first = kPipeCapacity - m_head;
  if (first > n) first = n;
  __builtin_memcpy(buf.data(), m_ring + m_head, first);
  __builtin_memcpy(buf.data() + first, m_ring, n - first);
  return n;
}

void Pipe::consume(size_t n) {
  if (n > m_count) n = m_count;
  m_head = (m_head + n) % kPipeCapacity;
  m_count -= n;
}

bool Pipe::write_ready(size_t size) const {
  if (m_readers == 0) return true;  // the answer is BrokenPipe, not Again
  size_t need = size <= kPipeAtomic ? size : 1;
  return space() >= need;
}

Result<size_t> Pipe::write(std::span<const std::byte> data) {
  if (m_readers == 0) return fail(Errno::BrokenPipe);
  if (data.empty()) return 0;
  if (!write_ready(data.size())) return fail(Errno::Again);
  size_t n = data.size() < space() ? data.size() : space();
  size_t tail = (m_head + m_count) % kPipeCapacity;
  size_t first = kPipeCapacity - tail;
  if (first > n) first = n;
  __builtin_memcpy(m_ring + tail, data.data(), first);
  __builtin_memcpy(m_ring, data.data() + first, n - first);
  m_count += n;
  return n;
}

void Pipe::drop_reader() {
  --m_readers;
  destroy_if_unused();
}

void Pipe::drop_writer() {
  --m_writers;
  destroy_if_unused();
}

void Pipe::destroy_if_unused() {
  if (m_readers != 0 || m_writers != 0) return;
  Heap& heap = m_heap;
  std::byte* ring = m_ring;
  heap.destroy(this);
  heap.free(ring, kPipeCapacity);
}

}  // namespace vfs
