// Where a server's memory comes from. A server owns no memory of its own
// until it is handed pages: whole 4 KiB pages, aligned to their size, come
// from a PageSource (in a server, pages mapped for it; in the host tests, a
// fake that can be run dry and counts what is outstanding). Every server's
// logic takes one, so its leak tests can check the page count.
#pragma once

#include <cstddef>

#include "result.h"

namespace servers {

inline constexpr size_t kPageSize = 4096;

class PageSource {
 public:
  // One page, aligned to kPageSize, contents undefined. NotEnoughMemory when
  // the source is dry.
  virtual kern::Result<void*> alloc_page() = 0;
  // Give back a page that alloc_page returned.
  virtual void free_page(void* page) = 0;

 protected:
  ~PageSource() = default;
};

}  // namespace servers
