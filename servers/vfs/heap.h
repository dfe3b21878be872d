// Where the file server's memory comes from. The server owns no memory of its
// own: whole 4 KiB pages come from a PageSource (in the server, pages the
// pager maps for it; in the host tests, a fake that can be run dry and that
// counts what is outstanding). On top of it, Heap hands out the small objects
// the server is made of (descriptions, inodes, directory entries, descriptor
// arrays) from per-size slabs: each page holds objects of one size class,
// with a header at its start that keeps the free list. A page whose objects
// are all freed goes straight back to the source, so when the server's state
// returns to what it was, so does the page count, exactly: that is what the
// leak tests check. Requests above the largest class take a whole page.
// Header-only because the vfs library's source list is fixed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "common/page_source.h"
#include "result.h"

namespace vfs {

using servers::kPageSize;
using servers::PageSource;

class Heap {
 public:
  explicit Heap(PageSource& pages) : m_pages(pages) {}
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  // `size` bytes (1..kPageSize), 16-byte aligned, uninitialised.
  // NotEnoughMemory when a new page is needed and the source is dry;
  // InvalidArgument for 0 or more than a page.
  kern::Result<void*> alloc(size_t size) {
    if (size == 0 || size > kPageSize) return kern::fail(kern::Error::InvalidArgument);
    int cls = class_of(size);
    if (cls < 0) return m_pages.alloc_page();
    Slab* slab = m_partial[cls];
    if (slab == nullptr) {
      void* page = TRY(m_pages.alloc_page());
      slab = new (page) Slab{};
      slab->size_class = static_cast<uint16_t>(cls);
      // Thread every object of the fresh page onto its free list.
      size_t size_bytes = kClassSizes[cls];
      for (size_t i = capacity(cls); i > 0; --i) {
        auto* node = reinterpret_cast<FreeNode*>(reinterpret_cast<char*>(page) + kHeaderSize + (i - 1) * size_bytes);
        node->next = slab->free_list;
        slab->free_list = node;
      }
      push(slab);
    }
    FreeNode* node = slab->free_list;
    slab->free_list = node->next;
    ++slab->used;
    if (slab->used == capacity(cls)) unlink(slab);  // full: off the partial list
    ++m_objects;
    return static_cast<void*>(node);
  }

  // Give back an allocation; `size` must be the size it was made with.
  void free(void* p, size_t size) {
    if (p == nullptr) return;
    int cls = class_of(size);
    if (cls < 0) {
      m_pages.free_page(p);
      return;
    }
    --m_objects;
    auto* slab = reinterpret_cast<Slab*>(reinterpret_cast<uintptr_t>(p) & ~(kPageSize - 1));
    bool was_full = slab->used == capacity(cls);
    auto* node = static_cast<FreeNode*>(p);
    node->next = slab->free_list;
    slab->free_list = node;
    --slab->used;
    if (slab->used == 0) {
      if (!was_full) unlink(slab);
      m_pages.free_page(slab);
    } else if (was_full) {
      push(slab);
    }
  }

  // Construct a T in heap memory; NotEnoughMemory as alloc.
  template <typename T, typename... Args>
  kern::Result<T*> make(Args&&... args) {
    void* p = TRY(alloc(sizeof(T)));
    return new (p) T(std::forward<Args>(args)...);
  }

  template <typename T>
  void destroy(T* object) {
    if (object == nullptr) return;
    object->~T();
    free(object, sizeof(T));
  }

  // Small objects currently handed out (whole-page allocations not counted).
  size_t objects_in_use() const { return m_objects; }

 private:
  struct FreeNode {
    FreeNode* next;
  };
  struct Slab {
    Slab* prev = nullptr;
    Slab* next = nullptr;
    FreeNode* free_list = nullptr;
    uint16_t used = 0;
    uint16_t size_class = 0;
  };
  static constexpr size_t kHeaderSize = 32;
  static_assert(sizeof(Slab) <= kHeaderSize);
  // Multiples of 16 chosen so the big classes still fit 2 and 4 per page
  // next to the header (a 2048-byte class would fit only one).
  static constexpr size_t kClassSizes[] = {32, 64, 128, 256, 512, 1008, 2032};
  static constexpr int kClassCount = sizeof(kClassSizes) / sizeof(kClassSizes[0]);

  static int class_of(size_t size) {
    for (int i = 0; i < kClassCount; ++i)
      if (size <= kClassSizes[i]) return i;
    return -1;
  }
  static size_t capacity(int cls) { return (kPageSize - kHeaderSize) / kClassSizes[cls]; }

  void push(Slab* slab) {
    int cls = slab->size_class;
    slab->prev = nullptr;
    slab->next = m_partial[cls];
    if (slab->next != nullptr) slab->next->prev = slab;
    m_partial[cls] = slab;
  }
  void unlink(Slab* slab) {
    if (slab->prev != nullptr) slab->prev->next = slab->next;
    else m_partial[slab->size_class] = slab->next;
    if (slab->next != nullptr) slab->next->prev = slab->prev;
    slab->prev = slab->next = nullptr;
  }

  PageSource& m_pages;
  Slab* m_partial[kClassCount] = {};  // pages of each class with a free object
  size_t m_objects = 0;
};

}  // namespace vfs
