// Pages from the memory pool, mapped in growing batches; see pool_pages.h.
#include "pool_pages.h"

namespace vfs {

using servers::kPageSize;

kern::Status PoolPageSource::grow() {
  if (m_dry) return kern::fail(kern::Error::NotEnoughMemory);
  size_t batch = m_next_batch < m_max_batch ? m_next_batch : m_max_batch;
  if (batch > m_max_pages - m_mapped) batch = m_max_pages - m_mapped;
  for (; batch > 0; batch /= 2) {
    auto mapped = m_mapper.map_fresh(m_base + m_mapped * kPageSize, batch);
    if (mapped) {
      m_mapped += batch;
      if (m_next_batch < m_max_batch) m_next_batch *= 2;
      return {};
    }
    if (mapped.error() != kern::Error::NotEnoughMemory) break;
  }
  m_dry = true;
  return kern::fail(kern::Error::NotEnoughMemory);
}

kern::Result<void*> PoolPageSource::alloc_page() {
  void* page = nullptr;
  if (m_free != nullptr) {
    FreePage* p = m_free;
    m_free = p->next;
    --m_free_count;
    page = p;
  } else {
    if (m_handed_fresh == m_mapped) TRY(grow());
    page = reinterpret_cast<void*>(m_base + m_handed_fresh * kPageSize);
    ++m_handed_fresh;
  }
  ++m_in_use;
  return page;
}

void PoolPageSource::free_page(void* page) {
  auto* p = static_cast<FreePage*>(page);
  p->next = m_free;
  m_free = p;
  ++m_free_count;
  --m_in_use;
}

}  // namespace vfs
