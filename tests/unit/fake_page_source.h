// A servers::PageSource for the servers' unit tests: 4 KiB pages from the
// host heap, poisoned on arrival and on return (their contents are
// unspecified, and a use after return should show), counted, refused
// beyond a limit, and able to fail one chosen allocation so that every
// allocation of an operation can be made to fail in turn. Returning a page
// it did not hand out fails the test. With expect_all_returned, the
// destructor also fails the test if pages are still out.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>

#include "common/page_source.h"

namespace servers::testing_support {

class FakePageSource final : public PageSource {
 public:
  explicit FakePageSource(bool expect_all_returned = false) : m_expect_all_returned(expect_all_returned) {}
  FakePageSource(const FakePageSource&) = delete;
  FakePageSource& operator=(const FakePageSource&) = delete;

  ~FakePageSource() {
    if (m_expect_all_returned) {
      EXPECT_TRUE(m_pages.empty()) << m_pages.size() << " pages never returned";
    }
    for (void* page : m_pages) std::free(page);
  }

  kern::Result<void*> alloc_page() override {
    ++m_allocations;
    if (m_fail_in > 0 && --m_fail_in == 0) return kern::fail(kern::Error::NotEnoughMemory);
    if (m_pages.size() >= m_limit) return kern::fail(kern::Error::NotEnoughMemory);
    void* page = std::aligned_alloc(kPageSize, kPageSize);
    std::memset(page, 0xa5, kPageSize);
    m_pages.insert(page);
    return page;
  }

  void free_page(void* page) override {
    if (m_pages.erase(page) != 1) {
      ADD_FAILURE() << "freed a page the source did not hand out";
      return;
    }
    std::memset(page, 0x5a, kPageSize);
    std::free(page);
  }

  size_t outstanding() const { return m_pages.size(); }
  size_t allocations() const { return m_allocations; }
  // At most `pages` outstanding; SIZE_MAX for no limit.
  void set_limit(size_t pages) { m_limit = pages; }
  // The n-th allocation from now fails (1 = the next one); 0 = none.
  void fail_in(size_t n) { m_fail_in = n; }

 private:
  bool m_expect_all_returned;
  std::set<void*> m_pages;
  size_t m_limit = SIZE_MAX;
  size_t m_fail_in = 0;
  size_t m_allocations = 0;
};

}  // namespace servers::testing_support
