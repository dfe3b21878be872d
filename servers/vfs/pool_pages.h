// The vfs server's pages: a PageSource over the server's memory pool (an
// Untyped procmgr hands it at start). Pages are mapped into the server's own
// address space in batches, one after another from a base address upward;
// batches start at `first_batch` pages and double up to `max_batch`, so a
// small system maps little and a busy one makes few kernel calls. Pages
// given back are kept on a free list (threaded through the pages
// themselves) and handed out again before anything new is mapped: the
// kernel cannot take back a mapped page, and the server has no reason to.
// When the pool cannot supply a batch, smaller ones are tried down to one
// page; when even that fails the source is dry for good and alloc_page
// answers NotEnoughMemory (the file layer turns it into ENOSPC or ENOMEM).
//
// The kernel calls sit behind FrameMapper, so the policy is tested on the
// host with a fake that maps host memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/page_source.h"
#include "result.h"

namespace vfs {

// Maps fresh pages. On the target: frames retyped from the pool, mapped
// read-write.
class FrameMapper {
 public:
  // Map `count` fresh pages, contiguous, at `va` (page aligned, nothing
  // mapped there yet). NotEnoughMemory when the pool cannot supply `count`
  // pages in one piece; a smaller count may still work.
  virtual kern::Status map_fresh(uint64_t va, size_t count) = 0;

 protected:
  ~FrameMapper() = default;
};

class PoolPageSource final : public servers::PageSource {
 public:
  static constexpr size_t kFirstBatch = 16;
  static constexpr size_t kMaxBatch = 128;

  // Pages go at base_va upward, at most `max_pages` of them (the address
  // range the server sets aside).
  PoolPageSource(FrameMapper& mapper, uint64_t base_va, size_t max_pages, size_t first_batch = kFirstBatch,
                 size_t max_batch = kMaxBatch)
      : m_mapper(mapper),
        m_base(base_va),
        m_max_pages(max_pages),
        m_max_batch(max_batch),
        m_next_batch(first_batch == 0 ? 1 : first_batch) {}
  PoolPageSource(const PoolPageSource&) = delete;
  PoolPageSource& operator=(const PoolPageSource&) = delete;

  kern::Result<void*> alloc_page() override;
  void free_page(void* page) override;

  size_t mapped() const { return m_mapped; }   // pages mapped so far
  size_t in_use() const { return m_in_use; }   // pages handed out and not returned
  size_t free_pages() const { return m_free_count + (m_mapped - m_handed_fresh); }
  bool dry() const { return m_dry; }

 private:
  kern::Status grow();

  struct FreePage {
    FreePage* next;
  };

  FrameMapper& m_mapper;
  uint64_t m_base;
  size_t m_max_pages;
  size_t m_max_batch;
  size_t m_next_batch;
  size_t m_mapped = 0;        // pages at m_base.. are mapped
  size_t m_handed_fresh = 0;  // of those, handed out at least once
  size_t m_in_use = 0;
  FreePage* m_free = nullptr;
  size_t m_free_count = 0;
  bool m_dry = false;
};

}  // namespace vfs
