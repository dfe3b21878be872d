// See input.h.
#include "input.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace sh {

Text::~Text() { free(m_data); }

bool Text::append(std::string_view more) {
  if (m_size + more.size() > m_capacity) {
    size_t capacity = m_capacity == 0 ? 256 : m_capacity;
    while (capacity < m_size + more.size()) capacity *= 2;
    char* data = static_cast<char*>(malloc(capacity));
    if (data == nullptr) return false;
    if (m_size > 0) memcpy(data, m_data, m_size);
    free(m_data);
    m_data = data;
    m_capacity = capacity;
  }
  if (!more.empty()) memcpy(m_data + m_size, more.data(), more.size());
  m_size += more.size();
  return true;
}

bool LineReader::fill() {
  if (m_end) return false;
  // Drop the lines already handed out before reading more.
  if (m_start > 0) {
    const std::string_view rest = m_buffer.view().substr(m_start);
    char* keep = static_cast<char*>(malloc(rest.size() + 1));
    if (keep == nullptr) return false;
    memcpy(keep, rest.data(), rest.size());
    m_buffer.clear();
    const bool ok = m_buffer.append({keep, rest.size()});
    free(keep);
    m_start = 0;
    if (!ok) return false;
  }
  char chunk[512];
  ssize_t n;
  do {
    n = read(m_fd, chunk, sizeof chunk);
  } while (n < 0 && errno == EINTR);
  if (n <= 0 || !m_buffer.append({chunk, static_cast<size_t>(n)})) {
    m_end = true;
    return false;
  }
  return true;
}

std::optional<std::string_view> LineReader::next() {
  for (;;) {
    const std::string_view rest = m_buffer.view().substr(m_start);
    const size_t newline = rest.find('\n');
    if (newline != std::string_view::npos) {
      m_start += newline + 1;
      return rest.substr(0, newline);
    }
    if (!fill()) {
      const std::string_view last = m_buffer.view().substr(m_start);
      m_start += last.size();
      if (last.empty()) return std::nullopt;
      return last;
    }
  }
}

}  // namespace sh
